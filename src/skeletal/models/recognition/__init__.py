"""Action recognition models (registered on import): ST-TR streams and variants, ST-GCN, 1s-AGCN, two-stream.

Example:
    >>> import skeletal
    >>> model = skeletal.models.create("s-tr", num_classes=60, skeleton="ntu25")
"""

from skeletal.models.recognition.network import BlockOptions, LayerSpec, SpatialTemporalNet, SpatialTemporalUnit
from skeletal.models.recognition.two_stream import TwoStream
from skeletal.models.recognition.variants import VARIANTS, Variant, build, ten_layers

__all__ = [
    "VARIANTS",
    "BlockOptions",
    "LayerSpec",
    "SpatialTemporalNet",
    "SpatialTemporalUnit",
    "TwoStream",
    "Variant",
    "build",
    "ten_layers",
]
