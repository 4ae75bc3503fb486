"""Validation of a model file before any weights are read: the safetensors header checked entry by entry against
the file (dtypes, shapes, byte ranges), the metadata checksum, and the model the metadata describes built on the
``meta`` device and compared with the file's tensors.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import torch

from skeletal.checkpoint.format import FORMAT, ModelFile, metadata_checksum
from skeletal.errors import ConfigError, DataError

MAX_HEADER_BYTES = 64 << 20
"""Largest safetensors header read (64 MiB of JSON: names, shapes and metadata; real files hold a few KB)."""
MAX_KWARG = 1 << 16
"""Largest integer model argument accepted for a builder that cannot be checked on the meta device."""
_DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
                "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}  # fmt: skip


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
