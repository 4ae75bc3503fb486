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

import contextlib
import dataclasses
import hashlib
import json
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from skeletal.atomic import atomic_write_bytes
from skeletal.errors import ConfigError, DataError, UnsafeFileError

FORMAT = "skeletal/2"
"""Format tag; ``skeletal/1`` files (development versions, checksum of the tensors only) are not read."""
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".pkl", ".pickle", ".tar")
_SKELETON_TAG = "__skeleton__"
MAX_HEADER_BYTES = 64 << 20
"""Largest safetensors header read (64 MiB of JSON: names, shapes and metadata; real files hold a few KB)."""
MAX_FILE_BYTES = 16 << 30
"""Largest model file read (16 GiB)."""
MAX_KWARG = 1 << 16
"""Largest integer model argument accepted for a builder that cannot be checked on the meta device."""
_DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
                "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}  # fmt: skip
_PICKLE_ALLOWED_BY_USER = False


@contextlib.contextmanager
def pickle_allowed(allowed: bool = True) -> Iterator[None]:
    """The command line's ``--allow-pickle``: every :func:`load` inside the block accepts pickle-based files."""
    global _PICKLE_ALLOWED_BY_USER
    previous, _PICKLE_ALLOWED_BY_USER = _PICKLE_ALLOWED_BY_USER, allowed
    try:
        yield
    finally:
        _PICKLE_ALLOWED_BY_USER = previous


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
        if set(value) == {_SKELETON_TAG}:
            return Skeleton(**value[_SKELETON_TAG])
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
        model_name: Registry name, so that :func:`load` can rebuild it.
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


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    """An 8-byte little-endian header length that fits in the file, then the header's opening ``{``."""
    if len(head) < 9:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length <= size - 8 and head[8:9] == b"{"


def _looks_like_pickle(path: Path) -> bool:
    """A ``torch.save`` zip (``PK``) or a pickle of protocol >= 2 (``0x80``), unless the bytes read as a safetensors
    header: its length prefix may begin with the same bytes (a header of 128 + 256 k bytes starts with ``0x80``)."""
    with path.open("rb") as stream:
        head = stream.read(9)
    if _looks_like_safetensors(head, path.stat().st_size):
        return False
    return head[:2] == b"PK" or head[:1] == b"\x80"


