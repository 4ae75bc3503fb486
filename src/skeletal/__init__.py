"""skeletal: deep learning on human skeleton sequences.

Three systems on one core: ST-TR action recognition, the ST-Transformer for motion prediction and
GAST-Net for 2D-to-3D pose lifting. See README.md for the quickstart.

The subpackages are imported on first use (PEP 562), so that ``import skeletal`` and the command line's
``--help`` and argument errors do not wait for torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "errors", "load", "geometry", "metrics", "models", "pretrained", "skeletons"]

_SUBPACKAGES = ("errors", "geometry", "metrics", "models", "pretrained", "skeletons")

if TYPE_CHECKING:
    from skeletal import errors, geometry, metrics, models, pretrained, skeletons
    from skeletal.checkpoint import load


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"skeletal.{name}")
    if name == "load":  # safe model files: skeletal.load(path) -> nn.Module
        from skeletal.checkpoint import load

        return load
    raise AttributeError(f"module 'skeletal' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
