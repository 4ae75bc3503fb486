"""The long-horizon protocol of motion prediction: power-spectrum entropy and KLD of every second of long
predictions against random windows of the test data (ST-Transformer supplement H, figure 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skeletal.errors import ShapeError
from skeletal.metrics import ps_entropy, ps_kld


@dataclass
class LongHorizonTable:
    """Power-spectrum entropy and symmetric KLD of each second of long predictions (supplement H, figure 4).

    Attributes:
        seconds: ``1 .. S`` (the end of each 1-second window).
        entropy: PS entropy of the predictions' window (nats).
        kld: Symmetric KLD ``(KL(G||P) + KL(P||G)) / 2`` between the window's spectra and the test data's (nats).
        reference_entropy: PS entropy of the test windows ``G``.
    """

    seconds: list[int]
    entropy: list[float]
    kld: list[float]
    reference_entropy: float

    def flat(self) -> dict[str, float]:
        values = {f"ps_entropy/{s}s": e for s, e in zip(self.seconds, self.entropy)}
        values.update({f"ps_kld/{s}s": k for s, k in zip(self.seconds, self.kld)})
        values["ps_entropy/test"] = self.reference_entropy
        return values

    def __str__(self) -> str:
        lines = ["| second | PS entropy | PS KLD |", "|---|---|---|"]
        lines += [f"| {s} | {e:.4f} | {k:.4f} |" for s, e, k in zip(self.seconds, self.entropy, self.kld)]
        return "\n".join(lines) + f"\n\ntest-data PS entropy: {self.reference_entropy:.4f}"


def long_horizon_protocol(predicted_positions: np.ndarray, test_positions: np.ndarray, fps: float) -> LongHorizonTable:
    """PS entropy and KLD of every second of long predictions (supplement H: 1-second windows; figure 4: 0-20 s).

    Args:
        predicted_positions: ``(N, T, V, 3)`` joint positions of the generated motions (after FK), ``T`` >= fps.
        test_positions: ``(M, round(fps), V, 3)`` 1-second windows of the test data (the distribution ``G``; the
            supplement draws 20,000 random windows).
        fps: Frames per second: a window is ``round(fps)`` frames.

    Returns:
        One entropy and one KLD per whole second of the predictions.
    """
    window = int(round(fps))
    entropy = np.atleast_1d(ps_entropy(predicted_positions, window=window))
    kld = np.atleast_1d(ps_kld(predicted_positions, test_positions, window=window))
    return LongHorizonTable(
        seconds=list(range(1, len(entropy) + 1)),
        entropy=entropy.tolist(),
        kld=kld.tolist(),
        reference_entropy=float(ps_entropy(test_positions)),
    )


def random_windows(sequences: Sequence[np.ndarray], length: int, count: int, seed: int = 0) -> np.ndarray:
    """``count`` windows of ``length`` frames drawn uniformly over sequences long enough (the supplement's 20,000
    random 1-second windows of the test set)."""
    usable = [s for s in sequences if len(s) >= length]
    if not usable:
        raise ShapeError(f"no sequence has {length} frames")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(usable), count)
    return np.stack(
        [usable[i][(start := rng.integers(0, len(usable[i]) - length + 1)) : start + length] for i in picks]
    )
