"""NTU RGB+D .skeleton reader and the 2s-AGCN preparation, on files written in the exact Kinect v2 format."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from skeletal.data import ntu
from skeletal.errors import DataError


def body_line(body_id: int) -> str:
    return f"{body_id} 0 1 1 1 1 0 0.02764709 0.05745083 2"


def joint_line(xyz: np.ndarray) -> str:
    x, y, z = xyz
    return f"{x:.7g} {y:.7g} {z:.7g} 277.1834 191.0439 1036.69 478.3439 0.2059734 0.0100232 0.9780943 -0.02622822 2"


def write_skeleton(path: Path, frames: list[list[np.ndarray]], newline: str = "\r\n", joints: int = 25) -> Path:
    """Write ``frames[t] = [body (25, 3) xyz, ...]`` as an NTU .skeleton file (CRLF, like the released files)."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for b, xyz in enumerate(bodies):
            lines += [body_line(72057594037931101 + b), str(joints)]
            lines += [joint_line(xyz[j]) for j in range(joints)]
    path.write_bytes((newline.join(lines) + newline).encode())
    return path


def person(rng: np.random.Generator, frames: int, scale: float = 0.05, offset: float = 0.0) -> np.ndarray:
    base = rng.normal(size=(25, 3)) * 0.3 + np.array([offset, 0.0, 3.0])
    return base + rng.normal(size=(frames, 25, 3)) * scale


def test_read_exact_fields(tmp_path: Path, rng: np.random.Generator) -> None:
    walk = person(rng, 3)
    path = write_skeleton(tmp_path / "S001C002P003R002A013.skeleton", [[walk[0]], [], [walk[2], walk[2] + 1]])
    skeleton = ntu.read_ntu_skeleton(path)
    assert skeleton.num_frames == 3 and [len(f) for f in skeleton.frames] == [1, 0, 2]
    body = skeleton.frames[2][1]
    assert body.body_id == "72057594037931102"  # 64-bit ids kept exactly
    np.testing.assert_allclose(body.info, [0, 1, 1, 1, 1, 0, 0.02764709, 0.05745083, 2])
    assert body.joints.shape == (25, 12) and body.joints[0, 11] == 2
    np.testing.assert_allclose(body.joints[:, :3], walk[2] + 1, rtol=1e-6)
    xyz = ntu.skeleton_xyz(skeleton)
    assert xyz.shape == (4, 3, 25, 3) and not xyz[:, 1].any() and not xyz[2:].any()
    sample = ntu.parse_sample_name(path.name)
    assert (sample.setup, sample.camera, sample.performer, sample.replication, sample.label) == (1, 2, 3, 2, 12)


def test_body_selection_by_motion_energy() -> None:
    data = np.zeros((4, 5, 25, 3))
    data[0] = 1.0  # still: energy 0
    data[1, :, :, 0] = np.arange(5)[:, None]  # moves along x
    data[2, :, :, 1] = 2 * np.arange(5)[:, None]  # moves twice as much
    chosen = ntu.select_bodies(data)
    np.testing.assert_array_equal(chosen, data[[2, 1]])
    assert ntu.motion_energy(data[1]) == pytest.approx(np.arange(1, 5).std())  # frame 0 is empty: not counted
    tie = np.zeros((4, 2, 25, 3))
    tie[0, 1], tie[1, 1] = 1.0, 2.0  # equal (zero-std over non-zero frames) energies: the later slot first
    np.testing.assert_array_equal(ntu.select_bodies(tie)[0], tie[3])


def test_null_frames_padding_and_compaction() -> None:
    data = np.zeros((1, 2, 7, 25, 3))
    frame_a, frame_b = np.full((25, 3), 1.0), np.full((25, 3), 2.0)
    data[0, 0, 1], data[0, 0, 3] = frame_a, frame_b  # leading and interior gaps, then trailing zeros
    ntu.pre_normalization(data, x_axis=(8, 4))
    # compacted to [a, b] then repeated: a b a b a b a; centred on joint 1 of body 0 -> all zero but the masks
    body = data[0, 0]
    assert body.shape == (7, 25, 3)
    raw = np.zeros((1, 2, 7, 25, 3))
    raw[0, 0, :2] = frame_a, frame_b
    expected = ntu.pre_normalization(raw.copy())
    np.testing.assert_allclose(body, expected[0, 0])


