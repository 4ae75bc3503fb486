"""Issue 18 item 4: Ctrl-C (SIGINT) and SIGTERM during training write a resumable ``last.ckpt`` atomically."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch
from test_kill_resume import config, data

from skeletal.tasks import engine, train
from skeletal.tasks.trainer import AtomicCheckpointIO


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_writes_a_resumable_checkpoint(tmp_path: Path, monkeypatch, capsys, signum: int) -> None:
    def interrupt(self, trainer, module, outputs, batch, index) -> None:
        if trainer.global_step == 3:  # mid-epoch 0 (4 steps per epoch)
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(engine.InterruptCheckpoint, "on_train_batch_end", interrupt, raising=False)
    cfg = config(tmp_path)
    cfg.trainer.checkpoint_every_n_steps = None  # the only mid-epoch checkpoint is the one the signal writes
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(cfg, run_dir=run_dir, datamodule=data())
    err = capsys.readouterr().err
    assert f"resume with: skeletal train --resume {run_dir}" in err
    last = run_dir / "checkpoints" / "last.ckpt"
    assert torch.load(last, map_location="cpu", weights_only=True)["global_step"] == 3
    assert not [p for p in last.parent.iterdir() if p.suffix == ".tmp"]  # written atomically, nothing leaked
    assert signal.getsignal(signal.SIGTERM) is not engine._raise_interrupt  # handler restored
    monkeypatch.undo()
    result = train(config(tmp_path), run_dir=run_dir, resume=True, datamodule=data())
    assert result.model_file.is_file() and result.epochs >= 1


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
