"""Evaluation protocols of motion prediction: AMASS (ST-Transformer table 1), H3.6M (table 2) and the CMU benchmark;
long horizons (power spectrum, supplement H and figure 4) are in :mod:`skeletal.evaluation.long_horizon`.

Every protocol takes a model (rolled out autoregressively by :func:`skeletal.inference.generation.generate`,
every predicted frame projected onto valid rotations) or an array of predictions, and returns a
:class:`PredictionTable`: ``values[metric][row]`` holds one number per horizon; ``str(table)`` prints it.

Rotation conventions. The readers give local rotations in the column convention; the CMU and H3.6M exp-map files
store the row convention of Martinez et al., so a stored exp-map ``omega`` is the local rotation
``R(-omega) = R(omega)^T`` (:func:`skeletal.data.cmu.expmap_to_rotations`). The Euler error of the literature is
computed on ``R(omega)``, i.e. on the transpose of our matrices: :func:`cmu_protocol` and :func:`h36m_protocol`
transpose before :func:`skeletal.metrics.euler_error`.

Frame rate of the CMU benchmark. The released exp-map files are the CMU capture at 120 fps and the published loaders
keep every second frame, so the windows are at **60 fps** (16.7 ms per frame). ``benchmarks/cmu_frame_rate.py``
measures it from the motion (results/cmu_frame_rate.md): at 120 fps the walking takes stride every 1.05-1.22 s at
1.1-1.7 m/s and the running takes every 0.69-0.79 s at 3.3-4.3 m/s; at the 30 Hz that the ConvSeq2Seq author
recalls (its repository's issue #4) walking would take 4-5 s per stride at 0.3-0.4 m/s. The literature (Li et al.
2018, LTD, MSR-GCN, DMGNN) nevertheless labels predicted frames 2, 4, 8, 10, 14, 25 (indices 1, 3, 7, 9, 13, 24 of
the 25-frame target, LTD's ``eval_frame``) as 80, 160, 320, 400, 560 and 1000 ms, as if the data were at 25 fps
like H3.6M. We keep those frame indices and labels so that numbers compare with the published tables; the true
times at 60 fps are :data:`CMU_TRUE_MS` (33 ... 417 ms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike

import numpy as np
import torch
from torch import nn

from skeletal.data.expmap import expmap_rotations
from skeletal.errors import ConfigError, ShapeError
from skeletal.geometry import convert_rotations, forward_kinematics, project_to_rotation
from skeletal.inference.generation import generate
from skeletal.metrics import euler_error, joint_angle_error, pck_auc, positional_error

CMU_HORIZONS_MS: tuple[int, ...] = (80, 160, 320, 400, 560, 1000)
CMU_FRAME_INDICES: tuple[int, ...] = (1, 3, 7, 9, 13, 24)
"""Index in the predicted 25 frames of each CMU horizon (LTD ``eval_frame``; 40 ms per frame as labelled)."""
CMU_TRUE_MS: tuple[float, ...] = tuple(round((i + 1) * 1000 / 60, 1) for i in CMU_FRAME_INDICES)
"""The same frames in real time at the windows' 60 fps: 33, 67, 133, 167, 233, 417 ms."""
CMU_IGNORED_JOINTS: tuple[int, ...] = (0, 1, 2, 7, 8, 13, 16, 20, 29, 24, 27, 33, 36)
"""Joints of ``cmu38`` that LTD's 3D model does not predict (``main_cmu_3d.py``/``cmu_motion_3d.py``
``joint_to_ignore``); the ``mpjpe25`` metric averages over the 25 others."""
CMU_COPIED_JOINTS: tuple[int, ...] = (0, 1, 2, 7, 8, 13)
"""Ignored joints whose ground truth LTD copies into the prediction (root and hip/spine roots): zero error."""
CMU_DUPLICATE_JOINTS: dict[int, int] = {16: 15, 20: 15, 29: 15, 24: 23, 27: 23, 33: 32, 36: 32}
"""Ignored joints that coincide with a predicted one and take its prediction (LTD ``main_cmu_3d.py`` ``test``:
``joint_to_ignore`` -> ``joint_equal``)."""
H36M_HORIZONS_MS: tuple[int, ...] = (80, 160, 320, 400)
H36M_FRAME_INDICES: tuple[int, ...] = (1, 3, 7, 9)
"""H3.6M windows are at 25 fps (50 Hz files, every 2nd frame): frame ``k`` (0-based) ends at ``40 (k + 1)`` ms."""
AMASS_HORIZONS_MS: tuple[int, ...] = (100, 200, 300, 400)
AMASS_FPS = 60.0


