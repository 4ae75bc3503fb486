"""Speed and size of the registered models at their papers' input shapes (``skeletal bench``).

For every model, :func:`benchmark` measures, on the CPU of this machine:

- ``params``: trainable parameters; ``gflops``: forward GFLOPs per sample counted by
  :class:`torch.utils.flop_counter.FlopCounterMode` (2 FLOPs per multiply-add of matmuls, convolutions and
  attention; element-wise operations are not counted);
- ``forward_ms``: eval-mode forward time at batch 1; ``train_ms``: one training step (forward, backward on the
  mean square of the output, SGD step) at the large batch, in training mode (dropout, DropAttention on);
- ``peak_mb``: peak resident memory added by one training step at the large batch, measured in a fresh
  subprocess as its peak resident set (``VmHWM``) minus the resident set size just before the step (``memory=True``);
- ``torch_b1``, ``torch_bN``, ``onnx_b1``, ``onnx_bN``: inference throughput in samples per second at batch 1
  and the large batch, in PyTorch (``torch.inference_mode``) and through onnxruntime on the exported graph;
- for lifting models, ``seq_fps``: frames per second of the layer-by-layer model on one long sequence.

Each time is the median of ``repeats`` runs after ``warmup`` runs. Input shapes (:func:`paper_shape`): NTU RGB+D
for recognition (2 persons x 300 frames x 25 joints x 3), the training window for prediction (120 frames on
AMASS, 75 on Human3.6M), the receptive field for lifting (single-frame training mode, one output frame).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from skeletal.inference.export import evaluation, example_input, export_onnx, onnx_session
from skeletal.models import count_parameters, create, info

if TYPE_CHECKING:
    from skeletal.models.lifting.temporal import TemporalLifter

LONG_SEQUENCE = 2048  # output frames of the layer-by-layer lifting measurement
PAPER_MODELS: tuple[str, ...] = (
    "st-tr", "s-tr", "t-tr", "st-gcn", "agcn",
    "st-transformer-amass", "st-transformer-h36m",
    "gast-net-27", "gast-net-243", "videopose3d-27", "videopose3d-243",
)  # fmt: skip
"""The models of the papers' tables: ``skeletal bench --paper`` and ``benchmarks/run_all.py``."""
QUICK_MODELS: tuple[str, ...] = ("s-tr", "st-transformer-h36m", "gast-net-27")
"""One paper model per task: the default of ``skeletal bench`` (a few minutes on 2 cores)."""


@dataclass
class BenchRow:
    """One model's figures (see the module docstring for the definitions; ``None`` where not measured)."""

    name: str
    task: str
    input: str
    params: int
    gflops: float
    forward_ms: float
    train_ms: float
    peak_mb: float | None
    torch_b1: float
    torch_bN: float  # noqa: N815
    onnx_b1: float | None
    onnx_bN: float | None  # noqa: N815
    seq_fps: float | None = None
    batch: int = 8
    extra: dict[str, Any] = field(default_factory=dict)


def paper_shape(name: str) -> tuple[dict[str, Any], int]:
    """Builder overrides and frames of a model's paper input.

    Returns:
        ``(kwargs, frames)``: recognition 300 frames (NTU); prediction the preset's window (120 AMASS, 75 H3.6M);
        lifting ``strided=True`` and the receptive field.
    """
    task = info(name).task
    if task == "lifting":
        model = create(name)
        return {"strided": True}, int(model.receptive_field)  # type: ignore[arg-type]
    if task == "prediction":
        return {}, int(create(name).window)  # type: ignore[arg-type]
    return {}, 300


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def flops_per_sample(model: nn.Module, x: torch.Tensor) -> float:
    """Forward FLOPs per sample counted by ``FlopCounterMode`` (eval mode)."""
    counter = FlopCounterMode(display=False)
    with evaluation(model), torch.no_grad(), counter:
        model(x)
    return counter.get_total_flops() / x.shape[0]


