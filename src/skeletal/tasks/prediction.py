"""Motion prediction: next-step loss over the whole window, Adam with the Transformer schedule, early stopping
on the joint-angle error (ST-Transformer, Aksan et al., supplementary Sec. "Training details")."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

import roma
import torch
from torch import nn

from skeletal.data.augment_prediction import mirror_positions, mirror_rotations, reverse_time
from skeletal.errors import ConfigError
from skeletal.inference.incremental import sample
from skeletal.tasks.base import SkeletalTask

REPRESENTATIONS = {"matrix": 9, "axis_angle": 3, "quaternion": 4, "rotation_6d": 6, "positions": 3}


def next_step_loss(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-joint L2 loss of next-step prediction: frame ``t`` of ``output`` predicts frame ``t + 1`` of ``x``.

    The Euclidean norm of each joint's error on the representation, summed over joints and averaged over
    batch and frames (every frame of the window is a training target: the input shifted by one step).

    Shape:
        output, x: ``(N, T, V, F)``; returns a scalar.
    """
    diff = output[:, :-1] - x[:, 1:]
    return diff.norm(dim=-1).sum(dim=-1).mean()


def transformer_schedule(step: int, d_model: int, warmup: int) -> float:
    """``D^-0.5 * min(step^-0.5, step * warmup^-1.5)`` (Vaswani et al. Eq. 3; ST-Transformer supp.), step >= 1."""
    step = max(step, 1)
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


def _scheduler_factor(index: int, d_model: int, warmup: int) -> float:
    # LambdaLR counts optimiser steps from 0; the schedule's step count starts at 1.
    return transformer_schedule(index + 1, d_model, warmup)


def rollout(
    model: nn.Module, seed: torch.Tensor, steps: int, context: int | None = None, cache: str = "exact"
) -> torch.Tensor:
    """Autoregressive prediction: feed the last ``context`` frames, append the prediction of the next one.

    ``context`` defaults to the seed length (a sliding window). A ``context`` longer than the seed, e.g. the
    model's ``window``, is the official ST-Transformer ``sample`` rule: the context grows from the whole seed up
    to ``context`` frames, then slides (:func:`skeletal.inference.incremental.sample`, which runs this; causal
    attention models reuse their cached keys and values while the context grows, in eval mode without
    gradients). Predictions are fed back unprojected.

    Args:
        model: Prediction model.
        seed: Observed poses.
        steps: Frames to predict.
        context: Most frames the model sees at each step.
        cache: ``"exact"`` (default), ``"approximate-slide"`` or ``"off"``
            (:data:`skeletal.inference.incremental.CACHE_MODES`).

    Shape:
        seed: ``(N, T_seed, V, F)``; returns ``(N, steps, V, F)``.
    """
    return sample(model, seed, steps, context or seed.shape[1], cache=cache)


def joint_angle(prediction: torch.Tensor, target: torch.Tensor, representation: str) -> float:
    """Joint-angle error (radians): geodesic angle between predicted and true joint rotations, averaged over
    joints, frames and samples (:func:`skeletal.metrics.motion.joint_angle_error`, reference ``angle_diff``).

    Predicted rotations are converted to matrices and projected onto SO(3) first. The rotations compared are
    those of the representation (local); the full AMASS protocol, on global rotations after forward
    kinematics, belongs to the evaluation scripts. For ``positions`` the mean Euclidean joint error is given.

    Shape:
        prediction, target: ``(N, T, V, F)``.
    """
    from skeletal.geometry.rotations import convert_rotations
    from skeletal.metrics.motion import joint_angle_error

    if representation == "positions":
        return float((prediction - target).norm(dim=-1).mean())
    if representation not in REPRESENTATIONS:
        raise ConfigError(f"optim.representation: expected one of {tuple(REPRESENTATIONS)}, got {representation!r}")
    pred = roma.special_procrustes(convert_rotations(prediction.double(), representation, "matrix"))
    true = convert_rotations(target.double(), representation, "matrix")
    return float(joint_angle_error(pred, true, per_frame=False))


