"""Evaluation protocols of motion prediction, augmentation (mirror, reverse) and the training representations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skeletal import models, skeletons
from skeletal.data.augment_prediction import mirror_positions, mirror_rotations, reverse_time
from skeletal.data.expmap import expmap_rotations
from skeletal.errors import ConfigError
from skeletal.evaluation.long_horizon import long_horizon_protocol, random_windows
from skeletal.evaluation.prediction import (
    CMU_TRUE_MS,
    PredictionTable,
    amass_protocol,
    to_matrices,
)
from skeletal.geometry import axis_angle_to_matrix, convert_rotations, forward_kinematics
from skeletal.tasks.prediction import PredictionTask, next_step_loss


def _random_rotations(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.as_tensor(axis_angle_to_matrix(torch.randn(*shape, 3, generator=generator, dtype=torch.float64)))


@pytest.mark.parametrize("representation", ["matrix", "quaternion", "axis_angle", "rotation_6d"])
def test_mirror_twice_is_identity(representation: str) -> None:
    matrices = _random_rotations((4, 32))
    x = torch.as_tensor(convert_rotations(matrices, "matrix", representation, flat_matrix=True))
    twice = mirror_rotations(mirror_rotations(x, "h36m32", representation), "h36m32", representation)
    back = torch.as_tensor(convert_rotations(twice, representation, "matrix"))
    assert torch.allclose(back, matrices, atol=1e-9)
    once = torch.as_tensor(convert_rotations(mirror_rotations(x, "h36m32", representation), representation, "matrix"))
    assert not torch.allclose(once, matrices, atol=1e-3)
    assert torch.allclose(torch.linalg.det(once), torch.ones(4, 32, dtype=torch.float64), atol=1e-9)


def test_mirror_commutes_with_forward_kinematics() -> None:
    # h36m32: left and right legs differ in the sign of x (the left/right axis); the arms' measured offsets are not
    # exactly symmetric, so FK runs on the symmetrised offsets (offset[mirror(j)] = S offset[j]).
    skeleton = skeletons.get("h36m32")
    measured = torch.as_tensor(np.asarray(skeleton.offsets, dtype=np.float64))
    sign = torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    left_leg, right_leg = measured[list(skeleton.left[:3])], measured[list(skeleton.right[:3])]
    assert torch.allclose(left_leg, right_leg * sign)
    offsets = (measured + measured[list(skeleton.flip_permutation)] * sign) / 2
    rotations = _random_rotations((3, 32), seed=1)
    _, positions = forward_kinematics(rotations, offsets, skeleton.parents)
    flat = rotations.reshape(3, 32, 9)
    mirrored = mirror_rotations(flat, skeleton).reshape(3, 32, 3, 3)
    _, mirrored_positions = forward_kinematics(mirrored, offsets, skeleton.parents)
    assert torch.allclose(torch.as_tensor(mirrored_positions), mirror_positions(torch.as_tensor(positions), skeleton))


def test_reverse_time() -> None:
    x = torch.arange(2 * 5 * 3 * 4, dtype=torch.float32).reshape(2, 5, 3, 4)
    assert torch.equal(reverse_time(x)[:, 0], x[:, -1])
    assert torch.equal(reverse_time(reverse_time(x)), x)


def test_expmap_rotations_convention_and_round_trip() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(2, 3 + 3 * 4))
    matrices = expmap_rotations(rows, 4, "matrix").reshape(2, 4, 3, 3)
    # Stored exp-map omega is the row-convention rotation: our local rotation is R(-omega) = R(omega)^T.
    expected = np.swapaxes(np.asarray(axis_angle_to_matrix(rows[:, 3:].reshape(2, 4, 3))), -1, -2)
    np.testing.assert_allclose(matrices, expected, atol=1e-6)
    for representation in ("quaternion", "axis_angle", "rotation_6d"):
        converted = expmap_rotations(rows, 4, representation)
        np.testing.assert_allclose(to_matrices(converted, representation), expected, atol=1e-5)


def test_to_matrices_projects_to_nearest_rotation() -> None:
    rotation = _random_rotations((1,), seed=3)[0].numpy()
    noisy = rotation + 1e-3 * np.random.default_rng(1).normal(size=(3, 3))
    projected = to_matrices(noisy.reshape(1, 9), "matrix")[0]
    np.testing.assert_allclose(projected @ projected.T, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(projected, rotation, atol=5e-3)


def test_cmu_horizons_real_time() -> None:
    assert CMU_TRUE_MS == (33.3, 66.7, 133.3, 166.7, 233.3, 416.7)


def test_table_average_and_markdown() -> None:
    table = PredictionTable("toy", (80, 160), units={"euler": "rad"})
    table.add("euler", "a", [1.0, 2.0])
    table.add("euler", "b", [3.0, 6.0])
    table.average("euler")
    assert table.values["euler"]["average"] == [2.0, 4.0]
    assert table.flat()["euler/average/160ms"] == 4.0
    assert "| average | 2.000 | 4.000 |" in table.to_markdown()


def test_amass_protocol_cumulative_mean() -> None:
    # A perfect prediction except one joint rotated by 0.1 rad about z from frame 12 on: the joint-angle error
    # per frame is 0.1 / 15 joints... on global rotations the error propagates to the children of that joint.
    windows = np.broadcast_to(np.eye(3).reshape(9), (2, 144, 15, 9)).astype(np.float32).copy()
    predicted = windows[:, 120:].copy()
    turn = np.asarray(axis_angle_to_matrix(np.array([0.0, 0.0, 0.1]))).reshape(9)
    leaf = 14  # amass15 index of a leaf joint (SMPL 19, right elbow has child 21 outside the major joints)
    predicted[:, 12:, leaf] = turn
    table = amass_protocol(predicted, windows, "matrix")
    angle = table.values["joint_angle"]["all"]
    per_frame = 0.1 / 15
    expected = [0.0, 0.0, per_frame * 6 / 18, per_frame * 12 / 24]
    np.testing.assert_allclose(angle, expected, atol=1e-6)


def test_long_horizon_protocol_shapes() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(125)[None, :, None, None] / 25
    predicted = np.sin(2 * np.pi * t + rng.normal(size=(4, 1, 5, 3)))
    test = random_windows([rng.normal(size=(60, 5, 3)) for _ in range(3)], 25, 16)
    result = long_horizon_protocol(predicted, test, fps=25)
    assert result.seconds == [1, 2, 3, 4, 5]
    assert np.all(np.asarray(result.kld) > 0)
    assert result.reference_entropy > max(result.entropy)  # white noise is spread over every frequency


@pytest.mark.parametrize("representation", ["matrix", "quaternion", "axis_angle", "rotation_6d"])
def test_task_trains_on_every_representation(representation: str) -> None:
    torch.manual_seed(0)
    kwargs = dict(skeleton="h36m32", representation=representation, num_layers=1, num_heads=2, model_dim=8,
                  feedforward_dim=8, window=12)  # fmt: skip
    task = PredictionTask("st-transformer", kwargs, optim={"representation": representation, "warmup": 10,
                                                           "seed_frames": 8, "horizon": 4})  # fmt: skip
    size = {"matrix": 9, "quaternion": 4, "axis_angle": 3, "rotation_6d": 6}[representation]
    matrices = _random_rotations((2, 12, 32), seed=2)
    x = torch.as_tensor(convert_rotations(matrices, "matrix", representation, flat_matrix=True)).float()
    assert x.shape[-1] == size
    loss = task.training_step((x,), 0)
    loss.backward()
    assert torch.isfinite(loss)
    assert next_step_loss(x, x) >= 0


def test_seq2seq_trains_on_sampling_loss() -> None:
    torch.manual_seed(0)
    task = PredictionTask("seq2seq", {"skeleton": "h36m32", "hidden_size": 8, "window": 6},
                          optim={"seed_frames": 6, "horizon": 4})  # fmt: skip
    x = torch.as_tensor(convert_rotations(_random_rotations((2, 10, 32)), "matrix", "matrix", flat_matrix=True)).float()
    loss = task.training_step((x,), 0)
    expected = task.model.sampling_loss(x[:, :6], x[:, 6:])
    assert torch.allclose(loss, expected)


def test_zero_velocity_model_equals_copying_the_last_frame() -> None:
    model = models.create("zero-velocity", skeleton="h36m32", representation="matrix", window=8)
    from skeletal.evaluation.prediction import rollout_windows

    seeds = convert_rotations(_random_rotations((3, 8, 32)), "matrix", "matrix", flat_matrix=True).numpy()
    predicted = rollout_windows(model, seeds.astype(np.float32), 5)
    np.testing.assert_allclose(predicted, np.repeat(seeds[:, -1:], 5, axis=1), atol=1e-5)


def _write_h36m(root, action: str, rng: np.random.Generator) -> None:
    folder = root / "S5"
    folder.mkdir(parents=True, exist_ok=True)
    for subaction in (1, 2):
        frames = np.cumsum(0.01 * rng.normal(size=(420, 99)), axis=0)
        np.savetxt(folder / f"{action}_{subaction}.txt", frames, delimiter=",", fmt="%.6f")


@pytest.mark.parametrize("samples", [8, 256])
def test_h36m_protocol_on_files_in_the_benchmark_format(tmp_path, rng: np.random.Generator, samples: int) -> None:
    from skeletal.data.h36m import load_h36m_expmap, srnn_windows, windows_256
    from skeletal.evaluation.prediction import h36m_protocol

    _write_h36m(tmp_path, "walking", rng)
    zero = models.create("zero-velocity", skeleton="h36m32", representation="matrix", window=50)
    table = h36m_protocol(zero, tmp_path, actions=["walking"], samples=samples)
    assert table.horizons_ms == (80, 160, 320, 400)
    errors = np.asarray(table.values["euler"]["walking"])
    assert np.all(errors > 0) and np.all(np.diff(errors) > 0)
    # the same value computed directly with the metric on the exp-maps (R(omega), the reference's convention)
    from skeletal.metrics import euler_error

    data = load_h36m_expmap(tmp_path, subjects=(5,), actions=["walking"])
    draw = srnn_windows if samples == 8 else windows_256
    windows = draw(data, "walking", 50, 25)
    target = windows[:, 50:, 3:].reshape(len(windows), 25, 32, 3)
    copies = np.repeat(windows[:, 49:50, 3:].reshape(len(windows), 1, 32, 3), 25, axis=1)
    direct = np.asarray(euler_error(copies, target, representation="axis_angle"))[[1, 3, 7, 9]]
    np.testing.assert_allclose(errors, direct, rtol=1e-4, atol=1e-6)


def test_training_windows_are_reversed_and_mirrored_as_configured() -> None:
    kwargs = dict(skeleton="h36m32", representation="matrix", num_layers=1, num_heads=2, model_dim=8,
                  feedforward_dim=8, window=12)  # fmt: skip
    x = torch.as_tensor(
        convert_rotations(_random_rotations((64, 12, 32), seed=4), "matrix", "matrix", flat_matrix=True)
    )
    x = x.float()
    plain = PredictionTask("st-transformer", kwargs, optim={"warmup": 10})
    assert torch.equal(plain.augment(x), x)  # off by default
    always = PredictionTask("st-transformer", kwargs, optim={"warmup": 10, "reverse_train": 1.0, "mirror_train": 1.0})
    expected = mirror_rotations(torch.flip(x, dims=(1,)), "h36m32", "matrix")
    torch.testing.assert_close(always.augment(x), expected)
    half = PredictionTask("st-transformer", kwargs, optim={"warmup": 10, "reverse_train": 0.5, "mirror_train": 0.5})
    out = half.augment(x)
    torch.testing.assert_close(half.augment(x), out)  # same step, same draws (a resumed run draws the same)
    reversed_ = torch.isclose(out, torch.flip(x, dims=(1,)), atol=1e-6).flatten(1).all(1)
    mirrored = torch.isclose(out, mirror_rotations(x, "h36m32", "matrix"), atol=1e-6).flatten(1).all(1)
    both = torch.isclose(out, expected, atol=1e-6).flatten(1).all(1)
    untouched = (out == x).flatten(1).all(1)
    assert (reversed_ | mirrored | both | untouched).all()  # every window is one of the four outcomes
    assert 5 < int(untouched.sum()) < 32 and 5 < int(both.sum()) < 32  # about 1/4 each of 64


def test_training_crops_are_seeded_windows_of_the_data() -> None:
    """``optim.train_frames``: each window gives ``train_frames`` consecutive frames at a start drawn per window,
    the same draws for the same step (exact on resume); a crop longer than the data is a config error."""
    kwargs = {"skeleton": "h36m32", "num_layers": 1, "model_dim": 8, "num_heads": 2, "feedforward_dim": 8,
              "window": 6}  # fmt: skip
    x = torch.arange(16 * 20, dtype=torch.float32).reshape(16, 20, 1, 1).expand(16, 20, 32, 9).contiguous()
    task = PredictionTask("st-transformer", kwargs, optim={"warmup": 10, "train_frames": 6})
    crop = task.crop(x)
    assert crop.shape == (16, 6, 32, 9)
    starts = crop[:, 0, 0, 0] - torch.arange(16) * 20  # frame index of each crop's first frame
    torch.testing.assert_close(crop[:, :, 0, 0], x[:, :6, 0, 0] + starts[:, None])  # consecutive frames
    assert starts.min() >= 0 and starts.max() <= 14 and len(set(starts.tolist())) > 3
    torch.testing.assert_close(task.crop(x), crop)
    assert torch.equal(PredictionTask("st-transformer", kwargs, optim={"warmup": 10}).crop(x), x)  # off by default
    with pytest.raises(ConfigError, match="train_frames"):
        PredictionTask("st-transformer", kwargs, optim={"warmup": 10, "train_frames": 21}).crop(x)
