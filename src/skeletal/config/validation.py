"""Checks of a configuration: the values each field accepts (beyond its type), the model arguments (built on the
``meta`` device), and the typed construction of the dataclasses from nested dicts with key paths in the errors.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from typing import TYPE_CHECKING, Any, Union

from skeletal.errors import ConfigError, did_you_mean  # noqa: F401  (did_you_mean re-exported)

if TYPE_CHECKING:
    from skeletal.config.schema import Config, ModelConfig

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
PRECISIONS = ("64-true", "64", "32-true", "32", "16-mixed", "16-true", "16", "bf16-mixed", "bf16-true", "bf16",
              "transformer-engine", "transformer-engine-float16")  # fmt: skip
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
STRATEGIES = ("auto", "ddp", "ddp_spawn", "ddp_fork", "ddp_notebook", "ddp_find_unused_parameters_true",
              "ddp_find_unused_parameters_false", "fsdp", "deepspeed", "single_device", "dp")  # fmt: skip
COMPILE_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")
COMPILE_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


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
    _check(t.threads is None or t.threads >= 0, "trainer.threads", "a thread count, 0 (the idle cores) or null",
           t.threads)  # fmt: skip
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
    _check(len(o.betas) == 2 and all(0 <= b < 1 for b in o.betas), "optim.betas", "two numbers in [0, 1)",
           o.betas)  # fmt: skip
    _check(math.isfinite(o.eps) and o.eps > 0, "optim.eps", "a positive number", o.eps)
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
