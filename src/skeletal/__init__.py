"""skeletal: deep learning on human skeleton sequences.

Three systems on one core: ST-TR action recognition, the ST-Transformer for motion prediction and
GAST-Net for 2D-to-3D pose lifting. See README.md for the quickstart.
"""

from skeletal import errors, geometry, metrics, models, pretrained, skeletons

__version__ = "0.1.0"

from skeletal.checkpoint import load  # noqa: E402  (safe model files: skeletal.load(path) -> nn.Module)

__all__ = ["__version__", "errors", "load", "geometry", "metrics", "models", "pretrained", "skeletons"]
