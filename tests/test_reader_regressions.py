"""Regression tests of issue 18: every input that made a reader raise something other than DataError, hang,
allocate gigabytes or misread silently now gives a DataError naming the file and the place (or reads right)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_data_readers_keypoints import kinetics_video, openpose_frame
from test_data_readers_mocap import ASF, _bvh
from test_data_readers_ntu import person, write_skeleton
from test_fuzz_readers import memory_cap

from skeletal.data import _safe, amass, asf_amc, bvh, h36m, humaneva, keypoints, kinetics, ntu
from skeletal.errors import ConfigError, DataError

AMC = ":FULLY-SPECIFIED\n:DEGREES\n1\nroot 0 0 0 0 0 0\nfemur 10 20\n2\nroot 0 0 0 0 0 0\nfemur 0 0\n"


# ------------------------------------------------------------------------------------------------- JSON
@pytest.mark.parametrize("reader", ["keypoints", "kinetics", "openpose"])
def test_deeply_nested_json(tmp_path: Path, reader: str) -> None:
    """``[`` 100,000 deep raised RecursionError in the COCO/Kinetics, Kinetics and OpenPose readers."""
    text = "[" * 100_000 + "]" * 100_000
    if reader == "openpose":
        (tmp_path / "clip_000000000000_keypoints.json").write_text(text)
        with pytest.raises(DataError, match="clip_000000000000_keypoints.json: JSON nested too deeply"):
            keypoints.read_keypoints(tmp_path)
        return
    (tmp_path / "deep.json").write_text('{"data": ' + text + "}")
    read = keypoints.read_keypoints if reader == "keypoints" else kinetics.read_kinetics_json
    with pytest.raises(DataError, match="deep.json: JSON nested too deeply"):
        read(tmp_path / "deep.json")


@pytest.mark.parametrize(
    ("text", "members", "elements"),
    [
        ('{"data": [1, {"a": [2]}, "x"], "label": "walk", "n": 5}', {"label": "walk", "n": 5}, [1, {"a": [2]}, "x"]),
        (' {\n "a" : 1 ,\t"data" : [ 1 ] }\n', {"a": 1}, [1]),
        ('{"data": []}', {}, []),
        ("{}", {}, []),
        ('{"data": 5}', {"data": 5}, []),  # not a list: left to the caller, as json.loads would give it
        ('{"data": [NaN, 123456789012345678901234]}', {}, [float("nan"), 1.2345678901234568e23]),
    ],
)
def test_scan_json_object_equals_json_loads(text: str, members: dict, elements: list) -> None:
    """The frame-by-frame decoder gives what ``json.loads`` gives (bounded integers as floats)."""
    seen: list = []
    assert _safe.scan_json_object(text, "f.json", "data", lambda n, value: seen.append((n, value))) == members
    assert [n for n, _ in seen] == list(range(len(elements)))
    np.testing.assert_equal([value for _, value in seen], elements)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"data": [1,]}', "line 1: invalid JSON: Expecting value"),
        ('{"data": [1 2]}', "Expecting ',' delimiter"),
        ('{"data": [1]', "Expecting ',' delimiter"),
        ('{"data": [1]}\n x', "line 2: invalid JSON: Extra data"),
        ('{"a": 1,}', "Expecting property name"),
        ('{"data": [1], "data": [2]}', "key 'data' repeats"),
        ('{"data": [' + "[" * 100_000 + "]" * 100_000 + "]}", "JSON nested too deeply"),
    ],
)
def test_scan_json_object_errors(text: str, match: str) -> None:
    with pytest.raises(DataError, match=f"f.json.*{match}"):
        _safe.scan_json_object(text, "f.json", "data", lambda n, value: None)
    assert _safe.scan_json_object("[1, 2]", "f.json", "data", lambda n, value: None) is None  # not an object


def test_kinetics_style_json_is_read_frame_by_frame(tmp_path: Path, rng: np.random.Generator) -> None:
    """A long Kinetics-style file is decoded one frame at a time into float32 arrays: the same keypoints as the
    whole-file parse (gaps, two people, extra members kept in ``meta``), a fraction of its memory."""
    frames = []
    for t in range(3000):
        people = [{"pose": rng.uniform(0, 640, 34).round(2).tolist(),
                   "score": rng.uniform(0.1, 1, 17).round(3).tolist()} for _ in range(1 + t % 2)]  # fmt: skip
        frames.append({"frame_index": 10 + t + (t > 100), "skeleton": people})  # a missing frame after 100
    (tmp_path / "long.json").write_text(json.dumps({"label": "walk", "data": frames, "label_index": 3}))
    read = keypoints.read_keypoints(tmp_path / "long.json")
    assert read.points.shape == (2, 3001, 17, 2) and read.points.dtype == np.float32
    assert read.meta == {"label": "walk", "label_index": 3, "first_frame_index": 10}
    assert np.isnan(read.points[:, 101]).all() and np.isnan(read.points[1, 0]).all()
    for t in (0, 1, 100, 102, 2999):
        for m, entry in enumerate(frames[t]["skeleton"]):
            slot = t + (t > 100)
            np.testing.assert_array_equal(read.points[m, slot], np.float32(entry["pose"]).reshape(17, 2))
            np.testing.assert_array_equal(read.scores[m, slot], np.float32(entry["score"]))


def test_nested_pose_values(tmp_path: Path) -> None:
    video = kinetics_video([[(0.1, 0.9)]])
    video["data"][0]["skeleton"][0]["pose"] = [[1.0, [2.0]]] * 18  # ragged nesting
    (tmp_path / "v.json").write_text(json.dumps(video))
    with pytest.raises(DataError, match=r"v.json, data\[0\] \(frame_index 0\), skeleton 0: pose"):
        kinetics.read_kinetics_json(tmp_path / "v.json")


def test_huge_json_integers(tmp_path: Path) -> None:
    """A 5,000-digit integer hit Python's int-string limit (ValueError); a score of 10**400 overflowed float."""
    video = kinetics_video([[(0.1, 0.9)], [(0.2, 0.8)]])
    text = json.dumps(video).replace('"frame_index": 1', '"frame_index": ' + "9" * 5000)
    (tmp_path / "big.json").write_text(text)
    with pytest.raises(DataError, match=r"big.json, data\[1\]: expected an integer 'frame_index'"):
        kinetics.read_kinetics_json(tmp_path / "big.json")
    with pytest.raises(DataError, match=r"big.json, data\[1\]: expected an integer 'frame_index'"):
        keypoints.read_keypoints(tmp_path / "big.json", layout="openpose18")
    text = json.dumps(video).replace("0.8", "1" + "0" * 400, 1)
    (tmp_path / "score.json").write_text(text)
    with pytest.raises(DataError, match=r"score.json, data\[1\] \(frame_index 1\), skeleton 0: .*float32"):
        kinetics.read_kinetics_json(tmp_path / "score.json")
    kp = keypoints.read_keypoints(tmp_path / "score.json", layout="openpose18")  # inf score: missing joints
    assert np.isfinite(kp.scores).all() and kp.scores[0, 1, 0] == 0 and kp.scores[0, 1, 1] > 0


@pytest.mark.parametrize("reader", [kinetics.read_kinetics_json, keypoints.read_keypoints])
def test_frame_index_true_and_repeated(tmp_path: Path, reader) -> None:
    video = kinetics_video([[(0.1, 0.9)], [(0.2, 0.8)], [(0.3, 0.7)]])
    video["data"][1]["frame_index"] = True
    (tmp_path / "v.json").write_text(json.dumps(video))
    with pytest.raises(DataError, match=r"v.json, data\[1\]: expected an integer 'frame_index', found True"):
        reader(tmp_path / "v.json")
    video["data"][1]["frame_index"] = 2  # silently dropped one of the two frames
    (tmp_path / "v.json").write_text(json.dumps(video))
    with pytest.raises(DataError, match=r"v.json, data\[2\]: frame_index 2 repeats data\[1\]"):
        reader(tmp_path / "v.json")


def test_many_people_are_bounded_before_allocation(tmp_path: Path) -> None:
    """A small JSON (one frame of 20,000 people among 1,000 frames) asked for 5.57 GiB (the people are valid: the
    frames are decoded one by one, so each pose is checked as it is read)."""
    people = [{"pose": [1] * 34, "score": [1] * 17}] * 20_000
    data = [{"frame_index": t, "skeleton": []} for t in range(1000)]
    data[0]["skeleton"] = [{"pose": [0.5] * 34, "score": [1.0] * 17}, *people]
    (tmp_path / "crowd.json").write_text(json.dumps({"data": data}))
    with memory_cap(), pytest.raises(DataError, match=r"crowd.json: 20001 people x 1000 frames would need .* GiB"):
        keypoints.read_keypoints(tmp_path / "crowd.json")


def test_openpose_missing_frame_file_is_a_missing_frame(tmp_path: Path, rng: np.random.Generator) -> None:
    """A folder lacking one frame file shifted every later frame one frame early."""
    people = [[np.concatenate([rng.uniform(0, 500, (18, 2)), np.full((18, 1), 0.9)], axis=1)] for _ in range(4)]
    for t in (0, 1, 3):
        (tmp_path / f"clip_{t:012d}_keypoints.json").write_text(json.dumps(openpose_frame(people[t])))
    kp = keypoints.read_keypoints(tmp_path)
    assert kp.points.shape[1] == 4 and kp.meta["missing_frames"] == [2]
    assert np.isnan(kp.points[0, 2]).all() and (kp.scores[0, 2] == 0).all()
    np.testing.assert_allclose(kp.points[0, 3], people[3][0][:, :2], rtol=1e-6)


# -------------------------------------------------------------------------------------------- ASF / AMC
@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("name tibia", "name", r"line 22: expected 1 value after 'name'"),  # IndexError
        ("axis 0 0 90 XYZ", "axis 0 0 90 XYQ", r"line 17: axis order must name X, Y and Z once each, found 'XYQ'"),
        ("axis 0 0 90 XYZ", "axis 0 0 90 XXY", r"line 17: axis order must name X, Y and Z once each, found 'XXY'"),
        ("axis 0 0 90 XYZ", "axis 0 0 90 XYZ extra", r"line 17: expected 'axis ax ay az \[ORDER\]', found 5"),
        ("   axis XYZ\n", "   axis RQ\n", r"line 8: axis order must name X, Y and Z once each, found 'RQ'"),
        ("order TX TY TZ RX RY RZ", "order TX RQ", r"line 7: root order must list distinct channels"),
        ("femur tibia\n", "femur tibia\n    knee tibia\n", r"line 31: hierarchy names bone 'knee', which is not in"),
        ("length 0.45", "length 0", r"line 4: length unit must be positive"),  # ZeroDivisionError
        ("length 0.45", "length 1e-320", r"line 4: length unit must be positive"),
        (
            "    root femur\n    femur tibia\n",
            "    root femur\n    femur tibia\n    tibia femur\n",
            r"line 31: bone 'femur' has two parents",
        ),  # fmt: skip  (a cycle from the root hung)
        (
            "    root femur\n    femur tibia\n",
            "    root\n    femur tibia\n    tibia femur\n",
            r"hierarchy and bonedata disagree: bones \['femur', 'tibia'\] do not hang from the root",
        ),  # fmt: skip
        ("dof rx rz", "dof rx rx", r"line 18: dof lists an axis twice"),
    ],
)
def test_asf_regressions(tmp_path: Path, old: str, new: str, match: str) -> None:
    assert old in ASF
    (tmp_path / "s.asf").write_text(ASF.replace(old, new, 1))
    (tmp_path / "s.amc").write_text(AMC)
    with pytest.raises(DataError, match=r"s.asf(, |: )" + match):
        asf_amc.read_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc")


