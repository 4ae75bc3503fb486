"""GAST-Net and VideoPose3D: registry, parameter counts, shapes, backward, errors, attention maps."""

from __future__ import annotations

import pytest
import torch

from skeletal.errors import ConfigError, LayoutError, ShapeError
from skeletal.models import count_parameters, create, info, names
from skeletal.models.lifting import GASTNet, VideoPose3D

# Official counts (17 joints): GAST-Net from the official SpatioTemporalModel (issue 7; paper: 6.92 M at RF 27);
# VideoPose3D's TemporalModel, 1024 channels: 34*1024*3 + 2048 + (L-1)*(4*1024^2 + 4096) + 1024*51 + 51.
OFFICIAL = {
    "gast-net-27": 6_915_984,
    "gast-net-81": 7_054_612,
    "gast-net-243": 7_091_736,
    "videopose3d-27": 8_555_571,
    "videopose3d-81": 12_753_971,
    "videopose3d-243": 16_952_371,
}


def test_presets_are_registered() -> None:
    lifting = names("lifting", builtin_only=True)
    for name in ["gast-net", "gast-net-9", *OFFICIAL, "videopose3d"]:
        assert name in lifting


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_parameter_count_matches_official(name: str) -> None:
    model = create(name)
    assert count_parameters(model) == OFFICIAL[name]
    assert info(name).reference_parameters == OFFICIAL[name]


def test_parameter_counts_of_the_papers_in_millions() -> None:
    assert round(OFFICIAL["gast-net-27"] / 1e6, 2) == 6.92
    assert [round(OFFICIAL[f"videopose3d-{rf}"] / 1e6, 2) for rf in (27, 81, 243)] == [8.56, 12.75, 16.95]


@pytest.mark.parametrize(
    ("receptive_field", "widths", "channels"),
    [(9, (3, 3), 128), (27, (3, 3, 3), 128), (81, (3, 3, 3, 3), 64), (243, (3, 3, 3, 3, 3), 32)],
)
def test_gast_net_configurations(receptive_field: int, widths: tuple[int, ...], channels: int) -> None:
    model = create("gast-net", receptive_field=receptive_field)
    assert isinstance(model, GASTNet)
    assert model.receptive_field == receptive_field
    assert model.filter_widths == widths
    assert model.stages[0].conv.out_channels == channels
    assert [stage.dilation for stage in model.stages] == [3**i for i in range(len(widths))]
    assert model.skeleton.name == "h36m17"


def test_gast_net_rejects_unknown_receptive_field() -> None:
    with pytest.raises(ConfigError, match="9, 27, 81, 243"):
        create("gast-net", receptive_field=30)
    with pytest.raises(ConfigError, match="odd"):
        GASTNet(filter_widths=(3, 2))


@pytest.mark.parametrize("name", ["gast-net-9", "videopose3d-27"])
def test_shapes_both_modes(name: str) -> None:
    model = create(name).eval()
    field = model.receptive_field
    with torch.no_grad():
        assert model(torch.randn(2, field + 4, 17, 2)).shape == (2, 5, 17, 3)
        model.strided = True
        assert model(torch.randn(2, field, 17, 2)).shape == (2, 1, 17, 3)
        assert model.lift(torch.randn(1, 3, 17, 2)).shape == (1, 3, 17, 3)


@pytest.mark.parametrize(
    "name", ["gast-net-9", "gast-net-27", "gast-net-81", "gast-net-243", "videopose3d-27", "videopose3d-243"]
)
def test_backward_in_training_mode(name: str) -> None:
    model = create(name, strided=True).train()
    x = torch.randn(2, model.receptive_field, 17, 2)
    output = model(x)
    assert torch.isfinite(output).all()
    output.square().mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    # every parameter takes part (the learned C_k and the semantic masks included)
    assert sum(int(g.abs().sum() > 0) for g in grads) == len(grads)


def test_determinism_under_seed() -> None:
    x = torch.randn(1, 9, 17, 2)
    outputs = []
    for _ in range(2):
        torch.manual_seed(3)
        outputs.append(create("gast-net-9").eval()(x))
    assert torch.equal(outputs[0], outputs[1])


def test_input_errors_name_expected_and_received() -> None:
    model = create("gast-net-9")
    with pytest.raises(LayoutError, match="h36m17"):
        model(torch.randn(1, 9, 25, 2))
    with pytest.raises(ShapeError, match="2 channels"):
        model(torch.randn(1, 9, 17, 3))
    with pytest.raises(ShapeError, match="at least T = 9"):
        model(torch.randn(1, 8, 17, 2))
    with pytest.raises(ShapeError, match="NaN"):
        model(torch.full((1, 9, 17, 2), float("nan")))
    model.strided = True
    with pytest.raises(ShapeError, match="T = 9"):
        model(torch.randn(1, 10, 17, 2))


def test_attention_maps_of_the_global_graphs() -> None:
    model = create("gast-net-9").eval()
    with torch.no_grad():
        output, maps = model(torch.randn(2, 13, 17, 2), return_attention=True)
    assert output.shape == (2, 5, 17, 3)
    # one map per graph attention block: after the expanding conv (11 frames) and after stage 1 (5 frames)
    assert [tuple(m.shape) for m in maps.spatial] == [(2, 4, 11, 17, 17), (2, 4, 5, 17, 17)]
    assert maps.names["spatial"] == ["stages.0", "stages.1"]
    # C_k starts at zero, so B_k + C_k is a softmax over key joints
    for m in maps.spatial:
        assert torch.allclose(m.sum(-1), torch.ones(()), atol=1e-5)
        assert (m >= 0).all()


def test_videopose3d_is_a_plain_temporal_network() -> None:
    model = create("videopose3d", receptive_field=81)
    assert isinstance(model, VideoPose3D)
    assert model.receptive_field == 81
    assert model.stages[0].conv.in_channels == 34
    with pytest.raises(ConfigError):
        create("videopose3d", receptive_field=30)
