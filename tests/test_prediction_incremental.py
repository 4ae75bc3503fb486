"""Incremental generation: the official growing-then-sliding sampling rule and the exact key/value cache."""

from __future__ import annotations

import pytest
import roma
import torch

from skeletal import models
from skeletal.errors import ConfigError
from skeletal.inference.generation import generate, project_frames
from skeletal.inference.incremental import sample
from skeletal.nn.joint_attention import KeyValueCache
from skeletal.skeletons import from_edges
from skeletal.tasks import rollout

SKELETON = from_edges("chain4", [f"j{i}" for i in range(4)], [(0, 1), (1, 2), (2, 3)], 0)
TINY = dict(num_layers=2, num_heads=2, model_dim=8, feedforward_dim=16, window=12)
CACHED = ("st-transformer", "transformer-2d", "transformer")


def poses(n: int, t: int) -> torch.Tensor:
    return roma.random_rotmat((n, t, 4)).reshape(n, t, 4, 9)


def tiny(name: str, **config: object) -> torch.nn.Module:
    torch.manual_seed(0)
    return models.create(name, skeleton=SKELETON, **{**TINY, **config}).eval()


def project(frame: torch.Tensor) -> torch.Tensor:
    return project_frames(frame, "matrix")


def official_sample(model: torch.nn.Module, seed: torch.Tensor, steps: int, window: int) -> torch.Tensor:
    """The official rule from its definition: start from the last `window` seed frames, append each prediction
    (projected onto rotations, so that values stay O(1) and 1e-5 is a tight bound), keep the last `window`."""
    context, predicted = seed[:, -window:], []
    for _ in range(steps):
        frame = project(model(context)[:, -1:])
        predicted.append(frame)
        context = torch.cat([context, frame], dim=1)[:, -window:]
    return torch.cat(predicted, dim=1)


@pytest.mark.parametrize("name", CACHED)
def test_forward_cached_in_pieces_equals_forward(name: str) -> None:
    model, x = tiny(name), poses(3, 10)
    with torch.no_grad():
        first, state = model.forward_cached(x[:, :4])
        rest = [model.forward_cached(x[:, t : t + 1], state)[0] for t in range(4, 9)]
        last, state = model.forward_cached(x[:, 9:], state)
        torch.testing.assert_close(torch.cat([first, *rest, last], dim=1), model(x), atol=1e-5, rtol=0)
    assert state.position == 10 and len(state) == 10


@pytest.mark.parametrize("name", CACHED)
def test_cached_sampling_equals_the_official_rule(name: str) -> None:
    """Seed 5 < window 12: 7 frames grow the context (cached), 13 more slide it (recomputed); batch of 3."""
    model, seed = tiny(name), poses(3, 5)
    with torch.no_grad():
        expected = official_sample(model, seed, 20, window=12)
        cached = sample(model, seed, 20, postprocess=project)  # window defaults to model.window
        uncached = sample(model, seed, 20, postprocess=project, cache="off")
    torch.testing.assert_close(cached, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(uncached, expected, atol=1e-5, rtol=0)


def test_seed_longer_than_the_window_uses_its_last_frames() -> None:
    model, seed = tiny("st-transformer"), poses(2, 20)
    with torch.no_grad():
        cached = sample(model, seed, 4, postprocess=project)
        torch.testing.assert_close(cached, official_sample(model, seed, 4, 12), atol=1e-5, rtol=0)


def test_generate_and_rollout_accept_a_window_longer_than_the_seed() -> None:
    model, seed = tiny("st-transformer"), poses(2, 5)
    grown = generate(model, seed, 9, window=12)
    assert not model.training
    with torch.no_grad():
        context = seed
        for step in range(9):  # projected, growing: 5 .. 12 frames, then sliding
            frame = project_frames(model(context[:, -12:])[:, -1], "matrix")
            torch.testing.assert_close(grown[:, step], frame, atol=1e-5, rtol=0)
            context = torch.cat([context, frame[:, None]], dim=1)
        rolled = rollout(model, seed, 9, context=12)  # unprojected, the task's validation rollout
        torch.testing.assert_close(rolled[:, :1], model(seed)[:, -1:], atol=1e-5, rtol=0)
        torch.testing.assert_close(rolled, sample(model, seed, 9, 12, cache="off"), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(sample(model, seed, 9, 12, project), official_sample(model, seed, 9, 12))
    torch.testing.assert_close(generate(model, seed, 9, window=12, cache="off"), grown, atol=1e-5, rtol=0)


def test_sequence_normalisation_is_not_cached_but_still_samples() -> None:
    model, seed = tiny("st-transformer", normalization="sequence"), poses(2, 5)
    assert not model.supports_cache
    with torch.no_grad(), pytest.raises(ConfigError, match="feature"):
        model.forward_cached(seed)
    with torch.no_grad():
        torch.testing.assert_close(sample(model, seed, 10, postprocess=project), official_sample(model, seed, 10, 12))


def test_training_mode_and_gradients_recompute() -> None:
    model, seed = tiny("st-transformer").train(), poses(1, 5)
    torch.manual_seed(1)
    out = sample(model, seed, 3)  # dropout and autograd: no cache, the graph reaches the parameters
    out.sum().backward()
    assert model.embedding.weight.grad is not None


def test_approximate_slide_is_exact_until_the_first_slide() -> None:
    model, seed = tiny("st-transformer"), poses(2, 5)
    with torch.no_grad():
        exact = sample(model, seed, 30, postprocess=project)
        approximate = sample(model, seed, 30, postprocess=project, cache="approximate-slide")
    grown = 12 - 5 + 1  # frames predicted before the context first slides
    torch.testing.assert_close(approximate[:, :grown], exact[:, :grown], atol=1e-5, rtol=0)
    assert torch.isfinite(approximate).all()
    assert (approximate[:, grown:] - exact[:, grown:]).abs().max() > 1e-4


def test_unknown_cache_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="cache"):
        sample(tiny("st-transformer"), poses(1, 3), 2, cache="fast")


def test_key_value_cache_keeps_the_newest_frames_across_compactions() -> None:
    frames = torch.arange(40.0).reshape(1, 40, 1)
    cache = KeyValueCache(frames[:, :3], -frames[:, :3], capacity=8, dim=1)
    for t in range(3, 40):
        cache.drop_oldest(1 if len(cache) == 4 else 0)
        keys, values = cache.append(frames[:, t : t + 1], -frames[:, t : t + 1])
        start = max(0, t + 1 - 4)
        torch.testing.assert_close(keys, frames[:, start : t + 1])
        torch.testing.assert_close(values, -frames[:, start : t + 1])
    with pytest.raises(ConfigError, match="cannot hold"):
        cache.append(frames[:, :5], frames[:, :5])
