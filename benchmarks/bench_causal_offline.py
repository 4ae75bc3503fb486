"""Offline lifting with a causal model: layer by layer (:func:`skeletal.inference.lifting.lift_sequence`) against
frame by frame (:class:`skeletal.inference.streaming.StreamingLifter`), in frames per second, and the largest
difference between the two on the same sequence.

Run: ``python benchmarks/bench_causal_offline.py [--frames 100000] [--stream-frames 2000] [--model gast-net-27]``
(one torch thread; the weights are random: speed and equality do not depend on them).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from skeletal.inference.lifting import lift_sequence
from skeletal.inference.streaming import StreamingLifter
from skeletal.models import create


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000, help="frames lifted layer by layer")
    parser.add_argument("--stream-frames", type=int, default=2000, help="frames run through the streaming lifter")
    parser.add_argument("--model", default="gast-net-27")
    parser.add_argument("--out", default="benchmarks/results/causal_offline.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = create(args.model, causal=True).eval()
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(scale=0.01, size=(args.frames, model.skeleton.num_joints, 2)), axis=0)
    screen = (walk + rng.uniform(-0.5, 0.5, size=(1, model.skeleton.num_joints, 2))).astype(np.float32)
    start, cpu = time.perf_counter(), time.process_time()
    offline = lift_sequence(model, screen)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    short = screen[: args.stream_frames]
    start = time.perf_counter()
    streamed = StreamingLifter(model).run(short).numpy()
    stream_wall = time.perf_counter() - start
    difference = float(np.abs(streamed - offline[: args.stream_frames]).max())
    lines = [
        "# Causal lifting offline: layer by layer vs frame by frame",
        "",
        f"`{args.model}` (causal, random weights), one torch thread, load average {os.getloadavg()[0]:.1f} at the end. "
        "Written by `python benchmarks/bench_causal_offline.py`.",
        "",
        "| mode | frames | wall s | CPU s | frames per wall s |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| layer by layer (`lift_sequence`, chunks of 4096) | {args.frames} | {wall:.1f} | {cpu:.1f} | "
        f"{args.frames / wall:.0f} |",
        f"| frame by frame (`StreamingLifter`) | {args.stream_frames} | {stream_wall:.1f} | | "
        f"{args.stream_frames / stream_wall:.0f} |",
        "",
        f"Largest difference between the two on the first {args.stream_frames} frames: {difference:.2e} (metres).",
    ]
    print("\n".join(lines))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
