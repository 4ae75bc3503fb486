"""Human3.6M (Ionescu et al., TPAMI 2014) in VideoPose3D's npz files, the lifting papers' format.

The files of Pavllo et al. 2019 (``facebookresearch/VideoPose3D``, ``data/prepare_data_h36m.py`` and
``common/h36m_dataset.py``), read by GAST-Net and most lifting work:

- ``data_3d_h36m.npz``: key ``positions_3d``, a pickled dict ``subject -> action -> (T, 32, 3)`` float32
  world positions in metres at 50 fps;
- ``data_2d_h36m_<name>.npz``: key ``positions_2d``, a dict ``subject -> action -> [4 arrays (T, 17, 2)]`` in
  pixels, one per camera in the order of :data:`~skeletal.data.h36m.cameras.H36M_CAMERA_INTRINSICS`, and
  ``metadata``, a dict with ``layout_name``, ``num_joints`` and ``keypoints_symmetry`` (left joints, right joints).

Both dicts are stored as pickled numpy object arrays. ``np.load(allow_pickle=True)`` would run that pickle with
the full unpickler (code execution from a malicious file, allocations of whatever a corrupt file announces); the
readers use :func:`skeletal.data._unpickle.unpickle_npy_member` instead, which knows numpy's array, dtype and scalar
reconstruction only and checks every shape against its data before building an array. ``allow_pickle=True`` is the
default because the format requires it; pass ``allow_pickle=False`` to refuse any pickled entry
(:class:`~skeletal.errors.UnsafeFileError`).

The 2D/3D pairs for lifting (:func:`lifting_pairs`) are projected with the calibration of
:mod:`skeletal.data.h36m.cameras`.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any, cast

import numpy as np

from skeletal.data._safe import finite_float32
from skeletal.data._unpickle import unpickle_npy_member
from skeletal.data.h36m.cameras import H36M_CAMERA_INTRINSICS, h36m_cameras
from skeletal.data.types import Motion
from skeletal.errors import DataError
from skeletal.geometry.camera import Camera, normalize_screen_coordinates
from skeletal.skeletons import get

H36M_FPS = 50.0
H36M_TRAIN_SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8")
H36M_TEST_SUBJECTS: tuple[str, ...] = ("S9", "S11")

# VideoPose3D ``remove_joints([4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31])``: the 17 joints kept
# (layout ``h36m17``), in the order of the 32-joint mocap skeleton (``h36m32``).
H36M17_FROM_32: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)


# ---------------------------------------------------------------------------------------------- npz files
def load_pickled_dict(path: str | PathLike[str], key: str, allow_pickle: bool = True) -> dict[str, Any]:
    """Read one dict-valued entry of a VideoPose3D npz (a 0-d pickled object array).

    Args:
        path: The ``.npz`` file the user passed.
        key: ``"positions_3d"``, ``"positions_2d"`` or ``"metadata"``.
        allow_pickle: Unpickle the entry (needed by the format), with numpy's array, dtype and scalar types only.

    Raises:
        DataError: Missing or corrupt file, missing key, or an entry that is not a dict.
        UnsafeFileError: The entry needs unpickling and ``allow_pickle`` is False.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found (expected a VideoPose3D .npz file)", path)
    value = unpickle_npy_member(path, key, allow_pickle)
    if value.dtype != object or value.shape != ():
        raise DataError(f"expected a pickled dict, got an array {value.dtype} {value.shape}", path, f"key {key!r}")
    result = value.item()
    if not isinstance(result, dict):
        raise DataError(f"expected a dict, got {type(result).__name__}", path, f"key {key!r}")
    if key != "metadata" and not all(isinstance(k, str) and isinstance(v, dict) for k, v in result.items()):
        bad = next(k for k, v in result.items() if not (isinstance(k, str) and isinstance(v, dict)))
        raise DataError("expected a dict subject -> {action -> data}", path, f"key {key!r}, subject {bad!r}")
    return result


def _keep(name: str, wanted: tuple[str, ...] | list[str] | None) -> bool:
    # VideoPose3D's action filter: an action is kept when its name starts with one of the wanted names.
    return wanted is None or any(name.startswith(w) for w in wanted)


def _check_positions(array: Any, num_joints: int, path: Path, where: str, channels: int = 3) -> np.ndarray:
    if not isinstance(array, np.ndarray) or array.ndim != 3 or array.shape[1:] != (num_joints, channels):
        shape = getattr(array, "shape", type(array).__name__)
        raise DataError(f"expected an array (T, {num_joints}, {channels}), got {shape}", path, where)
    if array.shape[0] == 0:
        raise DataError("an empty sequence (0 frames)", path, where)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(f"expected a numeric array, got dtype {array.dtype}", path, where)
    finite = finite_float32(array)
    if not finite.all():
        frame = int(np.argwhere(~finite)[0, 0])
        raise DataError(f"NaN or inf coordinates, or beyond float32 range (first at frame {frame})", path, where)
    return array.astype(np.float32, copy=False)


