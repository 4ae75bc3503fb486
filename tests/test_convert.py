"""Layout converters: golden values on a hand-made pose, confidence and NaN propagation, torch/numpy parity."""

import json

import numpy as np
import pytest
import torch

from skeletal import skeletons
from skeletal.errors import ConfigError, LayoutError, ShapeError
from skeletal.skeletons import convert
from skeletal.skeletons.convert import _CONVERTERS

# A hand-made COCO-17 pose in image pixels (y down), slightly asymmetric (the nose is 3 px right of centre).
COCO_POSE = np.array([
    [13, 20], [12, 18], [8, 18], [14, 19], [6, 19],   # nose, left/right eye, left/right ear
    [20, 40], [0, 40], [24, 60], [-4, 60], [26, 80], [-6, 80],   # shoulders, elbows, wrists
    [16, 90], [4, 90], [17, 120], [3, 120], [18, 150], [2, 150],  # hips, knees, ankles
], dtype=np.float64)  # fmt: skip
COCO_SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.95, 0.85, 0.9, 0.9, 0.9, 0.9, 0.75, 0.65, 0.9, 0.9, 0.9, 0.9])
H36M = skeletons.get("h36m17")


def _with_scores(points: np.ndarray, scores: np.ndarray) -> np.ndarray:
    return np.concatenate([points, scores[..., None]], axis=-1)


def test_coco17_to_h36m17_golden_midpoints():
    out = convert(COCO_POSE, "coco17", "h36m17")
    assert out.shape == (17, 2)
    # By hand: mid-shoulders (10, 40), mid-hips (10, 90), mean of the eyes (10, 18), nose (13, 20).
    np.testing.assert_allclose(out[H36M.index("pelvis")], [10, 90])  # exactly mid-hips
    np.testing.assert_allclose(out[H36M.index("thorax")], [10, 40])  # mid-shoulders
    np.testing.assert_allclose(out[H36M.index("spine")], [10, 65])  # mid(pelvis, thorax)
    np.testing.assert_allclose(out[H36M.index("neck")], [12.25, 25])  # nose + (mid-shoulders - nose) / 4
    np.testing.assert_allclose(out[H36M.index("head")], [10, 16])  # x: mean of eyes and ears; y: 2 * 18 - 20
    # Limb joints are copied by name.
    coco = skeletons.get("coco17")
    for joint, name in enumerate(H36M.joint_names):
        if name in coco.joint_names:
            np.testing.assert_array_equal(out[joint], COCO_POSE[coco.index(name)])
    assert sum(name in coco.joint_names for name in H36M.joint_names) == 12


def test_coco17_to_h36m17_golden_gast_style():
    out = convert(COCO_POSE, "coco17", "h36m17", style="gast")
    # GAST-Net coco_h36m: thorax = ms + (nose - ms) / 3 = (11, 40 - 20/3), then y -= (18 - 20) * 2/3 -> 104/3.
    np.testing.assert_allclose(out[H36M.index("thorax")], [11, 104 / 3])
    # spine = mean(shoulders, hips) = (10, 65); x += 2 (x - (pelvis_x + thorax_x) / 2) = 10 + 2 (10 - 10.5) = 9.
    np.testing.assert_allclose(out[H36M.index("spine")], [9, 65])
    np.testing.assert_allclose(out[H36M.index("pelvis")], [10, 90])
    np.testing.assert_allclose(out[H36M.index("neck")], [12.25, 25])
    np.testing.assert_allclose(out[H36M.index("head")], [10, 16])


def test_three_dimensional_input():
    depth = np.arange(17, dtype=np.float64)[:, None]  # z = joint index
    out = convert(np.concatenate([COCO_POSE, depth], axis=-1), "coco17", "h36m17")
    assert out.shape == (17, 3)
    assert out[H36M.index("head"), 2] == pytest.approx((1 + 2 + 3 + 4) / 4)  # mean of the eyes' and ears' z
    assert out[H36M.index("pelvis"), 2] == pytest.approx((11 + 12) / 2)
    np.testing.assert_allclose(out[H36M.index("head"), :2], [10, 16])


def test_confidence_propagation():
    out = convert(_with_scores(COCO_POSE, COCO_SCORES), "coco17", "h36m17", has_confidence=True)
    assert out.shape == (17, 3)
    score = dict(zip(H36M.joint_names, out[:, 2]))
    assert score["pelvis"] == 0.65 and score["thorax"] == 0.85 and score["spine"] == 0.65  # minimum of sources
    assert score["neck"] == 0.85 and score["head"] == 0.5
    assert score["right_hip"] == 0.65 and score["left_shoulder"] == 0.95  # copied joints carry theirs
    gast = convert(_with_scores(COCO_POSE, COCO_SCORES), "coco17", "h36m17", has_confidence=True, style="gast")
    assert gast[H36M.index("thorax"), 2] == 0.7  # GAST's thorax also uses the nose and eyes


def test_missing_joints_propagate():
    points, scores = COCO_POSE.copy(), COCO_SCORES.copy()
    points[3] = np.nan  # left ear lost: the head is lost, nothing else
    scores[11] = 0.0  # left hip with zero confidence: pelvis and spine are lost, the copied hip is carried
    out = convert(_with_scores(points, scores), "coco17", "h36m17", has_confidence=True)
    lost = {H36M.index(n) for n in ("head", "pelvis", "spine")}
    for joint in range(17):
        if joint in lost:
            assert np.isnan(out[joint, :2]).all() and out[joint, 2] == 0
        else:
            assert np.isfinite(out[joint]).all()
    np.testing.assert_array_equal(out[H36M.index("left_hip")], [16, 90, 0.0])
    # Without confidences, NaN alone marks a missing joint.
    plain = convert(points, "coco17", "h36m17")
    assert np.isnan(plain[H36M.index("head")]).all() and np.isfinite(plain[H36M.index("pelvis")]).all()


