"""Recognition input streams made per sample from the stored joints.

Streams (2s-AGCN, Shi et al. 2019, section 3.3; ST-TR journal section V-C) are made per sample by
:func:`make_stream` from the stored joints, never stored as extra copies: ``joint`` (as stored), ``bone``
(joint minus parent, :func:`skeletal.data.transforms.to_bones`), ``motion`` (next frame minus frame,
:func:`skeletal.data.transforms.to_motion`) and ``joint+bone`` (both concatenated on the channels, ``2 C``
channels, the input of the ``*-bones`` models). Set it with ``data.stream`` (and ``data.skeleton`` for bones).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skeletal.errors import ConfigError

STREAMS = ("joint", "bone", "motion", "joint+bone")
"""Recognition input streams (see the module docstring)."""


def make_stream(x: np.ndarray, stream: str, skeleton: Any = None) -> np.ndarray:
    """The ``stream`` of joint coordinates ``x``, channels-last.

    Args:
        x: Joints ``(..., T, V, C)`` (one sample ``(M, T, V, C)`` or a batch).
        stream: One of :data:`STREAMS`.
        skeleton: Layout (name or :class:`~skeletal.skeletons.Skeleton`), needed by ``bone`` and ``joint+bone``.

    Returns:
        ``(..., T, V, C)``, or ``(..., T, V, 2 C)`` for ``joint+bone`` (joints first).
    """
    from skeletal.data.transforms import to_bones, to_motion

    if stream not in STREAMS:
        raise ConfigError(f"data.stream: expected one of {', '.join(STREAMS)}, got {stream!r}")
    if stream == "joint":
        return x
    if stream == "motion":
        return to_motion(np.asarray(x))
    if skeleton is None or skeleton == "":
        raise ConfigError(f"the {stream!r} stream needs the layout: set data.skeleton (e.g. ntu25)")
    bones = to_bones(np.asarray(x), skeleton)
    return bones if stream == "bone" else np.concatenate([np.asarray(x), bones], axis=-1)


class StreamTransform:
    """Callable ``x -> make_stream(x, stream, skeleton)`` (picklable, for DataLoader workers)."""

    def __init__(self, stream: str, skeleton: Any = None):
        if stream not in STREAMS:
            raise ConfigError(f"data.stream: expected one of {', '.join(STREAMS)}, got {stream!r}")
        if stream in ("bone", "joint+bone") and not skeleton:
            raise ConfigError(f"the {stream!r} stream needs the layout: set data.skeleton (e.g. ntu25)")
        self.stream, self.skeleton = stream, skeleton

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return make_stream(x, self.stream, self.skeleton)
