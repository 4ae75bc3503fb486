"""2D keypoint sequences -> :class:`~skeletal.data.types.Keypoints`, dispatching on the file format.

Formats:

- COCO keypoint JSON: a detector's results list or an annotation file, one entry per person and frame
  (:func:`read_coco_json`).
- Kinetics-skeleton style JSON (``{"label", "label_index", "data": [{"frame_index", "skeleton": [{"pose",
  "score"}]}]}``); ``pose`` flat ``[x0, y0, x1, y1, ...]`` or nested ``[[x, y], ...]``, ``score`` flat or nested
  ``[[s], ...]``. Frames are placed by ``frame_index - min(frame_index)`` (gaps become missing frames); tracks
  are the skeleton *index* within each frame (``skeleton[m]`` -> track ``m``): the format has no identities.
  A ``frame_index`` that repeats is an error (one of the two frames would be lost).
- OpenPose per-frame JSON: a directory of ``*_keypoints.json`` (placed by their frame number, a missing file
  a missing frame; sorted by name when the names carry no number) with
  ``people[].pose_keypoints_2d`` flat ``x, y, c``; 18 joints (COCO-18, layout ``openpose18``) or 25 (BODY_25;
  layout ``openpose25`` when registered, else mapped to ``openpose18`` by dropping MidHip and the 6 foot
  points, recorded in ``meta["converted_from"]``). Tracks: person index per frame.
- ``.npy`` / ``.npz``: ``(T, V, 2|3)`` or ``(M, T, V, 2|3)``, the 3rd channel a confidence; an ``.npz`` must
  hold one array or a ``keypoints`` array. Loaded without pickle.

Missing joints (score 0 or a non-finite coordinate; ``(0, 0)`` / ``(-1, -1)`` with score 0 included) become
NaN points with score 0; without a confidence channel, scores are 1 where the point is finite.
The layout comes from ``layout``; else, for the JSON formats, from the format and the joint count (COCO 17 ->
``coco17``, OpenPose 18 -> ``openpose18``); else (``.npy``/``.npz``) from a ``joint_names`` array in the file or
the one registered layout with that joint count: 17 joints (``coco17`` or ``h36m17``?) need ``layout``.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal import skeletons
from skeletal.data._safe import (
    NPY_ERRORS,
    check_allocation,
    load_json,
    member_info,
    npz_keys,
    parse_json,
    read_npy,
    read_text,
    scan_json_object,
)
from skeletal.data.types import Keypoints
from skeletal.errors import ConfigError, DataError
from skeletal.skeletons import Skeleton

LAYOUT_BY_COUNT = {17: "coco17", 18: "openpose18", 25: "openpose25"}
BODY25_TO_COCO18 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)


LAYOUT_HINT = "say which with --layout NAME or --layout my_skeleton.yaml (layout= in Python)"


def layout_by_count(count: int, path: str | PathLike[str], what: str = "joints") -> Skeleton:
    """The one registered layout with ``count`` joints; several (17: ``coco17`` and ``h36m17``) or none is a
    :class:`DataError` naming the file and the ``--layout`` flag, never a silent guess."""
    fits = [name for name in skeletons.names() if skeletons.get(name).num_joints == count]
    if len(fits) == 1:
        return skeletons.get(fits[0])
    if fits:
        raise DataError(f"{count} {what} fit the layouts {' and '.join(fits)}: {LAYOUT_HINT}", path)
    raise DataError(f"no known layout has {count} {what}: {LAYOUT_HINT}", path)


def stored_layout(names: Any, path: str | PathLike[str]) -> Skeleton:
    """The registered layout whose joint names are ``names`` (an array a file stores, as ``skeletal lift`` writes)."""
    wanted = tuple(str(name) for name in np.asarray(names).reshape(-1).tolist())
    for name in skeletons.names():
        if skeletons.get(name).joint_names == wanted:
            return skeletons.get(name)
    raise DataError(f"the file's joint_names ({len(wanted)} joints, {', '.join(wanted[:3])}...) match no known layout; "
                    f"{LAYOUT_HINT}", path)  # fmt: skip


def _layout(layout: str | Skeleton | None, count: int, path: Path, by_format: bool = True) -> Skeleton:
    """``layout``, else the format's layout for ``count`` joints (``by_format``: COCO/OpenPose JSON), else the one
    registered layout with that many joints."""
    if layout is None:
        if not by_format or count not in LAYOUT_BY_COUNT:
            return layout_by_count(count, path)
        layout = LAYOUT_BY_COUNT[count]
    try:
        skeleton = skeletons.get(layout)
    except ConfigError as error:
        raise DataError(str(error), path) from None
    if skeleton.num_joints != count:
        raise DataError(f"layout {skeleton.name!r} has {skeleton.num_joints} joints, the file {count}", path)
    return skeleton


def _finish(points: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # cast first: a finite float64 beyond float32's range (1e308) would otherwise become inf after the test
    with np.errstate(over="ignore"):
        points, scores = points.astype(np.float32), scores.astype(np.float32)
    missing = (scores <= 0) | ~np.isfinite(points).all(-1) | ~np.isfinite(scores)
    points = np.where(missing[..., None], np.float32(np.nan), points)
    scores = np.where(missing, np.float32(0.0), scores)
    return points, scores


_load_json = load_json  # kept for kinetics.py and older imports


def _vector(value: Any, size: int, path: Path, where: str, what: str) -> np.ndarray:
    if not isinstance(value, list) or len(value) > 4 * size:  # bounds the conversion before numpy sees it
        raise DataError(f"{what}: expected a list of {size} numbers", path, where)
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise DataError(f"{what}: expected numbers", path, where) from None
    if array.size != size:
        raise DataError(f"{what}: expected {size} values, found {array.size}", path, where)
    return array


def _frame_index(frame: Any, n: int, first: dict[int, int], path: Path) -> int:
    """The ``frame_index`` of entry ``n`` of a Kinetics-style ``data`` list: a plain integer (not ``true``), used
    once (``first``: index -> entry; a repeated index would silently overwrite a frame), with a ``skeleton`` list
    of objects."""
    index = frame.get("frame_index") if isinstance(frame, dict) else None
    if type(index) is not int:  # bool is an int subclass: `true` is refused
        raise DataError(f"expected an integer 'frame_index', found {index!r}"[:120], path, f"data[{n}]")
    if index in first:
        raise DataError(f"frame_index {index} repeats data[{first[index]}] (a frame would be lost)", path,
                        f"data[{n}]")  # fmt: skip
    first[index] = n
    people = frame.get("skeleton", [])
    if not isinstance(people, list) or not all(isinstance(p, dict) for p in people):
        raise DataError("expected 'skeleton' to be a list of {pose, score} objects", path, f"data[{n}]")
    return index


def frame_indices(frames: list[Any], path: Path) -> list[int]:
    """The ``frame_index`` of each entry of a Kinetics-style ``data`` list (see :func:`_frame_index`)."""
    first: dict[int, int] = {}
    return [_frame_index(frame, n, first, path) for n, frame in enumerate(frames)]


class _KineticsFrames:
    """Collects the frames of a Kinetics-style ``data`` list one by one, as :func:`scan_json_object` decodes them:
    each person's pose and score are checked and kept as float32 arrays, the frame's Python objects dropped."""

    def __init__(self, path: Path, layout: str | Skeleton | None):
        self.path, self.layout = path, layout
        self.skeleton: Skeleton | None = None
        self.first: dict[int, int] = {}
        self.indices: list[int] = []
        self.people: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # (entry, slot, pose (V, 2), score (V,))

    def __call__(self, n: int, frame: Any) -> None:
        index = _frame_index(frame, n, self.first, self.path)
        self.indices.append(index)
        for m, person in enumerate(frame.get("skeleton", [])):
            if self.skeleton is None:  # the first person's pose tells the joint count
                pose = person.get("pose")
                if not isinstance(pose, list) or not pose:
                    raise DataError("no skeleton with a 'pose' list in any frame", self.path)
                count = len(pose) if isinstance(pose[0], list) else len(pose) // 2
                self.skeleton = _layout(self.layout, count, self.path)
            count = self.skeleton.num_joints
            where = f"data[{n}] (frame_index {index}), skeleton {m}"
            pose = _vector(person.get("pose"), 2 * count, self.path, where, "pose")
            score = _vector(person.get("score"), count, self.path, where, "score")
            with np.errstate(over="ignore"):  # beyond float32: inf, then missing (as _finish)
                self.people.append((n, m, pose.astype(np.float32).reshape(count, 2), score.astype(np.float32)))


def read_kinetics_style_json(path: str | PathLike[str], layout: str | Skeleton | None = None) -> Keypoints:
    """Read a Kinetics-skeleton style JSON (see the module docstring) into pixel or normalised keypoints.

    The ``data`` list is decoded frame by frame (:func:`scan_json_object`): 100,000 frames take the memory of
    their float32 keypoints, not of 5 million Python floats.
    """
    path = Path(path)
    text = read_text(path)
    collected = _KineticsFrames(path, layout)
    content = scan_json_object(text, path, "data", collected)
    if content is None:  # a list: COCO detector results
        return read_coco_json(parse_json(text, path), path, layout)
    del text
    if "annotations" in content:
        return read_coco_json(content, path, layout)
    if "data" in content or not collected.indices:
        raise DataError("expected a non-empty 'data' list of frames", path)
    if collected.skeleton is None:
        raise DataError("no skeleton with a 'pose' list in any frame", path)
    indices, skeleton, count = collected.indices, collected.skeleton, collected.skeleton.num_joints
    start = min(indices)
    num_frames = max(indices) - start + 1
    if num_frames > 100 * len(indices) + 1000:  # bounds the allocation by the file's content
        n = indices.index(max(indices))
        raise DataError(f"frame_index values span {num_frames} frames for {len(indices)} frame entries; corrupt "
                        f"frame_index?", path, f"data[{n}]")  # fmt: skip
    tracks = max(m for _, m, _, _ in collected.people) + 1
    check_allocation((tracks, num_frames, count, 3), 4, path, None, f"{tracks} people x {num_frames} frames")
    points = np.full((tracks, num_frames, count, 2), np.nan, dtype=np.float32)
    scores = np.zeros((tracks, num_frames, count), dtype=np.float32)
    for n, m, pose, score in collected.people:
        points[m, indices[n] - start], scores[m, indices[n] - start] = pose, score
    del collected
    points, scores = _finish(points, scores)
    return Keypoints(skeleton, points, scores, source=str(path), meta={**content, "first_frame_index": start})


def read_coco_json(content: Any, path: str | PathLike[str], layout: str | Skeleton | None = None) -> Keypoints:
    """COCO keypoints of a video's frames: a detector's results list ``[{"image_id", "keypoints": [x, y, v] * V,
    "score", "track_id"?}]`` or an annotation file ``{"images", "annotations": [...]}``.

    Frames are the distinct ``image_id`` values in order (numbers numerically, names by name); tracks are the
    ``track_id`` when every detection has one, else the detections of a frame by descending ``score``. The third
    value of a keypoint is its confidence (a COCO visibility flag 1 or 2 counts as 1; 0 is missing).
    """
    path = Path(path)
    detections = content.get("annotations") if isinstance(content, dict) else content
    if not isinstance(detections, list) or not detections or not all(isinstance(d, dict) for d in detections):
        raise DataError("expected a non-empty list of COCO detections {image_id, keypoints, score}", path)
    for n, detection in enumerate(detections):
        if type(detection.get("image_id")) not in (int, str) or not isinstance(detection.get("keypoints"), list):
            raise DataError("expected 'image_id' and a 'keypoints' list", path, f"detection {n}")
        if type(detection.get("score", 1.0)) not in (int, float):
            found = f"{detection.get('score')!r}"[:60]
            raise DataError(f"expected a number 'score', found {found}", path, f"detection {n}")
    if len({type(d["image_id"]) for d in detections}) > 1:
        raise DataError("image_id values mix numbers and names", path)
    count = len(detections[0]["keypoints"]) // 3
    skeleton = _layout(layout, count, path)
    images = sorted({d["image_id"] for d in detections})
    frame_of = {image: t for t, image in enumerate(images)}
    tracked = all(type(d.get("track_id")) is int for d in detections)
    tracks_of: dict[Any, int] = {}
    slots: list[tuple[int, int, np.ndarray]] = []
    per_frame: dict[int, int] = {}
    order = sorted(range(len(detections)), key=lambda n: -float(detections[n].get("score", 1.0)))
    for n in order:
        detection = detections[n]
        values = _vector(detection["keypoints"], 3 * count, path, f"detection {n}", "keypoints").reshape(count, 3)
        frame = frame_of[detection["image_id"]]
        if tracked:
            track = tracks_of.setdefault(detection["track_id"], len(tracks_of))
        else:
            track = per_frame.get(frame, 0)
            per_frame[frame] = track + 1
        slots.append((track, frame, values))
    tracks = 1 + max(track for track, _, _ in slots)
    check_allocation((tracks, len(images), count, 3), 8, path, None, f"{tracks} people x {len(images)} frames")
    points = np.full((tracks, len(images), count, 2), np.nan)
    scores = np.zeros((tracks, len(images), count))
    for track, frame, values in slots:
        points[track, frame] = values[:, :2]
        scores[track, frame] = np.where(values[:, 2] > 1, 1.0, values[:, 2])
    points, scores = _finish(points, scores)
    return Keypoints(skeleton, points, scores, source=str(path), meta={"format": "coco", "image_ids": images})


_OPENPOSE_NUMBER = re.compile(r"(\d+)_keypoints\.json")


def read_openpose_dir(path: str | PathLike[str], layout: str | Skeleton | None = None) -> Keypoints:
    """Read a directory of OpenPose ``*_keypoints.json`` files (one per frame).

    Frames are placed by the number before ``_keypoints.json`` (OpenPose's 12-digit frame counter) when every
    file has one, so that a missing file becomes a missing frame instead of shifting every later frame; files
    without numbers are taken in name order.
    """
    path = Path(path)
    files = sorted(path.glob("*_keypoints.json"))
    if not files:
        raise DataError("no *_keypoints.json file in the directory", path)
    matches = [_OPENPOSE_NUMBER.search(f.name) for f in files]
    if all(matches):
        numbers = [int(m.group(1)) for m in matches if m]
        repeated = len(set(numbers)) != len(numbers)
        if repeated:
            number = next(n for n in numbers if numbers.count(n) > 1)
            raise DataError(f"two files carry frame number {number}", path)
        slots = [n - min(numbers) for n in numbers]
        if max(slots) + 1 > 100 * len(files) + 1000:
            raise DataError(f"frame numbers span {max(slots) + 1} frames for {len(files)} files", path)
        order = sorted(range(len(files)), key=lambda i: slots[i])
        files, slots = [files[i] for i in order], [slots[i] for i in order]
    else:
        slots = list(range(len(files)))
    frames = []
    for file in files:
        content = _load_json(file)
        people = content.get("people") if isinstance(content, dict) else None
        if not isinstance(people, list):
            raise DataError("expected a 'people' list", file)
        poses = []
        for m, person in enumerate(people):
            flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
            if not isinstance(flat, list) or len(flat) % 3 or not flat:
                size = len(flat) if isinstance(flat, list) else "no"
                raise DataError(f"pose_keypoints_2d: expected 3 x joints values, found {size}", file, f"person {m}")
            poses.append(_vector(flat, len(flat), file, f"person {m}", "pose_keypoints_2d").reshape(-1, 3))
        frames.append(poses)
    counts = {p.shape[0] for poses in frames for p in poses}
    if len(counts) > 1:
        raise DataError(f"frames disagree on the joint count: {sorted(counts)}", path)
    count = counts.pop() if counts else (18 if layout is None else skeletons.get(layout).num_joints)
    meta: dict[str, Any] = {"files": [f.name for f in files]}
    if count == 25 and layout is None and "openpose25" not in skeletons.names():
        frames = [[p[list(BODY25_TO_COCO18)] for p in poses] for poses in frames]
        count, meta["converted_from"] = 18, "BODY_25"
    skeleton = _layout(layout, count, path)
    tracks = max(1, max(len(p) for p in frames))
    num_frames = slots[-1] + 1
    check_allocation((tracks, num_frames, count, 3), 8, path, None, f"{tracks} people x {num_frames} frames")
    values = np.zeros((tracks, num_frames, count, 3))
    values[..., :2] = np.nan
    for slot, poses in zip(slots, frames):
        for m, pose in enumerate(poses):
            values[m, slot] = pose
    if num_frames != len(files):
        meta["missing_frames"] = sorted(set(range(num_frames)) - set(slots))
    points, scores = _finish(values[..., :2], values[..., 2])
    return Keypoints(skeleton, points, scores, source=str(path), meta=meta)


def read_array_file(path: str | PathLike[str], keys: Sequence[str]) -> tuple[np.ndarray, Skeleton | None]:
    """The array of an ``.npy``, or of an ``.npz`` (the first of ``keys`` it holds, else its only array), and the
    layout the file stores (a ``joint_names`` array, as ``skeletal lift`` writes), without unpickling.

    Raises:
        DataError: An unreadable file, several arrays and none of ``keys``, joint names of no known layout.
    """
    path = Path(path)
    layout = None
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = npz_keys(archive)
                key = next((k for k in keys if k in names), names[0] if len(names) == 1 else None)
                if key is None:
                    raise DataError(f"expected one array or one of {', '.join(map(repr, keys))}, found keys {names}",
                                    path)  # fmt: skip
                info = member_info(archive, key, path)
                with archive.open(info) as stream:
                    array = read_npy(stream, info.file_size, path, f"key {key!r}")
                if "joint_names" in names:
                    info = member_info(archive, "joint_names", path)
                    with archive.open(info) as stream:
                        layout = stored_layout(read_npy(stream, info.file_size, path, "key 'joint_names'"), path)
        else:
            with path.open("rb") as stream:
                array = read_npy(stream, path.stat().st_size, path, None)
    except DataError:
        raise
    except NPY_ERRORS as error:
        raise DataError(f"not a readable numpy file (truncated or corrupt?): {error}", path) from None
    return array, layout


def read_keypoint_array(path: str | PathLike[str], layout: str | Skeleton | None = None) -> Keypoints:
    """Read ``.npy``/``.npz`` keypoints ``(T, V, 2|3)`` or ``(M, T, V, 2|3)``."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path)
    array, stored = read_array_file(path, ("keypoints", "keypoints_2d"))
    layout = stored if layout is None else layout
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] not in (2, 3) or array.shape[1] == 0:
        raise DataError(f"expected (T, V, 2|3) or (M, T, V, 2|3), got shape {array.shape}", path)
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise DataError(f"expected a numeric array, got dtype {array.dtype}", path)
    check_allocation(array.shape, 8, path, None, "the keypoints as float64")
    skeleton = _layout(layout, array.shape[2], path, by_format=False)
    array = array.astype(np.float64)
    points = array[..., :2]
    scores = array[..., 2] if array.shape[-1] == 3 else np.isfinite(points).all(-1).astype(np.float64)
    points, scores = _finish(points, scores)
    return Keypoints(skeleton, points, scores, source=str(path))


def read_keypoints(path: str | PathLike[str], layout: str | Skeleton | None = None) -> Keypoints:
    """Read 2D keypoints from any supported format (see the module docstring).

    Args:
        path: A ``.json`` (Kinetics style), a directory of OpenPose ``*_keypoints.json``, a ``.npy``/``.npz``.
        layout: Layout name or :class:`Skeleton`; by default from the joint count.

    Returns:
        :class:`Keypoints` with ``points (M, T, V, 2)`` (NaN where missing) and ``scores (M, T, V)``.

    Raises:
        DataError: Missing, empty, truncated or malformed file, a wrong joint count, non-numbers.
    """
    path = Path(path)
    if path.is_dir():
        return read_openpose_dir(path, layout)
    if not path.exists():
        raise DataError("file not found (expected .json, .npy, .npz or an OpenPose directory)", path)
    if path.stat().st_size == 0:
        raise DataError("empty file", path)
    if path.suffix.lower() == ".json":
        return read_kinetics_style_json(path, layout)
    if path.suffix.lower() in (".npy", ".npz"):
        return read_keypoint_array(path, layout)
    raise DataError(f"unknown keypoint format {path.suffix!r} (expected .json, .npy, .npz or a directory)", path)
