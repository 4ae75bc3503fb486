"""A real-motion 2D-to-3D lifting benchmark made from the CMU motion-prediction data (no Human3.6M here).

Recipe (the Human3.6M protocol of VideoPose3D / GAST-Net, transposed to CMU motion):

1. **3D joints.** Every take of ``{root}/{split}/{action}/{action}_{n}.txt`` (:func:`skeletal.data.cmu.
   load_cmu_benchmark`, every second frame kept: 60 fps) goes through forward kinematics on ``cmu38`` with its
   global root motion (:func:`skeletal.data.cmu.expmap_to_motion`), is converted from the reference's millimetre
   scale to metres and reduced to 17 joints with the semantics of ``h36m17`` (:data:`CMU38_TO_H36M17`).
2. **Cameras.** A virtual rig of four static cameras (:data:`DEFAULT_VIEWS`, azimuth and elevation in degrees,
   like the four corner cameras of Human3.6M) with Human3.6M-like intrinsics (:data:`INTRINSICS`: focal length
   1145 px, principal point at the centre of a 1000 x 1000 image, no distortion) looks at the mean root position
   of the take from ``5 m`` plus the horizontal radius of the root trajectory (the subject stays in view).
3. **2D input.** The joints are projected, then made detector-like by :func:`skeletal.data.transforms.
   detector_noise` (Gaussian jitter of 5 % of the mean 2D bone length, confidences, 2 % of the joints dropped),
   the dropped joints repaired exactly as ``skeletal lift`` repairs a user's keypoints
   (:func:`skeletal.data.repair.repair_keypoints`), and normalised to screen coordinates.
4. **Targets.** Camera-frame 3D joints relative to the pelvis, metres (as VideoPose3D's Human3.6M targets).

Train on the ``train`` takes, test on the ``test`` takes (per action; ``washwindow`` has no training take and
``basketball_signal`` / ``directing_traffic`` no test take in the released set, see the data README).

Joint mapping ``cmu38 -> h36m17`` (:data:`CMU38_TO_H36M17`), by the FK positions of the CMU joints:
pelvis = ``root`` (0); right hip, knee, ankle = ``right_hip`` (8), ``right_knee`` (9), ``right_ankle`` (10);
left hip, knee, ankle = 2, 3, 4; spine = ``lower_back`` (14, halfway between root and thorax); thorax =
``upper_back`` (15, the top of the spine where both clavicles start; ``thorax`` (16) has the same position but
is not the clavicles' parent); neck = ``upper_neck`` (18); head = ``head``
(19, the end of the head bone); left shoulder, elbow, wrist = 21, 22, 23; right shoulder, elbow, wrist = 30,
31, 32.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.data.cmu import expmap_to_motion, load_cmu_benchmark
from skeletal.errors import ConfigError

CMU38_TO_H36M17: tuple[int, ...] = (0, 8, 9, 10, 2, 3, 4, 14, 15, 18, 19, 21, 22, 23, 30, 31, 32)
"""``cmu38`` joint index of each ``h36m17`` joint (pelvis, right leg, left leg, spine, thorax, neck, head, left
arm, right arm), see the module docstring."""

DEFAULT_VIEWS: tuple[tuple[float, float], ...] = ((45.0, 10.0), (135.0, 20.0), (225.0, 10.0), (315.0, 20.0))
"""``(azimuth, elevation)`` in degrees of the virtual cameras around the subject."""
INTRINSICS: tuple[float, float, float, float] = (1145.0, 1145.0, 500.0, 500.0)
"""``(fx, fy, cx, cy)`` in pixels (Human3.6M's focal length, centred principal point)."""
IMAGE_SIZE: tuple[int, int] = (1000, 1000)
BASE_DISTANCE = 5.0
"""Metres from the camera to the mean root position, before adding the trajectory's horizontal radius."""
MM_PER_M = 1000.0


def cmu_h36m17_positions(frames: np.ndarray) -> np.ndarray:
    """World positions of the 17 ``h36m17``-like joints of exp-map frames, in metres (``y`` up).

    Args:
        frames: ``(T, 117)`` benchmark rows.

    Returns:
        ``(T, 17, 3)`` metres.
    """
    motion = expmap_to_motion(frames, global_motion=True)
    assert motion.positions is not None
    return motion.positions[:, list(CMU38_TO_H36M17)] / MM_PER_M


def look_at(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Rotation world -> camera (rows: right, down, forward) of a camera at the given azimuth and elevation.

    The camera sits on the direction ``(cos e sin a, sin e, cos e cos a)`` from the target (world ``y`` up) and
    looks at it; the image ``x`` axis points right, ``y`` down (pixel convention), ``z`` forward.
    """
    a, e = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    direction = np.array([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)])
    forward = -direction
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def camera_views(
    world: np.ndarray, views: Sequence[tuple[float, float]] = DEFAULT_VIEWS, base_distance: float = BASE_DISTANCE
) -> list[np.ndarray]:
    """Camera-frame joints ``(T, V, 3)`` of a world sequence seen from each view (metres, ``z`` forward)."""
    root = world[:, 0]
    target = root.mean(axis=0)
    radius = float(np.linalg.norm((root - target)[:, [0, 2]], axis=-1).max())
    distance = base_distance + radius
    result = []
    for azimuth, elevation in views:
        rotation = look_at(azimuth, elevation)
        a, e = np.deg2rad(azimuth), np.deg2rad(elevation)
        centre = target + distance * np.array([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)])
        result.append((world - centre) @ rotation.T)
    return result


def project(points_cam: np.ndarray, intrinsics: Sequence[float] = INTRINSICS) -> np.ndarray:
    """Pinhole projection (no distortion) of camera-frame points ``(..., 3)`` to pixels ``(..., 2)``."""
    fx, fy, cx, cy = intrinsics
    return np.stack(
        [fx * points_cam[..., 0] / points_cam[..., 2] + cx, fy * points_cam[..., 1] / points_cam[..., 2] + cy], -1
    )


def make_sequence(
    world: np.ndarray,
    views: Sequence[tuple[float, float]] = DEFAULT_VIEWS,
    rng: np.random.Generator | None = None,
    jitter: float = 0.05,
    drop_probability: float = 0.02,
) -> list[dict[str, Any]]:
    """Lifting pairs of one world sequence, one per view.

    Returns:
        Per view: ``keypoints (T, 17, 2)`` screen-normalised detector-like 2D (repaired), ``scores (T, 17)``,
        ``positions (T, 17, 3)`` camera-frame metres relative to the pelvis, ``view`` (its index).
    """
    from skeletal.data.repair import repair_keypoints
    from skeletal.data.transforms import detector_noise
    from skeletal.geometry import normalize_screen_coordinates

    generator = rng if rng is not None else np.random.default_rng(0)
    pairs = []
    for index, local in enumerate(camera_views(world, views)):
        pixels = project(local)
        noisy = detector_noise(pixels, "h36m17", generator, jitter=jitter, drop_probability=drop_probability)
        scores = noisy[..., 2].astype(np.float64)
        points = np.where(scores[..., None] > 0, noisy[..., :2], np.nan)
        repaired = repair_keypoints(points, scores, max_gap=10_000)
        keypoints = np.asarray(normalize_screen_coordinates(repaired.points, *IMAGE_SIZE), dtype=np.float32)
        positions = (local - local[:, :1]).astype(np.float32)
        pairs.append({"keypoints": keypoints, "scores": scores.astype(np.float32), "positions": positions,
                      "view": index})  # fmt: skip
    return pairs


def load_cmu_lifting(
    root: str | PathLike[str],
    split: str,
    actions: Sequence[str] | None = None,
    views: Sequence[tuple[float, float]] = DEFAULT_VIEWS,
    seed: int = 0,
    jitter: float = 0.05,
    drop_probability: float = 0.02,
) -> list[dict[str, Any]]:
    """The lifting sequences of one split: every take seen from every view.

    Args:
        root: The CMU benchmark folder (``train/`` and ``test/``).
        split: ``"train"`` or ``"test"``.
        actions: Actions to load (default: every action present).
        views: ``(azimuth, elevation)`` of the cameras, degrees.
        seed: Seed of the detector noise (each take and view draws from ``(seed, split, action, take, view)``).
        jitter: Noise standard deviation as a fraction of the mean 2D bone length.
        drop_probability: Probability that a joint is missing (then repaired by interpolation).

    Returns:
        A list of dicts (see :func:`make_sequence`) with ``action`` and ``take`` added.
    """
    takes = load_cmu_benchmark(root, split, None if actions is None else list(actions))
    split_id = 0 if split == "train" else 1
    sequences = []
    for action_index, (action, frames_list) in enumerate(sorted(takes.items())):
        for take, frames in enumerate(frames_list):
            world = cmu_h36m17_positions(frames)
            rng = np.random.default_rng([seed, split_id, action_index, take])
            for pair in make_sequence(world, views, rng, jitter, drop_probability):
                sequences.append({**pair, "action": action, "take": take})
    return sequences


def lifting_windows(
    sequences: Sequence[dict[str, Any]],
    receptive_field: int,
    chunk: int = 1,
    causal: bool = False,
    stride: int | None = None,
) -> dict[str, np.ndarray]:
    """Training windows of lifting sequences, padded at the edges as ``model.lift`` pads them.

    Each window holds ``receptive_field + chunk - 1`` input frames and the ``chunk`` target frames the model
    outputs for them: ``chunk = 1`` gives the single-frame (strided) training of VideoPose3D / GAST-Net,
    ``chunk > 1`` the layer-by-layer training on chunks (fewer computations per output frame on a CPU).

    Args:
        sequences: Dicts with ``keypoints (T, V, 2)`` and ``positions (T, V, 3)``.
        receptive_field: The model's receptive field.
        chunk: Output frames per window.
        causal: Pad ``receptive_field - 1`` frames before (causal models) instead of half on each side.
        stride: Frames between the first outputs of consecutive windows (default ``chunk``).

    Returns:
        ``{"x": (N, RF + chunk - 1, V, 2), "y": (N, chunk, V, 3)}`` float32.
    """
    if receptive_field < 1 or chunk < 1:
        raise ConfigError(f"receptive_field and chunk must be >= 1, got {receptive_field}, {chunk}")
    step = stride or chunk
    before = receptive_field - 1 if causal else receptive_field // 2
    after = receptive_field - 1 - before
    inputs, targets = [], []
    for sequence in sequences:
        keypoints, positions = sequence["keypoints"], sequence["positions"]
        frames = len(keypoints)
        if frames < chunk:
            continue
        index = np.clip(np.arange(-before, frames + after), 0, frames - 1)
        padded = keypoints[index]
        starts = list(range(0, frames - chunk + 1, step))
        if starts[-1] != frames - chunk:
            starts.append(frames - chunk)
        for start in starts:
            inputs.append(padded[start : start + chunk + receptive_field - 1])
            targets.append(positions[start : start + chunk])
    if not inputs:
        raise ConfigError(f"no sequence has {chunk} frames; lower chunk")
    return {"x": np.stack(inputs).astype(np.float32), "y": np.stack(targets).astype(np.float32)}


def write_cmu_lifting(
    root: str | PathLike[str],
    output: str | PathLike[str],
    receptive_field: int = 27,
    chunk: int = 1,
    causal: bool = False,
    seed: int = 0,
) -> dict[str, Path]:
    """Write ``train.npz`` (windows of the train takes) and ``test.npz`` (of the test takes) for the engine.

    ``skeletal train configs/lifting/gast-net_27_cmu.yaml`` reads them (``data.train`` / ``data.val``).
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split in ("train", "test"):
        windows = lifting_windows(load_cmu_lifting(root, split, seed=seed), receptive_field, chunk, causal)
        paths[split] = output / f"{split}.npz"
        np.savez(paths[split], x=windows["x"], y=windows["y"])
    return paths
