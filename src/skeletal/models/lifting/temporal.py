"""The temporal convolution skeleton shared by GAST-Net and VideoPose3D: stages, the two execution modes, padding.

A lifter is ``encode`` (per frame) -> stages -> ``decode`` (per frame). Stage 0 is the expanding convolution;
stage ``i >= 1`` a block of a ``k``-tap convolution with dilation ``prod(k_0 .. k_{i-1})`` (``3^i`` for widths of
3), a 1x1 convolution and a cropped residual (Pavllo et al. 2019, section 3; Liu et al. 2020, section III-A).
Both modes run the same modules and weights (GAST-Net journal, section V-A; VideoPose3D ``TemporalModel`` vs
``TemporalModelOptimized1f``):

- ``strided=False`` (layer-by-layer): dilated convolutions over a whole sequence, ``T -> T - RF + 1`` frames;
- ``strided=True`` (single frame, training): stride ``k`` instead of dilation, ``T = RF -> 1`` frame.

``causal=True`` aligns every residual, and the padding of :meth:`TemporalLifter.lift`, with the last frame of
the window instead of its centre, so that the pose of frame ``t`` depends on frames ``<= t`` only.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from skeletal.errors import ConfigError, ShapeError
from skeletal.nn.dilated_temporal import ChannelsLastBatchNorm, TemporalConv, crop_residual
from skeletal.nn.outputs import AttentionMaps
from skeletal.nn.validate import check_input
from skeletal.skeletons import Skeleton


class TemporalStage(nn.Module):
    """One temporal stage: ``k``-tap convolution, BN, ReLU [, dropout] [, 1x1 block with residual] [, spatial].

    Args:
        in_channels: Input channels.
        channels: Output channels of the convolutions.
        kernel_size: Taps ``k``.
        dilation: Dilation in layer-by-layer mode (``1`` for the expanding stage).
        residual: Add the 1x1 convolution, BN, ReLU, dropout and the cropped residual (every stage but the first).
        dropout: Dropout probability.
        conv_dropout: Dropout also after the ``k``-tap convolution (VideoPose3D; GAST-Net has none there).
        spatial: Per-frame module applied last (GAST-Net's graph attention block), called as
            ``spatial(x, attention, name)``.
        init: Initialisation of the ``k``-tap weights (see :class:`TemporalConv`).

    Shape:
        ``(N, T, ..., C_in) -> (N, T', ..., C_out)`` with ``T' = T - (k - 1) * dilation`` (dilated) or
        ``T / k`` (strided).
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        kernel_size: int,
        dilation: int,
        residual: bool,
        dropout: float,
        conv_dropout: bool,
        spatial: nn.Module | None = None,
        init: str = "uniform",
    ) -> None:
        super().__init__()
        self.kernel_size: int = kernel_size
        self.dilation: int = dilation
        self.residual = residual
        self.conv_dropout = conv_dropout
        self.conv = TemporalConv(in_channels, channels, kernel_size, init=init)
        self.conv_norm = ChannelsLastBatchNorm(channels)
        if residual:
            self.pointwise = nn.Linear(channels, channels, bias=False)
            self.pointwise_norm = ChannelsLastBatchNorm(channels)
        self.dropout = nn.Dropout(dropout)
        self.spatial = spatial

    def forward(
        self, x: torch.Tensor, strided: bool, causal: bool, attention: AttentionMaps | None = None, name: str = ""
    ) -> torch.Tensor:
        """Run the stage in layer-by-layer (``strided=False``) or single-frame (``strided=True``) mode."""
        y = F.relu(self.conv_norm(self.conv(x, dilation=self.dilation, strided=strided)))
        if self.conv_dropout:
            y = self.dropout(y)
        if self.residual:
            skip = crop_residual(x, self.kernel_size, self.dilation, strided, causal)
            y = skip + self.dropout(F.relu(self.pointwise_norm(self.pointwise(y))))
        if self.spatial is not None:
            y = self.spatial(y, attention, name)
        return y


def dilations(filter_widths: Sequence[int]) -> list[int]:
    """Dilation of every stage: ``1, k_0, k_0 k_1, ...`` (``3^i`` for widths of 3)."""
    result, product = [], 1
    for width in filter_widths:
        result.append(product)
        product *= width
    return result


def check_filter_widths(filter_widths: Sequence[int]) -> tuple[int, ...]:
    """Validate the filter widths (odd, at least one) and return them as a tuple."""
    widths = tuple(int(w) for w in filter_widths)
    if not widths or any(w < 1 or w % 2 == 0 for w in widths):
        raise ConfigError(f"filter widths must be a non-empty list of odd numbers, got {list(filter_widths)}")
    return widths


class TemporalLifter(nn.Module):
    """Base class of the temporal convolution lifters: modes, validation, padding. Not built directly.

    Subclasses set ``skeleton``, ``filter_widths``, ``stages`` (an ``nn.ModuleList`` of :class:`TemporalStage`)
    and implement :meth:`encode` and :meth:`decode`.

    Attributes:
        strided: Single-frame mode (training) when true, layer-by-layer mode when false; may be switched at
            any time, the weights are the same.
        causal: Residuals (and :meth:`lift` padding) aligned with the last frame of each window.
    """

    skeleton: Skeleton
    filter_widths: tuple[int, ...]
    stages: nn.ModuleList
    in_features: int
    name: str = "lifter"

    def __init__(self, causal: bool, strided: bool) -> None:
        super().__init__()
        self.causal = causal
        self.strided = strided

    @property
    def receptive_field(self) -> int:
        """Frames of 2D input behind one output frame: ``1 + sum_i (k_i - 1) d_i``."""
        return 1 + sum((k - 1) * d for k, d in zip(self.filter_widths, dilations(self.filter_widths)))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Per-frame input encoding before stage 0: ``(N, T, V, C_in) -> (N, T, ...)``."""
        raise NotImplementedError

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        """Per-frame head after the last stage: ``(N, T, ...) -> (N, T, V, 3)``."""
        raise NotImplementedError

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, AttentionMaps]:
        """Lift 2D keypoints to root-relative 3D joints.

        Args:
            x: 2D keypoints ``(N, T, V, 2)`` (normalised screen coordinates). Layer-by-layer mode: ``T >= RF``;
                single-frame mode: ``T = RF``.
            return_attention: Also return the attention maps (GAST-Net's global graphs).

        Returns:
            ``(N, T - RF + 1, V, 3)`` (``(N, 1, V, 3)`` in single-frame mode). Output ``i`` is the pose of input
            frame ``i + RF // 2`` (symmetric) or ``i + RF - 1`` (causal). With ``return_attention``, a pair
            ``(output, AttentionMaps)``.
        """
        what = f"input of {self.name}"
        check_input(x, ("N", "T", "V", "C"), self.skeleton, self.in_features, what)
        field, frames = self.receptive_field, x.shape[1]
        if self.strided and frames != field:
            raise ShapeError(f"{what} in single-frame (strided) mode needs T = {field} frames, got {frames}")
        if frames < field:
            raise ShapeError(f"{what} needs at least T = {field} frames (the receptive field), got {frames}")
        attention = AttentionMaps() if return_attention else None
        features = self.encode(x)
        for index, stage in enumerate(self.stages):
            features = stage(features, self.strided, self.causal, attention, f"stages.{index}")
        output = self.decode(features)
        return (output, attention) if attention is not None else output

    def padding(self) -> tuple[int, int]:
        """Frames added before and after a sequence by :meth:`lift`: ``(RF - 1, 0)`` causal, else symmetric."""
        field = self.receptive_field
        return (field - 1, 0) if self.causal else (field // 2, field // 2)

    def lift(self, x: torch.Tensor) -> torch.Tensor:
        """Lift a whole sequence, one pose per input frame, in layer-by-layer mode.

        The sequence is padded by repeating its first (and, if symmetric, last) frame, as VideoPose3D's
        evaluation does, so any ``T >= 1`` works.

        Args:
            x: ``(N, T, V, 2)``.

        Returns:
            ``(N, T, V, 3)``, frame-aligned with ``x``.
        """
        check_input(x, ("N", "T", "V", "C"), self.skeleton, self.in_features, f"input of {self.name}")
        before, after = self.padding()
        padded = torch.cat([x[:, :1].expand(-1, before, -1, -1), x, x[:, -1:].expand(-1, after, -1, -1)], dim=1)
        strided = self.strided
        self.strided = False
        try:
            return self(padded)  # type: ignore[return-value]
        finally:
            self.strided = strided
