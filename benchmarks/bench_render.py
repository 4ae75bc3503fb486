"""Rendering speed of skeleton animations: frames per CPU second of ``skeletal.viz.animation.animate`` for the
277-frame ``baseball.json`` lift (a 2D panel beside a 3D panel), written as GIF (and as MP4 where OpenCV or ffmpeg
is present), in one or several source trees (``--src``, to compare with an older version).

The 3D poses are lifted once by the model file ``--checkpoint`` (default: the committed CMU GAST-Net) so the
figure is the rendering alone. CPU seconds (user + system of the child process) rather than wall seconds, so that
the figure holds on a shared machine; wall seconds are listed beside them.

Run: ``python benchmarks/bench_render.py --src src --src /old/checkout/src [--out benchmarks/results/render.md]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_lines  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KEYPOINTS = ROOT.parent / "shared" / "data" / "keypoints-2d" / "baseball.json"
CHILD = """
import json, os, resource, sys, time
import numpy as np
from skeletal.viz.animation import Panel, animate
data = np.load(sys.argv[1])
out, suffix = sys.argv[2], sys.argv[3]
points, poses = data["keypoints_2d"][0], data["poses_3d"][0] * [1, -1, -1]
panels = [Panel(points, "2D input", kind="2d"), Panel(poses, "3D", kind="3d")]
if suffix == ".mp4":
    from skeletal.viz.animation import ffmpeg_available
    if not ffmpeg_available():
        print(json.dumps(None)); sys.exit()
start, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
path = animate(panels, "h36m17", out + suffix, fps=30)
end, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
cpu = end.ru_utime - start.ru_utime + end.ru_stime - start.ru_stime
from PIL import Image
size = Image.open(path).size if suffix == ".gif" else None
print(json.dumps({"cpu": cpu, "wall": wall, "frames": len(data["poses_3d"][0]), "size": size}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", help="source tree(s) (default ./src)")
    parser.add_argument("--keypoints", default=str(KEYPOINTS), help="2D keypoint file (default ../shared/...)")
    parser.add_argument("--checkpoint", default=str(ROOT / "benchmarks/results/gast-net-27_cmu.safetensors"))
    parser.add_argument("--out", default="benchmarks/results/render.md")
    args = parser.parse_args()
    sources = args.src or ["src"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    lines = ["# Rendering speed of skeleton animations", "",
             f"The frames of `{Path(args.keypoints).name}` lifted by `{Path(args.checkpoint).name}`, a 2D and a 3D "
             "panel, 30 fps; "
             f"one thread; load average {os.getloadavg()[0]:.1f} at the start. Written by "
             f"`python benchmarks/bench_render.py {' '.join(sys.argv[1:])}`.", "",
             "| source | file | size (px) | frames | CPU s | frames per CPU s | wall s |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        lifted = subprocess.run([sys.executable, "-m", "skeletal.cli", "lift", args.keypoints, "--checkpoint",
                                 args.checkpoint, "--out", folder, "--no-animation"], env=environment,
                                capture_output=True, text=True)  # fmt: skip
        if lifted.returncode != 0:
            raise SystemExit(lifted.stderr)
        npz = Path(folder) / "baseball_3d.npz"
        for src in sources:
            for suffix in (".gif", ".mp4"):
                child_env = {**environment, "PYTHONPATH": str(Path(src).resolve())}
                result = subprocess.run([sys.executable, "-c", CHILD, str(npz), str(Path(folder) / "out"), suffix],
                                        env=child_env, capture_output=True, text=True)  # fmt: skip
                if result.returncode != 0:
                    lines.append(f"| `{src}` | {suffix} | failed: {result.stderr.strip().splitlines()[-1]} | | | | |")
                    continue
                row = json.loads(result.stdout.strip().splitlines()[-1])
                if row is None:
                    lines.append(f"| `{src}` | {suffix} | not available (no OpenCV, no ffmpeg) | | | | |")
                    continue
                size = "x".join(map(str, row["size"])) if row["size"] else ""
                lines.append(f"| `{src}` | {suffix} | {size} | {row['frames']} | {row['cpu']:.1f} | "
                             f"{row['frames'] / row['cpu']:.0f} | {row['wall']:.1f} |")  # fmt: skip
                print(lines[-1], flush=True)
    write_lines(args.out, lines)


if __name__ == "__main__":
    main()
