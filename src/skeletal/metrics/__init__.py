"""Metrics of the three tasks, each documented with its units, averaging and protocol.

torch tensors or numpy arrays in; scalar pose metrics return a Python float, per-frame motion metrics a numpy
array. :func:`mpjpe_loss` is the differentiable training loss.
"""

from skeletal.metrics.motion import (
    AMASS_PCK_THRESHOLDS,
    euler_error,
    joint_angle_error,
    pck,
    pck_auc,
    positional_error,
)
from skeletal.metrics.pose import mpjpe, mpjpe_loss, mpjve, n_mpjpe, p_mpjpe, per_joint_mpjpe
from skeletal.metrics.recognition import topk_accuracy
from skeletal.metrics.spectrum import power_spectrum, ps_entropy, ps_kld

__all__ = [
    "AMASS_PCK_THRESHOLDS",
    "euler_error",
    "joint_angle_error",
    "mpjpe",
    "mpjpe_loss",
    "mpjve",
    "n_mpjpe",
    "p_mpjpe",
    "pck",
    "pck_auc",
    "per_joint_mpjpe",
    "positional_error",
    "power_spectrum",
    "ps_entropy",
    "ps_kld",
    "topk_accuracy",
]
