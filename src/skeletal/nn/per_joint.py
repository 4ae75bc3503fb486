"""Per-joint linear layers: one weight matrix per joint, applied to all joints at once by a batched einsum.

The ST-Transformer (Aksan et al., 2021, section 3.2) gives every joint its own embedding, query, key, value,
output and feed-forward weights (``W^{(n, .)}``). Running ``V`` separate ``nn.Linear`` layers in a Python loop
costs one kernel launch per joint; here the ``V`` matrices are stacked into one ``(V, in, out)`` tensor and
applied with a single ``einsum``, which is numerically the same as the loop (tests check it).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from skeletal.errors import ShapeError


class PerJointLinear(nn.Module):
    """``V`` independent affine maps, one per joint: ``y[..., v, :] = x[..., v, :] @ W[v] + b[v]``.

    Weights are initialised like TensorFlow's ``tf.layers.dense`` used by the official ST-Transformer code
    (Glorot-uniform weights, zero bias), each joint's matrix independently.

    Args:
        num_joints: Number of joints ``V`` (one weight matrix each).
        in_features: Input size of each joint.
        out_features: Output size of each joint.
        bias: Add a learned per-joint bias.

    Shape:
        - Input: ``(..., V, in_features)``, any number of leading axes (e.g. ``(N, T, V, C)``).
        - Output: ``(..., V, out_features)``.
    """

    def __init__(self, num_joints: int, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        if num_joints < 1 or in_features < 1 or out_features < 1:
            raise ShapeError(
                f"PerJointLinear needs positive sizes, got num_joints={num_joints}, "
                f"in_features={in_features}, out_features={out_features}"
            )
        self.num_joints = num_joints
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(num_joints, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(num_joints, out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights (per joint, fan-in ``in``, fan-out ``out``) and zero bias."""
        bound = math.sqrt(6.0 / (self.in_features + self.out_features))
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply joint ``v``'s matrix to ``x[..., v, :]`` for every ``v``."""
        if x.dim() < 2 or x.shape[-2] != self.num_joints or x.shape[-1] != self.in_features:
            raise ShapeError(
                f"PerJointLinear expects (..., V={self.num_joints}, C={self.in_features}), got {tuple(x.shape)}"
            )
        y = torch.einsum("...vi,vio->...vo", x, self.weight)
        if self.bias is not None:
            y = y + self.bias
        return y

    @classmethod
    def from_linears(cls, layers: list[nn.Linear]) -> PerJointLinear:
        """Stack ``V`` ``nn.Linear`` layers of equal shape into one per-joint layer (joint ``v`` = ``layers[v]``)."""
        if not layers:
            raise ShapeError("from_linears needs at least one nn.Linear, got an empty list")
        first = layers[0]
        bias = first.bias is not None
        layer = cls(len(layers), first.in_features, first.out_features, bias=bias)
        with torch.no_grad():
            layer.weight.copy_(torch.stack([lin.weight.t() for lin in layers]))
            if bias and layer.bias is not None:
                layer.bias.copy_(torch.stack([lin.bias for lin in layers]))  # type: ignore[misc]
        return layer

    def extra_repr(self) -> str:
        return (
            f"num_joints={self.num_joints}, in_features={self.in_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class PerJointFeedForward(nn.Module):
    """Two-layer point-wise feed-forward network with separate weights for every joint (official ST-Transformer).

    ``y = W2[v] relu(W1[v] x + b1[v]) + b2[v]``; Vaswani et al. (2017) eq. 2, applied per joint.

    Args:
        num_joints: Number of joints ``V``.
        model_dim: Embedding size ``D``.
        hidden_dim: Hidden size of the first layer.

    Shape:
        - Input: ``(..., V, D)``.
        - Output: ``(..., V, D)``.
    """

    def __init__(self, num_joints: int, model_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.expand = PerJointLinear(num_joints, model_dim, hidden_dim)
        self.contract = PerJointLinear(num_joints, hidden_dim, model_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.contract(torch.relu(self.expand(x)))
