"""What a new user meets first: a command line that starts without torch, a complete model table, quiet
training output (``--verbose`` brings Lightning's lines back) and model files readable like any output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skeletal import cli

SRC = Path(__file__).resolve().parents[1] / "src"
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
TINY_LIFTING = [
    "model.name=gast-net-9",
    "model.kwargs.channels=8",
    "data.batch_size=4",
    "data.synthetic={num_train: 8, num_val: 4, num_frames: 12}",
    "trainer.max_epochs=1",
    "trainer.check_val_every_n_epoch=1",
    "trainer.limit_train_batches=2",
    "trainer.progress_bar=false",
]


def _run(*arguments: str, **environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", "COLUMNS": "100", **environment}
    return subprocess.run([sys.executable, "-m", "skeletal.cli", *arguments], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("arguments", [["--help"], ["models", "--task", "lifting"], ["lift"], ["models", "--nope"]])
def test_commands_that_need_no_model_do_not_import_torch(arguments: list[str]) -> None:
    code = "import sys, runpy; sys.argv = ['skeletal', *sys.argv[1:]]\n"
    code += "try:\n    runpy.run_module('skeletal.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    code += "heavy = [m for m in ('torch', 'lightning', 'matplotlib', 'numpy') if m in sys.modules]\n"
    code += "print('HEAVY', heavy, file=sys.stderr)"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True, env=env)
    assert "HEAVY []" in result.stderr, result.stderr


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
