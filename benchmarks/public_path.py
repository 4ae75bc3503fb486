"""The public path the result tables come from: ``skeletal prepare`` + ``skeletal train CONFIG`` (+ ``--resume``),
run as a user runs them, from the repository root. Shared by the benchmark scripts that write
``benchmarks/results/``; the evaluation itself is the same code as ``skeletal eval --protocol``
(:mod:`skeletal.evaluation.tables`).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def skeletal(*arguments: str) -> None:
    """Run ``skeletal ARGUMENTS`` from the repository root (the README's commands); raise if it fails."""
    command = [sys.executable, "-m", "skeletal.cli", *arguments]
    print("$ skeletal " + " ".join(shlex.quote(a) for a in arguments), flush=True)
    start = time.time()
    subprocess.run(command, cwd=ROOT, check=True)
    print(f"  ({time.time() - start:.0f} s)", flush=True)


def prepared(folder: str, *prepare_arguments: str) -> Path:
    """``folder`` (relative to the repository root), written by ``skeletal prepare ARGUMENTS folder`` unless it
    already holds a ``fingerprint.json``."""
    path = ROOT / folder
    if not (path / "fingerprint.json").is_file():
        skeletal("prepare", *prepare_arguments[:2], folder, *prepare_arguments[2:])
    return path


def run_folder(config: str) -> Path:
    """The run folder a config trains into (``output/name``)."""
    from skeletal.config import load_config

    settings = load_config(ROOT / config)  # follows ``extends:``, as ``skeletal train`` does
    return ROOT / settings.output / settings.name


def trained(config: str, *overrides: str) -> Path:
    """The model file of ``config``: trained with ``skeletal train`` (resumed when its run folder has a checkpoint
    but no model file), or the existing one."""
    folder = run_folder(config)
    model = folder / "model.safetensors"
    if model.is_file():
        return model
    if (folder / "checkpoints" / "last.ckpt").is_file():
        skeletal("train", "--resume", str(folder.relative_to(ROOT)), *overrides)
    else:
        skeletal("train", config, *overrides)
    return model


def training_summary(run: Path) -> str:
    """Steps, epochs, best epoch and wall time of a run folder (summed over its resumed parts: from each part's
    ``hparams.yaml`` to its last ``metrics.csv`` write)."""
    from skeletal.tasks.engine import read_metrics

    rows = read_metrics(run)
    steps = max((int(r["step"]) for r in rows), default=0) + 1
    epochs = max((int(r["epoch"]) for r in rows), default=0) + 1
    seconds = 0.0
    for part in (run / "logs").glob("version_*"):
        start, end = part / "hparams.yaml", part / "metrics.csv"
        if start.is_file() and end.is_file():
            seconds += end.stat().st_mtime - start.stat().st_mtime
    return f"{steps:,} steps, {epochs} epochs, {seconds / 60:.0f} min of training on this machine"


def training_notes(files: dict[str, Path]) -> str:
    """Architecture, parameters and training summary of every model file, from its metadata and run folder."""
    import json

    from skeletal import checkpoint

    lines = ["## Training (2-core CPU, `skeletal train`)", ""]
    for name, path in files.items():
        info = checkpoint.read_metadata(path)
        parameters = sum(p.numel() for p in checkpoint.load(path).parameters())
        best = info.metrics.get("best_epoch")
        chosen = f"; weights of epoch {int(best)} (best validation)" if best is not None else ""
        lines.append(
            f"- {name}: `{info.model_name}` {json.dumps(info.model_kwargs)}, {parameters:,} parameters; "
            f"{training_summary(path.parent)}{chosen}"
        )
    return "\n".join(lines) + "\n"
