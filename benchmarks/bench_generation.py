"""Generation speed of the ST-Transformer with the official sampling rule, with and without the key/value cache.

Two settings, each timed interleaved (one run of every mode in turn, ``--repeats`` rounds, medians reported), so
that the load of other jobs on the machine hits every mode alike:

1. The Human3.6M protocol: ``st-transformer-h36m`` (window 75), a 50-frame seed, 25 generated frames. The
   context grows from 50 to 74 frames, so the exact cache serves every step after the first; ``off`` recomputes
   the context for every frame. Batch 1 and ``--batch`` seeds at once.
2. Long motion (20 s at 60 fps = 1200 frames) with ``st-transformer-amass`` (window 120) from a 120-frame seed,
   the AMASS protocol: the window slides from the first frame, so ``exact`` recomputes the window for every
   frame and ``approximate-slide`` keeps the cache. The steady-state cost of one frame is timed over
   ``--long-frames`` frames; the 20 s figures are 1200 times that cost (derived, not a 1200-frame run: the
   exact rollout would take an hour at this machine's load). The disagreement of ``approximate-slide`` with
   the exact rule is measured over the same frames as the geodesic angle between the generated joint
   rotations, on randomly initialised weights (a trained model's may differ).

Times are CPU seconds of this process (``time.process_time``, one thread): on this shared machine a job at
nice 15 gets a few percent of a core, so wall-clock time measures the other jobs more than this code; CPU time
still includes the slowdown of sharing caches and memory bandwidth.

Seeds are random rotations (speed does not depend on the values); weights are the presets' initialisation.
Every predicted frame is projected onto SO(3), as :func:`skeletal.inference.generation.generate` does.

Run: ``OMP_NUM_THREADS=1 nice -n 15 python benchmarks/bench_generation.py`` (writes
``benchmarks/results/generation.md``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import roma
import torch

from skeletal.inference.generation import project_frames
from skeletal.inference.incremental import sample
from skeletal.models import create

RESULTS = Path(__file__).resolve().parent / "results" / "generation.md"
SECONDS_20_AT_60_FPS = 1200


def project(frame: torch.Tensor) -> torch.Tensor:
    return project_frames(frame, "matrix")


def interleaved(model: torch.nn.Module, seed: torch.Tensor, frames: int, modes: tuple[str, ...], repeats: int) -> dict:
    """Median CPU seconds of ``sample`` per mode (after a 2-frame warm-up of each), and each mode's last output."""
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    outputs: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for mode in modes:
            sample(model, seed, 2, postprocess=project, cache=mode)
        for _ in range(repeats):
            for mode in modes:
                start = time.process_time()
                outputs[mode] = sample(model, seed, frames, postprocess=project, cache=mode)
                times[mode].append(time.process_time() - start)
    return {"seconds": {mode: statistics.median(values) for mode, values in times.items()}, "outputs": outputs}


def angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Geodesic angle (radians) between the rotations of two ``(..., 9)`` matrix tensors."""
    first, second = a.reshape(-1, 3, 3).double(), b.reshape(-1, 3, 3).double()
    return roma.rotmat_geodesic_distance(first, second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8, help="seeds generated at once (besides batch 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long-frames", type=int, default=6, help="frames timed in the sliding (20 s) setting")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sections", nargs="+", default=["h36m", "long"], choices=["h36m", "long"])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    lines = [
        "# Generation speed: official sampling rule, key/value cache",
        "",
        f"`benchmarks/bench_generation.py` (torch {torch.__version__}, {args.threads} thread(s), nice 15, medians of "
        f"{args.repeats} interleaved rounds, CPU seconds of the process). The machine was shared with other jobs "
        "(2 cores, load average 6-10 during the run): absolute times are noisy; the ratios are what the run "
        "measures.",
    ]
    if "h36m" in args.sections:
        h36m(args, lines)
    if "long" in args.sections:
        long_motion(args, lines)


def h36m(args: argparse.Namespace, lines: list[str]) -> None:
    lines += [
        "",
        "## Human3.6M protocol: st-transformer-h36m, 50-frame seed, 25 frames (context grows 50 -> 74)",
        "",
        "| batch | cache | CPU s | frames/s (all seeds) | speed-up | max abs diff vs off |",
        "|---|---|---|---|---|---|",
    ]
    model = create("st-transformer-h36m").eval()
    for batch in (1, args.batch):
        seed = roma.random_rotmat((batch, 50, model.num_joints)).reshape(batch, 50, model.num_joints, 9)
        run = interleaved(model, seed, 25, ("off", "exact"), args.repeats)
        seconds, outputs = run["seconds"], run["outputs"]
        diff = float((outputs["exact"] - outputs["off"]).abs().max())
        for mode in ("off", "exact"):
            lines.append(
                f"| {batch} | {mode} | {seconds[mode]:.2f} | {batch * 25 / seconds[mode]:.1f} | "
                f"{seconds['off'] / seconds[mode]:.2f}x | {diff if mode == 'exact' else 0.0:.1e} |"
            )
        print("\n".join(lines[-2:]), flush=True)
        args.output.write_text("\n".join(lines) + "\n")


def long_motion(args: argparse.Namespace, lines: list[str]) -> None:
    model = create("st-transformer-amass").eval()
    frames = args.long_frames
    seed = roma.random_rotmat((1, 120, model.num_joints)).reshape(1, 120, model.num_joints, 9)
    run = interleaved(model, seed, frames, ("exact", "approximate-slide"), args.repeats)
    seconds, outputs = run["seconds"], run["outputs"]
    disagreement = angle(outputs["approximate-slide"], outputs["exact"]).reshape(frames, -1).mean(dim=1)
    lines += [
        "",
        "## 20 s at 60 fps: st-transformer-amass, 120-frame seed, window 120 (slides from the first frame), batch 1",
        "",
        f"Per-frame cost timed over {frames} frames; 20 s = {SECONDS_20_AT_60_FPS} x that cost (derived).",
        "",
        "| cache | CPU s / frame | frames/s | 20 s of motion takes | speed-up |",
        "|---|---|---|---|---|",
    ]
    for mode in ("exact", "approximate-slide"):
        per_frame = seconds[mode] / frames
        lines.append(
            f"| {mode} | {per_frame:.3f} | {1 / per_frame:.2f} | {SECONDS_20_AT_60_FPS * per_frame / 60:.1f} min | "
            f"{seconds['exact'] / seconds[mode]:.2f}x |"
        )
    lines += [
        "",
        "`approximate-slide` against the exact rule (mean geodesic angle between generated joint rotations, "
        "radians, random initial weights), per generated frame: "
        + ", ".join(f"{value:.2e}" for value in disagreement.tolist()),
        "",
        "The exact cache is used while the context grows (Human3.6M: every frame); once it slides, `exact` costs "
        "one full window per frame, as without a cache.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
