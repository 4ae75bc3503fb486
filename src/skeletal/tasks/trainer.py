"""The Lightning ``Trainer`` of a training run and what keeps it resumable and quiet.

:func:`_trainer` builds it from a config's ``trainer`` section with its callbacks: ``checkpoints/last.ckpt`` after
validations, every ``checkpoint_every_n_steps`` or on a timer (:data:`CHECKPOINT_INTERVAL`), written atomically
(:class:`AtomicCheckpointIO`); the random states saved and restored with it (:class:`RandomStates`); a checkpoint
on Ctrl-C or SIGTERM at the end of the step (:class:`InterruptCheckpoint`); the best validation epoch and early
stopping of prediction runs. Lightning's banners and known-harmless warnings are hidden unless
``SKELETAL_VERBOSE`` is set (:func:`quiet_lightning`).
"""

from __future__ import annotations

import datetime
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.fabric.utilities.seed import _collect_rng_states, _set_rng_states
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, RichProgressBar
from lightning.pytorch.plugins.io import TorchCheckpointIO

from skeletal.atomic import atomic_path
from skeletal.config import Config
from skeletal.errors import ConfigError
from skeletal.tasks.base import SkeletalTask

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


BEST_CHECKPOINT = "best"
"""Prediction runs keep the weights of their best validation epoch here (``checkpoints/best.ckpt``) and export them."""
CHECKPOINT_INTERVAL = datetime.timedelta(minutes=5)
"""Training time between two writes of ``checkpoints/last.ckpt`` when ``trainer.checkpoint_every_n_steps`` is
unset (it is also written after each validation and at the end)."""


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


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


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
