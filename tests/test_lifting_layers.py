"""GAST-Net layers against direct (slow, loop-based) restatements of the paper and of the official code."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F  # noqa: N812

from skeletal.models import create
from skeletal.nn.dilated_temporal import ChannelsLastBatchNorm, TemporalConv, crop_residual
from skeletal.nn.graph_attention import GlobalAttentionGraph
from skeletal.nn.semantic_graph_conv import SemanticChannelGraphConv
from skeletal.skeletons import kinematic_adjacency, symmetric_adjacency

# Index lists hard-coded in the official LocalGraph (model/local_attention.py), per joint count.
OFFICIAL_LISTS = {
    "h36m17": dict(
        parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
        distal=(3, 6, 10, 13, 16),
        left=(4, 5, 6, 11, 12, 13),
        right=(1, 2, 3, 14, 15, 16),
    ),
    "humaneva15": dict(
        parents=(-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1),
        distal=(4, 7, 10, 13),
        left=(2, 3, 4, 8, 9, 10),
        right=(5, 6, 7, 11, 12, 13),
    ),
}


def official_kernels(parents, distal, left, right) -> tuple[np.ndarray, np.ndarray]:
    """Non-zero patterns of the official kernels: the adjacency has self loops (SemGCN's adj_mx_from_edges)."""
    num = len(parents)
    links = np.eye(num)
    for child, parent in enumerate(parents):
        if parent >= 0:
            links[child, parent] = links[parent, child] = 1
    symmetric = np.eye(num)
    for a, b in zip(left, right):
        symmetric[a, b] = symmetric[b, a] = 1
    second = links @ links
    kinematic = np.where(np.isin(np.arange(num), distal)[:, None], second, links)
    return symmetric > 0, kinematic > 0


def kernel_pattern(conv: SemanticChannelGraphConv) -> np.ndarray:
    pattern = np.zeros((conv.num_joints, conv.num_joints), dtype=bool)
    pattern[conv.rows.numpy(), conv.cols.numpy()] = True
    return pattern


@pytest.mark.parametrize("layout", sorted(OFFICIAL_LISTS))
def test_local_kernels_equal_the_official_local_graph(layout: str) -> None:
    symmetric, kinematic = official_kernels(**OFFICIAL_LISTS[layout])
    local = create("gast-net-9", skeleton=layout).stages[0].spatial.local_graph
    assert np.array_equal(kernel_pattern(local.symmetric), symmetric)
    assert np.array_equal(kernel_pattern(local.kinematic), kinematic)
    if layout == "h36m17":  # the shared graph builders agree as they are
        assert np.array_equal(symmetric_adjacency(layout) > 0, symmetric)
        assert np.array_equal(kinematic_adjacency(layout) > 0, kinematic)
        assert (symmetric.sum(), kinematic.sum()) == (29, 54)


def test_semantic_graph_conv_equals_per_channel_loop() -> None:
    kernel = kinematic_adjacency("h36m17")
    conv = SemanticChannelGraphConv(5, 4, kernel)
    with torch.no_grad():
        conv.mask.normal_()
    x = torch.randn(2, 3, 17, 5)
    expected = torch.zeros(2, 3, 17, 4)
    h_self, h_other = x @ conv.weight[0], x @ conv.weight[1]
    rows, cols = conv.rows.tolist(), conv.cols.tolist()
    for c in range(4):
        logits = torch.full((17, 17), -torch.inf)
        for k, (i, j) in enumerate(zip(rows, cols)):
            logits[i, j] = conv.mask[c, k]
        weights = logits.softmax(-1)
        for i in range(17):
            for j in range(17):
                source = h_self if i == j else h_other
                expected[..., i, c] += weights[i, j] * source[..., j, c]
    assert torch.allclose(conv(x), expected, atol=1e-5)
    assert conv.mask.shape == (4, 54)


def test_semantic_graph_conv_starts_uniform_over_neighbours() -> None:
    conv = SemanticChannelGraphConv(3, 2, symmetric_adjacency("h36m17"))
    adjacency = conv.adjacency()
    assert torch.allclose(adjacency[:, 1, 1], torch.tensor(0.5)) and torch.allclose(
        adjacency[:, 1, 4], torch.tensor(0.5)
    )
    assert torch.allclose(adjacency[:, 0, 0], torch.tensor(1.0))  # the pelvis has no partner


def test_global_attention_equals_concatenation_form() -> None:
    """Eq. 3-4 as the official code computes it: w_k^T [theta(x_i) || phi(x_j)], per pair, per head."""
    layer = GlobalAttentionGraph(8, 5, heads=4).eval()
    with torch.no_grad():
        layer.learned_adjacency.normal_()
    x = torch.randn(1, 2, 5, 8)
    output, attention = layer(x, return_attention=True)
    theta, phi, g = layer.query(x), layer.key(x), layer.value(x)
    heads = []
    for h in range(4):
        part = slice(2 * h, 2 * h + 2)
        w = torch.cat([layer.query_score[h], layer.key_score[h]])
        pairs = torch.cat(
            [
                theta[..., part].unsqueeze(-2).expand(-1, -1, 5, 5, 2),
                phi[..., part].unsqueeze(-3).expand(-1, -1, 5, 5, 2),
            ],
            dim=-1,
        )
        b_k = F.leaky_relu(pairs @ w, 0.2).softmax(-1)
        adjacency = b_k + layer.learned_adjacency[h]
        assert torch.allclose(attention[:, h], adjacency, atol=1e-6)
        heads.append(adjacency @ g[..., part])
    expected = F.relu(layer.fuse_norm(layer.fuse(torch.cat(heads, -1))))
    assert torch.allclose(output, expected, atol=1e-5)


def test_temporal_conv_equals_conv2d_in_both_modes() -> None:
    conv = TemporalConv(4, 6, 3)
    reference = torch.nn.Conv2d(4, 6, (3, 1), bias=False)
    with torch.no_grad():
        reference.weight.copy_(conv.weight.permute(0, 2, 1).unsqueeze(-1))
    x = torch.randn(2, 27, 5, 4)
    as_conv = x.permute(0, 3, 1, 2)
    dilated = torch.nn.functional.conv2d(as_conv, reference.weight, dilation=(9, 1)).permute(0, 2, 3, 1)
    strided = torch.nn.functional.conv2d(as_conv, reference.weight, stride=(3, 1)).permute(0, 2, 3, 1)
    assert torch.allclose(conv(x, dilation=9), dilated, atol=1e-5)
    assert torch.allclose(conv(x, strided=True), strided, atol=1e-5)


def test_crop_residual_centre_and_end() -> None:
    x = torch.arange(10.0).view(1, 10, 1)
    assert crop_residual(x, 3, 3, strided=False, causal=False).flatten().tolist() == [3, 4, 5, 6]
    assert crop_residual(x, 3, 3, strided=False, causal=True).flatten().tolist() == [6, 7, 8, 9]
    y = torch.arange(9.0).view(1, 9, 1)
    assert crop_residual(y, 3, 1, strided=True, causal=False).flatten().tolist() == [1, 4, 7]
    assert crop_residual(y, 3, 1, strided=True, causal=True).flatten().tolist() == [2, 5, 8]


def test_channels_last_batch_norm_matches_batch_norm_2d() -> None:
    norm, reference = ChannelsLastBatchNorm(3), torch.nn.BatchNorm2d(3)
    x = torch.randn(2, 4, 5, 3)
    assert torch.allclose(norm(x), reference(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), atol=1e-5)
    assert torch.allclose(norm.running_mean, reference.running_mean)


def test_semantic_graph_conv_cache_follows_the_mask() -> None:
    conv = SemanticChannelGraphConv(4, 4, kinematic_adjacency("h36m17")).eval()
    x = torch.randn(2, 17, 4)
    with torch.no_grad():
        before = conv(x)
        conv.mask.add_(torch.randn_like(conv.mask))  # as an optimizer step would
        after = conv(x)
    assert not torch.allclose(before, after)
    conv.train()
    assert torch.allclose(conv(x), after, atol=1e-6)
