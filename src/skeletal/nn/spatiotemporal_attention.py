"""The decoupled temporal and spatial attention blocks of the ST-Transformer (Aksan et al., 2021, section 3.2,
eqs. 2-4, supplement B) and the full 2D attention of its ablation (section 4.3, supplement E).

All blocks take and return channels-last embeddings ``(N, T, V, D)``. Axis legend of the einops patterns:
``n`` batch, ``t``/``s`` query/key frames, ``v``/``w`` query/key joints, ``h`` heads, ``c`` channels per head.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from skeletal.errors import ConfigError
from skeletal.nn.joint_attention import (
    ATTENTION_NORMALIZATIONS,
    AttentionNormalization,
    attend_heads,
    causal_mask,
    check_choice,
    prefer_fused_attention,
    scaled_dot_product,
)
from skeletal.nn.per_joint import PerJointLinear


def _check_heads(model_dim: int, num_heads: int) -> None:
    if num_heads < 1 or model_dim % num_heads != 0:
        raise ConfigError(f"embedding size D={model_dim} must be divisible by the number of heads H={num_heads}")


class TemporalAttention(nn.Module):
    """Per-joint causal multi-head attention over time (eqs. 2-3).

    Every joint ``n`` has its own query, key, value and output projections ``W^{(n,Q)}, W^{(n,K)}, W^{(n,V)},
    W^{(n,O)}`` (with biases, as in the official code); joint ``n`` at frame ``t`` attends to joint ``n`` at
    frames ``0 .. t`` only.

    Args:
        num_joints: ``V``.
        model_dim: ``D``.
        num_heads: ``H`` (``D`` divisible by ``H``).
        normalization: ``"softmax"`` or ``"sum"`` (see :func:`skeletal.nn.joint_attention.attention_weights`).

    Shape:
        - Input: ``(N, T, V, D)``.
        - Output: ``(N, T, V, D)``; weights ``(N, H, V, T, T)`` (query frame, key frame) when requested.
    """

    def __init__(
        self, num_joints: int, model_dim: int, num_heads: int, normalization: AttentionNormalization = "softmax"
    ) -> None:
        super().__init__()
        _check_heads(model_dim, num_heads)
        check_choice(normalization, ATTENTION_NORMALIZATIONS, "attention normalization")
        self.num_heads = num_heads
        self.normalization = normalization
        self.qkv = PerJointLinear(num_joints, model_dim, 3 * model_dim)
        self.out = PerJointLinear(num_joints, model_dim, model_dim)

    def forward(self, x: torch.Tensor, need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        mask = causal_mask(x.shape[1], x.device)
        qkv = self.qkv(x)
        if not need_weights and not prefer_fused_attention(qkv):  # CPU inference: head by head, no copies
            q, k, v = (part.transpose(1, 2) for part in qkv.chunk(3, dim=-1))  # (N, V, T, D)
            y = attend_heads(q, k, v, self.num_heads, mask, self.normalization)
            return self.out(y.transpose(1, 2)), None
        q, k, v = rearrange(qkv, "n t v (three h c) -> three n v h t c", three=3, h=self.num_heads)
        y, weights = scaled_dot_product(q, k, v, mask, self.normalization, need_weights)
        y = self.out(rearrange(y, "n v h t c -> n t v (h c)"))
        if weights is not None:
            weights = rearrange(weights, "n v h t s -> n h v t s")
        return y, weights


class SpatialAttention(nn.Module):
    """Multi-head attention over the joints of each frame (eq. 4), no mask.

    Queries have separate weights per joint ``W^{(n,Q)}``; keys and values share ``W^{(K)}, W^{(V)}`` across
    joints; the output projection ``W^{(O)}`` is shared (official code). All with biases.

    Args:
        num_joints: ``V``.
        model_dim: ``D``.
        num_heads: ``H``.
        normalization: ``"softmax"`` or ``"sum"``.

    Shape:
        - Input: ``(N, T, V, D)``.
        - Output: ``(N, T, V, D)``; weights ``(N, H, T, V, V)`` (query joint, key joint) when requested.
    """

    def __init__(
        self, num_joints: int, model_dim: int, num_heads: int, normalization: AttentionNormalization = "softmax"
    ) -> None:
        super().__init__()
        _check_heads(model_dim, num_heads)
        check_choice(normalization, ATTENTION_NORMALIZATIONS, "attention normalization")
        self.num_heads = num_heads
        self.normalization = normalization
        self.query = PerJointLinear(num_joints, model_dim, model_dim)
        self.key_value = nn.Linear(model_dim, 2 * model_dim)
        self.out = nn.Linear(model_dim, model_dim)
        nn.init.xavier_uniform_(self.key_value.weight[:model_dim])
        nn.init.xavier_uniform_(self.key_value.weight[model_dim:])
        nn.init.xavier_uniform_(self.out.weight)
        nn.init.zeros_(self.key_value.bias)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        query, key_value = self.query(x), self.key_value(x)
        if not need_weights and not prefer_fused_attention(query):  # CPU inference: head by head, no copies
            key, value = key_value.chunk(2, dim=-1)
            y = attend_heads(query, key, value, self.num_heads, None, self.normalization)
            return self.out(y), None
        q = rearrange(query, "n t v (h c) -> n t h v c", h=self.num_heads)
        k, v = rearrange(key_value, "n t v (two h c) -> two n t h v c", two=2, h=self.num_heads)
        y, weights = scaled_dot_product(q, k, v, None, self.normalization, need_weights)
        y = self.out(rearrange(y, "n t h v c -> n t v (h c)"))
        if weights is not None:
            weights = rearrange(weights, "n t h v w -> n h t v w")
        return y, weights


class Full2DAttention(nn.Module):
    """Joint-and-time attention of the 2D ablation (section 4.3): each joint attends to all joints of all
    frames up to and including its own.

    As in the official ``transformer_2d_full_baseline``: per-joint queries, keys and values shared across
    joints (one projection over all ``T * V`` tokens), per-joint output projection, causal over frames.

    Args:
        num_joints: ``V``.
        model_dim: ``D``.
        num_heads: ``H``.
        normalization: ``"softmax"`` or ``"sum"``.

    Shape:
        - Input: ``(N, T, V, D)``.
        - Output: ``(N, T, V, D)``; weights ``(N, H, T, V, T, V)`` when requested.
    """

    def __init__(
        self, num_joints: int, model_dim: int, num_heads: int, normalization: AttentionNormalization = "softmax"
    ) -> None:
        super().__init__()
        _check_heads(model_dim, num_heads)
        check_choice(normalization, ATTENTION_NORMALIZATIONS, "attention normalization")
        self.num_heads = num_heads
        self.normalization = normalization
        self.query = PerJointLinear(num_joints, model_dim, model_dim)
        self.key_value = nn.Linear(model_dim, 2 * model_dim)
        self.out = PerJointLinear(num_joints, model_dim, model_dim)
        nn.init.xavier_uniform_(self.key_value.weight[:model_dim])
        nn.init.xavier_uniform_(self.key_value.weight[model_dim:])
        nn.init.zeros_(self.key_value.bias)

    def forward(self, x: torch.Tensor, need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        frames, joints = x.shape[1], x.shape[2]
        q = rearrange(self.query(x), "n t v (h c) -> n h (t v) c", h=self.num_heads)
        k, v = rearrange(self.key_value(x), "n t v (two h c) -> two n h (t v) c", two=2, h=self.num_heads)
        frame_mask = causal_mask(frames, x.device)
        mask = frame_mask.repeat_interleave(joints, dim=0).repeat_interleave(joints, dim=1)
        y, weights = scaled_dot_product(q, k, v, mask, self.normalization, need_weights)
        y = self.out(rearrange(y, "n h (t v) c -> n t v (h c)", t=frames))
        if weights is not None:
            weights = rearrange(weights, "n h (t v) (s w) -> n h t v s w", t=frames, s=frames)
        return y, weights
