"""Recognition evaluation: top-1 / top-5 accuracy, per-class accuracy, confusion matrix, two-stream ensembles.

Protocol of the ST-TR tables (journal section V): every test sample is classified once (no test-time
augmentation); **top-k accuracy** is the fraction of samples whose label is among the ``k`` highest scores
(averaged over samples, in [0, 1]); **per-class accuracy** is the top-1 accuracy over the samples of each class
(``nan`` for a class without samples) and **mean class accuracy** its mean over the classes present.

Two-stream ensemble (journal section IV-D): ``evaluate_recognition(S_TR, ensemble=T_TR)`` (CLI ``skeletal eval
S_TR.safetensors --ensemble T_TR.safetensors``) loads both model files and combines them with
:class:`~skeletal.models.recognition.two_stream.TwoStream`: by default the sum of their softmax scores, as the paper
says; ``fusion="logits"`` sums their logits, as the official ``ensemble.py`` does (it adds the raw scores that
``main.py`` saves). Each member reads its own input stream (``data.stream`` of its run config: joint, bone, motion
or joint+bone), made from the joints by :class:`~skeletal.inference.recognition.StreamInput`, so a joint model and a
bone model combine too (the 2s-AGCN ensemble). Chosen over a combined model file because the streams are trained
separately and may differ in stream, width or variant; a registered two-stream model (``st-tr``) saved as one file
is evaluated the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.data.datasets import load_split
from skeletal.errors import ConfigError, DataError, ShapeError
from skeletal.inference.recognition import class_scores, load_recognition_model


@dataclass
class RecognitionReport:
    """What :func:`recognition_report` measured.

    Attributes:
        top1: Top-1 accuracy in [0, 1].
        top5: Top-5 accuracy (top-``C`` when there are fewer than 5 classes).
        per_class: ``(C,)`` top-1 accuracy of each class (``nan`` without samples).
        counts: ``(C,)`` test samples per class.
        confusion: ``(C, C)`` counts, ``confusion[true, predicted]``.
        class_names: Names of the classes (``class_0``... when unknown).
        files: Files written (confusion plot, per-class CSV), by kind.
    """

    top1: float
    top5: float
    per_class: np.ndarray
    counts: np.ndarray
    confusion: np.ndarray
    class_names: tuple[str, ...]
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def mean_class_accuracy(self) -> float:
        """Mean of the per-class accuracies over the classes with samples."""
        present = self.counts > 0
        return float(self.per_class[present].mean()) if present.any() else float("nan")

    def metrics(self) -> dict[str, float]:
        """``{"test/top1", "test/top5", "test/mean_class_accuracy"}``."""
        return {"test/top1": self.top1, "test/top5": self.top5, "test/mean_class_accuracy": self.mean_class_accuracy}

    def write_csv(self, path: str | Path) -> Path:
        """Write ``class,name,samples,accuracy`` rows."""
        lines = ["class,name,samples,accuracy"]
        for index, (name, count, accuracy) in enumerate(zip(self.class_names, self.counts, self.per_class)):
            lines.append(f"{index},{name},{int(count)},{'' if np.isnan(accuracy) else f'{accuracy:.6f}'}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def recognition_report(
    scores: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...] | list[str] | None = None
) -> RecognitionReport:
    """Top-1, top-5, per-class accuracy and confusion matrix of class scores.

    Args:
        scores: ``(N, C)`` logits or probabilities (only their order matters).
        labels: ``(N,)`` true classes in ``0 .. C - 1``.
        class_names: ``C`` names (default ``class_0`` ...).

    Returns:
        The report.
    """
    scores, labels = np.asarray(scores), np.asarray(labels).astype(np.int64)
    if scores.ndim != 2 or labels.shape != (scores.shape[0],):
        raise ShapeError(f"expected scores (N, C) and labels (N,), got {scores.shape} and {labels.shape}")
    classes = scores.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(
            f"labels must lie in 0..{classes - 1} (the model's classes), got {labels.min()}..{labels.max()}"
        )
    names = tuple(class_names) if class_names is not None else tuple(f"class_{i}" for i in range(classes))
    if len(names) != classes:
        raise ShapeError(f"{len(names)} class names for {classes} classes")
    order = np.argsort(-scores, axis=1, kind="stable")
    predicted = order[:, 0]
    top5 = (order[:, : min(5, classes)] == labels[:, None]).any(axis=1)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    counts = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(counts > 0, np.diag(confusion) / np.maximum(counts, 1), np.nan)
    top1 = float((predicted == labels).mean()) if labels.size else float("nan")
    return RecognitionReport(
        top1, float(top5.mean()) if labels.size else float("nan"), per_class, counts, confusion, names
    )


def class_names_of(split: str | Path | None, config: dict[str, Any]) -> tuple[str, ...] | None:
    """Class names when known: a ``class_names`` list in a prepared part's label JSON or in an ``.npz``, or the
    actions of the synthetic generator."""
    if split is not None:
        path = Path(split)
        if path.suffix == ".npy" and path.name.endswith("_data.npy"):
            label_file = path.with_name(path.name.replace("_data.npy", "_label.json"))
            if label_file.is_file():
                names = json.loads(label_file.read_text()).get("class_names")
                return tuple(names) if names else None
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return tuple(str(n) for n in archive["class_names"]) if "class_names" in archive.files else None
        return None
    data = config.get("data", {}) or {}
    if data.get("source") == "synthetic":
        from skeletal.data.synthetic import ACTIONS

        return tuple((data.get("synthetic") or {}).get("actions", ACTIONS))
    stored = data.get("test") or data.get("val")
    return class_names_of(stored, {}) if stored else None


def _stored_test_split(config: dict[str, Any]) -> dict[str, np.ndarray]:
    from skeletal.data.datasets import synthetic_splits

    data = config.get("data", {}) or {}
    if data.get("source") == "synthetic":
        return synthetic_splits("recognition", seed=int(config.get("seed", 0)), **dict(data.get("synthetic") or {}))[
            "test"
        ]
    stored = data.get("test") or data.get("val")
    if not stored:
        raise ConfigError("the model file's config names no test or val split; pass --data")
    return load_split(stored, "recognition")


def evaluate_recognition(
    model_file: str | Path,
    data: str | Path | None = None,
    ensemble: str | Path | None = None,
    batch_size: int = 64,
    out: str | Path | None = None,
    class_names: tuple[str, ...] | list[str] | None = None,
    fusion: str = "softmax",
) -> RecognitionReport:
    """``skeletal eval`` of a recognition model file (or a two-stream ensemble): metrics, confusion plot, CSV.

    Args:
        model_file: The model file.
        data: Prepared test split (``.npz``, folder of ``.npy``, or ``prepare_*`` part); default the test (else
            val) split of the file's run config, synthetic data included.
        ensemble: Second stream's model file (see the module docstring).
        batch_size: Samples per forward pass.
        out: Folder of the outputs (``confusion.png``, ``per_class.csv``); default beside the model file
            (``{stem}_confusion.png``, ``{stem}_per_class.csv``).
        class_names: Class names (default: from the data when it carries them, else ``class_i``).
        fusion: Two-stream rule, ``"softmax"`` or ``"logits"`` (see :func:`load_recognition_model`).

    Returns:
        The report; ``report.files`` holds the paths written.
    """
    model, info = load_recognition_model(model_file, ensemble, fusion)
    split = load_split(data, "recognition") if data is not None else _stored_test_split(info.config or {})
    names = tuple(class_names) if class_names is not None else class_names_of(data, info.config or {})
    scores = class_scores(model, split["x"], batch_size)
    if names is not None and len(names) != scores.shape[1]:
        names = None  # e.g. a subset of the synthetic actions named elsewhere: fall back to indices
    report = recognition_report(scores, np.asarray(split["y"]), names)
    from skeletal.viz.confusion import plot_confusion

    model_file = Path(model_file)
    if out is not None:
        targets = {"confusion": Path(out) / "confusion.png", "per_class": Path(out) / "per_class.csv"}
    else:
        stem = model_file.with_suffix("")
        targets = {"confusion": Path(f"{stem}_confusion.png"), "per_class": Path(f"{stem}_per_class.csv")}
    title = model_file.name + (f" + {Path(ensemble).name}" if ensemble is not None else "")
    title += f"  (top-1 {report.top1:.3f})"
    report.files["confusion"] = plot_confusion(report.confusion, targets["confusion"], report.class_names, title=title)
    report.files["per_class"] = report.write_csv(targets["per_class"])
    return report
