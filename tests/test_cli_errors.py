"""Errors of the command line name the flag (or config key), the file and the cause, in one line, exit status 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletal.cli import main


@pytest.fixture
def files(tmp_path: Path) -> Path:
    np.save(tmp_path / "nan.npy", np.full((10, 17, 3), np.nan))
    np.save(tmp_path / "k18.npy", np.random.default_rng(0).uniform(0, 100, size=(10, 18, 2)))
    return tmp_path


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            ["lift", "{d}/nan.npy", "--layout", "coco17", "--model", "gast-net-9", "--no-animation"],
            "{d}/nan.npy: no keypoint in any frame",
        ),
        (["lift", "{d}/k18.npy", "--image-size", "640"], "lift --image-size: expected WIDTHxHEIGHT"),
        (
            ["lift", "{d}/k18.npy", "--layout", "coco18"],
            "lift --layout: unknown skeleton layout 'coco18'; did you mean 'coco17'?",
        ),
        (["viz", "attention", "{d}/k18.npy"], "{d}/k18.npy: 18 joints per frame, but the model is on layout 'h36m17'"),
        (["predict", "pretrained:s-tr-synthetic", "{d}/k18.npy"], "{d}/k18.npy: 18 joints per frame"),
        (["predict", "{d}/k18.npy"], "give a model file before INPUT {d}/k18.npy"),
        (["eval", "pretrained:s-tr-synthetic", "--data", "{d}/nope"], "eval --data: {d}/nope does not exist"),
        (["demo", "--scale", "-1"], "demo --scale: expected a positive factor"),
        (
            ["prepare", "keypoints", "{d}", "{d}/out", "--labels", "{d}/nope.csv", "--layout-file", "{d}/nope.yaml"],
            "prepare keypoints --layout-file: layout file {d}/nope.yaml not found",
        ),
    ],
)
def test_errors_name_flag_file_and_cause(files: Path, capsys, command: list[str], expected: str) -> None:
    assert main([word.format(d=files) for word in command]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]  # (after the random-weights warning of --model)
    assert error.startswith(f"skeletal {command[0]}: error: ") and expected.format(d=files) in error, error


def test_training_data_that_does_not_fit_the_model_names_the_key(tmp_path: Path, capsys) -> None:
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        np.save(tmp_path / split / "x.npy", np.zeros((4, 1, 8, 7, 3), dtype=np.float32))
        np.save(tmp_path / split / "y.npy", np.array([0, 1, 2, 2]))
    (tmp_path / "meta.json").write_text('{"layout": "stick7"}')
    config = tmp_path / "c.yaml"
    config.write_text(
        "task: recognition\nname: r\noutput: " + str(tmp_path / "runs") + "\nmodel:\n  name: st-gcn\n  kwargs: "
        "{num_classes: 3, skeleton: coco17, num_persons: 1, width: 8}\ndata:\n  source: arrays\n  train: "
        + str(tmp_path / "train") + "\n  val: " + str(tmp_path / "val") + "\n"
    )  # fmt: skip
    assert main(["train", str(config)]) == 2
    error = capsys.readouterr().err
    assert f"data.train ({tmp_path / 'train'}) holds 7 joints per frame, but model.kwargs.skeleton 'coco17'" in error
    assert "says layout 'stick7'" in error
    assert main(["train", str(config), "model.kwargs.skeleton=h36m17", "data.train=" + str(tmp_path / "nope")]) == 2
    assert f"data.train: {tmp_path / 'nope'} does not exist" in capsys.readouterr().err
    np.save(tmp_path / "train/x.npy", np.zeros((4, 1, 8, 17, 3), dtype=np.float32))
    np.save(tmp_path / "val/x.npy", np.zeros((4, 1, 8, 17, 3), dtype=np.float32))
    assert main(["train", str(config), "model.kwargs.num_classes=2"]) == 2
    assert "holds labels 0..2 (3 classes), but model.kwargs.num_classes is 2" in capsys.readouterr().err
