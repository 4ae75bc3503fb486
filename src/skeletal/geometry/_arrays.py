"""numpy/torch interoperability: every geometry function computes in torch and answers in its input's kind."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch

from skeletal.errors import ShapeError

F = TypeVar("F", bound=Callable[..., Any])

ArrayLike = np.ndarray | torch.Tensor


def _to_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, tuple):
        return tuple(_to_numpy(v) for v in value)
    return value


def numpy_or_torch(fn: F) -> F:
    """Let a torch function also take numpy arrays.

    numpy arguments become tensors (same dtype, CPU); when the *first* array argument was numpy, tensors in the
    result (or in a returned tuple) are given back as numpy arrays. torch inputs go through untouched, so
    gradients flow.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        first_is_numpy: bool | None = None
        new_args = []
        for value in args:
            if isinstance(value, np.ndarray):
                first_is_numpy = True if first_is_numpy is None else first_is_numpy
                value = torch.from_numpy(np.ascontiguousarray(value))
            elif isinstance(value, torch.Tensor) and first_is_numpy is None:
                first_is_numpy = False
            new_args.append(value)
        new_kwargs = {}
        for key, value in kwargs.items():
            if isinstance(value, np.ndarray):
                first_is_numpy = True if first_is_numpy is None else first_is_numpy
                value = torch.from_numpy(np.ascontiguousarray(value))
            elif isinstance(value, torch.Tensor) and first_is_numpy is None:
                first_is_numpy = False
            new_kwargs[key] = value
        result = fn(*new_args, **new_kwargs)
        return _to_numpy(result) if first_is_numpy else result

    return wrapper  # type: ignore[return-value]


def as_tensor_like(value: Any, reference: torch.Tensor) -> torch.Tensor:
    """``value`` (tensor, array, list or number) as a tensor with ``reference``'s float dtype and device."""
    dtype = reference.dtype if reference.is_floating_point() else torch.get_default_dtype()
    return torch.as_tensor(np.asarray(value) if isinstance(value, list | tuple) else value).to(
        dtype=dtype, device=reference.device
    )


def as_float_tensor(value: Any) -> torch.Tensor:
    """A float tensor from a tensor, array or list (float64 for numpy and lists, floats kept as they are)."""
    tensor = torch.as_tensor(np.asarray(value) if isinstance(value, list | tuple) else value)
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.float64)
    return tensor


def check_last_dims(x: torch.Tensor, dims: tuple[int, ...], what: str, layout: str) -> None:
    """Raise :class:`ShapeError` unless the trailing dimensions of ``x`` are ``dims``."""
    if x.dim() < len(dims) or tuple(x.shape[-len(dims) :]) != dims:
        raise ShapeError(f"{what} expects shape {layout}, received {tuple(x.shape)}")


def tensor(x: ArrayLike) -> torch.Tensor:
    """``x`` as a tensor (already one inside a :func:`numpy_or_torch` function; numpy arrays are wrapped)."""
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))
