"""Channel-wise semantic graph convolution (GAST-Net's local attention kernel).

Liu et al. 2020, "A Graph Attention Spatio-temporal Convolutional Network for 3D Human Pose Estimation in
Video", section III-B (journal version, Eq. 1-2), after the semantic graph convolution of Zhao et al. 2019:
every output channel ``c`` owns a learnable mask ``M_c`` over the non-zeros of a fixed kernel ``A``; the row-wise
softmax of the masked logits weights the neighbours. The joint itself and its neighbours use different weight
matrices ``W_0`` and ``W_1``::

    A_c = softmax_j(M_c restricted to A > 0)          (V, V) per channel
    y[i, c] = A_c[i, i] (x_i W_0)[c] + sum_{j != i} A_c[i, j] (x_j W_1)[c]

Implemented as one batched matmul over all channels (no loop over channels).
"""

from __future__ import annotations

import numpy as np
import torch
from einops import rearrange
from torch import nn

from skeletal.errors import ShapeError
from skeletal.nn.validate import in_graph_capture


class SemanticChannelGraphConv(nn.Module):
    """Channel-wise semantic graph convolution (GAST-Net section III-B; official ``SemCHGraphConv``).

    Args:
        in_channels: Input channels ``C_in``.
        out_channels: Output channels ``C_out``.
        kernel: ``(V, V)`` array whose non-zeros are the allowed links ``i <- j`` (row ``i`` aggregates the
            columns ``j``); the diagonal must be non-zero.
        bias: Add a learnable bias (the official layer has none).

    Shape:
        - Input: ``(..., V, C_in)`` channels-last, e.g. ``(N, T, V, C_in)``.
        - Output: ``(..., V, C_out)``.

    Parameters: ``2 C_in C_out`` weights and ``C_out * nnz(kernel)`` mask logits (initialised to 1, so every
    allowed neighbour starts with equal weight).
    """

    rows: torch.Tensor
    cols: torch.Tensor
    identity: torch.Tensor
    bias: nn.Parameter | None

    def __init__(self, in_channels: int, out_channels: int, kernel: np.ndarray | torch.Tensor, bias: bool = False):
        super().__init__()
        # checked and indexed in numpy: the module also builds on the meta device (model-file validation)
        links = np.asarray(kernel, dtype=np.float32)
        if links.ndim != 2 or links.shape[0] != links.shape[1]:
            raise ShapeError(f"graph kernel must be a square (V, V) matrix, got {links.shape}")
        if not (links.diagonal() != 0).all():
            raise ShapeError("graph kernel must have a non-zero diagonal (every joint attends to itself)")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_joints = links.shape[0]
        rows, cols = (torch.as_tensor(index) for index in np.nonzero(links))
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        self.register_buffer("identity", torch.as_tensor(np.eye(self.num_joints, dtype=np.float32)), persistent=False)
        self.weight = nn.Parameter(torch.empty(2, in_channels, out_channels))
        nn.init.xavier_uniform_(self.weight, gain=1.414)
        self.mask = nn.Parameter(torch.ones(out_channels, rows.numel()))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-(in_channels**-0.5), in_channels**-0.5))
        else:
            self.register_parameter("bias", None)
        self._cache: tuple[tuple[int, int, torch.device], torch.Tensor, torch.Tensor] | None = None

    def adjacency(self) -> torch.Tensor:
        """The per-channel adjacency ``A_c``: ``(C_out, V, V)``, each row a softmax over the allowed joints."""
        logits = self.mask.new_full((self.out_channels, self.num_joints, self.num_joints), float("-inf"))
        logits[:, self.rows, self.cols] = self.mask
        return torch.softmax(logits, dim=-1)

    def _split_adjacency(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``A_c``'s diagonal ``(V, C_out)`` and off-diagonal part ``(C_out, V, V)``.

        In evaluation without autograd (inference, streaming) the result is cached until the mask changes
        (a new tensor version, storage or device), since it does not depend on the input. Never while tracing
        or compiling, so exported graphs compute it from the mask.
        """
        frozen = not self.training and not torch.is_grad_enabled() and not in_graph_capture()
        key = (self.mask._version, self.mask.data_ptr(), self.mask.device) if frozen else None
        if frozen and self._cache is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        adjacency = self.adjacency()
        self_weight = adjacency.diagonal(dim1=1, dim2=2).transpose(0, 1).contiguous()
        neighbours = adjacency * (1.0 - self.identity)
        self._cache = (key, self_weight, neighbours) if key is not None else None  # key is set iff frozen
        return self_weight, neighbours

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Aggregate the neighbours of every joint, per output channel.

        Args:
            x: ``(..., V, C_in)``.

        Returns:
            ``(..., V, C_out)``.
        """
        if x.shape[-2] != self.num_joints or x.shape[-1] != self.in_channels:
            raise ShapeError(
                f"semantic graph conv expects (..., {self.num_joints}, {self.in_channels}), got {tuple(x.shape)}"
            )
        self_weight, neighbours = self._split_adjacency()
        own = torch.matmul(x, self.weight[0]) * self_weight
        # Batched over channels: (C, V, V) @ (C, V, M), M the flattened leading axes (one matmul, no loop).
        lead = x.shape[:-2]
        other = rearrange(torch.matmul(x, self.weight[1]), "... v c -> c v (...)").contiguous()
        other = rearrange(torch.matmul(neighbours, other), "c v m -> m v c").reshape(*lead, self.num_joints, -1)
        output = own + other
        if self.bias is not None:
            output = output + self.bias
        return output

    def extra_repr(self) -> str:  # noqa: D102
        return f"{self.in_channels}, {self.out_channels}, joints={self.num_joints}, links={self.rows.numel()}"
