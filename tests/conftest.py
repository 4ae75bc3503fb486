"""Shared fixtures: the real data folder beside the project, seeded RNGs, few threads."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # small test models run fastest on one thread; xdist runs workers in parallel

SHARED_DATA = Path(
    os.environ.get("SKELETAL_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` (real CMU motion and 2D keypoints); the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def temporary_model():
    """Register test-only models for the duration of one test: ``temporary_model(name, task, builder)``.

    Registering at import time would leak the model into the registry-wide parametrised tests.
    """
    from skeletal import models

    added: list[str] = []

    def register(name: str, task: str, builder):
        models.register_model(name, task, paper="test model")(builder)
        added.append(name)
        return builder

    yield register
    for name in added:
        models.unregister_model(name)


def damp_classifiers(model: torch.nn.Module, factor: float = 1e-3) -> torch.nn.Module:
    """Scale every recognition classifier (``classifier``: the final linear layer) by ``factor``.

    With the official initialisation (``conv_init``: He-normal over the fan-out) and randomised batch norms, an
    untrained ST-TR has logits of ~1e3-1e4, where float32 rounding alone exceeds the 1e-4 .. 1e-5 tolerances of the
    equality tests and the softmax saturates; damped, the same comparisons are well conditioned. Tests only.
    """
    import torch

    with torch.no_grad():
        for name, module in model.named_modules():
            if name.split(".")[-1] == "classifier" and isinstance(module, torch.nn.Linear):
                module.weight.mul_(factor)
                module.bias.mul_(factor)
    return model
