"""The benchmark table (issue 8): columns, positive figures, FLOP counts checked by hand."""

from __future__ import annotations

import torch
from conftest import damp_classifiers
from torch import nn

from skeletal import bench


def test_bench_row_of_a_tiny_lifter_has_positive_figures() -> None:
    row = bench.bench_model("gast-net-9", batch_sizes=(1, 2), repeats=1, warmup=0, overrides={"channels": 8})
    assert row.task == "lifting" and row.input == "9x17x2"  # receptive field x joints x 2D
    assert row.params == sum(p.numel() for p in bench.create("gast-net-9", channels=8).parameters())
    for value in (row.gflops, row.forward_ms, row.train_ms, row.peak_mb, row.torch_b1, row.torch_bN):
        assert value is not None and value > 0
    assert row.onnx_b1 is not None and row.onnx_b1 > 0 and row.onnx_bN is not None and row.onnx_bN > 0
    assert row.seq_fps is not None and row.seq_fps > 0
    table = bench.format_table([row])
    header, rule, line = table.splitlines()
    for _, title in bench.COLUMNS:
        assert f" {title} " in header
    assert line.startswith("| gast-net-9 | 9x17x2 |")
    assert line.count("|") == header.count("|") == rule.count("|")


def test_prediction_row_uses_the_training_window_without_onnx() -> None:
    overrides = {"num_layers": 1, "model_dim": 16, "feedforward_dim": 16, "num_heads": 2}
    row = bench.bench_model(
        "st-transformer-h36m", batch_sizes=(1, 2), repeats=1, warmup=0, onnx=False, memory=False, overrides=overrides
    )
    assert row.input.startswith("75x")  # H3.6M window of 75 frames
    assert row.onnx_b1 is None and row.peak_mb is None and row.seq_fps is None
    assert " - |" in bench.format_table([row])


def test_flop_count_of_a_linear_layer_is_two_per_multiply_add() -> None:
    layer = nn.Linear(10, 4)
    assert bench.flops_per_sample(layer, torch.randn(3, 10)) == 2 * 10 * 4


def test_paper_shapes() -> None:
    assert bench.paper_shape("st-gcn") == ({}, 300)
    assert bench.paper_shape("st-transformer-amass") == ({}, 120)
    assert bench.paper_shape("gast-net-243") == ({"strided": True}, 243)


def test_median_time_and_machine_description() -> None:
    calls = []
    assert bench.median_time(lambda: calls.append(1), repeats=3, warmup=2) >= 0
    assert len(calls) == 5
    description = bench.machine_description()
    assert f"torch {torch.__version__}" in description and "cores" in description


def _reference_module():  # type: ignore[no-untyped-def]
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "reference.py"
    spec = importlib.util.spec_from_file_location("benchmark_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_naive_references_compute_the_same_outputs() -> None:
    """The loops of benchmarks/reference.py (heads, joints, channels) give the library's outputs."""
    reference = _reference_module()
    cases = {
        "s-tr": ({"window_size": 8}, 8),
        "t-tr": ({"window_size": 8}, 8),
        "st-transformer": ({"num_layers": 1, "model_dim": 16, "feedforward_dim": 16, "num_heads": 4}, 6),
        "transformer-2d": ({"num_layers": 1, "model_dim": 16, "feedforward_dim": 16, "num_heads": 4}, 4),
        "gast-net-9": ({"channels": 8}, 11),
    }
    # SSA or TSA in 6 layers; ST-Transformer: 2 + 3 (temporal) + 2 (spatial) + 2 (feed-forward) per layer;
    # 2D: 2 + 3 + 2; GAST-Net: 2 channel-wise graph convolutions + 1 global graph per block.
    expected_swaps = {"s-tr": 6, "t-tr": 6, "st-transformer": 9, "transformer-2d": 7, "gast-net-9": 6}
    for name, (overrides, frames) in cases.items():
        model = damp_classifiers(bench.create(name, **overrides)).eval()
        x = bench.example_input(model, batch=2, frames=frames)
        with torch.no_grad():
            library = model(x)
            with reference.naive_modules(model) as replaced:
                naive = model(x)
        assert replaced == expected_swaps[name], name
        torch.testing.assert_close(naive, library, atol=1e-5, rtol=1e-5, msg=name)
        with torch.no_grad():  # restored afterwards
            torch.testing.assert_close(model(x), library, atol=0, rtol=0)


def test_load_warning_and_threads_on_a_busy_machine(monkeypatch) -> None:
    import os

    from skeletal import machine

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert machine.load_warning(2) is None
    monkeypatch.setattr(os, "getloadavg", lambda: (6.5, 6.0, 5.0))
    warning = machine.load_warning(1)
    assert warning is not None and "load average 6.5 on 2 cores" in warning
    assert machine.auto_threads() == 1


def test_default_bench_is_one_paper_model_per_task() -> None:
    from skeletal import models

    assert [models.info(name).task for name in bench.QUICK_MODELS] == ["recognition", "prediction", "lifting"]
    assert set(bench.QUICK_MODELS) <= set(bench.PAPER_MODELS)