@dataclass
class PredictionTable:
    """Errors per row (action, or ``"all"``) and horizon.

    Attributes:
        protocol: Name of the protocol.
        horizons_ms: Column labels in milliseconds.
        values: ``{metric: {row: [value per horizon]}}``.
        units: ``{metric: unit}``.
        notes: How the numbers are averaged (printed under the table).
    """

    protocol: str
    horizons_ms: tuple[float, ...]
    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    notes: str = ""

    def add(self, metric: str, row: str, values: Sequence[float] | np.ndarray) -> None:
        self.values.setdefault(metric, {})[row] = [float(v) for v in values]

    def average(self, metric: str, name: str = "average") -> None:
        """Add the row ``name``: the unweighted mean of the existing rows of ``metric`` (mean over actions)."""
        rows = [v for k, v in self.values[metric].items() if k != name]
        self.values[metric][name] = np.mean(np.asarray(rows), axis=0).tolist()

    def flat(self) -> dict[str, float]:
        """``{"metric/row/120ms": value}`` (for the CLI's metric table and CSV)."""
        return {
            f"{metric}/{row}/{ms:g}ms": value
            for metric, rows in self.values.items()
            for row, values in rows.items()
            for ms, value in zip(self.horizons_ms, values)
        }

    def to_markdown(self, digits: int = 3) -> str:
        """One Markdown table per metric, rows in insertion order."""
        parts = [f"### {self.protocol}"]
        for metric, rows in self.values.items():
            unit = self.units.get(metric, "")
            header = "| " + f"{metric} ({unit})" + " | " + " | ".join(f"{ms:g} ms" for ms in self.horizons_ms) + " |"
            parts += ["", header, "|---" * (len(self.horizons_ms) + 1) + "|"]
            for row, values in rows.items():
                parts.append(f"| {row} | " + " | ".join(f"{v:.{digits}f}" for v in values) + " |")
        if self.notes:
            parts += ["", self.notes]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_markdown()


def to_matrices(x: np.ndarray | torch.Tensor, representation: str, chunk: int = 4096) -> np.ndarray:
    """``(..., V, F)`` rotations in ``representation`` -> ``(..., V, 3, 3)`` float64, projected onto SO(3) (SVD).

    Converted ``chunk`` rotations at a time: the batched SVD of a 600 s forecast (570,000 rotations) at once
    needed 600 MB of workspace; each chunk is cast to float64 on its own (a float64 copy of the whole input was
    another 41 MB).
    """
    values = np.asarray(x)
    rows = values.reshape(-1, values.shape[-1])
    result = np.empty((len(rows), 3, 3))
    for start in range(0, len(rows), chunk):
        part = torch.as_tensor(np.asarray(rows[start : start + chunk], dtype=np.float64))
        matrices = torch.as_tensor(convert_rotations(part, representation, "matrix"))
        result[start : start + chunk] = np.asarray(project_to_rotation(matrices))
    return result.reshape(*values.shape[:-1], 3, 3)


