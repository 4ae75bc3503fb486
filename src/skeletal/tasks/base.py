"""The common part of the three Lightning tasks: the wrapped model, its provenance and the export."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import lightning as L
import torch
from torch import nn

from skeletal.config import OptimConfig
from skeletal.errors import ConfigError
from skeletal.skeletons import get as get_skeleton
from skeletal.skeletons import layout_file


class SkeletalTask(L.LightningModule):
    """A registered model with its paper's training recipe.

    Args:
        model_name: Registry name of the model (``skeletal.models.names()``).
        model_kwargs: Keyword arguments of its builder.
        optim: Optimiser and schedule settings (:class:`skeletal.config.OptimConfig` fields); missing ones
            take the task's paper defaults (``DEFAULTS``).
        skeleton: Layout name of the data (flip augmentation, provenance); defaults to ``model_kwargs``'
            ``skeleton``.
        config: The resolved run config, stored in the checkpoints.
        model: An already-built model (otherwise built from the registry).
    """

    task_name: ClassVar[str] = ""
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        model_name: str,
        model_kwargs: dict[str, Any] | None = None,
        optim: dict[str, Any] | None = None,
        skeleton: str = "",
        config: dict[str, Any] | None = None,
        model: nn.Module | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["model"])
        from skeletal import models

        model_kwargs = dict(model_kwargs or {})
        self.model = model if model is not None else models.create(model_name, **model_kwargs)
        settings = {**self.DEFAULTS, **{k: v for k, v in (optim or {}).items() if v is not None}}
        self.optim = OptimConfig(**settings)
        layout = skeleton or model_kwargs.get("skeleton", "")
        if layout_file.is_layout_file(layout):  # a custom layout file: provenance by the layout's name
            layout = get_skeleton(layout)
        self.skeleton_name = layout if isinstance(layout, str) else getattr(layout, "name", "")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _required_setting(self, name: str) -> float:
        """An optimiser setting that the task's ``DEFAULTS`` provide (``lr``, ``gamma``), never ``None``.

        Raises:
            ConfigError: The setting is ``None`` (cleared after construction, or a task without that default).
        """
        value = getattr(self.optim, name)
        if value is None:
            raise ConfigError(f"optim.{name} must be a number for the {self.task_name} task; received None")
        return value

    def export(self, path: str | Path, metrics: dict[str, float] | None = None) -> Path:
        """Write the model as a safetensors model file (:func:`skeletal.checkpoint.save`)."""
        from skeletal import checkpoint

        hp = self.hparams
        kwargs = dict(hp.get("model_kwargs") or {})
        if layout_file.is_layout_file(kwargs.get("skeleton")):  # stored whole: the file loads without the layout file
            kwargs["skeleton"] = get_skeleton(kwargs["skeleton"])
        return checkpoint.save(
            path,
            self.model,
            model_name=hp["model_name"],
            model_kwargs=kwargs,
            task=self.task_name,
            skeleton=self.skeleton_name,
            config=hp.get("config") or {},
            metrics=metrics,
        )
