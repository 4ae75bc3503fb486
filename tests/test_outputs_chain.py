"""What one command writes, the next accepts: the npz of ``skeletal lift`` into ``predict`` and ``viz attention`` of a
recognition model; ``eval`` and the other models refuse it saying why; 17-joint arrays need their layout named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletal import checkpoint, models
from skeletal.cli import main
from skeletal.data.model_inputs import is_lift_output, match_layout
from skeletal.errors import LayoutError
from skeletal.inference.lifting import lift_file
from skeletal.skeletons import get


@pytest.fixture(scope="module")
def lifted(tmp_path_factory) -> Path:
    """``walk_3d.npz`` as ``skeletal lift`` writes it (a small untrained lifter: the shapes and keys matter)."""
    folder = tmp_path_factory.mktemp("lift")
    rng = np.random.default_rng(0)
    base = rng.uniform(200, 400, size=(17, 2))
    track = base + 5 * np.sin(np.arange(32) / 4)[:, None, None] + rng.normal(size=(32, 17, 2))
    np.save(folder / "walk.npy", np.concatenate([track, np.full((32, 17, 1), 0.9)], -1))
    model_file = folder / "small.safetensors"
    checkpoint.save(model_file, models.create("gast-net-9", channels=8).eval(), "gast-net-9", {"channels": 8},
                    task="lifting", skeleton="h36m17")  # fmt: skip
    _, written = lift_file(folder / "walk.npy", checkpoint=model_file, out_dir=folder, animation=False,
                           layout="coco17")  # fmt: skip
    assert written == [folder / "walk_3d.npz"] and is_lift_output(written[0])
    return written[0]


def test_lift_output_into_predict_of_a_recognition_model(lifted: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "labels.npz"
    assert main(["predict", "pretrained:s-tr-synthetic", str(lifted), "-o", str(out)]) == 0
    with np.load(out) as result:
        assert result["probabilities"].shape == (1, 8) and np.isclose(result["probabilities"].sum(), 1, atol=1e-4)


def test_lift_output_into_viz_attention(lifted: Path, tmp_path: Path, capsys) -> None:
    assert main(["viz", "attention", str(lifted), "--out", str(tmp_path), "--no-gif"]) == 0
    assert "pretrained:s-tr-synthetic" in capsys.readouterr().out
    assert list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["eval", "pretrained:s-tr-synthetic", "--data", "{lifted}"], "output of skeletal lift.*no ground truth"),
        (["predict", "pretrained:st-transformer-cmu", "{lifted}"], "prediction model reads local joint rotations"),
        (["predict", "{lifted}", "--seconds", "1"], "3D joint positions.*a forecast seed is joint rotations"),
    ],
)
def test_lift_output_refused_where_it_does_not_fit(lifted: Path, capsys, command: list[str], message: str) -> None:
    assert main([word.format(lifted=lifted) for word in command]) == 2
    error = capsys.readouterr().err
    assert str(lifted) in error
    assert __import__("re").search(message, error), error


def test_stored_layout_converts_or_names_the_models(tmp_path: Path) -> None:
    coco = np.random.default_rng(0).normal(size=(1, 4, 17, 3))
    converted = match_layout(coco, get("coco17"), "h36m17", tmp_path / "a.npz")
    assert converted.shape == (1, 4, 17, 3) and not np.allclose(converted, coco)
    with pytest.raises(LayoutError, match=r"a\.npz: the joints are on layout 'h36m17'.*expects 'ntu25'.*--layout"):
        match_layout(np.zeros((1, 4, 17, 3)), get("h36m17"), "ntu25", tmp_path / "a.npz")


def test_lift_of_an_ambiguous_17_joint_array_names_the_flag(tmp_path: Path, capsys) -> None:
    np.save(tmp_path / "k.npy", np.random.default_rng(0).uniform(0, 100, size=(10, 17, 2)))
    assert main(["lift", str(tmp_path / "k.npy"), "--model", "gast-net-9", "--no-animation"]) == 2
    error = capsys.readouterr().err
    assert "k.npy: 17 joints fit the layouts coco17 and h36m17: say which with --layout" in error
