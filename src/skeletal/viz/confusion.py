"""Confusion-matrix plot of a recognition evaluation (rows: true class, columns: predicted class).

Drawn on the Agg canvas without pyplot, so the global matplotlib backend is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from skeletal.atomic import atomic_path
from skeletal.errors import ShapeError

MAX_LABELLED_CLASSES = 60
"""Above this many classes the axes carry no class names (they would overlap); indices are shown instead."""


def plot_confusion(
    confusion: np.ndarray,
    out: str | Path,
    class_names: Sequence[str] | None = None,
    normalize: bool = True,
    title: str = "confusion matrix",
) -> Path:
    """Save a confusion matrix as a PNG heatmap.

    Args:
        confusion: ``(C, C)`` counts, ``confusion[true, predicted]``.
        out: Output file (``.png``).
        class_names: Names of the ``C`` classes (axis labels up to :data:`MAX_LABELLED_CLASSES` classes).
        normalize: Divide each row by its count (recall per class; rows without samples stay zero); the cells
            of small matrices are annotated with the value.
        title: Figure title.

    Returns:
        The path written.
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ShapeError(f"confusion matrix must be square (C, C), got shape {confusion.shape}")
    classes = confusion.shape[0]
    if class_names is not None and len(class_names) != classes:
        raise ShapeError(f"{len(class_names)} class names for a {classes}-class confusion matrix")
    values = confusion
    if normalize:
        totals = confusion.sum(axis=1, keepdims=True)
        values = np.divide(confusion, totals, out=np.zeros_like(confusion), where=totals > 0)
    size = float(np.clip(0.25 * classes + 3.0, 5.0, 24.0))
    figure = Figure(figsize=(size + 1.5, size))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    image = axes.imshow(values, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else None)
    figure.colorbar(image, ax=axes, fraction=0.046, label="fraction of the true class" if normalize else "samples")
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title)
    if class_names is not None and classes <= MAX_LABELLED_CLASSES:
        fontsize = 9 if classes <= 20 else 6
        axes.set_xticks(range(classes), list(class_names), rotation=90, fontsize=fontsize)
        axes.set_yticks(range(classes), list(class_names), fontsize=fontsize)
    if classes <= 20:
        for (row, column), value in np.ndenumerate(values):
            text = f"{value:.2f}" if normalize else f"{int(value)}"
            colour = "white" if value > 0.6 * max(float(values.max()), 1e-12) else "black"
            axes.text(column, row, text, ha="center", va="center", fontsize=8, color=colour)
    figure.tight_layout()
    out = Path(out)
    with atomic_path(out) as temporary:
        figure.savefig(temporary, dpi=100)
    return out
