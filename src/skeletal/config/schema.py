"""The typed sections of a run configuration (model, data, optim, trainer) and the :class:`Config` that holds them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from skeletal.config.validation import _check_model_arguments, _validate_values
from skeletal.errors import ConfigError

TASKS = ("recognition", "prediction", "lifting")


@dataclass
class ModelConfig:
    """Which registered model to build.

    Args:
        name: Registry name (``skeletal.models.names()``).
        kwargs: Keyword arguments of its builder (``num_classes``, ``skeleton``...).
    """

    name: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    """Where the samples come from.

    Args:
        source: ``synthetic`` (the embedded generator, ``skeletal.data.synthetic``) or ``arrays`` (prepared
            ``.npz`` files or folders of ``.npy`` arrays, memory-mapped).
        train: Prepared training split (``.npz`` file or folder of ``.npy`` files), for ``source: arrays``.
        val: Prepared validation split.
        test: Prepared test split (defaults to ``val``).
        skeleton: Layout name of the data (flip augmentation, checks); defaults to the model's ``skeleton``.
        stream: Recognition input stream made on the fly from the joints: ``joint``, ``bone``, ``motion`` or
            ``joint+bone`` (channels concatenated, for the ``*-bones`` models); see :mod:`skeletal.data.streams`.
        batch_size: Samples per batch (per device).
        num_workers: DataLoader worker processes.
        synthetic: Keyword arguments of the synthetic generator (sizes, classes, frames...).
    """

    source: str = "synthetic"
    train: str | None = None
    val: str | None = None
    test: str | None = None
    skeleton: str | None = None
    stream: str = "joint"
    batch_size: int = 32
    num_workers: int = 0
    synthetic: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimConfig:
    """Optimiser and schedule hyper-parameters; each task reads the ones of its paper.

    Recognition (ST-TR): SGD with ``momentum``, ``nesterov``, ``weight_decay``; ``lr`` divided by
    ``1 / gamma`` at ``milestones`` (epochs). Prediction (ST-Transformer): Adam with the Transformer schedule
    ``lr * D^-0.5 * min(step^-0.5, step * warmup^-1.5)``, ``d_model`` = D (defaults to the model's
    ``d_model`` keyword), early stopping after ``patience`` validations without improvement. Lifting
    (GAST-Net): Adam with ``amsgrad``, ``lr`` multiplied by ``gamma`` every epoch, flip augmentation;
    ``bn_momentum: [initial, final]`` decays the batch-norm momentum over the epochs (VideoPose3D), ``None``
    keeps the models' own.
    Prediction augmentation (ST-Transformer supplement, "Data augmentation", H3.6M): each training window is reversed in
    time with probability ``reverse_train`` and mirrored with probability ``mirror_train``. ``zero_init_head``
    (prediction, not in the paper) sets the residual models' output projection to zero before training, so that
    training starts from the zero-velocity solution instead of a random offset of every pose. ``train_frames``
    (prediction, not in the paper) trains on a random crop of that many consecutive frames of each training window,
    so that a model with a shorter ``window`` than the prepared data trains on it. ``betas`` and ``eps``
    (prediction) are Adam's; the default is PyTorch's and the official code's (0.9, 0.999), 1e-8; Vaswani et al.
    used (0.9, 0.98), 1e-9.
    """

    lr: float | None = None
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 1e-4
    milestones: list[int] = field(default_factory=lambda: [60, 90])
    gamma: float | None = None
    warmup: int = 10000
    d_model: int | None = None
    patience: int | None = None
    amsgrad: bool = True
    flip_train: bool = True
    flip_test: bool = True
    seed_frames: int | None = None
    horizon: int | None = None
    representation: str = "matrix"
    reverse_train: float = 0.0  # prediction: probability of playing a training window backwards
    mirror_train: float = 0.0  # prediction: probability of mirroring it left/right (0.5 each on H3.6M)
    zero_init_head: bool = False  # prediction: output projection starts at zero (training starts at zero-velocity)
    train_frames: int | None = None  # prediction: random crops of this many frames of each training window
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])  # prediction: Adam's (beta1, beta2)
    eps: float = 1e-8  # prediction: Adam's epsilon
    bn_momentum: list[float] | None = None  # lifting: [initial, final] batch-norm momentum, decayed per epoch


@dataclass
class TrainerConfig:
    """Options handed to ``lightning.Trainer`` (see its documentation for each)."""

    max_epochs: int = 1
    max_steps: int = -1
    max_time_s: float | None = None
    accelerator: str = "auto"
    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "32-true"
    accumulate_grad_batches: int = 1
    gradient_clip_val: float | None = None
    limit_train_batches: float | int | None = None
    limit_val_batches: float | int | None = None
    limit_test_batches: float | int | None = None
    check_val_every_n_epoch: int = 1
    log_every_n_steps: int = 50
    checkpoint_every_n_steps: int | None = None
    deterministic: bool = True
    progress_bar: bool = True
    compile: bool = False  # torch.compile the model (nn.Module.compile: same weights and checkpoint keys)
    compile_backend: str = "inductor"  # "inductor" (generated C++/Triton code) or "eager" (graph capture only)
    compile_mode: str | None = None  # None, "reduce-overhead" or "max-autotune"
    threads: int | None = None  # torch threads; None: torch's default (every core); 0: the cores other jobs leave idle


@dataclass
class Config:
    """A complete run: task, model, data, optimisation and trainer settings.

    Args:
        task: ``recognition``, ``prediction`` or ``lifting``.
        name: Run name (folder name under ``output``).
        seed: Seed of every random generator (``lightning.seed_everything``).
        output: Folder in which run folders are created.
    """

    task: str = "recognition"
    name: str = "run"
    seed: int = 0
    output: str = "runs"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON/YAML-ready)."""
        return dataclasses.asdict(self)

    def validate(self, check_model: bool = True) -> Config:
        """Check values beyond their types: the task name and that the model is registered for that task."""
        if self.task not in TASKS:
            raise ConfigError(f"task: expected one of {TASKS}, got {self.task!r}")
        if self.data.source not in ("synthetic", "arrays"):
            raise ConfigError(f"data.source: expected 'synthetic' or 'arrays', got {self.data.source!r}")
        if self.data.source == "arrays" and not self.data.train:
            raise ConfigError("data.train: a prepared training split is required when data.source is 'arrays'")
        if self.data.batch_size < 1:
            raise ConfigError(f"data.batch_size: expected a positive integer, got {self.data.batch_size}")
        _validate_values(self)
        if check_model:
            from skeletal import models

            if not self.model.name:
                raise ConfigError("model.name: no model given")
            entry = models.info(self.model.name)
            if entry.task != self.task:
                raise ConfigError(f"model.name: {self.model.name!r} is a {entry.task} model, not {self.task}")
            _check_model_arguments(self.model)
        return self
