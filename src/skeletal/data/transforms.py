"""Data transforms on channels-last numpy arrays: augmentation, streams, cameras, screen coordinates.

Every transform works on one sequence ``(T, V, C)`` or a multi-person sequence ``(M, T, V, C)``: time is axis
``-3``, joints ``-2``, channels ``-1``. The functions are pure; the classes are callables ``x -> x`` that can be
chained with :class:`Compose`, and the random ones own a ``numpy.random.Generator`` made from ``rng`` (a seed or
a generator), so a pipeline is reproducible under a seed.

Streams follow 2s-AGCN (Shi et al. 2019, section 3.3; official ``data_gen/gen_bone_data.py`` and
``gen_motion_data.py``): the bone of a joint is ``joint - parent`` (zero for the root) and the motion of frame
``t`` is ``x[t + 1] - x[t]`` with the last frame zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, cast

import numpy as np

from skeletal.errors import ShapeError
from skeletal.geometry.camera import normalize_screen_coordinates, project_to_2d
from skeletal.skeletons import Skeleton, get

Array = np.ndarray
RngLike = np.random.Generator | int | None


def _check(x: Array, skeleton: Skeleton | None = None, what: str = "input") -> None:
    if x.ndim < 3:
        raise ShapeError(f"{what}: expected (T, V, C) or (M, T, V, C), got shape {tuple(x.shape)}")
    if skeleton is not None:
        skeleton.check(int(x.shape[-2]), what)


# ----------------------------------------------------------------------------------------------- geometry
def rotation_matrix(axis: Sequence[float] | Array, angle: float) -> Array:
    """Rotation by ``angle`` radians about ``axis`` (Rodrigues' formula), column convention ``y = R @ x``."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    cross = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * cross + (1.0 - np.cos(angle)) * cross @ cross


def rotate(x: Array, matrix: Array, center: Array | None = None) -> Array:
    """Rotate 3D points ``(..., 3)`` by ``matrix`` about ``center`` (default the origin)."""
    if x.shape[-1] != 3:
        raise ShapeError(f"rotate: expected 3 channels, got {x.shape[-1]}")
    offset = np.zeros(3) if center is None else np.asarray(center)
    return ((x - offset) @ np.asarray(matrix, dtype=x.dtype).T + offset).astype(x.dtype)


def flip(x: Array, skeleton: Skeleton | str, axis: int = 0, center: float = 0.0) -> Array:
    """Mirror coordinate ``axis`` about ``center`` and swap every left joint with its right partner.

    An involution: ``flip(flip(x)) == x``. For pixel coordinates pass ``center = width / 2``; for normalised
    screen coordinates and root-relative 3D, ``center = 0``. Channels other than ``axis`` (a confidence score)
    are only permuted.
    """
    skeleton = get(skeleton)
    _check(x, skeleton, "flip")
    out = x[..., list(skeleton.flip_permutation), :].copy()
    out[..., axis] = 2.0 * center - out[..., axis]
    return out


def to_bones(x: Array, skeleton: Skeleton | str) -> Array:
    """Bone stream: ``bone[j] = x[j] - x[parent(j)]``, zero for the root (2s-AGCN, section 3.3)."""
    skeleton = get(skeleton)
    _check(x, skeleton, "to_bones")
    parents = np.array(skeleton.parents)
    bones = x - x[..., np.where(parents < 0, np.arange(len(parents)), parents), :]
    return bones


def from_bones(bones: Array, skeleton: Skeleton | str, root: Array | None = None) -> Array:
    """Inverse of :func:`to_bones`: accumulate bones from the root; ``root`` is the root position (default 0)."""
    skeleton = get(skeleton)
    _check(bones, skeleton, "from_bones")
    joints = np.zeros_like(bones)
    if root is not None:
        joints[..., skeleton.root, :] = root
    for joint in _topological_order(skeleton):
        parent = skeleton.parents[joint]
        if parent >= 0:
            joints[..., joint, :] = joints[..., parent, :] + bones[..., joint, :]
    return joints


def _topological_order(skeleton: Skeleton) -> list[int]:
    order, frontier = [], [skeleton.root]
    while frontier:
        joint = frontier.pop(0)
        order.append(joint)
        frontier.extend(skeleton.children[joint])
    return order


def to_motion(x: Array) -> Array:
    """Motion stream: ``m[t] = x[t + 1] - x[t]``, the last frame zero (2s-AGCN ``gen_motion_data.py``)."""
    _check(x)
    motion = np.zeros_like(x)
    motion[..., :-1, :, :] = x[..., 1:, :, :] - x[..., :-1, :, :]
    return motion


# ----------------------------------------------------------------------------------------------- time
def crop(x: Array, start: int, length: int) -> Array:
    """Frames ``start .. start + length - 1``; raises if the sequence is too short."""
    _check(x)
    if start < 0 or start + length > x.shape[-3]:
        raise ShapeError(f"crop of {length} frames from {start} does not fit a sequence of {x.shape[-3]} frames")
    return x[..., start : start + length, :, :]


def resize(x: Array, length: int) -> Array:
    """Resample to ``length`` frames by linear interpolation, first and last frames kept."""
    _check(x)
    frames = x.shape[-3]
    if frames == length:
        return x.copy()
    position = np.linspace(0.0, frames - 1, length)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, frames - 1)
    weight = (position - low).reshape(length, 1, 1).astype(x.dtype)
    return x[..., low, :, :] * (1 - weight) + x[..., high, :, :] * weight


