"""Issue 18: model-file metadata is checked against the tensors' header before any model is built.

Every file here has its metadata checksum recomputed (as an attacker can), so only the new checks stop it: a
model argument that would allocate hundreds of GB, one the network rejects, deep nesting, a header whose
shapes or offsets do not fit, a FIFO named ``x.safetensors``.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
import torch
from test_fuzz_readers import memory_cap

import skeletal
from skeletal import checkpoint, models
from skeletal.errors import DataError


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[bytes, int]:
    path = tmp_path_factory.mktemp("model") / "model.safetensors"
    kwargs = {"receptive_field": 27, "channels": 64}
    checkpoint.save(path, models.create("videopose3d", **kwargs), "videopose3d", kwargs)
    raw = path.read_bytes()
    return raw, 8 + struct.unpack("<Q", raw[:8])[0]


def _forge(raw: bytes, data_start: int, meta_change=None, header_change=None) -> bytes:
    """The file with its metadata or header changed and the metadata checksum recomputed."""
    header = json.loads(raw[8:data_start])
    if meta_change is not None:
        meta_change(header["__metadata__"])
    if header_change is not None:
        header_change(header)
    header["__metadata__"]["sha256"] = checkpoint.metadata_checksum(header["__metadata__"])
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + raw[data_start:]


def _kwargs(**change):
    def apply(meta: dict) -> None:
        meta["model_kwargs"] = json.dumps({**json.loads(meta["model_kwargs"]), **change})

    return apply


@pytest.mark.parametrize(
    ("meta_change", "match"),
    [
        (_kwargs(channels=10_000_000), r"the tensors do not fit model 'videopose3d'|rejects"),  # was 320 GB
        (_kwargs(bogus=1), r"rejects the file's model arguments: .*bogus"),  # TypeError
        (_kwargs(receptive_field=4), r"rejects the file's model arguments"),  # ValueError from the network
        (_kwargs(skeleton="openpose18"), r"'head.bias' is \(51,\) in the file, \(54,\) in the model"),  # shapes differ
        (lambda m: m.__setitem__("model_kwargs", "[" * 100_000 + "]" * 100_000), r"corrupt metadata"),  # Recursion
        (lambda m: m.__setitem__("model_kwargs", "[1, 2]"), r"corrupt metadata"),
        (lambda m: m.__setitem__("model_kwargs", '{"n": ' + "9" * 5000 + "}"), r"corrupt metadata"),
        (lambda m: m.__setitem__("model_name", "no-such-model"), r"unknown model 'no-such-model'"),
        (lambda m: m.__setitem__("model_kwargs", '{"skeleton": {"__skeleton__": {"x": 1}}}'), r"corrupt metadata"),
    ],
)
def test_forged_metadata_is_refused_before_building(tmp_path: Path, saved, meta_change, match: str) -> None:
    path = tmp_path / "forged.safetensors"
    path.write_bytes(_forge(*saved, meta_change=meta_change))
    with memory_cap(1 << 30), pytest.raises(DataError, match=match) as caught:
        skeletal.load(path)
    assert str(path) in str(caught.value)


def _first_tensor(change):
    def apply(header: dict) -> None:
        name = sorted(k for k in header if k != "__metadata__")[0]
        change(header[name])

    return apply


@pytest.mark.parametrize(
    ("header_change", "match"),
    [
        (_first_tensor(lambda t: t.__setitem__("shape", [True, 3])), r"shape must be a list of non-negative"),
        (_first_tensor(lambda t: t.__setitem__("shape", [10**12, 10**12])), r"needs \d+ bytes, data_offsets give"),
        (_first_tensor(lambda t: t.__setitem__("dtype", "OBJ")), r"without a known dtype"),
        (_first_tensor(lambda t: t.__setitem__("data_offsets", [0, 10**15])), r"do not lie in the"),
        (
            lambda h: h.__setitem__("extra.weight", {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}),
            r"overlap|do not fit",
        ),  # fmt: skip
    ],
)
def test_forged_header_is_refused(tmp_path: Path, saved, header_change, match: str) -> None:
    path = tmp_path / "forged.safetensors"
    path.write_bytes(_forge(*saved, header_change=header_change))
    with pytest.raises(DataError, match=match):
        skeletal.load(path)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.safetensors")
    with pytest.raises(DataError, match="x.safetensors: not a regular file"):
        skeletal.load(tmp_path / "x.safetensors")
    with pytest.raises(DataError, match="not a regular file"):
        checkpoint.read_metadata(tmp_path / "x.safetensors")


def test_valid_file_still_loads(tmp_path: Path, saved) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(saved[0])
    model = skeletal.load(path)
    assert isinstance(model, torch.nn.Module) and model.skeletal_info.model_name == "videopose3d"


@pytest.mark.slow
def test_every_registered_model_builds_on_the_meta_device_or_is_bounded() -> None:
    """The meta-device check covers the registry; builders that read tensor values fall back to the bound."""
    for name in models.names():
        try:
            with torch.device("meta"):
                model = models.create(name)
        except RuntimeError as error:
            assert "meta" in str(error), name
            continue
        assert all(t.device.type == "meta" for t in model.state_dict().values()), name


def test_gast_net_builds_on_the_meta_device() -> None:
    """GAST-Net's graph kernels are checked and indexed in numpy, so a GAST-Net file is checked tensor by tensor
    against the model its metadata describes (it used to fall back to the argument bound)."""
    with torch.device("meta"):
        model = models.create("gast-net-27", channels=16)
    assert all(t.device.type == "meta" for t in model.state_dict().values())
    real = models.create("gast-net-27", channels=16)
    assert {k: v.shape for k, v in model.state_dict().items()} == {k: v.shape for k, v in real.state_dict().items()}
