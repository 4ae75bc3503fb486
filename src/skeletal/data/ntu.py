"""NTU RGB+D 60/120: the 2s-AGCN / ST-TR preparation pipeline and the benchmarks' splits, over the ``.skeleton``
files that :mod:`skeletal.data.ntu_format` reads.

Preparation follows ``lshiwjx/2s-AGCN`` ``data_gen/ntu_gendata.py`` (``read_xyz``, ``gendata``) and
``data_gen/preprocess.py`` (``pre_normalization``), which ST-TR reuses:

1. the first 4 body slots of every frame are read (slot = position in the frame's body list, not bodyID);
2. the 2 slots of largest motion energy (sum over x, y, z of the std over the slot's non-zero frames) are kept,
   ties to the later slot (the reference's ``argsort()[::-1]``);
3. the sequence is zero-padded to 300 frames;
4. null frames: a body whose first frame is empty has its non-empty frames moved to the front (interior gaps
   close too); then its trailing empty frames are filled by repeating its frames from the start;
5. centring: every non-empty joint minus the first body's joint 1 (spine middle) *of the same frame*;
6. rotation: the first body's frame-0 bone joint 0 -> joint 1 (hip -> spine) is rotated onto +z, then its
   frame-0 vector joint 4 -> joint 8 (left -> right shoulder) onto +x; both rotations apply to every
   non-empty frame of every body (``rotation_matrix(cross(v, axis), angle(v, axis))``).

Output is channels-last ``(N, M=2, T=300, V=25, C=3)`` float32 (the reference stores ``(N, C, T, V, M)``).
Splits: X-Sub (20 training performers) and X-View (cameras 2, 3) for NTU-60; X-Sub (53 training performers)
and X-Set (even setups) for NTU-120. The official lists of samples with missing skeletons (302 for NTU-60,
535 for NTU-120, from ``shahroudy/NTURGB-D``) ship in ``skeletal/data/resources``.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.data.ntu_format import (
    NUM_JOINTS,
    SAMPLE_NAME,
    NtuSampleId,
    parse_sample_name,
    read_ntu_skeleton,
    skeleton_xyz,
)
from skeletal.errors import DataError

MAX_FRAMES = 300
MAX_BODIES = 2
XSUB60_TRAIN = frozenset({1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38})
XVIEW_TRAIN_CAMERAS = frozenset({2, 3})
XSUB120_TRAIN = XSUB60_TRAIN | frozenset(
    {45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92, 93,
     94, 95, 97, 98, 100, 103}
)  # fmt: skip
BENCHMARKS = ("ntu60-xsub", "ntu60-xview", "ntu120-xsub", "ntu120-xset")
_MISSING_FILES = {
    "ntu60": "NTU_RGBD_samples_with_missing_skeletons.txt",
    "ntu120": "NTU_RGBD120_samples_with_missing_skeletons.txt",
}


def motion_energy(body: np.ndarray) -> float:
    """Sum over x, y, z of the std of a ``(T, V, 3)`` body over its non-zero frames (0 if none)."""
    valid = body[body.sum(axis=(1, 2)) != 0]
    return 0.0 if len(valid) == 0 else float(sum(valid[..., c].std() for c in range(3)))


def select_bodies(data: np.ndarray, count: int = MAX_BODIES) -> np.ndarray:
    """The ``count`` bodies of largest :func:`motion_energy`, ``(M, T, V, 3) -> (count, T, V, 3)``."""
    energy = np.array([motion_energy(body) for body in data])
    order = np.argsort(energy, kind="stable")[::-1][:count]
    return data[order]


def _rotation_onto(vector: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The reference's ``rotation_matrix(cross(v, t), angle_between(v, t))``: identity if either is ~0."""
    axis = np.cross(vector, target)
    if np.abs(vector).sum() < 1e-6 or np.abs(target).sum() < 1e-6:
        return np.eye(3)
    angle = np.arccos(np.clip(np.dot(vector / np.linalg.norm(vector), target / np.linalg.norm(target)), -1, 1))
    if np.abs(axis).sum() < 1e-6 or abs(angle) < 1e-6:
        return np.eye(3)
    axis = axis / np.linalg.norm(axis)
    skew = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * skew + (1 - np.cos(angle)) * skew @ skew