def pad(x: Array, length: int, mode: Literal["zero", "edge", "loop"] = "zero") -> Array:
    """Pad at the end to ``length`` frames with zeros, the last frame repeated, or the sequence looped.

    Sequences already ``length`` frames or longer are returned unchanged (crop them first).
    """
    _check(x)
    frames = x.shape[-3]
    if frames >= length:
        return x
    if frames == 0 and mode != "zero":
        raise ShapeError(f"cannot {mode}-pad an empty sequence")
    if mode == "zero":
        out = np.zeros((*x.shape[:-3], length, *x.shape[-2:]), dtype=x.dtype)
        out[..., :frames, :, :] = x
        return out
    if mode == "edge":
        index = np.minimum(np.arange(length), frames - 1)
    elif mode == "loop":
        index = np.arange(length) % frames
    else:
        raise ValueError(f"unknown pad mode {mode!r}; expected zero, edge or loop")
    return x[..., index, :, :]


# ----------------------------------------------------------------------------------------------- cameras
def fit_persons(x: np.ndarray, num_persons: int) -> np.ndarray:
    """Zero-pad or cut the person axis of ``x (M, T, V, C)`` to ``num_persons`` (as the NTU arrays hold zeros)."""
    if len(x) >= num_persons:
        return x[:num_persons]
    return np.concatenate([x, np.zeros((num_persons - len(x), *x.shape[1:]), dtype=x.dtype)])


def normalize_screen(points: Array, width: float, height: float) -> Array:
    """Pixels -> screen coordinates ``x / w * 2 - [1, h / w]`` (VideoPose3D ``normalize_screen_coordinates``).

    Only the first two channels are changed; a third (confidence) channel is kept.
    """
    out = np.array(points, dtype=np.float32, copy=True)
    out[..., :2] = normalize_screen_coordinates(out[..., :2], width, height)
    return out


def unnormalize_screen(points: Array, width: float, height: float) -> Array:
    """Inverse of :func:`normalize_screen`."""
    out = np.array(points, dtype=np.float32, copy=True)
    out[..., :2] = (out[..., :2] + np.array([1.0, height / width], dtype=np.float32)) * width / 2
    return out


