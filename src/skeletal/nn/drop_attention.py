"""Scaled dot-product attention with DropAttention, fused where possible.

DropAttention (Zehui et al. 2019, "DropAttention: a regularization method for fully-connected self-attention
networks"), used by ST-TR (journal section V-B): during training whole *columns* of the attention matrix (keys)
are dropped and every row is renormalised to sum to one. As in the official ST-TR code the drop pattern is drawn
per sequence and head and shared by all queries.

Renormalising the kept softmax weights equals a softmax restricted to the kept keys, so the dropped columns are
passed as a boolean mask to :func:`torch.nn.functional.scaled_dot_product_attention` (the fused kernel) where
that kernel is the faster path (:func:`~skeletal.nn.joint_attention.prefer_fused_attention`: training, GPUs)
and the weights themselves are not asked for (visualisation); otherwise :func:`attend` computes them explicitly.

Axis legend: ``b`` batch (sequences), ``h`` heads, ``l`` queries, ``s`` keys, ``d`` channels per head.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from skeletal.nn.joint_attention import prefer_fused_attention


class DropAttention(nn.Module):
    """Column DropAttention: drop keys with probability ``p`` in training, renormalise rows.

    Args:
        p: Probability of dropping a column (0.5 in the official ST-TR code).

    A row whose every column would be dropped keeps all its columns (the official code would leave it all
    zeros), so rows always sum to one.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"DropAttention probability must be in [0, 1), got {p}")
        self.p = p

    @property
    def active(self) -> bool:
        """Whether columns are dropped now (training with ``p > 0``)."""
        return self.training and self.p > 0.0

    def keep_mask(self, batch: int, heads: int, keys: int, device: torch.device | None = None) -> torch.Tensor | None:
        """Boolean ``(B, H, 1, S)`` mask of the kept columns, or ``None`` when nothing is dropped (eval, p=0)."""
        if not self.active:
            return None
        keep = torch.rand(batch, heads, 1, keys, device=device) >= self.p
        empty = ~keep.any(dim=-1, keepdim=True)
        return keep | empty

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        """Apply to attention probabilities ``(B, H, L, S)``; identity in eval mode."""
        keep = self.keep_mask(weights.shape[0], weights.shape[1], weights.shape[-1], weights.device)
        if keep is None:
            return weights
        kept = weights * keep
        total = kept.sum(dim=-1, keepdim=True)
        return torch.where(total > 0, kept / total.clamp_min(torch.finfo(weights.dtype).tiny), weights)


def attend(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    keep: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    need_weights: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``softmax(Q K^T / sqrt(d_k) + bias)`` restricted to kept keys, times ``V`` (ST-TR Eq. 6-8).

    Args:
        query: ``(B, H, L, d_k)``.
        key: ``(B, H, S, d_k)``.
        value: ``(B, H, S, d_v)``.
        keep: Boolean mask broadcastable to ``(B, H, L, S)``; ``False`` keys are excluded (DropAttention, padding).
            Every row must keep at least one key.
        bias: Additive logits broadcastable to ``(B, H, L, S)`` (relative positions), added after the scaling.
        need_weights: Also return the attention weights; computed explicitly instead of by the fused kernel.

    Returns:
        ``(B, H, L, d_v)`` output and the ``(B, H, L, S)`` weights (or ``None``).
    """
    if not need_weights and prefer_fused_attention(query):
        mask = bias
        if keep is not None:
            mask = keep if bias is None else bias.masked_fill(~keep, float("-inf"))
        return F.scaled_dot_product_attention(query, key, value, attn_mask=mask), None
    logits = (query * (1.0 / math.sqrt(query.shape[-1]))) @ key.transpose(-1, -2)  # scale the smaller operand
    if bias is not None:
        logits = logits + bias
    if keep is not None:
        logits = logits.masked_fill(~keep, float("-inf"))
    weights = torch.softmax(logits, dim=-1)
    return weights @ value, (weights if need_weights else None)
