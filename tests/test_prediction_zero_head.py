"""optim.zero_init_head: residual predictors start as zero-velocity, and a model without a head is refused."""

from __future__ import annotations

import pytest
import torch

from skeletal.errors import ConfigError
from skeletal.tasks.prediction import PredictionTask

SMALL = {"skeleton": "cmu38", "representation": "matrix", "window": 8}


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("st-transformer", {"num_layers": 1, "num_heads": 2, "model_dim": 8, "feedforward_dim": 8}),
        ("transformer", {"num_layers": 1, "num_heads": 2, "model_dim": 8, "feedforward_dim": 8}),
        ("seq2seq", {"hidden_size": 8}),
    ],
)
def test_zero_init_head_starts_at_zero_velocity(name: str, kwargs: dict) -> None:
    torch.manual_seed(0)
    task = PredictionTask(name, {**SMALL, **kwargs}, optim={"zero_init_head": True, "d_model": 8})
    task.eval()
    x = torch.randn(2, 8, 38, 9)
    torch.testing.assert_close(task.model(x), x)  # every next-frame prediction repeats the current frame
    plain = PredictionTask(name, {**SMALL, **kwargs}, optim={"d_model": 8}).eval()
    assert not torch.allclose(plain.model(x), x)


def test_zero_init_head_needs_a_head() -> None:
    with pytest.raises(ConfigError, match="no output projection"):
        PredictionTask("zero-velocity", {"skeleton": "cmu38"}, optim={"zero_init_head": True, "d_model": 8})
