"""Input validation for models and public entry points: clear errors naming expected and received layouts."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from skeletal.errors import ShapeError
from skeletal.skeletons import Skeleton


def in_graph_capture() -> bool:
    """True while torch.jit traces/scripts or torch.compile / torch.export / the ONNX exporter capture a graph."""
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.onnx.is_in_onnx_export():
        return True
    compiler = getattr(torch, "compiler", None)
    return bool(compiler is not None and compiler.is_compiling())


def check_finite(x: torch.Tensor, what: str = "input") -> None:
    """Raise :class:`ShapeError` if ``x`` contains NaN or infinite values, saying how many and where first.

    Skipped while tracing, scripting, exporting or compiling: the check branches on the data, which a graph
    cannot hold, and an exported graph is validated by its own runtime's caller.
    """
    if in_graph_capture():
        return
    if x.is_floating_point() and not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).nonzero()
        raise ShapeError(f"{what} contains {len(bad)} NaN/inf values (first at index {tuple(bad[0].tolist())})")


def check_input(
    x: torch.Tensor,
    dims: Sequence[str],
    skeleton: Skeleton | None = None,
    channels: int | None = None,
    what: str = "input",
    finite: bool = True,
) -> None:
    """Check a model input against its documented shape.

    Args:
        x: The tensor.
        dims: Axis names, e.g. ``("N", "M", "T", "V", "C")``; ``V`` is checked against ``skeleton`` and ``C``
            against ``channels``.
        skeleton: The layout the model was built for.
        channels: Expected channel count.
        what: Name used in messages (``"input of s-tr"``).
        finite: Also reject NaN/inf.
    """
    layout = "(" + ", ".join(dims) + ")"
    if not isinstance(x, torch.Tensor):
        raise ShapeError(f"{what} must be a torch.Tensor {layout}, got {type(x).__name__}")
    if x.dim() != len(dims):
        raise ShapeError(f"{what} must have shape {layout}, got {tuple(x.shape)} ({x.dim()} dimensions)")
    if not x.is_floating_point():
        raise ShapeError(f"{what} must be a floating-point tensor, got {x.dtype}")
    shape = dict(zip(dims, x.shape))
    if skeleton is not None and "V" in shape:
        skeleton.check(int(shape["V"]), what=f"{what} {tuple(x.shape)} {layout}")
    if channels is not None and "C" in shape and shape["C"] != channels:
        raise ShapeError(f"{what} must have {channels} channels (last axis of {layout}), got {tuple(x.shape)}")
    if finite:
        check_finite(x, what)
