"""Start-up cost of the ``skeletal`` command: CPU seconds (user + system) of ``--help``, ``models`` and two
argument errors, the median of ``--repeats`` fresh processes each, and the slowest imports of each
(``python -X importtime``).

Compare two source trees (e.g. this checkout and an older one) with ``--src``:

    python benchmarks/bench_startup.py --src src --src /path/to/old/src --out benchmarks/results/startup.md
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_lines  # noqa: E402

COMMANDS = {
    "skeletal --help": ["--help"],
    "skeletal models": ["models"],
    "skeletal lift (argument error: no input)": ["lift"],
    "skeletal prepare keypoints (unknown --layout)": [
        "prepare",
        "keypoints",
        ".",
        "out",
        "--labels",
        "labels.csv",
        "--layout",
        "bogus",
    ],  # fmt: skip
}


def cpu_seconds(src: str, arguments: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system of the child) and wall seconds of one ``python -m skeletal.cli ARGS``."""
    environment = {**os.environ, "PYTHONPATH": str(Path(src).resolve()), "OMP_NUM_THREADS": "1", "COLUMNS": "120"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "skeletal.cli", *arguments], env=environment, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def slowest_imports(src: str, arguments: list[str], count: int = 3) -> list[tuple[str, float]]:
    """The ``count`` top-level imports with the largest cumulative time (seconds) under ``-X importtime``."""
    environment = {**os.environ, "PYTHONPATH": str(Path(src).resolve()), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "skeletal.cli", *arguments],
                            env=environment, capture_output=True, text=True)  # fmt: skip
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and not name.startswith("   "):  # top level: at most one space of indent
            rows.append((name.strip(), int(cumulative) / 1e6))
    return sorted(rows, key=lambda row: -row[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", help="source tree(s) to compare (default: ./src)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/startup.md")
    args = parser.parse_args()
    sources = args.src or ["src"]
    lines = [
        "# Start-up of the skeletal command",
        "",
        f"CPU seconds (user + system) per fresh process, median of {args.repeats}; `python -m skeletal.cli`, "
        f"OMP_NUM_THREADS=1, load average {os.getloadavg()[0]:.1f} at the start. "
        f"Written by `python benchmarks/bench_startup.py {' '.join(sys.argv[1:])}`.",
        "",
        "| source | command | CPU s | wall s | slowest top-level imports (cumulative s) |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for src in sources:
        for label, arguments in COMMANDS.items():
            runs = [cpu_seconds(src, arguments) for _ in range(args.repeats)]
            cpu = statistics.median(run[0] for run in runs)
            wall = statistics.median(run[1] for run in runs)
            imports = ", ".join(f"{name} {seconds:.2f}" for name, seconds in slowest_imports(src, arguments))
            lines.append(f"| `{src}` | `{label}` | {cpu:.2f} | {wall:.2f} | {imports} |")
            print(lines[-1], flush=True)
    write_lines(args.out, lines)


if __name__ == "__main__":
    main()
