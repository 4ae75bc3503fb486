"""Human3.6M (Ionescu et al., TPAMI 2014) as exponential-map text files, the motion-prediction format.

The files of the benchmark of Martinez et al. CVPR 2017 (``una-dinosauria/human-motion-prediction``):
``S{n}/{action}_{subaction}.txt``, one 50 Hz frame per line, 99 comma-separated values (root position then 32
exp-maps, layout ``h36m32``); every 2nd frame is kept (25 Hz). The test protocols' window selection lives here
too: 8 windows per action on subject 5 (:func:`srnn_seed_indices`, :func:`srnn_windows`), or 256 windows in the
variant of Mao et al. (:func:`sample_256_indices`, :func:`windows_256`).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from skeletal.data._safe import finite_float32, read_text
from skeletal.errors import ConfigError, DataError

# ---------------------------------------------------------------------------------- exp-map motion prediction
H36M_MOTION_ACTIONS: tuple[str, ...] = (
    "walking", "eating", "smoking", "discussion", "directions", "greeting", "phoning", "posing", "purchases",
    "sitting", "sittingdown", "takingphoto", "waiting", "walkingdog", "walkingtogether",
)  # fmt: skip
"""The 15 actions of Martinez et al.'s ``define_actions`` (file names ``{action}_{1,2}.txt``)."""
H36M_MOTION_TRAIN_SUBJECTS: tuple[int, ...] = (1, 6, 7, 8, 9, 11)
H36M_MOTION_TEST_SUBJECT = 5
H36M_EXPMAP_VALUES = 99
SRNN_SEED = 1234567890
"""The fixed seed of SRNN's ``forecastTrajectories.py`` reused by Martinez et al. and all later work."""


def read_expmap_txt(path: str | PathLike[str]) -> np.ndarray:
    """Read one exp-map file: one frame per line, 99 comma-separated numbers.

    Returns:
        ``(T, 99)`` float32 at the file's 50 Hz (``readCSVasFloat`` of the reference).

    Raises:
        DataError: Missing file, a line with another count of values, a non-number, NaN or a value beyond
            float32 range (the line is named).
    """
    path = Path(path)
    lines = read_text(path, "an H3.6M exp-map .txt file").splitlines()
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.strip().split(",")
        if len(fields) != H36M_EXPMAP_VALUES:
            raise DataError(f"expected {H36M_EXPMAP_VALUES} comma-separated values, got {len(fields)}", path,
                            f"line {number}")  # fmt: skip
        try:
            row = [float(field) for field in fields]
        except ValueError:
            raise DataError("a value is not a number", path, f"line {number}") from None
        if not finite_float32(np.asarray(row)).all():  # the result is float32: 1e308 would become inf
            raise DataError("NaN, inf or a value beyond float32 range", path, f"line {number}")
        rows.append(row)
    if not rows:
        raise DataError("the file holds no frames", path)
    return np.asarray(rows, dtype=np.float32)


def load_h36m_expmap(
    root: str | PathLike[str],
    subjects: tuple[int, ...] | list[int] = H36M_MOTION_TRAIN_SUBJECTS,
    actions: tuple[str, ...] | list[str] = H36M_MOTION_ACTIONS,
    subactions: tuple[int, ...] = (1, 2),
    step: int = 2,
) -> dict[tuple[int, str, int], np.ndarray]:
    """Read ``{root}/S{subject}/{action}_{subaction}.txt`` and keep every ``step``-th frame (50 -> 25 Hz).

    As Martinez et al.'s ``load_data``: frames ``0, 2, 4, ...`` (the ``'even'`` sequences).

    Returns:
        ``(subject, action, subaction) -> (T', 99)`` float32.
    """
    root = Path(root)
    data = {}
    for subject in subjects:
        for action in actions:
            if action not in H36M_MOTION_ACTIONS:
                raise ValueError(f"unknown H3.6M action {action!r}; expected one of {H36M_MOTION_ACTIONS}")
            for subaction in subactions:
                values = read_expmap_txt(root / f"S{subject}" / f"{action}_{subaction}.txt")
                data[(subject, action, subaction)] = values[::step]
    return data


def srnn_seed_indices(length_subaction1: int, length_subaction2: int) -> list[int]:
    """The 8 test seeds of one action, exactly as Martinez et al.'s ``find_indices_srnn``.

    A fresh ``np.random.RandomState(1234567890)`` per action draws ``randint(16, T - 150)`` alternately for
    sub-action 1 and 2 (``T`` = length of the 25 Hz sequence; 150 = prefix 50 + suffix 100).

    Returns:
        8 indices; seed ``i`` belongs to sub-action ``i % 2 + 1`` and its forecast starts at ``index + 50``.
    """
    _check_protocol_lengths(length_subaction1, length_subaction2, "SRNN")
    rng = np.random.RandomState(SRNN_SEED)
    lengths = (length_subaction1, length_subaction2)
    return [int(rng.randint(16, lengths[i % 2] - 150)) for i in range(8)]


