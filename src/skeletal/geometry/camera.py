"""Cameras in the conventions of VideoPose3D / Human3.6M (``facebookresearch/VideoPose3D``, ``common/camera.py``).

* Extrinsics: orientation quaternion ``(w, x, y, z)`` and translation (metres) of the camera *in the world*:
  ``X_world = R(q) @ X_cam + t`` and ``X_cam = R(q).T @ (X_world - t)``.
* Intrinsics: the Human3.6M vector ``[fx, fy, cx, cy, k1, k2, k3, p1, p2]`` (focal lengths and centre in pixels,
  or in normalised screen units for VideoPose3D's normalised cameras; radial ``k``, tangential ``p``).
* Screen normalisation: ``x / w * 2 - [1, h / w]`` maps ``[0, w]`` to ``[-1, 1]`` keeping the aspect ratio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from skeletal.errors import ShapeError
from skeletal.geometry._arrays import ArrayLike, as_tensor_like, check_last_dims, numpy_or_torch, tensor
from skeletal.geometry.rotations import quaternion_to_matrix


def _rotate(matrix: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    return (matrix @ points.unsqueeze(-1)).squeeze(-1)


@numpy_or_torch
def world_to_camera(points: ArrayLike, rotation_quaternion: ArrayLike, translation: ArrayLike) -> ArrayLike:
    """World points into the camera frame: ``R(q).T @ (X - t)``.

    Shape:
        points: ``(..., 3)``; rotation_quaternion: ``(4,)`` or broadcastable ``(..., 4)`` as ``(w, x, y, z)``;
        translation: ``(3,)`` or broadcastable ``(..., 3)``, in the units of ``points`` (metres for H3.6M).
    """
    points = tensor(points)
    rotation_quaternion = tensor(rotation_quaternion)
    translation = tensor(translation)
    check_last_dims(points, (3,), "world_to_camera points", "(..., 3)")
    rotation = tensor(quaternion_to_matrix(as_tensor_like(rotation_quaternion, points)))
    return _rotate(rotation.transpose(-1, -2), points - as_tensor_like(translation, points))


@numpy_or_torch
def camera_to_world(points: ArrayLike, rotation_quaternion: ArrayLike, translation: ArrayLike) -> ArrayLike:
    """Camera-frame points into the world: ``R(q) @ X + t`` (inverse of :func:`world_to_camera`)."""
    points = tensor(points)
    rotation_quaternion = tensor(rotation_quaternion)
    translation = tensor(translation)
    check_last_dims(points, (3,), "camera_to_world points", "(..., 3)")
    rotation = tensor(quaternion_to_matrix(as_tensor_like(rotation_quaternion, points)))
    return _rotate(rotation, points) + as_tensor_like(translation, points)


def _intrinsics_for(points: torch.Tensor, intrinsics: ArrayLike, size: int, exact: bool = True) -> torch.Tensor:
    params = as_tensor_like(intrinsics, points)
    if params.dim() == 0 or params.shape[-1] < size or (exact and params.shape[-1] != size):
        expected = f"(..., {size})" if exact else f"(..., >={size})"
        raise ShapeError(f"intrinsics must be {expected} [fx, fy, cx, cy, ...], got {tuple(params.shape)}")
    # VideoPose3D: per-sample parameters (N, 9) apply to points (N, ..., 3): insert axes after the batch axes
    while params.dim() > 1 and params.dim() < points.dim():
        params = params.unsqueeze(params.dim() - 1)
    return params


@numpy_or_torch
def project_to_2d(points_cam: ArrayLike, intrinsics: ArrayLike) -> ArrayLike:
    """Pinhole projection with Human3.6M's radial and tangential distortion (VideoPose3D ``project_to_2d``).

    ``u = X[:2] / Z`` clamped to ``[-1, 1]`` (as VideoPose3D does), ``r2 = |u|^2``,
    ``u' = u (1 + k1 r2 + k2 r2^2 + k3 r2^3 + p.u) + p r2``, pixel ``= f u' + c``.

    Args:
        points_cam: Points in the camera frame (``Z > 0``).
        intrinsics: ``[fx, fy, cx, cy, k1, k2, k3, p1, p2]``; either ``(9,)`` for all points or ``(N, 9)`` /
            ``(N, ..., 9)`` for points ``(N, ..., 3)`` (leading axes matched from the left, as in VideoPose3D).

    Shape:
        points_cam: ``(..., 3)``; returns ``(..., 2)`` in the units of ``f`` and ``c``.
    """
    points_cam = tensor(points_cam)
    intrinsics = tensor(intrinsics)
    check_last_dims(points_cam, (3,), "project_to_2d points", "(..., 3)")
    params = _intrinsics_for(points_cam, intrinsics, 9)
    focal, centre, radial_k, tangential = params[..., :2], params[..., 2:4], params[..., 4:7], params[..., 7:]
    uv = (points_cam[..., :2] / points_cam[..., 2:]).clamp(-1.0, 1.0)
    r2 = uv.square().sum(dim=-1, keepdim=True)
    powers = torch.cat((r2, r2**2, r2**3), dim=-1)
    radial = 1 + (radial_k * powers).sum(dim=-1, keepdim=True)
    tangential_term = (tangential * uv).sum(dim=-1, keepdim=True)
    distorted = uv * (radial + tangential_term) + tangential * r2
    return focal * distorted + centre


@numpy_or_torch
def project_to_2d_linear(points_cam: ArrayLike, intrinsics: ArrayLike) -> ArrayLike:
    """Pinhole projection without distortion, ``f * clamp(X[:2] / Z, -1, 1) + c``; intrinsics ``(..., >=4)``."""
    points_cam = tensor(points_cam)
    intrinsics = tensor(intrinsics)
    check_last_dims(points_cam, (3,), "project_to_2d_linear points", "(..., 3)")
    params = _intrinsics_for(points_cam, intrinsics, 4, exact=False)
    uv = (points_cam[..., :2] / points_cam[..., 2:]).clamp(-1.0, 1.0)
    return params[..., :2] * uv + params[..., 2:4]


def _screen_offset(x: ArrayLike, w: float, h: float) -> ArrayLike:
    if x.shape[-1] != 2:
        raise ShapeError(f"screen coordinates must be (..., 2), got {tuple(x.shape)}")
    offset = np.array([1.0, h / w])
    return torch.as_tensor(offset, dtype=x.dtype, device=x.device) if isinstance(x, torch.Tensor) else offset


def normalize_screen_coordinates(x: ArrayLike, w: float, h: float) -> ArrayLike:
    """Pixels ``(..., 2)`` -> ``x / w * 2 - [1, h / w]`` (``[0, w]`` to ``[-1, 1]``, aspect ratio kept)."""
    return x / w * 2 - _screen_offset(x, w, h)


def image_coordinates(x: ArrayLike, w: float, h: float) -> ArrayLike:
    """Inverse of :func:`normalize_screen_coordinates`: ``(x + [1, h / w]) * w / 2`` in pixels."""
    return (x + _screen_offset(x, w, h)) * w / 2


@dataclass(frozen=True, eq=False)
class Camera:
    """A calibrated camera: intrinsics in pixels, extrinsics as VideoPose3D, image resolution.

    Attributes:
        intrinsics: ``[fx, fy, cx, cy, k1, k2, k3, p1, p2]`` in pixels.
        rotation: Camera orientation in the world, quaternion ``(w, x, y, z)``.
        translation: Camera position in the world (metres).
        width: Image width in pixels.
        height: Image height in pixels.
        name: Optional identifier (e.g. ``"54138969"``).
    """

    intrinsics: np.ndarray
    rotation: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0, 0.0]))
    translation: np.ndarray = field(default_factory=lambda: np.zeros(3))
    width: int = 1000
    height: int = 1000
    name: str = ""

    def __post_init__(self) -> None:
        for attribute, size in (("intrinsics", 9), ("rotation", 4), ("translation", 3)):
            value = np.asarray(getattr(self, attribute), dtype=np.float64)
            if value.shape != (size,):
                raise ShapeError(f"Camera.{attribute} must have shape ({size},), got {value.shape}")
            object.__setattr__(self, attribute, value)

    def world_to_camera(self, points_world: ArrayLike) -> ArrayLike:
        """World points ``(..., 3)`` into this camera's frame."""
        return world_to_camera(points_world, self.rotation, self.translation)

    def camera_to_world(self, points_cam: ArrayLike) -> ArrayLike:
        """Camera-frame points ``(..., 3)`` into the world."""
        return camera_to_world(points_cam, self.rotation, self.translation)

    def project(self, points_world: ArrayLike, distortion: bool = True) -> ArrayLike:
        """World points ``(..., 3)`` -> pixels ``(..., 2)`` (with the lens distortion unless ``distortion=False``)."""
        points_cam = self.world_to_camera(points_world)
        if distortion:
            return project_to_2d(points_cam, self.intrinsics)
        return project_to_2d_linear(points_cam, self.intrinsics)

    def normalized_intrinsics(self) -> np.ndarray:
        """VideoPose3D's normalised intrinsics: projecting with them gives normalised screen coordinates."""
        result = self.intrinsics.copy()
        result[:2] = result[:2] / self.width * 2
        result[2:4] = normalize_screen_coordinates(result[2:4], self.width, self.height)
        return result