def training_step(model: nn.Module, x: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
    """Forward, backward of the mean square of the output, optimiser step (a task-independent loss)."""
    optimizer.zero_grad(set_to_none=True)
    output = model(x)
    loss = output.float().pow(2).mean()
    if loss.requires_grad:
        loss.backward()
        optimizer.step()


def peak_training_memory(name: str, kwargs: dict[str, Any], frames: int, batch: int) -> float:
    """Peak resident memory (MiB) added by one training step, measured in a fresh Python process.

    The child builds the model and input, records its resident set size, runs one training step and reports
    its peak resident set (``VmHWM``) minus that baseline; memory freed and reused within the process is not
    double counted.
    """
    spec = json.dumps({"name": name, "kwargs": kwargs, "frames": frames, "batch": batch})
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    result = subprocess.run(
        [sys.executable, "-m", "skeletal.bench", "--memory-child", spec],
        capture_output=True, text=True, check=True, env=env, timeout=1800,
    )  # fmt: skip
    return float(result.stdout.strip().splitlines()[-1])


def _resident_kib(field: str = "VmRSS") -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident of this process image) in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise OSError(f"{field} not found in /proc/self/status")


def _memory_child(spec: str) -> None:
    options = json.loads(spec)
    model = create(options["name"], **options["kwargs"]).train()
    x = example_input(model, batch=options["batch"], frames=options["frames"])
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    before = _resident_kib()
    training_step(model, x, optimizer)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec, so a child of a large
    # process would report the parent's peak.
    peak = _resident_kib("VmHWM")
    print((peak - before) / 1024)


def bench_model(
    name: str,
    batch_sizes: Sequence[int] = (1, 8),
    repeats: int = 5,
    warmup: int = 2,
    onnx: bool = True,
    memory: bool = True,
    overrides: dict[str, Any] | None = None,
    frames: int | None = None,
    stage: Callable[[str], None] | None = None,
) -> BenchRow:
    """Measure one model (see the module docstring).

    Args:
        name: Registry name.
        batch_sizes: ``(small, large)``; throughput at both, training step at the large one.
        repeats: Timed runs per figure (the median is kept).
        warmup: Untimed runs before them.
        onnx: Also export and time onnxruntime.
        memory: Measure the peak training memory in a subprocess.
        overrides: Builder keyword arguments replacing the paper configuration (e.g. a smaller model in tests).
        frames: Input frames replacing the paper's.
        stage: Called with the name of each measurement as it starts (progress of a long run).
    """
    say = stage or (lambda _: None)
    kwargs, paper_frames = paper_shape(name)
    kwargs.update(overrides or {})
    frames = paper_frames if frames is None else frames
    small, large = batch_sizes[0], batch_sizes[-1]
    torch.manual_seed(0)
    model = create(name, **kwargs)
    task = info(name).task
    x_small = example_input(model, batch=small, frames=frames)
    x_large = example_input(model, batch=large, frames=frames)

    def infer(x: torch.Tensor) -> Callable[[], object]:
        def run() -> object:
            with torch.inference_mode():
                return model(x)

        return run

    say(f"forward at batches {small} and {large}")
    with evaluation(model):
        forward_small = median_time(infer(x_small), repeats, warmup)
        forward_large = median_time(infer(x_large), repeats, warmup)
    gflops = flops_per_sample(model, x_small) / 1e9
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    say(f"training step at batch {large}")
    train = median_time(lambda: training_step(model, x_large, optimizer), repeats, warmup)
    if memory:
        say("peak training memory (subprocess)")
    peak = peak_training_memory(name, kwargs, frames, large) if memory else None
    onnx_small = onnx_large = None
    if onnx:
        say("onnxruntime export and throughput")
        with tempfile.TemporaryDirectory() as folder:
            path = export_onnx(model, Path(folder) / "model.onnx", x_small, dynamic_time=False)
            session = onnx_session(path, threads=torch.get_num_threads())
            runs = [lambda x=x: session.run(None, {"x": x.numpy()}) for x in (x_small, x_large)]
            onnx_small = small / median_time(runs[0], repeats, warmup)
            onnx_large = large / median_time(runs[1], repeats, warmup)
    row = BenchRow(
        name, task, "x".join(str(s) for s in x_small.shape[1:]), count_parameters(model), gflops,
        forward_small * 1e3, train * 1e3, peak, small / forward_small, large / forward_large, onnx_small,
        onnx_large, batch=large,
    )  # fmt: skip
    if task == "lifting":
        say(f"layer-by-layer throughput on {LONG_SEQUENCE} frames")
        row.seq_fps = sequence_throughput(model, repeats, warmup)
    return row