def test_asf_repeated_file(tmp_path: Path) -> None:
    """The file repeated 4x grew the process by 617 MB before a ConfigError."""
    (tmp_path / "s.asf").write_text(ASF * 4)
    (tmp_path / "s.amc").write_text(AMC)
    with memory_cap(), pytest.raises(DataError, match=r"s.asf, line 50: bone 'femur' is defined twice"):
        asf_amc.read_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc")


def test_amc_unicode_digit_frame_number(tmp_path: Path) -> None:
    (tmp_path / "s.asf").write_text(ASF)
    (tmp_path / "s.amc").write_text(AMC.replace("\n2\n", "\n³\n"))
    with pytest.raises(DataError, match=r"s.amc, line 6: unknown segment '³'"):
        asf_amc.read_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc")


def test_amc_overflowing_angles(tmp_path: Path) -> None:
    (tmp_path / "s.asf").write_text(ASF.replace("length 0.45", "length 1e-300"))  # 2.5e298 m per unit
    (tmp_path / "s.amc").write_text(AMC.replace("root 0 0 0", "root 1e10 0 0", 1))
    with pytest.raises(DataError, match=r"s.amc, frame 0: joint positions or rotations overflow"):
        asf_amc.read_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc")


# ----------------------------------------------------------------------------------------------- BVH / NTU
def test_bvh_deep_nesting(tmp_path: Path) -> None:
    """1,500 nested JOINTs raised RecursionError."""
    joint = " JOINT j\n {\n  OFFSET 0 1 0\n  CHANNELS 3 Zrotation Yrotation Xrotation\n"
    text = "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Zrotation Yrotation Xrotation\n"
    text += joint * 1500 + " }\n" * 1500 + "}\nMOTION\nFrames: 1\nFrame Time: 0.04\n" + "0 " * 4503 + "\n"
    (tmp_path / "deep.bvh").write_text(text)
    with pytest.raises(DataError, match=r"deep.bvh, line \d+: joints nested more than 256 deep"):
        bvh.read_bvh(tmp_path / "deep.bvh")