def rollout_windows(
    model: nn.Module, seeds: np.ndarray, num_frames: int, representation: str | None = None, batch_size: int = 64
) -> np.ndarray:
    """Autoregressive predictions of ``num_frames`` frames after each seed with the official ``sample`` rule of
    the ST-Transformer (``eth-ait/motion-transformer``): the model sees the last ``model.window`` frames of the
    seed, and when the seed is shorter than its window the context grows with every generated frame up to the
    window before it slides (so the positions seen at test time are those seen in training).

    Shape:
        seeds: ``(N, T_seed, V, F)``; returns ``(N, num_frames, V, F)`` float32.
    """
    outputs = []
    parameter = next(iter(model.parameters()), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    for start in range(0, len(seeds), batch_size):
        seed = torch.as_tensor(np.asarray(seeds[start : start + batch_size]), dtype=dtype)
        window = int(getattr(model, "window", seed.shape[1]))
        outputs.append(generate(model, seed, num_frames, window, representation).float().numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0, num_frames, *seeds.shape[2:]), np.float32)


def _predictions(
    model_or_predictions: nn.Module | np.ndarray | Mapping[str, np.ndarray],
    action: str,
    seeds: np.ndarray,
    num_frames: int,
    representation: str,
    batch_size: int,
) -> np.ndarray:
    if isinstance(model_or_predictions, nn.Module):
        return rollout_windows(model_or_predictions, seeds, num_frames, representation, batch_size)
    if isinstance(model_or_predictions, Mapping):
        predicted = np.asarray(model_or_predictions[action])
    else:
        raise ConfigError("predictions for several actions must be a mapping {action: (N, T, V, F) array}")
    if predicted.shape[0] != seeds.shape[0] or predicted.shape[1] < num_frames:
        raise ShapeError(
            f"{action}: expected predictions ({seeds.shape[0]}, >= {num_frames}, V, F), got {predicted.shape}"
        )
    return predicted[:, :num_frames]


