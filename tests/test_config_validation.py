"""Issue 18: configs are size-bounded and validated before training starts; each bad value is one ConfigError."""

from __future__ import annotations

from pathlib import Path

import pytest

from skeletal.cli import main
from skeletal.config import load_config
from skeletal.errors import ConfigError

DEMO = Path(__file__).resolve().parents[1] / "configs" / "recognition" / "demo.yaml"


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("trainer.precision=bogus", "trainer.precision: expected one of"),
        ("trainer.accelerator=tpu", "trainer.accelerator: expected one of"),
        ("trainer.devices=0", "trainer.devices: expected a positive count"),
        ("trainer.max_epochs=-3", "trainer.max_epochs: expected an integer >= -1"),
        ("trainer.limit_train_batches=1.5", "trainer.limit_train_batches: expected a batch count"),
        ("data.num_workers=-1", "data.num_workers: expected an integer >= 0"),
        ("seed=-1", r"seed: expected an integer in 0 .. 2\*\*32 - 1"),
        ("seed=4294967296", r"seed: expected an integer in 0 .. 2\*\*32 - 1"),
        ("data.synthetic.num_train=-5", "data.synthetic.num_train: expected a positive integer"),
        ("data.synthetic.bogus=1", "unknown key data.synthetic.bogus"),
        ("data.stream=bones", "data.stream: expected one of"),
        ("optim.lr=-1", "optim.lr: expected a positive number"),
        ("optim.betas=[0.9,1.0]", r"optim.betas: expected two numbers in \[0, 1\)"),
        ("optim.betas=[0.9]", r"optim.betas: expected two numbers in \[0, 1\)"),
        ("optim.eps=0", "optim.eps: expected a positive number"),
        ("name=../escape", "name: expected a folder name"),
        ("name=a/b", "name: expected a folder name"),
        ("name=.hidden", "name: expected a folder name"),
        ("model.kwargs.width=4", r"model.kwargs: model 's-tr' rejects these arguments: d_k=2 and d_v=8"),
        ("model.kwargs.bogus=1", r"model.kwargs: .*bogus"),
    ],
)
def test_bad_values_are_config_errors(override: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(DEMO, [override])


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    """Nine levels of ten aliases expand to 10^9 values: it ran until killed."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"bomb.yaml: expands to more than 100000 values"):
        load_config(tmp_path / "bomb.yaml")
    with pytest.raises(ConfigError, match="expands to more than"):
        flow = "&a0 [x, x, x, x, x, x, x, x, x, x]"
        for i in range(1, 7):
            flow = f"[{flow}, &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]]"
        load_config(DEMO, [f"model.kwargs.width={flow}"])


def test_non_utf8_and_oversized_config(tmp_path: Path) -> None:
    (tmp_path / "latin.yaml").write_bytes("task: recognition\nname: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin.yaml: not UTF-8 text \(byte 27\)"):
        load_config(tmp_path / "latin.yaml")
    (tmp_path / "big.yaml").write_text("# " + "x" * (1 << 20) + "\n")
    with pytest.raises(ConfigError, match="big.yaml: .* bytes, more than"):
        load_config(tmp_path / "big.yaml")


def test_cli_user_errors_are_one_line_with_status_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", str(DEMO), "trainer.precision=bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "trainer.precision" in err and "Traceback" not in err
    (tmp_path / "file").write_text("x")
    (tmp_path / "cfg.yaml").write_text(DEMO.read_text() + f"\noutput: {tmp_path / 'file' / 'runs'}\n")
    assert main(["train", str(tmp_path / "cfg.yaml"), "trainer.max_epochs=1"]) == 2  # NotADirectoryError
    err = capsys.readouterr().err
    assert err.startswith("skeletal train: error:") and "Traceback" not in err
    assert main(["eval", "--allow-pickle", str(tmp_path / "missing.ckpt")]) == 2
    assert "does not exist" in capsys.readouterr().err
