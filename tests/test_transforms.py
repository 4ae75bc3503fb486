"""Invariants and golden values of skeletal.data.transforms and skeletal.data.windows."""

from __future__ import annotations

import numpy as np
import pytest

from skeletal.data import transforms as tf
from skeletal.data.windows import random_windows, seed_target_split, sliding_windows
from skeletal.errors import DataError, LayoutError, ShapeError
from skeletal.geometry.camera import normalize_screen_coordinates, project_to_2d
from skeletal.skeletons import get


@pytest.mark.parametrize("layout", ["ntu25", "h36m17", "humaneva15"])
def test_flip_twice_is_identity_and_swaps_sides(layout: str, rng: np.random.Generator) -> None:
    skeleton = get(layout)
    x = rng.normal(size=(2, 5, skeleton.num_joints, 3))
    once = tf.flip(x, skeleton)
    np.testing.assert_allclose(tf.flip(once, skeleton), x)
    left, right = skeleton.left[0], skeleton.right[0]
    np.testing.assert_allclose(once[..., left, 0], -x[..., right, 0])
    np.testing.assert_allclose(once[..., left, 1:], x[..., right, 1:])


def test_flip_pixels_about_image_centre() -> None:
    x = np.zeros((1, 17, 3))
    x[0, 1] = [100.0, 50.0, 0.9]  # right hip at x=100 px, score 0.9
    out = tf.flip(x, "h36m17", axis=0, center=500.0)
    np.testing.assert_allclose(out[0, 4], [900.0, 50.0, 0.9])  # became the left hip, mirrored, score kept


def test_bones_golden_and_round_trip(rng: np.random.Generator) -> None:
    skeleton = get("h36m17")
    x = rng.normal(size=(3, 4, 17, 3))
    bones = tf.to_bones(x, skeleton)
    np.testing.assert_allclose(bones[..., 0, :], 0.0)
    np.testing.assert_allclose(bones[..., 3, :], x[..., 3, :] - x[..., 2, :])  # ankle - knee
    np.testing.assert_allclose(bones[..., 11, :], x[..., 11, :] - x[..., 8, :])  # shoulder - thorax
    np.testing.assert_allclose(tf.from_bones(bones, skeleton, root=x[..., 0, :]), x, atol=1e-12)
    np.testing.assert_allclose(tf.Bones("h36m17")(x), bones)


def test_bones_layout_mismatch_is_reported() -> None:
    with pytest.raises(LayoutError, match="25 joints but layout 'h36m17' has 17"):
        tf.to_bones(np.zeros((4, 25, 3)), "h36m17")


def test_motion_stream_golden() -> None:
    x = np.arange(3 * 2 * 1, dtype=float).reshape(3, 2, 1) ** 2  # frames 0..2
    motion = tf.to_motion(x)
    np.testing.assert_allclose(motion[:2], x[1:] - x[:-1])
    np.testing.assert_allclose(motion[2], 0.0)
    np.testing.assert_allclose(tf.MotionStream()(x[None])[0], motion)


def test_random_rotation_preserves_bone_lengths(rng: np.random.Generator) -> None:
    skeleton = get("ntu25")
    x = rng.normal(size=(2, 6, 25, 3))
    lengths = np.linalg.norm(tf.to_bones(x, skeleton), axis=-1)
    for axis in ("vertical", "any", (1.0, 1.0, 0.0)):
        rotated = tf.RandomRotation(axis=axis, rng=1)(x)
        np.testing.assert_allclose(np.linalg.norm(tf.to_bones(rotated, skeleton), axis=-1), lengths, atol=1e-10)
    vertical = tf.RandomRotation(axis="vertical", vertical_axis=1, rng=3)(x)
    np.testing.assert_allclose(vertical[..., 1], x[..., 1], atol=1e-12)  # heights unchanged
    assert not np.allclose(vertical, x)


