"""What a new user meets first: a command line that starts without torch, a complete model table, quiet
training output (``--verbose`` brings Lightning's lines back) and model files readable like any output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import TINY_LIFTING  # a lifting run of 2 steps

from skeletal import cli

SRC = Path(__file__).resolve().parents[1] / "src"
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _run(*arguments: str, **environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", "COLUMNS": "100", **environment}
    return subprocess.run([sys.executable, "-m", "skeletal.cli", *arguments], capture_output=True, text=True, env=env)


@pytest.mark.parametrize(
    "arguments",
    [["--help"], ["models", "--task", "lifting"], ["lift"], ["models", "--nope"],
     ["lift", "x.npy", "--image-size", "640"], ["demo", "--scale", "-1"], ["bench", "--repeats", "0"],
     ["eval", "m.safetensors", "--data", "nope"], ["prepare", "keypoints", "clips", "out"]],
)  # fmt: skip
def test_commands_that_need_no_model_do_not_import_torch(arguments: list[str]) -> None:
    assert "HEAVY []" in _heavy_imports(arguments, ("torch", "lightning", "matplotlib", "numpy"))


def test_checking_a_layout_name_does_not_import_torch() -> None:
    """The layouts and converters work on numpy arrays; torch is imported only for a tensor (1.5 -> 0.1 CPU s)."""
    arguments = ["prepare", "keypoints", "clips", "out", "--labels", "labels.csv", "--layout", "bogus"]
    stderr = _heavy_imports(arguments, ("torch", "lightning", "matplotlib"))
    assert "unknown skeleton layout 'bogus'" in stderr and "HEAVY []" in stderr, stderr


def _heavy_imports(arguments: list[str], heavy: tuple[str, ...]) -> str:
    """Standard error of ``skeletal ARGUMENTS`` in a fresh process, ending with ``HEAVY [...]``: which of ``heavy``
    it imported."""
    code = "import sys, runpy; sys.argv = ['skeletal', *sys.argv[1:]]\n"
    code += "try:\n    runpy.run_module('skeletal.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    code += f"heavy = [m for m in {heavy!r} if m in sys.modules]\n"
    code += "print('HEAVY', heavy, file=sys.stderr)"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True, env=env).stderr


def test_model_table_matches_the_registry() -> None:
    import json

    stored = json.loads((SRC / "skeletal" / cli.MODEL_TABLE).read_text())
    assert stored == cli.model_table_rows(), "run: python -c 'from skeletal.cli import write_model_table as w; w()'"


def test_models_are_grouped_by_task_with_whole_paper_names() -> None:
    import json

    result = _run("models")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    headings = [line for line in lines if line and not line.startswith(" ") and "models)" in line]
    assert [heading.split()[0] for heading in headings] == ["recognition", "prediction", "lifting"]
    assert "…" not in result.stdout and all(len(line) <= 100 for line in lines)
    words = " ".join(result.stdout.split())
    for row in json.loads((SRC / "skeletal" / cli.MODEL_TABLE).read_text()):
        assert " ".join(row["paper"].split()) in words  # wrapped, never cut
        assert f"{row['parameters']:,}" in words


def test_training_is_quiet_unless_verbose(tmp_path: Path) -> None:
    config = str(CONFIGS / "lifting/demo.yaml")
    quiet = _run("train", config, *TINY_LIFTING, f"output={tmp_path / 'quiet'}")
    assert quiet.returncode == 0, quiet.stderr
    noise = ("GPU available", "TPU available", "Tip:", "LeafSpec", "Warning")
    assert not [word for word in noise if word in quiet.stdout + quiet.stderr], quiet.stdout + quiet.stderr
    assert "model file:" in quiet.stdout
    verbose = _run("train", config, *TINY_LIFTING, f"output={tmp_path / 'verbose'}", "--verbose")
    assert verbose.returncode == 0 and "GPU available" in verbose.stdout + verbose.stderr
    mode = (tmp_path / "quiet" / "lifting-demo" / "model.safetensors").stat().st_mode & 0o777
    umask = os.umask(0o022)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # like any file the user writes (0644 under the usual umask), not mkstemp's 0600


def _tiny_lifting_demo(monkeypatch) -> None:
    from skeletal.tasks import demo

    tiny = {**demo.DEMO_CONFIGS["lifting"]}
    tiny["model"] = {"name": "gast-net-9", "kwargs": {"skeleton": "h36m17", "channels": 8}}
    tiny["data"] = {**tiny["data"], "batch_size": 4, "synthetic": {"num_train": 16, "num_val": 8, "num_frames": 12}}
    monkeypatch.setitem(demo.DEMO_CONFIGS, "lifting", tiny)


def test_demo_numbers_do_not_depend_on_time(tmp_path: Path, monkeypatch) -> None:
    import time

    from skeletal.tasks import demo

    _tiny_lifting_demo(monkeypatch)
    first = demo.run_demo(("lifting",), scale=10 / demo.STEPS_LIFTING, output=tmp_path / "a", progress_bar=False)
    real_sleep, slow = time.sleep, []

    def slow_step(*args, **kwargs):  # a loaded machine: every training batch takes longer
        slow.append(1)
        real_sleep(0.05)

    monkeypatch.setattr("skeletal.tasks.lifting.LiftingTask.on_train_batch_start", slow_step, raising=False)
    second = demo.run_demo(("lifting",), scale=10 / demo.STEPS_LIFTING, output=tmp_path / "b", progress_bar=False)
    assert len(slow) == 10 and first[0].steps == second[0].steps == 10
    assert first[0].value == second[0].value and first[0].baseline_value == second[0].baseline_value


def test_last_checkpoint_is_also_written_on_a_timer(tmp_path: Path, monkeypatch) -> None:
    import datetime

    from lightning.pytorch.callbacks import ModelCheckpoint

    from skeletal.tasks import engine, trainer

    saved: list[tuple[int, str]] = []
    original = ModelCheckpoint._save_checkpoint

    def record(self, trainer, filepath):  # type: ignore[no-untyped-def]
        saved.append((trainer.global_step, Path(filepath).name))
        return original(self, trainer, filepath)

    monkeypatch.setattr(ModelCheckpoint, "_save_checkpoint", record)
    monkeypatch.setattr(trainer, "CHECKPOINT_INTERVAL", datetime.timedelta(0))
    overrides = [*TINY_LIFTING, "trainer.check_val_every_n_epoch=50"]  # 2 steps, no validation
    engine.train_file(CONFIGS / "lifting/demo.yaml", [*overrides, f"output={tmp_path}"])
    assert [step for step, name in saved if name == "last.ckpt"][:2] == [1, 2]  # after each step, not just at the end
    assert {name for _, name in saved} <= {"last.ckpt", "epoch0-step2.ckpt"}  # no last-v1.ckpt


def test_misspelt_config_keys_and_model_names_get_a_suggestion(capsys) -> None:
    from skeletal.config import did_you_mean, load_config
    from skeletal.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean 'max_epochs'"):
        load_config(CONFIGS / "lifting/demo.yaml", ["trainer.max_epoch=3"])
    assert did_you_mean("zzz", ["max_epochs"]) == ""
    assert cli.main(["bench", "gast-net-72"]) == 2
    assert "did you mean 'gast-net-27'" in capsys.readouterr().err
