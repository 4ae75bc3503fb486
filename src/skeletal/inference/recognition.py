"""Recognition models from model files: each member fed its input stream (:class:`StreamInput`), two-stream
ensembles (:func:`load_recognition_model`), class scores, predictions written to ``.npz``, and the input files
a recognition model reads (:func:`load_recognition_input`).

Two-stream ensemble (journal section IV-D): the two model files are combined with
:class:`~skeletal.models.recognition.two_stream.TwoStream`: by default the sum of their softmax scores, as the
paper says; ``fusion="logits"`` sums their logits, as the official ``ensemble.py`` does. Each member reads its own
input stream (``data.stream`` of its run config: joint, bone, motion or joint+bone), made from the joints by
:class:`StreamInput`, so a joint model and a bone model combine too (the 2s-AGCN ensemble).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from skeletal.data.model_inputs import match_layout, read_input_array
from skeletal.data.streams import STREAMS, make_stream
from skeletal.errors import ConfigError, DataError
from skeletal.skeletons import Skeleton


class StreamInput(nn.Module):
    """A recognition model fed a stream made from the joints (:func:`skeletal.data.streams.make_stream`).

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


RECOGNITION_KEYS = ("x", "poses_3d")
"""Arrays read from an ``.npz`` recognition input: prepared samples, or the 3D poses of ``skeletal lift``."""


def predict_recognition(
    model_file: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    ensemble: str | Path | None = None,
    batch_size: int = 64,
    precision: str = "fp32",
) -> Path:
    """``skeletal predict`` of a recognition model file (or ensemble): ``probabilities (N, C)``, ``labels (N,)``.

    The input is a ``.npy`` array or an ``.npz`` with ``x`` (or ``poses_3d``, the output of ``skeletal lift``):
    joints ``(N, M, T, V, C)`` or one sample ``(M, T, V, C)``. ``precision="bf16"`` runs the model in bfloat16
    (:func:`skeletal.inference.precision.set_precision`; refused before any file is read without CPU support).
    """
    from skeletal.inference.precision import resolve_precision, set_precision

    precision = resolve_precision(precision)
    model, info = load_recognition_model(model_file, ensemble)
    if precision != "fp32":
        model = set_precision(model, precision)
    input_path = Path(input_path)
    x, stored = read_input_array(input_path, RECOGNITION_KEYS)
    x = match_layout(x, stored, info.skeleton or info.model_kwargs.get("skeleton"), input_path)
    if x.ndim == 4:
        x = x[None]
    if x.ndim != 5:
        raise DataError(f"expected recognition joints (N, M, T, V, C) or (M, T, V, C), got shape {x.shape}", input_path)
    probabilities = class_scores(model, x, batch_size)
    from skeletal.atomic import save_npz

    return save_npz(output_path, probabilities=probabilities, labels=probabilities.argmax(axis=-1))


def load_recognition_input(path: str | Path, sample: int = 0, layout: str | Skeleton | None = None) -> np.ndarray:
    """One recognition sample ``(M, T, V, C)`` from a file.

    Accepted: ``.npy`` or ``.npz`` (key ``x``, else ``poses_3d`` as ``skeletal lift`` writes, else its only array)
    holding one person ``(T, V, C)``, one sample ``(M, T, V, C)`` or a batch / prepared split ``(N, M, T, V, C)``
    (memory-mapped; ``sample`` picks the row), and a raw NTU RGB+D ``.skeleton`` file (read and normalised as
    :func:`skeletal.data.ntu.prepare_ntu` does). ``"synthetic"`` gives sample ``sample`` of the embedded SYNTHETIC
    generator (one person on ``h36m17``, 32 frames at 10 fps, as ``pretrained:s-tr-synthetic`` was trained on).
    ``layout``: the model's layout; joints stored on another layout (``joint_names`` in the file) are converted
    or refused (:func:`skeletal.data.model_inputs.match_layout`).
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
    x, stored = read_input_array(path, RECOGNITION_KEYS)
    x = match_layout(x, stored, layout, path)
    if x.ndim == 5:
        if not 0 <= sample < len(x):
            raise DataError(f"sample {sample} out of range: the file holds {len(x)} samples", path)
        x = x[sample]
    elif x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise DataError(f"expected (T, V, C), (M, T, V, C) or (N, M, T, V, C) joints, got shape {x.shape}", path)
    return np.asarray(x, dtype=np.float32)


def _num_classes(model: nn.Module) -> int | None:
    """Classes of a recognition network (its ``classifier``), ``None`` for wrappers without one."""
    classifier = getattr(model, "classifier", None)
    return classifier.out_features if isinstance(classifier, nn.Linear) else None
