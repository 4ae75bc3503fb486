"""Autoregressive generation with a sliding window: batched, projected onto rotations, stable over 20 s."""

from __future__ import annotations

import roma
import torch

from skeletal import models
from skeletal.inference.generation import generate, project_frames
from skeletal.skeletons import from_edges

SKELETON = from_edges("chain4", [f"j{i}" for i in range(4)], [(0, 1), (1, 2), (2, 3)], 0)
TINY = dict(num_layers=1, num_heads=2, model_dim=8, feedforward_dim=16, window=20)


def seed(n: int = 2, t: int = 10) -> torch.Tensor:
    return roma.random_rotmat((n, t, 4)).reshape(n, t, 4, 9)


def assert_rotations(frames: torch.Tensor) -> None:
    matrices = frames.reshape(-1, 3, 3)
    eye = torch.eye(3).expand_as(matrices)
    torch.testing.assert_close(matrices @ matrices.transpose(-1, -2), eye, atol=1e-4, rtol=0)
    torch.testing.assert_close(torch.linalg.det(matrices), torch.ones(len(matrices)), atol=1e-4, rtol=0)


def test_sliding_window_matches_manual_loop() -> None:
    model = models.create("st-transformer", skeleton=SKELETON, **TINY).eval()
    start = seed(2, 6)
    out = generate(model, start, 3)
    assert out.shape == (2, 3, 4, 9)
    window = start
    for step in range(3):
        nxt = project_frames(model(window)[:, -1], "matrix")
        torch.testing.assert_close(out[:, step], nxt)
        window = torch.cat([window[:, 1:], nxt[:, None]], dim=1)  # drop the oldest, append the new frame


def test_explicit_window_and_training_mode_restored() -> None:
    model = models.create("st-transformer", skeleton=SKELETON, **TINY).train()
    start = seed(1, 8)
    out = generate(model, start, 2, window=3)
    assert model.training
    torch.testing.assert_close(out[:, 0], project_frames(model.eval()(start[:, -3:])[:, -1], "matrix"))


def test_zero_velocity_repeats_last_frame() -> None:
    model = models.create("zero-velocity", skeleton=SKELETON)
    start = seed(2, 5)
    out = generate(model, start, 7)
    torch.testing.assert_close(out, start[:, -1:].expand(2, 7, 4, 9))


def test_long_horizon_20_seconds_at_60_fps() -> None:
    """1200 frames (20 s at 60 fps) from a random tiny ST-Transformer: finite and valid rotations throughout.

    About 6 s on one core (one model call and one SVD projection per frame).
    """
    model = models.create("st-transformer", skeleton=SKELETON, **TINY)
    out = generate(model, seed(2, 20), 1200)
    assert out.shape == (2, 1200, 4, 9)
    assert torch.isfinite(out).all()
    assert_rotations(out)
    assert out[:, -60:].std(dim=1).max() < 10  # bounded: projected rotations cannot blow up


def test_quaternion_generation_unit_norm_and_seq2seq_rollout() -> None:
    model = models.create("st-transformer", skeleton=SKELETON, representation="quaternion", **TINY)
    out = generate(model, torch.randn(1, 6, 4, 4), 30)
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(1, 30, 4))
    recurrent = models.create("seq2seq", skeleton=SKELETON, hidden_size=16)
    rolled = generate(recurrent, seed(2, 6), 300)
    assert rolled.shape == (2, 300, 4, 9) and torch.isfinite(rolled).all()
    assert_rotations(rolled)


def test_project_frames_fixes_perturbed_rotations() -> None:
    rotations = roma.random_rotmat(5)
    noisy = rotations.reshape(5, 9) + 0.01 * torch.randn(5, 9)
    projected = project_frames(noisy, "matrix")
    assert_rotations(projected)
    assert (projected - rotations.reshape(5, 9)).abs().max() < 0.05
    six = project_frames(torch.randn(3, 6), "rotation_6d")
    torch.testing.assert_close(project_frames(six, "rotation_6d"), six)
