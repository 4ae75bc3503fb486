"""Motion-prediction metrics: H3.6M Euler error and the AMASS protocol of SPL / ST-Transformer.

References matched:
    * Euler error: Martinez et al. 2017, ``translate.py`` of ``una-dinosauria/human-motion-prediction`` (itself
      a port of Jain et al.'s SRNN ``motionGenerationError.m``).
    * Joint angle, positional, PCK and AUC: ``metrics/motion_metrics.py`` (``MetricsEngine``, ``angle_diff``,
      ``positional``, ``pck``, ``calculate_auc``) of ``eth-ait/motion-transformer`` (Aksan et al. 2021, the
      ST-Transformer; same code as ``eth-ait/spl``). There the per-frame value is the **mean over joints**
      (``reduce_fn="mean"``, the default every evaluation script uses), then the mean over samples; SPL tables
      report the sum over frames up to a horizon, the ST-Transformer's Table 1 the mean over frames
      (``per_frame=False`` here).
    * Power-spectrum entropy and KLD: :mod:`skeletal.metrics.spectrum`.

The AMASS protocol sets the root orientation to the identity before forward kinematics and evaluates the 15
major SMPL joints (``amass15``); do that before calling :func:`joint_angle_error`, :func:`positional_error`
and :func:`pck` (they compare whatever joints they are given).
"""

from __future__ import annotations

import numpy as np
import torch

from skeletal.errors import ConfigError, ShapeError
from skeletal.geometry._arrays import ArrayLike
from skeletal.geometry._arrays import tensor as as_tensor
from skeletal.geometry.rotations import convert_rotations, matrix_to_euler, rotation_size
from skeletal.metrics._common import as_double, pair
from skeletal.metrics.spectrum import power_spectrum, ps_entropy, ps_kld

AMASS_PCK_THRESHOLDS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
"""PCK thresholds of the AMASS protocol in metres (``METRIC_PCK_THRESHS`` of eth-ait/motion-transformer)."""

__all__ = [
    "AMASS_PCK_THRESHOLDS",
    "euler_error",
    "joint_angle_error",
    "pck",
    "pck_auc",
    "positional_error",
    "power_spectrum",
    "ps_entropy",
    "ps_kld",
]


def _matrices(x: ArrayLike, representation: str, what: str) -> torch.Tensor:
    values = as_double(x, what)
    if representation == "auto":
        representation = "matrix" if values.dim() >= 2 and tuple(values.shape[-2:]) == (3, 3) else "axis_angle"
    if representation == "matrix":
        if values.dim() < 4 or tuple(values.shape[-2:]) != (3, 3):
            raise ShapeError(f"{what}: rotation matrices must be (..., T, V, 3, 3), got {tuple(values.shape)}")
        return values
    size = rotation_size(representation)
    if values.dim() < 3 or values.shape[-1] != size:
        raise ShapeError(f"{what}: {representation} rotations must be (..., T, V, {size}), got {tuple(values.shape)}")
    return as_tensor(convert_rotations(values, representation, "matrix"))


def _reduce_frames(per_sample: torch.Tensor, per_frame: bool) -> np.ndarray | float:
    """``(..., T)`` -> mean over samples ``(T,)``, or also over frames (a float)."""
    per_frame_values = per_sample.reshape(-1, per_sample.shape[-1]).mean(dim=0)
    return per_frame_values.numpy() if per_frame else float(per_frame_values.mean())


def _reduce_joints(values: torch.Tensor, joint_reduction: str) -> torch.Tensor:
    if joint_reduction == "mean":
        return values.mean(dim=-1)
    if joint_reduction == "sum":
        return values.sum(dim=-1)
    raise ConfigError(f"joint_reduction must be 'mean' or 'sum', got {joint_reduction!r}")


