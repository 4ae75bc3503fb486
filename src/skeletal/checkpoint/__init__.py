"""Safe model files: safetensors weights with the resolved config and provenance as metadata.

A model file holds every tensor of a model's ``state_dict`` and string metadata: the format tag, the registry
name and builder keyword arguments of the model (enough to rebuild it from the file alone), the task, the
skeleton layout, the resolved run config, the metrics, the skeletal version, a SHA-256 checksum of the
tensors (``tensors_sha256``) and a SHA-256 checksum of the whole file's content (``sha256``: the canonical JSON of
every other metadata field, the tensor checksum included), so that altered weights and altered metadata (metrics,
config) are both detected on load. Files are written atomically (temporary file in the same folder, then
``os.replace``), so a run killed while saving leaves the previous file intact.

Loading never unpickles unless asked: pickle-based files (Lightning ``.ckpt``, ``torch.save`` ``.pt``) can run
arbitrary code when read, and :func:`load` refuses them with :class:`~skeletal.errors.UnsafeFileError` unless
``allow_pickle=True``.

Example:
    >>> import skeletal
    >>> model = skeletal.load("runs/demo/model.safetensors")  # nn.Module in eval mode
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from skeletal.checkpoint.format import (
    FORMAT,
    ModelFile,
    _decode,
    _model_file,
    atomic_write_bytes,
    metadata_checksum,
    save,
    tensor_checksum,
)
from skeletal.checkpoint.validation import (
    MAX_HEADER_BYTES,
    MAX_KWARG,
    _check_architecture,
    _raw_header,
    _verified_metadata,
)
from skeletal.errors import DataError
from skeletal.safety import MAX_FILE_BYTES, PICKLE_SUFFIXES, check_safe, pickle_allowed

__all__ = [
    "FORMAT",
    "MAX_FILE_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_KWARG",
    "PICKLE_SUFFIXES",
    "ModelFile",
    "atomic_write_bytes",
    "load",
    "load_state",
    "metadata_checksum",
    "pickle_allowed",
    "read_metadata",
    "save",
    "tensor_checksum",
]


def _resolve(path: str | Path) -> Path:
    """A model file path, or ``pretrained:NAME`` resolved to the shipped file (:mod:`skeletal.pretrained`)."""
    if str(path).startswith("pretrained:"):
        from skeletal import pretrained

        return pretrained.resolve(str(path))
    return Path(path)


def read_metadata(path: str | Path) -> ModelFile:
    """Metadata of a safetensors model file, without loading the weights (the metadata checksum is verified, the
    tensor checksum is not)."""
    path = _resolve(path)
    check_safe(path, allow_pickle=False)
    return _model_file(_verified_metadata(path), path)


def load_state(path: str | Path) -> tuple[dict[str, torch.Tensor], ModelFile]:
    """Tensors and metadata of a safetensors model file, checksum verified.

    Raises:
        DataError: the file is truncated, altered, or not a skeletal model file.
        UnsafeFileError: the file is pickle-based.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = _resolve(path)
    check_safe(path, allow_pickle=False)
    meta = _verified_metadata(path)
    info = _model_file(meta, path)
    _check_architecture(info, _raw_header(path)[1], path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise DataError(f"cannot read the tensors ({error}); the file is truncated or corrupt", path) from None
    actual = tensor_checksum(tensors)
    if actual != info.tensors_sha256:
        raise DataError(
            f"checksum mismatch: the metadata says tensors_sha256 {info.tensors_sha256[:16]}..., the tensors hash to "
            f"{actual[:16]}...; the file was altered or damaged",
            path,
        )
    return tensors, info


def _load_pickled(path: Path, map_location: str | torch.device) -> nn.Module:
    """Lightning checkpoint written by a skeletal task (the caller allowed unpickling)."""
    from skeletal import models

    state = torch.load(path, map_location=map_location, weights_only=False)  # the user accepted the risk
    if isinstance(state, nn.Module):
        return state.eval()
    hyper = state.get("hyper_parameters", {}) if isinstance(state, dict) else {}
    if "model_name" not in hyper:
        raise DataError("a pickled checkpoint without skeletal hyper-parameters (model_name)", path)
    model = models.create(hyper["model_name"], **_decode(hyper.get("model_kwargs", {})))
    weights = {k.removeprefix("model."): v for k, v in state["state_dict"].items() if k.startswith("model.")}
    model.load_state_dict(weights)
    return model.eval()


def load(path: str | Path, allow_pickle: bool = False, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from a model file alone, in eval mode.

    Args:
        path: A ``.safetensors`` file written by :func:`save` (or ``skeletal train``), or ``pretrained:NAME``
            for a model shipped with skeletal (:mod:`skeletal.pretrained`).
        allow_pickle: Also accept pickle-based files (a Lightning ``.ckpt`` of a skeletal run). Unpickling can
            run arbitrary code: only for files you trust.
        map_location: Device of the returned model.

    Returns:
        The model (``eval()`` mode) with the stored weights; its metadata is in ``model.skeletal_info``.

    Raises:
        UnsafeFileError: a pickle-based file and ``allow_pickle`` is False.
        DataError: a truncated, altered or foreign file.
    """
    from skeletal import models

    path = _resolve(path)
    if check_safe(path, allow_pickle):
        return _load_pickled(path, map_location)
    tensors, info = load_state(path)
    try:
        model = models.create(info.model_name, **info.model_kwargs)
        model.load_state_dict(tensors, strict=True)
    except (RuntimeError, ValueError, TypeError) as error:
        first = str(error).splitlines()[0] if str(error) else "mismatch"
        raise DataError(f"the weights do not fit model {info.model_name!r}: {first}", path) from None
    model.skeletal_info = info  # type: ignore[assignment]
    return model.to(map_location).eval()
