"""The CMU benchmark (``cmu-mocap-expmap``) prepared for prediction, lifting or recognition (the on-disk format is
in :mod:`skeletal.data.prepare`).
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.data.prepare._output import _Output
from skeletal.data.prepare.lifting import LIFTING_RECEPTIVE_FIELD, _write_lifting
from skeletal.data.prepare.prediction import _channels, _rotations
from skeletal.errors import DataError

CMU_TASKS = ("prediction", "lifting", "recognition")
CMU_FPS = 60.0
"""Frame rate of the prepared windows: the benchmark files are at 120 fps and the loaders keep every 2nd frame
(``benchmarks/cmu_frame_rate.py`` measures it from walking and running speed and stride period)."""


def _train_val_parts(frames: np.ndarray, window: int, val_fraction: float) -> dict[str, tuple[int, int]] | None:
    """Frame ranges ``[first, last)`` of one training take for ``train`` and ``val`` (the take's tail)."""
    count = len(frames)
    if count < window:
        return None
    held = max(int(np.ceil(val_fraction * count)), window) if val_fraction > 0 else 0
    if held == 0 or count - held < window:
        return {"train": (0, count)}
    return {"train": (0, count - held), "val": (count - held, count)}


def prepare_cmu(
    root: str | PathLike[str],
    out_dir: str | PathLike[str],
    task: str = "prediction",
    actions: Sequence[str] | None = None,
    input_length: int = 50,
    target_length: int = 25,
    stride: int = 10,
    representation: str = "matrix",
    receptive_field: int = LIFTING_RECEPTIVE_FIELD,
    chunk: int = 1,
    length: int = 64,
    window: int | None = None,
    val_fraction: float = 0.1,
    causal: bool = False,
) -> dict[str, Any]:
    """The CMU benchmark (``cmu-mocap-expmap``: ``train/`` and ``test/`` exp-map takes) for one task.

    - ``prediction``: local rotations of ``cmu38`` at 60 fps (every second frame of the 120 fps files, as the
      published loaders keep). ``train`` = every ``stride``-th window of ``window`` frames (default
      ``input_length + target_length``; LTD uses stride 1) of the first ``1 - val_fraction`` of each training
      take, ``val`` = the same windows of the last ``val_fraction`` of each take (at least one window; takes
      shorter than two windows go to ``train`` only), so validation windows never overlap training windows;
      ``test`` = the 8 fixed windows per test take of ``input_length`` seed + ``target_length`` frames
      (:func:`skeletal.data.cmu.fixed_test_windows`, LTD's draw).
    - ``lifting``: every take seen from the default views (:func:`skeletal.data.cmu_lifting.load_cmu_lifting`,
      ``h36m17``), windowed as :func:`prepare_h36m_lifting` does (``stride`` is the frames between windows;
      ``causal`` aligns each target with the last frame of its receptive field, for causal lifters).
    - ``recognition``: windows of ``length`` frames labelled by action
      (:func:`skeletal.data.cmu_recognition.cmu_recognition_splits`), ``x (N, 1, T, 38, 3)``, ``y (N,)``.
    """
    from skeletal.data.cmu import CMU_ACTIONS, CMU_NUM_JOINTS, fixed_test_windows, list_takes, load_cmu_benchmark

    if task not in CMU_TASKS:
        raise DataError(f"unknown task {task!r}; expected one of {', '.join(CMU_TASKS)}")
    root = Path(root)
    if not root.is_dir():
        raise DataError("CMU benchmark folder not found (expected train/ACTION/ACTION_N.txt)", root)
    wanted = list(actions) if actions is not None else None
    if task == "recognition":
        from skeletal.data.cmu_recognition import cmu_recognition_splits

        data = cmu_recognition_splits(root, length=length, actions=None if wanted is None else tuple(wanted))
        output = _Output(out_dir, "cmu", "recognition", "cmu38", data.fps, length=length)
        for name, arrays, takes in (("train", data.train, data.train_files), ("test", data.test, data.test_files)):
            writer = output.split(name, {"x": arrays["x"].shape[1:], "y": ()}, {"y": np.int64})
            for take in dict.fromkeys(takes.tolist()):
                rows = np.flatnonzero(takes == take)
                label = int(arrays["y"][rows[0]])
                writer.add(
                    {"take": take, "label": label, "action": data.classes[label]},
                    x=arrays["x"][rows],
                    y=arrays["y"][rows],
                )
            writer.close()
        for action in data.classes:  # takes too short for one window are left out by the splitter: list them
            for split in ("train", "test"):
                used = set((data.train_files if split == "train" else data.test_files).tolist())
                for path in list_takes(root, split, action):
                    if f"{split}/{action}/{path.name}" not in used:
                        output.skip(f"{split}:{action}/{path.name}", f"shorter than one {length}-frame window")
        return output.finish(classes=list(data.classes))
    if task == "lifting":
        from skeletal.data.cmu_lifting import load_cmu_lifting

        output = _Output(
            out_dir,
            "cmu",
            "lifting",
            "h36m17",
            CMU_FPS,
            receptive_field=receptive_field,
            chunk=chunk,
            causal=causal,
            stride=stride,
            actions=wanted,
        )
        for split in ("train", "test"):
            sequences = load_cmu_lifting(root, split, actions=wanted)
            _write_lifting(output, split, sequences, 17, receptive_field, chunk, causal, stride)
        return output.finish()
    window = window or input_length + target_length
    if not 0.0 <= val_fraction < 1.0:
        raise DataError(f"val_fraction must be in [0, 1), got {val_fraction}")
    output = _Output(
        out_dir,
        "cmu",
        "prediction",
        "cmu38",
        CMU_FPS,
        window=window,
        stride=stride,
        val_fraction=val_fraction,
        test_seed_frames=input_length,
        test_target_frames=target_length,
        representation=representation,
        actions=wanted,
    )
    channels = _channels(CMU_NUM_JOINTS, representation)
    shapes = {"train": window, "val": window, "test": input_length + target_length}
    writers = {name: output.split(name, {"x": (length, CMU_NUM_JOINTS, channels)}) for name, length in shapes.items()}
    for split in ("train", "test"):
        action_takes = load_cmu_benchmark(root, split, wanted)
        for action in CMU_ACTIONS:
            for path, frames in zip(list_takes(root, split, action), action_takes.get(action, [])):
                name = f"{split}:{action}/{path.name}"
                info = {"action": action, "take": path.name, "frames": len(frames)}
                if split == "test":
                    try:
                        windows = fixed_test_windows(frames, input_length, target_length)
                    except DataError as error:
                        output.skip(name, str(error))
                        continue
                    writers["test"].add(info, x=_rotations(windows, CMU_NUM_JOINTS, representation))
                    continue
                parts = _train_val_parts(frames, window, val_fraction)
                if parts is None:
                    output.skip(name, f"{len(frames)} frames, fewer than one {window}-frame window")
                    continue
                for part, (first, last) in parts.items():
                    starts = np.arange(first, last - window + 1, stride)
                    windows = frames[starts[:, None] + np.arange(window)]
                    part_info = {**info, "first_frame": first, "last_frame": last}
                    writers[part].add(part_info, x=_rotations(windows, CMU_NUM_JOINTS, representation))
    for writer in writers.values():
        writer.close()
    return output.finish()
