"""The Lightning tasks: losses, schedules, metrics, training runs, resume and reproducibility (CPU, tiny models)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import skeletal
from skeletal import checkpoint, models
from skeletal.config import from_dict
from skeletal.tasks import (
    SkeletonDataModule,
    build_task,
    flip_horizontal,
    next_step_loss,
    read_metrics,
    rollout,
    topk_correct,
    train,
    transformer_schedule,
)


class TinyClassifier(nn.Module):
    """Mean over people, frames and joints, then a linear layer: ``(N, M, T, V, C) -> (N, classes)``."""

    def __init__(self, num_classes: int = 4, in_channels: int = 3, skeleton: str = "ntu25"):
        super().__init__()
        self.linear = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.mean(dim=(1, 2, 3)))


class TinyPredictor(nn.Module):
    """Residual per-frame linear map on the flattened pose: ``(N, T, V, F) -> (N, T, V, F)``."""

    def __init__(self, num_joints: int = 3, features: int = 9, d_model: int = 16):
        super().__init__()
        self.d_model = d_model
        self.linear = nn.Linear(num_joints * features, num_joints * features)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.linear(x.flatten(2)).view_as(x)


class TinyLifter(nn.Module):
    """A temporal convolution of width 3 on each joint: ``(N, T, V, 2) -> (N, T - 2, V, 3)``."""

    def __init__(self, skeleton: str = "h36m17"):
        super().__init__()
        self.conv = nn.Conv1d(2, 3, kernel_size=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, v, c = x.shape
        out = self.conv(x.permute(0, 2, 3, 1).reshape(n * v, c, t))
        return out.reshape(n, v, 3, t - 2).permute(0, 3, 1, 2)


for _name, _task, _builder in (
    ("test-tiny-classifier", "recognition", TinyClassifier),
    ("test-tiny-predictor", "prediction", TinyPredictor),
    ("test-tiny-lifter", "lifting", TinyLifter),
):
    if _name not in models.names():
        models.register_model(_name, _task, paper="test model")(_builder)


def recognition_data(rng: np.random.Generator, num: int = 32, classes: int = 4) -> dict[str, np.ndarray]:
    """Classes separable by the mean of channel ``label % 3``."""
    y = rng.integers(0, classes, num)
    x = rng.normal(size=(num, 2, 6, 25, 3)).astype(np.float32)
    x[np.arange(num), :, :, :, y % 3] += np.where(y < 3, 2.0, -2.0)[:, None, None, None]
    return {"x": x, "y": y}


def tiny_config(task: str, tmp_path, **trainer) -> object:
    names = {"recognition": "test-tiny-classifier", "prediction": "test-tiny-predictor", "lifting": "test-tiny-lifter"}
    kwargs = {"recognition": {"num_classes": 4}, "prediction": {}, "lifting": {"skeleton": "h36m17"}}[task]
    optim = {"recognition": {"lr": 0.05}, "prediction": {"warmup": 10, "horizon": 2}, "lifting": {}}[task]
    return from_dict(
        {
            "task": task,
            "name": f"tiny-{task}",
            "output": str(tmp_path),
            "model": {"name": names[task], "kwargs": kwargs},
            "data": {"source": "arrays", "train": "unused", "batch_size": 8},
            "optim": optim,
            "trainer": {"max_epochs": 2, "progress_bar": False, "log_every_n_steps": 1, **trainer},
        }
    ).validate()


def test_topk_correct_counts_label_in_k_highest() -> None:
    logits = torch.tensor([[0.1, 0.5, 0.4], [0.9, 0.05, 0.05]])
    labels = torch.tensor([2, 0])
    assert topk_correct(logits, labels, 1).tolist() == [0.0, 1.0]
    assert topk_correct(logits, labels, 2).tolist() == [1.0, 1.0]
    assert topk_correct(logits, labels, 5).tolist() == [1.0, 1.0]  # k capped at the class count


def test_transformer_schedule_matches_formula_and_peaks_at_warmup() -> None:
    d_model, warmup = 128, 10000
    assert transformer_schedule(1, d_model, warmup) == pytest.approx(128**-0.5 * 10000**-1.5)
    peak = transformer_schedule(warmup, d_model, warmup)
    assert peak == pytest.approx(128**-0.5 * 10000**-0.5)
    assert transformer_schedule(warmup - 1, d_model, warmup) < peak
    assert transformer_schedule(4 * warmup, d_model, warmup) == pytest.approx(peak / 2)


def test_next_step_loss_is_per_joint_l2_of_the_shifted_sequence() -> None:
    x = torch.zeros(1, 3, 2, 2)
    x[0, 1, 0] = torch.tensor([3.0, 4.0])  # frame 1 joint 0 at distance 5 from the zero prediction
    output = torch.zeros(1, 3, 2, 2)
    # pairs (output t=0 vs x t=1) and (t=1 vs t=2): joint errors 5 and 0 summed over joints, mean over 2 frames
    assert next_step_loss(output, x).item() == pytest.approx(2.5)


def test_rollout_feeds_its_own_predictions() -> None:
    model = TinyPredictor(num_joints=1, features=1)
    with torch.no_grad():
        model.linear.bias.fill_(1.0)  # next = x + 1
    seed = torch.zeros(2, 3, 1, 1)
    future = rollout(model, seed, steps=4, context=2)
    assert future[0, :, 0, 0].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_flip_horizontal_is_an_involution_that_swaps_sides(rng) -> None:
    from skeletal import skeletons

    layout = skeletons.get("h36m17")
    points = torch.as_tensor(rng.normal(size=(2, 4, 17, 3)), dtype=torch.float32)
    once = flip_horizontal(points, layout.flip_permutation)
    assert torch.equal(flip_horizontal(once, layout.flip_permutation), points)
    left, right = layout.left[0], layout.right[0]
    assert torch.equal(once[..., left, 0], -points[..., right, 0])
    assert torch.equal(once[..., left, 1:], points[..., right, 1:])


def test_recognition_optimiser_is_the_papers() -> None:
    config = from_dict(
        {"task": "recognition", "model": {"name": "test-tiny-classifier"}, "optim": {"milestones": [60, 90]}}
    )
    task = build_task(config)
    setup = task.configure_optimizers()
    optimizer, schedule = setup["optimizer"], setup["lr_scheduler"]["scheduler"]
    group = optimizer.param_groups[0]
    assert isinstance(optimizer, torch.optim.SGD)
    assert (group["lr"], group["momentum"], group["nesterov"], group["weight_decay"]) == (0.1, 0.9, True, 1e-4)
    lrs = []
    for _ in range(100):
        lrs.append(optimizer.param_groups[0]["lr"])
        schedule.step()
    assert lrs[59] == pytest.approx(0.1) and lrs[60] == pytest.approx(0.01) and lrs[90] == pytest.approx(0.001)


def test_lifting_optimiser_is_amsgrad_with_decay() -> None:
    config = from_dict({"task": "lifting", "model": {"name": "test-tiny-lifter", "kwargs": {"skeleton": "h36m17"}}})
    setup = build_task(config).configure_optimizers()
    optimizer, schedule = setup["optimizer"], setup["lr_scheduler"]["scheduler"]
    assert isinstance(optimizer, torch.optim.Adam) and optimizer.param_groups[0]["amsgrad"]
    schedule.step()
    schedule.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.95**2)


def test_prediction_schedule_uses_model_d_model() -> None:
    config = from_dict({"task": "prediction", "model": {"name": "test-tiny-predictor", "kwargs": {"d_model": 64}}})
    setup = build_task(config).configure_optimizers()
    optimizer = setup["optimizer"]
    assert optimizer.param_groups[0]["lr"] == pytest.approx(64**-0.5 * 10000**-1.5)
    assert (optimizer.param_groups[0]["betas"], optimizer.param_groups[0]["eps"]) == ((0.9, 0.999), 1e-8)
    config = from_dict({"task": "prediction", "model": {"name": "test-tiny-predictor", "kwargs": {"d_model": 64}},
                        "optim": {"betas": [0.9, 0.98], "eps": 1e-9}})  # fmt: skip
    group = build_task(config).configure_optimizers()["optimizer"].param_groups[0]
    assert (group["betas"], group["eps"]) == ((0.9, 0.98), 1e-9)


def test_recognition_training_learns_and_exports(tmp_path, rng) -> None:
    config = tiny_config("recognition", tmp_path, max_epochs=6)
    train_split, val_split = recognition_data(rng, 64), recognition_data(rng, 32)
    data = SkeletonDataModule("recognition", train_split, val_split, batch_size=8)
    result = train(config, datamodule=data)
    assert result.metrics["val/top1"] > 0.6  # chance is 0.25
    assert result.metrics["val/top5"] == pytest.approx(1.0)  # 4 classes: always in the top 5
    assert (result.run_dir / "config.yaml").is_file() and (result.run_dir / "checkpoints" / "last.ckpt").is_file()
    rows = read_metrics(result.run_dir)
    assert sum(1 for row in rows if row.get("val/top1")) == 6
    model = checkpoint.load(result.model_file)
    assert not model.training
    x = torch.as_tensor(val_split["x"][:5])
    trained = build_task(config)
    trained.model.load_state_dict(model.state_dict())
    assert torch.equal(model(x), trained.model.eval()(x))
    assert model.skeletal_info.metrics["val/top1"] == pytest.approx(result.metrics["val/top1"])


def test_training_is_reproducible_on_cpu(tmp_path, rng) -> None:
    split = recognition_data(rng, 32)
    weights = []
    for run in ("a", "b"):
        config = tiny_config("recognition", tmp_path / run)
        data = SkeletonDataModule("recognition", split, split, batch_size=8)
        result = train(config, datamodule=data)
        weights.append(checkpoint.load(result.model_file).state_dict())
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_resume_continues_from_last_checkpoint(tmp_path, rng) -> None:
    split = recognition_data(rng, 32)
    straight = train(
        tiny_config("recognition", tmp_path / "straight", max_epochs=4),
        datamodule=SkeletonDataModule("recognition", split, split, batch_size=8),
    )
    first = tiny_config("recognition", tmp_path / "resumed", max_epochs=2)
    run_dir = tmp_path / "resumed" / first.name
    train(first, run_dir=run_dir, datamodule=SkeletonDataModule("recognition", split, split, batch_size=8))
    second = tiny_config("recognition", tmp_path / "resumed", max_epochs=4)
    resumed = train(
        second, run_dir=run_dir, resume=True, datamodule=SkeletonDataModule("recognition", split, split, batch_size=8)
    )
    assert resumed.epochs == straight.epochs == 4
    a, b = checkpoint.load(straight.model_file).state_dict(), checkpoint.load(resumed.model_file).state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)
    epochs = [int(row["epoch"]) for row in read_metrics(run_dir) if row.get("val/top1")]
    assert epochs == [0, 1, 2, 3]  # no validation row lost or repeated
    steps = [int(row["step"]) for row in read_metrics(run_dir) if row.get("train/loss_step")]
    assert steps == sorted(set(steps)) and len(steps) == 4 * 4


def test_prediction_training_reduces_error_and_early_stopping_watches_joint_angle(tmp_path) -> None:
    import roma

    generator = torch.Generator().manual_seed(0)
    axis = torch.randn(16, 1, 3, 3, generator=generator) * 0.05
    frames = torch.arange(12, dtype=torch.float32)[None, :, None, None]
    rotations = roma.rotvec_to_rotmat(axis * frames).flatten(-2).numpy()  # constant angular velocity
    split = {"x": rotations.astype(np.float32)}
    config = tiny_config("prediction", tmp_path, max_epochs=3, gradient_clip_val=1.0)
    result = train(config, datamodule=SkeletonDataModule("prediction", split, split, batch_size=4))
    assert math.isfinite(result.metrics["val/joint_angle"]) and result.metrics["val/joint_angle"] >= 0
    assert "val/joint_error" in result.metrics


def test_lifting_training_crops_targets_to_output_frames(tmp_path, rng) -> None:
    poses = rng.normal(size=(16, 5, 17, 3)).astype(np.float32) * 0.2
    split = {"x": poses[..., :2].copy(), "y": poses}
    config = tiny_config("lifting", tmp_path, max_epochs=2)
    result = train(config, datamodule=SkeletonDataModule("lifting", split, split, batch_size=8))
    assert result.metrics["val/mpjpe"] > result.metrics["val/p_mpjpe"] > 0


def test_gradient_accumulation_and_mixed_precision_are_trainer_options(tmp_path, rng) -> None:
    split = recognition_data(rng, 32)
    config = tiny_config("recognition", tmp_path, max_epochs=1, accumulate_grad_batches=2, precision="bf16-mixed")
    result = train(config, datamodule=SkeletonDataModule("recognition", split, split, batch_size=4))
    assert result.task.trainer.global_step == 4  # 8 batches, one optimiser step every 2
    assert math.isfinite(result.metrics["val/loss"])


def test_sampler_resumed_mid_epoch_skips_the_trained_samples_once() -> None:
    from skeletal.data.module import EpochShuffleSampler

    full = EpochShuffleSampler(10, seed=3)
    full.set_epoch(2)
    epoch2 = list(full)
    assert sorted(epoch2) == list(range(10)) and epoch2 != list(EpochShuffleSampler(10, seed=3))
    resumed = EpochShuffleSampler(10, seed=3, resume=(2, 4))  # iterated before Lightning's set_epoch: epoch 2
    assert list(resumed) == epoch2[4:]
    resumed.set_epoch(3)
    full.set_epoch(3)
    assert list(resumed) == list(full)  # later epochs whole


def test_datamodule_state_is_restored_only_for_a_partial_epoch() -> None:
    split = {"x": np.zeros((10, 1, 4, 25, 3), np.float32), "y": np.zeros(10, np.int64)}
    data = SkeletonDataModule("recognition", split, split, batch_size=4, seed=0)
    data.load_state_dict({"train_epoch": 1, "train_batches_done": 2, "batch_size": 4, "world_size": 1})
    sampler = data.train_dataloader().sampler
    assert len(list(sampler)) == 2 and sampler.epoch == 1
    assert len(list(data.train_dataloader().sampler)) == 10  # a new loader (next epoch): whole
    data.load_state_dict({"train_epoch": 1, "train_batches_done": 3, "batch_size": 4, "world_size": 1})  # 12 >= 10
    assert len(list(data.train_dataloader().sampler)) == 10
    data.load_state_dict({"train_epoch": 1, "train_batches_done": 1, "batch_size": 4, "world_size": 2})  # DDP
    assert len(list(data.train_dataloader().sampler)) == 10
    assert data.state_dict() == {}  # outside a fit


def test_synthetic_eval_arguments_apply_to_validation_and_test_only() -> None:
    from skeletal.tasks import synthetic_splits

    splits = synthetic_splits("lifting", num_train=3, num_val=2, num_frames=9, eval={"num_frames": 15})
    assert splits["train"]["x"].shape[:2] == (3, 9) and splits["train"]["y"].shape[:2] == (3, 9)
    assert splits["val"]["x"].shape[:2] == (2, 15) and splits["test"]["y"].shape[:2] == (2, 15)


def test_demo_prediction_model_starts_at_zero_velocity() -> None:
    from skeletal.tasks.demo import start_at_zero_velocity

    torch.manual_seed(0)
    model = models.create("st-transformer", skeleton="h36m17", num_layers=1, num_heads=2, model_dim=8,
                          feedforward_dim=8, window=6).eval()  # fmt: skip
    x = torch.randn(2, 6, 17, 9)
    with torch.no_grad():
        before = (model(x) - x).abs().mean()
        start_at_zero_velocity(model, scale=1e-2)
        after = (model(x) - x).abs().mean()
        assert before > 0.1 and after < 1e-2 * before * 2  # the residual head shrunk: output ~ input (no motion)
        start_at_zero_velocity(model)
        assert torch.equal(model(x), x)  # exactly zero velocity
    model.train()
    next_step_loss(model(x), x).backward()
    assert model.head.weight.grad.abs().sum() > 0  # and it learns


def test_demo_threads_leave_busy_cores_alone(monkeypatch) -> None:
    import os

    from skeletal.tasks import demo

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)
    for load, threads in [(0.0, 4), (1.2, 3), (2.6, 1), (3.9, 1), (12.0, 1)]:
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert demo.auto_threads() == threads


def _trained_weights(tmp_path, rng_seed: int, **trainer) -> tuple[dict[str, torch.Tensor], object]:
    split = recognition_data(np.random.default_rng(rng_seed), 16)
    config = tiny_config("recognition", tmp_path, max_epochs=1, **trainer)
    result = train(config, datamodule=SkeletonDataModule("recognition", split, split, batch_size=8))
    return {k: v.detach().clone() for k, v in result.task.model.state_dict().items()}, result


@pytest.mark.parametrize("backend", ["eager", pytest.param("inductor", marks=pytest.mark.slow)])
def test_compiled_training_matches_plain_training(tmp_path, backend: str) -> None:
    plain, _ = _trained_weights(tmp_path / "plain", 0)
    compiled, result = _trained_weights(tmp_path / "compiled", 0, compile=True, compile_backend=backend)
    assert result.task.model._compiled_call_impl is not None  # the forward really went through torch.compile
    assert compiled.keys() == plain.keys()  # checkpoint keys unchanged (no "_orig_mod." prefix)
    tolerance = 0.0 if backend == "eager" else 1e-4
    for key, value in plain.items():
        torch.testing.assert_close(compiled[key], value, atol=tolerance, rtol=tolerance)
    reloaded = skeletal.load(result.model_file)
    for key, value in reloaded.state_dict().items():
        torch.testing.assert_close(value, compiled[key])
