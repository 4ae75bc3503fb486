"""Which Euler angles count as static: per sequence (Martinez, H3.6M) or over the whole evaluated batch (the
ST-Transformer's euler_diff, AMASS), computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from skeletal.errors import ConfigError
from skeletal.geometry import matrix_to_euler
from skeletal.metrics import euler_error


def _rotation_x(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    matrix = np.zeros((*angle.shape, 3, 3))
    matrix[..., 0, 0] = 1.0
    matrix[..., 1, 1], matrix[..., 1, 2], matrix[..., 2, 1], matrix[..., 2, 2] = c, -s, s, c
    return matrix


def test_static_angles_per_sequence_and_per_batch() -> None:
    # 2 sequences x 4 frames x 2 joints; joint 1 moves in sequence 0 only, so it is static within sequence 1
    angles = np.zeros((2, 4, 2))
    angles[0, :, 1] = [0.0, 0.1, 0.2, 0.3]
    angles[1, :, 1] = 0.5
    target = _rotation_x(angles)
    pred = _rotation_x(angles + 0.05)  # every angle off by 0.05 rad about x
    per_sequence = euler_error(pred, target, "matrix", root_joint=None, static_over="sequence")
    per_batch = euler_error(pred, target, "matrix", root_joint=None, static_over="batch")
    # by hand: the x-rotation's Euler angle differs by 0.05 where counted
    e_pred = np.asarray(matrix_to_euler(pred)).reshape(2, 4, 6)
    e_target = np.asarray(matrix_to_euler(target)).reshape(2, 4, 6)
    std_sequence = e_target.std(axis=1, keepdims=True) > 1e-4
    std_batch = e_target.reshape(-1, 6).std(axis=0) > 1e-4
    expected_sequence = np.sqrt((((e_pred - e_target) ** 2) * std_sequence).sum(-1)).mean(0)
    expected_batch = np.sqrt((((e_pred - e_target) ** 2) * std_batch).sum(-1)).mean(0)
    np.testing.assert_allclose(per_sequence, expected_sequence, atol=1e-6)
    np.testing.assert_allclose(per_batch, expected_batch, atol=1e-6)
    # sequence 1's joint 1 counts only in the batch rule: 0.05 rad more error there
    np.testing.assert_allclose(per_sequence, 0.05 / 2, atol=1e-6)
    np.testing.assert_allclose(per_batch, 0.05, atol=1e-6)
    with pytest.raises(ConfigError):
        euler_error(pred, target, "matrix", static_over="frames")
