"""The `skeletal` command: train -> load round trip, eval, predict, demo options, and one-line user errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import skeletal
from skeletal import cli

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
TINY_LIFTING = [
    "model.name=gast-net-9",
    "model.kwargs.channels=8",
    "data.batch_size=4",
    "data.synthetic={num_train: 8, num_val: 4, num_frames: 12}",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "trainer.progress_bar=false",
]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """A lifting run trained by `skeletal train` (1 epoch, 2 batches)."""
    output = tmp_path_factory.mktemp("runs")
    code = cli.main(["train", str(CONFIGS / "lifting/demo.yaml"), *TINY_LIFTING, f"output={output}"])
    assert code == 0
    return output / "lifting-demo"


def test_train_writes_a_model_file_that_reloads_with_identical_outputs(trained_run: Path) -> None:
    assert (trained_run / "config.yaml").is_file() and (trained_run / "checkpoints" / "last.ckpt").is_file()
    model = skeletal.load(trained_run / "model.safetensors")
    reference = skeletal.load(trained_run / "checkpoints" / "last.ckpt", allow_pickle=True)
    x = torch.randn(2, 12, 17, 2)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))
    assert model.skeletal_info.config["model"]["name"] == "gast-net-9"
    assert model.skeletal_info.skeleton == "h36m17"


def test_resume_continues_the_run(trained_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    assert cli.main(["train", "--resume", str(run), "trainer.max_epochs=2"]) == 0
    epochs = {int(row["epoch"]) for row in skeletal.tasks.read_metrics(run) if row.get("val/mpjpe")}
    assert epochs == {0, 1}


def test_eval_prints_the_task_metrics(trained_run: Path, tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    poses = rng.normal(size=(3, 12, 17, 3)).astype(np.float32) * 0.1
    np.savez(tmp_path / "test.npz", x=poses[..., :2], y=poses)
    assert (
        cli.main(["eval", str(trained_run / "model.safetensors"), "--data", str(tmp_path / "test.npz"), "--quiet"]) == 0
    )
    out = capsys.readouterr().out
    assert "test/mpjpe" in out and "test/p_mpjpe" in out


def test_predict_writes_3d_poses(trained_run: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "keypoints.npy", np.zeros((12, 17, 2), np.float32))  # one sample, no batch axis
    assert cli.main(["predict", str(trained_run / "model.safetensors"), str(tmp_path / "keypoints.npy")]) == 0
    with np.load(tmp_path / "keypoints_pred.npz") as result:
        assert result["poses_3d"].shape == (1, 12 - 8, 17, 3)


def _one_line_error(capsys, argv: list[str], match: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert match in err


def test_user_errors_are_one_line_with_exit_code_2(trained_run: Path, tmp_path: Path, capsys) -> None:
    model_file = str(trained_run / "model.safetensors")
    _one_line_error(capsys, ["train", str(tmp_path / "absent.yaml")], "does not exist")
    _one_line_error(
        capsys, ["train", str(CONFIGS / "lifting/demo.yaml"), "trainer.max_epochs=x"], "expected an integer"
    )
    _one_line_error(capsys, ["train", str(CONFIGS / "lifting/demo.yaml"), "model.name=s-tr"], "recognition model")
    _one_line_error(capsys, ["train", "--resume", str(tmp_path)], "has no config.yaml")
    _one_line_error(capsys, ["eval", str(tmp_path / "absent.safetensors")], "does not exist")
    _one_line_error(capsys, ["eval", str(trained_run / "checkpoints" / "last.ckpt")], "arbitrary code")
    np.save(tmp_path / "wrong.npy", np.zeros((1, 12, 25, 2), np.float32))
    _one_line_error(capsys, ["predict", model_file, str(tmp_path / "wrong.npy")], "25")
    np.save(tmp_path / "flat.npy", np.zeros((12,), np.float32))
    _one_line_error(capsys, ["predict", model_file, str(tmp_path / "flat.npy")], "expected a 4-dimensional")
    _one_line_error(capsys, ["prepare", "ntu", str(tmp_path), str(tmp_path / "out")], "--benchmark")
    (tmp_path / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    _one_line_error(capsys, ["eval", str(tmp_path / "broken.safetensors")], "truncated")


def test_internal_errors_keep_their_traceback(monkeypatch) -> None:
    def broken(args):
        raise RuntimeError("a bug")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["models"].set_defaults(handler=broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["models"])


@pytest.mark.parametrize("command", ["train", "eval", "predict", "prepare", "demo", "models"])
def test_every_command_has_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: skeletal" in capsys.readouterr().out


def test_demo_runs_one_task_within_its_budget(tmp_path: Path, capsys, monkeypatch) -> None:
    from skeletal.tasks import demo

    tiny = {**demo.DEMO_CONFIGS["lifting"]}
    tiny["model"] = {"name": "gast-net-9", "kwargs": {"skeleton": "h36m17", "channels": 8}}
    tiny["data"] = {**tiny["data"], "synthetic": {"num_train": 16, "num_val": 8, "num_frames": 12}}
    monkeypatch.setitem(demo.DEMO_CONFIGS, "lifting", tiny)
    args = ["demo", "--task", "lifting", "--budget", "5", "--output", str(tmp_path), "--quiet"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "lifting" in out and "gast-net-9" in out and "mean pose" in out
    assert (tmp_path / "lifting-demo" / "model.safetensors").is_file()


def test_console_script_reports_user_error_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("skeletal")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "skeletal.cli"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [*command, "eval", str(tmp_path / "absent.safetensors")], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "does not exist" in result.stderr
