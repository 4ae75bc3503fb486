"""Action recognition on the real CMU clips of the motion-prediction benchmark (``cmu-mocap-expmap``).

The exp-map takes (:mod:`skeletal.data.cmu`) are turned into 3D joint positions by forward kinematics on the
``cmu38`` skeleton, converted to metres, normalised as NTU RGB+D is for ST-GCN / 2s-AGCN / ST-TR
(:func:`skeletal.data.ntu.pre_normalization`: per-frame centring on the root, first frame rotated so that the
root -> upper-back bone points along +z) and turned about +z so that the first frame's left -> right shoulder
vector points along +x, and cut into windows. Deviation from 2s-AGCN: its second rotation maps the shoulder
vector onto +x about ``cross(v, x)``, which for a subject facing away (``v`` near ``-x``, frequent in CMU, rare
in NTU whose subjects face the camera) is a half turn about a tilted axis that throws the spine off +z; the
rotation about the vertical keeps the spine upright.
Each action is a class. Training windows come from the ``train/`` takes, test windows from the ``test/`` takes
only, and no window crosses two takes.

Only the actions with takes in both splits are classes (in the shared copy: basketball, jumping, running, soccer,
walking; ``washwindow`` has no training take, ``basketball_signal`` and ``directing_traffic`` no test take).

Windows are ``length`` frames at ``fps`` (the benchmark files are at 60 fps; ``downsample=2`` gives 30 fps). The
window stride is chosen per class so that every class gets about ``per_class`` windows (never below
``min_stride``): the classes are roughly balanced although their takes differ a lot in length.

The data of the CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu, NSF EIA-0196217).

Example:
    >>> data = cmu_recognition_splits("../shared/data/cmu-mocap-expmap")
    >>> data.train["x"].shape  # (N, 1, 64, 38, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from skeletal.data.cmu import CMU_ACTIONS, OFFSET_SCALE, expmap_to_motion, list_takes, read_expmap
from skeletal.data.ntu import pre_normalization
from skeletal.errors import DataError

BENCHMARK_FPS = 60.0
"""Frame rate of the benchmark's files (the 120 fps CMU captures, every second frame)."""
ASF_UNIT_METRES = 0.0254 / 0.45
"""One CMU ASF length unit (``:units length 0.45``: inches / 0.45) in metres."""
CENTER, SPINE_TOP, RIGHT_SHOULDER, LEFT_SHOULDER = 0, 15, 30, 21
"""``cmu38`` joints of the normalisation: root, upper back, right and left shoulder."""


@dataclass
class CmuRecognitionData:
    """Windows of the CMU recognition benchmark.

    Attributes:
        train: ``{"x": (N, 1, T, 38, 3) float32 metres, "y": (N,) int64}``.
        test: The same for the test takes.
        classes: Class names; label ``i`` is ``classes[i]``.
        train_files: Take of every training window (``train/ACTION/ACTION_n.txt``), ``(N,)``.
        test_files: Take of every test window.
        fps: Frame rate of the windows.
    """

    train: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    classes: tuple[str, ...]
    train_files: np.ndarray
    test_files: np.ndarray
    fps: float


def common_actions(root: str | PathLike[str]) -> tuple[str, ...]:
    """The benchmark actions with at least one take in ``train/`` and one in ``test/``, in benchmark order."""
    return tuple(a for a in CMU_ACTIONS if list_takes(root, "train", a) and list_takes(root, "test", a))


def take_positions(path: str | PathLike[str], downsample: int = 2) -> np.ndarray:
    """One take as NTU-normalised 3D joint positions in metres, ``(T, 38, 3)`` (see the module docstring)."""
    frames = read_expmap(path)[::downsample]
    motion = expmap_to_motion(frames, fps=BENCHMARK_FPS / downsample, source=str(path))
    metres = np.asarray(motion.positions) / OFFSET_SCALE * ASF_UNIT_METRES
    sample = metres[None, None].copy()  # (1, M=1, T, V, 3)
    pre_normalization(sample, z_axis=(CENTER, SPINE_TOP), x_axis=(CENTER, CENTER), center=CENTER)  # no x step
    positions = sample[0, 0]
    shoulders = positions[0, RIGHT_SHOULDER] - positions[0, LEFT_SHOULDER]
    angle = -math.atan2(float(shoulders[1]), float(shoulders[0]))
    cos, sin = math.cos(angle), math.sin(angle)
    about_z = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
    return positions @ about_z.T


def window_starts(num_frames: int, length: int, stride: int) -> np.ndarray:
    """Start frames of the windows of ``length`` frames inside one take of ``num_frames`` (none if too short)."""
    if num_frames < length:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, num_frames - length + 1, stride, dtype=np.int64)


def balanced_stride(lengths: list[int], length: int, per_class: int, min_stride: int = 1) -> int:
    """The stride giving about ``per_class`` windows over takes of ``lengths`` frames (at least ``min_stride``)."""
    positions = sum(max(n - length + 1, 0) for n in lengths)
    if positions == 0:
        return min_stride
    return max(min_stride, math.ceil(positions / max(per_class, 1)))


def _split(
    root: Path, split: str, classes: tuple[str, ...], length: int, downsample: int, per_class: int, min_stride: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    windows, labels, files = [], [], []
    for label, action in enumerate(classes):
        takes = [(p, take_positions(p, downsample)) for p in list_takes(root, split, action)]
        stride = balanced_stride([len(t) for _, t in takes], length, per_class, min_stride)
        count = 0
        for path, positions in takes:
            for start in window_starts(len(positions), length, stride):
                windows.append(positions[start : start + length])
                files.append(f"{split}/{action}/{path.name}")
                count += 1
        if count == 0:
            raise DataError(f"no take of {action!r} has {length} frames (at {downsample}x downsampling)", root / split)
        labels.extend([label] * count)
    x = np.stack(windows).astype(np.float32)[:, None]  # (N, M=1, T, V, 3)
    return {"x": x, "y": np.asarray(labels, dtype=np.int64)}, np.asarray(files)


def cmu_recognition_splits(
    root: str | PathLike[str],
    length: int = 64,
    downsample: int = 2,
    train_per_class: int = 120,
    test_per_class: int = 40,
    min_stride: int = 1,
    actions: tuple[str, ...] | None = None,
) -> CmuRecognitionData:
    """Build the train and test windows of the CMU recognition benchmark.

    Args:
        root: The ``cmu-mocap-expmap`` folder (``train/`` and ``test/``).
        length: Frames per window (64 frames = 2.1 s at 30 fps).
        downsample: Keep every ``downsample``-th frame of the 60 fps files (2: 30 fps).
        train_per_class: About how many training windows per class (sets each class's stride).
        test_per_class: About how many test windows per class.
        min_stride: Smallest stride between windows of one take.
        actions: The classes; default :func:`common_actions`.

    Returns:
        The windows, labels, class names and the take of every window.

    Raises:
        DataError: No common action, an asked action without takes in a split, or a class without any take
            long enough for one window.
    """
    root = Path(root)
    classes = tuple(actions) if actions is not None else common_actions(root)
    if not classes:
        raise DataError("no action has takes in both train/ and test/", root)
    for action in classes:
        for split in ("train", "test"):
            if not list_takes(root, split, action):
                raise DataError(f"action {action!r} has no take in {split}/", root / split)
    train, train_files = _split(root, "train", classes, length, downsample, train_per_class, min_stride)
    test, test_files = _split(root, "test", classes, length, downsample, test_per_class, min_stride)
    return CmuRecognitionData(train, test, classes, train_files, test_files, BENCHMARK_FPS / downsample)
