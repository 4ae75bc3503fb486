"""The arrays one command writes and the next reads, so that outputs chain (``lift`` -> ``predict`` / ``viz``).

- ``skeletal prepare`` and ``skeletal predict`` inputs: an ``.npy`` array or an ``.npz`` with ``x``.
- ``skeletal lift`` writes an ``.npz`` with ``poses_3d (M, T, V, 3)`` (metres, root-relative, camera frame),
  ``keypoints_2d``, ``scores``, ``joint_names``, ``parents`` and ``metadata`` (JSON). Its ``poses_3d`` are one
  recognition sample (``M`` people) on the layout its ``joint_names`` name, so ``skeletal predict`` and ``skeletal viz
  attention`` of a recognition model take the file as it is. It holds predictions, not ground truth: ``skeletal
  eval`` refuses it with a message saying so, and so do the models that read other quantities (rotations for
  motion prediction, screen-normalised 2D for lifting).

A layout stored in a file (``joint_names``) is checked against the model's: converted where a converter exists
(:func:`skeletal.skeletons.convert`), otherwise a :class:`~skeletal.errors.LayoutError` naming the file, both
layouts and the flag that chooses the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from skeletal.errors import ConfigError, DataError, LayoutError
from skeletal.skeletons import Skeleton

LIFT_KEYS = ("poses_3d", "metadata")
"""Keys by which an ``.npz`` is recognised as the output of ``skeletal lift``."""


def npz_keys_of(path: str | PathLike[str]) -> list[str]:
    """The array names of an ``.npz`` (``[]`` for anything else), read from the zip directory only."""
    import zipfile

    path = Path(path)
    if path.suffix.lower() != ".npz" or not zipfile.is_zipfile(path):
        return []
    from skeletal.data._safe import npz_keys

    with zipfile.ZipFile(path) as archive:
        return npz_keys(archive)


def is_lift_output(path: str | PathLike[str]) -> bool:
    """True for an ``.npz`` written by ``skeletal lift``."""
    return set(LIFT_KEYS) <= set(npz_keys_of(path))


def lift_output_refused(path: str | PathLike[str], needs: str) -> DataError:
    """The error for a ``skeletal lift`` output given where it does not fit (``needs``: what is read there)."""
    return DataError(f"this is the output of skeletal lift (poses_3d: predicted 3D joint positions, no ground truth); "
                     f"{needs}", path)  # fmt: skip


def read_input_array(path: str | PathLike[str], keys: Sequence[str] = ("x",)) -> tuple[np.ndarray, Skeleton | None]:
    """An input array and the layout the file stores, if any.

    Args:
        path: An ``.npy`` (memory-mapped) or an ``.npz`` (the first of ``keys`` it holds, else its only array).
        keys: Array names accepted in an ``.npz``, in order of preference.

    Raises:
        FileNotFoundError: No such file.
        DataError: Unreadable, or an ``.npz`` with several arrays and none of ``keys``.
    """
    from skeletal.data.keypoints import read_array_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file {path} does not exist")
    if path.suffix.lower() == ".npy":
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False), None
        except (ValueError, OSError, EOFError) as error:
            raise DataError(f"not a readable .npy array ({error})", path) from None
    return read_array_file(path, keys)


def match_layout(
    x: np.ndarray,
    stored: Skeleton | None,
    expected: str | Skeleton | None,
    path: str | PathLike[str],
    flag: str = "--layout",
) -> np.ndarray:
    """``x (..., V, C)`` on the ``expected`` layout: unchanged when the file stores none or the same one, converted
    when a chain of converters links them, else a :class:`LayoutError` naming the file, both layouts and ``flag``."""
    from skeletal import skeletons

    if stored is None or expected is None or expected == "":
        return x
    target = skeletons.get(expected)
    if target.joint_names == stored.joint_names:
        return x
    try:
        skeletons.conversion_path(stored, target)
    except ConfigError:
        raise LayoutError(f"{path}: the joints are on layout {stored.name!r} (stored in the file), the model expects "
                          f"{target.name!r} and no conversion links them; use a model trained on {stored.name!r} "
                          f"({flag} names the input's layout)") from None  # fmt: skip
    return np.asarray(skeletons.convert(np.asarray(x, dtype=np.float64), stored, target), dtype=np.float32)