def test_pre_normalization_geometry(rng: np.random.Generator) -> None:
    data = np.zeros((1, 2, 10, 25, 3))
    data[0, 0, :6] = person(rng, 6)
    data[0, 1, :4] = person(rng, 4, offset=1.0)
    original = data.copy()
    ntu.pre_normalization(data)
    first = data[0, 0]
    np.testing.assert_allclose(first[:, 1], 0.0, atol=1e-12)  # body 0 centred on its spine joint, every frame
    shoulders = first[0, 8] - first[0, 4]
    np.testing.assert_allclose(shoulders[1:], 0.0, atol=1e-9)  # right - left shoulder along +x
    assert shoulders[0] > 0
    np.testing.assert_allclose(first[6:], first[:4])  # trailing frames repeat the first ones
    # a rigid motion: distances inside each frame are kept
    d0 = np.linalg.norm(original[0, 0, 2, 3] - original[0, 0, 2, 7])
    assert np.linalg.norm(first[2, 3] - first[2, 7]) == pytest.approx(d0)
    # the second body is expressed in the first body's frame: same rotation, same per-frame centre
    d1 = original[0, 1, 2, 5] - original[0, 0, 2, 1]
    assert np.linalg.norm(data[0, 1, 2, 5]) == pytest.approx(np.linalg.norm(d1))


def test_hip_spine_bone_along_z_before_shoulder_alignment(rng: np.random.Generator) -> None:
    data = np.zeros((1, 2, 3, 25, 3))
    data[0, 0] = person(rng, 3)
    ntu.pre_normalization(data, x_axis=(1, 1))  # a zero x vector: the second rotation is the identity
    spine = data[0, 0, 0, 1] - data[0, 0, 0, 0]
    np.testing.assert_allclose(spine[:2], 0.0, atol=1e-9)
    assert spine[2] > 0


def test_splits() -> None:
    sample = ntu.parse_sample_name("S018C001P045R001A100")
    assert ntu.is_training(sample, "ntu120-xsub") and ntu.is_training(sample, "ntu120-xset")
    assert not ntu.is_training(ntu.parse_sample_name("S001C001P003R001A001"), "ntu60-xsub")
    assert ntu.is_training(ntu.parse_sample_name("S001C003P003R001A001"), "ntu60-xview")
    assert not ntu.is_training(ntu.parse_sample_name("S001C001P001R001A001"), "ntu60-xview")
    assert len(ntu.XSUB60_TRAIN) == 20 and len(ntu.XSUB120_TRAIN) == 53
    assert len(ntu.missing_skeleton_samples("ntu60")) == 302
    missing120 = ntu.missing_skeleton_samples("ntu120")
    assert len(missing120) == 535 and ntu.missing_skeleton_samples("ntu60") <= missing120


