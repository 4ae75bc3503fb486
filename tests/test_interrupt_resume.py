"""Issue 18: interrupt a real ``skeletal train`` process with SIGINT, SIGTERM or SIGKILL at a random optimiser step,
``skeletal train --resume`` it, and compare its final weights with an uninterrupted run: they are bit-identical.

Why bit-identical and not merely close: both runs are the same CPU program with one thread (``OMP_NUM_THREADS=1``),
the resumed part starts from a checkpoint of a finished optimiser step (SIGINT/SIGTERM stop at the end of the step
they arrive in and write ``last.ckpt`` there; after SIGKILL the run resumes from the last periodic checkpoint,
every 3 steps), with the same random states (:class:`skeletal.tasks.engine.RandomStates`) and the same position in
the epoch's order (the training loader's ``state_dict``), so it performs the same float operations in the same
order. The model is a small S-TR with dropout, so the random state matters.

The interrupted process is ``skeletal train`` (``skeletal.cli.main``) in a child forked from the test process (the
imports done, so no interpreter start) with one extra callback that writes the step reached to a file and sleeps a
little per step, so that the test can send the signal while a chosen step runs. The uninterrupted run and the
resumed part run ``skeletal train`` in the test process (one torch thread too).
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import lightning as L
import pytest
import torch
import yaml

from skeletal import checkpoint, cli
from skeletal.tasks import engine

STEPS_PER_EPOCH, EPOCHS, EVERY = 6, 4, 3
CONFIG = {
    "task": "recognition",
    "name": "interrupted",
    "seed": 5,
    "model": {"name": "s-tr", "kwargs": {"num_classes": 8, "skeleton": "h36m17", "num_persons": 1, "width": 16}},
    "data": {
        "source": "synthetic",
        "batch_size": 8,
        "synthetic": {"num_train": 8 * STEPS_PER_EPOCH, "num_val": 8, "num_frames": 12, "fps": 10.0, "num_people": 1},
    },
    "optim": {"lr": 0.1},
    "trainer": {
        "max_epochs": EPOCHS,
        "check_val_every_n_epoch": 1,
        "log_every_n_steps": 1,
        "checkpoint_every_n_steps": EVERY,
        "progress_bar": False,
    },
}


class Announce(L.Callback):
    """Writes the step now running to ``marker`` and sleeps a little, for the test to aim its signal."""

    def __init__(self, marker: Path):
        self.marker = marker

    def on_train_batch_start(self, trainer, module, batch, index) -> None:
        self.marker.write_text(str(trainer.global_step))
        time.sleep(0.05)

    def on_validation_batch_start(self, trainer, module, batch, index, dataloader_idx=0) -> None:
        if not trainer.sanity_checking:
            self.marker.write_text(f"validation {trainer.current_epoch}")
            time.sleep(0.05)


def _child(marker: Path, stderr: Path, *argv: str) -> int:
    """``skeletal train ...`` in a forked child process (the imports are done: no interpreter start) that announces
    its steps; its pid."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.dup2(os.open(stderr, os.O_WRONLY | os.O_CREAT, 0o644), 2)
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            torch.set_num_threads(1)
            build = engine._trainer
            engine._trainer = lambda *args, **kwargs: build(*args, extra_callbacks=[Announce(marker)], **kwargs)
            code = cli.main(["train", *argv])
            sys.stderr.flush()
        finally:
            os._exit(code)
    return pid


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return checkpoint.load(run / "model.safetensors").state_dict()


@pytest.fixture(scope="module")
def config_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("config")
    (folder / "tiny.yaml").write_text(yaml.safe_dump({**CONFIG, "output": str(folder / "runs")}))
    return folder / "tiny.yaml"


@contextmanager
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _train_here(*argv: str) -> str:
    """``skeletal train ...`` in this process (one thread); its warnings' messages."""
    with one_thread(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli.main(["train", *argv]) == 0
    return "\n".join(str(w.message) for w in caught)


@pytest.fixture(scope="module")
def straight(config_file: Path, tmp_path_factory) -> dict[str, torch.Tensor]:
    """Final weights of the uninterrupted run."""
    output = tmp_path_factory.mktemp("straight")
    _train_here(str(config_file), f"output={output}")
    return _weights(output / "interrupted")


def interrupt_and_resume(config_file: Path, output: Path, signum: int, step: int | str) -> tuple[Path, str, str]:
    """Run ``skeletal train`` until step ``step`` runs, send ``signum``, resume; the run folder, the first part's
    stderr and the resumed part's warnings."""
    marker, stderr = output / "step", output / "stderr.txt"
    pid = _child(marker, stderr, str(config_file), f"output={output}")
    deadline, status = time.monotonic() + 300, None
    while time.monotonic() < deadline:
        if marker.is_file() and marker.read_text() == str(step):
            break
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            raise AssertionError(f"training ended before step {step}: {stderr.read_text()[-3000:]}")
        time.sleep(0.005)
    os.kill(pid, signum)
    status = os.waitpid(pid, 0)[1]
    first = stderr.read_text()
    expected = -signal.SIGKILL if signum == signal.SIGKILL else 130
    assert os.waitstatus_to_exitcode(status) == expected, first[-3000:]
    run = output / "interrupted"
    assert not (run / "model.safetensors").exists()
    return run, first, _train_here("--resume", str(run))


def _check(straight: dict[str, torch.Tensor], run: Path, first: str, second: str, signum: int, step: int | str) -> None:
    if signum != signal.SIGKILL:
        assert f"checkpoint written: {run / 'checkpoints' / 'last.ckpt'}" in first
        assert f"resume with: skeletal train --resume {run}" in first
    assert "not resumable" not in second, second  # Lightning's warning for a mid-epoch resume
    resumed = _weights(run)
    assert resumed.keys() == straight.keys()
    for key, value in straight.items():
        assert torch.equal(resumed[key], value), f"{key} differs after {signal.Signals(signum).name} at step {step}"


SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_interrupt_at_a_random_step_then_resume_gives_the_uninterrupted_weights(
    config_file: Path, straight, tmp_path: Path, signum: int
) -> None:
    # A random step that is not a periodic checkpoint's (the SIGKILL case then really redoes steps).
    step = random.Random(int(signum)).choice([s for s in range(1, STEPS_PER_EPOCH * EPOCHS - 1) if s % EVERY])
    run, first, second = interrupt_and_resume(config_file, tmp_path, signum, step)
    _check(straight, run, first, second, signum, step)


@pytest.mark.slow
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("draw", range(3))
def test_interrupt_at_more_random_steps(config_file: Path, straight, tmp_path: Path, signum: int, draw: int) -> None:
    step = random.Random(f"{signum}-{draw}").randrange(1, STEPS_PER_EPOCH * EPOCHS - 1)
    run, first, second = interrupt_and_resume(config_file, tmp_path, signum, step)
    _check(straight, run, first, second, signum, step)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=lambda s: signal.Signals(s).name)
def test_interrupt_during_validation_then_resume(config_file: Path, straight, tmp_path: Path, signum: int) -> None:
    """SIGINT in a validation batch stops there and writes the checkpoint (the epoch's training is finished)."""
    run, first, second = interrupt_and_resume(config_file, tmp_path, signum, "validation 1")
    _check(straight, run, first, second, signum, "validation 1")
