"""Two-stream ST-TR: an S-TR and a T-TR stream combined at test time (journal section IV-D, Fig. 4).

The streams are trained separately (each its own cross-entropy) and combined at test time. ``fusion``:

- ``"softmax"`` (default, the paper: "the softmax scores of the two streams are summed"): the sum of the two
  streams' softmax scores.
- ``"logits"`` (the official ``ensemble.py``, line 28-35: ``r = r11 + r22 * alpha`` on the raw scores that
  ``main.py`` saves, with ``alpha = 1``): the sum of the two streams' logits. The two rules can rank classes
  differently; use it to reproduce the official numbers.

``TwoStream`` takes any two recognition models with the same input and classes.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import torch
from torch import nn

from skeletal.errors import ConfigError
from skeletal.models.recognition.variants import VARIANTS, _builder
from skeletal.models.registry import register_model
from skeletal.nn.outputs import AttentionMaps

Fusion = Literal["softmax", "logits"]
FUSIONS: tuple[str, ...] = ("softmax", "logits")


class TwoStream(nn.Module):
    """Sum of the softmax scores (or of the logits) of two streams.

    Args:
        spatial: The S-TR stream (any recognition model).
        temporal: The T-TR stream.
        fusion: ``"softmax"`` (the paper) or ``"logits"`` (the official ``ensemble.py``); see the module docstring.

    Shape:
        x: ``(N, M, T, V, C)`` -> scores ``(N, num_classes)``. With ``"softmax"`` each row sums to 2
        (probabilities, not logits: take ``argmax``/``topk``; ``outputs_probabilities`` is True); with
        ``"logits"`` the summed logits. With ``return_attention=True`` the maps of both streams are merged,
        names prefixed by ``spatial.`` and ``temporal.``.
    """

    def __init__(self, spatial: nn.Module, temporal: nn.Module, fusion: Fusion = "softmax") -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ConfigError(f"two-stream fusion must be one of {FUSIONS}, got {fusion!r}")
        self.spatial = spatial
        self.temporal = temporal
        self.fusion = fusion

    @property
    def outputs_probabilities(self) -> bool:
        """Whether the output is a sum of probabilities (``fusion="softmax"``) rather than of logits."""
        return self.fusion == "softmax"

    def _score(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.softmax(-1) if self.fusion == "softmax" else logits

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, AttentionMaps]:
        if not return_attention:
            return self._score(self.spatial(x)) + self._score(self.temporal(x))
        merged = AttentionMaps()
        scores: torch.Tensor | int = 0
        for stream_name, stream in (("spatial", self.spatial), ("temporal", self.temporal)):
            logits, maps = stream(x, return_attention=True)
            scores = scores + self._score(logits)
            for kind in ("spatial", "temporal"):
                for name, weights in zip(maps.names.get(kind, []), getattr(maps, kind)):
                    merged.add(kind, f"{stream_name}.{name}", weights)
        return cast(torch.Tensor, scores), merged  # a tensor after the two streams


def _two_stream(name: str, spatial: str, temporal: str, bones: bool, reference: int | None) -> None:
    make_spatial = _builder(spatial, VARIANTS[spatial], bones)
    make_temporal = _builder(temporal, VARIANTS[temporal], bones)

    def builder(
        num_classes: int = 60,
        skeleton: Any = "ntu25",
        in_channels: int = 6 if bones else 3,
        num_persons: int = 2,
        fusion: Fusion = "softmax",
        **kwargs: Any,
    ) -> TwoStream:
        args = dict(num_classes=num_classes, skeleton=skeleton, in_channels=in_channels, num_persons=num_persons)
        return TwoStream(make_spatial(**args, **kwargs), make_temporal(**args, **kwargs), fusion)

    builder.__name__ = builder.__qualname__ = name.replace("-", "_")
    builder.__doc__ = (
        f"Two-stream {spatial} + {temporal}{' with bones' if bones else ''} (softmax scores summed; "
        "``fusion='logits'``: logits summed, as the official ensemble.py)."
    )
    paper = f"two-stream {name.upper()}, ST-TR journal Tables II and IV"
    register_model(name, "recognition", paper, reference)(builder)


_PAIRS = {
    "st-tr": ("s-tr", "t-tr"),
    "st-tr-agcn": ("s-tr", "t-tr-agcn"),
    "st-tr-all-layers": ("s-tr-all-layers", "t-tr-all-layers"),
    "st-tr-augmented": ("s-tr-augmented", "t-tr-augmented"),
}


def _sum(*counts: int | None) -> int | None:
    """Official count of a two-stream model: the two official streams' counts (``ensemble.py`` runs both)."""
    return None if None in counts else sum(c for c in counts if c is not None)


for _name, (_spatial, _temporal) in _PAIRS.items():
    _first, _second = VARIANTS[_spatial], VARIANTS[_temporal]
    _two_stream(_name, _spatial, _temporal, False, _sum(_first.reference_parameters, _second.reference_parameters))
    _two_stream(f"{_name}-bones", _spatial, _temporal, True, _sum(_first.reference_bones, _second.reference_bones))
