"""Action-recognition metrics."""

from __future__ import annotations

import torch

from skeletal.errors import ShapeError
from skeletal.geometry._arrays import ArrayLike
from skeletal.metrics._common import as_double


def topk_accuracy(logits: ArrayLike, labels: ArrayLike, k: int = 1) -> float:
    """Top-k accuracy: fraction of samples whose label is among the ``k`` highest scores.

    Protocol of ST-GCN / ST-TR tables (top-1 and top-5 on NTU RGB+D and Kinetics-skeleton). Ties are broken by
    ``torch.topk`` (lowest index first).

    Args:
        logits: Class scores (logits or probabilities; only their order matters).
        labels: Integer class index per sample.
        k: Number of best classes that count as a hit.

    Shape:
        logits: ``(N, K)``; labels: ``(N,)``.

    Returns:
        The accuracy as a fraction in ``[0, 1]``, averaged over the ``N`` samples.
    """
    scores = as_double(logits, "topk_accuracy logits")
    targets = torch.as_tensor(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels).long()
    if scores.dim() != 2 or targets.shape != scores.shape[:1]:
        raise ShapeError(
            f"topk_accuracy expects logits (N, K) and labels (N,), received {tuple(scores.shape)} and "
            f"{tuple(targets.shape)}"
        )
    if not 1 <= k <= scores.shape[1]:
        raise ShapeError(f"topk_accuracy: k must be in [1, {scores.shape[1]}] (number of classes), got {k}")
    if scores.shape[0] == 0:
        raise ShapeError("topk_accuracy: no samples (N = 0)")
    if targets.min() < 0 or targets.max() >= scores.shape[1]:
        raise ShapeError(
            f"topk_accuracy: labels must lie in [0, {scores.shape[1]}), got {targets.min()}..{targets.max()}"
        )
    top = scores.topk(k, dim=1).indices
    return float((top == targets.unsqueeze(1)).any(dim=1).double().mean())
