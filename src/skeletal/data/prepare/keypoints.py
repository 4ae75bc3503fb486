"""One's own labelled clips (a folder of keypoint files and a label CSV) prepared for recognition training.

``skeletal prepare keypoints DIR OUT --labels labels.csv`` reads every clip the CSV names, in any format that
:func:`skeletal.data.keypoints.read_keypoints` reads (Kinetics/COCO-style JSON, a folder of OpenPose
``*_keypoints.json``, ``.npy``/``.npz``), a BVH file (3D joint positions by forward kinematics), or a video
(through MediaPipe, the optional ``[video]`` extra), and writes the arrays that ``skeletal train`` reads
(``source: arrays``; the format is in :mod:`skeletal.data.prepare`):

- ``train/x.npy`` ``(N, M, T, V, 3)`` float32 and ``train/y.npy`` ``(N,)`` int64, the same under ``val/`` (and
  ``test/`` when the CSV names it). Channels: ``x, y, score`` for 2D keypoints (score 0 and ``x = y = 0`` where a
  joint is missing), ``x, y, z`` for 3D joints.
- ``classes.txt`` (one class name per line, line ``i`` is label ``i``; ``skeletal eval --classes`` reads it),
  ``meta.json`` (layout, classes, channels, per split the clips with their file and label), ``fingerprint.json``,
  ``skipped.json`` and, for a layout that is not built in, ``layout.yaml`` (name it in the training config:
  ``model.kwargs.skeleton: OUT/layout.yaml``).

The label CSV has the columns ``file,label[,split]`` (a header row with these names is optional); ``file`` is
relative to ``DIR`` (a file or an OpenPose folder), ``split`` one of ``train``, ``val``, ``test``. Without a
``split`` column the clips of each class are split at random (``val_fraction``, ``seed``; at least one training
clip per class).

Each clip is normalised on its own, so that clips filmed at other sizes or distances compare: the mean position
of the layout's origin joint (its root unless the layout names another) over the clip is subtracted, and the
coordinates are divided by the median over frames of the person's extent (the larger side of the box around
its joints). Then it is resampled to ``frames`` frames (the nearest frame of evenly spaced times: a longer clip
is sub-sampled, a shorter one repeats frames), and its ``persons`` tracks with the most detected joints are kept
(missing ones are zeros).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal import skeletons
from skeletal.data.prepare._output import _Output
from skeletal.data.types import Keypoints
from skeletal.errors import ConfigError, DataError, SkeletalError
from skeletal.skeletons import Skeleton
from skeletal.skeletons.layouts import BUILTIN_LAYOUTS as BUILTIN

SPLITS = ("train", "val", "test")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
COORDINATES = ("2d", "3d")


@dataclass
class LabelRow:
    """One line of the label CSV."""

    file: str
    label: str
    split: str | None
    line: int


def read_labels(path: str | PathLike[str]) -> list[LabelRow]:
    """The rows of a ``file,label[,split]`` CSV (header optional, columns in that order without a header).

    Raises:
        DataError: No rows, a row without a file or label, an unknown split, some rows with a split and others
            without; the message names the CSV and the line.
    """
    from skeletal.data._safe import read_text

    path = Path(path)
    text = read_text(path, "a label CSV with the columns file,label[,split]")
    rows = [(number, [cell.strip() for cell in row]) for number, row in enumerate(csv.reader(text.splitlines()), 1)]
    rows = [(number, row) for number, row in rows if any(row) and not row[0].startswith("#")]
    if not rows:
        raise DataError("no rows (expected the columns file,label[,split])", path)
    columns = {"file": 0, "label": 1, "split": 2}
    if {"file", "label"} <= {cell.lower() for cell in rows[0][1]}:  # a header row: columns by name
        header = [cell.lower() for cell in rows[0][1]]
        columns = {name: header.index(name) for name in ("file", "label", "split") if name in header}
        rows = rows[1:]
    result = []
    for number, row in rows:
        cells = {name: row[index] if index < len(row) else "" for name, index in columns.items()}
        if not cells["file"] or not cells["label"]:
            raise DataError(f"expected file,label[,split], found {','.join(row)!r}"[:200], path, f"line {number}")
        split = cells.get("split") or None
        if split is not None and split not in SPLITS:
            raise DataError(f"unknown split {split!r} (expected {', '.join(SPLITS)})", path, f"line {number}")
        result.append(LabelRow(cells["file"], cells["label"], split, number))
    with_split = [row.split is not None for row in result]
    if any(with_split) and not all(with_split):
        missing = next(row for row in result if row.split is None)
        raise DataError("some rows name a split and this one does not: give every row one, or none (then "
                        "--val-fraction splits)", path, f"line {missing.line}")  # fmt: skip
    seen: dict[str, int] = {}
    for entry in result:
        if entry.file in seen:
            raise DataError(
                f"{entry.file!r} is listed twice (also line {seen[entry.file]})", path, f"line {entry.line}"
            )
        seen[entry.file] = entry.line
    return result


def _random_splits(labels: Sequence[int], val_fraction: float, seed: int) -> list[str]:
    """``train``/``val`` per clip: ``val_fraction`` of each class (rounded, at least one training clip kept)."""
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    splits = ["train"] * len(labels)
    array = np.asarray(labels)
    for label in sorted(set(labels)):
        members = np.flatnonzero(array == label)
        count = min(int(round(val_fraction * len(members))), len(members) - 1)
        for index in rng.permutation(members)[:count]:
            splits[int(index)] = "val"
    return splits


@dataclass
class _Clip:
    values: np.ndarray  # (M, T, V, C) coordinates (NaN where missing) and, for 2D, scores
    valid: np.ndarray  # (M, T, V)
    skeleton: Skeleton
    fps: float | None
    three_d: bool  # values are x, y, z (else x, y, score)


def _read_3d_array(path: Path) -> tuple[np.ndarray, Skeleton | None]:
    """``(M, T, V, 3)`` joints of an ``.npy``/``.npz`` (``poses_3d`` of ``skeletal lift``, ``x`` or one array)."""
    from skeletal.data.keypoints import read_array_file

    array, layout = read_array_file(path, ("poses_3d", "positions", "x"))
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != 3 or not np.issubdtype(array.dtype, np.number):
        raise DataError(f"expected 3D joints (T, V, 3) or (M, T, V, 3), got shape {array.shape}", path)
    return array.astype(np.float64), layout


def _bvh_layout(skeleton: Skeleton) -> Skeleton:
    """A BVH file's skeleton under a name of its joints and parents (files of one rig share it), sides by name."""
    digest = hashlib.sha1(repr((skeleton.joint_names, skeleton.parents)).encode()).hexdigest()[:8]
    names = [name.lower() for name in skeleton.joint_names]
    left, right = [], []
    for index, name in enumerate(names):
        for prefix, other in (("left", "right"), ("l", "r")):
            if name.startswith(prefix) and not name.startswith(other):
                partner = other + name[len(prefix) :]
                if partner in names and (prefix == "left" or name[1:2].isupper() or name[1:2] in "_ "):
                    left.append(index)
                    right.append(names.index(partner))
                    break
    return Skeleton(f"bvh_{digest}", skeleton.joint_names, skeleton.parents, tuple(left), tuple(right),
                    center=skeleton.root, source=f"BVH hierarchy ({skeleton.name})")  # fmt: skip


