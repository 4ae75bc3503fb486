"""The ``skeletal`` command: a thin layer over the public Python API.

User mistakes (:class:`skeletal.errors.SkeletalError`, missing files) print one line and exit with status 2;
anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from skeletal.errors import SkeletalError

Command = Callable[[argparse.Namespace], int | None]


def _cmd_models(args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    from skeletal import models

    table = Table(title="skeletal models")
    for column in ("name", "task", "parameters", "official", "paper"):
        table.add_column(column, justify="right" if column in ("parameters", "official") else "left")
    for name in models.names(args.task):
        entry = models.info(name)
        count = models.count_parameters(models.create(name))
        reference = f"{entry.reference_parameters:,}" if entry.reference_parameters else ""
        table.add_row(name, entry.task, f"{count:,}", reference, entry.paper)
    Console().print(table)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from skeletal import __version__

    parser = argparse.ArgumentParser(prog="skeletal", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"skeletal {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    models = commands.add_parser("models", help="list every registered model with its parameter count")
    models.add_argument("--task", choices=["recognition", "prediction", "lifting"], help="only this task")
    models.set_defaults(handler=_cmd_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skeletal`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    try:
        result = args.handler(args)
    except (SkeletalError, FileNotFoundError, IsADirectoryError, PermissionError) as error:
        print(f"skeletal {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
