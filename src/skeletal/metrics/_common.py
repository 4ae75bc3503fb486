"""Shared input handling of the metrics: torch or numpy in, detached float64 tensors inside."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from skeletal.errors import ShapeError


def as_double(x: Any, what: str) -> torch.Tensor:
    """``x`` (tensor, array or nested list) as a detached float64 CPU tensor."""
    if isinstance(x, torch.Tensor):
        return x.detach().to(device="cpu", dtype=torch.float64)
    try:
        return torch.as_tensor(np.asarray(x, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise ShapeError(f"{what} must be a numeric array or tensor, got {type(x).__name__}") from error


def pair(pred: Any, target: Any, what: str, trailing: tuple[int, ...] = (3,), layout: str = "(..., J, 3)"):
    """Both inputs as float64 tensors of the same shape ending in ``trailing``; else :class:`ShapeError`."""
    pred_t, target_t = as_double(pred, f"{what} prediction"), as_double(target, f"{what} target")
    if pred_t.shape != target_t.shape:
        raise ShapeError(
            f"{what}: prediction and target must have the same shape {layout}, "
            f"received {tuple(pred_t.shape)} and {tuple(target_t.shape)}"
        )
    if pred_t.dim() < len(trailing) + 1 or tuple(pred_t.shape[-len(trailing) :]) != trailing:
        raise ShapeError(f"{what} expects inputs of shape {layout}, received {tuple(pred_t.shape)}")
    return pred_t, target_t
