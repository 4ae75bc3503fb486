"""BVH and ASF/AMC readers: the real CMU clip 01_01 in both formats, and malformed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletal.data.asf_amc import read_asf_amc
from skeletal.data.bvh import read_bvh
from skeletal.errors import DataError

ASF_TO_METRES = 0.0254 / 0.45  # CMU ASF "length 0.45": one unit is 1/0.45 inch
# Joints whose chain from the root has the same offsets in both files; the BVH export gives the thorax and the
# wrist->hand bones zero length (Neck, shoulders, finger bases sit at the bone start), the ASF does not.
SAME_CHAIN = 14


@pytest.fixture(scope="module")
def raw() -> Path:
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cmu-mocap-raw"
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent")
    return path


@pytest.fixture(scope="module")
def clip_01_01(raw: Path):
    return read_bvh(raw / "01_01.bvh", scale=ASF_TO_METRES, units="m"), read_asf_amc(raw / "01.asf", raw / "01_01.amc")


def test_bvh_real_file(clip_01_01) -> None:
    bvh, _ = clip_01_01
    assert bvh.num_frames == 2752 and bvh.fps == 120.0
    assert bvh.skeleton.num_joints == 31 and bvh.skeleton.name == "bvh:01_01"
    assert bvh.skeleton.joint_names[:3] == ("Hips", "LHipJoint", "LeftUpLeg")
    assert bvh.meta["channels"]["Hips"] == ("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation",
                                            "Xrotation")  # fmt: skip
    assert bvh.rotations.shape == (2752, 31, 3, 3) and bvh.positions.shape == (2752, 31, 3)
    np.testing.assert_allclose(bvh.root_positions[0], np.array([9.3722, 17.8693, -17.3198]) * ASF_TO_METRES)
    # a rigid skeleton: bone lengths are the offsets in every frame
    lengths = np.linalg.norm(bvh.positions[:, 3] - bvh.positions[:, 2], axis=-1)
    np.testing.assert_allclose(lengths, np.linalg.norm(bvh.skeleton.offsets[3]), rtol=1e-9)


def test_asf_amc_real_files(raw: Path, clip_01_01) -> None:
    _, amc = clip_01_01
    assert amc.num_frames == 2751 and amc.fps == 120.0 and amc.units == "m"
    assert amc.skeleton.num_joints == 31 and amc.meta["asf_units"]["length"] == 0.45
    kick = read_asf_amc(raw / "11.asf", raw / "11_01.amc")
    assert kick.num_frames == 597
    height = kick.positions[..., 1]
    assert height.min() > 0.0 and 1.4 < height.max() < 1.9  # metres: feet near the floor, head ~1.6 m
    assert kick.meta["end_sites"]["head"].shape == (597, 3)


def test_bvh_and_amc_of_01_01_are_the_same_motion(clip_01_01) -> None:
    bvh, amc = clip_01_01
    # The BVH has one more frame: its first is the exporter's rest pose (root unrotated, a few bones set to
    # their ASF axis tilt), the AMC has none; BVH frame k + 1 is AMC frame k.
    assert bvh.num_frames == amc.num_frames + 1
    np.testing.assert_allclose(bvh.rotations[0, 0], np.eye(3), atol=1e-12)
    assert not np.allclose(bvh.rotations[0], amc.rotations[0], atol=1e-3)
    assert bvh.skeleton.parents == amc.skeleton.parents  # same tree, joints in the same order
    np.testing.assert_allclose(bvh.rotations[1:], amc.rotations, atol=1e-5)  # BVH keeps 4 decimals
    np.testing.assert_allclose(bvh.root_positions[1:], amc.root_positions, atol=1e-5)
    error_mm = np.linalg.norm(bvh.positions[1:] - amc.positions, axis=-1) * 1000
    assert error_mm[:, :SAME_CHAIN].max() < 0.01  # measured 0.005 mm
    # the rest differ by exactly the thorax bone the BVH export dropped (0.1165 m)
    thorax = np.linalg.norm(amc.skeleton.offsets[amc.skeleton.index("lowerneck")]) * 1000
    np.testing.assert_allclose(error_mm[:, SAME_CHAIN], thorax, atol=0.1)


def _bvh(frames: list[str], count: int | None = None, channels: str = "Zrotation Yrotation Xrotation") -> str:
    head = (
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation"
        f" Yrotation\n JOINT Knee\n {{\n  OFFSET 0 -2 0\n  CHANNELS 3 {channels}\n  End Site\n  {{\n   OFFSET 0 -1 0\n"
        "  }\n }\n}\nMOTION\n"
    )
    return head + f"Frames: {len(frames) if count is None else count}\nFrame Time: 0.04\n" + "\n".join(frames) + "\n"


def test_bvh_euler_order_and_fk(tmp_path: Path) -> None:
    path = tmp_path / "tiny.bvh"
    path.write_text(_bvh(["1 2 3 90 0 0 0 0 0", "0 0 0 0 0 0 0 0 90"], channels="Xrotation Yrotation Zrotation"))
    motion = read_bvh(path)
    assert motion.fps == 25.0 and motion.meta["end_sites"] == {"Knee": (0.0, -1.0, 0.0)}
    np.testing.assert_allclose(motion.positions[0], [[1, 2, 3], [3, 2, 3]], atol=1e-12)  # Rz(90) (0,-2,0)
    np.testing.assert_allclose(motion.rotations[1, 1], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)


@pytest.mark.parametrize(
    ("text", "position"),
    [
        (_bvh(["0 0 0 0 0 0 0 0 0"], count=2), "line 19"),  # truncated: fewer frames than announced
        (_bvh(["0 0 0 0 0 0 0 0"]), "line 19 (frame 0)"),  # wrong channel count
        (_bvh(["0 0 0 0 0 0 x 0 0"]), "line 19 (frame 0)"),  # non-number
        (_bvh(["0 0 0 0 0 0 nan 0 0"]), "line 19 (frame 0)"),
        (_bvh([]).replace("OFFSET 0 -2 0", "OFFSET 0 two 0"), "line 8"),
        (_bvh([]).split("MOTION")[0], "line 15"),  # no MOTION section
    ],
)
def test_bvh_failures(tmp_path: Path, text: str, position: str) -> None:
    path = tmp_path / "bad.bvh"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        read_bvh(path)
    assert info.value.path == str(path) and info.value.position == position


def test_bvh_empty_and_missing(tmp_path: Path) -> None:
    (tmp_path / "empty.bvh").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_bvh(tmp_path / "empty.bvh")
    with pytest.raises(DataError, match="not found"):
        read_bvh(tmp_path / "none.bvh")


ASF = """:version 1.10
:units
  mass 1.0
  length 0.45
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name femur
     direction 0 -1 0
     length 2
     axis 0 0 90 XYZ
    dof rx rz
  end
  begin
     id 2
     name tibia
     direction 0 -1 0
     length 1
     axis 0 0 0 XYZ
  end
