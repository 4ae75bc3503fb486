"""``skeletal prepare`` for Human3.6M, AMASS, HumanEva-I and CMU: files in the published formats -> arrays the engine
trains on (``skeletal.data.prepare``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from test_data_amass import _write as write_amass
from test_data_h36m import H36M_METADATA, _world_poses, _write_expmap, h36m_files  # noqa: F401 (fixture)
from test_tasks_engine import tiny_config

from skeletal.cli import main
from skeletal.data import h36m
from skeletal.data.datasets import load_split
from skeletal.data.humaneva import HUMANEVA_CAMERA_EXTRINSICS, HUMANEVA_TEST_SUBJECTS, HUMANEVA_TRAIN_SUBJECTS
from skeletal.data.prepare import (
    prepare_amass,
    prepare_cmu,
    prepare_h36m_lifting,
    prepare_h36m_prediction,
    prepare_humaneva,
)
from skeletal.errors import DataError
from skeletal.geometry.camera import world_to_camera


def _check_fingerprint(out: Path) -> dict:
    fingerprint = json.loads((out / "fingerprint.json").read_text())
    for name, entry in fingerprint["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"], name
        if name.endswith(".npy"):
            array = np.load(out / name, mmap_mode="r")
            assert list(array.shape) == entry["shape"] and array.dtype.name == entry["dtype"]
    return fingerprint


def _train_one_step(task: str, out: Path, tmp_path: Path, **kwargs) -> None:
    from skeletal.config import from_dict
    from skeletal.tasks import train

    config = tiny_config(task, tmp_path, max_steps=1, max_epochs=1)
    raw = config.to_dict() if hasattr(config, "to_dict") else None
    if raw is None:
        import dataclasses

        raw = dataclasses.asdict(config)
    raw["data"].update(
        train=str(out / "train"), val=str(out / "test"), batch_size=512
    )  # one batch: the epoch (and validation) ends
    raw["model"]["kwargs"].update(kwargs)
    result = train(from_dict(raw).validate())
    assert result.task.trainer.global_step == 1 and result.model_file.is_file()


def test_h36m_lifting_windows_follow_the_sequences(h36m_files, tmp_path: Path) -> None:  # noqa: F811
    path_3d, path_2d, _ = h36m_files
    out = tmp_path / "h36m"
    summary = prepare_h36m_lifting(path_3d, path_2d, out, receptive_field=3)  # the tiny lifter's
    train, test = load_split(out / "train", "lifting"), load_split(out / "test", "lifting")
    # S1: Walking (30 frames) and Directions 1 (20) x 4 cameras, one window per frame; S9: Walking 1 (25) x 4
    assert train["x"].shape == (4 * 50, 3, 17, 2) and train["y"].shape == (4 * 50, 1, 17, 3)
    assert test["x"].shape == (4 * 25, 3, 17, 2)
    pairs = h36m.lifting_pairs(h36m.load_h36m_3d(path_3d), h36m.load_h36m_2d(path_2d)[0], subjects=["S1"])
    meta = json.loads((out / "meta.json").read_text())
    sequences = meta["splits"]["train"]["sequences"]
    assert [(s["action"], s["camera"], s["first"], s["count"]) for s in sequences[:5]] == [
        ("Walking", 0, 0, 30), ("Walking", 1, 30, 30), ("Walking", 2, 60, 30), ("Walking", 3, 90, 30),
        ("Directions 1", 0, 120, 20),
    ]  # fmt: skip
    for sequence, pair in zip(sequences, pairs):
        first, count = sequence["first"], sequence["count"]
        np.testing.assert_array_equal(train["x"][first : first + count, 1], pair["keypoints"])  # centre frame
        np.testing.assert_array_equal(train["y"][first : first + count, 0], pair["positions"])
        np.testing.assert_array_equal(train["x"][first, 0], pair["keypoints"][0])  # edge padding, no crossing
        np.testing.assert_array_equal(train["x"][first + count - 1, 2], pair["keypoints"][-1])
    assert {s["sample"] for s in summary["skipped"]} == {"train:S5", "train:S6", "train:S7", "train:S8", "test:S11"}
    assert _check_fingerprint(out)["files"]["train/x.npy"]["shape"] == [200, 3, 17, 2]
    _train_one_step("lifting", out, tmp_path)


def test_humaneva_lifting_in_camera_frames(tmp_path: Path, rng: np.random.Generator) -> None:
    positions_3d, positions_2d = {}, {}
    for subject in (*HUMANEVA_TRAIN_SUBJECTS, *HUMANEVA_TEST_SUBJECTS):
        positions_3d[subject] = {"Walking 1 chunk0": _world_poses(rng, 8, 15), "Gestures 1": _world_poses(rng, 5, 15)}
        positions_2d[subject] = {
            a: [rng.normal(size=(len(p), 15, 2)).astype(np.float32) * 300 + 320, None, rng.normal(size=(3, 15, 2))]
            for a, p in positions_3d[subject].items()
        }
    path_3d, path_2d = tmp_path / "data_3d_humaneva15.npz", tmp_path / "data_2d_humaneva15_gt.npz"
    np.savez_compressed(path_3d, positions_3d=positions_3d)
    metadata = {"layout_name": "humaneva15", "num_joints": 15, "keypoints_symmetry": [[2, 3, 4], [5, 6, 7]]}
    np.savez_compressed(path_2d, positions_2d=positions_2d, metadata=metadata)
    out = tmp_path / "humaneva"
    summary = prepare_humaneva(path_3d, path_2d, out, receptive_field=3)
    train = load_split(out / "train", "lifting")
    assert train["x"].shape == (3 * 8, 3, 15, 2)  # Walk only (Gestures is not in the protocol), camera 0 only
    quaternion, position = HUMANEVA_CAMERA_EXTRINSICS["S1"][0]
    world = positions_3d["Train/S1"]["Walking 1 chunk0"].astype(np.float64)
    local = np.asarray(world_to_camera(world, np.array(quaternion), np.array(position) / 1000.0))
    np.testing.assert_allclose(train["y"][:8, 0], local - local[:, :1], atol=1e-5)
    np.testing.assert_allclose(train["x"][:8, 1], positions_2d["Train/S1"]["Walking 1 chunk0"][0] / 320 - [1, 0.75],
                               atol=1e-5)  # fmt: skip
    reasons = {s["sample"]: s["reason"] for s in summary["skipped"]}
    assert "None" in reasons["train:Train/S1/Walking 1 chunk0/1"]
    assert "3 2D frames for 8 mocap frames" in reasons["test:Validate/S3/Walking 1 chunk0/2"]
    _check_fingerprint(out)


def test_h36m_expmap_training_and_srnn_windows(tmp_path: Path) -> None:
    root = tmp_path / "expmap"
    _write_expmap(root / "S5" / "walking_1.txt", 600, 1.0)
    _write_expmap(root / "S5" / "walking_2.txt", 700, 2.0)
    _write_expmap(root / "S1" / "walking_1.txt", 300, 3.0)  # 150 frames at 25 Hz
    _write_expmap(root / "S1" / "walking_2.txt", 100, 4.0)  # 50 frames: shorter than one window
    out = tmp_path / "h36m-expmap"
    summary = prepare_h36m_prediction(root, out, stride=25)
    train, test = load_split(out / "train", "prediction"), load_split(out / "test", "prediction")
    assert train["x"].shape == (4, 75, 32, 9)  # starts 0, 25, 50, 75 of 150 frames
    assert test["x"].shape == (8, 75, 32, 9)  # the 8 SRNN seeds of walking; the other actions have no files
    np.testing.assert_allclose(train["x"][0, :, 0], np.tile(np.eye(3).ravel(), (75, 1)), atol=1e-6)  # zero exp-map
    reasons = {s["sample"]: s["reason"] for s in summary["skipped"]}
    assert "fewer than one 75-frame window" in reasons["train:S1/walking_2"]
    assert "file not found" in reasons["train:S6/walking_1"] and "test:S5/eating" in reasons
    meta = json.loads((out / "meta.json").read_text())
    assert meta["splits"]["test"]["sequences"] == [{"subject": 5, "action": "walking", "first": 0, "count": 8}]
    _check_fingerprint(out)
    _train_one_step("prediction", out, tmp_path, num_joints=32)


def test_amass_splits_by_sub_dataset_and_lists_short_takes(tmp_path: Path, rng: np.random.Generator) -> None:
    src = tmp_path / "amass"
    for relative, frames, fps in (("CMU/01/01_01_poses.npz", 400, 120.0), ("HumanEva/S1/walk_poses.npz", 150, 60.0),
                                  ("SSM_synced/a/b_poses.npz", 100, 60.0)):  # fmt: skip
        (src / relative).parent.mkdir(parents=True, exist_ok=True)
        write_amass(src / relative, rng.normal(size=(frames, 156)) * 0.2, fps)
    (src / "KIT" / "bad_poses.npz").parent.mkdir()
    np.savez(src / "KIT" / "bad_poses.npz", poses=np.zeros((10, 5)))
    out = tmp_path / "out"
    summary = prepare_amass(src, out, stride=20)
    train, val = load_split(out / "train", "prediction"), load_split(out / "val", "prediction")
    assert train["x"].shape == (3, 144, 15, 9)  # 120 fps -> 200 frames at 60 fps: starts 0, 20, 40 (<= 56)
    assert val["x"].shape == (1, 144, 15, 9) and load_split(out / "test", "prediction")["x"].shape[0] == 0
    rotations = train["x"].reshape(3, 144, 15, 3, 3)
    np.testing.assert_allclose(rotations @ rotations.swapaxes(-1, -2), np.broadcast_to(np.eye(3), rotations.shape),
                               atol=1e-5)  # fmt: skip
    reasons = {s["sample"]: s["reason"] for s in summary["skipped"]}
    assert set(reasons) == {"SSM_synced/a/b_poses.npz", "KIT/bad_poses.npz"}
    assert "fewer than one 144-frame window" in reasons["SSM_synced/a/b_poses.npz"]
    _check_fingerprint(out)


@pytest.fixture
def cmu_root(shared_data: Path) -> Path:
    return shared_data / "cmu-mocap-expmap"


def test_cmu_prediction_and_cli(cmu_root: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cmu"
    assert main(["prepare", "cmu", str(cmu_root), str(out), "--actions", "walking", "--stride", "200"]) in (0, None)
    assert "prepared cmu" in capsys.readouterr().out
    meta = json.loads((out / "meta.json").read_text())
    takes = meta["splits"]["test"]["sequences"]
    test = load_split(out / "test", "prediction")
    assert test["x"].shape == (8 * len(takes), 75, 38, 9) and all(s["count"] == 8 for s in takes)
    assert meta["fps"] == 60.0
    for split in ("train", "val"):  # val = the last 10 % (at least one window) of each take, never overlapping
        arrays = load_split(out / split, "prediction")
        parts = meta["splits"][split]["sequences"]
        expected = sum((s["last_frame"] - s["first_frame"] - 75) // 200 + 1 for s in parts)
        assert arrays["x"].shape == (expected, 75, 38, 9) and expected > 0
    train_parts = {s["take"]: s for s in meta["splits"]["train"]["sequences"]}
    for held in meta["splits"]["val"]["sequences"]:
        assert held["first_frame"] == train_parts[held["take"]]["last_frame"] and held["last_frame"] == held["frames"]
        assert held["last_frame"] - held["first_frame"] == max(-(-held["frames"] // 10), 75)
    _check_fingerprint(out)
    _train_one_step("prediction", out, tmp_path, num_joints=38)


def test_cmu_lifting_and_recognition(cmu_root: Path, tmp_path: Path) -> None:
    lifting = prepare_cmu(cmu_root, tmp_path / "lift", "lifting", actions=["walking"], receptive_field=9, stride=50)
    assert lifting["files"]["train/x.npy"]["shape"][1:] == [9, 17, 2]
    train = load_split(tmp_path / "lift" / "train", "lifting")
    np.testing.assert_allclose(train["y"][:, :, 0], 0.0, atol=1e-6)  # root-relative
    recognition = prepare_cmu(cmu_root, tmp_path / "rec", "recognition", actions=["walking", "running"], length=32)
    meta = json.loads((tmp_path / "rec" / "meta.json").read_text())
    assert meta["classes"] == ["walking", "running"]
    split = load_split(tmp_path / "rec" / "train", "recognition")
    assert split["x"].shape[1:] == (1, 32, 38, 3) and set(np.unique(split["y"])) == {0, 1}
    for sequence in meta["splits"]["train"]["sequences"]:
        labels = split["y"][sequence["first"] : sequence["first"] + sequence["count"]]
        assert (labels == meta["classes"].index(sequence["action"])).all()
    assert recognition["files"]["test/y.npy"]["dtype"] == "int64"
    _check_fingerprint(tmp_path / "rec")
    _train_one_step("recognition", tmp_path / "rec", tmp_path, num_classes=2)


def test_bad_inputs_raise_data_errors(tmp_path: Path, capsys) -> None:
    with pytest.raises(DataError, match="exp-map folder not found"):
        prepare_h36m_prediction(tmp_path / "missing", tmp_path / "out")
    with pytest.raises(DataError, match="no .npz take"):
        prepare_amass(tmp_path, tmp_path / "out")
    with pytest.raises(DataError, match="unknown task 'pose'"):
        prepare_cmu(tmp_path, tmp_path / "out", task="pose")
    assert main(["prepare", "h36m", str(tmp_path / "a.npz"), str(tmp_path / "out")]) not in (0, None)
    assert "--keypoints (the VideoPose3D data_2d_*.npz file) is required" in capsys.readouterr().err
