"""One's own labelled clips, end to end: the README walk-through run as written, ``prepare keypoints`` and its errors,
custom layout files."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from skeletal import checkpoint, skeletons
from skeletal.cli import main
from skeletal.data.prepare import prepare_keypoints, read_labels
from skeletal.errors import ConfigError, DataError

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def _restore_layouts():
    """Layouts that a test registers (layout files, model files) are forgotten after it."""
    from skeletal.skeletons import layout_file
    from skeletal.skeletons.skeleton import _REGISTRY

    before = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(before)
    layout_file._CACHE.clear()


# A standing person in pixels, COCO-17 order (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles).
STANDING = np.array(
    [[0, -160], [-6, -166], [6, -166], [-12, -162], [12, -162], [-30, -130], [30, -130], [-40, -90], [40, -90],
     [-45, -50], [45, -50], [-18, -40], [18, -40], [-20, 20], [20, 20], [-20, 80], [20, 80]],
    dtype=float,
)  # fmt: skip
ACTIONS = ("wave", "squat", "kick")


def action_clip(action: str, rng: np.random.Generator) -> np.ndarray:
    """``(T, 17, 3)`` pixels and confidences of one synthetic clip: random length, size, place, speed and noise."""
    frames = int(rng.integers(30, 70))
    phase = np.arange(frames) * rng.uniform(0.15, 0.3) + rng.uniform(0, 2 * np.pi)
    pose = np.repeat(STANDING[None], frames, axis=0)
    if action == "wave":  # right forearm swings above the head
        pose[:, [8, 10], 1] -= [70, 140]
        pose[:, 10, 0] += 40 * np.sin(phase)
    elif action == "squat":  # everything above the knees goes down and up
        pose[:, :13, 1] += (30 * (1 - np.cos(phase)))[:, None]
    else:  # the right foot kicks forwards and up
        pose[:, 16] += np.stack([50 * np.maximum(np.sin(phase), 0), -60 * np.maximum(np.sin(phase), 0)], -1)
    pose = pose * rng.uniform(0.7, 1.6) + rng.uniform(200, 900, size=2) + rng.normal(0, 1.5, pose.shape)
    return np.concatenate([pose, rng.uniform(0.6, 1.0, (frames, 17, 1))], axis=-1)


def write_clips(folder: Path, per_class: int = 12, seed: int = 0) -> Path:
    """``folder/ACTION_NN.npy`` clips and ``folder/labels.csv``; returns the CSV."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    lines = ["file,label"]
    for action in ACTIONS:
        for index in range(per_class):
            np.save(folder / f"{action}_{index:02d}.npy", action_clip(action, rng))
            lines.append(f"{action}_{index:02d}.npy,{action}")
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder / "labels.csv"


def readme_walkthrough() -> tuple[list[str], str]:
    """The commands and the config of the README's own-data walk-through."""
    text = README.read_text()
    block = text[text.index("<!-- own-data:start -->") : text.index("<!-- own-data:end -->")]
    commands = re.search(r"```bash\n(.*?)```", block, re.S)
    config = re.search(r"```yaml\n(.*?)```", block, re.S)
    assert commands and config, "the README walk-through lost its bash or yaml block"
    return [line for line in commands.group(1).splitlines() if line.strip()], config.group(1)


def test_readme_walkthrough_learns_the_actions(tmp_path: Path, monkeypatch, capsys) -> None:
    commands, config = readme_walkthrough()
    monkeypatch.chdir(tmp_path)
    write_clips(tmp_path / "clips")
    (tmp_path / "my_actions.yaml").write_text(config)
    for line in commands:
        words = shlex.split(line)
        assert words[0] == "skeletal"
        assert main(words[1:]) == 0, line
    out = capsys.readouterr().out
    top1 = float(re.search(r"test/top1\W+([0-9.]+)", out).group(1))
    assert top1 >= 0.8, out  # three separable actions: chance is 0.33
    assert "prepared 36 clips (30 train, 6 val) of 3 classes" in out
    assert (tmp_path / "runs/my-actions/model_confusion.png").is_file()
    assert (tmp_path / "prepared/classes.txt").read_text().split() == sorted(ACTIONS)


