"""The library's ST-TR variants against the official ST-TR code: outputs on the same weights, parameter counts, speed.

The official code (https://github.com/Chiaraplizz/ST-TR, ``code/st_gcn/net``) is imported from a local copy given
by ``--official`` (the repository root or its ``code`` folder); it is never part of this repository. Each
registered stream is built in the official code with its configuration (``code/config/st_gcn/*/train.yaml``
with the README's settings, the flags of :data:`skeletal.models.recognition.official.OFFICIAL_FLAGS`; joints
``channel: 3``, ``-bones`` ``channel: 6, double_channel: True``; ``Nh: 8, dk: dv: 0.25, n: 4, dim_block1/2/3:
10/30/75, concat_original: True, mask_learning: True, relative: False``; NTU: 25 joints, 300 frames, 60
classes; Kinetics: graph ``Kinetics``, 18 joints, 150 frames, 400 classes, ``dropout: 0``). ``st-gcn-fc``
gets a one-partition all-ones graph class.

The official model gets random batch-norm statistics and affine parameters, perturbed edge-importance masks
and AGCN ``PA`` (so that a wrong permutation cannot hide behind identity batch norms), and its state dict is
loaded into the library model by :func:`skeletal.models.recognition.official.convert_official` (the
function behind ``load_official``), so this also checks the checkpoint conversion. Both run in eval mode in
float64 on the same random input (ours ``(N, M, T, V, C)``, theirs ``(N, C, T, V, M)``).

Runtime patches of the official code, none of which changes what it computes on a GPU: ``Tensor.cuda`` returns
the tensor itself when CUDA is absent (``unit_gcn``, ``unit_agcn`` and ``gcn_unit_attention`` move their graph
with ``.cuda()`` in every forward), ``print`` is silenced in its modules, the ``st_gcn`` package is loaded
without its ``__init__`` (data feeders, torchvision), and every parameter gets its own storage after
construction, as ``model.cuda()`` in ``main.py`` does: ``unit_agcn``'s ``PA`` shares its storage with the
graph ``A`` on the CPU (the bug of :class:`skeletal.nn.graph_conv.AdaptiveGraphConv`), so without it every
unit's ``PA`` would be one tensor.

Timing (``--models``): both models in one process, interleaved run by run, median of ``--repeats`` runs after
``--warmup``, ``torch.inference_mode``, for each thread count and batch size.

Usage::

    python benchmarks/official_st_tr.py --official /tmp/official-st-tr --check   # every variant, float64
    python benchmarks/official_st_tr.py --official /tmp/official-st-tr [--models s-tr t-tr] [--repeats 5]
        [--warmup 1] [--threads 1 2] [--batches 1 8] [--blocks]

``--check`` writes ``benchmarks/results/official-st-tr-check-<date>.md``; timing writes
``benchmarks/results/official-st-tr-<date>.md``. ``--blocks`` adds per-block times (first thread count, batch 1).
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
from typing import Any, cast

import numpy as np
import torch
from einops import rearrange
from torch import nn

from skeletal import bench
from skeletal.models import count_parameters, create, info
from skeletal.models.recognition.network import SpatialTemporalNet
from skeletal.models.recognition.official import OFFICIAL_FLAGS, UNUSED_PREFIXES, convert_official, erase_agcn_graph
from skeletal.nn.graph_conv import GraphConv

STREAMS = ("s-tr", "t-tr")  # timed streams
UNUSED = UNUSED_PREFIXES  # official parameters that the official forward never reads
NTU = {"num_point": 25, "window_size": 300, "num_class": 60, "graph": "st_gcn.graph.NTU_RGB_D", "dropout": 0.5}
KINETICS = {"num_point": 18, "window_size": 150, "num_class": 400, "graph": "st_gcn.graph.Kinetics", "dropout": 0.0}
KINETICS_STREAMS = ("s-tr", "t-tr", "t-tr-agcn")  # the released Kinetics checkpoints (joints and bones)
FC_GRAPH = "skeletal_benchmark_fc_graph.Graph"


STATIC_NOTES = (
    "Same weights: the official model (random weights, random batch-norm statistics and affine parameters, "
    "perturbed edge-importance masks) is loaded into the library model by `convert_official`, which reads every "
    "official tensor except the unused `person_bn`. `max abs diff` is in float32 (the randomised batch norms "
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
    "`st_gcn` package loaded without its `__init__` (feeders, torchvision), every parameter in its own storage "
    "(as `model.cuda()` leaves them).",
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


def import_official(code: Path) -> types.ModuleType:
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
    fc = types.ModuleType(FC_GRAPH.split(".")[0])

    class Graph:  # ST-GCN (fc): one partition of ones (ST-TR section V-C)
        def __init__(self, labeling_mode: str = "spatial", num_node: int = 25) -> None:
            self.A = np.ones((1, num_node, num_node))

    fc.Graph = Graph  # type: ignore[attr-defined]
    sys.modules[fc.__name__] = fc
    return module


def official_model(module: types.ModuleType, name: str, dataset: dict[str, Any]) -> nn.Module:
    """The official model of the registered ``name`` (see the module docstring), every parameter in its own
    storage (as after ``model.cuda()``)."""
    stream = name.removesuffix("-bones")
    bones = name.endswith("-bones")
    config: dict[str, Any] = dict(
        channel=6 if bones else 3, num_person=2, mask_learning=True, use_data_bn=True, only_attention=True,
        data_normalization=True, skip_conn=True, weight_matrix=2, only_temporal_attention=True, bn_flag=True,
        attention_3=False, kernel_temporal=9, more_channels=False, double_channel=bones, drop_connect=True,
        concat_original=True, all_layers=False, adjacency=False, agcn=False, dv=0.25, dk=0.25, Nh=8, n=4,
        dim_block1=10, dim_block2=30, dim_block3=75, relative=False, visualization=False, attention=False,
        tcn_attention=False, graph_args={"labeling_mode": "spatial"}, device=torch.device("cpu"),
    )  # fmt: skip
    config.update(dataset)
    config.update(OFFICIAL_FLAGS[stream])
    if stream == "st-gcn-fc":
        config["graph"] = FC_GRAPH
        config["graph_args"] = {"num_node": dataset["num_point"]}
    printing, builtins.print = builtins.print, _silent
    try:
        official = module.Model(**config)
    finally:
        builtins.print = printing
    return official._apply(lambda tensor: tensor.clone())  # own storage per parameter (model.cuda() in main.py)


def randomize(model: nn.Module, seed: int = 0) -> None:
    """Random batch-norm statistics and affine parameters; edge-importance masks ``1 + 0.1 noise``, AGCN ``PA``
    ``0.1 noise`` (official modules: parameters named ``mask`` and ``PA``)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                size = module.num_features
                module.running_mean.copy_(0.1 * torch.randn(size, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(size, generator=generator))
                module.weight.copy_(0.5 + torch.rand(size, generator=generator))
                module.bias.copy_(0.1 * torch.randn(size, generator=generator))
        for name, parameter in model.named_parameters():
            if name.endswith(".mask"):
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
            if name.endswith(".PA"):
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))


