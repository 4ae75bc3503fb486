"""Conversions between rotation representations, batched over leading dimensions, torch or numpy.

Conventions:
    * Rotation matrices are ``(..., 3, 3)`` and act on column vectors (``x' = R @ x``).
    * Quaternions are ``(w, x, y, z)``, scalar first, as in VideoPose3D (``roma`` is ``xyzw``; we convert).
      Quaternions coming out of :func:`matrix_to_quaternion` have ``w >= 0``.
    * Axis-angle (the exponential map) is ``angle * unit_axis`` with the angle in radians in ``[0, pi]``.
    * 6D is the first two *columns* of the matrix, ``(c0x, c0y, c0z, c1x, c1y, c1z)`` (Zhou et al., "On the
      Continuity of Rotation Representations in Neural Networks", CVPR 2019, Sec. 4.2); back to a matrix by
      Gram-Schmidt.
    * Euler angles follow the H3.6M motion-prediction benchmark (Martinez et al. 2017, ``data_utils.rotmat2euler``):
      ``R = (Rz(e3) @ Ry(e2) @ Rx(e1)).T``, with its gimbal-lock branches (see :func:`matrix_to_euler`).

Every function takes numpy arrays or torch tensors and returns the same kind; torch versions are differentiable.
Axis-angle conversions (through ``roma``) are stable at angle 0 (finite values and gradients) and near ``pi``.
``roma`` is imported inside the functions that use it: importing it imports ``torch._dynamo`` (about 2.5 s and
80 MB here), which commands that never convert a rotation (``skeletal lift``) should not pay for.
"""

from __future__ import annotations

import math

import torch

from skeletal.errors import ConfigError
from skeletal.geometry._arrays import ArrayLike, check_last_dims, numpy_or_torch, tensor

REPRESENTATIONS: dict[str, int] = {"matrix": 9, "quaternion": 4, "axis_angle": 3, "rotation_6d": 6, "euler": 3}
"""Representation names and their sizes (a matrix flattened to 9)."""


def rotation_size(name: str) -> int:
    """Number of values of one rotation in representation ``name`` (9 for a flattened matrix)."""
    if name not in REPRESENTATIONS:
        raise ConfigError(f"unknown rotation representation {name!r}; expected one of {sorted(REPRESENTATIONS)}")
    return REPRESENTATIONS[name]


@numpy_or_torch
def axis_angle_to_matrix(axis_angle: ArrayLike) -> ArrayLike:
    """Rodrigues' formula: ``(..., 3)`` axis-angle (radians) -> ``(..., 3, 3)`` rotation matrix."""
    import roma

    axis_angle = tensor(axis_angle)
    check_last_dims(axis_angle, (3,), "axis_angle_to_matrix", "(..., 3)")
    return roma.rotvec_to_rotmat(axis_angle)


@numpy_or_torch
def matrix_to_axis_angle(matrix: ArrayLike) -> ArrayLike:
    """``(..., 3, 3)`` rotation matrix -> ``(..., 3)`` axis-angle with angle in ``[0, pi]``."""
    import roma

    matrix = tensor(matrix)
    check_last_dims(matrix, (3, 3), "matrix_to_axis_angle", "(..., 3, 3)")
    return roma.rotmat_to_rotvec(matrix)


@numpy_or_torch
def quaternion_to_matrix(quaternion: ArrayLike) -> ArrayLike:
    """``(..., 4)`` quaternion ``(w, x, y, z)`` (normalised first) -> ``(..., 3, 3)`` rotation matrix."""
    import roma

    quaternion = tensor(quaternion)
    check_last_dims(quaternion, (4,), "quaternion_to_matrix", "(..., 4) as (w, x, y, z)")
    return roma.unitquat_to_rotmat(roma.quat_normalize(roma.quat_wxyz_to_xyzw(quaternion)))


def _canonical(quaternion_wxyz: torch.Tensor) -> torch.Tensor:
    sign = torch.where(quaternion_wxyz[..., :1] < 0, -1.0, 1.0).to(quaternion_wxyz.dtype)
    return quaternion_wxyz * sign


@numpy_or_torch
def matrix_to_quaternion(matrix: ArrayLike) -> ArrayLike:
    """``(..., 3, 3)`` rotation matrix -> ``(..., 4)`` unit quaternion ``(w, x, y, z)`` with ``w >= 0``."""
    import roma

    matrix = tensor(matrix)
    check_last_dims(matrix, (3, 3), "matrix_to_quaternion", "(..., 3, 3)")
    return _canonical(roma.quat_xyzw_to_wxyz(roma.rotmat_to_unitquat(matrix)))


