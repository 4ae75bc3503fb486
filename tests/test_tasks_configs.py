"""Every preset in configs/ loads, is typed, names a registered model of its task, and builds that model."""

from __future__ import annotations

from pathlib import Path

import pytest

from skeletal import models
from skeletal.config import apply_overrides, from_dict, load_config, read_yaml
from skeletal.errors import ConfigError
from skeletal.tasks.demo import DEMO_CONFIGS

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PRESETS = sorted(p for p in CONFIGS.rglob("*.yaml") if not p.name.startswith("_"))

REQUIRED = [
    f"recognition/{m}_{d}.yaml"
    for m in ("s-tr", "t-tr", "st-gcn", "agcn")
    for d in ("ntu60_xsub", "ntu60_xview", "ntu120_xsub", "ntu120_xset", "kinetics")
] + [
    "prediction/st-transformer_amass.yaml",
    "prediction/st-transformer_h36m.yaml",
    "lifting/gast-net_27_h36m.yaml",
    "lifting/gast-net_81_h36m.yaml",
    "lifting/gast-net_243_h36m.yaml",
    "lifting/gast-net_27_humaneva.yaml",
    "recognition/demo.yaml",
    "prediction/demo.yaml",
    "lifting/demo.yaml",
]


def test_every_required_preset_exists() -> None:
    missing = [name for name in REQUIRED if not (CONFIGS / name).is_file()]
    assert not missing


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_preset_loads_and_names_a_registered_model(path: Path) -> None:
    config = load_config(path)
    assert config.task == path.parent.name
    assert models.info(config.model.name).task == config.task
    assert config.name == path.stem or path.stem == "demo"
    assert (config.optim.lr is None or isinstance(config.optim.lr, float)) and isinstance(
        config.trainer.max_epochs, int
    )
    model = models.create(config.model.name, **config.model.kwargs)
    assert models.count_parameters(model) > 0


def test_recipes_match_the_papers() -> None:
    ntu = load_config(CONFIGS / "recognition/s-tr_ntu60_xsub.yaml")
    assert (ntu.trainer.max_epochs, ntu.data.batch_size, ntu.optim.milestones, ntu.optim.lr) == (120, 32, [60, 90], 0.1)
    assert (ntu.optim.momentum, ntu.optim.nesterov, ntu.optim.weight_decay) == (0.9, True, 1e-4)
    kinetics = load_config(CONFIGS / "recognition/st-gcn_kinetics.yaml")
    assert (kinetics.trainer.max_epochs, kinetics.data.batch_size, kinetics.optim.milestones) == (65, 128, [45, 55])
    assert kinetics.model.kwargs["num_classes"] == 400
    amass = load_config(CONFIGS / "prediction/st-transformer_amass.yaml")
    assert (amass.optim.warmup, amass.optim.d_model, amass.trainer.gradient_clip_val, amass.data.batch_size) == (
        10000,
        128,
        1.0,
        32,
    )
    gast = load_config(CONFIGS / "lifting/gast-net_27_h36m.yaml")
    assert (gast.optim.lr, gast.optim.gamma, gast.optim.amsgrad, gast.data.batch_size) == (1e-3, 0.95, True, 128)
    assert load_config(CONFIGS / "lifting/gast-net_27_humaneva.yaml").optim.gamma == 0.98


@pytest.mark.parametrize("task", sorted(DEMO_CONFIGS))
def test_demo_yaml_equals_the_embedded_demo_config(task: str) -> None:
    assert from_dict(read_yaml(CONFIGS / task / "demo.yaml")) == from_dict(DEMO_CONFIGS[task])


def test_overrides_are_parsed_as_yaml_and_typed() -> None:
    config = load_config(
        CONFIGS / "recognition/s-tr_ntu60_xsub.yaml",
        ["trainer.max_epochs=3", "optim.milestones=[1,2]", "model.kwargs.dropout=0.1", "data.train=x.npy"],
    )
    assert config.trainer.max_epochs == 3 and config.optim.milestones == [1, 2]
    assert config.model.kwargs == {"num_classes": 60, "skeleton": "ntu25", "dropout": 0.1}
    assert config.data.train == "x.npy"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.max_epochs=ten", "trainer.max_epochs: expected an integer"),
        ("trainer.max_epoch=3", "unknown key trainer.max_epoch"),
        ("optim.lr=fast", "optim.lr: expected float"),
        ("model.name=nope", "unknown model 'nope'"),
        ("model.name=gast-net-27", "is a lifting model"),
        ("task=dancing", "task: expected one of"),
        ("noequals", "expected key.sub=value"),
        ("trainer.max_epochs.x=1", "is not a section"),
    ],
)
def test_bad_overrides_raise_config_errors(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(CONFIGS / "recognition/s-tr_ntu60_xsub.yaml", [override])


def test_extends_loop_and_bad_yaml_are_reported(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="loops back"):
        read_yaml(tmp_path / "a.yaml")
    (tmp_path / "bad.yaml").write_text("task: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        read_yaml(tmp_path / "bad.yaml")
    with pytest.raises(FileNotFoundError):
        read_yaml(tmp_path / "absent.yaml")


def test_overrides_do_not_mutate_their_input() -> None:
    values = {"trainer": {"max_epochs": 1}}
    assert apply_overrides(values, ["trainer.max_epochs=2"])["trainer"]["max_epochs"] == 2
    assert values == {"trainer": {"max_epochs": 1}}
