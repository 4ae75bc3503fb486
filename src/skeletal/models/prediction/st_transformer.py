"""The Spatio-temporal Transformer (Aksan, Kaufmann, Cao, Hilliges: "A Spatio-temporal Transformer for 3D Human
Motion Prediction", 3DV 2021), section 3.2 and supplement A-B, and its 2D-attention ablation (section 4.3).

Deliberate choices, compared with the paper and the official TensorFlow code (``eth-ait/motion-transformer``):

- Normalisation. The official code normalises each residual branch over time, joints and features together
  (``tf.contrib.layers.layer_norm``), so future frames change the outputs for past frames: the training loss
  then sees the future. The default here, ``normalization="feature"``, normalises each joint of each frame
  over its features only, which keeps the model strictly causal (``output[:, t]`` depends on frames
  ``0 .. t`` only; a test checks it). ``normalization="sequence"`` reproduces the official behaviour.
- Attention scale ``1 / sqrt(D / H)`` (official code; eq. 1 writes ``sqrt(D)``).
- ``attention="sum"`` is the "w/o sigma" variant; see :func:`skeletal.nn.joint_attention.attention_weights`
  for how scores are made non-negative (``elu + 1``).
- Parameter layout matches the official code, so the AMASS preset has exactly its 18,256,647 parameters.

Incremental generation (:meth:`STTransformer.forward_cached`): with the causal ``"feature"`` normalisation,
frame ``t``'s hidden states depend on frames ``0 .. t`` only, so while the context of a rollout grows (the
official ``sample`` rule, :mod:`skeletal.inference.incremental`) the keys and values of the temporal (or full 2D)
attention of the frames already seen are cached and each new frame costs one frame's forward pass plus its
attention over the cache. The spatial attention, the feed-forward networks and the norms act on each frame
alone. Outputs equal :meth:`STTransformer.forward` up to float rounding (tests: 1e-5).
"""

from __future__ import annotations

from typing import Protocol, cast

import torch
from torch import nn

from skeletal.errors import ConfigError
from skeletal.models.prediction.common import MotionPredictor
from skeletal.models.registry import register_model
from skeletal.nn.joint_attention import (
    AttentionNormalization,
    IncrementalState,
    LayerNormalization,
    attend_heads,
    causal_mask,
    layer_norm,
)
from skeletal.nn.outputs import AttentionMaps
from skeletal.nn.per_joint import PerJointFeedForward, PerJointLinear
from skeletal.nn.positional import SinusoidalPositionalEncoding, sinusoidal_encoding
from skeletal.nn.spatiotemporal_attention import Full2DAttention, SpatialAttention, TemporalAttention
from skeletal.skeletons import Skeleton

PAPER = "Aksan et al. 2021, A Spatio-temporal Transformer for 3D Human Motion Prediction"


def encoding_rows(positional: SinusoidalPositionalEncoding, start: int, stop: int, dtype: torch.dtype) -> torch.Tensor:
    """Rows ``start .. stop - 1`` of the sinusoidal table that ``positional`` adds (``(stop - start, D)``), the
    same values it adds to frames at those positions in a full forward pass."""
    table = positional.table
    if stop > table.shape[0]:
        table = sinusoidal_encoding(stop, positional.dim).to(table.device)
    return table[start:stop].to(dtype)


class CachedLayer(Protocol):
    """A layer with ``forward_cached(x, state, index, capacity)`` (one step of incremental generation)."""

    def forward_cached(self, x: torch.Tensor, state: IncrementalState, index: int, capacity: int) -> torch.Tensor: ...


def begin_cached(
    model: MotionPredictor, x: torch.Tensor, state: IncrementalState | None, capacity: int | None
) -> tuple[IncrementalState, int, torch.Tensor]:
    """Checks and set-up shared by the models' ``forward_cached``: the input, the state (new if None), the cache
    capacity (default ``model.window``, at least ``T``) and the ``(T, D)`` positional rows of the new frames.

    Raises:
        ConfigError: ``model.supports_cache`` is False (non-causal normalisation) or the model is training.
    """
    model.check(x)
    if not getattr(model, "supports_cache", False) or model.training:
        raise ConfigError(
            "forward_cached needs an eval-mode model with the causal 'feature' normalisation, got "
            f"normalization={getattr(model, 'normalization', None)!r}, training={model.training}"
        )
    state = IncrementalState() if state is None else state
    positional = model.positional
    if not isinstance(positional, SinusoidalPositionalEncoding):
        raise ConfigError(f"{type(model).__name__} has no sinusoidal positional encoding to cache with")
    positions = encoding_rows(positional, state.position, state.position + x.shape[1], x.dtype)
    return state, max(capacity or model.window, x.shape[1]), positions


