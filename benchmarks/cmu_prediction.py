"""CMU motion-prediction benchmark on CPU: a small ST-Transformer, seq2seq and zero-velocity, trained through the
engine (configs/prediction/cmu_*.yaml) and scored with :func:`skeletal.evaluation.prediction.cmu_protocol`.

Usage (from the repository root; one thread per process):

    OMP_NUM_THREADS=1 python benchmarks/cmu_prediction.py [--root ../shared/data/cmu-mocap-expmap]
        [--st-seconds 840] [--seq2seq-seconds 240] [--skip-train]

Writes ``benchmarks/results/cmu_prediction.md``. Training data: windows of the ``train/`` takes (stride 10),
reversed and mirrored with probability 0.5 each; 64 held-out training windows for validation. The data of the
CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu, NSF EIA-0196217).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from skeletal import models
from skeletal.config import load_config
from skeletal.data.augment_prediction import augmented_datamodule
from skeletal.evaluation.prediction import CMU_HORIZONS_MS, PredictionTable, cmu_protocol, cmu_training_arrays
from skeletal.tasks import train

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "cmu-prediction"

# Published tables on this protocol (8 windows per test take, frames labelled 80 ... 1000 ms): Euler error (rad) in
# LTD (Mao et al., ICCV 2019, CMU-Mocap table in angle space), 3D MPJPE over the 25 joints in HisRepItself (Mao et
# al., ECCV 2020) and siMLPe (Guo et al., WACV 2023). Their averages cover 8 actions; our copy of the data has no
# test take of basketball_signal and directing_traffic, so averages compare only per action.


def train_model(config_file: str, representation: str, length: int, seconds: float, root: str) -> torch.nn.Module:
    config = load_config(ROOT / "configs" / "prediction" / config_file)
    config.trainer.max_time_s = seconds
    config.output = str(RUNS)
    arrays = cmu_training_arrays(root, representation, length=length, stride=10)
    print(f"{config.name}: {len(arrays['train']['x'])} training windows of {length} frames")
    skeleton = config.model.kwargs["skeleton"]
    data = augmented_datamodule(arrays["train"], arrays["val"], skeleton, representation, config.data.batch_size)
    # The output projection starts at zero, so each residual model starts as zero-velocity and training only has
    # to learn the change (short CPU runs otherwise spend their steps undoing a random output layer).
    model = models.create(config.model.name, **config.model.kwargs)
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.zeros_(model.head.bias)
    start = time.time()
    result = train(config, datamodule=data, model=model)
    print(f"{config.name}: {result.epochs} epochs in {time.time() - start:.0f} s, {result.metrics}")
    assert result.task is not None
    return result.task.model.eval()


def load_trained(name: str) -> torch.nn.Module:
    from skeletal import checkpoint

    return checkpoint.load(RUNS / name / "model.safetensors").eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT.parent / "shared" / "data" / "cmu-mocap-expmap"))
    parser.add_argument("--st-seconds", type=float, default=840.0)
    parser.add_argument("--seq2seq-seconds", type=float, default=240.0)
    parser.add_argument("--skip-train", action="store_true", help="evaluate the model files of an earlier run")
    parser.add_argument("--long-seconds", type=int, default=20, help="PS entropy/KLD horizon (0: skip)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cmu_prediction.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.skip_train:
        trained = {"st-transformer": load_trained("cmu_st-transformer"), "seq2seq": load_trained("cmu_seq2seq")}
    else:
        trained = {
            "st-transformer": train_model("cmu_st-transformer.yaml", "matrix", 15, args.st_seconds, args.root),
            "seq2seq": train_model("cmu_seq2seq.yaml", "matrix", 75, args.seq2seq_seconds, args.root),
        }
    zero = models.create("zero-velocity", skeleton="cmu38", representation="matrix", window=50)
    tables: dict[str, PredictionTable] = {"zero-velocity": cmu_protocol(zero, args.root)}
    for name, model in trained.items():
        start = time.time()
        tables[name] = cmu_protocol(model, args.root)
        print(f"{name}: evaluated in {time.time() - start:.1f} s")
    text = report(tables, trained)
    if args.long_seconds > 0:
        text += long_horizon(trained, args.root, args.long_seconds, Path(args.out).with_name("cmu_power_spectrum.png"))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


SETUP = (
    "Setup (`benchmarks/cmu_prediction.py`, one CPU thread, shared machine): ST-Transformer L=2, H=4, D=32, "
    "feed-forward 64, window 15 frames, rotation matrices (`configs/prediction/cmu_st-transformer.yaml`), 840 s "
    "(~1,800 steps of batch 16); seq2seq GRU 256 units, sampling-based loss over 25 frames after 50 "
    "(`configs/prediction/cmu_seq2seq.yaml`), 240 s. Both: Adam with the Transformer schedule (warmup 100), "
    "gradient clipping 1.0, training windows of the `train/` takes (stride 10) reversed/mirrored with probability "
    "0.5 each, output projection initialised to zero (training starts from the zero-velocity solution). Test: 50 "
    "seed frames (the ST-Transformer sees the last 15), 25 predicted frames, autoregressive with projection onto "
    "SO(3). Data: CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu)."
)


def long_horizon(trained: dict[str, torch.nn.Module], root: str, seconds: int, figure: Path) -> str:
    """Supplement H / figure 4 on CMU: PS entropy and KLD of each second of ``seconds``-long predictions from the
    test seeds, against 2,000 random 1-second windows of the test takes (joint positions after FK, 25 joints)."""
    from skeletal.data.cmu import expmap_to_rotations, load_cmu_benchmark
    from skeletal.evaluation.prediction import (
        CMU_IGNORED_JOINTS,
        cmu_positions,
        cmu_test_windows,
        long_horizon_protocol,
        random_windows,
        rollout_windows,
        to_matrices,
    )
    from skeletal.viz.plots import plot_power_spectrum

    fps, used = 60, [j for j in range(38) if j not in CMU_IGNORED_JOINTS]
    takes = [t for sequences in load_cmu_benchmark(root, "test").values() for t in sequences]
    test = random_windows([cmu_positions(expmap_to_rotations(t))[:, used] for t in takes], fps, 2000)
    seeds = np.concatenate([w[:, :50] for w in cmu_test_windows(root, "matrix").values()])
    results = {}
    for name, model in trained.items():
        start = time.time()
        predicted = rollout_windows(model, seeds, seconds * fps, "matrix")
        positions = cmu_positions(to_matrices(predicted, "matrix"))[..., used, :]
        results[name] = long_horizon_protocol(positions, test, fps)
        print(f"{name}: {seconds} s for {len(seeds)} seeds generated and scored in {time.time() - start:.0f} s")
    plot_power_spectrum(results, figure, title=f"CMU, {len(seeds)} test seeds")
    lines = ["", f"## Long horizons: power spectrum of each second ({figure.name})", ""]
    lines += ["| second | " + " | ".join(f"{n} entropy | {n} KLD" for n in results) + " |"]
    lines += ["|---" * (1 + 2 * len(results)) + "|"]
    for i, second in enumerate(next(iter(results.values())).seconds):
        cells = " | ".join(f"{r.entropy[i]:.3f} | {r.kld[i]:.3f}" for r in results.values())
        lines.append(f"| {second} | {cells} |")
    reference = next(iter(results.values())).reference_entropy
    lines += ["", f"PS entropy of the test data's 1-second windows: {reference:.3f} nats.", ""]
    return "\n".join(lines)


def report(tables: dict[str, PredictionTable], trained: dict[str, torch.nn.Module]) -> str:
    header = "| model | action | " + " | ".join(f"{ms} ms" for ms in CMU_HORIZONS_MS) + " |"
    rule = "|---|---" + "|---" * len(CMU_HORIZONS_MS) + "|"
    lines = ["# CMU-Mocap motion prediction (CPU budget)", "", SETUP, ""]
    for metric, unit in (("euler", "Euler angle error, rad"), ("mpjpe", "MPJPE after FK, mm")):
        lines += [f"## {unit}", "", header, rule]
        actions = list(next(iter(tables.values())).values[metric])
        for action in actions:
            for name, table in tables.items():
                values = table.values[metric][action]
                bold = action == "average"
                cells = " | ".join(f"**{v:.3g}**" if bold else f"{v:.3g}" for v in values)
                lines.append(f"| {name} | {action} | {cells} |")
        lines.append("")
    st, zero = tables["st-transformer"].values["euler"]["average"], tables["zero-velocity"].values["euler"]["average"]
    st_m, zero_m = (
        tables["st-transformer"].values["mpjpe"]["average"],
        tables["zero-velocity"].values["mpjpe"]["average"],
    )
    lines += [
        "ST-Transformer vs zero-velocity, mean over actions and the 80-400 ms horizons: "
        f"Euler {np.mean(st[:4]):.3f} vs {np.mean(zero[:4]):.3f} rad, MPJPE {np.mean(st_m[:4]):.1f} vs "
        f"{np.mean(zero_m[:4]):.1f} mm.",
        "",
        "Models: "
        + "; ".join(f"{n}: {sum(p.numel() for p in m.parameters()):,} parameters" for n, m in trained.items()),
        "",
        next(iter(tables.values())).notes,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
