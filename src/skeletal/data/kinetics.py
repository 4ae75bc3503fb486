"""Kinetics-skeleton (ST-GCN release): per-video JSON of OpenPose COCO-18 poses and the label JSON.

A video file is ``{"data": [{"frame_index": t, "skeleton": [{"pose": [x0, y0, ..., x17, y17], "score": [s0..s17]}]}],
"label": str, "label_index": int}`` with coordinates normalised to [0, 1]; the label file maps the video id to
``{"has_skeleton": bool, "label": str, "label_index": int}``.

Sample construction follows ``yysijie/st-gcn`` ``feeder/feeder_kinetics.py`` (``Feeder_kinetics.__getitem__``,
reused by 2s-AGCN's ``kinetics_gendata.py`` and ST-TR): the first 5 skeletons of each frame are read into slot
``frame_index`` (used as a zero-based index, as the reference does); ``x, y`` are centred (``- 0.5``) and set to 0
where the score is 0; then, *per frame*, the slots are sorted by total score (descending) and the first 2 kept.
Output channels-last ``(M=2, T=300, V=18, C=3)`` = ``(x - 0.5, y - 0.5, score)``.
Deviations: a ``frame_index`` outside ``0..299`` raises (the reference would crash or index from the end), and
so does a repeated ``frame_index`` (the reference overwrites the earlier frame).
"""

from __future__ import annotations

import hashlib
import json
from os import PathLike
from pathlib import Path

import numpy as np

from skeletal.data._safe import finite_float32, load_json
from skeletal.data.keypoints import _vector, frame_indices
from skeletal.errors import DataError

NUM_JOINTS = 18
MAX_FRAMES = 300
PERSONS_IN = 5
PERSONS_OUT = 2


def read_kinetics_json(
    path: str | PathLike[str],
    max_frames: int = MAX_FRAMES,
    persons_in: int = PERSONS_IN,
    persons_out: int = PERSONS_OUT,
) -> tuple[np.ndarray, int]:
    """One Kinetics-skeleton video as the reference feeder builds it.

    Returns:
        ``(data (persons_out, max_frames, 18, 3), label_index)``; ``data`` is float32.

    Raises:
        DataError: Missing or invalid JSON, no ``data`` list, a pose without 36 numbers or score without 18,
            a ``frame_index`` out of range; the message names the frame and skeleton.
    """
    path = Path(path)
    content = load_json(path)
    if not isinstance(content, dict) or not isinstance(content.get("data"), list):
        raise DataError("expected an object with a 'data' list", path)
    indices = frame_indices(content["data"], path)
    data = np.zeros((persons_in, max_frames, NUM_JOINTS, 3))
    for n, (frame, index) in enumerate(zip(content["data"], indices)):
        if not 0 <= index < max_frames:
            raise DataError(f"frame_index must be an integer in 0..{max_frames - 1}, found {index!r}", path,
                            f"data[{n}]")  # fmt: skip
        for m, skeleton in enumerate(frame.get("skeleton", [])[:persons_in]):
            where = f"data[{n}] (frame_index {index}), skeleton {m}"
            pose = _vector(skeleton.get("pose"), 2 * NUM_JOINTS, path, where, "pose")
            score = _vector(skeleton.get("score"), NUM_JOINTS, path, where, "score")
            # float32 range: the output is float32, where 1e308 would become inf
            if not (finite_float32(pose).all() and finite_float32(score).all()):
                raise DataError("NaN, inf or a value beyond float32 range in pose or score", path, where)
            data[m, index, :, 0], data[m, index, :, 1], data[m, index, :, 2] = pose[0::2], pose[1::2], score
    data[..., :2] -= 0.5
    data[..., :2][data[..., 2] == 0] = 0.0
    order = np.argsort(-data[..., 2].sum(axis=2), axis=0, kind="stable")  # (persons_in, T): per frame
    data = np.take_along_axis(data, order[:, :, None, None], axis=0)[:persons_out]
    label = content.get("label_index", -1)
    return data.astype(np.float32), label if type(label) is int else -1


def prepare_kinetics(
    src_dir: str | PathLike[str],
    label_path: str | PathLike[str],
    out_dir: str | PathLike[str],
    part: str = "train",
    chunk: int = 256,
) -> dict:
    """Write ``{part}_data.npy`` ``(N, 2, 300, 18, 3)`` float32, ``{part}_label.json``, ``{part}_fingerprint.json``
    and ``{part}_skipped.json``.

    Videos are those of the label file, in its order. Skipped and listed: ``has_skeleton`` false (the
    reference's ``ignore_empty_sample``), a missing file, a corrupt file, a label disagreeing with the file.
    """
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    labels = load_json(Path(label_path))
    if not isinstance(labels, dict):
        raise DataError("expected an object {video_id: {has_skeleton, label, label_index}}", label_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    skipped: list[dict[str, str]] = []
    names: list[str] = []
    for video, info in labels.items():
        if not isinstance(info, dict) or "label_index" not in info:
            raise DataError("entry without 'label_index'", label_path, f"key {video!r}")
        if not info.get("has_skeleton", True):
            skipped.append({"sample": video, "reason": "has_skeleton is false in the label file"})
        else:
            names.append(video)
    data_path = out_dir / f"{part}_data.npy"
    array = np.lib.format.open_memmap(data_path, mode="w+", dtype=np.float32,
                                      shape=(len(names), PERSONS_OUT, MAX_FRAMES, NUM_JOINTS, 3))  # fmt: skip
    kept: list[tuple[str, int]] = []
    for start in range(0, len(names), chunk):
        for video in names[start : start + chunk]:
            try:
                sample, label = read_kinetics_json(src_dir / f"{video}.json")
                if label != labels[video]["label_index"]:
                    raise DataError(f"label_index {label} but the label file says {labels[video]['label_index']}",
                                    src_dir / f"{video}.json")  # fmt: skip
            except DataError as error:
                skipped.append({"sample": video, "reason": str(error)})
                continue
            array[len(kept)] = sample
            kept.append((video, label))
    array.flush()
    del array
    if len(kept) != len(names):
        old = np.load(data_path, mmap_mode="r")
        final = np.array(old[: len(kept)])
        del old
        np.save(data_path, final)
    label_file = out_dir / f"{part}_label.json"
    label_file.write_text(json.dumps({"sample_names": [v for v, _ in kept], "labels": [lab for _, lab in kept]}))
    fingerprint = {
        "dataset": "kinetics-skeleton",
        "layout": "openpose18",
        "axes": "N M T V C",
        "part": part,
        "shape": [len(kept), PERSONS_OUT, MAX_FRAMES, NUM_JOINTS, 3],
        "label_sha256": hashlib.sha256(label_file.read_bytes()).hexdigest(),
        "num_skipped": len(skipped),
    }
    (out_dir / f"{part}_skipped.json").write_text(json.dumps(skipped, indent=1))
    (out_dir / f"{part}_fingerprint.json").write_text(json.dumps(fingerprint, indent=1))
    return {**fingerprint, "skipped": skipped}
