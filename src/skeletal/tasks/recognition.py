"""Action recognition: cross-entropy, SGD with step decay, top-1/top-5 accuracy (ST-TR, Sec. V-B)."""

from __future__ import annotations

from typing import Any, ClassVar, cast

import torch
import torch.nn.functional as F
from torchmetrics import MeanMetric

from skeletal.tasks.base import SkeletalTask


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """Per-sample 1.0 when the label is among the ``k`` highest logits (``k`` capped at the class count).

    Shape:
        logits: ``(N, classes)``; labels: ``(N,)``; returns ``(N,)`` float.
    """
    k = min(k, logits.shape[-1])
    top = logits.topk(k, dim=-1).indices
    return (top == labels[:, None]).any(dim=-1).float()


class RecognitionTask(SkeletalTask):
    """Recognition training as in ST-TR (Plizzari et al., Sec. V-B), after ST-GCN and 2s-AGCN.

    Loss: cross-entropy on the logits. Optimiser: SGD, momentum 0.9, Nesterov, weight decay 1e-4, learning
    rate 0.1 divided by 10 at the ``milestones`` epochs (60 and 90 of 120 on NTU; 45 and 55 of 65 on
    Kinetics). Metrics: top-1 and top-5 accuracy (fraction in [0, 1]), averaged over samples (and ranks).

    Shape:
        batch: ``x (N, M, T, V, C)``, ``y (N,)``; the model returns logits ``(N, classes)``, or summed
        probabilities when it says ``outputs_probabilities`` (``TwoStream``): then the loss is the negative
        log-likelihood of the normalised scores and ``predict_step`` returns them normalised.
    """

    task_name: ClassVar[str] = "recognition"
    DEFAULTS: ClassVar[dict[str, Any]] = {"lr": 0.1, "gamma": 0.1}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.accuracy = torch.nn.ModuleDict(
            {f"{stage}_top{k}": MeanMetric() for stage in ("train", "val", "test") for k in (1, 5)}
        )

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        logits = self.model(x)
        if getattr(self.model, "outputs_probabilities", False):
            probabilities = logits / logits.sum(dim=-1, keepdim=True)
            loss = F.nll_loss(probabilities.clamp_min(1e-12).log(), y)
        else:
            loss = F.cross_entropy(logits, y)
        on_step = stage == "train"
        self.log(f"{stage}/loss", loss, prog_bar=True, on_step=on_step, on_epoch=True, sync_dist=not on_step)
        for k in (1, 5):
            metric = cast(MeanMetric, self.accuracy[f"{stage}_top{k}"])
            metric.update(topk_correct(logits.detach(), y, k))
            self.log(f"{stage}/top{k}", metric, prog_bar=k == 1, on_step=False, on_epoch=True)
        return loss

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        scores = self.model(batch[0])
        if getattr(self.model, "outputs_probabilities", False):
            return scores / scores.sum(dim=-1, keepdim=True)
        return scores.softmax(dim=-1)

    def configure_optimizers(self) -> Any:
        opt = self.optim
        optimizer = torch.optim.SGD(
            self.parameters(),
            lr=self._required_setting("lr"),
            momentum=opt.momentum,
            nesterov=opt.nesterov,
            weight_decay=opt.weight_decay,
        )
        schedule = torch.optim.lr_scheduler.MultiStepLR(
            optimizer, milestones=list(opt.milestones), gamma=self._required_setting("gamma")
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "epoch"}}
