"""2D-to-3D lifting models (registered on import): GAST-Net and its VideoPose3D baseline.

Example:
    >>> import skeletal
    >>> model = skeletal.models.create("gast-net", receptive_field=27, skeleton="h36m17")
"""

from skeletal.models.lifting.flip import flip_augment, flip_horizontal, predict_with_flip
from skeletal.models.lifting.gast_net import GASTNet, gast_net
from skeletal.models.lifting.official import load_official
from skeletal.models.lifting.temporal import TemporalLifter, TemporalStage
from skeletal.models.lifting.videopose3d import VideoPose3D, videopose3d

__all__ = [
    "GASTNet",
    "TemporalLifter",
    "TemporalStage",
    "VideoPose3D",
    "flip_augment",
    "flip_horizontal",
    "gast_net",
    "load_official",
    "predict_with_flip",
    "videopose3d",
]
