"""The model file format: safetensors weights with string metadata, checksums, and the atomic write of :func:`save`.

The metadata holds the format tag :data:`FORMAT`, the registry name and builder keyword arguments of the model (a
:class:`~skeletal.skeletons.Skeleton` argument stored as its fields), the task, the layout, the resolved run
config, the metrics, the skeletal version, :func:`tensor_checksum` and :func:`metadata_checksum`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from skeletal.atomic import atomic_write_bytes
from skeletal.errors import ConfigError, DataError
from skeletal.safety import PICKLE_SUFFIXES

FORMAT = "skeletal/2"
"""Format tag; ``skeletal/1`` files (development versions, checksum of the tensors only) are not read."""
_SKELETON_TAG = "__skeleton__"


@dataclass
class ModelFile:
    """What a model file says about itself.

    Attributes:
        model_name: Registry name of the model.
        model_kwargs: Keyword arguments of its builder.
        task: ``recognition``, ``prediction`` or ``lifting``.
        skeleton: Layout name of the data it was trained on (``""`` if unknown).
        config: The resolved run config (empty when saved outside a run).
        metrics: Final metrics of the run.
        version: skeletal version that wrote the file.
        sha256: Checksum of the file's content: tensors and metadata (:func:`metadata_checksum`).
        tensors_sha256: Checksum of the tensors alone (:func:`tensor_checksum`), the identity of the weights.
    """

    model_name: str
    model_kwargs: dict[str, Any]
    task: str = ""
    skeleton: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    version: str = ""
    sha256: str = ""
    tensors_sha256: str = ""


def _encode(value: Any) -> Any:
    """JSON-ready form of builder kwargs (a Skeleton object is stored as its fields)."""
    from skeletal.skeletons import Skeleton

    if isinstance(value, Skeleton):
        return {_SKELETON_TAG: dataclasses.asdict(value)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise ConfigError(f"model keyword value {value!r} ({type(value).__name__}) cannot be stored in a model file")


def _decode(value: Any) -> Any:
    from skeletal.skeletons import Skeleton

    if isinstance(value, dict):
        if set(value) == {_SKELETON_TAG}:  # a layout stored whole (a custom one): known by its name from now on
            from skeletal.skeletons.layout_file import register_stored

            return register_stored(Skeleton(**value[_SKELETON_TAG]))
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def tensor_checksum(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of the tensors, in sorted name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def metadata_checksum(metadata: dict[str, str]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, ASCII) of every metadata field but ``sha256``.

    The metadata holds ``tensors_sha256``, so this one checksum covers the tensors and the metadata.
    """
    fields = {key: value for key, value in metadata.items() if key != "sha256"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _state_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as plain contiguous CPU tensors, shared storage cloned (safetensors refuses aliasing)."""
    tensors: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu()
        pointer = tensor.untyped_storage().data_ptr() if tensor.numel() else -1
        if pointer in seen:
            tensor = tensor.clone()
        seen.add(pointer)
        tensors[name] = tensor.contiguous()
    return tensors


def save(
    path: str | Path,
    model: nn.Module,
    model_name: str,
    model_kwargs: dict[str, Any] | None = None,
    task: str = "",
    skeleton: str = "",
    config: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
) -> Path:
    """Save a model's weights and metadata as a safetensors file, atomically.

    Args:
        path: Destination (``.safetensors``).
        model: The model; its ``state_dict`` is stored.
        model_name: Registry name, so that :func:`skeletal.checkpoint.load` can rebuild it.
        model_kwargs: Keyword arguments of the registry builder.
        task: Task name (defaults to the registry's).
        skeleton: Layout name of the training data.
        config: Resolved run config (a plain dict).
        metrics: Final metrics (name to number).

    Returns:
        The path written.
    """
    from safetensors.torch import save as to_bytes

    from skeletal import __version__, models

    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ConfigError(f"{path}: model files are safetensors; use the .safetensors suffix")
    if not task:
        task = models.info(model_name).task
    tensors = _state_tensors(model)
    metadata = {
        "format": FORMAT,
        "model_name": model_name,
        "model_kwargs": json.dumps(_encode(model_kwargs or {})),
        "task": task,
        "skeleton": skeleton,
        "config": json.dumps(config or {}, default=str),
        "metrics": json.dumps({k: float(v) for k, v in (metrics or {}).items()}),
        "skeletal_version": __version__,
        "tensors_sha256": tensor_checksum(tensors),
    }
    metadata["sha256"] = metadata_checksum(metadata)
    return atomic_write_bytes(path, to_bytes(tensors, metadata=metadata))


def _model_file(meta: dict[str, str], path: Path) -> ModelFile:
    try:
        if not isinstance(json.loads(meta["model_kwargs"]), dict):
            raise TypeError("model_kwargs is not a mapping")
        return ModelFile(
            model_name=meta["model_name"],
            model_kwargs=_decode(json.loads(meta["model_kwargs"])),
            task=meta.get("task", ""),
            skeleton=meta.get("skeleton", ""),
            config=json.loads(meta.get("config", "{}")),
            metrics=json.loads(meta.get("metrics", "{}")),
            version=meta.get("skeletal_version", ""),
            sha256=meta.get("sha256", ""),
            tensors_sha256=meta.get("tensors_sha256", ""),
        )
    except (KeyError, json.JSONDecodeError, TypeError, ValueError, RecursionError) as error:
        raise DataError(f"corrupt metadata ({type(error).__name__}: {str(error)[:200]})", path) from None
