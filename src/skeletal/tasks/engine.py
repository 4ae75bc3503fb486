"""Train, evaluate and predict: the Python API behind ``skeletal train``, ``eval`` and ``predict``.

A run folder holds ``config.yaml`` (the resolved config), ``metrics.csv`` (Lightning's CSV logger),
``checkpoints/last.ckpt`` (Lightning's full training state, for ``--resume``; pickle-based, so it stays
inside the run folder) and ``model.safetensors`` (the safe model file, :func:`skeletal.load`).
"""

from __future__ import annotations

import dataclasses
import datetime
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
from lightning.fabric.utilities.seed import _collect_rng_states, _set_rng_states
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, RichProgressBar
from lightning.pytorch.plugins.io import TorchCheckpointIO

from skeletal.atomic import atomic_path, save_npz
from skeletal.config import Config, load_config, save_config
from skeletal.errors import ConfigError, DataError
from skeletal.tasks.base import SkeletalTask
from skeletal.tasks.data import SkeletonDataModule, load_split
from skeletal.tasks.lifting import LiftingTask
from skeletal.tasks.prediction import PredictionTask
from skeletal.tasks.recognition import RecognitionTask

VERBOSE_ENV = "SKELETAL_VERBOSE"
"""Set (``skeletal --verbose``) to keep Lightning's banners, tips and third-party warnings."""
QUIET_WARNINGS = (
    r".*does not have many workers.*",
    r".*deterministic.*",
    r".*LeafSpec.*",  # torch's _pytree deprecation, raised inside Lightning
    r".*will be deleted when the new ones are saved.*",  # a resumed run's log folder holds resumed_at_step.txt
)


def quiet_lightning() -> None:
    """Hide Lightning's informational lines (GPU/TPU summary, logger and checkpoint tips, time-limit notice)
    unless the environment variable ``SKELETAL_VERBOSE`` is set; its warnings stay."""
    import logging
    import os

    if not os.environ.get(VERBOSE_ENV):
        for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
            logging.getLogger(name).setLevel(logging.WARNING)


def _filter_warnings() -> None:
    """Inside ``warnings.catch_warnings()``: ignore :data:`QUIET_WARNINGS` (not with ``SKELETAL_VERBOSE``)."""
    import os

    if not os.environ.get(VERBOSE_ENV):
        for message in QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=message)


class _ProgressBar(RichProgressBar):
    """Lightning's rich progress bar without the logger's version number (``v_num``)."""

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics


TASK_CLASSES: dict[str, type[SkeletalTask]] = {
    "recognition": RecognitionTask,
    "prediction": PredictionTask,
    "lifting": LiftingTask,
}
MODEL_FILE = "model.safetensors"
BEST_CHECKPOINT = "best"
"""Prediction runs keep the weights of their best validation epoch here (``checkpoints/best.ckpt``) and export them."""
CHECKPOINT_INTERVAL = datetime.timedelta(minutes=5)
"""Training time between two writes of ``checkpoints/last.ckpt`` when ``trainer.checkpoint_every_n_steps`` is
unset (it is also written after each validation and at the end)."""
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