def run_cached_layers(
    layers: nn.ModuleList, hidden: torch.Tensor, state: IncrementalState, capacity: int
) -> torch.Tensor:
    """Run ``layers`` (each a :class:`CachedLayer`) on the new frames' embeddings ``(N, T, ...)``, advancing the
    state's position by ``T``."""
    for index, layer in enumerate(layers):
        hidden = cast(CachedLayer, layer).forward_cached(hidden, state, index, capacity)
    state.position += hidden.shape[1]
    return hidden


def _cached_temporal(
    block: TemporalAttention, x: torch.Tensor, state: IncrementalState, layer: int, capacity: int
) -> torch.Tensor:
    """:class:`TemporalAttention` of ``T`` new frames over the cached frames and themselves (causal)."""
    q, k, v = (part.transpose(1, 2) for part in block.qkv(x).chunk(3, dim=-1))  # (N, V, T, D)
    keys, values = state.attend(layer, k, v, capacity, dim=2)
    frames = x.shape[1]
    mask = None if frames == 1 else causal_mask(frames, x.device, keys=keys.shape[2])
    y = attend_heads(q, keys, values, block.num_heads, mask, block.normalization)
    return block.out(y.transpose(1, 2))


def _cached_full_2d(
    block: Full2DAttention, x: torch.Tensor, state: IncrementalState, layer: int, capacity: int
) -> torch.Tensor:
    """:class:`Full2DAttention` of ``T`` new frames: every joint over all joints of the cached and new frames up to
    its own frame."""
    frames, joints = x.shape[1], x.shape[2]
    k, v = block.key_value(x).chunk(2, dim=-1)  # (N, T, V, D) each
    keys, values = state.attend(layer, k, v, capacity, dim=1)
    key_frames = keys.shape[1]
    mask = None
    if frames > 1:
        frame_mask = causal_mask(frames, x.device, keys=key_frames)
        mask = frame_mask.repeat_interleave(joints, dim=0).repeat_interleave(joints, dim=1)
    y = attend_heads(
        block.query(x).flatten(1, 2),
        keys.flatten(1, 2),
        values.flatten(1, 2),
        block.num_heads,
        mask,
        block.normalization,
    )
    return block.out(y.unflatten(1, (frames, joints)))


class SpatioTemporalLayer(nn.Module):
    """One attention layer (section 3.2, "Aggregation"): temporal and spatial blocks in parallel, summed, then a
    per-joint two-layer feed-forward network.

    ``a = norm_t(x + drop(temporal(x)))``, ``b = norm_s(x + drop(spatial(x)))``, ``u = a + b``,
    ``y = norm_f(u + drop(ffn(u)))``.

    Args:
        num_joints: ``V``.
        model_dim: ``D``.
        num_heads: ``H``.
        feedforward_dim: Hidden size of the feed-forward network.
        dropout: Dropout rate of each branch.
        attention: ``"softmax"`` or ``"sum"``.
        normalization: ``"feature"`` (causal) or ``"sequence"`` (official).
        full_2d: Replace the two blocks by one :class:`~skeletal.nn.spatiotemporal_attention.Full2DAttention`
            (the section 4.3 ablation; the spatial branch is then absent, as in the official baseline).

    Shape:
        ``(N, T, V, D) -> (N, T, V, D)``.
    """

    def __init__(
        self,
        num_joints: int,
        model_dim: int,
        num_heads: int,
        feedforward_dim: int,
        dropout: float,
        attention: AttentionNormalization = "softmax",
        normalization: LayerNormalization = "feature",
        full_2d: bool = False,
    ) -> None:
        super().__init__()
        self.full_2d = full_2d
        block = Full2DAttention if full_2d else TemporalAttention
        self.temporal = block(num_joints, model_dim, num_heads, attention)
        self.temporal_norm = layer_norm(model_dim, normalization)
        self.spatial = None if full_2d else SpatialAttention(num_joints, model_dim, num_heads, attention)
        self.spatial_norm = None if full_2d else layer_norm(model_dim, normalization)
        self.feedforward = PerJointFeedForward(num_joints, model_dim, feedforward_dim)
        self.feedforward_norm = layer_norm(model_dim, normalization)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, maps: AttentionMaps | None = None, name: str = "layer") -> torch.Tensor:
        need = maps is not None
        temporal, temporal_weights = self.temporal(x, need_weights=need)
        mixed = self.temporal_norm(x + self.dropout(temporal))
        if self.spatial is not None and self.spatial_norm is not None:
            spatial, spatial_weights = self.spatial(x, need_weights=need)
            mixed = mixed + self.spatial_norm(x + self.dropout(spatial))
        else:
            spatial_weights = None
        if maps is not None and temporal_weights is not None:
            if self.full_2d:  # (N, H, T, V, S, W): marginals over key joints / key frames, rows still sum to 1
                maps.add("temporal", f"{name}.full_2d", temporal_weights.sum(dim=-1).permute(0, 1, 3, 2, 4))
                maps.add("spatial", f"{name}.full_2d", temporal_weights.sum(dim=-2))
            else:
                maps.add("temporal", f"{name}.temporal", temporal_weights)
        if maps is not None and spatial_weights is not None:
            maps.add("spatial", f"{name}.spatial", spatial_weights)
        return self.feedforward_norm(mixed + self.dropout(self.feedforward(mixed)))

    def forward_cached(self, x: torch.Tensor, state: IncrementalState, index: int, capacity: int) -> torch.Tensor:
        """:meth:`forward` of ``T`` new frames that follow the frames cached in ``state`` (layer ``index``).

        Only valid with the causal ``"feature"`` normalisation and in eval mode (no dropout).
        """
        if isinstance(self.temporal, Full2DAttention):
            temporal = _cached_full_2d(self.temporal, x, state, index, capacity)
        else:
            temporal = _cached_temporal(self.temporal, x, state, index, capacity)
        mixed = self.temporal_norm(x + temporal)
        if self.spatial is not None and self.spatial_norm is not None:
            mixed = mixed + self.spatial_norm(x + self.spatial(x)[0])
        return self.feedforward_norm(mixed + self.feedforward(mixed))


