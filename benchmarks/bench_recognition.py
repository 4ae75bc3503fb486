"""Forward and training-step time and peak memory of the recognition models at the NTU input.

Input: batch 8 x 2 persons x 300 frames x 25 joints x 3 channels (ST-TR journal section V-B), 60 classes.
Forward is timed in eval mode without gradients; the training step is forward + cross-entropy + backward +
SGD step in train mode. Peak memory: CUDA's max allocated on GPU; on CPU the growth of the process's maximum
resident set size (``ru_maxrss``), a coarse upper bound.

    python benchmarks/bench_recognition.py --models s-tr t-tr st-gcn --repeats 2 [--device cuda] [--frames 300]
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from skeletal.models import count_parameters, create, names


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench(name: str, batch: int, frames: int, repeats: int, device: torch.device) -> dict[str, float]:
    """Median forward and training-step seconds and peak memory (MiB) of one registered model."""
    torch.manual_seed(0)
    model = create(name).to(device)
    x = torch.randn(batch, 2, frames, 25, 3, device=device)
    labels = torch.randint(0, 60, (batch,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    forward, step = [], []
    model.eval()
    with torch.no_grad():
        for _ in range(repeats + 1):  # the first run warms up
            _sync(device)
            start = time.perf_counter()
            model(x)
            _sync(device)
            forward.append(time.perf_counter() - start)
    model.train()
    for _ in range(repeats + 1):
        _sync(device)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        _sync(device)
        step.append(time.perf_counter() - start)
    median = lambda values: sorted(values[1:])[len(values[1:]) // 2]  # noqa: E731
    return {"params": count_parameters(model), "forward_s": median(forward), "step_s": median(step),
            "peak_mib": _peak_mb(device)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    single = [
        n for n in names("recognition") if not n.endswith("-bones") and not n.startswith("st-tr") or n == "st-tr-1s"
    ]
    parser.add_argument("--models", nargs="*", default=single)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"input ({args.batch}, 2, {args.frames}, 25, 3)")  # fmt: skip
    print("| model | parameters | forward (s) | training step (s) | peak memory (MiB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in args.models:
        result = bench(name, args.batch, args.frames, args.repeats, device)
        print(f"| {name} | {result['params']:,} | {result['forward_s']:.3f} | {result['step_s']:.3f} | "
              f"{result['peak_mib']:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
