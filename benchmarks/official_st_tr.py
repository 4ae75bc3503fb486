"""Inference speed of the library's S-TR and T-TR against the official ST-TR code, same weights, same machine.

The official code (https://github.com/Chiaraplizz/ST-TR, ``code/st_gcn/net``) is imported from a local copy given
by ``--official`` (the repository root or its ``code`` folder); it is never part of this repository. Each model is
built with the official NTU-60 configuration of the stream (``code/config/st_gcn/nturgbd/train.yaml`` with the
README's settings: S-TR ``attention: True, tcn_attention: False, only_attention: True``; T-TR ``attention: False,
tcn_attention: True, only_attention: True``; joints only, so ``channel: 3, double_channel: False``; ``agcn:
False``, ``relative: False``, ``all_layers: False``, ``concat_original: True``, ``Nh: 8, dk: dv: 0.25``).

The library model gets random batch-norm statistics and affine parameters and a perturbed edge-importance mask
(so that a wrong permutation cannot hide behind identity batch norms), and all its weights are copied into the
official model (:func:`copy_weights`: 1x1 convolutions <- channels-last linear layers, the joint/channel order of
the per-layer input batch norms, the ``(1, stride)`` temporal kernel of the official TSA). Every official
parameter and buffer is written except ``person_bn``, which the official forward never uses. Both run in eval
mode; the outputs on the same input (ours ``(N, M, T, V, C)``, theirs ``(N, C, T, V, M)``) are compared.

Runtime patches of the official code, none of which changes what it computes: ``Tensor.cuda`` returns the tensor
itself when CUDA is absent (``unit_gcn`` and ``gcn_unit_attention`` move their adjacency with ``.cuda()`` in every
forward), ``print`` is silenced in its modules (the model prints the input shape in every forward), and the
``st_gcn`` package is loaded without its ``__init__`` (which imports the data feeders and torchvision).

Timing: both models in one process, interleaved run by run, median of ``--repeats`` runs after ``--warmup``,
``torch.inference_mode``, for each thread count and batch size. Writes ``benchmarks/results/official-st-tr-<date>.md``.

Usage::

    python benchmarks/official_st_tr.py --official /tmp/official-st-tr [--models s-tr t-tr] [--repeats 5]
        [--warmup 1] [--threads 1 2] [--batches 1 8] [--blocks]

``--blocks`` adds a table of per-block times (spatial and temporal block of every layer, first thread count,
batch 1), to see where the two implementations differ.
"""

from __future__ import annotations

import argparse
import builtins
import copy as copying
import importlib
import os
import re
import statistics
import sys
import time
import types
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import torch
from einops import rearrange
from torch import nn

from skeletal import bench
from skeletal.models import count_parameters, create
from skeletal.models.recognition.network import SpatialTemporalNet, SpatialTemporalUnit
from skeletal.nn.graph_conv import GraphConv
from skeletal.nn.self_attention import SpatialSelfAttention, TemporalSelfAttention
from skeletal.nn.temporal_conv import TemporalConv

STREAMS = {"s-tr": {"attention": True, "tcn_attention": False}, "t-tr": {"attention": False, "tcn_attention": True}}
OFFICIAL_PARAMETERS = {"s-tr": 3_075_338, "t-tr": 1_768_870}  # counted on the official code (ST-TR Table I-a)
UNUSED = ("person_bn.",)  # official parameters that the official forward never reads


STATIC_NOTES = (
    "Same weights: every weight of the library model (after random batch-norm statistics, batch-norm affine "
    "parameters and edge-importance masks) is copied into the official model; every official parameter and "
    "buffer is written except the unused `person_bn`. `max abs diff` is in float32 (the randomised batch norms "
    "make logits large: compare with `max abs logit`); the float64 line above removes float32 rounding.",
    "Official configuration (code/config/st_gcn/nturgbd/train.yaml, README settings of each stream, joints only): "
    "channel 3, double_channel False, only_attention True, only_temporal_attention True, all_layers False, "
    "concat_original True, relative False, adjacency False, agcn False, Nh 8, dk = dv factor 0.25 (dv = C_out "
    "since only_attention), mask_learning True, use_data_bn True, graph NTU_RGB_D spatial; S-TR attention True, "
    "tcn_attention False; T-TR attention False, tcn_attention True. Attention is in the six layers of 128 and "
    "256 channels (`starting_ch` 128), which the journal describes as 'from the 4th layer on' after 'the first "
    "three layers' (the code has four 64-channel layers: gcn0/tcn0 and backbone[0..2]).",
    "Eval mode: DropAttention (`drop_connect`) and dropout are inactive in both codes, so they need no matching. "
    "The official TSA attends over all frames of the layer (no windows) in this configuration, as ours.",
    "Runtime patches of the official code (no change to what it computes): `Tensor.cuda` returns the tensor "
    "when CUDA is absent, `print` silenced in its modules (it prints the input shape every forward), the "
    "`st_gcn` package loaded without its `__init__` (feeders, torchvision).",
)