def test_prepare_ntu(tmp_path: Path, rng: np.random.Generator) -> None:
    src = tmp_path / "skeletons"
    src.mkdir()
    names = {
        "S001C001P001R001A001": 12,  # train (performer 1)
        "S001C002P003R001A002": 20,  # val
        "S002C001P002R002A060": 9,  # train
    }
    for name, frames in names.items():
        walk = person(rng, frames)
        write_skeleton(src / f"{name}.skeleton", [[walk[t]] if t % 4 else [walk[t], walk[t] * 0.5] for t in
                                                  range(frames)])  # fmt: skip
    write_skeleton(src / "S001C002P005R002A008.skeleton", [[person(rng, 1)[0]]])  # on the official missing list
    (src / "S003C001P001R001A003.skeleton").write_text("5\r\n1\r\n")  # truncated
    (src / "S017C001P001R001A001.skeleton").write_text("")  # empty
    (src / "notes.skeleton").write_text("1\n0\n")  # not an NTU name
    result = ntu.prepare_ntu(src, tmp_path / "out", "ntu60-xsub", chunk=2)
    reasons = {s["sample"]: s["reason"] for s in result["skipped"]}
    assert set(reasons) == {"S001C002P005R002A008", "S003C001P001R001A003", "S017C001P001R001A001", "notes.skeleton"}
    assert "missing skeletons" in reasons["S001C002P005R002A008"] and "line 3" in reasons["S003C001P001R001A003"]
    train = np.load(tmp_path / "out" / "train_data.npy", mmap_mode="r")
    assert train.shape == (2, 2, 300, 25, 3) and train.dtype == np.float32
    labels = json.loads((tmp_path / "out" / "train_label.json").read_text())
    assert labels == {"sample_names": ["S001C001P001R001A001", "S002C001P002R002A060"], "labels": [0, 59]}
    expected = ntu.pre_normalization(ntu.sample_array(src / "S002C001P002R002A060.skeleton")[None])[0]
    np.testing.assert_allclose(train[1], expected, atol=1e-6)
    fingerprint = json.loads((tmp_path / "out" / "fingerprint.json").read_text())
    label_hash = hashlib.sha256((tmp_path / "out" / "val_label.json").read_bytes()).hexdigest()
    assert fingerprint["parts"]["val"]["label_sha256"] == label_hash
    assert fingerprint["parts"]["val"]["shape"] == [1, 2, 300, 25, 3] and fingerprint["num_skipped"] == 4
    assert len(json.loads((tmp_path / "out" / "skipped.json").read_text())) == 4


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", "line 1"),
        ("2\r\n1\r\n" + body_line(1) + "\r\n25\r\n" + "0 0 0\r\n", "line 6, frame 0, body 0, joint 1"),
        (
            "1\r\n1\r\n" + body_line(1) + "\r\n25\r\n" + (joint_line(np.zeros(3)) + "\r\n") * 3,
            "line 8, frame 0, body 0, joint 3",
        ),  # truncated inside the joints  # fmt: skip
        ("1\r\n1\r\n1 2 3\r\n", "line 3, frame 0, body 0"),
        ("1\r\nx\r\n", "line 2, frame 0"),
        (
            "1\r\n1\r\n" + body_line(1) + "\r\n1\r\n" + joint_line(np.zeros(3)).replace("277.1834", "abc") + "\r\n",
            "lines 5-5, frame 0, body 0",
        ),
        (
            "1\r\n1\r\n" + body_line(1) + "\r\n1\r\n" + joint_line(np.array([np.nan, 0, 0])) + "\r\n",
            "lines 5-5, frame 0, body 0",
        ),
        ("1\r\n0\r\n0\r\n", "line 3"),  # more content than announced
    ],
)
def test_read_failures(tmp_path: Path, text: str, position: str) -> None:
    path = tmp_path / "S001C001P001R001A001.skeleton"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        ntu.read_ntu_skeleton(path)
    assert info.value.path == str(path) and info.value.position == position and str(path) in str(info.value)


def test_wrong_joint_count(tmp_path: Path, rng: np.random.Generator) -> None:
    path = write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", [[person(rng, 1)[0]]], joints=20)
    with pytest.raises(DataError, match="expected 25 joints, found 20") as info:
        ntu.sample_array(path)
    assert info.value.position == "frame 0, body 0"


def test_lf_newlines_and_too_long(tmp_path: Path, rng: np.random.Generator) -> None:
    walk = person(rng, 4)
    path = write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", [[w] for w in walk], newline="\n")
    assert ntu.sample_array(path, max_frames=4).shape == (2, 4, 25, 3)
    with pytest.raises(DataError, match="more than the 3"):
        ntu.sample_array(path, max_frames=3)