:hierarchy
  begin
    root femur
    femur tibia
  end
"""


def test_asf_amc_axis_and_dof(tmp_path: Path) -> None:
    (tmp_path / "s.asf").write_text(ASF)
    (tmp_path / "s.amc").write_text(":FULLY-SPECIFIED\n:DEGREES\n1\nroot 0.45 0 0 0 0 0\nfemur 90 0\n")
    motion = read_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc")
    # femur: rx = 90 deg in its axis frame C = Rz(90), which maps local x to world y: C Rx(90) C^T = Ry(90)
    np.testing.assert_allclose(motion.rotations[0, 1], [[0, 0, 1], [0, 1, 0], [-1, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(motion.positions[0, 0], [0.0254, 0, 0])  # 0.45 units = 1 inch
    # the tibia starts at the femur's tip: root + Ry(90) @ (0, -2, 0) inch-units (a y rotation keeps it)
    np.testing.assert_allclose(motion.positions[0, 2], [0.0254, -2 * 0.0254 / 0.45, 0], atol=1e-12)


@pytest.mark.parametrize(
    ("amc", "position"),
    [
        ("1\nroot 0 0 0 0 0 0\nfemur 1 2\n2\nroot 0 0 0 0 0 0\n", "line 4"),  # truncated last frame
        ("1\nroot 0 0 0 0 0 0\nfemur 1 2 3\n", "line 3"),  # wrong dof count
        ("1\nroot 0 0 0 0 0 zero\nfemur 1 2\n", "line 2"),  # non-number
        ("1\nroot 0 0 0 0 0 0\nfemur nan 2\n", "line 3"),
        ("1\nroot 0 0 0 0 0 0\nhumerus 1 2\n", "line 3"),  # segment not in the ASF
    ],
)
def test_amc_failures(tmp_path: Path, amc: str, position: str) -> None:
    (tmp_path / "s.asf").write_text(ASF)
    (tmp_path / "s.amc").write_text(amc)
    with pytest.raises(DataError) as info:
        read_asf_amc(tmp_path / "s.asf", tmp_path / "s.amc")
    assert info.value.path == str(tmp_path / "s.amc") and info.value.position == position


def test_asf_failures(tmp_path: Path) -> None:
    (tmp_path / "e.asf").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_asf_amc(tmp_path / "e.asf", tmp_path / "x.amc")
    (tmp_path / "b.asf").write_text(ASF.replace("length 2", "length two"))
    with pytest.raises(DataError) as info:
        read_asf_amc(tmp_path / "b.asf", tmp_path / "x.amc")
    assert info.value.position == "line 16"
