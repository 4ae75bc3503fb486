"""2D-to-3D lifting: MPJPE loss, Adam (amsgrad) with exponential decay, flip augmentation (GAST-Net, Sec. 4.1).

Batch-norm momentum (``optim.bn_momentum``): VideoPose3D's ``run.py`` (line 273-274, 589-591) decays it from
0.1 to 0.001 over training, ``m(e) = m_0 exp(-e / E log(m_0 / m_E))`` during epoch ``e`` of ``E``; its presets
(``configs/lifting/videopose3d_*``) set ``bn_momentum: [0.1, 0.001]``. GAST-Net's official ``trainval.py``
defines ``initial_momentum = 0.1, final_momentum = 0.01`` (line 86-87) but never applies them, so its presets
leave the momentum at PyTorch's 0.1, as its training ran.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import nn

from skeletal import skeletons
from skeletal.errors import ConfigError
from skeletal.metrics.pose import mpjpe_loss, p_mpjpe
from skeletal.tasks.base import SkeletalTask


def flip_horizontal(points: torch.Tensor, permutation: tuple[int, ...] | list[int]) -> torch.Tensor:
    """Mirror poses: negate x and swap left and right joints (VideoPose3D/GAST-Net flip augmentation).

    Assumes x is centred (screen-normalised 2D, camera-frame 3D), so that ``-x`` is the mirror image.

    Shape:
        points: ``(N, T, V, C)``; returns the same shape. Applying it twice is the identity.
    """
    mirrored = points[:, :, list(permutation)].clone()
    mirrored[..., 0] = -mirrored[..., 0]
    return mirrored


class LiftingTask(SkeletalTask):
    """2D-to-3D lifting training as in GAST-Net (Liu et al., Sec. 4.1) after VideoPose3D.

    Loss: MPJPE between the predicted and true 3D joints of the output frames. Optimiser: Adam with amsgrad,
    learning rate 1e-3 multiplied by 0.95 after every epoch (0.98 on HumanEva). Augmentation: each training
    window is mirrored (:func:`flip_horizontal`) with probability 1/2; at test time the prediction is averaged
    with the mirrored prediction of the mirrored input. Metrics (``metric_scale`` = 1000: metres to mm):
    ``mpjpe`` (Protocol #1) and ``p_mpjpe`` (Protocol #2).

    The model maps ``T`` input frames to ``T'`` output frames (``T' = T - receptive_field + 1``); the targets
    are the central ``T'`` frames of the window, or the last ``T'`` for a causal model (``model.causal``).

    Shape:
        batch: ``x (N, T, V, 2)``, ``y (N, T, V, 3)``.
    """

    task_name: ClassVar[str] = "lifting"
    DEFAULTS: ClassVar[dict[str, Any]] = {"lr": 1e-3, "gamma": 0.95}
    monitor: ClassVar[str] = "val/mpjpe"
    metric_scale: ClassVar[float] = 1000.0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.optim.flip_train or self.optim.flip_test:
            if not self.skeleton_name:
                raise ConfigError("flip augmentation needs the layout: set data.skeleton or model.kwargs.skeleton")
            layout = skeletons.get(self.skeleton_name)
            if not layout.left:
                raise ConfigError(f"layout {layout.name!r} has no left/right joints; set optim.flip_train=false")
            self.permutation = layout.flip_permutation

    def _targets(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        frames = output.shape[1]
        start = y.shape[1] - frames if getattr(self.model, "causal", False) else (y.shape[1] - frames) // 2
        return y[:, start : start + frames]

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        """The model on ``x``, in single-frame (strided) mode when the window is exactly its receptive field.

        Both modes share the weights and give the same output for a receptive-field-long window (GAST-Net journal,
        Sec. V-A); the strided one skips the frames the single output does not need, so windows of ``RF`` frames
        (the paper's training) run in it and longer windows (chunks, whole sequences) run layer by layer.
        """
        model: Any = self.model  # duck-typed: any lifter with these two attributes
        if hasattr(model, "strided") and hasattr(model, "receptive_field"):
            model.strided = x.shape[1] == model.receptive_field
        return self.model(x)

    def _predict(self, x: torch.Tensor) -> torch.Tensor:
        output = self._run(x)
        if self.optim.flip_test:
            mirrored = flip_horizontal(self._run(flip_horizontal(x, self.permutation)), self.permutation)
            output = (output + mirrored) / 2
        return output

    def bn_momentum(self, epoch: int) -> float | None:
        """The batch-norm momentum of ``epoch`` (0-based) under ``optim.bn_momentum``, or None (unchanged)."""
        setting = self.optim.bn_momentum
        if setting is None:
            return None
        if len(setting) != 2 or not all(0 < value <= 1 for value in setting):
            raise ConfigError(f"optim.bn_momentum must be [initial, final] in (0, 1], got {setting!r}")
        initial, final = setting
        epochs = self.trainer.max_epochs if self._trainer is not None else None
        if not epochs or epochs < 1:
            raise ConfigError("optim.bn_momentum decays over trainer.max_epochs, which must be set")
        return initial * math.exp(-epoch / epochs * math.log(initial / final))

    def _set_bn_momentum(self, epoch: int) -> None:
        momentum = self.bn_momentum(epoch)
        if momentum is None:
            return
        for module in self.model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.momentum = momentum

    def on_train_start(self) -> None:
        self._set_bn_momentum(self.current_epoch)  # also right after a resume

    def on_train_epoch_end(self) -> None:
        self._set_bn_momentum(self.current_epoch + 1)  # run.py: epoch += 1, then the momentum of the next epoch

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        if self.optim.flip_train:
            chosen = torch.rand(x.shape[0], device=x.device) < 0.5
            x = torch.where(chosen[:, None, None, None], flip_horizontal(x, self.permutation), x)
            y = torch.where(chosen[:, None, None, None], flip_horizontal(y, self.permutation), y)
        output = self._run(x)
        loss = mpjpe_loss(output, self._targets(output, y))
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True)
        return loss

    def _evaluate(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> None:
        x, y = batch
        output = self._predict(x)
        target = self._targets(output, y)
        scale = self.metric_scale
        self.log(f"{stage}/mpjpe", mpjpe_loss(output, target) * scale, prog_bar=True, on_epoch=True, sync_dist=True)
        self.log(f"{stage}/p_mpjpe", p_mpjpe(output.detach(), target) * scale, on_epoch=True, sync_dist=True)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._predict(batch[0])

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.Adam(self.parameters(), lr=self._required_setting("lr"), amsgrad=self.optim.amsgrad)
        schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self._required_setting("gamma"))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "epoch"}}
