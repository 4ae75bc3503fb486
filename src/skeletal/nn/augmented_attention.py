"""Self-attention as an augmentation of convolution: the ST-TR-augmented variant (journal appendix B, Eq. 14).

Following Bello et al.'s attention-augmented convolution, ``0.75 C_out`` output channels come from the
convolution (GCN on the S-TR stream, TCN on the T-TR stream) and ``0.25 C_out`` from self-attention (SSA, TSA),
concatenated along the channels. To compensate the narrow attention, "wide attention" is used: the query, key
and value convolution produces twice the channels (``N_h / n`` with ``N_h = 8`` heads and ``n = 4`` in the
official configuration), recombined to ``0.25 C_out`` when the heads are merged.

As in the official code (``gcn_unit_attention`` and ``tcn_unit_attention`` with ``only_attention=False``):
the spatial module applies the input batch norm before both branches, uses plain partition convolutions
(no edge-importance mask, no inner BN) and has no skip connection; the temporal module convolves the raw input
(``Unit2D``: conv, BN, ReLU), attends on the normalised input and adds the residual. The logits of the wide
attention are scaled by ``1 / sqrt(d_k / N_h)`` as the official code does (``dkh = dk // Nh``,
``spatial_transformer.py`` line 175-176, ``temporal_transformer.py`` line 234-235), although each head holds
``width_factor d_k / N_h`` channels: the paper gives no scale of its own. The strided temporal projection keeps
a ``stride``-frame kernel whatever the joint count (the official ``more_channels`` branch, line 72-77).
"""

from __future__ import annotations

import numpy as np
import torch
from einops import rearrange
from torch import nn

from skeletal.nn.graph_conv import GraphConv
from skeletal.nn.norms import channels_last_batch_norm_1d
from skeletal.nn.relative_position import SpatialRelativePosition, TemporalRelativePosition
from skeletal.nn.self_attention import AxisSelfAttention
from skeletal.nn.temporal_conv import TemporalConv


def _norm_relu(bn: nn.BatchNorm2d, y: torch.Tensor) -> torch.Tensor:
    return torch.relu(rearrange(bn(rearrange(y, "n t v c -> n c t v")), "n c t v -> n t v c"))


class AugmentedSpatialAttention(nn.Module):
    """``ReLU(BN(concat[GCN_{0.75 C_out}(x'), SSA_{0.25 C_out}(x')]))`` with ``x' = BN_in(x)``.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        adjacency: ``(K, V, V)`` partitions of the graph convolution.
        heads: ``N_h``.
        attention_factor: Fraction of the output channels from attention (0.25); also ``d_k / C_out``.
        width_factor: Wide-attention factor (2).
        drop_attention: DropAttention probability.
        relative: Add the relative positional encoding.

    Shape:
        x: ``(N, T, V, C_in)`` -> ``(N, T, V, C_out)``; weights ``(N, N_h, T, V, V)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        adjacency: np.ndarray | torch.Tensor,
        heads: int = 8,
        attention_factor: float = 0.25,
        width_factor: int = 2,
        drop_attention: float = 0.5,
        relative: bool = False,
    ) -> None:
        super().__init__()
        num_joints = np.asarray(adjacency).shape[-1]
        attention_channels = int(out_channels * attention_factor)
        head_channels = attention_channels * width_factor // heads
        encoding = SpatialRelativePosition(num_joints, head_channels) if relative else None
        self.data_bn = nn.BatchNorm1d(in_channels * num_joints)
        self.conv = GraphConv(
            in_channels, out_channels - attention_channels, adjacency, edge_importance=False, norm=False
        )
        self.attention = AxisSelfAttention(
            in_channels, attention_channels, attention_channels, heads, "joints", 1, drop_attention, encoding,
            width_factor, key_scale_channels=attention_channels // heads,
        )  # fmt: skip
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        normalized = channels_last_batch_norm_1d(self.data_bn, x)
        attended, weights = self.attention(normalized, need_weights=return_attention)
        y = _norm_relu(self.bn, torch.cat([self.conv(normalized), attended], dim=-1))
        return (y, weights) if return_attention and weights is not None else y


class AugmentedTemporalAttention(nn.Module):
    """``ReLU(BN(concat[TCN_{0.75 C_out}(x), TSA_{0.25 C_out}(BN_in(x))] + res(x)))``.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        num_joints: ``V``.
        stride: Temporal stride.
        heads: ``N_h``.
        attention_factor: Fraction of the output channels from attention (0.25); also ``d_k / C_out``.
        width_factor: Wide-attention factor (2).
        drop_attention: DropAttention probability.
        kernel_size: Temporal kernel of the convolution branch (9).
        dropout: Dropout in front of the convolution branch.
        relative_frames: Longest sequence of the optional relative encoding.

    Shape:
        x: ``(N, T, V, C_in)`` -> ``(N, ceil(T / stride), V, C_out)``; weights ``(N, N_h, V, T', T')``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_joints: int,
        stride: int = 1,
        heads: int = 8,
        attention_factor: float = 0.25,
        width_factor: int = 2,
        drop_attention: float = 0.5,
        kernel_size: int = 9,
        dropout: float = 0.0,
        relative_frames: int | None = None,
    ) -> None:
        super().__init__()
        attention_channels = int(out_channels * attention_factor)
        head_channels = attention_channels * width_factor // heads
        encoding = TemporalRelativePosition(relative_frames, head_channels) if relative_frames else None
        self.data_bn = nn.BatchNorm1d(in_channels * num_joints)
        self.conv = TemporalConv(in_channels, out_channels - attention_channels, kernel_size, stride, dropout)
        self.attention = AxisSelfAttention(
            in_channels, attention_channels, attention_channels, heads, "frames", stride, drop_attention, encoding,
            width_factor, key_scale_channels=attention_channels // heads,
        )  # fmt: skip
        self.residual: nn.Module | None = None
        if in_channels != out_channels or stride != 1:
            self.residual = TemporalConv(in_channels, out_channels, kernel_size=1, stride=stride)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        attended, weights = self.attention(channels_last_batch_norm_1d(self.data_bn, x), need_weights=return_attention)
        y = torch.cat([self.conv(x), attended], dim=-1)
        y = _norm_relu(self.bn, y + (x if self.residual is None else self.residual(x)))
        return (y, weights) if return_attention and weights is not None else y
