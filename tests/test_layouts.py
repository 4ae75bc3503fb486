"""The built-in layouts against their sources (official code, dataset definitions) and real data."""

import re

import numpy as np
import pytest

from skeletal import skeletons
from skeletal.skeletons.layouts import AMASS15_SMPL_INDICES

ALL = ("ntu25", "openpose18", "coco17", "mediapipe33", "h36m32", "h36m17", "humaneva15", "smpl24", "amass15", "cmu38")


def test_names_lists_every_builtin_layout():
    assert set(ALL) <= set(skeletons.names())


def _mirror(name: str) -> str:
    return re.sub(r"left|right", lambda m: "right" if m.group() == "left" else "left", name)


@pytest.mark.parametrize("name", ALL)
def test_layout_invariants(name):
    skeleton = skeletons.get(name)
    names = skeleton.joint_names
    assert len(set(names)) == len(names)
    assert list(skeleton.parents).count(-1) == 1 and len(skeleton.edges) == skeleton.num_joints - 1
    perm = np.array(skeleton.flip_permutation)
    assert (perm[perm] == np.arange(len(perm))).all()
    # Left and right are genuinely mirrored: partners carry mirrored names, and every sided name is listed.
    for lft, rgt in zip(skeleton.left, skeleton.right):
        assert "left" in names[lft] and names[rgt] == _mirror(names[lft]), (names[lft], names[rgt])
    sided = {i for i, n in enumerate(names) if "left" in n or "right" in n}
    assert sided == set(skeleton.left) | set(skeleton.right)
    # Flipping maps each joint's parent to the flipped joint's parent: the tree itself is symmetric.
    for joint, parent in skeleton.edges:
        assert skeleton.parents[perm[joint]] == perm[parent]


def test_openpose18_is_the_stgcn_kinetics_graph():
    openpose = skeletons.get("openpose18")
    stgcn = {(4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5), (8, 2), (5, 1), (2, 1),
             (0, 1), (15, 0), (14, 0), (17, 15), (16, 14)}  # fmt: skip
    assert {frozenset(e) for e in openpose.edges} == {frozenset(e) for e in stgcn}
    assert openpose.center == 1 and openpose.root == 1 and openpose.joint_names[1] == "neck"
    assert openpose.joint_names[:6] == ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder")
    assert openpose.joint_names[14:] == ("right_eye", "left_eye", "right_ear", "left_ear")


def test_coco17_order_and_tree():
    coco = skeletons.get("coco17")
    assert (
        coco.joint_names[0] == "nose"
        and coco.joint_names[5] == "left_shoulder"
        and coco.joint_names[16] == ("right_ankle")
    )
    assert coco.root == 0 and coco.parents[11] == 5 and coco.parents[3] == 1 and coco.parents[15] == 13
    assert list(coco.left) == [1, 3, 5, 7, 9, 11, 13, 15] and list(coco.right) == [2, 4, 6, 8, 10, 12, 14, 16]


def test_mediapipe33_landmarks():
    mediapipe = skeletons.get("mediapipe33")
    assert mediapipe.num_joints == 33
    assert mediapipe.index("left_shoulder") == 11 and mediapipe.index("right_hip") == 24
    assert mediapipe.index("mouth_left") == 9 and mediapipe.index("right_foot_index") == 32
    pose_connections = {(0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13),
                        (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18), (16, 20),
                        (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
                        (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32)}  # fmt: skip
    added = {(0, 9), (0, 10), (0, 11), (0, 12)}  # face and shoulders hang from the nose
    for child, parent in mediapipe.edges:
        assert (parent, child) in pose_connections | added or (child, parent) in pose_connections | added


def test_h36m32_matches_martinez_forward_kinematics():
    h36m = skeletons.get("h36m32")
    one_based = [0, 1, 2, 3, 4, 5, 1, 7, 8, 9, 10, 1, 12, 13, 14, 15, 13, 17, 18, 19, 20, 21, 20, 23, 13, 25, 26, 27,
                 28, 29, 28, 31]  # fmt: skip
    assert list(h36m.parents) == [p - 1 for p in one_based]
    offsets = np.array(h36m.offsets)
    assert offsets.shape == (32, 3) and h36m.units == "mm"
    assert offsets[1, 0] == -132.948591 and offsets[6, 0] == 132.948826  # right hip at -x, left at +x
    assert offsets[3, 1] == -454.206447 and offsets[30, 1] == 137.499922 and offsets[11, 1] == 0.1
    # Checksums of the 96 numbers of _some_variables() (computed from the reference list): sum and sum of |.|.
    assert offsets.sum() == pytest.approx(1722.988649, abs=1e-6)
    assert np.abs(offsets).sum() == pytest.approx(5577.289955, abs=1e-6)
    # Mirrored bones have equal lengths (to 0.011 mm), except the wrist ends: 100.0 left, 137.5 right in the source.
    lengths = np.linalg.norm(offsets, axis=1)
    for lft, rgt in zip(h36m.left, h36m.right):
        if (lft, rgt) != (22, 30):
            assert lengths[lft] == pytest.approx(lengths[rgt], abs=0.011)


def test_h36m17_is_videopose3d_reduction_of_h36m32():
    full, reduced = skeletons.get("h36m32"), skeletons.get("h36m17")
    kept = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]  # VideoPose3D remove_joints keeps these
    for new, old in enumerate(kept):
        ancestor = full.parents[old]
        while ancestor >= 0 and ancestor not in kept:
            ancestor = full.parents[ancestor]
        expected = kept.index(ancestor) if ancestor >= 0 else -1
        if new in (11, 14):  # VideoPose3D rewires the shoulders to the thorax
            expected = 8
        assert reduced.parents[new] == expected
    for new, old in enumerate(kept):  # sides agree
        assert (new in reduced.left) == (old in full.left) and (new in reduced.right) == (old in full.right)


