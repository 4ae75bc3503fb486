"""Lightning modules (one per task, with its paper's loss, optimiser and schedule) and the training entry points.

Example:
    >>> from skeletal.config import load_config
    >>> from skeletal.tasks import train
    >>> result = train(load_config("configs/recognition/demo.yaml"))
    >>> result.model_file  # runs/recognition-demo/model.safetensors
"""

from skeletal.data.datasets import ArrayDataset, load_split, synthetic_splits
from skeletal.data.module import SkeletonDataModule
from skeletal.tasks.base import SkeletalTask
from skeletal.tasks.engine import TrainResult, build_task, evaluate, predict, read_metrics, train, train_file
from skeletal.tasks.lifting import LiftingTask, flip_horizontal
from skeletal.tasks.prediction import PredictionTask, next_step_loss, rollout, transformer_schedule
from skeletal.tasks.recognition import RecognitionTask, topk_correct

__all__ = [
    "ArrayDataset",
    "LiftingTask",
    "PredictionTask",
    "RecognitionTask",
    "SkeletalTask",
    "SkeletonDataModule",
    "TrainResult",
    "build_task",
    "evaluate",
    "flip_horizontal",
    "load_split",
    "next_step_loss",
    "predict",
    "read_metrics",
    "rollout",
    "synthetic_splits",
    "topk_correct",
    "train",
    "train_file",
    "transformer_schedule",
]
