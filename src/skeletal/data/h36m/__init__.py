"""Human3.6M (Ionescu et al., TPAMI 2014) in the formats the lifting and motion-prediction papers use.

Two formats, one module each, with every name importable from here:

1. **VideoPose3D npz files** (:mod:`skeletal.data.h36m.videopose3d`): ``data_3d_h36m.npz`` world positions and
   ``data_2d_h36m_<name>.npz`` keypoints of the 4 cameras, whose calibration is in :mod:`skeletal.data.h36m.cameras`;
   2D/3D pairs for lifting.
2. **Exponential-map text files** of the motion-prediction benchmark (:mod:`skeletal.data.h36m.expmap`) with the
   window selection of its test protocols (SRNN's 8 seeds per action; Mao et al.'s 256 windows).
"""

from skeletal.data.h36m.cameras import H36M_CAMERA_EXTRINSICS, H36M_CAMERA_INTRINSICS, h36m_cameras
from skeletal.data.h36m.expmap import (
    H36M_EXPMAP_VALUES,
    H36M_MOTION_ACTIONS,
    H36M_MOTION_TEST_SUBJECT,
    H36M_MOTION_TRAIN_SUBJECTS,
    SRNN_SEED,
    load_h36m_expmap,
    read_expmap_txt,
    sample_256_indices,
    srnn_seed_indices,
    srnn_windows,
    windows_256,
)
from skeletal.data.h36m.videopose3d import (
    H36M17_FROM_32,
    H36M_FPS,
    H36M_TEST_SUBJECTS,
    H36M_TRAIN_SUBJECTS,
    lifting_pairs,
    load_h36m_2d,
    load_h36m_3d,
    load_pickled_dict,
    read_positions_2d,
    read_positions_3d,
)

__all__ = [
    "H36M17_FROM_32",
    "H36M_CAMERA_EXTRINSICS",
    "H36M_CAMERA_INTRINSICS",
    "H36M_EXPMAP_VALUES",
    "H36M_FPS",
    "H36M_MOTION_ACTIONS",
    "H36M_MOTION_TEST_SUBJECT",
    "H36M_MOTION_TRAIN_SUBJECTS",
    "H36M_TEST_SUBJECTS",
    "H36M_TRAIN_SUBJECTS",
    "SRNN_SEED",
    "h36m_cameras",
    "lifting_pairs",
    "load_h36m_2d",
    "load_h36m_3d",
    "load_h36m_expmap",
    "load_pickled_dict",
    "read_expmap_txt",
    "read_positions_2d",
    "read_positions_3d",
    "sample_256_indices",
    "srnn_seed_indices",
    "srnn_windows",
    "windows_256",
]