def _euler_per_frame(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Euler error per frame (radians) on ``R(omega)`` = transposed local rotations, root ignored."""
    pred_t, target_t = np.swapaxes(pred, -1, -2), np.swapaxes(target, -1, -2)
    return np.asarray(euler_error(pred_t, target_t, representation="matrix", root_joint=0, ignore_static=True))


def cmu_test_windows(
    root: str | PathLike[str],
    representation: str = "matrix",
    seed_frames: int = 50,
    actions: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """The CMU test windows (8 per take, LTD's fixed draw) as ``(N, seed_frames + 25, 38, F)`` rotations."""
    from skeletal.data.cmu import CMU_NUM_JOINTS, cmu_windows

    windows = cmu_windows(root, "test", None if actions is None else list(actions), seed_frames, 25)
    return {a: expmap_rotations(w, CMU_NUM_JOINTS, representation) for a, w in windows.items()}


def cmu_positions(matrices: np.ndarray) -> np.ndarray:
    """Joint positions (the reference's 70 x ASF units, ~mm) of ``cmu38`` local rotations, root pinned at the origin
    with identity rotation (LTD ``fkl_torch`` skips the root).

    Shape:
        matrices: ``(..., 38, 3, 3)``; returns ``(..., 38, 3)``.
    """
    from skeletal import skeletons

    skeleton = skeletons.get("cmu38")
    rotations = np.array(matrices, dtype=np.float64, copy=True)
    rotations[..., skeleton.root, :, :] = np.eye(3)
    _, positions = forward_kinematics(rotations, np.asarray(skeleton.offsets, dtype=np.float64), skeleton.parents)
    return np.asarray(positions)


def cmu_ltd_positions(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """LTD's 38-joint prediction for the CMU 3D error: the joints it does not predict completed as its test does.

    ``main_cmu_3d.py`` ``test`` (and MSR-GCN's ``run/cmu_runner.py``, which prints the same table) starts from the
    ground truth, writes the 25 predicted joints, then copies each duplicated joint's partner
    (:data:`CMU_DUPLICATE_JOINTS`); the other 6 ignored joints (:data:`CMU_COPIED_JOINTS`) keep the ground truth.

    Shape:
        predicted, target: ``(..., 38, 3)``; returns ``(..., 38, 3)``.
    """
    completed = np.array(predicted, dtype=np.float64, copy=True)
    completed[..., list(CMU_COPIED_JOINTS), :] = np.asarray(target)[..., list(CMU_COPIED_JOINTS), :]
    for joint, partner in CMU_DUPLICATE_JOINTS.items():
        completed[..., joint, :] = completed[..., partner, :]
    return completed


def cmu_protocol(
    model_or_predictions: nn.Module | Mapping[str, np.ndarray],
    root: str | PathLike[str],
    representation: str | None = None,
    seed_frames: int = 50,
    actions: Sequence[str] | None = None,
    batch_size: int = 64,
) -> PredictionTable:
    """CMU motion-prediction benchmark as LTD's code computes it (Mao et al. 2019, ``wei-mao-2019/LearnTrajDep``;
    the same evaluation prints the CMU tables of MSR-GCN and DMGNN): errors at 80 ... 1000 ms per action.

    Test windows: LTD's 8 fixed windows per test take (:func:`skeletal.data.cmu.fixed_test_windows`), seed of
    ``seed_frames`` frames (50 by default; LTD feeds the last 10 of them), 25 predicted frames. Horizons: frames 2,
    4, 8, 10, 14, 25 after the seed (LTD ``eval_frame = [1, 3, 7, 9, 13, 24]``), labelled 80 ... 1000 ms as in the
    literature although the windows are at 60 fps (module docstring; :data:`CMU_TRUE_MS`).

    Metrics (each value is the mean over the action's windows at that single frame):

    - ``euler``: LTD's CMU angle error (``main_cmu.py`` ``test``): root position and rotation set to zero in both,
      then the Euclidean norm over the Euler angles of **all** 38 joints (on ``R(omega)``), with no variance mask
      (Martinez et al.'s H3.6M metric drops angles constant in the ground truth; LTD's CMU test does not).
    - ``mpjpe``: LTD's CMU 3D error (``main_cmu_3d.py`` ``test``): the mean over **all 38** joints of the position
      error after LTD's forward kinematics (``fkl_torch``: root at the origin with identity rotation, offsets
      x70), the 13 joints LTD does not predict completed by :func:`cmu_ltd_positions` (6 copied from the ground
      truth count with zero error, 7 duplicates take their partner's prediction). Millimetres (x70 ASF units).
    - ``mpjpe25``: the mean over the 25 predicted joints only (no zero-error joints), for comparisons that
      should not be diluted by them; not a published metric.

    Deliberate difference: LTD's angle model copies the ground truth into the exp-map channels whose training
    standard deviation is below 1e-4; every model here predicts all channels and all of them count.

    Args:
        model_or_predictions: A prediction model (rolled out with :func:`generate`), or ``{action: (8 k, 25, 38,
            F)}`` predictions in ``representation``.
        root: The benchmark folder (``train/``, ``test/``).
        representation: Rotation representation of the model (default ``model.representation`` or matrix).
        seed_frames: Seed frames given to the model.
        actions: Actions (default: every action with a test take).
        batch_size: Windows per forward pass.

    Returns:
        The table; the row ``average`` is the unweighted mean over the actions present (6 of the 8 in the public
        copy: the published averages are over 8).
    """
    from skeletal.metrics import positional_error as position_error

    if representation is None:
        representation = str(getattr(model_or_predictions, "representation", "matrix"))
    windows = cmu_test_windows(root, representation, seed_frames, actions)
    used = [j for j in range(38) if j not in CMU_IGNORED_JOINTS]
    units = {"euler": "rad", "mpjpe": "mm", "mpjpe25": "mm"}
    table = PredictionTable("CMU-Mocap (LTD protocol)", CMU_HORIZONS_MS, units=units)
    index = list(CMU_FRAME_INDICES)
    for action, window in windows.items():
        seeds, target = window[:, :seed_frames], window[:, seed_frames:]
        predicted = _predictions(model_or_predictions, action, seeds, target.shape[1], representation, batch_size)
        pred_m, target_m = to_matrices(predicted, representation), to_matrices(target, representation)
        pred_t, target_t = np.swapaxes(pred_m, -1, -2), np.swapaxes(target_m, -1, -2)
        euler = euler_error(pred_t, target_t, representation="matrix", root_joint=0, ignore_static=False)
        table.add("euler", action, np.asarray(euler)[index])
        pred_p, target_p = cmu_positions(pred_m), cmu_positions(target_m)
        completed = cmu_ltd_positions(pred_p, target_p)
        table.add("mpjpe", action, np.asarray(position_error(completed, target_p))[index])
        mpjpe25 = position_error(pred_p[..., used, :], target_p[..., used, :])
        table.add("mpjpe25", action, np.asarray(mpjpe25)[index])
    for metric in units:
        table.average(metric)
    table.notes = (
        f"CMU benchmark, LTD protocol: {seed_frames} seed frames, 8 windows per test take; value at each single frame "
        f"(indices {CMU_FRAME_INDICES}, labelled 40 ms/frame as the literature; true times at 60 fps: {CMU_TRUE_MS} "
        "ms); average = mean over the actions present."
    )
    return table


def h36m_protocol(
    model_or_predictions: nn.Module | Mapping[str, np.ndarray],
    root: str | PathLike[str],
    representation: str | None = None,
    seed_frames: int = 50,
    actions: Sequence[str] | None = None,
    samples: int = 8,
    batch_size: int = 64,
) -> PredictionTable:
    """H3.6M (ST-Transformer table 2; Martinez et al. 2017): Euler error at 80/160/320/400 ms per action.

    Subject 5, 25 fps (every 2nd frame of the 50 Hz files). ``samples=8``: the 8 SRNN seeds per action
    (:func:`skeletal.data.h36m.srnn_windows`); ``samples=256``: LTD's 256 windows
    (:func:`skeletal.data.h36m.windows_256`). Each value is the Euler error (radians, Martinez et al.: norm over
    the varying non-root Euler angles of the frame) at that frame, averaged over the action's windows.
    """
    from skeletal.data.h36m import H36M_MOTION_ACTIONS, H36M_MOTION_TEST_SUBJECT, load_h36m_expmap, srnn_windows
    from skeletal.data.h36m import windows_256 as draw_256

    if samples not in (8, 256):
        raise ConfigError(f"samples: the H3.6M protocols use 8 (SRNN) or 256 (LTD) windows per action, got {samples}")
    if representation is None:
        representation = str(getattr(model_or_predictions, "representation", "matrix"))
    wanted = list(actions or H36M_MOTION_ACTIONS)
    data = load_h36m_expmap(root, subjects=(H36M_MOTION_TEST_SUBJECT,), actions=wanted)
    table = PredictionTable(f"H3.6M ({samples} samples)", H36M_HORIZONS_MS, units={"euler": "rad"})
    for action in wanted:
        draw = srnn_windows if samples == 8 else draw_256
        window = expmap_rotations(draw(data, action, seed_frames, 25), 32, representation)
        seeds, target = window[:, :seed_frames], window[:, seed_frames:]
        predicted = _predictions(model_or_predictions, action, seeds, target.shape[1], representation, batch_size)
        errors = _euler_per_frame(to_matrices(predicted, representation), to_matrices(target, representation))
        table.add("euler", action, errors[list(H36M_FRAME_INDICES)])
    table.average("euler")
    table.notes = "Subject 5 at 25 fps; value at each single frame, mean over the windows; average over actions."
    return table


def amass_protocol(
    model_or_predictions: nn.Module | np.ndarray,
    windows: np.ndarray,
    representation: str | None = None,
    seed_frames: int = 120,
    smpl_offsets: np.ndarray | None = None,
    batch_size: int = 64,
) -> PredictionTable:
    """AMASS (ST-Transformer table 1; SPL protocol): Euler, joint-angle and positional error and PCK AUC at
    100/200/300/400 ms (6, 12, 18, 24 frames at 60 fps).

    "Mean over the sequence" (the paper's table 1, the reference ``MetricsEngine`` with ``per_frame=False``):
    the value at horizon ``h`` is the mean of the per-frame errors over frames ``1 .. h``, not the error at frame
    ``h`` (SPL's tables use the sum). Per frame: Euler error (radians, on the local rotations; an angle counts
    when it varies over the frames of *all* windows evaluated together, as the reference ``euler_diff`` decides
    over its whole batch, where the H3.6M protocol decides per sequence), joint angle
    (radians, geodesic angle of the *global* rotations of the 15 ``amass15`` joints after forward kinematics,
    mean over joints), positional error (metres; the table's millimetres are x1000) and PCK AUC over the
    thresholds :data:`skeletal.metrics.AMASS_PCK_THRESHOLDS` (fraction in [0, 1]), all averaged over windows.

    Args:
        model_or_predictions: A model, or ``(N, >= 24, 15, F)`` predictions.
        windows: ``(N, seed_frames + >= 24, 15, F)`` test windows in ``representation`` (amass15, root dropped).
        representation: Rotation representation (default the model's, else matrix).
        seed_frames: 120 (2 s at 60 fps).
        smpl_offsets: ``(24, 3)`` SMPL rest-pose bone offsets (metres, the SMPL model's regressed joints; not
            distributable). Forward kinematics runs on ``smpl24`` with the other joints and the root at identity;
            without offsets the joint-angle error uses the same chain with unit offsets and the positional
            metrics are left out.
    """
    from skeletal import skeletons
    from skeletal.skeletons.layouts import AMASS15_SMPL_INDICES

    if representation is None:
        representation = str(getattr(model_or_predictions, "representation", "matrix"))
    frames = [int(round(ms * AMASS_FPS / 1000)) for ms in AMASS_HORIZONS_MS]
    seeds, target = windows[:, :seed_frames], windows[:, seed_frames : seed_frames + frames[-1]]
    if isinstance(model_or_predictions, nn.Module):
        predicted = rollout_windows(model_or_predictions, seeds, frames[-1], representation, batch_size)
    else:
        predicted = np.asarray(model_or_predictions)[:, : frames[-1]]
    if predicted.shape != target.shape:
        raise ShapeError(f"AMASS predictions must be {target.shape}, got {predicted.shape}")
    pred_m, target_m = to_matrices(predicted, representation), to_matrices(target, representation)
    smpl = skeletons.get("smpl24")
    offsets = np.ones((24, 3)) if smpl_offsets is None else np.asarray(smpl_offsets, dtype=np.float64)

    def full_chain(local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rotations = np.broadcast_to(np.eye(3), (*local.shape[:-3], 24, 3, 3)).copy()
        rotations[..., list(AMASS15_SMPL_INDICES), :, :] = local
        globals_, positions = forward_kinematics(rotations, offsets, smpl.parents)
        index = list(AMASS15_SMPL_INDICES)
        return np.asarray(globals_)[..., index, :, :], np.asarray(positions)[..., index, :]

    pred_g, pred_p = full_chain(pred_m)
    target_g, target_p = full_chain(target_m)
    table = PredictionTable("AMASS", AMASS_HORIZONS_MS, units={"euler": "rad", "joint_angle": "rad"})
    # Angles static over the whole evaluated set are dropped, as the reference's euler_diff (motion_metrics.py)
    # decides over every frame of the batch; the H3.6M protocol decides per sequence (Martinez et al.).
    euler = np.asarray(euler_error(pred_m, target_m, representation="matrix", root_joint=None, static_over="batch"))
    angle = np.asarray(joint_angle_error(pred_g, target_g))
    table.add("euler", "all", [euler[:h].mean() for h in frames])
    table.add("joint_angle", "all", [angle[:h].mean() for h in frames])
    if smpl_offsets is not None:
        position = np.asarray(positional_error(pred_p, target_p))
        table.add("positional", "all", [position[:h].mean() for h in frames])
        table.add("pck_auc", "all", [pck_auc(pred_p[:, :h], target_p[:, :h]) for h in frames])
        table.units.update(positional="m", pck_auc="fraction")
    table.notes = "Mean over frames 1..h of the per-frame values (paper table 1), mean over windows; 60 fps."
    return table
