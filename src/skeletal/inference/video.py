"""Optional 2D detector for ``skeletal lift VIDEO``: MediaPipe Pose (the ``[video]`` extra), fully offline.

MediaPipe 0.10.21 is the last release whose wheel bundles the pose landmark models (``pose_landmark_full.tflite``,
used here through the legacy ``mp.solutions.pose`` API with ``model_complexity=1``), so nothing is downloaded at
run time. It detects one person per frame (33 landmarks, layout ``mediapipe33``), which is converted to ``coco17``
(:func:`skeletal.skeletons.convert`) and later, by the lifting pipeline, to ``h36m17``. A landmark's confidence is
MediaPipe's ``visibility``; frames without a detection are missing (NaN, score 0) and handled by the pipeline.

Install the ``[video]`` extra from the clone in an environment of its own (MediaPipe 0.10.21 requires ``numpy<2``):
``python -m venv .venv-video && . .venv-video/bin/activate && pip install "torch==2.13.0" -e ".[video]"``; its pins
resolve without backtracking (``benchmarks/video_extra_resolution.py``).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.data.types import Keypoints
from skeletal.errors import ConfigError, DataError
from skeletal.skeletons import convert, get

INSTALL_HINT = (
    "reading a video needs the optional [video] extra (MediaPipe 0.10.21), in an environment of its own "
    "because it needs numpy<2; from the clone: python -m venv .venv-video && . .venv-video/bin/activate "
    "&& pip install 'torch==2.13.0' -e '.[video]'"
)


def _import_mediapipe() -> tuple[Any, Any]:
    try:
        import cv2  # type: ignore[import-not-found]
        import mediapipe as mp  # type: ignore[import-not-found]
    except ImportError as error:
        raise ConfigError(f"{INSTALL_HINT} ({error})") from None
    if not hasattr(mp, "solutions") or not hasattr(mp.solutions, "pose"):
        raise ConfigError(
            f"this MediaPipe ({getattr(mp, '__version__', '?')}) has no mp.solutions.pose; {INSTALL_HINT}"
        )
    return mp, cv2


def detect_keypoints(
    path: str | PathLike[str], min_detection_confidence: float = 0.5, max_frames: int | None = None
) -> Keypoints:
    """2D COCO-17 keypoints (pixels) of the most prominent person in every frame of a video.

    Args:
        path: A video file readable by OpenCV.
        min_detection_confidence: MediaPipe's person detection threshold.
        max_frames: Read at most this many frames.

    Returns:
        :class:`Keypoints` ``(1, T, 17, 2)`` in ``coco17`` with the video's fps and image size; ``meta`` names the
        detector.

    Raises:
        ConfigError: MediaPipe is not installed.
        DataError: The video cannot be read.
    """
    mp, cv2 = _import_mediapipe()
    path = Path(path)
    if not path.is_file():
        raise DataError("video file not found", path)
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DataError("OpenCV cannot open this video", path)
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or None
    landmarks: list[np.ndarray] = []
    size: tuple[int, int] | None = None
    pose = mp.solutions.pose.Pose(
        static_image_mode=False, model_complexity=1, min_detection_confidence=min_detection_confidence
    )
    try:
        while max_frames is None or len(landmarks) < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            height, width = frame.shape[:2]
            size = (width, height)
            result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            row = np.full((33, 3), np.nan)
            if result.pose_landmarks is not None:
                row = np.array([[p.x * width, p.y * height, p.visibility] for p in result.pose_landmarks.landmark])
            landmarks.append(row)
    finally:
        pose.close()
        capture.release()
    if not landmarks or size is None:
        raise DataError("no frame could be decoded", path)
    array = np.stack(landmarks)[None]  # (1, T, 33, 3)
    array[..., 2] = np.nan_to_num(array[..., 2])
    coco = convert(array, "mediapipe33", "coco17", has_confidence=True)
    points, scores = coco[..., :2].copy(), coco[..., 2].copy()
    missing = ~np.isfinite(points).all(-1) | ~(scores > 0)
    points[missing], scores[missing] = np.nan, 0.0
    meta = {"detector": f"mediapipe {getattr(mp, '__version__', '?')} pose (full model, legacy solutions API)"}
    return Keypoints(get("coco17"), points, scores, fps=fps, image_size=size, source=str(path), meta=meta)
