"""Lifting evaluation: per-action MPJPE / P-MPJPE / N-MPJPE / MPJVE tables, the H3.6M and CMU protocols, the CLI,
the strided training mode, and the presets running a few steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from skeletal import checkpoint, models
from skeletal.cli import main
from skeletal.config import load_config
from skeletal.data import h36m
from skeletal.evaluation.lifting import MeanPoseLifter, evaluate_sequences, h36m_lifting_protocol
from skeletal.tasks import LiftingTask, train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_table_golden_values() -> None:
    pose = np.random.default_rng(0).normal(size=(17, 3)) * 0.2
    pose -= pose[:1]
    offset = np.zeros((17, 3))
    offset[1:, 0] = 0.010  # every joint but the root 10 mm off along x
    moving = pose[None] + np.linspace(0, 0.05, 6)[:, None, None] * np.array([0.0, 1.0, 0.0])
    moving[:, 0] = 0.0
    sequences = [
        {"keypoints": np.zeros((6, 17, 2)), "positions": np.repeat(pose[None] + offset, 6, 0), "action": "walk"},
        {"keypoints": np.zeros((6, 17, 2)), "positions": moving, "action": "sit"},
    ]
    table = evaluate_sequences(MeanPoseLifter(pose), sequences)
    assert table.actions == ["sit", "walk"] and table.frames == {"sit": 6, "walk": 6}
    assert table.values["mpjpe"]["walk"] == pytest.approx(10.0 * 16 / 17)
    assert table.values["mpjve"]["walk"] == pytest.approx(0.0, abs=1e-9)
    # "sit": the 16 non-root joints drift by 0, 10, ..., 50 mm (mean 25 mm); velocity 10 mm/frame on 16 of 17
    assert table.values["mpjpe"]["sit"] == pytest.approx(25.0 * 16 / 17)
    assert table.values["mpjve"]["sit"] == pytest.approx(10.0 * 16 / 17)
    assert table.values["mpjpe"]["average"] == pytest.approx((10.0 + 25.0) * 16 / 17 / 2)
    assert table.values["p_mpjpe"]["walk"] <= table.values["mpjpe"]["walk"] + 1e-9
    assert table.values["n_mpjpe"]["walk"] <= table.values["mpjpe"]["walk"] + 1e-9
    text = str(table)
    assert "MPJPE (P#1)" in text and "P-MPJPE (P#2)" in text and "**average**" in text


def test_evaluation_follows_videopose3d_evaluate() -> None:
    """run.py evaluate() from its definition: only the target root zeroed, per-sequence errors weighted by frames
    (the velocity error too), divided by the frames of the action."""
    rng = np.random.default_rng(1)
    pose = rng.normal(size=(17, 3)) * 0.2
    pose[0] = [0.02, -0.01, 0.03]  # a prediction whose root is not at 0: compared as it is
    pose = pose.astype(np.float32).astype(np.float64)  # MeanPoseLifter holds float32
    sequences = []
    for length in (5, 9):
        target = rng.normal(size=(length, 17, 3)) * 0.2
        target[:, 1:] -= target[:, :1]  # root-relative joints, trajectory kept in the root (VideoPose3D's data)
        sequences.append({"keypoints": np.zeros((length, 17, 2)), "positions": target, "action": "walk"})
    table = evaluate_sequences(MeanPoseLifter(pose), sequences)
    total = errors = velocity = 0.0
    for sequence in sequences:
        target = sequence["positions"].copy()
        target[:, 0] = 0
        prediction = np.repeat(pose[None], len(target), 0)
        count = len(target)
        errors += count * np.linalg.norm(prediction - target, axis=-1).mean()
        velocity += count * np.linalg.norm(np.diff(prediction, axis=0) - np.diff(target, axis=0), axis=-1).mean()
        total += count
    assert table.values["mpjpe"]["walk"] == pytest.approx(1000 * errors / total, rel=1e-12)
    assert table.values["mpjve"]["walk"] == pytest.approx(1000 * velocity / total, rel=1e-12)


@pytest.fixture
def h36m_npz(tmp_path: Path) -> tuple[Path, Path]:
    """Tiny data_3d_h36m.npz / data_2d_h36m_gt.npz in VideoPose3D's format (S9: two takes of Walking, S11, S1)."""
    rng = np.random.default_rng(0)
    positions_3d = {
        "S9": {"Walking 1": None, "Walking": None, "Sitting": None},
        "S11": {"Walking": None},
        "S1": {"Walking": None},
    }
    positions_2d: dict = {}
    for subject, actions in positions_3d.items():
        positions_2d[subject] = {}
        for action in actions:
            world = (rng.normal(size=(12, 32, 3)) * 0.3 + np.array([0.0, 0.0, 1.0])).astype(np.float32)
            actions[action] = world
            views = []
            for camera in h36m.h36m_cameras(subject):
                views.append(np.asarray(camera.project(world[:, list(h36m.H36M17_FROM_32)].astype(np.float64))))
            positions_2d[subject][action] = [v.astype(np.float32) for v in views]
    metadata = {"layout_name": "h36m", "num_joints": 17,
                "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}  # fmt: skip
    path_3d, path_2d = tmp_path / "data_3d_h36m.npz", tmp_path / "data_2d_h36m_gt.npz"
    np.savez_compressed(path_3d, positions_3d=positions_3d)
    np.savez_compressed(path_2d, positions_2d=positions_2d, metadata=metadata)
    return path_3d, path_2d


def test_h36m_protocol_merges_takes_per_action(h36m_npz: tuple[Path, Path]) -> None:
    path_3d, path_2d = h36m_npz
    mean = np.zeros((17, 3))
    table = h36m_lifting_protocol(MeanPoseLifter(mean), path_3d, path_2d, subjects=("S9",), flip=False)
    assert table.actions == ["Sitting", "Walking"] and table.frames == {"Sitting": 48, "Walking": 96}
    pairs = h36m.lifting_pairs(
        h36m.load_h36m_3d(path_3d, subjects=["S9"]), h36m.load_h36m_2d(path_2d)[0], subjects=["S9"]
    )
    sitting = np.concatenate([p["positions"] for p in pairs if p["action"] == "Sitting"])
    expected = 1000 * np.linalg.norm(sitting - sitting[:, :1], axis=-1).mean()  # zero prediction: mean joint norm
    assert table.values["mpjpe"]["Sitting"] == pytest.approx(expected, rel=1e-5)


def test_cli_eval_h36m_lifting(h36m_npz: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path_3d, path_2d = h36m_npz
    model_file = tmp_path / "gast.safetensors"
    model = models.create("gast-net-9", channels=8).eval()
    checkpoint.save(model_file, model, "gast-net-9", {"channels": 8}, task="lifting", skeleton="h36m17")
    args = ["eval", str(model_file), "--protocol", "h36m-lifting", "--data", str(path_3d)]
    assert main([*args, "--data-2d", str(path_2d)]) == 0
    out = capsys.readouterr().out
    assert "Human3.6M (S9, S11)" in out and "| Walking | 144 |" in out and "N-MPJPE" in out and "MPJVE" in out
    assert main(args) == 2  # --data-2d missing: a one-line user error


def test_task_runs_receptive_field_windows_in_strided_mode() -> None:
    task = LiftingTask("gast-net-9", {"channels": 8, "skeleton": "h36m17"}, optim={"flip_test": True})
    task.eval()
    single = task._predict(torch.randn(2, 9, 17, 2))
    assert task.model.strided and single.shape == (2, 1, 17, 3)
    chunk = task._predict(torch.randn(2, 12, 17, 2))
    assert not task.model.strided and chunk.shape == (2, 4, 17, 3)
    x = torch.randn(1, 9, 17, 2)
    task.model.strided = False
    layer_by_layer = task.model(x)
    np.testing.assert_allclose(task._run(x).detach(), layer_by_layer.detach(), atol=1e-5)


def _tiny_lifting_npz(path: Path, frames: int, outputs: int, samples: int = 8) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(scale=0.3, size=(samples, frames, 17, 2)).astype(np.float32)
    y = rng.normal(scale=0.3, size=(samples, outputs, 17, 3)).astype(np.float32)
    np.savez(path, x=x, y=y)
    return path


@pytest.mark.parametrize(
    ("preset", "frames", "outputs"), [("gast-net_27_h36m.yaml", 27, 27), ("gast-net_27_cmu.yaml", 58, 32)]
)
def test_presets_run_a_few_steps(tmp_path: Path, preset: str, frames: int, outputs: int) -> None:
    data = _tiny_lifting_npz(tmp_path / "split.npz", frames, outputs)
    overrides = [f"data.train={data}", f"data.val={data}", "data.num_workers=0", "data.batch_size=4",
                 "trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "trainer.max_epochs=1",
                 "trainer.progress_bar=false", f"output={tmp_path}"]  # fmt: skip
    if preset.endswith("h36m.yaml"):
        overrides.append("model.kwargs.channels=16")  # the architecture of the preset, narrower for the test
    result = train(load_config(CONFIGS / "lifting" / preset, overrides))
    assert result.model_file.is_file() and np.isfinite(result.metrics["val/mpjpe"])
    info = checkpoint.read_metadata(result.model_file)
    assert info.model_name == "gast-net-27" and info.task == "lifting"