def read_positions_3d(
    path: str | PathLike[str],
    skeleton: str,
    fps: float,
    subjects: tuple[str, ...] | list[str] | None = None,
    actions: tuple[str, ...] | list[str] | None = None,
    keep_joints: tuple[int, ...] | None = None,
    output_skeleton: str | None = None,
    downsample: int = 1,
    allow_pickle: bool = True,
) -> dict[str, dict[str, Motion]]:
    """Generic reader of a VideoPose3D ``positions_3d`` file (shared by Human3.6M and HumanEva).

    Returns:
        ``subject -> action -> Motion`` with ``positions (T', V', 3)`` in metres, world frame.
    """
    path = Path(path)
    data = load_pickled_dict(path, "positions_3d", allow_pickle)
    layout = get(skeleton)
    target = get(output_skeleton or skeleton)
    result: dict[str, dict[str, Motion]] = {}
    for subject in subjects if subjects is not None else data:
        if subject not in data:
            raise DataError(f"subject {subject!r} not in the file; it has {sorted(data)}", path)
        if not isinstance(data[subject], dict):
            raise DataError("expected a dict action -> positions", path, f"subject {subject!r}")
        motions = {}
        for action, positions in data[subject].items():
            if not isinstance(action, str):
                raise DataError(f"action names must be strings, found {action!r}"[:120], path, f"subject {subject!r}")
            if not _keep(action, actions):
                continue
            where = f"subject {subject!r}, action {action!r}"
            positions = _check_positions(positions, layout.num_joints, path, where)
            if keep_joints is not None:
                positions = positions[:, list(keep_joints)]
            motions[action] = Motion(
                skeleton=target,
                fps=fps / downsample,
                positions=np.ascontiguousarray(positions[::downsample]),
                units="m",
                source=str(path),
                meta={"subject": subject, "action": action, "downsample": downsample},
            )
        result[subject] = motions
    return result


def read_positions_2d(
    path: str | PathLike[str],
    num_cameras: int,
    subjects: tuple[str, ...] | list[str] | None = None,
    allow_pickle: bool = True,
) -> tuple[dict[str, dict[str, list[np.ndarray | None]]], dict[str, Any]]:
    """Generic reader of a VideoPose3D ``positions_2d`` file with its ``metadata``.

    Returns:
        ``(keypoints, metadata)``: ``subject -> action -> [one (T, V, C) float32 array per camera, or None for a
        camera without video]`` (pixels; ``C`` is 2, or 3 with a detector score) and the metadata dict.
    """
    path = Path(path)
    metadata = load_pickled_dict(path, "metadata", allow_pickle)
    for field_name in ("layout_name", "num_joints", "keypoints_symmetry"):
        if field_name not in metadata:
            raise DataError(f"metadata lacks {field_name!r}; it has {sorted(metadata)}", path, "key 'metadata'")
    num_joints = metadata["num_joints"]
    if isinstance(num_joints, np.integer):
        num_joints = int(num_joints)
    if type(num_joints) is not int or not 1 <= num_joints <= 1000:
        raise DataError(f"num_joints must be an integer in 1..1000, found {num_joints!r}"[:120], path,
                        "key 'metadata'")  # fmt: skip
    symmetry = metadata["keypoints_symmetry"]
    try:
        left, right = ([int(j) for j in side] for side in symmetry)
        valid = len(left) == len(right) and all(0 <= j < num_joints for j in [*left, *right])
    except (TypeError, ValueError, OverflowError):
        valid = False
    if not valid:
        raise DataError(f"keypoints_symmetry {symmetry!r} does not fit {num_joints} joints"[:200], path,
                        "key 'metadata'")  # fmt: skip
    data = load_pickled_dict(path, "positions_2d", allow_pickle)
    result: dict[str, dict[str, list[np.ndarray | None]]] = {}
    for subject in subjects if subjects is not None else data:
        if subject not in data:
            raise DataError(f"subject {subject!r} not in the file; it has {sorted(data)}", path)
        result[subject] = {}
        if not all(isinstance(action, str) for action in data[subject]):
            raise DataError("action names must be strings", path, f"subject {subject!r}")
        for action, views in data[subject].items():
            where = f"subject {subject!r}, action {action!r}"
            if not isinstance(views, (list, tuple)) or len(views) != num_cameras:
                raise DataError(f"expected a list of {num_cameras} cameras, got {type(views).__name__}", path, where)
            checked: list[np.ndarray | None] = []
            for camera, view in enumerate(views):
                if view is None:
                    checked.append(None)
                    continue
                channels = view.shape[-1] if isinstance(view, np.ndarray) and view.ndim == 3 else 2
                if channels not in (2, 3):
                    channels = 2
                checked.append(_check_positions(view, num_joints, path, f"{where}, camera {camera}", channels))
            result[subject][action] = checked
    return result, metadata


