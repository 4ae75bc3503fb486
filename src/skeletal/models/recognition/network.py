"""The spatial-temporal stack shared by ST-GCN, 1s-AGCN and every ST-TR stream.

ST-TR (Plizzari et al., journal section IV-D, Fig. 4; official ``st_gcn/net/st_gcn.py``): input batch norm over
persons, joints and channels; ten layers (``C_in -> 64``, then 64, 64, 64, 128 stride 2, 128, 128, 256 stride 2,
256, 256), each a spatial block followed by a temporal block with a residual connection (1x1 strided
convolution + BN + ReLU when the shape changes); global average pooling over frames, joints and persons; a linear
classifier. The first layer (the "stem") has no residual and no dropout, as the official ``gcn0``/``tcn0``. As in
the official configuration (``concat_original``) the input coordinates are concatenated to the features entering
the official backbone's unit 3 (``st_gcn.py`` line 211 and 280: ``i == 3``): the first stride-2 layer (ours 4,
after the stem) in the usual variants, the fourth 64 -> 64 layer (ours 3, no stem) in the all-layers ones.

A variant is a list of :class:`LayerSpec` naming the spatial and temporal block of every layer; the registered
builders in :mod:`skeletal.models.recognition.st_tr` and ``baselines`` compose them.

Axis legend: ``n`` samples, ``m`` persons, ``t`` frames, ``v`` joints, ``c`` channels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from einops import rearrange, reduce
from torch import nn

from skeletal.errors import ShapeError
from skeletal.nn.augmented_attention import AugmentedSpatialAttention, AugmentedTemporalAttention
from skeletal.nn.graph_conv import AdaptiveGraphConv, GraphConv
from skeletal.nn.norms import eval_affine
from skeletal.nn.outputs import AttentionMaps
from skeletal.nn.self_attention import SpatialSelfAttention, TemporalSelfAttention
from skeletal.nn.temporal_conv import TemporalConv
from skeletal.nn.validate import check_input
from skeletal.skeletons import Skeleton, get

SpatialKind = Literal["gcn", "agcn", "ssa", "ssa-augmented"]
TemporalKind = Literal["tcn", "tsa", "tsa-augmented"]
ATTENTION_BLOCKS = (SpatialSelfAttention, TemporalSelfAttention, AugmentedSpatialAttention, AugmentedTemporalAttention)


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the stack.

    Args:
        in_channels: Input width (without the concatenated coordinates).
        out_channels: Output width.
        stride: Temporal stride.
        spatial: ``gcn`` (ST-GCN, Eq. 1-2), ``agcn`` (Eq. 3), ``ssa`` (Eq. 5-6) or ``ssa-augmented`` (appendix B).
        temporal: ``tcn``, ``tsa`` (Eq. 7) or ``tsa-augmented``.
        windows: Number of temporal blocks of a windowed TSA (the paper's all-layers variant), ``None`` for
            full attention.
        window_frames: Frames per temporal block of a windowed TSA (the official all-layers variant).
        stem: The first layer: no residual connection and no dropout.
    """

    in_channels: int
    out_channels: int
    stride: int = 1
    spatial: SpatialKind = "gcn"
    temporal: TemporalKind = "tcn"
    windows: int | None = None
    window_frames: int | None = None
    stem: bool = False


@dataclass(frozen=True)
class BlockOptions:
    """Hyper-parameters shared by the blocks of a network (ST-TR section V-B and the official configuration).

    Args:
        heads: Attention heads ``N_h`` (8).
        key_factor: ``d_k / C_out`` (0.25).
        drop_attention: DropAttention probability (0.5).
        dropout: Dropout in front of each temporal convolution (0.5 on NTU, 0 on Kinetics).
        kernel_size: Temporal kernel ``K_t`` (9).
        relative: Use relative positional encodings in the attention blocks.
        window_size: Input frames, used to size the temporal relative encodings (300 on NTU, 150 on Kinetics).
    """

    heads: int = 8
    key_factor: float = 0.25
    drop_attention: float = 0.5
    dropout: float = 0.5
    kernel_size: int = 9
    relative: bool = False
    window_size: int = 300


