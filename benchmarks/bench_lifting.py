"""Lifting speed on CPU: layer-by-layer inference (frames/s) with and without flip averaging, streaming latency.

For each receptive field, a whole sequence of ``--frames`` 2D poses (batch 1) is lifted with ``model.lift``
(dilated, layer-by-layer mode, one pose per frame) and with ``predict_with_flip`` (the flipped copy in the same
batch); the best of ``--repeats`` runs is reported as frames per second. The causal model is then run by
:class:`~skeletal.inference.streaming.StreamingLifter`, one frame at a time, and the per-frame latency is
reported (median and 90th percentile, after warm-up).

Run: ``python benchmarks/bench_lifting.py [--frames 300] [--threads 1] [--models gast-net-27 ...]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from skeletal.inference.streaming import StreamingLifter
from skeletal.models import count_parameters, create
from skeletal.models.lifting import predict_with_flip

DEFAULT_MODELS = ["gast-net-27", "gast-net-81", "gast-net-243", "videopose3d-27", "videopose3d-81", "videopose3d-243"]


def best_time(function, repeats: int) -> float:  # type: ignore[no-untyped-def]
    """Shortest wall time of ``repeats`` calls (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def streaming_latency(name: str, frames: int, flip: bool) -> tuple[float, float]:
    """Median and 90th-percentile milliseconds per ``StreamingLifter.step``."""
    lifter = StreamingLifter(create(name, causal=True), flip=flip)
    sequence = torch.randn(frames, 17, 2)
    for frame in sequence[:10]:
        lifter.step(frame)
    times = []
    for frame in sequence:
        start = time.perf_counter()
        lifter.step(frame)
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--stream-frames", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.frames} frames, batch 1")
    print(f"{'model':<16} {'params':>10} {'lift fps':>9} {'flip fps':>9} {'stream ms':>10} {'p90':>6} {'flip ms':>8}")
    for name in args.models:
        model = create(name).eval()
        sequence = torch.randn(1, args.frames, 17, 2)
        with torch.inference_mode():
            plain = best_time(lambda model=model, sequence=sequence: model.lift(sequence), args.repeats)
            flipped = best_time(
                lambda model=model, sequence=sequence: predict_with_flip(model, sequence, padded=True), args.repeats
            )
        median, p90 = streaming_latency(name, args.stream_frames, flip=False)
        flip_median, _ = streaming_latency(name, args.stream_frames, flip=True)
        print(
            f"{name:<16} {count_parameters(model):>10,} {args.frames / plain:>9.1f} {args.frames / flipped:>9.1f} "
            f"{median:>10.2f} {p90:>6.2f} {flip_median:>8.2f}"
        )


if __name__ == "__main__":
    main()
