"""Recognition evaluation: top-1 / top-5 accuracy, per-class accuracy, confusion matrix, two-stream ensembles.

Protocol of the ST-TR tables (journal section V): every test sample is classified once (no test-time
augmentation); **top-k accuracy** is the fraction of samples whose label is among the ``k`` highest scores
(averaged over samples, in [0, 1]); **per-class accuracy** is the top-1 accuracy over the samples of each class
(``nan`` for a class without samples) and **mean class accuracy** its mean over the classes present.

Two-stream ensemble (journal section IV-D): ``evaluate_recognition(S_TR, ensemble=T_TR)`` (CLI ``skeletal eval
S_TR.safetensors --ensemble T_TR.safetensors``) loads both model files and combines them with
:class:`~skeletal.models.recognition.two_stream.TwoStream`: by default the sum of their softmax scores, as the
paper says; ``fusion="logits"`` sums their logits, as the official ``ensemble.py`` does (it adds the raw scores
that ``main.py`` saves). Each member reads its own input stream (``data.stream`` of its run config: joint, bone,
motion or joint+bone), made from the joints by :class:`StreamInput`, so a joint model and a bone model combine
too (the 2s-AGCN ensemble). Chosen over a combined model file because the streams are trained separately and
may differ in stream, width or variant; a registered two-stream model (``st-tr``) saved as one file is
evaluated the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from skeletal.errors import ConfigError, DataError, ShapeError
from skeletal.tasks.data import STREAMS, load_split, make_stream


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


class StreamInput(nn.Module):
    """A recognition model fed a stream made from the joints (:func:`skeletal.tasks.data.make_stream`).

    Args:
        model: The model trained on ``stream``.
        stream: ``joint``, ``bone``, ``motion`` or ``joint+bone``.
        skeleton: Layout of the joints (for the bone streams).

    Shape:
        x: joints ``(N, M, T, V, C)`` -> the model's output on ``(N, M, T, V, C')``.
    """

    def __init__(self, model: nn.Module, stream: str, skeleton: str | None = None):
        super().__init__()
        if stream not in STREAMS:
            raise ConfigError(f"unknown stream {stream!r}; expected one of {', '.join(STREAMS)}")
        self.model, self.stream, self.skeleton = model, stream, skeleton
        self.outputs_probabilities = bool(getattr(model, "outputs_probabilities", False))

    def forward(self, x: torch.Tensor, return_attention: bool = False) -> Any:
        if self.stream != "joint":
            converted = make_stream(x.detach().cpu().numpy(), self.stream, self.skeleton)
            x = torch.from_numpy(np.ascontiguousarray(converted)).to(x.device, x.dtype)
        return self.model(x, return_attention=True) if return_attention else self.model(x)


def _stream_of(info: Any) -> tuple[str, str | None]:
    data = (info.config or {}).get("data", {}) or {}
    skeleton = info.skeleton or data.get("skeleton") or info.model_kwargs.get("skeleton")
    return str(data.get("stream") or "joint"), skeleton if isinstance(skeleton, str) else None


def load_recognition_model(
    model_file: str | Path, ensemble: str | Path | None = None, fusion: str = "softmax"
) -> tuple[nn.Module, Any]:
    """A recognition model file (and optionally a second stream) as one module taking joints.

    Args:
        model_file: ``.safetensors`` written by ``skeletal train`` (or :func:`skeletal.checkpoint.save`).
        ensemble: A second model file: the two are combined by ``TwoStream``.
        fusion: How ``TwoStream`` combines them: ``"softmax"`` (scores summed, the paper) or ``"logits"``
            (the official ``ensemble.py``).

    Returns:
        ``(model, info)``: the module in eval mode, taking joints ``(N, M, T, V, C)`` (each member converts
        them to its stream), and the first file's metadata (:class:`skeletal.checkpoint.ModelFile`).
    """
    from skeletal import checkpoint
    from skeletal.models.recognition.two_stream import FUSIONS, TwoStream

    if fusion not in FUSIONS:
        raise ConfigError(f"two-stream fusion must be one of {FUSIONS}, got {fusion!r}")
    members = []
    infos = []
    for path in [model_file] + ([ensemble] if ensemble is not None else []):
        model = checkpoint.load(path)
        info: checkpoint.ModelFile = getattr(model, "skeletal_info")  # noqa: B009 (set by checkpoint.load)
        if info.task != "recognition":
            raise ConfigError(f"{path} is a {info.task or 'unknown'} model, not a recognition model")
        members.append(StreamInput(model, *_stream_of(info)))
        infos.append(info)
    if len(members) == 1:
        return members[0].eval(), infos[0]
    classes = [_num_classes(m.model) for m in members]
    if None not in classes and classes[0] != classes[1]:
        raise ConfigError(f"the ensemble members have {classes[0]} and {classes[1]} classes; they must agree")
    return TwoStream(members[0], members[1], fusion).eval(), infos[0]  # type: ignore[arg-type]


@torch.no_grad()
def class_scores(model: nn.Module, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities ``(N, C)`` (rows sum to 1) of joints ``x (N, M, T, V, C)``, batch by batch."""
    device = next(model.parameters()).device
    outputs = []
    for start in range(0, len(x), batch_size):
        batch = torch.as_tensor(np.array(x[start : start + batch_size], dtype=np.float32), device=device)
        scores = model(batch)
        if getattr(model, "outputs_probabilities", False):
            scores = scores / scores.sum(dim=-1, keepdim=True)
        else:
            scores = scores.softmax(dim=-1)
        outputs.append(scores.float().cpu().numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0, 0), dtype=np.float32)


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
    from skeletal.tasks.data import synthetic_splits

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


