"""Issue 18: every output file of ``lift``, ``predict``, ``export`` and the plots is written atomically (a temporary
file in the same folder, then ``os.replace``) with the mode of a normal file under the user's umask.

Each case runs a writer twice: once with its underlying library call (``np.savez``, Pillow's ``Image.save``,
``torch.onnx.export``, ``ScriptModule.save``, ``Figure.savefig``) writing half a file and then failing with
``ENOSPC`` (the previous output must be untouched and no temporary file left), once normally under umask 027 (the
new file must have mode 0640).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib.figure
import numpy as np
import pytest
import torch
from test_lift_pipeline import coco_track, small_gast
from test_prediction_cmu import _model_file, _seed_npz

from skeletal import checkpoint, cli
from skeletal.atomic import atomic_path, save_npz
from skeletal.viz import animation


def _half_then_full_disk(name_argument: int) -> Callable[..., None]:
    """A writer that writes a few bytes to its ``name_argument``-th argument (a name or a stream), then fails."""

    def writer(*args: Any, **kwargs: Any) -> None:
        target = args[name_argument]
        if hasattr(target, "write"):
            target.write(b"partial")
        else:
            with open(target, "wb") as stream:
                stream.write(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return writer


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def _lifter(tmp_path: Path) -> tuple[Path, Path]:
    np.save(tmp_path / "track.npy", coco_track(20)[None])
    model_file = tmp_path / "small.safetensors"
    checkpoint.save(model_file, small_gast(), "gast-net-9", {"channels": 8}, task="lifting", skeleton="h36m17")
    return model_file, tmp_path / "track.npy"


def lift_npz(tmp_path: Path) -> Path:
    from skeletal.inference.lifting import lift_file

    model_file, track = _lifter(tmp_path)
    lift_file(track, checkpoint=model_file, out_dir=tmp_path / "out", animation=False, layout="coco17")
    return tmp_path / "out" / "track_3d.npz"


def lift_gif(tmp_path: Path) -> Path:
    from skeletal.inference.lifting import lift_file

    model_file, track = _lifter(tmp_path)
    lift_file(track, checkpoint=model_file, out_dir=tmp_path / "out", animation_format="gif", layout="coco17")
    return tmp_path / "out" / "track_3d.gif"


def predict_npz(tmp_path: Path) -> Path:
    from skeletal.tasks import predict

    model_file, _ = _lifter(tmp_path)
    np.save(tmp_path / "x.npy", np.zeros((2, 12, 17, 2), np.float32))
    return predict(model_file, tmp_path / "x.npy", tmp_path / "out" / "pred.npz")


def forecast_npz(tmp_path: Path) -> Path:
    from skeletal.evaluation.forecast import forecast

    forecast(_model_file(tmp_path, "h36m32"), str(_seed_npz(tmp_path)), 0.4, tmp_path / "out", animation="none")
    return tmp_path / "out" / "prediction.npz"


def forecast_gif(tmp_path: Path) -> Path:
    from skeletal.evaluation.forecast import forecast

    forecast(_model_file(tmp_path, "h36m32"), str(_seed_npz(tmp_path)), 0.4, tmp_path / "out", render_every=10)
    return tmp_path / "out" / "prediction.gif"


def export_onnx(tmp_path: Path) -> Path:
    from skeletal.inference.export import export_onnx

    return export_onnx(small_gast(), tmp_path / "out" / "lifter.onnx")


def export_torchscript(tmp_path: Path) -> Path:
    from skeletal.inference.export import export_torchscript

    return export_torchscript(small_gast(), tmp_path / "out" / "lifter.pt")


def plot(tmp_path: Path) -> Path:
    from skeletal.viz.plots import plot_horizon_errors

    return plot_horizon_errors({"model": [1.0, 2.0]}, [80, 160], tmp_path / "out" / "errors.png")


def model_file(tmp_path: Path) -> Path:
    return checkpoint.save(tmp_path / "out" / "m.safetensors", small_gast(), "gast-net-9", {"channels": 8})


CASES = {
    "lift npz": (lift_npz, np, "savez", 0),
    "lift gif": (lift_gif, animation, "_write_gif", 1),
    "predict npz": (predict_npz, np, "savez", 0),
    "predict --seconds npz": (forecast_npz, np, "savez", 0),
    "predict --seconds gif": (forecast_gif, animation, "_write_gif", 1),
    "export onnx": (export_onnx, torch.onnx, "export", 2),
    "export torchscript": (export_torchscript, torch.jit.ScriptModule, "save", 1),
    "plot png": (plot, matplotlib.figure.Figure, "savefig", 1),
    "model file": (model_file, Path, "write_bytes", 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_failed_write_keeps_the_previous_file_and_leaks_nothing(tmp_path: Path, monkeypatch, case: str) -> None:
    write, owner, attribute, name_argument = CASES[case]
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    output = write(tmp_path / "first")  # where the writer puts its file
    target = tmp_path / "second" / output.relative_to(tmp_path / "first")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"previous")
    monkeypatch.setattr(owner, attribute, _half_then_full_disk(name_argument))
    with pytest.raises(OSError, match="No space left"):
        write(tmp_path / "second")
    monkeypatch.undo()
    assert target.read_bytes() == b"previous"
    assert not [p.name for p in target.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_follow_the_umask(tmp_path: Path, case: str) -> None:
    write = CASES[case][0]
    with umask(0o027):
        output = write(tmp_path)
    assert output.stat().st_mode & 0o777 == 0o640
    assert not [p.name for p in output.parent.iterdir() if p.name.startswith(".")]


def test_atomic_path_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith(".bin")
        temporary.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.bin"]
    with umask(0o022), atomic_path(target) as temporary:
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o644


def test_npz_output_that_is_a_folder_is_an_error(tmp_path: Path, capsys) -> None:
    """``predict -o DIR`` wrote ``DIR.npz`` and exited 0."""
    with pytest.raises(IsADirectoryError, match="is a folder"):
        save_npz(tmp_path, x=np.zeros(1))
    model_file, _ = _lifter(tmp_path)
    np.save(tmp_path / "x.npy", np.zeros((1, 12, 17, 2), np.float32))
    (tmp_path / "folder").mkdir()
    capsys.readouterr()
    assert cli.main(["predict", str(model_file), str(tmp_path / "x.npy"), "-o", str(tmp_path / "folder")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a folder; expected an .npz file name" in err[0]
    assert not (tmp_path / "folder.npz").exists()