def detector_noise(
    points_2d: Array,
    skeleton: Skeleton | str,
    rng: RngLike = None,
    jitter: float = 0.05,
    drop_probability: float = 0.02,
) -> Array:
    """Make ground-truth 2D look like a detector's output: jitter, confidences and dropped joints.

    The Gaussian jitter of each frame has standard deviation ``jitter x`` the frame's mean 2D bone length, so it
    scales with the person's size in the image; the confidence of a joint is ``exp(-d^2 / (2 s^2))`` for a
    displacement ``d`` and that deviation ``s``. Each joint is dropped with ``drop_probability``: coordinates and
    score 0 (the convention of OpenPose and Kinetics-skeleton files).

    Args:
        points_2d: ``(..., T, V, 2)`` pixel or screen coordinates.
        skeleton: Layout of the joints (for bone lengths).
        rng: Seed or generator.
        jitter: Noise standard deviation as a fraction of the mean bone length.
        drop_probability: Probability that a joint is missing in a frame.

    Returns:
        ``(..., T, V, 3)``: noisy x, y and a confidence in [0, 1].
    """
    skeleton = get(skeleton)
    _check(points_2d, skeleton, "detector_noise")
    generator = np.random.default_rng(rng)
    bone_length = np.linalg.norm(to_bones(points_2d[..., :2], skeleton), axis=-1).sum(-1, keepdims=True)
    scale = (bone_length / max(skeleton.num_joints - 1, 1))[..., None]  # (..., T, 1, 1)
    sigma = jitter * scale
    noise = generator.normal(size=points_2d[..., :2].shape) * sigma
    safe = np.where(sigma > 0, sigma, 1.0)
    score = np.where(sigma > 0, np.exp(-np.sum(noise**2, axis=-1, keepdims=True) / (2 * safe**2)), 1.0)
    out = np.concatenate([points_2d[..., :2] + noise, score], axis=-1).astype(np.float32)
    dropped = generator.random(out.shape[:-1]) < drop_probability
    out[dropped] = 0.0
    return out


# ----------------------------------------------------------------------------------------------- callables
class Compose:
    """Apply transforms in order: ``Compose([RandomRotation(rng=0), Bones("ntu25")])(x)``."""

    def __init__(self, transforms: Sequence[Callable[[Array], Array]]):
        self.transforms = list(transforms)

    def __call__(self, x: Array) -> Array:
        for transform in self.transforms:
            x = transform(x)
        return x


class RandomRotation:
    """Rotate 3D skeletons by a random angle in ``[-max_angle, max_angle]`` (radians).

    Args:
        max_angle: Largest rotation angle.
        axis: ``"vertical"`` (about ``vertical_axis``), ``"any"`` (a uniformly random unit axis) or a fixed axis.
        vertical_axis: Index of the up axis for ``"vertical"`` (1: y up, 2: z up).
        rng: Seed or generator.
    """

    def __init__(self, max_angle: float = np.pi, axis: str | Sequence[float] = "vertical", vertical_axis: int = 1,
                 rng: RngLike = None):  # fmt: skip
        self.max_angle, self.axis, self.vertical_axis = max_angle, axis, vertical_axis
        self.rng = np.random.default_rng(rng)

    def __call__(self, x: Array) -> Array:
        if isinstance(self.axis, str) and self.axis == "vertical":
            axis = np.eye(3)[self.vertical_axis]
        elif isinstance(self.axis, str) and self.axis == "any":
            axis = self.rng.normal(size=3)
        else:
            axis = np.asarray(self.axis, dtype=np.float64)
        angle = self.rng.uniform(-self.max_angle, self.max_angle)
        return rotate(x, rotation_matrix(axis, angle))


class RandomScale:
    """Multiply the coordinates by one factor drawn uniformly from ``[low, high]`` per call."""

    def __init__(self, low: float = 0.9, high: float = 1.1, channels: int = 3, rng: RngLike = None):
        self.low, self.high, self.channels = low, high, channels
        self.rng = np.random.default_rng(rng)

    def __call__(self, x: Array) -> Array:
        out = x.copy()
        out[..., : self.channels] *= self.rng.uniform(self.low, self.high)
        return out


class RandomShift:
    """Add one offset per call, each coordinate drawn uniformly from ``[-max_shift, max_shift]``."""

    def __init__(self, max_shift: float = 0.1, channels: int = 3, rng: RngLike = None):
        self.max_shift, self.channels = max_shift, channels
        self.rng = np.random.default_rng(rng)

    def __call__(self, x: Array) -> Array:
        out = x.copy()
        out[..., : self.channels] += self.rng.uniform(-self.max_shift, self.max_shift, size=self.channels)
        return out


