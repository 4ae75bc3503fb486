"""Crash-safe training: SIGKILL a training process in the middle of an epoch, resume it, compare with a run that
was never interrupted (same seed, CPU).

The child process trains a tiny recognition model with dropout (so the random state matters) with a checkpoint
every optimiser step (``trainer.checkpoint_every_n_steps=1``, Lightning's ``ModelCheckpoint(every_n_train_steps)``).
A callback announces, at the start of optimiser step ``kill_at``, that the checkpoint of step ``kill_at`` is on
disk and then blocks (6: mid-epoch, 4 steps per epoch; 4: the first batch of epoch 1, while the checkpoint is that
of epoch 0's last batch, written before epoch 0's validation); the test SIGKILLs it there, runs
``train(..., resume=True)`` on the run folder in a second process, and compares the final weights and the
logged ``train/loss_step`` rows with the uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from skeletal import checkpoint, models
from skeletal.config import from_dict
from skeletal.tasks import SkeletonDataModule, read_metrics, train

EPOCHS, BATCH, SAMPLES = 3, 8, 32  # 4 steps per epoch
KILL_POINTS = (6, 4)


class DropoutClassifier(nn.Module):
    """Dropout, then the mean over people, frames and joints, then a linear layer: ``(N, M, T, V, C) -> (N, K)``."""

    def __init__(self, num_classes: int = 4, in_channels: int = 3, skeleton: str = "ntu25"):
        super().__init__()
        self.dropout = nn.Dropout(0.3)
        self.linear = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(x).mean(dim=(1, 2, 3)))


if "test-dropout-classifier" not in models.names():
    models.register_model("test-dropout-classifier", "recognition", paper="test model")(DropoutClassifier)


def config(output: Path):
    return from_dict(
        {
            "task": "recognition",
            "name": "killed",
            "seed": 7,
            "output": str(output),
            "model": {"name": "test-dropout-classifier", "kwargs": {"num_classes": 4}},
            "data": {"source": "arrays", "train": "unused", "batch_size": BATCH},
            "optim": {"lr": 0.05},
            "trainer": {"max_epochs": EPOCHS, "progress_bar": False, "log_every_n_steps": 1,
                        "checkpoint_every_n_steps": 1},
        }
    ).validate()  # fmt: skip


def data() -> SkeletonDataModule:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, SAMPLES)
    x = rng.normal(size=(SAMPLES, 2, 6, 25, 3)).astype(np.float32)
    x[np.arange(SAMPLES), :, :, :, y % 3] += 2.0
    split = {"x": x, "y": y}
    return SkeletonDataModule("recognition", split, split, batch_size=BATCH, seed=7)


CHILD = textwrap.dedent(
    f"""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {str(Path(__file__).parent)!r})
    import lightning as L
    from skeletal.tasks import engine, train
    from test_kill_resume import config, data

    output, resume, marker, kill_at = Path(sys.argv[1]), sys.argv[2] == "resume", Path(sys.argv[3]), int(sys.argv[4])

    class Hang(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, index):
            if trainer.global_step == kill_at and not resume:
                marker.write_text(str(trainer.global_step))  # the checkpoint of step kill_at is written
                time.sleep(600)

    build = engine._trainer
    engine._trainer = lambda *args, **kwargs: build(*args, extra_callbacks=[Hang()], **kwargs)
    train(config(output), run_dir=output / "killed", resume=resume, datamodule=data())
    """
)


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory) -> Path:
    """The uninterrupted run folder."""
    return train(config(tmp_path_factory.mktemp("straight")), datamodule=data()).run_dir


@pytest.fixture(scope="module", params=KILL_POINTS, ids=lambda step: f"killed-at-step-{step}")
def runs(request, tmp_path_factory, straight_run: Path) -> tuple[Path, Path, int]:
    """``(uninterrupted run folder, killed-and-resumed run folder, step of the kill)``."""
    tmp_path, kill_at = tmp_path_factory.mktemp("kill"), request.param
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    marker = tmp_path / "reached"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), "first", str(marker), str(kill_at)],
                             env=env)  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), f"the training process ended ({child.poll()}) before step {kill_at}"
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    run_dir = tmp_path / "killed"
    assert not (run_dir / "model.safetensors").exists()  # really interrupted
    resumed = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), "resume", str(marker), str(kill_at)], env=env,
                             timeout=300, capture_output=True, text=True)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return straight_run, run_dir, kill_at


def _loss_rows(run_dir: Path) -> list[dict[str, str]]:
    return [row for row in read_metrics(run_dir) if row.get("train/loss_step")]


def test_sigkill_then_resume_loses_and_repeats_no_metric_row(runs) -> None:
    straight, killed, kill_at = runs
    steps = [int(r["step"]) for r in _loss_rows(killed)]
    assert steps == [int(r["step"]) for r in _loss_rows(straight)]
    assert len(steps) == len(set(steps)) == EPOCHS * SAMPLES // BATCH
    validations = [int(r["epoch"]) for r in read_metrics(killed) if r.get("val/top1")]
    assert validations == list(range(EPOCHS))
    first = [float(r["train/loss_step"]) for r in _loss_rows(killed)][:kill_at]  # before the kill: identical
    np.testing.assert_allclose(first, [float(r["train/loss_step"]) for r in _loss_rows(straight)][:kill_at], rtol=1e-6)
    assert len(list((killed / "logs").glob("version_*"))) == 2  # really two parts, merged by read_metrics


def test_sigkill_then_resume_matches_uninterrupted_run(runs) -> None:
    """Same batches in the same order (the sampler skips the batches trained before the checkpoint), same dropout
    draws (random states restored), so the same losses, validation metrics and final weights."""
    straight, killed, _ = runs
    losses = [float(r["train/loss_step"]) for r in _loss_rows(killed)]
    np.testing.assert_allclose(losses, [float(r["train/loss_step"]) for r in _loss_rows(straight)], rtol=1e-5)
    validation = [float(r["val/loss"]) for r in read_metrics(killed) if r.get("val/loss")]
    np.testing.assert_allclose(validation, [float(r["val/loss"]) for r in read_metrics(straight) if r.get("val/loss")],
                               rtol=1e-5)  # fmt: skip
    a = checkpoint.load(straight / "model.safetensors").state_dict()
    b = checkpoint.load(killed / "model.safetensors").state_dict()
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=0, atol=1e-6)


@pytest.mark.parametrize("missing", ["run folder", "checkpoint"])
def test_resume_without_checkpoint_is_a_clear_error(tmp_path: Path, missing: str) -> None:
    run_dir = tmp_path / "run"
    if missing == "checkpoint":
        (run_dir / "checkpoints").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="cannot resume: .*last.ckpt does not exist"):
        train(config(tmp_path), run_dir=run_dir, resume=True, datamodule=data())
