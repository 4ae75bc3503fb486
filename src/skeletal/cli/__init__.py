"""The ``skeletal`` command: a thin layer over the public Python API.

User mistakes (:class:`skeletal.errors.SkeletalError`, missing files) print one line and exit with status 2;
anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from skeletal.cli import demo, inference, models, prepare, training, viz
from skeletal.cli.models import MODEL_TABLE, model_table_rows, write_model_table
from skeletal.errors import SkeletalError

__all__ = ["MODEL_TABLE", "build_parser", "main", "model_table_rows", "quiet_third_party", "write_model_table"]

Command = Callable[[argparse.Namespace], int | None]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from skeletal import __version__

    parser = argparse.ArgumentParser(prog="skeletal", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"skeletal {__version__}")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    models.add_models(commands)
    training.add_train(commands)
    training.add_eval(commands)
    inference.add_predict(commands)
    prepare.add_prepare(commands)
    demo.add_demo(commands)
    inference.add_lift(commands)
    models.add_export(commands)
    models.add_bench(commands)
    viz.add_viz(commands)
    for sub in _command_parsers(parser):  # `skeletal demo --verbose` works too
        sub.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    _add_allow_pickle(parser)
    return parser


def _command_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser below ``parser`` (the commands and their sub-commands, such as ``viz attention``)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += [sub, *_command_parsers(sub)]
    return found


VERBOSE_HELP = "keep Lightning's banners and tips and third-party warnings and logs (default: hidden)"


def quiet_third_party(verbose: bool) -> None:
    """Default: silence the informational output of the libraries below (Lightning's banners through
    :func:`skeletal.tasks.trainer.quiet_lightning`, MediaPipe's glog/absl lines, Python warnings raised inside
    third-party packages). ``verbose``: keep all of it (``SKELETAL_VERBOSE=1`` for the engine)."""
    import warnings

    if verbose:
        os.environ["SKELETAL_VERBOSE"] = "1"
        return
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for package in ("lightning", "torch", "mediapipe", "google", "onnx", "onnxruntime", "onnxscript", "matplotlib"):
        warnings.filterwarnings("ignore", module=rf"{package}(\..*)?$")


def _add_allow_pickle(parser: argparse.ArgumentParser) -> None:
    """``--allow-pickle`` on every command that reads a model file (a ``checkpoint`` or ``model`` argument)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_allow_pickle(sub)
    if any(a.dest in ("checkpoint", "model") for a in parser._actions) and "--allow-pickle" not in (
        parser._option_string_actions
    ):
        parser.add_argument(
            "--allow-pickle",
            action="store_true",
            help="also read pickle-based model files (.ckpt, .pt): they can run code; trusted only",
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skeletal`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet_third_party(getattr(args, "verbose", False))
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    try:
        if getattr(args, "allow_pickle", False):
            from skeletal.checkpoint import pickle_allowed

            with pickle_allowed():
                result = args.handler(args)
        else:
            result = args.handler(args)
    except (SkeletalError, OSError) as error:  # OSError: read-only, exists, not a directory, disk full...
        if isinstance(error, BrokenPipeError):  # output piped into `head` and the like: stop quietly
            sys.stderr.close()
            return 0
        print(f"skeletal {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
