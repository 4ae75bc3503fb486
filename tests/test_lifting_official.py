"""Loading state dicts in the official GAST-Net / VideoPose3D formats (keys and Conv kernel shapes)."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F  # noqa: N812

from skeletal.errors import ConfigError
from skeletal.models import create
from skeletal.models.lifting import GASTNet
from skeletal.models.lifting.official import load_official


def batch_norm(state: dict, name: str, channels: int) -> None:
    state[f"{name}.weight"] = torch.rand(channels) + 0.5
    state[f"{name}.bias"] = torch.randn(channels) * 0.1
    state[f"{name}.running_mean"] = torch.randn(channels) * 0.1
    state[f"{name}.running_var"] = torch.rand(channels) + 0.5
    state[f"{name}.num_batches_tracked"] = torch.tensor(7)


def official_gast_state(channels: int, stages: int, joints: int = 17) -> dict[str, torch.Tensor]:
    """Random tensors under the official SpatioTemporalModel's keys and Conv2d/Conv1d shapes."""
    state: dict[str, torch.Tensor] = {}
    batch_norm(state, "init_bn", 2)
    state["expand_conv.weight"] = torch.randn(channels, 2, 3, 1)
    batch_norm(state, "expand_bn", channels)
    for s in range(stages):
        width = 2**s * channels
        if s > 0:
            state[f"layers_conv.{2 * s - 2}.weight"] = torch.randn(width, width, 3, 1) * 0.05
            state[f"layers_conv.{2 * s - 1}.weight"] = torch.randn(width, width, 1, 1) * 0.05
            batch_norm(state, f"layers_bn.{2 * s - 2}", width)
            batch_norm(state, f"layers_bn.{2 * s - 1}", width)
        block = f"layers_graph_conv.{s}"
        for conv, norm, links in (("gcn_sym", "bn_1", 29), ("gcn_con", "bn_2", 54)):
            state[f"{block}.local_graph_layer.{conv}.W"] = torch.randn(2, width, width) * 0.1
            state[f"{block}.local_graph_layer.{conv}.e"] = torch.randn(width, links)
            batch_norm(state, f"{block}.local_graph_layer.{norm}", width)
        state[f"{block}.local_graph_layer.cat_conv.weight"] = torch.randn(width, 2 * width, 1, 1) * 0.1
        batch_norm(state, f"{block}.local_graph_layer.cat_bn", width)
        for h in range(4):
            head = f"{block}.global_graph_layer.attentions.{h}"
            for part in ("g", "theta", "phi"):
                state[f"{head}.{part}.weight"] = torch.randn(width // 4, width, 1) * 0.1
                state[f"{head}.{part}.bias"] = torch.randn(width // 4) * 0.1
            state[f"{head}.C_k"] = torch.randn(joints, joints) * 0.1
            state[f"{head}.concat_project.0.weight"] = torch.randn(1, width // 2, 1, 1)
        state[f"{block}.global_graph_layer.cat_conv.weight"] = torch.randn(width, width, 1, 1) * 0.1
        batch_norm(state, f"{block}.global_graph_layer.cat_bn", width)
        state[f"{block}.cat_conv.weight"] = torch.randn(2 * width, 3 * width, 1, 1) * 0.1
        batch_norm(state, f"{block}.cat_bn", 2 * width)
    state["shrink.weight"] = torch.randn(3, 2**stages * channels, 1, 1)
    return {f"module.{k}": v for k, v in state.items()}  # as saved from DataParallel


def test_official_gast_net_state_dict_loads_strictly() -> None:
    state = official_gast_state(channels=8, stages=2)
    model = GASTNet(filter_widths=(3, 3), channels=8).eval()
    load_official(model, state)
    block = model.stages[1].spatial
    # head h of the global graph takes rows h*C/4..(h+1)*C/4 of g, and splits its concat projection in halves
    theirs = "module.layers_graph_conv.1.global_graph_layer.attentions.2"
    assert torch.equal(block.global_graph.value.weight[8:12], state[f"{theirs}.g.weight"][..., 0])
    assert torch.equal(block.global_graph.query_score[2], state[f"{theirs}.concat_project.0.weight"].flatten()[:4])
    assert torch.equal(block.global_graph.key_score[2], state[f"{theirs}.concat_project.0.weight"].flatten()[4:])
    assert torch.equal(block.global_graph.learned_adjacency[2], state[f"{theirs}.C_k"])
    assert torch.equal(model.stages[1].conv.weight[:, 1], state["module.layers_conv.0.weight"][:, :, 1, 0])
    with torch.no_grad():
        assert torch.isfinite(model(torch.randn(1, 9, 17, 2))).all()


def official_videopose3d_forward(state: dict, x: torch.Tensor, widths: tuple[int, ...]) -> torch.Tensor:
    """VideoPose3D's TemporalModel (symmetric, evaluation) restated with F.conv1d on the official tensors."""

    def norm(y: torch.Tensor, name: str) -> torch.Tensor:
        return F.batch_norm(y, state[f"{name}.running_mean"], state[f"{name}.running_var"],
                            state[f"{name}.weight"], state[f"{name}.bias"])  # fmt: skip

    y = x.flatten(2).transpose(1, 2)  # (N, 2V, T)
    y = F.relu(norm(F.conv1d(y, state["expand_conv.weight"]), "expand_bn"))
    dilation = widths[0]
    for i, width in enumerate(widths[1:]):
        pad = (width - 1) * dilation // 2
        residual = y[:, :, pad : y.shape[2] - pad]
        y = F.relu(norm(F.conv1d(y, state[f"layers_conv.{2 * i}.weight"], dilation=dilation), f"layers_bn.{2 * i}"))
        y = residual + F.relu(norm(F.conv1d(y, state[f"layers_conv.{2 * i + 1}.weight"]), f"layers_bn.{2 * i + 1}"))
        dilation *= width
    y = F.conv1d(y, state["shrink.weight"], state["shrink.bias"])
    return y.transpose(1, 2).reshape(x.shape[0], -1, x.shape[2], 3)


def test_official_videopose3d_state_dict_gives_the_official_outputs() -> None:
    channels, widths = 16, (3, 3, 3)
    state: dict[str, torch.Tensor] = {"expand_conv.weight": torch.randn(channels, 34, 3) * 0.2}
    batch_norm(state, "expand_bn", channels)
    for i in range(2):
        state[f"layers_conv.{2 * i}.weight"] = torch.randn(channels, channels, 3) * 0.2
        state[f"layers_conv.{2 * i + 1}.weight"] = torch.randn(channels, channels, 1) * 0.2
        batch_norm(state, f"layers_bn.{2 * i}", channels)
        batch_norm(state, f"layers_bn.{2 * i + 1}", channels)
    state["shrink.weight"] = torch.randn(51, channels, 1) * 0.2
    state["shrink.bias"] = torch.randn(51) * 0.1
    model = create("videopose3d", channels=channels).eval()
    load_official(model, state)
    x = torch.randn(2, 31, 17, 2)
    with torch.no_grad():
        expected = official_videopose3d_forward(state, x, widths)
        assert torch.allclose(model(x), expected, atol=1e-5)
        model.strided = True
        assert torch.allclose(model(x[:, 2:29]), expected[:, 2:3], atol=1e-5)


def test_load_official_rejects_other_state_dicts() -> None:
    with pytest.raises(ConfigError, match="GAST-Net"):
        load_official(create("gast-net-9"), {"weight": torch.zeros(1)})
    with pytest.raises(ConfigError, match="VideoPose3D"):
        load_official(create("videopose3d", channels=8), {"weight": torch.zeros(1)})
