"""Bounded, exception-safe primitives shared by the data readers.

Every reader turns every failure into a :class:`~skeletal.errors.DataError` naming the file and the place, and
checks counts and sizes read from a file *before* allocating what they announce:

- JSON (:func:`parse_json`, and :func:`scan_json_object`, which decodes the elements of one list one by one so
  that a long file is never held as Python objects): a nesting depth beyond the C parser's recursion limit,
  integers of more than :data:`MAX_INT_DIGITS` digits (read as floats, so ``10**400`` becomes ``inf`` and fails
  the readers' finite checks; Python's own 4,300-digit limit would raise a bare ``ValueError``) and non-UTF-8
  bytes are ``DataError`` s;
- ``.npy`` headers: the announced shape must be a tuple of plain non-negative integers whose bytes fit in what
  follows the header (``(True, 17, 3)`` and ``10**12`` frames are refused before any allocation);
- ``.npz`` members: the uncompressed size written in the zip directory is bounded by
  :data:`MAX_MEMBER_BYTES` before a byte is inflated (Python's zip reader never inflates past that size, so a
  deflate bomb cannot grow the process), its compressed size by the bytes before the zip directory (the reader
  asks the file for that size in one read), and encrypted, corrupt or unsupported members are ``DataError`` s;
- dense arrays built from a file's counts: :func:`check_allocation` refuses more than :data:`MAX_ARRAY_BYTES`.
"""

from __future__ import annotations

import json
import lzma
import math
import re
import tokenize
import zipfile
import zlib
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import IO, Any

import numpy as np

from skeletal.errors import DataError

MAX_INT_DIGITS = 20
"""Longer JSON integers are read as floats (no reader needs an integer beyond 10^20)."""
MAX_MEMBER_BYTES = 1 << 29
"""Largest uncompressed ``.npz`` member a reader inflates (512 MiB: 400,000 frames of SMPL-H poses, 4 million
frames of 17 2D keypoints), read from the zip directory before a byte is inflated."""
MAX_ARRAY_BYTES = 1 << 29
"""Largest dense array a reader builds from counts read in a file (512 MiB; about 2 million frames of 17
joints with scores), so that a small file cannot ask for gigabytes."""
COUNT = re.compile(r"[0-9]+")
"""An ASCII count: ``str.isdigit`` also accepts ``³`` and other Unicode digits that ``int`` refuses."""

NPY_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    OSError,
    EOFError,
    RuntimeError,  # zipfile: an encrypted member ("File ... is encrypted, password required")
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,  # zipfile: an unsupported compression method
    SyntaxError,  # numpy parses a corrupt .npy header with the tokenizer
    tokenize.TokenError,
    MemoryError,
    OverflowError,
)


def is_count(text: str) -> bool:
    """True for a non-negative ASCII integer (``"12"``; not ``"³"``, ``"-1"`` or ``"1.5"``)."""
    return COUNT.fullmatch(text) is not None


