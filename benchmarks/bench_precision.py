"""bfloat16 against float32 inference on real CMU inputs: accuracy and speed, per task.

Each model is run twice on the same inputs, as float32 and as a copy converted by
:func:`skeletal.inference.precision.set_precision` (``"bf16"``); timings alternate the two copies run by run
(``--repeats`` rounds, medians of CPU seconds of this process, one thread: a job at nice 15 on this shared
machine gets a few percent of a core, so wall time measures the other jobs).

- Recognition: ``s-tr``, ``t-tr``, ``st-gcn`` at the papers' width on the CMU recognition test windows
  (:func:`skeletal.data.cmu_recognition.cmu_recognition_splits`, 32 frames at 15 fps as in
  ``benchmarks/cmu_recognition.py``), one person. No trained recognition weights are kept in the repository, so
  the weights are the initial ones with batch-norm statistics collected on 256 training windows (as after
  training, so that activations are normalised): top-1 agreement of bf16 with float32 is measured on these;
  a trained model's logits are better separated, so its agreement is expected to be at least as high.
- Lifting: the trained GAST-Net 27 of ``benchmarks/results/gast-net-27_cmu.safetensors`` on every CMU test
  sequence (:func:`skeletal.data.cmu_lifting.load_cmu_lifting`), whole sequences, no flip: MPJPE (mm) of each
  precision against the ground truth, and the mean distance between the two predictions.
- Prediction: ``st-transformer-h36m`` sizes on the ``cmu38`` layout (initial weights), 25 frames generated from
  the 50-frame CMU test seeds with the official growing context (window 75), projected onto SO(3): mean
  geodesic error (radians) against the ground truth for each precision, and between the two.

Run: ``OMP_NUM_THREADS=1 nice -n 15 python benchmarks/bench_precision.py [--data ../shared/data]`` (writes
``benchmarks/results/precision.md``).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import roma
import torch
from torch import nn

from skeletal import models
from skeletal.checkpoint import load
from skeletal.inference.generation import generate
from skeletal.inference.precision import set_precision
from skeletal.skeletons import get as get_skeleton

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "precision.md"


def paired_seconds(first: Callable[[], object], second: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median CPU seconds of two calls timed alternately (one warm-up call each)."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for index, function in enumerate((first, second)):
            start = time.process_time()
            function()
            times[index].append(time.process_time() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def calibrate_batch_norm(model: nn.Module, windows: torch.Tensor, batch: int = 32) -> None:
    """Running statistics of every batch norm = cumulative averages over ``windows`` (the rest in eval mode)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
        norm.train()
    with torch.no_grad():
        for start in range(0, len(windows), batch):
            model(windows[start : start + batch])
    model.eval()


def twins(model: nn.Module) -> tuple[nn.Module, nn.Module]:
    return model.eval(), set_precision(copy.deepcopy(model), "bf16")