def official_graph(official: nn.Module) -> torch.Tensor | None:
    """The partitions of the first official ``unit_gcn`` (its ``A``), or None if it has none."""
    for module in official.modules():
        if type(module).__name__ == "unit_gcn":
            return module.A.float()
    return None


def build_pair(
    module: types.ModuleType, name: str, kinetics: bool = False, seed: int = 0
) -> tuple[SpatialTemporalNet, nn.Module]:
    """The official model of ``name`` with random weights and batch norms, and ours loaded from its state dict."""
    torch.manual_seed(seed)
    dataset = KINETICS if kinetics else NTU
    official = official_model(module, name, dataset)
    randomize(official, seed)
    kwargs: dict[str, Any] = {"num_classes": dataset["num_class"], "window_size": dataset["window_size"]}
    if kinetics:
        kwargs.update(skeleton="openpose18", dropout=0.0)
    ours = cast(SpatialTemporalNet, create(name, **kwargs))
    graph = official_graph(official)
    ours_graph = next((m.adjacency for m in ours.modules() if isinstance(m, GraphConv)), None)
    if graph is not None and ours_graph is not None and not torch.allclose(graph, ours_graph):
        raise ValueError(f"{name}: the official graph partitions differ from ours")
    ours.load_state_dict(convert_official(official.state_dict(), ours), strict=True)
    erase_agcn_graph(ours)  # the official AGCN graph (see AdaptiveGraphConv)
    return ours.eval(), official.eval()


def parameter_counts(ours: nn.Module, official: nn.Module) -> tuple[int, int, int]:
    """``(ours, official, official unused)`` parameter counts."""
    unused = sum(p.numel() for n, p in official.named_parameters() if n.startswith(UNUSED))
    return count_parameters(ours), count_parameters(official), unused