def _bounded_int(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else float(text)


def parse_json(text: str, path: str | PathLike[str]) -> Any:
    """``json.loads`` with bounded nesting and integer size; every failure a :class:`DataError` for ``path``."""
    try:
        return json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as error:
        raise DataError(f"invalid JSON: {error.msg}", path, f"line {error.lineno}") from None
    except RecursionError:
        raise DataError("JSON nested too deeply (expected a few levels of lists and objects)", path) from None


_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's insignificant whitespace


def scan_json_object(
    text: str, path: str | PathLike[str], key: str, element: Callable[[int, Any], None]
) -> dict[str, Any] | None:
    """Parse a JSON object, handing each element of its list ``key`` to ``element(n, value)`` as it is decoded
    instead of building the list (a 100,000-frame keypoint file would be ~200 MB of Python objects).

    Returns:
        The object's other members (``key`` absent), or ``None`` when ``text`` is not a JSON object (the caller
        parses it whole with :func:`parse_json`). The bounds and errors are those of :func:`parse_json`; a
        repeated ``key`` is a :class:`DataError` too (``json.loads`` would keep the last list silently).
    """
    decoder = json.JSONDecoder(parse_int=_bounded_int)

    def skip(index: int) -> int:
        return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]  # matches the empty string

    def expect(index: int, characters: str, what: str) -> int:
        index = skip(index)
        if index >= len(text) or text[index] not in characters:
            raise json.JSONDecodeError(f"Expecting {what}", text, index)
        return index

    index = skip(0)
    if not text.startswith("{", index):
        return None
    members: dict[str, Any] = {}
    seen = False
    try:
        index = skip(index + 1)
        if text.startswith("}", index):
            return members
        while True:
            index = expect(index, '"', "property name enclosed in double quotes")
            name, index = decoder.raw_decode(text, index)
            index = skip(expect(index, ":", "':' delimiter") + 1)
            if name == key and text.startswith("[", index):
                if seen:
                    raise DataError(f"key {key!r} repeats (one of the two lists would be lost)", path)
                seen, count, index = True, 0, skip(index + 1)
                if text.startswith("]", index):
                    index += 1
                else:
                    while True:
                        value, index = decoder.raw_decode(text, index)
                        element(count, value)
                        count += 1
                        index = expect(index, ",]", "',' delimiter") + 1
                        if text[index - 1] == "]":
                            break
                        index = skip(index)
            else:
                members[name], index = decoder.raw_decode(text, index)
            index = expect(index, ",}", "',' delimiter") + 1
            if text[index - 1] == "}":
                break
        if skip(index) != len(text):
            raise json.JSONDecodeError("Extra data", text, skip(index))
    except json.JSONDecodeError as error:
        raise DataError(f"invalid JSON: {error.msg}", path, f"line {error.lineno}") from None
    except RecursionError:
        raise DataError("JSON nested too deeply (expected a few levels of lists and objects)", path) from None
    return members


def read_text(path: str | PathLike[str], what: str = "") -> str:
    """A UTF-8 text file's content; a missing file, a FIFO or device (reading one would block), an OS error or
    non-UTF-8 bytes are :class:`DataError` s naming ``what`` was expected."""
    path = Path(path)
    expected = f" (expected {what})" if what else ""
    if path.exists() and not path.is_file():
        raise DataError(f"not a regular file{expected}", path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"file not found{expected}", path) from None
    except (UnicodeDecodeError, OSError) as error:
        raise DataError(f"cannot read as UTF-8 text: {error}", path) from None


def load_json(path: str | PathLike[str]) -> Any:
    """Read and parse a UTF-8 JSON file (see :func:`parse_json`)."""
    return parse_json(read_text(path), path)


def check_allocation(
    shape: tuple[int, ...], itemsize: int, path: str | PathLike[str], position: str | None = None, what: str = ""
) -> None:
    """Refuse a dense array of ``shape`` (counts read from ``path``) beyond :data:`MAX_ARRAY_BYTES`."""
    nbytes = math.prod(shape) * itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise DataError(f"{what or 'the data'} would need an array of shape {shape} ({nbytes / 2**30:.2f} GiB, "
                        f"more than the {MAX_ARRAY_BYTES / 2**30:.2f} GiB bound); corrupt counts?", path,
                        position)  # fmt: skip


