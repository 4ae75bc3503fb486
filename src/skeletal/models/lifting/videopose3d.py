"""VideoPose3D: the temporal convolution lifting network of Pavllo et al. (CVPR 2019), GAST-Net's baseline.

Pavllo, Feichtenhofer, Grangier, Auli, "3D human pose estimation in video with temporal convolutions and
semi-supervised training", section 3 and Fig. 2; official ``common/model.py`` (``TemporalModel`` for whole
sequences, ``TemporalModelOptimized1f`` for single-frame training; their weights are interchangeable, here they
are one module with a ``strided`` switch).

The 2D keypoints of all joints are flattened into ``2V`` channels; an expanding ``k_0``-tap convolution to
``C = 1024`` channels with BN, ReLU and dropout; then blocks of a dilated ``k_i``-tap convolution (dilation
``3^i``) and a 1x1 convolution, each with BN, ReLU and dropout, and a cropped residual; a 1x1 convolution (with
bias) to ``3V`` outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from einops import rearrange
from torch import nn

from skeletal.errors import ConfigError
from skeletal.models.lifting.temporal import TemporalLifter, TemporalStage, check_filter_widths, dilations
from skeletal.models.registry import register_model
from skeletal.skeletons import Skeleton, get

PAPER = "Pavllo et al. 2019, VideoPose3D temporal convolutions (baseline of GAST-Net)"

# Parameter counts of the official TemporalModel, 17 joints, 1024 channels (8.56 M / 12.75 M / 16.95 M).
OFFICIAL_PARAMETERS: dict[int, int] = {27: 8_555_571, 81: 12_753_971, 243: 16_952_371}


class VideoPose3D(TemporalLifter):
    """Temporal convolution network of Pavllo et al. 2019 (section 3).

    Args:
        skeleton: Layout (or its name) of the input and output joints.
        filter_widths: Odd widths ``k_i``; ``(3, 3, 3)`` gives RF 27, five 3s RF 243.
        channels: Convolution channels (1024).
        dropout: Dropout probability (0.25 in the official code).
        causal: Causal residuals/padding.
        strided: Start in single-frame (training) mode; see :class:`TemporalLifter`.
        in_features: Input coordinates per joint (2).

    Shape:
        - Input: ``(N, T, V, 2)``.
        - Output: ``(N, T - RF + 1, V, 3)``, or ``(N, 1, V, 3)`` in single-frame mode with ``T = RF``.
    """

    name = "videopose3d"

    def __init__(
        self,
        skeleton: Skeleton | str = "h36m17",
        filter_widths: Sequence[int] = (3, 3, 3),
        channels: int = 1024,
        dropout: float = 0.25,
        causal: bool = False,
        strided: bool = False,
        in_features: int = 2,
    ) -> None:
        super().__init__(causal=causal, strided=strided)
        self.skeleton = get(skeleton)
        self.filter_widths = check_filter_widths(filter_widths)
        self.in_features = in_features
        joints = self.skeleton.num_joints
        self.stages = nn.ModuleList(
            TemporalStage(
                joints * in_features if index == 0 else channels,
                channels,
                width,
                dilation,
                residual=index > 0,
                dropout=dropout,
                conv_dropout=True,
            )
            for index, (width, dilation) in enumerate(zip(self.filter_widths, dilations(self.filter_widths)))
        )
        self.head = nn.Linear(channels, joints * 3)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Flatten the joints into channels: ``(N, T, V, 2) -> (N, T, 2V)``."""
        return rearrange(x, "n t v c -> n t (v c)")

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        """1x1 head: ``(N, T, C) -> (N, T, V, 3)``."""
        return rearrange(self.head(features), "n t (v c) -> n t v c", c=3)


def videopose3d(receptive_field: int = 27, skeleton: Skeleton | str = "h36m17", **kwargs: object) -> VideoPose3D:
    """VideoPose3D with filter widths of 3 for a receptive field that is a power of 3 (3 .. 729)."""
    depth = {3**i: i for i in range(1, 7)}.get(receptive_field)
    if depth is None:
        raise ConfigError(f"videopose3d receptive field must be a power of 3 from 3 to 729, got {receptive_field}")
    options: dict[str, object] = {"filter_widths": (3,) * depth}
    options.update(kwargs)
    return VideoPose3D(skeleton, **options)  # type: ignore[arg-type]


@register_model("videopose3d", task="lifting", paper=PAPER, reference_parameters=OFFICIAL_PARAMETERS[27])
def videopose3d_default(receptive_field: int = 27, **kwargs: object) -> VideoPose3D:
    """VideoPose3D, receptive field 27 unless ``receptive_field=`` says otherwise."""
    return videopose3d(receptive_field, **kwargs)  # type: ignore[arg-type]


@register_model("videopose3d-27", task="lifting", paper=PAPER, reference_parameters=OFFICIAL_PARAMETERS[27])
def videopose3d_27(**kwargs: object) -> VideoPose3D:
    """VideoPose3D, receptive field 27 (filter widths 3, 3, 3)."""
    return videopose3d(27, **kwargs)  # type: ignore[arg-type]


@register_model("videopose3d-81", task="lifting", paper=PAPER, reference_parameters=OFFICIAL_PARAMETERS[81])
def videopose3d_81(**kwargs: object) -> VideoPose3D:
    """VideoPose3D, receptive field 81 (filter widths 3, 3, 3, 3)."""
    return videopose3d(81, **kwargs)  # type: ignore[arg-type]


@register_model("videopose3d-243", task="lifting", paper=PAPER, reference_parameters=OFFICIAL_PARAMETERS[243])
def videopose3d_243(**kwargs: object) -> VideoPose3D:
    """VideoPose3D, receptive field 243 (filter widths 3, 3, 3, 3, 3)."""
    return videopose3d(243, **kwargs)  # type: ignore[arg-type]
