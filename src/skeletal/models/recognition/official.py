"""Official ST-TR checkpoints (``Chiaraplizz/ST-TR``, ``code/main.py``) onto the registered recognition models.

The official training script saves ``model.state_dict()`` with every ``module.`` prefix of ``DataParallel``
removed (``main.py`` line 515-518), or ``{"epoch", "model_state_dict", "optimizer_state_dict"}`` as a resumable
checkpoint (line 243-251); both are read. :func:`convert_official` maps such a state dict onto the state dict
of the matching registered model, :func:`load_official` reads a file, builds the model and loads it.

Key correspondence (official ``st_gcn/net``; ours channels-last, 1x1 convolutions as linear maps):

- ``data_bn`` -> ``data_bn`` (both ordered person, joint, channel); ``fcn`` -> ``classifier``.
- Unit ``i``: ``gcn0``/``tcn0`` for the stem and ``backbone.{i - 1}`` after it, ``backbone.{i}`` in the all-layers
  variants (no stem); ``gcn1`` -> ``spatial``, ``tcn1`` -> ``temporal``, ``down1`` -> ``residual``.
- ``unit_gcn``: ``mask``, ``conv_list.k`` -> ``projection`` row ``k``; ``unit_agcn``: ``PA`` -> ``learned``,
  ``conv_a.k``/``conv_b.k`` -> the ``theta``/``phi`` rows of ``embed``, ``conv_d.k`` -> ``projection``.
- ``gcn_unit_attention`` (SSA) and ``tcn_unit_attention`` / ``tcn_unit_attention_block`` (TSA): their
  per-layer ``data_bn`` is ordered (channel, joint), ours (joint, channel); ``qkv_conv``, ``attn_out`` ->
  ``attention.qkv``, ``attention.merge``; the TSA kernel runs over ``(1, T)`` there, ``(T, 1)`` here;
  ``key_rel`` (and ``key_rel_diagonal``) -> the relative encodings (same row order); the augmented variants'
  ``g_convolutions`` and ``tcn_conv`` -> ``conv``.
- ``person_bn``: never used by the official forward, not loaded.

The official AGCN models run without the physical graph (the bug described in
:class:`~skeletal.nn.graph_conv.AdaptiveGraphConv`); :func:`load_official` reproduces it by default
(``official_agcn_graph=True``), so that the loaded model gives the official outputs.

The official configuration of each registered name (``OFFICIAL_FLAGS``; ``code/config/st_gcn/*/train.yaml``
with the README's settings, ``channel: 6, double_channel: True`` for ``-bones``) is what the checkpoint must
have been trained with; ``benchmarks/official_st_tr.py`` checks the outputs against the official code.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from skeletal.errors import ConfigError, DataError
from skeletal.models.recognition.network import SpatialTemporalNet, SpatialTemporalUnit
from skeletal.nn.augmented_attention import AugmentedSpatialAttention, AugmentedTemporalAttention
from skeletal.nn.graph_conv import AdaptiveGraphConv, GraphConv
from skeletal.nn.self_attention import AxisSelfAttention, SpatialSelfAttention, TemporalSelfAttention
from skeletal.nn.temporal_conv import TemporalConv

OFFICIAL_FLAGS: dict[str, dict[str, bool]] = {
    "st-gcn": {},
    "st-gcn-fc": {},  # the official code with a one-partition all-ones graph
    "agcn": {"agcn": True},
    "s-tr": {"attention": True},
    "t-tr": {"tcn_attention": True},
    "t-tr-agcn": {"tcn_attention": True, "agcn": True},
    "st-tr-1s": {"attention": True, "tcn_attention": True},
    "s-tr-all-layers": {"attention": True, "all_layers": True},
    "t-tr-all-layers": {"tcn_attention": True, "all_layers": True},
    "s-tr-augmented": {"attention": True, "only_attention": False, "more_channels": True},
    "t-tr-augmented": {
        "tcn_attention": True, "only_attention": False, "only_temporal_attention": False, "more_channels": True,
    },
}  # fmt: skip
"""Official ``model_args`` that differ from ``attention: False, tcn_attention: False, agcn: False,
all_layers: False, only_attention: True, only_temporal_attention: True, more_channels: False`` per registered
stream (joints only; ``-bones`` adds ``channel: 6, double_channel: True``)."""

UNUSED_PREFIXES = ("person_bn.",)
"""Official tensors the official forward never reads."""

_NORM_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


class _Mapper:
    """Fills our state dict from the official one, remembering which official keys were read."""

    def __init__(self, source: Mapping[str, torch.Tensor]) -> None:
        self.source = source
        self.used: set[str] = set()
        self.out: dict[str, torch.Tensor] = {}

    def get(self, key: str) -> torch.Tensor:
        if key not in self.source:
            raise ConfigError(f"official state dict has no {key!r}: not a checkpoint of this model configuration")
        self.used.add(key)
        return self.source[key]

    def has(self, key: str) -> bool:
        return key in self.source

    def put(self, key: str, value: torch.Tensor) -> None:
        self.out[key] = value.detach().clone()

    def norm(self, mine: str, theirs: str, joints: int | None = None) -> None:
        """A batch norm; ``joints``: theirs is ordered (channel, joint), ours (joint, channel)."""
        for name in _NORM_KEYS:
            key = f"{theirs}.{name}"
            if name == "num_batches_tracked" and not self.has(key):
                continue
            value = self.get(key)
            if joints is not None and value.dim() == 1:
                value = value.reshape(-1, joints).T.reshape(-1)
            self.put(f"{mine}.{name}", value)

    def pointwise(self, mine: str, theirs: str) -> None:
        """A ``(out, in, 1, 1)`` convolution onto a linear layer."""
        weight = self.get(f"{theirs}.weight")
        self.put(f"{mine}.weight", weight.reshape(weight.shape[0], weight.shape[1]))
        self.put(f"{mine}.bias", self.get(f"{theirs}.bias"))

    def unit2d(self, mine: str, theirs: str) -> None:
        """``Unit2D`` (conv ``(out, in, k, 1)``, bn) onto :class:`TemporalConv`."""
        self.put(f"{mine}.conv.weight", self.get(f"{theirs}.conv.weight"))
        self.put(f"{mine}.conv.bias", self.get(f"{theirs}.conv.bias"))
        self.norm(f"{mine}.bn", f"{theirs}.bn")

    def partitions(self, mine: str, theirs: str, count: int) -> None:
        """``K`` convolutions ``(out, in, 1, 1)`` onto a :class:`PartitionedProjection`."""
        weights = [self.get(f"{theirs}.{k}.weight") for k in range(count)]
        self.put(f"{mine}.weight", torch.stack([w.reshape(w.shape[0], w.shape[1]).T for w in weights]))
        self.put(f"{mine}.bias", torch.stack([self.get(f"{theirs}.{k}.bias") for k in range(count)]))

    def qkv(self, mine: str, theirs: str, ours: AxisSelfAttention) -> None:
        weight = self.get(f"{theirs}.weight")  # (out, in, 1, kernel) over (1, T) for TSA, (1, 1) for SSA
        if isinstance(ours.qkv, nn.Linear):
            if weight.shape[-2:] != (1, 1):
                raise ConfigError(f"official {theirs} has a {tuple(weight.shape[-2:])} kernel, ours is 1x1")
            self.put(f"{mine}.weight", weight.reshape(weight.shape[0], weight.shape[1]))
        else:
            self.put(f"{mine}.weight", weight.transpose(-1, -2))
        self.put(f"{mine}.bias", self.get(f"{theirs}.bias"))

    def attention(self, mine: str, theirs: str, ours: AxisSelfAttention) -> None:
        self.qkv(f"{mine}.qkv", f"{theirs}.qkv_conv", ours)
        self.pointwise(f"{mine}.merge", f"{theirs}.attn_out")
        if ours.relative is not None:
            if ours.axis == "joints":
                self.put(f"{mine}.relative.pairs", self.get(f"{theirs}.key_rel"))
                self.put(f"{mine}.relative.diagonal", self.get(f"{theirs}.key_rel_diagonal"))
            else:
                self.put(f"{mine}.relative.table", self.get(f"{theirs}.key_rel"))


def _block(mapper: _Mapper, mine: str, theirs: str, ours: nn.Module, joints: int) -> None:
    if isinstance(ours, GraphConv):
        partitions = ours.adjacency.shape[0]
        if ours.mask is not None:
            mapper.put(f"{mine}.mask", mapper.get(f"{theirs}.mask"))
        mapper.partitions(f"{mine}.projection", f"{theirs}.conv_list", partitions)
        mapper.norm(f"{mine}.bn", f"{theirs}.bn")
    elif isinstance(ours, AdaptiveGraphConv):
        count = ours.num_partitions
        mapper.put(f"{mine}.learned", mapper.get(f"{theirs}.PA"))
        rows = [mapper.get(f"{theirs}.{part}.{k}.weight") for part in ("conv_a", "conv_b") for k in range(count)]
        mapper.put(f"{mine}.embed.weight", torch.cat([w.reshape(w.shape[0], w.shape[1]) for w in rows]))
        biases = [mapper.get(f"{theirs}.{part}.{k}.bias") for part in ("conv_a", "conv_b") for k in range(count)]
        mapper.put(f"{mine}.embed.bias", torch.cat(biases))
        mapper.partitions(f"{mine}.projection", f"{theirs}.conv_d", count)
        mapper.norm(f"{mine}.bn", f"{theirs}.bn")
        if ours.down is not None:
            mapper.pointwise(f"{mine}.down.0", f"{theirs}.down.0")
            mapper.norm(f"{mine}.down.1", f"{theirs}.down.1")
    elif isinstance(ours, SpatialSelfAttention | AugmentedSpatialAttention):
        mapper.norm(f"{mine}.data_bn", f"{theirs}.data_bn", joints)
        mapper.attention(f"{mine}.attention", f"{theirs}.attention_conv", ours.attention)
        if isinstance(ours, AugmentedSpatialAttention):
            mapper.partitions(f"{mine}.conv.projection", f"{theirs}.g_convolutions", ours.conv.adjacency.shape[0])
        mapper.norm(f"{mine}.bn", f"{theirs}.bn")
    elif isinstance(ours, TemporalSelfAttention | AugmentedTemporalAttention):
        mapper.norm(f"{mine}.data_bn", f"{theirs}.data_bn", joints)
        mapper.attention(f"{mine}.attention", theirs, ours.attention)
        if isinstance(ours, AugmentedTemporalAttention):
            mapper.unit2d(f"{mine}.conv", f"{theirs}.tcn_conv")
        if ours.residual is not None:
            mapper.unit2d(f"{mine}.residual", f"{theirs}.down")
        mapper.norm(f"{mine}.bn", f"{theirs}.bn")
    elif isinstance(ours, TemporalConv):
        mapper.unit2d(mine, theirs)
    else:
        raise ConfigError(f"no official counterpart known for {type(ours).__name__}")


def strip_official(state: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The model tensors of an official file: ``model_state_dict`` of a resumable checkpoint if present,
    ``module.`` prefixes removed (as the official ``main.py`` does when it loads weights)."""
    if "model_state_dict" in state and isinstance(state["model_state_dict"], Mapping):
        state = state["model_state_dict"]
    tensors = {str(key).split("module.")[-1]: value for key, value in state.items()}
    bad = [key for key, value in tensors.items() if not isinstance(value, torch.Tensor)]
    if bad:
        raise ConfigError(f"official state dict entries that are not tensors: {bad[:5]}")
    return tensors


