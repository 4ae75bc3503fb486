"""Long generation and `skeletal predict --seconds` (npz + GIF), seeds (npz, BVH, dataset sample) and the CMU
protocol on the real benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skeletal import checkpoint, models
from skeletal.cli import main
from skeletal.errors import LayoutError
from skeletal.evaluation.forecast import forecast
from skeletal.evaluation.prediction import CMU_HORIZONS_MS, cmu_protocol, cmu_test_windows
from skeletal.geometry import axis_angle_to_matrix

TINY = dict(num_layers=1, num_heads=2, model_dim=8, feedforward_dim=16, dropout=0.0, window=10)


def _model_file(tmp_path: Path, skeleton: str) -> Path:
    torch.manual_seed(0)
    model = models.create("st-transformer", skeleton=skeleton, representation="matrix", **TINY)
    path = tmp_path / "tiny.safetensors"
    checkpoint.save(path, model, "st-transformer", {"skeleton": skeleton, "representation": "matrix", **TINY},
                    task="prediction", skeleton=skeleton)  # fmt: skip
    return path


def _seed_npz(tmp_path: Path, frames: int = 12) -> Path:
    rng = np.random.default_rng(0)
    rotations = np.asarray(axis_angle_to_matrix(0.3 * rng.normal(size=(frames, 32, 3))))
    path = tmp_path / "seed.npz"
    np.savez(path, rotations=rotations, fps=25.0, layout="h36m32")
    return path


def test_twenty_seconds_finite_with_gif(tmp_path: Path) -> None:
    result = forecast(_model_file(tmp_path, "h36m32"), str(_seed_npz(tmp_path)), 20.0, tmp_path / "out",
                      render_every=100)  # fmt: skip
    with np.load(result.npz) as archive:
        rotations, positions = archive["rotations"], archive["positions"]
        assert rotations.shape == (500, 32, 3, 3)  # 20 s at 25 fps, every frame kept
        assert positions.shape == (510, 32, 3)  # 10 seed frames + 500
        assert np.isfinite(positions).all()
        assert float(archive["fps"]) == 25.0 and str(archive["layout"]) == "h36m32"
        assert json.loads(str(archive["metadata"]))["generated_frames"] == 500
    # valid rotations all the way: no blow-up after 500 autoregressive steps
    eye = np.broadcast_to(np.eye(3), rotations.shape)
    np.testing.assert_allclose(rotations @ np.swapaxes(rotations, -1, -2), eye, atol=1e-4)
    assert np.abs(positions).max() < 10 * np.abs(positions[:10]).max()  # bones keep their lengths
    assert result.animation is not None
    with Image.open(result.animation) as gif:
        assert gif.format == "GIF" and gif.n_frames == 6  # frames 0, 100, ..., 500 of 510
        assert gif.size[0] > gif.size[1]  # prediction beside the ground truth (2 seed frames continue it)


def test_cli_predict_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model_file, seed = _model_file(tmp_path, "h36m32"), _seed_npz(tmp_path)
    code = main(
        [
            "predict",
            str(model_file),
            str(seed),
            "--seconds",
            "0.4",
            "--out",
            str(tmp_path / "cli"),
            "--render-every",
            "10",
        ]
    )
    assert code == 0
    assert (tmp_path / "cli" / "prediction.npz").is_file() and (tmp_path / "cli" / "prediction.gif").is_file()
    assert "prediction.gif" in capsys.readouterr().out


def test_seed_layout_mismatch(tmp_path: Path, shared_data: Path) -> None:
    model_file = _model_file(tmp_path, "cmu38")
    with pytest.raises(LayoutError, match="cmu38"):
        forecast(model_file, str(shared_data / "cmu-mocap-raw" / "01_01.bvh"), 1.0, tmp_path / "bvh")
    with pytest.raises(LayoutError, match="h36m32"):
        forecast(model_file, str(_seed_npz(tmp_path)), 1.0, tmp_path / "npz")
    assert main(["predict", str(model_file), str(_seed_npz(tmp_path)), "--seconds", "1", "--out", str(tmp_path)]) == 2
    h36m_model = _model_file(tmp_path, "h36m32")
    with pytest.raises(LayoutError, match="the model expects 'h36m32'; use a model on 'cmu38', e.g. pretrained:"):
        forecast(
            h36m_model,
            "cmu:test/walking/walking_1.txt",
            1.0,
            tmp_path / "cmu",
            data_root=shared_data / "cmu-mocap-expmap",
        )


def test_dataset_sample_seed_has_ground_truth(tmp_path: Path, shared_data: Path) -> None:
    result = forecast(_model_file(tmp_path, "cmu38"), "cmu:test/walking/walking_1.txt", 0.5, tmp_path / "cmu",
                      data_root=shared_data / "cmu-mocap-expmap", render_every=15)  # fmt: skip
    with np.load(result.npz) as archive:
        assert archive["rotations"].shape == (30, 38, 3, 3)  # 0.5 s at 60 fps
        assert archive["ground_truth_positions"].shape == archive["positions"].shape == (40, 38, 3)
        np.testing.assert_allclose(archive["positions"][:10], archive["ground_truth_positions"][:10], atol=1e-3)


def test_cmu_protocol_zero_velocity(shared_data: Path) -> None:
    root = shared_data / "cmu-mocap-expmap"
    zero = models.create("zero-velocity", skeleton="cmu38", representation="matrix", window=50)
    table = cmu_protocol(zero, root, actions=["walking", "running"])
    assert table.horizons_ms == CMU_HORIZONS_MS
    assert list(table.values["euler"]) == ["walking", "running", "average"]
    walking = np.asarray(table.values["mpjpe"]["walking"])
    assert np.all(np.diff(walking) > 0) and 5 < walking[0] < 100  # mm; error grows with the horizon
    # the same numbers from a predictions array (last seed frame repeated)
    windows = cmu_test_windows(root, "matrix", 50, ["walking", "running"])
    copies = {a: np.repeat(w[:, 49:50], 25, axis=1) for a, w in windows.items()}
    again = cmu_protocol(copies, root, "matrix", actions=["walking", "running"])
    np.testing.assert_allclose(again.values["euler"]["average"], table.values["euler"]["average"], rtol=1e-6)


def test_cli_eval_protocol(tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _model_file(tmp_path, "cmu38")
    assert main(["eval", str(path), "--protocol", "cmu", "--data", str(shared_data / "cmu-mocap-expmap")]) == 0
    output = capsys.readouterr().out
    assert "LTD's protocol" in output and "| average | tiny (ours) |" in output
    assert "| walking | MSR-GCN | 6.31 |" in output and "| average | zero-velocity (ours) |" in output


def test_cmu_ltd_positions_complete_as_ltd() -> None:
    """The 6 copied joints take the ground truth, the 7 duplicates their partner's prediction, the rest stays."""
    from skeletal.evaluation.prediction import CMU_COPIED_JOINTS, CMU_DUPLICATE_JOINTS, cmu_ltd_positions

    rng = np.random.default_rng(0)
    predicted, target = rng.normal(size=(2, 38, 3)), rng.normal(size=(2, 38, 3))
    completed = cmu_ltd_positions(predicted, target)
    for joint in range(38):
        if joint in CMU_COPIED_JOINTS:
            expected = target[:, joint]
        elif joint in CMU_DUPLICATE_JOINTS:
            expected = predicted[:, CMU_DUPLICATE_JOINTS[joint]]
        else:
            expected = predicted[:, joint]
        np.testing.assert_array_equal(completed[:, joint], expected)
    assert len(CMU_COPIED_JOINTS) + len(CMU_DUPLICATE_JOINTS) == 13


