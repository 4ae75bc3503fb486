"""``skeletal models``, ``skeletal export`` and ``skeletal bench``: the registry's table, model files exported to
ONNX or TorchScript, speed and memory of the models.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from skeletal.cli._shared import Subparsers

MODEL_TABLE = "resources/model_table.json"
"""The registry's table as ``skeletal models`` prints it, written by :func:`write_model_table` (counting the
parameters means building every model, seconds of torch; tests check that the file matches the registry)."""


def model_table_rows() -> list[dict[str, Any]]:
    """One row per built-in model: name, task, parameters (ours), official (or None), paper. Builds every model."""
    from skeletal import models

    rows = []
    for name in models.names(builtin_only=True):
        entry = models.info(name)
        count = models.count_parameters(models.create(name))
        rows.append({"name": name, "task": entry.task, "parameters": count,
                     "official": entry.reference_parameters, "paper": entry.paper})  # fmt: skip
    return rows


def write_model_table() -> Path:
    """Rewrite ``skeletal/resources/model_table.json`` from the registry (after adding or changing a model)."""
    import json

    path = Path(__file__).parent.parent / MODEL_TABLE
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(model_table_rows(), indent=1) + "\n")
    return path


def _cmd_models(args: argparse.Namespace) -> None:
    import json
    import shutil
    import textwrap

    if args.pretrained:
        _print_pretrained(args.task)
        return

    rows = json.loads((Path(__file__).parent.parent / MODEL_TABLE).read_text())
    columns = shutil.get_terminal_size((120, 24)).columns
    name_width = max(len(row["name"]) for row in rows)
    for task in ("recognition", "prediction", "lifting"):
        if args.task not in (None, task):
            continue
        chosen = [row for row in rows if row["task"] == task]
        print(f"{task} ({len(chosen)} models)")
        header = f"  {'name'.ljust(name_width)}  {'parameters':>10}  {'official':>10}  "
        print(header + "paper")
        indent = " " * len(header)
        for row in chosen:
            official = f"{row['official']:,}" if row["official"] else "-"
            line = f"  {row['name'].ljust(name_width)}  {row['parameters']:>10,}  {official:>10}  "
            width = max(30, columns - len(indent) - 1)
            paper = textwrap.wrap(row["paper"], width, break_on_hyphens=False, break_long_words=False) or [""]
            print(line + paper[0])
            for rest in paper[1:]:  # wrapped, never cut
                print(indent + rest)
        print()
    print("parameters: ours, trainable; official: the authors' implementation where it is known")


def _print_pretrained(task: str | None) -> None:
    """``skeletal models --pretrained``: name, task, layout, test metrics, training data and checksum."""
    from skeletal import pretrained

    for name in pretrained.names(task):
        entry = pretrained.get(name)
        defaults = (
            f" (default of: {', '.join(f'skeletal {c}' for c in entry.default_for)})" if entry.default_for else ""
        )
        print(f"pretrained:{name}  {entry.task}, {entry.model} on {entry.layout}{defaults}")
        metrics = ", ".join(f"{key} {value:g}" for key, value in entry.metrics.items())
        for label, text in (("metrics", metrics), ("training", entry.training), ("sha256", entry.sha256)):
            print(f"  {label}: {text}")
        print()
    if not pretrained.names(task):
        print("no pretrained model" + (f" for {task}" if task else ""))


def _cmd_export(args: argparse.Namespace) -> int:
    from skeletal import checkpoint
    from skeletal.inference import export

    model = checkpoint.load(args.checkpoint)
    if args.streaming:
        model = export.streaming_model(model)
    suffix = ".onnx" if args.format == "onnx" else ".torchscript.pt"
    default = Path(args.checkpoint).with_suffix("").name + ("_streaming" if args.streaming else "") + suffix
    output = Path(args.output) if args.output else Path(args.checkpoint).parent / default
    example = export.example_input(model, batch=args.batch, frames=args.frames)
    dynamic_time = False if args.no_dynamic_time else None
    if args.format == "onnx":
        dynamic_time = export.supports_dynamic_time(model) if dynamic_time is None else dynamic_time
        export.export_onnx(model, output, example, dynamic_time=dynamic_time, exporter=args.exporter)
        axes = "batch" + (" and time" if dynamic_time else "")
        print(f"wrote {output} (ONNX, input x {tuple(example.shape)}, dynamic {axes})")
    else:
        export.export_torchscript(model, output, example)
        print(f"wrote {output} (TorchScript, traced on input {tuple(example.shape)})")
    if args.no_verify:
        return 0
    onnx_path, script_path = (output, None) if args.format == "onnx" else (None, output)
    frames = int(example.shape[export.time_axis(model)])  # a new batch size (3), the traced length
    check = export.verify_export(model, onnx_path, script_path, frames=frames)
    runtime = "onnxruntime" if args.format == "onnx" else "TorchScript"
    difference = check.onnx if args.format == "onnx" else check.torchscript
    if not check.ok(VERIFY_TOLERANCE):
        print(f"skeletal export: error: verification FAILED: {runtime} differs from PyTorch by {difference:.3g} "
              f"(max abs, input {check.input_shape}; tolerance {VERIFY_TOLERANCE:g})", file=sys.stderr)  # fmt: skip
        return 1
    print(f"verified: {runtime} matches PyTorch on random input {check.input_shape} (max abs difference "
          f"{difference:.2e} < {VERIFY_TOLERANCE:g})")  # fmt: skip
    return 0


VERIFY_TOLERANCE = 1e-4


def _cmd_bench(args: argparse.Namespace) -> None:
    from skeletal import bench, models
    from skeletal.errors import ConfigError

    names = models.names() if args.all else (args.names or list(bench.PAPER_MODELS))
    unknown = [name for name in names if name not in models.names()]
    if unknown:
        from skeletal.config import did_you_mean

        hint = did_you_mean(unknown[0], models.names())
        raise ConfigError(f"bench: unknown model(s) {', '.join(unknown)}{hint} (see `skeletal models`)")
    machine = bench.machine_description()
    print(f"machine: {machine}", file=sys.stderr)

    def done(row: bench.BenchRow) -> None:
        print(f"{row.name}: done", file=sys.stderr, flush=True)

    rows = bench.benchmark(
        names, tuple(args.batch), args.repeats, args.warmup, not args.no_onnx, not args.no_memory, progress=done
    )
    table = bench.format_table(rows)
    print(table)
    if args.markdown:
        note = f"Batches {args.batch[0]} and N = {args.batch[-1]}; median of {args.repeats} runs after "
        note += f"{args.warmup} warm-up."
        text = f"# skeletal benchmark\n\nMachine: {machine}.\n{note}\n\n{table}\n"
        path = Path(args.markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}", file=sys.stderr)


def add_models(commands: Subparsers) -> None:
    """``skeletal models [--task T] [--pretrained]``."""
    models = commands.add_parser("models", help="list every registered model with its parameter count")
    models.add_argument("--task", choices=["recognition", "prediction", "lifting"], help="only this task")
    models.add_argument("--pretrained", action="store_true", help="the trained weights shipped with skeletal")
    models.set_defaults(handler=_cmd_models)


def add_export(commands: Subparsers) -> None:
    """``skeletal export MODEL_FILE --format onnx|torchscript``."""
    exporter = commands.add_parser(
        "export",
        help="export a model file to ONNX or TorchScript, verified against PyTorch",
        description="Export a model file (.safetensors) to ONNX (onnxruntime) or TorchScript, with a dynamic batch "
        "and, where the model allows it, a dynamic number of frames; then run the exported file and PyTorch on "
        "random input and exit with status 1 if they differ by 1e-4 or more.",
    )
    exporter.add_argument("checkpoint", help="model file (.safetensors) written by skeletal train")
    exporter.add_argument("--format", choices=["onnx", "torchscript"], required=True)
    exporter.add_argument("--output", help="output file (default: beside the model file, .onnx / .torchscript.pt)")
    exporter.add_argument("--batch", type=int, default=2, help="batch of the traced example input (default 2)")
    exporter.add_argument("--frames", type=int, help="frames of the example input (default: the model's)")
    exporter.add_argument("--no-dynamic-time", action="store_true", help="fix the number of frames (ONNX)")
    exporter.add_argument(
        "--streaming", action="store_true", help="causal lifter: export its single-frame streaming step"
    )
    exporter.add_argument(
        "--exporter", choices=["torchscript", "dynamo", "auto"], default="torchscript", help="ONNX exporter"
    )
    exporter.add_argument("--no-verify", action="store_true", help="skip the comparison with PyTorch")
    exporter.set_defaults(handler=_cmd_export)


def add_bench(commands: Subparsers) -> None:
    """``skeletal bench [NAMES...]``."""
    bench_parser = commands.add_parser(
        "bench",
        help="benchmark models: parameters, FLOPs, speed, memory (torch and onnxruntime)",
        description="Measure models at their papers' input shapes on this CPU (median of --repeats runs after "
        "--warmup runs) and print a Markdown table. Default: the papers' models.",
    )
    bench_parser.add_argument("names", nargs="*", help="registered model names (default: the papers' models)")
    bench_parser.add_argument("--all", action="store_true", help="every registered model")
    bench_parser.add_argument("--batch", type=int, nargs=2, default=[1, 8], metavar=("SMALL", "LARGE"))
    bench_parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (median)")
    bench_parser.add_argument("--warmup", type=int, default=2, help="untimed runs before them")
    bench_parser.add_argument("--no-onnx", action="store_true", help="skip onnxruntime")
    bench_parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    bench_parser.add_argument("--markdown", metavar="PATH", help="also write the table (with the machine) here")
    bench_parser.set_defaults(handler=_cmd_bench)