def read_npy(stream: IO[bytes], size: int, path: str | PathLike[str], where: str | None) -> np.ndarray:
    """An ``.npy`` array from ``stream`` (``size`` bytes long), its header checked against ``size`` before any
    allocation (a header claiming 10^12 frames is refused, not allocated); never unpickles."""
    shape, fortran, dtype = read_npy_header(stream, size, path, where)
    if dtype.hasobject:
        raise DataError("the array holds Python objects: refused (read without unpickling)", path, where)
    nbytes = math.prod(shape) * dtype.itemsize
    header = stream.tell()
    if nbytes > size - header:
        raise DataError(f"header announces shape {shape} ({nbytes} bytes) but {size - header} bytes follow "
                        "(truncated or corrupt)", path, where or f"byte {header}")  # fmt: skip
    data = stream.read(nbytes)
    if len(data) != nbytes:
        raise DataError(f"truncated array data: {len(data)} of {nbytes} bytes", path, where or f"byte {header}")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def read_npy_header(
    stream: IO[bytes], size: int, path: str | PathLike[str], where: str | None
) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of the ``.npy`` header at the start of ``stream`` (``size`` bytes long),
    its version and length checked before numpy reads it; the stream is left at the data."""
    version = np.lib.format.read_magic(stream)
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise DataError(f"unknown .npy format version {version[0]}.{version[1]}", path, where or "header")
    # The header length (2 bytes in version 1, 4 after) is checked before numpy reads that many bytes: a buffered
    # read allocates the length asked for, 2 GiB for a corrupt one.
    length_bytes = 2 if version == (1, 0) else 4
    start = stream.tell()
    length = int.from_bytes(stream.read(length_bytes), "little")
    if length > size - start - length_bytes:
        raise DataError(f"not a readable numpy file: header announces {length} bytes but the file holds {size}", path,
                        where or "header")  # fmt: skip
    stream.seek(start)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    try:
        shape, fortran, dtype = read_header(stream)
    except (ValueError, TypeError, SyntaxError, KeyError) as error:  # numpy's literal_eval of a corrupt header
        raise DataError(f"not a readable numpy header: {type(error).__name__}: {error}", path,
                        where or "header") from None  # fmt: skip
    if not all(type(n) is int and n >= 0 for n in shape):  # numpy accepts (True, 17, 3)
        raise DataError(f"header announces an invalid shape {shape!r}", path, where or "header")
    return shape, fortran, dtype


def member_info(archive: zipfile.ZipFile, key: str, path: str | PathLike[str]) -> zipfile.ZipInfo:
    """The zip entry of ``key`` (``key.npy`` or ``key``), its uncompressed size bounded before inflating."""
    names = archive.namelist()
    info = archive.getinfo(f"{key}.npy" if f"{key}.npy" in names else key)
    if info.file_size > MAX_MEMBER_BYTES:
        raise DataError(f"member is {info.file_size} bytes uncompressed, more than the {MAX_MEMBER_BYTES} byte "
                        "bound (a compression bomb or a corrupt directory)", path, f"key {key!r}")  # fmt: skip
    if info.flag_bits & 0x1:
        raise DataError("member is encrypted", path, f"key {key!r}")
    # The compressed bytes lie before the central directory; Python's zip reader asks the file for the announced
    # compressed size in one read, which allocates it (a corrupt size of 1.7 GB was a MemoryError).
    if info.header_offset + info.compress_size > getattr(archive, "start_dir", info.header_offset + info.compress_size):
        raise DataError(f"member announces {info.compress_size} compressed bytes, more than the archive holds "
                        "(a corrupt directory)", path, f"key {key!r}")  # fmt: skip
    return info


def npz_keys(archive: zipfile.ZipFile) -> list[str]:
    """Array names of an ``.npz`` archive, in file order."""
    return [name.removesuffix(".npy") for name in archive.namelist()]


def read_npz(path: str | PathLike[str], keys: list[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` (all, or ``keys`` where present) without unpickling, each member's size bounded.

    Raises:
        DataError: Not a zip, a corrupt, encrypted or oversized member, an object (pickled) array.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found (expected an .npz file)", path)
    arrays: dict[str, np.ndarray] = {}
    key = None
    try:
        with zipfile.ZipFile(path) as archive:
            for key in npz_keys(archive):
                if keys is not None and key not in keys:
                    continue
                info = member_info(archive, key, path)
                with archive.open(info) as stream:
                    arrays[key] = read_npy(stream, info.file_size, path, f"key {key!r}")
    except DataError:
        raise
    except NPY_ERRORS as error:
        where = None if key is None else f"key {key!r}"
        raise DataError(f"corrupt or truncated npz archive: {type(error).__name__}: {error}", path, where) from None
    return arrays


def finite_float32(values: np.ndarray) -> np.ndarray:
    """Mask of the values that are finite once cast to float32 (``1e308`` is finite in float64, inf in float32)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.isfinite(np.asarray(values, dtype=np.float64).astype(np.float32))