def test_humaneva15_matches_videopose3d():
    humaneva = skeletons.get("humaneva15")
    assert list(humaneva.parents) == [-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1]
    assert list(humaneva.left) == [2, 3, 4, 8, 9, 10] and list(humaneva.right) == [5, 6, 7, 11, 12, 13]
    assert humaneva.joint_names[0] == "pelvis" and humaneva.joint_names[14] == "head"


def test_smpl24_and_amass15():
    smpl, amass = skeletons.get("smpl24"), skeletons.get("amass15")
    assert list(smpl.parents) == [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
    assert AMASS15_SMPL_INDICES == (1, 2, 3, 4, 5, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19)
    assert amass.joint_names == tuple(smpl.joint_names[i] for i in AMASS15_SMPL_INDICES)
    # The SPL tree of eth-ait/motion-transformer (spl/model/spl.py), three roots at l_hip, r_hip, spine1.
    spl_parents = [-1, -1, -1, 0, 1, 2, 5, 6, 6, 6, 7, 8, 9, 11, 12]
    for joint, smpl_index in enumerate(AMASS15_SMPL_INDICES):
        ancestor = smpl.parents[smpl_index]
        while ancestor >= 0 and ancestor not in AMASS15_SMPL_INDICES:
            ancestor = smpl.parents[ancestor]
        nearest = AMASS15_SMPL_INDICES.index(ancestor) if ancestor >= 0 else -1
        assert nearest == spl_parents[joint]
        if nearest >= 0:
            assert amass.parents[joint] == nearest
    assert amass.root == amass.index("spine1") == 2
    assert amass.parents[amass.index("left_hip")] == amass.parents[amass.index("right_hip")] == 2


def test_cmu38_matches_published_loader():
    cmu = skeletons.get("cmu38")
    one_based = [0, 1, 2, 3, 4, 5, 6, 1, 8, 9, 10, 11, 12, 1, 14, 15, 16, 17, 18, 19, 16, 21, 22, 23, 24, 25, 26, 24,
                 28, 16, 30, 31, 32, 33, 34, 35, 33, 37]  # fmt: skip
    assert list(cmu.parents) == [p - 1 for p in one_based]
    offsets = np.array(cmu.offsets)
    np.testing.assert_allclose(offsets[3], 70 * np.array([2.5972, -7.13576, 0.0]))
    np.testing.assert_allclose(offsets[37], 70 * np.array([-0.59786, 0.0, 0.59786]))
    # Checksums of the 114 numbers of _some_variables_cmu() before the x70 (computed from the reference list).
    assert offsets.sum() / 70 == pytest.approx(-14.12761, abs=1e-9)
    assert np.abs(offsets).sum() / 70 == pytest.approx(94.34361, abs=1e-9)
    assert offsets[2, 0] > 0 > offsets[8, 0] and offsets[21, 0] > 0 > offsets[30, 0]  # left is +x in CMU


def _rodrigues(rotvec: np.ndarray) -> np.ndarray:
    theta = np.linalg.norm(rotvec)
    axis = rotvec / (theta + np.finfo(np.float64).eps)
    skew = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(theta) * skew + (1 - np.cos(theta)) * skew @ skew


def _forward_kinematics(skeleton, frame: np.ndarray) -> np.ndarray:
    """Row-vector FK of the exp-map benchmarks (Martinez et al. fkl): x_j = o_j R_parent + x_parent."""
    offsets = np.array(skeleton.offsets)
    rotations = [_rodrigues(r) for r in frame[3:].reshape(-1, 3)]
    positions, global_rot = np.zeros((skeleton.num_joints, 3)), [None] * skeleton.num_joints
    for joint, parent in enumerate(skeleton.parents):
        if parent < 0:
            positions[joint], global_rot[joint] = offsets[joint], rotations[joint]
        else:
            positions[joint] = offsets[joint] @ global_rot[parent] + positions[parent]
            global_rot[joint] = rotations[joint] @ global_rot[parent]
    return positions


def test_cmu38_forward_kinematics_on_real_walking(shared_data):
    cmu = skeletons.get("cmu38")
    data = np.loadtxt(shared_data / "cmu-mocap-expmap" / "train" / "walking" / "walking_1.txt", delimiter=",")
    assert data.shape == (344, 3 + 3 * cmu.num_joints)
    lengths = np.linalg.norm(np.array(cmu.offsets), axis=1)
    for t in (0, 171, 343):
        xyz = _forward_kinematics(cmu, data[t])
        for joint, parent in cmu.edges:
            assert np.linalg.norm(xyz[joint] - xyz[parent]) == pytest.approx(lengths[joint], abs=1e-6)
        head, feet = xyz[cmu.index("head"), 1], xyz[[cmu.index("left_toe_end"), cmu.index("right_toe_end")], 1]
        assert (head > feet).all() and 1600 < head - feet.min() < 1900  # an upright walker about 1.75 m tall
        # Hips and shoulders about the width of a person.
        assert 150 < np.linalg.norm(xyz[cmu.index("left_hip")] - xyz[cmu.index("right_hip")]) < 300
        assert 350 < np.linalg.norm(xyz[cmu.index("left_shoulder")] - xyz[cmu.index("right_shoulder")]) < 550
    first = _forward_kinematics(cmu, data[0])  # its root rotation is zero: left joints at +x
    assert first[cmu.index("left_hip"), 0] > 0 > first[cmu.index("right_hip"), 0]
    assert first[cmu.index("head"), 1] > first[cmu.index("upper_back"), 1] > first[cmu.index("root"), 1]
