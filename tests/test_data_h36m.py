"""Human3.6M and HumanEva readers on small files written in VideoPose3D's exact npz format and in the exp-map
text format of Martinez et al."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletal.data import h36m
from skeletal.data.humaneva import (
    HUMANEVA_TEST_SUBJECTS,
    HUMANEVA_TRAIN_SUBJECTS,
    humaneva_split,
    load_humaneva_2d,
    load_humaneva_3d,
)
from skeletal.errors import DataError, UnsafeFileError
from skeletal.geometry.camera import normalize_screen_coordinates, project_to_2d
from skeletal.geometry.rotations import quaternion_to_matrix

H36M_METADATA = {
    "layout_name": "h36m",
    "num_joints": 17,
    "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]],
}


def _world_poses(rng: np.random.Generator, frames: int, joints: int = 32) -> np.ndarray:
    # people stand around the middle of the capture room, ~1 m above the floor, in metres
    return (rng.normal(size=(frames, joints, 3)) * 0.3 + np.array([0.0, 0.0, 1.0])).astype(np.float32)


@pytest.fixture
def h36m_files(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, Path, dict]:
    """data_3d_h36m.npz and data_2d_h36m_gt.npz written as VideoPose3D's prepare_data_h36m.py writes them."""
    positions_3d = {
        "S1": {"Walking": _world_poses(rng, 30), "Directions 1": _world_poses(rng, 20)},
        "S9": {"Walking 1": _world_poses(rng, 25)},
    }
    positions_2d: dict = {}
    for subject, actions in positions_3d.items():
        positions_2d[subject] = {}
        for action, world in actions.items():
            views = []
            for camera in h36m.h36m_cameras(subject):
                pixels = np.asarray(camera.project(world[:, list(h36m.H36M17_FROM_32)].astype(np.float64)))
                views.append(np.concatenate([pixels, pixels[-3:]]).astype(np.float32))  # video 3 frames longer
            positions_2d[subject][action] = views
    path_3d, path_2d = tmp_path / "data_3d_h36m.npz", tmp_path / "data_2d_h36m_gt.npz"
    np.savez_compressed(path_3d, positions_3d=positions_3d)
    np.savez_compressed(path_2d, positions_2d=positions_2d, metadata=H36M_METADATA)
    return path_3d, path_2d, positions_3d


def test_read_3d_reduces_to_17_joints(h36m_files: tuple[Path, Path, dict]) -> None:
    path_3d, _, truth = h36m_files
    motions = h36m.load_h36m_3d(path_3d)
    assert set(motions) == {"S1", "S9"} and set(motions["S1"]) == {"Walking", "Directions 1"}
    walking = motions["S1"]["Walking"]
    assert walking.skeleton.name == "h36m17" and walking.fps == 50.0 and walking.positions.shape == (30, 17, 3)
    # VideoPose3D remove_joints([4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31])
    removed = {4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31}
    kept = [j for j in range(32) if j not in removed]
    np.testing.assert_array_equal(walking.positions, truth["S1"]["Walking"][:, kept])
    full = h36m.load_h36m_3d(path_3d, joints=32)["S9"]["Walking 1"]
    assert full.skeleton.name == "h36m32" and np.array_equal(full.positions, truth["S9"]["Walking 1"])


def test_subjects_actions_and_downsampling(h36m_files: tuple[Path, Path, dict]) -> None:
    path_3d, _, truth = h36m_files
    train = h36m.load_h36m_3d(path_3d, subjects=["S1"], actions=["Walk"], downsample=2)
    assert list(train) == ["S1"] and list(train["S1"]) == ["Walking"]
    motion = train["S1"]["Walking"]
    assert motion.fps == 25.0 and motion.positions.shape[0] == 15
    np.testing.assert_array_equal(motion.positions, truth["S1"]["Walking"][::2][:, list(h36m.H36M17_FROM_32)])
    assert h36m.H36M_TRAIN_SUBJECTS == ("S1", "S5", "S6", "S7", "S8") and h36m.H36M_TEST_SUBJECTS == ("S9", "S11")
    with pytest.raises(DataError, match="subject 'S5' not in the file"):
        h36m.load_h36m_3d(path_3d, subjects=["S5"])


