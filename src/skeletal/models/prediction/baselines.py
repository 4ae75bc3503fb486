"""Baselines of the ST-Transformer paper (table 1, fig. 4): zero-velocity and the vanilla 1D Transformer.

Both follow the uniform prediction API: ``(N, T, V, F) -> (N, T, V, F)`` with ``output[:, t]`` the prediction
of frame ``t + 1``. The Transformer caches the keys and values of past frames for incremental generation
(:meth:`PoseTransformer.forward_cached`), as the ST-Transformer does.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from skeletal.errors import ConfigError
from skeletal.models.prediction.common import MotionPredictor
from skeletal.models.prediction.st_transformer import begin_cached, run_cached_layers
from skeletal.models.registry import register_model
from skeletal.nn.joint_attention import (
    ATTENTION_NORMALIZATIONS,
    AttentionNormalization,
    IncrementalState,
    LayerNormalization,
    attend_heads,
    causal_mask,
    check_choice,
    layer_norm,
    scaled_dot_product,
)
from skeletal.nn.outputs import AttentionMaps
from skeletal.nn.positional import SinusoidalPositionalEncoding
from skeletal.skeletons import Skeleton


class ZeroVelocity(MotionPredictor):
    """Predicts that nothing moves: the next pose is the current one (Martinez et al. 2017, section 4).

    No parameters; works with :func:`skeletal.inference.generation.generate` like any model, where it repeats
    the last seed frame.

    Args:
        skeleton: Layout (or registry name).
        representation: Rotation representation of the poses.

    Shape:
        ``(N, T, V, F) -> (N, T, V, F)``, the output equals the input.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check(x)
        return x.clone()


