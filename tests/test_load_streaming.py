"""Load: streaming lifting in bounded memory, and resumable NTU preparation that holds one chunk at a time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from test_data_readers_ntu import person, write_skeleton

from skeletal import models
from skeletal.data import ntu
from skeletal.inference.streaming import StreamingLifter


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * 4096


def test_streaming_3000_frames_in_bounded_memory() -> None:
    torch.manual_seed(0)
    lifter = StreamingLifter(models.create("videopose3d-27", causal=True))
    rng = np.random.default_rng(0)
    frames = torch.as_tensor(rng.uniform(-1, 1, (3000, 17, 2)), dtype=torch.float32)
    latencies = []
    for t, frame in enumerate(frames):
        if t == 500:
            baseline = rss_bytes()
        start = time.perf_counter()
        pose = lifter.step(frame)
        latencies.append(time.perf_counter() - start)
        assert pose.shape == (17, 3)
        if t % 997 == 0:
            assert torch.isfinite(pose).all()
    growth = rss_bytes() - baseline
    assert growth < 50 * 2**20, f"RSS grew by {growth / 2**20:.1f} MB over 2,500 frames"
    assert torch.isfinite(pose).all() and lifter.frames == 3000
    early, late = np.median(latencies[500:1500]), np.median(latencies[-1000:])
    assert late < 3 * early + 1e-3  # steady per-frame cost, no growth with the stream's length


def _ntu_folder(folder: Path, count: int, rng: np.random.Generator) -> Path:
    folder.mkdir()
    for i in range(count):
        frames = 3 + i % 4
        bodies = [person(rng, frames)] if i % 2 else [person(rng, frames), person(rng, frames, offset=1.0)]
        path = folder / f"S001C00{1 + i % 3}P{1 + i % 7:03d}R{i:03d}A{1 + i % 5:03d}.skeleton"  # R: unique
        write_skeleton(path, [[b[t] for b in bodies] for t in range(frames)])
    (folder / "S001C001P001R999A001.skeleton").write_text("3\n1\nnot a body line\n")  # skipped, listed
    return folder


def _outputs(out: Path) -> dict:
    result = {p.name: np.load(p) for p in sorted(out.glob("*_data.npy"))}
    result.update({p.name: json.loads(p.read_text()) for p in sorted(out.glob("*.json"))})
    return result


def test_prepare_ntu_resumes_after_interruption(tmp_path: Path, monkeypatch) -> None:
    src = _ntu_folder(tmp_path / "raw", 300, np.random.default_rng(1))
    full = ntu.prepare_ntu(src, tmp_path / "full", "ntu60-xview", chunk=16, max_frames=8)
    assert full["parts"]["train"]["num_samples"] + full["parts"]["val"]["num_samples"] == 300
    assert full["num_skipped"] == 1

    original, calls, sizes = ntu.pre_normalization, [], []

    def failing(data: np.ndarray) -> np.ndarray:
        calls.append(1)
        sizes.append(len(data))
        if len(calls) == 5:
            raise KeyboardInterrupt("simulated crash after 4 chunks")
        return original(data)

    monkeypatch.setattr(ntu, "pre_normalization", failing)
    with pytest.raises(KeyboardInterrupt):
        ntu.prepare_ntu(src, tmp_path / "resumed", "ntu60-xview", chunk=16, max_frames=8)
    progress = json.loads((tmp_path / "resumed" / "train_progress.json").read_text())
    assert progress["done"] == 4 * 16
    assert max(sizes) <= 16  # never more than one chunk normalised (held) at a time
    sizes.clear()
    monkeypatch.setattr(ntu, "pre_normalization", lambda data: (sizes.append(len(data)), original(data))[1])
    resumed = ntu.prepare_ntu(src, tmp_path / "resumed", "ntu60-xview", chunk=16, max_frames=8)
    assert max(sizes) <= 16
    total = sum(resumed["parts"][p]["num_samples"] for p in ("train", "val"))
    assert sum(sizes) == total - len(progress["kept"])  # the 4 finished chunks are not redone
    assert resumed["parts"] == full["parts"]  # shapes and sha256 of data and labels
    a, b = _outputs(tmp_path / "full"), _outputs(tmp_path / "resumed")
    assert a.keys() == b.keys() and not list((tmp_path / "resumed").glob("*progress*"))
    for key in a:
        if key.endswith(".npy"):
            np.testing.assert_array_equal(a[key], b[key])
        else:
            assert a[key] == b[key], key
