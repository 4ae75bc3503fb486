"""Skeleton animations (GIF, side-by-side 2D/3D panels) and the evaluation line plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skeletal.errors import ConfigError, LayoutError
from skeletal.evaluation.long_horizon import LongHorizonTable
from skeletal.viz import animation
from skeletal.viz.animation import Panel, animate, ffmpeg_available, shown_frames
from skeletal.viz.plots import plot_horizon_errors, plot_pose_3d, plot_power_spectrum


def test_gif_of_3d_and_2d_panels(tmp_path: Path, rng: np.random.Generator) -> None:
    poses = rng.normal(size=(12, 32, 3))
    points = rng.uniform(0, 100, size=(8, 32, 2))  # shorter: holds its last frame
    out = animate([Panel(poses, "3D"), Panel(points, "2D", color="C1")], "h36m32", tmp_path / "a.gif", fps=12, every=3)
    with Image.open(out) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 4  # frames 0, 3, 6, 9
        assert gif.size[0] > gif.size[1]  # two panels side by side


def test_max_frames_and_errors(tmp_path: Path, rng: np.random.Generator) -> None:
    poses = rng.normal(size=(10, 17, 3))
    out = animate([Panel(poses)], "h36m17", tmp_path / "b.gif", max_frames=2)
    with Image.open(out) as gif:
        assert gif.n_frames == 2
    with pytest.raises(LayoutError, match="h36m32"):
        animate([Panel(poses)], "h36m32", tmp_path / "c.gif")
    with pytest.raises(ConfigError, match=".gif or .mp4"):
        animate([Panel(poses)], "h36m17", tmp_path / "c.avi")
    if not ffmpeg_available():
        with pytest.raises(ConfigError, match="ffmpeg"):
            animate([Panel(poses)], "h36m17", tmp_path / "c.mp4")


def test_shown_frames() -> None:
    assert shown_frames(10) == slice(0, 10, 1)
    assert shown_frames(10, every=3) == slice(0, 12, 3)  # frames 0, 3, 6, 9
    assert len(range(10)[shown_frames(10, every=3)]) == 4
    assert shown_frames(100, every=7, max_frames=5) == slice(0, 35, 7)
    assert range(143)[shown_frames(143, every=2, start=5)] == range(5, 143, 2)
    assert shown_frames(3, start=5) == slice(5, 5, 1)  # nothing after the start
    with pytest.raises(ConfigError, match="every"):
        shown_frames(10, every=0)


def test_renderer_gets_only_the_shown_frames(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long panel is subsampled before rendering (its preview, not its length, costs memory), and a video
    panel's ``images(t)`` is asked for the original frame of each shown frame."""
    handed: dict[str, object] = {}
    original = animation.SkeletonRenderer

    def spy(panels: list[Panel], *args: object) -> object:
        handed["lengths"] = [len(panel.frames) for panel in panels]
        handed["first"] = panels[0].frames[1].copy()
        return original(panels, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(animation, "SkeletonRenderer", spy)
    asked: list[int] = []

    def images(t: int) -> np.ndarray:
        asked.append(t)
        return np.zeros((100, 100, 3), np.uint8)

    poses = rng.normal(size=(1000, 17, 3))
    points = rng.uniform(0, 100, size=(1000, 17, 2))
    panels = [Panel(poses, "3D"), Panel(points, "2D", images=images, image_size=(100, 100))]
    out = animate(panels, "h36m17", tmp_path / "long.gif", fps=50, every=10, max_frames=6)
    assert handed["lengths"] == [6, 6]
    np.testing.assert_array_equal(handed["first"], poses[10])
    assert asked == [0, 10, 20, 30, 40, 50]
    with Image.open(out) as gif:
        assert gif.n_frames == 6


def test_still_pose_and_plots(tmp_path: Path, rng: np.random.Generator) -> None:
    assert plot_pose_3d(rng.normal(size=(17, 3)), "h36m17", tmp_path / "p.png").stat().st_size > 0
    curves = {"zero-velocity": [1.0, 2.0], "model": [0.5, 1.5]}
    assert plot_horizon_errors(curves, [80, 160], tmp_path / "h.png", "rad").stat().st_size > 0
    table = LongHorizonTable([1, 2], [0.5, 0.6], [0.1, 0.2], 0.7)
    assert plot_power_spectrum({"model": table}, tmp_path / "ps.png").stat().st_size > 0
    with pytest.raises(ConfigError):
        plot_horizon_errors({"bad": [1.0]}, [80, 160], tmp_path / "x.png")


def test_gif_written_frame_by_frame_decodes_to_its_frames(tmp_path: Path) -> None:
    """``_write_gif`` streams frames (the changed box of each over the previous one, on the first frame's
    palette): every decoded frame equals its input where the colours are the first frame's, and a repeated
    frame stays a frame."""
    from PIL import ImageSequence

    from skeletal.viz.animation import write_video

    frames = [np.full((60, 80, 3), 255, np.uint8) for _ in range(5)]
    for step, frame in enumerate(frames[:4]):
        frame[:10, :10] = (30, 30, 30)  # present in the first frame: on the palette
        frame[10 + 5 * step : 25 + 5 * step, 20:40] = (200, 30, 30)
        frame[40:50, 50 + 3 * step : 70] = (30, 30, 200)
    frames[4] = frames[3].copy()
    out = write_video(iter(frames), tmp_path / "s.gif", fps=20, size=(80, 60))
    with Image.open(out) as gif:
        assert gif.info["loop"] == 0 and gif.info["duration"] == 50
        decoded = [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(gif)]
    assert len(decoded) == 5
    for frame, image in zip(frames, decoded):
        np.testing.assert_array_equal(image, frame)
    with pytest.raises(ConfigError, match="no frames"):
        write_video(iter([]), tmp_path / "empty.gif", fps=20, size=(80, 60))