def pre_normalization(
    data: np.ndarray, z_axis: tuple[int, int] = (0, 1), x_axis: tuple[int, int] = (8, 4), center: int = 1
) -> np.ndarray:
    """2s-AGCN's ``pre_normalization`` on channels-last data, in place (steps 4-6 of the module docstring).

    Args:
        data: ``(N, M, T, V, 3)``, modified in place and returned.
        z_axis: ``(bottom, top)`` joints whose frame-0 bone of body 0 is rotated onto +z.
        x_axis: ``(a, b)`` joints whose frame-0 vector ``a - b`` of body 0 is rotated onto +x.
        center: Joint of body 0 subtracted per frame (1, the spine middle, for NTU; the neck for Kinetics).

    Shape:
        data: ``(N, M, T, V, C)`` channels-last.
    """
    for sample in data:
        if sample.sum() == 0:  # the reference tests sums, not "any non-zero"
            continue
        for body in sample:  # null frames
            if body.sum() == 0:
                continue
            if body[0].sum() == 0:
                kept = body[body.sum(axis=(1, 2)) != 0].copy()
                body[:] = 0
                body[: len(kept)] = kept
            filled = np.flatnonzero(body.sum(axis=(1, 2)) != 0)
            first = int(filled[-1]) + 1  # start of the trailing empty block, filled by repeating the frames
            if first < len(body):
                repeats = int(np.ceil((len(body) - first) / first))
                body[first:] = np.concatenate([body[:first]] * repeats)[: len(body) - first]
        main_center = sample[0][:, center : center + 1].copy()
        for body in sample:  # centring on body 0's centre joint, frame by frame
            if body.sum() != 0:
                body[:] = (body - main_center) * (body.sum(-1, keepdims=True) != 0)
        for axis_index, target in ((0, (0.0, 0.0, 1.0)), (1, (1.0, 0.0, 0.0))):
            if axis_index == 0:
                vector = sample[0, 0, z_axis[1]] - sample[0, 0, z_axis[0]]
            else:
                vector = sample[0, 0, x_axis[0]] - sample[0, 0, x_axis[1]]
            matrix = _rotation_onto(vector, np.asarray(target))
            for body in sample:
                if body.sum() != 0:
                    frames = body.sum(axis=(1, 2)) != 0
                    body[frames] = body[frames] @ matrix.T
    return data


def sample_array(path: str | PathLike[str], max_frames: int = MAX_FRAMES) -> np.ndarray:
    """One sample as the reference's ``read_xyz`` + zero padding: ``(2, max_frames, 25, 3)``, not normalised.

    Raises:
        DataError: The file is corrupt or has more than ``max_frames`` frames.
    """
    skeleton = read_ntu_skeleton(path)
    if skeleton.num_frames > max_frames:
        raise DataError(f"{skeleton.num_frames} frames, more than the {max_frames} of the protocol", path)
    bodies = select_bodies(skeleton_xyz(skeleton))
    out = np.zeros((MAX_BODIES, max_frames, NUM_JOINTS, 3))
    out[:, : skeleton.num_frames] = bodies
    return out


def missing_skeleton_samples(dataset: str = "ntu120") -> frozenset[str]:
    """The official names of samples with missing skeletons (``"ntu60"``: 302, ``"ntu120"``: 535)."""
    if dataset not in _MISSING_FILES:
        raise DataError(f"dataset must be one of {sorted(_MISSING_FILES)}, got {dataset!r}")
    text = resources.files("skeletal.data").joinpath("resources").joinpath(_MISSING_FILES[dataset]).read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if SAMPLE_NAME.fullmatch(line.strip()))


