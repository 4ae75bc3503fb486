"""ONNX and TorchScript export of every registered model, checked against PyTorch (issue 8).

Every registry name is exported and run by onnxruntime and by the TorchScript loader on an input with another
batch size (and, where the time axis is dynamic, another length) than the traced one; outputs must match
PyTorch's within 1e-4. The fast set holds one model per distinct architecture in a reduced configuration
(fewer frames, narrower lifters, two-layer transformers); the other names, and every model at full size, run
with ``-m slow``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from torch import nn

import skeletal
from skeletal.errors import ConfigError
from skeletal.inference import export
from skeletal.inference.streaming import StreamingLifter

TOLERANCE = 1e-4

# One name per model family in the fast run (``st-tr``: GCN, SSA and TSA blocks in its two streams); the other
# names (more variants of the same blocks, bones, presets, other receptive fields) run with ``-m slow``.
FAST = {
    "st-tr",
    "st-transformer",
    "transformer-2d",
    "transformer",
    "seq2seq",
    "zero-velocity",
    "gast-net",
    "videopose3d",
}


def small_config(name: str) -> tuple[dict[str, Any], int | None]:
    """Reduced builder overrides and input frames for a fast export test of the same class."""
    task = skeletal.models.info(name).task
    if task == "recognition":
        return {"window_size": 16}, 16
    if task == "prediction":
        if name == "seq2seq":
            return {"hidden_size": 64, "window": 12}, 12
        if name == "zero-velocity":
            return {"window": 12}, 12
        return {"num_layers": 2, "window": 12}, 12
    if name.startswith("videopose3d"):
        return {"channels": 64}, None
    return {"channels": 32}, None


def calibrate_batch_norm(model: nn.Module, *inputs: torch.Tensor) -> None:
    """Set every batch norm's running statistics from ``inputs`` (as after training), so activations stay O(1).

    The statistics are the cumulative average over the inputs, collected with the rest of the model in eval mode
    (no dropout or DropAttention), so that inference on those inputs sees normalised activations at every layer.
    With statistics from a single small batch, a random-weight network divides some channels by a near-zero
    variance and another input reaches logits of 1e4, where float32 rounding alone exceeds any fixed tolerance.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average
    model.eval()
    for norm in norms:
        norm.train()
    with torch.no_grad():
        for x in inputs:
            model(x)
    model.eval()


def export_and_verify(model: nn.Module, folder: Path, frames: int | None) -> tuple[export.ExportCheck, bool]:
    """Export to both formats with batch 2, verify with batch 3 and, when time is dynamic, another length.

    Prediction models are checked 4 frames shorter (their positional table, baked into the graph, covers the
    training window), the others 4 frames longer.
    """
    example = export.example_input(model, batch=2, frames=frames)
    dynamic_time = export.supports_dynamic_time(model)
    shift = -4 if export.model_task(model) == "prediction" else 4
    length = example.shape[export.time_axis(model)] + (shift if dynamic_time else 0)
    checked = export.example_input(model, batch=3, frames=length, seed=1)
    calibrate_batch_norm(model, example, checked, export.example_input(model, batch=8, frames=frames, seed=2))
    onnx_path = export.export_onnx(model, folder / "model.onnx", example)
    script_path = export.export_torchscript(model, folder / "model.pt", example)
    check = export.verify_export(model, onnx_path, script_path, x=checked)
    graph_input = onnx.load(str(onnx_path)).graph.input[0].type.tensor_type.shape.dim
    assert graph_input[0].dim_param == "batch"
    assert (graph_input[export.time_axis(model)].dim_param == "frames") == dynamic_time
    return check, dynamic_time


@pytest.mark.parametrize(
    "name",
    [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in skeletal.models.names(builtin_only=True)],
)
def test_export_matches_pytorch(name: str, tmp_path: Path) -> None:
    overrides, frames = small_config(name)
    model = skeletal.models.create(name, **overrides)
    check, _ = export_and_verify(model, tmp_path, frames)
    assert check.onnx is not None and check.onnx < TOLERANCE, check
    assert check.torchscript is not None and check.torchscript < TOLERANCE, check
    assert check.input_shape[0] == 3


@pytest.mark.slow
@pytest.mark.parametrize("name", skeletal.models.names(builtin_only=True))
def test_export_full_size_matches_pytorch(name: str, tmp_path: Path) -> None:
    model = skeletal.models.create(name)
    frames = 64 if skeletal.models.info(name).task == "recognition" else None
    check, _ = export_and_verify(model, tmp_path, frames)
    assert check.ok(TOLERANCE), check


