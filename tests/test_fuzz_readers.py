"""Fuzzing every data reader: bad input either reads as valid data or raises DataError naming file and position.

Each reader gets a small *valid* seed file (slices of the real files in ``shared/data`` or files written in the
exact format by the reader tests' helpers); hypothesis applies 1-3 mutations (truncation at a random byte,
deleted or duplicated lines, a number replaced by a non-number / ``nan`` / ``inf`` / ``1e308`` / a huge count,
random bytes, a flipped byte, latin-1 or UTF-16 re-encoding, an empty file) and the reader must then either
return data of the promised shapes (finite where promised) or raise :class:`DataError` whose message names the
file and, for anything but whole-file problems, a position. Every call runs under an address-space cap
(``memory_cap``) so that a header claiming 10^12 frames that the reader believed would fail with MemoryError
(another exception) instead of going unnoticed, and under hypothesis's ``deadline`` (no hang).

The number of cases tried per reader is printed (``pytest -s``), recorded as a junit property ``fuzz_cases``
and checked against a minimum.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_data_readers_keypoints import kinetics_video, openpose_frame
from test_data_readers_ntu import person, write_skeleton

from skeletal.data import amass, asf_amc, bvh, cmu, h36m, keypoints, kinetics, ntu
from skeletal.data.types import Keypoints, Motion
from skeletal.errors import DataError

MAX_EXAMPLES = 60
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=5000,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BAD_TOKENS = ("nan", "NaN", "inf", "-inf", "1e308", "-1e308", "1e999", "abc", "", "1,5", "3.4.5", "0x1F", "-1",
              "1000000000000", "999999999999999999999", "\x00", "é")  # fmt: skip
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
WHOLE_FILE = ("empty", "cannot read", "not found", "no frames", "no 'MOTION'", "holds no frames", "no skeleton",
              "expected a non-empty", "expected an object", "corrupt or truncated", "not a readable numpy",
              "no :bonedata", "hierarchy and bonedata", "missing key", "expected one array", "expected (T, V",
              "no layout has", "has no", "unknown angle unit", "expected a numeric array", "layout '")  # fmt: skip


@contextmanager
def memory_cap(extra: int = 1 << 30) -> Iterator[None]:
    """Cap this process's address space at its current size + ``extra`` bytes while the block runs."""
    with open("/proc/self/statm") as stream:
        current = int(stream.read().split()[0]) * resource.getpagesize()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (current + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@st.composite
def mutations(draw: Any, seed: bytes) -> bytes:
    """``seed`` with 1-3 random corruptions (see the module docstring)."""
    data = seed
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "delete_line", "duplicate_line", "token", "token", "count",
                                     "bytes", "flip", "latin1", "utf16", "empty"]))  # fmt: skip
        lines = data.split(b"\n")
        if kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind in ("delete_line", "duplicate_line") and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines[i : i + 1] = [] if kind == "delete_line" else [lines[i], lines[i]]
            data = b"\n".join(lines)
        elif kind in ("token", "count"):
            matches = list(NUMBER.finditer(data))
            if matches:
                if kind == "count":  # an integer field (frame, body, joint count...) claiming a huge number
                    ints = [m for m in matches if m.group().isdigit()] or matches
                    match, new = draw(st.sampled_from(ints)), draw(st.sampled_from([b"1000000000000", b"99999999"]))
                else:
                    match, new = draw(st.sampled_from(matches)), draw(st.sampled_from(BAD_TOKENS)).encode()
                data = data[: match.start()] + new + data[match.end() :]
        elif kind == "bytes":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=12)) + data[at:]
        elif kind == "flip" and data:
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif kind == "latin1":
            text = data.decode("utf-8", errors="replace")
            at = draw(st.integers(0, len(text)))
            data = (text[:at] + "é" + text[at:]).encode("latin-1", errors="replace")
        elif kind == "utf16":
            data = data.decode("utf-8", errors="replace").encode("utf-16")  # with its BOM
        elif kind == "empty":
            data = b""
    return data


