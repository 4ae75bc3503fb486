"""Motion-prediction models (registered on import): ``st-transformer`` and its presets, ``transformer-2d``,
``transformer``, ``seq2seq`` and ``zero-velocity``.

Every model maps ``(N, T, V, F)`` poses to ``(N, T, V, F)`` next-frame predictions;
:func:`skeletal.inference.generation.generate` rolls them out autoregressively.
"""

from skeletal.models.prediction.baselines import PoseTransformer, ZeroVelocity
from skeletal.models.prediction.common import REPRESENTATIONS, MotionPredictor, joint_feature_size
from skeletal.models.prediction.seq2seq import Seq2Seq
from skeletal.models.prediction.st_transformer import SpatioTemporalLayer, STTransformer

__all__ = [
    "REPRESENTATIONS",
    "MotionPredictor",
    "PoseTransformer",
    "STTransformer",
    "Seq2Seq",
    "SpatioTemporalLayer",
    "ZeroVelocity",
    "joint_feature_size",
]