class STTransformer(MotionPredictor):
    """The ST-Transformer: per-joint embedding, sinusoidal positions, ``L`` spatio-temporal layers, per-joint
    output projection and a residual from the input pose (section 3.2, fig. 2).

    Args:
        skeleton: Layout (or registry name); ``V`` joints.
        representation: ``"matrix"`` (``F = 9``), ``"quaternion"``, ``"axis_angle"`` or ``"rotation_6d"``.
        num_layers: ``L``.
        num_heads: ``H``.
        model_dim: Joint embedding size ``D``.
        feedforward_dim: Hidden size of the feed-forward networks.
        dropout: Rate of every dropout layer (embedding and the three branches of each layer).
        window: Training window in frames (positions are precomputed for it; longer inputs still work).
        attention: ``"softmax"`` (default) or ``"sum"`` (the "w/o sigma" variant of table 1).
        normalization: ``"feature"`` (default, strictly causal) or ``"sequence"`` (official code, not causal).
        full_2d: Use full 2D attention instead of the decoupled blocks (``transformer-2d``).

    Shape:
        - Input: ``(N, T, V, F)`` poses.
        - Output: ``(N, T, V, F)``; ``output[:, t]`` is the prediction of frame ``t + 1`` (eq. 5 loss targets).
    """

    def __init__(
        self,
        skeleton: Skeleton | str,
        representation: str = "matrix",
        num_layers: int = 8,
        num_heads: int = 8,
        model_dim: int = 128,
        feedforward_dim: int = 256,
        dropout: float = 0.1,
        window: int = 120,
        attention: AttentionNormalization = "softmax",
        normalization: LayerNormalization = "feature",
        full_2d: bool = False,
    ) -> None:
        super().__init__(skeleton, representation, window)
        self.attention = attention
        self.normalization = normalization
        joints, features = self.num_joints, self.joint_features
        self.embedding = PerJointLinear(joints, features, model_dim)
        self.positional = SinusoidalPositionalEncoding(model_dim, window)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            SpatioTemporalLayer(
                joints, model_dim, num_heads, feedforward_dim, dropout, attention, normalization, full_2d
            )
            for _ in range(num_layers)
        )
        self.head = PerJointLinear(joints, model_dim, features)

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, AttentionMaps]:
        """Predict the next pose after every frame.

        Args:
            x: ``(N, T, V, F)`` poses.
            return_attention: Also return the attention weights of every layer.

        Returns:
            ``(N, T, V, F)`` predictions, and an :class:`~skeletal.nn.outputs.AttentionMaps` (temporal
            ``(N, H, V, T, T)``, spatial ``(N, H, T, V, V)`` per layer) when ``return_attention``.
        """
        self.check(x)
        maps = AttentionMaps() if return_attention else None
        hidden = self.dropout(self.positional(self.embedding(x)))
        for index, layer in enumerate(self.layers):
            hidden = layer(hidden, maps, name=f"layers.{index}")
        output = x + self.head(hidden)
        if maps is not None:
            return output, maps
        return output

    @property
    def supports_cache(self) -> bool:
        """Whether :meth:`forward_cached` is exact: only the causal ``"feature"`` normalisation lets past frames'
        hidden states ignore the frames that follow them (``"sequence"`` normalises over the whole window)."""
        return self.normalization == "feature"

    def forward_cached(
        self, x: torch.Tensor, state: IncrementalState | None = None, capacity: int | None = None
    ) -> tuple[torch.Tensor, IncrementalState]:
        """Next-pose predictions for ``T`` new frames that follow the frames already in ``state``.

        ``forward_cached(x[:, :k])`` then ``forward_cached(x[:, k:], state)`` give ``forward(x)`` split at ``k``
        (up to float rounding) at the cost of the new frames only: the keys and values of the temporal
        attention of earlier frames are read from ``state``. Eval mode and no gradients (generation).

        Args:
            x: ``(N, T, V, F)`` new poses; they take positions ``state.position .. state.position + T - 1``.
            state: The state returned by the previous call, or None to start a sequence at position 0.
            capacity: Frames the caches hold (the longest context to attend), at least ``T``; defaults to the
                model's ``window``. Only read when ``state`` is None.

        Returns:
            ``(N, T, V, F)`` predictions (``output[:, t]`` predicts the frame after ``x[:, t]``) and the state.

        Raises:
            ConfigError: the model uses the non-causal ``"sequence"`` normalisation, or is in training mode.
        """
        state, capacity, positions = begin_cached(self, x, state, capacity)
        hidden = self.embedding(x) + positions[:, None]
        return x + self.head(run_cached_layers(self.layers, hidden, state, capacity)), state


