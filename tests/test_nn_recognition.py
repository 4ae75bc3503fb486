"""Building blocks of the recognition models: graph and temporal convolutions, SSA/TSA, DropAttention."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from skeletal.models import count_parameters
from skeletal.nn.augmented_attention import AugmentedSpatialAttention, AugmentedTemporalAttention
from skeletal.nn.drop_attention import DropAttention, attend
from skeletal.nn.graph_conv import AdaptiveGraphConv, GraphConv, ones_adjacency
from skeletal.nn.joint_attention import prefer_fused_attention
from skeletal.nn.relative_position import SpatialRelativePosition, TemporalRelativePosition
from skeletal.nn.self_attention import AxisSelfAttention, SpatialSelfAttention, TemporalSelfAttention
from skeletal.nn.temporal_conv import TemporalConv
from skeletal.skeletons import agcn_partitions

ADJACENCY = agcn_partitions("ntu25")


def test_single_module_parameters_match_table_1b() -> None:
    """ST-TR journal Table I-b, counted exactly from the official modules at C_in = C_out = 256, V = 25."""
    assert count_parameters(GraphConv(256, 256, ADJACENCY)) == 199_763
    assert count_parameters(SpatialSelfAttention(256, 256, 25)) == 177_792
    assert count_parameters(TemporalConv(256, 256, 9)) == 590_592
    assert count_parameters(TemporalSelfAttention(256, 256, 25)) == 177_792
    # Eq. 11 without biases and batch norms: C_in C_out (2k + v) + C_out^2 v^2 with k = 0.25, v = 1.
    attention = SpatialSelfAttention(256, 256, 25).attention
    assert attention.qkv.weight.numel() + attention.merge.weight.numel() == 256 * 256 * 1.5 + 256**2
    # 2s-AGCN unit: three (theta, phi, W) triples, B_k, BN.
    assert (
        count_parameters(AdaptiveGraphConv(256, 256, ADJACENCY)) == 3 * (2 * (256 * 64 + 64) + 256 * 257) + 1875 + 512
    )


@pytest.mark.parametrize("widths", [(3, 4), (6, 6), (8, 5)])  # aggregate-first and project-first orders
def test_graph_conv_matches_eq1_by_hand(widths: tuple[int, int]) -> None:
    torch.manual_seed(0)
    conv = GraphConv(*widths, ADJACENCY, norm=False)
    with torch.no_grad():
        conv.mask.uniform_(0.5, 1.5)
        conv.projection.bias.uniform_(-1, 1)
    x = torch.randn(2, 5, 25, widths[0])
    expected = torch.zeros(2, 5, 25, widths[1])
    masked = conv.adjacency * conv.mask
    for k in range(3):  # f_out = sum_k (f_in A_k) W_k + b_k
        expected += torch.einsum("ntvc,vw->ntwc", x, masked[k]) @ conv.projection.weight[k] + conv.projection.bias[k]
    torch.testing.assert_close(conv(x), expected, atol=1e-5, rtol=1e-5)


def test_graph_conv_identity_partition_never_mixes_joints() -> None:
    identity = np.eye(25, dtype=np.float32)[None]
    conv = GraphConv(3, 8, identity, norm=False)
    x = torch.randn(1, 4, 25, 3)
    y = conv(x)
    x2 = x.clone()
    x2[:, :, 7] += 1.0
    changed = (conv(x2) - y).abs().sum(dim=(0, 1, 3)) > 0
    assert changed.nonzero().flatten().tolist() == [7]


def test_fc_adjacency_and_adaptive_similarity() -> None:
    assert ones_adjacency(18).shape == (1, 18, 18)
    conv = AdaptiveGraphConv(6, 16, ADJACENCY)
    x = torch.randn(2, 7, 25, 6)
    similarity = conv.similarity(x)
    assert similarity.shape == (2, 3, 25, 25)
    torch.testing.assert_close(similarity.sum(dim=-2), torch.ones(2, 3, 25))  # columns are softmaxes (Eq. 3)
    assert conv(x).shape == (2, 7, 25, 16)


@pytest.mark.parametrize("frames, stride", [(20, 1), (20, 2), (21, 2)])
def test_temporal_conv_shape_and_locality(frames: int, stride: int) -> None:
    conv = TemporalConv(4, 6, 9, stride).eval()
    x = torch.randn(2, frames, 25, 4)
    y = conv(x)
    assert y.shape == (2, math.ceil(frames / stride), 25, 6)
    x2 = x.clone()
    x2[:, :, 3] += 1.0
    changed = (conv(x2) - y).abs().sum(dim=(0, 1, 3)) > 0
    assert changed.nonzero().flatten().tolist() == [3]  # a K_t x 1 kernel never mixes joints


def test_ssa_attends_within_each_frame_and_tsa_within_each_joint() -> None:
    torch.manual_seed(0)
    ssa, tsa = SpatialSelfAttention(32, 32, 25).eval(), TemporalSelfAttention(32, 32, 25).eval()
    x = torch.randn(2, 6, 25, 32)
    x2 = x.clone()
    x2[:, 2, 5] += 1.0  # frame 2, joint 5
    spatial_change = (ssa(x2) - ssa(x)).abs().sum(dim=(0, 3))  # (T, V)
    temporal_change = (tsa(x2) - tsa(x)).abs().sum(dim=(0, 3))
    assert spatial_change.sum(dim=1).nonzero().flatten().tolist() == [2]  # only frame 2, all of its joints
    assert (spatial_change[2] > 0).all()
    assert temporal_change.sum(dim=0).nonzero().flatten().tolist() == [5]  # only joint 5, all of its frames
    assert (temporal_change[:, 5] > 0).all()


@pytest.mark.parametrize("relative", [False, True])
def test_fused_attention_equals_explicit_in_eval(relative: bool) -> None:
    torch.manual_seed(0)
    modules = [
        SpatialSelfAttention(32, 32, 25, relative=relative),
        TemporalSelfAttention(32, 64, 25, stride=2, relative_frames=10 if relative else None),
        TemporalSelfAttention(32, 32, 25, relative_frames=4 if relative else None, windows=5),
        AugmentedSpatialAttention(32, 64, ADJACENCY, relative=relative),
        AugmentedTemporalAttention(32, 64, 25, relative_frames=20 if relative else None),
    ]
    x = torch.randn(2, 20, 25, 32)
    for module in modules:
        module.eval()
        fused = module(x)  # parameters require gradients: the fused kernel
        explicit, weights = module(x, return_attention=True)
        torch.testing.assert_close(fused, explicit, atol=1e-5, rtol=1e-4)
        with torch.inference_mode():  # the explicit product without the weights
            torch.testing.assert_close(module(x), explicit, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(weights.sum(-1), torch.ones_like(weights.sum(-1)), atol=1e-5, rtol=0)


def test_attention_weights_shapes() -> None:
    x = torch.randn(2, 20, 25, 32)
    _, spatial = SpatialSelfAttention(32, 32, 25).eval()(x, return_attention=True)
    _, temporal = TemporalSelfAttention(32, 32, 25, stride=2).eval()(x, return_attention=True)
    assert spatial.shape == (2, 8, 20, 25, 25)
    assert temporal.shape == (2, 8, 25, 10, 10)


def test_drop_attention_drops_columns_and_renormalises_rows() -> None:
    torch.manual_seed(0)
    drop = DropAttention(0.5).train()
    weights = torch.softmax(torch.randn(64, 8, 25, 25), dim=-1)
    dropped = drop(weights)
    torch.testing.assert_close(dropped.sum(-1), torch.ones(64, 8, 25))
    zero_columns = (dropped == 0).all(dim=-2)  # (B, H, S): whole columns
    assert 0.4 < zero_columns.float().mean().item() < 0.6
    kept = ~zero_columns.unsqueeze(-2)
    ratio = dropped / weights  # every kept weight of a row is scaled by the same factor
    ratio = torch.where(kept, ratio, torch.nan)
    spread = ratio.nan_to_num(0).amax(-1) - torch.where(kept, ratio, torch.inf).amin(-1)
    assert spread.abs().max() < 1e-4
    assert torch.equal(drop.eval()(weights), weights)  # identity in eval
    assert drop.keep_mask(2, 8, 25) is None


def test_drop_attention_never_empties_a_row() -> None:
    torch.manual_seed(0)
    drop = DropAttention(0.9).train()
    weights = torch.softmax(torch.randn(512, 8, 2, 2), dim=-1)
    torch.testing.assert_close(drop(weights).sum(-1), torch.ones(512, 8, 2))


def test_fused_drop_attention_equals_renormalised_softmax() -> None:
    """Masking the dropped keys in the fused kernel = renormalising the kept softmax weights (DropAttention)."""
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 4, 8, 10, 6).unbind(0)
    keep = DropAttention(0.5).train().keep_mask(4, 8, 10)
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(6), dim=-1) * keep
    expected = (weights / weights.sum(-1, keepdim=True)) @ v
    assert not prefer_fused_attention(q)  # CPU inference: the explicit product
    explicit, no_weights = attend(q, k, v, keep=keep)
    assert no_weights is None
    torch.testing.assert_close(explicit, expected, atol=1e-5, rtol=1e-5)
    trained = q.clone().requires_grad_()
    assert prefer_fused_attention(trained)  # training: the fused kernel
    fused, _ = attend(trained, k, v, keep=keep)
    torch.testing.assert_close(fused.detach(), expected, atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        assert not prefer_fused_attention(trained)
    explicit, explicit_weights = attend(q, k, v, keep=keep, need_weights=True)
    torch.testing.assert_close(explicit, expected, atol=1e-5, rtol=1e-5)
    assert (explicit_weights.masked_select(~keep.expand_as(explicit_weights)) == 0).all()


@pytest.mark.parametrize("frames, windows", [(20, 10), (21, 4), (12, 1)])
def test_windowed_tsa_attends_only_inside_its_window(frames: int, windows: int) -> None:
    torch.manual_seed(0)
    attention = AxisSelfAttention(8, 16, 8, heads=8, axis="frames", windows=windows).eval()
    x = torch.randn(2, frames, 3, 8)
    _, weights = attention(x, need_weights=True)
    assert weights.shape == (2, 8, 3, frames, frames)
    window = math.ceil(frames / windows)
    block = torch.arange(frames) // window
    outside = block[:, None] != block[None, :]
    assert (weights[..., outside] == 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 8, 3, frames))
    x2 = x.clone()
    x2[:, 0] += 5.0  # a frame of the first window changes nothing in the others
    changed = (attention(x2)[0] - attention(x)[0]).abs().sum(dim=(0, 2, 3)) > 0
    assert changed.nonzero().flatten().tolist() == [t for t in range(frames) if block[t] == 0]


def test_relative_encodings() -> None:
    temporal = TemporalRelativePosition(6, 4)
    assert count_parameters(temporal) == (2 * 6 - 1) * 4
    query = torch.ones(1, 1, 5, 4)
    bias = temporal(query)[0, 0]
    for offset in range(-4, 5):  # a constant query sees a Toeplitz bias: it depends on j - i only
        assert torch.allclose(torch.diagonal(bias, offset), torch.diagonal(bias, offset)[0])
    expected = (temporal.table[6 - 1 + 2] * 1).sum() / 2  # offset j - i = 2, scaled by 1/sqrt(d)
    torch.testing.assert_close(bias[0, 2], expected)
    spatial = SpatialRelativePosition(25, 4)
    assert count_parameters(spatial) == (25 * 24 + 1) * 4
    table = spatial.embeddings()
    assert torch.equal(table[3, 3], spatial.diagonal[0]) and torch.equal(table[0, 1], spatial.pairs[0])
    assert len({tuple(row.tolist()) for row in table.view(-1, 4)}) == 25 * 24 + 1
