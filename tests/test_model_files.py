"""Model files under attack and under crashes (complements ``test_checkpoint.py``, which covers the round trip,
a checksum mismatch, truncation at two points, a failed ``os.replace`` and pickles written with protocol 2).

Here: pickles of every protocol and suffix (protocol 0 does not start with the ``0x80`` opcode) are refused
without running their payload; a save loop in a subprocess killed by SIGKILL at several moments always leaves a
loadable file; fuzzed truncations and byte flips of the tensor section always give DataError; tampering with the
metadata is detected (the checksum covers the tensors and the canonical JSON of the metadata).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skeletal
from skeletal import checkpoint, models
from skeletal.errors import DataError, UnsafeFileError


class FilledLinear(torch.nn.Module):
    """A Linear(3, width) whose parameters all equal ``value`` (identifies which save a file holds)."""

    def __init__(self, width: int = 4, value: float = 0.0):
        super().__init__()
        self.layer = torch.nn.Linear(3, width)
        torch.nn.init.constant_(self.layer.weight, value)
        torch.nn.init.constant_(self.layer.bias, value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


if "test-filled-linear" not in models.names():
    models.register_model("test-filled-linear", "recognition", paper="test model")(FilledLinear)

SAVE_LOOP = textwrap.dedent(
    f"""
    import sys
    sys.path.insert(0, {str(Path(__file__).parent)!r})
    from skeletal import checkpoint
    from test_model_files import FilledLinear

    path, width = sys.argv[1], int(sys.argv[2])
    for value in range(1, 10**6):
        model = FilledLinear(width, float(value))
        checkpoint.save(path, model, "test-filled-linear", {{"width": width, "value": float(value)}})
        print(value, flush=True)
    """
)


class _Marker:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("suffix", [".pth", ".bin", ".pkl", ".ckpt", ""])
@pytest.mark.parametrize("protocol", [0, 1, 2, 5])
def test_pickles_of_any_protocol_are_not_executed(tmp_path: Path, suffix: str, protocol: int) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / f"weights{suffix}"
    path.write_bytes(pickle.dumps({"state_dict": _Marker(str(marker))}, protocol=protocol))
    with pytest.raises((UnsafeFileError, DataError)) as caught:
        skeletal.load(path)
    if suffix or protocol >= 2:  # named like a pickle, or starting with the PROTO opcode: refused as one
        assert caught.type is UnsafeFileError and "arbitrary code" in str(caught.value)
    else:  # no suffix and no opcode to recognise: read as safetensors, rejected as not one
        assert caught.type is DataError and str(path) in str(caught.value)
    assert not marker.exists()


def test_malicious_pickle_renamed_to_safetensors_is_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for protocol in (0, 4):
        path = tmp_path / f"model{protocol}.safetensors"
        path.write_bytes(pickle.dumps(_Marker(str(marker)), protocol=protocol))
        with pytest.raises((UnsafeFileError, DataError)):
            skeletal.load(path)
        with pytest.raises((UnsafeFileError, DataError)):
            checkpoint.read_metadata(path)
    assert not marker.exists()


def test_sigkill_during_save_loop_leaves_a_loadable_file(tmp_path: Path) -> None:
    """Kill a process that keeps re-saving the same file (8 MB each time) at several moments."""
    path = tmp_path / "model.safetensors"
    width = 500_000
    checkpoint.save(path, FilledLinear(width, 0.0), "test-filled-linear", {"width": width, "value": 0.0})
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    survivors = []
    for delay in (0.0, 0.07, 0.2):
        child = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(path), str(width)], stdout=subprocess.PIPE,
                                 env=env, text=True)  # fmt: skip
        assert child.stdout is not None
        first = child.stdout.readline()  # one save finished: the next is under way
        assert first.strip() == "1", first
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL
        model = skeletal.load(path)  # checksum verified
        value = float(model.layer.bias[0].detach())
        assert torch.all(model.layer.weight == value) and value == model.skeletal_info.model_kwargs["value"]
        survivors.append(value)
    assert all(v >= 1 for v in survivors)  # the file holds a complete later save, never a torn one
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.safetensors"]
    # a kill mid-save may leave the temporary file of skeletal.atomic (".model.XXXX.tmp.safetensors"), nothing else
    assert all(name.startswith(".model.") and name.endswith(".tmp.safetensors") for name in leftovers), leftovers


@pytest.fixture(scope="module")
def saved_bytes(tmp_path_factory) -> tuple[bytes, int]:
    path = tmp_path_factory.mktemp("model") / "model.safetensors"
    model = FilledLinear(16, 0.5)
    torch.nn.init.normal_(model.layer.weight)
    checkpoint.save(path, model, "test-filled-linear", {"width": 16, "value": 0.5}, metrics={"val/top1": 0.5})
    raw = path.read_bytes()
    return raw, 8 + struct.unpack("<Q", raw[:8])[0]


def _must_fail(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    with pytest.raises((DataError, UnsafeFileError)) as caught:  # UnsafeFileError: a flip made it look pickled
        skeletal.load(path)
    assert str(path) in str(caught.value)


FAST = settings(max_examples=60, derandomize=True, deadline=5000, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@FAST
@given(cut=st.integers(min_value=0, max_value=10**6))
def test_any_truncation_is_a_data_error(tmp_path: Path, saved_bytes: tuple[bytes, int], cut: int) -> None:
    raw, _ = saved_bytes
    _must_fail(tmp_path / "cut.safetensors", raw[: cut % len(raw)])


@FAST
@given(offset=st.integers(min_value=0, max_value=10**6), xor=st.integers(1, 255))
def test_any_flipped_tensor_byte_is_a_data_error(tmp_path: Path, saved_bytes, offset: int, xor: int) -> None:
    raw, data_start = saved_bytes
    where = list(range(8)) + list(range(data_start, len(raw)))  # the length prefix or the tensor bytes
    at = where[offset % len(where)]
    _must_fail(tmp_path / "flip.safetensors", raw[:at] + bytes([raw[at] ^ xor]) + raw[at + 1 :])


def _rewrite_header(raw: bytes, data_start: int, change) -> bytes:
    header = json.loads(raw[8:data_start])
    change(header["__metadata__"])
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + raw[data_start:]


@pytest.mark.parametrize(
    "field, value",
    [("metrics", json.dumps({"val/top1": 0.99})), ("config", json.dumps({"seed": 1})), ("skeleton", "ntu25"),
     ("skeletal_version", "9.9.9"), ("tensors_sha256", "0" * 64), ("extra", "added")],
)  # fmt: skip
def test_altered_metadata_is_detected(tmp_path: Path, saved_bytes, field: str, value: str) -> None:
    raw, data_start = saved_bytes
    path = tmp_path / "altered.safetensors"
    path.write_bytes(_rewrite_header(raw, data_start, lambda meta: meta.__setitem__(field, value)))
    with pytest.raises(DataError, match="metadata checksum mismatch") as caught:
        skeletal.load(path)
    assert str(path) in str(caught.value)
    with pytest.raises(DataError, match="metadata checksum mismatch"):
        checkpoint.read_metadata(path)


def test_metadata_checksum_is_canonical(tmp_path: Path, saved_bytes) -> None:
    """Reordering the metadata keys (another JSON writer) keeps the file valid; the checksum is that of the
    canonical JSON of every field but itself, which includes the tensor checksum."""
    raw, data_start = saved_bytes
    meta = json.loads(raw[8:data_start])["__metadata__"]
    assert meta["sha256"] == checkpoint.metadata_checksum(meta) != meta["tensors_sha256"]
    path = tmp_path / "reordered.safetensors"

    def reverse(fields: dict) -> None:
        items = list(fields.items())[::-1]
        fields.clear()
        fields.update(items)

    path.write_bytes(_rewrite_header(raw, data_start, reverse))
    model = skeletal.load(path)
    assert model.skeletal_info.metrics == {"val/top1": 0.5}
    assert model.skeletal_info.tensors_sha256 == checkpoint.tensor_checksum(model.state_dict())


def test_older_format_is_a_clear_error(tmp_path: Path, saved_bytes) -> None:
    raw, data_start = saved_bytes
    path = tmp_path / "old.safetensors"
    path.write_bytes(_rewrite_header(raw, data_start, lambda meta: meta.__setitem__("format", "skeletal/1")))
    with pytest.raises(DataError, match="older skeletal development version"):
        skeletal.load(path)


@pytest.mark.parametrize("prefix", [b"\x80", b"PK"])
def test_model_file_whose_length_prefix_looks_like_a_pickle_loads(tmp_path: Path, prefix: bytes) -> None:
    """The 8-byte header length of a safetensors file can begin with 0x80 (pickle PROTO) or "PK" (zip): padding the
    stored config moves the (8-byte aligned) length until it does; the file is still read as safetensors."""
    target = prefix[0] if len(prefix) == 1 else struct.unpack("<H", prefix)[0]
    modulus = 256 if len(prefix) == 1 else 65536
    path = tmp_path / "model.safetensors"
    model = FilledLinear(4, 0.25)

    def save(pad: int) -> int:
        checkpoint.save(path, model, "test-filled-linear", {"width": 4, "value": 0.25}, config={"pad": "x" * pad})
        return struct.unpack("<Q", path.read_bytes()[:8])[0]

    base = save(0)
    pad = (target - base) % modulus
    for extra in range(-8, 9):
        if (save(max(pad + extra, 0))) % modulus == target:
            break
    raw = path.read_bytes()
    assert raw[: len(prefix)] == prefix
    loaded = skeletal.load(path)
    assert torch.all(loaded.layer.weight == 0.25) and loaded.skeletal_info.config["pad"].startswith("x")
