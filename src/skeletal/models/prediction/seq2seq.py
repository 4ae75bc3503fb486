"""The recurrent baseline: Martinez, Black, Romero, "On human motion prediction using recurrent neural networks"
(CVPR 2017), section 4: a GRU sequence-to-sequence model with a residual connection and sampling-based loss.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from einops import rearrange
from torch import nn

from skeletal.errors import ShapeError
from skeletal.models.prediction.common import MotionPredictor
from skeletal.models.registry import register_model
from skeletal.skeletons import Skeleton


class Seq2Seq(MotionPredictor):
    """GRU encoder-decoder over whole pose vectors with a residual connection (Martinez et al. 2017, fig. 2).

    One GRU cell (1024 units in the paper) is shared by the encoder and the decoder (the "tied" architecture
    of the official code); a linear layer maps its state to a pose velocity added to the input pose
    (section 4.2, "residual architecture").

    Two ways to run it:

    - :meth:`forward` (the uniform prediction API): the GRU reads the given frames and ``output[:, t]``
      predicts frame ``t + 1`` from frames ``0 .. t`` (teacher forcing).
    - :meth:`rollout`: encodes the seed, then feeds each prediction back as the next input. Training on
      :meth:`sampling_loss` (the loss of the rollout against the ground truth) is the paper's "sampling-based
      loss" (section 4.1) that exposes the network to its own errors. Generation uses ``rollout`` too, since a
      recurrent state carries the past without a sliding window.

    Args:
        skeleton: Layout (or registry name).
        representation: Rotation representation.
        hidden_size: GRU units.
        window: Training window in frames (seed length).

    Shape:
        ``(N, T, V, F) -> (N, T, V, F)``.
    """

    def __init__(
        self, skeleton: Skeleton | str, representation: str = "matrix", hidden_size: int = 1024, window: int = 120
    ) -> None:
        super().__init__(skeleton, representation, window)
        pose_size = self.num_joints * self.joint_features
        self.hidden_size = hidden_size
        self.cell = nn.GRU(pose_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, pose_size)

    def _velocity(self, states: torch.Tensor) -> torch.Tensor:
        return rearrange(self.head(states), "n t (v f) -> n t v f", v=self.num_joints)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check(x)
        states, _ = self.cell(rearrange(x, "n t v f -> n t (v f)"))
        return x + self._velocity(states)

    def rollout(
        self,
        seed: torch.Tensor,
        num_frames: int,
        postprocess: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Predict ``num_frames`` frames after ``seed``, feeding every prediction back (differentiable).

        Args:
            seed: ``(N, T_seed, V, F)``, ``T_seed >= 1``.
            num_frames: Frames to predict.
            postprocess: Applied to each predicted frame ``(N, 1, V, F)`` before it is fed back (generation
                uses it to project onto valid rotations).

        Returns:
            ``(N, num_frames, V, F)``.
        """
        self.check(seed)
        if seed.shape[1] < 1 or num_frames < 0:
            raise ShapeError(f"rollout needs a seed of >= 1 frame and num_frames >= 0, got {tuple(seed.shape)}")
        state = None
        if seed.shape[1] > 1:
            _, state = self.cell(rearrange(seed[:, :-1], "n t v f -> n t (v f)"))
        previous = seed[:, -1:]
        frames = []
        for _ in range(num_frames):
            output, state = self.cell(rearrange(previous, "n t v f -> n t (v f)"), state)
            previous = previous + self._velocity(output)
            if postprocess is not None:
                previous = postprocess(previous)
            frames.append(previous)
        if not frames:
            return seed.new_zeros(seed.shape[0], 0, *seed.shape[2:])
        return torch.cat(frames, dim=1)

    def sampling_loss(self, seed: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Sampling-based loss of section 4.1: mean squared error of :meth:`rollout` against ``target``.

        Args:
            seed: ``(N, T_seed, V, F)``.
            target: ``(N, T_target, V, F)``, the frames that follow the seed.

        Returns:
            Scalar loss, averaged over frames, joints and features (the official ``reduce_mean``).
        """
        self.check(target)
        prediction = self.rollout(seed, target.shape[1])
        return torch.mean((prediction - target) ** 2)


@register_model("seq2seq", "prediction", "Martinez et al. 2017, residual GRU seq2seq with sampling-based loss")
def seq2seq(
    skeleton: Skeleton | str = "amass15", representation: str = "matrix", hidden_size: int = 1024, window: int = 120
) -> nn.Module:
    """Residual GRU encoder-decoder (1024 units, tied weights) of Martinez et al. 2017."""
    return Seq2Seq(skeleton, representation, hidden_size, window)
