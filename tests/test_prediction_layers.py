"""Building blocks of the ST-Transformer: per-joint linear layers, positional encoding, attention normalisation."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from skeletal.nn.joint_attention import (
    SequenceLayerNorm,
    attention_weights,
    causal_mask,
    fused_attention,
    scaled_dot_product,
)
from skeletal.nn.per_joint import PerJointFeedForward, PerJointLinear
from skeletal.nn.positional import SinusoidalPositionalEncoding, sinusoidal_encoding
from skeletal.nn.spatiotemporal_attention import SpatialAttention, TemporalAttention


def test_per_joint_linear_equals_loop_of_linears() -> None:
    linears = [nn.Linear(7, 4) for _ in range(5)]
    layer = PerJointLinear.from_linears(linears)
    x = torch.randn(3, 6, 5, 7)
    expected = torch.stack([linears[v](x[:, :, v]) for v in range(5)], dim=2)
    torch.testing.assert_close(layer(x), expected)
    assert sum(p.numel() for p in layer.parameters()) == 5 * (7 * 4 + 4)


def test_per_joint_linear_joints_are_independent() -> None:
    layer = PerJointLinear(4, 3, 2)
    x = torch.randn(2, 4, 3)
    changed = x.clone()
    changed[:, 1] += 1.0
    diff = (layer(x) - layer(changed)).abs().amax(dim=(0, 2))
    assert diff[1] > 0 and torch.all(diff[[0, 2, 3]] == 0)


def test_per_joint_feedforward_matches_formula() -> None:
    ffn = PerJointFeedForward(3, 4, 8)
    x = torch.randn(2, 3, 4)
    v = 2
    expected = torch.relu(x[:, v] @ ffn.expand.weight[v] + ffn.expand.bias[v]) @ ffn.contract.weight[v]
    torch.testing.assert_close(ffn(x)[:, v], expected + ffn.contract.bias[v])


def test_sinusoidal_golden_values() -> None:
    table = sinusoidal_encoding(3, 4)
    # PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(t / 10000^(2i/D)), D = 4
    expected_row_2 = [math.sin(2), math.cos(2), math.sin(2 / 100), math.cos(2 / 100)]
    torch.testing.assert_close(table[2], torch.tensor(expected_row_2))
    torch.testing.assert_close(table[0], torch.tensor([0.0, 1.0, 0.0, 1.0]))


def test_positional_encoding_broadcast_and_growth() -> None:
    encoding = SinusoidalPositionalEncoding(6, max_length=4)
    x = torch.zeros(2, 10, 3, 6)
    y = encoding(x)
    torch.testing.assert_close(y[1, :, 2], sinusoidal_encoding(10, 6))
    torch.testing.assert_close(y[0, :, 0], y[1, :, 1])


def test_sum_normalised_rows_sum_to_one() -> None:
    scores = torch.randn(2, 3, 6, 6) * 3
    weights = attention_weights(scores, causal_mask(6), "sum")
    assert torch.all(weights >= 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 6))
    assert torch.all(weights.triu(diagonal=1) == 0)
    # golden: with a single allowed key the weight is 1; for scores (0, 1): (elu(0)+1, elu(1)+1) = (1, 2) -> 1/3, 2/3
    two = attention_weights(torch.tensor([[0.0, 1.0]]), None, "sum")
    torch.testing.assert_close(two, torch.tensor([[1 / 3, 2 / 3]]))


def test_fused_and_explicit_softmax_attention_agree() -> None:
    q, k, v = torch.randn(3, 2, 5, 4).unbind(0)
    fused, none = scaled_dot_product(q, k, v, causal_mask(5), "softmax", need_weights=False)
    explicit, weights = scaled_dot_product(q, k, v, causal_mask(5), "softmax", need_weights=True)
    assert none is None and weights is not None
    torch.testing.assert_close(fused, explicit)
    torch.testing.assert_close(weights[..., 0, 0], torch.ones(2))  # first frame sees only itself


@pytest.mark.parametrize("shape", [(5, 6), (2, 5, 6), (3, 2, 5, 6), (2, 3, 2, 5, 6)])
def test_fused_attention_equals_explicit_product_at_every_rank(shape: tuple[int, ...]) -> None:
    """Outputs and gradients of the 4-D folding equal ``softmax(QK^T / sqrt(c) + M) V`` for any leading axes."""
    torch.manual_seed(0)
    inputs = [torch.randn(*shape, requires_grad=True) for _ in range(3)]
    fused = fused_attention(*inputs, causal_mask(5))
    fused_grads = torch.autograd.grad(fused.square().sum(), inputs)
    q, k, v = inputs
    scores = (q @ k.transpose(-1, -2) / math.sqrt(shape[-1])).masked_fill(~causal_mask(5), float("-inf"))
    explicit = scores.softmax(-1) @ v
    explicit_grads = torch.autograd.grad(explicit.square().sum(), inputs)
    torch.testing.assert_close(fused, explicit)
    for a, b in zip(fused_grads, explicit_grads, strict=True):
        torch.testing.assert_close(a, b)


def test_five_dimensional_attention_takes_the_fused_cpu_kernel() -> None:
    """The per-joint temporal attention's ``(N, V, H, T, c)`` inputs reach the flash kernel, not the math path."""
    from torch.profiler import ProfilerActivity, profile

    q, k, v = (torch.randn(2, 3, 2, 8, 4, requires_grad=True) for _ in range(3))
    with profile(activities=[ProfilerActivity.CPU]) as trace:
        fused_attention(q, k, v, causal_mask(8)).sum().backward()
    names = {event.key for event in trace.key_averages()}
    assert any("flash_attention" in name for name in names), sorted(names)
    assert "aten::_safe_softmax" not in names