@pytest.mark.parametrize("frame_time", ["inf", "1e-320", "nan", "0"])
def test_bvh_frame_time(tmp_path: Path, frame_time: str) -> None:
    """``Frame Time: inf`` gave fps 0, ``1e-320`` an OverflowError."""
    text = _bvh(["0 0 0 0 0 0 0 0 0"]).replace("Frame Time: 0.04", f"Frame Time: {frame_time}")
    (tmp_path / "t.bvh").write_text(text)
    with pytest.raises(DataError, match=r"t.bvh, line \d+: (expected a positive|bad frame count)"):
        bvh.read_bvh(tmp_path / "t.bvh")


def test_unicode_digit_counts(tmp_path: Path, rng: np.random.Generator) -> None:
    """``³`` passes ``str.isdigit`` but not ``int``: ValueError in the NTU, BVH and AMC counts."""
    (tmp_path / "t.bvh").write_text(_bvh(["0 0 0 0 0 0 0 0 0"]).replace("CHANNELS 3", "CHANNELS ³"))
    with pytest.raises(DataError, match=r"t.bvh, line 9: expected a non-negative integer \(channel count\)"):
        bvh.read_bvh(tmp_path / "t.bvh")
    (tmp_path / "f.bvh").write_text(_bvh(["0 0 0 0 0 0 0 0 0"], count="³"))  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"f.bvh, line \d+: bad frame count"):
        bvh.read_bvh(tmp_path / "f.bvh")
    path = write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", [[person(rng, 1)[0]]])
    path.write_bytes(path.read_bytes().replace(b"\r\n25\r\n", "\r\n2³\r\n".encode(), 1))
    with pytest.raises(DataError, match=r"S001C001P001R001A001.skeleton, line 4"):
        ntu.read_ntu_skeleton(path)


