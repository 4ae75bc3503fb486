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
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from skeletal.errors import ConfigError

TASKS = ("recognition", "prediction", "lifting")
MAX_CONFIG_BYTES = 1 << 20
"""Largest config file read (1 MiB; presets are a few hundred bytes)."""
MAX_NODES = 100_000
"""Most YAML values a config may expand to, aliases counted at every use (an alias bomb expands to 10^9)."""
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
PRECISIONS = ("64-true", "64", "32-true", "32", "16-mixed", "16-true", "16", "bf16-mixed", "bf16-true", "bf16",
              "transformer-engine", "transformer-engine-float16")  # fmt: skip
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
STRATEGIES = ("auto", "ddp", "ddp_spawn", "ddp_fork", "ddp_notebook", "ddp_find_unused_parameters_true",
              "ddp_find_unused_parameters_false", "fsdp", "deepspeed", "single_device", "dp")  # fmt: skip
COMPILE_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")
COMPILE_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


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
    training starts from the zero-velocity solution instead of a random offset of every pose. ``train_frames``
    (prediction, not in the paper) trains on a random crop of that many consecutive frames of each training window,
    so that a model with a shorter ``window`` than the prepared data trains on it.
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


def _check(ok: bool, key: str, expected: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{key}: expected {expected}, got {value!r}")


def _validate_values(config: Config) -> None:
    """Every value checked against what the engine, Lightning and the data loader accept, so that a wrong value
    is a one-line ConfigError before training starts rather than a traceback from inside them."""
    _check(
        RUN_NAME.fullmatch(config.name) is not None,
        "name",
        "a folder name of letters, digits and . _ + - (not starting with . or -, at most 128)",
        config.name,
    )
    _check(0 <= config.seed < 2**32, "seed", "an integer in 0 .. 2**32 - 1 (numpy's seed range)", config.seed)
    t = config.trainer
    _check(t.precision in PRECISIONS, "trainer.precision", f"one of {', '.join(PRECISIONS)}", t.precision)
    _check(t.accelerator in ACCELERATORS, "trainer.accelerator", f"one of {', '.join(ACCELERATORS)}", t.accelerator)
    _check(t.strategy in STRATEGIES, "trainer.strategy", f"one of {', '.join(STRATEGIES)}", t.strategy)
    devices_ok = (isinstance(t.devices, int) and (t.devices >= 1 or t.devices == -1)) or (
        isinstance(t.devices, str) and re.fullmatch(r"auto|-1|\d+|\d+(,\d+)*,?", t.devices) is not None
        and t.devices not in ("0",)
    )  # fmt: skip
    _check(devices_ok, "trainer.devices", "a positive count, -1 (all), 'auto' or a list like '0,1'", t.devices)
    for key in ("num_nodes", "accumulate_grad_batches", "check_val_every_n_epoch", "log_every_n_steps"):
        _check(getattr(t, key) >= 1, f"trainer.{key}", "a positive integer", getattr(t, key))
    for key in ("max_epochs", "max_steps"):
        _check(getattr(t, key) >= -1, f"trainer.{key}", "an integer >= -1 (-1: no limit)", getattr(t, key))
    _check(t.max_time_s is None or (math.isfinite(t.max_time_s) and t.max_time_s > 0), "trainer.max_time_s",
           "a positive number of seconds", t.max_time_s)  # fmt: skip
    _check(t.gradient_clip_val is None or (math.isfinite(t.gradient_clip_val) and t.gradient_clip_val >= 0),
           "trainer.gradient_clip_val", "a non-negative number", t.gradient_clip_val)  # fmt: skip
    _check(t.checkpoint_every_n_steps is None or t.checkpoint_every_n_steps >= 1, "trainer.checkpoint_every_n_steps",
           "a positive integer", t.checkpoint_every_n_steps)  # fmt: skip
    for key in ("limit_train_batches", "limit_val_batches", "limit_test_batches"):
        value = getattr(t, key)
        ok = value is None or (value >= 0 and (value <= 1 or float(value).is_integer()))
        _check(ok, f"trainer.{key}", "a batch count >= 0 or a fraction in [0, 1]", value)
    _check(t.compile_backend in COMPILE_BACKENDS, "trainer.compile_backend", f"one of {COMPILE_BACKENDS}",
           t.compile_backend)  # fmt: skip
    _check(t.compile_mode in COMPILE_MODES, "trainer.compile_mode", f"one of {COMPILE_MODES}", t.compile_mode)
    d = config.data
    _check(d.num_workers >= 0, "data.num_workers", "an integer >= 0", d.num_workers)
    streams = ("joint", "bone", "motion", "joint+bone")
    _check(d.stream in streams, "data.stream", f"one of {', '.join(streams)}", d.stream)
    if d.source == "synthetic":
        _validate_synthetic(config.task, d.synthetic)
    o = config.optim
    _check(o.lr is None or (math.isfinite(o.lr) and o.lr > 0), "optim.lr", "a positive number", o.lr)
    _check(o.gamma is None or (math.isfinite(o.gamma) and o.gamma > 0), "optim.gamma", "a positive number", o.gamma)
    _check(0 <= o.momentum <= 1, "optim.momentum", "a number in [0, 1]", o.momentum)
    _check(math.isfinite(o.weight_decay) and o.weight_decay >= 0, "optim.weight_decay", "a number >= 0",
           o.weight_decay)  # fmt: skip
    _check(all(m >= 0 for m in o.milestones), "optim.milestones", "epochs >= 0", o.milestones)
    _check(o.warmup >= 1, "optim.warmup", "a positive number of steps", o.warmup)
    for key in ("d_model", "seed_frames", "horizon", "train_frames"):
        value = getattr(o, key)
        _check(value is None or value >= 1, f"optim.{key}", "a positive integer", value)
    _check(o.patience is None or o.patience >= 0, "optim.patience", "an integer >= 0 (0: no early stopping)",
           o.patience)  # fmt: skip
    for key in ("reverse_train", "mirror_train"):
        _check(0 <= getattr(o, key) <= 1, f"optim.{key}", "a probability in [0, 1]", getattr(o, key))


def _validate_synthetic(task: str, options: dict[str, Any], where: str = "data.synthetic") -> None:
    """The generator's arguments: known names, sizes and frame counts positive (``num_train=-5`` failed in numpy)."""
    import inspect

    from skeletal.data import synthetic

    accepted = set(inspect.signature(getattr(synthetic, f"{task}_arrays")).parameters) - {"num_samples", "seed"}
    accepted |= {"num_train", "num_val", "num_test"} if where == "data.synthetic" else set()
    for key, value in options.items():
        if key == "eval" and where == "data.synthetic":
            _check(isinstance(value, dict), f"{where}.eval", "a mapping of generator arguments", value)
            _validate_synthetic(task, value, f"{where}.eval")
            continue
        if key not in accepted:
            raise ConfigError(f"unknown key {where}.{key}; expected one of {', '.join(sorted(accepted))}")
        if key.startswith("num_") or key.endswith("_length"):
            _check(type(value) is int and 1 <= value <= 10**7, f"{where}.{key}", "a positive integer", value)
        elif key == "fps":
            _check(isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e4,
                   f"{where}.fps", "a positive number", value)  # fmt: skip


def _check_model_arguments(model: ModelConfig) -> None:
    """Build the model on the ``meta`` device (no memory): arguments the network rejects (``width=4`` with 8
    heads, an unknown keyword) become a ConfigError naming ``model.kwargs`` instead of a 45-line traceback."""
    import torch

    from skeletal import models

    try:
        with torch.device("meta"):
            models.create(model.name, **model.kwargs)
    except ConfigError as error:
        raise ConfigError(f"model.kwargs: {error}") from None
    except Exception as error:  # noqa: BLE001  whatever the builder raises for these arguments
        if "meta" in str(error):  # a builder that reads tensor values: checked when the real model is built
            return
        first = (str(error).splitlines() or [type(error).__name__])[0]
        raise ConfigError(f"model.kwargs: model {model.name!r} rejects these arguments: {first}") from None


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


def safe_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load`` whose result may hold at most :data:`MAX_NODES` values, aliases counted at every use,
    counted while composing (an alias bomb of 10^9 expanded values is refused after :data:`MAX_NODES`)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return None
    expanded, stack = 0, [node]
    while stack:  # count the expansion of the node graph (aliases share nodes) without building it
        current = stack.pop()
        expanded += 1
        if expanded > MAX_NODES:
            raise ConfigError(f"{where}: expands to more than {MAX_NODES} values (YAML aliases?)")
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_document(node)
    finally:
        constructor.dispose()


def read_yaml(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a config file as a dict, following ``extends:`` chains (paths relative to the file)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    if path.resolve() in _seen:
        raise ConfigError(f"{path}: 'extends' loops back to itself")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {path.stat().st_size} bytes, more than the {MAX_CONFIG_BYTES} byte bound")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start}); save the config as UTF-8") from None
    try:
        values = safe_yaml(text, str(path)) or {}
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
            value = safe_yaml(text, f"override {key.strip()!r}") if text.strip() else ""
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
