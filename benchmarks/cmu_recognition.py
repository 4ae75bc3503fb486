"""Action recognition on real CMU motion capture: S-TR, T-TR and ST-GCN against chance and a nearest-centroid
baseline, each trained within a CPU-time budget.

Usage (from the repository root; one thread per process):

    OMP_NUM_THREADS=1 python benchmarks/cmu_recognition.py [--root ../shared/data/cmu-mocap-expmap]
        [--seconds 240] [--width 16] [--length 32] [--downsample 4] [--models s-tr t-tr st-gcn]

Data (:func:`skeletal.data.cmu_recognition.cmu_recognition_splits`): the exp-map takes of the CMU
motion-prediction benchmark turned into 3D joints by forward kinematics (metres, 38 joints, NTU-style
normalisation), 32-frame windows at 15 fps (2.1 s; ``--length``, ``--downsample``), strides chosen per class
for about 120 training and 40 test windows per class; classes = the actions with both training and test takes;
training windows from ``train/`` takes, test windows from ``test/`` takes. The models are the registered ones at
a reduced width (first stage ``width`` channels instead of 64), one person, trained through the engine
(:func:`skeletal.tasks.train`, SGD + Nesterov, the ST-TR recipe with the learning-rate steps scaled to the
epochs that fit the CPU budget), no validation split, the final weights scored on the test windows. Writes
``benchmarks/results/cmu_recognition.md`` and the confusion matrices beside it. The data of the CMU Graphics Lab
Motion Capture Database (mocap.cs.cmu.edu, NSF EIA-0196217).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from skeletal import models
from skeletal.config import from_dict
from skeletal.data.cmu_recognition import CmuRecognitionData, cmu_recognition_splits
from skeletal.evaluation.recognition import RecognitionReport, recognition_report
from skeletal.inference.recognition import class_scores
from skeletal.tasks import SkeletonDataModule, train
from skeletal.viz.confusion import plot_confusion

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = ROOT / "runs" / "cmu-recognition"


def velocity_features(x: np.ndarray) -> np.ndarray:
    """Per window: mean and standard deviation over time of every joint's velocity (m/frame), flattened."""
    velocity = np.diff(x[:, 0], axis=1)  # (N, T - 1, V, 3)
    speed = np.linalg.norm(velocity, axis=-1)  # (N, T - 1, V)
    return np.concatenate([speed.mean(1), speed.std(1), np.abs(velocity).mean(1).reshape(len(x), -1)], axis=1)


def nearest_centroid(data: CmuRecognitionData) -> RecognitionReport:
    """Nearest class centroid of standardised joint-velocity statistics (Euclidean distance)."""
    train, test = velocity_features(data.train["x"]), velocity_features(data.test["x"])
    mean, std = train.mean(0), train.std(0) + 1e-8
    train, test = (train - mean) / std, (test - mean) / std
    centroids = np.stack([train[data.train["y"] == c].mean(0) for c in range(len(data.classes))])
    distances = ((test[:, None] - centroids[None]) ** 2).sum(-1)
    return recognition_report(-distances, data.test["y"], data.classes)


