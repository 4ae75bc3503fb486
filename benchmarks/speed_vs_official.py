"""Side-by-side inference speed of skeletal (float32 and bfloat16) and the official code of the papers, in one
interleaved run, with each model's achieved FLOP/s as a fraction of this machine's measured matmul peak.

Official code is imported from local copies given on the command line (never part of this repository):

- ``--st-tr``: https://github.com/Chiaraplizz/ST-TR (S-TR and T-TR, NTU-60 configuration; built and imported by
  :mod:`benchmarks.official_st_tr`, whose weight copy makes both compute the same function);
- ``--gast-net``: https://github.com/fabro66/GAST-Net-3DPoseEstimation (``model/gast_net.py``
  ``SpatioTemporalModel``, the h36m17 adjacency of ``common/graph_utils.py``, receptive field 27: filter widths
  3, 3, 3, 128 channels);
- ``--videopose3d``: https://github.com/facebookresearch/VideoPose3D (``common/model.py`` ``TemporalModel``,
  filter widths 3, 3, 3, 1024 channels).

Lifting models get random initial weights on both sides (speed does not depend on them; the parameter counts are
printed to show the configurations match). pyskl's ST-GCN is not included yet (its model imports mmcv).

Timing: every callable of one model (ours float32, ours bfloat16 via
:func:`skeletal.inference.precision.set_precision`, official float32) runs once in turn, ``--repeats`` rounds
after one warm-up, medians of CPU seconds of this process (``time.process_time``, one thread: wall time on the
shared machine measures the other jobs), ``torch.inference_mode``. FLOPs per sample are counted on our model
by :func:`skeletal.bench.flops_per_sample` (the official models compute the same products); achieved FLOP/s =
FLOPs / time, divided by the measured peak of a square float32 or bfloat16 ``torch.mm`` (``--peak-size``).

Run: ``OMP_NUM_THREADS=1 nice -n 15 python benchmarks/speed_vs_official.py --st-tr /tmp/ST-TR
--gast-net /tmp/GAST-Net --videopose3d /tmp/VideoPose3D`` (writes ``benchmarks/results/speed_vs_official.md``).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.util
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from official_st_tr import copy_weights, load_official, official_code_dir, official_model, randomize  # noqa: E402

from skeletal.bench import flops_per_sample  # noqa: E402
from skeletal.inference.precision import set_precision  # noqa: E402
from skeletal.models import count_parameters, create  # noqa: E402
from skeletal.skeletons import get as get_skeleton  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "speed_vs_official.md"


def cpu_seconds(functions: list[Callable[[], object]], repeats: int) -> list[float]:
    """Median CPU seconds of each function, run in turn (one warm-up round)."""
    times: list[list[float]] = [[] for _ in functions]
    for round_ in range(repeats + 1):
        for index, function in enumerate(functions):
            start = time.process_time()
            with torch.inference_mode():
                function()
            if round_:
                times[index].append(time.process_time() - start)
    return [statistics.median(values) for values in times]


def matmul_peak(dtype: torch.dtype, size: int, repeats: int) -> float:
    """FLOP/s of a square ``size`` x ``size`` matrix product in ``dtype`` (median CPU time)."""
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    (seconds,) = cpu_seconds([lambda: torch.mm(a, b)], repeats)
    return 2 * size**3 / seconds


def _file_module(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def official_gast_net(root: Path) -> nn.Module:
    """The official GAST-Net 27 (h36m17 adjacency), imported from ``root`` (``model/`` and ``common/``)."""
    if not (root / "model" / "gast_net.py").is_file():
        raise SystemExit(f"{root} does not hold the official GAST-Net code (model/gast_net.py)")
    sys.modules.setdefault("torchsummary", types.SimpleNamespace(summary=None))  # type: ignore[arg-type]
    graph_utils = _file_module("official_gast_graph_utils", root / "common" / "graph_utils.py")
    sys.path.insert(0, str(root))
    try:
        gast = importlib.import_module("model.gast_net")
    finally:
        sys.path.remove(str(root))
    parents = list(get_skeleton("h36m17").parents)
    skeleton = types.SimpleNamespace(num_joints=lambda: len(parents), parents=lambda: parents)
    adjacency = graph_utils.adj_mx_from_skeleton(skeleton)
    return gast.SpatioTemporalModel(adjacency, 17, 2, 17, filter_widths=[3, 3, 3], channels=128).eval()


def official_videopose3d(root: Path) -> nn.Module:
    """The official VideoPose3D 27 (``common/model.py``), imported from ``root``."""
    if not (root / "common" / "model.py").is_file():
        raise SystemExit(f"{root} does not hold the official VideoPose3D code (common/model.py)")
    module = _file_module("official_videopose3d_model", root / "common" / "model.py")
    return module.TemporalModel(17, 2, 17, filter_widths=[3, 3, 3], channels=1024).eval()


def row(
    name: str, ours: nn.Module, official: nn.Module, x: torch.Tensor, x_official: tuple, args: argparse.Namespace
) -> str:
    ours.eval()
    bf16 = set_precision(copy.deepcopy(ours), "bf16")
    flops = flops_per_sample(ours, x) * x.shape[0]
    seconds = cpu_seconds([lambda: ours(x), lambda: bf16(x), lambda: official(*x_official)], args.repeats)
    ours32, ours16, theirs = seconds
    return (
        f"| {name} | {x.shape[0]} | {count_parameters(ours):,} / {count_parameters(official):,} | "
        f"{flops / x.shape[0] / 1e9:.3f} | {ours32 * 1e3:.1f} | {ours16 * 1e3:.1f} | {theirs * 1e3:.1f} | "
        f"{theirs / ours32:.2f}x | {theirs / ours16:.2f}x | {flops / ours32 / args.peak32:.0%} | "
        f"{flops / ours16 / args.peak16:.0%} | {flops / theirs / args.peak32:.0%} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--st-tr", help="local copy of Chiaraplizz/ST-TR")
    parser.add_argument("--gast-net", type=Path, help="local copy of fabro66/GAST-Net-3DPoseEstimation")
    parser.add_argument("--videopose3d", type=Path, help="local copy of facebookresearch/VideoPose3D")
    parser.add_argument("--batch", type=int, default=1, help="recognition batch")
    parser.add_argument("--frames", type=int, default=300, help="recognition frames (NTU: 300)")
    parser.add_argument("--lift-batch", type=int, default=64, help="lifting windows of 27 frames per call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peak-size", type=int, default=2048)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.peak32 = matmul_peak(torch.float32, args.peak_size, args.repeats)
    args.peak16 = matmul_peak(torch.bfloat16, args.peak_size, args.repeats)
    lines = [
        "# skeletal against the official code: inference speed and fraction of the matmul peak",
        "",
        f"`benchmarks/speed_vs_official.py` (torch {torch.__version__}, 1 thread, nice 15, medians of {args.repeats} "
        "interleaved runs in CPU seconds; the 2-core machine was loaded by other jobs). Measured matmul peak "
        f"({args.peak_size}^3): float32 {args.peak32 / 1e9:.1f} GFLOP/s, bfloat16 {args.peak16 / 1e9:.1f} GFLOP/s.",
        f"Recognition input: batch {args.batch} x 2 persons x {args.frames} frames x 25 joints (NTU shape); lifting: "
        f"{args.lift_batch} windows of 27 frames x 17 joints (one output frame each).",
        "",
        "| model | batch | params ours / official | GFLOP / sample | ours fp32 ms | ours bf16 ms | official fp32 ms | "
        "ours fp32 speed-up | ours bf16 speed-up | ours fp32 % fp32 peak | ours bf16 % bf16 peak | "
        "official % fp32 peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    if args.st_tr:
        module = load_official(official_code_dir(args.st_tr))
        for stream in ("s-tr", "t-tr"):
            torch.manual_seed(0)
            ours = create(stream)
            randomize(ours)
            official = official_model(module, stream)
            copy_weights(ours, official)  # type: ignore[arg-type]
            official.eval()
            x = torch.randn(args.batch, 2, args.frames, 25, 3)
            lines.append(row(stream, ours, official, x, (x.permute(0, 4, 2, 3, 1).contiguous(), None, None), args))
            print(lines[-1], flush=True)
    lifting = []
    if args.gast_net:
        lifting.append(("gast-net-27", official_gast_net(args.gast_net)))
    if args.videopose3d:
        lifting.append(("videopose3d-27", official_videopose3d(args.videopose3d)))
    for name, official in lifting:
        torch.manual_seed(0)
        x = torch.randn(args.lift_batch, 27, 17, 2)
        lines.append(row(name, create(name), official, x, (x,), args))
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