def test_read_2d_with_metadata(h36m_files: tuple[Path, Path, dict]) -> None:
    _, path_2d, _ = h36m_files
    keypoints, metadata = h36m.load_h36m_2d(path_2d)
    assert metadata == H36M_METADATA
    views = keypoints["S1"]["Walking"]
    assert len(views) == 4 and views[0].shape == (33, 17, 2) and views[0].dtype == np.float32


def test_cameras_hold_the_published_calibration() -> None:
    cameras = h36m.h36m_cameras("S1")
    assert [c.name for c in cameras] == ["54138969", "55011271", "58860488", "60457274"]
    first = cameras[0]
    np.testing.assert_allclose(
        first.intrinsics[:4], [1145.0494384765625, 1143.7811279296875, 512.54150390625, 515.4514770507812]
    )
    np.testing.assert_allclose(first.translation, [1.8411070556640625, 4.95528466796875, 1.5634454345703125])
    assert (first.width, first.height) == (1000, 1002)
    # the camera centre maps to the origin of the camera frame; a point on the optical axis to the principal point
    np.testing.assert_allclose(first.world_to_camera(first.translation), 0.0, atol=1e-12)
    axis_point = first.translation + 3.0 * np.asarray(quaternion_to_matrix(first.rotation))[:, 2]
    np.testing.assert_allclose(first.world_to_camera(axis_point), [0, 0, 3.0], atol=1e-9)
    np.testing.assert_allclose(first.project(axis_point), first.intrinsics[2:4], atol=1e-6)
    with pytest.raises(DataError, match="no camera calibration for subject 'S2'"):
        h36m.h36m_cameras("S2")


def test_lifting_pairs_camera_frame_and_trimming(h36m_files: tuple[Path, Path, dict]) -> None:
    path_3d, path_2d, truth = h36m_files
    keypoints, _ = h36m.load_h36m_2d(path_2d)
    for downsample in (1, 2):
        motions = h36m.load_h36m_3d(path_3d, subjects=["S1"], downsample=downsample)
        pairs = h36m.lifting_pairs(motions, keypoints)
        assert len(pairs) == 2 * 4
        pair = next(p for p in pairs if p["action"] == "Walking" and p["camera"] == 2)
        frames = len(range(0, 30, downsample))
        assert pair["keypoints"].shape == (frames, 17, 2) and pair["positions"].shape == (frames, 17, 3)
        camera = h36m.h36m_cameras("S1")[2]
        world = truth["S1"]["Walking"][::downsample][:, list(h36m.H36M17_FROM_32)].astype(np.float64)
        local = np.asarray(camera.world_to_camera(world))
        np.testing.assert_allclose(pair["positions"], local - local[:, :1], atol=1e-5)
        np.testing.assert_allclose(pair["root"], local[:, 0], atol=1e-5)
        np.testing.assert_allclose(pair["positions"][:, 0], 0.0)
        # 2D = projection of the camera-frame 3D, normalised: the pair is consistent
        expected = normalize_screen_coordinates(project_to_2d(local, camera.intrinsics), 1000, 1000)
        np.testing.assert_allclose(pair["keypoints"], expected, atol=1e-5)


def test_pickled_files_need_permission(h36m_files: tuple[Path, Path, dict]) -> None:
    path_3d, _, _ = h36m_files
    with pytest.raises(UnsafeFileError, match="pickled object"):
        h36m.load_h36m_3d(path_3d, allow_pickle=False)


