"""``skeletal demo``: small models trained and evaluated on the synthetic data beside their baselines."""

from __future__ import annotations

import argparse

from skeletal.cli._shared import Subparsers


def _cmd_demo(args: argparse.Namespace) -> None:
    from skeletal.tasks.demo import print_table, run_demo

    tasks = tuple(args.task) if args.task else ("recognition", "prediction", "lifting")
    rows = run_demo(
        tasks,
        scale=args.scale,
        output=args.output,
        seed=args.seed,
        progress_bar=not args.quiet,
        threads=args.threads or None,
        announce=lambda line: print(line, flush=True),
    )
    print_table(rows)


def add_demo(commands: Subparsers) -> None:
    """``skeletal demo [--task T] [--scale S]``."""
    demo = commands.add_parser(
        "demo",
        help="train and evaluate small models on synthetic data and compare them with baselines",
        description="Train and evaluate a small S-TR, ST-Transformer and GAST-Net on the embedded SYNTHETIC data "
        "for a fixed number of steps each (the same table for a seed on every machine; about 3 minutes on 2 quiet "
        "cores), and print their metrics against chance, zero-velocity and mean-pose baselines.",
    )
    demo.add_argument(
        "--task",
        action="append",
        choices=["recognition", "prediction", "lifting"],
        help="only this task (repeatable; default all three)",
    )
    demo.add_argument("--scale", type=float, default=1.0, help="multiply every task's training steps (default 1)")
    threads_help = "torch threads (default 1: identical numbers everywhere; 0: the cores other jobs leave idle)"
    demo.add_argument("--threads", type=int, default=1, help=threads_help)
    demo.add_argument("--output", default="runs/demo", help="folder of the run folders (default runs/demo)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(handler=_cmd_demo)
