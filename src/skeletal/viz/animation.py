"""Skeleton animations: side-by-side 2D and 3D panels of ``(T, V, 2|3)`` sequences, written as GIF or MP4.

Typical uses: a motion prediction beside its ground truth (two 3D panels), or 2D keypoints (over the video
frames, when there is a video) beside the lifted 3D poses. Every panel shares the skeleton's edges, drawn blue on
the left side, red on the right and grey in the middle; a panel shorter than the animation holds its last frame.

Rendering: matplotlib draws each panel's axes once (fixed limits, equal aspect, named axes, a ground plane under
3D skeletons); every frame is then that background with the bones drawn by Pillow at the pixel positions of
matplotlib's projection (:class:`SkeletonRenderer`), hundreds of frames per second instead of the handful of a
full matplotlib redraw. GIFs are written by Pillow; ``.mp4`` by OpenCV (the ``[video]`` extra) or an ``ffmpeg``
executable (:func:`ffmpeg_available`), otherwise a :class:`~skeletal.errors.ConfigError` says so.

Example:
    >>> animate([Panel(prediction, "prediction"), Panel(truth, "ground truth")], "cmu38", "walk.gif", fps=60, every=4)
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from skeletal.atomic import atomic_path
from skeletal.errors import ConfigError, LayoutError, ShapeError
from skeletal.skeletons import Skeleton
from skeletal.skeletons import get as get_skeleton

LEFT, RIGHT, MIDDLE = (31, 119, 180), (214, 39, 40), (70, 70, 70)
"""Bone colours (RGB) of the left side, the right side and the middle of the skeleton."""
MIN_WIDTH = 800
"""Narrowest animation, in pixels."""


@dataclass
class Panel:
    """One subplot of an animation.

    Attributes:
        frames: ``(T, V, 2)`` 2D points or ``(T, V, 3)`` 3D joints (any units; limits are fitted to the data).
        title: Panel title.
        kind: ``"2d"``, ``"3d"`` or ``"auto"`` (from the last axis).
        color: Matplotlib colour of the joints (the bones are coloured by side).
        vertical_axis: For 3D panels, which data axis points up (1: ``y`` up as CMU/H3.6M/SMPL; 2: ``z`` up).
        image_coordinates: For 2D panels, ``y`` grows downwards (pixel coordinates): the axis is inverted.
        labels: Names of the plotted axes (2D: x, y; 3D: the two horizontal ones, then up); default from the data.
        units: Appended to the axis names, e.g. ``"m"`` or ``"px"``.
        images: 2D panels: ``images(t)`` is the RGB ``(H, W, 3)`` uint8 video frame ``t`` drawn under the points
            (pixel coordinates of that frame), or None for no image; frames are asked for in increasing order.
        image_size: ``(width, height)`` of those frames (the panel's limits).
    """

    frames: np.ndarray
    title: str = ""
    kind: Literal["2d", "3d", "auto"] = "auto"
    color: str = "C0"
    vertical_axis: int = 1
    image_coordinates: bool = True
    labels: tuple[str, ...] | None = None
    units: str = ""
    images: Callable[[int], np.ndarray | None] | None = None
    image_size: tuple[int, int] | None = None

    def resolved_kind(self) -> str:
        if self.kind != "auto":
            return self.kind
        return "3d" if np.asarray(self.frames).shape[-1] == 3 else "2d"

    def axis_labels(self) -> tuple[str, ...]:
        if self.labels is not None:
            names = self.labels
        elif self.resolved_kind() == "2d":
            names = ("x", "y")
        else:
            names = ("x", "-z", "y (up)") if self.vertical_axis == 1 else ("x", "y", "z (up)")
        return tuple(f"{name} ({self.units})" if self.units else name for name in names)


def ffmpeg_available() -> bool:
    """Whether ``.mp4`` files can be written (OpenCV, from the ``[video]`` extra, or an ``ffmpeg`` executable)."""
    try:
        import cv2  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return shutil.which("ffmpeg") is not None
    return True


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


def _bone_colours(skeleton: Skeleton) -> list[tuple[int, int, int]]:
    left, right = set(skeleton.left), set(skeleton.right)
    colours = []
    for a, b in skeleton.edges:
        colours.append(LEFT if {a, b} & left else RIGHT if {a, b} & right else MIDDLE)
    return colours


class SkeletonRenderer:
    """Frames of side-by-side skeleton panels: matplotlib draws the axes once, Pillow the bones of each frame.

    Args:
        panels: The panels, left to right (checked against ``skeleton``).
        skeleton: Layout (or registry name) whose edges are drawn.
        panel_size: Height of a panel in inches (its width too, except that the figure is at least
            :data:`MIN_WIDTH` pixels wide).
        dpi: Resolution.
    """

    def __init__(self, panels: Sequence[Panel], skeleton: Skeleton | str, panel_size: float = 4.5, dpi: int = 100):
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        if not panels:
            raise ConfigError("animate needs at least one panel")
        self.skeleton = get_skeleton(skeleton)
        self.panels = list(panels)
        self.data = []
        for index, panel in enumerate(self.panels):
            frames = _check(panel, self.skeleton, index)
            three_d = panel.resolved_kind() == "3d"
            self.data.append(_to_plot_axes(frames, panel.vertical_axis) if three_d else frames)
        self.length = max(len(frames) for frames in self.data)
        width = max(panel_size * len(panels), MIN_WIDTH / dpi)
        figure = plt.figure(figsize=(width, panel_size), dpi=dpi)
        axes: list[Any] = []
        for index, (panel, frames) in enumerate(zip(self.panels, self.data)):
            three_d = panel.resolved_kind() == "3d"
            axis: Any = figure.add_subplot(1, len(panels), index + 1, projection="3d" if three_d else None)
            names = panel.axis_labels()
            if three_d:
                center, radius = _limits(frames)
                finite = frames[np.isfinite(frames).all(-1)]
                ground = float(finite[:, 2].min()) if finite.size else center[2] - radius
                axis.set_xlim(center[0] - radius, center[0] + radius)
                axis.set_ylim(center[1] - radius, center[1] + radius)
                axis.set_zlim(ground, ground + 2 * radius)
                axis.set_box_aspect((1, 1, 1))  # equal aspect: the limits span the same length on every axis
                axis.view_init(elev=15, azim=-60)
                grid = np.linspace(-radius, radius, 2)
                plane_x, plane_y = np.meshgrid(center[0] + grid, center[1] + grid)
                axis.plot_surface(plane_x, plane_y, np.full_like(plane_x, ground), color="0.85", alpha=0.6)
                axis.set_xlabel(names[0], fontsize=9)
                axis.set_ylabel(names[1], fontsize=9)
                axis.set_zlabel(names[2], fontsize=9)
                for which in (axis.xaxis, axis.yaxis, axis.zaxis):
                    which.set_major_locator(MaxNLocator(4))
            else:
                if panel.image_size is not None:
                    axis.set_xlim(0, panel.image_size[0])
                    axis.set_ylim(0, panel.image_size[1])
                else:
                    center, radius = _limits(frames)
                    axis.set_xlim(center[0] - radius, center[0] + radius)
                    axis.set_ylim(center[1] - radius, center[1] + radius)
                axis.set_aspect("equal")
                if panel.image_coordinates:
                    axis.invert_yaxis()
                axis.set_xlabel(names[0], fontsize=9)
                axis.set_ylabel(names[1], fontsize=9)
                axis.xaxis.set_major_locator(MaxNLocator(5))
                axis.yaxis.set_major_locator(MaxNLocator(5))
            axis.set_title(panel.title, fontsize=11)
            axis.tick_params(labelsize=8)
            axes.append(axis)
        figure.tight_layout()
        figure.canvas.draw()
        self.background = np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()  # type: ignore[attr-defined]
        self.height = self.background.shape[0]
        self._project = [self._projection(axis, panel) for axis, panel in zip(axes, self.panels)]
        self._boxes = []
        for axis in axes:
            box = axis.get_window_extent()
            self._boxes.append((box.x0, self.height - box.y1, box.x1, self.height - box.y0))
        plt.close(figure)
        self.colours = _bone_colours(self.skeleton)

    def _projection(self, axis: Any, panel: Panel) -> Callable[[np.ndarray], np.ndarray]:
        """Data points ``(V, 2|3)`` -> pixel positions ``(V, 2)`` of the rendered figure (row 0 at the top)."""
        transform, height = axis.transData, self.height
        if panel.resolved_kind() == "2d":
            return lambda points: transform.transform(points) * np.array([1.0, -1.0]) + np.array([0.0, height])
        matrix = axis.get_proj()

        def project(points: np.ndarray) -> np.ndarray:
            homogeneous = np.concatenate([points, np.ones((len(points), 1))], axis=1) @ matrix.T
            flat = homogeneous[:, :2] / homogeneous[:, 3:4]
            return transform.transform(flat) * np.array([1.0, -1.0]) + np.array([0.0, height])

        return project

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of a frame in pixels."""
        return self.background.shape[1], self.background.shape[0]

    def frame(self, step: int) -> np.ndarray:
        """The RGB ``(H, W, 3)`` uint8 image of animation frame ``step``."""
        from PIL import Image, ImageDraw

        image = Image.fromarray(self.background)
        for panel, box in zip(self.panels, self._boxes):
            if panel.images is not None and panel.image_size is not None:
                picture = panel.images(min(step, len(panel.frames) - 1))
                if picture is not None:
                    left, top, right, bottom = (round(v) for v in box)
                    image.paste(Image.fromarray(picture).resize((right - left, bottom - top)), (left, top))
        draw = ImageDraw.Draw(image)
        width = max(2, round(self.height / 150))
        for frames, project in zip(self.data, self._project):
            pose = frames[min(step, len(frames) - 1)]
            pixels = project(np.nan_to_num(pose))
            shown = np.isfinite(pose).all(-1)
            for (a, b), colour in zip(self.skeleton.edges, self.colours):
                if shown[a] and shown[b]:
                    draw.line([tuple(pixels[a]), tuple(pixels[b])], fill=colour, width=width)
            for joint in np.flatnonzero(shown):
                x, y = pixels[joint]
                draw.ellipse([x - width, y - width, x + width, y + width], fill=(30, 30, 30))
        return np.asarray(image)

    def frames(self, steps: Sequence[int]) -> Iterator[np.ndarray]:
        for step in steps:
            yield self.frame(step)


def write_video(frames: Iterator[np.ndarray], out: str | Path, fps: float, size: tuple[int, int]) -> Path:
    """Write RGB frames of ``size`` (width, height) to ``.gif`` (Pillow) or ``.mp4`` (OpenCV, else ffmpeg),
    atomically (:func:`skeletal.atomic.atomic_path`)."""
    out = Path(out)
    with atomic_path(out) as temporary:
        _write_video(frames, temporary, fps, size)
    return out


_GIF_COLOURS = 64
"""Colours of a GIF's palette: 63 quantised from the first frame, the last index transparent."""


def _write_gif(frames: Iterator[np.ndarray], out: Path, fps: float) -> Path:
    """A looping GIF written frame by frame: after the first, each frame holds the box of the pixels that changed
    (drawn over the previous one, its unchanged pixels transparent), mapped without dithering onto the 63
    colours quantised from the first frame (the animations draw the same few colours throughout, so every frame
    keeps the first frame's background colours).

    Pillow's ``save(save_all=True)`` holds every frame until the end (300 frames of 900 x 450 pixels: about
    230 MB of peak memory); its documented ``getheader``/``getdata`` helpers encode one frame at a time.
    """
    from PIL import GifImagePlugin, Image

    duration = round(1000 / fps)
    written, previous = 0, None
    with open(out, "wb") as stream:
        for frame in frames:
            offset, part, unchanged = (0, 0), frame, None
            if previous is not None and previous.shape == frame.shape:  # only the box of the pixels that changed
                changed = (frame != previous).any(-1)
                rows, columns = np.flatnonzero(changed.any(1)), np.flatnonzero(changed.any(0))
                top, left = (int(rows[0]), int(columns[0])) if rows.size else (0, 0)
                bottom, right = (int(rows[-1]) + 1, int(columns[-1]) + 1) if rows.size else (1, 1)
                offset, part, unchanged = (left, top), frame[top:bottom, left:right], ~changed[top:bottom, left:right]
            image = Image.fromarray(np.ascontiguousarray(part))
            if not written:
                palette = image.quantize(colors=_GIF_COLOURS - 1, method=Image.Quantize.FASTOCTREE)
                header, _ = GifImagePlugin.getheader(palette, info={"loop": 0, "duration": duration})
                stream.write(b"".join(header))
            image = image.quantize(palette=palette, dither=Image.Dither.NONE)
            extra: dict[str, int] = {}
            if unchanged is not None:  # the pixels of the box that did not change are transparent: long runs
                indices = np.asarray(image).copy()
                indices[unchanged] = _GIF_COLOURS - 1
                image = Image.fromarray(indices, mode="P")
                image.putpalette(palette.getpalette() or [])
                extra["transparency"] = _GIF_COLOURS - 1
            chunks = GifImagePlugin.getdata(image, offset, duration=duration, disposal=1, **extra)
            stream.write(b"".join(chunks))
            written, previous = written + 1, frame
        if not written:
            raise ConfigError(f"no frames to write to {out}")
        stream.write(b";")  # the GIF trailer
    return out


def _write_video(frames: Iterator[np.ndarray], out: Path, fps: float, size: tuple[int, int]) -> Path:
    suffix = out.suffix.lower()
    if suffix == ".gif":
        return _write_gif(frames, out, fps)
    try:
        import cv2  # type: ignore[import-not-found]
    except ImportError:
        cv2 = None
    if cv2 is not None:
        writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        try:
            for frame in frames:
                writer.write(np.ascontiguousarray(frame[..., ::-1]))
        finally:
            writer.release()
        return out
    raw = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-r", f"{fps:g}", "-i", "-"]
    even = ["-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
    command = ["ffmpeg", "-y", "-loglevel", "error", *raw, *even, str(out)]
    with subprocess.Popen(command, stdin=subprocess.PIPE) as process:
        assert process.stdin is not None
        for frame in frames:
            process.stdin.write(np.ascontiguousarray(frame).tobytes())
        process.stdin.close()
        if process.wait() != 0:
            raise ConfigError(f"ffmpeg failed to write {out}")
    return out


def animate(
    panels: Sequence[Panel],
    skeleton: Skeleton | str,
    out: str | Path,
    fps: float = 25.0,
    every: int = 1,
    max_frames: int | None = None,
    panel_size: float = 4.5,
    dpi: int = 100,
) -> Path:
    """Write an animation of side-by-side skeleton panels (at least :data:`MIN_WIDTH` pixels wide).

    Args:
        panels: The panels, left to right.
        skeleton: Layout (or registry name) whose edges are drawn.
        out: ``.gif`` or ``.mp4`` file.
        fps: Frame rate of the sequences; the animation plays at ``fps / every``, i.e. in real time.
        every: Render every ``every``-th frame (long sequences, fast previews).
        max_frames: Render at most this many frames (after ``every``).
        panel_size: Height of a panel in inches.
        dpi: Resolution.

    Returns:
        The written file.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ConfigError(f"animation file must end in .gif or .mp4, got {out.name!r}")
    if suffix == ".mp4" and not ffmpeg_available():
        raise ConfigError("writing .mp4 needs OpenCV (the [video] extra) or ffmpeg on the PATH; write a .gif instead")
    if not panels:
        raise ConfigError("animate needs at least one panel")
    shown = shown_frames(max(len(panel.frames) for panel in panels), every, max_frames)  # checks every
    # only the frames shown reach the renderer (it converts what it is given: a long track costs its preview)
    renderer = SkeletonRenderer([_subsampled(panel, shown) for panel in panels], skeleton, panel_size, dpi)
    return write_video(renderer.frames(range(renderer.length)), out, fps / every, renderer.size)


def shown_frames(length: int, every: int = 1, max_frames: int | None = None, start: int = 0) -> slice:
    """The frames of a ``length``-frame sequence that an animation shows: every ``every``-th from ``start``, at
    most ``max_frames`` of them."""
    if every < 1:
        raise ConfigError(f"every must be >= 1, got {every}")
    count = -(-max(length - start, 0) // every)
    count = count if max_frames is None else min(count, max_frames)
    return slice(start, start + every * count, every)


def _subsampled(panel: Panel, shown: slice) -> Panel:
    """``panel`` with only the ``shown`` frames (a view); its video frame ``t`` is the original's ``t``-th shown."""
    images = panel.images
    if shown == slice(0, len(panel.frames), 1) or not len(panel.frames):
        return panel
    start, step = shown.start, shown.step

    def remapped(t: int) -> np.ndarray | None:
        assert images is not None
        return images(start + t * step)

    return replace(panel, frames=panel.frames[shown], images=None if images is None else remapped)