def train_model(name: str, data: CmuRecognitionData, width: int, seconds: float, seed: int) -> tuple:
    kwargs = {"num_classes": len(data.classes), "skeleton": "cmu38", "num_persons": 1, "width": width}
    model = models.create(name, **kwargs)
    batch = 16
    # The CPU budget sets the epochs: CPU seconds of a warm training step (measured here) x steps per epoch;
    # the learning rate is divided by 10 at 60% and 80% of them (the ST-TR schedule, compressed).
    x = torch.as_tensor(data.train["x"][:batch])
    y = torch.as_tensor(data.train["y"][:batch])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    for step in range(4):
        if step == 1:
            start = time.process_time()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    step_s = (time.process_time() - start) / 3
    steps_per_epoch = int(np.ceil(len(data.train["y"]) / batch))
    fit = max(4, int(seconds / (1.1 * step_s * steps_per_epoch)))
    config = from_dict(
        {
            "task": "recognition",
            "name": name,
            "seed": seed,
            "output": str(RUNS),
            "model": {"name": name, "kwargs": kwargs},
            "data": {
                "source": "arrays",
                "train": "cmu-mocap-expmap windows (in memory)",
                "skeleton": "cmu38",
                "batch_size": batch,
            },
            "optim": {"lr": 0.1, "milestones": [int(0.6 * fit), int(0.8 * fit)]},
            "trainer": {
                "max_epochs": fit,
                "limit_val_batches": 0,
                "progress_bar": False,
                "log_every_n_steps": 10,
                "accelerator": "cpu",
            },
        }
    )
    module = SkeletonDataModule("recognition", train=data.train, batch_size=batch, seed=seed)
    model = models.create(name, **kwargs)
    begin = time.process_time()
    result = train(config, datamodule=module, model=model)
    elapsed = time.process_time() - begin
    trained = result.task.model.eval()
    scores = class_scores(trained, data.test["x"], batch_size=64)
    report = recognition_report(scores, data.test["y"], data.classes)
    return report, models.count_parameters(trained), result.epochs, elapsed, step_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT.parent / "shared" / "data" / "cmu-mocap-expmap"))
    parser.add_argument("--seconds", type=float, default=240.0, help="training CPU seconds per model")
    parser.add_argument("--length", type=int, default=32, help="frames per window")
    parser.add_argument("--downsample", type=int, default=4, help="keep every n-th frame of the 60 fps files")
    parser.add_argument("--width", type=int, default=16, help="first-stage channels (64 in the papers)")
    parser.add_argument("--models", nargs="+", default=["s-tr", "t-tr", "st-gcn"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="take the results of models already trained (runs/cmu-recognition/NAME/result.json) instead of training "
        "them again: train models in parallel processes with --models NAME, then write the table with --reuse",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = cmu_recognition_splits(args.root, length=args.length, downsample=args.downsample)
    test_counts = np.bincount(data.test["y"], minlength=len(data.classes))
    train_counts = np.bincount(data.train["y"], minlength=len(data.classes))
    rows = []
    majority = float(test_counts.max() / test_counts.sum())
    rows.append(("chance (uniform)", 1 / len(data.classes), None, 1 / len(data.classes), "", "", "", ""))
    rows.append(("majority class", majority, None, 1 / len(data.classes), "", "", "", ""))
    baseline = nearest_centroid(data)
    rows.append(("nearest centroid, joint velocities", baseline.top1, baseline.top5, baseline.mean_class_accuracy))
    rows[-1] += ("", "", "", "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    per_class = {"nearest centroid": baseline.per_class}
    for name in args.models:
        cached = RUNS / name / "result.json"
        if args.reuse and cached.is_file():
            result = json.loads(cached.read_text())
        else:
            report, parameters, epochs, elapsed, step_s = train_model(name, data, args.width, args.seconds, args.seed)
            plot_confusion(
                report.confusion, RESULTS / f"cmu_recognition_{name}_confusion.png", data.classes, title=name
            )
            result = {
                "top1": report.top1, "top5": report.top5, "mean_class": report.mean_class_accuracy,
                "per_class": report.per_class.tolist(), "parameters": parameters, "epochs": epochs,
                "cpu_s": elapsed, "step_s": step_s, "width": args.width, "seconds": args.seconds,
            }  # fmt: skip
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(result, indent=1))
        print(f"{name}: top-1 {result['top1']:.3f} top-5 {result['top5']:.3f} ({result['epochs']} epochs)")
        per_class[name] = np.asarray(result["per_class"])
        rows.append(
            (f"{name} (width {result['width']})", result["top1"], result["top5"], result["mean_class"],
             f"{result['parameters']:,}", str(result["epochs"]), f"{result['cpu_s']:.0f}",
             f"{1000 * result['step_s']:.0f}")
        )  # fmt: skip
    write_table(data, rows, per_class, args, train_counts, test_counts)


def write_table(data, rows, per_class, args, train_counts, test_counts) -> None:  # type: ignore[no-untyped-def]
    lines = [
        "# Action recognition on real CMU motion capture (cmu-mocap-expmap)",
        "",
        f"Classes ({len(data.classes)}): {', '.join(data.classes)}; {args.length}-frame windows at {data.fps:.0f} fps, "
        "38 joints "
        "(FK, metres, NTU-style normalisation). Train windows per class: "
        f"{', '.join(str(c) for c in train_counts)} (from `train/` takes); test windows per class: "
        f"{', '.join(str(c) for c in test_counts)} (from the `test/` takes, one take per action).",
        f"Models at width {args.width} (papers: 64), one person, SGD lr 0.1 Nesterov, batch 16, {args.seconds:.0f} CPU "
        "seconds of training each (epochs = budget / measured CPU time per step), 1 thread; final weights, no model "
        "selection. Produced by "
        "`OMP_NUM_THREADS=1 python benchmarks/cmu_recognition.py "
        f"--seconds {args.seconds:.0f} --width {args.width} --length {args.length} --downsample {args.downsample}`.",
        "",
        "| method | top-1 | top-5 | mean class acc. | parameters | epochs | train CPU s | CPU ms / step |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, top1, top5, mean_class, parameters, epochs, seconds, step in rows:
        top5_text = "" if top5 is None else f"{top5:.3f}"
        lines.append(
            f"| {name} | {top1:.3f} | {top5_text} | {mean_class:.3f} | {parameters} | {epochs} | {seconds} | {step} |"
        )
    lines += ["", "Per-class top-1 accuracy (test):", "", "| method | " + " | ".join(data.classes) + " |"]
    lines.append("| --- |" + " --- |" * len(data.classes))
    for name, accuracy in per_class.items():
        lines.append(f"| {name} | " + " | ".join(f"{a:.2f}" for a in accuracy) + " |")
    lines += [
        "",
        "Top-5 is trivially 1 with 5 classes (kept for the format of `skeletal eval`). "
        "Caveat: one test take per action (the test windows of an action overlap and come from one recording), so the "
        "numbers move by whole takes' worth of windows between runs; treat differences of a few points as noise.",
        "",
        "Data: CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu), funded by NSF EIA-0196217.",
    ]
    (RESULTS / "cmu_recognition.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
