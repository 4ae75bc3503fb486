"""``skeletal demo``: train and evaluate a small model of each task on the embedded synthetic data, and compare
it with the simple baseline of its paper, in a few minutes on a CPU.

| task | model (small) | baseline | metric |
| --- | --- | --- | --- |
| recognition | S-TR (ST-TR journal, width 16) | chance (1 / classes) | top-1 accuracy, % |
| prediction | ST-Transformer (2 layers, D = 32) | zero-velocity (repeat the last seed pose) | joint-angle error, rad |
| lifting | GAST-Net, receptive field 27 (32 channels) | mean training pose | MPJPE, mm |

The configs below are also in ``configs/<task>/demo.yaml``; the data are SYNTHETIC (:mod:`skeletal.data.synthetic`),
so the numbers show that training works, not the papers' results. Choices for a run of about a minute per task:

- recognition: 20-frame sequences at 10 fps (2 s of motion in few frames), batch 16, SGD lr 0.1;
- prediction: 30-frame training windows (next-step loss on every frame), rollouts of 10 frames from 20 seed
  frames; the output projection starts at zero (:func:`start_at_zero_velocity`), so the untrained model is the
  zero-velocity baseline; Transformer schedule with a 50-step warmup; the baseline runs through the same test step;
- lifting: training windows of the receptive field (27 frames, single-frame strided mode, the paper's training),
  batch 64 so that BatchNorm statistics settle; evaluation on 64-frame windows layer by layer (38 output frames
  each), the mean-pose baseline scored on the same frames;
- validation every 5 epochs only (its rollouts and long windows cost more than training steps);
- a fixed number of optimiser steps per task (:data:`DEMO_STEPS`), not a time budget, and one torch thread by
  default: the table is the same for a seed however loaded the machine is (only the time column varies); the
  step counts come from the CPU seconds per step measured by ``benchmarks/bench_demo.py``
  (``benchmarks/results/demo-step-cost-2026-12-02.md``: 0.156, 0.199 and 0.295 s), 320 x 0.156 + 320 x 0.199 +
  160 x 0.295 = 161 CPU seconds of training, about 3 minutes with data, tests and baselines.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skeletal.config import Config, from_dict

STEPS_RECOGNITION = 320
STEPS_PREDICTION = 320
STEPS_LIFTING = 160
DEMO_CONFIGS: dict[str, dict[str, Any]] = {
    "recognition": {
        "task": "recognition",
        "name": "recognition-demo",
        "model": {"name": "s-tr", "kwargs": {"num_classes": 8, "skeleton": "h36m17", "num_persons": 1, "width": 16}},
        "data": {
            "source": "synthetic",
            "batch_size": 16,
            "synthetic": {"num_train": 512, "num_val": 128, "num_frames": 20, "fps": 10.0, "num_people": 1},
        },
        "optim": {"lr": 0.1, "milestones": [40]},
        "trainer": {
            "max_epochs": 60,
            "max_steps": STEPS_RECOGNITION,
            "check_val_every_n_epoch": 5,
            "log_every_n_steps": 8,
        },
    },
    "prediction": {
        "task": "prediction",
        "name": "prediction-demo",
        "model": {
            "name": "st-transformer",
            "kwargs": {
                "skeleton": "h36m17",
                "representation": "matrix",
                "num_layers": 2,
                "num_heads": 4,
                "model_dim": 32,
                "feedforward_dim": 64,
                "window": 30,
            },
        },
        "data": {
            "source": "synthetic",
            "batch_size": 16,
            "synthetic": {"num_train": 1024, "num_val": 64, "seed_length": 20, "target_length": 10},
        },
        "optim": {"lr": 0.1, "warmup": 50, "d_model": 32, "horizon": 10, "seed_frames": 20, "patience": 0},
        "trainer": {
            "max_epochs": 60,
            "max_steps": STEPS_PREDICTION,
            "gradient_clip_val": 1.0,
            "check_val_every_n_epoch": 5,
            "log_every_n_steps": 8,
        },
    },
    "lifting": {
        "task": "lifting",
        "name": "lifting-demo",
        "model": {"name": "gast-net-27", "kwargs": {"skeleton": "h36m17", "channels": 32}},
        "data": {
            "source": "synthetic",
            "skeleton": "h36m17",
            "batch_size": 64,
            "synthetic": {"num_train": 2048, "num_val": 64, "num_frames": 27, "eval": {"num_frames": 64}},
        },
        "optim": {"lr": 0.003},
        "trainer": {"max_epochs": 60, "max_steps": STEPS_LIFTING, "check_val_every_n_epoch": 5, "log_every_n_steps": 8},
    },
}
DEMO_STEPS = {"recognition": STEPS_RECOGNITION, "prediction": STEPS_PREDICTION, "lifting": STEPS_LIFTING}
"""Optimiser steps of each task (``trainer.max_steps`` of ``configs/<task>/demo.yaml``)."""


@dataclass
class DemoRow:
    """One line of the demo table."""

    task: str
    model: str
    parameters: int
    metric: str
    value: float
    baseline: str
    baseline_value: float
    better: bool
    seconds: float
    epochs: int
    steps: int


def demo_config(task: str, output: str | Path = "runs", scale: float = 1.0, seed: int = 0) -> Config:
    """The demo config of ``task``, its steps (:data:`DEMO_STEPS`) multiplied by ``scale`` (at least 1)."""
    values = copy.deepcopy(DEMO_CONFIGS[task])
    values.update(output=str(output), seed=seed)
    values["trainer"]["max_steps"] = max(1, round(values["trainer"]["max_steps"] * scale))
    return from_dict(values).validate()


def _baseline(task: str, config: Config, datamodule: Any, progress_bar: bool) -> tuple[str, float]:
    """The simple baseline's test metric, on the test split the model is tested on.

    Recognition: chance. Prediction: the zero-velocity model run through the same Lightning test step as the
    trained model (same seed/target split, same autoregressive rollout, same joint-angle metric). Lifting: the mean
    training pose, scored on the frames the lifter outputs (the central ``T - RF + 1`` of each test window).
    """
    from skeletal import models
    from skeletal.metrics.pose import mpjpe
    from skeletal.tasks.engine import build_task, run_test

    if task == "recognition":
        classes = int(config.model.kwargs["num_classes"])
        return f"chance (1/{classes})", 100.0 / classes
    if task == "prediction":
        kwargs = {k: config.model.kwargs[k] for k in ("skeleton", "representation")}
        baseline = models.create("zero-velocity", **kwargs).eval()
        wrapped = build_task(dataclass_copy(config, model_name="zero-velocity", kwargs=kwargs), baseline)
        return "zero-velocity", run_test(wrapped, datamodule, progress_bar)["test/joint_angle"]
    train_y = np.asarray(datamodule.splits["train"]["y"], dtype=np.float64)
    mean_pose = train_y.reshape(-1, *train_y.shape[-2:]).mean(axis=0)
    test_y = np.asarray(datamodule.splits["test"]["y"], dtype=np.float64)
    receptive_field = int(getattr(build_model(config), "receptive_field", 1))
    start = (receptive_field - 1) // 2
    test_y = test_y[:, start : test_y.shape[1] - (receptive_field - 1 - start)]
    return "mean pose", 1000.0 * mpjpe(np.broadcast_to(mean_pose, test_y.shape).copy(), test_y)


def start_at_zero_velocity(model: torch.nn.Module, scale: float = 0.0) -> torch.nn.Module:
    """Scale the output projection of a residual motion predictor (``output = x + head(hidden)``, ST-Transformer
    Sec. 3.2) by ``scale`` (bias zeroed) so that the untrained model predicts "no motion", the zero-velocity
    baseline (exactly, with the default 0), and a short run starts from there instead of from a random offset it
    cannot undo. The head still gets gradients (``hidden`` is not zero), the layers below from the next step on.
    Returns ``model``."""
    head = getattr(model, "head", None)
    if head is None:
        return model
    with torch.no_grad():
        for name, parameter in head.named_parameters():
            parameter.mul_(0.0 if name.endswith("bias") else scale)
    return model


def dataclass_copy(config: Config, model_name: str, kwargs: dict[str, Any]) -> Config:
    """A copy of ``config`` with another model."""
    values = config.to_dict()
    values["model"] = {"name": model_name, "kwargs": kwargs}
    return from_dict(values)


METRICS = {
    "recognition": ("test/top1", "top-1 accuracy %", 100.0, True),
    "prediction": ("test/joint_angle", "joint angle (rad)", 1.0, False),
    "lifting": ("test/mpjpe", "MPJPE (mm)", 1.0, False),
}


def run_demo(
    tasks: tuple[str, ...] = ("recognition", "prediction", "lifting"),
    scale: float = 1.0,
    output: str | Path = "runs/demo",
    seed: int = 0,
    progress_bar: bool = True,
    threads: int | None = 1,
    announce: Callable[[str], None] | None = None,
) -> list[DemoRow]:
    """Train and evaluate each task's small model for its fixed number of steps; compare to baselines.

    Args:
        tasks: Which tasks to run.
        scale: Multiplies every task's number of optimiser steps (:data:`DEMO_STEPS`); 1 for the README's table.
        output: Folder for the run folders (``recognition-demo`` ...).
        seed: Seed of data and training.
        progress_bar: Show Lightning's progress bars.
        threads: Torch threads (default 1, the same numbers on every machine; None: :func:`auto_threads`, the
            cores that other processes leave idle, faster but not bit-identical across thread counts).
        announce: Called with one line before each task trains (``skeletal demo`` prints it).

    Returns:
        One :class:`DemoRow` per task.
    """
    from skeletal import models
    from skeletal.data.module import SkeletonDataModule
    from skeletal.tasks.engine import evaluate, train

    torch.set_num_threads(threads or auto_threads())
    rows = []
    for number, task in enumerate(tasks, 1):
        config = demo_config(task, output, scale, seed)
        config.trainer.progress_bar = progress_bar
        start = time.perf_counter()
        datamodule = SkeletonDataModule.from_config(task, config.data, seed=seed)
        torch.manual_seed(seed)
        model = build_model(config)
        if announce is not None:
            announce(f"[{number}/{len(tasks)}] {task}: {config.model.name} ({models.count_parameters(model):,} "
                     f"parameters), {config.trainer.max_steps} steps on synthetic data -> "
                     f"{Path(config.output) / config.name}")  # fmt: skip
        if task == "prediction":
            start_at_zero_velocity(model)
        result = train(config, datamodule=datamodule, model=model)
        metrics = evaluate(result.model_file, progress_bar=progress_bar, datamodule=datamodule)
        key, label, scale_factor, higher = METRICS[task]
        value = metrics[key] * scale_factor
        baseline_name, baseline_value = _baseline(task, config, datamodule, progress_bar)
        elapsed = time.perf_counter() - start
        better = value > baseline_value if higher else value < baseline_value
        parameters = models.count_parameters(model)
        steps = int(result.task.global_step) if result.task is not None else config.trainer.max_steps
        rows.append(DemoRow(task, config.model.name, parameters, label, value, baseline_name, baseline_value,
                            better, elapsed, result.epochs, steps))  # fmt: skip
    return rows


def auto_threads() -> int:
    """Torch threads for a machine shared with other jobs: the cores minus the 1-minute load average, at least 1.

    Two threads on two cores that another job keeps busy are many times slower than one (every parallel region
    waits for the thread that is not scheduled), so a busy machine gets fewer threads.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return max(1, min(cores, torch.get_num_threads(), int(cores - busy + 0.5)))


def build_model(config: Config) -> torch.nn.Module:
    from skeletal import models

    return models.create(config.model.name, **config.model.kwargs)


def print_table(rows: list[DemoRow]) -> None:
    """Print the demo results as a rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="skeletal demo on SYNTHETIC data (skeletal.data.synthetic): shows that training works, not the papers' "
        "numbers",
        caption=f"time: data, training, test and baseline; torch threads: {torch.get_num_threads()}; load average "
        f"{os.getloadavg()[0]:.1f} at the end; green: better than the baseline",
    )
    for column in ("task", "model", "params", "metric", "model", "baseline", "baseline value", "steps", "time"):
        table.add_column(column, justify="left" if column in ("task", "model", "metric", "baseline") else "right")
    for row in rows:
        mark = "[green]" if row.better else "[red]"  # the table caption says it; the colour only repeats it
        table.add_row(
            row.task,
            row.model,
            f"{row.parameters:,}",
            row.metric,
            f"{mark}{row.value:.3f}",
            row.baseline,
            f"{row.baseline_value:.3f}",
            f"{row.steps:,}",
            f"{row.seconds:.0f} s",
        )
    console = Console()
    Console(width=max(console.width, 132)).print(table)
