"""Issue 18: a text file without its final newline is read fully (the last line, often the last frame, is not
dropped), for every line-based reader: ASF, AMC, BVH, NTU ``.skeleton``, Human3.6M and CMU exp-map ``.txt``.

Each reader reads a valid file with and without its final line break (LF and CRLF) and must give the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from test_data_readers_mocap import ASF, _bvh
from test_data_readers_ntu import person, write_skeleton

from skeletal.data import asf_amc, bvh, cmu, h36m, ntu

AMC = ":FULLY-SPECIFIED\n:DEGREES\n1\nroot 0 0 0 0 0 0\nfemur 10 20\n2\nroot 1 2 3 4 5 6\nfemur 0 30\n"


def _motion_arrays(motion) -> list[np.ndarray]:
    return [a for a in (motion.positions, motion.rotations, motion.root_positions) if a is not None]


def _asf(folder: Path) -> list[np.ndarray]:
    (folder / "ok.amc").write_text(AMC)
    return _motion_arrays(asf_amc.read_asf_amc(folder / "file", folder / "ok.amc"))


def _amc(folder: Path) -> list[np.ndarray]:
    (folder / "ok.asf").write_text(ASF)
    return _motion_arrays(asf_amc.read_asf_amc(folder / "ok.asf", folder / "file"))


def _ntu(folder: Path) -> list[np.ndarray]:
    return [ntu.skeleton_xyz(ntu.read_ntu_skeleton(folder / "file"))]


def _expmap(read: Callable[[Path], np.ndarray]) -> Callable[[Path], list[np.ndarray]]:
    return lambda folder: [read(folder / "file")]


def _ntu_text(tmp_path: Path) -> str:
    walk = person(np.random.default_rng(0), 2)
    return write_skeleton(tmp_path / "seed.skeleton", [[walk[0]], [walk[1]]], newline="\n").read_text()


def _rows(width: int) -> str:
    rng = np.random.default_rng(1)
    return "\n".join(",".join(f"{v:.6f}" for v in rng.normal(size=width)) for _ in range(3)) + "\n"


READERS = {
    "asf": (lambda tmp: ASF, _asf),
    "amc": (lambda tmp: AMC, _amc),
    "bvh": (lambda tmp: _bvh(["0 1 0 10 0 0 5 0 0", "0 1 0 20 0 0 6 0 0", "1 1 1 30 0 0 7 0 0"]),
            lambda folder: _motion_arrays(bvh.read_bvh(folder / "file"))),
    "ntu skeleton": (_ntu_text, _ntu),
    "h36m exp-map txt": (lambda tmp: _rows(99), _expmap(h36m.read_expmap_txt)),
    "cmu exp-map txt": (lambda tmp: _rows(117), _expmap(cmu.read_expmap)),
}  # fmt: skip


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("reader", list(READERS))
def test_a_missing_final_newline_drops_nothing(tmp_path: Path, reader: str, newline: str) -> None:
    text, read = READERS[reader]
    content = text(tmp_path).replace("\n", newline)
    assert content.endswith(newline)
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    (tmp_path / "with" / "file").write_bytes(content.encode())
    (tmp_path / "without" / "file").write_bytes(content.removesuffix(newline).encode())
    expected, result = read(tmp_path / "with"), read(tmp_path / "without")
    assert len(result) == len(expected) > 0
    for a, b in zip(result, expected):
        np.testing.assert_array_equal(a, b)
    if reader == "asf":  # its last line is the hierarchy's `end`, which carries no data
        return
    # the last line matters: without it the data differ (or the file is refused)
    last = content.removesuffix(newline).rsplit(newline, 1)[0]
    (tmp_path / "without" / "file").write_bytes(last.encode())
    try:
        shorter = read(tmp_path / "without")
    except Exception:  # noqa: BLE001  a DataError (a count no longer met) is as good as different data
        return
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(shorter, expected))
