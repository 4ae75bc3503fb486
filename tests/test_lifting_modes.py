"""One set of weights, two execution modes; causality; flip helpers."""

from __future__ import annotations

import pytest
import torch

from skeletal.models import create
from skeletal.models.lifting import TemporalLifter, flip_augment, flip_horizontal, predict_with_flip
from skeletal.skeletons import get


def trained_statistics(model: TemporalLifter, steps: int = 2) -> TemporalLifter:
    """Give the batch norms non-trivial running statistics, then switch to evaluation."""
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(torch.randn(2, model.receptive_field + 2, model.skeleton.num_joints, 2) * 2 + 0.5)
    return model.eval()


@pytest.mark.parametrize("name", ["gast-net-27", "videopose3d-27", "gast-net-81"])
@pytest.mark.parametrize("causal", [False, True])
def test_strided_and_dilated_modes_share_weights(name: str, causal: bool) -> None:
    layer_by_layer = trained_statistics(create(name, causal=causal))
    single_frame = create(name, causal=causal, strided=True)
    single_frame.load_state_dict(layer_by_layer.state_dict())  # identical keys and shapes
    single_frame.eval()
    field, windows = layer_by_layer.receptive_field, 6
    x = torch.randn(1, field + windows - 1, 17, 2)
    with torch.no_grad():
        whole = layer_by_layer(x)
        per_window = torch.cat([single_frame(x[:, i : i + field]) for i in range(windows)], dim=1)
    assert whole.shape == per_window.shape == (1, windows, 17, 3)
    assert (whole - per_window).abs().max() < 1e-5
    assert whole.abs().mean() > 1e-3  # not a trivially zero output


def test_mode_switch_on_one_module() -> None:
    model = trained_statistics(create("gast-net-9", causal=True))
    x = torch.randn(1, 9, 17, 2)
    with torch.no_grad():
        dilated = model(x)
        model.strided = True
        strided = model(x)
    assert (dilated - strided).abs().max() < 1e-5


@pytest.mark.parametrize("name", ["gast-net-27", "videopose3d-27"])
def test_causal_output_ignores_the_future(name: str) -> None:
    causal = trained_statistics(create(name, causal=True))
    symmetric = create(name).eval()
    symmetric.load_state_dict(causal.state_dict())
    x = torch.randn(1, 20, 17, 2)
    changed = x.clone()
    t = 9
    changed[:, t + 1] += 1.0
    with torch.no_grad():
        before, after = causal.lift(x), causal.lift(changed)
        sym_before, sym_after = symmetric.lift(x), symmetric.lift(changed)
    assert before.shape == (1, 20, 17, 3)
    assert torch.equal(before[:, : t + 1], after[:, : t + 1])
    assert not torch.allclose(before[:, t + 1], after[:, t + 1])
    assert not torch.allclose(sym_before[:, t], sym_after[:, t])  # the symmetric model looks ahead


def test_lift_pads_by_repeating_edge_frames() -> None:
    model = trained_statistics(create("gast-net-9", causal=True))
    x = torch.randn(1, 4, 17, 2)
    padded = torch.cat([x[:, :1].repeat(1, 8, 1, 1), x], dim=1)
    with torch.no_grad():
        assert torch.allclose(model.lift(x), model(padded))
    assert model.padding() == (8, 0)
    model.causal = False
    assert model.padding() == (4, 4)


def test_flip_horizontal_golden_and_involution() -> None:
    h36m = get("h36m17")
    x = torch.randn(2, 3, 17, 2)
    flipped = flip_horizontal(x, h36m)
    # joint 1 (right hip) receives the mirrored left hip (4), and vice versa; the pelvis stays
    assert torch.equal(flipped[..., 1, 0], -x[..., 4, 0]) and torch.equal(flipped[..., 1, 1], x[..., 4, 1])
    assert torch.equal(flipped[..., 16, :], torch.stack([-x[..., 13, 0], x[..., 13, 1]], -1))
    assert torch.equal(flipped[..., 0, 0], -x[..., 0, 0])
    assert torch.equal(flip_horizontal(flipped, h36m), x)
    poses = torch.randn(3, 17, 3)
    assert torch.equal(flip_horizontal(poses, "h36m17")[:, 14, 1:], poses[:, 11, 1:])


def test_flip_augment_flips_input_and_target_together() -> None:
    x, y = torch.randn(4, 9, 17, 2), torch.randn(4, 1, 17, 3)
    same_x, same_y = flip_augment(x, y, "h36m17", probability=0.0)
    assert torch.equal(same_x, x) and torch.equal(same_y, y)
    all_x, all_y = flip_augment(x, y, "h36m17", probability=1.0)
    assert torch.equal(all_x, flip_horizontal(x, "h36m17")) and torch.equal(all_y, flip_horizontal(y, "h36m17"))


@pytest.mark.parametrize("name", ["gast-net-9", "videopose3d-27"])
def test_predict_with_flip_is_flip_equivariant(name: str) -> None:
    model = trained_statistics(create(name))
    x = torch.randn(1, model.receptive_field + 1, 17, 2)
    with torch.no_grad():
        averaged = predict_with_flip(model, x)
        of_flipped = predict_with_flip(model, flip_horizontal(x, "h36m17"))
        plain = model(x)
    assert averaged.shape == plain.shape == (1, 2, 17, 3)
    assert torch.allclose(of_flipped, flip_horizontal(averaged, "h36m17"), atol=1e-5)
    assert not torch.allclose(averaged, plain)
