"""Peak memory of ``prepare_ntu`` against the number of files: it should stay flat (one chunk at a time).

Usage: ``python benchmarks/bench_prepare_ntu.py [--counts 100 400 1600] [--chunk 64]``. Each count runs in a
fresh subprocess (its own ``ru_maxrss``) on synthetic NTU-format files of 60 frames and 1-2 bodies.

Peak RSS counts the pages of the memory-mapped output that the kernel has not written back yet (``RssFile``),
which grow with the output size until the page cache is reclaimed; the memory the process itself holds is the
anonymous part (``RssAnon``), sampled every 5 ms by a thread in the child: that is the figure that must stay
flat.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import resource, sys, threading, time
from skeletal.data.ntu import prepare_ntu

def status(field):
    with open("/proc/self/status") as stream:
        return next(int(line.split()[1]) for line in stream if line.startswith(field)) / 1024

peak_anon, peak_file, done = [0.0], [0.0], threading.Event()

def sample():
    while not done.wait(0.005):
        peak_anon[0] = max(peak_anon[0], status("RssAnon:"))
        peak_file[0] = max(peak_file[0], status("RssFile:"))

threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
summary = prepare_ntu(sys.argv[1], sys.argv[2], "ntu60-xview", chunk=int(sys.argv[3]))
elapsed = time.perf_counter() - start
done.set()
n = sum(part["num_samples"] for part in summary["parts"].values())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(n, peak, elapsed, max(peak_anon[0], status("RssAnon:")), peak_file[0])
"""


def write_files(folder: Path, count: int) -> None:
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_data_readers_ntu import person, write_skeleton

    rng = np.random.default_rng(0)
    for i in range(count):
        bodies = [person(rng, 60)] if i % 2 else [person(rng, 60), person(rng, 60, offset=1.0)]
        path = folder / f"S001C00{1 + i % 3}P{1 + i % 40:03d}R{i % 1000:03d}A{1 + i // 1000:03d}.skeleton"
        write_skeleton(path, [[b[t] for b in bodies] for t in range(60)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 400, 1600])
    parser.add_argument("--chunk", type=int, default=64)
    args = parser.parse_args()
    for count in args.counts:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "raw"
            src.mkdir()
            write_files(src, count)
            out = subprocess.run([sys.executable, "-c", CHILD, str(src), str(Path(tmp) / "out"), str(args.chunk)],
                                 capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
            print(
                f"{count} files ({out[0]} prepared), chunk {args.chunk}: peak RSS {float(out[1]):.1f} MB "
                f"(peak anonymous {float(out[3]):.1f} MB, peak file-backed {float(out[4]):.1f} MB), "
                f"{float(out[2]):.1f} s"
            )


if __name__ == "__main__":
    main()