# ------------------------------------------------------------------------------------------ numpy formats
def test_npy_header_with_bool_shape(tmp_path: Path) -> None:
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (True, 17, 3), }"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    path = tmp_path / "b.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(17 * 3 * 8))
    with pytest.raises(DataError, match=r"b.npy, header: header announces an invalid shape \(True, 17, 3\)"):
        keypoints.read_keypoints(path)


@pytest.mark.parametrize(
    ("version", "match"),
    [
        (b"\x22\x00", r"unknown .npy format version 34.0"),  # numpy read the next 4 bytes as a 2 GiB header length
        (b"\x01\xf1", r"unknown .npy format version 1.241"),
        (
            b"\x02\x00",
            r"not a readable numpy file: header announces \d+ bytes but the file holds",
        ),  # a 1.0 header read as 2.0: 4-byte length
    ],
)
def test_npy_header_length_is_bounded_before_reading(tmp_path: Path, version: bytes, match: str) -> None:
    """Fuzz benchmark: a flipped version byte made numpy allocate a 632 MiB header buffer for a 700-byte file."""
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (4, 17, 3), }"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    path = tmp_path / "v.npy"
    path.write_bytes(b"\x93NUMPY" + version + len(header).to_bytes(2, "little") + header + bytes(4 * 17 * 3 * 8))
    with memory_cap(256 << 20), pytest.raises(DataError, match=r"v.npy, header: " + match):
        keypoints.read_keypoints(path)