def convert_official(state: Mapping[str, Any], model: SpatialTemporalNet) -> dict[str, torch.Tensor]:
    """Official ST-TR state dict -> state dict of ``model`` (built with the matching registered name).

    Args:
        state: ``model.state_dict()`` of the official ``st_gcn.net.ST_GCN`` (or a ``main.py`` checkpoint).
        model: The registered model of the same configuration (``create(name, num_classes=..., ...)``).

    Returns:
        A state dict for ``model.load_state_dict(..., strict=True)`` (our ``adjacency`` buffers included,
        unchanged: the official file has no graph).

    Raises:
        ConfigError: An official tensor is missing, left over (other than ``person_bn``) or of another shape.
    """
    if not isinstance(model, SpatialTemporalNet):
        raise ConfigError(
            f"convert_official maps one ST-TR stream, got {type(model).__name__}; load each stream of a two-stream "
            "model separately and combine them with TwoStream"
        )
    source = strip_official(state)
    mapper = _Mapper(source)
    joints = model.skeleton.num_joints
    mapper.norm("data_bn", "data_bn")
    units = cast(list[SpatialTemporalUnit], list(model.units))
    stem = not units[0].use_residual
    for index, unit in enumerate(units):
        if stem and index == 0:
            spatial, temporal, down = "gcn0", "tcn0", None
        else:
            prefix = f"backbone.{index - 1 if stem else index}"
            spatial, temporal, down = f"{prefix}.gcn1", f"{prefix}.tcn1", f"{prefix}.down1"
        _block(mapper, f"units.{index}.spatial", spatial, unit.spatial, joints)
        _block(mapper, f"units.{index}.temporal", temporal, unit.temporal, joints)
        if unit.residual is not None and down is not None:
            mapper.unit2d(f"units.{index}.residual", down)
    fcn = mapper.get("fcn.weight")
    mapper.put("classifier.weight", fcn.reshape(fcn.shape[0], fcn.shape[1]))
    mapper.put("classifier.bias", mapper.get("fcn.bias"))
    left = sorted(k for k in source if k not in mapper.used and not k.startswith(UNUSED_PREFIXES))
    if left:
        raise ConfigError(f"official tensors with no counterpart in {type(model).__name__}: {left[:8]}")
    ours = model.state_dict()
    for key, value in ours.items():
        if key not in mapper.out and key.endswith(("adjacency", "off_diagonal")):
            mapper.out[key] = value.detach().clone()
    for key, value in mapper.out.items():
        if key not in ours:
            raise ConfigError(f"official tensors map to {key!r}, which the model does not have")
        if tuple(value.shape) != tuple(ours[key].shape):
            raise ConfigError(
                f"official tensor for {key!r} has shape {tuple(value.shape)}, the model {tuple(ours[key].shape)}: "
                "build the model with the checkpoint's configuration (num_classes, skeleton, bones)"
            )
    missing = sorted(set(ours) - set(mapper.out))
    if missing:
        raise ConfigError(f"no official tensor for {missing[:8]}")
    return {key: value.to(ours[key].dtype) for key, value in mapper.out.items()}