def euler_error(
    pred: ArrayLike,
    target: ArrayLike,
    representation: str = "auto",
    root_joint: int | None = 0,
    ignore_static: bool = True,
    per_frame: bool = True,
    static_over: str = "sequence",
) -> np.ndarray | float:
    """Euler-angle error of the H3.6M motion-prediction benchmark (Martinez et al. 2017).

    Every local joint rotation is converted to the benchmark's Euler angles (:func:`matrix_to_euler`). The
    global translation is not part of the input and the global (root) rotation, joint ``root_joint``, is
    ignored (set to zero in both, as the reference zeroes channels 0-5). With ``ignore_static`` only the angles
    whose ground truth varies over the sequence (population std over its ``T`` frames ``> 1e-4``, per sequence)
    count, exactly as the reference's ``idx_to_use``. The per-frame error is the Euclidean norm over all counted
    angles of the frame (radians), averaged over the sequences.

    Args:
        pred: Predicted local rotations.
        target: Ground-truth local rotations.
        representation: ``"axis_angle"`` (exp-map), ``"matrix"``, ``"quaternion"``, ``"rotation_6d"`` or
            ``"euler"``; ``"auto"`` means matrix if the last two axes are ``(3, 3)`` else axis-angle (exp-map
            inputs with exactly 3 joints must say ``"axis_angle"``).
        root_joint: Joint whose rotation is ignored; ``None`` keeps all joints.
        ignore_static: Drop angles that are constant in the ground truth of a sequence (reference behaviour;
            with one frame every angle is static and the error is 0).
        static_over: Where an angle must vary to count: ``"sequence"`` (over each sequence's frames, Martinez et
            al.'s ``translate.py`` and the ST-Transformer's H3.6M SRNN evaluation,
            ``spl/evaluation_h36m_srnn_poses.py``) or ``"batch"`` (over every frame of every sequence evaluated
            together, the ST-Transformer's ``metrics/motion_metrics.py`` ``euler_diff`` used on AMASS).
        per_frame: Return the error of every frame ``(T,)``; else its mean over frames.

    Shape:
        pred, target: ``(..., T, V, 3)`` exp-maps or ``(..., T, V, 3, 3)`` matrices (or another
        representation's size); leading axes are sequences.

    Returns:
        ``(T,)`` numpy array of per-frame errors in radians (mean over sequences), or its mean as a float.
    """
    pred_m = _matrices(pred, representation, "euler_error prediction")
    target_m = _matrices(target, representation, "euler_error target")
    if pred_m.shape != target_m.shape:
        raise ShapeError(f"euler_error: prediction {tuple(pred_m.shape)} and target {tuple(target_m.shape)} differ")
    pred_e, target_e = as_tensor(matrix_to_euler(pred_m)), as_tensor(matrix_to_euler(target_m))  # (..., T, V, 3)
    if root_joint is not None:
        pred_e[..., root_joint, :] = 0.0
        target_e[..., root_joint, :] = 0.0
    num_frames = pred_e.shape[-3]
    pred_e = pred_e.reshape(-1, num_frames, pred_e.shape[-2] * 3)
    target_e = target_e.reshape(-1, num_frames, target_e.shape[-2] * 3)
    squared = (target_e - pred_e).square()
    if ignore_static:
        if static_over == "sequence":
            varying = target_e.std(dim=1, unbiased=False, keepdim=True) > 1e-4
        elif static_over == "batch":
            varying = target_e.reshape(-1, target_e.shape[-1]).std(dim=0, unbiased=False) > 1e-4
        else:
            raise ConfigError(f"static_over must be 'sequence' or 'batch', got {static_over!r}")
        squared = squared * varying
    return _reduce_frames(squared.sum(dim=-1).sqrt(), per_frame)


def joint_angle_error(
    pred_global_rotations: ArrayLike,
    target_global_rotations: ArrayLike,
    joint_reduction: str = "mean",
    per_frame: bool = True,
) -> np.ndarray | float:
    """Geodesic angle between predicted and true global joint rotations (AMASS protocol of SPL/ST-Transformer).

    Per joint, the angle (radians, in ``[0, pi]``) of ``R_pred @ R_true^T`` (reference ``angle_diff``); then
    ``joint_reduction`` over joints (``"mean"`` as the reference engine, or ``"sum"``) and the mean over samples.

    Shape:
        pred_global_rotations, target_global_rotations: ``(..., T, V, 3, 3)``.

    Returns:
        ``(T,)`` numpy array of per-frame errors, or its mean over frames (ST-Transformer Table 1) as a float.
    """
    pred_t, target_t = pair(
        pred_global_rotations, target_global_rotations, "joint_angle_error", (3, 3), "(..., T, V, 3, 3)"
    )
    if pred_t.dim() < 4:
        raise ShapeError(f"joint_angle_error expects (..., T, V, 3, 3), got {tuple(pred_t.shape)}")
    import roma  # imports torch._dynamo: only when a geodesic distance is asked for

    angles = roma.rotmat_geodesic_distance(pred_t, target_t)  # (..., T, V)
    return _reduce_frames(_reduce_joints(angles, joint_reduction), per_frame)


