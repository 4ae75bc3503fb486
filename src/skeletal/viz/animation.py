"""Skeleton animations: side-by-side 2D and 3D panels of ``(T, V, 2|3)`` sequences, written as GIF or MP4.

Typical uses: a motion prediction beside its ground truth (two 3D panels), or 2D keypoints beside the lifted 3D
poses (a 2D and a 3D panel). Every panel shares the skeleton's edges; a panel shorter than the animation holds
its last frame. GIFs are written with matplotlib's ``PillowWriter``; ``.mp4`` needs ``ffmpeg`` on the ``PATH``
(:func:`ffmpeg_available`), otherwise a :class:`~skeletal.errors.ConfigError` says so.

Example:
    >>> animate([Panel(prediction, "prediction"), Panel(truth, "ground truth")], "cmu38", "walk.gif", fps=60, every=4)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from skeletal.errors import ConfigError, LayoutError, ShapeError
from skeletal.skeletons import Skeleton
from skeletal.skeletons import get as get_skeleton


@dataclass
class Panel:
    """One subplot of an animation.

    Attributes:
        frames: ``(T, V, 2)`` 2D points or ``(T, V, 3)`` 3D joints (any units; limits are fitted to the data).
        title: Panel title.
        kind: ``"2d"``, ``"3d"`` or ``"auto"`` (from the last axis).
        color: Matplotlib colour of the bones.
        vertical_axis: For 3D panels, which data axis points up (1: ``y`` up as CMU/H3.6M/SMPL; 2: ``z`` up).
        image_coordinates: For 2D panels, ``y`` grows downwards (pixel coordinates): the axis is inverted.
    """

    frames: np.ndarray
    title: str = ""
    kind: Literal["2d", "3d", "auto"] = "auto"
    color: str = "C0"
    vertical_axis: int = 1
    image_coordinates: bool = True

    def resolved_kind(self) -> str:
        if self.kind != "auto":
            return self.kind
        return "3d" if np.asarray(self.frames).shape[-1] == 3 else "2d"


def ffmpeg_available() -> bool:
    """Whether matplotlib can write MP4 (an ``ffmpeg`` executable is found)."""
    from matplotlib import animation

    return bool(animation.writers.is_available("ffmpeg"))


def _check(panel: Panel, skeleton: Skeleton, index: int) -> np.ndarray:
    frames = np.asarray(panel.frames, dtype=np.float64)
    channels = 3 if panel.resolved_kind() == "3d" else 2
    if frames.ndim != 3 or frames.shape[-1] != channels:
        raise ShapeError(f"panel {index} ({panel.title!r}): expected ({'T'}, V, {channels}), got {frames.shape}")
    if frames.shape[1] != skeleton.num_joints:
        raise LayoutError(
            f"panel {index} ({panel.title!r}) has {frames.shape[1]} joints; layout {skeleton.name!r} has "
            f"{skeleton.num_joints}"
        )
    return frames


def _to_plot_axes(frames: np.ndarray, vertical_axis: int) -> np.ndarray:
    """Data axes -> matplotlib's (x, y, z) with the vertical data axis on z (right-handed for y-up data)."""
    if vertical_axis == 2:
        return frames
    if vertical_axis == 1:
        return frames[..., [0, 2, 1]] * np.array([1.0, -1.0, 1.0])
    raise ConfigError(f"vertical_axis must be 1 (y up) or 2 (z up), got {vertical_axis}")


def _limits(frames: np.ndarray) -> tuple[np.ndarray, float]:
    finite = frames[np.isfinite(frames).all(axis=-1)]
    if finite.size == 0:
        return np.zeros(frames.shape[-1]), 1.0
    low, high = finite.min(axis=0), finite.max(axis=0)
    return (low + high) / 2, max(float((high - low).max()) / 2, 1e-6) * 1.05


