"""Building blocks shared by the models: graph and temporal convolutions, self-attention, encodings."""

from skeletal.nn.outputs import AttentionMaps
from skeletal.nn.validate import check_finite, check_input

__all__ = ["AttentionMaps", "check_finite", "check_input"]
