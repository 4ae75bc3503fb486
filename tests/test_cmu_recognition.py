"""CMU recognition dataset builder on the real cmu-mocap-expmap clips: classes, shapes, metres, normalisation,
windows inside one take, train/test files disjoint; stride balancing by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletal.data.cmu_recognition import (
    LEFT_SHOULDER,
    RIGHT_SHOULDER,
    SPINE_TOP,
    balanced_stride,
    cmu_recognition_splits,
    common_actions,
    take_positions,
    window_starts,
)
from skeletal.errors import DataError


def test_strides_by_hand() -> None:
    assert window_starts(10, 4, 3).tolist() == [0, 3, 6]
    assert window_starts(3, 4, 1).size == 0
    assert balanced_stride([10, 20], 4, per_class=5) == 5  # 7 + 17 = 24 positions -> ceil(24 / 5)
    assert balanced_stride([10], 4, per_class=100, min_stride=2) == 2
    assert balanced_stride([3], 4, per_class=5) == 1  # no window fits: the stride does not matter


def test_real_clips(shared_data: Path) -> None:
    root = shared_data / "cmu-mocap-expmap"
    assert common_actions(root) == ("basketball", "jumping", "running", "soccer", "walking")
    data = cmu_recognition_splits(root, length=32, downsample=4, train_per_class=30, test_per_class=10,
                                  actions=("running", "walking"))  # fmt: skip
    assert data.classes == ("running", "walking") and data.fps == 15.0
    for split, files in ((data.train, data.train_files), (data.test, data.test_files)):
        assert split["x"].shape[1:] == (1, 32, 38, 3) and split["x"].dtype == np.float32
        assert split["y"].shape == (len(split["x"]),) == files.shape
        counts = np.bincount(split["y"])
        assert counts.min() >= 0.5 * counts.max()  # roughly balanced
    assert {f.split("/")[0] for f in data.train_files} == {"train"}
    assert {f.split("/")[0] for f in data.test_files} == {"test"}
    assert not set(data.train_files) & set(data.test_files)
    for label, action in enumerate(data.classes):  # the label is the action of the window's take
        assert all(f.split("/")[1] == action for f in data.train_files[data.train["y"] == label])
    # every window is a contiguous slice of the single take it is attributed to
    take = "train/walking/walking_2.txt"
    positions = take_positions(root / take, downsample=4)
    chosen = data.train["x"][data.train_files == take][:, 0]
    assert len(chosen)
    for window in chosen:
        starts = [s for s in range(len(positions) - 31) if np.allclose(positions[s : s + 32], window, atol=1e-5)]
        assert len(starts) == 1
    # metres and the NTU-style normalisation: root at the origin, spine up (+z), shoulders along +x at frame 0
    first = positions[0]
    np.testing.assert_allclose(positions[:, 0], 0.0, atol=1e-9)
    spine = first[SPINE_TOP]
    assert 0.15 < spine[2] < 0.5 and abs(spine[0]) < 1e-6 and abs(spine[1]) < 1e-6
    shoulders = first[RIGHT_SHOULDER] - first[LEFT_SHOULDER]
    assert shoulders[0] > 0.2 and abs(shoulders[1]) < 1e-6
    assert 1.0 < np.ptp(positions[..., 2]) < 2.2  # a person's height, in metres


def test_missing_split_raises(shared_data: Path) -> None:
    with pytest.raises(DataError, match="washwindow.*train"):
        cmu_recognition_splits(shared_data / "cmu-mocap-expmap", actions=("washwindow",))
