"""Spatial graph convolutions over the joints of each frame, channels-last.

- :class:`GraphConv`: the graph convolution of ST-GCN (Yan et al. 2018) as used by ST-TR (Plizzari et al., journal
  Eq. 1-2): ``f_out = sum_k W_k (f_in A_k)`` over ``K`` partitions of the adjacency, with ST-GCN's learnable
  edge-importance mask (``mask_learning`` in the official ST-TR code), batch norm and ReLU.
- :class:`AdaptiveGraphConv`: the adaptive graph convolution of 2s-AGCN (Shi et al. 2019, Eq. 3 of ST-TR):
  ``f_out = sum_k W_k f_in (A_k + B_k + C_k)`` with ``B_k`` learned and ``C_k`` a data-dependent similarity.
- :func:`ones_adjacency`: the all-ones ``A_fc`` of the "ST-GCN (fc)" baseline (ST-TR Table I).

Axis legend: ``n`` batch, ``t`` frames, ``v``/``w`` joints (source/target of the aggregation), ``k`` partition,
``c``/``d`` input/output channels. Adjacency ``A[k, v, w]`` is the weight of joint ``v`` in the aggregation at
joint ``w`` (the convention of :mod:`skeletal.skeletons.graphs`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from einops import rearrange
from torch import nn

from skeletal.errors import ShapeError
from skeletal.nn.norms import channels_last_norm


def ones_adjacency(num_joints: int) -> np.ndarray:
    """The fully connected ``A_fc`` of ST-GCN (fc) (ST-TR section V-C): one partition of ones, ``(1, V, V)``."""
    return np.ones((1, num_joints, num_joints), dtype=np.float32)


def _as_partitions(adjacency: np.ndarray | torch.Tensor) -> torch.Tensor:
    matrix = torch.as_tensor(np.asarray(adjacency, dtype=np.float32))
    if matrix.dim() == 2:
        matrix = matrix[None]
    if matrix.dim() != 3 or matrix.shape[1] != matrix.shape[2]:
        raise ShapeError(f"adjacency must have shape (K, V, V) or (V, V), got {tuple(matrix.shape)}")
    return matrix


class PartitionedProjection(nn.Module):
    """``sum_k (x A_k) W_k + b_k``: aggregation by ``K`` adjacency partitions, then one projection per partition.

    Holds ``K`` weight matrices and ``K`` bias vectors, as the official code's ``K`` 1x1 convolutions (so the
    parameter count is ``K (C_in C_out + C_out)``); the biases of the partitions add up.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        partitions: ``K``.

    Shape:
        x: ``(N, T, V, C_in)``; adjacency: ``(K, V, V)`` or per-sample ``(N, K, V, V)``; out ``(N, T, V, C_out)``.

    Initialisation as the partition convolutions of the official ``unit_gcn`` (``net.py`` ``conv_init``):
    weights He-normal over the fan-out of one partition, ``N(0, 2 / C_out)``; biases PyTorch's default for a
    ``Conv2d``, ``U(-1 / sqrt(C_in), 1 / sqrt(C_in))`` (``conv_init`` leaves them).
    """

    def __init__(self, in_channels: int, out_channels: int, partitions: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(partitions, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(partitions, out_channels))
        nn.init.normal_(self.weight, 0.0, math.sqrt(2.0 / out_channels))
        bound = 1.0 / math.sqrt(in_channels)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        if adjacency.dim() == 4:  # per-sample graphs (2s-AGCN's C_k)
            aggregated = torch.einsum("ntvc,nkvw->ntwkc", x, adjacency)
            aggregated = rearrange(aggregated, "n t w k c -> n t w (k c)")
            return aggregated @ rearrange(self.weight, "k c d -> (k c) d") + self.bias.sum(0)
        batch, frames, joints, _ = x.shape
        partitions, out_channels = self.weight.shape[0], self.weight.shape[-1]
        bias = self.bias.sum(0)
        # Two plain matrix products, the graph product at the narrower width (1.3-1.8x faster on the CPU than one
        # einsum; benchmarks/official_st_tr.py --blocks): aggregate then project when the layer widens...
        if x.shape[-1] < out_channels:
            aggregated = x.transpose(-1, -2) @ rearrange(adjacency, "k v w -> v (k w)")  # (N, T, C, K V)
            aggregated = rearrange(aggregated, "n t c (k w) -> (n t w) (k c)", k=partitions)
            projected = torch.addmm(bias, aggregated, rearrange(self.weight, "k c d -> (k c) d"))
            return projected.view(batch, frames, joints, out_channels)
        # ... else project then aggregate.
        projected = x.reshape(-1, x.shape[-1]) @ rearrange(self.weight, "k c d -> c (k d)")  # (N T V, K D)
        projected = rearrange(projected, "(s v) (k d) -> s (k v) d", v=joints, k=partitions)
        aggregated = rearrange(adjacency, "k v w -> w (k v)") @ projected + bias  # (N T, W, D)
        return aggregated.view(batch, frames, joints, out_channels)


class GraphConv(nn.Module):
    """ST-GCN graph convolution (ST-TR Eq. 1-2), ``unit_gcn`` of the official code.

    ``y = ReLU(BN(sum_k (x (A_k * M_k)) W_k))`` where ``M`` is the learned edge-importance mask (initialised to
    ones) when ``edge_importance`` is set.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        adjacency: ``(K, V, V)`` partitions (``agcn_partitions`` in ST-TR, ``ones_adjacency`` for the fc variant).
        edge_importance: Learn the mask ``M`` (``K V^2`` parameters).
        norm: Apply batch norm and ReLU (False for the convolution branch of the augmented SSA).

    Shape:
        x: ``(N, T, V, C_in)`` -> ``(N, T, V, C_out)``.
    """

    adjacency: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        adjacency: np.ndarray | torch.Tensor,
        edge_importance: bool = True,
        norm: bool = True,
    ) -> None:
        super().__init__()
        partitions = _as_partitions(adjacency)
        self.register_buffer("adjacency", partitions)
        self.mask = nn.Parameter(torch.ones_like(partitions)) if edge_importance else None
        self.projection = PartitionedProjection(in_channels, out_channels, partitions.shape[0])
        self.bn = nn.BatchNorm2d(out_channels) if norm else None
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        adjacency = self.adjacency if self.mask is None else self.adjacency * self.mask
        y = self.projection(x, adjacency)
        if self.bn is None:
            return y
        return torch.relu(channels_last_norm(self.bn, y))


class AdaptiveGraphConv(nn.Module):
    """Adaptive graph convolution of 2s-AGCN (ST-TR Eq. 3), ``unit_agcn`` of the official code.

    For each partition ``k``: ``C_k = softmax_v((theta_k(x) . phi_k(x)) / (C_e T))`` over the source joints
    (embeddings of ``C_e = C_out / 4`` channels summed over channels and frames), ``B_k`` a free ``V x V``
    parameter initialised to ``1e-6``, ``A_k`` fixed. ``y = ReLU(BN(sum_k W_k x (A_k + B_k + C_k)) + down(x))``
    with ``down`` a 1x1 convolution + BN when the width changes.

    Initialisation as the official ``unit_agcn`` (``unit_agcn.py`` line 73-80): the embeddings ``theta_k``,
    ``phi_k`` (each a ``C_in -> C_e`` 1x1 convolution there) He-normal over their own fan-out, ``N(0, 2 / C_e)``,
    zero bias; the partition projections ``W_k`` by ``conv_branch_init``, ``N(0, 2 / (C_out C_in K))``, zero
    bias; ``down`` He-normal over its fan-out ``N(0, 2 / C_out)``, zero bias, its BN weight 1; the output BN
    weight ``1e-6``.

    The physical graph, a deliberate difference: the official ``unit_agcn`` builds ``PA = nn.Parameter(A)``,
    which shares its storage with ``A``, and fills it with ``1e-6`` (line 47-48), so ``A`` itself, and the
    model's graph shared by every unit, become ``1e-6`` everywhere: the official AGCN and T-TR-agcn run on
    ``1e-6 + B_k + C_k``, without the skeleton (the models are moved to the GPU before training, which gives
    every ``PA`` its own storage again while the CPU ``A`` stays ``1e-6``). The paper's Eq. 3 has ``A_k``, so
    it is kept here; :func:`skeletal.models.recognition.official.load_official` sets the ``adjacency`` buffer
    to ``1e-6`` to give the official outputs of an official checkpoint.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        adjacency: ``(K, V, V)`` partitions ``A_k``.
        embedding_factor: ``C_out / C_e`` (4 in 2s-AGCN).

    Shape:
        x: ``(N, T, V, C_in)`` -> ``(N, T, V, C_out)``.
    """

    adjacency: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        adjacency: np.ndarray | torch.Tensor,
        embedding_factor: int = 4,
    ) -> None:
        super().__init__()
        partitions = _as_partitions(adjacency)
        self.num_partitions = partitions.shape[0]
        self.embedding_channels = out_channels // embedding_factor
        self.register_buffer("adjacency", partitions)
        self.learned = nn.Parameter(torch.full_like(partitions, 1e-6))  # B_k
        self.embed = nn.Linear(in_channels, 2 * self.num_partitions * self.embedding_channels)  # theta_k, phi_k
        self.projection = PartitionedProjection(in_channels, out_channels, self.num_partitions)
        self.bn = nn.BatchNorm2d(out_channels)
        nn.init.constant_(self.bn.weight, 1e-6)
        nn.init.normal_(self.embed.weight, 0.0, math.sqrt(2.0 / self.embedding_channels))
        nn.init.zeros_(self.embed.bias)
        branches = math.sqrt(2.0 / (out_channels * in_channels * self.num_partitions))
        nn.init.normal_(self.projection.weight, 0.0, branches)
        nn.init.zeros_(self.projection.bias)
        self.down: nn.Module | None = None
        if in_channels != out_channels:
            linear = nn.Linear(in_channels, out_channels)
            nn.init.normal_(linear.weight, 0.0, math.sqrt(2.0 / out_channels))
            nn.init.zeros_(linear.bias)
            self.down = nn.Sequential(linear, ChannelsLastBatchNorm(out_channels))

    def similarity(self, x: torch.Tensor) -> torch.Tensor:
        """``C_k``: ``(N, K, V, V)``, each column (target joint) a softmax over the source joints."""
        embedded = rearrange(self.embed(x), "n t v (two k e) -> two n k v (t e)", two=2, k=self.num_partitions)
        theta, phi = embedded[0], embedded[1]
        scores = theta @ phi.transpose(-1, -2) / theta.shape[-1]
        return torch.softmax(scores, dim=-2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        adjacency = self.adjacency + self.learned + self.similarity(x)
        y = channels_last_norm(self.bn, self.projection(x, adjacency))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ChannelsLastBatchNorm(nn.BatchNorm2d):
    """``BatchNorm2d`` over the last axis of ``(N, T, V, C)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return channels_last_norm(self, x)
