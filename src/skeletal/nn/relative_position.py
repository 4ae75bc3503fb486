"""Relative positional encodings of ST-TR's self-attention (optional; ``relative`` in the official code).

Both add a query-dependent term to the attention logits, as in Bello et al. (2019) on which ST-TR's attention
is built: ``logit_ij += q_i . r_ij / sqrt(d_k^h)``, with ``r`` learned and shared by the heads.

- :class:`TemporalRelativePosition` (TSA): ``r_ij = R[j - i]``, one embedding per frame offset in
  ``[-(L-1), L-1]`` for sequences (windows) of at most ``L`` frames: ``(2L - 1) d_k^h`` parameters.
- :class:`SpatialRelativePosition` (SSA): joints have no order, so every ordered pair of distinct joints gets its
  own embedding and the ``V`` self-pairs share one: ``(V^2 - V + 1) d_k^h`` parameters, the count of the
  official code (whose index shuffling by ``rel_to_abs`` we do not reproduce: each pair ``(i, j)`` simply owns
  its row).

Axis legend: ``b`` sequences, ``h`` heads, ``l`` queries, ``s`` keys, ``d`` channels per head.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from skeletal.errors import ShapeError


class TemporalRelativePosition(nn.Module):
    """Learned embeddings of frame offsets for TSA.

    Args:
        max_frames: Longest sequence (or window) the encoding accepts, ``L``.
        head_channels: ``d_k^h``, channels of a query per head.

    Shape:
        query: ``(B, H, L', d)`` with ``L' <= L`` -> logits bias ``(B, H, L', L')``.
    """

    def __init__(self, max_frames: int, head_channels: int) -> None:
        super().__init__()
        self.max_frames = max_frames
        self.table = nn.Parameter(torch.randn(2 * max_frames - 1, head_channels))

    def forward(self, query: torch.Tensor) -> torch.Tensor:
        length = query.shape[-2]
        if length > self.max_frames:
            raise ShapeError(
                f"relative temporal encoding built for at most {self.max_frames} frames, got {length}; "
                "build the model with a larger window_size"
            )
        positions = torch.arange(length, device=query.device)
        offsets = positions[None, :] - positions[:, None] + self.max_frames - 1  # (l, s): j - i
        return torch.einsum("bhld,lsd->bhls", query, self.table[offsets]) / math.sqrt(query.shape[-1])


class SpatialRelativePosition(nn.Module):
    """Learned embeddings of ordered joint pairs for SSA.

    Args:
        num_joints: ``V``.
        head_channels: ``d_k^h``.

    Shape:
        query: ``(B, H, V, d)`` -> logits bias ``(B, H, V, V)``.
    """

    off_diagonal: torch.Tensor

    def __init__(self, num_joints: int, head_channels: int) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.pairs = nn.Parameter(torch.randn(num_joints * (num_joints - 1), head_channels))
        self.diagonal = nn.Parameter(torch.randn(1, head_channels))
        off_diagonal = ~torch.eye(num_joints, dtype=torch.bool)
        self.register_buffer("off_diagonal", off_diagonal, persistent=False)

    def embeddings(self) -> torch.Tensor:
        """``(V, V, d)``: the embedding of every (query joint, key joint) pair."""
        num, channels = self.num_joints, self.pairs.shape[-1]
        table = self.diagonal.expand(num * num, channels).clone()
        table[self.off_diagonal.flatten()] = self.pairs
        return table.view(num, num, channels)

    def forward(self, query: torch.Tensor) -> torch.Tensor:
        if query.shape[-2] != self.num_joints:
            raise ShapeError(f"relative spatial encoding built for {self.num_joints} joints, got {query.shape[-2]}")
        return torch.einsum("bhld,lsd->bhls", query, self.embeddings()) / math.sqrt(query.shape[-1])
