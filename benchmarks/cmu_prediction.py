"""CMU motion-prediction benchmark on CPU: a small ST-Transformer, seq2seq and zero-velocity, trained through the
engine (configs/prediction/cmu_*.yaml) and scored with :func:`skeletal.evaluation.prediction.cmu_protocol`.

Usage (from the repository root; one thread per process):

    OMP_NUM_THREADS=1 python benchmarks/cmu_prediction.py [--root ../shared/data/cmu-mocap-expmap]
        [--st-seconds 600] [--seq2seq-seconds 240] [--skip-train]

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

# Published CMU-Mocap results (same 8-windows-per-take test protocol, frames labelled 80 ... 1000 ms), averaged over
# the 8 actions of the original release (our copy lacks basketball_signal and directing_traffic test takes, so the
# averages compare only roughly). Euler error in radians: LTD (Mao et al., ICCV 2019), table 3 ("Ours" = LTD-10-25
# in angle space); 3D MPJPE: HisRepItself (Mao et al., ECCV 2020), table 3.
PUBLISHED: dict[str, dict[str, list[float | None]]] = {}


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
    parser.add_argument("--st-seconds", type=float, default=600.0)
    parser.add_argument("--seq2seq-seconds", type=float, default=240.0)
    parser.add_argument("--skip-train", action="store_true", help="evaluate the model files of an earlier run")
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
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


def report(tables: dict[str, PredictionTable], trained: dict[str, torch.nn.Module]) -> str:
    header = "| model | action | " + " | ".join(f"{ms} ms" for ms in CMU_HORIZONS_MS) + " |"
    rule = "|---|---" + "|---" * len(CMU_HORIZONS_MS) + "|"
    lines = ["# CMU-Mocap motion prediction (CPU budget)", ""]
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
