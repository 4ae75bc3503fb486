"""Peak memory of long inputs (issue 18): ``skeletal lift`` of 100,000 frames and ``skeletal predict --seconds 600``
with the shipped pretrained models must stay under 500 MB of resident memory.

The inputs are generated in a temporary folder (nothing large is committed): a COCO-17 person swaying for
``--frames`` frames as a Kinetics-style JSON file (the format whose reader held the whole file, 965 MB before) and
as a ``.npy`` keypoint array, and a 10-frame seed of CMU-38 rotations (``.npz``). Each command runs in a fresh
measuring process that starts it as its child and reports ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the
child's peak resident set), so the figures are those of the command alone, interpreter and imports included.

Usage::

    python benchmarks/bench_long_inputs.py            # writes benchmarks/results/long_inputs.md
    python benchmarks/bench_long_inputs.py --only lift  # reruns the lift rows, keeps the others
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "long_inputs.md"
BOUND_MB = 500
MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def coco_track(frames: int) -> np.ndarray:
    """``(frames, 17, 3)`` pixels and confidences of a COCO-17 person swaying."""
    base = np.array([[320, 100], [330, 90], [310, 90], [340, 95], [300, 95], [360, 150], [280, 150], [380, 220],
                     [260, 220], [390, 290], [250, 290], [345, 300], [295, 300], [350, 400], [290, 400], [352, 500],
                     [288, 500]], dtype=np.float32)  # fmt: skip
    t = np.arange(frames, dtype=np.float32)
    sway = 10 * np.sin(t / 5)[:, None, None] * np.array([1.0, 0.0], np.float32)
    points = base[None] + sway
    return np.concatenate([points, np.full((frames, 17, 1), 0.9, np.float32)], axis=-1)


def write_kinetics_json(track: np.ndarray, path: Path) -> None:
    """A Kinetics-style JSON (``{"data": [{"frame_index", "skeleton": [{"pose", "score"}]}]}``), written frame by
    frame (the benchmark itself stays small)."""
    with open(path, "w") as stream:
        stream.write('{"data": [')
        for index, frame in enumerate(track):
            pose = [round(float(v), 2) for v in frame[:, :2].ravel()]
            person = {"pose": pose, "score": [round(float(v), 3) for v in frame[:, 2]]}
            stream.write(("," if index else "") + json.dumps({"frame_index": index + 1, "skeleton": [person]}))
        stream.write('], "label": "unknown", "label_index": -1}')


def cmu_seed(path: Path, frames: int = 10) -> None:
    from skeletal.geometry import axis_angle_to_matrix

    rng = np.random.default_rng(0)
    rotations = np.asarray(axis_angle_to_matrix(0.2 * rng.normal(size=(frames, 38, 3))))
    np.savez(path, rotations=rotations, fps=25.0, layout="cmu38")


def peak_rss(command: list[str]) -> tuple[int, float, float]:
    """``(exit status, peak resident MB, seconds)`` of ``command`` run as the child of a fresh measuring process."""
    start = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, env=env,
                         check=True).stdout.split()  # fmt: skip
    return int(out[0]), int(out[1]) / 1024, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000, help="frames of the lifted keypoint files")
    parser.add_argument("--seconds", type=float, default=600.0, help="seconds of the forecast")
    parser.add_argument("--only", help="substring of the command names to run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    skeletal = [sys.executable, "-m", "skeletal.cli"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="long-inputs-") as folder:
        work = Path(folder)
        track = coco_track(args.frames)
        np.save(work / "long.npy", track)
        write_kinetics_json(track, work / "long.json")
        cmu_seed(work / "seed.npz")
        del track
        json_mb = (work / "long.json").stat().st_size / 1e6
        commands = {
            f"lift {args.frames:,} frames, Kinetics-style JSON ({json_mb:.0f} MB)": [
                *skeletal, "lift", str(work / "long.json"), "--out", str(work / "lift-json")],
            f"lift {args.frames:,} frames, .npy keypoints": [
                *skeletal, "lift", str(work / "long.npy"), "--layout", "coco17", "--out", str(work / "lift-npy")],
            f"predict --seconds {args.seconds:g} (st-transformer-cmu)": [
                *skeletal, "predict", str(work / "seed.npz"), "--seconds", f"{args.seconds:g}",
                "--out", str(work / "forecast")],
            f"predict --seconds {args.seconds:g} (seq2seq-cmu)": [
                *skeletal, "predict", "pretrained:seq2seq-cmu", str(work / "seed.npz"), "--seconds",
                f"{args.seconds:g}", "--out", str(work / "forecast-seq2seq")],
        }  # fmt: skip
        for name, command in commands.items():
            if args.only and args.only not in name:
                continue
            status, mb, seconds = peak_rss(command)
            rows.append((name, status, mb, seconds))
            print(f"{name}: exit {status}, peak {mb:.0f} MB, {seconds:.0f} s", flush=True)
    lines = [
        "# Peak memory of long inputs (`benchmarks/bench_long_inputs.py`)",
        "",
        f"Peak resident memory (`ru_maxrss` of the command's process: interpreter, imports and model included) of "
        f"each command with the shipped pretrained models (default animation on unless stated), inputs generated "
        f"in a temporary folder; bound {BOUND_MB} MB. {os.cpu_count()} CPU cores, loaded machine.",
        "",
        "| command | exit status | peak RSS (MB) | under the bound | wall time (s) |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    table = {name: f"| `{name}` | {status} | {mb:.0f} | {'yes' if mb < BOUND_MB else 'NO'} | {seconds:.0f} |"
             for name, status, mb, seconds in rows}  # fmt: skip
    if args.only and args.out.is_file():  # the rows of the commands not run this time are kept
        kept = [line for line in args.out.read_text().splitlines() if line.startswith("| `")]
        table = {line.split("`")[1]: line for line in kept} | table
    lines += table.values()
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0 if all(status == 0 and mb < BOUND_MB for _, status, mb, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