class MissingOfficialCode(SystemExit):
    """The ``--official`` path does not hold the official ST-TR code."""


def official_code_dir(path: str | None) -> Path:
    """The official ``code`` folder under ``path`` (the repository root or ``code`` itself)."""
    if not path:
        raise MissingOfficialCode(
            "--official is required: the path of a local copy of https://github.com/Chiaraplizz/ST-TR "
            "(e.g. git clone it to /tmp/official-st-tr)"
        )
    for candidate in (Path(path) / "code", Path(path)):
        if (candidate / "st_gcn" / "net" / "st_gcn.py").is_file():
            return candidate.resolve()
    raise MissingOfficialCode(
        f"{path} does not hold the official ST-TR code: expected code/st_gcn/net/st_gcn.py (repository root) or "
        "st_gcn/net/st_gcn.py (its code folder)"
    )


def _silent(*args: Any, **kwargs: Any) -> None:
    return None


def load_official(code: Path) -> types.ModuleType:
    """Import the official ``st_gcn.net.st_gcn`` module from ``code`` with the runtime patches of the docstring."""
    package = types.ModuleType("st_gcn")
    package.__path__ = [str(code / "st_gcn")]
    sys.modules["st_gcn"] = package  # skip st_gcn/__init__.py (feeders, torchvision)
    if not torch.cuda.is_available():
        original_cuda = torch.Tensor.cuda

        def cuda_or_self(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            return tensor if not torch.cuda.is_available() else original_cuda(tensor, *args, **kwargs)

        torch.Tensor.cuda = cuda_or_self  # type: ignore[method-assign]
    importlib.import_module("st_gcn.graph")
    module = importlib.import_module("st_gcn.net.st_gcn")
    for name, loaded in list(sys.modules.items()):
        if name.startswith("st_gcn."):
            loaded.print = _silent  # type: ignore[attr-defined]
    return module


def official_model(module: types.ModuleType, stream: str) -> nn.Module:
    """The official model with the NTU-60 configuration of ``stream`` (see the module docstring)."""
    config: dict[str, Any] = dict(
        channel=3, num_class=60, window_size=300, num_point=25, num_person=2, mask_learning=True, use_data_bn=True,
        only_attention=True, data_normalization=True, skip_conn=True, weight_matrix=2, only_temporal_attention=True,
        bn_flag=True, attention_3=False, kernel_temporal=9, more_channels=False, double_channel=False,
        drop_connect=True, concat_original=True, all_layers=False, adjacency=False, agcn=False, dv=0.25, dk=0.25,
        Nh=8, n=4, dim_block1=10, dim_block2=30, dim_block3=75, relative=False, graph="st_gcn.graph.NTU_RGB_D",
        visualization=False, graph_args={"labeling_mode": "spatial"}, device=torch.device("cpu"),
    )  # fmt: skip
    config.update(STREAMS[stream])
    printing, builtins.print = builtins.print, _silent
    try:
        return module.Model(**config)
    finally:
        builtins.print = printing


def randomize(model: nn.Module, seed: int = 0) -> None:
    """Random batch-norm statistics and affine parameters, edge-importance masks ``1 + 0.1 noise``."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                size = module.num_features
                module.running_mean.copy_(0.1 * torch.randn(size, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(size, generator=generator))
                module.weight.copy_(0.5 + torch.rand(size, generator=generator))
                module.bias.copy_(0.1 * torch.randn(size, generator=generator))
            if isinstance(module, GraphConv) and module.mask is not None:
                module.mask.add_(0.1 * torch.randn(module.mask.shape, generator=generator))


class Copier:
    """Copies tensors into the official model and remembers which of its tensors were written."""

    def __init__(self, official: nn.Module) -> None:
        self.names = {id(t): n for n, t in [*official.named_parameters(), *official.named_buffers()]}
        self.written: set[int] = set()

    def __call__(self, target: torch.Tensor, source: torch.Tensor) -> None:
        if target.shape != source.shape:
            raise ValueError(f"{self.names.get(id(target), '?')}: official {tuple(target.shape)}, ours {source.shape}")
        with torch.no_grad():
            target.copy_(source)
        self.written.add(id(target))

    def batch_norm(self, target: nn.Module, source: nn.Module, joints: int | None = None) -> None:
        """Copy a batch norm; ``joints``: ours is ordered (joint, channel), theirs (channel, joint)."""
        for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            value = getattr(source, name)
            if joints is not None and value.dim() == 1 and value.numel() > 1:
                value = value.reshape(joints, -1).T.reshape(-1)
            self(getattr(target, name), value)

    def missing(self) -> list[str]:
        return [name for key, name in self.names.items() if key not in self.written and not name.startswith(UNUSED)]


def _conv_from_linear(copy: Copier, conv: nn.Module, linear: nn.Linear) -> None:
    copy(conv.weight, linear.weight[..., None, None])
    copy(conv.bias, linear.bias)


def _temporal_conv(copy: Copier, unit2d: nn.Module, ours: TemporalConv) -> None:
    copy(unit2d.conv.weight, ours.conv.weight)
    copy(unit2d.conv.bias, ours.conv.bias)
    copy.batch_norm(unit2d.bn, ours.bn)


def _graph_conv(copy: Copier, unit: nn.Module, ours: GraphConv) -> None:
    if not torch.allclose(unit.A.float(), ours.adjacency):
        raise ValueError("the official NTU graph partitions differ from ours (agcn_partitions('ntu25'))")
    copy(unit.mask, ours.mask)
    for index, conv in enumerate(unit.conv_list):
        copy(conv.weight, ours.projection.weight[index].T[..., None, None])
        copy(conv.bias, ours.projection.bias[index])
    copy.batch_norm(unit.bn, ours.bn)


def _spatial_attention(copy: Copier, unit: nn.Module, ours: SpatialSelfAttention, joints: int) -> None:
    copy.batch_norm(unit.data_bn, ours.data_bn, joints)
    _conv_from_linear(copy, unit.attention_conv.qkv_conv, ours.attention.qkv)
    _conv_from_linear(copy, unit.attention_conv.attn_out, ours.attention.merge)
    copy.batch_norm(unit.bn, ours.bn)


def _temporal_attention(copy: Copier, unit: nn.Module, ours: TemporalSelfAttention, joints: int) -> None:
    copy.batch_norm(unit.data_bn, ours.data_bn, joints)
    qkv = ours.attention.qkv
    if isinstance(qkv, nn.Linear):
        _conv_from_linear(copy, unit.qkv_conv, qkv)
    else:  # ours (out, in, stride, 1) over (frames, joints); theirs (out, in, 1, stride) over (1, frames)
        copy(unit.qkv_conv.weight, qkv.weight.transpose(-1, -2))
        copy(unit.qkv_conv.bias, qkv.bias)
    _conv_from_linear(copy, unit.attn_out, ours.attention.merge)
    if (unit.down is None) != (ours.residual is None):
        raise ValueError("official and library TSA disagree on the residual projection")
    if ours.residual is not None:
        _temporal_conv(copy, unit.down, ours.residual)
    copy.batch_norm(unit.bn, ours.bn)


def _block(copy: Copier, target: nn.Module, ours: nn.Module, joints: int) -> None:
    if isinstance(ours, GraphConv):
        _graph_conv(copy, target, ours)
    elif isinstance(ours, SpatialSelfAttention):
        _spatial_attention(copy, target, ours, joints)
    elif isinstance(ours, TemporalSelfAttention):
        _temporal_attention(copy, target, ours, joints)
    elif isinstance(ours, TemporalConv):
        _temporal_conv(copy, target, ours)
    else:
        raise TypeError(f"no official counterpart known for {type(ours).__name__}")


def copy_weights(ours: SpatialTemporalNet, official: nn.Module) -> list[str]:
    """Write every weight of ``ours`` into ``official``; returns the official tensors left unwritten."""
    copy = Copier(official)
    joints = ours.skeleton.num_joints
    copy.batch_norm(official.data_bn, ours.data_bn)  # both ordered (person, joint, channel)
    units: list[SpatialTemporalUnit] = list(ours.units)  # type: ignore[arg-type]
    _block(copy, official.gcn0, units[0].spatial, joints)
    _block(copy, official.tcn0, units[0].temporal, joints)
    if len(official.backbone) != len(units) - 1:
        raise ValueError(f"official backbone has {len(official.backbone)} units, ours {len(units) - 1} after the stem")
    for theirs, unit in zip(official.backbone, units[1:]):
        _block(copy, theirs.gcn1, unit.spatial, joints)
        _block(copy, theirs.tcn1, unit.temporal, joints)
        if (theirs.down1 is None) != (unit.residual is None):
            raise ValueError("official and library units disagree on the residual projection")
        if unit.residual is not None:
            _temporal_conv(copy, theirs.down1, unit.residual)  # type: ignore[arg-type]
    copy(official.fcn.weight, ours.classifier.weight[..., None])
    copy(official.fcn.bias, ours.classifier.bias)
    return copy.missing()


def interleaved(functions: list[Callable[[], object]], repeats: int, warmup: int) -> list[float]:
    """Median seconds of each function, run in turn ``warmup + repeats`` times (only the last ``repeats`` count)."""
    times: list[list[float]] = [[] for _ in functions]
    for step in range(warmup + repeats):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            function()
            if step >= warmup:
                times[index].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def float64_difference(ours: nn.Module, official: nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """``(max abs diff, max abs logit)`` of float64 copies of both models on ``x`` (float32 rounding removed)."""
    ours64, official64 = copying.deepcopy(ours).double(), copying.deepcopy(official).double()
    with torch.inference_mode():
        mine = ours64(x.double())
        theirs = official64(x.double().permute(0, 4, 2, 3, 1), None, None)
    return float((mine - theirs).abs().max()), float(theirs.abs().max())


def block_rows(stream: str, ours: SpatialTemporalNet, official: nn.Module, args: argparse.Namespace) -> list[str]:
    """Per-block times (batch 1, first thread count): each block of both models on the input it sees in ours."""
    torch.set_num_threads(args.threads[0])
    inputs: dict[tuple[int, str], torch.Tensor] = {}
    hooks = [
        getattr(unit, part).register_forward_hook(
            lambda module, given, output, key=(index, part): inputs.__setitem__(key, given[0])
        )
        for index, unit in enumerate(ours.units)
        for part in ("spatial", "temporal")
    ]
    with torch.inference_mode():
        ours(torch.randn(1, ours.num_persons, 300, ours.skeleton.num_joints, ours.in_channels))
    for hook in hooks:
        hook.remove()
    rows, totals = [], [0.0, 0.0]
    for index, unit in enumerate(ours.units):
        theirs = official.backbone[index - 1] if index else None
        pairs = [("spatial", unit.spatial, theirs.gcn1 if theirs else official.gcn0, True)]
        pairs.append(("temporal", unit.temporal, theirs.tcn1 if theirs else official.tcn0, False))
        for part, mine, counterpart, takes_label in pairs:
            x = inputs[(index, part)]
            x_official = rearrange(x, "n t v c -> n c t v").contiguous()

            def run_ours(block: nn.Module = mine, x: torch.Tensor = x) -> object:
                with torch.inference_mode():
                    return block(x)

            def run_official(block: nn.Module = counterpart, x: torch.Tensor = x_official, label: bool = takes_label):
                with torch.inference_mode():
                    return block(x, None, None) if label else block(x)

            times = interleaved([run_ours, run_official], args.repeats, args.warmup)
            totals = [total + t for total, t in zip(totals, times)]
            rows.append(
                f"| {stream} | {index} | {type(mine).__name__} | {'x'.join(map(str, x.shape))} | "
                f"{times[0] * 1e3:.1f} | {times[1] * 1e3:.1f} | {times[1] / times[0]:.2f}x |"
            )
    rows.append(f"| {stream} | all | sum | | {totals[0] * 1e3:.1f} | {totals[1] * 1e3:.1f} | "
                f"{totals[1] / totals[0]:.2f}x |")  # fmt: skip
    return rows


def compare(stream: str, module: types.ModuleType, args: argparse.Namespace) -> tuple[list[str], list[str], list[str]]:
    """Build, map, check and time one stream; returns (table rows, notes, per-block rows)."""
    torch.manual_seed(0)
    ours = create(stream)
    randomize(ours)
    official = official_model(module, stream)
    ours_params, official_params = count_parameters(ours), count_parameters(official)
    unused = sum(p.numel() for n, p in official.named_parameters() if n.startswith(UNUSED))
    missing = copy_weights(ours, official)  # type: ignore[arg-type]
    if missing:
        raise ValueError(f"official tensors left unwritten: {missing}")
    ours.eval()
    official.eval()
    diff64, scale64 = float64_difference(ours, official, torch.randn(2, 2, 300, 25, 3))
    notes = [
        f"{stream}: parameters ours {ours_params:,}, official {official_params:,} (unused person_bn {unused:,}; "
        f"official - person_bn = {official_params - unused:,}; Table I-a reference {OFFICIAL_PARAMETERS[stream]:,})",
        f"{stream}: in float64 (batch 2) the outputs differ by at most {diff64:.1e} (max abs logit {scale64:.1f})",
    ]
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for batch in args.batches:
            x = torch.randn(batch, 2, 300, 25, 3, generator=torch.Generator().manual_seed(batch))
            x_official = x.permute(0, 4, 2, 3, 1).contiguous()  # (N, M, T, V, C) -> (N, C, T, V, M)

            def run_ours(x: torch.Tensor = x) -> torch.Tensor:
                with torch.inference_mode():
                    return ours(x)  # type: ignore[return-value]

            def run_official(x: torch.Tensor = x_official) -> torch.Tensor:
                with torch.inference_mode():
                    return official(x, None, None)

            ours_out, official_out = run_ours(), run_official()
            diff = float((ours_out - official_out).abs().max())
            scale = float(official_out.abs().max())
            ours_s, official_s = interleaved([run_ours, run_official], args.repeats, args.warmup)
            rows.append(
                f"| {stream} | {threads} | {batch} | {ours_s * 1e3:.0f} | {official_s * 1e3:.0f} | "
                f"{official_s / ours_s:.2f}x | {diff:.1e} | {scale:.1f} |"
            )
            print(rows[-1], flush=True)
    return rows, notes, block_rows(stream, ours, official, args) if args.blocks else []


def write_report(
    path: Path, rows: list[str], notes: list[str], blocks: list[str], args: argparse.Namespace, machine: str
) -> None:
    lines = [
        "# Library S-TR / T-TR vs the official ST-TR code (inference, same weights, one process)",
        "",
        f"Machine: {machine}. Median of {args.repeats} runs after {args.warmup} warm-up, the two models "
        "interleaved run by run, `torch.inference_mode`, eval mode, NTU input (N x 2 persons x 300 frames x 25 "
        "joints x 3). `ratio` = official / library time.",
        "",
        "Command: `python benchmarks/official_st_tr.py --official <copy of Chiaraplizz/ST-TR> "
        f"--models {' '.join(args.models)} --repeats {args.repeats} --warmup {args.warmup} "
        f"--threads {' '.join(map(str, args.threads))} --batches {' '.join(map(str, args.batches))}"
        f"{' --blocks' if args.blocks else ''}`",
        "",
        "| model | threads | batch | library (ms) | official (ms) | ratio | max abs diff | max abs logit |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        *[f"- {note}" for note in notes],
        f"- Load average of the machine (1 min) at the start and end: {args.load_start:.1f}, "
        f"{os.getloadavg()[0]:.1f}; with other jobs on the cores, 2-thread rows measure contention as much as "
        "compute (the thread that waits for a busy core stalls the whole operation), 1-thread rows are the "
        "steadier ones.",
        *[f"- {note}" for note in STATIC_NOTES],
        "",
    ]
    if blocks:
        lines += [
            f"## Per block ({args.threads[0]} thread, batch 1, median of {args.repeats} interleaved runs)",
            "",
            "Each block of both models on the input it receives inside the library model (spatial: GCN or SSA; "
            "temporal: TCN or TSA; the residual projections of the units are not included).",
            "",
            "| model | unit | library block | input (N·M T V C) | library (ms) | official (ms) | ratio |",
            "|---|---|---|---|---|---|---|",
            *blocks,
            "",
        ]
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official", help="local copy of https://github.com/Chiaraplizz/ST-TR (root or code/)")
    parser.add_argument("--models", nargs="+", default=list(STREAMS), choices=list(STREAMS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--blocks", action="store_true", help="also time every block of both models")
    parser.add_argument("--output", type=Path, default=None, help="markdown file (default benchmarks/results/...)")
    args = parser.parse_args(argv)
    args.load_start = os.getloadavg()[0]
    module = load_official(official_code_dir(args.official))
    output = args.output or Path(__file__).parent / "results" / f"official-st-tr-{date.today().isoformat()}.md"
    rows: list[str] = []
    notes: list[str] = []
    blocks: list[str] = []
    for stream in args.models:
        stream_rows, stream_notes, stream_blocks = compare(stream, module, args)
        rows += stream_rows
        notes += stream_notes
        blocks += stream_blocks
        machine = re.sub(r", \d+ torch threads", "", bench.machine_description())  # threads vary by row
        write_report(output, rows, notes, blocks, args, machine)
    print("\n".join(notes))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
