"""The CMU motion-prediction benchmark: exponential-map text files, their loader, windows and 3D motion.

The benchmark (Li et al., CVPR 2018; used by LTD, Mao et al. ICCV 2019, and HisRepItself, Mao et al. ECCV
2020) stores one file per take, ``{root}/{split}/{action}/{action}_{n}.txt``: one frame per line, 117 comma
separated numbers = the root position (3) then 38 exponential maps (root rotation first) of the CMU 38-joint
skeleton (layout ``cmu38``).

Protocol followed (checked against ``wei-mao-2019/LearnTrajDep`` ``utils/data_utils.py``, ``load_data_cmu`` and
``define_actions_cmu``, and ``utils/forward_kinematics.py``, ``_some_variables_cmu`` / ``fkl_torch``):

- every second frame is kept (``range(0, n, 2)``) before windows are cut;
- training windows: every window of ``input_length + target_length`` consecutive frames, stride 1;
- test windows: for each test file, 8 windows drawn with a *fresh* ``np.random.RandomState(1234567890)``
  (re-seeded per file): ``start = rng.randint(0, T - 75)`` (upper bound exclusive) with ``75 = 50 + 25``
  seed + target frames, window ``frames[start + 50 - input_length : start + 50 + target_length]``; LTD feeds
  ``input_length = 10`` seed frames, the 50-frame protocol (HisRepItself, Li et al.) ``input_length = 50``.

Deviation: the reference counts the directory entries and opens ``{action}_{1..count}.txt``, which crashes on
the released set whose numbering has gaps (``train/directing_traffic`` holds ``_1`` and ``_4``); here the files
present are read in the order of their take number.

Forward kinematics: the reference uses Martinez et al.'s row-vector convention (``x = offset @ R_parent``,
``R = R_local @ R_parent``). In our column convention (``x_parent = R @ x_child``) the local rotation of a joint
is therefore ``R(omega)^T = R(-omega)`` where ``R(omega)`` is Rodrigues' formula of the stored exp-map.
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path

import numpy as np

from skeletal.data._safe import read_text
from skeletal.data.types import Motion
from skeletal.errors import DataError

CMU_ACTIONS: tuple[str, ...] = (
    "basketball",
    "basketball_signal",
    "directing_traffic",
    "jumping",
    "running",
    "soccer",
    "walking",
    "washwindow",
)
"""The eight actions of the benchmark (LTD ``define_actions_cmu``)."""

CMU_VALUES_PER_FRAME = 117
CMU_NUM_JOINTS = 38
TEST_SEED = 1234567890
TEST_WINDOWS_PER_FILE = 8
OFFSET_SCALE = 70.0
"""The reference multiplies the ASF-unit bone offsets by 70 (the millimetre-like scale its errors are in)."""


def read_expmap(path: str | PathLike[str]) -> np.ndarray:
    """Read one exp-map take of the CMU benchmark.

    Args:
        path: A ``{action}_{n}.txt`` file: one frame per line, 117 comma-separated numbers.

    Returns:
        ``(T, 117)`` float64 array, all frames of the file (no downsampling).

    Raises:
        DataError: The file is missing, empty, not UTF-8 text, or a line has another count of values, a
            non-number or a NaN/inf; the message names the line.
    """
    path = Path(path)
    text = read_text(path, "a CMU exp-map .txt file")
    rows: list[list[float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.strip().split(",")
        if len(fields) != CMU_VALUES_PER_FRAME:
            raise DataError(
                f"expected {CMU_VALUES_PER_FRAME} comma-separated values (root position + 38 exp-maps), "
                f"found {len(fields)}",
                path,
                f"line {number}",
            )
        try:
            values = [float(field) for field in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_number(f))
            raise DataError(f"expected a number, found {bad.strip()!r}", path, f"line {number}") from None
        if not np.all(np.isfinite(values)):
            column = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
            raise DataError(f"value {column} is not finite ({values[column - 1]})", path, f"line {number}")
        rows.append(values)
    if not rows:
        raise DataError(f"empty file (expected lines of {CMU_VALUES_PER_FRAME} values)", path)
    return np.asarray(rows, dtype=np.float64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _take_number(path: Path, action: str) -> int:
    match = re.fullmatch(rf"{re.escape(action)}_(\d+)\.txt", path.name)
    return int(match.group(1)) if match else -1


def list_takes(root: str | PathLike[str], split: str, action: str) -> list[Path]:
    """The take files of one action and split, ordered by take number (``walking_1.txt``, ``walking_2.txt``...)."""
    folder = Path(root) / split / action
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if _take_number(p, action) >= 0]
    return sorted(files, key=lambda p: _take_number(p, action))


def load_cmu_benchmark(
    root: str | PathLike[str],
    split: str,
    actions: list[str] | tuple[str, ...] | None = None,
    downsample: int = 2,
) -> dict[str, list[np.ndarray]]:
    """Load the exp-map takes of one split, downsampled as the published loaders do.

    Args:
        root: The benchmark folder holding ``train/`` and ``test/``.
        split: ``"train"`` or ``"test"``.
        actions: Actions to load; ``None`` loads every action of ``CMU_ACTIONS`` present in the split.
            An action asked for by name and absent raises.
        downsample: Keep every ``downsample``-th frame, starting at the first (the protocol uses 2).

    Returns:
        ``{action: [(T_i, 117) array per take]}`` in take-number order.

    Raises:
        DataError: Unknown split or action, an action asked for that has no file, or a corrupt file.
    """
    root = Path(root)
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}", root)
    if downsample < 1:
        raise DataError(f"downsample must be >= 1, got {downsample}", root)
    if not (root / split).is_dir():
        raise DataError(f"no {split}/ folder (expected the CMU benchmark layout {split}/ACTION/ACTION_N.txt)", root)
    wanted = list(CMU_ACTIONS) if actions is None else list(actions)
    result: dict[str, list[np.ndarray]] = {}
    for action in wanted:
        if action not in CMU_ACTIONS:
            raise DataError(f"unknown CMU action {action!r}; actions: {', '.join(CMU_ACTIONS)}", root)
        takes = list_takes(root, split, action)
        if not takes:
            if actions is None:
                continue
            raise DataError(f"no {action}_N.txt take for action {action!r}", root / split / action)
        result[action] = [read_expmap(p)[::downsample] for p in takes]
    if not result:
        raise DataError(f"no take found under {split}/ for actions {wanted}", root)
    return result


def sliding_windows(sequence: np.ndarray, length: int) -> np.ndarray:
    """All windows of ``length`` consecutive frames, stride 1 (the LTD training set).

    Args:
        sequence: ``(T, D)`` one (already downsampled) take.
        length: Window length, seed + target frames.

    Returns:
        ``(max(T - length + 1, 0), length, D)``, a copy.
    """
    count = sequence.shape[0] - length + 1
    if count <= 0:
        return np.zeros((0, length, *sequence.shape[1:]), dtype=sequence.dtype)
    starts = np.arange(count)[:, None] + np.arange(length)[None, :]
    return sequence[starts]


def fixed_test_starts(num_frames: int, seed_length: int = 50, target_length: int = 25) -> np.ndarray:
    """Start frames of the 8 test windows of one take, as LTD draws them.

    A fresh ``RandomState(1234567890)`` per take; ``randint(0, T - (seed + target))``, upper bound exclusive.

    Raises:
        DataError: The take is too short (``T <= seed + target``).
    """
    high = num_frames - (seed_length + target_length)
    if high <= 0:
        raise DataError(f"a take of {num_frames} frames is too short for {seed_length}+{target_length}-frame windows")
    rng = np.random.RandomState(TEST_SEED)
    return np.array([rng.randint(0, high) for _ in range(TEST_WINDOWS_PER_FILE)], dtype=np.int64)


def fixed_test_windows(
    sequence: np.ndarray, input_length: int = 50, target_length: int = 25, seed_length: int = 50
) -> np.ndarray:
    """The 8 fixed test windows of one take.

    Args:
        sequence: ``(T, D)`` one downsampled take.
        input_length: Seed frames returned before the target (50; LTD uses 10, the last 10 of the 50).
        target_length: Frames to predict (25).
        seed_length: Seed frames of the protocol's draw (50), fixes where the target starts.

    Returns:
        ``(8, input_length + target_length, D)``.
    """
    if not 0 < input_length <= seed_length:
        raise DataError(f"input_length must be in 1..{seed_length}, got {input_length}")
    starts = fixed_test_starts(sequence.shape[0], seed_length, target_length)
    offsets = np.arange(seed_length - input_length, seed_length + target_length)
    return sequence[starts[:, None] + offsets[None, :]]


def cmu_windows(
    root: str | PathLike[str],
    split: str,
    actions: list[str] | tuple[str, ...] | None = None,
    input_length: int = 50,
    target_length: int = 25,
    downsample: int = 2,
) -> dict[str, np.ndarray]:
    """Windows of the published CMU protocol, per action.

    Train: every stride-1 window of ``input_length + target_length`` frames of every take. Test: the 8 fixed
    windows of each take (see :func:`fixed_test_windows`). Frames are the raw 117-value exp-map rows.

    Returns:
        ``{action: (N, input_length + target_length, 117)}``.
    """
    takes = load_cmu_benchmark(root, split, actions, downsample)
    windows: dict[str, np.ndarray] = {}
    for action, sequences in takes.items():
        if split == "train":
            parts = [sliding_windows(s, input_length + target_length) for s in sequences]
        else:
            parts = [fixed_test_windows(s, input_length, target_length) for s in sequences]
        windows[action] = np.concatenate(parts, axis=0)
    return windows


def expmap_to_rotations(frames: np.ndarray) -> np.ndarray:
    """Local rotation matrices, column convention, of exp-map frames.

    Args:
        frames: ``(..., 117)`` benchmark rows.

    Returns:
        ``(..., 38, 3, 3)`` local rotations ``R(-omega)`` (see the module docstring for the convention).
    """
    from skeletal.geometry import axis_angle_to_matrix

    axis_angle = np.asarray(frames, dtype=np.float64)[..., 3:].reshape(*frames.shape[:-1], CMU_NUM_JOINTS, 3)
    return np.asarray(axis_angle_to_matrix(-axis_angle))


def expmap_to_motion(
    frames: np.ndarray,
    fps: float = 60.0,
    global_motion: bool = True,
    source: str = "",
) -> Motion:
    """Rotations and, by forward kinematics on the ``cmu38`` skeleton, 3D positions of exp-map frames.

    Args:
        frames: ``(T, 117)`` benchmark rows.
        fps: Frame rate of ``frames`` (after any downsampling).
        global_motion: Keep the root rotation and translation. ``False`` reproduces LTD's ``fkl_torch``, which
            skips the root: the root stays at the origin and its rotation is the identity.
        source: File name for the record.

    Returns:
        A :class:`Motion` with ``rotations (T, 38, 3, 3)``, ``positions (T, 38, 3)`` and ``root_positions``
        in the reference's scale (70 x ASF units, about millimetres), ``units="mm"``.
    """
    from skeletal import skeletons
    from skeletal.geometry import forward_kinematics

    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != CMU_VALUES_PER_FRAME:
        raise DataError(f"expected exp-map frames of shape (T, {CMU_VALUES_PER_FRAME}), got {frames.shape}", source)
    skeleton = skeletons.get("cmu38")
    if skeleton.offsets is None:
        raise DataError("layout 'cmu38' has no offsets; forward kinematics needs them", source)
    rotations = expmap_to_rotations(frames)
    root = frames[:, :3] * OFFSET_SCALE
    if not global_motion:
        rotations[:, skeleton.root] = np.eye(3)
        root = np.zeros_like(root)
    offsets = np.asarray(skeleton.offsets, dtype=np.float64)
    _, positions = forward_kinematics(rotations, offsets, skeleton.parents, root)
    positions = np.asarray(positions)
    return Motion(
        skeleton=skeleton,
        fps=fps,
        positions=positions,
        rotations=rotations,
        root_positions=root,
        units="mm",
        source=source,
        meta={"format": "cmu-expmap", "global_motion": global_motion},
    )


def cmu_training_arrays(
    root: str | PathLike[str],
    representation: str = "matrix",
    length: int = 75,
    stride: int = 1,
    val_windows: int = 64,
    seed: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """Training and validation windows of the CMU benchmark's ``train/`` takes (60 fps) as rotations.

    Every ``stride``-th window of ``length`` frames of every training take (LTD: stride 1); ``val_windows`` of them,
    drawn with ``seed``, are held out for validation (early stopping), never the test takes.

    Returns:
        ``{"train": {"x": (N, length, 38, F)}, "val": {"x": (val_windows, length, 38, F)}}`` float32.
    """
    from skeletal.data.expmap import expmap_rotations

    takes = load_cmu_benchmark(root, "train")
    windows = np.concatenate([sliding_windows(s, length)[::stride] for seqs in takes.values() for s in seqs])
    order = np.random.default_rng(seed).permutation(len(windows))
    held, kept = order[:val_windows], np.sort(order[val_windows:])
    x = expmap_rotations(windows, CMU_NUM_JOINTS, representation)
    return {"train": {"x": x[kept]}, "val": {"x": x[held]}}