def zero_output_projection(model: nn.Module) -> None:
    """Zero the output projection ``model.head`` of a residual predictor (``optim.zero_init_head``).

    Every residual model here predicts ``x + head(hidden)``; with ``head`` at zero it starts as the zero-velocity
    baseline and training learns the change of pose. Not in the papers (their heads start at PyTorch's default
    initialisation): without it, short CPU runs spend their first thousands of steps undoing a random offset of
    every pose, and a model trained through ``skeletal train`` from a random head scored ten times worse than
    zero-velocity after the same budget.

    Raises:
        ConfigError: The model has no ``head`` with weights to zero.
    """
    head = getattr(model, "head", None)
    parameters = list(head.parameters()) if isinstance(head, nn.Module) else []
    if not parameters:
        raise ConfigError(f"optim.zero_init_head: {type(model).__name__} has no output projection 'head' to zero")
    with torch.no_grad():
        for parameter in parameters:
            parameter.zero_()


class PredictionTask(SkeletalTask):
    """Autoregressive motion prediction training as in the ST-Transformer (Aksan et al., supp. material).

    Loss: :func:`next_step_loss` over the whole window (seed and target); a model with a ``sampling_loss``
    method (``seq2seq``) trains on it instead when the windows are longer than ``seed_frames``. Optimiser: Adam
    (``optim.betas``, ``optim.eps``; PyTorch's defaults, as the official code) with the learning rate
    ``lr * D^-0.5 * min(step^-0.5, step * warmup^-1.5)``, D the joint embedding size (``optim.d_model``, else the
    model's ``d_model`` keyword), warmup 10000 steps; gradients clipped at global norm 1.0
    (``trainer.gradient_clip_val``). Validation: ``val/joint_angle``, the joint-angle error (radians, averaged
    over joints and the ``horizon`` predicted frames) of an autoregressive rollout from the first ``seed_frames``
    frames; early stopping watches it. ``optim.zero_init_head`` zeroes the output projection first
    (:func:`zero_output_projection`).

    Shape:
        batch: ``x (N, T, V, F)``; the model maps ``(N, T, V, F)`` to the next-step ``(N, T, V, F)``.
    """

    task_name: ClassVar[str] = "prediction"
    DEFAULTS: ClassVar[dict[str, Any]] = {"lr": 1.0, "patience": 20, "horizon": 24}
    monitor: ClassVar[str] = "val/joint_angle"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.optim.zero_init_head:
            zero_output_projection(self.model)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        horizon = min(int(self.optim.horizon or 1), x.shape[1] - 1)
        seed_frames = self.optim.seed_frames or x.shape[1] - horizon
        if seed_frames + horizon > x.shape[1]:
            raise ConfigError(
                f"optim.seed_frames + optim.horizon = {seed_frames + horizon} exceeds the {x.shape[1]} frames of the "
                "validation windows"
            )
        return x[:, :seed_frames], x[:, seed_frames : seed_frames + horizon]

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """Reverse and mirror training windows at random (``optim.reverse_train``, ``optim.mirror_train``).

        ST-Transformer supplement, "Data augmentation": on H3.6M each sequence is reverted or mirrored with a
        chance of 0.5. The draws come from a generator seeded by the run seed, the rank and the global step, so
        a resumed run draws what the uninterrupted one did.
        """
        p_reverse, p_mirror = self.optim.reverse_train, self.optim.mirror_train
        if not (p_reverse or p_mirror):
            return x
        seed = int((self.hparams.get("config") or {}).get("seed", 0))
        generator = torch.Generator().manual_seed(seed * 1_000_003 + self.global_rank * 7_919 + self.global_step)
        reverse = (torch.rand(x.shape[0], generator=generator) < p_reverse).to(x.device)
        mirror = (torch.rand(x.shape[0], generator=generator) < p_mirror).to(x.device)
        x = torch.where(reverse[:, None, None, None], reverse_time(x), x)
        if mirror.any():
            layout = self.skeleton_name or getattr(self.model, "skeleton", None)
            if not layout:
                raise ConfigError("optim.mirror_train needs the data's layout (data.skeleton or the model's skeleton)")
            x = x.clone()
            if self.optim.representation == "positions":
                x[mirror] = mirror_positions(x[mirror], layout)
            else:
                x[mirror] = mirror_rotations(x[mirror], layout, self.optim.representation)
        return x

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        """Random crops of ``optim.train_frames`` consecutive frames, one start per window (not in the paper).

        The starts come from a generator seeded by the run seed, the rank and the global step (as
        :meth:`augment`), so a resumed run crops what the uninterrupted one did.

        Raises:
            ConfigError: The windows are shorter than ``train_frames``.
        """
        frames = self.optim.train_frames
        if not frames or frames == x.shape[1]:
            return x
        if frames > x.shape[1]:
            raise ConfigError(f"optim.train_frames = {frames} exceeds the {x.shape[1]} frames of the training windows")
        seed = int((self.hparams.get("config") or {}).get("seed", 0))
        generator = torch.Generator().manual_seed(seed * 1_000_033 + self.global_rank * 7_927 + self.global_step)
        starts = torch.randint(0, x.shape[1] - frames + 1, (x.shape[0],), generator=generator).to(x.device)
        index = starts[:, None] + torch.arange(frames, device=x.device)
        return x[torch.arange(x.shape[0], device=x.device)[:, None], index]

    def training_step(self, batch: tuple[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, seed_frames = self.augment(self.crop(batch[0])), self.optim.seed_frames
        sampling_loss = getattr(self.model, "sampling_loss", None)
        if callable(sampling_loss) and seed_frames and x.shape[1] > seed_frames:
            # Recurrent models (seq2seq) train on their rollout: Martinez et al.'s sampling-based loss.
            loss = sampling_loss(x[:, :seed_frames], x[:, seed_frames:])
        else:
            loss = next_step_loss(self.model(x), x)
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True)
        return loss

    def _evaluate(self, batch: tuple[torch.Tensor], stage: str) -> None:
        x = batch[0]
        self.log(f"{stage}/loss", next_step_loss(self.model(x), x), on_epoch=True, sync_dist=True)
        seed, target = self._split(x)
        # The official sampling rule, as the evaluation protocols use it: the context grows up to the model's window.
        window = int(getattr(self.model, "window", seed.shape[1]))
        predicted = rollout(self.model, seed, target.shape[1], context=window)
        angle = joint_angle(predicted, target, self.optim.representation)
        self.log(f"{stage}/joint_angle", angle, prog_bar=True, on_epoch=True, sync_dist=True)
        error = (predicted - target).norm(dim=-1).mean()
        self.log(f"{stage}/joint_error", error, on_epoch=True, sync_dist=True)

    def validation_step(self, batch: tuple[torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        seed, target = self._split(batch[0])
        return rollout(self.model, seed, target.shape[1], context=seed.shape[1])

    def _d_model(self) -> int:
        if self.optim.d_model:
            return int(self.optim.d_model)
        kwargs = self.hparams.get("model_kwargs") or {}
        for key in ("d_model", "model_dim", "embed_dim", "dim"):
            if key in kwargs:
                return int(kwargs[key])
        found = getattr(self.model, "d_model", None)
        if found is None:
            raise ConfigError("optim.d_model: the Transformer schedule needs the joint embedding size D")
        return int(found)

    def configure_optimizers(self) -> Any:
        d_model, warmup = self._d_model(), int(self.optim.warmup)
        betas = (float(self.optim.betas[0]), float(self.optim.betas[1]))
        optimizer = torch.optim.Adam(
            self.parameters(), lr=self._required_setting("lr"), betas=betas, eps=self.optim.eps
        )
        factor = partial(_scheduler_factor, d_model=d_model, warmup=warmup)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