def test_temporal_attention_is_per_joint_and_spatial_is_per_frame() -> None:
    x = torch.randn(1, 5, 4, 8)
    temporal, spatial = TemporalAttention(4, 8, 2), SpatialAttention(4, 8, 2)
    changed = x.clone()
    changed[:, 2, 1] += 1.0  # frame 2, joint 1
    t_diff = (temporal(x)[0][0] - temporal(changed)[0][0]).abs().amax(-1)  # (T, V)
    s_diff = (spatial(x)[0][0] - spatial(changed)[0][0]).abs().amax(-1)
    assert torch.all(t_diff[:, [0, 2, 3]] == 0) and torch.all(t_diff[:2] == 0) and t_diff[2:, 1].min() > 0
    assert torch.all(s_diff[[0, 1, 3, 4]] == 0) and s_diff[2].min() > 0


def test_sequence_layer_norm_statistics() -> None:
    norm = SequenceLayerNorm(4)
    y = norm(torch.randn(2, 3, 5, 4) * 5 + 2)
    torch.testing.assert_close(y.mean(dim=(1, 2, 3)), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(dim=(1, 2, 3), unbiased=False), torch.ones(2), atol=1e-4, rtol=0)


@pytest.mark.parametrize("normalization", ["softmax", "sum"])
@pytest.mark.parametrize("block", [TemporalAttention, SpatialAttention])
def test_head_by_head_inference_equals_batched_attention(block: type[torch.nn.Module], normalization: str) -> None:
    """The CPU inference path (heads on strided views) computes what the batched and fused paths compute."""
    torch.manual_seed(0)
    attention = block(5, 16, 4, normalization=normalization)
    x = torch.randn(2, 7, 5, 16)
    batched, weights = attention(x, need_weights=True)  # explicit batched product
    trained, _ = attention(x)  # parameters require gradients: the fused kernel for softmax
    with torch.inference_mode():
        head_by_head, none = attention(x)
    assert weights is not None and none is None
    torch.testing.assert_close(head_by_head, batched, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(trained.detach(), batched, atol=1e-6, rtol=1e-5)
