"""3D pose metrics of the lifting literature (VideoPose3D ``common/loss.py``, GAST-Net).

All take predictions and targets of the same shape ``(..., J, 3)`` (torch or numpy) and are in the units of
the inputs (millimetres for the Human3.6M tables when the inputs are in millimetres; multiply metres by 1000).
The scalar metrics return a Python float; :func:`mpjpe_loss` is the differentiable torch version for training.
"""

from __future__ import annotations

import numpy as np
import torch

from skeletal.errors import ShapeError
from skeletal.geometry._arrays import ArrayLike, tensor
from skeletal.geometry.procrustes import procrustes_align
from skeletal.metrics._common import pair


def _distances(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(pred - target, dim=-1)


def mpjpe(pred: ArrayLike, target: ArrayLike) -> float:
    """Mean per-joint position error, "Protocol #1" (no alignment).

    The Euclidean distance between predicted and true joints, averaged over joints and all leading axes
    (frames, samples), without any alignment (root-relative inputs give the usual H3.6M number).

    Shape:
        pred, target: ``(..., J, 3)``.

    Returns:
        The mean distance, in input units.
    """
    pred_t, target_t = pair(pred, target, "mpjpe")
    return float(_distances(pred_t, target_t).mean())


def mpjpe_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Differentiable MPJPE for training (VideoPose3D's loss): mean joint distance as a 0-d tensor.

    Shape:
        pred, target: ``(..., J, 3)`` tensors of the same shape.
    """
    if pred.shape != target.shape or pred.shape[-1] != 3:
        raise ShapeError(
            f"mpjpe_loss expects two (..., J, 3) tensors, received {tuple(pred.shape)}, {tuple(target.shape)}"
        )
    return torch.linalg.vector_norm(pred - target, dim=-1).mean()


def per_joint_mpjpe(pred: ArrayLike, target: ArrayLike) -> np.ndarray:
    """MPJPE of each joint separately: the distance averaged over all leading axes, ``(J,)`` numpy, input units."""
    pred_t, target_t = pair(pred, target, "per_joint_mpjpe")
    return _distances(pred_t, target_t).reshape(-1, pred_t.shape[-2]).mean(dim=0).numpy()


def p_mpjpe(pred: ArrayLike, target: ArrayLike) -> float:
    """Procrustes-aligned MPJPE, "Protocol #2" (VideoPose3D ``p_mpjpe``).

    Each pose (every frame of every sample, over its ``J`` joints) is first aligned to its target by the
    similarity transform (rotation, uniform scale, translation) that minimises the squared error; improper
    rotations (reflections) are excluded by flipping the sign of the smallest singular direction. The MPJPE of
    the aligned poses is then averaged over joints and frames.

    Shape:
        pred, target: ``(..., J, 3)``.

    Returns:
        The mean distance after alignment, in input units.
    """
    pred_t, target_t = pair(pred, target, "p_mpjpe")
    aligned = tensor(procrustes_align(pred_t, target_t, scale=True, reflection=False))
    return float(_distances(aligned, target_t).mean())


def n_mpjpe(pred: ArrayLike, target: ArrayLike) -> float:
    """Scale-normalised MPJPE (VideoPose3D ``n_mpjpe``; Rhodin et al. 2018).

    Each pose is multiplied by the least-squares scale ``s = sum(pred . target) / sum(pred . pred)`` over its
    joints (no rotation, no translation, no centring), then MPJPE is averaged over joints and frames.

    Shape:
        pred, target: ``(..., J, 3)``.

    Returns:
        The mean distance after scaling, in input units.
    """
    pred_t, target_t = pair(pred, target, "n_mpjpe")
    numerator = (pred_t * target_t).sum(dim=(-1, -2), keepdim=True)
    denominator = pred_t.square().sum(dim=(-1, -2), keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
    return float(_distances(numerator / denominator * pred_t, target_t).mean())


def mpjve(pred: ArrayLike, target: ArrayLike) -> float:
    """Mean per-joint velocity error (VideoPose3D ``mean_velocity_error``; Pavllo et al. 2019, Sec. 5).

    First differences along the time axis (axis ``-3`` of ``(..., T, J, 3)``) of prediction and target; the
    Euclidean norm of their difference averaged over joints, the ``T - 1`` frame pairs and leading axes.

    Shape:
        pred, target: ``(..., T, J, 3)`` with ``T >= 2``.

    Returns:
        The mean velocity error, in input units per frame.
    """
    pred_t, target_t = pair(pred, target, "mpjve", layout="(..., T, J, 3)")
    if pred_t.dim() < 3 or pred_t.shape[-3] < 2:
        raise ShapeError(f"mpjve needs a time axis with at least 2 frames (..., T, J, 3), got {tuple(pred_t.shape)}")
    velocity_error = torch.diff(pred_t, dim=-3) - torch.diff(target_t, dim=-3)
    return float(torch.linalg.vector_norm(velocity_error, dim=-1).mean())
