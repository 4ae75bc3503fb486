"""AMASS (Mahmood et al., ICCV 2019) npz files and the motion-prediction protocol of SPL / ST-Transformer.

An AMASS file (``{dataset}/{subject}/{take}_poses.npz``) holds ``poses`` ``(T, 156)`` (SMPL-H: 52 joints x
axis-angle; the first 22 are the body) or ``(T, 72)`` (SMPL, 24 joints), ``trans`` ``(T, 3)`` metres,
``mocap_framerate`` (scalar), ``betas`` and ``gender`` (plus ``dmpls`` in some releases). Nothing in it is
pickled: it is read with ``allow_pickle=False``.

Protocol of Aksan et al. (SPL, ICCV 2019) adopted by the ST-Transformer (Aksan et al. 3DV 2021, supplement
section A): the DIP preprocessing (Huang et al. 2018) brings every take to 60 fps and keeps the rotation
matrices of the 15 major SMPL joints ``SMPL_MAJOR_JOINTS = [1, 2, 3, 4, 5, 6, 9, 12, 13, 14, 15, 16, 17, 18,
19]`` (layout ``amass15``; the root orientation and translation are dropped); the model sees windows of 120
seed frames (2 s) and is scored on the next 24 (400 ms) -- SPL's test and validation windows are 180 frames
with stride 120 (``preprocess_dip.py`` defaults), long enough for 1 s horizons.

Frame rate: a take whose rate is (within 1 fps) an integer multiple of 60 keeps every ``k``-th frame (120 fps
-> every 2nd, 59.94 -> all), which is what the DIP/TransPose preprocessing does for the 120/60/59 fps takes.
Other rates (100, 250 fps in some sub-datasets, which that preprocessing discards) are resampled here by
spherical linear interpolation of each joint's rotation and linear interpolation of the translation.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from skeletal.data._safe import check_allocation, read_npz
from skeletal.data.types import Motion
from skeletal.data.windows import sliding_windows
from skeletal.errors import DataError
from skeletal.geometry.rotations import axis_angle_to_matrix
from skeletal.skeletons import get
from skeletal.skeletons.layouts import AMASS15_SMPL_INDICES

AMASS_TARGET_FPS = 60.0
AMASS_SEED_LENGTH = 120
AMASS_TARGET_LENGTH = 24
AMASS_TEST_WINDOW = 180
AMASS_TEST_STRIDE = 120

# SMPL's two hand joints (22, 23) are not among SMPL-H's body joints; as VIBE's ``amass_joint_mapper`` we take
# the first finger joint of each hand (SMPL-H joints 22 and 37) in their place.
_SMPLH_TO_SMPL24 = (*range(22), 22, 37)


def read_amass_npz(path: str | PathLike[str]) -> Motion:
    """Read one AMASS take as SMPL rotations.

    Returns:
        A :class:`Motion` on ``smpl24`` with ``rotations (T, 24, 3, 3)`` (local, column convention),
        ``root_positions`` = ``trans`` (metres), ``fps`` = ``mocap_framerate`` and ``meta`` with ``betas``,
        ``gender`` and the file's pose width.

    Raises:
        DataError: Missing/corrupt file (members are read without unpickling, their size bounded), a missing
            key, a pose width other than 72 or 156, no frames, mismatched frame counts, a frame rate that is not
            one positive number, non-numbers, NaN values or absurd magnitudes (the key is named).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found (expected an AMASS .npz file)", path)
    fields = read_npz(path, ["poses", "trans", "mocap_framerate", "betas", "gender"])
    for key in ("poses", "trans", "mocap_framerate"):
        if key not in fields:
            raise DataError(f"missing key {key!r}; the file has {sorted(fields)}", path)
    poses, trans = fields["poses"], fields["trans"]
    for key, value in (("poses", poses), ("trans", trans), ("mocap_framerate", fields["mocap_framerate"])):
        if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
            raise DataError(f"expected numbers, got dtype {value.dtype}", path, f"key {key!r}")
    if poses.ndim != 2 or poses.shape[1] not in (72, 156):
        raise DataError(f"expected poses (T, 72) or (T, 156), got {poses.shape}", path, "key 'poses'")
    if poses.shape[0] == 0:
        raise DataError("no frames (poses has 0 rows)", path, "key 'poses'")
    if trans.shape != (poses.shape[0], 3):
        raise DataError(f"expected trans ({poses.shape[0]}, 3) to match poses, got {trans.shape}", path, "key 'trans'")
    rate = fields["mocap_framerate"]
    if rate.size != 1:
        raise DataError(f"expected one number, got shape {rate.shape}", path, "key 'mocap_framerate'")
    fps = float(rate.reshape(()))
    if not (fps > 0 and np.isfinite(fps)):
        raise DataError(f"mocap_framerate must be positive and finite, got {fps}", path, "key 'mocap_framerate'")
    check_allocation((poses.shape[0], 24, 3, 3), 8, path, "key 'poses'", "the rotation matrices")
    for key, value in (("poses", poses), ("trans", trans)):
        if not np.isfinite(value).all():
            frame = int(np.argwhere(~np.isfinite(value))[0, 0])
            raise DataError(f"NaN or inf (first at frame {frame})", path, f"key {key!r}")
    # an axis-angle beyond 1e6 rad (1e200 gives NaN matrices: its sine is not computed) or a translation beyond
    # float32 range is corrupt; real takes stay within a few turns and a few kilometres
    limits = (("poses", poses, 1e6), ("trans", trans, 1e30))
    for key, value, limit in limits:
        large = np.abs(value) > limit
        if large.any():
            frame = int(np.argwhere(large)[0, 0])
            raise DataError(f"a value beyond {limit:g} (first at frame {frame})", path, f"key {key!r}")
    axis_angle = poses.reshape(poses.shape[0], -1, 3)
    if axis_angle.shape[1] == 52:
        axis_angle = axis_angle[:, list(_SMPLH_TO_SMPL24)]
    rotations = np.asarray(axis_angle_to_matrix(axis_angle.astype(np.float64)), dtype=np.float64)
    return Motion(
        skeleton=get("smpl24"),
        fps=fps,
        rotations=rotations,
        root_positions=trans.astype(np.float64),
        units="m",
        source=str(path),
        meta={
            "betas": fields.get("betas"),
            "gender": _gender(fields.get("gender")),
            "pose_width": int(poses.shape[1]),
        },
    )


