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

import json
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

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

    if expected is None or expected == "":
        return x
    target = skeletons.get(expected)
    if stored is None:
        if x.shape[-2] != target.num_joints:
            fits = [n for n in skeletons.names() if skeletons.get(n).num_joints == x.shape[-2]]
            hint = f" (layouts with {x.shape[-2]} joints: {', '.join(fits)})" if fits else ""
            raise LayoutError(f"{path}: {x.shape[-2]} joints per frame, but the model is on layout {target.name!r} "
                              f"({target.num_joints} joints); use a model trained on the input's layout"
                              f"{hint}")  # fmt: skip
        return x
    if target.joint_names == stored.joint_names:
        return x
    try:
        skeletons.conversion_path(stored, target)
    except ConfigError:
        raise LayoutError(f"{path}: the joints are on layout {stored.name!r} (stored in the file), the model expects "
                          f"{target.name!r} and no conversion links them; use a model trained on {stored.name!r} "
                          f"({flag} names the input's layout)") from None  # fmt: skip
    return np.asarray(skeletons.convert(np.asarray(x, dtype=np.float64), stored, target), dtype=np.float32)


def check_training_data(
    splits: Mapping[str, Mapping[str, np.ndarray] | None],
    model_kwargs: Mapping[str, Any],
    paths: Mapping[str, str | None],
) -> None:
    """Before training: every split's joint count fits ``model.kwargs.skeleton`` and its labels ``num_classes``.

    Raises:
        ConfigError: Naming the config key, the split's path, what it holds and what the model expects (the layout
            in the ``meta.json`` beside a prepared split, when there is one).
    """
    from skeletal import skeletons

    layout = model_kwargs.get("skeleton")
    num_classes = model_kwargs.get("num_classes")
    for name, split in splits.items():
        if split is None:
            continue
        path = paths.get(name)
        where = f"data.{name} ({path})" if path else f"the {name} split"
        joints = split["x"].shape[-2]
        if layout and joints != skeletons.get(layout).num_joints:
            meta = Path(path).parent / "meta.json" if path else None
            note = ""
            if meta is not None and meta.is_file():
                stored = json.loads(meta.read_text()).get("layout")
                note = f"; its {meta} says layout {stored!r}" if stored else ""
            expected = skeletons.get(layout)
            raise ConfigError(f"{where} holds {joints} joints per frame, but model.kwargs.skeleton "
                              f"{expected.name!r} has {expected.num_joints}{note}")  # fmt: skip
        if isinstance(num_classes, int) and "y" in split and len(split["y"]) and split["y"].ndim == 1:
            top = int(np.max(split["y"]))
            if top >= num_classes or int(np.min(split["y"])) < 0:
                raise ConfigError(f"{where} holds labels {int(np.min(split['y']))}..{top} ({top + 1} classes), but "
                                  f"model.kwargs.num_classes is {num_classes}")  # fmt: skip
