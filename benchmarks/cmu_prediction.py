"""CMU motion-prediction benchmark (LTD's protocol) of models trained through the public path, with the published
rows beside ours.

Usage (from the repository root):

    python benchmarks/cmu_prediction.py [--root ../shared/data/cmu-mocap-expmap] [--long-seconds 20]
    python benchmarks/cmu_prediction.py --pretrained   # the shipped models instead of new runs

Runs exactly what the README tells a user to run: ``skeletal prepare cmu`` into ``data/``, ``skeletal train
configs/prediction/cmu_st-transformer.yaml`` and ``cmu_seq2seq.yaml`` (resumed after an interruption, skipped when
the run folder already holds its model file), then the tables of ``skeletal eval --protocol cmu``
(:func:`skeletal.evaluation.tables.cmu_prediction_tables`). Writes ``benchmarks/results/cmu_prediction.md``.
``--pretrained`` scores the shipped ``pretrained:st-transformer-cmu`` and ``pretrained:seq2seq-cmu`` (trained by
the same configs, ``benchmarks/build_pretrained.py``) and takes their training summary from the registry.
Data: CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu, NSF EIA-0196217).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from public_path import ROOT, prepared, trained, training_notes  # noqa: E402

from skeletal import checkpoint  # noqa: E402
from skeletal.evaluation.tables import cmu_prediction_tables  # noqa: E402

MODELS = {
    "ST-Transformer": ("configs/prediction/cmu_st-transformer.yaml", "data/cmu-prediction", "26", "1"),
    "seq2seq": ("configs/prediction/cmu_seq2seq.yaml", "data/cmu-prediction-75", "75", "2"),
}
PRETRAINED = {"ST-Transformer": "st-transformer-cmu", "seq2seq": "seq2seq-cmu"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT.parent / "shared" / "data" / "cmu-mocap-expmap"))
    parser.add_argument("--long-seconds", type=int, default=20, help="PS entropy/KLD horizon (0: skip)")
    parser.add_argument("--pretrained", action="store_true", help="score the shipped models, train nothing")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cmu_prediction.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.pretrained:
        loaded = {name: checkpoint.load(f"pretrained:{entry}") for name, entry in PRETRAINED.items()}
    else:
        files = {}
        for name, (config, folder, window, stride) in MODELS.items():
            prepared(folder, "cmu", args.root, "--task", "prediction", "--window", window, "--stride", stride)
            files[name] = trained(config)
        loaded = {name: checkpoint.load(path) for name, path in files.items()}
    start = time.time()
    text = "# CMU-Mocap motion prediction\n\n" + cmu_prediction_tables(loaded, args.root)
    print(f"evaluated in {time.time() - start:.0f} s")
    text += "\n" + (pretrained_notes() if args.pretrained else training_notes(files))
    if args.long_seconds > 0:
        text += long_horizon(loaded, args.root, args.long_seconds, Path(args.out).with_name("cmu_power_spectrum.png"))
    Path(args.out).write_text(text)
    print(text)


def pretrained_notes() -> str:
    """Training summary of the shipped models, from the registry (``skeletal models --pretrained``)."""
    from skeletal import pretrained

    lines = ["## Training (2-core CPU, `skeletal train`; the shipped models, `benchmarks/build_pretrained.py`)", ""]
    for name, entry in PRETRAINED.items():
        lines.append(f"- {name} (`pretrained:{entry}`): {pretrained.get(entry).training}")
    return "\n".join(lines) + "\n"


def long_horizon(trained: dict[str, torch.nn.Module], root: str, seconds: int, figure: Path) -> str:
    """Supplement H / figure 4 on CMU: PS entropy and KLD of each second of ``seconds``-long predictions from the
    test seeds, against 2,000 random 1-second windows of the test takes (joint positions after FK, 25 joints)."""
    from skeletal.data.cmu import expmap_to_rotations, load_cmu_benchmark
    from skeletal.evaluation.long_horizon import long_horizon_protocol, random_windows
    from skeletal.evaluation.prediction import (
        CMU_IGNORED_JOINTS,
        cmu_positions,
        cmu_test_windows,
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


if __name__ == "__main__":
    main()
