"""Issue 18: a full disk while ``skeletal train`` saves a checkpoint keeps the previous ``last.ckpt`` loadable, leaks
no temporary file and ends in one clear error line (exit status 2).

Two ways to fill the disk: the checkpoint writer's stream raising ``ENOSPC`` half-way (in this process), and a real
kernel refusal in a child process whose file-size limit (``RLIMIT_FSIZE``, ``SIGXFSZ`` ignored, so ``write`` fails
with ``EFBIG``) is below the checkpoint's size.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from test_interrupt_resume import CONFIG

from skeletal import cli
from skeletal.tasks import engine


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A run folder whose ``last.ckpt`` is that of step 3."""
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump({**CONFIG, "output": str(tmp_path)}))
    assert cli.main(["train", str(tmp_path / "tiny.yaml"), "trainer.max_steps=3"]) == 0
    return tmp_path / CONFIG["name"]


def _state(run: Path) -> tuple[bytes, int]:
    last = run / "checkpoints" / "last.ckpt"
    return last.read_bytes(), torch.load(last, map_location="cpu", weights_only=True)["global_step"]


def test_disk_full_while_saving_keeps_the_previous_checkpoint(run: Path, monkeypatch, capsys) -> None:
    before = _state(run)
    assert before[1] == 3
    save = torch.save

    def full_disk(obj, stream, *args, **kwargs) -> None:  # half a checkpoint, then the disk is full
        stream.write(b"x" * 4096)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(engine.torch, "save", full_disk)
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run), "trainer.max_steps=6"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    last = run / "checkpoints" / "last.ckpt"
    assert lines == [f"skeletal train: error: [Errno 28] No space left on device: cannot write the checkpoint {last} "
                     "(the previous one is kept)"]  # fmt: skip
    assert _state(run) == before  # untouched, loadable
    assert not [p.name for p in last.parent.iterdir() if p.name.endswith(".tmp")]  # nothing leaked
    monkeypatch.setattr(engine.torch, "save", save)
    assert cli.main(["train", "--resume", str(run), "trainer.max_steps=6"]) == 0  # space again: it continues
    assert _state(run)[1] == 6


CHILD = """
import resource, signal, sys
from skeletal import cli
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing the process
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
sys.exit(cli.main(sys.argv[2:]))
"""


@pytest.mark.slow
def test_file_size_limit_while_saving_keeps_the_previous_checkpoint(run: Path) -> None:
    before = _state(run)
    limit = len(before[0]) // 2  # the logs (a few KB) still fit, a checkpoint does not
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", CHILD, str(limit), "train", "--resume", str(run),
                             "trainer.max_steps=6"], capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    last = run / "checkpoints" / "last.ckpt"
    assert f"skeletal train: error: [Errno 27] File too large: cannot write the checkpoint {last}" in result.stderr
    assert _state(run) == before
    assert not [p.name for p in last.parent.iterdir() if p.name.endswith(".tmp")]
