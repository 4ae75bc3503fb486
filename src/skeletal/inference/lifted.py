"""The result of lifting (:class:`Lifted3D`: 3D poses with their 2D input, reliability masks and metadata; saved
as ``.npz``, animated as GIF or MP4) and the bone-length variation that measures its plausibility.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.errors import DataError
from skeletal.skeletons import Skeleton, get

CAMERA_FRAME = "camera frame: x right, y down (image rows), z forward (away from the camera)"


@dataclass
class Lifted3D:
    """3D poses lifted from 2D keypoints, one track per person.

    Attributes:
        poses: ``(M, T, V, 3)`` metres, relative to the root joint, camera frame (:data:`CAMERA_FRAME`); NaN in
            frames outside a track.
        keypoints: ``(M, T, V, 2)`` the repaired 2D input in pixels (NaN outside a track).
        scores: ``(M, T, V)`` confidences of the (converted) input.
        joint_reliable: ``(M, T, V)`` false where the input joint was missing for longer than ``max_gap``.
        frame_reliable: ``(M, T)`` the track is present and all its joints are reliable.
        skeleton: The layout of the poses.
        fps: Frames per second.
        metadata: Units, frame, layout, image size, model, weights checksum, repairs (see :meth:`save`).
    """

    poses: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    joint_reliable: np.ndarray
    frame_reliable: np.ndarray
    skeleton: Skeleton
    fps: float
    metadata: dict[str, Any] = field(default_factory=dict)

    def save(self, path: str | PathLike[str]) -> Path:
        """Write an ``.npz`` with the arrays and ``metadata`` (a JSON string: units, frame, layout, model...)."""
        from skeletal.atomic import save_npz

        return save_npz(
            path,
            poses_3d=self.poses.astype(np.float32),
            keypoints_2d=self.keypoints.astype(np.float32),
            scores=self.scores.astype(np.float32),
            joint_reliable=self.joint_reliable,
            frame_reliable=self.frame_reliable,
            joint_names=np.array(self.skeleton.joint_names),
            parents=np.array(self.skeleton.parents),
            metadata=np.array(json.dumps(self.metadata, indent=1)),
        )

    def animate(
        self,
        path: str | PathLike[str],
        track: int = 0,
        every: int = 1,
        max_frames: int | None = 300,
        images: Any = None,
    ) -> Path:
        """GIF or MP4 of the 2D input (over the video frames ``images(t)``, if given) beside the 3D poses of a track.

        The 3D panel shows the camera frame turned upright: ``x`` right, depth away from the camera, up. Only the
        frames shown (every ``every``-th, at most ``max_frames``) are handed to the renderer, so a long track costs
        the memory of its preview, not of its length.
        """
        from skeletal.viz.animation import Panel, animate, shown_frames

        present = np.isfinite(self.poses[track]).all((-1, -2))
        if not present.any():
            raise DataError(f"track {track} has no lifted frame to animate")
        span = np.flatnonzero(present)
        first, last = int(span[0]), int(span[-1]) + 1
        shown = shown_frames(last, every, max_frames, start=first)  # the flip below copies only these
        # camera frame -> y up, z towards the camera
        upright = self.poses[track, shown] * np.array([1, -1, -1], dtype=np.float32)
        size = tuple(self.metadata.get("image_size", ())) or None
        shifted = None if images is None else (lambda t: images(first + t * every))
        panels = [
            Panel(self.keypoints[track, shown], "2D input" + (" on the video" if images else ""), kind="2d",
                  units="px", images=shifted, image_size=size),  # type: ignore[arg-type]
            Panel(upright, "3D, camera frame", kind="3d", vertical_axis=1, units="m",
                  labels=("x right", "depth", "up")),
        ]  # fmt: skip
        return animate(panels, self.skeleton, Path(path), fps=self.fps / every)


def bone_length_variation(poses: np.ndarray, skeleton: Skeleton | str) -> dict[str, float]:
    """Coefficient of variation (std / mean over frames) of each bone's length, keyed ``"parent-child"``.

    Args:
        poses: ``(T, V, 3)``; frames with a NaN are ignored.
        skeleton: Layout (its parents define the bones).
    """
    layout = get(skeleton)
    kept = poses[np.isfinite(poses).all((-1, -2))]
    result = {}
    for child, parent in enumerate(layout.parents):
        if parent < 0:
            continue
        lengths = np.linalg.norm(kept[:, child] - kept[:, parent], axis=-1)
        name = f"{layout.joint_names[parent]}-{layout.joint_names[child]}"
        result[name] = float(lengths.std() / max(lengths.mean(), 1e-12))
    return result
