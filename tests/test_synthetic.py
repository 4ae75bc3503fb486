"""The SYNTHETIC default data: determinism, shapes, physical consistency, separable actions, 2D/3D agreement."""

from __future__ import annotations

import numpy as np

from skeletal.data import synthetic
from skeletal.data.transforms import to_bones
from skeletal.geometry.camera import normalize_screen_coordinates, project_to_2d_linear
from skeletal.geometry.kinematics import forward_kinematics


def test_deterministic_and_independent_of_the_set_size() -> None:
    a = synthetic.SyntheticMotion(6, 20, seed=3, num_people=2)
    b = synthetic.SyntheticMotion(9, 20, seed=3, num_people=2)
    for i in range(6):
        np.testing.assert_array_equal(a[i].positions, b[i].positions)
        np.testing.assert_array_equal(a[i].keypoints, b[i].keypoints)
    other = synthetic.SyntheticMotion(6, 20, seed=4)
    assert not np.allclose(a[0].positions[0], other[0].positions[0])
    x1, y1 = synthetic.recognition_arrays(12, 16, seed=1)
    x2, y2 = synthetic.recognition_arrays(12, 16, seed=1)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)


def test_builder_shapes() -> None:
    x, labels = synthetic.recognition_arrays(10, 32, num_people=2, seed=0)
    assert x.shape == (10, 2, 32, 17, 3) and x.dtype == np.float32 and labels.shape == (10,)
    assert labels.min() >= 0 and labels.max() < len(synthetic.ACTIONS)
    np.testing.assert_allclose(x[:, 0, 0, 0], 0.0, atol=1e-6)  # centred on the first root at frame 0
    rotations, _ = synthetic.prediction_arrays(5, seed_length=50, target_length=25)
    assert rotations.shape == (5, 75, 17, 3, 3)
    keypoints, positions = synthetic.lifting_arrays(4, 27)
    assert keypoints.shape == (4, 27, 17, 2) and positions.shape == (4, 27, 17, 3)
    np.testing.assert_allclose(positions[:, :, 0], 0.0, atol=1e-6)
    assert np.abs(keypoints).max() <= 1.0  # the person stays inside the image


def test_rotations_and_positions_agree_and_bones_keep_their_length() -> None:
    data = synthetic.SyntheticMotion(16, 40, seed=5, num_people=2, second_person_probability=1.0)
    for sample in data.generate(range(16)):
        rotations = sample.rotations.astype(np.float64)
        identity = np.swapaxes(rotations, -1, -2) @ rotations
        np.testing.assert_allclose(identity, np.broadcast_to(np.eye(3), identity.shape), atol=1e-5)
        _, positions = forward_kinematics(
            rotations, sample.offsets[:, None].astype(np.float64), synthetic.SKELETON.parents
        )
        np.testing.assert_allclose(positions + sample.root_positions[..., None, :], sample.positions, atol=1e-5)
        lengths = np.linalg.norm(to_bones(sample.positions, synthetic.SKELETON), axis=-1)  # (M, T, V)
        np.testing.assert_allclose(lengths, np.broadcast_to(lengths[:, :1], lengths.shape), atol=1e-5)
        np.testing.assert_allclose(lengths[:, 0], np.linalg.norm(sample.offsets, axis=-1), atol=1e-5)
        thigh = lengths[0, 0, 2]
        assert 0.9 * 0.95 * 0.4429 - 1e-6 <= thigh <= 1.1 * 1.05 * 0.4429 + 1e-6  # Human3.6M thigh, scaled
        if sample.action not in ("jumping", "running"):  # feet on the floor (8 cm ankle height)
            ankles = np.minimum(sample.positions[:, :, 3, 1], sample.positions[:, :, 6, 1])
            np.testing.assert_allclose(ankles, synthetic.ANKLE_HEIGHT, atol=1e-5)


def test_projection_consistent_with_3d() -> None:
    sample = synthetic.SyntheticMotion(3, 30, seed=2, num_people=2, second_person_probability=1.0)[1]
    camera = sample.camera
    local = np.asarray(camera.world_to_camera(sample.positions.astype(np.float64)))
    assert np.all(local[..., 2] > 1.0)  # in front of the camera
    pixels = local[..., :2] / local[..., 2:] * synthetic.FOCAL_LENGTH + 500.0
    np.testing.assert_allclose(sample.keypoints, pixels, atol=1e-3)
    np.testing.assert_allclose(project_to_2d_linear(local, camera.intrinsics), sample.keypoints, atol=1e-3)
    keypoints, positions = synthetic.lifting_arrays(2, 10, seed=7)
    lifted = synthetic.SyntheticMotion(2, 10, 50.0, seed=7)[0]
    local = np.asarray(lifted.camera.world_to_camera(lifted.positions[0].astype(np.float64)))
    np.testing.assert_allclose(positions[0], local - local[:, :1], atol=1e-5)
    expected = normalize_screen_coordinates(project_to_2d_linear(local, lifted.camera.intrinsics), 1000, 1000)
    np.testing.assert_allclose(keypoints[0], expected, atol=1e-5)


def _features(x: np.ndarray) -> np.ndarray:
    """Facing-invariant features of (N, T, V, 3) world motion: joint heights and horizontal spreads."""
    relative = x - x[:, :, :1]
    horizontal = np.linalg.norm(relative[..., [0, 2]], axis=-1)
    root_speed = np.linalg.norm(np.diff(x[:, :, 0, [0, 2]], axis=1), axis=-1).mean(1, keepdims=True)
    parts = [relative[..., 1].mean(1), relative[..., 1].std(1), horizontal.mean(1), horizontal.std(1),
             x[:, :, 0, 1].std(1)[:, None], 10 * root_speed]  # fmt: skip
    return np.concatenate(parts, axis=1)


def test_actions_are_distinguishable_by_a_nearest_centroid_classifier() -> None:
    x, labels = synthetic.recognition_arrays(320, 32, num_people=1, seed=11)
    features = _features(x[:, 0])
    train, test = slice(0, 200), slice(200, None)
    mean, std = features[train].mean(0), features[train].std(0) + 1e-6
    normed = (features - mean) / std
    centroids = np.stack([normed[train][labels[train] == k].mean(0) for k in range(len(synthetic.ACTIONS))])
    predicted = np.argmin(((normed[test][:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    accuracy = (predicted == labels[test]).mean()
    assert accuracy > 0.6, f"nearest-centroid accuracy {accuracy:.2f} (chance {1 / len(synthetic.ACTIONS):.2f})"
