"""Batch norms on channels-last tensors (skeletal.nn.norms): the evaluation-mode multiply-add equals PyTorch's."""

from __future__ import annotations

import pytest
import torch
from conftest import damp_classifiers
from einops import rearrange
from torch import nn

import skeletal
from skeletal.inference.export import example_input
from skeletal.models.recognition import network
from skeletal.nn import norms
from skeletal.nn.graph_conv import ChannelsLastBatchNorm


def randomised(bn: nn.modules.batchnorm._BatchNorm, spread: float = 1.0) -> nn.modules.batchnorm._BatchNorm:
    """Random statistics and affine parameters; ``spread`` < 1 keeps a deep stack of them well conditioned."""
    with torch.no_grad():
        bn.running_mean.uniform_(-spread, spread)
        bn.running_var.uniform_(1 / (1 + 2 * spread), 1 + 2 * spread)
        bn.weight.uniform_(1 - spread / 2, 1 + spread / 2)
        bn.bias.uniform_(-spread, spread)
    return bn.eval()


def test_eval_norm_2d_equals_batchnorm2d_on_channels_first() -> None:
    torch.manual_seed(0)
    bn = randomised(nn.BatchNorm2d(8))
    x = torch.randn(2, 5, 4, 8)
    expected = rearrange(bn(rearrange(x, "n t v c -> n c t v")), "n c t v -> n t v c")
    torch.testing.assert_close(norms.channels_last_norm(bn, x), expected, atol=1e-6, rtol=1e-6)


def test_eval_joint_channel_norm_equals_batchnorm1d_over_joints_and_channels() -> None:
    torch.manual_seed(0)
    bn = randomised(nn.BatchNorm1d(4 * 3))
    x = torch.randn(2, 5, 4, 3)
    expected = rearrange(bn(rearrange(x, "n t v c -> n (v c) t")), "n (v c) t -> n t v c", v=4)
    torch.testing.assert_close(norms.channels_last_batch_norm_1d(bn, x), expected, atol=1e-6, rtol=1e-6)


def test_training_mode_and_norms_without_running_statistics_use_batch_statistics() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 5, 4, 8) * 3 + 1
    for bn in (nn.BatchNorm2d(8), nn.BatchNorm2d(8, track_running_stats=False).eval()):
        assert norms.eval_affine(bn) is None
        y = norms.channels_last_norm(bn, x)
        torch.testing.assert_close(y.mean((0, 1, 2)), torch.zeros(8), atol=1e-5, rtol=0)
    trained = nn.BatchNorm2d(8)
    norms.channels_last_norm(trained, x)
    assert trained.num_batches_tracked == 1 and not torch.equal(trained.running_mean, torch.zeros(8))


@pytest.mark.parametrize("name", ["s-tr", "t-tr", "st-gcn", "gast-net-9", "videopose3d-27"])
def test_models_in_eval_mode_give_the_batchnorm_modules_outputs(name: str, monkeypatch) -> None:
    torch.manual_seed(0)
    kwargs = {"window_size": 16} if skeletal.models.info(name).task == "recognition" else {"channels": 32}
    model = damp_classifiers(skeletal.models.create(name, **kwargs))
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            randomised(module, spread=0.2)
    model.eval()
    x = example_input(model, batch=2, frames=16 if "channels" not in kwargs else None)
    with torch.inference_mode():
        fast = model(x)
    for module in (norms, network):  # every user of the multiply-add path
        monkeypatch.setattr(module, "eval_affine", lambda bn: None)
    with torch.inference_mode():
        reference = model(x)
    assert reference.abs().max() < 1e3  # well conditioned, so float32 rounding stays far below the tolerance
    torch.testing.assert_close(fast, reference, atol=1e-4, rtol=1e-4)


def test_channels_last_batchnorm_module_equals_batchnorm2d_in_both_modes() -> None:
    """AGCN's residual norm (``ChannelsLastBatchNorm``) runs ``channels_last_norm`` as its forward."""
    torch.manual_seed(0)
    module, reference = ChannelsLastBatchNorm(8), nn.BatchNorm2d(8)
    randomised(module)
    reference.load_state_dict(module.state_dict())
    x = torch.randn(2, 5, 4, 8)
    for train in (False, True):
        module.train(train), reference.train(train)
        expected = rearrange(reference(rearrange(x, "n t v c -> n c t v")), "n c t v -> n t v c")
        torch.testing.assert_close(module(x), expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(module.running_mean, reference.running_mean)