def is_training(sample: NtuSampleId, benchmark: str) -> bool:
    """Whether a sample is in the training part of ``benchmark`` (one of :data:`BENCHMARKS`)."""
    if benchmark == "ntu60-xsub":
        return sample.performer in XSUB60_TRAIN
    if benchmark == "ntu60-xview":
        return sample.camera in XVIEW_TRAIN_CAMERAS
    if benchmark == "ntu120-xsub":
        return sample.performer in XSUB120_TRAIN
    if benchmark == "ntu120-xset":
        return sample.setup % 2 == 0
    raise DataError(f"unknown benchmark {benchmark!r}; expected one of {', '.join(BENCHMARKS)}")


def prepare_ntu(
    src_dir: str | PathLike[str],
    out_dir: str | PathLike[str],
    benchmark: str,
    chunk: int = 256,
    max_frames: int = MAX_FRAMES,
) -> dict:
    """Prepare an NTU benchmark: ``{part}_data.npy`` ``(N, 2, 300, 25, 3)`` float32 (memory-mappable),
    ``{part}_label.json`` (sample names and zero-based labels), ``fingerprint.json`` and ``skipped.json``.

    NTU-60 benchmarks keep setups 1-17 only (the NTU-60 files); NTU-120 uses every file. Samples on the
    official missing-skeleton list, files whose name is not an NTU name and files that fail to read are
    skipped and *listed* (name and reason) in ``skipped.json`` and in the returned summary.

    Args:
        src_dir: Folder of ``.skeleton`` files.
        out_dir: Output folder (created).
        benchmark: One of :data:`BENCHMARKS`.
        chunk: Samples read and normalised at a time (bounds memory). Progress is saved after each chunk
            (``{part}_progress.json``): rerunning an interrupted preparation on the same files resumes it.
        max_frames: Frames per sample (300).

    Returns:
        The fingerprint dict (``benchmark``, per part ``shape``, ``num_samples``, ``label_sha256``,
        ``data_sha256``) plus ``skipped``.
    """
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    if benchmark not in BENCHMARKS:
        raise DataError(f"unknown benchmark {benchmark!r}; expected one of {', '.join(BENCHMARKS)}")
    if not src_dir.is_dir():
        raise DataError("source folder of .skeleton files not found", src_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    missing = missing_skeleton_samples(benchmark.split("-")[0])
    skipped: list[dict[str, str]] = []
    parts: dict[str, list[tuple[Path, NtuSampleId]]] = {"train": [], "val": []}
    for path in sorted(src_dir.glob("*.skeleton")):
        try:
            sample = parse_sample_name(path.name)
        except DataError:
            skipped.append({"sample": path.name, "reason": "name is not SsssCcccPpppRrrrAaaa"})
            continue
        if benchmark.startswith("ntu60") and sample.setup > 17:
            continue  # an NTU-120 file, not part of NTU-60 (not a skip)
        if path.stem in missing:
            skipped.append({"sample": path.stem, "reason": "official list of samples with missing skeletons"})
            continue
        parts["train" if is_training(sample, benchmark) else "val"].append((path, sample))

    fingerprint: dict = {"benchmark": benchmark, "layout": "ntu25", "axes": "N M T V C", "parts": {}}
    for part, samples in parts.items():
        data_path = out_dir / f"{part}_data.npy"
        shape = (len(samples), MAX_BODIES, max_frames, NUM_JOINTS, 3)
        # Resumable: after each chunk the rows are synced to disk and {part}_progress.json records how far it got;
        # a rerun on the same inputs continues from there (the progress file is removed when the part is done).
        progress_path = out_dir / f"{part}_progress.json"
        inputs = [path.name for path, _ in samples]
        state: dict[str, Any] = {"inputs": inputs, "max_frames": max_frames, "done": 0, "kept": [], "skipped": []}
        if progress_path.is_file() and data_path.is_file():
            saved = json.loads(progress_path.read_text())
            if {k: saved.get(k) for k in ("inputs", "max_frames")} == {"inputs": inputs, "max_frames": max_frames}:
                state = saved
        if not state["done"]:
            _create_npy(data_path, shape)
        by_stem = {path.stem: (path, sample) for path, sample in samples}
        kept: list[tuple[Path, NtuSampleId]] = [by_stem[stem] for stem in state["kept"]]
        with _NpyRows(data_path, "r+b") as rows:
            for start in range(state["done"], len(samples), chunk):
                batch, names = [], []
                for path, sample in samples[start : start + chunk]:
                    try:
                        batch.append(sample_array(path, max_frames))
                        names.append((path, sample))
                    except DataError as error:
                        state["skipped"].append({"sample": path.stem, "reason": str(error)})
                if batch:
                    rows.write(len(kept), pre_normalization(np.stack(batch)))
                    kept.extend(names)
                rows.sync()  # the rows are on disk before the progress file says so
                state.update(done=min(start + chunk, len(samples)), kept=[p.stem for p, _ in kept])
                temporary = progress_path.with_suffix(".tmp")
                temporary.write_text(json.dumps(state))
                temporary.replace(progress_path)
        skipped.extend(state["skipped"])
        if len(kept) != len(samples):  # rewrite without the failed rows (they were never written)
            tmp_path = out_dir / f"{part}_data.tmp.npy"
            _create_npy(tmp_path, (len(kept), *shape[1:]))
            with _NpyRows(data_path, "rb") as old, _NpyRows(tmp_path, "r+b") as new:
                for start in range(0, len(kept), chunk):
                    new.write(start, old.read(start, min(chunk, len(kept) - start)))
                new.sync()
            tmp_path.replace(data_path)
        labels = {"sample_names": [p.stem for p, _ in kept], "labels": [s.label for _, s in kept]}
        label_path = out_dir / f"{part}_label.json"
        label_path.write_text(json.dumps(labels))
        progress_path.unlink(missing_ok=True)
        fingerprint["parts"][part] = {
            "data": data_path.name,
            "labels": label_path.name,
            "shape": [len(kept), MAX_BODIES, max_frames, NUM_JOINTS, 3],
            "num_samples": len(kept),
            "label_sha256": _sha256(label_path),
            "data_sha256": _sha256(data_path),
        }
    fingerprint["num_skipped"] = len(skipped)
    (out_dir / "skipped.json").write_text(json.dumps(skipped, indent=1))
    (out_dir / "fingerprint.json").write_text(json.dumps(fingerprint, indent=1))
    return {**fingerprint, "skipped": skipped}


def _create_npy(path: Path, shape: tuple[int, ...]) -> None:
    """An ``.npy`` file of float32 zeros of ``shape`` (sparse on disk until written)."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    del array  # closes the map; nothing was written through it


class _NpyRows:
    """Rows of a float32 C-order ``.npy`` file read and written through the file, never memory-mapped.

    Writing through a memory map would leave every written page of the output resident in the process (its
    file-backed RSS grows with the dataset, 180 KB per NTU sample, until the kernel reclaims the page cache);
    plain positioned writes keep the process at one chunk.
    """

    def __init__(self, path: Path, mode: str) -> None:
        self.handle = path.open(mode)
        version = np.lib.format.read_magic(self.handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(self.handle)
        if fortran or dtype != np.dtype("<f4"):
            raise DataError(f"expected a little-endian float32 C-order array, got {dtype} (fortran={fortran})", path)
        self.offset, self.row_shape = self.handle.tell(), tuple(shape[1:])
        self.row_bytes = int(np.prod(self.row_shape, dtype=np.int64)) * 4

    def write(self, index: int, rows: np.ndarray) -> None:
        self.handle.seek(self.offset + index * self.row_bytes)
        self.handle.write(np.ascontiguousarray(rows, dtype="<f4").tobytes())

    def read(self, index: int, count: int) -> np.ndarray:
        self.handle.seek(self.offset + index * self.row_bytes)
        data = self.handle.read(count * self.row_bytes)
        return np.frombuffer(data, dtype="<f4").reshape(count, *self.row_shape)

    def sync(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def __enter__(self) -> _NpyRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
