"""GAST-Net's graph attention: local (symmetric and kinematic kernels), global (multi-head), and their fusion.

Liu et al. 2020 (journal version, ../shared/papers/004), section III-B (local attention graph), III-C (global
attention graph, Eq. 3-4) and the graph attention block of Fig. 3, checked against the official
``LocalGraph``, ``MultiGlobalGraph`` and ``GraphAttentionBlock``. Every module is per frame: it mixes joints and
channels, never frames.

Axis legend: ``n`` batch, ``t`` frames, ``v``/``i``/``j`` joints, ``h`` heads, ``d`` channels per head,
``c`` channels.
"""

from __future__ import annotations

import numpy as np
import torch
from einops import rearrange
from torch import nn
from torch.nn import functional as F  # noqa: N812

from skeletal.nn.dilated_temporal import ChannelsLastBatchNorm
from skeletal.nn.outputs import AttentionMaps
from skeletal.nn.semantic_graph_conv import SemanticChannelGraphConv


class LocalAttentionGraph(nn.Module):
    """Local attention graph (section III-B): two channel-wise semantic graph convolutions, fused.

    One convolution uses the symmetric kernel (each joint and its left/right partner), the other the kinematic
    kernel (first-order links, second-order for distal joints); each is followed by batch norm and ReLU; their
    concatenation is fused by a 1x1 convolution, batch norm, ReLU and dropout.

    Args:
        channels: Input and output channels ``C``.
        symmetric_kernel: ``(V, V)`` kernel, :func:`skeletal.skeletons.symmetric_adjacency`.
        kinematic_kernel: ``(V, V)`` kernel, :func:`skeletal.skeletons.kinematic_adjacency`.
        dropout: Dropout after the fusion.

    Shape:
        ``(N, T, V, C) -> (N, T, V, C)``.
    """

    def __init__(
        self, channels: int, symmetric_kernel: np.ndarray, kinematic_kernel: np.ndarray, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.symmetric = SemanticChannelGraphConv(channels, channels, symmetric_kernel)
        self.symmetric_norm = ChannelsLastBatchNorm(channels)
        self.kinematic = SemanticChannelGraphConv(channels, channels, kinematic_kernel)
        self.kinematic_norm = ChannelsLastBatchNorm(channels)
        self.fuse = nn.Linear(2 * channels, channels, bias=False)
        self.fuse_norm = ChannelsLastBatchNorm(channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        symmetric = F.relu(self.symmetric_norm(self.symmetric(x)))
        kinematic = F.relu(self.kinematic_norm(self.kinematic(x)))
        fused = self.fuse_norm(self.fuse(torch.cat([symmetric, kinematic], dim=-1)))
        return self.dropout(F.relu(fused))


class GlobalAttentionGraph(nn.Module):
    """Global attention graph (section III-C, Eq. 3-4): ``K`` heads of ``(B_k + C_k) g_k(x)``, concatenated.

    ``B_k`` is GAT-style attention: two 1x1 embeddings ``theta_k``, ``phi_k`` to ``C/K`` channels, their
    concatenation projected by a weight vector ``w_k``, LeakyReLU(0.2), softmax over the joints ``j``:
    ``B_k[i, j] = softmax_j(LeakyReLU(w_k^T [theta_k(x_i) || phi_k(x_j)]))``. As ``w_k^T [a || b]`` equals
    ``w_q^T a + w_k^T b``, the ``V x V`` score is the sum of two per-joint scores (same function and parameters
    as the official concatenation, without building the ``(2C/K, V, V)`` tensor). ``C_k`` is a free ``V x V``
    matrix initialised to zero; ``g_k`` a 1x1 embedding to ``C/K`` channels. The concatenated heads pass a 1x1
    convolution, batch norm, ReLU and dropout.

    Args:
        channels: Input and output channels ``C`` (a multiple of ``heads``).
        num_joints: Joints ``V``.
        heads: ``K`` (4 in the paper).
        dropout: Dropout at the end.

    Shape:
        ``(N, T, V, C) -> (N, T, V, C)``; attention ``(N, K, T, V, V)`` (query joint, key joint).
    """

    def __init__(self, channels: int, num_joints: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"global attention needs channels divisible by heads, got {channels} and {heads}")
        self.heads = heads
        head_channels = channels // heads
        self.value = nn.Linear(channels, channels)  # g_k of all heads
        self.query = nn.Linear(channels, channels)  # theta_k
        self.key = nn.Linear(channels, channels)  # phi_k
        for layer in (self.value, self.query, self.key):
            nn.init.kaiming_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
        # w_k split into its halves acting on theta_k(x_i) and on phi_k(x_j); kaiming-normal over 2 C/K inputs.
        std = (2.0 / (2 * head_channels)) ** 0.5
        self.query_score = nn.Parameter(torch.randn(heads, head_channels) * std)
        self.key_score = nn.Parameter(torch.randn(heads, head_channels) * std)
        self.learned_adjacency = nn.Parameter(torch.zeros(heads, num_joints, num_joints))  # C_k
        self.fuse = nn.Linear(channels, channels, bias=False)
        self.fuse_norm = ChannelsLastBatchNorm(channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, return_attention: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Apply the heads.

        Args:
            x: ``(N, T, V, C)``.
            return_attention: Also return ``B_k + C_k``, the adjacency each head applied.

        Returns:
            ``(output, attention)``: output ``(N, T, V, C)``; attention ``(N, K, T, V, V)`` or ``None``.
        """
        split = "n t v (h d) -> n t h v d"
        query = rearrange(self.query(x), split, h=self.heads)
        key = rearrange(self.key(x), split, h=self.heads)
        value = rearrange(self.value(x), split, h=self.heads)
        query_score = torch.einsum("nthvd,hd->nthv", query, self.query_score)
        key_score = torch.einsum("nthvd,hd->nthv", key, self.key_score)
        scores = F.leaky_relu(query_score.unsqueeze(-1) + key_score.unsqueeze(-2), 0.2)
        adjacency = torch.softmax(scores, dim=-1) + self.learned_adjacency  # B_k + C_k, Eq. 4
        heads = torch.matmul(adjacency, value)  # (n, t, h, v, d)
        output = self.fuse(rearrange(heads, "n t h v d -> n t v (h d)"))
        output = self.dropout(F.relu(self.fuse_norm(output)))
        attention = rearrange(adjacency, "n t h i j -> n h t i j") if return_attention else None
        return output, attention


class GraphAttentionBlock(nn.Module):
    """Graph attention block (Fig. 3): ``[x || local(x) || global(x)]`` fused by a 1x1 convolution to ``2C``.

    Followed by batch norm and ReLU, as in the official ``GraphAttentionBlock``; the channel count doubles,
    which is why the temporal stages of GAST-Net widen ``C, 2C, 4C, ...``.

    Args:
        channels: Input channels ``C``.
        symmetric_kernel: Symmetric kernel of the local graph.
        kinematic_kernel: Kinematic kernel of the local graph.
        heads: Heads of the global graph.
        dropout: Dropout inside the local and global graphs.

    Shape:
        ``(N, T, V, C) -> (N, T, V, 2C)``.
    """

    def __init__(
        self,
        channels: int,
        symmetric_kernel: np.ndarray,
        kinematic_kernel: np.ndarray,
        heads: int = 4,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.local_graph = LocalAttentionGraph(channels, symmetric_kernel, kinematic_kernel, dropout)
        self.global_graph = GlobalAttentionGraph(channels, symmetric_kernel.shape[0], heads, dropout)
        self.fuse = nn.Linear(3 * channels, 2 * channels, bias=False)
        self.fuse_norm = ChannelsLastBatchNorm(2 * channels)

    def forward(self, x: torch.Tensor, attention: AttentionMaps | None = None, name: str = "") -> torch.Tensor:
        """Fuse temporal, local and global features.

        Args:
            x: ``(N, T, V, C)``.
            attention: If given, the global graph's ``(N, K, T, V, V)`` adjacency is appended to its ``spatial``.
            name: Name recorded with the attention map.

        Returns:
            ``(N, T, V, 2C)``.
        """
        global_features, maps = self.global_graph(x, return_attention=attention is not None)
        if attention is not None and maps is not None:
            attention.add("spatial", name, maps)
        fused = self.fuse(torch.cat([x, self.local_graph(x), global_features], dim=-1))
        return F.relu(self.fuse_norm(fused))
