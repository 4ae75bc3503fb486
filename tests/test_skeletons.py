import numpy as np
import pytest

from skeletal import skeletons
from skeletal.errors import ConfigError, LayoutError


def test_ntu25_matches_stgcn_links():
    ntu = skeletons.get("ntu25")
    # ST-GCN neighbor_1base (one-based) of the NTU RGB+D graph.
    one_based = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
                 (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19),
                 (22, 23), (23, 8), (24, 25), (25, 12)]  # fmt: skip
    assert set(ntu.edges) == {(a - 1, b - 1) for a, b in one_based}
    assert ntu.num_joints == 25 and ntu.center == 20 and ntu.coordinate_origin == 1


def test_h36m17_matches_videopose3d():
    h36m = skeletons.get("h36m17")
    assert list(h36m.parents) == [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]
    assert list(h36m.left) == [4, 5, 6, 11, 12, 13] and list(h36m.right) == [1, 2, 3, 14, 15, 16]


def test_flip_permutation_is_an_involution():
    for name in skeletons.names():
        perm = np.array(skeletons.get(name).flip_permutation)
        assert (perm[perm] == np.arange(len(perm))).all(), name


def test_gast_kernels_nonzeros():
    assert int((skeletons.symmetric_adjacency("h36m17") != 0).sum()) == 29
    kinematic = skeletons.kinematic_adjacency("h36m17")
    assert int((kinematic != 0).sum()) == 54
    assert skeletons.distal_joints("h36m17") == (3, 6, 10, 13, 16)
    assert kinematic[3, 1] == 1 and kinematic[1, 3] == 0  # ankle -> hip second order, row of the distal joint only


def test_stgcn_spatial_partition_ntu():
    parts = skeletons.stgcn_partitions("ntu25", "spatial")
    assert parts.shape == (3, 25, 25)
    # Columns of the summed partitions are normalised: each sums to one.
    np.testing.assert_allclose(parts.sum(axis=(0, 1)), np.ones(25), atol=1e-6)
    # Root subset is the diagonal: joint 4 (head, one-based) has degree 2 (neck + itself).
    assert parts[0, 3, 3] == pytest.approx(0.5)
    # As in ST-GCN's official graph.py, subset 1 of column i holds the neighbours j farther from the centre
    # (21) than i, subset 2 those nearer. Neck (3) is nearer than the head (4); the neck has degree 3.
    assert parts[2, 2, 3] == pytest.approx(0.5) and parts[1, 2, 3] == 0
    assert parts[1, 3, 2] == pytest.approx(1 / 3)


def test_uniform_and_distance_partitions():
    assert skeletons.stgcn_partitions("ntu25", "uniform").shape == (1, 25, 25)
    distance = skeletons.stgcn_partitions("ntu25", "distance")
    assert distance.shape == (2, 25, 25)
    np.testing.assert_allclose(np.diag(distance[0]), 1 / (1 + skeletons.adjacency("ntu25", False).sum(0)))


def test_agcn_partitions():
    parts = skeletons.agcn_partitions("ntu25")
    np.testing.assert_array_equal(parts[0], np.eye(25))
    assert parts[1, 1, 0] == 1.0  # spine base -> spine mid is inward
    np.testing.assert_allclose(parts[2].sum(0)[parts[2].sum(0) > 0], 1.0, rtol=1e-6)


def test_unknown_layout_and_wrong_joint_count():
    with pytest.raises(ConfigError, match="unknown skeleton layout"):
        skeletons.get("nope")
    with pytest.raises(LayoutError, match="17 joints but layout 'ntu25' has 25"):
        skeletons.get("ntu25").check(17)


def test_invalid_skeleton_is_rejected():
    with pytest.raises(ConfigError, match="exactly one root"):
        skeletons.Skeleton("bad", ("a", "b"), (-1, -1))
    with pytest.raises(ConfigError, match="cycle"):
        skeletons.Skeleton("bad", ("a", "b", "c"), (-1, 2, 1))
