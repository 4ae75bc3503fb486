"""Autoregressive motion generation (ST-Transformer paper, section 3.3).

Given a seed ``x_1 .. x_T`` the model predicts ``x_{T+1}``, which is appended to the context. With a window of
the seed length (the default) the context then drops its oldest frame, so ``x_{T+2}`` is predicted from
``x_2 .. x_{T+1}``, and so on. With a longer window (``window=model.window``, the official ``sample`` rule of
:mod:`skeletal.inference.incremental`) the context first grows up to the window, then slides; causal attention
models then reuse the keys and values of past frames while it grows (exact). Each predicted frame is mapped
back onto valid rotations before it is fed back (rotation matrices projected onto SO(3) by SVD, quaternions
normalised, 6D re-orthonormalised), which keeps long horizons (20 s and more) from drifting off the manifold.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from skeletal.errors import ConfigError, ShapeError
from skeletal.geometry import matrix_to_rotation_6d, project_to_rotation, rotation_6d_to_matrix
from skeletal.inference.incremental import sample
from skeletal.nn.validate import check_input

GENERATION_REPRESENTATIONS: tuple[str, ...] = ("matrix", "quaternion", "axis_angle", "rotation_6d")


def project_frames(frames: torch.Tensor, representation: str) -> torch.Tensor:
    """Map ``(..., F)`` joint parameters onto valid rotations of ``representation``.

    Args:
        frames: ``(..., F)`` with ``F`` = 9 (row-major matrix), 4 (quaternion), 3 (axis-angle), 6 (6D).
        representation: ``"matrix"`` (nearest rotation by SVD), ``"quaternion"`` (unit norm), ``"axis_angle"``
            (unchanged: every vector is a valid rotation) or ``"rotation_6d"`` (Gram-Schmidt, then back to 6D).

    Returns:
        Tensor of the same shape.
    """
    if representation == "matrix":
        matrices = torch.as_tensor(project_to_rotation(frames.reshape(*frames.shape[:-1], 3, 3)))
        return matrices.reshape(frames.shape)
    if representation == "quaternion":
        return frames / frames.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    if representation == "axis_angle":
        return frames
    if representation == "rotation_6d":
        return torch.as_tensor(matrix_to_rotation_6d(rotation_6d_to_matrix(frames)))
    raise ConfigError(f"representation must be one of {GENERATION_REPRESENTATIONS}, got {representation!r}")


@torch.no_grad()
def generate(
    model: nn.Module,
    seed: torch.Tensor,
    num_frames: int,
    window: int | None = None,
    representation: str | None = None,
    project: bool = True,
    cache: str = "exact",
) -> torch.Tensor:
    """Roll a prediction model out for ``num_frames`` frames after ``seed``, batched over sequences.

    Args:
        model: A prediction model mapping ``(N, T, V, F)`` to next-frame predictions ``(N, T, V, F)``. Models
            with a ``rollout(seed, num_frames, postprocess)`` method (recurrent ones such as ``seq2seq``) are
            rolled out by it: their state carries the past, so no window is re-encoded.
        seed: ``(N, T_seed, V, F)`` observed poses.
        num_frames: Frames to generate.
        window: Most frames the model sees at each step; defaults to the seed length (a sliding window from the
            first step). A longer window, e.g. ``model.window``, is the official ``sample`` rule: the context grows
            from the whole seed up to ``window`` frames, then slides.
        representation: Rotation representation of the poses; defaults to ``model.representation``, else
            ``"matrix"``.
        project: Project every predicted frame onto valid rotations before feeding it back.
        cache: Key/value cache mode of :func:`skeletal.inference.incremental.sample`: ``"exact"`` (default;
            equal to recomputing the context), ``"approximate-slide"`` or ``"off"``.

    Returns:
        ``(N, num_frames, V, F)`` generated poses (the seed is not included).

    The model is put in eval mode for the call and its previous mode restored afterwards; no gradients.
    """
    check_input(seed, ("N", "T", "V", "F"), what="seed of generate")
    if num_frames < 0:
        raise ShapeError(f"num_frames must be >= 0, got {num_frames}")
    representation = representation or str(getattr(model, "representation", "matrix"))
    if representation not in GENERATION_REPRESENTATIONS:
        raise ConfigError(f"representation must be one of {GENERATION_REPRESENTATIONS}, got {representation!r}")
    seed_length = seed.shape[1]
    window = seed_length if window is None else window
    if window < 1:
        raise ShapeError(f"window must be at least 1 frame, got {window}")
    postprocess: Callable[[torch.Tensor], torch.Tensor] | None = None
    if project:

        def postprocess(frame: torch.Tensor) -> torch.Tensor:
            return project_frames(frame, representation)

    was_training = model.training
    model.eval()
    try:
        rollout = getattr(model, "rollout", None)
        if callable(rollout):
            return rollout(seed[:, -window:], num_frames, postprocess)
        return sample(model, seed, num_frames, window, postprocess, cache)
    finally:
        model.train(was_training)
