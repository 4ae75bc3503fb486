"""Sinusoidal positional encoding (Vaswani et al., 2017, section 3.5), as used by the ST-Transformer (section 3.2)."""

from __future__ import annotations

import math

import torch
from torch import nn

from skeletal.errors import ShapeError


def sinusoidal_encoding(length: int, dim: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``(length, dim)`` table ``PE[t, 2i] = sin(t / 10000^(2i/dim))``, ``PE[t, 2i+1] = cos(...)``.

    Sines on even and cosines on odd feature indices, interleaved, as in the official ST-Transformer code.

    Args:
        length: Number of positions ``T`` (positions ``0 .. T-1``).
        dim: Feature size ``D``.
        dtype: Output dtype.

    Returns:
        Tensor of shape ``(T, D)``.
    """
    if length < 0 or dim < 1:
        raise ShapeError(f"sinusoidal_encoding needs length >= 0 and dim >= 1, got length={length}, dim={dim}")
    position = torch.arange(length, dtype=torch.float64)[:, None]
    index = torch.arange(dim, dtype=torch.float64)[None, :]
    angle = position / torch.pow(10000.0, 2.0 * torch.div(index, 2, rounding_mode="floor") / dim)
    table = torch.where(index.long() % 2 == 0, torch.sin(angle), torch.cos(angle))
    return table.to(dtype)


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the sinusoidal encoding of the frame index to every joint's embedding.

    The table is cached for ``max_length`` frames and grown on demand, so sequences longer than the training
    window still work (the sinusoid extrapolates, the reason section 3.2 gives for using it).

    Args:
        dim: Embedding size ``D``.
        max_length: Frames to precompute.

    Shape:
        - Input: ``(N, T, V, D)`` (or ``(N, T, D)``: time is always axis 1).
        - Output: same shape, ``x + PE[:T]`` broadcast over the batch and the joints.
    """

    def __init__(self, dim: int, max_length: int = 256) -> None:
        super().__init__()
        self.dim = dim
        self.table: torch.Tensor
        self.register_buffer("table", sinusoidal_encoding(max(max_length, 1), dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 3 or x.shape[-1] != self.dim:
            raise ShapeError(f"positional encoding expects (N, T, ..., D={self.dim}), got {tuple(x.shape)}")
        length = x.shape[1]
        if length > self.table.shape[0]:
            grown = 2 ** math.ceil(math.log2(length))
            self.table = sinusoidal_encoding(grown, self.dim).to(self.table.device)
        encoding = self.table[:length].to(x.dtype)
        return x + encoding.reshape(length, *([1] * (x.dim() - 3)), self.dim)