def erase_agcn_graph(model: nn.Module) -> int:
    """Set the physical graph of every :class:`AdaptiveGraphConv` to ``1e-6``, as the official ``unit_agcn``
    leaves it (see its docstring); returns the number of units changed."""
    count = 0
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, AdaptiveGraphConv):
                module.adjacency.fill_(1e-6)
                count += 1
    return count


def _read(path: Path, allow_pickle: bool) -> Mapping[str, Any]:
    from skeletal.safety import check_safe

    pickled = check_safe(path, allow_pickle)
    if not pickled:
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as error:  # safetensors raises its own error types for corrupt files
            raise DataError(f"not a readable safetensors file ({error})", path) from error
    try:  # allowed, and still read with PyTorch's restricted unpickler: tensors and containers only
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt zip, or objects other than tensors
        message = f"not a state dict of tensors that torch.load reads with weights_only=True ({error})"
        raise DataError(message, path) from error


def load_official(
    path: str | PathLike[str],
    name: str,
    allow_pickle: bool = False,
    official_agcn_graph: bool = True,
    **kwargs: Any,
) -> SpatialTemporalNet:
    """Build the registered model ``name`` and load an official ST-TR checkpoint into it (eval mode).

    Args:
        path: The official file: a ``torch.save`` state dict (``.pt``, pickle-based) or a safetensors copy.
        name: A registered stream: one of :data:`OFFICIAL_FLAGS`, optionally with ``-bones``.
        allow_pickle: Accept a pickle-based file. The released checkpoints are ``torch.save`` files;
            unpickling can run code, so it is refused unless allowed (and then done with
            ``weights_only=True``).
        official_agcn_graph: Reproduce the official AGCN graph (``1e-6`` instead of the skeleton, see
            :class:`~skeletal.nn.graph_conv.AdaptiveGraphConv`), so that the outputs are the official ones.
        **kwargs: Builder arguments (``skeleton="openpose18", window_size=150`` for Kinetics ...);
            ``num_classes`` defaults to the checkpoint's.

    Raises:
        UnsafeFileError: A pickle-based file and ``allow_pickle`` is False.
        DataError: The file cannot be read.
        ConfigError: ``name`` is not an ST-TR stream, or the tensors do not fit its configuration.
    """
    from skeletal.models import create

    stream = name.removesuffix("-bones")
    if stream not in OFFICIAL_FLAGS:
        raise ConfigError(
            f"load_official loads one stream, one of {sorted(OFFICIAL_FLAGS)} (or with -bones), got {name!r}; "
            "load the two streams of a two-stream model separately and combine them with TwoStream"
        )
    path = Path(path)
    state = strip_official(_read(path, allow_pickle))
    if "fcn.weight" in state:
        kwargs.setdefault("num_classes", int(state["fcn.weight"].shape[0]))
    model = create(name, **kwargs)
    try:
        converted = convert_official(state, model)  # type: ignore[arg-type]
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from error
    model.load_state_dict(converted, strict=True)
    if official_agcn_graph:
        erase_agcn_graph(model)
    return model.eval()  # type: ignore[return-value]