class PoseSelfAttention(nn.Module):
    """Causal multi-head self-attention over whole-pose tokens ``(N, T, D)`` (Vaswani et al. 2017, eq. 1-2).

    Query, key and value projections have no bias and the output projection has one, as in the official
    ``vanilla.py`` baseline.

    Shape:
        ``(N, T, D) -> (N, T, D)``; weights ``(N, H, T, T)`` when requested.
    """

    def __init__(self, model_dim: int, num_heads: int, normalization: AttentionNormalization = "softmax") -> None:
        super().__init__()
        if model_dim % num_heads != 0:
            raise ConfigError(f"embedding size D={model_dim} must be divisible by the number of heads H={num_heads}")
        check_choice(normalization, ATTENTION_NORMALIZATIONS, "attention normalization")
        self.num_heads = num_heads
        self.normalization = normalization
        self.qkv = nn.Linear(model_dim, 3 * model_dim, bias=False)
        self.out = nn.Linear(model_dim, model_dim)

    def forward(self, x: torch.Tensor, need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        q, k, v = rearrange(self.qkv(x), "n t (three h c) -> three n h t c", three=3, h=self.num_heads)
        y, weights = scaled_dot_product(q, k, v, causal_mask(x.shape[1], x.device), self.normalization, need_weights)
        return self.out(rearrange(y, "n h t c -> n t (h c)")), weights

    def forward_cached(self, x: torch.Tensor, state: IncrementalState, layer: int, capacity: int) -> torch.Tensor:
        """Attention of ``T`` new tokens ``(N, T, D)`` over the tokens cached in ``state`` and themselves."""
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        keys, values = state.attend(layer, k, v, capacity, dim=1)
        mask = None if x.shape[1] == 1 else causal_mask(x.shape[1], x.device, keys=keys.shape[1])
        return self.out(attend_heads(q, keys, values, self.num_heads, mask, self.normalization))


class PoseTransformerLayer(nn.Module):
    """Post-norm decoder layer without cross-attention: ``u = norm(x + drop(attn(x)))``,
    ``y = norm(u + drop(ffn(u)))``."""

    def __init__(
        self,
        model_dim: int,
        num_heads: int,
        feedforward_dim: int,
        dropout: float,
        attention: AttentionNormalization,
        normalization: LayerNormalization,
    ) -> None:
        super().__init__()
        self.attention = PoseSelfAttention(model_dim, num_heads, attention)
        self.attention_norm = layer_norm(model_dim, normalization)
        self.feedforward = nn.Sequential(
            nn.Linear(model_dim, feedforward_dim), nn.ReLU(), nn.Linear(feedforward_dim, model_dim)
        )
        self.feedforward_norm = layer_norm(model_dim, normalization)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, weights = self.attention(x, need_weights)
        mixed = self.attention_norm(x + self.dropout(attended))
        return self.feedforward_norm(mixed + self.dropout(self.feedforward(mixed))), weights

    def forward_cached(self, x: torch.Tensor, state: IncrementalState, index: int, capacity: int) -> torch.Tensor:
        """:meth:`forward` of new tokens after those cached in ``state`` (eval mode, causal normalisation)."""
        mixed = self.attention_norm(x + self.attention.forward_cached(x, state, index, capacity))
        return self.feedforward_norm(mixed + self.feedforward(mixed))


class PoseTransformer(MotionPredictor):
    """Vanilla 1D Transformer over whole pose vectors (the "Transformer" baseline of table 1).

    Each frame's pose ``(V F)`` is one token: linear embedding to ``D``, sinusoidal positions, dropout,
    ``L`` causal self-attention layers, a linear map back to ``V F`` and a residual from the input pose; the
    same autoregressive next-frame setup as the ST-Transformer. The paper gives no sizes for it; the defaults
    (L=8, H=8, D=256, FFN 512) are chosen so that its width is comparable with the ST-Transformer's.

    Args:
        skeleton: Layout (or registry name).
        representation: Rotation representation.
        num_layers: ``L``.
        num_heads: ``H``.
        model_dim: ``D``.
        feedforward_dim: Hidden size of the feed-forward networks.
        dropout: Dropout rate.
        window: Training window in frames.
        attention: ``"softmax"`` or ``"sum"``.
        normalization: ``"feature"`` (causal, default) or ``"sequence"`` (official, over time and features).

    Shape:
        ``(N, T, V, F) -> (N, T, V, F)``; attention maps ``(N, H, 1, T, T)`` in ``AttentionMaps.temporal``
        (a single "joint": the whole pose).
    """

    def __init__(
        self,
        skeleton: Skeleton | str,
        representation: str = "matrix",
        num_layers: int = 8,
        num_heads: int = 8,
        model_dim: int = 256,
        feedforward_dim: int = 512,
        dropout: float = 0.1,
        window: int = 120,
        attention: AttentionNormalization = "softmax",
        normalization: LayerNormalization = "feature",
    ) -> None:
        super().__init__(skeleton, representation, window)
        self.normalization = normalization
        pose_size = self.num_joints * self.joint_features
        self.embedding = nn.Linear(pose_size, model_dim)
        self.positional = SinusoidalPositionalEncoding(model_dim, window)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            PoseTransformerLayer(model_dim, num_heads, feedforward_dim, dropout, attention, normalization)
            for _ in range(num_layers)
        )
        self.head = nn.Linear(model_dim, pose_size)

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, AttentionMaps]:
        self.check(x)
        maps = AttentionMaps() if return_attention else None
        hidden = self.dropout(self.positional(self.embedding(rearrange(x, "n t v f -> n t (v f)"))))
        for index, layer in enumerate(self.layers):
            hidden, weights = layer(hidden, need_weights=return_attention)
            if maps is not None and weights is not None:
                maps.add("temporal", f"layers.{index}", weights.unsqueeze(2))
        output = x + rearrange(self.head(hidden), "n t (v f) -> n t v f", v=self.num_joints)
        if maps is not None:
            return output, maps
        return output

    @property
    def supports_cache(self) -> bool:
        """Whether :meth:`forward_cached` is exact (only with the causal ``"feature"`` normalisation)."""
        return self.normalization == "feature"

    def forward_cached(
        self, x: torch.Tensor, state: IncrementalState | None = None, capacity: int | None = None
    ) -> tuple[torch.Tensor, IncrementalState]:
        """Predictions for ``T`` new frames after those in ``state``, reusing their cached keys and values; see
        :meth:`skeletal.models.prediction.st_transformer.STTransformer.forward_cached` (same contract)."""
        state, capacity, positions = begin_cached(self, x, state, capacity)
        hidden = self.embedding(rearrange(x, "n t v f -> n t (v f)")) + positions
        hidden = run_cached_layers(self.layers, hidden, state, capacity)
        return x + rearrange(self.head(hidden), "n t (v f) -> n t v f", v=self.num_joints), state


@register_model("zero-velocity", "prediction", "zero-velocity baseline (Martinez et al. 2017)")
def zero_velocity(skeleton: Skeleton | str = "amass15", representation: str = "matrix", window: int = 120) -> nn.Module:
    """Repeats the last observed pose; no parameters."""
    return ZeroVelocity(skeleton, representation, window)


@register_model("transformer", "prediction", "vanilla 1D Transformer baseline of the ST-Transformer paper, table 1")
def transformer(skeleton: Skeleton | str = "amass15", representation: str = "matrix", **config: object) -> nn.Module:
    """Vanilla causal Transformer over pose vectors (L=8, H=8, D=256, FFN 512 unless overridden)."""
    return PoseTransformer(skeleton, representation, **config)  # type: ignore[arg-type]
