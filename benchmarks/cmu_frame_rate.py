"""Frame rate of the CMU motion-prediction files, measured from the motion itself.

The ConvSeq2Seq author wrote (chaneyddtt/Convolutional-Sequence-to-Sequence-Model-for-Human-Dynamics, issue #4) that
the released files were downsampled to 30 Hz; the loaders of LTD, MSR-GCN and DMGNN then keep every 2nd frame. This
script tests that claim against physics: the stride period (autocorrelation of the left hip's exp-map) and the root's
horizontal speed of every walking and running take, converted to seconds and metres per second under each candidate
file rate. Human walking has a stride (two steps) of about 1.0-1.2 s at 1.2-1.5 m/s; running about 0.7 s at 3-5 m/s.

Usage: python benchmarks/cmu_frame_rate.py [--root ../shared/data/cmu-mocap-expmap]
Writes benchmarks/results/cmu_frame_rate.md. Data: CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from skeletal.data.cmu import OFFSET_SCALE, list_takes, read_expmap

ROOT = Path(__file__).resolve().parents[1]
CANDIDATE_FPS = (30.0, 60.0, 120.0)


def stride_period(frames: np.ndarray, joint: int = 2) -> int:
    """Frames between repeats of the hip's motion: first autocorrelation peak after its first zero crossing."""
    signal = frames[:, 3 + 3 * joint] - frames[:, 3 + 3 * joint].mean()
    correlation = np.correlate(signal, signal, "full")[len(signal) - 1 :]
    first_negative = int(np.argmax(correlation < 0))
    return first_negative + int(np.argmax(correlation[first_negative:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT.parent / "shared" / "data" / "cmu-mocap-expmap"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cmu_frame_rate.md"))
    args = parser.parse_args()
    header = " | ".join(f"stride s / speed m/s at {fps:g} Hz" for fps in CANDIDATE_FPS)
    lines = [
        "# Frame rate of the CMU benchmark files",
        "",
        "`benchmarks/cmu_frame_rate.py`: stride period (frames) and root speed (mm per frame, positions x70 as LTD) "
        "of every walking and running take, in seconds and m/s under each candidate file rate.",
        "",
        f"| take | stride, frames | speed, mm/frame | {header} |",
        "|---|---:|---:|" + "---|" * len(CANDIDATE_FPS),
    ]
    for split in ("train", "test"):
        for action in ("walking", "running"):
            for path in list_takes(args.root, split, action):
                frames = read_expmap(path)
                period = stride_period(frames)
                step = np.linalg.norm(np.diff(frames[:, [0, 2]] * OFFSET_SCALE, axis=0), axis=1).mean()
                cells = " | ".join(f"{period / fps:.2f} / {step * fps / 1000:.2f}" for fps in CANDIDATE_FPS)
                lines.append(f"| {split}/{action}/{path.name} | {period} | {step:.1f} | {cells} |")
    lines += [
        "",
        "Only 120 Hz gives human strides and speeds; 30 Hz would mean 4-second strides at 0.4 m/s for walking. "
        "The loaders keep every 2nd frame, so the benchmark windows are at 60 fps and the frames labelled "
        "80 ... 1000 ms are 33 ... 417 ms of real time.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
