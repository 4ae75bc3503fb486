"""Data modules: prepared arrays (memory-mapped ``.npy`` or ``.npz``) or the synthetic generator, per task.

Every split is a dict of arrays sharing their first axis (samples), channels-last:

| task | ``x`` | ``y`` |
| --- | --- | --- |
| recognition | ``(N, M, T, V, C)`` float | ``(N,)`` integer class labels |
| prediction | ``(N, T, V, F)`` float (a window of the representation) | — |
| lifting | ``(N, T, V, 2)`` 2D keypoints | ``(N, T, V, 3)`` 3D joints (metres) |

A split on disk is an ``.npz`` file with those keys, a folder holding ``x.npy`` (and ``y.npy``), or a part
written by the readers' ``prepare_*`` functions (``train_data.npy`` with ``train_label.json`` beside it). The
``.npy`` arrays are opened with ``np.load(mmap_mode="r")``, so datasets larger than memory stream from disk
and DataLoader workers share the pages.

Recognition streams (2s-AGCN, Shi et al. 2019, section 3.3; ST-TR journal section V-C) are made per sample by
:func:`make_stream` from the stored joints, never stored as extra copies: ``joint`` (as stored), ``bone``
(joint minus parent, :func:`skeletal.data.transforms.to_bones`), ``motion`` (next frame minus frame,
:func:`skeletal.data.transforms.to_motion`) and ``joint+bone`` (both concatenated on the channels, ``2 C``
channels, the input of the ``*-bones`` models). Set it with ``data.stream`` (and ``data.skeleton`` for bones).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from skeletal.errors import ConfigError, DataError, ShapeError

KEYS = {"recognition": ("x", "y"), "prediction": ("x",), "lifting": ("x", "y")}
DIMS = {"recognition": (5, 1), "prediction": (4,), "lifting": (4, 4)}

Split = dict[str, np.ndarray]
STREAMS = ("joint", "bone", "motion", "joint+bone")
"""Recognition input streams (see the module docstring)."""


def make_stream(x: np.ndarray, stream: str, skeleton: Any = None) -> np.ndarray:
    """The ``stream`` of joint coordinates ``x``, channels-last.

    Args:
        x: Joints ``(..., T, V, C)`` (one sample ``(M, T, V, C)`` or a batch).
        stream: One of :data:`STREAMS`.
        skeleton: Layout (name or :class:`~skeletal.skeletons.Skeleton`), needed by ``bone`` and ``joint+bone``.

    Returns:
        ``(..., T, V, C)``, or ``(..., T, V, 2 C)`` for ``joint+bone`` (joints first).
    """
    from skeletal.data.transforms import to_bones, to_motion

    if stream not in STREAMS:
        raise ConfigError(f"data.stream: expected one of {', '.join(STREAMS)}, got {stream!r}")
    if stream == "joint":
        return x
    if stream == "motion":
        return to_motion(np.asarray(x))
    if skeleton is None or skeleton == "":
        raise ConfigError(f"the {stream!r} stream needs the layout: set data.skeleton (e.g. ntu25)")
    bones = to_bones(np.asarray(x), skeleton)
    return bones if stream == "bone" else np.concatenate([np.asarray(x), bones], axis=-1)


class StreamTransform:
    """Callable ``x -> make_stream(x, stream, skeleton)`` (picklable, for DataLoader workers)."""

    def __init__(self, stream: str, skeleton: Any = None):
        if stream not in STREAMS:
            raise ConfigError(f"data.stream: expected one of {', '.join(STREAMS)}, got {stream!r}")
        if stream in ("bone", "joint+bone") and not skeleton:
            raise ConfigError(f"the {stream!r} stream needs the layout: set data.skeleton (e.g. ntu25)")
        self.stream, self.skeleton = stream, skeleton

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return make_stream(x, self.stream, self.skeleton)


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


class EpochShuffleSampler(Sampler[int]):
    """A random permutation per epoch drawn from ``seed + epoch``, so a resumed run sees the same order.

    Lightning calls ``set_epoch`` before every epoch (as for ``DistributedSampler``, which replaces this
    sampler under DDP and is seeded the same way).

    Args:
        length: Samples in the dataset.
        seed: Seed of the permutations.
        resume: ``(epoch, skip)`` of a run resumed in the middle of an epoch: the first iteration draws the
            permutation of ``epoch`` and leaves out its first ``skip`` indices (the samples of the batches
            trained before the checkpoint), so training continues exactly where it stopped. Later iterations
            are whole epochs.
    """

    def __init__(self, length: int, seed: int = 0, resume: tuple[int, int] | None = None):
        self.length, self.seed, self.epoch = length, seed, 0
        self.resume = resume
        if resume is not None:
            self.epoch = resume[0]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[int]:
        skip = 0
        if self.resume is not None:
            # The first iterator may be created before Lightning's set_epoch (worker prefetch): use the saved epoch.
            self.epoch, skip = self.resume
            self.resume = None
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.length, generator=generator).tolist()[skip:])


class ResumableLoader(DataLoader):
    """The training loader, resumable in Lightning's sense (``state_dict``/``load_state_dict``): Lightning saves
    :meth:`state_dict` in its checkpoints (``loops.fit_loop.state_dict.combined_loader``) and calls
    :meth:`load_state_dict` before the first iteration of a resumed run, so a run resumed in the middle of an epoch
    continues with the next batch (and Lightning does not warn that the loader is not resumable).

    Args:
        *args: :class:`~torch.utils.data.DataLoader` arguments; ``sampler`` an :class:`EpochShuffleSampler`.
        position: Returns the position to save (see :meth:`SkeletonDataModule.position`).
        **kwargs: More :class:`~torch.utils.data.DataLoader` arguments.
    """

    def __init__(self, *args: Any, position: Callable[[], dict[str, Any]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.position = position

    def state_dict(self) -> dict[str, Any]:
        return self.position() if self.position is not None else {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        resume = resume_point(state_dict, len(self.dataset))  # type: ignore[arg-type]
        if resume is not None and isinstance(self.sampler, EpochShuffleSampler):
            self.sampler.resume = resume
            self.sampler.epoch = resume[0]


def resume_point(state_dict: dict[str, Any], length: int) -> tuple[int, int] | None:
    """``(epoch, samples to skip)`` of a saved position (single process), or ``None`` when the next epoch starts
    whole (a checkpoint at the end of an epoch) or the position does not apply (none saved, several processes:
    under DDP Lightning's distributed sampler orders the data and the position is not restored)."""
    done = int(state_dict.get("train_batches_done", 0))
    if not state_dict or state_dict.get("world_size", 1) != 1 or done == 0:
        return None
    skip = done * int(state_dict["batch_size"])
    return (int(state_dict["train_epoch"]), skip) if skip < length else None


class SkeletonDataModule(L.LightningDataModule):
    """Train/val/test loaders over in-memory or memory-mapped splits of one task.

    Args:
        task: ``recognition``, ``prediction`` or ``lifting`` (which arrays a sample holds).
        train: Training split (dict of arrays) or ``None``.
        val: Validation split or ``None``.
        test: Test split (defaults to ``val``).
        batch_size: Samples per batch and device.
        num_workers: Loader worker processes (persistent when > 0).
        seed: Seed of the training order (``seed + epoch`` each epoch, see :class:`EpochShuffleSampler`).
        stream: Recognition input stream made on the fly from the stored joints (:data:`STREAMS`).
        skeleton: Layout of the data (needed by the bone streams).
    """

    def __init__(
        self,
        task: str,
        train: Split | None = None,
        val: Split | None = None,
        test: Split | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        seed: int = 0,
        stream: str = "joint",
        skeleton: Any = None,
    ):
        super().__init__()
        if task not in KEYS:
            raise DataError(f"unknown task {task!r}; expected one of {tuple(KEYS)}")
        if stream != "joint" and task != "recognition":
            raise ConfigError(f"data.stream {stream!r} applies to recognition only, not {task}")
        self.transforms = {} if stream == "joint" else {"x": StreamTransform(stream, skeleton)}
        self.task = task
        self.splits = {"train": train, "val": val, "test": test if test is not None else val}
        for name, split in self.splits.items():
            if split is not None:
                check_split(split, task, f"{name} split")
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self._resume: tuple[int, int] | None = None

    @classmethod
    def from_config(cls, task: str, data: Any, seed: int = 0) -> SkeletonDataModule:
        """Build from a :class:`skeletal.config.DataConfig` (synthetic or prepared arrays)."""
        splits: dict[str, Split | None]
        if data.source == "synthetic":
            splits = dict(synthetic_splits(task, seed=seed, **data.synthetic))
        else:
            splits = {
                name: None if getattr(data, name) is None else load_split(getattr(data, name), task)
                for name in ("train", "val", "test")
            }
        stream = getattr(data, "stream", "joint")
        return cls(
            task, splits["train"], splits["val"], splits["test"], data.batch_size, data.num_workers, seed,
            stream=stream, skeleton=data.skeleton,
        )  # fmt: skip

    def position(self) -> dict[str, Any]:
        """Position of the training order, saved in Lightning's checkpoints by the training loader
        (:class:`ResumableLoader`): the epoch in progress and the number of its batches already trained
        (``batch_progress.current.processed`` of the fit loop)."""
        trainer = self.trainer
        if trainer is None or trainer.state.fn != "fit":
            return {}
        # Both trackers are _ProcessedTracker at run time (typed as their base class in Lightning).
        batches = trainer.fit_loop.epoch_loop.batch_progress.current
        epochs = trainer.fit_loop.epoch_progress.current
        return {
            "train_epoch": int(epochs.processed),  # type: ignore[attr-defined]
            "train_batches_done": int(batches.processed),  # type: ignore[attr-defined]
            "batch_size": self.batch_size,
            "world_size": int(trainer.world_size),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Checkpoints written before the loader kept the position saved it here (the datamodule's state): let the
        first training epoch skip the samples of the batches trained before the checkpoint."""
        length = len(next(iter(self.splits["train"].values()))) if self.splits["train"] is not None else 0
        self._resume = resume_point(state_dict, length)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        arrays = self.splits[split]
        if arrays is None:
            raise DataError(f"no {split} split was given")
        dataset = ArrayDataset(arrays, KEYS[self.task], self.transforms)
        options: dict[str, Any] = {
            "batch_size": self.batch_size,
            # Its own generator for the workers' base seed, drawn at each iterator creation: the global torch
            # random state (dropout, augmentation) then does not depend on how many loaders were started, which
            # differs between an uninterrupted run and one resumed from a checkpoint.
            "generator": torch.Generator().manual_seed(self.seed),
            "num_workers": self.num_workers,
            "persistent_workers": self.num_workers > 0,
            "drop_last": False,
        }
        if not shuffle:
            return DataLoader(dataset, **options)
        sampler = EpochShuffleSampler(len(dataset), self.seed, resume=self._resume)
        self._resume = None
        return ResumableLoader(dataset, sampler=sampler, position=self.position, **options)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