def _spatial_block(spec: LayerSpec, in_channels: int, adjacency: np.ndarray, options: BlockOptions) -> nn.Module:
    out, joints = spec.out_channels, adjacency.shape[-1]
    if spec.spatial == "gcn":
        return GraphConv(in_channels, out, adjacency)
    if spec.spatial == "agcn":
        return AdaptiveGraphConv(in_channels, out, adjacency)
    if spec.spatial == "ssa":
        return SpatialSelfAttention(
            in_channels, out, joints, options.heads, options.key_factor, options.drop_attention, options.relative
        )
    if spec.spatial == "ssa-augmented":
        return AugmentedSpatialAttention(
            in_channels, out, adjacency, options.heads, options.key_factor, 2, options.drop_attention, options.relative
        )
    raise ValueError(f"unknown spatial block {spec.spatial!r}; expected gcn, agcn, ssa or ssa-augmented")


def _temporal_block(spec: LayerSpec, joints: int, frames_out: int, options: BlockOptions) -> nn.Module:
    out, stride = spec.out_channels, spec.stride
    dropout = 0.0 if spec.stem else options.dropout
    if spec.window_frames:
        longest = min(spec.window_frames, frames_out)
    else:
        longest = math.ceil(frames_out / spec.windows) if spec.windows else frames_out
    relative_frames = longest if options.relative else None
    if spec.temporal == "tcn":
        return TemporalConv(out, out, options.kernel_size, stride, dropout)
    if spec.temporal == "tsa":
        return TemporalSelfAttention(
            out, out, joints, stride, options.heads, options.key_factor, options.drop_attention, relative_frames,
            spec.windows, spec.window_frames,
        )  # fmt: skip
    if spec.temporal == "tsa-augmented":
        return AugmentedTemporalAttention(
            out, out, joints, stride, options.heads, options.key_factor, 2, options.drop_attention,
            options.kernel_size, dropout, relative_frames,
        )  # fmt: skip
    raise ValueError(f"unknown temporal block {spec.temporal!r}; expected tcn, tsa or tsa-augmented")


class SpatialTemporalUnit(nn.Module):
    """One layer: ``temporal(spatial(x)) + residual(x)`` (official ``TCN_GCN_unit``).

    Shape:
        x: ``(N, T, V, C_in)`` -> ``(N, ceil(T / stride), V, C_out)``.
    """

    def __init__(self, spatial: nn.Module, temporal: nn.Module, residual: nn.Module | None, use_residual: bool) -> None:
        super().__init__()
        self.spatial = spatial
        self.temporal = temporal
        self.residual = residual
        self.use_residual = use_residual

    def forward(self, x: torch.Tensor, maps: AttentionMaps | None = None, name: str = "") -> torch.Tensor:
        y = self._run(self.spatial, x, maps, "spatial", f"{name}.spatial")
        y = self._run(self.temporal, y, maps, "temporal", f"{name}.temporal")
        if not self.use_residual:
            return y
        return y + (x if self.residual is None else self.residual(x))

    @staticmethod
    def _run(block: nn.Module, x: torch.Tensor, maps: AttentionMaps | None, kind: str, name: str) -> torch.Tensor:
        if maps is None or not isinstance(block, ATTENTION_BLOCKS):
            return block(x)
        y, weights = block(x, return_attention=True)
        maps.add(kind, name, weights)
        return y