def animate(
    panels: Sequence[Panel],
    skeleton: Skeleton | str,
    out: str | Path,
    fps: float = 25.0,
    every: int = 1,
    max_frames: int | None = None,
    panel_size: float = 3.0,
    dpi: int = 60,
) -> Path:
    """Write an animation of side-by-side skeleton panels.

    Args:
        panels: The panels, left to right.
        skeleton: Layout (or registry name) whose edges are drawn.
        out: ``.gif`` (PillowWriter) or ``.mp4`` (ffmpeg) file.
        fps: Frame rate of the sequences; the animation plays at ``fps / every`` (rounded), i.e. in real time.
        every: Render every ``every``-th frame (long sequences, fast previews).
        max_frames: Render at most this many frames (after ``every``).
        panel_size: Width and height of a panel in inches.
        dpi: Resolution.

    Returns:
        The written file.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import animation

    layout = get_skeleton(skeleton)
    if not panels:
        raise ConfigError("animate needs at least one panel")
    if every < 1:
        raise ConfigError(f"every must be >= 1, got {every}")
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ConfigError(f"animation file must end in .gif or .mp4, got {out.name!r}")
    if suffix == ".mp4" and not ffmpeg_available():
        raise ConfigError("writing .mp4 needs ffmpeg on the PATH; write a .gif instead")
    data = []
    for index, panel in enumerate(panels):
        frames = _check(panel, layout, index)
        data.append(_to_plot_axes(frames, panel.vertical_axis) if panel.resolved_kind() == "3d" else frames)
    length = max(len(d) for d in data)
    shown = list(range(0, length, every))[:max_frames]
    figure = plt.figure(figsize=(panel_size * len(panels), panel_size), dpi=dpi)
    artists: list[list] = []
    for index, (panel, frames) in enumerate(zip(panels, data)):
        three_d = panel.resolved_kind() == "3d"
        axis: Any = figure.add_subplot(1, len(panels), index + 1, projection="3d" if three_d else None)
        center, radius = _limits(frames)
        axis.set_xlim(center[0] - radius, center[0] + radius)
        axis.set_ylim(center[1] - radius, center[1] + radius)
        if three_d:
            axis.set_zlim(center[2] - radius, center[2] + radius)
            axis.set_box_aspect((1, 1, 1))
            axis.view_init(elev=15, azim=-60)
        else:
            axis.set_aspect("equal")
            if panel.image_coordinates:
                axis.invert_yaxis()
        axis.set_title(panel.title, fontsize=9)
        axis.tick_params(labelsize=5)
        lines = []
        for _ in layout.edges:
            (line,) = axis.plot(*([[0.0, 0.0]] * (3 if three_d else 2)), color=panel.color, linewidth=1.5)
            lines.append(line)
        artists.append(lines)
    figure.tight_layout()

    def draw(step: int) -> list:
        changed = []
        for panel, frames, lines in zip(panels, data, artists):
            pose = frames[min(shown[step], len(frames) - 1)]
            for line, (a, b) in zip(lines, layout.edges):
                segment = pose[[a, b]]
                line.set_data(segment[:, 0], segment[:, 1])
                if panel.resolved_kind() == "3d":
                    line.set_3d_properties(segment[:, 2])
                changed.append(line)
        return changed

    movie = animation.FuncAnimation(figure, draw, frames=len(shown), blit=False)
    rate = max(1, round(fps / every))  # writers take whole frames per second
    writer = animation.PillowWriter(fps=rate) if suffix == ".gif" else animation.FFMpegWriter(fps=rate)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        movie.save(str(out), writer=writer, dpi=dpi)
    finally:
        plt.close(figure)
    return out


def plot_pose_3d(
    pose: np.ndarray, skeleton: Skeleton | str, out: str | Path, title: str = "", vertical_axis: int = 1
) -> Path:
    """A still 3D plot (PNG) of one pose ``(V, 3)``: an animation of one frame, written as an image."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    layout = get_skeleton(skeleton)
    frames = _check(Panel(np.asarray(pose)[None], title, "3d"), layout, 0)
    points = _to_plot_axes(frames[0], vertical_axis)
    figure = plt.figure(figsize=(3, 3), dpi=80)
    axis: Any = figure.add_subplot(projection="3d")
    for a, b in layout.edges:
        axis.plot(*points[[a, b]].T, color="C0")
    center, radius = _limits(points[None])
    for setter, c in zip((axis.set_xlim, axis.set_ylim, axis.set_zlim), center):
        setter(c - radius, c + radius)
    axis.set_title(title)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return out
