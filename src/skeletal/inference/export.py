"""Export of every registered model to ONNX and TorchScript, a check of the exported files, and ``torch.compile``.

Inputs follow the task conventions (DESIGN.md): recognition ``(N, M, T, V, C)`` -> logits ``(N, K)``; prediction
``(N, T, V, F)`` -> ``(N, T, V, F)``; lifting ``(N, T, V, 2)`` -> ``(N, T - RF + 1, V, 3)``. What an input looks
like is read from the model itself (``skeleton``, ``in_channels``/``num_persons``, ``joint_features``/``window``,
``in_features``/``receptive_field``), so :func:`example_input` works for any registered model.

ONNX goes through ``torch.onnx.export``. The TorchScript-based exporter (``exporter="torchscript"``, the default)
exports every registered model; the ``torch.export``-based one (``exporter="dynamo"``, needs ``onnxscript``)
stops at the models' input validation (``check_finite`` branches on the data, which ``torch.export`` cannot
trace), so ``exporter="auto"`` tries it first and falls back. TorchScript is ``torch.jit.trace``.

Dynamic axes: the batch is always dynamic. The sequence length is dynamic where the traced graph does not bake it
in (:func:`supports_dynamic_time`): lifting models in layer-by-layer mode, prediction models up to the length of
their positional table (their ``window``), recognition models whose temporal attention is neither windowed nor
given relative encodings. :func:`verify_export` runs the files on a batch and (if dynamic) a length other than
the ones they were traced with.

The causal streaming form of a lifter (:func:`streaming_model`) is the same weights in single-frame (strided)
causal mode: a window of ``RF`` frames in, the pose of its last frame out, which is one step of
:class:`~skeletal.inference.streaming.StreamingLifter`.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import torch
from torch import nn

from skeletal.atomic import atomic_path
from skeletal.errors import ConfigError
from skeletal.models import create, info
from skeletal.skeletons import Skeleton

if TYPE_CHECKING:
    from skeletal.models.lifting.temporal import TemporalLifter
    from skeletal.models.prediction.common import MotionPredictor
    from skeletal.models.recognition.network import SpatialTemporalNet

EXPORTERS = ("torchscript", "dynamo", "auto")


def model_task(model: nn.Module) -> str:
    """Task of a model object, from the registry's conventions: ``recognition``, ``prediction`` or ``lifting``."""
    from skeletal.models.lifting.temporal import TemporalLifter
    from skeletal.models.prediction.common import MotionPredictor

    if isinstance(model, TemporalLifter):
        return "lifting"
    if isinstance(model, MotionPredictor):
        return "prediction"
    if hasattr(model, "num_persons") or hasattr(getattr(model, "spatial", None), "num_persons"):
        return "recognition"
    raise ConfigError(
        f"cannot tell the task of {type(model).__name__}: expected a recognition model (num_persons), a "
        "MotionPredictor or a TemporalLifter"
    )


def _recognition_stream(model: nn.Module) -> nn.Module:
    """The module holding ``num_persons``/``in_channels``: the model, or the first stream of a two-stream model."""
    return model if hasattr(model, "num_persons") else model.spatial  # type: ignore[return-value]


def model_skeleton(model: nn.Module) -> Skeleton:
    """The model's joint layout (``model.skeleton``, or its first stream's)."""
    layout = getattr(model, "skeleton", None)
    if layout is None and model_task(model) == "recognition":
        layout = _recognition_stream(model).skeleton
    if not isinstance(layout, Skeleton):
        raise ConfigError(f"{type(model).__name__} has no `skeleton` attribute")
    return layout


def default_frames(model: nn.Module) -> int:
    """Sequence length of the papers' inputs: 300 (NTU), the window (prediction), the receptive field (lifting)."""
    task = model_task(model)
    if task == "recognition":
        return 300
    if task == "prediction":
        return int(model.window)  # type: ignore[arg-type]
    return int(model.receptive_field)  # type: ignore[arg-type]


def example_input(
    model: nn.Module | str, batch: int = 1, frames: int | None = None, seed: int | None = 0
) -> torch.Tensor:
    """A random, correctly shaped input for a model.

    Args:
        model: A model object, or a registry name (built with its defaults).
        batch: ``N``.
        frames: ``T``; by default :func:`default_frames` (a lifter in strided mode always takes ``RF``).
        seed: Seed of the values (``None``: the global generator).

    Returns:
        ``(N, M, T, V, C)`` for recognition, ``(N, T, V, F)`` for prediction, ``(N, T, V, 2)`` for lifting
        (2D keypoints in ``[-1, 1]``), float32 on the model's device.
    """
    module = create(model) if isinstance(model, str) else model
    task, layout = model_task(module), model_skeleton(module)
    length = default_frames(module) if frames is None else frames
    if task == "recognition":
        stream = cast("SpatialTemporalNet", _recognition_stream(module))
        shape: tuple[int, ...] = (batch, stream.num_persons, length, layout.num_joints, stream.in_channels)
    elif task == "prediction":
        shape = (batch, length, layout.num_joints, cast("MotionPredictor", module).joint_features)
    else:
        lifter = cast("TemporalLifter", module)
        if lifter.strided:
            length = lifter.receptive_field
        shape = (batch, length, layout.num_joints, lifter.in_features)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    x = torch.rand(shape, generator=generator) * 2 - 1
    parameter = next(module.parameters(), None)
    return x.to(parameter.device) if parameter is not None else x


