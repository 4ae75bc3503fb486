"""Action recognition models (registered on import): ST-TR streams and variants, ST-GCN, 1s-AGCN, two-stream.

Example:
    >>> import skeletal
    >>> model = skeletal.models.create("s-tr", num_classes=60, skeleton="ntu25")

Official ST-TR checkpoints: :func:`load_official` (``skeletal.models.recognition.official``).
"""

from skeletal.models.recognition.network import BlockOptions, LayerSpec, SpatialTemporalNet, SpatialTemporalUnit
from skeletal.models.recognition.official import OFFICIAL_FLAGS, convert_official, load_official
from skeletal.models.recognition.two_stream import TwoStream
from skeletal.models.recognition.variants import VARIANTS, Variant, build, ten_layers

__all__ = [
    "OFFICIAL_FLAGS",
    "VARIANTS",
    "BlockOptions",
    "LayerSpec",
    "SpatialTemporalNet",
    "SpatialTemporalUnit",
    "TwoStream",
    "Variant",
    "build",
    "convert_official",
    "load_official",
    "ten_layers",
]
