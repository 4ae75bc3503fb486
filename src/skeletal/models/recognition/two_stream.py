"""Two-stream ST-TR: the softmax scores of an S-TR and a T-TR stream summed (journal section IV-D, Fig. 4).

The streams are trained separately (each its own cross-entropy) and combined at test time, as the official
``ensemble.py`` does. ``TwoStream`` takes any two recognition models with the same input and classes.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from skeletal.models.recognition.variants import VARIANTS, _builder
from skeletal.models.registry import register_model
from skeletal.nn.outputs import AttentionMaps


class TwoStream(nn.Module):
    """Sum of the softmax scores of two streams.

    Args:
        spatial: The S-TR stream (any recognition model).
        temporal: The T-TR stream.

    Shape:
        x: ``(N, M, T, V, C)`` -> scores ``(N, num_classes)``, each row summing to 2 (probabilities, not
        logits: take ``argmax``/``topk``; do not train this module with a cross-entropy).
        With ``return_attention=True`` the maps of both streams are merged, names prefixed by ``spatial.`` and
        ``temporal.``.
    """

    outputs_probabilities = True

    def __init__(self, spatial: nn.Module, temporal: nn.Module) -> None:
        super().__init__()
        self.spatial = spatial
        self.temporal = temporal

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, AttentionMaps]:
        if not return_attention:
            return self.spatial(x).softmax(-1) + self.temporal(x).softmax(-1)
        merged = AttentionMaps()
        scores = 0
        for stream_name, stream in (("spatial", self.spatial), ("temporal", self.temporal)):
            logits, maps = stream(x, return_attention=True)
            scores = scores + logits.softmax(-1)
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
        **kwargs: Any,
    ) -> TwoStream:
        args = dict(num_classes=num_classes, skeleton=skeleton, in_channels=in_channels, num_persons=num_persons)
        return TwoStream(make_spatial(**args, **kwargs), make_temporal(**args, **kwargs))

    builder.__name__ = builder.__qualname__ = name.replace("-", "_")
    builder.__doc__ = f"Two-stream {spatial} + {temporal}{' with bones' if bones else ''} (softmax scores summed)."
    paper = f"two-stream {name.upper()}, ST-TR journal Tables II and IV"
    register_model(name, "recognition", paper, reference)(builder)


_PAIRS = {
    "st-tr": ("s-tr", "t-tr"),
    "st-tr-agcn": ("s-tr", "t-tr-agcn"),
    "st-tr-all-layers": ("s-tr-all-layers", "t-tr-all-layers"),
    "st-tr-augmented": ("s-tr-augmented", "t-tr-augmented"),
}
for _name, (_spatial, _temporal) in _PAIRS.items():
    _references = (VARIANTS[_spatial].reference_parameters, VARIANTS[_temporal].reference_parameters)
    _total = None if None in _references else sum(r for r in _references if r is not None)
    _two_stream(_name, _spatial, _temporal, False, _total)
    _two_stream(f"{_name}-bones", _spatial, _temporal, True, None)
