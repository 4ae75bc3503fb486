"""Every registered recognition model: shape, backward, finiteness, determinism, parameter counts, attention maps."""

from __future__ import annotations

import pytest
import torch

import skeletal
from skeletal.errors import ConfigError, LayoutError, ShapeError
from skeletal.models import count_parameters, create, names
from skeletal.models.recognition import TwoStream

RECOGNITION = names("recognition", builtin_only=True)
FRAMES = 12
FAST_BONES = {"s-tr-bones", "t-tr-bones"}  # the other bones variants (doubled widths) run with -m slow
PARAMETRIZED = [
    pytest.param(n, marks=pytest.mark.slow) if n.endswith("-bones") and n not in FAST_BONES else n for n in RECOGNITION
]


def _input(name: str, joints: int = 25, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(2, 2, FRAMES, joints, 6 if name.endswith("-bones") else 3, generator=generator)


def test_all_paper_names_registered() -> None:
    expected = {
        "st-gcn", "st-gcn-fc", "agcn", "s-tr", "t-tr", "t-tr-agcn", "st-tr-1s", "s-tr-all-layers",
        "t-tr-all-layers", "s-tr-augmented", "t-tr-augmented", "st-tr", "st-tr-agcn",
    }  # fmt: skip
    assert expected <= set(RECOGNITION)
    assert {f"{name}-bones" for name in expected} <= set(RECOGNITION)


@pytest.mark.parametrize("name", PARAMETRIZED)
def test_model_shape_backward_finite_deterministic(name: str) -> None:
    torch.manual_seed(0)
    model = create(name, num_classes=7)
    x = _input(name)
    torch.manual_seed(1)
    first = model(x)
    torch.manual_seed(1)
    second = model(x)  # same seed: same dropout and DropAttention draws
    assert first.shape == (2, 7)
    assert torch.isfinite(first).all()
    assert torch.equal(first, second)
    if isinstance(model, TwoStream):
        torch.testing.assert_close(first.sum(-1), torch.full((2,), 2.0))
        return
    second.logsumexp(-1).sum().backward()
    gradients = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in gradients)
    assert sum(bool(g.abs().sum() > 0) for g in gradients) > 0.9 * len(gradients)


def test_one_stream_count_matches_paper() -> None:
    assert round(count_parameters(create("st-tr-1s")) / 1e5, 1) == 17.4  # journal section V-F: 17.4 x 10^5


def test_attention_maps() -> None:
    x = _input("s-tr")
    model = create("s-tr").eval()
    with torch.no_grad():
        logits, maps = model(x, return_attention=True)
        torch.testing.assert_close(logits, model(x), atol=1e-4, rtol=1e-4)  # fused vs explicit path
    assert len(maps.spatial) == 6 and not maps.temporal
    assert maps.spatial[0].shape == (4, 8, FRAMES, 25, 25)  # (N M, heads, T, V, V)
    assert maps.spatial[-1].shape == (4, 8, FRAMES // 4, 25, 25)
    assert maps.names["spatial"][0] == "units.4.spatial"
    _, maps = create("t-tr-all-layers").eval()(x, return_attention=True)
    assert len(maps.temporal) == 10
    first = maps.temporal[0]  # official windows of 10 frames: 10 + 2
    assert first.shape == (4, 8, 25, FRAMES, FRAMES)
    assert first[..., 0, 10:].abs().max() == 0 and first[..., 0, :10].sum(-1).allclose(torch.ones(4, 8, 25))
    assert first[..., 11, :10].abs().max() == 0 and first[..., 11, 10:].sum(-1).allclose(torch.ones(4, 8, 25))
    _, maps = create("t-tr-all-layers", windows="paper").eval()(x, return_attention=True)
    first = maps.temporal[0]  # the paper's 10 windows of ceil(12 / 10) = 2 frames
    assert first[..., 0, 2:].abs().max() == 0 and first[..., 0, :2].sum(-1).allclose(torch.ones(4, 8, 25))
    assert maps.temporal[-1].shape == (4, 8, 25, FRAMES // 4, FRAMES // 4)
    scores, both = create("st-tr").eval()(x, return_attention=True)
    assert len(both.spatial) == 6 and len(both.temporal) == 6
    assert both.names["temporal"][0].startswith("temporal.")


def test_input_validation_messages() -> None:
    model = create("st-gcn")
    with pytest.raises(LayoutError, match="25"):
        model(torch.randn(1, 2, 8, 17, 3))
    with pytest.raises(ShapeError, match="3 channels"):
        model(torch.randn(1, 2, 8, 25, 2))
    with pytest.raises(ShapeError, match="persons"):
        model(torch.randn(1, 1, 8, 25, 3))
    with pytest.raises(ShapeError, match=r"\(N, M, T, V, C\)"):
        model(torch.randn(2, 8, 25, 3))
    with pytest.raises(ConfigError, match="unknown recognition model options"):
        create("s-tr", head=4)


def test_options_and_graph_choice() -> None:
    model = create("s-tr", relative=True, window_size=FRAMES, drop_attention=0.1, partitions="stgcn")
    assert model(_input("s-tr")).shape == (2, 60)
    assert create("st-gcn", concat_input=False).units[4].residual.conv.in_channels == 64
    assert create("st-gcn").units[4].residual.conv.in_channels == 67  # official concat_original
    bones = create("s-tr-bones")
    assert bones.units[-1].spatial.bn.num_features == 512 and bones.in_channels == 6


def test_kinetics_variant() -> None:
    if "openpose18" not in skeletal.skeletons.names():
        pytest.skip("openpose18 layout not available yet")
    model = create("s-tr", skeleton="openpose18", in_channels=3, num_classes=400, dropout=0.0, window_size=16)
    x = torch.randn(2, 2, 16, 18, 3)
    assert model(x).shape == (2, 400)
    assert create("t-tr", skeleton="openpose18", num_classes=400)(x).shape == (2, 400)