class RandomStates(Callback):
    """Keeps the torch, numpy and Python random states in Lightning's checkpoint and restores them on resume,
    so that dropout and augmentation after a resume draw what an uninterrupted run would have drawn."""

    _pending: dict[str, Any] | None

    def state_dict(self) -> dict[str, Any]:
        states = _collect_rng_states()
        # Lightning reads checkpoints with torch.load(weights_only=True): keep numpy's key as a tensor.
        name, keys, *rest = states["numpy"]
        states["numpy"] = (name, torch.from_numpy(keys.astype(np.int64)), *rest)
        return states

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        name, keys, *rest = state_dict["numpy"]
        self._pending = {**state_dict, "numpy": (name, keys.numpy().astype(np.uint32), *rest)}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pending = getattr(self, "_pending", None)
        if pending is not None:
            _set_rng_states(pending)
            self._pending = None


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoints written to a temporary file in their own folder (the run folder), then renamed, so
    a kill or a full disk while saving leaves the previous ``last.ckpt`` whole and no 0-byte file; the temporary
    file is removed when the write fails. A failed write (disk full, quota, file-size limit) is an ``OSError``
    naming the checkpoint: torch reports it as an obscure ``RuntimeError`` of its zip writer."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        target = Path(path)
        stream: _WriteErrors | None = None
        try:
            with atomic_path(target) as temporary, open(temporary, "wb") as raw:
                stream = _WriteErrors(raw)
                torch.save(checkpoint, stream)  # type: ignore[arg-type]  # write and flush are all it uses
        except BaseException as error:
            failed = error if isinstance(error, OSError) else getattr(stream, "error", None)
            if failed is not None:
                kept = "the previous one is kept" if target.is_file() else "no earlier checkpoint"
                reason = failed.strerror or type(failed).__name__
                raise OSError(failed.errno, f"{reason}: cannot write the checkpoint {target} ({kept})") from error
            raise


class _WriteErrors:
    """A binary stream that remembers the ``OSError`` its ``write`` raised (torch turns it into a RuntimeError)."""

    def __init__(self, stream: Any):
        self.stream = stream
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        try:
            return self.stream.write(data)
        except OSError as error:
            self.error = error
            raise

    def flush(self) -> None:
        self.stream.flush()


class InterruptCheckpoint(Callback):
    """Ctrl-C (SIGINT) or SIGTERM during fit stops training at the end of the current optimiser step (or
    validation batch) and writes ``checkpoints/last.ckpt`` there (atomically), so that ``skeletal train --resume
    RUN_DIR`` continues exactly: the weights, optimiser, random states and loader position of a finished step. A
    second signal, or one outside the training loop (setup, sanity check, export) or under several processes,
    stops at once without a new checkpoint (the last periodic one stays).

    :meth:`handle` is the signal handler; :func:`train` installs it for both signals while ``fit`` runs.
    """

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.saved: Path | None = None
        self.requested: int | None = None
        self._deferring = False

    def handle(self, signum: int, frame: Any) -> None:
        if self.requested is not None or not self._deferring:
            raise KeyboardInterrupt
        self.requested = signum
        print(f"{signal.Signals(signum).name}: stopping after this step (send it again to stop at once)",
              file=sys.stderr, flush=True)  # fmt: skip

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._deferring = trainer.world_size == 1

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._deferring = False

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self._stop_if_requested(trainer)

    def on_validation_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if not trainer.sanity_checking:
            self._stop_if_requested(trainer)

    def _stop_if_requested(self, trainer: L.Trainer) -> None:
        if self.requested is None or not self._deferring:
            return
        self._deferring = False
        path = self.run_dir / "checkpoints" / "last.ckpt"
        trainer.save_checkpoint(path)
        self.saved = path
        raise KeyboardInterrupt


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


