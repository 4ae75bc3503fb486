"""Motion-prediction models: every registered one (shapes, backward, NaN, determinism, causality), the AMASS
parameter count against the official implementation, attention maps and representations."""

from __future__ import annotations

import pytest
import roma
import torch

from skeletal import models
from skeletal.errors import ConfigError, LayoutError
from skeletal.models.prediction import Seq2Seq, STTransformer
from skeletal.skeletons import Skeleton, from_edges

TINY_TRANSFORMER = dict(num_layers=2, num_heads=2, model_dim=16, feedforward_dim=32, window=12)
TINY = {
    "st-transformer": TINY_TRANSFORMER,
    "st-transformer-amass": TINY_TRANSFORMER,
    "st-transformer-h36m": TINY_TRANSFORMER,
    "transformer-2d": TINY_TRANSFORMER,
    "transformer": TINY_TRANSFORMER,
    "seq2seq": dict(hidden_size=32, window=12),
    "zero-velocity": {},
}
PREDICTION_MODELS = models.names("prediction", builtin_only=True)


def chain(num_joints: int, name: str = "chain") -> Skeleton:
    """A test layout: a chain of joints (models only need its joint count)."""
    return from_edges(
        f"{name}{num_joints}", [f"j{i}" for i in range(num_joints)], [(i, i + 1) for i in range(num_joints - 1)], 0
    )


SKELETON = chain(5)


def tiny(name: str, **overrides: object) -> torch.nn.Module:
    return models.create(name, skeleton=SKELETON, **{**TINY[name], **overrides})


def rotations(n: int, t: int, v: int) -> torch.Tensor:
    return roma.random_rotmat((n, t, v)).reshape(n, t, v, 9)


def test_every_prediction_model_has_tiny_config() -> None:
    assert set(PREDICTION_MODELS) == set(TINY), "a prediction model was registered without a test config"


@pytest.mark.parametrize("name", PREDICTION_MODELS)
def test_shapes_backward_finite(name: str) -> None:
    model = tiny(name).train()
    x = rotations(2, 7, 5).requires_grad_(True)
    y = model(x)
    assert y.shape == (2, 7, 5, 9)
    assert torch.isfinite(y).all()
    y.square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    for param_name, param in model.named_parameters():
        assert param.grad is not None, f"{name}: no gradient for {param_name}"
        assert torch.isfinite(param.grad).all()


@pytest.mark.parametrize("name", PREDICTION_MODELS)
def test_deterministic_under_seed(name: str) -> None:
    x = rotations(2, 6, 5)
    torch.manual_seed(3)
    first = tiny(name).eval()(x)
    torch.manual_seed(3)
    second = tiny(name).eval()(x)
    assert torch.equal(first, second)


@pytest.mark.parametrize("name", [n for n in PREDICTION_MODELS if n != "zero-velocity"])
def test_causal(name: str) -> None:
    """Changing frame t changes no output before t, and does change the output at t."""
    model = tiny(name).eval()
    x = rotations(2, 9, 5)
    t = 4
    changed = x.clone()
    changed[:, t] = rotations(2, 1, 5)[:, 0]
    with torch.no_grad():
        before, after = model(x), model(changed)
    torch.testing.assert_close(before[:, :t], after[:, :t], rtol=0, atol=1e-6)
    assert (before[:, t] - after[:, t]).abs().max() > 1e-4


@pytest.mark.parametrize("attention", ["softmax", "sum"])
def test_st_transformer_causal_in_training_mode_and_both_attentions(attention: str) -> None:
    model = tiny("st-transformer", attention=attention, dropout=0.0).train()
    x = rotations(1, 8, 5)
    changed = x.clone()
    changed[:, 5:] += 0.5
    torch.testing.assert_close(model(x)[:, :5], model(changed)[:, :5], rtol=0, atol=1e-6)


def test_official_sequence_normalization_is_not_causal() -> None:
    """The official layer norm over (T, V, D) leaks the future into the past: why it is not the default."""
    model = tiny("st-transformer", normalization="sequence").eval()
    x = rotations(1, 8, 5)
    changed = x.clone()
    changed[:, 7] += 1.0
    with torch.no_grad():
        assert (model(x)[:, 0] - model(changed)[:, 0]).abs().max() > 1e-5


def test_zero_velocity_repeats_input() -> None:
    model = tiny("zero-velocity")
    x = rotations(2, 4, 5)
    assert models.count_parameters(model) == 0
    assert torch.equal(model(x), x)


