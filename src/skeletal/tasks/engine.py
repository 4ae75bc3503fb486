"""Train, evaluate and predict: the Python API behind ``skeletal train``, ``eval`` and ``predict``.

A run folder holds ``config.yaml`` (the resolved config), ``metrics.csv`` (Lightning's CSV logger),
``checkpoints/last.ckpt`` (Lightning's full training state, for ``--resume``; pickle-based, so it stays
inside the run folder) and ``model.safetensors`` (the safe model file, :func:`skeletal.load`).
"""

from __future__ import annotations

import dataclasses
import math
import signal
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from skeletal.atomic import save_npz
from skeletal.config import Config, load_config, save_config
from skeletal.data.datasets import load_split
from skeletal.data.module import SkeletonDataModule
from skeletal.errors import ConfigError, DataError
from skeletal.tasks.base import SkeletalTask
from skeletal.tasks.lifting import LiftingTask
from skeletal.tasks.prediction import PredictionTask
from skeletal.tasks.recognition import RecognitionTask
from skeletal.tasks.trainer import (
    BEST_CHECKPOINT,
    InterruptCheckpoint,
    _filter_warnings,
    _main_thread,
    _trainer,
    quiet_lightning,
)

TASK_CLASSES: dict[str, type[SkeletalTask]] = {
    "recognition": RecognitionTask,
    "prediction": PredictionTask,
    "lifting": LiftingTask,
}
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.yaml"


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes:
        run_dir: The run folder.
        model_file: The safetensors model file.
        metrics: Final validation metrics (name to number).
        epochs: Epochs completed.
        task: The trained Lightning module (its ``model`` holds the final weights, on every rank).
    """

    run_dir: Path
    model_file: Path
    metrics: dict[str, float]
    epochs: int
    task: SkeletalTask | None = None


def build_task(config: Config, model: torch.nn.Module | None = None) -> SkeletalTask:
    """The Lightning module of ``config.task`` wrapping ``config.model`` (built from the registry)."""
    task_class = TASK_CLASSES[config.task]
    return task_class(
        model_name=config.model.name,
        model_kwargs=dict(config.model.kwargs),
        optim=dataclasses.asdict(config.optim),
        skeleton=config.data.skeleton or "",
        config=config.to_dict(),
        model=model,
    )


def train(
    config: Config,
    run_dir: str | Path | None = None,
    resume: bool = False,
    datamodule: L.LightningDataModule | None = None,
    model: torch.nn.Module | None = None,
) -> TrainResult:
    """Train ``config``; write the run folder; export the final weights as ``model.safetensors``.

    Args:
        config: The run (see :mod:`skeletal.config`).
        run_dir: Run folder (default ``config.output / config.name``).
        resume: Continue from ``run_dir/checkpoints/last.ckpt`` (optimiser, schedule, epoch and step restored).
        datamodule: Data to use instead of the one ``config.data`` describes.
        model: An already-built model instead of the registry's.

    Returns:
        The run folder, model file and final validation metrics.
    """
    run_dir = Path(run_dir if run_dir is not None else Path(config.output) / config.name)
    last = run_dir / "checkpoints" / "last.ckpt"
    if resume and not last.is_file():
        raise FileNotFoundError(f"cannot resume: {last} does not exist")
    L.seed_everything(config.seed, workers=True, verbose=False)
    if config.trainer.threads is not None:  # 0: a shared machine's idle cores (two threads on one free core crawl)
        from skeletal.machine import auto_threads

        torch.set_num_threads(config.trainer.threads or auto_threads())
    task = build_task(config, model)
    if config.trainer.compile:  # in place: parameters and state-dict keys stay those of the plain model
        task.model.compile(backend=config.trainer.compile_backend, mode=config.trainer.compile_mode)
    data = datamodule or SkeletonDataModule.from_config(config.task, config.data, seed=config.seed)
    if isinstance(data, SkeletonDataModule):  # a wrong joint count or class count fails here, naming the config key
        from skeletal.data.model_inputs import check_training_data

        paths = {name: getattr(config.data, name) for name in ("train", "val", "test")}
        check_training_data(data.splits, config.model.kwargs, paths)
    save_config(config, run_dir / CONFIG_FILE)
    trainer = _trainer(config, run_dir, task)
    if resume and trainer.is_global_zero:
        # Each (re)start logs to a new logs/version_k; remember where it resumed so read_metrics can drop rows
        # an interrupted part logged after its last checkpoint.
        step = int(torch.load(last, map_location="cpu", weights_only=True)["global_step"])
        log_dir = Path(trainer.logger.log_dir)  # type: ignore[union-attr, arg-type]
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / "resumed_at_step.txt").write_text(f"{step}\n")
    interrupt = next(c for c in trainer.callbacks if isinstance(c, InterruptCheckpoint))  # type: ignore[attr-defined]
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, interrupt.handle) for s in signals} if _main_thread() else {}
    try:
        with warnings.catch_warnings():
            _filter_warnings()
            trainer.fit(task, datamodule=data, ckpt_path=str(last) if resume else None)
    except SystemExit:  # Lightning exits with status 1 after a KeyboardInterrupt
        if interrupt.saved:
            where = f"checkpoint written: {interrupt.saved}"
        elif last.is_file():
            where = f"stopped at once; the last periodic checkpoint is {last}"
        else:
            where = "no checkpoint yet, nothing to resume"
        print(f"training interrupted ({where}); run folder: {run_dir}\nresume with: skeletal train --resume "
              f"{run_dir}", file=sys.stderr)  # fmt: skip
        raise KeyboardInterrupt from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if torch.as_tensor(v).numel() == 1}
    best = run_dir / "checkpoints" / f"{BEST_CHECKPOINT}.ckpt"
    if best.is_file():
        # Our own file, written by this run into its folder (as last.ckpt, which Lightning also unpickles).
        state = torch.load(best, map_location="cpu", weights_only=False)
        task.load_state_dict(state["state_dict"])
        metrics["best_epoch"] = float(state.get("epoch", -1))
        for callback in trainer.checkpoint_callbacks:
            if isinstance(callback, ModelCheckpoint) and callback.monitor and callback.best_model_score is not None:
                metrics[callback.monitor] = float(callback.best_model_score)
    model_file = run_dir / MODEL_FILE
    if trainer.is_global_zero:
        task.export(model_file, metrics)
    return TrainResult(run_dir, model_file, metrics, trainer.current_epoch, task)


def train_file(
    path: str | Path | None, overrides: list[str] | tuple[str, ...] = (), resume: str | Path | None = None
) -> TrainResult:
    """``skeletal train``: load a YAML config (or the run folder's saved one when resuming) and train it."""
    if resume is not None:
        run_dir = Path(resume)
        saved = run_dir / CONFIG_FILE
        if not saved.is_file():
            raise FileNotFoundError(f"cannot resume: {run_dir} has no {CONFIG_FILE}; is it a run folder?")
        config = load_config(path or saved, overrides)
        return train(config, run_dir=run_dir, resume=True)
    if path is None:
        raise ConfigError("a config file is required (or --resume RUN_DIR)")
    return train(load_config(path, overrides))


def read_metrics(run_dir: str | Path) -> list[dict[str, str]]:
    """Every logged row of a run, across resumes, in order, without rows of work that a resume redid.

    Each part (``logs/version_k/metrics.csv``) after the first starts at the global step its checkpoint
    recorded; rows of earlier parts at or after that step were logged after the last checkpoint and are
    dropped, so no row is lost or duplicated.
    """
    import csv

    parts = sorted((Path(run_dir) / "logs").glob("version_*"), key=lambda p: int(p.name.split("_")[-1]))
    rows: list[dict[str, str]] = []
    for part in parts:
        marker = part / "resumed_at_step.txt"
        if marker.is_file():
            resumed_at = int(marker.read_text().strip())
            rows = [row for row in rows if int(row["step"]) < resumed_at]
        if (part / "metrics.csv").is_file():
            with open(part / "metrics.csv", newline="") as stream:
                rows.extend(csv.DictReader(stream))
    return rows


def _task_from_file(path: str | Path, allow_pickle: bool = False) -> tuple[SkeletalTask, dict[str, Any]]:
    from skeletal import checkpoint

    model = checkpoint.load(path, allow_pickle=allow_pickle)
    info = getattr(model, "skeletal_info", None)
    if info is None:
        raise DataError("a pickled file carries no skeletal metadata; evaluate its model.safetensors instead", path)
    config = info.config or {}
    optim = config.get("optim", {})
    task_class = TASK_CLASSES[info.task]
    task = task_class(
        model_name=info.model_name,
        model_kwargs=info.model_kwargs,
        optim=optim,
        skeleton=info.skeleton,
        config=config,
        model=model,
    )
    return task, config


def evaluate(
    model_file: str | Path,
    data: str | Path | None = None,
    batch_size: int = 64,
    progress_bar: bool = True,
    datamodule: L.LightningDataModule | None = None,
) -> dict[str, float]:
    """Test metrics of a model file on a prepared split (default: the test split its config describes).

    Args:
        model_file: A model file written by :func:`train`.
        data: A prepared split (``.npz`` or folder) to test on.
        batch_size: Batch size of ``data`` or of the stored config's test split.
        progress_bar: Show Lightning's progress bar.
        datamodule: Test on this data module's test split instead (e.g. the one just trained on).

    Returns:
        ``{"test/top1": ..., ...}``: top-1/top-5 accuracy (recognition), joint-angle and joint errors
        (prediction), MPJPE and P-MPJPE in mm (lifting).
    """
    task, config = _task_from_file(model_file)
    if datamodule is None and data is not None:
        split = load_split(data, task.task_name)
        datamodule = SkeletonDataModule(task.task_name, test=split, batch_size=batch_size)
    elif datamodule is None:
        from skeletal.config import from_dict

        stored = from_dict(config)
        stored.data.batch_size = batch_size
        datamodule = SkeletonDataModule.from_config(task.task_name, stored.data, seed=stored.seed)
    return run_test(task, datamodule, progress_bar)


def run_test(task: SkeletalTask, datamodule: L.LightningDataModule, progress_bar: bool = True) -> dict[str, float]:
    """``trainer.test`` of a task on a data module's test split, on one device: ``{"test/...": value}``."""
    quiet_lightning()
    trainer = L.Trainer(
        accelerator="cpu" if not torch.cuda.is_available() else "auto",
        devices=1,
        logger=False,
        enable_progress_bar=progress_bar,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    with warnings.catch_warnings():
        _filter_warnings()
        results = trainer.test(task, datamodule=datamodule, verbose=False)
    return {k: float(v) for k, v in results[0].items()}


def predict(
    model_file: str | Path, input_path: str | Path, output_path: str | Path, batch_size: int = 64,
    precision: str = "fp32",
) -> Path:  # fmt: skip
    """Run a model file on an input file and write an ``.npz`` (``precision="bf16"``: the model in bfloat16,
    :func:`skeletal.inference.precision.set_precision`).

    The input is a ``.npy`` array or an ``.npz`` holding ``x``: recognition ``(N, M, T, V, C)`` gives
    ``probabilities (N, classes)`` and ``labels (N,)``; prediction ``(N, T, V, F)`` gives ``future
    (N, horizon, V, F)`` from the first ``T - horizon`` frames (``seed_frames``); lifting ``(N, T, V, 2)``
    gives ``poses_3d (N, T', V, 3)``. A single sample without the batch axis is accepted.
    """
    from skeletal.data.datasets import DIMS
    from skeletal.data.model_inputs import is_lift_output, lift_output_refused, read_input_array
    from skeletal.inference.precision import resolve_precision, set_precision

    precision = resolve_precision(precision)
    task, _ = _task_from_file(model_file)
    if precision != "fp32":
        set_precision(task.model, precision)
    input_path = Path(input_path)
    if task.task_name != "recognition" and is_lift_output(input_path):
        needs = "local joint rotations (N, T, V, F)" if task.task_name == "prediction" else "2D keypoints (N, T, V, 2)"
        raise lift_output_refused(input_path, f"a {task.task_name} model reads {needs}")
    x, _ = read_input_array(input_path, ("x",))
    dims = DIMS[task.task_name][0]
    if x.ndim == dims - 1:
        x = x[None]
    if x.ndim != dims:
        raise DataError(f"expected a {dims}-dimensional {task.task_name} input, got shape {x.shape}", input_path)
    tensor = torch.from_numpy(np.array(x, dtype=np.float32))  # a copy: the input may be a read-only memory map
    outputs = []
    with torch.no_grad():
        for start in range(0, len(tensor), batch_size):
            outputs.append(task.predict_step((tensor[start : start + batch_size],), 0).float())
    result = torch.cat(outputs).numpy()
    arrays: dict[str, np.ndarray]
    if task.task_name == "recognition":
        arrays = {"probabilities": result, "labels": result.argmax(axis=-1)}
    elif task.task_name == "prediction":
        arrays = {"future": result}
    else:
        arrays = {"poses_3d": result}
    return save_npz(output_path, **arrays)


def steps_per_epoch(num_samples: int, batch_size: int, devices: int = 1) -> int:
    """Optimiser steps in one epoch (for schedule planning)."""
    return math.ceil(num_samples / (batch_size * devices))
