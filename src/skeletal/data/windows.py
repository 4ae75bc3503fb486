"""Cutting sequences into fixed-length windows (seed + target for prediction, clips for lifting and recognition).

Every function takes the time axis first (``(T, ...)``, channels-last) and returns numpy arrays with a new
leading window axis ``(W, size, ...)``; windows are views where numpy allows it (no copy of the sequence).
"""

from __future__ import annotations

import numpy as np

from skeletal.errors import DataError


def sliding_windows(sequence: np.ndarray, size: int, stride: int = 1, source: str = "") -> np.ndarray:
    """All windows of ``size`` frames, ``stride`` apart, starting at frame 0.

    The count is ``(T - size) // stride + 1`` as in SPL's ``split_into_windows`` (Aksan et al. 2019,
    ``preprocessing/preprocess_dip.py``); trailing frames that do not fill a window are not used.

    Args:
        sequence: ``(T, ...)`` array.
        size: Frames per window.
        stride: Frames between the starts of two windows.
        source: File or name of the sequence, for the error message.

    Returns:
        ``(W, size, ...)`` array (a read-only strided view).

    Raises:
        DataError: If the sequence is shorter than one window.
    """
    if size < 1 or stride < 1:
        raise ValueError(f"window size and stride must be >= 1, got size={size}, stride={stride}")
    length = int(sequence.shape[0])
    if length < size:
        raise DataError(f"sequence has {length} frames, fewer than one window of {size}", source or None)
    count = (length - size) // stride + 1
    view = np.lib.stride_tricks.sliding_window_view(sequence, size, axis=0)[::stride][:count]
    # sliding_window_view puts the window axis last; bring it back to position 1 (channels-last contract).
    return np.moveaxis(view, -1, 1)


def seed_target_split(windows: np.ndarray, seed_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Split windows ``(W, S + P, ...)`` into seeds ``(W, S, ...)`` and targets ``(W, P, ...)``."""
    if not 0 < seed_length < windows.shape[1]:
        raise ValueError(
            f"seed length {seed_length} must be in 1..{windows.shape[1] - 1} for windows of {windows.shape[1]}"
        )
    return windows[:, :seed_length], windows[:, seed_length:]


def random_windows(
    sequences: list[np.ndarray] | tuple[np.ndarray, ...],
    size: int,
    count: int,
    rng: np.random.Generator | int | None = None,
    min_start: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``count`` windows uniformly: a sequence at random, then a start in ``[min_start, T - size]``.

    This is the training sampler of Martinez et al. 2017 (``get_batch``: a random key, then
    ``randint(16, T - size)``, i.e. ``min_start=16``), with a seedable generator instead of the global one.

    Args:
        sequences: Sequences ``(T_i, ...)`` with equal trailing shapes.
        size: Frames per window.
        count: Windows to draw.
        rng: A generator or a seed.
        min_start: First admissible start frame.

    Returns:
        ``(windows (count, size, ...), sequence indices (count,), start frames (count,))``.
    """
    generator = np.random.default_rng(rng)
    usable = [i for i, seq in enumerate(sequences) if seq.shape[0] - size > min_start]
    if not usable:
        raise DataError(f"no sequence is longer than {size + min_start} frames; cannot cut windows of {size}")
    which = generator.choice(np.asarray(usable), size=count)
    starts = np.array([generator.integers(min_start, sequences[i].shape[0] - size) for i in which], dtype=np.int64)
    windows = np.stack([sequences[i][s : s + size] for i, s in zip(which, starts)])
    return windows, which.astype(np.int64), starts