Detector = Callable[[Path], Keypoints]
"""Video -> 2D keypoints; the command line passes :func:`skeletal.inference.video.detect_keypoints` (MediaPipe)."""


def read_clip(
    path: str | PathLike[str],
    layout: str | Skeleton | None = None,
    coordinates: str = "2d",
    detector: Detector | None = None,
) -> _Clip:
    """One clip as ``(M, T, V, C)`` values (``x, y, score`` for 2D, ``x, y, z`` for 3D) and its layout.

    Raises:
        DataError: The file is missing or unreadable, or its joint count does not fit ``layout``.
        ConfigError: A video without a ``detector`` or without the ``[video]`` extra.
    """
    from skeletal.data.keypoints import read_keypoints

    path = Path(path)
    if not path.exists():
        raise DataError("file not found (listed in the label CSV)", path)
    suffix = path.suffix.lower()
    given = None if layout is None else skeletons.get(layout)
    if suffix == ".bvh":
        from skeletal.data.bvh import read_bvh

        motion = read_bvh(path)
        assert motion.positions is not None
        skeleton = given or _bvh_layout(motion.skeleton)
        if given is not None:
            given.check(motion.skeleton.num_joints, f"{path} (BVH)")
        values = motion.positions[None].astype(np.float64)
        return _Clip(values, np.asarray(np.isfinite(values).all(-1)), skeleton, motion.fps, three_d=True)
    if coordinates == "3d":
        if path.is_dir() or suffix not in (".npy", ".npz"):
            raise DataError("3D joints are read from .npy/.npz (T, V, 3) or .bvh; this is 2D keypoints (--coordinates "
                            "2d)", path)  # fmt: skip
        values, stored = _read_3d_array(path)
        if given is None and stored is None:
            from skeletal.data.keypoints import layout_by_count

            stored = layout_by_count(values.shape[2], path)
        layout_3d = given or stored
        assert layout_3d is not None
        _check_count(layout_3d, values.shape[2], path)
        return _Clip(values, np.asarray(np.isfinite(values).all(-1)), layout_3d, None, three_d=True)
    if suffix in VIDEO_SUFFIXES:
        if detector is None:
            raise ConfigError(f"{path}: a video needs a 2D detector: detector=skeletal.inference.video."
                              "detect_keypoints (the [video] extra; skeletal prepare keypoints passes it)")  # fmt: skip
        try:
            keypoints = detector(path)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from None
    else:
        keypoints = read_keypoints(path, given)
    values = np.concatenate([keypoints.points, keypoints.scores[..., None]], axis=-1).astype(np.float64)
    return _Clip(values, keypoints.scores > 0, keypoints.skeleton, keypoints.fps, three_d=False)