def run_fuzz(
    name: str,
    seed: bytes,
    filename: str,
    read: Callable[[Path], Any],
    check: Callable[[Any], None],
    record_property: Callable[[str, Any], None],
    minimum: int = MAX_EXAMPLES // 2,
    folder: Path | None = None,
) -> int:
    """Fuzz ``read`` on mutations of ``seed`` written as ``folder / filename``; returns the number of cases."""
    folder = folder or Path(tempfile.mkdtemp(prefix=f"fuzz-{name.split()[0]}-"))
    path = folder / filename
    outcomes = {"valid": 0, "error": 0}

    @FUZZ
    @given(mutations(seed))
    def fuzz(data: bytes) -> None:
        path.write_bytes(data)
        try:
            with memory_cap():
                result = read(path)
        except DataError as error:
            message = str(error)
            assert error.path is not None and Path(filename).name in message, f"file not named: {message}"
            whole_file = any(phrase in message for phrase in WHOLE_FILE)
            assert error.position or "position" in message or whole_file, f"no position: {message}"
            outcomes["error"] += 1
            return
        check(result)
        outcomes["valid"] += 1

    check(read_seed(folder, filename, seed, read))  # the seed itself is valid
    try:
        fuzz()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    tried = outcomes["valid"] + outcomes["error"]
    print(f"fuzz {name}: {tried} cases ({outcomes['valid']} read as valid, {outcomes['error']} DataError)")
    record_property("fuzz_cases", tried)
    assert tried >= minimum
    return tried


def read_seed(folder: Path, filename: str, seed: bytes, read: Callable[[Path], Any]) -> Any:
    (folder / filename).write_bytes(seed)
    return read(folder / filename)


def check_motion(motion: Motion) -> None:
    t, v = motion.num_frames, motion.skeleton.num_joints
    assert t >= 1
    for array, shape in ((motion.positions, (t, v, 3)), (motion.rotations, (t, v, 3, 3))):
        if array is not None:
            assert array.shape == shape and np.isfinite(array).all()


def check_keypoints(kp: Keypoints) -> None:
    m, t, v = kp.points.shape[:3]
    assert kp.points.shape == (m, t, v, 2) and kp.scores.shape == (m, t, v) and m >= 1 and t >= 1
    assert v == kp.skeleton.num_joints and np.isfinite(kp.scores).all()
    present = kp.scores > 0
    assert np.isfinite(kp.points[present]).all() and np.isnan(kp.points[~present]).all()


def check_rows(width: int) -> Callable[[np.ndarray], None]:
    def check(rows: np.ndarray) -> None:
        assert rows.ndim == 2 and rows.shape[1] == width and len(rows) >= 1 and np.isfinite(rows).all()

    return check


# ------------------------------------------------------------------------------------------- text formats
def test_fuzz_cmu_expmap(shared_data: Path, record_property) -> None:
    lines = (shared_data / "cmu-mocap-expmap/train/walking/walking_1.txt").read_bytes().splitlines()[:3]
    run_fuzz("cmu.read_expmap", b"\n".join(lines) + b"\n", "walking_1.txt", cmu.read_expmap, check_rows(117),
             record_property)  # fmt: skip


def test_fuzz_h36m_expmap(shared_data: Path, record_property) -> None:
    lines = (shared_data / "cmu-mocap-expmap/train/walking/walking_1.txt").read_text().splitlines()[:3]
    seed = "\n".join(",".join(line.split(",")[:99]) for line in lines).encode()  # H3.6M files: 99 values
    run_fuzz("h36m.read_expmap_txt", seed, "walking_1.txt", h36m.read_expmap_txt, check_rows(99), record_property)


def test_fuzz_bvh(shared_data: Path, record_property) -> None:
    text = (shared_data / "cmu-mocap-raw/01_01.bvh").read_text()
    head, frames = text.split("MOTION", 1)
    lines = frames.strip().splitlines()
    seed = f"{head}MOTION\nFrames: 3\n{lines[1]}\n" + "\n".join(lines[2:5]) + "\n"
    run_fuzz("bvh.read_bvh", seed.encode(), "01_01.bvh", bvh.read_bvh, check_motion, record_property)


def amc_slice(shared_data: Path, frames: int = 2) -> bytes:
    lines = (shared_data / "cmu-mocap-raw/01_01.amc").read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if line.strip() == str(frames + 1))
    return ("\n".join(lines[:end]) + "\n").encode()


def test_fuzz_asf(shared_data: Path, tmp_path: Path, record_property) -> None:
    amc = tmp_path / "01_01.amc"
    amc.write_bytes(amc_slice(shared_data))
    seed = (shared_data / "cmu-mocap-raw/01.asf").read_bytes()
    run_fuzz("asf_amc.read_asf_amc (asf)", seed, "01.asf", lambda p: asf_amc.read_asf_amc(p, amc), check_motion,
             record_property)  # fmt: skip


def test_fuzz_amc(shared_data: Path, tmp_path: Path, record_property) -> None:
    asf = tmp_path / "01.asf"
    shutil.copy(shared_data / "cmu-mocap-raw/01.asf", asf)
    run_fuzz("asf_amc.read_asf_amc (amc)", amc_slice(shared_data), "01_01.amc",
             lambda p: asf_amc.read_asf_amc(asf, p), check_motion, record_property)  # fmt: skip


