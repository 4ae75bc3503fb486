"""Real-time lifting: one frame of 2D keypoints in, its 3D pose out, with a causal temporal model.

:class:`StreamingLifter` runs a causal :class:`~skeletal.models.lifting.temporal.TemporalLifter` (GAST-Net or
VideoPose3D) incrementally. Stage ``i`` of the layer-by-layer model needs, for the newest frame, only ``k_i``
of its inputs spaced by its dilation ``d_i``; a ring buffer per stage keeps the last ``(k_i - 1) d_i + 1``
of them, so each new frame costs one single-frame (strided) evaluation of every stage on ``k_i`` cached
activations, and memory is constant. The first frame fills every buffer as if it had been repeated ``RF - 1``
times before, which is how VideoPose3D pads the start of a sequence; the output therefore equals
``model.lift(sequence)`` of the causal whole-sequence model, frame by frame.
"""

from __future__ import annotations

import numpy as np
import torch

from skeletal.errors import ConfigError, ShapeError
from skeletal.models.lifting.flip import flip_horizontal
from skeletal.models.lifting.temporal import TemporalLifter, TemporalStage
from skeletal.nn.validate import check_finite


class StreamingLifter:
    """Causal frame-by-frame 2D-to-3D lifter with per-stage activation caches.

    Args:
        model: A causal lifter (``causal=True``); it is switched to evaluation mode.
        flip: Average with the flipped prediction (test-time flip augmentation), run as a batch of two.
        device: Device of the computation (the model's by default).

    Example:
        >>> lifter = StreamingLifter(skeletal.models.create("gast-net-27", causal=True))
        >>> for keypoints in stream:          # (V, 2) per frame
        ...     pose = lifter.step(keypoints)  # (V, 3)
    """

    def __init__(self, model: TemporalLifter, flip: bool = False, device: torch.device | str | None = None) -> None:
        if not isinstance(model, TemporalLifter):
            raise ConfigError(f"StreamingLifter needs a temporal lifter (gast-net, videopose3d), got {type(model)}")
        if not model.causal:
            raise ConfigError(
                f"StreamingLifter needs a causal model (build it with causal=True); {model.name} is symmetric and "
                f"would need {model.receptive_field // 2} future frames"
            )
        self.model = model.eval()
        self.flip = flip
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model.to(self.device)
        self.stages: list[TemporalStage] = [stage for stage in model.stages if isinstance(stage, TemporalStage)]
        self.spans = [(stage.kernel_size - 1) * stage.dilation + 1 for stage in self.stages]
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next frame starts a new sequence."""
        self.buffers: list[torch.Tensor] = []
        self.positions: list[int] = []
        self.frames = 0

    @property
    def latency_frames(self) -> int:
        """Frames of delay between an input and its output: 0 (the model is causal)."""
        return 0

    @torch.inference_mode()
    def step(self, keypoints: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Lift one frame.

        Args:
            keypoints: ``(V, 2)`` 2D keypoints of the newest frame (normalised screen coordinates).

        Returns:
            ``(V, 3)`` root-relative 3D pose of that frame (on the CPU).
        """
        frame = torch.as_tensor(keypoints, dtype=torch.float32, device=self.device)
        layout = self.model.skeleton
        if frame.dim() != 2 or frame.shape[-1] != self.model.in_features:
            raise ShapeError(
                f"StreamingLifter.step expects one frame (V, {self.model.in_features}), got {tuple(frame.shape)}"
            )
        layout.check(frame.shape[0], what=f"frame {self.frames} of the stream")
        check_finite(frame, f"frame {self.frames} of the stream")
        batch = frame[None, None]  # (1, 1, V, 2)
        if self.flip:
            batch = torch.cat([batch, flip_horizontal(batch, layout)])
        features = self.model.encode(batch)
        first = not self.buffers
        for index, stage in enumerate(self.stages):
            window = self._push(index, features[:, 0], first)
            features = stage(window, True, True)
        output = self.model.decode(features)[:, 0]  # (B, V, 3)
        output = (output[0] + flip_horizontal(output[1], layout)) / 2 if self.flip else output[0]
        self.frames += 1
        return output.cpu()

    def _push(self, index: int, value: torch.Tensor, first: bool) -> torch.Tensor:
        """Store ``value`` (the stage input of the newest frame) and return the stage's ``k`` taps, oldest first."""
        span, stage = self.spans[index], self.stages[index]
        if first:
            self.buffers.append(value.unsqueeze(1).expand(-1, span, *value.shape[1:]).clone())
            self.positions.append(span - 1)
        else:
            position = (self.positions[index] + 1) % span
            self.buffers[index][:, position] = value
            self.positions[index] = position
        newest = self.positions[index]
        taps = [(newest - (stage.kernel_size - 1 - tap) * stage.dilation) % span for tap in range(stage.kernel_size)]
        return self.buffers[index][:, taps]

    def run(self, sequence: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Feed a ``(T, V, 2)`` sequence frame by frame (after :meth:`reset`); returns ``(T, V, 3)``."""
        self.reset()
        return torch.stack([self.step(frame) for frame in torch.as_tensor(sequence, dtype=torch.float32)])