def check_rows(module: types.ModuleType, args: argparse.Namespace) -> list[str]:
    """One row per registered stream (NTU) and per released Kinetics configuration: counts and float64 diff."""
    cases = [(name, False) for name in OFFICIAL_FLAGS] + [(f"{name}-bones", False) for name in OFFICIAL_FLAGS]
    cases += [(name, True) for name in KINETICS_STREAMS] + [(f"{name}-bones", True) for name in KINETICS_STREAMS]
    rows = []
    for name, kinetics in cases:
        if args.names and name not in args.names:
            continue
        ours, official = build_pair(module, name, kinetics)
        mine, theirs, unused = parameter_counts(ours, official)
        dataset = KINETICS if kinetics else NTU
        x = torch.randn(args.check_batch, 2, dataset["window_size"], dataset["num_point"], ours.in_channels,
                        generator=torch.Generator().manual_seed(1))  # fmt: skip
        diff, scale = float64_difference(ours, official, x)
        reference = info(name).reference_parameters
        rows.append(
            f"| {name} | {'Kinetics' if kinetics else 'NTU'} | {mine:,} | {theirs:,} | {unused:,} | "
            f"{theirs - unused - mine:+,} | {'' if reference is None or kinetics else f'{reference:,}'} | {diff:.1e} | "
            f"{scale:.3g} | {diff / scale:.1e} |"
        )
        print(rows[-1], flush=True)
    return rows


def write_check(path: Path, rows: list[str], args: argparse.Namespace, machine: str) -> None:
    lines = [
        "# Library ST-TR variants vs the official ST-TR code: parameter counts and outputs on the same weights",
        "",
        f"Machine: {machine}. Command: `python benchmarks/official_st_tr.py --official <copy of Chiaraplizz/ST-TR> "
        f"--check --check-batch {args.check_batch}`. Official model: random weights, random batch norms, "
        "perturbed masks and AGCN PA; ours loaded from its state dict by `convert_official` (AGCN graph erased "
        "as the official code, see AdaptiveGraphConv). Both in eval mode and float64 on one random input of "
        f"{args.check_batch} sample(s), 2 persons (NTU 300 frames x 25 joints, Kinetics 150 x 18).",
        "",
        "| model | data | ours | official | official unused (person_bn) | official - unused - ours | registry "
        "(`skeletal models`) | max abs diff (float64) | max abs logit | diff / logit |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "- `official` counts every parameter of the official model; `person_bn` is built but never used by its "
        "forward (st_gcn.py line 248), so the library has no counterpart. The registry shows the official count.",
        "",
    ]
    path.write_text("\n".join(lines))


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
    """``(max abs diff, max abs logit)`` of float64 copies of both models on ``x`` (float32 rounding removed).

    The official augmented SSA casts its graph with ``partition.float()`` (``gcn_attention.py`` line 129), so
    ``Tensor.float`` gives float64 during the official float64 forward.
    """
    ours64, official64 = copying.deepcopy(ours).double(), copying.deepcopy(official).double()
    to_float = torch.Tensor.float
    with torch.inference_mode():
        mine = ours64(x.double())
        torch.Tensor.float = torch.Tensor.double  # type: ignore[method-assign]
        try:
            theirs = official64(x.double().permute(0, 4, 2, 3, 1), None, None)
        finally:
            torch.Tensor.float = to_float  # type: ignore[method-assign]
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
    ours, official = build_pair(module, stream)
    ours_params, official_params, unused = parameter_counts(ours, official)
    diff64, scale64 = float64_difference(ours, official, torch.randn(2, 2, 300, 25, 3))
    notes = [
        f"{stream}: parameters ours {ours_params:,}, official {official_params:,} (unused person_bn {unused:,}; "
        f"official - person_bn = {official_params - unused:,})",
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
    parser.add_argument("--check", action="store_true", help="compare every variant (float64) instead of timing")
    parser.add_argument("--check-batch", type=int, default=1, help="samples of the --check input")
    parser.add_argument("--names", nargs="+", default=None, help="with --check: only these names")
    args = parser.parse_args(argv)
    args.load_start = os.getloadavg()[0]
    module = import_official(official_code_dir(args.official))
    machine = re.sub(r", \d+ torch threads", "", bench.machine_description())
    if args.check:
        stamp = date.today().isoformat()
        output = args.output or Path(__file__).parent / "results" / f"official-st-tr-check-{stamp}.md"
        write_check(output, check_rows(module, args), args, machine)
        print(f"wrote {output}")
        return
    output = args.output or Path(__file__).parent / "results" / f"official-st-tr-{date.today().isoformat()}.md"
    rows: list[str] = []
    notes: list[str] = []
    blocks: list[str] = []
    for stream in args.models:
        stream_rows, stream_notes, stream_blocks = compare(stream, module, args)
        rows += stream_rows
        notes += stream_notes
        blocks += stream_blocks
        write_report(output, rows, notes, blocks, args, machine)
    print("\n".join(notes))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
