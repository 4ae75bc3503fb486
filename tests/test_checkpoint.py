"""Safe model files: round trip, checksum, truncation, atomic writes, and refusal of pickles."""

from __future__ import annotations

import json
import os
import pickle
import struct

import pytest
import torch

import skeletal
from skeletal import checkpoint, models, skeletons
from skeletal.errors import ConfigError, DataError, UnsafeFileError


class Linear3(torch.nn.Module):
    def __init__(self, width: int = 4, skeleton: object = "ntu25"):
        super().__init__()
        self.skeleton = skeletons.get(skeleton)
        self.layer = torch.nn.Linear(3, width)
        self.register_buffer("scale", torch.arange(width, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(7))  # a 0-d integer buffer, as BatchNorm's num_batches_tracked

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x) * self.scale.float()


if "test-linear3" not in models.names():
    models.register_model("test-linear3", "recognition", paper="test model")(Linear3)


def _saved(tmp_path, **kwargs):
    model = models.create("test-linear3", width=5)
    path = checkpoint.save(
        tmp_path / "model.safetensors",
        model,
        "test-linear3",
        {"width": 5},
        skeleton="ntu25",
        config={"seed": 3},
        metrics={"val/top1": 0.5},
        **kwargs,
    )
    return model, path


def test_round_trip_rebuilds_the_model_from_the_file_alone(tmp_path) -> None:
    model, path = _saved(tmp_path)
    loaded = skeletal.load(path)
    assert not loaded.training and isinstance(loaded, Linear3)
    x = torch.randn(2, 3)
    assert torch.equal(loaded(x), model(x))
    info = checkpoint.read_metadata(path)
    assert (info.model_name, info.model_kwargs, info.skeleton) == ("test-linear3", {"width": 5}, "ntu25")
    assert info.config == {"seed": 3} and info.metrics == {"val/top1": 0.5}
    assert info.version == skeletal.__version__ and len(info.sha256) == 64
    assert info.task == "recognition"


def test_custom_skeleton_object_is_stored_as_data(tmp_path) -> None:
    layout = skeletons.Skeleton("tri", ("a", "b", "c"), (-1, 0, 0), left=(1,), right=(2,))
    model = models.create("test-linear3", skeleton=layout)
    path = checkpoint.save(tmp_path / "m.safetensors", model, "test-linear3", {"skeleton": layout})
    assert skeletal.load(path).skeleton == layout


def test_unstorable_kwargs_are_refused(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot be stored"):
        checkpoint.save(tmp_path / "m.safetensors", Linear3(), "test-linear3", {"width": object()})


def test_checksum_detects_altered_tensor_bytes(tmp_path) -> None:
    _, path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # flip a byte of the last tensor's data
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="checksum mismatch"):
        skeletal.load(path)


@pytest.mark.parametrize("keep", [0, 5, 40, -8])
def test_truncated_file_gives_a_data_error(tmp_path, keep) -> None:
    _, path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(DataError, match=str(path.name)):
        skeletal.load(path)


def test_foreign_safetensors_file_is_rejected(tmp_path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(DataError, match="not a skeletal model file"):
        skeletal.load(path)


def test_weights_that_do_not_fit_the_model_are_reported(tmp_path) -> None:
    _, path = _saved(tmp_path)
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    meta = header["__metadata__"]
    meta["model_kwargs"] = json.dumps({"width": 6})
    meta["sha256"] = checkpoint.metadata_checksum(meta)  # a consistent file whose kwargs do not match its weights
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + raw[8 + length :])
    with pytest.raises(DataError, match="do not fit"):
        skeletal.load(path)


def test_write_is_atomic_previous_file_survives_a_failed_save(tmp_path, monkeypatch) -> None:
    model, path = _saved(tmp_path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, torch.nn.Linear(3, 7), "test-linear3", {"width": 7})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary file left behind


class _Payload:
    """Unpickling this calls ``os.system``-like side effects: here it writes a marker file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".safetensors"])
def test_malicious_pickle_is_refused_and_not_executed(tmp_path, suffix) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / f"evil{suffix}"
    with open(path, "wb") as stream:
        pickle.dump({"state_dict": _Payload(str(marker))}, stream, protocol=2)
    torch_zip = tmp_path / f"evil_zip{suffix}"
    torch.save({"state_dict": _Payload(str(marker))}, torch_zip)
    for candidate in (path, torch_zip):
        with pytest.raises(UnsafeFileError, match="arbitrary code"):
            skeletal.load(candidate)
        with pytest.raises(UnsafeFileError):
            checkpoint.read_metadata(candidate)
    assert not marker.exists()


def test_allow_pickle_loads_a_lightning_checkpoint(tmp_path) -> None:
    model = models.create("test-linear3", width=2)
    state = {
        "hyper_parameters": {"model_name": "test-linear3", "model_kwargs": {"width": 2}},
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
    }
    path = tmp_path / "last.ckpt"
    torch.save(state, path)
    with pytest.raises(UnsafeFileError):
        skeletal.load(path)
    loaded = skeletal.load(path, allow_pickle=True)
    x = torch.randn(1, 3)
    assert torch.equal(loaded(x), model(x)) and not loaded.training


def test_missing_file_and_directory(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        skeletal.load(tmp_path / "absent.safetensors")
    with pytest.raises(IsADirectoryError):
        skeletal.load(tmp_path)


def test_pickle_suffix_is_refused_when_saving(tmp_path) -> None:
    with pytest.raises(ConfigError, match="safetensors"):
        checkpoint.save(tmp_path / "m.pt", Linear3(), "test-linear3")