def _check_count(skeleton: Skeleton, count: int, path: Path) -> None:
    if count != skeleton.num_joints:
        raise DataError(f"{count} joints, but layout {skeleton.name!r} has {skeleton.num_joints} (--layout)", path)


def normalize_clip(clip: _Clip, frames: int, persons: int, path: Path) -> np.ndarray:
    """``(persons, frames, V, C)`` float32: centred, scaled, resampled, best tracks first (module docstring).

    Raises:
        DataError: The clip has no detected joint at all (every point NaN or of score 0).
    """
    values, valid = clip.values, clip.valid
    if not valid.any():
        raise DataError("no joint in any frame (every point is NaN or has score 0): nothing to learn from", path)
    spatial = 3 if clip.three_d else 2
    order = np.argsort(-valid.sum(axis=(1, 2)), kind="stable")[:persons]
    values, valid = values[order], valid[order]
    coords = np.where(valid[..., None], values[..., :spatial], np.nan)
    origin = coords[..., clip.skeleton.coordinate_origin, :]
    centre = np.nanmean(origin.reshape(-1, spatial), axis=0) if np.isfinite(origin).any() else None
    if centre is None:
        centre = np.nanmean(coords.reshape(-1, spatial), axis=0)
    with np.errstate(all="ignore"):
        extent = np.nanmax(coords, axis=2) - np.nanmin(coords, axis=2)  # (M, T, spatial)
    sizes = np.nanmax(extent, axis=-1)[np.isfinite(np.nanmax(extent, axis=-1))]
    scale = float(np.median(sizes)) if sizes.size and np.median(sizes) > 0 else 1.0
    normalised = (coords - centre) / scale
    out = np.zeros((*values.shape[:3], 3), dtype=np.float64)
    out[..., :spatial] = np.where(valid[..., None], normalised, 0.0)
    if spatial == 2:
        out[..., 2] = np.where(valid, values[..., 2], 0.0)
    times = np.rint(np.linspace(0, values.shape[1] - 1, frames)).astype(int)
    out = out[:, times]
    result = np.zeros((persons, frames, values.shape[2], 3), dtype=np.float32)
    result[: len(out)] = out
    return result


