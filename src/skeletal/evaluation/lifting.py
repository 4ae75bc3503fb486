"""Evaluation protocols of 2D-to-3D lifting: per-action MPJPE (Protocol #1), P-MPJPE (Protocol #2), N-MPJPE and
MPJVE, and their averages over actions, as VideoPose3D's ``evaluate`` and GAST-Net's tables report them.

Every test sequence (one subject, action and camera) is lifted whole in layer-by-layer mode with edge padding
(``model.lift``, one pose per frame), optionally averaged with the flipped prediction. As VideoPose3D's
``evaluate()`` (``run.py``): the target's root joint is set to 0 (``inputs_3d[:, :, 0] = 0``; the other joints
are root-relative already) and the prediction is compared as the model outputs it, not re-centred on its own
root; each sequence's MPJPE, P-MPJPE, N-MPJPE *and* MPJVE is weighted by its frame count (``inputs_3d.shape[0]
* inputs_3d.shape[1]``, also for the velocity error, whose own mean runs over the ``T - 1`` frame pairs), and
the sums are divided by the frames of the action. The ``average`` row is the unweighted mean of the action rows
(VideoPose3D: "averaged over actions"). Camera-frame metres; the tables are in millimetres (MPJVE in mm per
frame).

Protocols: :func:`cmu_lifting_protocol` (the CMU real-motion benchmark of :mod:`skeletal.data.cmu_lifting`) and
:func:`h36m_lifting_protocol` (VideoPose3D's ``data_3d_h36m.npz`` and a ``data_2d_h36m_*.npz``, test subjects S9
and S11, action names without their trailing number: "Walking 1" counts as "Walking").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np
import torch
from torch import nn

from skeletal.errors import ConfigError
from skeletal.metrics import mpjpe, mpjve, n_mpjpe, p_mpjpe
from skeletal.skeletons import Skeleton, get

METRICS: tuple[str, ...] = ("mpjpe", "p_mpjpe", "n_mpjpe", "mpjve")
LABELS = {"mpjpe": "MPJPE (P#1)", "p_mpjpe": "P-MPJPE (P#2)", "n_mpjpe": "N-MPJPE", "mpjve": "MPJVE"}


@dataclass
class LiftingTable:
    """Errors in millimetres per action, and their mean over actions.

    Attributes:
        protocol: Name of the protocol.
        values: ``{metric: {action: value}}`` for the metrics of :data:`METRICS`; the row ``"average"`` is the
            unweighted mean over actions.
        frames: Frames evaluated per action.
    """

    protocol: str
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    frames: dict[str, int] = field(default_factory=dict)

    @property
    def actions(self) -> list[str]:
        """The action rows (without the average)."""
        return [a for a in self.values["mpjpe"] if a != "average"]

    def flat(self) -> dict[str, float]:
        """``{"metric/action": value}``."""
        return {f"{m}/{a}": v for m, rows in self.values.items() for a, v in rows.items()}

    def markdown(self) -> str:
        """A markdown table: one row per action, the average last."""
        lines = ["| action | frames | " + " | ".join(LABELS[m] for m in METRICS) + " |",
                 "|---|---:|" + "---:|" * len(METRICS)]  # fmt: skip
        for action in [*self.actions, "average"]:
            count = self.frames.get(action, sum(self.frames.values()))
            cells = " | ".join(f"{self.values[m][action]:.1f}" for m in METRICS)
            name = f"**{action}**" if action == "average" else action
            lines.append(f"| {name} | {count} | {cells} |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"{self.protocol} (mm; MPJVE in mm/frame)\n{self.markdown()}"


class MeanPoseLifter(nn.Module):
    """Baseline: predicts the mean root-relative training pose for every frame, whatever the input.

    Args:
        mean_pose: ``(V, 3)`` mean of the training targets.
        skeleton: Layout.
    """

    mean_pose: torch.Tensor

    def __init__(self, mean_pose: np.ndarray | torch.Tensor, skeleton: Skeleton | str = "h36m17") -> None:
        super().__init__()
        self.skeleton = get(skeleton)
        self.register_buffer("mean_pose", torch.as_tensor(np.asarray(mean_pose), dtype=torch.float32))
        self.causal = False
        self.receptive_field = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, T, V, 2) -> (N, T, V, 3)``."""
        return self.mean_pose.expand(x.shape[0], x.shape[1], -1, -1).clone()

    def lift(self, x: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`forward` (one pose per frame)."""
        return self(x)


@torch.inference_mode()
def lift_sequence(model: nn.Module, keypoints: np.ndarray, flip: bool = False, recentre: bool = True) -> np.ndarray:
    """``(T, V, 2)`` screen-normalised keypoints -> ``(T, V, 3)`` prediction (whole sequence), re-centred on its
    root joint when ``recentre`` (the evaluation does not: VideoPose3D compares the raw prediction)."""
    from skeletal.models.lifting import predict_with_flip

    model.eval()
    x = torch.as_tensor(np.asarray(keypoints, dtype=np.float32))[None]
    output = predict_with_flip(model, x, padded=True) if flip else model.lift(x)  # type: ignore[operator]
    poses = output[0].numpy().astype(np.float64)
    if not recentre:
        return poses
    root = get(model.skeleton).root  # type: ignore[arg-type]
    return poses - poses[:, root : root + 1]


def evaluate_sequences(
    model: nn.Module, sequences: Sequence[dict[str, Any]], flip: bool = False, protocol: str = "lifting"
) -> LiftingTable:
    """Per-action errors of a lifter on whole sequences.

    Args:
        model: A lifter with ``lift`` and ``skeleton`` (or :class:`MeanPoseLifter`).
        sequences: Dicts with ``keypoints (T, V, 2)`` (screen-normalised), ``positions (T, V, 3)`` (metres,
            root-relative) and ``action``.
        flip: Test-time flip averaging.
        protocol: Name shown in the table.

    Returns:
        The :class:`LiftingTable` (mm).
    """
    if not sequences:
        raise ConfigError("no sequence to evaluate")
    sums: dict[str, dict[str, float]] = {m: {} for m in METRICS}
    frames: dict[str, int] = {}
    velocity_frames: dict[str, int] = {}  # frames of the sequences long enough for a velocity
    root = get(model.skeleton).root  # type: ignore[arg-type]
    for sequence in sequences:
        action = str(sequence["action"])
        target = np.array(sequence["positions"], dtype=np.float64)
        target[:, root] = 0.0  # run.py evaluate(): inputs_3d[:, :, 0] = 0
        prediction = lift_sequence(model, sequence["keypoints"], flip, recentre=False)
        count = len(target)
        frames[action] = frames.get(action, 0) + count
        for metric, function in (("mpjpe", mpjpe), ("p_mpjpe", p_mpjpe), ("n_mpjpe", n_mpjpe)):
            sums[metric][action] = sums[metric].get(action, 0.0) + function(prediction, target) * count
        if count > 1:
            velocity_frames[action] = velocity_frames.get(action, 0) + count
            sums["mpjve"][action] = sums["mpjve"].get(action, 0.0) + mpjve(prediction, target) * count
    values: dict[str, dict[str, float]] = {}
    for metric in METRICS:
        weights = velocity_frames if metric == "mpjve" else frames
        rows = {a: 1000.0 * sums[metric].get(a, float("nan")) / max(weights.get(a, 0), 1) for a in sorted(frames)}
        rows["average"] = float(np.mean(list(rows.values())))
        values[metric] = rows
    return LiftingTable(protocol, values, frames)


def cmu_lifting_protocol(
    model: nn.Module, root: str | PathLike[str], flip: bool = False, seed: int = 0, actions: Sequence[str] | None = None
) -> LiftingTable:
    """The CMU real-motion lifting benchmark (:mod:`skeletal.data.cmu_lifting`), test takes, four virtual cameras."""
    from skeletal.data.cmu_lifting import load_cmu_lifting

    sequences = load_cmu_lifting(root, "test", actions=actions, seed=seed)
    return evaluate_sequences(model, sequences, flip, protocol="CMU lifting (test takes x 4 virtual cameras)")


def h36m_lifting_protocol(
    model: nn.Module,
    path_3d: str | PathLike[str],
    path_2d: str | PathLike[str],
    subjects: Sequence[str] = ("S9", "S11"),
    flip: bool = True,
) -> LiftingTable:
    """Human3.6M Protocol #1/#2 on VideoPose3D's files (test subjects S9, S11, every camera, whole sequences)."""
    from skeletal.data.h36m import lifting_pairs, load_h36m_2d, load_h36m_3d

    positions_3d = load_h36m_3d(path_3d, subjects=list(subjects))
    positions_2d, _ = load_h36m_2d(path_2d, subjects=list(subjects))
    pairs = lifting_pairs(positions_3d, positions_2d, subjects=[s for s in subjects if s in positions_3d])
    sequences = [{"keypoints": p["keypoints"], "positions": p["positions"], "action": p["action"].split(" ")[0]}
                 for p in pairs]  # fmt: skip
    return evaluate_sequences(model, sequences, flip, protocol=f"Human3.6M ({', '.join(subjects)})")


def humaneva_lifting_protocol(
    model: nn.Module,
    path_3d: str | PathLike[str],
    path_2d: str | PathLike[str],
    flip: bool = True,
) -> LiftingTable:
    """HumanEva-I as VideoPose3D and GAST-Net (table 4) evaluate it: test subjects ``Validate/S1..S3``, actions
    Walk, Jog, Box, every camera, whole sequences; one row per action and subject (``"Walk S1"`` ...: the chunks
    and trials of an action are pooled, weighted by frames) and their unweighted average. The published table is
    Protocol #2 (P-MPJPE, ``p_mpjpe``); the other metrics come along. Millimetres.
    """
    from skeletal.data.humaneva import HUMANEVA_ACTIONS, HUMANEVA_TEST_SUBJECTS, load_humaneva_2d, load_humaneva_3d
    from skeletal.data.prepare.lifting import humaneva_sequences

    motions = load_humaneva_3d(path_3d, subjects=HUMANEVA_TEST_SUBJECTS, actions=HUMANEVA_ACTIONS)
    views, _ = load_humaneva_2d(path_2d, subjects=HUMANEVA_TEST_SUBJECTS)
    sequences = []
    for pair in humaneva_sequences(motions, views, HUMANEVA_TEST_SUBJECTS):
        action = next(a for a in HUMANEVA_ACTIONS if str(pair["action"]).startswith(a))
        sequences.append({**pair, "action": f"{action} {str(pair['subject']).split('/')[-1]}"})
    return evaluate_sequences(model, sequences, flip, protocol="HumanEva-I (Validate/S1-S3, Walk/Jog/Box)")