def _gender(value: np.ndarray | None) -> str | None:
    """``gender`` as a plain string: AMASS stores it as a 0-d unicode or bytes array (``b'male'``)."""
    if value is None or value.size != 1:
        return None
    item = value.reshape(()).item()
    if isinstance(item, bytes):
        return item.decode("utf-8", errors="replace")
    return str(item)


def resample(motion: Motion, fps: float = AMASS_TARGET_FPS) -> Motion:
    """Bring a motion with rotations to ``fps`` (see the module docstring for the rule)."""
    if motion.rotations is None:
        raise DataError("resample needs rotations", motion.source)
    step = motion.fps / fps
    if abs(step - round(step)) * fps <= 1.0 and round(step) >= 1:
        k = int(round(step))
        rotations = motion.rotations[::k]
        root = None if motion.root_positions is None else motion.root_positions[::k]
    else:
        frames = motion.rotations.shape[0]
        times = np.arange(frames) / motion.fps
        new_times = np.arange(0.0, times[-1] + 1e-9, 1.0 / fps)
        rotations = np.stack(
            [Slerp(times, Rotation.from_matrix(motion.rotations[:, j]))(new_times).as_matrix()
             for j in range(motion.rotations.shape[1])],
            axis=1,
        )  # fmt: skip
        root = None
        if motion.root_positions is not None:
            root = np.stack([np.interp(new_times, times, motion.root_positions[:, c]) for c in range(3)], axis=-1)
    return Motion(skeleton=motion.skeleton, fps=fps, rotations=rotations, root_positions=root, units=motion.units,
                  source=motion.source, meta=dict(motion.meta))  # fmt: skip


def amass_major_joints(motion: Motion, fps: float = AMASS_TARGET_FPS) -> np.ndarray:
    """The protocol's representation: ``(T', 15, 3, 3)`` float32 rotations of ``amass15`` at ``fps``."""
    get("smpl24").check(motion.rotations.shape[1] if motion.rotations is not None else 0, motion.source)
    rotations = resample(motion, fps).rotations
    assert rotations is not None
    return rotations[:, list(AMASS15_SMPL_INDICES)].astype(np.float32)


def load_amass(path: str | PathLike[str], fps: float = AMASS_TARGET_FPS) -> Motion:
    """Read a take and return it in the protocol's form: a :class:`Motion` on ``amass15`` at 60 fps."""
    motion = read_amass_npz(path)
    rotations = amass_major_joints(motion, fps)
    return Motion(skeleton=get("amass15"), fps=fps, rotations=rotations, units="m", source=motion.source,
                  meta=dict(motion.meta))  # fmt: skip


def amass_windows(
    rotations: np.ndarray,
    seed_length: int = AMASS_SEED_LENGTH,
    target_length: int = AMASS_TARGET_LENGTH,
    stride: int | None = None,
    source: str = "",
) -> np.ndarray:
    """Windows of ``seed_length + target_length`` frames (default 120 + 24) every ``stride`` frames.

    ``stride`` defaults to the window length (non-overlapping). For SPL's evaluation windows use
    ``seed_length=120, target_length=60, stride=120`` (180-frame windows, stride 120).

    Returns:
        ``(W, seed_length + target_length, V, 3, 3)``.
    """
    size = seed_length + target_length
    return sliding_windows(rotations, size, stride or size, source)