def positional_error(
    pred_positions: ArrayLike, target_positions: ArrayLike, joint_reduction: str = "mean", per_frame: bool = True
) -> np.ndarray | float:
    """Euclidean joint distance after forward kinematics (AMASS protocol, reference ``positional``).

    Per joint the distance (input units: metres in the reference, the ST-Transformer tables convert to
    millimetres), ``joint_reduction`` over joints (``"mean"`` as the reference), then the mean over samples.

    Shape:
        pred_positions, target_positions: ``(..., T, V, 3)``.

    Returns:
        ``(T,)`` numpy array of per-frame errors, or their mean over frames as a float.
    """
    pred_t, target_t = pair(pred_positions, target_positions, "positional_error", layout="(..., T, V, 3)")
    if pred_t.dim() < 3:
        raise ShapeError(f"positional_error expects (..., T, V, 3), got {tuple(pred_t.shape)}")
    distances = torch.linalg.vector_norm(pred_t - target_t, dim=-1)
    return _reduce_frames(_reduce_joints(distances, joint_reduction), per_frame)


def _pck_per_frame(pred: ArrayLike, target: ArrayLike, thresholds: tuple[float, ...] | list[float]) -> torch.Tensor:
    pred_t, target_t = pair(pred, target, "pck", layout="(..., T, V, 3)")
    if pred_t.dim() < 3:
        raise ShapeError(f"pck expects (..., T, V, 3), got {tuple(pred_t.shape)}")
    limits = torch.as_tensor(np.asarray(thresholds, dtype=np.float64))
    if limits.dim() != 1 or len(limits) == 0:
        raise ConfigError(f"pck thresholds must be a non-empty list of distances, got {thresholds!r}")
    distances = torch.linalg.vector_norm(pred_t - target_t, dim=-1)  # (..., T, V)
    correct = (distances.unsqueeze(-1) <= limits).double().mean(dim=-2)  # (..., T, K)
    return correct.reshape(-1, *correct.shape[-2:]).mean(dim=0)  # (T, K)


def pck(
    pred_positions: ArrayLike,
    target_positions: ArrayLike,
    thresholds: tuple[float, ...] | list[float] = AMASS_PCK_THRESHOLDS,
    per_frame: bool = True,
) -> np.ndarray:
    """Percentage of correct keypoints: fraction of joints within each distance threshold (reference ``pck``).

    A joint is correct when its Euclidean distance is ``<= threshold`` (input units; the AMASS thresholds are
    in metres). Per frame: fraction over joints, mean over samples.

    Shape:
        pred_positions, target_positions: ``(..., T, V, 3)``.

    Returns:
        ``(T, K)`` fractions in ``[0, 1]`` for the ``K`` thresholds, or ``(K,)`` means over frames when
        ``per_frame`` is false (the reference's value "until" the last frame).
    """
    per_frame_values = _pck_per_frame(pred_positions, target_positions, thresholds)
    return per_frame_values.numpy() if per_frame else per_frame_values.mean(dim=0).numpy()


def pck_auc(
    pred_positions: ArrayLike,
    target_positions: ArrayLike,
    thresholds: tuple[float, ...] | list[float] = AMASS_PCK_THRESHOLDS,
    limit_saturation: bool = True,
) -> float:
    """Area under the PCK curve, normalised to ``[0, 1]``, as ``MetricsEngine.calculate_auc`` of the reference.

    PCK is averaged over the ``T`` frames for each (sorted) threshold, then integrated with the trapezoid rule
    and divided by the threshold range. With ``limit_saturation`` (reference behaviour) only the first
    thresholds count for short horizons: 6 if ``T < 6``, 7 if ``T < 12``, 8 if ``T < 18``, all otherwise.

    Shape:
        pred_positions, target_positions: ``(..., T, V, 3)``.

    Returns:
        The AUC in ``[0, 1]``.
    """
    ordered = sorted(float(t) for t in thresholds)
    values = _pck_per_frame(pred_positions, target_positions, ordered).mean(dim=0)
    num_frames = int(as_double(pred_positions, "pck_auc").shape[-3])
    count = len(ordered)
    if limit_saturation:
        count = 6 if num_frames < 6 else 7 if num_frames < 12 else 8 if num_frames < 18 else len(ordered)
        count = min(count, len(ordered))
    if count < 2:
        raise ConfigError(f"pck_auc needs at least 2 thresholds, got {ordered[:count]}")
    limits = torch.as_tensor(ordered[:count], dtype=torch.float64)
    area = ((values[1:count] + values[: count - 1]) / 2 * torch.diff(limits)).sum()
    return float(area / (limits[-1] - limits[0]))