def supports_dynamic_time(model: nn.Module) -> bool:
    """Whether an exported graph of this model stays valid for other sequence lengths (see the module docstring)."""
    task = model_task(model)
    if task == "lifting":
        return not model.strided
    if task == "prediction":
        return True
    from skeletal.nn.self_attention import AxisSelfAttention

    for module in model.modules():
        frames = isinstance(module, AxisSelfAttention) and module.axis == "frames"
        windowed = getattr(module, "windows", None) is not None or getattr(module, "window_frames", None) is not None
        if frames and (windowed or module.relative is not None):
            return False
    return True


def streaming_model(model: nn.Module) -> nn.Module:
    """A copy of a causal lifter in single-frame mode: ``(N, RF, V, 2) -> (N, 1, V, 3)``, the last frame's pose.

    Raises:
        ConfigError: If the model is not a causal lifter.
    """
    if model_task(model) != "lifting" or not model.causal:
        raise ConfigError(f"the streaming form needs a causal lifter (causal=True), got {type(model).__name__}")
    step = cast("TemporalLifter", copy.deepcopy(model).eval())
    step.strided = True
    return step


class _TensorOutput(nn.Module):
    """Calls the model without attention maps so that the traced graph has one tensor output."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


@contextlib.contextmanager
def evaluation(model: nn.Module) -> Iterator[nn.Module]:
    """Put a model in eval mode for the block and restore its training flags afterwards."""
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes.items():
            module.training = training


def onnx_opset(exporter: str = "torchscript") -> int:
    """The installed onnx's opset, capped at the highest the chosen exporter of this torch can write."""
    import onnx
    from torch.onnx import _constants

    cap = _constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET if exporter == "torchscript" else _constants.ONNX_MAX_OPSET
    return min(onnx.defs.onnx_opset_version(), cap)


def _dynamic_axes(example: torch.Tensor, batch: bool, time: bool, time_axis: int) -> dict[int, str]:
    axes = {0: "batch"} if batch else {}
    if time:
        axes[time_axis] = "frames"
    return axes


def time_axis(model: nn.Module) -> int:
    """Index of ``T`` in the model's input: 2 for recognition ``(N, M, T, V, C)``, else 1."""
    return 2 if model_task(model) == "recognition" else 1


