"""Inference speed of the library's models against straightforward implementations of the same equations.

For each paper model, the same weights are timed twice in one process: as implemented (batched einsum per-joint
layers, fused ``scaled_dot_product_attention``, one batched matmul for the channel-wise graph convolution) and
with :func:`benchmarks.reference.naive_modules` swapped in (Python loops over heads, joints and channels,
explicit softmax). The ratio ``naive / library`` of the medians is reported with the max abs difference of the
outputs, for whole models at their paper inputs (batch 1) and for the single blocks concerned.

Usage::

    OMP_NUM_THREADS=2 python benchmarks/speed_ratios.py [--repeats 5] [--warmup 2] [--models ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import naive_modules  # noqa: E402

from skeletal import bench  # noqa: E402
from skeletal.inference.export import example_input  # noqa: E402
from skeletal.models import create  # noqa: E402
from skeletal.nn.graph_attention import GlobalAttentionGraph  # noqa: E402
from skeletal.nn.per_joint import PerJointLinear  # noqa: E402
from skeletal.nn.self_attention import SpatialSelfAttention, TemporalSelfAttention  # noqa: E402
from skeletal.nn.semantic_graph_conv import SemanticChannelGraphConv  # noqa: E402
from skeletal.nn.spatiotemporal_attention import SpatialAttention, TemporalAttention  # noqa: E402
from skeletal.skeletons import get, symmetric_adjacency  # noqa: E402

PAPER_MODELS = ("s-tr", "t-tr", "st-transformer-amass", "st-transformer-h36m", "gast-net-27", "gast-net-243")


def compare(model: nn.Module, x: torch.Tensor, repeats: int, warmup: int) -> tuple[float, float, float, int]:
    """``(library seconds, naive seconds, max abs diff, modules replaced)`` of ``model(x)`` in eval mode."""
    model.eval()

    def run() -> torch.Tensor:
        with torch.inference_mode():
            output = model(x)
        return output[0] if isinstance(output, tuple) else output

    def naive_run() -> torch.Tensor:
        with naive_modules(model):
            return run()

    fast_output = run()
    with naive_modules(model) as replaced:
        naive_output = run()
    # Interleaved run by run (warm-up, then library, naive, library, ...), so that a drift of the machine (other
    # jobs, clock, cache) affects both alike; timing one after the other favoured whichever ran second by ~10 %.
    for _ in range(warmup):
        run(), naive_run()
    fast_times, naive_times = [], []
    for _ in range(repeats):
        fast_times.append(bench.median_time(run, 1, 0))
        naive_times.append(bench.median_time(naive_run, 1, 0))
    fast, naive = statistics.median(fast_times), statistics.median(naive_times)
    return fast, naive, float((fast_output - naive_output).abs().max()), replaced


def blocks() -> dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]]:
    """The individual blocks at the shapes they see inside the paper models (batch 1)."""
    h36m = get("h36m17")
    return {
        "SSA 256 ch (ST-TR, 75 frames x 25 joints)": (lambda: SpatialSelfAttention(256, 256, 25), (1, 75, 25, 256)),
        "TSA 256 ch (ST-TR, 75 frames x 25 joints)": (lambda: TemporalSelfAttention(256, 256, 25), (1, 75, 25, 256)),
        "per-joint linear 128->256 (ST-Transf.)": (lambda: PerJointLinear(15, 128, 256), (1, 120, 15, 128)),
        "temporal attention (ST-Transf.)": (lambda: _first(TemporalAttention(15, 128, 8)), (1, 120, 15, 128)),
        "spatial attention (ST-Transf.)": (lambda: _first(SpatialAttention(15, 128, 8)), (1, 120, 15, 128)),
        "channel-wise graph conv 256 ch (GAST, 27 x 17)": (
            lambda: SemanticChannelGraphConv(256, 256, symmetric_adjacency(h36m)),
            (1, 27, 17, 256),
        ),
        "global attention graph 256 ch (GAST, 27 x 17)": (
            lambda: _first(GlobalAttentionGraph(256, 17)),
            (1, 27, 17, 256),
        ),
    }


class _First(nn.Module):
    """Keeps the first output of a block returning ``(output, weights)``."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)[0]


def _first(block: nn.Module) -> nn.Module:
    return _First(block)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(PAPER_MODELS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    lines = [
        "# Library vs straightforward implementation (inference, batch 1, same weights, one process)",
        "",
        f"Machine: {bench.machine_description()}. Median of {args.repeats} runs after {args.warmup} warm-up, the "
        "library and the naive form interleaved run by run.",
        "",
        "| what | input | library (ms) | naive (ms) | speed-up | max abs diff | modules swapped |",
        "|---|---|---|---|---|---|---|",
    ]
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"speed-ratios-{date.today().isoformat()}.md"

    def record(what: str, x: torch.Tensor, result: tuple[float, float, float, int]) -> None:
        fast, naive, diff, replaced = result
        shape = "x".join(str(s) for s in x.shape[1:])
        times = f"{fast * 1e3:.2f} | {naive * 1e3:.2f} | {naive / fast:.2f}x"
        lines.append(f"| {what} | {shape} | {times} | {diff:.1e} | {replaced} |")
        path.write_text("\n".join(lines) + "\n")
        print(lines[-1], flush=True)

    torch.manual_seed(0)
    for name, (build, shape) in blocks().items():
        block = build()
        x = torch.randn(shape)
        record(name, x, compare(block, x, args.repeats, args.warmup))
    for name in args.models:
        kwargs, frames = bench.paper_shape(name)
        model = create(name, **kwargs)
        x = example_input(model, batch=1, frames=frames)
        record(f"model {name}", x, compare(model, x, args.repeats, args.warmup))
    return path


if __name__ == "__main__":
    main()
