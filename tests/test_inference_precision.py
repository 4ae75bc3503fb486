"""bfloat16 inference: CPU detection and refusal, every model family runs with float32 in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import roma
import torch

from skeletal import models
from skeletal.checkpoint import save
from skeletal.errors import ConfigError
from skeletal.inference import export
from skeletal.inference.generation import generate
from skeletal.inference.precision import cpu_flags, cpu_supports_bf16, load, resolve_precision, set_precision

needs_bf16 = pytest.mark.skipif(not cpu_supports_bf16(), reason="this CPU has no AVX-512-BF16/AMX")

# One model per family, reduced as in tests/test_export.py.
FAMILIES: dict[str, dict[str, Any]] = {
    "st-tr": {"window_size": 16},
    "st-gcn": {"window_size": 16},
    "agcn": {"window_size": 16},
    "st-transformer": {"num_layers": 2, "window": 12},
    "transformer-2d": {"num_layers": 2, "window": 12},
    "transformer": {"num_layers": 2, "window": 12},
    "seq2seq": {"hidden_size": 64, "window": 12},
    "gast-net": {"channels": 32},
    "videopose3d": {"channels": 64},
}


def test_precision_names_and_refusal_without_bf16_flags(tmp_path: Path) -> None:
    assert resolve_precision("float32") == "fp32" and resolve_precision("FP32") == "fp32"
    with pytest.raises(ConfigError, match="precision must be one of"):
        resolve_precision("fp16")
    with pytest.raises(ConfigError, match="AVX-512-BF16"):
        resolve_precision("bf16", "cpu", flags={"avx2", "avx512f"})
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx512f", "avx512_bf16"}
    assert cpu_flags(tmp_path / "absent") == set()


@needs_bf16
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_bf16_model_takes_and_returns_float32_close_to_float32(name: str) -> None:
    torch.manual_seed(0)
    model = models.create(name, **FAMILIES[name]).eval()
    frames = 16 if models.info(name).task == "recognition" else None
    x = export.example_input(model, batch=2, frames=frames)
    with torch.no_grad():
        reference = model(x)
        set_precision(model, "bf16")
        assert all(p.dtype == torch.bfloat16 for p in model.parameters())
        output = model(x)
    assert output.dtype == torch.float32 and model.inference_precision == "bf16"
    scale = reference.abs().max().clamp_min(1e-3)
    assert (output - reference).abs().max() / scale < 0.1  # bfloat16 keeps 8 mantissa bits
    set_precision(model, "fp32")
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not model._forward_pre_hooks and not model._forward_hooks


@needs_bf16
def test_bf16_generation_uses_the_cache_with_float32_frames() -> None:
    torch.manual_seed(0)
    model = set_precision(models.create("st-transformer", num_layers=2, window=12), "bf16")
    seed = roma.random_rotmat((2, 5, 15)).reshape(2, 5, 15, 9)
    cached = generate(model, seed, 10, window=12)
    uncached = generate(model, seed, 10, window=12, cache="off")
    assert cached.dtype == torch.float32 and torch.isfinite(cached).all()
    assert (cached[:, :3] - uncached[:, :3]).abs().max() < 0.1


@needs_bf16
def test_load_in_bf16(tmp_path: Path) -> None:
    model = models.create("st-gcn", num_classes=5, window_size=16)
    path = save(tmp_path / "model.safetensors", model, "st-gcn", {"num_classes": 5, "window_size": 16})
    loaded = load(path, precision="bf16")
    assert next(loaded.parameters()).dtype == torch.bfloat16 and not loaded.training
    assert loaded(export.example_input(loaded, batch=1, frames=16)).dtype == torch.float32


@needs_bf16
def test_lift_in_bf16_on_real_keypoints(shared_data: Path, tmp_path: Path) -> None:
    """``skeletal lift --precision bf16``: the shipped CMU GAST-Net on the baseball clip moves a joint by 2.3 mm on
    average from its float32 pose (measured; 2.9 mm causal), and the metadata names the precision."""
    from skeletal.cli import main
    from skeletal.inference.lifting import lift_file

    clip = shared_data / "keypoints-2d" / "baseball.json"
    poses = {p: lift_file(clip, checkpoint="pretrained:gast-net-27-cmu", precision=p)[0] for p in ("fp32", "bf16")}
    assert poses["bf16"].metadata["model"]["precision"] == "bf16" and np.isfinite(poses["bf16"].poses).any()
    moved = np.nanmean(np.linalg.norm(poses["fp32"].poses - poses["bf16"].poses, axis=-1))
    assert 0 < moved < 0.01  # metres
    with pytest.raises(ConfigError, match="--streaming runs the causal model frame by frame in float32"):
        lift_file(clip, checkpoint="pretrained:gast-net-27-cmu-causal", causal=True, streaming=True, precision="bf16")
    main(["lift", str(clip), "--precision", "bf16", "--no-animation", "--out", str(tmp_path)])
    assert (tmp_path / "baseball_3d.npz").is_file()


def test_lift_refuses_bf16_without_the_cpu_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    from skeletal.inference import precision
    from skeletal.inference.lifting import load_lifter

    monkeypatch.setattr(precision, "cpu_flags", lambda *_: {"avx2"})
    with pytest.raises(ConfigError, match="bf16"):
        load_lifter("pretrained:gast-net-27-cmu", precision="bf16")


@needs_bf16
def test_predict_in_bf16_recognition_lifting_and_forecast(tmp_path: Path) -> None:
    """``skeletal predict --precision bf16`` on the three paths of the command (recognition model file, another
    task's model file, ``--seconds``): float32 outputs close to the float32 run, the forecast metadata names it."""
    import json

    from skeletal import checkpoint
    from skeletal.cli import main
    from skeletal.evaluation.forecast import forecast
    from skeletal.geometry import axis_angle_to_matrix

    recognition = checkpoint.load("pretrained:s-tr-synthetic")
    np.save(tmp_path / "clips.npy", export.example_input(recognition, batch=4).numpy())
    rng = np.random.default_rng(0)
    np.save(tmp_path / "keypoints.npy", rng.uniform(-0.5, 0.5, (2, 40, 17, 2)).astype(np.float32))
    for name, model_file in (("clips", "pretrained:s-tr-synthetic"), ("keypoints", "pretrained:gast-net-27-cmu")):
        outputs = {}
        for precision in ("fp32", "bf16"):
            out = tmp_path / f"{name}_{precision}.npz"
            assert (
                main(["predict", model_file, str(tmp_path / f"{name}.npy"), "-o", str(out), "--precision", precision])
                == 0
            )
            with np.load(out) as archive:
                outputs[precision] = {key: archive[key] for key in archive.files}
        key = "probabilities" if name == "clips" else "poses_3d"
        assert outputs["bf16"][key].dtype == np.float32
        np.testing.assert_allclose(outputs["bf16"][key], outputs["fp32"][key], atol=0.05)
    rotations = np.asarray(axis_angle_to_matrix(0.2 * rng.normal(size=(10, 38, 3))))
    np.savez(tmp_path / "seed.npz", rotations=rotations, fps=25.0, layout="cmu38")
    runs = {p: forecast("pretrained:st-transformer-cmu", str(tmp_path / "seed.npz"), 0.4, tmp_path / p,
                        animation="none", precision=p) for p in ("fp32", "bf16")}  # fmt: skip
    angle = roma.rotmat_geodesic_distance(
        torch.as_tensor(runs["bf16"].rotations), torch.as_tensor(runs["fp32"].rotations)
    )
    assert runs["bf16"].rotations.shape == (10, 38, 3, 3) and float(angle.mean()) < 0.05  # radians
    with np.load(runs["bf16"].npz) as archive:
        assert json.loads(str(archive["metadata"]))["precision"] == "bf16"


def test_predict_refuses_bf16_without_the_cpu_flags(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Refused with one line and exit status 2 before the model or the input is read."""
    from skeletal.cli import main
    from skeletal.inference import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda *_: {"avx2"})
    commands = (["predict", "pretrained:s-tr-synthetic", "missing.npy"], ["predict", "seed.npz", "--seconds", "1"])
    for command in commands:
        assert main([*command, "--precision", "bf16"]) == 2
        assert "needs a CPU with native bfloat16" in capsys.readouterr().err
