"""Typed run configurations, loaded from short YAML files with command-line overrides.

A config has five sections (model, data, optim, trainer, plus the task name, seed and output folder). Every
field is typed; loading checks the types and rejects unknown keys with the file and key path in the message.
A YAML file may start with ``extends: other.yaml`` (relative to itself) to inherit a base preset and change
a few keys. Overrides are ``key.sub=value`` strings whose value is parsed as YAML (``trainer.max_epochs=3``,
``optim.milestones=[10,20]``, ``model.kwargs.dropout=0.1``).

Example:
    >>> from skeletal.config import load_config
    >>> config = load_config("configs/recognition/demo.yaml", ["trainer.max_epochs=1"])
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

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
            ``joint+bone`` (channels concatenated, for the ``*-bones`` models); see :mod:`skeletal.tasks.data`.
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
    training starts from the zero-velocity solution instead of a random offset of every pose.
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
        if check_model:
            from skeletal import models

            if not self.model.name:
                raise ConfigError("model.name: no model given")
            entry = models.info(self.model.name)
            if entry.task != self.task:
                raise ConfigError(f"model.name: {self.model.name!r} is a {entry.task} model, not {self.task}")
        return self


def _type_name(kind: Any) -> str:
    return getattr(kind, "__name__", str(kind))


def _coerce(value: Any, kind: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``kind`` (ints accepted for floats); return it converted."""
    origin = typing.get_origin(kind)
    if kind is Any:
        return value
    if origin in (Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, where)
            except ConfigError as error:
                errors.append(str(error))
        names = " or ".join(_type_name(o) for o in options)
        raise ConfigError(f"{where}: expected {names}, got {value!r}")
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return _build(kind, value, where)
    if origin is list:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(kind) or (Any,)
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if kind is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    raise ConfigError(f"{where}: unsupported type {kind}")  # pragma: no cover


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    """``"; did you mean 'max_epochs'?"`` for the closest of ``choices`` to a misspelt ``word``, else ``""``."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _build(cls: Any, values: dict[str, Any], where: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        prefix = f"{where}." if where else ""
        hint = did_you_mean(unknown[0], known)
        raise ConfigError(f"unknown key {prefix}{unknown[0]}{hint}; expected one of {', '.join(sorted(known))}")
    kwargs = {}
    for key, value in values.items():
        path = f"{where}.{key}" if where else key
        kwargs[key] = _coerce(value, hints[key], path)
    return cls(**kwargs)


def from_dict(values: dict[str, Any]) -> Config:
    """Build a :class:`Config` from a nested dict, checking every key and type."""
    return _build(Config, values)


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "kwargs":
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def read_yaml(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a config file as a dict, following ``extends:`` chains (paths relative to the file)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    if path.resolve() in _seen:
        raise ConfigError(f"{path}: 'extends' loops back to itself")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})".replace("\n", " ")) from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(values).__name__}")
    parent = values.pop("extends", None)
    if parent is not None:
        base = read_yaml(path.parent / str(parent), (*_seen, path.resolve()))
        values = _merge(base, values)
    return values


def apply_overrides(values: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a nested dict, returning a new dict."""
    result = copy.deepcopy(values)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r}: expected key.sub=value")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        parts = key.strip().split(".")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = value
    return result


def load_config(
    path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = (), check_model: bool = True
) -> Config:
    """Load a YAML config (or the defaults when ``path`` is None), apply overrides, check types and values."""
    values = read_yaml(path) if path is not None else {}
    values = apply_overrides(values, list(overrides))
    return from_dict(values).validate(check_model=check_model)


def save_config(config: Config, path: str | Path) -> Path:
    """Write the resolved config as YAML."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    return path