@numpy_or_torch
def axis_angle_to_quaternion(axis_angle: ArrayLike) -> ArrayLike:
    """``(..., 3)`` axis-angle -> ``(..., 4)`` unit quaternion ``(w, x, y, z)``."""
    import roma

    axis_angle = tensor(axis_angle)
    check_last_dims(axis_angle, (3,), "axis_angle_to_quaternion", "(..., 3)")
    return roma.quat_xyzw_to_wxyz(roma.rotvec_to_unitquat(axis_angle))


@numpy_or_torch
def quaternion_to_axis_angle(quaternion: ArrayLike) -> ArrayLike:
    """``(..., 4)`` quaternion ``(w, x, y, z)`` -> ``(..., 3)`` axis-angle of the shortest rotation (angle <= pi)."""
    import roma

    quaternion = tensor(quaternion)
    check_last_dims(quaternion, (4,), "quaternion_to_axis_angle", "(..., 4) as (w, x, y, z)")
    return roma.unitquat_to_rotvec(roma.quat_normalize(roma.quat_wxyz_to_xyzw(quaternion)))


@numpy_or_torch
def rotation_6d_to_matrix(rotation_6d: ArrayLike) -> ArrayLike:
    """``(..., 6)`` two columns -> ``(..., 3, 3)`` rotation by Gram-Schmidt (Zhou et al. 2019, Eq. 15-16).

    The first column is normalised, the second made orthogonal to it and normalised, the third is their cross
    product.
    """
    import roma

    rotation_6d = tensor(rotation_6d)
    check_last_dims(rotation_6d, (6,), "rotation_6d_to_matrix", "(..., 6)")
    columns = torch.stack((rotation_6d[..., :3], rotation_6d[..., 3:]), dim=-1)
    return roma.special_gramschmidt(columns)


@numpy_or_torch
def matrix_to_rotation_6d(matrix: ArrayLike) -> ArrayLike:
    """``(..., 3, 3)`` -> ``(..., 6)``: the first column followed by the second column."""
    matrix = tensor(matrix)
    check_last_dims(matrix, (3, 3), "matrix_to_rotation_6d", "(..., 3, 3)")
    return torch.cat((matrix[..., :, 0], matrix[..., :, 1]), dim=-1)


@numpy_or_torch
def matrix_to_euler(matrix: ArrayLike) -> ArrayLike:
    """Euler angles ``(e1, e2, e3)`` of the H3.6M motion-prediction benchmark, ``(..., 3, 3)`` -> ``(..., 3)``.

    Same numbers as ``rotmat2euler`` of Martinez et al. 2017 (``una-dinosauria/human-motion-prediction``,
    a port of the SRNN Matlab code), which defines ``R = (Rz(e3) @ Ry(e2) @ Rx(e1)).T``:
    ``e2 = -asin(R[0, 2])``, ``e1 = atan2(R[1, 2], R[2, 2])``, ``e3 = atan2(R[0, 1], R[0, 0])``.
    The reference divides both atan2 arguments by ``cos(e2) > 0``, which does not change the angle; we skip it.

    Gimbal lock, as in the reference: when ``R[0, 2]`` is exactly ``+1`` (``-1``), ``e3 = 0``,
    ``e2 = -pi/2`` (``+pi/2``) and ``e1 = atan2(R[0, 1], R[0, 2])``. The only deviation: ``|R[0, 2]| > 1`` from
    rounding gives NaN in the reference and is clamped to ``+-1`` (hence the gimbal branch) here.
    """
    matrix = tensor(matrix)
    check_last_dims(matrix, (3, 3), "matrix_to_euler", "(..., 3, 3)")
    r02 = matrix[..., 0, 2].clamp(-1.0, 1.0)
    locked = r02.abs() == 1.0
    # keep the regular branch finite (and its gradient) where it is not used
    safe_r02 = torch.where(locked, torch.zeros_like(r02), r02)
    zero, one = torch.zeros_like(r02), torch.ones_like(r02)
    e1 = torch.atan2(torch.where(locked, zero, matrix[..., 1, 2]), torch.where(locked, one, matrix[..., 2, 2]))
    e2 = -torch.asin(safe_r02)
    e3 = torch.atan2(torch.where(locked, zero, matrix[..., 0, 1]), torch.where(locked, one, matrix[..., 0, 0]))
    delta = torch.atan2(matrix[..., 0, 1], r02)
    half_pi = torch.full_like(r02, math.pi / 2)
    e1 = torch.where(locked, delta, e1)  # e1 = e3 + delta = -e3 + delta with e3 = 0
    e2 = torch.where(locked, torch.where(r02 < 0, half_pi, -half_pi), e2)
    e3 = torch.where(locked, torch.zeros_like(e3), e3)
    return torch.stack((e1, e2, e3), dim=-1)


