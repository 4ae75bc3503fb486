"""Pictures a user looks at: the fast skeleton renderer (size, equal aspect, video frames under the 2D points,
GIF and MP4), the attention figure (upright skeleton, resolved layer titles) and offline causal lifting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skeletal.inference.lifting import lift_sequence
from skeletal.inference.streaming import StreamingLifter
from skeletal.models import create
from skeletal.nn.outputs import AttentionMaps
from skeletal.skeletons import get
from skeletal.viz.animation import MIN_WIDTH, Panel, SkeletonRenderer, animate, ffmpeg_available
from skeletal.viz.attention import layer_title, upright_sign


def test_renderer_draws_bones_where_matplotlib_projects_them(rng: np.random.Generator) -> None:
    poses = rng.normal(size=(5, 17, 3))
    renderer = SkeletonRenderer([Panel(poses, "3D", units="m")], "h36m17")
    assert renderer.size[0] >= MIN_WIDTH
    first, second = renderer.frame(0), renderer.frame(1)
    assert first.shape == (renderer.size[1], renderer.size[0], 3) and not np.array_equal(first, second)
    changed = np.argwhere((first != renderer.background).any(-1))
    pixels = renderer._project[0](renderer.data[0][0])
    assert np.abs(changed.mean(0)[::-1] - pixels.mean(0)).max() < 0.1 * renderer.size[1]  # drawn around the joints


def test_video_frames_are_drawn_under_the_2d_points(rng: np.random.Generator) -> None:
    points = rng.uniform(10, 90, size=(3, 17, 2))
    red = np.zeros((50, 100, 3), dtype=np.uint8)
    red[..., 0] = 255
    asked: list[int] = []
    panel = Panel(points, "video", kind="2d", images=lambda t: (asked.append(t), red)[1], image_size=(100, 50))
    renderer = SkeletonRenderer([panel], "h36m17")
    frame = renderer.frame(2)
    left, top, right, bottom = (round(v) for v in renderer._boxes[0])
    inside = frame[top + 2 : bottom - 2, left + 2 : right - 2].reshape(-1, 3)
    assert asked == [2] and (inside == [255, 0, 0]).all(-1).mean() > 0.8  # the image, with the bones on top


def test_gif_and_mp4(tmp_path: Path, rng: np.random.Generator) -> None:
    poses = rng.normal(size=(6, 17, 3))
    gif = animate([Panel(poses[..., :2], kind="2d"), Panel(poses)], "h36m17", tmp_path / "a.gif", fps=30)
    with Image.open(gif) as image:
        assert (
            image.n_frames == 6 and image.size[0] >= MIN_WIDTH and abs(image.info["duration"] - 33) < 10
        )  # GIF: centiseconds
    if ffmpeg_available():
        mp4 = animate([Panel(poses)], "h36m17", tmp_path / "a.mp4", fps=30)
        assert mp4.stat().st_size > 0


def test_attention_skeletons_stand_up_and_layers_are_numbered() -> None:
    skeleton = get("h36m17")
    pose = np.zeros((1, 17, 2))
    head, feet = skeleton.joint_names.index("head"), [i for i, n in enumerate(skeleton.joint_names) if "ankle" in n]
    pose[0, head, 1], pose[0, feet, 1] = -1.0, 1.0  # camera/image frame: y grows downwards
    assert upright_sign(pose, skeleton) == -1.0 and upright_sign(-pose, skeleton) == 1.0
    maps = AttentionMaps(spatial=[torch.zeros(1, 1, 1, 17, 17)] * 3)
    assert layer_title(maps, -1, 0) == "spatial layer 3 of 3 (last), frame 0"
    assert layer_title(maps, 0, 2) == "spatial layer 1 of 3, frame 2"


@pytest.mark.parametrize("flip", [False, True])
def test_causal_offline_lifting_equals_streaming_and_chunks_do_not_matter(flip: bool) -> None:
    model = create("gast-net-9", causal=True, channels=8).eval()
    x = np.cumsum(np.random.default_rng(0).normal(scale=0.02, size=(40, 17, 2)), axis=0).astype(np.float32)
    whole = lift_sequence(model, x, flip)
    assert np.allclose(lift_sequence(model, x, flip, chunk=7), whole, atol=1e-5)
    assert np.allclose(StreamingLifter(model, flip=flip).run(x).numpy(), whole, atol=1e-4)
    with torch.no_grad():
        assert np.allclose(model.lift(torch.from_numpy(x)[None])[0].numpy(), lift_sequence(model, x), atol=1e-5)
