"""A restricted unpickler for the pickled numpy object arrays of VideoPose3D's ``.npz`` files.

VideoPose3D (``data/prepare_data_h36m.py``, ``prepare_data_humaneva.py``) saves its dicts with ``np.savez``, which
stores each dict as a 0-d object array whose ``.npy`` payload is a pickle. ``np.load(allow_pickle=True)`` would run
that pickle with the full unpickler: any global the file names is imported and called (code execution), and numpy's
own reconstruction allocates whatever shape a corrupt file announces before it sees the data (a fuzzed file made
it ask for gigabytes, another crashed the process with a segmentation fault).

:func:`unpickle_npy_member` reads the pickle without either risk:

1. the member's size is bounded from the zip directory (:func:`~skeletal.data._safe.member_info`) and its ``.npy``
   header checked (:func:`~skeletal.data._safe.read_npy_header`);
2. ``pickletools.genops`` walks the opcodes without building anything: every announced length must fit in the
   bytes that follow (CPython's unpickler allocates an announced length before reading it), memo indices (the
   unpickler grows its memo table to the largest) and the opcode count are bounded by :data:`MAX_PICKLE_OPS`,
   which bounds the number of Python objects the pickle can create;
3. a :class:`pickle.Unpickler` whose ``find_class`` knows only the names numpy writes for arrays, dtypes
   and scalars (``numpy.ndarray``, ``numpy.dtype``, ``numpy.core.multiarray._reconstruct`` and ``.scalar``,
   ``numpy.core.numeric._frombuffer`` of protocol 5, and their ``numpy._core`` spellings of numpy 2), plus
   ``_codecs.encode`` for bytes written under protocol 2.
   Each resolves to an inert builder that records and checks its arguments: a dtype must be a plain numeric,
   boolean, object or fixed-width string type (no fields, sub-arrays or metadata); an array's data must have
   exactly the bytes its shape and dtype need. Any other global is refused by name;
4. after unpickling, the containers are walked once (depth bounded by :data:`MAX_DEPTH`, self-references
   refused): only dicts, lists, tuples, strings, numbers, booleans, ``None``, bytes, numpy scalars and arrays are
   kept, and arrays are built from their checked bytes, at most :data:`~skeletal.data._safe.MAX_ARRAY_BYTES` in all.

The result is what ``np.load(...)[key]`` gives for a well-formed file (arrays are writable copies); every
failure is a :class:`~skeletal.errors.DataError` naming the file and the key.
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import re
import zipfile
from collections.abc import Callable
from os import PathLike
from typing import Any

import numpy as np

from skeletal.data._safe import MAX_ARRAY_BYTES, NPY_ERRORS, member_info, read_npy, read_npy_header
from skeletal.errors import DataError, UnsafeFileError

MAX_PICKLE_OPS = 1 << 20
"""Most opcodes a pickled entry may hold (VideoPose3D's Human3.6M 2D file has about 30,000): bounds the number of
Python objects that unpickling creates, whatever the member's size."""
MAX_DEPTH = 32
"""Deepest nesting of containers kept (the files nest four deep: array, dict, dict, list)."""

_TYPESTR = re.compile(r"(b1|[iu][1248]|f[248]|c(8|16)|O8|[SU][1-9][0-9]{0,8})")
"""The dtype strings numpy pickles for plain types: booleans, integers, floats, complex, objects, bytes and
unicode of a fixed width."""


class _RefusedError(Exception):
    """What the pickle asked for and was refused; :func:`unpickle_npy_member` adds the file and key."""


class _Builder:
    """A global the pickle may name: an inert callable, made afresh for each lookup (so that a ``BUILD`` opcode
    aimed at it changes nothing shared), with no state of its own to set."""

    __slots__ = ("name", "build")

    def __init__(self, name: str, build: Callable[..., Any] | None):
        self.name, self.build = name, build

    def __call__(self, *args: Any) -> Any:
        if self.build is None:
            raise _RefusedError(f"{self.name} called directly")
        return self.build(*args)

    def __setstate__(self, state: Any) -> None:
        raise _RefusedError(f"the pickle sets the state of {self.name}")


class _DType:
    """``numpy.dtype(typestr, align, copy)`` followed by ``__setstate__``: a plain dtype, checked."""

    __slots__ = ("dtype",)

    def __init__(self, typestr: Any, align: Any = False, copy: Any = True):
        if not isinstance(typestr, str) or not _TYPESTR.fullmatch(typestr):
            raise _RefusedError(f"dtype {typestr!r} is not a plain numeric, object or string type")
        self.dtype = np.dtype(typestr)

    def __setstate__(self, state: Any) -> None:
        # numpy's dtype state: (version 3, byte order, subarray, names, fields, element size, alignment, flags).
        if not (isinstance(state, tuple) and len(state) == 8 and state[0] == 3):
            raise _RefusedError(f"dtype state {str(state)[:80]} is not that of a plain dtype")
        _, order, subarray, names, fields, elsize, _alignment, _flags = state
        if subarray is not None or names is not None or fields is not None:
            raise _RefusedError("structured and sub-array dtypes are refused")
        if order not in ("<", ">", "|", "="):
            raise _RefusedError(f"dtype byte order {order!r}")
        if type(elsize) is not int or elsize not in (-1, self.dtype.itemsize):
            raise _RefusedError(f"dtype {self.dtype} with element size {elsize!r}")
        if order in ("<", ">"):
            self.dtype = self.dtype.newbyteorder(order)


class _Array:
    """``numpy.core.multiarray._reconstruct(ndarray, shape, typecode)`` followed by ``__setstate__``: records
    the shape, dtype and data, checked; nothing is allocated until :func:`_resolve` builds the array."""

    __slots__ = ("shape", "dtype", "fortran", "data", "native")

    def __init__(self, cls: Any, shape: Any, typecode: Any):
        if not (isinstance(cls, _Builder) and cls.name == "numpy.ndarray"):
            raise _RefusedError(f"_reconstruct of {getattr(cls, 'name', type(cls).__name__)}")
        self.shape: tuple[int, ...] | None = None
        self.dtype: np.dtype | None = None
        self.fortran: bool = False
        self.data: Any = None
        self.native = True  # numpy's __setstate__ converts to native byte order, its protocol-5 _frombuffer not

    def __setstate__(self, state: Any) -> None:
        # numpy's array state: (version 1, shape, dtype, Fortran order, raw bytes or, for objects, a list).
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1):
            raise _RefusedError(f"array state {str(state)[:80]} is not numpy's")
        _, shape, dtype, fortran, data = state
        if not (isinstance(shape, tuple) and len(shape) <= MAX_DEPTH and all(type(n) is int and n >= 0 for n in shape)):
            raise _RefusedError(f"array shape {str(shape)[:80]}")
        if not (isinstance(dtype, _DType) and type(fortran) is bool):
            raise _RefusedError("array state without a numpy dtype")
        count = math.prod(shape)
        if dtype.dtype.hasobject:
            if not (isinstance(data, list) and len(data) == count):
                raise _RefusedError(f"object array of shape {shape} holds {type(data).__name__} data of another length")
        elif not (isinstance(data, bytes) and len(data) == count * dtype.dtype.itemsize):
            size = len(data) if isinstance(data, bytes) else type(data).__name__
            raise _RefusedError(f"array {dtype.dtype} {shape} needs {count * dtype.dtype.itemsize} bytes, got {size}")
        self.shape, self.dtype, self.fortran, self.data = shape, dtype.dtype, fortran, data


