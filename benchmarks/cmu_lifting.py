"""The CMU real-motion lifting benchmark: train GAST-Net 27, VideoPose3D 27 and a mean-pose baseline, report
MPJPE / P-MPJPE / N-MPJPE / MPJVE per test action, and check bone-length consistency on baseball.json.

Data: :mod:`skeletal.data.cmu_lifting` (CMU exp-map takes -> FK -> 17 h36m-like joints -> four virtual cameras ->
detector-like 2D). Training goes through the engine (:func:`skeletal.tasks.train` with the presets
``configs/lifting/{gast-net,videopose3d}_27_cmu.yaml``) on a CPU budget per model; evaluation lifts every test
sequence whole (:func:`skeletal.evaluation.lifting.evaluate_sequences`, flip averaging for the networks).

Usage::

    python benchmarks/cmu_lifting.py                    # writes benchmarks/results/cmu_lifting.md
    python benchmarks/cmu_lifting.py --budget 600       # seconds of training per network
    python benchmarks/cmu_lifting.py --prepare-only     # only runs/cmu-lifting/data/{train,val}.npz
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
CHECKPOINT_LIMIT = 30 * 2**20


def prepare(data_dir: Path, chunk: int, seed: int) -> tuple[list, list]:
    from skeletal.data.cmu_lifting import lifting_windows, load_cmu_lifting

    train = load_cmu_lifting(DATA / "cmu-mocap-expmap", "train", seed=seed)
    test = load_cmu_lifting(DATA / "cmu-mocap-expmap", "test", seed=seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    np.savez(data_dir / "train.npz", **lifting_windows(train, 27, chunk))
    # Validation (logged only; no model selection: the final weights are exported) on test windows.
    np.savez(data_dir / "val.npz", **lifting_windows(test, 27, chunk, stride=4 * chunk))
    return train, test


def train_network(config_file: str, budget: float, run_root: Path) -> tuple[object, Path, float, int]:
    from skeletal.config import load_config
    from skeletal.tasks import train

    overrides = [f"trainer.max_time_s={budget}", f"output={run_root}"]
    config = load_config(ROOT / "configs" / "lifting" / config_file, overrides)
    start = time.perf_counter()
    result = train(config)
    assert result.task is not None
    model = result.task.model.eval()
    return model, result.model_file, time.perf_counter() - start, result.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds per network (default 300)")
    parser.add_argument("--chunk", type=int, default=32, help="output frames per training window (1: strided)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--output", default=str(RESULTS / "cmu_lifting.md"))
    args = parser.parse_args()
    import torch

    from skeletal import models
    from skeletal.evaluation.lifting import MeanPoseLifter, evaluate_sequences
    from skeletal.inference.lifted import bone_length_variation
    from skeletal.inference.lifting import lift_file

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    run_root = ROOT / "runs" / "cmu-lifting"
    started = time.perf_counter()
    train, test = prepare(run_root / "data", args.chunk, args.seed)
    print(f"data: {len(train)} train / {len(test)} test sequences ({time.perf_counter() - started:.0f} s)")
    if args.prepare_only:
        return
    train_frames = sum(len(s["positions"]) for s in train)
    test_frames = sum(len(s["positions"]) for s in test)
    mean_pose = np.concatenate([s["positions"] for s in train]).mean(0)
    tables = {"mean pose (training mean)": evaluate_sequences(MeanPoseLifter(mean_pose), test)}
    runs = {}
    for label, config_file in (("GAST-Net 27", "gast-net_27_cmu.yaml"), ("VideoPose3D 27", "videopose3d_27_cmu.yaml")):
        model, model_file, seconds, epochs = train_network(config_file, args.budget, run_root)
        tables[label] = evaluate_sequences(model, test, flip=True)
        runs[label] = {"model": model, "file": model_file, "seconds": seconds, "epochs": epochs,
                       "parameters": models.count_parameters(model)}  # fmt: skip
        print(label, tables[label])
    gast = runs["GAST-Net 27"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    kept = RESULTS / "gast-net-27_cmu.safetensors"
    size = Path(gast["file"]).stat().st_size
    if size < CHECKPOINT_LIMIT:
        kept.write_bytes(Path(gast["file"]).read_bytes())
    lifted, _ = lift_file(DATA / "keypoints-2d" / "baseball.json", checkpoint=kept if size < CHECKPOINT_LIMIT
                          else gast["file"], out_dir=run_root / "baseball", flip=True)  # fmt: skip
    cv = bone_length_variation(lifted.poses[0], lifted.skeleton)
    write_report(Path(args.output), tables, runs, cv, lifted, train_frames, test_frames, args, kept, size)
    print(f"wrote {args.output} in {time.perf_counter() - started:.0f} s")


def write_report(out, tables, runs, cv, lifted, train_frames, test_frames, args, kept, size) -> None:  # noqa: ANN001
    from skeletal.data.cmu_lifting import CMU38_TO_H36M17, DEFAULT_VIEWS, INTRINSICS

    names = list(tables)
    lines = [
        "# CMU real-motion lifting benchmark",
        "",
        "Generated by `python benchmarks/cmu_lifting.py` "
        f"(budget {args.budget:.0f} s of training per network, chunk {args.chunk}, seed {args.seed}).",
        "Motion data: CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu), NSF EIA-0196217.",
        "",
        "## Data",
        f"- 3D: CMU exp-map benchmark takes at 60 fps, forward kinematics on `cmu38`, 17 joints "
        f"`{list(CMU38_TO_H36M17)}` (h36m17 order; mapping in `skeletal.data.cmu_lifting`), metres.",
        f"- 2D: four virtual cameras (azimuth, elevation) = {list(DEFAULT_VIEWS)} deg, intrinsics (fx, fy, cx, cy) = "
        f"{INTRINSICS} px, 1000 x 1000 images, 5 m + trajectory radius from the mean root; detector-like noise "
        "(jitter 5 % of the mean 2D bone length, 2 % of joints dropped then interpolated), screen-normalised.",
        f"- Train: every train take x 4 cameras ({train_frames} frames); test: every test take x 4 cameras "
        f"({test_frames} frames), whole sequences lifted with edge padding, flip averaging for the networks.",
        "- `washwindow` has no training take (unseen action); `basketball_signal` and `directing_traffic` have no "
        "test take in the released set.",
        "",
        "## Models (CPU: 2 cores shared with other jobs; widths reduced to fit the budget)",
        "| model | parameters | width | training | epochs |",
        "|---|---:|---|---:|---:|",
        "| mean pose | 0 | - | mean of the training targets | - |",
    ]
    widths = {"GAST-Net 27": "base 16 channels (paper: 128)", "VideoPose3D 27": "256 channels (paper: 1024)"}
    for label, run in runs.items():
        lines.append(f"| {label} | {run['parameters']:,} | {widths[label]} | {run['seconds']:.0f} s | "
                     f"{run['epochs']} |")  # fmt: skip
    lines += ["", "## Averages over actions (mm; MPJVE in mm/frame)",
              "| model | MPJPE (P#1) | P-MPJPE (P#2) | N-MPJPE | MPJVE |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    for name in names:
        v = tables[name].values
        lines.append(f"| {name} | {v['mpjpe']['average']:.1f} | {v['p_mpjpe']['average']:.1f} | "
                     f"{v['n_mpjpe']['average']:.1f} | {v['mpjve']['average']:.1f} |")  # fmt: skip
    for name in names:
        lines += ["", f"## {name}: per action", tables[name].markdown()]
    meta = lifted.metadata
    lines += [
        "",
        "## baseball.json lifted by the CMU-trained GAST-Net 27",
        f"`skeletal lift {Path('../shared/data/keypoints-2d/baseball.json')} --checkpoint "
        f"benchmarks/results/gast-net-27_cmu.safetensors --flip`: {lifted.poses.shape[1]} frames, image size "
        f"{meta['image_size']} ({meta['image_size_source']}), {meta['tracks'][0]['interpolated_joints']} joints "
        f"interpolated, unreliable frames {meta['tracks'][0]['unreliable_frames']}.",
        "Coefficient of variation (std / mean over frames) of each bone's length (lower = more consistent; the "
        "network predicts each frame's joints, no bone-length constraint):",
        "",
        "| bone | CV |",
        "|---|---:|",
    ]
    lines += [f"| {bone} | {value:.3f} |" for bone, value in cv.items()]
    lines += [f"| **mean** | {np.mean(list(cv.values())):.3f} |", ""]
    if size < CHECKPOINT_LIMIT:
        lines.append(
            f"Checkpoint: `{kept.relative_to(ROOT)}` ({size / 2**20:.1f} MB), sha256 {meta['weights_sha256']}."
        )
    else:
        lines.append("Checkpoint over 30 MB, not kept: rerun this script to produce it (runs/cmu-lifting/).")
    out.write_text("\n".join(lines) + "\n")
    (out.with_suffix(".json")).write_text(json.dumps({n: t.values for n, t in tables.items()} | {"bone_cv": cv},
                                                     indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
