"""Scaled dot-product attention with softmax or sum normalisation, and the layer normalisations of the
ST-Transformer (Aksan et al., 2021, eq. 1).

Legend of axis names used in the einops patterns of the attention blocks: ``n`` batch, ``t``/``s`` query/key
frames, ``v``/``w`` query/key joints, ``h`` heads, ``c`` channels per head, ``d`` model channels.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from skeletal.errors import ConfigError

AttentionNormalization = Literal["softmax", "sum"]
LayerNormalization = Literal["feature", "sequence"]
ATTENTION_NORMALIZATIONS: tuple[str, ...] = ("softmax", "sum")
LAYER_NORMALIZATIONS: tuple[str, ...] = ("feature", "sequence")


def check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    """Raise :class:`ConfigError` naming the allowed values when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{what} must be one of {choices}, got {value!r}")


def attention_weights(
    scores: torch.Tensor, mask: torch.Tensor | None, normalization: AttentionNormalization
) -> torch.Tensor:
    """Turn scaled scores ``QK^T / sqrt(c)`` into attention weights ``A`` whose rows sum to 1 (eq. 1, ``tau``).

    Args:
        scores: ``(..., queries, keys)``.
        mask: Boolean ``(queries, keys)`` (broadcast), True where a key may be attended; None for no mask.
        normalization: ``"softmax"`` (``sigma`` in eq. 1) or ``"sum"`` (the paper's "w/o sigma" variant).
            For ``"sum"`` the scores are made non-negative with ``elu(s) + 1`` (positive, smooth and equal to
            ``s + 1`` for ``s > 0``; the kernel of linear attention, Katharopoulos et al. 2020), masked keys
            get exactly 0, and each row is divided by its sum. The paper only says "normalise by the sum of
            all attention scores similar to [38]"; [38] makes its scores non-negative with ReLU features,
            which can zero whole rows and stops their gradient, so ``elu + 1`` is used instead.

    Returns:
        Weights of the shape of ``scores``; masked entries are 0.
    """
    if normalization == "softmax":
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=-1)
    if normalization == "sum":
        positive = F.elu(scores) + 1.0
        if mask is not None:
            positive = positive.masked_fill(~mask, 0.0)
        return positive / positive.sum(dim=-1, keepdim=True)
    raise ConfigError(f"attention normalization must be one of {ATTENTION_NORMALIZATIONS}, got {normalization!r}")


def prefer_fused_attention(query: torch.Tensor) -> bool:
    """Whether :func:`torch.nn.functional.scaled_dot_product_attention` is the faster way to attend here.

    Its fused kernels win on accelerators and, through their memory-lean backward, in CPU training. In CPU
    inference at the head widths of these models (2 to 32 channels per head) the explicit ``softmax(QK^T) V``
    is faster: 2-3.5x on the ST-TR SSA and TSA shapes, 1.3x on ST-Transformer's attention
    (``benchmarks/speed_ratios.py``), since the CPU kernel re-checks every row for ``-inf`` and is tuned for
    wide heads. Both paths compute the same numbers (up to float rounding; tests compare them).
    """
    return query.device.type != "cpu" or (torch.is_grad_enabled() and query.requires_grad)


def fused_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """:func:`torch.nn.functional.scaled_dot_product_attention` on 4-D views of ``(..., L, c)`` inputs.

    PyTorch's fused CPU kernel (flash attention, forward and backward) only takes 4-D ``(N, H, L, c)``
    tensors; with any other rank it silently falls back to the unfused math path, whose masked-softmax
    backward made an ST-Transformer training step on Human3.6M shapes 3-4x slower
    (``benchmarks/bench_training.py``). The leading axes are folded into one batch axis and restored after.
    """
    lead = query.shape[:-2]
    if query.dim() == 4 or not (key.shape[:-2] == value.shape[:-2] == lead):
        return F.scaled_dot_product_attention(query, key, value, attn_mask=mask)
    q, k, v = (t.reshape(-1, *t.shape[-3:]) if t.dim() > 4 else t[(None,) * (4 - t.dim())] for t in (query, key, value))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask).reshape(*query.shape[:-1], value.shape[-1])


