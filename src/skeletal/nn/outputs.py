"""Typed outputs shared by the models."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class AttentionMaps:
    """Attention weights collected in one forward pass, for visualisation.

    Every attention model accepts ``return_attention=True`` in ``forward`` and then returns
    ``(output, AttentionMaps)``.

    Attributes:
        spatial: One tensor per spatial attention layer, in order: ``(N, heads, T, V, V)`` for joint-to-joint
            attention within each frame (query joint, key joint).
        temporal: One tensor per temporal attention layer: ``(N, heads, V, T, T)`` frame-to-frame attention
            of each joint (query frame, key frame).
        names: Module names of the layers, keyed ``"spatial"``/``"temporal"`` then by position.
    """

    spatial: list[torch.Tensor] = field(default_factory=list)
    temporal: list[torch.Tensor] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=lambda: {"spatial": [], "temporal": []})

    def add(self, kind: str, name: str, weights: torch.Tensor) -> None:
        """Append the weights of one layer (``kind`` is ``"spatial"`` or ``"temporal"``)."""
        getattr(self, kind).append(weights.detach())
        self.names.setdefault(kind, []).append(name)
