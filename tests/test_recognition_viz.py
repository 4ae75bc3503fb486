"""Attention visualisation of ST-TR (journal appendix C): heatmap + joint relevance PNG, GIF over frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from skeletal.errors import ShapeError
from skeletal.models import create
from skeletal.nn.outputs import AttentionMaps
from skeletal.viz.attention import animate_spatial_attention, attention_matrix, joint_relevance, plot_spatial_attention


@pytest.fixture(scope="module")
def maps_and_pose() -> tuple[AttentionMaps, np.ndarray]:
    torch.manual_seed(0)
    x = torch.randn(1, 2, 8, 25, 3)
    with torch.no_grad():
        _, maps = create("s-tr").eval()(x, return_attention=True)
    return maps, x[0, 0].numpy()


def test_relevance_is_column_sum() -> None:
    maps = AttentionMaps()
    weights = torch.softmax(torch.randn(1, 2, 3, 4, 4), dim=-1)
    maps.add("spatial", "layer", weights)
    matrix = attention_matrix(maps, 0, 1)
    np.testing.assert_allclose(matrix, weights[0, :, 1].mean(0).numpy(), rtol=1e-6)
    np.testing.assert_allclose(joint_relevance(matrix), matrix.sum(0))
    assert np.isclose(joint_relevance(matrix).sum(), 4.0)  # rows are softmaxes
    with pytest.raises(ShapeError, match="layer 3 out of range"):
        attention_matrix(maps, 3, 0)


def test_png_and_gif(tmp_path: Path, maps_and_pose: tuple[AttentionMaps, np.ndarray]) -> None:
    maps, pose = maps_and_pose
    png = plot_spatial_attention(maps, pose, "ntu25", layer=-1, frame=1, out=tmp_path / "a.png", sample=1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    gif = animate_spatial_attention(maps, pose, "ntu25", layer=0, out=tmp_path / "a.gif", frames=range(3))
    assert gif.read_bytes()[:6] in (b"GIF89a", b"GIF87a") and gif.stat().st_size > 10_000
    with pytest.raises(Exception, match="joints"):
        plot_spatial_attention(maps, pose[:, :17], "ntu25", 0, 0, tmp_path / "b.png")
