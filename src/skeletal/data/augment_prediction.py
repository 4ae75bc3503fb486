"""Augmentation of motion-prediction windows: time reversal and left/right mirroring (probability 0.5 each, as
the ST-Transformer's H3.6M training, supplement "Training details").

Mirroring reflects the motion across the sagittal plane. With ``S = diag(-1, 1, 1)`` the reflection of the
skeleton's left/right axis (``x`` in ``cmu38``, ``h36m32``, ``amass15``/SMPL: the left and right bone offsets differ
in the sign of ``x``), a local rotation ``R`` becomes ``S R S`` (a proper rotation again) and moves to the
mirrored joint (:attr:`skeletal.skeletons.Skeleton.flip_permutation`). If the offsets are symmetric
(``offset[mirror(j)] = S offset[j]``) forward kinematics of the mirrored rotations gives the mirrored positions.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from skeletal.errors import ConfigError
from skeletal.geometry import convert_rotations
from skeletal.skeletons import Skeleton
from skeletal.skeletons import get as get_skeleton

MIRROR_AXIS = 0
"""Left/right axis (x) of the built-in rotation layouts."""


def reflection(axis: int = MIRROR_AXIS) -> torch.Tensor:
    """``S``: the identity with ``-1`` at ``axis`` (float64)."""
    matrix = torch.eye(3, dtype=torch.float64)
    matrix[axis, axis] = -1.0
    return matrix


def mirror_rotations(
    x: torch.Tensor, skeleton: Skeleton | str, representation: str = "matrix", axis: int = MIRROR_AXIS
) -> torch.Tensor:
    """Mirror local rotations: swap left/right joints and conjugate each rotation by the reflection ``S``.

    Args:
        x: Rotations in ``representation``.
        skeleton: The layout (its ``flip_permutation`` pairs left and right joints).
        representation: ``matrix`` (9 values), ``quaternion``, ``axis_angle`` or ``rotation_6d``.
        axis: The left/right axis.

    Shape:
        x: ``(..., V, F)``; returns the same shape and dtype.
    """
    layout = get_skeleton(skeleton)
    if x.shape[-2] != layout.num_joints:
        raise ConfigError(f"mirror_rotations: layout {layout.name!r} has {layout.num_joints} joints, got {x.shape[-2]}")
    matrices = torch.as_tensor(convert_rotations(x.double(), representation, "matrix"))
    s = reflection(axis).to(matrices.device)
    mirrored = s @ matrices @ s
    mirrored = mirrored[..., list(layout.flip_permutation), :, :]
    out = torch.as_tensor(convert_rotations(mirrored, "matrix", representation, flat_matrix=True))
    return out.to(x.dtype).reshape(x.shape)


def mirror_positions(positions: torch.Tensor, skeleton: Skeleton | str, axis: int = MIRROR_AXIS) -> torch.Tensor:
    """Mirror joint positions ``(..., V, 3)``: negate ``axis`` and swap left/right joints."""
    layout = get_skeleton(skeleton)
    out = positions[..., list(layout.flip_permutation), :].clone()
    out[..., axis] = -out[..., axis]
    return out


def reverse_time(x: torch.Tensor) -> torch.Tensor:
    """Play a window backwards: ``(..., T, V, F)`` with ``T`` on axis ``-3``."""
    return torch.flip(x, dims=(-3,))


class ReverseMirror:
    """Random augmentation of one window ``(T, V, F)``: reverse with ``p_reverse``, mirror with ``p_mirror``.

    Args:
        skeleton: Layout of the windows.
        representation: Rotation representation of the windows.
        p_reverse: Probability of time reversal (0.5 as the paper).
        p_mirror: Probability of mirroring (0.5).
        seed: Seed of the draws (each call advances one numpy generator).
    """

    def __init__(
        self,
        skeleton: Skeleton | str,
        representation: str = "matrix",
        p_reverse: float = 0.5,
        p_mirror: float = 0.5,
        seed: int = 0,
    ) -> None:
        self.skeleton = get_skeleton(skeleton)
        self.representation = representation
        self.p_reverse, self.p_mirror = p_reverse, p_mirror
        self.rng = np.random.default_rng(seed)

    def __call__(self, window: torch.Tensor) -> torch.Tensor:
        if self.rng.random() < self.p_reverse:
            window = reverse_time(window)
        if self.rng.random() < self.p_mirror:
            window = mirror_rotations(window, self.skeleton, self.representation)
        return window


class AugmentedWindows(Dataset):
    """A prediction dataset (samples ``(x,)``) whose windows pass through a :class:`ReverseMirror`."""

    def __init__(self, base: Dataset, augment: ReverseMirror) -> None:
        self.base, self.augment = base, augment

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        x, *rest = self.base[index]
        return (self.augment(x), *rest)


def augmented_datamodule(
    train: dict[str, np.ndarray],
    val: dict[str, np.ndarray] | None,
    skeleton: Skeleton | str,
    representation: str = "matrix",
    batch_size: int = 32,
    seed: int = 0,
    p_reverse: float = 0.5,
    p_mirror: float = 0.5,
):  # noqa: ANN201 - returns a SkeletonDataModule subclass instance
    """A :class:`skeletal.data.module.SkeletonDataModule` for prediction whose training windows are augmented.

    Pass it as ``datamodule=`` to :func:`skeletal.tasks.train`; validation and test windows are not augmented.
    """
    from torch.utils.data import DataLoader

    from skeletal.data.datasets import ArrayDataset
    from skeletal.data.module import EpochShuffleSampler, SkeletonDataModule

    class _Augmented(SkeletonDataModule):
        def train_dataloader(self) -> DataLoader:
            base = ArrayDataset(self.splits["train"], ("x",))  # type: ignore[arg-type]
            dataset = AugmentedWindows(base, ReverseMirror(skeleton, representation, p_reverse, p_mirror, seed))
            return DataLoader(dataset, batch_size=self.batch_size, sampler=EpochShuffleSampler(len(base), self.seed))

    return _Augmented("prediction", train, val, batch_size=batch_size, seed=seed)