def _st(skeleton: Skeleton | str, representation: str, **config: object) -> STTransformer:
    return STTransformer(skeleton, representation, **config)  # type: ignore[arg-type]


@register_model("st-transformer", "prediction", PAPER + ", section 3.2 (AMASS sizes, table 4)")
def st_transformer(skeleton: Skeleton | str = "amass15", representation: str = "matrix", **config: object) -> nn.Module:
    """ST-Transformer with the AMASS hyper-parameters by default; every constructor argument can be overridden."""
    return _st(skeleton, representation, **config)


@register_model(
    "st-transformer-amass",
    "prediction",
    PAPER + ", supplement table 4 (AMASS): L=8, H=8, D=128, FFN 256, window 120",
    reference_parameters=18_256_647,
)
def st_transformer_amass(
    skeleton: Skeleton | str = "amass15", representation: str = "matrix", **config: object
) -> nn.Module:
    """AMASS preset: 15 joints x 9, L=8, H=8, D=128, FFN 256, dropout 0.1, window 120 (18,256,647 parameters,
    as the official ``pretrained_configs/1573450146-transformer2d``)."""
    preset: dict[str, object] = dict(
        num_layers=8, num_heads=8, model_dim=128, feedforward_dim=256, dropout=0.1, window=120
    )
    return _st(skeleton, representation, **{**preset, **config})


@register_model(
    "st-transformer-h36m",
    "prediction",
    PAPER + ", supplement table 4 (H3.6M): L=8, H=4, D=64, FFN 128, window 75",
)
def st_transformer_h36m(
    skeleton: Skeleton | str = "h36m32", representation: str = "matrix", **config: object
) -> nn.Module:
    """H3.6M preset of supplement table 4: L=8, H=4, D=64, FFN 128, dropout 0.1, window 75 (50 seed + 25).

    Differences from the official released H3.6M configuration (``1583249569.2-transformer2d_h36m``, 3,219,997
    parameters): it uses L=4 (not the 8 of table 4), 21 joints, and relative temporal position embeddings
    (101 x 16 keys and values, 3,232 parameters) with the absolute encoding added inside each temporal block
    instead of at the input. This preset follows table 4; with a 21-joint layout and ``num_layers=4`` it has
    3,216,765 parameters, the official count less the relative embeddings. The default layout is ``h36m32``
    (the 32 exp-map joints of the H3.6M motion-prediction files that ``skeletal.data.h36m`` reads).
    """
    preset: dict[str, object] = dict(
        num_layers=8, num_heads=4, model_dim=64, feedforward_dim=128, dropout=0.1, window=75
    )
    return _st(skeleton, representation, **{**preset, **config})


@register_model("transformer-2d", "prediction", PAPER + ", section 4.3 ablation: full 2D attention")
def transformer_2d(skeleton: Skeleton | str = "amass15", representation: str = "matrix", **config: object) -> nn.Module:
    """Section 4.3 / supplement E ablation: every joint attends to all joints of all past frames (and its own
    frame) in one attention; per-joint queries, shared keys/values, no separate spatial block. Defaults are the
    AMASS sizes; the memory grows as ``(T V)^2``, which is why the paper trades window and batch size for it."""
    preset: dict[str, object] = dict(
        num_layers=8, num_heads=8, model_dim=128, feedforward_dim=256, dropout=0.1, window=120
    )
    return _st(skeleton, representation, **{**preset, **config, "full_2d": True})
