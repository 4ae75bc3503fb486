"""Gaps in 2D keypoint tracks: missing joints interpolated across time, long gaps flagged, and the image size
assumed when a file gives none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skeletal.errors import DataError


@dataclass
class RepairedKeypoints:
    """Keypoints of one track with their gaps filled.

    Attributes:
        points: ``(T, V, 2)`` finite wherever the joint was seen at least once in the track.
        interpolated: ``(T, V)`` joints filled across a short gap (``<= max_gap`` frames).
        unreliable: ``(T, V)`` joints filled across a longer gap, or never seen: beyond repair.
    """

    points: np.ndarray
    interpolated: np.ndarray
    unreliable: np.ndarray


def _runs(mask: np.ndarray) -> np.ndarray:
    """Length of the run of ``True`` each element belongs to (0 where ``False``), over a 1D mask."""
    lengths = np.zeros(len(mask), dtype=np.int64)
    start = None
    for index, flag in enumerate(np.append(mask, False)):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            lengths[start:index] = index - start
            start = None
    return lengths


def repair_keypoints(
    points: np.ndarray, scores: np.ndarray, max_gap: int = 10, min_score: float = 0.0
) -> RepairedKeypoints:
    """Fill missing joints of one track by linear interpolation across time; flag gaps too long to trust.

    A joint is missing where a coordinate is not finite or its score is ``<= min_score``. Each run of missing
    frames of a joint is filled linearly between the valid frames around it (held constant before the first and
    after the last valid frame). Runs longer than ``max_gap`` frames are filled the same way but marked
    ``unreliable``; a joint never seen is placed on the mean of the frame's valid joints and marked unreliable.

    Args:
        points: ``(T, V, 2)`` pixel or screen coordinates (float32 stays float32; other types become float64).
        scores: ``(T, V)`` confidences.
        max_gap: Longest gap (frames) repaired as reliable.
        min_score: Scores at or below it count as missing.

    Returns:
        The repaired points and the masks of interpolated and unreliable joints.
    """
    points = np.asarray(points)
    points = points.astype(np.result_type(points, np.float32), copy=False)  # float32 stays float32
    scores = np.asarray(scores)
    if points.ndim != 3 or points.shape[-1] != 2 or scores.shape != points.shape[:2]:
        raise DataError(f"repair_keypoints expects points (T, V, 2) and scores (T, V), got {points.shape}, "
                        f"{scores.shape}")  # fmt: skip
    missing = ~np.isfinite(points).all(-1) | ~(scores > min_score)
    frames = np.arange(points.shape[0])
    filled = points.copy()
    unreliable = np.zeros_like(missing)
    for joint in range(points.shape[1]):
        gone = missing[:, joint]
        if not gone.any():
            continue
        if gone.all():
            unreliable[:, joint] = True
            continue
        seen = frames[~gone]
        for axis in range(2):
            filled[gone, joint, axis] = np.interp(frames[gone], seen, points[seen, joint, axis])
        unreliable[:, joint] = _runs(gone) > max_gap
    never = missing.all(0)
    if never.any():
        seen_joints = ~missing
        counts = np.maximum(seen_joints.sum(1, keepdims=True), 1)
        centre = np.where(seen_joints[..., None], np.nan_to_num(points), 0.0).sum(1) / counts
        filled[:, never] = centre[:, None]
    return RepairedKeypoints(filled, missing & ~unreliable, unreliable)


def estimate_image_size(points: np.ndarray) -> tuple[int, int]:
    """Image ``(width, height)`` assumed when the file gives none: the keypoints' bounding box centred in it."""
    finite = points[np.isfinite(points).all(-1)]
    if finite.size == 0:
        raise DataError("no finite keypoint: cannot estimate the image size (give it with --image-size WxH)")
    low, high = finite.min(0), finite.max(0)
    size = np.maximum(np.ceil(low + high), np.ceil(high - np.minimum(low, 0)) + 1)
    return int(size[0]), int(size[1])