def test_fuzz_ntu_skeleton(record_property) -> None:
    rng = np.random.default_rng(0)
    folder = Path(tempfile.mkdtemp())
    seed = write_skeleton(folder / "s.skeleton", [[b[t] for b in (person(rng, 3), person(rng, 3, offset=1))]
                                                  for t in range(3)], joints=25).read_bytes()  # fmt: skip
    shutil.rmtree(folder)

    def read(path: Path) -> np.ndarray:
        skeleton = ntu.read_ntu_skeleton(path)
        for bodies in skeleton.frames:
            for body in bodies:
                assert body.joints.shape[1] == 12 and np.isfinite(body.joints).all() and body.info.shape == (9,)
        return ntu.sample_array(path, max_frames=8)

    def check(sample: np.ndarray) -> None:
        assert sample.shape == (2, 8, 25, 3) and np.isfinite(sample).all()

    run_fuzz("ntu.read_ntu_skeleton + sample_array", seed, "S001C001P001R001A001.skeleton", read, check,
             record_property)  # fmt: skip


# ------------------------------------------------------------------------------------------- JSON formats
def test_fuzz_keypoints_json(shared_data: Path, record_property) -> None:
    content = json.loads((shared_data / "keypoints-2d/baseball.json").read_text())
    content["data"] = content["data"][:3]
    seed = json.dumps(content, indent=0).encode()
    run_fuzz("keypoints.read_keypoints (Kinetics-style JSON)", seed, "baseball.json", keypoints.read_keypoints,
             check_keypoints, record_property)  # fmt: skip


def test_fuzz_keypoints_coco_json(record_property) -> None:
    flat = [round(v, 2) for j in range(17) for v in (10.0 * j, 20.0 + j, 0.9)]
    seed = json.dumps([{"image_id": i % 3, "keypoints": flat, "score": 0.5 + 0.1 * i} for i in range(4)]).encode()
    run_fuzz("keypoints.read_keypoints (COCO results JSON)", seed, "results.json", keypoints.read_keypoints,
             check_keypoints, record_property)  # fmt: skip


def test_fuzz_kinetics_json(record_property) -> None:
    seed = json.dumps(kinetics_video([[(0.1, 0.2), (0.6, 0.9)], [(0.3, 0.8)], []]), indent=0).encode()

    def check(result: tuple[np.ndarray, int]) -> None:
        data, label = result
        assert data.shape == (2, 300, 18, 3) and data.dtype == np.float32 and np.isfinite(data).all()
        assert isinstance(label, int)

    run_fuzz("kinetics.read_kinetics_json", seed, "video.json", kinetics.read_kinetics_json, check, record_property)


def test_fuzz_openpose_dir(record_property) -> None:
    rng = np.random.default_rng(1)
    people = [np.concatenate([rng.uniform(0, 500, (18, 2)), rng.uniform(0.1, 1, (18, 1))], axis=1)]
    folder = Path(tempfile.mkdtemp(prefix="fuzz-openpose-"))
    (folder / "clip_000000000000_keypoints.json").write_text(json.dumps(openpose_frame(people)))
    seed = json.dumps(openpose_frame(people * 2), indent=0).encode()
    try:
        run_fuzz("keypoints.read_openpose_dir", seed, "clip_000000000001_keypoints.json",
                 lambda p: keypoints.read_keypoints(folder), check_keypoints, record_property,
                 folder=folder)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------------------- numpy formats
def npy_bytes(array: np.ndarray, npz: bool = False, **extra: np.ndarray) -> bytes:
    folder = Path(tempfile.mkdtemp())
    path = folder / ("a.npz" if npz else "a.npy")
    if npz:
        np.savez(path, **extra)
    else:
        np.save(path, array)
    data = path.read_bytes()
    shutil.rmtree(folder)
    return data


def read_coco17(path: Path) -> object:
    """17-joint arrays name their layout (coco17 or h36m17: never guessed)."""
    return keypoints.read_keypoints(path, layout="coco17")


def test_fuzz_keypoints_npy(record_property) -> None:
    array = np.random.default_rng(2).uniform(0, 1, (4, 17, 3))
    run_fuzz("keypoints.read_keypoints (.npy)", npy_bytes(array), "k.npy", read_coco17,
             check_keypoints, record_property)  # fmt: skip


def test_fuzz_keypoints_npz(record_property) -> None:
    array = np.random.default_rng(3).uniform(0, 1, (1, 4, 17, 3))
    run_fuzz("keypoints.read_keypoints (.npz)", npy_bytes(array, npz=True, keypoints=array), "k.npz",
             read_coco17, check_keypoints, record_property)  # fmt: skip


