"""Recognition evaluation: top-k / per-class / confusion golden values, streams on the fly, two-stream ensemble
in `skeletal eval` and `skeletal predict`, confusion plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import damp_classifiers

from skeletal import checkpoint, models
from skeletal.cli import main
from skeletal.data.module import SkeletonDataModule
from skeletal.data.streams import make_stream
from skeletal.data.transforms import to_bones
from skeletal.errors import ConfigError
from skeletal.evaluation.recognition import evaluate_recognition, recognition_report
from skeletal.inference.recognition import StreamInput, class_scores, load_recognition_model, predict_recognition
from skeletal.models.recognition.two_stream import TwoStream
from skeletal.viz.confusion import plot_confusion

SMALL = {"num_classes": 4, "skeleton": "h36m17", "num_persons": 1, "width": 8, "heads": 2}


def test_report_golden_values() -> None:
    scores = np.array(
        [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.1, 0.5, 0.4]]
    )
    labels = np.array([0, 1, 1, 2, 0, 2])  # predictions: 0, 1, 0, 2, 2, 1 (argmax)
    report = recognition_report(scores, labels, ["a", "b", "c"])
    assert report.top1 == pytest.approx(3 / 6)
    assert report.top5 == pytest.approx(1.0)  # 3 classes: top-5 caps at top-3
    np.testing.assert_array_equal(report.confusion, [[1, 0, 1], [1, 1, 0], [0, 1, 1]])
    np.testing.assert_allclose(report.per_class, [0.5, 0.5, 0.5])
    assert report.mean_class_accuracy == pytest.approx(0.5)
    two = recognition_report(scores[:, :3], labels, None)
    assert two.class_names == ("class_0", "class_1", "class_2")
    absent = recognition_report(scores[:2], labels[:2])  # class 2 has no sample: nan, left out of the mean
    assert np.isnan(absent.per_class[2]) and absent.mean_class_accuracy == pytest.approx(1.0)


def test_top5_of_many_classes() -> None:
    scores = np.tile(np.arange(10.0), (2, 1))  # order 9, 8, 7, 6, 5, ...
    report = recognition_report(scores, np.array([5, 4]))
    assert report.top1 == 0.0 and report.top5 == pytest.approx(0.5)


def test_streams_made_on_the_fly(rng: np.random.Generator) -> None:
    x = rng.normal(size=(3, 2, 6, 17, 3)).astype(np.float32)
    y = np.arange(3)
    np.testing.assert_allclose(make_stream(x, "bone", "h36m17"), to_bones(x, "h36m17"))
    motion = make_stream(x, "motion")
    np.testing.assert_allclose(motion[:, :, :-1], x[:, :, 1:] - x[:, :, :-1])
    assert np.all(motion[:, :, -1] == 0)
    both = make_stream(x, "joint+bone", "h36m17")
    assert both.shape == (3, 2, 6, 17, 6)
    np.testing.assert_allclose(both[..., :3], x)
    module = SkeletonDataModule(
        "recognition", train={"x": x, "y": y}, batch_size=3, stream="joint+bone", skeleton="h36m17"
    )
    batch, labels = next(iter(module.train_dataloader()))
    order = labels.numpy()
    np.testing.assert_allclose(batch.numpy(), both[order], rtol=1e-6)
    with pytest.raises(ConfigError, match="needs the layout"):
        SkeletonDataModule("recognition", train={"x": x, "y": y}, stream="bone")
    with pytest.raises(ConfigError, match="joint, bone, motion, joint\\+bone"):
        SkeletonDataModule("recognition", train={"x": x, "y": y}, stream="velocity")


def _save(path: Path, name: str, stream: str = "joint", **overrides: object) -> Path:
    kwargs = {**SMALL, **overrides}
    torch.manual_seed(len(name) + len(stream))
    model = models.create(name, **kwargs)
    config = {"data": {"stream": stream, "skeleton": "h36m17"}, "seed": 0}
    return checkpoint.save(path, model, name, kwargs, skeleton="h36m17", config=config)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("eval")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 1, 8, 17, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    np.savez(root / "test.npz", x=x, y=y, class_names=np.array(["sit", "stand", "walk", "wave"]))
    return {
        "s": _save(root / "s.safetensors", "s-tr"),
        "t": _save(root / "t.safetensors", "t-tr-bones", stream="joint+bone", in_channels=6),
        "data": root / "test.npz",
        "root": root,
    }


def test_ensemble_sums_softmax_scores_of_each_stream(files: dict[str, Path]) -> None:
    data = np.load(files["data"])
    x = data["x"]
    ensemble, info = load_recognition_model(files["s"], files["t"])
    assert isinstance(ensemble, TwoStream) and info.model_name == "s-tr"
    spatial, temporal = checkpoint.load(files["s"]), checkpoint.load(files["t"])
    with torch.no_grad():
        bones = torch.from_numpy(make_stream(x, "joint+bone", "h36m17"))
        expected = spatial(torch.from_numpy(x)).softmax(-1) + temporal(bones).softmax(-1)
    np.testing.assert_allclose(class_scores(ensemble, x, batch_size=4), expected.numpy() / 2, rtol=1e-5, atol=1e-6)
    report = evaluate_recognition(files["s"], files["data"], files["t"], out=files["root"] / "ens")
    predicted = expected.argmax(-1).numpy()
    assert report.top1 == pytest.approx(float((predicted == data["y"]).mean()))
    assert report.class_names == ("sit", "stand", "walk", "wave")
    assert report.files["confusion"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = report.files["per_class"].read_text().splitlines()
    assert rows[0] == "class,name,samples,accuracy" and rows[1].startswith("0,sit,3,")
    out = predict_recognition(files["s"], files["data"], files["root"] / "pred.npz", files["t"])
    with np.load(out) as predictions:
        np.testing.assert_allclose(predictions["probabilities"].sum(-1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(predictions["labels"], predicted)


def test_stream_input_matches_stream_fed_model(files: dict[str, Path], rng: np.random.Generator) -> None:
    model = checkpoint.load(files["t"])
    x = rng.normal(size=(2, 1, 8, 17, 3)).astype(np.float32)
    with torch.no_grad():
        wrapped = StreamInput(model, "joint+bone", "h36m17")(torch.from_numpy(x))
        direct = model(torch.from_numpy(make_stream(x, "joint+bone", "h36m17")))
    torch.testing.assert_close(wrapped, direct)


def test_cli_eval_and_predict(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(files["s"]), "--data", str(files["data"])]) == 0
    printed = capsys.readouterr().out
    assert "test/top1" in printed and "test/top5" in printed and "per-class" in printed and "wave" in printed
    assert (files["root"] / "s_confusion.png").is_file() and (files["root"] / "s_per_class.csv").is_file()
    out = files["root"] / "cli"
    argv = ["eval", str(files["s"]), "--data", str(files["data"]), "--ensemble", str(files["t"]), "--out", str(out)]
    assert main(argv) == 0
    assert (out / "confusion.png").is_file()
    assert main([*argv, "--fusion", "logits"]) == 0
    assert "logits summed, as the official" in " ".join(capsys.readouterr().out.split())  # the title wraps
    pred = files["root"] / "cli_pred.npz"
    assert main(["predict", str(files["s"]), str(files["data"]), "-o", str(pred), "--ensemble", str(files["t"])]) == 0
    assert np.load(pred)["probabilities"].shape == (10, 4)


def test_ensemble_errors(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = _save(tmp_path / "five.safetensors", "t-tr", num_classes=5)
    with pytest.raises(ConfigError, match="4 and 5 classes"):
        load_recognition_model(files["s"], other)
    assert main(["eval", str(files["s"]), "--data", str(files["data"]), "--ensemble", str(other)]) == 2
    assert "classes" in capsys.readouterr().err


def test_registered_two_stream_trains_with_nll(rng: np.random.Generator) -> None:
    from skeletal.tasks import RecognitionTask

    task = RecognitionTask("st-tr", dict(SMALL)).eval()  # batch norm with running statistics: deterministic
    damp_classifiers(task.model)
    x = torch.from_numpy(rng.normal(size=(2, 1, 8, 17, 3)).astype(np.float32))
    y = torch.tensor([0, 3])
    scores = task.predict_step((x,), 0)
    torch.testing.assert_close(scores.sum(-1), torch.ones(2))
    task.log = lambda *args, **kwargs: None  # type: ignore[method-assign]
    loss = task._step((x, y), "val")
    expected = -torch.log(scores[torch.arange(2), y]).mean()
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)


def test_confusion_plot(tmp_path: Path) -> None:
    path = plot_confusion(np.array([[3, 1], [0, 4]]), tmp_path / "c.png", ["a", "b"])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    big = plot_confusion(np.eye(120, dtype=int), tmp_path / "big.png")  # no labels above 60 classes
    assert big.stat().st_size > 1000
    with pytest.raises(Exception, match="square"):
        plot_confusion(np.zeros((2, 3)), tmp_path / "x.png")
