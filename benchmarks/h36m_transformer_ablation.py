"""Why the vanilla Transformer baseline stayed at zero-velocity on Human3.6M: short training runs of
``transformer_h36m_cpu.yaml``'s network with and without Adam's Vaswani betas and the reverse/mirror augmentation.

Each variant trains the same network (L=4, H=8, D=256, FFN 512, window 26, output projection at zero, Transformer
schedule with warmup 1000, batch 32, random 26-frame crops, gradients clipped at 1.0) on the prepared training
windows and prints, every 250 steps, the joint-angle error (rad) of the 25-frame rollout from the 50-frame seeds of
the test windows, the metric early stopping watches, beside zero-velocity's. One thread, seeded.

Usage (from the repository root; the data are licensed for research and never committed)::

    skeletal prepare h36m-expmap H36M_EXPMAP_DIR data/h36m-prediction
    python benchmarks/h36m_transformer_ablation.py --variants betas-0.98 betas-0.98+augment betas-0.999 --steps 1000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from skeletal.data.augment_prediction import mirror_rotations, reverse_time
from skeletal.models.prediction.baselines import PoseTransformer
from skeletal.tasks.prediction import joint_angle, next_step_loss, rollout, transformer_schedule, zero_output_projection

VARIANTS = {  # name: (Adam betas, eps, reverse/mirror augmentation)
    "betas-0.98": ((0.9, 0.98), 1e-9, False),
    "betas-0.98+augment": ((0.9, 0.98), 1e-9, True),
    "betas-0.999": ((0.9, 0.999), 1e-8, False),
    "betas-0.999+augment": ((0.9, 0.999), 1e-8, True),
}


def run(name: str, train: np.ndarray, test: torch.Tensor, steps: int, every: int = 250) -> None:
    betas, eps, augment = VARIANTS[name]
    torch.manual_seed(0)
    model = PoseTransformer("h36m32", "matrix", num_layers=4, num_heads=8, model_dim=256, feedforward_dim=512,
                            dropout=0.1, window=26)  # fmt: skip
    zero_output_projection(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1.0, betas=betas, eps=eps)
    draws = np.random.default_rng(1)
    seed, target = test[:, :50], test[:, 50:75]
    still = joint_angle(seed[:, -1:].expand_as(target), target, "matrix")
    start = time.time()
    for step in range(1, steps + 1):
        rows, first = np.sort(draws.integers(0, len(train), 32)), int(draws.integers(0, train.shape[1] - 26 + 1))
        x = torch.from_numpy(np.asarray(train[rows, first : first + 26], dtype=np.float32))
        if augment:
            reverse, mirror = torch.from_numpy(draws.random(32) < 0.5), torch.from_numpy(draws.random(32) < 0.5)
            x = torch.where(reverse[:, None, None, None], reverse_time(x), x)
            x[mirror] = mirror_rotations(x[mirror], "h36m32", "matrix")
        for group in optimizer.param_groups:
            group["lr"] = transformer_schedule(step, 256, 1000)
        model.train()
        loss = next_step_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                angle = joint_angle(rollout(model, seed, target.shape[1], context=26), target, "matrix")
            print(f"{name}: step {step}, train loss {loss.item():.4f}, rollout joint angle {angle:.4f} rad "
                  f"(zero-velocity {still:.4f}), {time.time() - start:.0f} s", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/h36m-prediction"), help="prepared h36m-expmap folder")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = np.load(args.data / "train" / "x.npy", mmap_mode="r")
    test = torch.from_numpy(np.load(args.data / "test" / "x.npy")).float()
    for name in args.variants:
        run(name, train, test, args.steps)


if __name__ == "__main__":
    main()
