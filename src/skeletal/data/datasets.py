"""Prepared splits of each task as arrays, and the dataset over them.

Every split is a dict of arrays sharing their first axis (samples), channels-last:

| task | ``x`` | ``y`` |
| --- | --- | --- |
| recognition | ``(N, M, T, V, C)`` float | ``(N,)`` integer class labels |
| prediction | ``(N, T, V, F)`` float (a window of the representation) | — |
| lifting | ``(N, T, V, 2)`` 2D keypoints | ``(N, T, V, 3)`` 3D joints (metres) |

A split on disk is an ``.npz`` file with those keys, a folder holding ``x.npy`` (and ``y.npy``), or a part
written by the readers' ``prepare_*`` functions (``train_data.npy`` with ``train_label.json`` beside it). The
``.npy`` arrays are opened with ``np.load(mmap_mode="r")``, so datasets larger than memory stream from disk
and DataLoader workers share the pages. :func:`synthetic_splits` draws the same splits from the embedded
generator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from skeletal.errors import ConfigError, DataError, ShapeError

KEYS = {"recognition": ("x", "y"), "prediction": ("x",), "lifting": ("x", "y")}
DIMS = {"recognition": (5, 1), "prediction": (4,), "lifting": (4, 4)}

Split = dict[str, np.ndarray]


class ArrayDataset(Dataset):
    """Samples ``i`` of a few arrays with a common first axis, as float32 (labels as int64) tensors.

    Args:
        arrays: Named arrays (numpy or memory-mapped), each ``(N, ...)``.
        keys: Which arrays a sample returns, in order.
        transforms: Per key, a function applied to each sample's array (e.g. ``{"x": StreamTransform("bone",
            "ntu25")}``).
    """

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        keys: tuple[str, ...],
        transforms: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    ):
        self.arrays = {k: arrays[k] for k in keys}
        self.keys = keys
        self.transforms = dict(transforms or {})
        lengths = {k: len(v) for k, v in self.arrays.items()}
        if len(set(lengths.values())) != 1:
            raise ShapeError(f"arrays of one split must have the same number of samples, got {lengths}")
        self.length = next(iter(lengths.values()))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        sample = []
        for key in self.keys:
            value = np.asarray(self.arrays[key][index])
            if key in self.transforms:
                value = self.transforms[key](value)
            tensor = torch.from_numpy(np.array(value, copy=True))
            sample.append(tensor.long() if tensor.dtype in (torch.int32, torch.int64, torch.int16) else tensor.float())
        return tuple(sample)


def load_split(path: str | Path, task: str) -> Split:
    """Open a prepared split (``.npz`` file or folder of ``.npy`` files, memory-mapped) and check its shapes."""
    path = Path(path)
    keys = KEYS[task]
    if not path.exists():
        raise FileNotFoundError(f"data split {path} does not exist")
    arrays: Split = {}
    if path.suffix == ".npy":
        arrays = _prepared_part(path, task)
    elif path.is_dir():
        for key in keys:
            file = path / f"{key}.npy"
            if not file.is_file():
                raise DataError(f"missing {file.name}; a {task} split folder holds {', '.join(keys)} (.npy)", path)
            try:
                arrays[key] = np.load(file, mmap_mode="r", allow_pickle=False)
            except ValueError as error:
                raise DataError(f"cannot read the array ({error})", file) from None
    else:
        try:
            with np.load(path, allow_pickle=False) as archive:
                missing = [k for k in keys if k not in archive.files]
                if missing:
                    raise DataError(f"missing key(s) {missing}; found {archive.files}", path)
                arrays = {k: archive[k] for k in keys}
        except (ValueError, OSError, EOFError) as error:
            raise DataError(f"not a readable .npz archive ({error})", path) from None
    check_split(arrays, task, str(path))
    return arrays


def load_input(path: str | Path) -> np.ndarray:
    """The model input of ``skeletal predict``: a ``.npy`` array, or the array ``x`` of an ``.npz``.

    Raises:
        FileNotFoundError: No such file.
        DataError: Neither a readable ``.npy`` nor an ``.npz`` holding ``x``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
        x = loaded["x"] if isinstance(loaded, np.lib.npyio.NpzFile) else loaded
    except (ValueError, OSError, KeyError) as error:
        raise DataError(f"expected a .npy array or an .npz with key 'x' ({error})", path) from None
    return x