def test_rotation_matrix_golden() -> None:
    matrix = tf.rotation_matrix([0, 0, 1], np.pi / 2)
    np.testing.assert_allclose(matrix @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(tf.rotate(np.array([[[1.0, 0.0, 0.0]]]), matrix), [[[0.0, 1.0, 0.0]]], atol=1e-12)


def test_scale_and_shift_golden() -> None:
    x = np.ones((2, 3, 3))
    scaled = tf.RandomScale(2.0, 2.0, rng=0)(x)
    np.testing.assert_allclose(scaled, 2.0)
    shifted = tf.RandomShift(0.5, rng=0)(x)
    offset = shifted - x
    assert np.allclose(offset, offset[0, 0]) and np.all(np.abs(offset) <= 0.5) and np.any(offset != 0)


def test_crop_pad_resize_shapes_and_values() -> None:
    x = np.arange(5, dtype=np.float32).reshape(5, 1, 1) * np.ones((5, 2, 3), dtype=np.float32)
    assert tf.crop(x, 1, 3).shape == (3, 2, 3)
    np.testing.assert_allclose(tf.crop(x, 1, 3)[:, 0, 0], [1, 2, 3])
    with pytest.raises(ShapeError, match="does not fit a sequence of 5 frames"):
        tf.crop(x, 3, 3)
    zero = tf.pad(x, 8)
    assert zero.shape == (8, 2, 3) and np.all(zero[5:] == 0) and np.array_equal(zero[:5], x)
    np.testing.assert_allclose(tf.pad(x, 8, "edge")[:, 0, 0], [0, 1, 2, 3, 4, 4, 4, 4])
    np.testing.assert_allclose(tf.pad(x, 7, "loop")[:, 0, 0], [0, 1, 2, 3, 4, 0, 1])
    resized = tf.resize(x, 9)
    assert resized.shape == (9, 2, 3)
    np.testing.assert_allclose(resized[:, 0, 0], np.linspace(0, 4, 9), atol=1e-6)
    np.testing.assert_allclose(tf.resize(x, 3)[:, 0, 0], [0, 2, 4])
    multi = np.stack([x, x])  # (M, T, V, C)
    assert tf.RandomCrop(4, rng=0)(multi).shape == (2, 4, 2, 3)
    assert tf.RandomCrop(9, rng=0)(multi).shape == (2, 9, 2, 3)
    assert tf.Pad(6)(multi).shape == (2, 6, 2, 3) and tf.Resize(4)(multi).shape == (2, 4, 2, 3)


def test_normalize_screen_golden() -> None:
    points = np.array([[0.0, 0.0, 0.7], [1000.0, 1002.0, 0.2], [500.0, 501.0, 1.0]])
    out = tf.normalize_screen(points, 1000, 1002)
    np.testing.assert_allclose(out[:, :2], [[-1.0, -1.002], [1.0, 1.002], [0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(out[:, 2], points[:, 2])
    np.testing.assert_allclose(tf.unnormalize_screen(out, 1000, 1002), points, atol=1e-4)
    np.testing.assert_allclose(tf.NormalizeScreen(1000, 1002)(points), out)


def test_detector_noise_zero_and_full_drop(rng: np.random.Generator) -> None:
    points = rng.uniform(100, 900, size=(4, 17, 2))
    clean = tf.detector_noise(points, "h36m17", rng=0, jitter=0.0, drop_probability=0.0)
    assert clean.shape == (4, 17, 3)
    np.testing.assert_allclose(clean[..., :2], points, rtol=1e-6)
    np.testing.assert_allclose(clean[..., 2], 1.0)
    dropped = tf.detector_noise(points, "h36m17", rng=0, jitter=0.05, drop_probability=1.0)
    assert np.all(dropped == 0)


def test_detector_noise_scales_with_bone_length(rng: np.random.Generator) -> None:
    points = rng.uniform(0, 100, size=(200, 17, 2))
    small = tf.detector_noise(points, "h36m17", rng=1, jitter=0.1, drop_probability=0.0)
    large = tf.detector_noise(points * 10, "h36m17", rng=1, jitter=0.1, drop_probability=0.0)
    np.testing.assert_allclose(large[..., :2] - points * 10, 10 * (small[..., :2] - points), rtol=1e-3, atol=1e-3)
    assert 0.0 < small[..., 2].mean() < 1.0


def test_project_with_noise_matches_projection_without_noise(rng: np.random.Generator) -> None:
    intrinsics = [1145.0, 1143.0, 512.0, 515.0, -0.2, 0.24, -0.003, -0.001, -0.0014]
    points = rng.normal(size=(3, 17, 3)) * 0.3 + np.array([0.0, 0.0, 5.0])
    out = tf.ProjectWithNoise("h36m17", intrinsics, (1000, 1002), jitter=0.0, drop_probability=0.0, rng=0)(points)
    expected = normalize_screen_coordinates(project_to_2d(points, np.array(intrinsics)), 1000, 1002)
    np.testing.assert_allclose(out[..., :2], expected, atol=1e-5)


def test_compose_is_reproducible_under_a_seed(rng: np.random.Generator) -> None:
    x = rng.normal(size=(10, 25, 3))

    def pipeline(seed: int) -> tf.Compose:
        return tf.Compose([tf.RandomRotation(rng=seed), tf.RandomFlip("ntu25", rng=seed), tf.RandomCrop(6, rng=seed)])

    np.testing.assert_array_equal(pipeline(3)(x), pipeline(3)(x))
    assert not np.allclose(pipeline(3)(x), pipeline(4)(x))


def test_sliding_windows_count_and_content() -> None:
    sequence = np.arange(10)[:, None, None] * np.ones((10, 2, 3))
    windows = sliding_windows(sequence, 4, 3)
    assert windows.shape == (3, 4, 2, 3)  # (10 - 4) // 3 + 1
    np.testing.assert_allclose(windows[:, :, 0, 0], [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    seed, target = seed_target_split(windows, 3)
    assert seed.shape == (3, 3, 2, 3) and target.shape == (3, 1, 2, 3)
    with pytest.raises(DataError, match="fewer than one window of 11"):
        sliding_windows(sequence, 11)


def test_random_windows_respect_min_start() -> None:
    sequences = [np.arange(40)[:, None], np.arange(30)[:, None] + 100]
    windows, which, starts = random_windows(sequences, 10, 50, rng=0, min_start=16)
    assert windows.shape == (50, 10, 1)
    assert np.all(starts >= 16) and np.all(starts < np.array([40, 30])[which] - 10)
    for window, w, s in zip(windows, which, starts):
        np.testing.assert_array_equal(window, sequences[w][s : s + 10])