def _check_safe(path: Path, allow_pickle: bool) -> bool:
    """True if ``path`` is a pickle-based file that the caller allowed; raises if not allowed."""
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected a model file (model.safetensors)")
    if not path.is_file():  # a FIFO or device would block or never end
        raise DataError("not a regular file (expected a model file)", path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DataError(f"file is {path.stat().st_size} bytes, more than the {MAX_FILE_BYTES} byte bound", path)
    pickled = path.suffix.lower() in PICKLE_SUFFIXES or _looks_like_pickle(path)
    allow_pickle = allow_pickle or _PICKLE_ALLOWED_BY_USER
    if pickled and not allow_pickle:
        raise UnsafeFileError(
            f"{path} is a pickle-based file: loading it can execute arbitrary code. Only load files you trust, "
            "with allow_pickle=True (command line: --allow-pickle); skeletal writes .safetensors model files"
        )
    return pickled


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
    _check_safe(path, allow_pickle=False)
    return _model_file(_verified_metadata(path), path)


def _verified_metadata(path: Path) -> dict[str, str]:
    """The raw metadata after checking its checksum (:func:`metadata_checksum`)."""
    meta = _raw_header(path)[0]
    if not all(isinstance(value, str) for value in meta.values()):
        raise DataError("corrupt metadata (safetensors metadata values must be strings)", path)
    expected = metadata_checksum(meta)
    if meta.get("sha256") != expected:
        raise DataError(
            f"metadata checksum mismatch: the file says sha256 {str(meta.get('sha256'))[:16]}..., its metadata and "
            f"tensor checksum hash to {expected[:16]}...; the metadata (metrics, config, ...) was altered or damaged",
            path,
        )
    return meta


def _raw_header(path: Path) -> tuple[dict[str, str], dict[str, tuple[str, tuple[int, ...]]]]:
    """The metadata and the tensors' ``name -> (dtype, shape)`` of a safetensors file, every entry checked
    against the file: known dtypes, shapes of plain non-negative integers, byte ranges that match the shapes,
    lie inside the file and do not overlap."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(8)
        if len(head) < 8:
            raise DataError(f"file is {size} bytes long, too short for a safetensors header", path)
        (length,) = struct.unpack("<Q", head)
        if length > size - 8:
            raise DataError(f"header of {length} bytes runs past the end of the file ({size} bytes): truncated", path)
        if length > MAX_HEADER_BYTES:
            raise DataError(f"header of {length} bytes, more than the {MAX_HEADER_BYTES} byte bound", path)
        try:
            header = json.loads(stream.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError):
            raise DataError("not a safetensors file (its header is not JSON)", path) from None
        except RecursionError:
            raise DataError("not a safetensors file (its header is nested too deeply)", path) from None
    if not isinstance(header, dict):
        raise DataError("not a safetensors file (its header is not a mapping)", path)
    tensors = _header_tensors(header, size - 8 - length, path)
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict):
        raise DataError("not a skeletal model file (its metadata is not a mapping)", path)
    if meta.get("format") == "skeletal/1":
        raise DataError(
            f"a model file of an older skeletal development version (format 'skeletal/1', expected {FORMAT!r}): "
            "export it again with this version",
            path,
        )
    if meta.get("format") != FORMAT:
        raise DataError(f"not a skeletal model file (format {meta.get('format')!r}, expected {FORMAT!r})", path)
    return meta, tensors


def _header_tensors(header: dict[str, Any], data_size: int, path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    ranges = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        where = f"tensor {name!r}"
        if not isinstance(entry, dict) or entry.get("dtype") not in _DTYPE_BYTES:
            raise DataError("header entry without a known dtype", path, where)
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise DataError(f"shape must be a list of non-negative integers, found {shape!r}"[:160], path, where)
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(n) is int for n in offsets)
                and 0 <= offsets[0] <= offsets[1] <= data_size):  # fmt: skip
            raise DataError(f"data_offsets {offsets!r} do not lie in the {data_size} data bytes"[:160], path, where)
        nbytes = math.prod(shape) * _DTYPE_BYTES[entry["dtype"]]
        if offsets[1] - offsets[0] != nbytes:
            raise DataError(f"shape {shape} {entry['dtype']} needs {nbytes} bytes, data_offsets give "
                            f"{offsets[1] - offsets[0]}", path, where)  # fmt: skip
        tensors[name] = (entry["dtype"], tuple(shape))
        ranges.append((offsets[0], offsets[1], name))
    ranges.sort()
    for (_, end, first), (start, _, second) in zip(ranges, ranges[1:]):
        if start < end:
            raise DataError(f"tensors {first!r} and {second!r} overlap", path)
    return tensors


def _check_architecture(info: ModelFile, tensors: dict[str, tuple[str, tuple[int, ...]]], path: Path) -> None:
    """The model the metadata describes, built on the ``meta`` device (no memory), must have exactly the file's
    tensor names and shapes; absurd or rejected arguments are refused before any real model is built.

    A builder that reads tensor values while it builds (which the meta device cannot do) is instead checked by
    bounding its integer arguments by :data:`MAX_KWARG` and by the largest dimension in the file.
    """
    from skeletal import models

    name = info.model_name
    try:
        models.info(name)
    except ConfigError as error:
        raise DataError(str(error), path) from None
    try:
        with torch.device("meta"):
            model = models.create(name, **info.model_kwargs)
    except Exception as error:  # whatever the builder raises for these arguments, they come from the file
        if "meta" in str(error):
            _bound_arguments(info.model_kwargs, tensors, path)
            return
        first = (str(error).splitlines() or [type(error).__name__])[0]
        raise DataError(f"model {name!r} rejects the file's model arguments: {first}", path) from None
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    stored = {key: shape for key, (_, shape) in tensors.items()}
    if expected != stored:
        missing, unexpected = sorted(set(expected) - set(stored)), sorted(set(stored) - set(expected))
        wrong = sorted(k for k in set(expected) & set(stored) if expected[k] != stored[k])
        detail = (
            f"missing {missing[:3]}"
            if missing
            else f"unexpected {unexpected[:3]}"
            if unexpected
            else f"{wrong[0]!r} is {stored[wrong[0]]} in the file, {expected[wrong[0]]} in the model"
        )
        raise DataError(f"the tensors do not fit model {name!r} built from the file's arguments: {detail}", path)


def _bound_arguments(kwargs: Any, tensors: dict[str, tuple[str, tuple[int, ...]]], path: Path) -> None:
    largest = max([MAX_KWARG, *(n for _, shape in tensors.values() for n in shape)])
    stack = [kwargs]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > largest:
            raise DataError(f"model argument {value!r} exceeds every dimension of the file's tensors", path)


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


def load_state(path: str | Path) -> tuple[dict[str, torch.Tensor], ModelFile]:
    """Tensors and metadata of a safetensors model file, checksum verified.

    Raises:
        DataError: the file is truncated, altered, or not a skeletal model file.
        UnsafeFileError: the file is pickle-based.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = _resolve(path)
    _check_safe(path, allow_pickle=False)
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
    if _check_safe(path, allow_pickle):
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
