"""Rigid and similarity Procrustes alignment of point sets, per sample, over the joint axis.

Given ``source`` and ``target`` of shape ``(..., J, 3)``, find per sample the rotation ``R``, scale ``s`` and
translation ``t`` minimising ``sum_j |s R x_j + t - y_j|^2`` (Umeyama 1991; Gower 1975). With
``Y0, X0`` the centred point sets and ``U S V^T = svd(Y0^T X0)``: ``R = U D V^T``,
``D = diag(1, 1, det(U V^T))`` (``D = I`` when reflections are allowed), ``s = tr(S D) / |X0|^2``,
``t = mean(y) - s R mean(x)``. This is VideoPose3D's ``p_mpjpe`` alignment (``common/loss.py``), written in
column convention: its row-vector ``R_row`` is our ``R.T``.
"""

from __future__ import annotations

import torch

from skeletal.errors import ShapeError
from skeletal.geometry._arrays import ArrayLike, numpy_or_torch, tensor


def _check(source: torch.Tensor, target: torch.Tensor) -> None:
    if source.shape != target.shape or source.dim() < 2 or source.shape[-1] != 3:
        raise ShapeError(
            f"procrustes expects source and target of the same shape (..., J, 3); "
            f"received {tuple(source.shape)} and {tuple(target.shape)}"
        )


@numpy_or_torch
def procrustes_transform(
    source: ArrayLike, target: ArrayLike, scale: bool = True, reflection: bool = False
) -> tuple[ArrayLike, ArrayLike, ArrayLike]:
    """The similarity (or rigid, ``scale=False``) transform taking ``source`` onto ``target``.

    Args:
        source: Points to move.
        target: Points to match.
        scale: Estimate a scale (similarity transform); otherwise ``s = 1`` (rigid transform).
        reflection: Allow ``det(R) = -1``; by default reflections are removed as in VideoPose3D.

    Shape:
        source, target: ``(..., J, 3)``.

    Returns:
        ``(R (..., 3, 3), s (...,), t (..., 3))`` such that ``aligned = s * source @ R.T + t``.
    """
    source = tensor(source)
    target = tensor(target)
    _check(source, target)
    mean_source = source.mean(dim=-2, keepdim=True)
    mean_target = target.mean(dim=-2, keepdim=True)
    centred_source = source - mean_source
    centred_target = target - mean_target
    covariance = centred_target.transpose(-1, -2) @ centred_source  # (..., 3, 3) = sum_j y_j x_j^T
    u, singular, vh = torch.linalg.svd(covariance)
    if reflection:
        diagonal = torch.ones_like(singular)
    else:
        det = torch.linalg.det(u @ vh)
        diagonal = torch.cat((torch.ones_like(singular[..., :2]), torch.sign(det).unsqueeze(-1)), dim=-1)
        diagonal = torch.where(diagonal == 0, torch.ones_like(diagonal), diagonal)
    rotation = u @ (diagonal.unsqueeze(-1) * vh)
    if scale:
        variance = centred_source.square().sum(dim=(-1, -2)).clamp_min(torch.finfo(source.dtype).tiny)
        factor = (singular * diagonal).sum(dim=-1) / variance
    else:
        factor = torch.ones_like(singular[..., 0])
    translation = mean_target.squeeze(-2) - factor.unsqueeze(-1) * (
        rotation @ mean_source.squeeze(-2).unsqueeze(-1)
    ).squeeze(-1)
    return rotation, factor, translation


@numpy_or_torch
def procrustes_align(source: ArrayLike, target: ArrayLike, scale: bool = True, reflection: bool = False) -> ArrayLike:
    """``source`` moved onto ``target`` by the best similarity transform (per sample, over the joints).

    Args:
        source: Points to move (e.g. predicted joints).
        target: Points to match (e.g. ground-truth joints).
        scale: Estimate a scale (P-MPJPE, "Protocol #2"); ``False`` gives a rigid alignment.
        reflection: Allow improper rotations; removed by default as in VideoPose3D's ``p_mpjpe``.

    Shape:
        source, target: ``(..., J, 3)``; returns ``(..., J, 3)``.

    Returns:
        The aligned copy of ``source``, same kind (numpy/torch) as ``source``.
    """
    source = tensor(source)
    target = tensor(target)
    transform = procrustes_transform(source, target, scale=scale, reflection=reflection)
    rotation, factor, translation = (tensor(value) for value in transform)
    moved = source @ rotation.transpose(-1, -2)
    return factor[..., None, None] * moved + translation.unsqueeze(-2)
