"""One-command preparation of Human3.6M, AMASS, HumanEva-I and the CMU benchmark for ``skeletal train``.

Every ``prepare_*`` function writes, under ``out_dir``:

- ``{split}/x.npy`` (and ``{split}/y.npy``), channels-last float32 arrays (labels int64) that
  :func:`skeletal.tasks.data.load_split` opens memory-mapped: set ``data.train: OUT/train`` and
  ``data.val: OUT/test`` (or ``OUT/val``). Shapes per task: lifting ``x (N, RF + chunk - 1, V, 2)`` screen
  normalised, ``y (N, chunk, V, 3)`` camera-frame metres relative to the root; prediction ``x (N, T, V, F)``
  local rotations (``F = 9``: row-major matrices by default); recognition ``x (N, 1, T, V, 3)``, ``y (N,)``.
- ``meta.json``: dataset, task, layout, fps, options, class names, and per split the *sequences* (subject,
  action, camera or take) with the range ``[first, first + count)`` of their windows, so windows never cross
  sequences and results can be reported per action.
- ``fingerprint.json``: per array its shape, dtype and sha256 (and the options), to check a copy is the same.
- ``skipped.json``: every input left out (a take too short for one window, a camera without video, a file that
  does not read...) with the reason. Nothing is dropped without being listed there.

Arrays are streamed to disk sequence by sequence (a raw part file, then the ``.npy`` header and the data), so
datasets larger than memory can be prepared.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.errors import DataError

LIFTING_RECEPTIVE_FIELD = 27
AMASS_SPLITS: dict[str, tuple[str, ...]] = {
    "val": ("HumanEva", "MPI_HDM05", "SFU", "MPI_mosh"),
    "test": ("Transitions_mocap", "SSM_synced"),
}
"""AMASS's recommended split by sub-dataset (the AMASS repository's ``amass_splits``); every other
sub-dataset (CMU, KIT, BMLrub, ACCAD...) is training data."""
CMU_TASKS = ("prediction", "lifting", "recognition")


class _NpyWriter:
    """Appends blocks ``(n, *trailing)`` to ``path`` and writes a standard ``.npy`` file on :meth:`close`."""

    def __init__(self, path: Path, trailing: tuple[int, ...], dtype: Any = np.float32):
        self.path, self.trailing, self.dtype = path, tuple(int(t) for t in trailing), np.dtype(dtype)
        self.part = path.with_name(path.name + ".part")
        self.file = self.part.open("wb")
        self.count = 0

    def append(self, block: np.ndarray) -> None:
        if tuple(block.shape[1:]) != self.trailing:
            raise DataError(f"expected blocks (n, {self.trailing}), got {block.shape}", self.path)
        self.file.write(np.ascontiguousarray(block, dtype=self.dtype).tobytes())
        self.count += len(block)

    def close(self) -> dict[str, Any]:
        self.file.close()
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": (self.count, *self.trailing),
        }
        digest = hashlib.sha256()
        with self.path.open("wb") as out:
            np.lib.format.write_array_header_1_0(out, header)
            with self.part.open("rb") as data:
                shutil.copyfileobj(data, out)
        self.part.unlink()
        with self.path.open("rb") as written:
            for block in iter(lambda: written.read(1 << 20), b""):
                digest.update(block)
        return {"shape": list(header["shape"]), "dtype": self.dtype.name, "sha256": digest.hexdigest()}


class _Output:
    """The folder being written: arrays per split, sequences, skipped inputs, then the json files."""

    def __init__(self, out_dir: str | PathLike[str], dataset: str, task: str, layout: str, fps: float, **options: Any):
        self.root = Path(out_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.meta: dict[str, Any] = {
            "dataset": dataset,
            "task": task,
            "layout": layout,
            "fps": fps,
            "options": options,
            "splits": {},
        }
        self.skipped: list[dict[str, str]] = []
        self.files: dict[str, dict[str, Any]] = {}

    def skip(self, sample: str, reason: str) -> None:
        self.skipped.append({"sample": sample, "reason": reason})

    def split(self, name: str, shapes: dict[str, tuple[int, ...]], dtypes: dict[str, Any] | None = None) -> _Split:
        (self.root / name).mkdir(exist_ok=True)
        writers = {
            key: _NpyWriter(self.root / name / f"{key}.npy", shape, (dtypes or {}).get(key, np.float32))
            for key, shape in shapes.items()
        }
        return _Split(self, name, writers)

    def finish(self, **extra: Any) -> dict[str, Any]:
        self.meta.update(extra)
        (self.root / "meta.json").write_text(json.dumps(self.meta, indent=1))
        (self.root / "skipped.json").write_text(json.dumps(self.skipped, indent=1))
        fingerprint = {key: self.meta[key] for key in ("dataset", "task", "layout", "fps", "options")}
        fingerprint["files"] = self.files
        for name in ("meta.json", "skipped.json"):
            fingerprint["files"][name] = {"sha256": hashlib.sha256((self.root / name).read_bytes()).hexdigest()}
        (self.root / "fingerprint.json").write_text(json.dumps(fingerprint, indent=1))
        return {**fingerprint, "skipped": self.skipped, "out_dir": str(self.root)}


class _Split:
    def __init__(self, output: _Output, name: str, writers: dict[str, _NpyWriter]):
        self.output, self.name, self.writers = output, name, writers
        self.sequences: list[dict[str, Any]] = []

    def add(self, info: dict[str, Any], **arrays: np.ndarray) -> None:
        """Append the windows of one sequence (``info`` describes it: subject, action, take...)."""
        first = next(iter(self.writers.values())).count
        for key, writer in self.writers.items():
            writer.append(arrays[key])
        self.sequences.append({**info, "first": first, "count": len(arrays[next(iter(self.writers))])})

    def close(self, **extra: Any) -> None:
        for key, writer in self.writers.items():
            self.output.files[f"{self.name}/{key}.npy"] = writer.close()
        count = next(iter(self.writers.values())).count
        self.output.meta["splits"][self.name] = {"num_samples": count, "sequences": self.sequences, **extra}


# ------------------------------------------------------------------------------------------------ lifting
def _window_starts(frames: int, chunk: int, stride: int) -> list[int]:
    starts = list(range(0, frames - chunk + 1, stride))
    if starts[-1] != frames - chunk:
        starts.append(frames - chunk)
    return starts


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
        out_dir: Output folder (see the module docstring).
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
    ``Validate/S1..S3``, actions Walk, Jog, Box by default; 15 joints (``humaneva15``), 2D normalised by 640 x 480,
    3D in each camera's frame (the published extrinsics) relative to the root. Arguments as
    :func:`prepare_h36m_lifting`; ``actions`` are name prefixes.
    """
    from skeletal.data.humaneva import (
        HUMANEVA_ACTIONS,
        HUMANEVA_CAMERA_EXTRINSICS,
        HUMANEVA_FPS,
        HUMANEVA_IMAGE_SIZE,
        HUMANEVA_TEST_SUBJECTS,
        HUMANEVA_TRAIN_SUBJECTS,
        load_humaneva_2d,
        load_humaneva_3d,
    )
    from skeletal.geometry.camera import normalize_screen_coordinates, world_to_camera

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
    width, height = HUMANEVA_IMAGE_SIZE

    def sequences(subjects: tuple[str, ...], split: str) -> Iterable[dict[str, Any]]:
        for subject in subjects:
            if subject not in motions:
                output.skip(f"{split}:{subject}", f"subject not in {Path(positions_3d).name}")
                continue
            extrinsics = HUMANEVA_CAMERA_EXTRINSICS[subject.split("/")[-1]]
            for action, motion in motions[subject].items():
                world = np.asarray(motion.positions, dtype=np.float64)
                cameras = views.get(subject, {}).get(action)
                if cameras is None:
                    output.skip(f"{split}:{subject}/{action}", "no 2D keypoints for this action")
                    continue
                for index, ((quaternion, position), view) in enumerate(zip(extrinsics, cameras)):
                    name = f"{split}:{subject}/{action}/{index}"
                    if view is None:
                        output.skip(name, "camera without 2D keypoints (None)")
                        continue
                    if len(view) < len(world):
                        output.skip(name, f"{len(view)} 2D frames for {len(world)} mocap frames")
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

    for split, subjects in (("train", HUMANEVA_TRAIN_SUBJECTS), ("test", HUMANEVA_TEST_SUBJECTS)):
        _write_lifting(output, split, sequences(subjects, split), 15, receptive_field, chunk, causal, stride)
    return output.finish()


# --------------------------------------------------------------------------------------------- prediction
def _rotations(frames: np.ndarray, num_joints: int, representation: str) -> np.ndarray:
    from skeletal.evaluation.prediction import expmap_rotations

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


# -------------------------------------------------------------------------------------------------- CMU
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
        takes = load_cmu_benchmark(root, split, wanted)
        for action in CMU_ACTIONS:
            for path, frames in zip(list_takes(root, split, action), takes.get(action, [])):
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
