"""Every recognition preset of configs/recognition/ runs: its model is built and trained for one step on tiny
fake data of the preset's layout (an NTU/Kinetics-format memmap part written in tmp, as prepare_ntu writes it),
at reduced width (first stage 16 channels) and 16 frames; the full-width run of one preset is marked slow."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from skeletal import checkpoint
from skeletal.config import load_config
from skeletal.tasks import read_metrics, train_file

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "recognition"
PRESETS = sorted(p.name for p in CONFIGS.glob("*.yaml") if not p.name.startswith("_"))
FAST = ["trainer.max_epochs=1", "trainer.limit_train_batches=1", "trainer.limit_val_batches=1"]
FAST += ["trainer.check_val_every_n_epoch=1"]  # the demo validates every 5 epochs only
FAST += ["trainer.progress_bar=false", "trainer.accelerator=cpu", "data.batch_size=2", "data.num_workers=0"]


def write_part(folder: Path, part: str, samples: int, persons: int, joints: int, classes: int, seed: int) -> Path:
    """A ``{part}_data.npy`` memmap ``(N, M, T, V, 3)`` and ``{part}_label.json`` as ``prepare_ntu`` writes."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    data = np.lib.format.open_memmap(folder / f"{part}_data.npy", "w+", np.float32, (samples, persons, 16, joints, 3))
    data[:] = rng.normal(size=data.shape)
    data[:, 1:] = 0.0  # a single person, the second slot zero as in the NTU arrays
    data.flush()
    labels = [int(i) % classes for i in range(samples)]
    (folder / f"{part}_label.json").write_text(json.dumps({"sample_names": [str(i) for i in labels], "labels": labels}))
    return folder / f"{part}_data.npy"


def run_preset(name: str, tmp_path: Path, reduced: bool) -> tuple:
    config = load_config(CONFIGS / name)
    overrides = [*FAST, f"output={tmp_path / 'runs'}"]
    if config.data.source == "arrays":
        kwargs = config.model.kwargs
        joints = 18 if kwargs.get("skeleton") == "openpose18" else 25
        classes = int(kwargs.get("num_classes", 60))
        train = write_part(tmp_path / "data", "train", 2, 2, joints, classes, 0)
        val = write_part(tmp_path / "data", "val", 2, 2, joints, classes, 1)
        overrides += [f"data.train={train}", f"data.val={val}"]
    else:  # the synthetic demo: fewer samples and frames
        overrides += ["data.synthetic={num_train: 4, num_val: 2, num_frames: 16, num_people: 1}"]
    if reduced:
        overrides.append("model.kwargs.width=16")
    result = train_file(CONFIGS / name, overrides)
    return config, result


@pytest.mark.parametrize("name", PRESETS)
def test_preset_trains_one_step(name: str, tmp_path: Path) -> None:
    config, result = run_preset(name, tmp_path, reduced=True)
    rows = read_metrics(result.run_dir)
    losses = [float(r["train/loss_step"]) for r in rows if r.get("train/loss_step")]
    losses += [float(r["val/loss"]) for r in rows if r.get("val/loss")]
    assert losses and all(math.isfinite(v) for v in losses)
    info = checkpoint.read_metadata(result.model_file)
    assert info.model_name == config.model.name and info.task == "recognition"
    assert info.model_kwargs["width"] == 16
    assert info.config["data"]["stream"] == config.data.stream
    assert set(result.metrics) >= {"val/top1", "val/top5"}


def test_presets_cover_the_papers() -> None:
    for model in ("s-tr", "t-tr", "st-gcn", "agcn"):
        for dataset in ("ntu60_xsub", "ntu60_xview", "ntu120_xsub", "ntu120_xset", "kinetics"):
            assert f"{model}_{dataset}.yaml" in PRESETS
    bones = load_config(CONFIGS / "s-tr-bones_ntu60_xsub.yaml")
    assert bones.data.stream == "joint+bone" and bones.model.kwargs["in_channels"] == 6
    assert load_config(CONFIGS / "st-gcn_kinetics.yaml").data.skeleton == "openpose18"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["s-tr_ntu60_xsub.yaml", "t-tr_ntu60_xsub.yaml"])
def test_full_width_preset_trains_one_step(name: str, tmp_path: Path) -> None:
    _, result = run_preset(name, tmp_path, reduced=False)
    assert math.isfinite(result.metrics["val/loss"])
