"""skeletal.metrics: golden values computed by hand, invariants, torch/numpy inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from skeletal.errors import ShapeError
from skeletal.geometry import axis_angle_to_matrix, forward_kinematics
from skeletal.metrics import (
    AMASS_PCK_THRESHOLDS,
    euler_error,
    joint_angle_error,
    mpjpe,
    mpjpe_loss,
    mpjve,
    n_mpjpe,
    p_mpjpe,
    pck,
    pck_auc,
    per_joint_mpjpe,
    positional_error,
    power_spectrum,
    ps_entropy,
    ps_kld,
    topk_accuracy,
)


def rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# --- recognition ----------------------------------------------------------------------------------------------------


def test_topk_accuracy_hand_example():
    logits = np.array([[0.1, 0.5, 0.4], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.35, 0.25, 0.4]])
    labels = np.array([2, 0, 1, 1])
    # top-1 predictions 1, 0, 2, 2: only sample 1 is right; top-2 sets {1,2} {0,*} {2,1} {2,0}: sample 3 misses
    assert topk_accuracy(logits, labels, k=1) == 0.25
    assert topk_accuracy(torch.tensor(logits), torch.tensor(labels), k=2) == 0.75
    assert topk_accuracy(logits, labels, k=3) == 1.0
    with pytest.raises(ShapeError, match="k must be"):
        topk_accuracy(logits, labels, k=4)
    with pytest.raises(ShapeError, match=r"\(N, K\)"):
        topk_accuracy(logits, labels[:3])


# --- pose -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def poses() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(2, 5, 17, 3))  # (N, T, J, 3)


def test_mpjpe_and_per_joint_golden():
    target = np.zeros((3, 4, 3))
    pred = target.copy()
    pred[:, 1] = [3.0, 4.0, 0.0]  # joint 1 is 5 away in every frame
    np.testing.assert_allclose(per_joint_mpjpe(pred, target), [0.0, 5.0, 0.0, 0.0])
    assert mpjpe(pred, target) == pytest.approx(1.25)
    assert isinstance(mpjpe(torch.tensor(pred), torch.tensor(target)), float)
    assert mpjpe(pred + [3.0, 4.0, 0.0], target + [3.0, 4.0, 0.0]) == pytest.approx(1.25)
    with pytest.raises(ShapeError, match="same shape"):
        mpjpe(pred, target[:, :3])


def test_mpjpe_loss_is_differentiable(poses):
    pred = torch.tensor(poses, requires_grad=True)
    loss = mpjpe_loss(pred, torch.tensor(poses) + torch.tensor([0.0, 0.0, 2.0], dtype=torch.float64))
    assert loss.item() == pytest.approx(2.0)
    loss.backward()
    assert torch.isfinite(pred.grad).all()


def test_p_mpjpe_of_similar_copy_is_zero(poses):
    rotation = axis_angle_to_matrix(np.array([0.3, -1.2, 0.7]))
    moved = 1.7 * poses @ rotation.T + np.array([0.5, -2.0, 1.0])
    assert mpjpe(moved, poses) > 0.5
    assert p_mpjpe(moved, poses) == pytest.approx(0.0, abs=1e-9)
    assert p_mpjpe(torch.tensor(moved, dtype=torch.float32), torch.tensor(poses, dtype=torch.float32)) < 1e-5
    # a mirror image is not a rotation: reflections stay an error under Protocol #2
    assert p_mpjpe(poses * np.array([-1.0, 1.0, 1.0]), poses) > 0.1


def test_n_mpjpe_of_scaled_copy_is_zero(poses):
    assert mpjpe(0.5 * poses, poses) == pytest.approx(0.5 * np.linalg.norm(poses, axis=-1).mean())
    assert n_mpjpe(0.5 * poses, poses) == pytest.approx(0.0, abs=1e-12)
    # scale only: a translated copy is not fixed
    assert n_mpjpe(poses + 1.0, poses) > 0.1


def test_mpjve_golden(poses):
    assert mpjve(poses + np.array([0.1, 0.2, 0.3]), poses) == pytest.approx(0.0, abs=1e-12)
    drift = poses + np.arange(5)[None, :, None, None] * np.array([3.0, 4.0, 0.0])  # +5 per frame on every joint
    assert mpjve(drift, poses) == pytest.approx(5.0)
    with pytest.raises(ShapeError, match="2 frames"):
        mpjve(poses[:, :1], poses[:, :1])


# --- motion: Euler, joint angle, positional, PCK ----------------------------------------------------------------------


def _expmap_sequence(num_frames: int = 6, num_joints: int = 4) -> np.ndarray:
    """(T, V, 3): joint 1 turns about x by 0.1 t, joint 2 about z, joint 3 static, root (0) spins."""
    t = np.arange(num_frames, dtype=np.float64)
    sequence = np.zeros((num_frames, num_joints, 3))
    sequence[:, 0] = np.stack([0.2 * t, 0.3 + 0 * t, 0 * t], axis=-1)
    sequence[:, 1, 0] = 0.1 * t
    sequence[:, 2, 2] = 0.05 * t - 0.2
    sequence[:, 3] = [0.1, 0.2, 0.3]
    return sequence


def test_euler_error_identity_and_single_angle_change():
    target = _expmap_sequence()
    np.testing.assert_allclose(euler_error(target, target), np.zeros(6))
    pred = target.copy()
    pred[:, 1, 0] += 0.2  # one angle off by 0.2 rad in every frame
    np.testing.assert_allclose(euler_error(pred, target), np.full(6, 0.2), atol=1e-12)
    assert euler_error(pred, target, per_frame=False) == pytest.approx(0.2)
    # the root rotation is ignored; angles static in the ground truth (joint 3) too, unless asked
    pred[:, 0] += 1.0
    pred[:, 3, 1] += 0.3
    np.testing.assert_allclose(euler_error(pred, target), np.full(6, 0.2), atol=1e-12)
    with_static = euler_error(pred, target, ignore_static=False)
    assert np.all(with_static > 0.2)
    # matrices give the same numbers as exp-maps; leading axes are sequences and are averaged
    np.testing.assert_allclose(euler_error(axis_angle_to_matrix(pred), axis_angle_to_matrix(target)), 0.2)
    pred_far = target.copy()
    pred_far[:, 1, 0] += 0.4
    batch = euler_error(torch.tensor(np.stack([pred, pred_far])), torch.tensor(np.stack([target, target])))
    np.testing.assert_allclose(batch, np.full(6, 0.3), atol=1e-12)


def test_joint_angle_error_golden():
    target = np.tile(np.eye(3), (2, 4, 3, 1, 1))  # (N=2, T=4, V=3, 3, 3)
    pred = target.copy()
    pred[:, :, 1] = rot_z(0.6)  # one joint of three off by 0.6 rad
    np.testing.assert_allclose(joint_angle_error(pred, target), np.full(4, 0.2))
    np.testing.assert_allclose(joint_angle_error(pred, target, joint_reduction="sum"), np.full(4, 0.6))
    pred[1, 3, 2] = rot_z(math.pi - 1e-9) @ rot_z(1e-9)  # exactly pi in the second sample's last frame
    assert joint_angle_error(pred, target)[3] == pytest.approx((0.6 + 0.6 + math.pi) / 6)
    assert joint_angle_error(pred, target, per_frame=False) == pytest.approx(0.2 + math.pi / 6 / 4)


def test_positional_error_after_forward_kinematics():
    parents, offsets = [-1, 0, 1], np.array([[0.0, 0, 0], [1.0, 0, 0], [1.0, 0, 0]])
    target_local = np.tile(np.eye(3), (1, 2, 3, 1, 1))  # (N, T, V, 3, 3)
    pred_local = target_local.copy()
    pred_local[0, 1, 1] = rot_z(math.pi / 2)  # frame 1: the last joint swings from (2,0,0) to (1,1,0)
    _, target_positions = forward_kinematics(target_local, offsets, parents)
    _, pred_positions = forward_kinematics(pred_local, offsets, parents)
    np.testing.assert_allclose(positional_error(pred_positions, target_positions), [0.0, math.sqrt(2) / 3])
    np.testing.assert_allclose(positional_error(pred_positions, target_positions, joint_reduction="sum"), [0, 2**0.5])


def _pck_example(num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    target = np.zeros((num_frames, 4, 3))
    pred = target.copy()
    pred[:, :, 0] = [0.0005, 0.003, 0.04, 0.5]  # metres: joint distances
    return pred, target


def test_pck_and_auc_hand_example():
    assert AMASS_PCK_THRESHOLDS == (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
    pred, target = _pck_example(1)
    expected = [0.25, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75, 0.75]
    np.testing.assert_allclose(pck(pred, target), [expected])
    np.testing.assert_allclose(pck(pred, target, thresholds=[0.01, 1.0], per_frame=False), [0.5, 1.0])
    # one frame (< 6): only the first 6 thresholds; trapezoids 0.0015 + 0.0025 + 0.005 + 0.01875 + 0.0375 = 0.06525
    assert pck_auc(pred, target) == pytest.approx(0.06525 / 0.099)
    # 20 frames (>= 18): all 9 thresholds, + 0.0375 + 0.0375 + 0.075
    assert pck_auc(*_pck_example(20)) == pytest.approx(0.21525 / 0.299)
    assert pck_auc(*_pck_example(20), limit_saturation=False) == pytest.approx(
        pck_auc(*_pck_example(1), limit_saturation=False)
    )
    assert pck_auc(target, target) == pytest.approx(1.0)


# --- power spectrum -------------------------------------------------------------------------------------------------


def _waves(amplitudes: dict[int, float], num_frames: int = 60) -> np.ndarray:
    """One sequence (1, T, V=2, C=3), every feature the same sum of cosines with ``amplitudes[cycles]``."""
    t = np.arange(num_frames) / num_frames
    signal = sum(a * np.cos(2 * np.pi * k * t) for k, a in amplitudes.items())
    return np.broadcast_to(signal[None, :, None, None], (1, num_frames, 2, 3)).copy()


def test_power_spectrum_is_a_distribution_per_feature():
    spectrum = power_spectrum(_waves({3: 1.0}))
    assert spectrum.shape == (60, 2, 3)
    np.testing.assert_allclose(spectrum.sum(axis=0), 1.0)
    np.testing.assert_allclose(spectrum[[3, 57], 0, 0], 0.5, atol=1e-9)  # full FFT: +-3 cycles


def test_ps_entropy_orders_static_sinusoid_noise():
    rng = np.random.default_rng(0)
    constant = ps_entropy(_waves({0: 1.0}))  # every joint static: dropped, as the reference (nan)
    sinusoid = ps_entropy(_waves({3: 1.0}))
    two_tones = ps_entropy(_waves({3: 1.0, 7: 1.0}))
    noise = ps_entropy(rng.normal(size=(8, 60, 2, 3)))
    assert math.isnan(constant)
    assert sinusoid == pytest.approx(math.log(2), abs=1e-5)
    assert two_tones == pytest.approx(math.log(4), abs=1e-5)
    assert sinusoid < two_tones < noise < math.log(60)
    windows = ps_entropy(np.concatenate([_waves({3: 1.0}), _waves({3: 1.0, 7: 1.0})], axis=1), window=60)
    np.testing.assert_allclose(windows, [math.log(2), math.log(4)], atol=1e-5)


def test_ps_kld_hand_example():
    balanced = _waves({3: 1.0, 7: 1.0})  # power 1/4 at each of 4 bins
    skewed = _waves({3: 1.0, 7: 2.0})  # power 1/10, 1/10, 4/10, 4/10
    # KL(b||s) = 0.5 log(1.5625), KL(s||b) = 0.2 log 0.4 + 0.8 log 1.6; their mean is 0.3 log 2
    assert ps_kld(skewed, balanced) == pytest.approx(0.3 * math.log(2), abs=1e-6)
    assert ps_kld(balanced, skewed) == pytest.approx(ps_kld(skewed, balanced))
    assert ps_kld(balanced, balanced) == pytest.approx(0.0, abs=1e-12)
    long_prediction = np.concatenate([balanced, skewed, balanced], axis=1)  # 3 seconds at 60 frames
    np.testing.assert_allclose(ps_kld(long_prediction, balanced, window=60), [0, 0.3 * math.log(2), 0], atol=1e-6)
    with pytest.raises(ShapeError, match="target sequences"):
        ps_kld(long_prediction, balanced)


def _reference_spectrum(batch: np.ndarray) -> np.ndarray:
    """``power_spectrum`` of eth-ait/motion-transformer from its definition, (N, T, V, C) -> (T, V' C)."""
    keep = [v for v in range(batch.shape[2]) if all(batch[:, :, v, c].std() >= 1e-4 for c in range(batch.shape[3]))]
    features = batch[:, :, keep].reshape(batch.shape[0], batch.shape[1], -1)
    power = np.abs(np.fft.fft(features, axis=1)) ** 2
    total = power.sum(axis=0) + 1e-8
    return total / total.sum(axis=0, keepdims=True)


def test_static_joints_are_dropped_as_the_reference():
    rng = np.random.default_rng(0)
    moving = rng.normal(size=(4, 60, 3, 3))
    with_static = np.concatenate([moving, np.full((4, 60, 1, 3), 0.3) + 1e-6 * rng.normal(size=(4, 60, 1, 3))], 2)
    target = rng.normal(size=(6, 60, 4, 3))
    target[:, :, 3] = 0.0  # root-relative root: static in the target too
    spectrum = _reference_spectrum(with_static)
    entropy = -(spectrum * np.log(spectrum)).sum(axis=0).mean()
    assert ps_entropy(with_static) == pytest.approx(entropy, rel=1e-12)
    assert ps_entropy(with_static) == pytest.approx(ps_entropy(moving), rel=1e-12)  # the static joint changes nothing
    reference = _reference_spectrum(target)
    kld = 0.5 * (
        (reference * np.log(reference / spectrum)).sum(0).mean()
        + (spectrum * np.log(spectrum / reference)).sum(0).mean()
    )
    assert ps_kld(with_static, target) == pytest.approx(kld, rel=1e-12)
    assert power_spectrum(with_static).shape == (60, 3, 3)


# --- real data: the CMU motion-prediction benchmark -----------------------------------------------------------------


def test_zero_velocity_baseline_on_real_cmu_walking(shared_data):
    """Zero-velocity prediction of a real CMU walk: Euler error 0 on the held frame, growing over the horizon.

    The per-frame curve is not monotonic: the protocol compares raw Euler angles, so a joint whose angle crosses
    +-pi jumps by ~2pi (a property of the benchmark, reproduced as is).
    """
    from skeletal.skeletons import get

    frames = np.loadtxt(shared_data / "cmu-mocap-expmap" / "test" / "walking" / "walking_1.txt", delimiter=",")
    expmaps = frames[::2, 3:].reshape(-1, 38, 3)  # every second frame, drop the root position
    future = expmaps[50:75]
    static = np.repeat(future[:1], len(future), axis=0)
    errors = euler_error(static, future)
    assert errors.shape == (25,) and np.all(np.isfinite(errors))
    assert np.all(euler_error(future, future) == 0.0)
    assert errors[0] == 0.0 and np.all(errors[1:] > 0.1) and np.all(errors < 3.0)
    assert errors[-5:].mean() > errors[2:7].mean()
    # through forward kinematics (row-vector exp-maps -> our convention with -w) bone lengths stay fixed
    skeleton = get("cmu38")
    rotations = axis_angle_to_matrix(-future)
    rotations[:, 0] = np.eye(3)  # root orientation removed, as the AMASS protocol does
    _, positions = forward_kinematics(rotations, np.asarray(skeleton.offsets), skeleton.parents)
    parents = np.array(skeleton.parents)
    children = np.flatnonzero(parents >= 0)
    lengths = np.linalg.norm(positions[:, children] - positions[:, parents[children]], axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to(lengths[0], lengths.shape), atol=1e-9)
    np.testing.assert_allclose(lengths[0], np.linalg.norm(np.asarray(skeleton.offsets)[children], axis=-1), atol=1e-9)
    _, static_positions = forward_kinematics(np.repeat(rotations[:1], len(future), axis=0), skeleton.offsets, parents)
    assert positional_error(static_positions, positions)[0] == 0.0
    assert positional_error(static_positions, positions, per_frame=False) > 0.0
