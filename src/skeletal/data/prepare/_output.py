"""Shared writers of :mod:`skeletal.data.prepare`: ``.npy`` arrays streamed to disk, splits with their sequences,
``meta.json``, ``skipped.json`` and ``fingerprint.json`` (the on-disk format is described in the package docstring).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.errors import DataError


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
        header: dict[str, Any] = {
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


def _window_starts(frames: int, chunk: int, stride: int) -> list[int]:
    starts = list(range(0, frames - chunk + 1, stride))
    if starts[-1] != frames - chunk:
        starts.append(frames - chunk)
    return starts