def _trainer(config: Config, run_dir: Path, task: SkeletalTask, extra_callbacks: list | None = None) -> L.Trainer:
    t = config.trainer
    checkpoints = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="epoch{epoch}-step{step}",
        auto_insert_metric_name=False,
        save_last=True,
        save_top_k=1 if t.checkpoint_every_n_steps is None else 0,
        every_n_train_steps=t.checkpoint_every_n_steps,
        enable_version_counter=False,  # last.ckpt is shared with the timed callback below: overwrite, no last-v1
    )
    callbacks: list[Any] = [checkpoints, RandomStates(), InterruptCheckpoint(run_dir), *(extra_callbacks or [])]
    if t.checkpoint_every_n_steps is None:  # also every few minutes, so that a crash between validations loses little
        directory, interval = run_dir / "checkpoints", CHECKPOINT_INTERVAL
        timed = ModelCheckpoint(directory, save_last=True, save_top_k=0, train_time_interval=interval,
                                enable_version_counter=False)  # fmt: skip
        callbacks.append(timed)
    monitor = getattr(task, "monitor", None)
    if monitor is not None and config.task == "prediction":
        # The weights of the best validation epoch, exported at the end (early stopping as the paper).
        callbacks.append(
            ModelCheckpoint(
                dirpath=run_dir / "checkpoints",
                filename=BEST_CHECKPOINT,
                monitor=monitor,
                mode="min",
                save_top_k=1,
                save_weights_only=True,
                enable_version_counter=False,
            )
        )
    if config.task == "prediction" and task.optim.patience:
        if monitor is None:
            raise ConfigError(f"early stopping needs the task's `monitor` metric; {type(task).__name__} has none")
        callbacks.append(EarlyStopping(monitor=monitor, mode="min", patience=task.optim.patience))
    if t.progress_bar:
        callbacks.append(_ProgressBar(leave=True))
    limits = {
        key: getattr(t, key)
        for key in ("limit_train_batches", "limit_val_batches", "limit_test_batches")
        if getattr(t, key) is not None
    }
    quiet_lightning()
    return L.Trainer(
        default_root_dir=run_dir,
        max_epochs=t.max_epochs,
        max_steps=t.max_steps,
        # Lightning annotates dict[str, int], but the dict goes to timedelta(**max_time), which takes float seconds.
        max_time={"seconds": t.max_time_s} if t.max_time_s else None,  # type: ignore[dict-item]
        accelerator=t.accelerator,
        devices=t.devices,
        num_nodes=t.num_nodes,
        strategy=t.strategy,
        precision=t.precision,  # type: ignore[arg-type]
        accumulate_grad_batches=t.accumulate_grad_batches,
        gradient_clip_val=t.gradient_clip_val,
        gradient_clip_algorithm="norm",
        check_val_every_n_epoch=t.check_val_every_n_epoch,
        log_every_n_steps=t.log_every_n_steps,
        deterministic=t.deterministic,
        enable_progress_bar=t.progress_bar,
        enable_model_summary=False,
        logger=L.pytorch.loggers.CSVLogger(run_dir, name="logs"),
        callbacks=callbacks,
        plugins=[AtomicCheckpointIO()],
        **limits,
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
    task = build_task(config, model)
    if config.trainer.compile:  # in place: parameters and state-dict keys stay those of the plain model
        task.model.compile(backend=config.trainer.compile_backend, mode=config.trainer.compile_mode)
    data = datamodule or SkeletonDataModule.from_config(config.task, config.data, seed=config.seed)
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


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


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


def predict(model_file: str | Path, input_path: str | Path, output_path: str | Path, batch_size: int = 64) -> Path:
    """Run a model file on an input file and write an ``.npz``.

    The input is a ``.npy`` array or an ``.npz`` holding ``x``: recognition ``(N, M, T, V, C)`` gives
    ``probabilities (N, classes)`` and ``labels (N,)``; prediction ``(N, T, V, F)`` gives ``future
    (N, horizon, V, F)`` from the first ``T - horizon`` frames (``seed_frames``); lifting ``(N, T, V, 2)``
    gives ``poses_3d (N, T', V, 3)``. A single sample without the batch axis is accepted.
    """
    from skeletal.tasks.data import DIMS

    task, _ = _task_from_file(model_file)
    input_path = Path(input_path)
    if not input_path.is_file():
        raise FileNotFoundError(f"input file {input_path} does not exist")
    try:
        loaded = np.load(input_path, allow_pickle=False)
        x = loaded["x"] if isinstance(loaded, np.lib.npyio.NpzFile) else loaded
    except (ValueError, OSError, KeyError) as error:
        raise DataError(f"expected a .npy array or an .npz with key 'x' ({error})", input_path) from None
    dims = DIMS[task.task_name][0]
    if x.ndim == dims - 1:
        x = x[None]
    if x.ndim != dims:
        raise DataError(f"expected a {dims}-dimensional {task.task_name} input, got shape {x.shape}", input_path)
    tensor = torch.as_tensor(np.asarray(x, dtype=np.float32))
    outputs = []
    with torch.no_grad():
        for start in range(0, len(tensor), batch_size):
            outputs.append(task.predict_step((tensor[start : start + batch_size],), 0))
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
