"""The containers every reader returns, so that tasks, transforms and plots take one kind of object.

Arrays are numpy, channels-last, float32 (float64 where a reader needs the precision).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skeletal.skeletons import Skeleton


@dataclass
class Motion:
    """One person's 3D motion: local joint rotations and/or joint positions over time.

    Attributes:
        skeleton: The layout (joint count ``V``, parents, offsets).
        fps: Frames per second.
        positions: ``(T, V, 3)`` global joint positions, or ``None``. Units in ``units``.
        rotations: ``(T, V, 3, 3)`` local rotation matrices (each joint relative to its parent, column-vector
            convention ``x_parent = R @ x_child``), or ``None``.
        root_positions: ``(T, 3)`` root translation, or ``None``.
        units: Units of positions (``"m"``, ``"mm"``, ``"cm"``, ``"inch"``...).
        source: File the motion came from (for error messages).
        meta: Anything else the reader knows (subject, action, camera...).
    """

    skeleton: Skeleton
    fps: float
    positions: np.ndarray | None = None
    rotations: np.ndarray | None = None
    root_positions: np.ndarray | None = None
    units: str = "m"
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        """Number of frames ``T``."""
        array = self.positions if self.positions is not None else self.rotations
        return 0 if array is None else int(array.shape[0])


@dataclass
class Keypoints:
    """2D keypoints of one or several people over time, as a detector gives them.

    Attributes:
        skeleton: The layout of the joints (``coco17``, ``openpose18``...).
        points: ``(M, T, V, 2)`` pixel (or normalised, see ``normalized``) coordinates; NaN where a joint is
            missing.
        scores: ``(M, T, V)`` confidences in [0, 1]; 0 where a joint is missing.
        fps: Frames per second, if known.
        image_size: ``(width, height)`` in pixels, if known.
        normalized: True when ``points`` are screen-normalised (``x / w * 2 - [1, h / w]``).
        source: File the keypoints came from.
        meta: Labels and anything else the file carries.
    """

    skeleton: Skeleton
    points: np.ndarray
    scores: np.ndarray
    fps: float | None = None
    image_size: tuple[int, int] | None = None
    normalized: bool = False
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_people(self) -> int:
        """Number of tracks ``M``."""
        return int(self.points.shape[0])

    @property
    def num_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.points.shape[1])