def predict_recognition(
    model_file: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    ensemble: str | Path | None = None,
    batch_size: int = 64,
) -> Path:
    """``skeletal predict`` of a recognition model file (or ensemble): ``probabilities (N, C)``, ``labels (N,)``.

    The input is a ``.npy`` array or an ``.npz`` with ``x``: joints ``(N, M, T, V, C)`` or one sample
    ``(M, T, V, C)``.
    """
    model, _ = load_recognition_model(model_file, ensemble)
    input_path = Path(input_path)
    if not input_path.is_file():
        raise FileNotFoundError(f"input file {input_path} does not exist")
    try:
        loaded = np.load(input_path, allow_pickle=False)
        x = loaded["x"] if isinstance(loaded, np.lib.npyio.NpzFile) else loaded
    except (ValueError, OSError, KeyError) as error:
        raise DataError(f"expected a .npy array or an .npz with key 'x' ({error})", input_path) from None
    if x.ndim == 4:
        x = x[None]
    if x.ndim != 5:
        raise DataError(f"expected recognition joints (N, M, T, V, C) or (M, T, V, C), got shape {x.shape}", input_path)
    probabilities = class_scores(model, x, batch_size)
    from skeletal.atomic import save_npz

    return save_npz(output_path, probabilities=probabilities, labels=probabilities.argmax(axis=-1))


def load_recognition_input(path: str | Path, sample: int = 0) -> np.ndarray:
    """One recognition sample ``(M, T, V, C)`` from a file.

    Accepted: ``.npy`` or ``.npz`` (key ``x``, else its only array) holding one person ``(T, V, C)``, one sample
    ``(M, T, V, C)`` or a batch / prepared split ``(N, M, T, V, C)`` (memory-mapped; ``sample`` picks the row),
    and a raw NTU RGB+D ``.skeleton`` file (read and normalised as :func:`skeletal.data.ntu.prepare_ntu` does).
    ``"synthetic"`` gives sample ``sample`` of the embedded SYNTHETIC generator (one person on ``h36m17``, 32
    frames at 10 fps, as ``pretrained:s-tr-synthetic`` was trained on).
    """
    if str(path) == "synthetic":
        from skeletal.data.synthetic import recognition_arrays

        x, _ = recognition_arrays(sample + 1, num_frames=32, fps=10.0, seed=12345, num_people=1)
        return np.asarray(x[sample], dtype=np.float32)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file {path} does not exist")
    if path.suffix == ".skeleton":
        from skeletal.data.ntu import pre_normalization, sample_array

        return pre_normalization(sample_array(path)[None])[0].astype(np.float32)
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                key = "x" if "x" in archive.files else (archive.files[0] if len(archive.files) == 1 else None)
                if key is None:
                    raise DataError(f"expected key 'x' (or a single array), found {archive.files}", path)
                x = archive[key]
        else:
            x = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise DataError(f"expected a .npy array, an .npz or an NTU .skeleton file ({error})", path) from None
    if x.ndim == 5:
        if not 0 <= sample < len(x):
            raise DataError(f"sample {sample} out of range: the file holds {len(x)} samples", path)
        x = x[sample]
    elif x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise DataError(f"expected (T, V, C), (M, T, V, C) or (N, M, T, V, C) joints, got shape {x.shape}", path)
    return np.asarray(x, dtype=np.float32)


def fit_persons(x: np.ndarray, num_persons: int) -> np.ndarray:
    """Zero-pad or cut the person axis of ``x (M, T, V, C)`` to ``num_persons`` (as the NTU arrays hold zeros)."""
    if len(x) >= num_persons:
        return x[:num_persons]
    return np.concatenate([x, np.zeros((num_persons - len(x), *x.shape[1:]), dtype=x.dtype)])


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
        model: A recognition model with spatial self-attention (``s-tr``, ``st-tr``... or a :class:`StreamInput`).
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
    from skeletal.viz.attention import animate_spatial_attention, plot_spatial_attention

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


def _num_classes(model: nn.Module) -> int | None:
    """Classes of a recognition network (its ``classifier``), ``None`` for wrappers without one."""
    classifier = getattr(model, "classifier", None)
    return classifier.out_features if isinstance(classifier, nn.Linear) else None


def _inner(model: nn.Module) -> nn.Module:
    """The first plain model inside ``StreamInput`` / ``TwoStream`` wrappers."""
    while True:
        if isinstance(model, StreamInput):
            model = model.model
        elif hasattr(model, "spatial") and isinstance(model.spatial, nn.Module):
            model = model.spatial
        else:
            return model
