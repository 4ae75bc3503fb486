"""HumanEva-I evaluation as VideoPose3D / GAST-Net table 4: rows per action and subject, frame-weighted P-MPJPE."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skeletal.data.humaneva import HUMANEVA_CAMERA_EXTRINSICS, HUMANEVA_TEST_SUBJECTS, HUMANEVA_TRAIN_SUBJECTS
from skeletal.evaluation.lifting import MeanPoseLifter, humaneva_lifting_protocol
from skeletal.geometry.camera import world_to_camera
from skeletal.metrics import p_mpjpe

METADATA = {"layout_name": "humaneva15", "num_joints": 15, "keypoints_symmetry": [[2, 3, 4], [5, 6, 7]]}


def test_humaneva_protocol_by_hand(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    positions_3d: dict[str, dict[str, np.ndarray]] = {}
    positions_2d: dict[str, dict[str, list]] = {}
    for subject in (*HUMANEVA_TRAIN_SUBJECTS, *HUMANEVA_TEST_SUBJECTS):
        positions_3d[subject] = {
            "Walking 1 chunk0": rng.normal(size=(6, 15, 3)).astype(np.float32) + [0, 0, 1],
            "Walking 1 chunk1": rng.normal(size=(4, 15, 3)).astype(np.float32) + [0, 0, 1],
            "Jog 1 chunk0": rng.normal(size=(5, 15, 3)).astype(np.float32) + [0, 0, 1],
            "Gestures 1": rng.normal(size=(5, 15, 3)).astype(np.float32),
        }
        positions_2d[subject] = {
            action: [rng.normal(size=(len(p), 15, 2)).astype(np.float32) * 100 + 320, None, None]
            for action, p in positions_3d[subject].items()
        }
    path_3d, path_2d = tmp_path / "data_3d_humaneva15.npz", tmp_path / "data_2d_humaneva15_gt.npz"
    np.savez_compressed(path_3d, positions_3d=positions_3d)
    np.savez_compressed(path_2d, positions_2d=positions_2d, metadata=METADATA)
    mean = rng.normal(size=(15, 3)) * 0.2
    table = humaneva_lifting_protocol(MeanPoseLifter(mean, "humaneva15"), path_3d, path_2d, flip=False)
    rows = [r for r in table.values["p_mpjpe"] if r != "average"]
    assert rows == sorted(f"{a} {s}" for a in ("Jog", "Walk") for s in ("S1", "S2", "S3"))
    # by hand: camera 0 of each chunk, root-relative in its frame; chunks of one action pooled by frames
    for subject in HUMANEVA_TEST_SUBJECTS:
        quaternion, position = HUMANEVA_CAMERA_EXTRINSICS[subject.split("/")[-1]][0]
        errors, frames = [], []
        for action in ("Walking 1 chunk0", "Walking 1 chunk1"):
            world = positions_3d[subject][action].astype(np.float64)
            local = np.asarray(world_to_camera(world, np.array(quaternion), np.array(position) / 1000.0))
            target = local - local[:, :1]
            prediction = np.repeat((mean - mean[:1])[None], len(world), axis=0)
            errors.append(p_mpjpe(prediction, target) * len(world))
            frames.append(len(world))
        expected = 1000 * sum(errors) / sum(frames)
        row = f"Walk {subject.split('/')[-1]}"
        np.testing.assert_allclose(table.values["p_mpjpe"][row], expected, rtol=1e-5)
        assert table.frames[row] == 10
    average = np.mean([table.values["p_mpjpe"][r] for r in rows])
    np.testing.assert_allclose(table.values["p_mpjpe"]["average"], average)