@pytest.mark.parametrize("style", ["midpoints", "gast"])
def test_torch_numpy_parity_and_gradient(style, rng):
    batch = np.concatenate([rng.normal(size=(4, 5, 17, 3)), rng.uniform(0.1, 1, size=(4, 5, 17, 1))], axis=-1)
    batch[0, 0, 3, 0] = np.nan
    expected = convert(batch.astype(np.float32), "coco17", "h36m17", has_confidence=True, style=style)
    tensor = torch.tensor(batch, dtype=torch.float32, requires_grad=True)
    result = convert(tensor, "coco17", "h36m17", has_confidence=True, style=style)
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float32 and expected.dtype == np.float32
    np.testing.assert_allclose(result.detach().numpy(), expected, rtol=1e-6, atol=1e-6, equal_nan=True)
    torch.nan_to_num(result, nan=0.0).sum().backward()
    assert torch.isfinite(tensor.grad).all()


@pytest.mark.parametrize("source, target", [("openpose18", "coco17"), ("mediapipe33", "coco17"), ("smpl24", "amass15")])
def test_selections_match_joint_names(source, target):
    src, tgt = skeletons.get(source), skeletons.get(target)
    points = np.stack([np.arange(src.num_joints), 10 * np.arange(src.num_joints)], axis=-1).astype(float)
    scores = np.linspace(0.1, 1.0, src.num_joints)
    out = convert(_with_scores(points, scores), source, target, has_confidence=True)
    picked = out[:, 0].astype(int)
    assert [src.joint_names[i] for i in picked] == list(tgt.joint_names)
    np.testing.assert_allclose(out[:, 2], scores[picked])  # confidences carried


def test_h36m32_selection_is_videopose3d():
    out = convert(np.arange(32.0)[:, None].repeat(3, axis=1), "h36m32", "h36m17")
    assert out[:, 0].astype(int).tolist() == [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]


def test_composition_is_found():
    assert skeletons.conversion_path("openpose18", "h36m17") == ["openpose18", "coco17", "h36m17"]
    assert skeletons.conversion_path("mediapipe33", "h36m17") == ["mediapipe33", "coco17", "h36m17"]
    openpose = np.random.default_rng(1).normal(size=(3, 18, 2))
    direct = convert(openpose, "openpose18", "h36m17", style="gast")
    two_steps = convert(convert(openpose, "openpose18", "coco17"), "coco17", "h36m17", style="gast")
    np.testing.assert_array_equal(direct, two_steps)
    np.testing.assert_array_equal(convert(openpose, "openpose18", "openpose18"), openpose)


def test_errors_name_what_was_expected():
    with pytest.raises(ConfigError, match="from layout 'h36m17' to layout 'coco17'"):
        convert(np.zeros((17, 2)), "h36m17", "coco17")
    with pytest.raises(LayoutError, match="18 joints but layout 'coco17' has 17"):
        convert(np.zeros((18, 2)), "coco17", "h36m17")
    with pytest.raises(ShapeError, match="3 or 4 channels"):
        convert(np.zeros((17, 2)), "coco17", "h36m17", has_confidence=True)
    with pytest.raises(ConfigError, match="not accepted"):
        convert(np.zeros((18, 2)), "openpose18", "coco17", style="gast")
    with pytest.raises(ConfigError, match="style"):
        convert(np.zeros((17, 2)), "coco17", "h36m17", style="other")


def test_register_user_converter():
    key = ("humaneva15", "h36m17")
    try:
        skeletons.register_converter(*key, indices=[0] * 17)
        assert key in skeletons.converters()
        assert convert(np.ones((15, 3)), *key).shape == (17, 3)
        with pytest.raises(ConfigError, match="already registered"):
            skeletons.register_converter(*key, indices=[0] * 17)
    finally:
        _CONVERTERS.pop(key, None)
    with pytest.raises(ConfigError, match="expected 17 indices"):
        skeletons.register_converter(*key, indices=[0] * 16)


def test_real_coco_keypoints_to_h36m17(shared_data):
    frames = json.loads((shared_data / "keypoints-2d" / "baseball.json").read_text())["data"]
    people = [frame["skeleton"][0] for frame in frames]
    points = np.array([person["pose"] for person in people], dtype=np.float64)
    scores = np.array([person["score"] for person in people], dtype=np.float64)[..., 0]
    assert points.shape == (277, 17, 2) and scores.shape == (277, 17)
    out = convert(_with_scores(points, scores), "coco17", "h36m17", has_confidence=True)
    confident = (scores > 0).all(axis=1)
    assert confident.sum() == 277
    assert np.isfinite(out[confident]).all() and (out[confident, :, 2] > 0).all()
    np.testing.assert_allclose(out[:, 0, :2], (points[:, 11] + points[:, 12]) / 2)
    # Upright pitcher: head above neck above thorax above spine above pelvis (image y grows downwards).
    y = out[..., 1]
    order = [H36M.index(n) for n in ("head", "neck", "thorax", "spine", "pelvis")]
    assert (np.diff(y[:, order], axis=1) > 0).all()
