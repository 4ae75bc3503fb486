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
    "trainer.check_val_every_n_epoch=1",
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
    assert cli.main(["train", "--resume", str(run), "trainer.max_epochs=2", "trainer.max_steps=-1"]) == 0
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


def test_top_level_help_lists_every_command(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    commands = cli.build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"models", "train", "eval", "predict", "prepare", "demo", "export", "bench"} <= set(commands)
    for command in commands:
        assert command in out


@pytest.mark.parametrize("command", ["train", "eval", "predict", "prepare", "demo", "models", "export", "bench"])
def test_every_command_has_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: skeletal" in capsys.readouterr().out


def test_demo_runs_one_task_for_its_steps(tmp_path: Path, capsys, monkeypatch) -> None:
    from skeletal.tasks import demo

    tiny = {**demo.DEMO_CONFIGS["lifting"]}
    tiny["model"] = {"name": "gast-net-9", "kwargs": {"skeleton": "h36m17", "channels": 8}}
    tiny["data"] = {**tiny["data"], "synthetic": {"num_train": 16, "num_val": 8, "num_frames": 12}}
    monkeypatch.setitem(demo.DEMO_CONFIGS, "lifting", tiny)
    args = ["demo", "--task", "lifting", "--scale", "0.005", "--output", str(tmp_path), "--quiet"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "lifting" in out and "gast-net-9" in out and "mean pose" in out
    assert "[1/1] lifting: gast-net-9" in out and "1 steps" in out  # 160 * 0.005 rounds to 1, announced before training
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


@pytest.fixture(scope="module")
def tiny_model_files(tmp_path_factory) -> dict[str, Path]:
    """Tiny model files: a GAST-Net (RF 9, 8 channels), its causal twin, and a 2-layer ST-Transformer."""
    from skeletal import checkpoint, models

    folder = tmp_path_factory.mktemp("models")
    specs = {
        "lifter": ("gast-net-9", {"skeleton": "h36m17", "channels": 8}),
        "causal": ("gast-net-9", {"skeleton": "h36m17", "channels": 8, "causal": True}),
        "predictor": ("st-transformer", {"skeleton": "h36m17", "num_layers": 1, "num_heads": 2, "model_dim": 8,
                                         "feedforward_dim": 8, "window": 12}),
    }  # fmt: skip
    files = {}
    for key, (name, kwargs) in specs.items():
        torch.manual_seed(0)
        files[key] = checkpoint.save(folder / f"{key}.safetensors", models.create(name, **kwargs), name, kwargs)
    return files


@pytest.mark.parametrize("form", ["onnx", "torchscript"])
def test_export_writes_a_verified_file(tiny_model_files, tmp_path: Path, capsys, form: str) -> None:
    output = tmp_path / f"lifter.{form}"
    assert cli.main(["export", str(tiny_model_files["lifter"]), "--format", form, "--output", str(output),
                     "--frames", "20"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert output.is_file() and f"wrote {output}" in out and "verified" in out
    model = skeletal.load(tiny_model_files["lifter"])
    x = torch.rand(3, 25, 17, 2) * 2 - 1  # another batch and length than traced: both dynamic
    with torch.no_grad():
        expected = model(x).numpy()
    if form == "onnx":
        from skeletal.inference.export import onnx_session

        (result,) = onnx_session(output).run(None, {"x": x.numpy()})
    else:
        result = torch.jit.load(str(output))(x).detach().numpy()
    assert result.shape == (3, 17, 17, 3)
    np.testing.assert_allclose(result, expected, atol=1e-4)


def test_export_default_path_fixed_time_and_prediction_model(tiny_model_files, capsys) -> None:
    path = tiny_model_files["predictor"]
    assert cli.main(["export", str(path), "--format", "onnx", "--no-dynamic-time", "--frames", "10"]) == 0
    out = capsys.readouterr().out
    written = path.with_name("predictor.onnx")
    assert written.is_file() and "dynamic batch)" in out and "(1, 10, 17, 9)" not in out  # batch 2 traced
    import onnx

    graph = onnx.load(str(written)).graph
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 10, 17, 9]


def test_export_streaming_step_of_a_causal_lifter(tiny_model_files, tmp_path: Path, capsys) -> None:
    output = tmp_path / "step.onnx"
    assert cli.main(["export", str(tiny_model_files["causal"]), "--format", "onnx", "--streaming",
                     "--output", str(output)]) == 0  # fmt: skip
    assert "verified" in capsys.readouterr().out
    from skeletal.inference.export import onnx_session

    x = np.random.default_rng(0).uniform(-1, 1, (2, 9, 17, 2)).astype(np.float32)  # receptive field 9
    (step,) = onnx_session(output).run(None, {"x": x})
    model = skeletal.load(tiny_model_files["causal"])
    with torch.no_grad():
        last = model(torch.from_numpy(x))  # layer by layer: one output frame, that of the last input frame
    np.testing.assert_allclose(step, last.numpy(), atol=1e-4)
    _one_line_error(capsys, ["export", str(tiny_model_files["lifter"]), "--format", "onnx", "--streaming"],
                    "causal")  # fmt: skip


def test_export_fails_with_status_1_when_verification_fails(tiny_model_files, tmp_path: Path, capsys,
                                                            monkeypatch) -> None:  # fmt: skip
    from skeletal.inference import export

    verify = export.verify_export

    def corrupted(model, onnx_path=None, torchscript_path=None, **kwargs):
        with torch.no_grad():
            next(model.parameters()).add_(1.0)
        return verify(model, onnx_path, torchscript_path, **kwargs)

    monkeypatch.setattr(export, "verify_export", corrupted)
    code = cli.main(["export", str(tiny_model_files["lifter"]), "--format", "torchscript", "--output",
                     str(tmp_path / "m.pt")])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "verification FAILED" in err and len(err.strip().splitlines()) == 1
    assert cli.main(["export", str(tiny_model_files["lifter"]), "--format", "torchscript", "--output",
                     str(tmp_path / "n.pt"), "--no-verify"]) == 0  # fmt: skip


def test_bench_prints_and_writes_the_table(tmp_path: Path, capsys) -> None:
    from skeletal import bench, models
    from skeletal.models.lifting.gast_net import gast_net

    if "test-tiny-gast" not in models.names():
        models.register_model("test-tiny-gast", "lifting", paper="test model")(
            lambda **kwargs: gast_net(9, **{"channels": 8, **kwargs})
        )
    markdown = tmp_path / "bench.md"
    args = ["bench", "test-tiny-gast", "--batch", "1", "2", "--repeats", "1", "--warmup", "0", "--no-memory",
            "--markdown", str(markdown)]  # fmt: skip
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert "| test-tiny-gast |" in captured.out and "onnxruntime b1" in captured.out
    row = next(line for line in captured.out.splitlines() if line.startswith("| test-tiny-gast"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[-1] == "2" and cells[6] == "-"  # large batch 2; no peak memory (--no-memory)
    assert all(cell != "-" for cell in cells[3:6] + cells[7:-1])  # times, onnxruntime and layer-by-layer measured
    text = markdown.read_text()
    assert "Machine: " in text and "| test-tiny-gast |" in text and "median of 1 runs" in text
    progress = captured.err.splitlines()  # a line per model and per measurement, then its time
    assert "[1/1] test-tiny-gast:" in progress and "  training step at batch 2" in progress
    assert "  onnxruntime export and throughput" in progress and progress[-2].startswith("  test-tiny-gast done in")
    _one_line_error(capsys, ["bench", "no-such-model"], "unknown model")
    assert "st-tr" in bench.PAPER_MODELS and set(bench.PAPER_MODELS) <= set(models.names())