def _elementary(angle: torch.Tensor, axis: int) -> torch.Tensor:
    """Column-convention rotation by ``angle`` about coordinate axis ``axis`` (0 = x, 1 = y, 2 = z)."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    if axis == 0:
        rows = ((one, zero, zero), (zero, cos, -sin), (zero, sin, cos))
    elif axis == 1:
        rows = ((cos, zero, sin), (zero, one, zero), (-sin, zero, cos))
    else:
        rows = ((cos, -sin, zero), (sin, cos, zero), (zero, zero, one))
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


@numpy_or_torch
def euler_to_matrix(angles: ArrayLike) -> ArrayLike:
    """Inverse of :func:`matrix_to_euler`: ``(..., 3)`` angles ``(e1, e2, e3)`` -> ``(Rz(e3) Ry(e2) Rx(e1)).T``."""
    angles = tensor(angles)
    check_last_dims(angles, (3,), "euler_to_matrix", "(..., 3)")
    rz_ry_rx = _elementary(angles[..., 2], 2) @ _elementary(angles[..., 1], 1) @ _elementary(angles[..., 0], 0)
    return rz_ry_rx.transpose(-1, -2)


@numpy_or_torch
def project_to_rotation(matrix: ArrayLike) -> ArrayLike:
    """Nearest rotation (Frobenius norm) to any ``(..., 3, 3)`` matrix: ``U diag(1, 1, det(U V^T)) V^T`` by SVD."""
    import roma

    matrix = tensor(matrix)
    check_last_dims(matrix, (3, 3), "project_to_rotation", "(..., 3, 3)")
    return roma.special_procrustes(matrix)


_TO_MATRIX = {
    "quaternion": quaternion_to_matrix,
    "axis_angle": axis_angle_to_matrix,
    "rotation_6d": rotation_6d_to_matrix,
    "euler": euler_to_matrix,
}
_FROM_MATRIX = {
    "quaternion": matrix_to_quaternion,
    "axis_angle": matrix_to_axis_angle,
    "rotation_6d": matrix_to_rotation_6d,
    "euler": matrix_to_euler,
}
_DIRECT = {
    ("axis_angle", "quaternion"): axis_angle_to_quaternion,
    ("quaternion", "axis_angle"): quaternion_to_axis_angle,
}


@numpy_or_torch
def convert_rotations(x: ArrayLike, source: str, target: str, flat_matrix: bool = False) -> ArrayLike:
    """Convert rotations between ``"matrix"``, ``"quaternion"``, ``"axis_angle"``, ``"rotation_6d"``, ``"euler"``.

    Args:
        x: Rotations in ``source``: ``(..., rotation_size(source))``; a matrix may be ``(..., 3, 3)`` or
            flattened row-major ``(..., 9)``.
        source: Representation of ``x``.
        target: Wanted representation.
        flat_matrix: Give a ``"matrix"`` target flattened, ``(..., 9)``, instead of ``(..., 3, 3)``.

    Returns:
        The rotations in ``target``, same kind (numpy/torch) as ``x``.
    """
    x = tensor(x)
    rotation_size(source), rotation_size(target)
    if source == "matrix":
        if x.dim() >= 2 and tuple(x.shape[-2:]) == (3, 3):
            matrix = x
        else:
            check_last_dims(x, (9,), "convert_rotations from 'matrix'", "(..., 3, 3) or (..., 9)")
            matrix = x.reshape(*x.shape[:-1], 3, 3)
    elif (source, target) in _DIRECT:
        return _DIRECT[(source, target)](x)
    elif source == target:
        check_last_dims(
            x, (rotation_size(source),), f"convert_rotations from {source!r}", f"(..., {rotation_size(source)})"
        )
        return x
    else:
        matrix = tensor(_TO_MATRIX[source](x))
    if target == "matrix":
        return matrix.reshape(*matrix.shape[:-2], 9) if flat_matrix else matrix
    return _FROM_MATRIX[target](matrix)
