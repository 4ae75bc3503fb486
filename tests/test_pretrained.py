"""The registry of shipped weights: resolution, checksums, errors, and every shipped entry loading and matching
its manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

import skeletal
from skeletal import checkpoint, models, pretrained
from skeletal.errors import ConfigError, DataError


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry folder with one tiny lifter, in place of the shipped one."""
    torch.manual_seed(0)
    name, kwargs = "videopose3d", {"channels": 8, "filter_widths": [3, 3]}
    model = models.create(name, **kwargs)
    path = checkpoint.save(tmp_path / "tiny.safetensors", model, name, kwargs)
    entry = {
        "name": "tiny",
        "task": models.info(name).task,
        "model": name,
        "file": "tiny.safetensors",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "layout": "h36m17",
        "training": "none (test)",
        "metrics": {},
        "default_for": ["lift"],
    }
    (tmp_path / "manifest.json").write_text(json.dumps([entry]))
    monkeypatch.setattr(pretrained, "FOLDER", tmp_path)
    monkeypatch.setattr(pretrained, "MANIFEST", tmp_path / "manifest.json")
    pretrained._manifest.cache_clear()
    yield tmp_path
    pretrained._manifest.cache_clear()


def test_pretrained_resolves_and_loads(registry: Path) -> None:
    assert pretrained.names() == ["tiny"]
    assert pretrained.default("lift").name == "tiny"
    model = skeletal.load("pretrained:tiny")
    direct = skeletal.load(registry / "tiny.safetensors")
    for (key, a), (_, b) in zip(model.state_dict().items(), direct.state_dict().items()):
        assert torch.equal(a, b), key
    assert checkpoint.read_metadata("pretrained:tiny").model_name == model.skeletal_info.model_name


def test_pretrained_errors(registry: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean tiny"):
        skeletal.load("pretrained:tinny")
    with pytest.raises(ConfigError, match="no pretrained model is the default"):
        pretrained.default("predict")
    data = bytearray((registry / "tiny.safetensors").read_bytes())
    data[-1] ^= 1
    (registry / "tiny.safetensors").write_bytes(bytes(data))
    with pytest.raises(DataError, match="checksum"):
        skeletal.load("pretrained:tiny")
    (registry / "tiny.safetensors").unlink()
    with pytest.raises(DataError, match="missing"):
        skeletal.load("pretrained:tiny")


@pytest.mark.parametrize("name", pretrained.names())
def test_shipped_entry_loads(name: str) -> None:
    """Every shipped file matches its checksum, loads, and is the architecture and layout the manifest says."""
    entry = pretrained.get(name)
    model = skeletal.load(f"pretrained:{name}")
    info = model.skeletal_info
    assert info.model_name == entry.model and info.task == entry.task
    assert getattr(model, "skeleton", None) is None or model.skeleton.name == entry.layout
    assert entry.metrics, "a shipped model states its measured metrics"


def test_models_pretrained_lists_entries(registry: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from skeletal.cli import main

    assert main(["models", "--pretrained"]) in (0, None)
    output = capsys.readouterr().out
    assert "pretrained:tiny  lifting, videopose3d on h36m17 (default of: skeletal lift)" in output
    assert "sha256: " in output and "training: none (test)" in output


def test_lift_and_predict_use_the_shipped_default(
    registry: Path, tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from skeletal.cli import main

    keypoints = shared_data / "keypoints-2d" / "baseball.json"
    assert main(["lift", str(keypoints), "--out", str(tmp_path / "lifted"), "--no-animation"]) in (0, None)
    output = capsys.readouterr().out
    assert "no model given: using pretrained:tiny" in output and list((tmp_path / "lifted").glob("*.npz"))
    # no shipped default for forecasting in this registry, and no model for a non-forecast predict: clear errors
    assert main(["predict", "cmu:test/walking/walking_1.txt", "--seconds", "1"]) == 2
    assert "no pretrained model is the default of 'predict'" in capsys.readouterr().err
    assert main(["predict", str(keypoints)]) == 2
    assert "give a model file before INPUT" in capsys.readouterr().err
