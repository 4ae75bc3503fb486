"""Does the ``[video]`` extra resolve without backtracking next to torch 2.13.0? (``pip install --dry-run``)

Usage (from the repository root): ``python benchmarks/video_extra_resolution.py [--extra video]``. Runs
``pip install --dry-run --ignore-installed --report`` of ``torch==2.13.0`` and ``-e .[EXTRA]`` (nothing is
installed), counts pip's "looking at multiple versions" lines (each one a backtracking step) and writes the
versions pip chose to ``benchmarks/results/video_extra.md``. MediaPipe 0.10.21 requires ``numpy<2``, so the
result is an environment of its own, never the main one (numpy 2.x).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import write_lines

ROOT = Path(__file__).resolve().parents[1]
SHOWN = ("numpy", "torch", "mediapipe", "jax", "jaxlib", "ml_dtypes", "ml-dtypes", "opencv-contrib-python",
         "protobuf", "matplotlib", "scipy", "lightning")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", default="video")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/video_extra.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--report", str(report),
                   "torch==2.13.0", "-e", f"{ROOT}[{args.extra}]"]  # fmt: skip
        start = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if run.returncode != 0:
            raise SystemExit(f"pip failed ({run.returncode}):\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
        chosen = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                  for item in json.loads(report.read_text())["install"]}  # fmt: skip
    backtracking = sum("looking at multiple versions" in line for line in (run.stdout + run.stderr).splitlines())
    pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True).stdout.split()[1]
    versions = ", ".join(f"{name} {chosen[name]}" for name in SHOWN if name in chosen)
    lines = [
        f"# `[{args.extra}]` extra: pip resolution next to torch 2.13.0",
        "",
        f"Command: `pip install --dry-run --ignore-installed torch==2.13.0 -e .[{args.extra}]` (pip {pip}, Python "
        f"{sys.version.split()[0]}).",
        "",
        f'- backtracking steps ("pip is looking at multiple versions"): **{backtracking}**',
        f"- resolution time: {elapsed:.0f} s (wheel metadata downloads included)",
        f"- {len(chosen)} packages; chosen: {versions}",
        "",
        "MediaPipe 0.10.21 pins numpy<2: install the extra in an environment of its own (README).",
    ]
    write_lines(args.out, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
