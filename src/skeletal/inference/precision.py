"""Inference precision: float32 (default) or bfloat16 on CPUs with native bfloat16 arithmetic.

``precision="bf16"`` casts a model's parameters and buffers to ``torch.bfloat16`` in place and adds hooks that
cast its floating-point inputs to bfloat16 and its outputs back to float32, so callers keep passing and receiving
float32 tensors. Every operation then runs in bfloat16 (8 mantissa bits): matrix multiplications and
convolutions go through oneDNN's bfloat16 kernels, about 3x the float32 rate on CPUs with AVX-512-BF16 or AMX.
Accuracy against float32 on real inputs is measured by ``benchmarks/bench_precision.py``.

On a CPU without AVX-512-BF16 or AMX, PyTorch emulates bfloat16 (slower than float32), so ``"bf16"`` is refused
there with a :class:`~skeletal.errors.ConfigError` instead of running slowly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from skeletal.errors import ConfigError

PRECISIONS: tuple[str, ...] = ("fp32", "bf16")
_ALIASES = {"fp32": "fp32", "float32": "fp32", "32": "fp32", "bf16": "bf16", "bfloat16": "bf16"}
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
BF16_CPU_FLAGS: tuple[str, ...] = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The feature flags of the first CPU listed in ``cpuinfo`` (empty where the file is absent)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags") and ":" in line:
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_supports_bf16(flags: set[str] | None = None) -> bool:
    """Whether this CPU has native bfloat16 arithmetic: an AVX-512-BF16 or AMX-BF16 flag, and a PyTorch whose
    oneDNN uses it."""
    flags = cpu_flags() if flags is None else flags
    has_flag = any(flag in flags for flag in BF16_CPU_FLAGS)
    onednn = bool(torch.backends.mkldnn.is_available()) and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return has_flag and onednn


def resolve_precision(precision: str, device: str | torch.device = "cpu", flags: set[str] | None = None) -> str:
    """Normalise ``precision`` (``"fp32"``/``"float32"``, ``"bf16"``/``"bfloat16"``) and check the device has it.

    Args:
        precision: The requested precision.
        device: Where the model runs; bfloat16 is checked against the CPU's flags on ``"cpu"``.
        flags: CPU flags to check instead of this machine's (tests).

    Returns:
        ``"fp32"`` or ``"bf16"``.

    Raises:
        ConfigError: an unknown precision, or ``"bf16"`` on a CPU without AVX-512-BF16/AMX.
    """
    resolved = _ALIASES.get(str(precision).lower())
    if resolved is None:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if resolved == "bf16" and torch.device(device).type == "cpu" and not cpu_supports_bf16(flags):
        raise ConfigError(
            "precision 'bf16' needs a CPU with native bfloat16 arithmetic (AVX-512-BF16 or AMX; flags "
            f"{' or '.join(BF16_CPU_FLAGS)} in /proc/cpuinfo), which this CPU lacks: PyTorch would emulate it, "
            "slower than float32. Use precision='fp32'."
        )
    return resolved


def _cast_floating(value: Any, dtype: torch.dtype) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(dtype) if value.is_floating_point() and value.dtype != dtype else value
    if isinstance(value, tuple):
        return tuple(_cast_floating(item, dtype) for item in value)
    if isinstance(value, list):
        return [_cast_floating(item, dtype) for item in value]
    if isinstance(value, dict):
        return {key: _cast_floating(item, dtype) for key, item in value.items()}
    return value


def _caster(dtype: torch.dtype) -> Callable[..., Any]:
    def cast_inputs(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
        return _cast_floating(args, dtype), _cast_floating(kwargs, dtype)

    return cast_inputs


def _to_float32(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
    return _cast_floating(output, torch.float32)


def set_precision(model: nn.Module, precision: str = "bf16", device: str | torch.device | None = None) -> nn.Module:
    """Run ``model`` for inference in ``precision`` (in place; returns the model, in eval mode).

    ``"bf16"``: parameters and buffers become bfloat16; floating-point inputs of ``model(...)`` are cast to
    bfloat16 and its floating-point outputs (tensors, or tensors in tuples, lists and dicts) back to float32.
    ``"fp32"``: parameters and buffers become float32 and the hooks of an earlier call are removed.

    Args:
        model: Any skeletal model (recognition, prediction, lifting).
        precision: ``"fp32"`` or ``"bf16"`` (aliases ``"float32"``, ``"bfloat16"``).
        device: Device checked for bfloat16 support; defaults to that of the model's first parameter (CPU).

    Returns:
        ``model``. Its ``inference_precision`` attribute names the precision.

    Raises:
        ConfigError: see :func:`resolve_precision`.
    """
    parameter = next(iter(model.parameters()), None)
    device = device if device is not None else (parameter.device if parameter is not None else "cpu")
    resolved = resolve_precision(precision, device)
    for handle in getattr(model, "_precision_hooks", ()):
        handle.remove()
    model.to(_DTYPES[resolved])
    hooks = []
    if resolved == "bf16":
        hooks.append(model.register_forward_pre_hook(_caster(torch.bfloat16), with_kwargs=True))
        hooks.append(model.register_forward_hook(_to_float32))
    model._precision_hooks = hooks  # type: ignore[assignment]
    model.inference_precision = resolved  # type: ignore[assignment]
    return model.eval()


def model_dtype(model: nn.Module, default: torch.dtype = torch.float32) -> torch.dtype:
    """The dtype of the model's first floating-point parameter (``default`` without one)."""
    for parameter in model.parameters():
        if parameter.is_floating_point():
            return parameter.dtype
    return default


def load(
    path: str | Path,
    precision: str = "fp32",
    allow_pickle: bool = False,
    map_location: str | torch.device = "cpu",
) -> nn.Module:
    """:func:`skeletal.load` then :func:`set_precision`: a model file ready for inference in ``precision``.

    Args:
        path: A skeletal model file (see :func:`skeletal.load`).
        precision: ``"fp32"`` (default) or ``"bf16"``.
        allow_pickle: As :func:`skeletal.load`.
        map_location: Device of the returned model.

    Raises:
        ConfigError: bf16 requested where the CPU lacks it (checked before the file is read).
        DataError, UnsafeFileError: as :func:`skeletal.load`.
    """
    from skeletal.checkpoint import load as load_model

    resolve_precision(precision, map_location)
    return set_precision(load_model(path, allow_pickle=allow_pickle, map_location=map_location), precision)
