"""Training throughput of the paper models in float32, bf16-mixed and with ``torch.compile``, as ratios of one
interleaved run, and the loss curves of the modes side by side.

One training step = forward, the task's loss (cross-entropy on random labels for recognition, the next-step loss
of :func:`skeletal.tasks.prediction.next_step_loss` for prediction, MPJPE for lifting), backward and an Adam
update. Modes, each on its own copy of the same initial weights:

- ``fp32``: float32 throughout (today's default);
- ``bf16-mixed``: forward and loss under ``torch.autocast("cpu", torch.bfloat16)`` (Lightning's
  ``precision="bf16-mixed"``), float32 weights and optimiser;
- ``compile``: ``torch.compile(model)`` (inductor) in float32; its compilation time is reported apart;
- ``math-attention``: float32 with ``scaled_dot_product_attention`` held to its unfused math backend, which is
  what every attention of rank other than 4 (the ST-Transformer's per-joint temporal attention) ran on before
  :func:`skeletal.nn.joint_attention.fused_attention`: put it first to read the ratios as "now / before".

Throughput: the modes run one step each in turn, ``--repeats`` rounds after ``--warmup`` steps per mode; samples
per CPU second (``time.process_time``, one thread; wall time on this shared machine measures the other jobs),
medians, and the ratio to the first mode given. Loss curves: ``--curve-steps`` steps per mode on the same sequence
of random batches; the table gives the loss at a few steps and the largest relative difference from the first
mode's curve.

Inputs are random (speed does not depend on values): recognition ``(N, 2, --frames, 25, 3)`` NTU-shaped,
prediction the preset's window, lifting the receptive field (strided training mode, one output frame).

Run: ``OMP_NUM_THREADS=1 nice -n 15 python benchmarks/bench_training.py [--models s-tr st-transformer-amass]``
(writes ``benchmarks/results/training.md``).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from skeletal.bench import paper_shape
from skeletal.inference.export import example_input
from skeletal.models import create, info
from skeletal.tasks.prediction import next_step_loss

RESULTS = Path(__file__).resolve().parent / "results" / "training.md"
MODES: tuple[str, ...] = ("fp32", "bf16-mixed", "compile", "math-attention")


def make_batch(model: nn.Module, name: str, batch: int, frames: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random input of the model's task and the loss target (labels, or the 3D poses of lifting)."""
    task = info(name).task
    x = example_input(model, batch=batch, frames=frames if task != "lifting" else None, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    if task == "recognition":
        return x, torch.randint(0, int(getattr(model, "num_classes", 60)), (batch,), generator=generator)
    if task == "lifting":
        return x, torch.randn(batch, 1, x.shape[2], 3, generator=generator) * 0.2
    return x, x


def loss_of(name: str, output: torch.Tensor, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    task = info(name).task
    if task == "recognition":
        return nn.functional.cross_entropy(output.float(), target)
    if task == "lifting":
        return (output.float() - target).norm(dim=-1).mean()
    return next_step_loss(output.float(), x)


class Trainer:
    """One model copy, its optimiser and the step of one mode."""

    def __init__(self, model: nn.Module, name: str, mode: str) -> None:
        self.name, self.mode = name, mode
        self.model = copy.deepcopy(model).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4)
        self.forward: Callable[..., torch.Tensor] = self.model
        self.compile_seconds = 0.0
        if mode == "compile":
            self.forward = torch.compile(self.model)  # type: ignore[assignment]

    def step(self, x: torch.Tensor, target: torch.Tensor) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if self.mode == "bf16-mixed" else nullcontext()
        backend = sdpa_kernel([SDPBackend.MATH]) if self.mode == "math-attention" else nullcontext()
        with autocast, backend:
            loss = loss_of(self.name, self.forward(x), x, target)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())


def throughput(
    model: nn.Module, name: str, batch: int, frames: int, modes: tuple[str, ...], warmup: int, repeats: int
) -> dict[str, tuple[float, float]]:
    """Median samples per CPU second of every mode (interleaved) and its warm-up CPU seconds."""
    trainers = {mode: Trainer(model, name, mode) for mode in modes}
    x, target = make_batch(model, name, batch, frames, seed=0)
    warm: dict[str, float] = {}
    for mode, trainer in trainers.items():
        start = time.process_time()
        for _ in range(warmup):
            trainer.step(x, target)
        warm[mode] = time.process_time() - start
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(repeats):
        for mode, trainer in trainers.items():
            start = time.process_time()
            trainer.step(x, target)
            times[mode].append(time.process_time() - start)
    return {mode: (batch / statistics.median(times[mode]), warm[mode]) for mode in modes}


def loss_curves(model: nn.Module, name: str, batch: int, frames: int, modes: tuple[str, ...], steps: int) -> dict:
    curves: dict[str, list[float]] = {}
    for mode in modes:
        trainer = Trainer(model, name, mode)
        curves[mode] = [trainer.step(*make_batch(model, name, batch, frames, seed=step)) for step in range(steps)]
    return curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["s-tr", "t-tr", "st-gcn", "st-transformer-amass", "gast-net-27"]
    )
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=64, help="recognition frames (NTU windows have 300)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--curve-steps", type=int, default=200)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    modes = tuple(args.modes)
    lines = [
        "# Training throughput: float32, bf16-mixed, torch.compile",
        "",
        f"`benchmarks/bench_training.py` (torch {torch.__version__}, 1 thread, nice 15, batch {args.batch}, "
        f"recognition {args.frames} frames; medians of {args.repeats} interleaved steps in CPU seconds after "
        f"{args.warmup} warm-up steps per mode; the 2-core machine was loaded by other jobs).",
        "",
        "| model | " + " | ".join(f"{mode} samples/s" for mode in modes) + " | "
        + " | ".join(f"{mode} / {modes[0]}" for mode in modes[1:]) + " | warm-up CPU s |",
        "|---|" + "---|" * (2 * len(modes)),
    ]  # fmt: skip
    curve_lines = ["", f"## Loss curves ({args.curve_steps} steps, same random batches)", ""]
    for name in args.models:
        torch.manual_seed(0)
        overrides, frames = paper_shape(name)
        frames = args.frames if info(name).task == "recognition" else frames
        model = create(name, **overrides)
        rates = throughput(model, name, args.batch, frames, modes, args.warmup, args.repeats)
        base = rates[modes[0]][0]
        lines.append(
            f"| {name} | " + " | ".join(f"{rates[mode][0]:.2f}" for mode in modes) + " | "
            + " | ".join(f"{rates[mode][0] / base:.2f}x" for mode in modes[1:]) + " | "
            + ", ".join(f"{mode} {rates[mode][1]:.1f}" for mode in modes) + " |"
        )  # fmt: skip
        print(lines[-1], flush=True)
        if args.curve_steps:
            curves = loss_curves(model, name, args.batch, frames, modes, args.curve_steps)
            marks = sorted({0, args.curve_steps // 4, args.curve_steps // 2, args.curve_steps - 1})
            curve_lines.append(f"{name}:")
            for mode in modes:
                deviation = max(abs(a - b) / max(abs(b), 1e-8) for a, b in zip(curves[mode], curves[modes[0]]))
                values = ", ".join(f"step {m + 1}: {curves[mode][m]:.4f}" for m in marks)
                curve_lines.append(f"- {mode}: {values}; largest relative difference from {modes[0]} {deviation:.2%}")
            print("\n".join(curve_lines[-len(modes) - 1 :]), flush=True)
    text = "\n".join(lines + curve_lines) + "\n"
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
