"""Exp-map rows of the motion-prediction benchmarks (CMU: 117 values, H3.6M: 99) as local rotations in any
representation.

The files store the row convention of Martinez et al.: a stored exp-map ``omega`` is the local rotation
``R(-omega) = R(omega)^T`` in our column convention (:func:`skeletal.data.cmu.expmap_to_rotations`).
"""

from __future__ import annotations

import numpy as np

from skeletal.errors import ShapeError
from skeletal.geometry import convert_rotations


def expmap_rotations(frames: np.ndarray, num_joints: int, representation: str = "matrix") -> np.ndarray:
    """Exp-map benchmark rows (root position then ``num_joints`` exp-maps) to local rotations in ``representation``.

    Args:
        frames: ``(..., 3 + 3 V)`` rows of the CMU (117 values) or H3.6M (99 values) files.
        num_joints: ``V`` (38 for ``cmu38``, 32 for ``h36m32``).
        representation: ``matrix`` (flattened row-major, 9 values), ``quaternion``, ``axis_angle``, ``rotation_6d``.

    Returns:
        ``(..., V, F)`` float32 local rotations ``R(-omega)`` (column convention, see the module docstring).
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.shape[-1] != 3 + 3 * num_joints:
        raise ShapeError(
            f"expected exp-map rows of {3 + 3 * num_joints} values ({num_joints} joints), got {frames.shape}"
        )
    axis_angle = -frames[..., 3:].reshape(*frames.shape[:-1], num_joints, 3)
    if representation == "axis_angle":
        return axis_angle.astype(np.float32)
    converted = convert_rotations(axis_angle, "axis_angle", representation, flat_matrix=True)
    return np.asarray(converted, dtype=np.float32)
