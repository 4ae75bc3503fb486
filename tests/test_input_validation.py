"""Bad input at the model and command-line entry points: clear errors, never a crash deep inside a layer.

Every registered model rejects, before any computation, an input with the wrong number of axes, the wrong joint
count (the message names the expected and the received layout), an integer dtype and NaN, in its task's
convention: recognition ``(N, M, T, V, C)``, prediction ``(N, T, V, F)``, lifting ``(N, T, V, 2)``. The
``skeletal`` command exits with status 2 and one line on user errors, and keeps the traceback on internal ones.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from skeletal import checkpoint, cli, models
from skeletal.errors import SkeletalError


@functools.cache
def model_and_input(name: str) -> tuple[torch.nn.Module, torch.Tensor]:
    """The model in eval mode and a well-formed input of its task (shape only: it need not be runnable)."""
    model = models.create(name).eval()
    task = models.info(name).task
    inner = getattr(model, "spatial", model)  # two-stream recognition: the streams share the input
    skeleton = inner.skeleton
    if task == "recognition":
        shape = (1, inner.num_persons, 8, skeleton.num_joints, inner.in_channels)
    elif task == "prediction":
        shape = (1, 4, skeleton.num_joints, inner.joint_features)
    else:
        shape = (1, inner.receptive_field, skeleton.num_joints, inner.in_features)
    return model, torch.rand(shape)


def _reject(model: torch.nn.Module, x: torch.Tensor, *fragments: str) -> str:
    with torch.no_grad(), pytest.raises(SkeletalError) as caught:
        model(x)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


NAMES = models.names(builtin_only=True)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_number_of_axes(name: str) -> None:
    model, x = model_and_input(name)
    _reject(model, x[0], str(tuple(x[0].shape)))
    _reject(model, x[None], str(tuple(x[None].shape)))


@pytest.mark.parametrize("name", NAMES)
def test_wrong_joint_count_names_expected_and_received_layouts(name: str) -> None:
    model, x = model_and_input(name)
    joints = x.shape[-2]
    wrong = torch.cat([x, x[..., :1, :]], dim=-2)
    skeleton = getattr(model, "spatial", model).skeleton
    message = _reject(model, wrong, str(joints), str(joints + 1))
    assert skeleton.name in message, message


@pytest.mark.parametrize("name", NAMES)
def test_integer_dtype(name: str) -> None:
    model, x = model_and_input(name)
    _reject(model, (x * 10).long(), "floating-point", "torch.int64")


@pytest.mark.parametrize("name", NAMES)
def test_nan(name: str) -> None:
    model, x = model_and_input(name)
    bad = x.clone()
    bad.view(-1)[5] = float("nan")
    _reject(model, bad, "NaN")


# ----------------------------------------------------------------------------------------------- command line
@pytest.fixture(scope="module")
def lifter_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "model.safetensors"
    return checkpoint.save(path, models.create("videopose3d-27"), "videopose3d-27", {}, skeleton="h36m17")


def _one_line_error(capsys, argv: list[str], *fragments: str) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"skeletal {argv[0]}: error: ")
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_cli_missing_files_are_one_line(tmp_path: Path, capsys, lifter_file: Path) -> None:
    _one_line_error(capsys, ["train", str(tmp_path / "absent.yaml")], "absent.yaml")
    _one_line_error(capsys, ["predict", str(tmp_path / "absent.safetensors"), "x.npy"], "absent.safetensors")
    _one_line_error(capsys, ["predict", str(lifter_file), str(tmp_path / "absent.npy")], "absent.npy")
    _one_line_error(capsys, ["train", "--resume", str(tmp_path / "no-run")], "no-run")
    _one_line_error(capsys, ["prepare", "ntu", str(tmp_path / "raw"), str(tmp_path / "out"), "--benchmark",
                             "ntu60-xsub"], "raw")  # fmt: skip


def test_cli_bad_layout_and_nan_are_one_line(tmp_path: Path, capsys, lifter_file: Path) -> None:
    np.save(tmp_path / "v16.npy", np.zeros((1, 27, 16, 2), np.float32))  # h36m17 model, 16 joints
    _one_line_error(capsys, ["predict", str(lifter_file), str(tmp_path / "v16.npy")], "16", "17", "h36m17")
    nan = np.zeros((1, 27, 17, 2), np.float32)
    nan[0, 3, 2, 1] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    _one_line_error(capsys, ["predict", str(lifter_file), str(tmp_path / "nan.npy")], "NaN")
    (tmp_path / "evil.pt").write_bytes(b"\x80\x04N.")
    _one_line_error(capsys, ["predict", str(tmp_path / "evil.pt"), str(tmp_path / "nan.npy")], "arbitrary code")


def test_cli_internal_error_keeps_the_traceback(monkeypatch) -> None:
    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli.models, "_cmd_models", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["models"])


def test_cli_subprocess_exit_status_and_stderr(tmp_path: Path) -> None:
    user = subprocess.run([sys.executable, "-m", "skeletal.cli", "predict", str(tmp_path / "m.safetensors"), "x"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert user.returncode == 2 and user.stderr.count("\n") == 1 and "Traceback" not in user.stderr, user.stderr
    code = "import sys, skeletal.cli as c; c.models._cmd_models = lambda a: 1 / 0; sys.exit(c.main(['models']))"
    bug = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert bug.returncode == 1 and "Traceback" in bug.stderr and "ZeroDivisionError" in bug.stderr
