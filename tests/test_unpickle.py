"""The restricted unpickler of VideoPose3D npz files (``skeletal.data._unpickle``).

Well-formed pickles read exactly as ``np.load(allow_pickle=True)`` reads them; anything else (a global that is not
numpy's, data that do not match their shape, self-references, corrupt memo indices) is a DataError naming the file
and the key, without executing or allocating what the file asks for. The real HumanEva-I files are compared when
``SKELETAL_HUMANEVA`` names a folder holding them (research licence: never in the repository).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_fuzz_readers import memory_cap

from skeletal.data import h36m
from skeletal.data._unpickle import MAX_PICKLE_OPS, unpickle_npy_member
from skeletal.errors import DataError, UnsafeFileError

ROOT = Path(__file__).resolve().parents[1]
HEADER = b"{'descr': '|O', 'fortran_order': False, 'shape': (), }"
HEADER += b" " * (-(10 + len(HEADER) + 1) % 64) + b"\n"


def _npz_with_pickle(path: Path, pickled: bytes, key: str = "positions_3d") -> Path:
    """An npz whose ``key`` member is an object-array .npy header followed by ``pickled``."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{key}.npy", b"\x93NUMPY\x01\x00" + len(HEADER).to_bytes(2, "little") + HEADER + pickled)
    return path


def _same(ours: Any, reference: Any) -> bool:
    if isinstance(reference, dict):
        return (
            type(ours) is dict
            and ours.keys() == reference.keys()
            and all(_same(ours[k], v) for k, v in reference.items())
        )
    if isinstance(reference, (list, tuple)):
        return type(ours) is type(reference) and len(ours) == len(reference) and all(map(_same, ours, reference))
    if isinstance(reference, np.ndarray):
        return (isinstance(ours, np.ndarray) and ours.dtype == reference.dtype and ours.shape == reference.shape
                and ours.flags.writeable and bool(np.array_equal(ours, reference)))  # fmt: skip
    return type(ours) is type(reference) and ours == reference


