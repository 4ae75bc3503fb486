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
) -> dict[str, Any]:
    """The CMU benchmark (``cmu-mocap-expmap``: ``train/`` and ``test/`` exp-map takes) for one task.

    - ``prediction``: ``train`` = every ``stride``-th window of ``input_length + target_length`` frames of the
      training takes (LTD uses stride 1), ``test`` = the 8 fixed windows per test take
      (:func:`skeletal.data.cmu.fixed_test_windows`); local rotations of ``cmu38``.
    - ``lifting``: every take seen from the default views (:func:`skeletal.data.cmu_lifting.load_cmu_lifting`,
      ``h36m17``), windowed as :func:`prepare_h36m_lifting` does (``stride`` is the frames between windows).
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
            30.0,
            receptive_field=receptive_field,
            chunk=chunk,
            stride=stride,
            actions=wanted,
        )
        for split in ("train", "test"):
            sequences = load_cmu_lifting(root, split, actions=wanted)
            _write_lifting(output, split, sequences, 17, receptive_field, chunk, False, stride)
        return output.finish()
    window = input_length + target_length
    output = _Output(
        out_dir,
        "cmu",
        "prediction",
        "cmu38",
        30.0,
        input_length=input_length,
        target_length=target_length,
        stride=stride,
        representation=representation,
        actions=wanted,
    )
    shape = (window, CMU_NUM_JOINTS, _channels(CMU_NUM_JOINTS, representation))
    for split in ("train", "test"):
        writer = output.split(split, {"x": shape})
        action_takes = load_cmu_benchmark(root, split, wanted)
        for action in CMU_ACTIONS:
            for path, frames in zip(list_takes(root, split, action), action_takes.get(action, [])):
                name = f"{split}:{action}/{path.name}"
                try:
                    if split == "train":
                        if len(frames) < window:
                            raise DataError(f"{len(frames)} frames, fewer than one {window}-frame window")
                        starts = np.arange(0, len(frames) - window + 1, stride)
                        windows = frames[starts[:, None] + np.arange(window)]
                    else:
                        windows = fixed_test_windows(frames, input_length, target_length)
                except DataError as error:
                    output.skip(name, str(error))
                    continue
                info = {"action": action, "take": path.name, "frames": len(frames)}
                writer.add(info, x=_rotations(windows, CMU_NUM_JOINTS, representation))
        writer.close()
    return output.finish()
