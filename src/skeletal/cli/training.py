"""``skeletal train`` and ``skeletal eval``: training from a YAML config, evaluation of a model file (the run's test
data, a prepared split, or a benchmark protocol; two-stream recognition ensembles).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from skeletal.cli._shared import (
    Subparsers,
    is_recognition,
    load_for_inference,
    model_label,
    print_metrics,
)


def _cmd_train(args: argparse.Namespace) -> None:
    from skeletal.tasks import train_file

    config, overrides = args.config, list(args.overrides)
    if config is not None and "=" in config and args.resume:  # `train --resume RUN key=value`: no config given
        config, overrides = None, [config, *overrides]
    result = train_file(config, overrides, resume=args.resume)
    print(f"run folder: {result.run_dir}")
    print(f"model file: {result.model_file}")
    print_metrics(result.metrics, "final validation metrics")


def _cmd_eval(args: argparse.Namespace) -> None:
    from skeletal.tasks import evaluate

    if args.protocol in LIFTING_PROTOCOLS:
        _eval_lifting(args)
        return
    if args.protocol:
        _eval_protocol(args)
        return
    if args.ensemble or is_recognition(args.checkpoint):
        _eval_recognition(args)
        return
    metrics = evaluate(args.checkpoint, args.data, batch_size=args.batch_size, progress_bar=not args.quiet)
    print_metrics(metrics, f"evaluation of {args.checkpoint}")


LIFTING_PROTOCOLS = ("cmu-lifting", "h36m-lifting", "humaneva")


def _eval_lifting(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError
    from skeletal.evaluation.lifting import cmu_lifting_protocol, h36m_lifting_protocol

    if not args.data:
        raise ConfigError(f"eval --protocol {args.protocol}: --data must name the CMU folder or data_3d_h36m.npz")
    model = load_for_inference(args)
    if args.protocol == "cmu-lifting":
        table = cmu_lifting_protocol(model, args.data, flip=True)
    elif args.protocol == "humaneva":
        from skeletal.evaluation.tables import humaneva_lifting_tables

        if not args.data_2d:
            raise ConfigError("eval --protocol humaneva: --data-2d must name a data_2d_humaneva15_*.npz")
        print(humaneva_lifting_tables({model_label(args.checkpoint): model}, args.data, args.data_2d))
        return
    else:
        if not args.data_2d:
            raise ConfigError("eval --protocol h36m-lifting: --data-2d must name a data_2d_h36m_*.npz")
        table = h36m_lifting_protocol(model, args.data, args.data_2d, flip=True)
    print(table)


def _eval_protocol(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError
    from skeletal.evaluation.prediction import h36m_protocol

    if not args.data:
        raise ConfigError(f"eval --protocol {args.protocol}: --data must name the dataset folder")
    model = load_for_inference(args)
    if args.protocol in ("cmu", "h36m"):  # with the published rows beside ours
        from skeletal.evaluation.tables import cmu_prediction_tables, h36m_prediction_tables

        tables = cmu_prediction_tables if args.protocol == "cmu" else h36m_prediction_tables
        print(tables({model_label(args.checkpoint): model}, args.data, batch_size=args.batch_size))
        return
    print(h36m_protocol(model, args.data, samples=256, batch_size=args.batch_size))


def _eval_recognition(args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    from skeletal.evaluation.recognition import evaluate_recognition

    names = None
    if args.classes:
        names = [line.strip() for line in Path(args.classes).read_text().splitlines() if line.strip()]
    report = evaluate_recognition(
        args.checkpoint, args.data, args.ensemble, batch_size=args.batch_size, out=args.out, class_names=names,
        fusion=args.fusion,
    )  # fmt: skip
    rule = "softmax scores summed" if args.fusion == "softmax" else "logits summed, as the official ensemble.py"
    title = args.checkpoint + (f" + {args.ensemble} ({rule})" if args.ensemble else "")
    print_metrics(report.metrics(), f"evaluation of {title}")
    table = Table(title="per-class top-1 accuracy")
    for column in ("class", "name", "samples", "accuracy"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for index, (name, count, accuracy) in enumerate(zip(report.class_names, report.counts, report.per_class)):
        table.add_row(str(index), name, str(int(count)), "" if count == 0 else f"{accuracy:.4f}")
    Console().print(table)
    for kind, path in report.files.items():
        print(f"{kind.replace('_', '-')}: {path}")


def add_train(commands: Subparsers) -> None:
    """``skeletal train CONFIG [key=value ...] [--resume RUN_DIR]``."""
    train = commands.add_parser(
        "train",
        help="train from a YAML config (configs/...) with key.sub=value overrides",
        description="Train a model from a YAML config. Overrides are key.sub=value (YAML values), e.g. "
        "trainer.max_epochs=5 data.batch_size=16 model.kwargs.dropout=0.1. The run folder gets config.yaml, "
        "logs/, checkpoints/last.ckpt (for --resume) and model.safetensors (for skeletal.load).",
    )
    train.add_argument("config", nargs="?", help="YAML config file (optional with --resume)")
    train.add_argument("overrides", nargs="*", help="key.sub=value overrides")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last checkpoint")
    train.set_defaults(handler=_cmd_train)


def add_eval(commands: Subparsers) -> None:
    """``skeletal eval MODEL_FILE [--data D] [--protocol P] [--ensemble M]``."""
    evaluate = commands.add_parser("eval", help="evaluate a model file and print the task's metrics")
    evaluate.add_argument("checkpoint", help="model file (.safetensors) written by skeletal train")
    evaluate.add_argument(
        "--data", help="prepared split (.npz, folder of .npy, or prepare_* part); default: the run's test data"
    )
    evaluate.add_argument("--batch-size", type=int, default=64)
    evaluate.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                          help="benchmark protocols: inference precision (bf16 needs AVX-512-BF16 or AMX)")  # fmt: skip
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.add_argument(
        "--protocol",
        choices=["cmu", "h36m", "h36m-256", *LIFTING_PROTOCOLS],
        help="prediction: a benchmark protocol on the dataset folder --data with the published rows beside ours "
        "(cmu: LTD's protocol; h36m: the ST-Transformer's table 2; h36m-256: LTD's 256 windows, ours only); lifting: "
        "per-action MPJPE, P-MPJPE, N-MPJPE, MPJVE on the CMU folder (cmu-lifting), on --data data_3d_h36m.npz "
        "with --data-2d data_2d_h36m_*.npz (h36m-lifting, S9 and S11), or HumanEva-I P-MPJPE beside GAST-Net's "
        "table 4 (humaneva: --data data_3d_humaneva15.npz --data-2d data_2d_humaneva15_*.npz)",
    )
    evaluate.add_argument("--data-2d", help="lifting: VideoPose3D's data_2d_h36m_*.npz (with --protocol h36m-lifting)")
    evaluate.add_argument(
        "--ensemble",
        metavar="MODEL_FILE",
        help="recognition: a second stream (e.g. T-TR with an S-TR checkpoint); softmax scores summed (two-stream)",
    )
    evaluate.add_argument("--fusion", choices=["softmax", "logits"], default="softmax",
                          help="with --ensemble: sum the softmax scores (the paper) or the logits (official "
                          "ensemble.py)")  # fmt: skip
    evaluate.add_argument(
        "--out", help="recognition: folder of confusion.png and per_class.csv (default beside the model file)"
    )
    evaluate.add_argument("--classes", help="recognition: text file of class names, one per line")
    evaluate.set_defaults(handler=_cmd_eval)