def prepare_keypoints(
    root: str | PathLike[str],
    out_dir: str | PathLike[str],
    labels: str | PathLike[str],
    layout: str | PathLike[str] | Skeleton | None = None,
    frames: int = 64,
    persons: int = 1,
    val_fraction: float = 0.2,
    seed: int = 0,
    classes: Sequence[str] | None = None,
    coordinates: str = "2d",
    detector: Detector | None = None,
) -> dict[str, Any]:
    """Prepare a folder of labelled clips for ``skeletal train`` (see the module docstring for what is written).

    Args:
        root: Folder of the clips (the CSV's ``file`` column is relative to it).
        out_dir: Output folder.
        labels: The ``file,label[,split]`` CSV.
        layout: Layout of the clips (name, layout file, :class:`Skeleton`); default the readers' (the JSON format,
            a BVH hierarchy, a ``joint_names`` array stored in the file, else the one layout with that joint count:
            17-joint arrays need it).
        frames: Frames per sample after resampling.
        persons: Tracks kept per sample (``M``).
        val_fraction: Without a ``split`` column: fraction of each class for validation.
        seed: Seed of that split.
        classes: Class names in label order; default the CSV's labels, sorted. A label outside it is an error.
        coordinates: ``"2d"`` keypoints (``x, y, score``) or ``"3d"`` joints (``.npy``/``.npz`` ``(T, V, 3)``; BVH
            files are always 3D).
        detector: Video -> 2D keypoints, for the clips that are videos (:data:`Detector`).

    Returns:
        The fingerprint (with ``skipped`` and ``out_dir``) and ``splits``: the number of clips per split.

    Raises:
        DataError: A clip the CSV names is missing or unreadable, has another joint count or layout than the
            others, has no detected joint; a label not in ``classes``; a class without a training clip.
    """
    if coordinates not in COORDINATES:
        raise ConfigError(f"--coordinates: expected 2d or 3d, got {coordinates!r}")
    if frames < 1 or persons < 1:
        raise ConfigError(f"--frames and --persons must be at least 1, got {frames} and {persons}")
    root, labels = Path(root), Path(labels)
    if not root.is_dir():
        raise DataError("folder of clips not found (DIR, the first argument)", root)
    rows = read_labels(labels)
    names = list(classes) if classes is not None else sorted({row.label for row in rows})
    for row in rows:
        if row.label not in names:
            from skeletal.errors import did_you_mean

            raise DataError(f"label {row.label!r} is not one of the classes ({', '.join(names)})"
                            f"{did_you_mean(row.label, names)}", labels, f"line {row.line}")  # fmt: skip
    targets = [names.index(row.label) for row in rows]
    splits = [row.split or "" for row in rows] if rows[0].split else _random_splits(targets, val_fraction, seed)
    given = None if layout is None else skeletons.get(layout)
    samples: list[np.ndarray] = []
    skeleton: Skeleton | None = given
    first_file = ""
    fps: set[float] = set()
    three_d: bool | None = None
    for row in rows:
        path = root / row.file
        try:
            clip = read_clip(path, skeleton, coordinates, detector)
            if three_d is not None and clip.three_d != three_d:
                raise DataError(f"{'3D joints' if clip.three_d else '2D keypoints'} among "
                                f"{'3D joints' if three_d else '2D keypoints'} (as {first_file})", path)  # fmt: skip
            three_d, first_file = clip.three_d, first_file or row.file
            if skeleton is None:
                skeleton = clip.skeleton
            elif clip.skeleton != skeleton and clip.skeleton.joint_names != skeleton.joint_names:
                raise DataError(f"layout {clip.skeleton.name!r} ({clip.skeleton.num_joints} joints), but {first_file} "
                                f"is {skeleton.name!r} ({skeleton.num_joints}); one layout per dataset (--layout)",
                                path)  # fmt: skip
            samples.append(normalize_clip(clip, frames, persons, path))
        except SkeletalError as error:
            if isinstance(error, DataError) and error.path is not None:
                raise
            raise type(error)(f"{path} (line {row.line} of {labels.name}): {error}") from None
        if clip.fps:
            fps.add(round(float(clip.fps), 3))
    assert skeleton is not None
    for label, name in enumerate(names):
        if not any(t == label and s == "train" for t, s in zip(targets, splits)):
            raise DataError(f"class {name!r} has no training clip (every class needs one)", labels)
    output = _Output(out_dir, "keypoints", "recognition", skeleton.name, fps.pop() if len(fps) == 1 else 0.0,
                     frames=frames, persons=persons, val_fraction=None if rows[0].split else val_fraction,
                     seed=seed, coordinates="3d" if three_d else "2d", labels=labels.name)  # fmt: skip
    shape = (persons, frames, skeleton.num_joints, 3)
    counts = {}
    for split in SPLITS:
        members = [i for i, s in enumerate(splits) if s == split]
        if not members:
            continue
        writer = output.split(split, {"x": shape, "y": ()}, {"y": np.int64})
        for i in members:
            info = {"file": rows[i].file, "label": targets[i], "class": names[targets[i]]}
            writer.add(info, x=samples[i][None], y=np.array([targets[i]]))
        writer.close()
        counts[split] = len(members)
    root_out = Path(out_dir)
    (root_out / "classes.txt").write_text("".join(f"{name}\n" for name in names))
    extra: dict[str, Any] = {"classes": names, "channels": ["x", "y", "z"] if three_d else ["x", "y", "score"]}
    if not (isinstance(layout, str) and layout in BUILTIN) and skeleton.name not in BUILTIN:  # custom: kept beside
        from skeletal.skeletons.layout_file import layout_to_dict, register_stored, write_layout

        write_layout(skeleton, root_out / "layout.yaml")
        register_stored(skeleton)
        extra.update(layout_file="layout.yaml", layout_definition=layout_to_dict(skeleton))
    summary = output.finish(**extra)
    return {**summary, **extra, "splits": counts}