def test_amass_preset_parameter_count_matches_official() -> None:
    model = models.create("st-transformer-amass", skeleton=chain(15))
    count = models.count_parameters(model)
    reference = models.info("st-transformer-amass").reference_parameters
    assert reference == 18_256_647  # pretrained_configs/1573450146-transformer2d/config.json
    assert abs(count - reference) / reference < 0.005
    assert count == reference  # same parameter layout as the official code


def test_amass_preset_sizes() -> None:
    model = models.create("st-transformer-amass", skeleton=chain(15))
    assert isinstance(model, STTransformer)
    assert len(model.layers) == 8 and model.window == 120
    assert model.layers[0].temporal.num_heads == 8
    assert model.embedding.weight.shape == (15, 9, 128)
    assert model.layers[0].feedforward.expand.weight.shape == (15, 128, 256)


def test_h36m_preset_against_official_config() -> None:
    """Official H3.6M config: 21 joints, L=4, H=4, D=64, FFN 128, 3,219,997 parameters of which 2 x 101 x 16
    are relative temporal position embeddings that this implementation does not have."""
    model = models.create("st-transformer-h36m", skeleton=chain(21), num_layers=4)
    assert models.count_parameters(model) == 3_219_997 - 2 * 101 * 16
    preset = models.create("st-transformer-h36m", skeleton=chain(21))
    assert len(preset.layers) == 8 and preset.window == 75  # supplement table 4
    assert preset.layers[0].temporal.num_heads == 4


def test_attention_maps() -> None:
    model = tiny("st-transformer").eval()
    x = rotations(2, 6, 5)
    y, maps = model(x, return_attention=True)
    torch.testing.assert_close(y, model(x))  # explicit-weights path == fused attention path
    assert len(maps.temporal) == 2 and len(maps.spatial) == 2
    assert maps.temporal[0].shape == (2, 2, 5, 6, 6)
    assert maps.spatial[0].shape == (2, 2, 6, 5, 5)
    assert torch.all(maps.temporal[0].triu(diagonal=1) == 0)  # causal mask
    torch.testing.assert_close(maps.spatial[1].sum(-1), torch.ones(2, 2, 6, 5))


def test_transformer_2d_attention_marginals() -> None:
    model = tiny("transformer-2d").eval()
    _, maps = model(rotations(1, 4, 5), return_attention=True)
    assert maps.temporal[0].shape == (1, 2, 5, 4, 4) and maps.spatial[0].shape == (1, 2, 4, 5, 5)
    torch.testing.assert_close(maps.temporal[0].sum(-1), torch.ones(1, 2, 5, 4))
    assert torch.all(maps.temporal[0].triu(diagonal=1) == 0)


def test_sum_normalised_model_attention_rows() -> None:
    model = tiny("st-transformer", attention="sum").eval()
    _, maps = model(rotations(2, 6, 5), return_attention=True)
    for weights in maps.temporal + maps.spatial:
        assert torch.all(weights >= 0)
        torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
    assert torch.all(maps.temporal[0].triu(diagonal=1) == 0)


@pytest.mark.parametrize(("representation", "size"), [("quaternion", 4), ("axis_angle", 3), ("rotation_6d", 6)])
def test_representations(representation: str, size: int) -> None:
    for name in ("st-transformer", "transformer", "seq2seq"):
        model = tiny(name, representation=representation)
        assert model(torch.randn(1, 3, 5, size)).shape == (1, 3, 5, size)


def test_errors_name_layouts() -> None:
    model = tiny("st-transformer")
    with pytest.raises(LayoutError, match="chain5"):
        model(torch.randn(1, 3, 6, 9))
    with pytest.raises(Exception, match="9 channels"):
        model(torch.randn(1, 3, 5, 4))
    with pytest.raises(ConfigError, match="divisible"):
        tiny("st-transformer", num_heads=3)
    with pytest.raises(ConfigError, match="representation"):
        tiny("st-transformer", representation="euler")


def test_seq2seq_rollout_and_sampling_loss() -> None:
    model = tiny("seq2seq")
    assert isinstance(model, Seq2Seq)
    seed, target = rotations(2, 6, 5), rotations(2, 3, 5)
    rolled = model.rollout(seed, 3)
    assert rolled.shape == (2, 3, 5, 9)
    # the first rolled-out frame is the teacher-forced prediction after the seed
    torch.testing.assert_close(rolled[:, 0], model(seed)[:, -1])
    loss = model.sampling_loss(seed, target)
    loss.backward()
    assert model.cell.weight_hh_l0.grad is not None and torch.isfinite(loss)


def test_default_layouts() -> None:
    amass = models.create("st-transformer-amass")
    assert amass.skeleton.name == "amass15" and models.count_parameters(amass) == 18_256_647
    assert models.create("st-transformer-h36m").skeleton.name == "h36m32"
