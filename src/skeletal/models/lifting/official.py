"""Load weights of the official GAST-Net and VideoPose3D implementations into the skeletal modules.

The official checkpoints (``checkpoint["model_pos"]``; a ``module.`` prefix from ``DataParallel`` is dropped)
hold ``Conv2d``/``Conv1d`` kernels; skeletal uses channels-last linear maps with the same numbers. The mapping
is exact: a converted model gives the official outputs (checked against the official code, see the report of
issue 7). Both official classes of a model (``SpatioTemporalModel``/``SpatioTemporalModelOptimized1f``,
``TemporalModel``/``TemporalModelOptimized1f``) share one state dict, and so do the two modes here.

Only tensors are read: pass a state dict loaded safely (``torch.load(path, weights_only=True)``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from skeletal.errors import ConfigError
from skeletal.models.lifting.gast_net import GASTNet
from skeletal.models.lifting.videopose3d import VideoPose3D
from skeletal.nn.graph_attention import GraphAttentionBlock

_NORM_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def _strip(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key.removeprefix("module."): value for key, value in state.items()}


def _norm(target: dict[str, torch.Tensor], mine: str, source: Mapping[str, torch.Tensor], theirs: str) -> None:
    for key in _NORM_KEYS:
        if f"{theirs}.{key}" in source:
            target[f"{mine}.{key}"] = source[f"{theirs}.{key}"]


def _temporal_kernel(weight: torch.Tensor) -> torch.Tensor:
    """``(out, in, k[, 1])`` convolution kernel -> ``(out, k, in)`` of :class:`TemporalConv`."""
    return weight.reshape(weight.shape[0], weight.shape[1], weight.shape[2]).permute(0, 2, 1).contiguous()


def _pointwise(weight: torch.Tensor) -> torch.Tensor:
    """``(out, in, 1[, 1])`` 1x1 kernel -> ``(out, in)`` linear weight."""
    return weight.reshape(weight.shape[0], weight.shape[1])


def convert_official_gast_net(state: Mapping[str, torch.Tensor], heads: int = 4) -> dict[str, torch.Tensor]:
    """Official GAST-Net state dict (``model/gast_net.py``) -> :class:`GASTNet` state dict.

    Args:
        state: The official ``model_pos`` state dict.
        heads: Heads of the global graphs (the official ``MultiGlobalGraph`` uses 4).

    Returns:
        A state dict for ``GASTNet.load_state_dict(..., strict=True)``.
    """
    source = _strip(state)
    if "expand_conv.weight" not in source or "layers_graph_conv.0.cat_conv.weight" not in source:
        raise ConfigError("not an official GAST-Net state dict (no expand_conv / layers_graph_conv weights)")
    out: dict[str, torch.Tensor] = {}
    _norm(out, "input_norm", source, "init_bn")
    out["stages.0.conv.weight"] = _temporal_kernel(source["expand_conv.weight"])
    _norm(out, "stages.0.conv_norm", source, "expand_bn")
    stage = 0
    while f"layers_graph_conv.{stage}.cat_conv.weight" in source:
        if stage > 0:
            conv, point = 2 * (stage - 1), 2 * (stage - 1) + 1
            out[f"stages.{stage}.conv.weight"] = _temporal_kernel(source[f"layers_conv.{conv}.weight"])
            _norm(out, f"stages.{stage}.conv_norm", source, f"layers_bn.{conv}")
            out[f"stages.{stage}.pointwise.weight"] = _pointwise(source[f"layers_conv.{point}.weight"])
            _norm(out, f"stages.{stage}.pointwise_norm", source, f"layers_bn.{point}")
        mine, theirs = f"stages.{stage}.spatial", f"layers_graph_conv.{stage}"
        local, theirs_local = f"{mine}.local_graph", f"{theirs}.local_graph_layer"
        for name, official, norm in (("symmetric", "gcn_sym", "bn_1"), ("kinematic", "gcn_con", "bn_2")):
            out[f"{local}.{name}.weight"] = source[f"{theirs_local}.{official}.W"]
            out[f"{local}.{name}.mask"] = source[f"{theirs_local}.{official}.e"]
            _norm(out, f"{local}.{name}_norm", source, f"{theirs_local}.{norm}")
        out[f"{local}.fuse.weight"] = _pointwise(source[f"{theirs_local}.cat_conv.weight"])
        _norm(out, f"{local}.fuse_norm", source, f"{theirs_local}.cat_bn")
        glob, theirs_global = f"{mine}.global_graph", f"{theirs}.global_graph_layer"
        per_head = [f"{theirs_global}.attentions.{h}" for h in range(heads)]
        for name, official in (("value", "g"), ("query", "theta"), ("key", "phi")):
            out[f"{glob}.{name}.weight"] = torch.cat([_pointwise(source[f"{p}.{official}.weight"]) for p in per_head])
            out[f"{glob}.{name}.bias"] = torch.cat([source[f"{p}.{official}.bias"] for p in per_head])
        projections = [source[f"{p}.concat_project.0.weight"].flatten() for p in per_head]
        half = projections[0].numel() // 2
        out[f"{glob}.query_score"] = torch.stack([w[:half] for w in projections])
        out[f"{glob}.key_score"] = torch.stack([w[half:] for w in projections])
        out[f"{glob}.learned_adjacency"] = torch.stack([source[f"{p}.C_k"] for p in per_head])
        out[f"{glob}.fuse.weight"] = _pointwise(source[f"{theirs_global}.cat_conv.weight"])
        _norm(out, f"{glob}.fuse_norm", source, f"{theirs_global}.cat_bn")
        out[f"{mine}.fuse.weight"] = _pointwise(source[f"{theirs}.cat_conv.weight"])
        _norm(out, f"{mine}.fuse_norm", source, f"{theirs}.cat_bn")
        stage += 1
    out["head.weight"] = _pointwise(source["shrink.weight"])
    return out


def convert_official_videopose3d(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official VideoPose3D state dict (``common/model.py``) -> :class:`VideoPose3D` state dict."""
    source = _strip(state)
    if "expand_conv.weight" not in source or "shrink.bias" not in source:
        raise ConfigError("not an official VideoPose3D state dict (no expand_conv / shrink weights)")
    out: dict[str, torch.Tensor] = {"stages.0.conv.weight": _temporal_kernel(source["expand_conv.weight"])}
    _norm(out, "stages.0.conv_norm", source, "expand_bn")
    block = 0
    while f"layers_conv.{2 * block}.weight" in source:
        stage, conv, point = block + 1, 2 * block, 2 * block + 1
        out[f"stages.{stage}.conv.weight"] = _temporal_kernel(source[f"layers_conv.{conv}.weight"])
        _norm(out, f"stages.{stage}.conv_norm", source, f"layers_bn.{conv}")
        out[f"stages.{stage}.pointwise.weight"] = _pointwise(source[f"layers_conv.{point}.weight"])
        _norm(out, f"stages.{stage}.pointwise_norm", source, f"layers_bn.{point}")
        block += 1
    out["head.weight"] = _pointwise(source["shrink.weight"])
    out["head.bias"] = source["shrink.bias"]
    return out


def load_official(model: GASTNet | VideoPose3D, state: Mapping[str, torch.Tensor]) -> None:
    """Load an official state dict into ``model`` (strictly: every tensor must be there and fit)."""
    if isinstance(model, GASTNet):
        block = model.stages[0].spatial
        heads = block.global_graph.heads if isinstance(block, GraphAttentionBlock) else 4
        converted = convert_official_gast_net(state, heads=heads)
    elif isinstance(model, VideoPose3D):
        converted = convert_official_videopose3d(state)
    else:
        raise ConfigError(f"load_official supports GASTNet and VideoPose3D, got {type(model).__name__}")
    model.load_state_dict(converted, strict=True)