def recognition(args: argparse.Namespace, lines: list[str]) -> None:
    from skeletal.data.cmu_recognition import cmu_recognition_splits

    data = cmu_recognition_splits(args.data / "cmu-mocap-expmap", length=32, downsample=4)
    train = torch.as_tensor(np.asarray(data.train["x"], dtype=np.float32))
    test = torch.as_tensor(np.asarray(data.test["x"], dtype=np.float32))
    calibration = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:256]]
    lines += [
        f"## Recognition: CMU test windows ({len(test)} windows, {len(data.classes)} classes, 32 frames x 38 joints)",
        "",
        "| model | top-1 agreement | max abs logit diff | fp32 ms / window | bf16 ms / window | bf16 speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for name in args.recognition:
        torch.manual_seed(0)
        model = models.create(name, num_classes=len(data.classes), skeleton="cmu38", num_persons=1)
        calibrate_batch_norm(model, calibration)
        fp32, bf16 = twins(model)
        with torch.no_grad():
            logits32 = torch.cat([fp32(test[s : s + 64]) for s in range(0, len(test), 64)])
            logits16 = torch.cat([bf16(test[s : s + 64]) for s in range(0, len(test), 64)])
            batch = test[: args.batch]
            seconds32, seconds16 = paired_seconds(partial(fp32, batch), partial(bf16, batch), args.repeats)
        agreement = float((logits32.argmax(1) == logits16.argmax(1)).float().mean())
        diff = float((logits32 - logits16).abs().max())
        lines.append(
            f"| {name} | {100 * agreement:.2f} % | {diff:.3g} | {1000 * seconds32 / len(batch):.1f} | "
            f"{1000 * seconds16 / len(batch):.1f} | {seconds32 / seconds16:.2f}x |"
        )
        print(lines[-1], flush=True)


def lifting(args: argparse.Namespace, lines: list[str]) -> None:
    from skeletal.data.cmu_lifting import load_cmu_lifting
    from skeletal.evaluation.lifting import lift_sequence
    from skeletal.metrics import mpjpe

    every = load_cmu_lifting(args.data / "cmu-mocap-expmap", "test")
    step = max(1, len(every) // args.max_sequences) if args.max_sequences else 1
    sequences = every[::step][: args.max_sequences or None]
    fp32, bf16 = twins(load(ROOT / "benchmarks" / "results" / "gast-net-27_cmu.safetensors"))
    root = get_skeleton(fp32.skeleton).root  # type: ignore[arg-type]
    errors: dict[str, list[float]] = {"fp32": [], "bf16": [], "between": []}
    frames = 0
    with torch.no_grad():
        for sequence in sequences:
            target = np.asarray(sequence["positions"], dtype=np.float64)
            target = target - target[:, root : root + 1]
            first, second = lift_sequence(fp32, sequence["keypoints"]), lift_sequence(bf16, sequence["keypoints"])
            count = len(target)
            frames += count
            errors["fp32"].append(mpjpe(first, target) * count)
            errors["bf16"].append(mpjpe(second, target) * count)
            errors["between"].append(mpjpe(second, first) * count)
        keypoints = torch.as_tensor(np.asarray(sequences[0]["keypoints"], dtype=np.float32))[None]
        seconds32, seconds16 = paired_seconds(lambda: fp32.lift(keypoints), lambda: bf16.lift(keypoints), args.repeats)
    mm = {key: 1000 * sum(values) / frames for key, values in errors.items()}
    lines += [
        "",
        f"## Lifting: trained GAST-Net 27 on CMU test sequences ({len(sequences)} of {len(every)} sequences, every "
        f"{step}th, {frames} frames)",
        "",
        "| MPJPE fp32 (mm) | MPJPE bf16 (mm) | difference (mm) | mean distance bf16 - fp32 (mm) | bf16 speed-up |",
        "|---|---|---|---|---|",
        f"| {mm['fp32']:.2f} | {mm['bf16']:.2f} | {mm['bf16'] - mm['fp32']:+.3f} | {mm['between']:.3f} | "
        f"{seconds32 / seconds16:.2f}x ({keypoints.shape[1]}-frame sequence) |",
    ]
    print("\n".join(lines[-4:]), flush=True)


def prediction(args: argparse.Namespace, lines: list[str]) -> None:
    from skeletal.evaluation.prediction import cmu_test_windows

    windows = np.concatenate(list(cmu_test_windows(args.data / "cmu-mocap-expmap").values()))
    seeds, target = torch.as_tensor(windows[:, :50]), torch.as_tensor(windows[:, 50:75]).double()
    torch.manual_seed(0)
    fp32, bf16 = twins(models.create("st-transformer-h36m", skeleton="cmu38"))

    def error(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(roma.rotmat_geodesic_distance(a.double().reshape(-1, 3, 3), b.reshape(-1, 3, 3)).mean())

    first, second = generate(fp32, seeds, 25, window=75), generate(bf16, seeds, 25, window=75)
    batch = seeds[: args.batch]
    seconds32, seconds16 = paired_seconds(
        lambda: generate(fp32, batch, 5, window=75), lambda: generate(bf16, batch, 5, window=75), args.repeats
    )
    lines += [
        "",
        f"## Prediction: st-transformer-h36m sizes on cmu38 (initial weights), {len(seeds)} CMU test seeds, 25 frames",
        "",
        "| angle error fp32 (rad) | angle error bf16 (rad) | difference | mean angle bf16 - fp32 (rad) | "
        "bf16 speed-up (5 frames, cached) |",
        "|---|---|---|---|---|",
        f"| {error(first, target):.4f} | {error(second, target):.4f} | "
        f"{error(second, target) - error(first, target):+.4f} | {error(second, first.double()):.4f} | "
        f"{seconds32 / seconds16:.2f}x |",
    ]
    print("\n".join(lines[-4:]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recognition", nargs="+", default=["s-tr", "t-tr", "st-gcn"])
    parser.add_argument("--batch", type=int, default=8, help="batch of the timed runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-sequences", type=int, default=0, help="lifting: evenly spaced test sequences (0: all)")
    parser.add_argument("--tasks", nargs="+", default=["recognition", "lifting", "prediction"])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="the shared data folder")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = [
        "# bfloat16 against float32 inference on real CMU inputs",
        "",
        f"`benchmarks/bench_precision.py` (torch {torch.__version__}, 1 thread, nice 15; times are medians of "
        f"{args.repeats} alternating runs in CPU seconds; the 2-core machine was loaded by other jobs).",
        "",
    ]
    for task in args.tasks:
        {"recognition": recognition, "lifting": lifting, "prediction": prediction}[task](args, lines)
        args.output.write_text("\n".join(lines) + "\n")
    text = "\n".join(lines) + "\n"
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
