"""Horizontal flip of 2D keypoints and 3D poses, flip augmentation and test-time flip averaging.

GAST-Net (journal version, section IV-B) follows VideoPose3D: horizontal flips augment training, and at test
time the prediction for the flipped input is flipped back and averaged with the plain prediction. A flip
negates the x coordinate (2D in normalised screen coordinates centred on 0, 3D in the camera frame) and swaps
every left joint with its right partner (``Skeleton.flip_permutation``).
"""

from __future__ import annotations

import torch
from torch import nn

from skeletal.skeletons import Skeleton, get


def flip_horizontal(points: torch.Tensor, skeleton: Skeleton | str) -> torch.Tensor:
    """Mirror keypoints or poses left/right: negate x and swap the left/right joints.

    Args:
        points: ``(..., V, C)`` with ``C >= 1`` (x first); 2D keypoints must be centred on 0 (normalised
            screen coordinates ``x / w * 2 - 1``), 3D poses in a camera frame whose x axis points right.
        skeleton: The layout, for its left/right pairs.

    Returns:
        The mirrored tensor, same shape. Flipping twice gives the input back.
    """
    layout = get(skeleton)
    layout.check(points.shape[-2], what=f"flipped tensor {tuple(points.shape)}")
    permutation = torch.as_tensor(layout.flip_permutation, device=points.device)
    mirrored = points.index_select(-2, permutation).clone()
    mirrored[..., 0] = -mirrored[..., 0]
    return mirrored


def flip_augment(
    keypoints: torch.Tensor, poses: torch.Tensor | None, skeleton: Skeleton | str, probability: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Training augmentation: flip each sequence of a batch with the given probability.

    Args:
        keypoints: 2D input ``(N, T, V, 2)``.
        poses: 3D targets ``(N, T', V, 3)`` or ``None``.
        skeleton: The layout.
        probability: Chance that a sequence is flipped (both its input and its target).

    Returns:
        ``(keypoints, poses)`` with the chosen sequences mirrored.
    """
    chosen = torch.rand(keypoints.shape[0], device=keypoints.device) < probability
    select = chosen.view(-1, *([1] * (keypoints.dim() - 1)))
    keypoints = torch.where(select, flip_horizontal(keypoints, skeleton), keypoints)
    if poses is not None:
        poses = torch.where(select, flip_horizontal(poses, skeleton), poses)
    return keypoints, poses


def predict_with_flip(
    model: nn.Module, keypoints: torch.Tensor, skeleton: Skeleton | str | None = None, padded: bool = False
) -> torch.Tensor:
    """Test-time flip averaging: ``(f(x) + flip(f(flip(x)))) / 2``, both in one batch.

    Args:
        model: A lifter (``model(x) -> (N, T', V, 3)``).
        keypoints: ``(N, T, V, 2)``.
        skeleton: The layout; by default ``model.skeleton``.
        padded: Use ``model.lift`` (one pose per input frame) instead of ``model(x)``.

    Returns:
        The averaged prediction, shaped as the model's output.
    """
    layout = get(skeleton if skeleton is not None else model.skeleton)  # type: ignore[arg-type]
    batch = torch.cat([keypoints, flip_horizontal(keypoints, layout)])
    output = model.lift(batch) if padded else model(batch)  # type: ignore[operator]
    plain, flipped = output.chunk(2)
    return (plain + flip_horizontal(flipped, layout)) / 2