def scaled_dot_product(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None,
    normalization: AttentionNormalization = "softmax",
    need_weights: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``Attn(Q, K, V, M) = tau(QK^T / sqrt(c) + M) V`` (eq. 1) over the last two axes.

    The scale is ``1 / sqrt(c)`` with ``c = D / H`` the size of one head, as in the official code and in
    Vaswani et al. (eq. 1 of the ST-Transformer paper writes ``sqrt(D)``). With softmax and no weights
    requested, PyTorch's fused ``scaled_dot_product_attention`` computes the same thing, used where it is
    faster (:func:`prefer_fused_attention`).

    Args:
        query: ``(..., L, c)``.
        key: ``(..., S, c)``.
        value: ``(..., S, c)``.
        mask: Boolean ``(L, S)``, True where attention is allowed, or None.
        normalization: ``"softmax"`` or ``"sum"`` (see :func:`attention_weights`).
        need_weights: Also return the ``(..., L, S)`` weights.

    Returns:
        ``(output (..., L, c), weights or None)``.
    """
    if normalization == "softmax" and not need_weights and prefer_fused_attention(query):
        return fused_attention(query, key, value, mask), None
    scores = torch.matmul(query * (1.0 / math.sqrt(query.shape[-1])), key.transpose(-1, -2))
    weights = attention_weights(scores, mask, normalization)
    return torch.matmul(weights, value), (weights if need_weights else None)


def attend_heads(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    heads: int,
    mask: torch.Tensor | None = None,
    normalization: AttentionNormalization = "softmax",
) -> torch.Tensor:
    """Multi-head ``tau(QK^T / sqrt(c) + M) V`` head by head on channels-last views (the CPU inference path).

    The heads are read as strided slices of the last axis and written back in place, so none of the
    head-splitting copies of the batched form are made, and each head's scores are small enough to stay in the
    cache: 1.2-1.6x faster than the batched product on the CPU at these models' sizes
    (``benchmarks/speed_ratios.py``).

    Args:
        query: ``(..., L, H c)``.
        key: ``(..., S, H c)``.
        value: ``(..., S, H c_v)``.
        heads: ``H``.
        mask: Boolean ``(L, S)``, True where attention is allowed, or None.
        normalization: ``"softmax"`` or ``"sum"`` (see :func:`attention_weights`).

    Returns:
        ``(..., L, H c_v)``, the heads concatenated in order.
    """
    key_size, value_size = query.shape[-1] // heads, value.shape[-1] // heads
    scale = 1.0 / math.sqrt(key_size)
    output = query.new_empty(*query.shape[:-1], heads, value_size)
    for head in range(heads):
        part = slice(head * key_size, (head + 1) * key_size)
        scores = torch.matmul(query[..., part], key[..., part].transpose(-1, -2)).mul_(scale)
        weights = attention_weights(scores, mask, normalization)
        output[..., head, :] = torch.matmul(weights, value[..., head * value_size : (head + 1) * value_size])
    return output.flatten(-2)


def causal_mask(length: int, device: torch.device | None = None, keys: int | None = None) -> torch.Tensor:
    """Boolean causal mask: frame ``t`` may attend to frames ``0 .. t``.

    Args:
        length: Query frames ``T``.
        device: Device of the mask.
        keys: Key frames ``S >= T`` when the queries are the last ``T`` of ``S`` frames (a key/value cache holds
            the first ``S - T``); defaults to ``T``.

    Returns:
        ``(T, S)``, True where query ``t`` (frame ``S - T + t``) may attend to key ``s``.
    """
    keys = length if keys is None else keys
    return torch.ones(length, keys, dtype=torch.bool, device=device).tril(keys - length)


class KeyValueCache:
    """Keys and values of the frames already seen, for incremental causal attention (generation).

    Preallocated buffers of ``capacity`` frames along ``dim``; :meth:`append` writes the new frames' keys and
    values in place and returns views of all frames held. :meth:`drop_oldest` forgets frames from the front
    (a sliding window); the held frames are moved to the front of the buffer only when the buffer's end is
    reached, so a slide costs no copy in most steps.

    Args:
        keys: Keys of the first frames, ``(..., T, ..., C_k)`` with time on axis ``dim``.
        values: Their values, time on axis ``dim`` too.
        capacity: Frames the buffers hold (at least the largest window that will be attended).
        dim: The time axis.
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, capacity: int, dim: int) -> None:
        frames = keys.shape[dim]
        if capacity < frames:
            raise ConfigError(f"a key/value cache of {capacity} frames cannot hold {frames}")
        self.dim = dim
        self.capacity = capacity
        self.start = 0
        self.stop = 0
        self._keys = keys.new_empty(*keys.shape[:dim], capacity, *keys.shape[dim + 1 :])
        self._values = values.new_empty(*values.shape[:dim], capacity, *values.shape[dim + 1 :])
        self.append(keys, values)

    def __len__(self) -> int:
        return self.stop - self.start

    def append(self, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the keys and values of ``T`` new frames; returns ``(keys, values)`` of every frame held."""
        frames = keys.shape[self.dim]
        if self.stop + frames > self.capacity:
            self._compact(frames)
        self._keys.narrow(self.dim, self.stop, frames).copy_(keys)
        self._values.narrow(self.dim, self.stop, frames).copy_(values)
        self.stop += frames
        return self.keys, self.values

    @property
    def keys(self) -> torch.Tensor:
        return self._keys.narrow(self.dim, self.start, len(self))

    @property
    def values(self) -> torch.Tensor:
        return self._values.narrow(self.dim, self.start, len(self))

    def drop_oldest(self, frames: int = 1) -> None:
        """Forget the ``frames`` oldest frames."""
        self.start = min(self.start + frames, self.stop)

    def _compact(self, incoming: int) -> None:
        held = len(self)
        if held + incoming > self.capacity:
            raise ConfigError(f"a key/value cache of {self.capacity} frames cannot hold {held + incoming}")
        for buffer in (self._keys, self._values):
            kept = buffer.narrow(self.dim, self.start, held)
            if self.start >= held:  # disjoint source and target
                buffer.narrow(self.dim, 0, held).copy_(kept)
            else:
                buffer.narrow(self.dim, 0, held).copy_(kept.clone())
        self.start, self.stop = 0, held


class SequenceLayerNorm(nn.Module):
    """Layer normalisation of the official ST-Transformer: statistics over all axes but the batch.

    ``tf.contrib.layers.layer_norm`` with its defaults (``begin_norm_axis=1``) normalises each sample over
    time, joints and features together, with a gain and bias per feature. Future frames then change the
    statistics used for past frames, so the model is NOT causal in this mode (kept to reproduce the paper).

    Args:
        dim: Feature size ``D`` (size of the gain and bias).
        eps: Added to the variance.

    Shape:
        - Input: ``(N, ..., D)``.
        - Output: same shape.
    """

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        axes = tuple(range(1, x.dim()))
        variance, mean = torch.var_mean(x, dim=axes, keepdim=True, unbiased=False)
        return (x - mean) * torch.rsqrt(variance + self.eps) * self.weight + self.bias


def layer_norm(dim: int, normalization: LayerNormalization) -> nn.Module:
    """The normalisation of one residual branch.

    Args:
        dim: Feature size ``D``.
        normalization: ``"feature"`` (``nn.LayerNorm`` over the last axis: each joint of each frame on its own,
            strictly causal, the default) or ``"sequence"`` (:class:`SequenceLayerNorm`, the official code's).

    Returns:
        The module; both have ``2 D`` parameters, so parameter counts do not depend on the choice.
    """
    check_choice(normalization, LAYER_NORMALIZATIONS, "layer normalization")
    if normalization == "feature":
        return nn.LayerNorm(dim, eps=1e-6)
    return SequenceLayerNorm(dim)


class IncrementalState:
    """What a causal attention model keeps between the steps of an incremental rollout.

    Attributes:
        caches: One :class:`KeyValueCache` per attention layer, in order.
        position: Position index (in the positional encoding) of the next frame to be fed.
    """

    def __init__(self) -> None:
        self.caches: list[KeyValueCache] = []
        self.position = 0

    def __len__(self) -> int:
        """Frames whose keys and values are held."""
        return len(self.caches[0]) if self.caches else 0

    def drop_oldest(self, frames: int = 1) -> None:
        """Forget the oldest frames in every layer (the approximate sliding window)."""
        for cache in self.caches:
            cache.drop_oldest(frames)

    def attend(
        self,
        layer: int,
        keys: torch.Tensor,
        values: torch.Tensor,
        capacity: int,
        dim: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Append the new frames' keys and values to layer ``layer``'s cache (made on the first call) and
        return the keys and values of every frame held there."""
        if layer == len(self.caches):
            self.caches.append(KeyValueCache(keys, values, capacity, dim))
            return self.caches[layer].keys, self.caches[layer].values
        return self.caches[layer].append(keys, values)