def test_fuzz_amass_npz(record_property) -> None:
    rng = np.random.default_rng(4)
    fields = {"poses": rng.normal(scale=0.3, size=(4, 156)), "trans": rng.normal(size=(4, 3)),
              "mocap_framerate": np.array(120.0), "betas": np.zeros(16), "gender": np.array("male")}  # fmt: skip
    seed = npy_bytes(np.zeros(0), npz=True, **fields)
    run_fuzz("amass.read_amass_npz", seed, "take_poses.npz", amass.read_amass_npz, check_motion, record_property)


def test_huge_npy_header_does_not_allocate(tmp_path: Path) -> None:
    """A 200-byte .npy whose header claims 10^12 x 17 x 3 float64 values fails fast, without allocating."""
    path = tmp_path / "huge.npy"
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 17, 3), }"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(64))
    with memory_cap(), pytest.raises(DataError, match="huge.npy"):
        keypoints.read_keypoints(path)


# ------------------------------------------------------------------------ regressions of bugs the fuzzing found
def _kinetics_style(tmp_path: Path, **change: Any) -> Path:
    video = kinetics_video([[(0.1, 0.9)], [(0.2, 0.8)]])
    video["data"][1].update(change)
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(video))
    return path


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"frame_index": 10**12}, r"clip.json, data\[1\]: frame_index values span"),  # was a 247 TiB allocation
        ({"skeleton": {"pose": [1]}}, r"clip.json, data\[1\]: expected 'skeleton' to be a list"),  # AttributeError
        ({"skeleton": ["x"]}, r"clip.json, data\[1\]: expected 'skeleton' to be a list"),  # AttributeError
    ],
)
def test_kinetics_style_json_regressions(tmp_path: Path, change: dict, match: str) -> None:
    path = _kinetics_style(tmp_path, **change)
    with memory_cap(), pytest.raises(DataError, match=match):
        keypoints.read_keypoints(path, layout="openpose18")
    with memory_cap(), pytest.raises(DataError, match=r"clip.json, data\[1\]"):
        kinetics.read_kinetics_json(path)


def test_values_beyond_float32_range(tmp_path: Path) -> None:
    """1e308 is a finite float64 but inf as float32: scores became inf (npy), poses inf (Kinetics float32)."""
    array = np.random.default_rng(5).uniform(0.1, 1, (3, 17, 3))
    array[1, 4, 2], array[2, 5, 0] = 1e308, 1e308
    np.save(tmp_path / "k.npy", array)
    kp = keypoints.read_keypoints(tmp_path / "k.npy", layout="coco17")
    assert kp.scores[0, 1, 4] == 0 and np.isnan(kp.points[0, 1, 4]).all()  # overflowing score: missing joint
    assert kp.scores[0, 2, 5] == 0 and np.isnan(kp.points[0, 2, 5]).all()
    assert np.isfinite(kp.scores).all() and np.isfinite(kp.points[kp.scores > 0]).all()
    video = kinetics_video([[(0.1, 0.9)], [(1e308, 0.8)]])
    (tmp_path / "v.json").write_text(json.dumps(video))
    with pytest.raises(DataError, match=r"v.json, data\[1\] \(frame_index 1\), skeleton 0: .*float32"):
        kinetics.read_kinetics_json(tmp_path / "v.json")


def test_corrupt_npz_member_is_a_data_error(tmp_path: Path) -> None:
    """A zip whose member offset points past the end raised a bare OSError / BadZipFile from ``loaded[key]``."""
    data = bytearray(npy_bytes(np.zeros(0), npz=True, keypoints=np.zeros((2, 17, 3))))
    central = data.rfind(b"PK\x01\x02")
    data[central + 42 : central + 46] = (10**9).to_bytes(4, "little")  # local header offset of the member
    (tmp_path / "k.npz").write_bytes(bytes(data))
    with pytest.raises(DataError, match="k.npz"):
        keypoints.read_keypoints(tmp_path / "k.npz")


def test_bvh_overflowing_positions(shared_data: Path, tmp_path: Path) -> None:
    """Finite but huge offset + translation (1e308 each) gave inf positions; now a DataError naming the frame."""
    head, frames = (shared_data / "cmu-mocap-raw/01_01.bvh").read_text().split("MOTION", 1)
    lines = frames.strip().splitlines()
    values = lines[2].split()
    values[0] = "1e308"
    head = head.replace("OFFSET 1.36306 -1.79463 0.83929", "OFFSET 1e308 -1.79463 0.83929")
    (tmp_path / "big.bvh").write_text(f"{head}MOTION\nFrames: 1\n{lines[1]}\n{' '.join(values)}\n")
    with pytest.raises(DataError, match=r"big.bvh, line \d+ \(frame 0\): joint positions overflow"):
        bvh.read_bvh(tmp_path / "big.bvh")