def _npz_with(path: Path, compression: int, data: bytes | None = None, encrypted: bool = False) -> Path:
    np.savez(path, keypoints=np.zeros((2, 17, 3)))
    member = zipfile.ZipFile(path).read("keypoints.npy")
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr("keypoints.npy", member)
    raw = bytearray(path.read_bytes())
    if encrypted:  # the encryption flag in the local header and the central directory
        raw[6] |= 1
        central = raw.rfind(b"PK\x01\x02")
        raw[central + 8] |= 1
    if data is not None:
        start = 30 + len("keypoints.npy")
        raw[start + 4 : start + 4 + len(data)] = data
    path.write_bytes(bytes(raw))
    return path


def test_encrypted_and_corrupt_lzma_members(tmp_path: Path) -> None:
    path = _npz_with(tmp_path / "enc.npz", zipfile.ZIP_DEFLATED, encrypted=True)
    with pytest.raises(DataError, match=r"enc.npz, key 'keypoints': member is encrypted"):
        keypoints.read_keypoints(path)
    path = _npz_with(tmp_path / "lzma.npz", zipfile.ZIP_LZMA, data=b"\xff" * 40)
    with pytest.raises(DataError, match=r"lzma.npz: not a readable numpy file"):
        keypoints.read_keypoints(path)