def load_h36m_3d(
    path: str | PathLike[str],
    subjects: tuple[str, ...] | list[str] | None = None,
    actions: tuple[str, ...] | list[str] | None = None,
    joints: int = 17,
    downsample: int = 1,
    allow_pickle: bool = True,
) -> dict[str, dict[str, Motion]]:
    """Read VideoPose3D's ``data_3d_h36m.npz``.

    Args:
        path: The file (trusted: it is unpickled, see the module docstring).
        subjects: Subjects to keep (default all), e.g. :data:`H36M_TRAIN_SUBJECTS`.
        actions: Keep actions whose name starts with one of these (VideoPose3D's ``--actions`` filter).
        joints: 17 (VideoPose3D ``remove_joints``, layout ``h36m17``) or 32 (the full ``h36m32`` skeleton).
        downsample: Keep every ``downsample``-th frame (VideoPose3D ``--downsample``); fps becomes 50 / that.
        allow_pickle: See :func:`load_pickled_dict`.

    Returns:
        ``subject -> action -> Motion`` (world positions in metres).
    """
    if joints not in (17, 32):
        raise ValueError(f"joints must be 17 or 32, got {joints}")
    keep = H36M17_FROM_32 if joints == 17 else None
    return read_positions_3d(path, "h36m32", H36M_FPS, subjects, actions, keep, f"h36m{joints}", downsample,
                             allow_pickle)  # fmt: skip


def load_h36m_2d(
    path: str | PathLike[str],
    subjects: tuple[str, ...] | list[str] | None = None,
    allow_pickle: bool = True,
) -> tuple[dict[str, dict[str, list[np.ndarray | None]]], dict[str, Any]]:
    """Read a VideoPose3D ``data_2d_h36m_*.npz`` (ground truth or detections): 4 cameras per action."""
    return read_positions_2d(path, len(H36M_CAMERA_INTRINSICS), subjects, allow_pickle)


def lifting_pairs(
    positions_3d: dict[str, dict[str, Motion]],
    positions_2d: dict[str, dict[str, list[np.ndarray | None]]],
    cameras: dict[str, list[Camera]] | None = None,
    subjects: tuple[str, ...] | list[str] | None = None,
) -> list[dict[str, Any]]:
    """Pair 2D keypoints and camera-space 3D poses per subject, action and camera, as VideoPose3D prepares them.

    For each camera: the world positions go into the camera frame (``R(q).T (X - t)``) and are made relative to
    the root joint (root set to zero); the 2D keypoints are normalised to screen coordinates with the camera's
    resolution. When the 2D sequence is longer than the mocap (the case in Human3.6M), it is cut to the mocap
    length (VideoPose3D ``run.py``); a shorter one is an error. 3D read with ``downsample`` (recorded in
    ``Motion.meta``) pairs with the 2D frames taken at the same stride.

    Returns:
        A list of dicts with ``keypoints (T, V, 2)`` screen-normalised, ``positions (T, V, 3)`` root-relative
        camera-space metres, ``root (T, 3)`` camera-space root trajectory, ``subject``, ``action``, ``camera``.
    """
    pairs = []
    for subject in subjects if subjects is not None else positions_3d:
        subject_cameras = cameras[subject] if cameras is not None else h36m_cameras(subject)
        for action, motion in positions_3d[subject].items():
            if action not in positions_2d.get(subject, {}):
                raise DataError(f"no 2D keypoints for subject {subject!r}, action {action!r}", motion.source)
            world = motion.positions
            assert world is not None
            root = motion.skeleton.root
            stride = int(motion.meta.get("downsample", 1))
            for index, (camera, keypoints) in enumerate(zip(subject_cameras, positions_2d[subject][action])):
                if keypoints is None:
                    continue
                keypoints = keypoints[::stride]
                if keypoints.shape[0] < world.shape[0]:
                    raise DataError(f"camera {index} has {keypoints.shape[0]} 2D frames for {world.shape[0]} mocap "
                                    f"frames", motion.source, f"subject {subject!r}, action {action!r}")  # fmt: skip
                local = np.asarray(camera.world_to_camera(world.astype(np.float64)), dtype=np.float32)
                points = cast(np.ndarray, normalize_screen_coordinates(  # numpy in, numpy out
                    keypoints[: world.shape[0], :, :2].astype(np.float64), camera.width, camera.height))  # fmt: skip
                pairs.append({"keypoints": points.astype(np.float32), "positions": local - local[:, root : root + 1],
                              "root": local[:, root].copy(), "subject": subject, "action": action,
                              "camera": index})  # fmt: skip
    return pairs
