"""The Lightning data module of every task and its resumable training order.

:class:`SkeletonDataModule` serves train/val/test loaders over the splits of :mod:`skeletal.data.datasets`
(in memory, memory-mapped or synthetic), making recognition streams on the fly (:mod:`skeletal.data.streams`);
:class:`EpochShuffleSampler` draws one permutation per epoch from ``seed + epoch``, and the training loader
(:class:`ResumableLoader`) saves its position in Lightning's checkpoints, so a run resumed in the middle of an
epoch continues with the next batch of the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Sampler

from skeletal.data.datasets import KEYS, ArrayDataset, Split, check_split, load_split, synthetic_splits
from skeletal.data.streams import StreamTransform
from skeletal.errors import ConfigError, DataError


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
        stream: Recognition input stream made on the fly from the stored joints
            (:data:`~skeletal.data.streams.STREAMS`).
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
            splits = {}
            for name in ("train", "val", "test"):
                path = getattr(data, name)
                if path is not None and not Path(path).exists():
                    raise ConfigError(f"data.{name}: {path} does not exist (a prepared split: a folder of x.npy"
                                      f"{', y.npy' if 'y' in KEYS[task] else ''} or an .npz; skeletal prepare writes "
                                      "them)")  # fmt: skip
                splits[name] = None if path is None else load_split(path, task)
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