def test_cmu_protocol_by_hand(shared_data: Path) -> None:
    """One joint tilted by 0.2 rad in every predicted frame: the LTD Euler error is that joint's Euler-angle change
    alone (every other angle is equal; no variance mask), the 3D errors are the FK distances averaged over all 38
    joints (``mpjpe``) or the 25 predicted ones (``mpjpe25``), computed here by hand."""
    from skeletal.evaluation.prediction import cmu_positions
    from skeletal.geometry import matrix_to_euler

    root = shared_data / "cmu-mocap-expmap"
    windows = cmu_test_windows(root, "matrix", 50, ["walking"])
    target = windows["walking"][:, 50:]
    joint = 17  # lower neck, predicted by LTD; moves the upper neck and the head
    tilt = np.asarray(axis_angle_to_matrix(np.array([0.2, 0.0, 0.0])))
    matrices = target.reshape(*target.shape[:-1], 3, 3).astype(np.float64)
    moved = matrices.copy()
    moved[..., joint, :, :] = matrices[..., joint, :, :] @ tilt
    table = cmu_protocol({"walking": moved.reshape(target.shape)}, root, "matrix", actions=["walking"])
    frames = [1, 3, 7, 9, 13, 24]
    # Euler angles of R(omega) = our (column-convention) matrices transposed
    euler_moved = np.asarray(matrix_to_euler(np.swapaxes(moved[..., joint, :, :], -1, -2)))
    euler_target = np.asarray(matrix_to_euler(np.swapaxes(matrices[..., joint, :, :], -1, -2)))
    expected_euler = np.linalg.norm(euler_moved - euler_target, axis=-1).mean(axis=0)[frames]
    np.testing.assert_allclose(table.values["euler"]["walking"], expected_euler, rtol=1e-5)
    assert np.all(np.asarray(expected_euler) > 0.1)
    # by hand: FK of both, per-joint distances, mean over all 38 joints (copied joints are not descendants)
    distances = np.linalg.norm(cmu_positions(moved) - cmu_positions(matrices), axis=-1)  # (8, 25, 38)
    np.testing.assert_allclose(table.values["mpjpe"]["walking"], distances.mean(axis=(0, 2))[frames], rtol=1e-5)
    used = [j for j in range(38) if j not in (0, 1, 2, 7, 8, 13, 16, 20, 29, 24, 27, 33, 36)]
    expected25 = distances[..., used].mean(axis=(0, 2))[frames]
    np.testing.assert_allclose(table.values["mpjpe25"]["walking"], expected25, rtol=1e-5)
    assert np.all(np.asarray(table.values["mpjpe"]["walking"]) > 0)
