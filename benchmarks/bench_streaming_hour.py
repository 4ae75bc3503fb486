"""Streaming lifting of a long keypoint sequence: peak RSS and per-frame latency percentiles.

Usage: ``python benchmarks/bench_streaming_hour.py [--frames 216000] [--model videopose3d-27]``. One hour at
60 fps is 216,000 frames; on a slow machine pass fewer frames: the per-frame cost is constant (ring buffers),
so the printed extrapolation to one hour is the per-frame mean times 216,000.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from skeletal import models
from skeletal.inference.streaming import StreamingLifter

HOUR = 216_000


def rss_mb() -> float:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=HOUR)
    parser.add_argument("--model", default="videopose3d-27")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lifter = StreamingLifter(models.create(args.model, causal=True))
    rng = np.random.default_rng(0)
    block = torch.as_tensor(rng.uniform(-1, 1, (1000, lifter.model.skeleton.num_joints, 2)), dtype=torch.float32)
    latencies = np.empty(args.frames)
    rss = []
    start_rss = rss_mb()
    for t in range(args.frames):  # frames generated on the fly: the sequence is never held in memory
        begin = time.perf_counter()
        pose = lifter.step(block[t % 1000])
        latencies[t] = time.perf_counter() - begin
        if t % 10_000 == 0:
            rss.append(rss_mb())
            assert torch.isfinite(pose).all()
    p50, p95, p99, worst = np.percentile(latencies * 1e3, [50, 95, 99, 100])
    print(
        f"model {args.model}, {args.frames} frames, RSS start {start_rss:.1f} MB, sampled {min(rss):.1f}-"
        f"{max(rss):.1f} MB, peak (ru_maxrss) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB"
    )
    print(f"latency ms: p50 {p50:.2f}, p95 {p95:.2f}, p99 {p99:.2f}, max {worst:.2f}; total {latencies.sum():.1f} s")
    tenths = np.array_split(latencies, 10)
    print("median latency per tenth of the stream (ms):", " ".join(f"{np.median(x) * 1e3:.2f}" for x in tenths))
    if args.frames < HOUR:
        print(f"extrapolated one hour ({HOUR} frames): {latencies.mean() * HOUR / 60:.1f} min of compute")


if __name__ == "__main__":
    main()
