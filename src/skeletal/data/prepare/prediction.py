"""Human3.6M (exp-map text files) and AMASS motion-prediction windows of local joint rotations, and the rotation
conversion shared with the CMU prediction task (the on-disk format is in :mod:`skeletal.data.prepare`).
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.data.prepare._output import _Output
from skeletal.errors import DataError

AMASS_SPLITS: dict[str, tuple[str, ...]] = {
    "val": ("HumanEva", "MPI_HDM05", "SFU", "MPI_mosh"),
    "test": ("Transitions_mocap", "SSM_synced"),
}
"""AMASS's recommended split by sub-dataset (the AMASS repository's ``amass_splits``); every other
sub-dataset (CMU, KIT, BMLrub, ACCAD...) is training data."""


def _rotations(frames: np.ndarray, num_joints: int, representation: str) -> np.ndarray:
    from skeletal.data.expmap import expmap_rotations

    return expmap_rotations(frames, num_joints, representation)


def _channels(num_joints: int, representation: str) -> int:
    return int(_rotations(np.zeros((1, 3 + 3 * num_joints)), num_joints, representation).shape[-1])


def prepare_h36m_prediction(
    expmap_dir: str | PathLike[str],
    out_dir: str | PathLike[str],
    seed_length: int = 50,
    target_length: int = 25,
    stride: int = 10,
    representation: str = "matrix",
    samples: int = 8,
) -> dict[str, Any]:
    """Human3.6M motion-prediction windows from the exp-map text files (``S{n}/{action}_{1,2}.txt``).

    ``train``: every ``stride``-th window of ``seed_length + target_length`` frames (25 Hz) of subjects 1, 6, 7,
    8, 9, 11. ``test``: the SRNN windows of subject 5 (``samples=8`` per action, Martinez et al.; ``256``: LTD),
    in action order. Frames become local rotations of the 32 joints (``h36m32``, root position dropped).

    Returns:
        The fingerprint plus ``skipped`` and ``out_dir``.
    """
    from skeletal.data.h36m import (
        H36M_FPS,
        H36M_MOTION_ACTIONS,
        H36M_MOTION_TEST_SUBJECT,
        H36M_MOTION_TRAIN_SUBJECTS,
        load_h36m_expmap,
        srnn_windows,
        windows_256,
    )

    if samples not in (8, 256):
        raise DataError(f"samples must be 8 (SRNN) or 256 (LTD) windows per action, got {samples}")
    root, length = Path(expmap_dir), seed_length + target_length
    if not root.is_dir():
        raise DataError("exp-map folder not found (expected S1/ ... S11/ with ACTION_N.txt files)", root)
    output = _Output(
        out_dir,
        "h36m-expmap",
        "prediction",
        "h36m32",
        H36M_FPS / 2,
        seed_length=seed_length,
        target_length=target_length,
        stride=stride,
        representation=representation,
        samples=samples,
    )
    shape = (length, 32, _channels(32, representation))
    train = output.split("train", {"x": shape})
    for subject in H36M_MOTION_TRAIN_SUBJECTS:
        for action in H36M_MOTION_ACTIONS:
            for subaction in (1, 2):
                name = f"train:S{subject}/{action}_{subaction}"
                try:
                    frames = load_h36m_expmap(root, (subject,), (action,), (subaction,))[(subject, action, subaction)]
                except DataError as error:
                    output.skip(name, str(error))
                    continue
                if len(frames) < length:
                    output.skip(name, f"{len(frames)} frames at 25 Hz, fewer than one {length}-frame window")
                    continue
                starts = np.arange(0, len(frames) - length + 1, stride)
                x = _rotations(frames[starts[:, None] + np.arange(length)], 32, representation)
                train.add({"subject": subject, "action": action, "subaction": subaction, "frames": len(frames)}, x=x)
    train.close()
    test = output.split("test", {"x": shape})
    draw = srnn_windows if samples == 8 else windows_256
    for action in H36M_MOTION_ACTIONS:
        try:
            data = load_h36m_expmap(root, (H36M_MOTION_TEST_SUBJECT,), (action,))
            windows = draw(data, action, seed_length, target_length)
        except (DataError, ValueError) as error:
            output.skip(f"test:S{H36M_MOTION_TEST_SUBJECT}/{action}", str(error))
            continue
        test.add({"subject": H36M_MOTION_TEST_SUBJECT, "action": action}, x=_rotations(windows, 32, representation))
    test.close()
    return output.finish()


def prepare_amass(
    src_dir: str | PathLike[str],
    out_dir: str | PathLike[str],
    seed_length: int = 120,
    target_length: int = 24,
    stride: int | None = None,
    representation: str = "matrix",
    splits: dict[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """AMASS takes (``{sub-dataset}/.../*.npz``) -> 60 fps windows of the 15 major joints (ST-Transformer).

    Each take is brought to 60 fps and reduced to ``amass15`` rotations (:func:`skeletal.data.amass.load_amass`),
    then cut into windows of ``seed_length + target_length`` frames every ``stride`` (default: the window
    length). The split of a take is that of its sub-dataset (first folder under ``src_dir``), by
    :data:`AMASS_SPLITS` unless ``splits`` (``{"val": [...], "test": [...]}``) is given; the rest is ``train``.
    """
    from skeletal.data.amass import AMASS_TARGET_FPS, load_amass

    src = Path(src_dir)
    if not src.is_dir():
        raise DataError("AMASS folder not found (expected SUB_DATASET/SUBJECT/*_poses.npz)", src)
    files = sorted(p for p in src.rglob("*.npz") if p.is_file())
    if not files:
        raise DataError("no .npz take under the folder", src)
    chosen = {k: tuple(v) for k, v in (splits or AMASS_SPLITS).items()}
    length = seed_length + target_length
    step = stride or length
    output = _Output(
        out_dir,
        "amass",
        "prediction",
        "amass15",
        AMASS_TARGET_FPS,
        seed_length=seed_length,
        target_length=target_length,
        stride=step,
        representation=representation,
        splits={k: list(v) for k, v in chosen.items()},
    )
    from skeletal.geometry.rotations import convert_rotations

    shape = (length, 15, _channels(15, representation))
    writers = {name: output.split(name, {"x": shape}) for name in ("train", "val", "test")}
    for path in files:
        relative = path.relative_to(src).as_posix()
        dataset = relative.split("/")[0] if "/" in relative else ""
        split = next((name for name, members in chosen.items() if dataset in members), "train")
        try:
            rotations = load_amass(path).rotations
        except DataError as error:
            output.skip(relative, str(error))
            continue
        assert rotations is not None
        if len(rotations) < length:
            output.skip(relative, f"{len(rotations)} frames at 60 fps, fewer than one {length}-frame window")
            continue
        starts = np.arange(0, len(rotations) - length + 1, step)
        windows = rotations[starts[:, None] + np.arange(length)].astype(np.float64)
        x = np.asarray(convert_rotations(windows, "matrix", representation, flat_matrix=True), dtype=np.float32)
        writers[split].add({"file": relative, "sub_dataset": dataset, "frames": len(rotations)}, x=x)
    for writer in writers.values():
        writer.close()
    return output.finish()
