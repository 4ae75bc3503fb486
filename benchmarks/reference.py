"""Straightforward reference implementations of the paper equations, to measure the library's speed against.

Each ``naive_*`` function computes the same equation as a library module, written the direct way: Python loops
over attention heads, over joints (ST-Transformer per-joint weights ``W^{(n, .)}``) and over channels (GAST-Net's
channel-wise graph convolution), explicit softmax instead of the fused ``scaled_dot_product_attention``, and
GAST-Net's global attention scores from the explicit concatenation ``[theta(x_i) || phi(x_j)]`` of the official
code. :func:`naive_modules` swaps them into a model (same weights), so the whole model can be timed both ways in
one process and the outputs compared.

Only evaluation mode is covered (no DropAttention, no dropout); relative encodings and windowed temporal
attention (ST-TR variants that the paper models do not use by default) are rejected.
"""

from __future__ import annotations

import contextlib
import math
import types
from collections.abc import Callable, Iterator

import torch
from torch import nn

from skeletal.nn.graph_attention import GlobalAttentionGraph
from skeletal.nn.joint_attention import attention_weights
from skeletal.nn.per_joint import PerJointLinear
from skeletal.nn.self_attention import AxisSelfAttention
from skeletal.nn.semantic_graph_conv import SemanticChannelGraphConv
from skeletal.nn.spatiotemporal_attention import Full2DAttention, SpatialAttention, TemporalAttention


def naive_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None,
                    normalization: str = "softmax") -> torch.Tensor:  # fmt: skip
    """``tau(Q K^T / sqrt(c)) V`` for ONE head, explicit scores and normalisation: ``(..., L, c) -> (..., L, c)``."""
    scores = query @ key.transpose(-1, -2) / math.sqrt(query.shape[-1])
    return attention_weights(scores, mask, normalization) @ value  # type: ignore[arg-type]


def naive_per_joint_linear(self: PerJointLinear, x: torch.Tensor) -> torch.Tensor:
    """One ``x[..., v, :] @ W[v] + b[v]`` per joint in a Python loop (ST-Transformer section 3.2)."""
    outputs = []
    for joint in range(self.num_joints):
        y = x[..., joint, :] @ self.weight[joint]
        outputs.append(y + self.bias[joint] if self.bias is not None else y)
    return torch.stack(outputs, dim=-2)


def _heads(x: torch.Tensor, heads: int) -> list[torch.Tensor]:
    return list(x.chunk(heads, dim=-1))


def naive_temporal_attention(self: TemporalAttention, x: torch.Tensor, need_weights: bool = False):  # type: ignore[no-untyped-def]
    """Eq. 2-3: for every joint and head, causal attention over the frames of that joint (loops)."""
    frames, joints = x.shape[1], x.shape[2]
    q, k, v = self.qkv(x).chunk(3, dim=-1)  # (N, T, V, D) each
    mask = torch.ones(frames, frames, dtype=torch.bool, device=x.device).tril()
    per_joint = []
    for joint in range(joints):
        heads = [
            naive_attention(qh, kh, vh, mask, self.normalization)
            for qh, kh, vh in zip(_heads(q[:, :, joint], self.num_heads), _heads(k[:, :, joint], self.num_heads),
                                  _heads(v[:, :, joint], self.num_heads))
        ]  # fmt: skip
        per_joint.append(torch.cat(heads, dim=-1))
    return self.out(torch.stack(per_joint, dim=2)), None


def naive_spatial_attention(self: SpatialAttention, x: torch.Tensor, need_weights: bool = False):  # type: ignore[no-untyped-def]
    """Eq. 4: for every head, attention over the joints of each frame (loop over heads)."""
    q = self.query(x)
    k, v = self.key_value(x).chunk(2, dim=-1)
    heads = [
        naive_attention(qh, kh, vh, None, self.normalization)
        for qh, kh, vh in zip(_heads(q, self.num_heads), _heads(k, self.num_heads), _heads(v, self.num_heads))
    ]
    return self.out(torch.cat(heads, dim=-1)), None


def naive_full_2d_attention(self: Full2DAttention, x: torch.Tensor, need_weights: bool = False):  # type: ignore[no-untyped-def]
    """Section 4.3: every (frame, joint) token attends to all joints of frames ``<=`` its own (loop over heads)."""
    batch, frames, joints, channels = x.shape
    q = self.query(x).reshape(batch, frames * joints, channels)
    k, v = (part.reshape(batch, frames * joints, channels) for part in self.key_value(x).chunk(2, dim=-1))
    frame_of = torch.arange(frames, device=x.device).repeat_interleave(joints)
    mask = frame_of[:, None] >= frame_of[None, :]
    heads = [
        naive_attention(qh, kh, vh, mask, self.normalization)
        for qh, kh, vh in zip(_heads(q, self.num_heads), _heads(k, self.num_heads), _heads(v, self.num_heads))
    ]
    return self.out(torch.cat(heads, dim=-1).reshape(batch, frames, joints, channels)), None


