"""Spatial and Temporal Self-Attention of ST-TR (Plizzari et al., journal section IV, Eq. 5-8), channels-last.

- :class:`AxisSelfAttention`: the multi-head attention of Eq. 8 along one axis of ``(N, T, V, C)``: queries,
  keys and values from one 1x1 convolution (``C_in -> 2 d_k + d_v``), ``N_h`` heads, scaled dot product,
  heads merged by a 1x1 convolution ``W_o`` (``d_v -> d_v``). Over the joints of each frame (frames folded into
  the batch) for SSA, over the frames of each joint (joints folded into the batch) for TSA.
- :class:`SpatialSelfAttention` (SSA): input batch norm over ``(V, C)``, attention, skip connection when the width
  is kept, batch norm, ReLU (``gcn_unit_attention`` of the official code).
- :class:`TemporalSelfAttention` (TSA): input batch norm, attention (strided through the query/key/value
  convolution), residual (1x1 strided convolution + BN + ReLU when the shape changes), batch norm, ReLU
  (``tcn_unit_attention``); windowed for the all-layers variant (journal section V-D): with ``window_frames``
  the frames are split into blocks of that many frames (the official ``tcn_unit_attention_block``), with
  ``windows`` into that many blocks (the paper's reading of ``d_block``); attention stays inside each block.

Deliberate choices where the official code (``Chiaraplizz/ST-TR``, ``code/st_gcn/net``) decides:

- Scale. ``q k / sqrt(d_k^h)`` with ``d_k^h`` the channels of one head, except in the wide attention of the
  augmented variant, where each head holds ``width_factor d_k / N_h`` channels but the official code divides by
  ``sqrt(d_k / N_h)`` (``spatial_transformer.py`` line 175-176, ``temporal_transformer.py`` line 234-235:
  ``dkh = dk // Nh; q = q * dkh ** -0.5``); the paper gives no other scale, so ``key_scale_channels`` follows
  the official one there (logits ``sqrt(width_factor)`` larger than a per-head scale would give).
- Strided TSA. The official query/key/value convolution has kernel and stride ``stride`` along the frames,
  but a ``1``-frame kernel (stride kept) on skeletons with an even joint count (``temporal_transformer.py``
  line 79-86, the Kinetics 18-joint layout): ``kernel`` follows it (:class:`TemporalSelfAttention`).
- Windows of 10 frames whose count does not divide the frames: the official block loop drops the remainder
  and then fails to reshape; here the last block is shorter (padded and masked).

Parameters of one module (journal Eq. 11): ``C_in (2 d_k + d_v) + d_v^2`` plus biases and batch norms; 177,792
for SSA and TSA at ``C_in = C_out = 256`` on 25 joints, as in Table I-b.

Axis legend: ``n`` batch, ``t`` frames, ``v`` joints, ``c`` channels, ``h`` heads, ``d`` channels per head,
``l``/``s`` query/key positions, ``b`` windows.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from skeletal.nn.drop_attention import DropAttention, attend
from skeletal.nn.joint_attention import attend_heads, prefer_fused_attention
from skeletal.nn.norms import channels_last_batch_norm_1d, channels_last_norm
from skeletal.nn.relative_position import SpatialRelativePosition, TemporalRelativePosition
from skeletal.nn.temporal_conv import TemporalConv


class AxisSelfAttention(nn.Module):
    """Multi-head self-attention along the joints or the frames (ST-TR Eq. 8).

    Args:
        in_channels: ``C_in``.
        key_channels: ``d_k = d_q`` over all heads (``0.25 C_out`` in ST-TR).
        value_channels: ``d_v`` over all heads, also the output width (``C_out`` in ST-TR).
        heads: ``N_h`` (8).
        axis: ``"joints"`` (SSA) or ``"frames"`` (TSA).
        stride: Temporal stride (frames only): the query/key/value convolution has kernel and stride
            ``stride x 1``, as in the official code.
        drop_attention: DropAttention probability.
        relative: Optional relative positional encoding (built by the caller for ``d_k / N_h`` channels).
        width_factor: "Wide attention" of the augmented variant (journal appendix B): the query, key and value
            convolution produces ``width_factor`` times more channels, merged back to ``d_v`` by ``W_o``.
        windows: Frames only: split the frames into this many blocks and attend inside each.
        window_frames: Frames only: split the frames into blocks of this many frames (the last one shorter) and
            attend inside each; exclusive with ``windows``.
        kernel: Frames only: kernel of the strided query/key/value convolution (default ``stride``; 1 is the
            official choice on skeletons with an even joint count).
        key_scale_channels: ``c`` of the ``1 / sqrt(c)`` logit scale (default: the channels of one head,
            ``width_factor d_k / N_h``); the augmented variant passes ``d_k / N_h`` as the official code.

    Shape:
        x: ``(N, T, V, C_in)`` -> ``(N, T', V, d_v)`` with ``T' = ceil(T / stride)``; weights
        ``(N, N_h, T, V, V)`` (joints) or ``(N, N_h, V, T', T')`` (frames, block diagonal when windowed).
    """

    def __init__(
        self,
        in_channels: int,
        key_channels: int,
        value_channels: int,
        heads: int = 8,
        axis: Literal["joints", "frames"] = "joints",
        stride: int = 1,
        drop_attention: float = 0.5,
        relative: nn.Module | None = None,
        width_factor: int = 1,
        windows: int | None = None,
        window_frames: int | None = None,
        kernel: int | None = None,
        key_scale_channels: int | None = None,
    ) -> None:
        super().__init__()
        if axis not in ("joints", "frames"):
            raise ValueError(f"axis must be 'joints' or 'frames', got {axis!r}")
        if (key_channels * width_factor) % heads or (value_channels * width_factor) % heads:
            raise ValueError(
                f"d_k={key_channels} and d_v={value_channels} (x{width_factor} wide) must be divisible by {heads} heads"
            )
        if axis == "joints" and (stride != 1 or windows is not None or window_frames is not None):
            raise ValueError("stride and windows apply to temporal attention only")
        if windows is not None and window_frames is not None:
            raise ValueError("give windows (a block count) or window_frames (frames per block), not both")
        self.axis, self.heads, self.stride, self.windows = axis, heads, stride, windows
        self.window_frames = window_frames
        self.kernel = stride if kernel is None else kernel
        self.splits = [key_channels * width_factor, key_channels * width_factor, value_channels * width_factor]
        head_channels = self.splits[0] // heads
        # Multiplying the queries by sqrt(c_head / c) turns the 1 / sqrt(c_head) of the attention kernels into
        # 1 / sqrt(c) (also for the relative encodings, which take the queries: the official code scales q too).
        self.query_scale = math.sqrt(head_channels / key_scale_channels) if key_scale_channels else 1.0
        self.qkv: nn.Module
        if stride == 1 and self.kernel == 1:
            self.qkv = nn.Linear(in_channels, sum(self.splits))
        else:
            self.qkv = nn.Conv2d(in_channels, sum(self.splits), (self.kernel, 1), stride=(stride, 1))
        self.merge = nn.Linear(value_channels * width_factor, value_channels)  # W_o
        self.drop = DropAttention(drop_attention)
        self.relative = relative

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Queries, keys and values ``(N, T', V, 2 d_k + d_v)``."""
        if isinstance(self.qkv, nn.Linear):
            qkv = self.qkv(x)
        else:
            frames = x.shape[1]  # pad the frames at the end so that T' = ceil(T / stride)
            pad = max(0, (math.ceil(frames / self.stride) - 1) * self.stride + self.kernel - frames)
            channels_first = F.pad(rearrange(x, "n t v c -> n c t v"), (0, 0, 0, pad))
            qkv = rearrange(self.qkv(channels_first), "n c t v -> n t v c")
        if self.query_scale != 1.0:
            query, rest = qkv.split([self.splits[0], sum(self.splits[1:])], dim=-1)
            qkv = torch.cat([query * self.query_scale, rest], dim=-1)
        return qkv

    def forward(self, x: torch.Tensor, need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        batch, _, joints, _ = x.shape
        qkv = self.project(x)
        windowed = self.windows is not None or self.window_frames is not None
        plain = self.relative is None and not windowed and not self.drop.active
        if plain and not need_weights and not prefer_fused_attention(qkv):
            return self.merge(self._attend_per_head(qkv)), None
        pattern = "n t v (h d) -> (n t) h v d" if self.axis == "joints" else "n t v (h d) -> (n v) h t d"
        query, key, value = (rearrange(part, pattern, h=self.heads) for part in qkv.split(self.splits, dim=-1))
        length = query.shape[-2]
        if self.window_frames:
            window = min(self.window_frames, length)
        else:
            window = math.ceil(length / self.windows) if self.windows else length
        blocks = math.ceil(length / window)
        pad_keep = None
        if blocks > 1:
            pad = blocks * window - length
            query, key, value = (
                rearrange(F.pad(part, (0, 0, 0, pad)), "s h (b l) d -> (s b) h l d", b=blocks)
                for part in (query, key, value)
            )
            if pad:
                pad_keep = (torch.arange(blocks * window, device=x.device) < length).view(1, blocks, 1, 1, window)
                pad_keep = pad_keep.expand(query.shape[0] // blocks, -1, -1, -1, -1).flatten(0, 1)
        keep = self.drop.keep_mask(query.shape[0], self.heads, query.shape[-2], x.device)
        if pad_keep is not None and keep is None:
            keep = pad_keep
        elif pad_keep is not None:  # training: a row whose DropAttention kept only padding keeps every real frame
            kept = keep & pad_keep
            keep = torch.where(kept.any(-1, keepdim=True), kept, pad_keep)
        bias = self.relative(query) if self.relative is not None else None
        out, weights = attend(query, key, value, keep=keep, bias=bias, need_weights=need_weights)
        if blocks > 1:
            out = rearrange(out, "(s b) h l d -> s h (b l) d", b=blocks)[:, :, :length]
            if weights is not None:
                weights = _block_diagonal(rearrange(weights, "(s b) h l m -> s h b l m", b=blocks))[
                    ..., :length, :length
                ]
        if self.axis == "joints":
            out = rearrange(out, "(n t) h v d -> n t v (h d)", n=batch)
            weights = None if weights is None else rearrange(weights, "(n t) h l s -> n h t l s", n=batch)
        else:
            out = rearrange(out, "(n v) h t d -> n t v (h d)", v=joints)
            weights = None if weights is None else rearrange(weights, "(n v) h l s -> n h v l s", v=joints)
        return self.merge(out), weights

    def _attend_per_head(self, qkv: torch.Tensor) -> torch.Tensor:
        """Eq. 8 head by head on strided views of ``qkv`` ``(N, T', V, .)`` (:func:`attend_heads`): the CPU
        inference path, without relative encodings, windows or DropAttention."""
        query, key, value = qkv.split(self.splits, dim=-1)
        if self.axis == "joints":
            return attend_heads(query, key, value, self.heads)
        query, key, value = (part.transpose(1, 2) for part in (query, key, value))  # (N, V, T', .)
        return attend_heads(query, key, value, self.heads).transpose(1, 2)


def _block_diagonal(blocks: torch.Tensor) -> torch.Tensor:
    """``(S, H, B, L, L)`` -> ``(S, H, B L, B L)`` with the blocks on the diagonal."""
    count, window = blocks.shape[2], blocks.shape[3]
    full = blocks.new_zeros(*blocks.shape[:2], count * window, count * window)
    for index in range(count):
        span = slice(index * window, (index + 1) * window)
        full[..., span, span] = blocks[:, :, index]
    return full


class SpatialSelfAttention(nn.Module):
    """SSA module (journal section IV-A and IV-D, Eq. 5-6, 8; official ``gcn_unit_attention``).

    ``y = ReLU(BN(W_o MHA_joints(BN_in(x)) + x))``; the skip connection is present when ``C_in = C_out``.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out`` (= ``d_v``).
        num_joints: ``V`` (input batch norm is per joint and channel).
        heads: ``N_h``.
        key_factor: ``d_k / C_out`` (0.25).
        drop_attention: DropAttention probability (0.5 in the official code).
        relative: Add the relative positional encoding of :class:`SpatialRelativePosition`.

    Shape:
        x: ``(N, T, V, C_in)`` -> ``(N, T, V, C_out)``; weights ``(N, N_h, T, V, V)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_joints: int,
        heads: int = 8,
        key_factor: float = 0.25,
        drop_attention: float = 0.5,
        relative: bool = False,
    ) -> None:
        super().__init__()
        key_channels = int(out_channels * key_factor)
        encoding = SpatialRelativePosition(num_joints, key_channels // heads) if relative else None
        self.data_bn = nn.BatchNorm1d(in_channels * num_joints)
        self.attention = AxisSelfAttention(
            in_channels, key_channels, out_channels, heads, "joints", drop_attention=drop_attention, relative=encoding
        )
        self.skip = in_channels == out_channels
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        y, weights = self.attention(channels_last_batch_norm_1d(self.data_bn, x), need_weights=return_attention)
        if self.skip:
            y = y + x
        y = torch.relu(channels_last_norm(self.bn, y))
        return (y, weights) if return_attention and weights is not None else y


class TemporalSelfAttention(nn.Module):
    """TSA module (journal section IV-B and IV-D, Eq. 7-8; official ``tcn_unit_attention``/``_block``).

    ``y = ReLU(BN(W_o MHA_frames(BN_in(x)) + res(x)))`` with ``res`` the identity, or a strided 1x1 convolution
    + BN + ReLU when the width or the frame count changes.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out`` (= ``d_v``).
        num_joints: ``V``.
        stride: Temporal stride.
        heads: ``N_h``.
        key_factor: ``d_k / C_out`` (0.25).
        drop_attention: DropAttention probability.
        relative_frames: If set, add a :class:`TemporalRelativePosition` for sequences (windows) of at most this
            many frames (after the stride).
        windows: Split the frames into this many blocks (the paper's all-layers variant); ``None`` (and no
            ``window_frames``) attends over all frames.
        window_frames: Split the frames into blocks of this many frames (the official all-layers variant).
        kernel: Frames of the strided query/key/value kernel. Default: ``stride``, or 1 when ``num_joints`` is
            even, as the official code (``temporal_transformer.py`` line 79-86).

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
        key_factor: float = 0.25,
        drop_attention: float = 0.5,
        relative_frames: int | None = None,
        windows: int | None = None,
        window_frames: int | None = None,
        kernel: int | None = None,
    ) -> None:
        super().__init__()
        key_channels = int(out_channels * key_factor)
        encoding = TemporalRelativePosition(relative_frames, key_channels // heads) if relative_frames else None
        self.data_bn = nn.BatchNorm1d(in_channels * num_joints)
        if kernel is None:
            kernel = 1 if num_joints % 2 == 0 else stride
        self.attention = AxisSelfAttention(
            in_channels, key_channels, out_channels, heads, "frames", stride, drop_attention, encoding, 1, windows,
            window_frames, kernel,
        )  # fmt: skip
        self.residual: nn.Module | None = None
        if in_channels != out_channels or stride != 1:
            self.residual = TemporalConv(in_channels, out_channels, kernel_size=1, stride=stride)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        y, weights = self.attention(channels_last_batch_norm_1d(self.data_bn, x), need_weights=return_attention)
        y = y + (x if self.residual is None else self.residual(x))
        y = torch.relu(channels_last_norm(self.bn, y))
        return (y, weights) if return_attention and weights is not None else y
