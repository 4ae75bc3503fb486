"""VideoPose3D's batch-norm momentum decay (``run.py``: 0.1 -> 0.001 over the epochs); GAST-Net keeps 0.1."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from skeletal import models
from skeletal.config import from_dict, load_config
from skeletal.tasks import SkeletonDataModule, build_task, train

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "lifting"


class NormLifter(nn.Module):
    """A per-frame linear lift with a batch norm that records its momentum at every training forward."""

    def __init__(self, skeleton: str = "h36m17") -> None:
        super().__init__()
        self.linear = nn.Linear(2, 3)
        self.bn = nn.BatchNorm1d(3)
        self.seen: list[float] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.seen.append(float(self.bn.momentum))
        y = self.linear(x)
        return self.bn(y.reshape(-1, 3)).reshape(y.shape)


if "test-norm-lifter" not in models.names():
    models.register_model("test-norm-lifter", "lifting", paper="test model")(NormLifter)


def _config(tmp_path: Path, bn_momentum: list[float] | None, epochs: int = 3):
    optim = {"flip_train": False, "flip_test": False, "bn_momentum": bn_momentum}
    return from_dict(
        {
            "task": "lifting",
            "name": "bn",
            "output": str(tmp_path),
            "model": {"name": "test-norm-lifter", "kwargs": {"skeleton": "h36m17"}},
            "data": {"source": "arrays", "train": "unused", "batch_size": 8},
            "optim": optim,
            "trainer": {"max_epochs": epochs, "progress_bar": False, "log_every_n_steps": 1},
        }
    ).validate()


def test_momentum_decays_per_epoch_as_videopose3d(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    poses = rng.normal(size=(16, 1, 17, 3)).astype(np.float32)
    split = {"x": poses[..., :2].copy(), "y": poses}
    data = SkeletonDataModule("lifting", split, split, batch_size=8)
    result = train(_config(tmp_path, [0.1, 0.001]), datamodule=data)
    seen = result.task.model.seen  # two batches per epoch
    # run.py: during epoch e (0-based) of E, momentum = 0.1 * exp(-e / E * log(0.1 / 0.001))
    expected = [0.1 * math.exp(-e / 3 * math.log(100.0)) for e in range(3) for _ in range(2)]
    assert seen == pytest.approx(expected, rel=1e-12)
    assert result.task.model.bn.momentum == pytest.approx(0.001)  # after the last epoch: e = E


def test_momentum_is_kept_without_the_setting(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    poses = rng.normal(size=(8, 1, 17, 3)).astype(np.float32)
    split = {"x": poses[..., :2].copy(), "y": poses}
    data = SkeletonDataModule("lifting", split, split, batch_size=8)
    result = train(_config(tmp_path, None, epochs=2), datamodule=data)
    assert set(result.task.model.seen) == {0.1}


def test_invalid_setting_is_refused(tmp_path: Path) -> None:
    task = build_task(_config(tmp_path, [0.1]))
    with pytest.raises(Exception, match="bn_momentum"):
        task.bn_momentum(0)


def test_presets() -> None:
    for path in sorted(CONFIGS.glob("videopose3d_*.yaml")):
        if "gast-recipe" in path.name:  # VideoPose3D trained with GAST-Net's recipe, for a like-for-like comparison
            assert load_config(path).optim.bn_momentum is None, path.name
            continue
        assert load_config(path).optim.bn_momentum == [0.1, 0.001], path.name
    gast = sorted(CONFIGS.glob("gast-net_*.yaml"))
    assert gast and all(load_config(path).optim.bn_momentum is None for path in gast)
