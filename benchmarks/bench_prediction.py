"""Motion-prediction speed on CPU: training-step time and autoregressive generation speed.

Training step: forward, the per-joint L2 next-step loss of section 3.3, backward, gradient clipping at 1.0 and
an Adam update, on a batch of ``--batch`` windows of ``--window`` frames (AMASS: 32 x 120). Generation:
:func:`skeletal.inference.generation.generate` with a seed of ``--window`` frames (the sliding window), batch 1
and ``--gen-batch`` (64), reported as generated frames per second summed over the batch (and per sequence).
Each timing is the best of ``--repeats`` runs after one warm-up.

Run: ``python benchmarks/bench_prediction.py [--model st-transformer-amass] [--threads 1] [--repeats 2]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import roma
import torch

from skeletal.inference.generation import generate
from skeletal.models import count_parameters, create


def best_time(function: Callable[[], object], repeats: int) -> float:
    """Shortest wall time in seconds of ``repeats`` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def random_poses(batch: int, frames: int, joints: int) -> torch.Tensor:
    """Random rotation matrices ``(batch, frames, joints, 9)``."""
    return roma.random_rotmat((batch, frames, joints)).reshape(batch, frames, joints, 9)


def training_step_seconds(model: torch.nn.Module, batch: int, window: int, repeats: int) -> float:
    """Seconds per optimisation step (forward, loss, backward, clip, Adam)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = random_poses(batch, window + 1, model.num_joints)  # type: ignore[arg-type]
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        prediction = model(x[:, :-1])
        loss = (prediction - x[:, 1:]).norm(dim=-1).sum(dim=-1).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return best_time(step, repeats)


def generation_fps(model: torch.nn.Module, batch: int, window: int, frames: int, repeats: int) -> float:
    """Generated frames per second, summed over the batch."""
    seed = random_poses(batch, window, model.num_joints)  # type: ignore[arg-type]
    seconds = best_time(lambda: generate(model, seed, frames), repeats)
    return batch * frames / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="st-transformer-amass")
    parser.add_argument("--batch", type=int, default=32, help="training batch (paper: 32)")
    parser.add_argument("--window", type=int, default=120, help="frames per window / seed (AMASS: 120)")
    parser.add_argument("--gen-batch", type=int, default=64)
    parser.add_argument("--gen-frames", type=int, default=10, help="frames generated per timing run")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = create(args.model)
    print(f"{args.model}: {count_parameters(model):,} parameters, torch {torch.__version__}, {args.threads} thread(s)")
    seconds = training_step_seconds(model, args.batch, args.window, args.repeats)
    print(f"training step (batch {args.batch} x {args.window} frames): {seconds:.2f} s")
    for batch in (1, args.gen_batch):
        fps = generation_fps(model, batch, args.window, args.gen_frames, args.repeats)
        print(
            f"generation, batch {batch:>3}, window {args.window}: {fps:8.1f} frames/s in total, "
            f"{fps / batch:7.2f} frames/s per sequence"
        )


if __name__ == "__main__":
    main()
