"""Helpers shared by the command modules: metric tables, the shipped default models, model files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

Subparsers = argparse._SubParsersAction
"""The ``commands`` of ``build_parser``: each command module adds its parsers there."""


def print_metrics(metrics: dict[str, float], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in sorted(metrics):
        table.add_row(name, f"{metrics[name]:.4f}")
    Console().print(table)


def is_recognition(path: str) -> bool:
    from skeletal import checkpoint

    if not Path(path).is_file() or Path(path).suffix.lower() in checkpoint.PICKLE_SUFFIXES:
        return False
    return checkpoint.read_metadata(path).task == "recognition"


def load_for_inference(args: argparse.Namespace) -> Any:
    """The model file of ``args.checkpoint`` in ``--precision`` (bf16 refused where the CPU lacks it)."""
    from skeletal.inference.precision import load

    return load(args.checkpoint, precision=args.precision)


def model_label(checkpoint_path: str) -> str:
    from pathlib import Path

    if checkpoint_path.startswith("pretrained:"):
        return checkpoint_path
    path = Path(checkpoint_path)
    return path.parent.name if path.stem == "model" else path.stem


def default_model(command: str) -> str:
    """``pretrained:NAME`` of the shipped model that ``command`` uses when no model is given; says which."""
    from skeletal import pretrained

    entry = pretrained.default(command)
    data = "CMU motion capture" if entry.training.startswith("CMU") else "the embedded synthetic data"
    print(f"no model given: using pretrained:{entry.name} ({entry.model} on {entry.layout}, trained on {data}; "
          "skeletal models --pretrained)")  # fmt: skip
    return f"{pretrained.PREFIX}{entry.name}"