def _prepared_part(path: Path, task: str) -> Split:
    """A part written by the readers' ``prepare_*`` (``{part}_data.npy`` with ``{part}_label.json``)."""
    import json

    try:
        arrays = {"x": np.load(path, mmap_mode="r", allow_pickle=False)}
    except ValueError as error:
        raise DataError(f"cannot read the array ({error})", path) from None
    if "y" in KEYS[task]:
        label_file = path.with_name(path.name.replace("_data.npy", "_label.json"))
        if label_file == path or not label_file.is_file():
            raise DataError(f"no label file {label_file.name} beside the data (as prepare_ntu writes them)", path)
        try:
            arrays["y"] = np.asarray(json.loads(label_file.read_text())["labels"], dtype=np.int64)
        except (ValueError, KeyError, TypeError) as error:
            raise DataError(f"expected a JSON object with 'labels' ({error})", label_file) from None
    return arrays


def check_split(arrays: Mapping[str, np.ndarray], task: str, where: str = "data") -> None:
    """Raise :class:`ShapeError` unless the arrays have the dimensions of ``task`` (see the module table)."""
    for key, dims in zip(KEYS[task], DIMS[task]):
        shape = tuple(arrays[key].shape)
        if len(shape) != dims:
            raise ShapeError(f"{where}: {task} array {key!r} must have {dims} dimensions, got shape {shape}")
    if task == "lifting" and (arrays["x"].shape[-1] != 2 or arrays["y"].shape[-1] != 3):
        raise ShapeError(
            f"{where}: lifting expects x (..., 2) and y (..., 3), got {arrays['x'].shape}, {arrays['y'].shape}"
        )


def synthetic_splits(task: str, seed: int = 0, **kwargs: Any) -> dict[str, Split]:
    """Train/val/test splits drawn from the embedded generator :mod:`skeletal.data.synthetic`.

    Args:
        task: Which generator (``recognition_arrays``, ``prediction_arrays`` or ``lifting_arrays``).
        seed: Seed of the generator; the splits use ``seed``, ``seed + 1`` and ``seed + 2``.
        **kwargs: Keyword arguments of the generator; ``num_train`` / ``num_val`` / ``num_test`` set the sizes;
            ``eval``, a dict, overrides keyword arguments for the validation and test splits only (e.g. training
            windows of the lifter's receptive field, longer evaluation windows: ``{"num_frames": 27, "eval":
            {"num_frames": 64}}``).
    """
    from skeletal.data import synthetic

    generator = getattr(synthetic, f"{task}_arrays")
    kwargs = dict(kwargs)
    sizes = {"train": kwargs.pop("num_train", 256), "val": kwargs.pop("num_val", 64)}
    sizes["test"] = kwargs.pop("num_test", sizes["val"])
    evaluation = kwargs.pop("eval", None) or {}
    if not isinstance(evaluation, Mapping):
        raise ConfigError(f"data.synthetic.eval: expected a mapping of generator arguments, got {evaluation!r}")
    splits = {}
    for offset, (split, size) in enumerate(sizes.items()):
        options = kwargs if split == "train" else {**kwargs, **evaluation}
        produced = generator(num_samples=size, seed=seed + offset, **options)
        if isinstance(produced, Mapping):
            arrays = {k: np.asarray(produced[k]) for k in KEYS[task]}
        elif isinstance(produced, tuple):
            arrays = dict(zip(KEYS[task], (np.asarray(a) for a in produced)))
        else:
            arrays = {"x": np.asarray(produced)}
        if task == "prediction" and arrays["x"].ndim == 5:  # rotation matrices (..., 3, 3) -> (..., 9)
            arrays["x"] = arrays["x"].reshape(*arrays["x"].shape[:3], -1)
        check_split(arrays, task, f"synthetic {task} data")
        splits[split] = arrays
    return splits