def export_onnx(
    model: nn.Module,
    path: str | Path,
    example: torch.Tensor | None = None,
    dynamic_batch: bool = True,
    dynamic_time: bool | None = None,
    opset: int | None = None,
    exporter: str = "torchscript",
) -> Path:
    """Write a model as ONNX.

    Args:
        model: Any registered model (exported in eval mode; its training flags are restored).
        path: Output ``.onnx`` file.
        example: Input to trace with; :func:`example_input` (batch 2) by default.
        dynamic_batch: Make ``N`` a dynamic axis.
        dynamic_time: Make ``T`` a dynamic axis; ``None`` chooses :func:`supports_dynamic_time`.
        opset: ONNX opset; by default :func:`onnx_opset`.
        exporter: ``"torchscript"`` (``torch.onnx.export(dynamo=False)``), ``"dynamo"`` or ``"auto"`` (dynamo,
            falling back to the TorchScript-based exporter when it fails).

    Returns:
        The path written. Input ``x`` and output ``y`` are named so.
    """
    if exporter not in EXPORTERS:
        raise ConfigError(f"exporter must be one of {EXPORTERS}, got {exporter!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = example_input(model, batch=2) if example is None else example
    dynamic_time = supports_dynamic_time(model) if dynamic_time is None else dynamic_time
    input_axes = _dynamic_axes(example, dynamic_batch, dynamic_time, time_axis(model))
    output_axes = {0: "batch"} if dynamic_batch else {}
    if dynamic_time and model_task(model) != "recognition":
        output_axes[1] = "frames_out"
    wrapped = _TensorOutput(model)
    with evaluation(model), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter in ("dynamo", "auto"):
            try:
                shapes = {axis: torch.export.Dim.AUTO for axis in input_axes}
                with atomic_path(path) as temporary:
                    torch.onnx.export(
                        wrapped, (example,), str(temporary), dynamo=True, opset_version=opset or onnx_opset("dynamo"),
                        input_names=["x"], output_names=["y"], dynamic_shapes=({"x": shapes},), verbose=False,
                    )  # fmt: skip
                return path
            except Exception:
                if exporter == "dynamo":
                    raise
        with atomic_path(path) as temporary:
            torch.onnx.export(
                wrapped, (example,), str(temporary), dynamo=False, opset_version=opset or onnx_opset("torchscript"),
                input_names=["x"], output_names=["y"], dynamic_axes={"x": input_axes, "y": output_axes},
            )  # fmt: skip
    return path


def export_torchscript(model: nn.Module, path: str | Path, example: torch.Tensor | None = None) -> Path:
    """Write a model as a traced TorchScript module (``torch.jit.trace`` in eval mode, then ``save``).

    Tracing records the tensor operations, so the module accepts other batch sizes; shape-dependent Python
    (windowed attention, relative encodings) is frozen at the traced length, as in :func:`export_onnx`.

    Returns:
        The path written; load with ``torch.jit.load``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = example_input(model, batch=2) if example is None else example
    with evaluation(model), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(_TensorOutput(model), (example,), check_trace=False)
        with atomic_path(path) as temporary:
            traced.save(str(temporary))
    return path


@dataclass(frozen=True)
class ExportCheck:
    """Result of :func:`verify_export`: max abs difference to PyTorch (``None`` where not checked).

    Attributes:
        input_shape: Shape of the random input used (batch and, if dynamic, length differ from the traced ones).
        onnx: Max abs difference of onnxruntime's output.
        torchscript: Max abs difference of the TorchScript module's output.
    """

    input_shape: tuple[int, ...]
    onnx: float | None = None
    torchscript: float | None = None

    def ok(self, tolerance: float = 1e-4) -> bool:
        """All checked differences below ``tolerance``."""
        return all(d is not None and d < tolerance for d in (self.onnx, self.torchscript) if d is not None)


def onnx_session(path: str | Path, threads: int | None = None):  # type: ignore[no-untyped-def]
    """An onnxruntime CPU session (``threads`` intra-op threads; default: onnxruntime's choice)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def verify_export(
    model: nn.Module,
    onnx_path: str | Path | None = None,
    torchscript_path: str | Path | None = None,
    x: torch.Tensor | None = None,
    batch: int = 3,
    frames: int | None = None,
) -> ExportCheck:
    """Compare exported files with the PyTorch model on random input.

    Args:
        model: The PyTorch model the files were exported from.
        onnx_path: ONNX file to run with onnxruntime, if any.
        torchscript_path: TorchScript file to run, if any.
        x: Input; by default :func:`example_input` with ``batch`` and ``frames`` and seed 1.
        batch: Batch of the default input (3, unlike the traced 2, to exercise the dynamic batch).
        frames: Length of the default input.

    Returns:
        The max abs differences.
    """
    x = example_input(model, batch=batch, frames=frames, seed=1) if x is None else x
    with evaluation(model), torch.no_grad():
        expected = model(x).cpu().numpy()
    onnx_diff = script_diff = None
    if onnx_path is not None:
        session = onnx_session(onnx_path)
        (output,) = session.run(None, {"x": x.cpu().numpy()})
        onnx_diff = _max_abs_diff(output, expected)
    if torchscript_path is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(torchscript_path))
        with torch.no_grad():
            script_diff = _max_abs_diff(module(x).cpu().numpy(), expected)
    return ExportCheck(tuple(x.shape), onnx_diff, script_diff)


def _max_abs_diff(output: np.ndarray, expected: np.ndarray) -> float:
    if output.shape != expected.shape:
        return float("inf")
    return float(np.abs(output.astype(np.float64) - expected.astype(np.float64)).max(initial=0.0))


def compile_model(model: nn.Module, mode: str | None = None, dynamic: bool | None = None, backend: str = "inductor"):  # type: ignore[no-untyped-def]
    """``torch.compile`` a model for faster training or inference (same outputs, first call compiles).

    Args:
        model: Any model.
        mode: ``torch.compile`` mode (``None``, ``"reduce-overhead"``, ``"max-autotune"``).
        dynamic: Compile for dynamic shapes (``None``: decide on recompilation).
        backend: ``"inductor"`` (generates C++/OpenMP code on the CPU: needs a C++ compiler) or ``"eager"``.

    Returns:
        The compiled module (shares the parameters of ``model``).
    """
    return torch.compile(model, mode=mode, dynamic=dynamic, backend=backend)


def registered_task(name: str) -> str:
    """Task of a registry name (``info(name).task``)."""
    return info(name).task