def naive_axis_self_attention(self: AxisSelfAttention, x: torch.Tensor, need_weights: bool = False):  # type: ignore[no-untyped-def]
    """ST-TR Eq. 8 (SSA over joints, TSA over frames): loop over heads, explicit softmax, heads concatenated."""
    if self.relative is not None or self.windows is not None or self.training:
        raise NotImplementedError("the naive SSA/TSA covers eval mode without relative encodings or windows")
    batch, _, joints, _ = x.shape
    query, key, value = self.project(x).split(self.splits, dim=-1)  # (N, T', V, .)
    if self.axis == "frames":  # attend along T: put the frames second to last
        query, key, value = (part.transpose(1, 2) for part in (query, key, value))
    heads = [
        naive_attention(qh, kh, vh, None)
        for qh, kh, vh in zip(_heads(query, self.heads), _heads(key, self.heads), _heads(value, self.heads))
    ]
    out = torch.cat(heads, dim=-1)
    if self.axis == "frames":
        out = out.transpose(1, 2)
    return self.merge(out), None


def naive_semantic_graph_conv(self: SemanticChannelGraphConv, x: torch.Tensor) -> torch.Tensor:
    """GAST-Net Eq. 1-2, one output channel at a time.

    ``y[i, c] = A_c[i, i] (x_i W_0)[c] + sum_{j != i} A_c[i, j] (x_j W_1)[c]``.
    """
    adjacency = self.adjacency()  # (C, V, V)
    own, other = x @ self.weight[0], x @ self.weight[1]  # (..., V, C)
    eye = torch.eye(self.num_joints, device=x.device)
    channels = []
    for channel in range(self.out_channels):
        a = adjacency[channel]
        neighbours = torch.einsum("ij,...j->...i", a * (1 - eye), other[..., channel])
        channels.append(a.diagonal() * own[..., channel] + neighbours)
    output = torch.stack(channels, dim=-1)
    return output + self.bias if self.bias is not None else output


def naive_global_attention_graph(self: GlobalAttentionGraph, x: torch.Tensor, return_attention: bool = False):  # type: ignore[no-untyped-def]
    """GAST-Net Eq. 3-4 head by head, scores from the explicit ``(V, V, 2C/K)`` concatenation (official code)."""
    joints = x.shape[-2]
    query, key, value = self.query(x), self.key(x), self.value(x)
    heads = []
    for head, (qh, kh, vh) in enumerate(
        zip(_heads(query, self.heads), _heads(key, self.heads), _heads(value, self.heads))
    ):
        pairs = torch.cat(
            [qh.unsqueeze(-2).expand(*qh.shape[:-1], joints, qh.shape[-1]),
             kh.unsqueeze(-3).expand(*kh.shape[:-2], joints, joints, kh.shape[-1])], dim=-1,
        )  # fmt: skip
        weight = torch.cat([self.query_score[head], self.key_score[head]])
        scores = torch.nn.functional.leaky_relu(pairs @ weight, 0.2)
        adjacency = torch.softmax(scores, dim=-1) + self.learned_adjacency[head]
        heads.append(adjacency @ vh)
    output = self.fuse(torch.cat(heads, dim=-1))
    return self.dropout(torch.relu(self.fuse_norm(output))), None


NAIVE: dict[type[nn.Module], Callable[..., object]] = {
    PerJointLinear: naive_per_joint_linear,
    TemporalAttention: naive_temporal_attention,
    SpatialAttention: naive_spatial_attention,
    Full2DAttention: naive_full_2d_attention,
    AxisSelfAttention: naive_axis_self_attention,
    SemanticChannelGraphConv: naive_semantic_graph_conv,
    GlobalAttentionGraph: naive_global_attention_graph,
}


@contextlib.contextmanager
def naive_modules(model: nn.Module) -> Iterator[int]:
    """Within the block every module of a :data:`NAIVE` class runs its naive forward (same weights).

    Yields:
        The number of modules replaced.
    """
    replaced = []
    for module in model.modules():
        function = NAIVE.get(type(module))
        if function is not None:
            module.forward = types.MethodType(function, module)  # type: ignore[method-assign]
            replaced.append(module)
    try:
        yield len(replaced)
    finally:
        for module in replaced:
            del module.forward
