"""Channels-last temporal convolution (dilated or strided) and batch norm, for temporal convolution lifters.

The temporal convolution networks of VideoPose3D (Pavllo et al. 2019, section 3) and GAST-Net (Liu et al. 2020,
section III-A) run one set of weights in two ways:

- *dilated*: a ``k``-tap convolution with dilation ``d`` over a whole sequence, ``T -> T - (k - 1) d`` (the
  layer-by-layer inference of GAST-Net's journal version, section V-A);
- *strided*: the same taps with stride ``k`` and no dilation (VideoPose3D's ``TemporalModelOptimized1f``); with an
  input of exactly one receptive field every layer computes only the frames the next layer needs, and the network
  returns one frame. Used for training on single-frame batches.

Tensors stay channels-last: ``(N, T, ..., C)``; any axes between time and channels (joints) are carried along.
"""

from __future__ import annotations

import math

import torch
from einops import rearrange
from torch import nn
from torch.nn import functional as F  # noqa: N812

from skeletal.errors import ShapeError


class ChannelsLastBatchNorm(nn.BatchNorm1d):
    """Batch norm over the last axis of a channels-last tensor ``(N, ..., C)``.

    Statistics are taken over every axis but the last, as ``BatchNorm2d`` over ``(N, C, T, V)`` does; the
    parameters and running statistics are those of ``BatchNorm1d(C)``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        # Contiguous already, so PyTorch's kernel is one pass; the multiply-add of skeletal.nn.norms would add
        # the small ops that compute it, which cost more than they save on the streaming lifter's single frames.
        shape = x.shape
        return super().forward(x.reshape(-1, shape[-1])).reshape(shape)


class TemporalConv(nn.Module):
    """A ``k``-tap convolution along the time axis of a channels-last tensor, without bias.

    The weight ``(out, k, in)`` holds one ``in -> out`` matrix per tap, the same numbers as a
    ``Conv2d(in, out, (k, 1))`` kernel. Dilated and strided calls share it.

    Args:
        in_channels: Input channels ``C_in``.
        out_channels: Output channels ``C_out``.
        kernel_size: Number of taps ``k`` (odd).
        init: ``"uniform"`` (PyTorch's default convolution initialisation) or ``"kaiming_normal"`` (used by the
            official code for the first, expanding convolution).

    Shape:
        - Input: ``(N, T, ..., C_in)``.
        - Output: ``(N, T - (k - 1) * dilation, ..., C_out)`` (dilated) or ``(N, T // k, ..., C_out)``
          (strided, ``T`` a multiple of ``k``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, init: str = "uniform") -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.weight = nn.Parameter(torch.empty(out_channels, kernel_size, in_channels))
        if init == "kaiming_normal":
            nn.init.kaiming_normal_(self.weight)
        else:
            nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x: torch.Tensor, dilation: int = 1, strided: bool = False) -> torch.Tensor:
        """Convolve along axis 1.

        Args:
            x: Channels-last input.
            dilation: Spacing of the taps (dilated mode).
            strided: Use stride ``k`` and no dilation instead.

        Returns:
            The convolved tensor, channels-last.
        """
        taps = self.kernel_size
        frames = x.shape[1]
        if strided:
            if frames % taps:
                raise ShapeError(f"strided temporal convolution needs a multiple of {taps} frames, got {frames}")
            grouped = rearrange(x, "n (t k) ... c -> n t ... (k c)", k=taps)
            return F.linear(grouped, self.weight.reshape(self.out_channels, taps * self.in_channels))
        span = (taps - 1) * dilation
        if frames <= span:
            raise ShapeError(f"dilated temporal convolution needs more than {span} frames, got {frames}")
        out_frames = frames - span
        output = F.linear(x[:, :out_frames], self.weight[:, 0])
        for tap in range(1, taps):
            start = tap * dilation
            output = output + F.linear(x[:, start : start + out_frames], self.weight[:, tap])
        return output

    def extra_repr(self) -> str:  # noqa: D102
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"


def crop_residual(x: torch.Tensor, kernel_size: int, dilation: int, strided: bool, causal: bool) -> torch.Tensor:
    """The frames of ``x`` aligned with the output of a ``k``-tap convolution: the residual of a block.

    Symmetric models keep the centre tap of every window, causal ones its last tap (VideoPose3D, section 4;
    the ``causal_shift`` of the official code).

    Args:
        x: Channels-last input ``(N, T, ..., C)`` of the convolution.
        kernel_size: Taps ``k``.
        dilation: Dilation (dilated mode).
        strided: Strided mode: one frame per group of ``k``.
        causal: Align with the last tap rather than the centre.

    Returns:
        ``(N, T_out, ..., C)``, ``T_out`` the convolution's output length.
    """
    if strided:
        first = kernel_size - 1 if causal else kernel_size // 2
        return x[:, first::kernel_size]
    span = (kernel_size - 1) * dilation
    first = span if causal else span // 2
    return x[:, first : x.shape[1] - span + first]