def _frombuffer(data: Any, dtype: Any, shape: Any, order: Any) -> _Array:
    """``numpy._core.numeric._frombuffer(buffer, dtype, shape, order)``: how protocol 5 writes a contiguous array."""
    array = _Array(_Builder("numpy.ndarray", None), shape, b"b")
    if isinstance(data, bytearray):
        data = bytes(data)
    if order not in ("C", "F"):
        raise _RefusedError(f"array order {order!r}")
    array.__setstate__((1, shape, dtype, order == "F", data))
    array.native = False
    return array


def _scalar(dtype: Any, data: Any) -> Any:
    """``numpy.core.multiarray.scalar(dtype, bytes)``: a numpy scalar of a plain (not object) dtype."""
    if not isinstance(dtype, _DType) or dtype.dtype.hasobject:
        raise _RefusedError("a numpy scalar without a plain dtype")
    if not (isinstance(data, bytes) and len(data) == dtype.dtype.itemsize):
        raise _RefusedError(f"a {dtype.dtype} scalar from {type(data).__name__} of the wrong length")
    return np.frombuffer(data, dtype=dtype.dtype)[0]


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    """``_codecs.encode(text, "latin1")``: how protocol 2 writes a bytes object."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _RefusedError("_codecs.encode of anything but a latin-1 string")
    return text.encode("latin1")


_GLOBALS: dict[tuple[str, str], tuple[str, Callable[..., Any] | None]] = {
    ("numpy", "ndarray"): ("numpy.ndarray", None),
    ("numpy", "dtype"): ("numpy.dtype", _DType),
    **{(module, "_reconstruct"): ("numpy _reconstruct", _Array) for module in ("numpy.core.multiarray",
                                                                              "numpy._core.multiarray")},
    **{(module, "scalar"): ("numpy scalar", _scalar) for module in ("numpy.core.multiarray",
                                                                    "numpy._core.multiarray")},
    **{(module, "_frombuffer"): ("numpy _frombuffer", _frombuffer) for module in ("numpy.core.numeric",
                                                                                "numpy._core.numeric")},
    ("_codecs", "encode"): ("_codecs.encode", _encode),
}  # fmt: skip


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _GLOBALS:
            raise _RefusedError(f"the pickle names {module}.{name}, which is not a numpy array, dtype or scalar")
        return _Builder(*_GLOBALS[module, name])

    def persistent_load(self, pid: Any) -> Any:
        raise _RefusedError("the pickle uses persistent ids")


_INDEXED = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_PRIMITIVE = (str, int, float, bool, type(None), bytes, np.generic)


class _Resolver:
    """Replaces the recorded arrays by numpy arrays in one walk; shared references stay shared."""

    def __init__(self) -> None:
        self.done: dict[int, Any] = {}
        self.open: set[int] = set()
        self.budget = MAX_ARRAY_BYTES

    def __call__(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, _PRIMITIVE):
            return value
        if id(value) in self.done:
            return self.done[id(value)]
        if id(value) in self.open:
            raise _RefusedError("the pickle holds a container that contains itself")
        if depth > MAX_DEPTH:
            raise _RefusedError(f"containers nested more than {MAX_DEPTH} deep")
        self.open.add(id(value))
        result: Any
        if isinstance(value, dict):
            result = {}
            for key, item in value.items():
                if not isinstance(key, (str, int)):
                    raise _RefusedError(f"a dict key of type {type(key).__name__}")
                result[key] = self(item, depth + 1)
        elif type(value) in (list, tuple):
            result = type(value)(self(item, depth + 1) for item in value)
        elif isinstance(value, _Array):
            result = self.array(value, depth)
        else:
            name = value.name if isinstance(value, _Builder) else type(value).__name__
            raise _RefusedError(f"an object of type {name}")
        self.open.discard(id(value))
        self.done[id(value)] = result
        return result

    def array(self, value: _Array, depth: int) -> np.ndarray:
        if value.dtype is None or value.shape is None:
            raise _RefusedError("an array whose state the pickle never set")
        order: Any = "F" if value.fortran else "C"
        if value.dtype.hasobject:
            flat: np.ndarray = np.empty(len(value.data), dtype=np.object_)
            for index, item in enumerate(value.data):
                flat[index] = self(item, depth + 1)
            return flat.reshape(value.shape, order=order)
        self.budget -= len(value.data)
        if self.budget < 0:
            raise _RefusedError(f"arrays of more than {MAX_ARRAY_BYTES} bytes in all")
        array = np.frombuffer(value.data, dtype=value.dtype).reshape(value.shape, order=order)
        return array.astype(value.dtype.newbyteorder("=") if value.native else value.dtype, order="K")  # a copy


def unpickle_npy_member(path: str | PathLike[str], key: str, allow_pickle: bool = True) -> np.ndarray:
    """The array ``key`` of the ``.npz`` at ``path``, unpickled with the restrictions of this module if it holds
    objects (a plain array is read as it is).

    Raises:
        DataError: A missing key, a corrupt or oversized member, a pickle that names anything but numpy's array,
            dtype and scalar reconstruction, or whose data do not match the shapes it announces.
        UnsafeFileError: The entry is pickled and ``allow_pickle`` is False.
    """
    where = f"key {key!r}"
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if f"{key}.npy" not in names and key not in names:
                keys = sorted(name.removesuffix(".npy") for name in names)
                raise DataError(f"missing key {key!r}; the file has {keys}", path)
            info = member_info(archive, key, path)
            with archive.open(info) as stream:
                data = stream.read()
    except DataError:
        raise
    except NPY_ERRORS as error:
        raise DataError(f"corrupt or truncated npz archive: {type(error).__name__}: {error}", path, where) from None
    try:
        if not data.startswith(np.lib.format.MAGIC_PREFIX):
            raise DataError("entry is not an .npy array", path, where)
        stream = io.BytesIO(data)
        shape, fortran, dtype = read_npy_header(stream, len(data), path, where)
        start = stream.tell()
        if not dtype.hasobject:
            stream.seek(0)
            return read_npy(stream, len(data), path, where).copy()
        if not allow_pickle:
            raise UnsafeFileError(f"{path}: {where} is a pickled object; pass allow_pickle=True only for a file "
                                  "you trust (it is unpickled with numpy types only)")  # fmt: skip
        for count, (opcode, argument, at) in enumerate(pickletools.genops(stream), 1):
            position, number = int(at or 0), argument if isinstance(argument, int) else 0
            if count > MAX_PICKLE_OPS:
                raise DataError(f"the pickle holds more than {MAX_PICKLE_OPS} opcodes", path, where)
            # CPython's unpickler grows its memo table to the index a PUT names, and reads a frame's announced
            # length: a corrupt index asks for gigabytes.
            if opcode.name in _INDEXED and number > MAX_PICKLE_OPS:
                raise DataError(f"corrupt pickled entry: memo index {argument}", path, f"{where}, byte {position}")
            if opcode.name == "FRAME" and number > len(data) - position:
                raise DataError(
                    f"corrupt pickled entry: a frame of {argument} bytes", path, f"{where}, byte {position}"
                )
        stream.seek(start)
        value = _Resolver()(_Unpickler(stream).load())
    except (DataError, UnsafeFileError):
        raise
    except _RefusedError as error:
        raise DataError(f"refused pickled entry: {error}", path, where) from None
    except (*NPY_ERRORS, pickle.UnpicklingError, TypeError, KeyError, AttributeError, IndexError) as error:  # type: ignore[misc]
        raise DataError(f"corrupt pickled entry: {type(error).__name__}: {str(error)[:200]}", path, where) from None
    if not isinstance(value, np.ndarray) or value.shape != shape:
        raise DataError(f"the pickle holds {type(value).__name__}, not the array its header announces", path, where)
    return value
