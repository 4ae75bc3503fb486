"""`skeletal viz attention` end to end through skeletal.cli.main on a tiny S-TR model file: PNG and GIF of the
spatial attention (journal appendix C), inputs as npy/npz sequences and dataset samples, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skeletal import checkpoint, models
from skeletal.cli import main
from skeletal.inference.recognition import load_recognition_input
from skeletal.viz.attention import draw_attention

KWARGS = {"num_classes": 3, "skeleton": "h36m17", "num_persons": 1, "width": 8, "heads": 2}
PNG, GIFS = b"\x89PNG\r\n\x1a\n", (b"GIF89a", b"GIF87a")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = models.create("s-tr", **KWARGS)
    path = tmp_path_factory.mktemp("viz") / "s.safetensors"
    return checkpoint.save(path, model, "s-tr", KWARGS, skeleton="h36m17")


def test_png_and_gif_from_a_sequence(model_file: Path, tmp_path: Path, rng: np.random.Generator) -> None:
    np.save(tmp_path / "seq.npy", rng.normal(size=(12, 17, 3)).astype(np.float32))  # one person (T, V, C)
    out = tmp_path / "out"
    argv = ["viz", "attention", str(model_file), str(tmp_path / "seq.npy"), "--layer", "0", "--frame", "3"]
    assert main([*argv, "--out", str(out), "--max-frames", "4"]) == 0
    png, gif = out / "attention_layer0_frame3.png", out / "attention_layer0.gif"
    assert png.read_bytes()[:8] == PNG and png.stat().st_size > 10_000
    assert gif.read_bytes()[:6] in GIFS
    with Image.open(gif) as image:
        assert image.n_frames == 4  # --max-frames of the 6 frames of layer 0 (12 input frames, stride 2 first)


def test_dataset_sample_and_errors(
    model_file: Path, tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = rng.normal(size=(3, 1, 8, 17, 3)).astype(np.float32)
    np.savez(tmp_path / "split.npz", x=batch, y=np.zeros(3, dtype=np.int64))
    np.testing.assert_array_equal(load_recognition_input(tmp_path / "split.npz", sample=2), batch[2])
    out = tmp_path / "sample"
    argv = ["viz", "attention", str(model_file), str(tmp_path / "split.npz"), "--sample", "2", "--out", str(out)]
    assert main([*argv, "--no-gif"]) == 0
    assert (out / "attention_layer-1_frame0.png").is_file() and not list(out.glob("*.gif"))
    assert main([*argv[:-2], "--out", str(out), "--sample", "5"]) == 2
    assert "sample 5 out of range" in capsys.readouterr().err
    assert main(["viz", "attention", str(model_file), str(tmp_path / "split.npz"), "--frame", "99"]) == 2
    assert "frame 99 out of range" in capsys.readouterr().err
    np.save(tmp_path / "wrong.npy", rng.normal(size=(8, 25, 3)))
    assert main(["viz", "attention", str(model_file), str(tmp_path / "wrong.npy")]) == 2
    assert "25 joints" in capsys.readouterr().err


def test_registered_name_and_model_without_spatial_attention(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "two.npy", rng.normal(size=(2, 8, 25, 3)).astype(np.float32))  # (M, T, V, C), ntu25
    out = tmp_path / "named"
    argv = ["viz", "attention", "s-tr", str(tmp_path / "two.npy"), "--person", "1", "--no-gif", "--out", str(out)]
    assert main(argv) == 0 and (out / "attention_layer-1_frame0.png").is_file()
    assert main(["viz", "attention", "t-tr", str(tmp_path / "two.npy"), "--out", str(out)]) == 2
    assert "no spatial layer" in capsys.readouterr().err


def test_draw_attention_pads_persons(model_file: Path, tmp_path: Path, rng: np.random.Generator) -> None:
    model = checkpoint.load(model_file)
    x = rng.normal(size=(2, 8, 17, 3)).astype(np.float32)  # two persons for a one-person model: the first is kept
    files = draw_attention(model, x, "h36m17", layer=1, frame=0, out=tmp_path, gif=False)
    assert set(files) == {"png"} and files["png"].read_bytes()[:8] == PNG
