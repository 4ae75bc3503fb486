"""Spatial self-attention drawn as in the ST-TR journal's appendix C (Fig. 8).

For one layer and frame: the ``V x V`` attention matrix as a heatmap (row = query joint, column = key joint) and
the skeleton of the input pose with every joint drawn as a circle whose size is proportional to its relevance,
the column sum of the matrix (how much all the joints attend to it). :func:`plot_spatial_attention` writes one
PNG; :func:`animate_spatial_attention` a GIF over the frames; :func:`draw_attention` runs a model on one sample
and writes both.

The matrix is averaged over the heads unless ``head`` is given. The pose is projected on two of its axes
(``axes``, default x and y); ``AttentionMaps.spatial[layer]`` is ``(N M, heads, T, V, V)`` for the recognition
models (persons folded in the batch), ``sample`` picks the row. Figures are drawn on the Agg canvas without
pyplot, so the global matplotlib backend is left alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

from skeletal.atomic import atomic_path
from skeletal.data.transforms import fit_persons
from skeletal.errors import DataError, ShapeError
from skeletal.nn.outputs import AttentionMaps
from skeletal.skeletons import Skeleton, get


def attention_matrix(
    maps: AttentionMaps, layer: int, frame: int, sample: int = 0, head: int | None = None
) -> np.ndarray:
    """The ``(V, V)`` spatial attention of one layer, frame and sample, averaged over heads unless ``head``."""
    if not maps.spatial:
        raise ShapeError("the attention maps hold no spatial layer (use a model with SSA, e.g. s-tr)")
    if not -len(maps.spatial) <= layer < len(maps.spatial):
        raise ShapeError(f"layer {layer} out of range: the maps hold {len(maps.spatial)} spatial layers")
    weights = maps.spatial[layer].detach().float().cpu().numpy()  # (N, heads, T, V, V)
    if not 0 <= frame < weights.shape[2]:
        raise ShapeError(f"frame {frame} out of range: layer {layer} has {weights.shape[2]} frames")
    chosen = weights[sample, :, frame]
    return chosen.mean(axis=0) if head is None else chosen[head]


def joint_relevance(matrix: np.ndarray) -> np.ndarray:
    """Relevance of every joint: the column sums of the attention matrix (appendix C-A)."""
    return matrix.sum(axis=0)


def _pose_frame(pose: np.ndarray, frame: int, frames: int, axes: tuple[int, int]) -> np.ndarray:
    """The 2D pose of the input frame matching attention frame ``frame`` (attention may be temporally strided)."""
    index = min(pose.shape[0] - 1, int(frame * pose.shape[0] / max(frames, 1)))
    return pose[index][:, list(axes)]


UP_JOINTS = ("head", "nose", "neck", "eye", "ear", "top")
DOWN_JOINTS = ("ankle", "foot", "toe", "heel")


def upright_sign(points: np.ndarray, skeleton: Skeleton) -> float:
    """``-1`` when the drawn vertical coordinate of ``points (..., V, 2)`` grows downwards (head below the feet,
    as in image and camera frames), else ``1``: the figure flips such poses so that every skeleton stands up.
    Head and feet are found by their joint names; a layout without them is drawn as it comes."""
    names = [name.lower() for name in skeleton.joint_names]
    up = [i for i, name in enumerate(names) if any(word in name for word in UP_JOINTS)]
    down = [i for i, name in enumerate(names) if any(word in name for word in DOWN_JOINTS)]
    if not up or not down:
        return 1.0
    vertical = np.asarray(points, dtype=np.float64)[..., 1]
    head, feet = np.nanmean(vertical[..., up]), np.nanmean(vertical[..., down])
    return -1.0 if head < feet else 1.0


def layer_title(maps: AttentionMaps, layer: int, frame: int) -> str:
    """``"spatial layer 3 of 9 (last), frame 0"``: a negative ``layer`` counted from the end, numbered from 1."""
    count = len(maps.spatial)
    index = layer % count
    return f"spatial layer {index + 1} of {count}" + (" (last)" if index == count - 1 else "") + f", frame {frame}"


def _draw(
    figure: Figure,
    matrix: np.ndarray,
    points: np.ndarray,
    skeleton: Skeleton,
    title: str,
    limits: tuple[np.ndarray, np.ndarray],
) -> None:
    figure.clear()
    heat, body = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    image = heat.imshow(matrix, cmap="viridis")
    ticks = np.arange(skeleton.num_joints)
    names = [name.replace("_", " ") for name in skeleton.joint_names]
    size = 7 if skeleton.num_joints <= 25 else 5
    heat.set_xticks(ticks, names, rotation=90, fontsize=size)
    heat.set_yticks(ticks, names, fontsize=size)
    heat.set_xlabel("key joint")
    heat.set_ylabel("query joint")
    heat.set_title(title)
    figure.colorbar(image, ax=heat, fraction=0.046, label="attention weight")
    for child, parent in skeleton.edges:
        body.plot(points[[child, parent], 0], points[[child, parent], 1], color="0.6", linewidth=1.5, zorder=1)
    relevance = joint_relevance(matrix)
    sizes = 600.0 * relevance / max(float(relevance.max()), 1e-12)
    body.scatter(points[:, 0], points[:, 1], s=sizes, c=relevance, cmap="viridis", zorder=2, edgecolors="k")
    low, high = limits
    margin = 0.1 * float(np.max(high - low) + 1e-6)
    body.set_xlim(low[0] - margin, high[0] + margin)
    body.set_ylim(low[1] - margin, high[1] + margin)
    body.set_aspect("equal")
    body.set_title("joint relevance (column sums)")
    body.axis("off")


def _figure() -> Figure:
    figure = Figure(figsize=(10, 5.5), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _check_pose(pose: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    pose = np.asarray(pose, dtype=np.float64)
    if pose.ndim != 3 or pose.shape[-1] not in (2, 3):
        raise ShapeError(f"pose must have shape (T, V, 2) or (T, V, 3), got {pose.shape}")
    skeleton.check(pose.shape[1], what=f"pose {pose.shape}")
    return pose


def plot_spatial_attention(
    maps: AttentionMaps,
    pose: np.ndarray,
    skeleton: Skeleton | str,
    layer: int,
    frame: int,
    out: str | Path,
    sample: int = 0,
    head: int | None = None,
    axes: tuple[int, int] = (0, 1),
) -> Path:
    """Save the heatmap and the joint relevance of one layer and frame as a PNG.

    Args:
        maps: Output of a model called with ``return_attention=True``.
        pose: The input pose ``(T, V, 3)`` or ``(T, V, 2)`` of that sample (and person).
        skeleton: Its layout (edges and joint count).
        layer: Index into ``maps.spatial`` (negative counts from the last layer).
        frame: Frame of that layer (layers after a stride have fewer frames; the pose frame is matched).
        out: Output file (``.png``).
        sample: Row of the attention batch (``n * M + m`` for sample ``n``, person ``m``).
        head: A single head, or ``None`` for the mean over heads.
        axes: The two pose coordinates drawn.

    Returns:
        The path written.
    """
    skeleton = get(skeleton)
    pose = _check_pose(pose, skeleton)
    matrix = attention_matrix(maps, layer, frame, sample, head)
    points = _pose_frame(pose, frame, maps.spatial[layer].shape[2], axes)
    points = points * np.array([1.0, upright_sign(pose[..., list(axes)], skeleton)])
    figure = _figure()
    _draw(figure, matrix, points, skeleton, layer_title(maps, layer, frame), (points.min(0), points.max(0)))
    out = Path(out)
    with atomic_path(out) as temporary:
        figure.savefig(temporary, dpi=100)
    return out


def animate_spatial_attention(
    maps: AttentionMaps,
    pose: np.ndarray,
    skeleton: Skeleton | str,
    layer: int,
    out: str | Path,
    sample: int = 0,
    head: int | None = None,
    axes: tuple[int, int] = (0, 1),
    fps: int = 10,
    frames: range | None = None,
) -> Path:
    """Save the evolution of one layer's spatial attention over the frames as a GIF (Pillow writer).

    Args:
        maps, pose, skeleton, layer, sample, head, axes: As :func:`plot_spatial_attention`.
        out: Output file (``.gif``).
        fps: Frames per second of the animation.
        frames: Attention frames to draw (all by default).

    Returns:
        The path written.
    """
    skeleton = get(skeleton)
    pose = _check_pose(pose, skeleton)
    attention_matrix(maps, layer, 0, sample, head)  # validates layer and sample
    total = maps.spatial[layer].shape[2]
    chosen = list(frames if frames is not None else range(total))
    flip = np.array([1.0, upright_sign(pose[..., list(axes)], skeleton)])
    projected = pose[..., list(axes)] * flip
    limits = (projected.reshape(-1, 2).min(0), projected.reshape(-1, 2).max(0))
    figure = _figure()

    def update(frame: int) -> list:
        matrix = attention_matrix(maps, layer, frame, sample, head)
        points = _pose_frame(pose, frame, total, axes) * flip
        _draw(figure, matrix, points, skeleton, layer_title(maps, layer, frame), limits)
        return []

    animation = FuncAnimation(figure, update, frames=chosen, blit=False, cache_frame_data=False)
    out = Path(out)
    with atomic_path(out) as temporary:
        animation.save(temporary, writer=PillowWriter(fps=fps), dpi=80)  # 800 pixels wide
    return out


def draw_attention(
    model: nn.Module,
    x: np.ndarray,
    skeleton: str,
    layer: int,
    frame: int,
    out: str | Path,
    person: int = 0,
    head: int | None = None,
    axes: tuple[int, int] = (0, 1),
    gif: bool = True,
    max_frames: int = 64,
    fps: int = 10,
) -> dict[str, Path]:
    """Spatial attention of one sample as the journal's appendix C draws it: a PNG and a GIF over the frames.

    Args:
        model: A recognition model with spatial self-attention (``s-tr``, ``st-tr``... or a
            :class:`~skeletal.inference.recognition.StreamInput`).
        x: One sample's joints ``(M, T, V, C)`` (persons padded or cut to the model's).
        skeleton: Layout of the joints.
        layer: Spatial attention layer (index into ``AttentionMaps.spatial``; negative from the last).
        frame: Frame of that layer (layers after a stride have fewer frames).
        out: Output folder: ``attention_layer{L}_frame{F}.png`` and ``attention_layer{L}.gif``.
        person: Which person's attention and pose are drawn.
        head: A single head, or the mean over heads.
        axes: The two pose coordinates drawn.
        gif: Also write the animation.
        max_frames: At most this many (first) frames in the animation.
        fps: Frames per second of the animation.

    Returns:
        The paths written: ``{"png": ..., "gif": ...}``.
    """
    num_persons = int(getattr(_inner(model), "num_persons", len(x)) or len(x))
    x = fit_persons(x, num_persons)
    if not 0 <= person < num_persons:
        raise DataError(f"person {person} out of range: the model takes {num_persons} persons")
    with torch.no_grad():
        output = model(torch.from_numpy(np.array(x, dtype=np.float32))[None], return_attention=True)
    _, maps = output
    pose = x[person][..., :3]
    out = Path(out)
    png = out / f"attention_layer{layer}_frame{frame}.png"
    files = {"png": plot_spatial_attention(maps, pose, skeleton, layer, frame, png, person, head, axes)}
    if gif:
        total = maps.spatial[layer].shape[2]
        files["gif"] = animate_spatial_attention(
            maps, pose, skeleton, layer, out / f"attention_layer{layer}.gif", sample=person, head=head, axes=axes,
            fps=fps, frames=range(min(total, max_frames)),
        )  # fmt: skip
    return files


def _inner(model: nn.Module) -> nn.Module:
    """The first plain model inside wrappers: the ``model`` of a
    :class:`~skeletal.inference.recognition.StreamInput`, the ``spatial`` member of a ``TwoStream``."""
    while True:
        member = getattr(model, "model", None)
        if isinstance(member, nn.Module):
            model = member
        elif hasattr(model, "spatial") and isinstance(model.spatial, nn.Module):
            model = model.spatial
        else:
            return model
