"""``skeletal lift``: keypoints -> repaired h36m17 -> screen coordinates -> 3D, the npz/GIF outputs, the CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from skeletal import checkpoint, models
from skeletal.cli import main
from skeletal.data.keypoints import read_keypoints
from skeletal.data.types import Keypoints
from skeletal.errors import ConfigError, DataError
from skeletal.inference.lifted import bone_length_variation
from skeletal.inference.lifting import (
    estimate_image_size,
    lift_file,
    lift_keypoints,
    load_lifter,
    repair_keypoints,
    weights_checksum,
)
from skeletal.skeletons import convert, get

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def small_gast(causal: bool = False) -> torch.nn.Module:
    return models.create("gast-net-9", channels=8, causal=causal).eval()


def test_repair_interpolates_short_gaps_and_flags_long_ones() -> None:
    frames = np.arange(20, dtype=np.float64)
    points = np.stack([frames, 2 * frames], -1)[:, None].repeat(3, 1)  # (20, 3, 2), x = t, y = 2t
    scores = np.ones((20, 3))
    scores[4:6, 0] = 0  # 2-frame gap: interpolated exactly (the motion is linear)
    points[4:6, 0] = np.nan
    scores[2:16, 1] = 0  # 14-frame gap > max_gap: filled, unreliable
    scores[:3, 2] = 0  # gap at the start: held at the first valid value
    repaired = repair_keypoints(points, scores, max_gap=10)
    np.testing.assert_allclose(repaired.points[4:6, 0], [[4, 8], [5, 10]])
    np.testing.assert_allclose(repaired.points[:3, 2], [[3, 6]] * 3)
    np.testing.assert_allclose(repaired.points[9, 1], [9, 18])  # linear between frames 1 and 16
    assert repaired.interpolated[:, 0].sum() == 2 and repaired.interpolated[:, 2].sum() == 3
    assert repaired.unreliable[:, 1].sum() == 14 and not repaired.unreliable[:, [0, 2]].any()
    never = repair_keypoints(points, np.where(np.arange(3) == 2, 0.0, 1.0)[None].repeat(20, 0))
    assert never.unreliable[:, 2].all() and np.isfinite(never.points).all()
    np.testing.assert_allclose(never.points[:, 2], never.points[:, :2].mean(1))


def test_image_size_estimate_centres_the_keypoints() -> None:
    points = np.array([[[100.0, 50.0], [300.0, 450.0]]])
    assert estimate_image_size(points) == (400, 500)


def coco_track(frames: int = 30, rng: np.random.Generator | None = None) -> np.ndarray:
    """A plausible COCO-17 person (pixels) swaying over time: (T, 17, 3) with confidences."""
    rng = rng or np.random.default_rng(0)
    base = np.array([[320, 100], [330, 90], [310, 90], [340, 95], [300, 95], [360, 150], [280, 150], [380, 220],
                     [260, 220], [390, 290], [250, 290], [345, 300], [295, 300], [350, 400], [290, 400], [352, 500],
                     [288, 500]], dtype=np.float64)  # fmt: skip
    sway = 10 * np.sin(np.arange(frames) / 5)[:, None, None] * np.array([1.0, 0.0])
    points = base + sway + rng.normal(scale=1.0, size=(frames, 17, 2))
    return np.concatenate([points, np.full((frames, 17, 1), 0.9)], -1)


def test_lift_keypoints_tracks_gaps_and_metadata() -> None:
    model = small_gast()
    first, second = coco_track(30), coco_track(30, np.random.default_rng(1))
    second[:5] = np.nan  # the second person enters at frame 5
    first[10:13, 9, 2] = 0.0  # left wrist occluded for 3 frames
    first[10:13, 9, :2] = -1.0
    first[3:25, 15, 2] = 0.0  # left ankle gone for 22 frames: beyond repair
    keypoints = np.stack([first, second])
    lifted = lift_keypoints(keypoints, model, flip=True, max_gap=10)
    assert lifted.poses.shape == (2, 30, 17, 3) and lifted.skeleton.name == "h36m17"
    assert np.isnan(lifted.poses[1, :5]).all() and np.isfinite(lifted.poses[1, 5:]).all()
    np.testing.assert_allclose(lifted.poses[0, :, 0], 0.0, atol=1e-6)  # root-relative
    meta = lifted.metadata
    assert meta["units"] == "m" and meta["root_relative"] and meta["layout"] == "h36m17"
    assert meta["image_size_source"].startswith("estimated") and meta["fps_source"] == "assumed"
    assert meta["weights_sha256"] == weights_checksum(model) and len(meta["weights_sha256"]) == 64
    track = meta["tracks"][0]
    assert track["unreliable_joints"] == {"left_ankle": 22} and track["unreliable_frames"] == [[3, 24]]
    assert track["interpolated_joints"] == 3  # the wrist (copied joint); synthesised joints did not lose a source
    assert meta["tracks"][1]["frames"] == [5, 29]
    assert not lifted.frame_reliable[0, 3:25].any() and lifted.frame_reliable[0, :3].all()
    assert not lifted.joint_reliable[0, 3:25, 6].any()  # h36m17 left_ankle = 6
    # the same numbers by hand: convert, repair, normalise with the estimated size, flip-averaged lift
    from skeletal.models.lifting import predict_with_flip

    h36m = convert(first, "coco17", "h36m17", has_confidence=True)
    repaired = repair_keypoints(h36m[..., :2], h36m[..., 2], max_gap=10).points
    width, height = meta["image_size"]
    screen = repaired / width * 2 - np.array([1.0, height / width])
    with torch.no_grad():
        expected = predict_with_flip(model, torch.as_tensor(screen, dtype=torch.float32)[None], padded=True)[0]
    expected = expected - expected[:, :1]
    np.testing.assert_allclose(lifted.poses[0], expected.numpy(), atol=1e-5)


def test_long_track_is_float32_and_animated_from_its_shown_frames(tmp_path: Path, monkeypatch) -> None:
    """Issue 18 (lift of 100,000 frames under 500 MB): the pipeline keeps float32 arrays, and the animation is
    handed only the frames it shows (every k-th, at most max_frames), not the whole track."""
    from skeletal.viz import animation

    lifted = lift_keypoints(coco_track(1000), small_gast(), image_size=(640, 600), fps=30)
    assert lifted.poses.dtype == lifted.keypoints.dtype == lifted.scores.dtype == np.float32
    handed = {}

    def record(panels, skeleton, out, fps=25.0, every=1, max_frames=None, **_):
        handed.update(frames=[panel.frames for panel in panels], fps=fps, every=every, max_frames=max_frames)
        return Path(out)

    monkeypatch.setattr(animation, "animate", record)
    lifted.animate(tmp_path / "x.gif", every=7, max_frames=100)
    assert handed["fps"] == pytest.approx(30 / 7) and handed["every"] == 1 and handed["max_frames"] is None
    two_d, three_d = handed["frames"]
    assert len(two_d) == len(three_d) == 100  # ceil(1000 / 7) = 143 frames, cut to 100
    np.testing.assert_array_equal(two_d, lifted.keypoints[0, 0:700:7])
    np.testing.assert_array_equal(three_d, lifted.poses[0, 0:700:7] * np.float32([1, -1, -1]))
    lifted.animate(tmp_path / "x.gif", every=7, max_frames=None)
    assert len(handed["frames"][0]) == 143
    with pytest.raises(ConfigError, match="every must be >= 1"):
        lifted.animate(tmp_path / "x.gif", every=0)


def test_repair_keeps_float32() -> None:
    points = np.arange(40, dtype=np.float32).reshape(10, 2, 2)
    scores = np.ones((10, 2), dtype=np.float32)
    scores[3, 0] = 0
    repaired = repair_keypoints(points, scores)
    assert repaired.points.dtype == np.float32
    np.testing.assert_array_equal(repaired.points[3, 0], points[3, 0])  # linear data: interpolated exactly
    assert repair_keypoints(points.astype(int), scores).points.dtype == np.float64


def test_causal_lifting_streams_and_matches_lift() -> None:
    model = small_gast(causal=True)
    track = coco_track(20)
    lifted = lift_keypoints(track, model, image_size=(640, 600), fps=25, streaming=True)
    assert lifted.metadata["streaming_latency_ms_per_frame"] > 0 and lifted.metadata["image_size_source"] == "given"
    h36m = convert(track, "coco17", "h36m17", has_confidence=True)[..., :2]
    screen = h36m / 640 * 2 - np.array([1.0, 600 / 640])
    with torch.no_grad():
        expected = model.lift(torch.as_tensor(screen, dtype=torch.float32)[None])[0]
    np.testing.assert_allclose(lifted.poses[0], (expected - expected[:, :1]).numpy(), atol=1e-5)
    offline = lift_keypoints(track, model, image_size=(640, 600), fps=25)  # layer by layer: same poses, no latency
    assert offline.metadata["streaming_latency_ms_per_frame"] is None
    np.testing.assert_allclose(offline.poses[0], lifted.poses[0], atol=1e-5)


def test_lift_file_npy_two_people(tmp_path: Path) -> None:
    array = np.stack([coco_track(20), coco_track(20, np.random.default_rng(3))])  # (M, T, 17, 3) pixels + scores
    np.save(tmp_path / "two.npy", array)
    model_file = tmp_path / "small.safetensors"
    checkpoint.save(model_file, small_gast(), "gast-net-9", {"channels": 8}, task="lifting", skeleton="h36m17")
    with pytest.raises(DataError, match="two.npy: 17 joints fit the layouts coco17 and h36m17.*--layout"):
        lift_file(tmp_path / "two.npy", checkpoint=model_file, out_dir=tmp_path, animation=False)
    lifted, written = lift_file(tmp_path / "two.npy", checkpoint=model_file, out_dir=tmp_path, animation=False,
                                layout="coco17")  # fmt: skip
    assert lifted.poses.shape == (2, 20, 17, 3) and np.isfinite(lifted.poses).all()
    assert [t["frames"] for t in lifted.metadata["tracks"]] == [[0, 19], [0, 19]]
    assert [p.name for p in written] == ["two_3d.npz"]


def test_random_weights_warn_loudly_and_checkpoint_mismatch_errors(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="RANDOM weights.*MEANINGLESS"):
        load_lifter(model_name="gast-net-9")
    symmetric = tmp_path / "symmetric.safetensors"
    checkpoint.save(symmetric, small_gast(), "gast-net-9", {"channels": 8}, task="lifting", skeleton="h36m17")
    with pytest.raises(ConfigError, match="causal"):
        load_lifter(symmetric, causal=True)
    with pytest.raises(ConfigError, match="unknown lifting model"):
        load_lifter(model_name="s-tr")


def test_lift_file_baseball_writes_npz_and_gif(shared_data, tmp_path: Path) -> None:
    model_file = tmp_path / "small.safetensors"
    checkpoint.save(model_file, small_gast(), "gast-net-9", {"channels": 8}, task="lifting", skeleton="h36m17")
    lifted, written = lift_file(shared_data / "keypoints-2d" / "baseball.json", checkpoint=model_file,
                                out_dir=tmp_path / "out", flip=True)  # fmt: skip
    assert [p.name for p in written] == ["baseball_3d.npz", "baseball_3d.gif"]
    assert written[1].stat().st_size > 10_000
    with np.load(written[0]) as saved:
        assert saved["poses_3d"].shape == (1, 277, 17, 3) and np.isfinite(saved["poses_3d"]).all()
        meta = json.loads(str(saved["metadata"]))
        assert list(saved["joint_names"]) == list(get("h36m17").joint_names)
    assert meta["model"]["checkpoint"] == str(model_file) and meta["model"]["trained"]
    assert meta["weights_sha256"] == checkpoint.read_metadata(model_file).tensors_sha256
    assert meta["input_layout"] == "coco17" and meta["coordinate_frame"].startswith("camera frame")
    assert lifted.metadata["image_size_source"].startswith("estimated")


def test_cli_lift_random_model_warns(shared_data, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.warns(UserWarning, match="RANDOM weights"):
        code = main(["lift", str(shared_data / "keypoints-2d" / "baseball.json"), "--model", "gast-net-9",
                     "--out", str(tmp_path), "--no-animation", "--image-size", "1280x720"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "1 track(s) x 277 frames" in out and "1280x720 (given)" in out and "baseball_3d.npz" in out
    assert main(["lift", str(tmp_path / "missing.json"), "--model", "gast-net-9", "--out", str(tmp_path)]) == 2


def test_bone_length_variation_golden() -> None:
    skeleton = get("h36m17")
    pose = np.random.default_rng(0).normal(size=(17, 3))
    angles = np.linspace(0, np.pi, 10)
    rotations = np.stack([[[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]] for a in angles])
    rigid = np.einsum("tij,vj->tvi", rotations, pose)
    assert max(bone_length_variation(rigid, skeleton).values()) < 1e-12
    scaled = pose[None] * np.array([1.0, 3.0])[:, None, None]  # lengths l and 3l: std l, mean 2l
    assert all(v == pytest.approx(0.5) for v in bone_length_variation(scaled, skeleton).values())


def test_cmu_trained_gast_net_keeps_bones_consistent_on_baseball(shared_data) -> None:
    model_file = RESULTS / "gast-net-27_cmu.safetensors"
    if not model_file.is_file():
        pytest.skip("run benchmarks/cmu_lifting.py to produce the CMU-trained checkpoint")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a trained checkpoint: no random-weights warning
        lifted, _ = lift_file(shared_data / "keypoints-2d" / "baseball.json", checkpoint=model_file, flip=True)
    trained = np.mean(list(bone_length_variation(lifted.poses[0], lifted.skeleton).values()))
    untrained = lift_keypoints(read_keypoints(shared_data / "keypoints-2d" / "baseball.json"),
                               models.create("gast-net-27", channels=16).eval(), flip=True)  # fmt: skip
    random = np.mean(list(bone_length_variation(untrained.poses[0], untrained.skeleton).values()))
    # measured: 0.171 for the committed checkpoint, 0.34-0.37 for random weights (benchmarks/results/cmu_lifting.md)
    assert trained < 0.25 and trained < 0.7 * random
    with pytest.raises(DataError, match="no keypoint in any frame"):  # nothing at all to lift: a clear error
        lift_keypoints(Keypoints(get("coco17"), np.zeros((1, 1, 17, 2)), np.zeros((1, 1, 17))), small_gast())
    real = read_keypoints(shared_data / "keypoints-2d" / "baseball.json")
    points = np.concatenate([real.points[:1], np.zeros_like(real.points[:1])])
    scores = np.concatenate([real.scores[:1], np.zeros_like(real.scores[:1])])
    two = lift_keypoints(Keypoints(real.skeleton, points, scores, image_size=real.image_size), small_gast())
    assert np.isnan(two.poses[1]).all() and np.isfinite(two.poses[0]).any()  # an empty track gives no pose


def _has_mediapipe() -> bool:
    import importlib.util

    return importlib.util.find_spec("mediapipe") is not None


@pytest.mark.skipif(_has_mediapipe(), reason="checks the error shown when the [video] extra is missing")
def test_video_without_the_extra_says_how_to_install(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00" * 64)
    with pytest.raises(ConfigError, match=r"environment of its own.*pip install 'torch==2.13.0' -e '\.\[video\]'"):
        lift_file(video, checkpoint=None, model_name="gast-net-9")
    assert main(["lift", str(video), "--model", "gast-net-9", "--out", str(tmp_path)]) == 2


def test_video_detector_on_a_synthetic_clip(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    cv2 = pytest.importorskip("cv2")
    from skeletal.inference.video import detect_keypoints

    video = tmp_path / "blank.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (160, 120))
    for _ in range(5):
        writer.write(np.full((120, 160, 3), 127, dtype=np.uint8))
    writer.release()
    keypoints = detect_keypoints(video)
    assert keypoints.skeleton.name == "coco17" and keypoints.points.shape == (1, 5, 17, 2)
    assert keypoints.image_size == (160, 120) and keypoints.fps == pytest.approx(25.0)
    assert (keypoints.scores == 0).all()  # nobody in a grey frame: every joint missing, never garbage
