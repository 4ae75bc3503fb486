"""2D keypoint readers (Kinetics-style JSON incl. the real baseball.json, OpenPose, npy/npz) and Kinetics-skeleton."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skeletal.data.keypoints import read_keypoints
from skeletal.data.kinetics import prepare_kinetics, read_kinetics_json
from skeletal.errors import DataError


def test_baseball_json(shared_data: Path) -> None:
    keypoints = read_keypoints(shared_data / "keypoints-2d" / "baseball.json")
    assert keypoints.skeleton.name == "coco17" and keypoints.points.shape == (1, 277, 17, 2)
    assert keypoints.meta["label"] == "baseball" and keypoints.meta["first_frame_index"] == 1
    np.testing.assert_allclose(keypoints.points[0, 0, 0], [567.273, 358.638], rtol=1e-6)
    finite = keypoints.points[np.isfinite(keypoints.points)]
    assert finite.min() > 0 and finite.max() < 2000  # pixels of a video frame
    # HRNet heatmap maxima, kept unaltered: they can exceed 1 (measured max 1.057)
    assert keypoints.scores.min() > 0 and keypoints.scores.max() < 1.1
    assert keypoints.scores[0, 0, 0] == pytest.approx(0.951)


def openpose_frame(people: list[np.ndarray]) -> dict:
    return {
        "version": 1.3,
        "people": [{"person_id": [-1], "pose_keypoints_2d": p.reshape(-1).tolist()} for p in people],
    }


def test_openpose_directory_body25_and_coco18(tmp_path: Path, rng: np.random.Generator) -> None:
    pose = np.concatenate([rng.uniform(10, 500, size=(25, 2)), np.full((25, 1), 0.8)], axis=1)
    pose[3] = [0, 0, 0]  # a missing joint
    for t, people in enumerate([[pose], [], [pose, pose + [1, 1, 0]]]):
        (tmp_path / f"clip_{t:012d}_keypoints.json").write_text(json.dumps(openpose_frame(people)))
    keypoints = read_keypoints(tmp_path)
    assert keypoints.skeleton.name == "openpose18" and keypoints.meta["converted_from"] == "BODY_25"
    assert keypoints.points.shape == (2, 3, 18, 2)
    assert np.isnan(keypoints.points[0, 0, 3]).all() and keypoints.scores[0, 0, 3] == 0
    np.testing.assert_allclose(keypoints.points[0, 0, 8], pose[9, :2], rtol=1e-6)  # RHip: BODY_25 index 9
    assert np.isnan(keypoints.points[:, 1]).all() and np.isnan(keypoints.points[1, 0]).all()
    coco = tmp_path / "coco"
    coco.mkdir()
    (coco / "a_keypoints.json").write_text(json.dumps(openpose_frame([pose[:18]])))
    assert read_keypoints(coco).skeleton.name == "openpose18"
    (coco / "b_keypoints.json").write_text(json.dumps(openpose_frame([pose[:17]])))
    with pytest.raises(DataError, match="disagree"):
        read_keypoints(coco)


def test_npy_and_npz(tmp_path: Path, rng: np.random.Generator) -> None:
    array = rng.uniform(0, 1, size=(2, 5, 17, 3))
    array[0, 1, 2, 2] = 0.0  # score 0 -> missing
    array[1, 2, 3, :2] = np.nan
    np.save(tmp_path / "k.npy", array)
    with pytest.raises(
        DataError, match=r"k\.npy: 17 joints fit the layouts coco17 and h36m17: say which with --layout"
    ):
        read_keypoints(tmp_path / "k.npy")  # never a silent guess between the two 17-joint layouts
    keypoints = read_keypoints(tmp_path / "k.npy", layout="coco17")
    assert keypoints.skeleton.name == "coco17" and keypoints.points.shape == (2, 5, 17, 2)
    assert np.isnan(keypoints.points[0, 1, 2]).all() and keypoints.scores[1, 2, 3] == 0
    np.savez(tmp_path / "k.npz", keypoints=array[0, :, :, :2])
    single = read_keypoints(tmp_path / "k.npz", layout="coco17")
    assert single.points.shape == (1, 5, 17, 2) and np.all(single.scores == 1)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("e.json", "", "empty"),
        ("t.json", '{"data": [{"frame_index": 1, "skeleton": [{"pose": [1, 2', "invalid JSON"),
        (
            "w.json",
            json.dumps({"data": [{"frame_index": 0, "skeleton": [{"pose": [1.0] * 34, "score": [1] * 16}]}]}),
            "expected 17 values, found 16",
        ),  # fmt: skip
        (
            "n.json",
            json.dumps({"data": [{"frame_index": 0, "skeleton": [{"pose": ["a"] * 34, "score": [1] * 17}]}]}),
            "expected numbers",
        ),  # fmt: skip
        ("j.npy", None, "no known layout has 7 joints: say which with --layout"),
    ],
)
def test_keypoint_failures(tmp_path: Path, name: str, content: str | None, match: str) -> None:
    path = tmp_path / name
    if content is None:
        np.save(path, np.zeros((3, 7, 2)))
    else:
        path.write_text(content)
    with pytest.raises(DataError, match=match) as info:
        read_keypoints(path)
    assert info.value.path == str(path)
    (tmp_path / "cut.npy").write_bytes(np.lib.format.magic(1, 0) + b"\x10")
    with pytest.raises(DataError, match="not a readable"):
        read_keypoints(tmp_path / "cut.npy")


def kinetics_video(people_per_frame: list[list[tuple[float, float]]], label: int = 7) -> dict:
    """Frames of (coordinate, score) people, each person at one position with one score for all joints."""
    data = []
    for t, people in enumerate(people_per_frame):
        skeletons = [{"pose": [c] * 36, "score": [s] * 18} for c, s in people]
        data.append({"frame_index": t, "skeleton": skeletons})
    return {"data": data, "label": "dancing", "label_index": label}


def test_read_kinetics_json_sorts_people_per_frame(tmp_path: Path) -> None:
    video = kinetics_video([[(0.1, 0.2), (0.6, 0.9), (0.7, 0.5)], [(0.3, 0.8)]])
    video["data"][0]["skeleton"][0]["score"][4] = 0.0  # zero score: x, y set to 0 after centring
    (tmp_path / "v.json").write_text(json.dumps(video))
    data, label = read_kinetics_json(tmp_path / "v.json")
    assert data.shape == (2, 300, 18, 3) and label == 7
    np.testing.assert_allclose(data[:, 0, 0], [[0.1, 0.1, 0.9], [0.2, 0.2, 0.5]], atol=1e-6)  # by score
    np.testing.assert_allclose(data[0, 1, 0], [-0.2, -0.2, 0.8], atol=1e-6)
    assert not data[:, 2:].any() and not data[1, 1].any()


def test_prepare_kinetics(tmp_path: Path) -> None:
    src = tmp_path / "videos"
    src.mkdir()
    (src / "a.json").write_text(json.dumps(kinetics_video([[(0.5, 1.0)]] * 3, label=1)))
    (src / "b.json").write_text(json.dumps(kinetics_video([[(0.4, 1.0)]], label=2)))
    (src / "c.json").write_text('{"data": [{"frame_index": 400, "skeleton": []}]}')
    labels = {
        "a": {"has_skeleton": True, "label": "x", "label_index": 1},
        "e": {"has_skeleton": False, "label": "y", "label_index": 3},
        "b": {"has_skeleton": True, "label": "z", "label_index": 2},
        "c": {"has_skeleton": True, "label": "z", "label_index": 2},
        "m": {"has_skeleton": True, "label": "z", "label_index": 2},
    }
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    result = prepare_kinetics(src, tmp_path / "labels.json", tmp_path / "out", part="val")
    assert {s["sample"] for s in result["skipped"]} == {"e", "c", "m"}
    data = np.load(tmp_path / "out" / "val_data.npy", mmap_mode="r")
    assert data.shape == (2, 2, 300, 18, 3) and result["shape"] == [2, 2, 300, 18, 3]
    assert json.loads((tmp_path / "out" / "val_label.json").read_text())["labels"] == [1, 2]
    np.testing.assert_allclose(data[1, 0, 0, 0], [-0.1, -0.1, 1.0], atol=1e-6)


def test_coco_results_list_and_annotation_file(tmp_path: Path) -> None:
    pose = [[10.0 * j, 20.0 + j, 0.9] for j in range(17)]
    flat = [value for joint in pose for value in joint]
    results = [
        {"image_id": 2, "category_id": 1, "keypoints": flat, "score": 0.5},
        {"image_id": 1, "category_id": 1, "keypoints": flat, "score": 0.9},
        {"image_id": 2, "category_id": 1, "keypoints": [v + 1 for v in flat[:-1]] + [0.0], "score": 0.8},
    ]
    (tmp_path / "results.json").write_text(json.dumps(results))
    keypoints = read_keypoints(tmp_path / "results.json")
    assert keypoints.skeleton.name == "coco17" and keypoints.points.shape == (2, 2, 17, 2)
    assert keypoints.points[0, 1, 0, 0] == 1.0  # frame 2, best score first: the shifted detection
    assert keypoints.scores[0, 1, 16] == 0 and np.isnan(keypoints.points[0, 1, 16]).all()  # confidence 0: missing
    assert np.isnan(keypoints.points[1, 0]).all()  # one person in frame 1
    annotations = {"images": [{"id": 7}], "annotations": [{"image_id": 7, "keypoints": [1, 2, 2] * 17, "track_id": 3}]}
    (tmp_path / "annotations.json").write_text(json.dumps(annotations))
    single = read_keypoints(tmp_path / "annotations.json")
    assert single.points.shape == (1, 1, 17, 2) and np.all(single.scores == 1)  # visibility 2 -> 1
    (tmp_path / "bad.json").write_text(json.dumps([{"image_id": 1}]))
    with pytest.raises(DataError, match="bad.json, detection 0: expected 'image_id' and a 'keypoints' list"):
        read_keypoints(tmp_path / "bad.json")