class RandomFlip:
    """Horizontal flip (see :func:`flip`) with probability ``probability``."""

    def __init__(self, skeleton: Skeleton | str, probability: float = 0.5, axis: int = 0, center: float = 0.0,
                 rng: RngLike = None):  # fmt: skip
        self.skeleton, self.probability, self.axis, self.center = get(skeleton), probability, axis, center
        self.rng = np.random.default_rng(rng)

    def __call__(self, x: Array) -> Array:
        return flip(x, self.skeleton, self.axis, self.center) if self.rng.random() < self.probability else x


class RandomCrop:
    """A random window of ``length`` frames; shorter sequences are padded with ``pad_mode``."""

    def __init__(self, length: int, pad_mode: Literal["zero", "edge", "loop"] = "zero", rng: RngLike = None):
        self.length, self.pad_mode = length, pad_mode
        self.rng = np.random.default_rng(rng)

    def __call__(self, x: Array) -> Array:
        frames = x.shape[-3]
        if frames <= self.length:
            return pad(x, self.length, self.pad_mode)
        return crop(x, int(self.rng.integers(0, frames - self.length + 1)), self.length)


class Resize:
    """Linear temporal resampling to ``length`` frames (:func:`resize`)."""

    def __init__(self, length: int):
        self.length = length

    def __call__(self, x: Array) -> Array:
        return resize(x, self.length)


class Pad:
    """Pad to ``length`` frames (:func:`pad`)."""

    def __init__(self, length: int, mode: Literal["zero", "edge", "loop"] = "zero"):
        self.length, self.mode = length, mode

    def __call__(self, x: Array) -> Array:
        return pad(x, self.length, self.mode)


class Bones:
    """The bone stream (:func:`to_bones`)."""

    def __init__(self, skeleton: Skeleton | str):
        self.skeleton = get(skeleton)

    def __call__(self, x: Array) -> Array:
        return to_bones(x, self.skeleton)


class MotionStream:
    """The motion stream (:func:`to_motion`)."""

    def __call__(self, x: Array) -> Array:
        return to_motion(x)


class ProjectWithNoise:
    """Camera-space 3D ``(..., T, V, 3)`` -> detector-like 2D ``(..., T, V, 3)`` (x, y, confidence).

    Projects with :func:`skeletal.geometry.camera.project_to_2d` (Human3.6M distortion model), adds
    :func:`detector_noise`, and optionally normalises the result to
    screen coordinates; this turns real 3D motion into training pairs for 2D-to-3D lifting.
    """

    def __init__(self, skeleton: Skeleton | str, intrinsics: Sequence[float] | Array, image_size: tuple[int, int],
                 jitter: float = 0.05, drop_probability: float = 0.02, normalize: bool = True,
                 rng: RngLike = None):  # fmt: skip
        self.skeleton, self.intrinsics, self.image_size = get(skeleton), list(intrinsics), image_size
        self.jitter, self.drop_probability, self.normalize = jitter, drop_probability, normalize
        self.rng = np.random.default_rng(rng)

    def __call__(self, x: Array) -> Array:
        pixels = cast(  # numpy in, numpy out
            np.ndarray, project_to_2d(np.asarray(x, dtype=np.float64), np.asarray(self.intrinsics, dtype=np.float64))
        )
        out = detector_noise(pixels, self.skeleton, self.rng, self.jitter, self.drop_probability)
        if self.normalize:
            kept = out[..., 2:3] > 0
            out = np.where(kept, normalize_screen(out, *self.image_size), out)
        return out


class NormalizeScreen:
    """Pixels -> screen coordinates (:func:`normalize_screen`)."""

    def __init__(self, width: float, height: float):
        self.width, self.height = width, height

    def __call__(self, x: Array) -> Array:
        return normalize_screen(x, self.width, self.height)
