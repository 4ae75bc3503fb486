"""AMASS reader and the SPL / ST-Transformer protocol on files written in AMASS's npz format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from skeletal.data.amass import amass_windows, load_amass, read_amass_npz, resample
from skeletal.errors import DataError

MAJOR = [1, 2, 3, 4, 5, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19]  # SMPL_MAJOR_JOINTS of DIP / SPL


def _write(path: Path, poses: np.ndarray, fps: float, **extra: object) -> Path:
    frames = poses.shape[0]
    fields = {
        "poses": poses,
        "trans": np.linspace([0.0, 0.0, 0.9], [1.0, 0.0, 0.9], frames),
        "mocap_framerate": np.array(fps),
        "betas": np.arange(16, dtype=np.float64) / 10,
        "gender": np.array("female"),
        "dmpls": np.zeros((frames, 8)),
    }
    fields.update(extra)
    np.savez(path, **fields)
    return path


def test_smplh_take_to_rotations(tmp_path: Path, rng: np.random.Generator) -> None:
    poses = rng.normal(scale=0.4, size=(10, 156))
    motion = read_amass_npz(_write(tmp_path / "take_poses.npz", poses, 120.0))
    assert motion.skeleton.name == "smpl24" and motion.fps == 120.0
    assert motion.rotations.shape == (10, 24, 3, 3) and motion.meta["gender"] == "female"
    axis_angle = poses.reshape(10, 52, 3)
    np.testing.assert_allclose(motion.rotations[:, 5], Rotation.from_rotvec(axis_angle[:, 5]).as_matrix(), atol=1e-10)
    # SMPL's hand joints come from the first finger joint of each SMPL-H hand (VIBE's mapping: 22 and 37)
    np.testing.assert_allclose(motion.rotations[:, 23], Rotation.from_rotvec(axis_angle[:, 37]).as_matrix(), atol=1e-10)
    np.testing.assert_allclose(motion.root_positions[-1], [1.0, 0.0, 0.9])


def test_120_fps_keeps_every_second_frame_and_the_major_joints(tmp_path: Path, rng: np.random.Generator) -> None:
    poses = rng.normal(scale=0.4, size=(300, 72))
    motion = load_amass(_write(tmp_path / "a.npz", poses, 120.0))
    assert motion.skeleton.name == "amass15" and motion.fps == 60.0
    assert motion.rotations.shape == (150, 15, 3, 3) and motion.rotations.dtype == np.float32
    expected = Rotation.from_rotvec(poses.reshape(300, 24, 3)[::2, MAJOR].reshape(-1, 3)).as_matrix()
    np.testing.assert_allclose(motion.rotations.reshape(-1, 3, 3), expected, atol=1e-6)


def test_59_94_fps_is_kept_as_is(tmp_path: Path, rng: np.random.Generator) -> None:
    poses = rng.normal(scale=0.4, size=(40, 72))
    assert load_amass(_write(tmp_path / "b.npz", poses, 59.94)).rotations.shape[0] == 40


def test_other_rates_are_resampled_by_slerp(tmp_path: Path) -> None:
    frames = 101  # 1 s at 100 fps: a rotation about z growing linearly from 0 to 1 rad
    angle = np.linspace(0.0, 1.0, frames)
    poses = np.zeros((frames, 72))
    poses[:, 3 * 4 + 2] = angle  # joint 4 (left knee), z component
    motion = resample(read_amass_npz(_write(tmp_path / "c.npz", poses, 100.0)), 60.0)
    assert motion.rotations.shape[0] == 61 and motion.fps == 60.0
    got = Rotation.from_matrix(motion.rotations[:, 4]).as_rotvec()[:, 2]
    np.testing.assert_allclose(got, np.linspace(0.0, 1.0, 61), atol=1e-9)
    np.testing.assert_allclose(motion.root_positions[:, 0], np.linspace(0.0, 1.0, 61), atol=1e-9)


def test_windows_of_120_seed_and_24_target_frames(tmp_path: Path, rng: np.random.Generator) -> None:
    poses = rng.normal(scale=0.3, size=(2 * 400, 72))
    rotations = load_amass(_write(tmp_path / "d.npz", poses, 120.0)).rotations  # 400 frames at 60 fps
    windows = amass_windows(rotations)
    assert windows.shape == (400 // 144, 144, 15, 3, 3)
    np.testing.assert_array_equal(windows[1], rotations[144:288])
    evaluation = amass_windows(rotations, 120, 60, stride=120)  # SPL's 180-frame test windows, stride 120
    assert evaluation.shape == ((400 - 180) // 120 + 1, 180, 15, 3, 3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"poses": np.zeros((5, 69))}, r"key 'poses': expected poses \(T, 72\) or \(T, 156\), got \(5, 69\)"),
        ({"trans": np.zeros((4, 3))}, r"key 'trans': expected trans \(5, 3\)"),
        ({"mocap_framerate": np.array(0.0)}, "mocap_framerate must be positive"),
    ],
)
def test_bad_fields_are_reported(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "bad.npz"
    _write(path, np.zeros((5, 72)), 60.0)
    fields = dict(np.load(path))
    fields.update(change)
    np.savez(path, **fields)
    with pytest.raises(DataError, match=message) as info:
        read_amass_npz(path)
    assert info.value.path == str(path)


def test_missing_key_nan_truncation_and_pickles(tmp_path: Path) -> None:
    path = _write(tmp_path / "ok.npz", np.zeros((5, 72)), 60.0)
    fields = dict(np.load(path))
    del fields["mocap_framerate"]
    np.savez(tmp_path / "nokey.npz", **fields)
    with pytest.raises(DataError, match="missing key 'mocap_framerate'"):
        read_amass_npz(tmp_path / "nokey.npz")
    poses = np.zeros((5, 72))
    poses[3, 7] = np.nan
    with pytest.raises(DataError, match=r"key 'poses': NaN or inf \(first at frame 3\)"):
        read_amass_npz(_write(tmp_path / "nan.npz", poses, 60.0))
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="corrupt or truncated"):
        read_amass_npz(tmp_path / "cut.npz")
    _write(tmp_path / "pickled.npz", np.zeros((5, 72)), 60.0, gender=np.array({"evil": 1}, dtype=object))
    with pytest.raises(DataError, match="without unpickling"):
        read_amass_npz(tmp_path / "pickled.npz")
    with pytest.raises(DataError, match="file not found"):
        read_amass_npz(tmp_path / "absent.npz")
