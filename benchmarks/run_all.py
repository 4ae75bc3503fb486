"""Write the benchmark table of the registered models to ``benchmarks/results/`` (Markdown).

Usage::

    OMP_NUM_THREADS=2 python benchmarks/run_all.py                      # the paper models
    python benchmarks/run_all.py --names gast-net-27 videopose3d-27 --batch 1 4 --repeats 3 --warmup 1
    python benchmarks/run_all.py --all                                  # every registered name (slow)

Each figure is the median of ``--repeats`` runs after ``--warmup`` runs (see :mod:`skeletal.bench` for the
definitions). The file records the date, the CPU (``/proc/cpuinfo``), the cores, torch and onnxruntime versions
and the load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

import torch

from skeletal import bench
from skeletal.models import names

PAPER_MODELS = bench.PAPER_MODELS


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", default=list(PAPER_MODELS))
    parser.add_argument("--all", action="store_true", help="every registered model")
    parser.add_argument("--batch", nargs=2, type=int, default=(1, 8), metavar=("SMALL", "LARGE"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--no-onnx", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--note", default="", help="a sentence added under the machine line")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    selected = names() if args.all else args.names
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"bench-{date.today().isoformat()}.md"
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    head = [
        "# skeletal benchmark",
        "",
        f"Machine: {bench.machine_description()}; load average at start {load}.",
        f"Batches {args.batch[0]} and N = {args.batch[1]}; median of {args.repeats} runs after {args.warmup} warm-up.",
        "Peak memory: peak resident set (VmHWM) minus resident set before one training step at batch N, in a fresh "
        "process.",
    ]
    if args.note:
        head.append(args.note)
    rows: list[bench.BenchRow] = []

    def write(row: bench.BenchRow) -> None:
        rows.append(row)
        path.write_text("\n".join([*head, "", bench.format_table(rows), ""]))
        print(f"{row.name}: done", file=sys.stderr, flush=True)

    bench.benchmark(
        selected, tuple(args.batch), args.repeats, args.warmup, not args.no_onnx, not args.no_memory, progress=write
    )
    print(bench.format_table(rows))
    return path


if __name__ == "__main__":
    main()
