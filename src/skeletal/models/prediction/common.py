"""What every motion-prediction model shares: the skeleton, the rotation representation, the uniform API.

Every prediction model maps a window of poses ``(N, T, V, F)`` (channels-last, ``F`` the size of one joint's
rotation) to ``(N, T, V, F)`` where ``output[:, t]`` predicts frame ``t + 1`` from frames ``0 .. t``
(the autoregressive setup of the ST-Transformer paper, section 3.3). :func:`skeletal.inference.generation.generate`
rolls any of them out.
"""

from __future__ import annotations

import torch
from torch import nn

from skeletal.errors import ConfigError
from skeletal.geometry import rotation_size
from skeletal.nn.validate import check_input
from skeletal.skeletons import Skeleton
from skeletal.skeletons import get as get_skeleton

REPRESENTATIONS: tuple[str, ...] = ("matrix", "quaternion", "axis_angle", "rotation_6d")


def joint_feature_size(representation: str) -> int:
    """Size ``F`` of one joint's parameters: 9 (matrix), 4 (quaternion), 3 (axis-angle), 6 (6D).

    Delegates to :func:`skeletal.geometry.rotation_size`, the single source of these sizes.
    """
    if representation not in REPRESENTATIONS:
        raise ConfigError(f"rotation representation must be one of {REPRESENTATIONS}, got {representation!r}")

    return int(rotation_size(representation))


class MotionPredictor(nn.Module):
    """Base class: holds the skeleton and representation and validates inputs.

    Args:
        skeleton: Layout (or its registry name) whose joint count ``V`` the inputs must have.
        representation: One of :data:`REPRESENTATIONS`.
        window: Training window in frames; the default sliding window of generation is the seed length.

    Attributes:
        num_joints: ``V``.
        joint_features: ``F``.
    """

    def __init__(self, skeleton: Skeleton | str, representation: str = "matrix", window: int = 120) -> None:
        super().__init__()
        self.skeleton = get_skeleton(skeleton)
        self.representation = representation
        self.num_joints = self.skeleton.num_joints
        self.joint_features = joint_feature_size(representation)
        if window < 1:
            raise ConfigError(f"window must be a positive number of frames, got {window}")
        self.window = window

    def check(self, x: torch.Tensor) -> None:
        """Raise a :class:`~skeletal.errors.ShapeError`/``LayoutError`` unless ``x`` is ``(N, T, V, F)``."""
        check_input(
            x,
            ("N", "T", "V", "C"),
            skeleton=self.skeleton,
            channels=self.joint_features,
            what=f"input of {type(self).__name__} ({self.representation})",
        )
