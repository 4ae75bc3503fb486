"""Power-spectrum metrics for long-term motion (ST-Transformer supplement, Sec. H; Hernandez et al. 2019).

Matches ``metrics/distribution_metrics.py`` and ``spl/evaluation_dist_metrics_amass.py`` of
``eth-ait/motion-transformer``. Every coordinate of every joint over time is a feature ``f``; its power spectrum
is ``|FFT(x_f)|^2`` (the full FFT of length ``T``, all ``T`` frequency bins as the reference). The spectra of a
*set* of sequences are summed over the set, ``1e-8`` is added, and each feature's spectrum is normalised to sum
to one over frequency: one distribution per feature. Entropy and KLD are computed per feature and averaged
over features (the reference's ``.mean()``); the symmetric KLD is ``(KL(G||P) + KL(P||G)) / 2``.

Static joints are dropped first, as the reference's ``power_spectrum`` does (``distribution_metrics.py`` line
17-19): a joint is kept only if every one of its coordinates has a population standard deviation of at least
:data:`STATIC_STD` over all sequences and frames of the set. Without it a static joint (the root of root-relative
positions) adds a flat ``1e-8`` spectrum of maximal entropy; a set whose joints are all static gives ``nan`` (the
reference's mean over no feature). The reference decides per set and fails when the
prediction and target sets keep different joints; here :func:`ps_kld` keeps the joints that vary in the target
set for both (the same joints whenever the reference runs).

Sequences are channels-last, ``(..., T, V, C)`` with time on axis ``-3`` (leading axes form the set). The
supplement uses 3D joint positions after forward kinematics, 1-second windows (60 frames at 60 Hz) and 20,000
random 1-second windows of the test set as the reference distribution ``G``.
"""

from __future__ import annotations

import numpy as np

from skeletal.errors import ShapeError
from skeletal.geometry._arrays import ArrayLike
from skeletal.metrics._common import as_double

EPSILON = 1e-8
"""Added to the summed spectrum before normalisation, as the reference."""

STATIC_STD = 1e-4
"""Joints with a coordinate whose standard deviation over the set is below this are dropped, as the reference."""


def _sequences(x: ArrayLike, what: str) -> np.ndarray:
    array = as_double(x, what).numpy()
    if array.ndim < 3:
        raise ShapeError(f"{what} expects sequences (..., T, V, C), got shape {array.shape}")
    return array.reshape(-1, *array.shape[-3:])


def varying_joints(sequences: ArrayLike) -> np.ndarray:
    """Boolean ``(V,)``: the joints whose every coordinate has a standard deviation of at least
    :data:`STATIC_STD` over all sequences and frames of the set (the joints the spectra keep)."""
    batch = _sequences(sequences, "varying_joints")
    return (batch.reshape(-1, *batch.shape[-2:]).std(axis=0) >= STATIC_STD).all(axis=-1)


def power_spectrum(sequences: ArrayLike) -> np.ndarray:
    """Normalised power spectrum of a set of sequences, one distribution over frequency per feature.

    Shape:
        sequences: ``(..., T, V, C)`` (a single sequence or a set); returns ``(T, V', C)`` over the ``V'``
        varying joints (:func:`varying_joints`), whose sum over the frequency axis 0 is 1.
    """
    batch = _sequences(sequences, "power_spectrum")
    return _spectrum(batch, _keep(batch))


def _keep(batch: np.ndarray) -> np.ndarray:
    return (batch.reshape(-1, *batch.shape[-2:]).std(axis=0) >= STATIC_STD).all(axis=-1)


def _spectrum(batch: np.ndarray, keep: np.ndarray) -> np.ndarray:
    power = np.abs(np.fft.fft(batch[:, :, keep], axis=1)) ** 2  # (N, T, V', C)
    summed = power.sum(axis=0) + EPSILON
    return summed / summed.sum(axis=0, keepdims=True)


def _entropy(spectrum: np.ndarray) -> float:
    if spectrum.size == 0:  # every joint static: the reference's mean over no feature
        return float("nan")
    return float((-(spectrum * np.log(spectrum)).sum(axis=0)).mean())


def _kld(from_spectrum: np.ndarray, to_spectrum: np.ndarray) -> float:
    if from_spectrum.size == 0:
        return float("nan")
    return float((from_spectrum * np.log(from_spectrum / to_spectrum)).sum(axis=0).mean())


def _windows(batch: np.ndarray, window: int) -> list[np.ndarray]:
    if window < 2 or batch.shape[1] < window:
        raise ShapeError(f"window must be in [2, T = {batch.shape[1]}] frames, got {window}")
    return [batch[:, start : start + window] for start in range(0, batch.shape[1] - window + 1, window)]


def ps_entropy(sequences: ArrayLike, window: int | None = None) -> float | np.ndarray:
    """Power-spectrum entropy (supplement Sec. H): ``-sum_e PS log PS`` per feature, mean over features (nats).

    Higher means more diverse motion; a static or single-frequency set scores low.

    Args:
        sequences: The set of sequences.
        window: If given, split time into consecutive non-overlapping windows of this many frames (a trailing
            remainder is dropped, as the reference) and give one entropy per window (static joints decided per
            window, as the reference calls ``power_spectrum`` on each).

    Shape:
        sequences: ``(..., T, V, C)``.

    Returns:
        The entropy (float), or ``(W,)`` numpy array with one value per window.
    """
    batch = _sequences(sequences, "ps_entropy")
    if window is None:
        return _entropy(_spectrum(batch, _keep(batch)))
    return np.array([_entropy(_spectrum(part, _keep(part))) for part in _windows(batch, window)])


def ps_kld(pred_sequences: ArrayLike, target_sequences: ArrayLike, window: int | None = None) -> float | np.ndarray:
    """Symmetric power-spectrum KL divergence ``(KL(G||P) + KL(P||G)) / 2`` between two sets (supplement Sec. H).

    ``G`` is the spectrum distribution of ``target_sequences``, ``P`` that of ``pred_sequences``; each KL is summed
    over frequency and averaged over features (nats). It compares distributions, not pairs: the two sets may
    have different sizes.

    Args:
        pred_sequences: Predicted set ``(..., T, V, C)``.
        target_sequences: Reference set ``(..., T', V, C)``; ``T' = T`` without ``window``.
        window: If given, ``T' = window`` and the predictions are cut into consecutive windows of that length,
            one KLD per window (``P_t`` of the supplement: seconds 0-1, 1-2, ...).

    Returns:
        The symmetric KLD (float), or ``(W,)`` numpy array with one value per window.
    """
    pred = _sequences(pred_sequences, "ps_kld prediction")
    target = _sequences(target_sequences, "ps_kld target")
    expected_frames = pred.shape[1] if window is None else window
    if target.shape[1:] != (expected_frames, *pred.shape[2:]):
        raise ShapeError(
            f"ps_kld: target sequences must be (..., {expected_frames}, {pred.shape[2]}, {pred.shape[3]}) to match the "
            f"prediction {pred.shape[1:]} (window={window}), got {target.shape[1:]}"
        )
    keep = _keep(target)
    reference = _spectrum(target, keep)

    def symmetric(part: np.ndarray) -> float:
        spectrum = _spectrum(part, keep)
        return 0.5 * (_kld(reference, spectrum) + _kld(spectrum, reference))

    if window is None:
        return symmetric(pred)
    return np.array([symmetric(part) for part in _windows(pred, window)])
