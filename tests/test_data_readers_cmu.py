"""CMU motion-prediction benchmark reader, windows and forward kinematics, on the real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletal.data import cmu
from skeletal.errors import DataError


@pytest.fixture
def cmu_root(shared_data: Path) -> Path:
    return shared_data / "cmu-mocap-expmap"


def test_read_expmap_real_file(cmu_root: Path) -> None:
    frames = cmu.read_expmap(cmu_root / "train" / "walking" / "walking_1.txt")
    assert frames.shape == (344, 117)
    assert frames[0, :3] == pytest.approx([10.4194, 16.7048, -30.1003])


def test_benchmark_splits_actions_and_frame_counts(cmu_root: Path) -> None:
    train = cmu.load_cmu_benchmark(cmu_root, "train")
    test = cmu.load_cmu_benchmark(cmu_root, "test")
    # the shared copy lacks train/washwindow and test/basketball_signal, test/directing_traffic (see its README)
    assert sorted(train) == sorted(set(cmu.CMU_ACTIONS) - {"washwindow"})
    assert sorted(test) == ["basketball", "jumping", "running", "soccer", "walking", "washwindow"]
    assert sorted(set(train) | set(test)) == sorted(cmu.CMU_ACTIONS)
    assert sum(len(v) for v in train.values()) == 32 and sum(len(v) for v in test.values()) == 6
    # every second frame: ceil(n / 2)
    assert [s.shape[0] for s in train["walking"]] == [172, 300, 248, 159, 165]
    assert [s.shape[0] for s in train["directing_traffic"]] == [1515, 1852]  # takes 1 and 4, gap handled
    assert test["walking"][0].shape == (180, 117)


def test_windows_follow_ltd_protocol(cmu_root: Path) -> None:
    test = cmu.cmu_windows(cmu_root, "test", actions=["walking"])
    walking = cmu.load_cmu_benchmark(cmu_root, "test", ["walking"])["walking"][0]
    rng = np.random.RandomState(1234567890)
    expected = [rng.randint(0, walking.shape[0] - 75) for _ in range(8)]
    assert list(cmu.fixed_test_starts(walking.shape[0])) == expected
    assert test["walking"].shape == (8, 75, 117)
    np.testing.assert_array_equal(test["walking"][3], walking[expected[3] : expected[3] + 75])
    ltd = cmu.fixed_test_windows(walking, input_length=10)  # LTD: last 10 seed frames + 25 targets
    np.testing.assert_array_equal(ltd[0], walking[expected[0] + 40 : expected[0] + 75])
    train = cmu.cmu_windows(cmu_root, "train", actions=["running"], input_length=10, target_length=25)
    lengths = [84, 95, 82, 83, 76]
    assert train["running"].shape == (sum(n - 35 + 1 for n in lengths), 35, 117)


def test_motion_by_forward_kinematics_is_rigid_and_upright(cmu_root: Path) -> None:
    frames = cmu.load_cmu_benchmark(cmu_root, "train", ["walking"])["walking"][0]
    motion = cmu.expmap_to_motion(frames, fps=60.0)
    skeleton, positions = motion.skeleton, motion.positions
    assert skeleton.name == "cmu38" and positions.shape == (172, 38, 3)
    lengths = np.stack([np.linalg.norm(positions[:, j] - positions[:, p], axis=-1) for j, p in skeleton.edges], 1)
    offsets = np.linalg.norm(np.asarray(skeleton.offsets), axis=1)[[j for j, _ in skeleton.edges]]
    np.testing.assert_allclose(lengths, np.broadcast_to(offsets, lengths.shape), atol=1e-6)
    up = positions[:, skeleton.index("head"), 1] - positions[:, skeleton.index("left_toe_base"), 1]
    assert np.all(up > 1500)  # y is up: the head is ~1.7 m (70 x ASF units) above the toes in every frame
    assert np.linalg.norm(positions[-1, 0] - positions[0, 0]) > 3000  # the walker travels
    local = cmu.expmap_to_motion(frames[:5], global_motion=False)
    np.testing.assert_allclose(local.positions[:, 0], 0.0)


def test_rotation_convention_is_transpose_of_rodrigues() -> None:
    frame = np.zeros((1, 117))
    frame[0, 3 + 3 * 2 : 3 + 3 * 3] = [0.0, 0.0, np.pi / 2]  # left_hip exp-map: +90 deg about z
    rotation = cmu.expmap_to_rotations(frame)[0, 2]
    np.testing.assert_allclose(rotation, [[0, 1, 0], [-1, 0, 0], [0, 0, 1]], atol=1e-12)


@pytest.mark.parametrize(
    ("content", "position"),
    [
        ("", None),
        ("1,2,3\n", "line 1"),
        (",".join(["0"] * 117) + "\n" + ",".join(["0"] * 116) + "\n", "line 2"),
        (",".join(["0"] * 116 + ["abc"]) + "\n", "line 1"),
        (",".join(["0"] * 116 + ["nan"]) + "\n", "line 1"),
    ],
)
def test_read_expmap_failures(tmp_path: Path, content: str, position: str | None) -> None:
    path = tmp_path / "walking_1.txt"
    path.write_text(content)
    with pytest.raises(DataError) as info:
        cmu.read_expmap(path)
    assert info.value.path == str(path) and str(path) in str(info.value)
    assert info.value.position == position


def test_read_expmap_missing_and_binary(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        cmu.read_expmap(tmp_path / "absent.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="UTF-8"):
        cmu.read_expmap(tmp_path / "bin.txt")