def test_prepare_keypoints_arrays_and_split_column(tmp_path: Path) -> None:
    labels = write_clips(tmp_path / "clips", per_class=3)
    rows = labels.read_text().splitlines()
    split = ["file,label,split"] + [f"{row},{'val' if i % 3 == 0 else 'train'}" for i, row in enumerate(rows[1:])]
    (tmp_path / "split.csv").write_text("\n".join(split))
    summary = prepare_keypoints(tmp_path / "clips", tmp_path / "out", tmp_path / "split.csv", layout="coco17",
                                frames=20, persons=2)  # fmt: skip
    assert summary["splits"] == {"train": 6, "val": 3} and summary["classes"] == sorted(ACTIONS)
    x = np.load(tmp_path / "out/train/x.npy")
    y = np.load(tmp_path / "out/train/y.npy")
    assert x.shape == (6, 2, 20, 17, 3) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.all(x[:, 1] == 0)  # one person in the files: the second track is empty
    assert np.abs(x[:, 0, :, :, :2]).max() < 3  # normalised: centred on the nose, divided by the body's extent
    assert np.all((x[:, 0, :, :, 2] > 0.5) & (x[:, 0, :, :, 2] <= 1))  # the confidences
    meta = json.loads((tmp_path / "out/meta.json").read_text())
    assert meta["layout"] == "coco17" and meta["channels"] == ["x", "y", "score"] and "layout_file" not in meta
    files = [s["file"] for s in meta["splits"]["val"]["sequences"]]
    assert files == ["wave_00.npy", "squat_00.npy", "kick_00.npy"]  # CSV order, labels by sorted class name
    assert np.load(tmp_path / "out/val/y.npy").tolist() == [2, 1, 0]


def test_seeded_split_keeps_every_class_in_training(tmp_path: Path) -> None:
    labels = write_clips(tmp_path / "clips", per_class=2)
    first = prepare_keypoints(tmp_path / "clips", tmp_path / "a", labels, layout="coco17", val_fraction=0.5, seed=3)
    prepare_keypoints(tmp_path / "clips", tmp_path / "b", labels, layout="coco17", val_fraction=0.5, seed=3)
    assert first["splits"] == {"train": 3, "val": 3}
    assert np.array_equal(np.load(tmp_path / "a/val/y.npy"), np.load(tmp_path / "b/val/y.npy"))
    assert sorted(np.load(tmp_path / "a/train/y.npy").tolist()) == [0, 1, 2]


def test_prepare_keypoints_errors_name_the_file(tmp_path: Path) -> None:
    labels = write_clips(tmp_path / "clips", per_class=1)
    with pytest.raises(DataError, match=r"wave_00\.npy: 17 joints fit the layouts coco17 and h36m17.*--layout"):
        prepare_keypoints(tmp_path / "clips", tmp_path / "out", labels)  # no silent guess
    (tmp_path / "missing.csv").write_text("file,label\nwave_00.npy,wave\nnope.npy,wave\n")
    with pytest.raises(DataError, match=r"nope\.npy: file not found"):
        prepare_keypoints(tmp_path / "clips", tmp_path / "out", tmp_path / "missing.csv", layout="coco17")
    with pytest.raises(DataError, match=r"labels\.csv, line 2: label 'wave' is not one of the classes"):
        prepare_keypoints(tmp_path / "clips", tmp_path / "out", labels, layout="coco17", classes=["kick", "squat"])
    np.save(tmp_path / "clips/wave_00.npy", np.full((10, 18, 3), np.nan))
    with pytest.raises(DataError, match=r"wave_00\.npy: 18 joints, but layout 'coco17' has 17|wave_00\.npy.*18"):
        prepare_keypoints(tmp_path / "clips", tmp_path / "out", labels, layout="coco17")
    np.save(tmp_path / "clips/wave_00.npy", np.full((10, 17, 3), np.nan))
    with pytest.raises(DataError, match=r"wave_00\.npy: no joint in any frame"):
        prepare_keypoints(tmp_path / "clips", tmp_path / "out", labels, layout="coco17")
    (tmp_path / "bad.csv").write_text("a.npy,wave,holdout\n")
    with pytest.raises(DataError, match=r"bad\.csv, line 1: unknown split 'holdout'"):
        read_labels(tmp_path / "bad.csv")


BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT LeftUpLeg
  {
    OFFSET 10 0 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 -40 0
    }
  }
  JOINT RightUpLeg
  {
    OFFSET -10 0 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 -40 0
    }
  }
}
MOTION
Frames: 3
Frame Time: 0.033333
"""


def test_bvh_clips_are_3d_joints_on_the_file_rig(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    for index, angle in enumerate((10, 40)):
        frames = "".join(f"{t} 90 0 0 0 0 {angle * t} 0 0 0 0 0\n" for t in range(3))
        (folder / f"m{index}.bvh").write_text(BVH + frames)
    (folder / "labels.csv").write_text("m0.bvh,slow,train\nm1.bvh,fast,train\n")
    summary = prepare_keypoints(folder, tmp_path / "out", folder / "labels.csv", frames=4)
    x = np.load(tmp_path / "out/train/x.npy")
    assert x.shape == (2, 1, 4, 3, 3) and np.isfinite(x).all()
    meta = json.loads((tmp_path / "out/meta.json").read_text())
    assert meta["channels"] == ["x", "y", "z"] and meta["layout_file"] == "layout.yaml"
    rig = skeletons.read_layout(tmp_path / "out/layout.yaml")
    assert rig.name == summary["layout"] and rig.joint_names == ("Hips", "LeftUpLeg", "RightUpLeg")
    assert rig.left == (1,) and rig.right == (2,)  # sides from the joint names


def test_video_without_the_extra_names_the_file_and_the_install(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the [video] extra is installed")
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"not really a video")
    (folder / "labels.csv").write_text("a.mp4,wave\n")
    with pytest.raises(ConfigError, match=r"a\.mp4.*\[video\]"):
        prepare_keypoints(folder, tmp_path / "out", folder / "labels.csv")  # no detector
    from skeletal.inference.video import detect_keypoints

    with pytest.raises(ConfigError, match=r"a\.mp4.*\[video\] extra.*environment of its own"):
        prepare_keypoints(folder, tmp_path / "out", folder / "labels.csv", detector=detect_keypoints)


def test_cli_prepare_keypoints_names_the_flag(tmp_path: Path, capsys) -> None:
    write_clips(tmp_path / "clips", per_class=1)
    assert main(["prepare", "keypoints", str(tmp_path / "clips"), str(tmp_path / "out")]) == 2
    assert "--labels is required" in capsys.readouterr().err
    assert main(["prepare", "keypoints", str(tmp_path / "clips"), str(tmp_path / "out"), "--labels",
                 str(tmp_path / "clips/labels.csv")]) == 2  # fmt: skip
    assert "--layout" in capsys.readouterr().err


STICK = """name: stick7-test
joints: [pelvis, chest, head, left_hip, left_foot, right_hip, right_foot]
parents: [null, pelvis, chest, pelvis, left_hip, pelvis, right_hip]
left: [left_hip, left_foot]
right: [right_hip, right_foot]
center: pelvis
"""


def test_layout_file_everywhere_a_layout_name_is(tmp_path: Path) -> None:
    (tmp_path / "stick.yaml").write_text(STICK)
    stick = skeletons.get(str(tmp_path / "stick.yaml"))
    assert stick.name == "stick7-test" and stick.num_joints == 7 and stick.left == (3, 4) and stick.center == 0
    assert skeletons.get("stick7-test") is stick  # registered under its name
    assert skeletons.read_layout(skeletons.write_layout(stick, tmp_path / "copy.json")) == stick
    rng = np.random.default_rng(0)
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "labels.csv").write_text("file,label\n" + "".join(f"c{i}.npy,{'ab'[i % 2]}\n" for i in range(4)))
    for i in range(4):
        np.save(folder / f"c{i}.npy", rng.normal(size=(12, 7, 2)))
    prepare_keypoints(folder, tmp_path / "out", folder / "labels.csv", layout=tmp_path / "stick.yaml", frames=8)
    assert skeletons.read_layout(tmp_path / "out/layout.yaml") == stick
    from skeletal import models

    model = models.create("st-gcn", num_classes=2, skeleton=str(tmp_path / "out/layout.yaml"), num_persons=1,
                          width=8)  # fmt: skip
    assert model.skeleton == stick


def test_model_file_stores_a_custom_layout_whole(tmp_path: Path) -> None:
    from skeletal import models
    from skeletal.config import from_dict
    from skeletal.skeletons.skeleton import _REGISTRY
    from skeletal.tasks.engine import build_task

    (tmp_path / "stick.yaml").write_text(STICK.replace("stick7-test", "stick7-stored"))
    config = from_dict({"task": "recognition", "model": {"name": "st-gcn", "kwargs": {
        "num_classes": 2, "skeleton": str(tmp_path / "stick.yaml"), "num_persons": 1, "width": 8}}})  # fmt: skip
    task = build_task(config)
    path = task.export(tmp_path / "model.safetensors")
    assert checkpoint.read_metadata(path).skeleton == "stick7-stored"
    (tmp_path / "stick.yaml").unlink()
    _REGISTRY.pop("stick7-stored")  # a new process: neither the file nor the registered name
    model = checkpoint.load(path)
    assert model.skeleton.name == "stick7-stored" and skeletons.get("stick7-stored").num_joints == 7
    assert isinstance(model, models.create("st-gcn", num_classes=2, skeleton="stick7-stored", width=8).__class__)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("joints: [a, b]\nparents: [null]\n", "parents: expected one parent per joint"),
        ("joints: [a, b]\nparents: [null, c]\n", r"parents\[1\]: 'c' is not one of the joints"),
        (
            "joints: [a, b]\nparents: [null, a]\nleft: [a]\nright: [b]\ncentre: a\n",
            "unknown key 'centre'; did you mean 'center'",
        ),
        ("joints: [a, b]\nparents: [null, null]\n", "exactly one root"),
    ],
)
def test_layout_file_errors(tmp_path: Path, content: str, match: str) -> None:
    (tmp_path / "bad.yaml").write_text(content)
    with pytest.raises(ConfigError, match=match) as info:
        skeletons.read_layout(tmp_path / "bad.yaml")
    assert "bad.yaml" in str(info.value)