def _check_protocol_lengths(length1: int, length2: int, protocol: str, source: str = "") -> None:
    """The test protocols draw ``randint(16, T - 150)``: a take of fewer than 167 frames (at 25 Hz) has no seed
    (numpy would raise ``low >= high``)."""
    for subaction, length in ((1, length1), (2, length2)):
        if length < 167:
            raise DataError(f"sub-action {subaction} has {length} frames (at 25 Hz); the {protocol} test protocol "
                            "needs at least 167 (seeds drawn in 16 .. T - 151)", source or None)  # fmt: skip


def _check_window(seed_length: int, after_seed: int) -> None:
    """A window starts ``seed_length`` frames before ``r + 50`` and ends ``after_seed`` frames after it; with
    ``r <= T - 151`` it stays inside every take only when ``seed_length <= 66`` and ``after_seed <= 101``."""
    if not (0 <= seed_length <= 66 and 0 <= after_seed <= 101):
        raise ConfigError(f"a protocol window of {seed_length} seed frames and {after_seed} frames after the seed does "
                          "not fit the takes (at most 66 and 101: seeds are drawn up to T - 151)")  # fmt: skip


def _protocol_takes(
    data: dict[tuple[int, str, int], np.ndarray], subject: int, action: str
) -> tuple[np.ndarray, np.ndarray]:
    missing = [k for k in (1, 2) if (subject, action, k) not in data]
    if missing:
        raise DataError(f"no sub-action {missing[0]} of action {action!r} for subject {subject} (the test protocols "
                        "use sub-actions 1 and 2)")  # fmt: skip
    return data[(subject, action, 1)], data[(subject, action, 2)]


def srnn_windows(
    data: dict[tuple[int, str, int], np.ndarray],
    action: str,
    seed_length: int = 50,
    target_length: int = 25,
    subject: int = H36M_MOTION_TEST_SUBJECT,
) -> np.ndarray:
    """The 8 test windows of an action (Martinez et al. ``get_batch_srnn``).

    Window ``i`` is ``data[(subject, action, i % 2 + 1)][idx - seed_length : idx + target_length]`` with
    ``idx = srnn_seed_indices(...)[i] + 50``. The reference feeds frames ``[:seed_length - 1]`` to its encoder,
    frame ``seed_length - 1`` as the first decoder input and scores frames ``[seed_length:]``.

    Returns:
        ``(8, seed_length + target_length, 99)``.
    """
    first, second = _protocol_takes(data, subject, action)
    _check_window(seed_length, target_length)
    _check_protocol_lengths(first.shape[0], second.shape[0], "SRNN", f"subject {subject}, action {action!r}")
    indices = srnn_seed_indices(first.shape[0], second.shape[0])
    windows = []
    for i, index in enumerate(indices):
        sequence = (first, second)[i % 2]
        start = index + 50
        windows.append(sequence[start - seed_length : start + target_length])
    return np.stack(windows)


def sample_256_indices(
    length_subaction1: int, length_subaction2: int, window_length: int, seed_length: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of the 256-window test protocol (Mao et al. ICCV 2019, LTD ``find_indices_256``).

    128 pairs drawn with ``RandomState(1234567890)``: ``randint(16, T1 - 150)`` then ``randint(16, T2 - 150)``;
    each window covers ``[r + 50 - seed_length, r + 50 - seed_length + window_length)``. The first 4 pairs are
    the 8 SRNN seeds.

    Returns:
        Two ``(128, window_length)`` index arrays, for sub-action 1 and sub-action 2.
    """
    _check_window(seed_length, window_length - seed_length)
    _check_protocol_lengths(length_subaction1, length_subaction2, "256-window")
    rng = np.random.RandomState(SRNN_SEED)
    starts1, starts2 = [], []
    for _ in range(128):
        starts1.append(rng.randint(16, length_subaction1 - 150))
        starts2.append(rng.randint(16, length_subaction2 - 150))
    offsets = np.arange(window_length)
    first = np.asarray(starts1)[:, None] + 50 - seed_length + offsets
    second = np.asarray(starts2)[:, None] + 50 - seed_length + offsets
    return first, second


def windows_256(
    data: dict[tuple[int, str, int], np.ndarray],
    action: str,
    seed_length: int = 50,
    target_length: int = 25,
    subject: int = H36M_MOTION_TEST_SUBJECT,
) -> np.ndarray:
    """The 256 test windows of an action: 128 from sub-action 1 then 128 from sub-action 2 (LTD order).

    Returns:
        ``(256, seed_length + target_length, 99)``.
    """
    first, second = _protocol_takes(data, subject, action)
    _check_protocol_lengths(first.shape[0], second.shape[0], "256-window", f"subject {subject}, action {action!r}")
    index1, index2 = sample_256_indices(first.shape[0], second.shape[0], seed_length + target_length, seed_length)
    return np.concatenate([first[index1], second[index2]])
