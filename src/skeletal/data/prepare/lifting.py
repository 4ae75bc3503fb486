"""Human3.6M and HumanEva-I lifting windows (2D keypoints -> root-relative 3D poses) from VideoPose3D's npz files,
and the windowing shared with the CMU lifting task (the on-disk format is in :mod:`skeletal.data.prepare`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.data.prepare._output import _Output, _window_starts
from skeletal.errors import DataError

LIFTING_RECEPTIVE_FIELD = 27


def _write_lifting(
    output: _Output,
    split: str,
    sequences: Iterable[dict[str, Any]],
    num_joints: int,
    receptive_field: int,
    chunk: int,
    causal: bool,
    stride: int | None,
) -> None:
    """Windows of each sequence, padded at its edges (as ``model.lift``), never crossing sequences."""
    if receptive_field < 1 or chunk < 1:
        raise DataError(f"receptive_field and chunk must be >= 1, got {receptive_field}, {chunk}")
    before = receptive_field - 1 if causal else receptive_field // 2
    after = receptive_field - 1 - before
    length = receptive_field + chunk - 1
    writer = output.split(split, {"x": (length, num_joints, 2), "y": (chunk, num_joints, 3)})
    for sequence in sequences:
        keypoints, positions = sequence.pop("keypoints"), sequence.pop("positions")
        # keep what describes the sequence (subject, action, camera, view...), not per-frame arrays (root, scores)
        sequence = {k: v.item() if isinstance(v, np.generic) else v for k, v in sequence.items()}
        sequence = {k: v for k, v in sequence.items() if isinstance(v, (str, int, float, bool, list, tuple))}
        frames = len(keypoints)
        name = "/".join(str(sequence[k]) for k in ("subject", "action", "take", "camera") if k in sequence)
        if frames < chunk:
            output.skip(f"{split}:{name}", f"{frames} frames, fewer than chunk={chunk}")
            continue
        padded = keypoints[np.clip(np.arange(-before, frames + after), 0, frames - 1)]
        starts = _window_starts(frames, chunk, stride or chunk)
        x = np.stack([padded[s : s + length] for s in starts])
        y = np.stack([positions[s : s + chunk] for s in starts])
        writer.add({**sequence, "frames": frames}, x=x, y=y)
    writer.close()


def prepare_h36m_lifting(
    positions_3d: str | PathLike[str],
    keypoints_2d: str | PathLike[str],
    out_dir: str | PathLike[str],
    receptive_field: int = LIFTING_RECEPTIVE_FIELD,
    chunk: int = 1,
    causal: bool = False,
    stride: int | None = None,
    downsample: int = 1,
    allow_pickle: bool = True,
) -> dict[str, Any]:
    """Human3.6M lifting windows from VideoPose3D's npz files: ``train`` (S1, S5, S6, S7, S8), ``test`` (S9, S11).

    Each (subject, action, camera) becomes a sequence: 2D keypoints normalised by the camera's resolution, 3D in
    that camera's frame relative to the pelvis (:func:`skeletal.data.h36m.lifting_pairs`, layout ``h36m17``),
    cut into windows of ``receptive_field + chunk - 1`` inputs and ``chunk`` targets (single-frame training
    of VideoPose3D / GAST-Net with ``chunk=1``).

    Args:
        positions_3d: ``data_3d_h36m.npz`` (trusted: unpickled).
        keypoints_2d: ``data_2d_h36m_{gt,cpn_ft_h36m_dbb,...}.npz``.
        out_dir: Output folder (the format is in :mod:`skeletal.data.prepare`).
        receptive_field: Receptive field of the lifter (27, 81, 243).
        chunk: Output frames per window.
        causal: Pad ``receptive_field - 1`` frames before a sequence instead of half on each side.
        stride: Frames between consecutive windows (default ``chunk``: every frame is a target once).
        downsample: Keep every ``downsample``-th frame (VideoPose3D ``--downsample``).
        allow_pickle: See :func:`skeletal.data.h36m.load_pickled_dict`.

    Returns:
        The fingerprint plus ``skipped`` and ``out_dir``.
    """
    from skeletal.data.h36m import (
        H36M_FPS,
        H36M_TEST_SUBJECTS,
        H36M_TRAIN_SUBJECTS,
        lifting_pairs,
        load_h36m_2d,
        load_h36m_3d,
    )

    motions = load_h36m_3d(positions_3d, downsample=downsample, allow_pickle=allow_pickle)
    views, _ = load_h36m_2d(keypoints_2d, allow_pickle=allow_pickle)
    output = _Output(
        out_dir,
        "h36m",
        "lifting",
        "h36m17",
        H36M_FPS / downsample,
        receptive_field=receptive_field,
        chunk=chunk,
        causal=causal,
        stride=stride or chunk,
        downsample=downsample,
        keypoints_2d=Path(keypoints_2d).name,
    )

    def sequences(subjects: tuple[str, ...], split: str) -> Iterable[dict[str, Any]]:
        for subject in subjects:
            if subject not in motions:
                output.skip(f"{split}:{subject}", f"subject not in {Path(positions_3d).name}")
                continue
            for action, motion in motions[subject].items():
                cameras = views.get(subject, {}).get(action)
                try:
                    pairs = lifting_pairs({subject: {action: motion}}, views, subjects=[subject])
                except DataError as error:
                    output.skip(f"{split}:{subject}/{action}", str(error))
                    continue
                for index, view in enumerate(cameras or []):
                    if view is None:
                        output.skip(f"{split}:{subject}/{action}/{index}", "camera without 2D keypoints (None)")
                yield from pairs

    for split, subjects in (("train", H36M_TRAIN_SUBJECTS), ("test", H36M_TEST_SUBJECTS)):
        _write_lifting(output, split, sequences(subjects, split), 17, receptive_field, chunk, causal, stride)
    return output.finish()


def humaneva_sequences(
    motions: dict[str, Any],
    views: dict[str, Any],
    subjects: Sequence[str],
    skip: Callable[[str, str], None] | None = None,
) -> Iterable[dict[str, Any]]:
    """Every (subject, action, camera) of HumanEva-I as a lifting pair, VideoPose3D's way.

    2D keypoints normalised by the 640 x 480 image (``normalize_screen_coordinates``), 3D in the camera's frame
    (the published extrinsics, :data:`skeletal.data.humaneva.HUMANEVA_CAMERA_EXTRINSICS`) relative to the root.

    Args:
        motions: ``subject -> action -> Motion`` (:func:`skeletal.data.humaneva.load_humaneva_3d`).
        views: ``subject -> action -> [3 cameras]`` (:func:`skeletal.data.humaneva.load_humaneva_2d`).
        subjects: Subjects to yield (e.g. ``Validate/S1``).
        skip: Called with ``(name, reason)`` for every missing subject, action or camera.

    Yields:
        Dicts ``keypoints (T, 15, 2)``, ``positions (T, 15, 3)`` float32, ``subject``, ``action``, ``camera``.
    """
    from skeletal.data.humaneva import HUMANEVA_CAMERA_EXTRINSICS, HUMANEVA_IMAGE_SIZE
    from skeletal.geometry.camera import normalize_screen_coordinates, world_to_camera

    width, height = HUMANEVA_IMAGE_SIZE

    def report(name: str, reason: str) -> None:
        if skip is not None:
            skip(name, reason)

    for subject in subjects:
        if subject not in motions:
            report(subject, "subject not in the 3D file")
            continue
        extrinsics = HUMANEVA_CAMERA_EXTRINSICS[subject.split("/")[-1]]
        for action, motion in motions[subject].items():
            world = np.asarray(motion.positions, dtype=np.float64)
            cameras = views.get(subject, {}).get(action)
            if cameras is None:
                report(f"{subject}/{action}", "no 2D keypoints for this action")
                continue
            for index, ((quaternion, position), view) in enumerate(zip(extrinsics, cameras)):
                name = f"{subject}/{action}/{index}"
                if view is None:
                    report(name, "camera without 2D keypoints (None)")
                    continue
                if len(view) < len(world):
                    report(name, f"{len(view)} 2D frames for {len(world)} mocap frames")
                    continue
                local = np.asarray(world_to_camera(world, np.array(quaternion), np.array(position) / 1000.0))
                points = normalize_screen_coordinates(view[: len(world), :, :2].astype(np.float64), width, height)
                yield {
                    "keypoints": np.asarray(points, dtype=np.float32),
                    "positions": (local - local[:, :1]).astype(np.float32),
                    "subject": subject,
                    "action": action,
                    "camera": index,
                }


def prepare_humaneva(
    positions_3d: str | PathLike[str],
    keypoints_2d: str | PathLike[str],
    out_dir: str | PathLike[str],
    receptive_field: int = LIFTING_RECEPTIVE_FIELD,
    chunk: int = 1,
    causal: bool = False,
    stride: int | None = None,
    actions: Sequence[str] | None = None,
    allow_pickle: bool = True,
) -> dict[str, Any]:
    """HumanEva-I lifting windows (VideoPose3D's protocol): ``train`` = ``Train/S1..S3``, ``test`` =
    ``Validate/S1..S3``, actions Walk, Jog, Box by default; 15 joints (``humaneva15``), pairs as
    :func:`humaneva_sequences`. Arguments as :func:`prepare_h36m_lifting`; ``actions`` are name prefixes.
    """
    from skeletal.data.humaneva import (
        HUMANEVA_ACTIONS,
        HUMANEVA_FPS,
        HUMANEVA_TEST_SUBJECTS,
        HUMANEVA_TRAIN_SUBJECTS,
        load_humaneva_2d,
        load_humaneva_3d,
    )

    wanted = tuple(actions) if actions is not None else HUMANEVA_ACTIONS
    motions = load_humaneva_3d(positions_3d, actions=wanted, allow_pickle=allow_pickle)
    views, _ = load_humaneva_2d(keypoints_2d, allow_pickle=allow_pickle)
    output = _Output(
        out_dir,
        "humaneva",
        "lifting",
        "humaneva15",
        HUMANEVA_FPS,
        receptive_field=receptive_field,
        chunk=chunk,
        causal=causal,
        stride=stride or chunk,
        actions=list(wanted),
    )
    for split, subjects in (("train", HUMANEVA_TRAIN_SUBJECTS), ("test", HUMANEVA_TEST_SUBJECTS)):

        def skip(name: str, reason: str, split: str = split) -> None:
            output.skip(f"{split}:{name}", reason)

        pairs = humaneva_sequences(motions, views, subjects, skip)
        _write_lifting(output, split, pairs, 15, receptive_field, chunk, causal, stride)
    return output.finish()
