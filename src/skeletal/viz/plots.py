"""Still plots: errors against the horizon, the power-spectrum entropy and KLD of long predictions per second
(ST-Transformer figure 4), and one 3D pose."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from skeletal.atomic import atomic_path
from skeletal.errors import ConfigError

if TYPE_CHECKING:
    from skeletal.skeletons import Skeleton


def _pyplot():  # noqa: ANN202 - matplotlib.pyplot module
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_horizon_errors(
    curves: Mapping[str, Sequence[float]],
    horizons_ms: Sequence[float],
    out: str | Path,
    ylabel: str = "error",
    title: str = "",
) -> Path:
    """One line per model: error (``ylabel`` units) against the horizon in milliseconds; saved as PNG/SVG/PDF."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(4.5, 3.2), dpi=100)
    for name, values in curves.items():
        if len(values) != len(horizons_ms):
            raise ConfigError(f"{name}: {len(values)} values for {len(horizons_ms)} horizons")
        axis.plot(list(horizons_ms), list(values), marker="o", label=name)
    axis.set_xlabel("horizon (ms)")
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    out = Path(out)
    with atomic_path(out) as temporary:
        figure.savefig(temporary)
    plt.close(figure)
    return out


def plot_power_spectrum(
    results: Mapping[str, Any], out: str | Path, reference_entropy: float | None = None, title: str = ""
) -> Path:
    """Figure 4 of the ST-Transformer paper: PS entropy (left) and PS KLD (right) against the second of the
    prediction, one line per model.

    Args:
        results: ``{model: LongHorizonTable}`` (:func:`skeletal.evaluation.long_horizon.long_horizon_protocol`), or
            any objects with ``seconds``, ``entropy`` and ``kld`` lists.
        out: Image file.
        reference_entropy: The test data's entropy, drawn as a dashed line (default: the first result's).
        title: Figure title.
    """
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2), dpi=100)
    for name, result in results.items():
        seconds = list(result.seconds)
        left.plot(seconds, list(result.entropy), marker=".", label=name)
        right.plot(seconds, list(result.kld), marker=".", label=name)
    if reference_entropy is None and results:
        reference_entropy = getattr(next(iter(results.values())), "reference_entropy", None)
    if reference_entropy is not None:
        left.axhline(reference_entropy, color="k", linestyle="--", linewidth=1, label="test data")
    left.set_xlabel("second")
    left.set_ylabel("PS entropy (nats)")
    right.set_xlabel("second")
    right.set_ylabel("PS KLD (nats)")
    for axis in (left, right):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    out = Path(out)
    with atomic_path(out) as temporary:
        figure.savefig(temporary)
    plt.close(figure)
    return out


def plot_pose_3d(
    pose: np.ndarray, skeleton: Skeleton | str, out: str | Path, title: str = "", vertical_axis: int = 1
) -> Path:
    """A still 3D plot (PNG) of one pose ``(V, 3)``: an animation of one frame, written as an image."""
    from skeletal.skeletons import get as get_skeleton
    from skeletal.viz.animation import Panel, _check, _limits, _to_plot_axes

    plt = _pyplot()
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
    with atomic_path(out) as temporary:
        figure.savefig(temporary)
    plt.close(figure)
    return out