def test_bad_files_name_file_and_position(tmp_path: Path, rng: np.random.Generator) -> None:
    with pytest.raises(DataError, match="file not found"):
        h36m.load_h36m_3d(tmp_path / "missing.npz")
    wrong_key = tmp_path / "wrong_key.npz"
    np.savez_compressed(wrong_key, positions={"S1": {}})
    with pytest.raises(DataError, match="missing key 'positions_3d'"):
        h36m.load_h36m_3d(wrong_key)
    shape = tmp_path / "shape.npz"
    np.savez_compressed(shape, positions_3d={"S1": {"Eating": np.zeros((5, 17, 3))}})
    with pytest.raises(DataError, match=r"subject 'S1', action 'Eating': expected an array \(T, 32, 3\)") as info:
        h36m.load_h36m_3d(shape)
    assert info.value.path == str(shape)
    nan = _world_poses(rng, 6)
    nan[4, 3, 1] = np.nan
    nan_file = tmp_path / "nan.npz"
    np.savez_compressed(nan_file, positions_3d={"S1": {"Eating": nan}})
    with pytest.raises(DataError, match="NaN or inf coordinates, or beyond float32 range \\(first at frame 4\\)"):
        h36m.load_h36m_3d(nan_file)
    good = tmp_path / "good.npz"
    np.savez_compressed(good, positions_3d={"S1": {"Eating": _world_poses(rng, 50)}})
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(DataError, match="corrupt or truncated"):
        h36m.load_h36m_3d(truncated)
    no_metadata = tmp_path / "no_meta.npz"
    np.savez_compressed(no_metadata, positions_2d={"S1": {}}, metadata={"layout_name": "h36m"})
    with pytest.raises(DataError, match="metadata lacks 'num_joints'"):
        h36m.load_h36m_2d(no_metadata)
    cameras = tmp_path / "cameras.npz"
    np.savez_compressed(cameras, positions_2d={"S1": {"Eating": [np.zeros((3, 17, 2))] * 3}}, metadata=H36M_METADATA)
    with pytest.raises(DataError, match="action 'Eating': expected a list of 4 cameras"):
        h36m.load_h36m_2d(cameras)


# ----------------------------------------------------------------------------------------- HumanEva
def test_humaneva_npz_and_split(tmp_path: Path, rng: np.random.Generator) -> None:
    positions_3d, positions_2d = {}, {}
    for subject in (*HUMANEVA_TRAIN_SUBJECTS, *HUMANEVA_TEST_SUBJECTS):
        positions_3d[subject] = {
            "Walking 1 chunk0": _world_poses(rng, 12, 15),
            "Jog 1 chunk0": _world_poses(rng, 9, 15),
            "Gestures 1 chunk0": _world_poses(rng, 7, 15),
        }
        positions_2d[subject] = {a: [rng.normal(size=(len(p), 15, 2)).astype(np.float32), None, None]
                                 for a, p in positions_3d[subject].items()}  # fmt: skip
    path_3d, path_2d = tmp_path / "data_3d_humaneva15.npz", tmp_path / "data_2d_humaneva15_gt.npz"
    np.savez_compressed(path_3d, positions_3d=positions_3d)
    metadata = {
        "layout_name": "humaneva15",
        "num_joints": 15,
        "keypoints_symmetry": [[2, 3, 4, 8, 9, 10], [5, 6, 7, 11, 12, 13]],
    }
    np.savez_compressed(path_2d, positions_2d=positions_2d, metadata=metadata)
    motions = load_humaneva_3d(path_3d)
    walk = motions["Train/S2"]["Walking 1 chunk0"]
    assert walk.skeleton.name == "humaneva15" and walk.fps == 60.0
    np.testing.assert_array_equal(walk.positions, positions_3d["Train/S2"]["Walking 1 chunk0"])
    train, test = humaneva_split(motions, "train"), humaneva_split(motions, "test")
    assert len(train) == len(test) == 6  # Walk and Jog of 3 subjects; Gestures is not in the protocol
    assert {m.meta["subject"] for m in test} == set(HUMANEVA_TEST_SUBJECTS)
    keypoints, meta = load_humaneva_2d(path_2d)
    assert meta["num_joints"] == 15 and keypoints["Validate/S1"]["Jog 1 chunk0"][1] is None
    bad = tmp_path / "bad.npz"
    np.savez_compressed(bad, positions_3d={"Train/S1": {"Box 1 chunk0": np.zeros((4, 17, 3))}})
    with pytest.raises(DataError, match=r"'Train/S1', action 'Box 1 chunk0': expected an array \(T, 15, 3\)"):
        load_humaneva_3d(bad)


