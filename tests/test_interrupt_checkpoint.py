"""Issue 18 item 4: Ctrl-C (SIGINT) and SIGTERM during training stop after the current step and write a resumable
``last.ckpt`` there, atomically; a second signal stops at once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import lightning as L
import pytest
import torch
from test_kill_resume import config, data

from skeletal.tasks import engine, train
from skeletal.tasks.trainer import AtomicCheckpointIO


class SignalAt(L.Callback):
    """Sends ``signum`` to this process at the start of step ``step`` (``twice``: two signals)."""

    def __init__(self, signum: int, step: int, twice: bool = False):
        self.signum, self.step, self.twice = signum, step, twice

    def on_train_batch_start(self, trainer, module, batch, index) -> None:
        if trainer.global_step == self.step:
            for _ in range(1 + self.twice):
                os.kill(os.getpid(), self.signum)


def _with(monkeypatch, callback: L.Callback) -> None:
    build = engine._trainer
    monkeypatch.setattr(engine, "_trainer", lambda *a, **k: build(*a, extra_callbacks=[callback], **k))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_writes_a_resumable_checkpoint(tmp_path: Path, monkeypatch, capsys, signum: int) -> None:
    _with(monkeypatch, SignalAt(signum, 2))  # mid-epoch 0 (4 steps per epoch): step 3 is finished, then it stops
    cfg = config(tmp_path)
    cfg.trainer.checkpoint_every_n_steps = None  # the only mid-epoch checkpoint is the one the signal writes
    run_dir = tmp_path / "run"
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, run_dir=run_dir, datamodule=data())
    err = capsys.readouterr().err
    assert f"{signal.Signals(signum).name}: stopping after this step" in err
    assert f"resume with: skeletal train --resume {run_dir}" in err
    last = run_dir / "checkpoints" / "last.ckpt"
    assert torch.load(last, map_location="cpu", weights_only=True)["global_step"] == 3
    assert not [p for p in last.parent.iterdir() if p.suffix == ".tmp"]  # written atomically, nothing leaked
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers  # handlers restored
    monkeypatch.undo()
    result = train(config(tmp_path), run_dir=run_dir, resume=True, datamodule=data())
    assert result.model_file.is_file() and result.epochs >= 1


def test_a_second_signal_stops_at_once_without_a_new_checkpoint(tmp_path: Path, monkeypatch, capsys) -> None:
    _with(monkeypatch, SignalAt(signal.SIGINT, 2, twice=True))
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(config(tmp_path), run_dir=run_dir, datamodule=data())  # checkpoints every step
    assert "stopped at once; the last periodic checkpoint is" in capsys.readouterr().err
    last = run_dir / "checkpoints" / "last.ckpt"
    assert torch.load(last, map_location="cpu", weights_only=True)["global_step"] == 2  # the one before the step


def test_checkpoint_io_is_atomic_and_follows_the_umask(tmp_path: Path) -> None:
    io = AtomicCheckpointIO()
    target = tmp_path / "last.ckpt"
    io.save_checkpoint({"global_step": 1}, target)
    previous = os.umask(0o022)
    try:
        io.save_checkpoint({"global_step": 2}, target)
    finally:
        os.umask(previous)
    assert torch.load(target, weights_only=True)["global_step"] == 2
    assert target.stat().st_mode & 0o777 == 0o644
    with pytest.raises((AttributeError, TypeError)):  # a lambda cannot be pickled
        io.save_checkpoint({"bad": lambda: 0}, target)  # a failed write keeps the previous file, leaks nothing
    assert torch.load(target, weights_only=True)["global_step"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]
