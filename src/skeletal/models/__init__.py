"""Registered models of the three tasks: ``create(name, **kwargs)`` and ``names()``.

Example:
    >>> import skeletal
    >>> model = skeletal.models.create("s-tr", num_classes=60, skeleton="ntu25")
"""

from skeletal.models.registry import (
    ModelInfo,
    count_parameters,
    create,
    info,
    names,
    register_model,
    unregister_model,
)

__all__ = ["ModelInfo", "count_parameters", "create", "info", "names", "register_model", "unregister_model"]

# Importing the task packages registers their builders.
from skeletal.models import lifting, prediction, recognition  # noqa: E402,F401
