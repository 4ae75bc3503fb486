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
"""

from __future__ import annotations

import torch
from torch import nn

from skeletal.models.prediction.common import MotionPredictor
from skeletal.models.registry import register_model
from skeletal.nn.joint_attention import AttentionNormalization, LayerNormalization, layer_norm
from skeletal.nn.outputs import AttentionMaps
from skeletal.nn.per_joint import PerJointFeedForward, PerJointLinear
from skeletal.nn.positional import SinusoidalPositionalEncoding
from skeletal.nn.spatiotemporal_attention import Full2DAttention, SpatialAttention, TemporalAttention
from skeletal.skeletons import Skeleton

PAPER = "Aksan et al. 2021, A Spatio-temporal Transformer for 3D Human Motion Prediction"


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