def sequence_throughput(model: nn.Module, repeats: int = 3, warmup: int = 1, frames: int = LONG_SEQUENCE) -> float:
    """Output frames per second of a lifter in layer-by-layer mode on one sequence of ``frames + RF - 1``."""
    lifter = cast("TemporalLifter", model)
    strided = lifter.strided
    lifter.strided = False
    try:
        x = example_input(lifter, batch=1, frames=frames + lifter.receptive_field - 1)
        with evaluation(lifter):
            seconds = median_time(lambda: _no_grad(lifter, x), repeats, warmup)
    finally:
        lifter.strided = strided
    return frames / seconds


def _no_grad(model: nn.Module, x: torch.Tensor) -> object:
    with torch.inference_mode():
        return model(x)


def benchmark(
    names: Iterable[str],
    batch_sizes: Sequence[int] = (1, 8),
    repeats: int = 5,
    warmup: int = 2,
    onnx: bool = True,
    memory: bool = True,
    progress: Callable[[BenchRow], None] | None = None,
    stage: Callable[[str, str], None] | None = None,
    **options: Any,
) -> list[BenchRow]:
    """:func:`bench_model` for each name, in order; ``progress`` is called with each finished row, ``stage`` with
    the model's name and each measurement as it starts."""
    rows = []
    for name in names:
        announce = None if stage is None else (lambda what, name=name: stage(name, what))
        row = bench_model(name, batch_sizes, repeats, warmup, onnx, memory, stage=announce, **options)
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows


COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "model"),
    ("input", "input (per sample)"),
    ("params", "params (M)"),
    ("gflops", "GFLOPs/sample"),
    ("forward_ms", "forward b1 (ms)"),
    ("train_ms", "train step bN (ms)"),
    ("peak_mb", "train peak bN (MiB)"),
    ("torch_b1", "torch b1 (samples/s)"),
    ("torch_bN", "torch bN (samples/s)"),
    ("onnx_b1", "onnxruntime b1 (samples/s)"),
    ("onnx_bN", "onnxruntime bN (samples/s)"),
    ("seq_fps", "layer-by-layer (frames/s)"),
)


def _format(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "params":
        return f"{value / 1e6:.2f}"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 100 else f"{value:,.0f}"
    return str(value)


def format_table(rows: Sequence[BenchRow]) -> str:
    """The rows as a Markdown table (``bN`` = each row's large batch, given in the last column)."""
    header = [title for _, title in COLUMNS] + ["N"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        values = asdict(row)
        cells = [_format(key, values[key]) for key, _ in COLUMNS] + [str(row.batch)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_description() -> str:
    """CPU model (``/proc/cpuinfo``), cores visible and used, torch and onnxruntime versions, date."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import onnxruntime

        runtime = onnxruntime.__version__
    except ImportError:
        runtime = "absent"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{date.today().isoformat()}, {cpu}, {cores} cores visible, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, onnxruntime {runtime}, Python {platform.python_version()}"
    )


def row_fields() -> list[str]:
    """Names of the :class:`BenchRow` fields."""
    return [f.name for f in fields(BenchRow)]


if __name__ == "__main__":  # the memory probe's child process
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-child":
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        _memory_child(sys.argv[2])
    else:
        raise SystemExit("usage: python -m skeletal.bench --memory-child SPEC (internal); use `skeletal bench`")