# ----------------------------------------------------------------------------------------- exp-map
def _write_expmap(path: Path, frames: int, tag: float) -> None:
    # value 0 of each line = frame number (50 Hz) so that windows can be traced back; value 1 = a file tag
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for frame in range(frames):
        values = np.zeros(99)
        values[0], values[1] = frame, tag
        lines.append(",".join(f"{v:.6f}" for v in values))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def expmap_root(tmp_path: Path) -> Path:
    _write_expmap(tmp_path / "S5" / "walking_1.txt", 600, 1.0)  # 300 frames at 25 Hz
    _write_expmap(tmp_path / "S5" / "walking_2.txt", 700, 2.0)  # 350 frames at 25 Hz
    return tmp_path


def test_expmap_reader_keeps_every_second_frame(expmap_root: Path) -> None:
    data = h36m.load_h36m_expmap(expmap_root, subjects=[5], actions=["walking"])
    assert set(data) == {(5, "walking", 1), (5, "walking", 2)}
    first = data[(5, "walking", 1)]
    assert first.shape == (300, 99) and first.dtype == np.float32
    np.testing.assert_array_equal(first[:, 0], np.arange(0, 600, 2))


def test_srnn_seeds_match_martinez_get_batch_srnn(expmap_root: Path) -> None:
    # golden values of find_indices_srnn for sequences of 300 and 350 frames (25 Hz)
    assert h36m.srnn_seed_indices(300, 350) == [146, 118, 63, 156, 67, 49, 121, 76]
    # the same draws written literally as the reference: RandomState(1234567890), randint(16, T - 50 - 100)
    rng = np.random.RandomState(1234567890)
    literal = [rng.randint(16, (300, 350)[i % 2] - 150) for i in range(8)]
    assert h36m.srnn_seed_indices(300, 350) == literal
    data = h36m.load_h36m_expmap(expmap_root, subjects=[5], actions=["walking"])
    windows = h36m.srnn_windows(data, "walking", 50, 25)
    assert windows.shape == (8, 75, 99)
    for i, index in enumerate(literal):
        # window i: sub-action i % 2 + 1, 25 Hz frames [index, index + 75) (idx = index + 50, minus 50 seed)
        np.testing.assert_array_equal(windows[i, :, 1], i % 2 + 1)
        np.testing.assert_array_equal(windows[i, :, 0], 2 * np.arange(index, index + 75))


def test_256_variant_extends_the_8_seeds(expmap_root: Path) -> None:
    first, second = h36m.sample_256_indices(300, 350, window_length=35, seed_length=10)
    assert first.shape == second.shape == (128, 35)
    seeds = h36m.srnn_seed_indices(300, 350)
    np.testing.assert_array_equal(first[:4, 0], np.array(seeds[0::2]) + 40)  # r + 50 - seed_length
    np.testing.assert_array_equal(second[:4, 0], np.array(seeds[1::2]) + 40)
    data = h36m.load_h36m_expmap(expmap_root, subjects=[5], actions=["walking"])
    windows = h36m.windows_256(data, "walking", 50, 25)
    assert windows.shape == (256, 75, 99)
    np.testing.assert_array_equal(windows[:128, :, 1], 1.0)
    np.testing.assert_array_equal(windows[128:, :, 1], 2.0)
    srnn = h36m.srnn_windows(data, "walking")
    np.testing.assert_array_equal(windows[:4], srnn[0::2])
    np.testing.assert_array_equal(windows[128:132], srnn[1::2])


def test_expmap_bad_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "S1" / "eating_1.txt"
    _write_expmap(path, 3, 0.0)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1][: len(lines[1]) // 2], lines[2]]))
    with pytest.raises(DataError, match="line 2: expected 99 comma-separated values"):
        h36m.read_expmap_txt(path)
    path.write_text(lines[0].replace("0.000000", "abc", 1))
    with pytest.raises(DataError, match="line 1: a value is not a number"):
        h36m.read_expmap_txt(path)
    with pytest.raises(DataError, match="file not found"):
        h36m.read_expmap_txt(tmp_path / "nothing.txt")
