"""The CMU real-motion lifting benchmark data: joint mapping, virtual cameras, detector-like 2D, windows."""

from __future__ import annotations

import numpy as np
import pytest

from skeletal import skeletons
from skeletal.data import cmu_lifting
from skeletal.data.cmu_lifting import CMU38_TO_H36M17, lifting_windows, look_at


def test_joint_mapping_matches_h36m17_semantics() -> None:
    cmu, h36m = skeletons.get("cmu38"), skeletons.get("h36m17")
    assert len(CMU38_TO_H36M17) == h36m.num_joints == 17
    same_name = {"right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "head"}
    same_name |= {"left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist"}
    for h36m_index, cmu_index in enumerate(CMU38_TO_H36M17):
        name = h36m.joint_names[h36m_index]
        if name in same_name:
            assert cmu.joint_names[cmu_index] == name
    assert [cmu.joint_names[CMU38_TO_H36M17[i]] for i in (0, 7, 8, 9)] == [
        "root",
        "lower_back",
        "upper_back",
        "upper_neck",
    ]
    # every h36m17 bone joins a CMU joint to one of its ancestors (the selection keeps the tree)
    for child, parent in enumerate(h36m.parents):
        if parent < 0:
            continue
        ancestor, target = CMU38_TO_H36M17[child], CMU38_TO_H36M17[parent]
        while ancestor not in (target, -1):
            ancestor = cmu.parents[ancestor]
        assert ancestor == target, (h36m.joint_names[child], h36m.joint_names[parent])


@pytest.mark.parametrize(("azimuth", "elevation"), [(0.0, 0.0), (45.0, 10.0), (135.0, 20.0), (300.0, -5.0)])
def test_look_at_is_a_rotation_that_faces_the_target(azimuth: float, elevation: float) -> None:
    rotation = look_at(azimuth, elevation)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    world = np.array([[[0.0, 1.0, 0.0], [0.0, 2.0, 0.0]]])  # target (mean root) and a point 1 m above it
    target_cam, above_cam = cmu_lifting.camera_views(world[:, :1].repeat(17, 1), [(azimuth, elevation)])[0][0, :2]
    assert target_cam[:2] == pytest.approx([0.0, 0.0], abs=1e-9) and target_cam[2] == pytest.approx(5.0)
    pixels = cmu_lifting.project(np.stack([target_cam, above_cam @ np.eye(3)]))
    np.testing.assert_allclose(pixels[0], [500.0, 500.0])
    point_above = (world[0, 1] - (world[0, 0] + 5.0 * np.array([np.cos(np.deg2rad(elevation)) * np.sin(
        np.deg2rad(azimuth)), np.sin(np.deg2rad(elevation)), np.cos(np.deg2rad(elevation)) * np.cos(
        np.deg2rad(azimuth))]))) @ rotation.T  # fmt: skip
    assert point_above[1] < 0  # up in the world is up in the image (negative y, rows grow downwards)


def test_windows_pad_edges_like_lift() -> None:
    keypoints = np.arange(5, dtype=np.float32)[:, None, None].repeat(17, 1).repeat(2, 2)  # frame t holds t
    positions = np.arange(5, dtype=np.float32)[:, None, None].repeat(17, 1).repeat(3, 2)
    windows = lifting_windows([{"keypoints": keypoints, "positions": positions}], receptive_field=3, chunk=2)
    assert windows["x"].shape == (3, 4, 17, 2) and windows["y"].shape == (3, 2, 17, 3)
    assert windows["x"][:, :, 0, 0].tolist() == [[0, 0, 1, 2], [1, 2, 3, 4], [2, 3, 4, 4]]  # last chunk shifted
    assert windows["y"][:, :, 0, 0].tolist() == [[0, 1], [2, 3], [3, 4]]
    causal = lifting_windows([{"keypoints": keypoints, "positions": positions}], 3, chunk=1, causal=True)
    assert causal["x"][:, :, 0, 0].tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4]]
    assert causal["y"][:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4]


def test_real_cmu_sequences(shared_data) -> None:
    sequences = cmu_lifting.load_cmu_lifting(shared_data / "cmu-mocap-expmap", "test", actions=["running"])
    assert len(sequences) == 4 and [s["view"] for s in sequences] == [0, 1, 2, 3]
    h36m = skeletons.get("h36m17")
    first = sequences[0]
    assert first["keypoints"].shape == (82, 17, 2) and first["positions"].shape == (82, 17, 3)
    lengths = []
    for sequence in sequences:
        positions = sequence["positions"]
        assert np.isfinite(sequence["keypoints"]).all() and np.abs(sequence["keypoints"]).max() < 1.2
        np.testing.assert_allclose(positions[:, 0], 0.0, atol=1e-6)  # root-relative
        bones = [
            np.linalg.norm(positions[:, c] - positions[:, p], axis=-1) for c, p in enumerate(h36m.parents) if p >= 0
        ]
        lengths.append(np.stack(bones, -1))
    # the camera transform is rigid: every view sees the same bone lengths, constant over frames (FK)
    np.testing.assert_allclose(lengths[1], lengths[0], atol=1e-5)
    # constant up to the bones that skip CMU joints (thorax-neck spans lower_neck: a few mm of flexion)
    assert np.median(np.ptp(lengths[0], axis=0)) < 1e-5 and np.ptp(lengths[0], axis=0).max() < 5e-3
    thigh = lengths[0][0, h36m.joint_names.index("right_knee") - 1]
    assert 0.3 < thigh < 0.6  # metres
    # the same noise seed gives the same data; the noise is detector-like (a few pixels, some joints dropped)
    again = cmu_lifting.load_cmu_lifting(shared_data / "cmu-mocap-expmap", "test", actions=["running"])
    np.testing.assert_array_equal(again[2]["keypoints"], sequences[2]["keypoints"])
    assert 0 < (first["scores"] == 0).mean() < 0.05
