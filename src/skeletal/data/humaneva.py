"""HumanEva-I (Sigal et al., IJCV 2010) in VideoPose3D's npz format (``data/prepare_data_humaneva.py``).

- ``data_3d_humaneva15.npz``: key ``positions_3d``, a pickled dict ``subject -> action -> (T, 15, 3)`` world
  positions in metres at 60 fps. Subjects are ``Train/S1`` .. ``Validate/S3``: VideoPose3D splits each take at
  the frame the HumanEva authors give and names the halves after their split; actions are
  ``"{Action} {trial} chunk{k}"`` (``"Walking 1 chunk0"``), a take being cut into chunks where the mocap is
  corrupt (frames with NaN are dropped by the converter, so every chunk is finite).
- ``data_2d_humaneva15_*.npz``: ``positions_2d`` ``subject -> action -> [3 cameras (T, 15, 2)]`` (a camera
  without video is ``None``) and ``metadata``.

The protocol of VideoPose3D and GAST-Net: train on ``Train/S1..S3``, evaluate on ``Validate/S1..S3``, actions
Walk, Jog and Box (matched as name prefixes, so ``Walk`` selects ``Walking 1 chunk0``...). Both files are
pickled; see :mod:`skeletal.data.h36m` for the risk and ``allow_pickle``.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

import numpy as np

from skeletal.data.h36m import read_positions_2d, read_positions_3d
from skeletal.data.types import Motion

HUMANEVA_FPS = 60.0
HUMANEVA_TRAIN_SUBJECTS: tuple[str, ...] = ("Train/S1", "Train/S2", "Train/S3")
HUMANEVA_TEST_SUBJECTS: tuple[str, ...] = ("Validate/S1", "Validate/S2", "Validate/S3")
HUMANEVA_ACTIONS: tuple[str, ...] = ("Walk", "Jog", "Box")
HUMANEVA_NUM_CAMERAS = 3

# Camera extrinsics of HumanEva-I as listed in VideoPose3D ``common/humaneva_dataset.py``: orientation quaternion
# (w, x, y, z) and position in millimetres of cameras C1, C2, C3 per subject; images are 640 x 480. VideoPose3D
# gives no intrinsics for HumanEva (its 2D inputs are already in pixels and normalised by 640 x 480).
HUMANEVA_CAMERA_EXTRINSICS: dict[str, tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]] = {
    "S1": (((0.424207, -0.4983646, -0.5802981, 0.4847012), (4062.227, 663.2477, 1528.397)),
           ((0.6503354, -0.7481602, -0.0919284, 0.0941766), (844.8131, -3805.2092, 1504.9929)),
           ((0.0664734, -0.0690535, 0.7416416, -0.6639132), (-797.67377, 3916.3174, 1433.6602))),
    "S2": (((0.4214752, -0.4961493, -0.5838273, 0.4851187), (4112.9121, 626.4929, 1545.2988)),
           ((0.6501393, -0.7476588, -0.0954617, 0.0959808), (923.5740, -3877.9243, 1504.5518)),
           ((0.0699353, -0.0712403, 0.7421637, -0.662742), (-781.4915, 3838.8853, 1444.9929))),
    "S3": (((0.424207, -0.4983646, -0.5802981, 0.4847012), (4062.2271, 663.2477, 1528.3970)),
           ((0.6503354, -0.7481602, -0.0919284, 0.0941766), (844.8131, -3805.2092, 1504.9929)),
           ((0.0664734, -0.0690535, 0.7416416, -0.6639132), (-797.6738, 3916.3174, 1433.6602))),
}  # fmt: skip
HUMANEVA_IMAGE_SIZE = (640, 480)


def load_humaneva_3d(
    path: str | PathLike[str],
    subjects: tuple[str, ...] | list[str] | None = None,
    actions: tuple[str, ...] | list[str] | None = None,
    downsample: int = 1,
    allow_pickle: bool = True,
) -> dict[str, dict[str, Motion]]:
    """Read ``data_3d_humaneva15.npz``.

    Args:
        path: The file (trusted: it is unpickled).
        subjects: E.g. :data:`HUMANEVA_TRAIN_SUBJECTS` or :data:`HUMANEVA_TEST_SUBJECTS`; default all.
        actions: Name prefixes to keep, e.g. :data:`HUMANEVA_ACTIONS`; default all.
        downsample: Keep every ``downsample``-th frame.
        allow_pickle: See :func:`skeletal.data.h36m.load_pickled_dict`.

    Returns:
        ``subject -> action -> Motion`` on layout ``humaneva15`` (world positions, metres).
    """
    return read_positions_3d(path, "humaneva15", HUMANEVA_FPS, subjects, actions, None, None, downsample,
                             allow_pickle)  # fmt: skip


def load_humaneva_2d(
    path: str | PathLike[str],
    subjects: tuple[str, ...] | list[str] | None = None,
    allow_pickle: bool = True,
) -> tuple[dict[str, dict[str, list[np.ndarray | None]]], dict[str, Any]]:
    """Read a ``data_2d_humaneva15_*.npz``: 3 cameras per action (``None`` where a camera is missing)."""
    return read_positions_2d(path, HUMANEVA_NUM_CAMERAS, subjects, allow_pickle)


def humaneva_split(
    motions: dict[str, dict[str, Motion]], split: str, actions: tuple[str, ...] | list[str] = HUMANEVA_ACTIONS
) -> list[Motion]:
    """The motions of the ``"train"`` or ``"test"`` split of VideoPose3D's HumanEva protocol, in file order."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    subjects = HUMANEVA_TRAIN_SUBJECTS if split == "train" else HUMANEVA_TEST_SUBJECTS
    return [
        motion
        for subject in subjects
        if subject in motions
        for action, motion in motions[subject].items()
        if any(action.startswith(a) for a in actions)
    ]