def test_example_input_follows_each_task_convention() -> None:
    assert export.example_input("st-gcn").shape == (1, 2, 300, 25, 3)  # NTU: 2 persons x 300 frames x 25 joints
    assert export.example_input("st-gcn-bones", batch=4, frames=20).shape == (4, 2, 20, 25, 6)
    recognition = skeletal.models.create("s-tr", skeleton="openpose18", num_persons=1)
    assert export.example_input(recognition, frames=8).shape == (1, 1, 8, 18, 3)
    h36m = skeletal.models.create("st-transformer-h36m", num_layers=1)
    assert export.example_input(h36m, batch=2).shape == (2, 75, h36m.skeleton.num_joints, 9)  # window 75
    predictor = skeletal.models.create("st-transformer", num_layers=1, representation="quaternion", window=30)
    assert export.example_input(predictor).shape == (1, 30, 15, 4)
    lifter = skeletal.models.create("gast-net-81", channels=8, strided=True)
    assert export.example_input(lifter, frames=500).shape == (1, 81, 17, 2)  # strided: always RF
    x = export.example_input("gast-net-9", batch=2, frames=20)
    assert x.shape == (2, 20, 17, 2) and float(x.abs().max()) <= 1.0
    assert torch.equal(x, export.example_input("gast-net-9", batch=2, frames=20))  # seeded


def test_dynamic_time_only_where_the_graph_allows_it() -> None:
    assert export.supports_dynamic_time(skeletal.models.create("st-gcn"))
    assert export.supports_dynamic_time(skeletal.models.create("t-tr"))
    assert not export.supports_dynamic_time(skeletal.models.create("t-tr-all-layers"))  # windowed TSA
    assert not export.supports_dynamic_time(skeletal.models.create("t-tr", relative=True))
    assert export.supports_dynamic_time(skeletal.models.create("gast-net-9", channels=8))
    assert not export.supports_dynamic_time(skeletal.models.create("gast-net-9", channels=8, strided=True))


def test_lifter_onnx_runs_on_longer_sequences(tmp_path: Path) -> None:
    model = skeletal.models.create("gast-net-9", channels=16).eval()
    path = export.export_onnx(model, tmp_path / "lifter.onnx", export.example_input(model, batch=1, frames=9))
    x = export.example_input(model, batch=2, frames=40, seed=3)
    (output,) = export.onnx_session(path).run(None, {"x": x.numpy()})
    assert output.shape == (2, 32, 17, 3)  # T - RF + 1
    with torch.no_grad():
        np.testing.assert_allclose(output, model(x).numpy(), atol=TOLERANCE)


def test_streaming_step_export_matches_the_streaming_lifter(tmp_path: Path) -> None:
    model = skeletal.models.create("gast-net-9", channels=16, causal=True)
    sequence = export.example_input(model, batch=1, frames=20, seed=5)
    calibrate_batch_norm(model, sequence)
    step = export.streaming_model(model)
    assert step.strided and not model.strided  # a copy; the original keeps its mode
    window = export.example_input(step, batch=2)
    assert window.shape == (2, 9, 17, 2)
    onnx_path = export.export_onnx(step, tmp_path / "step.onnx", window)
    script_path = export.export_torchscript(step, tmp_path / "step.pt", window)
    check = export.verify_export(step, onnx_path, script_path, batch=1)
    assert check.ok(TOLERANCE), check
    # One step on the last RF frames is the streaming lifter's pose of the last frame.
    streamed = StreamingLifter(model).run(sequence[0])[-1]
    (output,) = export.onnx_session(onnx_path).run(None, {"x": sequence[:, -9:].numpy()})
    assert output.shape == (1, 1, 17, 3)
    np.testing.assert_allclose(output[0, 0], streamed.numpy(), atol=TOLERANCE)
    with pytest.raises(ConfigError, match="causal"):
        export.streaming_model(skeletal.models.create("gast-net-9", channels=8))


def test_verify_export_reports_a_mismatch(tmp_path: Path) -> None:
    model = skeletal.models.create("gast-net-9", channels=16).eval()
    onnx_path = export.export_onnx(model, tmp_path / "m.onnx")
    script_path = export.export_torchscript(model, tmp_path / "m.pt")
    with torch.no_grad():
        model.head.weight.add_(0.5)  # the files keep the old weights
    check = export.verify_export(model, onnx_path, script_path)
    assert check.onnx is not None and check.onnx > 1e-2
    assert check.torchscript is not None and abs(check.torchscript - check.onnx) < 1e-4
    assert not check.ok()


def test_export_keeps_training_mode(tmp_path: Path) -> None:
    model = skeletal.models.create("seq2seq", hidden_size=16, window=6).train()
    export.export_onnx(model, tmp_path / "m.onnx", exporter="torchscript")
    assert model.training
    with pytest.raises(ConfigError, match="exporter"):
        export.export_onnx(model, tmp_path / "m.onnx", exporter="tflite")


def _compile_case() -> tuple[nn.Module, torch.Tensor]:
    model = skeletal.models.create("st-transformer", num_layers=1, model_dim=16, feedforward_dim=32, num_heads=2,
                                   window=8, skeleton="h36m17").eval()  # fmt: skip
    return model, export.example_input(model, batch=2)


@pytest.mark.slow
def test_compile_model_gives_the_same_outputs() -> None:
    model, x = _compile_case()
    compiled = export.compile_model(model)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), atol=1e-5, rtol=1e-5)
    # Training through the compiled module updates the shared parameters.
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.head.weight.detach().clone()
    compiled(x).pow(2).mean().backward()
    optimizer.step()
    assert not torch.equal(before, model.head.weight)


def test_compile_model_eager_backend() -> None:
    model, x = _compile_case()
    compiled = export.compile_model(model, backend="eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), atol=1e-6, rtol=1e-6)
