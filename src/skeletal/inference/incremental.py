"""Autoregressive sampling with the official ST-Transformer rule, incremental where it is exact.

The rule (``eth-ait/motion-transformer``, ``spl/model/transformer.py``, ``sample``, lines 514-537): the model
first sees ``seed[:, -window:]``; each prediction is appended to that context, which therefore grows up to the
model's ``window`` frames and then slides (the oldest frame is dropped). With a seed shorter than the window
(Human3.6M: a 50-frame seed, a 75-frame window) every generated frame is predicted from a context that starts
at the first seed frame, so the positions the model sees are those it saw in training.

Cost. A causal attention model (``supports_cache``: the ST-Transformer, its 2D-attention ablation and the
vanilla Transformer with the ``"feature"`` normalisation) keeps the keys and values of the frames already seen
while the context grows, so each new frame costs one frame's forward pass and its attention over the cache:
exact, equal to recomputing the window (tests: 1e-5). Once the window slides, every frame moves one position
down the absolute positional encoding and the oldest frame leaves every attention, so all hidden states change:
``cache="exact"`` then recomputes the whole window for each frame (one full forward pass of ``window`` frames,
the cost of the uncached rollout). ``cache="approximate-slide"`` keeps the cached keys and values when sliding
(drops the oldest frame's, feeds the new frame at position ``window - 1``): one frame's cost per step, but the
kept keys and values were computed with the positions and contexts of earlier steps, so outputs differ from
the exact rule after the first slide; ``benchmarks/bench_generation.py`` measures by how much.
``cache="off"`` recomputes the window at every step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from skeletal.errors import ConfigError, ShapeError
from skeletal.inference.precision import model_dtype
from skeletal.nn.joint_attention import IncrementalState

CACHE_MODES: tuple[str, ...] = ("exact", "approximate-slide", "off")


def can_cache(model: nn.Module) -> bool:
    """Whether ``model`` offers an exact key/value cache (``forward_cached``) in its current mode: eval mode,
    no gradients, and a causal model (``model.supports_cache``)."""
    return (
        bool(getattr(model, "supports_cache", False))
        and callable(getattr(model, "forward_cached", None))
        and not model.training
        and not torch.is_grad_enabled()
    )


def sample(
    model: nn.Module,
    seed: torch.Tensor,
    num_frames: int,
    window: int | None = None,
    postprocess: Callable[[torch.Tensor], torch.Tensor] | None = None,
    cache: str = "exact",
) -> torch.Tensor:
    """Generate ``num_frames`` frames after each seed of the batch with the official growing-then-sliding rule.

    Args:
        model: A prediction model ``(N, T, V, F) -> (N, T, V, F)`` (``output[:, t]`` predicts frame ``t + 1``).
        seed: ``(N, T_seed, V, F)`` observed poses, many sequences in one batch.
        num_frames: Frames to generate.
        window: Longest context the model sees; defaults to ``model.window`` (the official rule: the context
            grows from the seed up to it). A window of at most the seed length slides from the first step.
        postprocess: Applied to every predicted frame ``(N, V, F)`` before it is fed back (e.g. projection onto
            rotations); None feeds the raw predictions back.
        cache: ``"exact"`` (cache keys and values while the context grows, recompute when it slides),
            ``"approximate-slide"`` (keep the cache when sliding; not equal to the rule, see the module
            docstring) or ``"off"``. The cache is used only by models with ``supports_cache``, in eval mode and
            without gradients; other models and modes recompute the context at each step.

    Returns:
        ``(N, num_frames, V, F)`` generated poses (the seed is not included).

    Raises:
        ShapeError: a seed that is not ``(N, T, V, F)`` with ``T >= 1``, a negative ``num_frames`` or a
            window below 1.
        ConfigError: an unknown ``cache`` mode.
    """
    if cache not in CACHE_MODES:
        raise ConfigError(f"cache must be one of {CACHE_MODES}, got {cache!r}")
    if seed.dim() != 4 or seed.shape[1] < 1:
        raise ShapeError(f"seed must be (N, T >= 1, V, F), got {tuple(seed.shape)}")
    if num_frames < 0:
        raise ShapeError(f"num_frames must be >= 0, got {num_frames}")
    window = int(getattr(model, "window", seed.shape[1])) if window is None else window
    if window < 1:
        raise ShapeError(f"window must be >= 1 frame, got {window}")
    cached = cache != "off" and can_cache(model)
    approximate = cache == "approximate-slide"
    dtype = model_dtype(model, seed.dtype)  # forward_cached has no precision hooks (bf16 models)
    context = seed[:, -window:]  # the last `window` frames the model has seen or produced
    state: IncrementalState | None = None
    slid = False  # whether the last appended frame pushed the oldest one out of the context
    predicted: list[torch.Tensor] = []
    for _ in range(num_frames):
        if cached and state is not None and (approximate or not slid):
            if slid:  # approximate: forget the oldest frame's keys and values, the new frame takes its position
                state.drop_oldest(1)
                state.position -= 1
            output, state = model.forward_cached(context[:, -1:].to(dtype), state)  # type: ignore[operator]
        elif cached and (approximate or context.shape[1] < window):  # start the cache (growing context)
            capacity = 2 * window if approximate else window
            output, state = model.forward_cached(context.to(dtype), None, capacity)  # type: ignore[operator]
        else:  # sliding (exact) or no cache: recompute the whole context
            output, state = model(context), None
        prediction = output[:, -1].to(seed.dtype)
        if postprocess is not None:
            prediction = postprocess(prediction)
        predicted.append(prediction)
        slid = context.shape[1] == window
        context = torch.cat([context[:, 1:] if slid else context, prediction[:, None]], dim=1)
    if not predicted:
        return seed.new_empty(seed.shape[0], 0, *seed.shape[2:])
    return torch.stack(predicted, dim=1)
