"""The ``skeletal`` command: a thin layer over the public Python API.

User mistakes (:class:`skeletal.errors.SkeletalError`, missing files) print one line and exit with status 2;
anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from skeletal.errors import SkeletalError

Command = Callable[[argparse.Namespace], int | None]


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

    path = Path(__file__).parent / MODEL_TABLE
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

    rows = json.loads((Path(__file__).parent / MODEL_TABLE).read_text())
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


def _cmd_train(args: argparse.Namespace) -> None:
    from skeletal.tasks import train_file

    config, overrides = args.config, list(args.overrides)
    if config is not None and "=" in config and args.resume:  # `train --resume RUN key=value`: no config given
        config, overrides = None, [config, *overrides]
    result = train_file(config, overrides, resume=args.resume)
    print(f"run folder: {result.run_dir}")
    print(f"model file: {result.model_file}")
    _print_metrics(result.metrics, "final validation metrics")


def _print_metrics(metrics: dict[str, float], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in sorted(metrics):
        table.add_row(name, f"{metrics[name]:.4f}")
    Console().print(table)


def _is_recognition(path: str) -> bool:
    from skeletal import checkpoint

    if path.startswith("pretrained:"):
        from skeletal import pretrained

        return pretrained.get(path.removeprefix("pretrained:")).task == "recognition"
    if not Path(path).is_file() or Path(path).suffix.lower() in checkpoint.PICKLE_SUFFIXES:
        return False
    return checkpoint.read_metadata(path).task == "recognition"


def _cmd_eval(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError
    from skeletal.tasks import evaluate

    for flag in ("data", "data_2d", "classes"):
        value = getattr(args, flag)
        if value and not value.startswith("cmu:") and not Path(value).exists():
            raise ConfigError(f"eval --{flag.replace('_', '-')}: {value} does not exist")

    if args.protocol in LIFTING_PROTOCOLS:
        _eval_lifting(args)
        return
    if args.protocol:
        _eval_protocol(args)
        return
    if args.ensemble or _is_recognition(args.checkpoint):
        _eval_recognition(args)
        return
    metrics = evaluate(args.checkpoint, args.data, batch_size=args.batch_size, progress_bar=not args.quiet)
    _print_metrics(metrics, f"evaluation of {args.checkpoint}")


LIFTING_PROTOCOLS = ("cmu-lifting", "h36m-lifting", "humaneva")


def _eval_lifting(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError
    from skeletal.evaluation.lifting import cmu_lifting_protocol, h36m_lifting_protocol

    if not args.data:
        raise ConfigError(f"eval --protocol {args.protocol}: --data must name the CMU folder or data_3d_h36m.npz")
    model = _load_for_inference(args)
    if args.protocol == "cmu-lifting":
        table = cmu_lifting_protocol(model, args.data, flip=True)
    elif args.protocol == "humaneva":
        from skeletal.evaluation.tables import humaneva_lifting_tables

        if not args.data_2d:
            raise ConfigError("eval --protocol humaneva: --data-2d must name a data_2d_humaneva15_*.npz")
        print(humaneva_lifting_tables({_model_label(args.checkpoint): model}, args.data, args.data_2d))
        return
    else:
        if not args.data_2d:
            raise ConfigError("eval --protocol h36m-lifting: --data-2d must name a data_2d_h36m_*.npz")
        table = h36m_lifting_protocol(model, args.data, args.data_2d, flip=True)
    print(table)


def _check_layout_flag(flag: str, value: str | None) -> None:
    """A ``--layout`` value that names no layout (nor a layout file) is an error naming the flag."""
    from skeletal import skeletons
    from skeletal.errors import ConfigError

    if value:
        try:
            skeletons.get(value)
        except ConfigError as error:
            raise ConfigError(f"{flag}: {error}") from None


def _cmd_lift(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError
    from skeletal.inference.lifting import lift_file

    size = None
    if args.image_size:
        width, _, height = args.image_size.lower().partition("x")
        if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
            raise ConfigError(f"lift --image-size: expected WIDTHxHEIGHT in pixels (e.g. 1280x720), got "
                              f"{args.image_size!r}")  # fmt: skip
        size = (int(width), int(height))
    _check_layout_flag("lift --layout", args.layout)
    checkpoint = args.checkpoint or (None if args.model else _default_model("lift --causal" if args.causal else "lift"))
    lifted, written = lift_file(
        args.input, checkpoint=checkpoint, model_name=args.model, out_dir=args.out, causal=args.causal,
        flip=args.flip, animation=not args.no_animation, layout=args.layout, image_size=size, fps=args.fps,
        max_gap=args.max_gap, streaming=args.streaming, animation_format=args.animation,
    )  # fmt: skip
    meta = lifted.metadata
    print(f"lifted {lifted.poses.shape[0]} track(s) x {lifted.poses.shape[1]} frames to 3D ({meta['layout']}, metres, "
          f"root-relative, camera frame) with {meta['model']['name']}")  # fmt: skip
    print(f"image size {meta['image_size'][0]}x{meta['image_size'][1]} ({meta['image_size_source']}); "
          f"fps {meta['fps']:g} ({meta['fps_source']})")  # fmt: skip
    for track in meta["tracks"]:
        if track.get("skipped"):
            print(f"track {track['track']}: skipped ({track['skipped']})")
            continue
        note = f"track {track['track']}: frames {track['frames'][0]}-{track['frames'][1]}, "
        note += f"{track['interpolated_joints']} joint(s) interpolated"
        if track["unreliable_frames"]:
            note += f"; UNRELIABLE (gaps > {meta['max_gap']} frames) in frames {track['unreliable_frames']}: "
            note += ", ".join(f"{name} x{count}" for name, count in track["unreliable_joints"].items())
        print(note)
    if meta["streaming_latency_ms_per_frame"] is not None:
        print(f"streaming latency: {meta['streaming_latency_ms_per_frame']:.2f} ms per frame")
    for path in written:
        print(f"wrote {path}")


def _eval_protocol(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError
    from skeletal.evaluation.prediction import h36m_protocol

    if not args.data:
        raise ConfigError(f"eval --protocol {args.protocol}: --data must name the dataset folder")
    model = _load_for_inference(args)
    if args.protocol in ("cmu", "h36m"):  # with the published rows beside ours
        from skeletal.evaluation.tables import cmu_prediction_tables, h36m_prediction_tables

        tables = cmu_prediction_tables if args.protocol == "cmu" else h36m_prediction_tables
        print(tables({_model_label(args.checkpoint): model}, args.data, batch_size=args.batch_size))
        return
    print(h36m_protocol(model, args.data, samples=256, batch_size=args.batch_size))


def _load_for_inference(args: argparse.Namespace) -> Any:
    """The model file of ``args.checkpoint`` in ``--precision`` (bf16 refused where the CPU lacks it)."""
    from skeletal.inference.precision import load

    return load(args.checkpoint, precision=args.precision)


def _model_label(checkpoint_path: str) -> str:
    from pathlib import Path

    if checkpoint_path.startswith("pretrained:"):
        return checkpoint_path
    path = Path(checkpoint_path)
    return path.parent.name if path.stem == "model" else path.stem


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
    _print_metrics(report.metrics(), f"evaluation of {title}")
    table = Table(title="per-class top-1 accuracy")
    for column in ("class", "name", "samples", "accuracy"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for index, (name, count, accuracy) in enumerate(zip(report.class_names, report.counts, report.per_class)):
        table.add_row(str(index), name, str(int(count)), "" if count == 0 else f"{accuracy:.4f}")
    Console().print(table)
    for kind, path in report.files.items():
        print(f"{kind.replace('_', '-')}: {path}")


def _default_model(command: str) -> str:
    """``pretrained:NAME`` of the shipped model that ``command`` uses when no model is given; says which."""
    from skeletal import pretrained

    entry = pretrained.default(command)
    data = "the embedded synthetic data" if entry.training.startswith("SYNTHETIC") else "CMU motion capture"
    print(f"no model given: using pretrained:{entry.name} ({entry.model} on {entry.layout}, trained on {data}; "
          "skeletal models --pretrained)")  # fmt: skip
    return f"{pretrained.PREFIX}{entry.name}"


def _cmd_predict(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError
    from skeletal.tasks import predict

    if args.input is None:  # `skeletal predict INPUT`: the only positional is the input
        args.checkpoint, args.input = None, args.checkpoint
    if args.checkpoint is None:
        if args.seconds is None:
            raise ConfigError(f"predict: give a model file before INPUT {args.input} (or --seconds S to forecast "
                              "with the shipped motion model)")  # fmt: skip
        args.checkpoint = _default_model("predict")
    if args.seconds is not None:
        from skeletal.evaluation.forecast import forecast

        stem = args.checkpoint.removeprefix("pretrained:") if args.checkpoint.startswith("pretrained:") else None
        out = args.out or (f"{stem}_forecast" if stem else str(Path(args.checkpoint).with_suffix("")) + "_forecast")
        result = forecast(args.checkpoint, args.input, args.seconds, out, render_every=args.render_every)
        print(f"wrote {result.npz}" + (f" and {result.animation}" if result.animation else ""))
        return
    output = args.output or str(Path(args.input).with_suffix("")) + "_pred.npz"
    if args.ensemble or _is_recognition(args.checkpoint):
        from skeletal.evaluation.recognition import predict_recognition

        path = predict_recognition(args.checkpoint, args.input, output, args.ensemble, batch_size=args.batch_size)
    else:
        path = predict(args.checkpoint, args.input, output, batch_size=args.batch_size)
    print(f"wrote {path}")


def _cmd_prepare(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError

    if args.dataset == "ntu":
        from skeletal.data.ntu import prepare_ntu

        if not args.benchmark:
            raise ConfigError(
                "prepare ntu: --benchmark is required (ntu60-xsub, ntu60-xview, ntu120-xsub, ntu120-xset)"
            )
        summary = prepare_ntu(args.source, args.output, args.benchmark, chunk=args.chunk)
    elif args.dataset == "keypoints":
        _prepare_keypoints(args)
        return
    elif args.dataset in _PREPARE_MORE:
        summary = _prepare_more(args)
    else:
        from skeletal.data.kinetics import prepare_kinetics

        if not args.labels:
            raise ConfigError("prepare kinetics: --labels (the Kinetics-skeleton label JSON) is required")
        summary = prepare_kinetics(args.source, args.labels, args.output, part=args.part, chunk=args.chunk)
    skipped = summary.get("skipped", [])
    print(f"prepared {args.dataset} into {args.output} ({len(skipped)} samples skipped, listed there)")


_PREPARE_MORE = ("h36m", "h36m-expmap", "amass", "humaneva", "cmu")


def _prepare_keypoints(args: argparse.Namespace) -> None:
    """``skeletal prepare keypoints DIR OUT --labels labels.csv`` (:func:`skeletal.data.prepare.prepare_keypoints`)."""
    from skeletal.data.prepare import prepare_keypoints
    from skeletal.errors import ConfigError

    if not args.labels:
        raise ConfigError("prepare keypoints: --labels is required (a CSV with the columns file,label[,split])")
    if args.layout and args.layout_file:
        raise ConfigError("prepare keypoints: give --layout or --layout-file, not both")
    _check_layout_flag("prepare keypoints --layout", args.layout)
    _check_layout_flag("prepare keypoints --layout-file", args.layout_file)
    classes = None
    if args.classes:
        classes = [line.strip() for line in Path(args.classes).read_text().splitlines() if line.strip()]
    summary = prepare_keypoints(
        args.source, args.output, args.labels, layout=args.layout or args.layout_file, frames=args.frames,
        persons=args.persons, val_fraction=0.2 if args.val_fraction is None else args.val_fraction, seed=args.seed,
        classes=classes, coordinates=args.coordinates,
    )  # fmt: skip
    counts = ", ".join(f"{count} {split}" for split, count in summary["splits"].items())
    layout = summary["layout"] + (f" ({args.output}/layout.yaml)" if "layout_file" in summary else "")
    print(f"prepared {sum(summary['splits'].values())} clips ({counts}) of {len(summary['classes'])} classes on "
          f"layout {layout} into {args.output}")  # fmt: skip
    print(f"train with data.train={args.output}/train data.val={args.output}/val; class names in "
          f"{args.output}/classes.txt")  # fmt: skip


def _prepare_more(args: argparse.Namespace) -> dict:
    """``skeletal prepare {h36m,h36m-expmap,amass,humaneva,cmu}`` (:mod:`skeletal.data.prepare`)."""
    from skeletal.data import prepare
    from skeletal.errors import ConfigError

    lifting = {"receptive_field": args.receptive_field, "chunk": args.window_chunk, "causal": args.causal}
    if args.dataset in ("h36m", "humaneva"):
        if not args.keypoints:
            raise ConfigError(f"prepare {args.dataset}: --keypoints (the VideoPose3D data_2d_*.npz file) is required")
        function = prepare.prepare_h36m_lifting if args.dataset == "h36m" else prepare.prepare_humaneva
        return function(args.source, args.keypoints, args.output, stride=args.stride, **lifting)
    if args.dataset == "h36m-expmap":
        return prepare.prepare_h36m_prediction(args.source, args.output, stride=args.stride or 10)
    if args.dataset == "amass":
        return prepare.prepare_amass(args.source, args.output, stride=args.stride)
    actions = args.actions.split(",") if args.actions else None
    options: dict[str, Any] = {"stride": args.stride or (lifting["chunk"] if args.task == "lifting" else 10)}
    if args.task == "prediction":
        options.update(window=args.window, val_fraction=0.1 if args.val_fraction is None else args.val_fraction)
    if args.task != "lifting":
        lifting.pop("causal")
    return prepare.prepare_cmu(args.source, args.output, args.task, actions, **options, **lifting)


def _cmd_demo(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError
    from skeletal.tasks.demo import print_table, run_demo

    if not args.scale > 0:
        raise ConfigError(f"demo --scale: expected a positive factor of the training steps, got {args.scale}")
    if args.threads < 0:
        raise ConfigError(f"demo --threads: expected a thread count or 0 (the idle cores), got {args.threads}")
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
    import time

    import torch

    from skeletal import bench, machine, models
    from skeletal.errors import ConfigError

    chosen = args.names or list(bench.PAPER_MODELS if args.paper else bench.QUICK_MODELS)
    names = models.names() if args.all else chosen
    unknown = [name for name in names if name not in models.names()]
    if unknown:
        from skeletal.config import did_you_mean

        hint = did_you_mean(unknown[0], models.names())
        raise ConfigError(f"bench: unknown model(s) {', '.join(unknown)}{hint} (see `skeletal models`)")
    if args.threads < 0 or args.repeats < 1 or args.warmup < 0:
        raise ConfigError("bench: --threads >= 0 (0: the idle cores), --repeats >= 1 and --warmup >= 0")
    torch.set_num_threads(args.threads or machine.auto_threads())
    machine_line = bench.machine_description()
    print(f"machine: {machine_line}", file=sys.stderr)
    warning = machine.load_warning(torch.get_num_threads())
    if warning:
        print(warning, file=sys.stderr)
    print(f"{len(names)} model(s), median of {args.repeats} runs after {args.warmup} warm-up each", file=sys.stderr)
    started = {"model": time.perf_counter()}

    def stage(name: str, what: str) -> None:
        if what.startswith("forward"):
            started["model"] = time.perf_counter()
            print(f"[{names.index(name) + 1}/{len(names)}] {name}:", file=sys.stderr, flush=True)
        print(f"  {what}", file=sys.stderr, flush=True)

    def done(row: bench.BenchRow) -> None:
        seconds = time.perf_counter() - started["model"]
        print(f"  {row.name} done in {seconds:.0f} s", file=sys.stderr, flush=True)

    rows = bench.benchmark(
        names, tuple(args.batch), args.repeats, args.warmup, not args.no_onnx, not args.no_memory, progress=done,
        stage=stage,
    )  # fmt: skip
    table = bench.format_table(rows)
    print(table)
    if args.markdown:
        note = f"Batches {args.batch[0]} and N = {args.batch[-1]}; median of {args.repeats} runs after "
        note += f"{args.warmup} warm-up."
        if warning:
            note += f" {warning.removeprefix('warning: ').capitalize()}."
        text = f"# skeletal benchmark\n\nMachine: {machine_line}.\n{note}\n\n{table}\n"
        path = Path(args.markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}", file=sys.stderr)


def _cmd_viz_attention(args: argparse.Namespace) -> None:
    from skeletal import models
    from skeletal.errors import ConfigError
    from skeletal.evaluation.recognition import draw_attention, load_recognition_input, load_recognition_model

    if args.input is None:  # `skeletal viz attention INPUT`: the only positional is the input
        args.model, args.input = _default_model("viz attention"), args.model
    if args.model.startswith("pretrained:") or Path(args.model).suffix == ".safetensors" or Path(args.model).is_file():
        model, info = load_recognition_model(args.model)
        skeleton = args.skeleton or info.skeleton or info.model_kwargs.get("skeleton")
        x = load_recognition_input(args.input, sample=args.sample, layout=skeleton)
    else:  # a registered name: untrained weights (shows the mechanics, not learned attention)
        x = load_recognition_input(args.input, sample=args.sample, layout=args.skeleton)
        skeleton = args.skeleton or "ntu25"
        model = models.create(args.model, skeleton=skeleton, num_persons=len(x), in_channels=x.shape[-1]).eval()
    if not isinstance(skeleton, str) or not skeleton:
        raise ConfigError("viz attention: the layout is unknown; pass --skeleton")
    files = draw_attention(
        model, x, skeleton, args.layer, args.frame, args.out, person=args.person, head=args.head,
        axes=tuple(args.axes), gif=not args.no_gif, max_frames=args.max_frames, fps=args.fps,
    )  # fmt: skip
    for path in files.values():
        print(f"wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from skeletal import __version__

    parser = argparse.ArgumentParser(prog="skeletal", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"skeletal {__version__}")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    models = commands.add_parser("models", help="list every registered model with its parameter count")
    models.add_argument("--task", choices=["recognition", "prediction", "lifting"], help="only this task")
    models.add_argument("--pretrained", action="store_true", help="the trained weights shipped with skeletal")
    models.set_defaults(handler=_cmd_models)

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

    predict = commands.add_parser(
        "predict", help="labels / future motion / 3D poses of an input file, written to an .npz"
    )
    predict.add_argument("checkpoint", help="model file (.safetensors or pretrained:NAME); optional with --seconds "
                         "(default: the shipped motion model)")  # fmt: skip
    predict.add_argument("input", nargs="?", help=".npy array or .npz with key x (task input layout, batch axis "
                         "optional), or the seed of --seconds")  # fmt: skip
    predict.add_argument("-o", "--output", help="output .npz (default: INPUT_pred.npz)")
    predict.add_argument("--batch-size", type=int, default=64)
    predict.add_argument(
        "--seconds",
        type=float,
        help="prediction: generate this many seconds after INPUT, a seed (.npz with rotations, .bvh, or "
        "cmu:SPLIT/ACTION/FILE.txt), and write prediction.npz and an animation to --out",
    )
    predict.add_argument("--out", help="output folder of --seconds (default: CHECKPOINT_forecast)")
    predict.add_argument("--render-every", type=int, help="animate every k-th frame (default: at most 300 frames)")
    predict.add_argument("--ensemble", metavar="MODEL_FILE", help="recognition: second stream, softmax scores summed")
    predict.set_defaults(handler=_cmd_predict)

    prepare = commands.add_parser(
        "prepare",
        help="convert a raw dataset into memory-mappable arrays",
        description="ntu: folder of .skeleton files (--benchmark). kinetics: folder of JSON files (--labels, --part). "
        "h36m: data_3d_h36m.npz (--keypoints data_2d_h36m_*.npz) -> lifting windows, train S1,5,6,7,8 / test "
        "S9,11. h36m-expmap: folder S1..S11 of exp-map .txt -> prediction windows (train) and SRNN windows (test). "
        "amass: folder of AMASS .npz takes -> 60 fps amass15 rotation windows of 120+24 frames (train/val/test by "
        "sub-dataset). humaneva: data_3d_humaneva15.npz (--keypoints) -> lifting windows. cmu: the cmu-mocap-expmap "
        "folder (--task prediction|lifting|recognition). keypoints: one's own folder of labelled clips (COCO/OpenPose "
        "JSON, .npy/.npz, .bvh, videos with the [video] extra; --labels file,label[,split] CSV, --layout) -> "
        "recognition samples (N, M, T, V, 3) and classes.txt. Output: SPLIT/x.npy (+ y.npy), meta.json, "
        "fingerprint.json, skipped.json; train with data.train=OUTPUT/train.",
    )
    prepare.add_argument("dataset", choices=["ntu", "kinetics", "keypoints", *_PREPARE_MORE])
    prepare.add_argument(
        "source",
        help="folder of raw files (.skeleton / Kinetics JSON / exp-map S*/ / AMASS / CMU benchmark / own clips) or the "
        "3D .npz",
    )
    prepare.add_argument("output", help="output folder")
    prepare.add_argument("--benchmark", help="NTU: ntu60-xsub, ntu60-xview, ntu120-xsub or ntu120-xset")
    prepare.add_argument("--labels", help="keypoints: the CSV file,label[,split]; Kinetics: the label JSON of the part")
    prepare.add_argument("--part", default="train", help="Kinetics: train or val (default train)")
    prepare.add_argument("--chunk", type=int, default=256, help="samples held in memory at once")
    prepare.add_argument("--keypoints", help="h36m, humaneva: the VideoPose3D 2D keypoint .npz")
    prepare.add_argument("--task", default="prediction", choices=["prediction", "lifting", "recognition"],
                         help="cmu: which task's arrays (default prediction)")  # fmt: skip
    prepare.add_argument("--actions", help="cmu: comma-separated actions (default all)")
    prepare.add_argument("--stride", type=int, help="frames between windows (default: lifting 1 target frame apart, "
                         "h36m-expmap and cmu prediction 10, amass the window length)")  # fmt: skip
    prepare.add_argument("--window", type=int, help="cmu prediction: frames per training window (default 75)")
    prepare.add_argument("--val-fraction", type=float,
                         help="cmu prediction: tail of each training take for validation (default 0.1); keypoints "
                         "without a split column: fraction of each class (default 0.2)")  # fmt: skip
    prepare.add_argument("--layout", help="keypoints: layout name (coco17, h36m17...) or a layout file .yaml/.json "
                         "(default: from the files; 17-joint arrays need it)")  # fmt: skip
    prepare.add_argument("--layout-file", help="keypoints: a custom layout .yaml/.json (joints, parents, left, right, "
                         "center)")  # fmt: skip
    prepare.add_argument("--frames", type=int, default=64, help="keypoints: frames per sample (default 64)")
    prepare.add_argument("--persons", type=int, default=1, help="keypoints: people per sample (default 1)")
    prepare.add_argument("--seed", type=int, default=0, help="keypoints: seed of the train/val split")
    prepare.add_argument("--classes", help="keypoints: text file of the class names in label order (default: the "
                         "CSV's labels, sorted)")  # fmt: skip
    prepare.add_argument("--coordinates", choices=["2d", "3d"], default="2d",
                         help="keypoints: 2D keypoints (x, y, score) or 3D joints in .npy/.npz (BVH: 3D)")  # fmt: skip
    prepare.add_argument("--receptive-field", type=int, default=27, help="h36m, humaneva, cmu lifting: input frames")
    prepare.add_argument("--window-chunk", type=int, default=1, help="h36m, humaneva, cmu lifting: targets per window")
    prepare.add_argument("--causal", action="store_true",
                         help="h36m, humaneva, cmu lifting: windows for a causal lifter")  # fmt: skip
    prepare.set_defaults(handler=_cmd_prepare)

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

    lift = commands.add_parser(
        "lift",
        help="lift 2D keypoints (or a video, with the [video] extra) to 3D poses: .npz + GIF",
        description="Lift a 2D keypoint file (COCO-17 JSON like baseball.json, an OpenPose JSON folder, .npy/.npz) or "
        "a video (the [video] extra, README) to root-relative 3D joints in metres, camera frame, h36m17 layout; "
        "missing joints are interpolated over short gaps and longer gaps reported. Writes INPUT_3d.npz (with its "
        "metadata) and INPUT_3d.gif, or for a video INPUT_3d.mp4 (the frames with the 2D keypoints beside the 3D "
        "result).",
    )
    lift.add_argument("input", help="keypoint file or folder, or a video file (.mp4...)")
    weights = lift.add_mutually_exclusive_group()
    weights.add_argument("--checkpoint", help="lifting model file (.safetensors or pretrained:NAME; default: the "
                         "shipped CMU-trained GAST-Net, its causal version with --causal)")  # fmt: skip
    weights.add_argument("--model", help="registered lifter, RANDOM weights (meaningless output; default gast-net-27)")
    lift.add_argument("--out", default="lifted", help="output folder (default ./lifted)")
    lift.add_argument("--causal", action="store_true", help="causal model (each pose from past frames only)")
    lift.add_argument("--streaming", action="store_true",
                      help="causal: run frame by frame as on live input and report the latency (default: layer by "
                      "layer, same poses, much faster)")  # fmt: skip
    animation_help = "animation format (default: mp4 for a video, when OpenCV or ffmpeg is present; else gif)"
    lift.add_argument("--animation", choices=["gif", "mp4"], help=animation_help)
    lift.add_argument("--flip", action="store_true", help="average with the prediction of the mirrored input")
    lift.add_argument("--image-size", help="WIDTHxHEIGHT in pixels (default: the file's, else estimated)")
    lift.add_argument("--fps", type=float, help="frames per second (default: the file's, else 30)")
    lift.add_argument("--max-gap", type=int, default=10, help="longest gap of a missing joint interpolated (frames)")
    lift.add_argument("--layout", help="layout of the keypoints when the file cannot tell (e.g. coco17)")
    lift.add_argument("--no-animation", action="store_true", help="only the .npz")
    lift.set_defaults(handler=_cmd_lift)

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

    bench_parser = commands.add_parser(
        "bench",
        help="benchmark models: parameters, FLOPs, speed, memory (torch and onnxruntime)",
        description="Measure models at their papers' input shapes on this CPU (median of --repeats runs after "
        "--warmup runs) and print a Markdown table, with a progress line per measurement on stderr. Default: one "
        "paper model per task (s-tr, st-transformer-h36m, gast-net-27; a few minutes on 2 cores).",
    )
    bench_parser.add_argument("names", nargs="*", help="registered model names (default: s-tr, st-transformer-h36m, "
                              "gast-net-27)")  # fmt: skip
    bench_parser.add_argument("--paper", action="store_true", help="every model of the papers' tables (11; long)")
    bench_parser.add_argument("--all", action="store_true", help="every registered model (very long)")
    bench_parser.add_argument("--batch", type=int, nargs=2, default=[1, 8], metavar=("SMALL", "LARGE"))
    bench_parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (median; default 3)")
    bench_parser.add_argument("--warmup", type=int, default=1, help="untimed runs before them (default 1)")
    bench_parser.add_argument("--threads", type=int, default=0, help="torch threads (default 0: the cores other "
                              "jobs leave idle; two threads on a busy core are many times slower)")  # fmt: skip
    bench_parser.add_argument("--no-onnx", action="store_true", help="skip onnxruntime")
    bench_parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    bench_parser.add_argument("--markdown", metavar="PATH", help="also write the table (with the machine) here")
    bench_parser.set_defaults(handler=_cmd_bench)

    viz = commands.add_parser("viz", help="draw what a model looks at")
    figures = viz.add_subparsers(dest="figure", metavar="FIGURE", required=True)
    attention = figures.add_parser(
        "attention",
        help="spatial attention of a layer and frame: V x V heatmap + joint relevance on the skeleton (PNG, GIF)",
        description="Draw, as the ST-TR journal's appendix C, the V x V spatial self-attention of one layer and frame "
        "(mean over heads) as a heatmap and each joint's relevance (column sum) as circle sizes on the skeleton, as a "
        "PNG and as a GIF over the frames of that layer.",
    )
    attention.add_argument("model", help="model file (.safetensors, pretrained:NAME) or a registered model name "
                           "(untrained weights); optional: default the shipped pretrained:s-tr-synthetic")  # fmt: skip
    attention.add_argument(
        "input",
        nargs="?",
        help=".npy/.npz joints (T, V, C), (M, T, V, C) or (N, M, T, V, C) (a prepared split), NTU "
        ".skeleton, or 'synthetic' (a sample of the embedded synthetic data)",
    )
    attention.add_argument("--layer", type=int, default=-1, help="spatial attention layer (default -1, the last)")
    attention.add_argument("--frame", type=int, default=0, help="frame of that layer (strided layers have fewer)")
    attention.add_argument("--out", default="attention", help="output folder (default ./attention)")
    attention.add_argument("--sample", type=int, default=0, help="row of an (N, M, T, V, C) input")
    attention.add_argument("--person", type=int, default=0, help="person drawn")
    attention.add_argument("--head", type=int, help="one head (default: mean over heads)")
    attention.add_argument("--axes", type=int, nargs=2, default=[0, 1], help="pose coordinates drawn (default 0 1)")
    attention.add_argument("--skeleton", help="layout of the input (default: the model file's)")
    attention.add_argument("--max-frames", type=int, default=64, help="frames in the GIF (default 64)")
    attention.add_argument("--fps", type=int, default=10, help="GIF frames per second")
    attention.add_argument("--no-gif", action="store_true", help="only the PNG")
    attention.set_defaults(handler=_cmd_viz_attention)
    for sub in [*commands.choices.values(), *figures.choices.values()]:  # `skeletal demo --verbose` works too
        sub.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    _add_allow_pickle(parser)
    return parser


VERBOSE_HELP = "keep Lightning's banners and tips and third-party warnings and logs (default: hidden)"


def quiet_third_party(verbose: bool) -> None:
    """Default: silence the informational output of the libraries below (Lightning's banners through
    :func:`skeletal.tasks.engine.quiet_lightning`, MediaPipe's glog/absl lines, Python warnings raised inside
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


if __name__ == "__main__":
    sys.exit(main())
