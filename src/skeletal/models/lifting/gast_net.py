"""GAST-Net: graph attention spatio-temporal convolutional network for 2D-to-3D lifting.

Liu, Liang, Li, Guan, Rojas, "A Graph Attention Spatio-temporal Convolutional Network for 3D Human Pose
Estimation in Video" (ICRA 2021 / journal version; ../shared/papers/003 and 004), checked against the official
``model/gast_net.py`` (``SpatioTemporalModel`` and ``SpatioTemporalModelOptimized1f``).

Architecture (section III, Fig. 3), with ``C`` the base channels and ``k_i`` the filter widths:
batch norm on the raw 2D input; expanding ``k_0 x 1`` convolution to ``C``, BN, ReLU; a graph attention block
(``C -> 2C``); then for ``i >= 1`` a block of a dilated ``k_i x 1`` convolution (dilation ``3^i``) and a 1x1
convolution on ``2^i C`` channels, each with BN and ReLU, dropout and the cropped residual, followed by a graph
attention block (``2^i C -> 2^(i+1) C``); a 1x1 convolution to 3 coordinates per joint.

Deviations: 1x1 convolutions are ``nn.Linear`` on channels-last tensors and the ``k x 1`` convolutions are
:class:`~skeletal.nn.dilated_temporal.TemporalConv` (same parameters, different tensor shapes than the official
``Conv2d`` weights); the GAT concatenation is computed as a sum of two projections (identical function).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from skeletal.errors import ConfigError
from skeletal.models.lifting.temporal import TemporalLifter, TemporalStage, check_filter_widths, dilations
from skeletal.models.registry import register_model
from skeletal.nn.dilated_temporal import ChannelsLastBatchNorm
from skeletal.nn.graph_attention import GraphAttentionBlock
from skeletal.skeletons import Skeleton, get, kinematic_adjacency, symmetric_adjacency

PAPER = "Liu et al. 2020, GAST-Net (ICRA 2021; journal version), section III"

# Receptive field -> (filter widths, base channels), section IV-B of the conference paper / official README.
CONFIGURATIONS: dict[int, tuple[tuple[int, ...], int]] = {
    9: ((3, 3), 128),
    27: ((3, 3, 3), 128),
    81: ((3, 3, 3, 3), 64),
    243: ((3, 3, 3, 3, 3), 32),
}

# Parameter counts of the official implementation with 17 joints (task issue; paper: 6.92 M at RF 27).
OFFICIAL_PARAMETERS: dict[int, int] = {27: 6_915_984, 81: 7_054_612, 243: 7_091_736}

# Distal joints of the kinematic kernel where the official ``LocalGraph`` list differs from the tree's leaves:
# on HumanEva-I it leaves out the head (14), a leaf, so its row keeps first-order links.
OFFICIAL_DISTAL_JOINTS: dict[str, tuple[int, ...]] = {"humaneva15": (4, 7, 10, 13)}


class GASTNet(TemporalLifter):
    """GAST-Net (Liu et al. 2020, section III): temporal convolutions interleaved with graph attention blocks.

    Args:
        skeleton: Layout (or its name) of the input and output joints; gives the symmetric and kinematic
            kernels of the local graph (:func:`~skeletal.skeletons.symmetric_adjacency`,
            :func:`~skeletal.skeletons.kinematic_adjacency`).
        filter_widths: Odd widths ``k_i`` of the temporal convolutions; ``RF = prod(k_i)`` for widths of 3.
        channels: Base channels ``C`` (doubled by every graph attention block).
        dropout: Dropout probability (0.05 in the paper's Human3.6M training; the official default is 0.25).
        heads: Heads ``K`` of the global attention graph.
        causal: Causal residuals/padding (real-time use, section V).
        strided: Start in single-frame (training) mode; see :class:`TemporalLifter`.
        in_features: Input coordinates per joint (2).
        distal_joints: Rows of the kinematic kernel with second-order links; by default the official list for
            the layout (:data:`OFFICIAL_DISTAL_JOINTS`), else the leaves of the tree.

    Shape:
        - Input: ``(N, T, V, 2)``.
        - Output: ``(N, T - RF + 1, V, 3)``, or ``(N, 1, V, 3)`` in single-frame mode with ``T = RF``.
        - Attention (``return_attention=True``): ``AttentionMaps.spatial``, one ``(N, K, T_i, V, V)`` per graph
          attention block, ``B_k + C_k`` of Eq. 4.
    """

    name = "gast-net"

    def __init__(
        self,
        skeleton: Skeleton | str = "h36m17",
        filter_widths: Sequence[int] = (3, 3, 3),
        channels: int = 128,
        dropout: float = 0.05,
        heads: int = 4,
        causal: bool = False,
        strided: bool = False,
        in_features: int = 2,
        distal_joints: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(causal=causal, strided=strided)
        self.skeleton = get(skeleton)
        self.filter_widths = check_filter_widths(filter_widths)
        self.in_features = in_features
        if distal_joints is None:
            distal_joints = OFFICIAL_DISTAL_JOINTS.get(self.skeleton.name)
        symmetric = symmetric_adjacency(self.skeleton)
        kinematic = kinematic_adjacency(self.skeleton, distal=distal_joints)
        self.input_norm = ChannelsLastBatchNorm(in_features)
        stages = []
        for index, (width, dilation) in enumerate(zip(self.filter_widths, dilations(self.filter_widths))):
            width_in = in_features if index == 0 else 2**index * channels
            width_out = 2**index * channels
            block = GraphAttentionBlock(width_out, symmetric, kinematic, heads=heads, dropout=dropout)
            stages.append(
                TemporalStage(
                    width_in,
                    width_out,
                    width,
                    dilation,
                    residual=index > 0,
                    dropout=dropout,
                    conv_dropout=False,
                    spatial=block,
                    init="kaiming_normal" if index == 0 else "uniform",
                )
            )
        self.stages = nn.ModuleList(stages)
        self.head = nn.Linear(2 ** len(self.filter_widths) * channels, 3, bias=False)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Batch norm of the raw 2D input, per coordinate: ``(N, T, V, 2) -> (N, T, V, 2)``."""
        return self.input_norm(x)

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        """1x1 head: ``(N, T, V, C_L) -> (N, T, V, 3)``."""
        return self.head(features)


def gast_net(receptive_field: int = 27, skeleton: Skeleton | str = "h36m17", **kwargs: object) -> GASTNet:
    """GAST-Net of a given receptive field (9, 27, 81 or 243) with the paper's widths and channels.

    Args:
        receptive_field: 9, 27, 81 or 243 frames.
        skeleton: Layout or its name.
        **kwargs: Further :class:`GASTNet` arguments (``dropout``, ``causal``, ``strided``, ``channels``...).
    """
    if receptive_field not in CONFIGURATIONS:
        raise ConfigError(f"gast-net receptive field must be one of {sorted(CONFIGURATIONS)}, got {receptive_field}")
    widths, channels = CONFIGURATIONS[receptive_field]
    options: dict[str, object] = {"filter_widths": widths, "channels": channels}
    options.update(kwargs)
    return GASTNet(skeleton, **options)  # type: ignore[arg-type]


@register_model("gast-net", task="lifting", paper=PAPER, reference_parameters=OFFICIAL_PARAMETERS[27])
def gast_net_default(receptive_field: int = 27, **kwargs: object) -> GASTNet:
    """GAST-Net, receptive field 27 unless ``receptive_field=`` says otherwise."""
    return gast_net(receptive_field, **kwargs)  # type: ignore[arg-type]


@register_model("gast-net-9", task="lifting", paper=PAPER)
def gast_net_9(**kwargs: object) -> GASTNet:
    """GAST-Net, receptive field 9 (filter widths 3, 3; 128 channels)."""
    return gast_net(9, **kwargs)  # type: ignore[arg-type]


@register_model("gast-net-27", task="lifting", paper=PAPER, reference_parameters=OFFICIAL_PARAMETERS[27])
def gast_net_27(**kwargs: object) -> GASTNet:
    """GAST-Net, receptive field 27 (filter widths 3, 3, 3; 128 channels)."""
    return gast_net(27, **kwargs)  # type: ignore[arg-type]


@register_model("gast-net-81", task="lifting", paper=PAPER, reference_parameters=OFFICIAL_PARAMETERS[81])
def gast_net_81(**kwargs: object) -> GASTNet:
    """GAST-Net, receptive field 81 (filter widths 3, 3, 3, 3; 64 channels)."""
    return gast_net(81, **kwargs)  # type: ignore[arg-type]


@register_model("gast-net-243", task="lifting", paper=PAPER, reference_parameters=OFFICIAL_PARAMETERS[243])
def gast_net_243(**kwargs: object) -> GASTNet:
    """GAST-Net, receptive field 243 (filter widths 3, 3, 3, 3, 3; 32 channels)."""
    return gast_net(243, **kwargs)  # type: ignore[arg-type]
