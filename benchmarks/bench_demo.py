"""CPU cost of ``skeletal demo``: CPU seconds per training step of each task (one torch thread), and optionally the
whole demo's wall and CPU time with its table.

CPU seconds (``time.process_time``) rather than wall seconds, so that the figure holds on a machine shared with
other jobs: on 2 quiet cores with one thread, wall time is about CPU time. The demo's step counts
(:data:`skeletal.tasks.demo.DEMO_STEPS`) were chosen from these figures for a demo of about 3 minutes.

Run: ``python benchmarks/bench_demo.py [--steps 40] [--full] [--out benchmarks/results/demo.md]``.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path
from tempfile import TemporaryDirectory

import torch

from skeletal.data.module import SkeletonDataModule
from skeletal.tasks.demo import DEMO_STEPS, build_model, demo_config, print_table, run_demo, start_at_zero_velocity
from skeletal.tasks.engine import train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_lines  # noqa: E402


def cpu_seconds_per_step(task: str, steps: int, output: Path) -> float:
    """CPU seconds per optimiser step of the task's demo config (data loading included, validation excluded)."""
    config = demo_config(task, output, steps / DEMO_STEPS[task])
    config.trainer.progress_bar = False
    config.trainer.check_val_every_n_epoch = 10_000
    datamodule = SkeletonDataModule.from_config(task, config.data, seed=0)
    torch.manual_seed(0)
    model = build_model(config)
    if task == "prediction":
        start_at_zero_velocity(model)
    start = time.process_time()
    train(config, datamodule=datamodule, model=model)
    return (time.process_time() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="steps timed per task")
    parser.add_argument("--full", action="store_true", help="also run the whole demo and record its table")
    parser.add_argument("--out", default="benchmarks/results/demo.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = ["# skeletal demo: cost", "", f"One torch thread; load average {os.getloadavg()[0]:.1f} at the start.", ""]
    lines += ["| task | demo steps | CPU s per step | CPU s of the demo's training |", "| --- | ---: | ---: | ---: |"]
    with TemporaryDirectory() as folder:
        for task, steps in DEMO_STEPS.items():
            per_step = cpu_seconds_per_step(task, args.steps, Path(folder))
            lines.append(f"| {task} | {steps} | {per_step:.4f} | {per_step * steps:.0f} |")
            print(lines[-1], flush=True)
        if args.full:
            wall, cpu = time.perf_counter(), time.process_time()
            rows = run_demo(output=Path(folder) / "demo", progress_bar=False)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            table = io.StringIO()
            with redirect_stdout(table):
                print_table(rows)
            lines += ["", f"Whole demo: {wall:.0f} s wall, {cpu:.0f} CPU s (load average {os.getloadavg()[0]:.1f} "
                      "at the end).", "", "```", table.getvalue().rstrip(), "```"]  # fmt: skip
            print("\n".join(lines[-6:]))
    write_lines(args.out, lines)


if __name__ == "__main__":
    main()
