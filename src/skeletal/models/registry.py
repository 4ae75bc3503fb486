"""The model registry: named builder functions, as in timm.

A builder is a plain function returning an ``nn.Module``; :func:`register_model` records it with its task and
the paper it reproduces. ``create(name, **overrides)`` calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from torch import nn

from skeletal.errors import ConfigError

Builder = TypeVar("Builder", bound=Callable[..., nn.Module])

TASKS = ("recognition", "prediction", "lifting")


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows of a model.

    Args:
        name: Registry name.
        task: ``recognition``, ``prediction`` or ``lifting``.
        builder: The function that builds it.
        paper: The paper (and table) it reproduces, or the baseline it is.
        reference_parameters: Parameter count of the official implementation, if known.
    """

    name: str
    task: str
    builder: Callable[..., nn.Module]
    paper: str = ""
    reference_parameters: int | None = None

    @property
    def builtin(self) -> bool:
        """True for the models skeletal ships (not ones registered by a user, a plug-in or a test)."""
        return self.builder.__module__.startswith("skeletal.")


_MODELS: dict[str, ModelInfo] = {}


def register_model(
    name: str, task: str, paper: str = "", reference_parameters: int | None = None
) -> Callable[[Builder], Builder]:
    """Decorator registering a builder function under ``name``."""
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; expected one of {TASKS}")

    def decorate(builder: Builder) -> Builder:
        if name in _MODELS:
            raise ConfigError(f"a model named {name!r} is already registered")
        _MODELS[name] = ModelInfo(name, task, builder, paper, reference_parameters)
        return builder

    return decorate


def unregister_model(name: str) -> None:
    """Remove a model from the registry (for tests and plug-ins that register temporary models)."""
    info(name)
    del _MODELS[name]


def create(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model; keyword arguments override the builder's defaults."""
    return info(name).builder(**kwargs)


def info(name: str) -> ModelInfo:
    """Registry entry of a model."""
    try:
        return _MODELS[name]
    except KeyError:
        close = [n for n in _MODELS if name.split("-")[0] in n][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown model {name!r}{hint} (`skeletal models` lists them)") from None


def names(task: str | None = None, builtin_only: bool = False) -> list[str]:
    """Registered model names, optionally of one task or only the built-in ones, sorted."""
    return sorted(n for n, m in _MODELS.items() if (task is None or m.task == task) and (m.builtin or not builtin_only))


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
