"""Temporal convolution of ST-GCN: a ``K_t x 1`` convolution along the frames of each joint, channels-last.

ST-TR (Plizzari et al., journal section III-A) calls it TCN: a standard 2D convolution of kernel ``K_t = 9`` over
``(T, V)`` that never mixes joints, followed by batch norm and ReLU (``Unit2D`` of the official code, which also
puts a dropout in front of the convolution). With ``kernel_size=1`` it is the strided residual projection of
the official ``TCN_GCN_unit``.
"""

from __future__ import annotations

import math

import torch
from einops import rearrange
from torch import nn

from skeletal.nn.norms import channels_last_norm


class TemporalConv(nn.Module):
    """``ReLU(BN(Conv_{K_t x 1}(Dropout(x))))`` with stride over time.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        kernel_size: ``K_t`` (9 in ST-GCN and ST-TR); odd, padded to keep ``T`` (before the stride).
        stride: Temporal stride.
        dropout: Dropout probability in front of the convolution (0.5 on NTU, 0 on Kinetics in ST-TR).
        activation: Apply the ReLU (the official unit always does).

    Shape:
        x: ``(N, T, V, C_in)`` -> ``(N, ceil(T / stride), V, C_out)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 9,
        stride: int = 1,
        dropout: float = 0.0,
        activation: bool = True,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"temporal kernel size must be odd, got {kernel_size}")
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv = nn.Conv2d(
            in_channels, out_channels, (kernel_size, 1), stride=(stride, 1), padding=((kernel_size - 1) // 2, 0)
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.activation = activation
        self.stride = stride
        # He-normal over the fan-out, as ``conv_init`` of the official code.
        nn.init.normal_(self.conv.weight, 0.0, math.sqrt(2.0 / (out_channels * kernel_size)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = channels_last_norm(
            self.bn, rearrange(self.conv(self.dropout(rearrange(x, "n t v c -> n c t v"))), "n c t v -> n t v c")
        )
        return torch.relu(y) if self.activation else y