class SpatialTemporalNet(nn.Module):
    """ST-GCN / 1s-AGCN / ST-TR stream for skeleton action recognition.

    Args:
        layers: The stack, one :class:`LayerSpec` per layer.
        adjacency: ``(K, V, V)`` graph partitions of the graph convolutions (``agcn_partitions`` in ST-TR).
        skeleton: The joint layout of the input.
        in_channels: Channels per joint (3 for NTU coordinates, 3 for Kinetics ``x, y, confidence``, 6 with bones).
        num_classes: Output classes.
        num_persons: Persons per sample ``M`` (the input batch norm has one statistic per person, joint, channel).
        options: Shared block hyper-parameters.
        concat_input_at: Index of the layer whose input gets the raw coordinates concatenated (official
            ``concat_original``); ``None`` disables it.

    Shape:
        x: ``(N, M, T, V, C)`` -> logits ``(N, num_classes)``. Attention maps put persons in the batch:
        ``spatial[i]`` is ``(N M, N_h, T_i, V, V)``, ``temporal[i]`` is ``(N M, N_h, V, T_i, T_i)``, sample ``n``
        person ``m`` at index ``n M + m``.
    """

    def __init__(
        self,
        layers: Sequence[LayerSpec],
        adjacency: np.ndarray,
        skeleton: Skeleton | str,
        in_channels: int = 3,
        num_classes: int = 60,
        num_persons: int = 2,
        options: BlockOptions | None = None,
        concat_input_at: int | None = None,
    ) -> None:
        super().__init__()
        self.skeleton = get(skeleton)
        options = options or BlockOptions()
        joints = self.skeleton.num_joints
        if adjacency.shape[-1] != joints:
            raise ValueError(
                f"adjacency is {adjacency.shape[-1]} x {adjacency.shape[-1]}, skeleton has {joints} joints"
            )
        self.in_channels, self.num_persons, self.concat_input_at = in_channels, num_persons, concat_input_at
        self.data_bn = nn.BatchNorm1d(num_persons * joints * in_channels)
        units, frames = [], options.window_size
        for index, spec in enumerate(layers):
            width_in = spec.in_channels + (in_channels if index == concat_input_at else 0)
            frames = math.ceil(frames / spec.stride)
            residual = None
            if not spec.stem and (width_in != spec.out_channels or spec.stride != 1):
                residual = TemporalConv(width_in, spec.out_channels, kernel_size=1, stride=spec.stride)
            spatial = _spatial_block(spec, width_in, adjacency, options)
            units.append(
                SpatialTemporalUnit(spatial, _temporal_block(spec, joints, frames, options), residual, not spec.stem)
            )
        self.units = nn.ModuleList(units)
        self.classifier = nn.Linear(layers[-1].out_channels, num_classes)
        nn.init.normal_(self.classifier.weight, 0.0, math.sqrt(2.0 / num_classes))

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, AttentionMaps]:
        check_input(
            x, ("N", "M", "T", "V", "C"), self.skeleton, self.in_channels, what="input of the recognition model"
        )
        if x.shape[1] != self.num_persons:
            raise ShapeError(
                f"input of the recognition model must have {self.num_persons} persons (axis M of (N, M, T, V, C)), "
                f"got shape {tuple(x.shape)}"
            )
        persons, joints = x.shape[1], x.shape[3]
        coordinates = rearrange(x, "n m t v c -> (n m) t v c")
        affine = eval_affine(self.data_bn)
        if affine is not None:  # evaluation: one multiply-add on the channels-last input (skeletal.nn.norms)
            scale, shift = (part.view(persons, 1, joints, -1) for part in affine)
            y = rearrange(torch.addcmul(shift, x, scale), "n m t v c -> (n m) t v c")
        else:
            y = self.data_bn(rearrange(x, "n m t v c -> n (m v c) t"))
            y = rearrange(y, "n (m v c) t -> (n m) t v c", m=persons, v=joints)
        maps = AttentionMaps() if return_attention else None
        for index, unit in enumerate(self.units):
            if index == self.concat_input_at:
                y = torch.cat([y, coordinates], dim=-1)
            y = unit(y, maps, f"units.{index}")
        features = reduce(y, "(n m) t v c -> n c", "mean", m=persons)
        logits = self.classifier(features)
        return (logits, maps) if maps is not None else logits