def test_reads_what_numpy_reads(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    value = {
        "S1": {"Walk": [rng.normal(size=(5, 15, 2)).astype(np.float32), rng.normal(size=(3, 2)).T, None]},
        "S2": {"Box": np.arange(12, dtype=">i2").reshape(3, 4), "names": np.array(["ab", "c"]), "b": b"\x00\xff"},
        "meta": {"num_joints": 15, "scale": np.float32(0.5), "flag": True, "pair": (1, 2.5), "big": 2**70},
        "objects": np.array([1, "x", [2, 3]], dtype=object),
    }
    value["shared"] = [value["S2"], value["S2"]]
    for protocol in (2, 3, 4, 5):
        path = _npz_with_pickle(tmp_path / f"p{protocol}.npz", pickle.dumps(np.array(value, dtype=object), protocol))
        ours = unpickle_npy_member(path, "positions_3d").item()
        assert _same(ours, np.load(path, allow_pickle=True)["positions_3d"].item()), protocol
        assert ours["shared"][0] is ours["shared"][1]  # shared references stay shared


def test_plain_arrays_and_refusal_without_allow_pickle(tmp_path: Path) -> None:
    path = tmp_path / "v.npz"
    np.savez(path, positions_3d=np.array({"S1": {}}, dtype=object), plain=np.arange(6.0).reshape(2, 3))
    assert np.array_equal(unpickle_npy_member(path, "plain", allow_pickle=False), np.arange(6.0).reshape(2, 3))
    with pytest.raises(UnsafeFileError, match="key 'positions_3d' is a pickled object"):
        unpickle_npy_member(path, "positions_3d", allow_pickle=False)
    with pytest.raises(DataError, match=r"v.npz: missing key 'other'; the file has \['plain', 'positions_3d'\]"):
        unpickle_npy_member(path, "other")


class _Shell:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"S1": {"Walk": _Shell()}}, r"the pickle names posix.system, which is not a numpy array"),
        ({"S1": {"Walk": {1, 2}}}, r"an object of type set"),
        ({"S1": {"Walk": np.zeros(3, dtype=[("x", "f4"), ("y", "f4")])}}, r"dtype .* is not a plain"),
        ({"S1": {"Walk": np.zeros(2, dtype="M8[s]")}}, r"dtype .* is not a plain"),
        ({("S", 1): {}}, r"a dict key of type tuple"),
    ],
)
def test_refused_contents(tmp_path: Path, value: Any, match: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "v.npz"
    np.savez(path, positions_3d=np.array(value, dtype=object))
    with pytest.raises(DataError, match=r"v.npz, key 'positions_3d': refused pickled entry: " + match):
        h36m.load_h36m_3d(path)
    assert not (tmp_path / "PWNED").exists()


def test_self_reference_and_deep_nesting(tmp_path: Path) -> None:
    loop: list[Any] = []
    loop.append(loop)
    deep: list[Any] = []
    for _ in range(100):
        deep = [deep]
    for value, match in ((loop, "a container that contains itself"), (deep, "nested more than 32 deep")):
        path = tmp_path / "v.npz"
        np.savez(path, positions_3d=np.array({"S1": {"Walk": value}}, dtype=object))
        with pytest.raises(DataError, match=match):
            h36m.load_h36m_3d(path)


def test_shape_that_its_data_do_not_fill(tmp_path: Path) -> None:
    """numpy's ``_reconstruct`` allocates the announced shape; the builder compares it with the data first."""
    pickled = pickle.dumps(np.zeros(4, dtype=np.float32), protocol=2)
    state = pickled.index(b"K\x04\x85")  # the state's shape (4,) as BININT1 4, TUPLE1
    corrupt = pickled[:state] + b"J" + (2**30).to_bytes(4, "little") + pickled[state + 2 :]
    path = _npz_with_pickle(tmp_path / "v.npz", corrupt)
    with memory_cap(256 << 20), pytest.raises(DataError, match=r"array float32 \(1073741824,\) needs 4294967296 bytes"):
        unpickle_npy_member(path, "positions_3d")


def test_memo_index_of_gigabytes(tmp_path: Path) -> None:
    """Fuzz benchmark (HumanEva 2D case 3428): a LONG_BINPUT index of 2,491,910,281 made the unpickler grow its
    memo table to it (MemoryError)."""
    pickled = b"\x80\x02]r" + (2_491_910_281).to_bytes(4, "little") + b"."
    path = _npz_with_pickle(tmp_path / "v.npz", pickled)
    with (
        memory_cap(256 << 20),
        pytest.raises(DataError, match=r"key 'positions_3d', byte \d+: .*memo index 2491910281"),
    ):
        unpickle_npy_member(path, "positions_3d")
    assert MAX_PICKLE_OPS < 2_491_910_281


def test_fuzz_case_that_crashed_the_process(tmp_path: Path) -> None:
    """Fuzz benchmark (Human3.6M 2D case 9982): ``np.load`` of this mutated file killed the process with SIGSEGV.
    The reader runs in a subprocess so that a crash fails the test instead of the test run."""
    script = f"""
import sys, numpy as np
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
from pathlib import Path
import fuzz_readers
from skeletal.data import h36m
from skeletal.errors import DataError
folder = Path({str(tmp_path)!r})
name, (seed, filename, read) = list(fuzz_readers.readers(folder, np.random.default_rng(0)).items())[15]
assert name == "h36m 2d (VideoPose3D npz)", name
(folder / filename).write_bytes(fuzz_readers.mutate_npz(seed, np.random.default_rng([0, 15, 9982])))
try:
    read(folder / filename)
except DataError:
    pass
print("survived")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "survived" in done.stdout, (done.returncode, done.stderr[-2000:])


@pytest.mark.skipif(not os.environ.get("SKELETAL_HUMANEVA"), reason="SKELETAL_HUMANEVA names no HumanEva-I folder")
def test_real_humaneva_files_read_as_numpy_reads_them() -> None:
    folder = Path(os.environ["SKELETAL_HUMANEVA"])
    for name, key in (("data_3d_humaneva15.npz", "positions_3d"), ("data_2d_humaneva15_gt.npz", "positions_2d"),
                      ("data_2d_humaneva15_gt.npz", "metadata")):  # fmt: skip
        reference = np.load(folder / name, allow_pickle=True)[key].item()
        assert _same(h36m.load_pickled_dict(folder / name, key), reference), key


def test_compressed_size_beyond_the_archive(tmp_path: Path) -> None:
    """Fuzz benchmark (HumanEva 2D cases 391, 5355, 8886): a central directory announcing 1.7 GB of compressed
    bytes for a stored member made the zip reader ask the file for them in one read (MemoryError)."""
    path = tmp_path / "v.npz"
    np.savez(path, positions_3d=np.array({"S1": {}}, dtype=object))
    data = bytearray(path.read_bytes())
    entry = data.rindex(b"PK\x01\x02")  # the member's central directory record; compressed size at byte 20
    data[entry + 20 : entry + 24] = (1_694_499_176).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with memory_cap(256 << 20), pytest.raises(DataError, match=r"announces 1694499176 compressed bytes, more than"):
        h36m.load_h36m_3d(path)
