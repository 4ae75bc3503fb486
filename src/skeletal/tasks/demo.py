"""``skeletal demo``: train and evaluate a small model of each task on the embedded synthetic data, and compare
it with the simple baseline of its paper, in a few minutes on a CPU.

| task | model (small) | baseline | metric |
| --- | --- | --- | --- |
| recognition | S-TR (ST-TR journal, width 16) | chance (1 / classes) | top-1 accuracy, % |
| prediction | ST-Transformer (2 layers, D = 32) | zero-velocity (repeat the last seed pose) | joint-angle error, rad |
| lifting | GAST-Net, receptive field 27 (32 channels) | mean training pose | MPJPE, mm |

The configs below are also in ``configs/<task>/demo.yaml``; the data are SYNTHETIC (:mod:`skeletal.data.synthetic`),
so the numbers show that training works, not the papers' results.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skeletal.config import Config, from_dict

DEMO_CONFIGS: dict[str, dict[str, Any]] = {
    "recognition": {
        "task": "recognition",
        "name": "recognition-demo",
        "model": {"name": "s-tr", "kwargs": {"num_classes": 8, "skeleton": "h36m17", "num_persons": 1, "width": 16}},
        "data": {
            "source": "synthetic",
            "batch_size": 16,
            "synthetic": {"num_train": 256, "num_val": 128, "num_frames": 32, "num_people": 1},
        },
        "optim": {"lr": 0.05, "milestones": [8, 12]},
        "trainer": {"max_epochs": 15, "log_every_n_steps": 4},
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
                "window": 40,
            },
        },
        "data": {
            "source": "synthetic",
            "batch_size": 8,
            "synthetic": {"num_train": 256, "num_val": 64, "seed_length": 30, "target_length": 10},
        },
        "optim": {"lr": 2.0, "warmup": 100, "d_model": 32, "horizon": 10, "seed_frames": 30, "patience": 5},
        "trainer": {"max_epochs": 30, "gradient_clip_val": 1.0, "log_every_n_steps": 4},
    },
    "lifting": {
        "task": "lifting",
        "name": "lifting-demo",
        "model": {"name": "gast-net-27", "kwargs": {"skeleton": "h36m17", "channels": 32}},
        "data": {
            "source": "synthetic",
            "skeleton": "h36m17",
            "batch_size": 8,
            "synthetic": {"num_train": 256, "num_val": 64, "num_frames": 32},
        },
        "optim": {"lr": 0.003},
        "trainer": {"max_epochs": 30, "log_every_n_steps": 4},
    },
}
BUDGET_SHARE = {"recognition": 0.45, "prediction": 0.3, "lifting": 0.25}


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


def demo_config(task: str, output: str | Path = "runs", budget_s: float | None = None, seed: int = 0) -> Config:
    """The demo config of ``task``, with a wall-clock budget for training (``trainer.max_time_s``)."""
    values = copy.deepcopy(DEMO_CONFIGS[task])
    values.update(output=str(output), seed=seed)
    if budget_s is not None:
        values["trainer"]["max_time_s"] = float(budget_s)
    return from_dict(values).validate()


def _baseline(task: str, config: Config, result_dir: Path, datamodule: Any) -> tuple[str, float]:
    from skeletal import models
    from skeletal.metrics.pose import mpjpe
    from skeletal.tasks.engine import build_task

    test = datamodule.splits["test"]
    if task == "recognition":
        classes = int(config.model.kwargs["num_classes"])
        return f"chance (1/{classes})", 100.0 / classes
    if task == "prediction":
        kwargs = {k: config.model.kwargs[k] for k in ("skeleton", "representation")}
        baseline = models.create("zero-velocity", **kwargs).eval()
        zero_velocity = dataclass_copy(config, model_name="zero-velocity", kwargs=kwargs)
        wrapped = build_task(zero_velocity, baseline)
        x = torch.as_tensor(test["x"])
        with torch.no_grad():
            seed, target = wrapped._split(x)
            from skeletal.tasks.prediction import joint_angle, rollout

            future = rollout(baseline, seed, target.shape[1], context=seed.shape[1])
        return "zero-velocity", joint_angle(future, target, config.optim.representation)
    train_y = np.asarray(datamodule.splits["train"]["y"], dtype=np.float64)
    mean_pose = train_y.reshape(-1, *train_y.shape[-2:]).mean(axis=0)
    test_y = np.asarray(test["y"], dtype=np.float64)
    return "mean pose", 1000.0 * mpjpe(np.broadcast_to(mean_pose, test_y.shape).copy(), test_y)


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
    budget_s: float = 150.0,
    output: str | Path = "runs/demo",
    seed: int = 0,
    progress_bar: bool = True,
) -> list[DemoRow]:
    """Train and evaluate each task's small model within ``budget_s`` seconds in total; compare to baselines.

    Args:
        tasks: Which tasks to run.
        budget_s: Total training budget in seconds, shared between the tasks (evaluation comes on top).
        output: Folder for the run folders (``recognition-demo`` ...).
        seed: Seed of data and training.
        progress_bar: Show Lightning's progress bars.

    Returns:
        One :class:`DemoRow` per task.
    """
    from skeletal import models
    from skeletal.tasks.data import SkeletonDataModule
    from skeletal.tasks.engine import evaluate, train

    if not progress_bar:
        quiet_lightning()
    shares = {t: BUDGET_SHARE[t] for t in tasks}
    total = sum(shares.values())
    rows = []
    for task in tasks:
        config = demo_config(task, output, budget_s * shares[task] / total, seed)
        config.trainer.progress_bar = progress_bar
        start = time.perf_counter()
        datamodule = SkeletonDataModule.from_config(task, config.data, seed=seed)
        result = train(config, datamodule=datamodule)
        metrics = evaluate(result.model_file, progress_bar=progress_bar)
        elapsed = time.perf_counter() - start
        key, label, scale, higher = METRICS[task]
        value = metrics[key] * scale
        baseline_name, baseline_value = _baseline(task, config, result.run_dir, datamodule)
        better = value > baseline_value if higher else value < baseline_value
        parameters = models.count_parameters(build_model(config))
        rows.append(
            DemoRow(
                task,
                config.model.name,
                parameters,
                label,
                value,
                baseline_name,
                baseline_value,
                better,
                elapsed,
                result.epochs,
            )
        )
    return rows


def quiet_lightning() -> None:
    """Hide Lightning's informational messages (accelerator summary, tips, time-limit notices)."""
    import logging
    import warnings

    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*")


def build_model(config: Config) -> torch.nn.Module:
    from skeletal import models

    return models.create(config.model.name, **config.model.kwargs)


def print_table(rows: list[DemoRow]) -> None:
    """Print the demo results as a rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="skeletal demo (SYNTHETIC data: shows that training works, not the papers' numbers)")
    for column in ("task", "model", "params", "metric", "model", "baseline", "baseline value", "epochs", "time"):
        table.add_column(column, justify="left" if column in ("task", "model", "metric", "baseline") else "right")
    for row in rows:
        mark = "[green]" if row.better else "[red]"
        table.add_row(
            row.task,
            row.model,
            f"{row.parameters:,}",
            row.metric,
            f"{mark}{row.value:.3f}",
            row.baseline,
            f"{row.baseline_value:.3f}",
            str(row.epochs),
            f"{row.seconds:.0f} s",
        )
    console = Console()
    Console(width=max(console.width, 132)).print(table)
