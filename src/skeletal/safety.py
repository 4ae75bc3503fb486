"""Which model files skeletal reads: regular files of bounded size; pickle-based files only when allowed.

Pickle-based files (Lightning ``.ckpt``, ``torch.save`` ``.pt``) can run arbitrary code when read. They are
recognised by suffix and by their first bytes, and refused with :class:`~skeletal.errors.UnsafeFileError` unless
the caller passes ``allow_pickle=True`` or runs inside :func:`pickle_allowed` (the command line's
``--allow-pickle``). Used by :mod:`skeletal.checkpoint` and by the readers of the official checkpoints.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from pathlib import Path

from skeletal.errors import DataError, UnsafeFileError

PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".pkl", ".pickle", ".tar")
MAX_FILE_BYTES = 16 << 30
"""Largest model file read (16 GiB)."""
_PICKLE_ALLOWED_BY_USER = False


@contextlib.contextmanager
def pickle_allowed(allowed: bool = True) -> Iterator[None]:
    """The command line's ``--allow-pickle``: every :func:`skeletal.checkpoint.load` inside the block accepts
    pickle-based files."""
    global _PICKLE_ALLOWED_BY_USER
    previous, _PICKLE_ALLOWED_BY_USER = _PICKLE_ALLOWED_BY_USER, allowed
    try:
        yield
    finally:
        _PICKLE_ALLOWED_BY_USER = previous


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


def check_safe(path: Path, allow_pickle: bool) -> bool:
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