def test_npz_member_size_is_bounded_before_inflating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deflate bomb (1 GiB of zeros in a few MB) was still inflating after 10 s; its size is in the header."""
    path = tmp_path / "bomb.npz"
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 156), }"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("poses.npy", "w", force_zip64=True) as stream,
    ):
        stream.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
        for _ in range(1000):
            stream.write(bytes(1_248_000))
    assert path.stat().st_size < 5_000_000
    with memory_cap(), pytest.raises(DataError, match=r"bomb.npz, key 'poses': member is 1248000128 bytes"):
        amass.read_amass_npz(path)
    monkeypatch.setattr(_safe, "MAX_MEMBER_BYTES", 1000)
    np.savez(tmp_path / "k.npz", keypoints=np.zeros((4, 17, 3)))
    with pytest.raises(DataError, match=r"k.npz, key 'keypoints': member is \d+ bytes uncompressed"):
        keypoints.read_keypoints(tmp_path / "k.npz")
    with pytest.raises(DataError, match=r"h.npz, key 'positions_3d': member is \d+ bytes uncompressed"):
        np.savez(tmp_path / "h.npz", positions_3d=np.array({"S1": {"x" * 2000: None}}, dtype=object))
        h36m.load_h36m_3d(tmp_path / "h.npz")


def _amass(path: Path, **change: object) -> Path:
    fields = {"poses": np.zeros((4, 156)), "trans": np.zeros((4, 3)), "mocap_framerate": np.array(120.0),
              "betas": np.zeros(16), "gender": np.array("male")}  # fmt: skip
    fields.update(change)
    np.savez(path, **fields)
    return path


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"mocap_framerate": np.array([120.0, 60.0])}, r"key 'mocap_framerate': expected one number, got shape"),
        ({"poses": np.array([["a"] * 156] * 4)}, r"key 'poses': expected numbers, got dtype <U1"),
        ({"poses": np.zeros((0, 156)), "trans": np.zeros((0, 3))}, r"key 'poses': no frames"),
        ({"poses": np.full((4, 156), 1e200)}, r"key 'poses': a value beyond 1e\+06"),  # gave NaN rotations
        ({"mocap_framerate": np.array(np.inf)}, r"key 'mocap_framerate': mocap_framerate must be positive"),
    ],
)
def test_amass_regressions(tmp_path: Path, change: dict, match: str) -> None:
    with pytest.raises(DataError, match=r"take.npz, " + match):
        amass.read_amass_npz(_amass(tmp_path / "take.npz", **change))


@pytest.mark.parametrize("gender", [np.array(b"female"), np.array("female"), np.array(["female"])])
def test_amass_gender_as_plain_string(tmp_path: Path, gender: np.ndarray) -> None:
    """Issue 13 item 14: a gender stored as bytes read as ``"b'female'"``."""
    assert amass.read_amass_npz(_amass(tmp_path / "take.npz", gender=gender)).meta["gender"] == "female"


def _pickled(path: Path, **arrays: object) -> Path:
    np.savez(path, **{k: np.array(v, dtype=object) for k, v in arrays.items()})
    return path


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"positions_3d": {"S1": [1, 2]}}, r"key 'positions_3d', subject 'S1': expected a dict"),  # AttributeError
        ({"positions_3d": {1: {}}}, r"key 'positions_3d', subject 1: expected a dict"),
        ({"positions_3d": {"S1": {"Walk": np.zeros((0, 15, 3))}}}, r"subject 'S1', action 'Walk': an empty"),
        ({"positions_3d": {"S1": {"Walk": np.array([["x"] * 3] * 15)[None]}}}, r"action 'Walk': expected a numeric"),
        ({"positions_3d": {"S1": {"Walk": np.full((2, 15, 3), 1e300)}}}, r"action 'Walk': NaN or inf"),
    ],
)
def test_videopose3d_dicts_are_validated_3d(tmp_path: Path, arrays: dict, match: str) -> None:
    with pytest.raises(DataError, match=r"v.npz, .*" + match):
        humaneva.load_humaneva_3d(_pickled(tmp_path / "v.npz", **arrays))


META = {"layout_name": "humaneva15", "num_joints": 15, "keypoints_symmetry": [[2, 3], [5, 6]]}


@pytest.mark.parametrize(
    ("positions", "metadata", "match"),
    [
        ({"S1": [1, 2]}, META, r"key 'positions_2d', subject 'S1': expected a dict"),
        ({"S1": {}}, {**META, "num_joints": float("nan")}, r"key 'metadata': num_joints must be an integer"),
        ({"S1": {}}, {**META, "keypoints_symmetry": [1, 2]}, r"key 'metadata': keypoints_symmetry \[1, 2\] does not"),
        ({"S1": {}}, {**META, "keypoints_symmetry": [[1], [99]]}, r"key 'metadata': keypoints_symmetry"),
        ({"S1": {"Walk": [np.zeros((3, 15, 2)), 5, None]}}, META, r"action 'Walk', camera 1: expected an array"),
    ],
)
def test_videopose3d_dicts_are_validated_2d(tmp_path: Path, positions: dict, metadata: dict, match: str) -> None:
    path = _pickled(tmp_path / "v.npz", positions_2d=positions, metadata=metadata)
    with pytest.raises(DataError, match=r"v.npz, .*" + match):
        humaneva.load_humaneva_2d(path)


@pytest.mark.parametrize("reader", [humaneva.load_humaneva_3d, h36m.load_h36m_3d, h36m.load_h36m_2d])
def test_videopose3d_member_that_is_not_npy(tmp_path: Path, reader) -> None:
    """Fuzz benchmark: np.load returns a member without the .npy magic as raw bytes (AttributeError: 'bytes'
    object has no attribute 'dtype')."""
    path = tmp_path / "v.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key in ("positions_3d", "positions_2d", "metadata"):
            archive.writestr(f"{key}.npy", b"not an npy member")
    with pytest.raises(DataError, match=r"v.npz, key '\w+': entry is not an .npy array"):
        reader(path)


@pytest.mark.parametrize("reader", [humaneva.load_humaneva_3d, h36m.load_h36m_3d, h36m.load_h36m_2d])
def test_videopose3d_pickle_announcing_gigabytes(tmp_path: Path, reader) -> None:
    """Fuzz benchmark: a corrupt length byte in the pickle made the unpickler allocate what it announced (2 GiB
    here) before reading it; the pickle is walked first, and the announced length refused."""
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (), }"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    pickled = b"\x80\x03B" + (2**31 - 1).to_bytes(4, "little") + b"x" * 16  # BINBYTES of 2 GiB, 16 bytes follow
    path = tmp_path / "v.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key in ("positions_3d", "positions_2d", "metadata"):
            archive.writestr(f"{key}.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + pickled)
    match = r"v.npz, key '\w+': corrupt pickled entry: .*expected 2147483647 bytes"
    with memory_cap(256 << 20), pytest.raises(DataError, match=match):
        reader(path)


def test_npy_header_with_a_bytes_key(tmp_path: Path) -> None:
    """Fuzz benchmark (AMASS case 9160): numpy sorted the keys of a header holding ``b'descr'`` (TypeError)."""
    header = b"{b'descr': '<f8', 'fortran_order': False, 'shape': (4, 17, 3), }"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    path = tmp_path / "k.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(4 * 17 * 3 * 8))
    with pytest.raises(DataError, match=r"k.npy, header: not a readable numpy header: TypeError"):
        keypoints.read_keypoints(path)


# -------------------------------------------------------------------------------------------- exp-map H3.6M
def test_expmap_value_beyond_float32(tmp_path: Path) -> None:
    """1e308 is finite in float64: the reader returned inf after its cast to float32."""
    (tmp_path / "walking_1.txt").write_text(",".join(["0.1"] * 98 + ["1e308"]) + "\n")
    with pytest.raises(DataError, match=r"walking_1.txt, line 1: NaN, inf or a value beyond float32 range"):
        h36m.read_expmap_txt(tmp_path / "walking_1.txt")


def test_protocols_on_too_short_takes() -> None:
    """Issue 13 item 14: numpy's ``ValueError: low >= high`` for a take too short for the test protocols."""
    data = {(5, "walking", 1): np.zeros((300, 99)), (5, "walking", 2): np.zeros((160, 99))}
    with pytest.raises(DataError, match=r"subject 5, action 'walking': sub-action 2 has 160 frames .* SRNN"):
        h36m.srnn_windows(data, "walking")
    with pytest.raises(DataError, match=r"subject 5, action 'walking': sub-action 2 has 160 frames .* 256-window"):
        h36m.windows_256(data, "walking")
    with pytest.raises(DataError, match="sub-action 1 has 20 frames"):
        h36m.srnn_seed_indices(20, 400)
    with pytest.raises(DataError, match="no sub-action 2 of action 'eating'"):
        h36m.srnn_windows({(5, "eating", 1): np.zeros((300, 99))}, "eating")
    data[(5, "walking", 2)] = np.zeros((167, 99))
    assert h36m.srnn_windows(data, "walking").shape == (8, 75, 99)
    assert h36m.windows_256(data, "walking").shape == (256, 75, 99)
    with pytest.raises(ConfigError, match="100 seed frames"):
        h36m.srnn_windows(data, "walking", seed_length=100)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    """Opening a FIFO blocks until a writer comes; the readers refuse anything but a regular file."""
    import os

    for name, read in (("t.bvh", bvh.read_bvh), ("t.txt", h36m.read_expmap_txt), ("t.json", keypoints.read_keypoints),
                       ("t.npz", amass.read_amass_npz), ("u.skeleton", ntu.read_ntu_skeleton)):  # fmt: skip
        os.mkfifo(tmp_path / name)
        with pytest.raises(DataError, match=name):
            read(tmp_path / name)
