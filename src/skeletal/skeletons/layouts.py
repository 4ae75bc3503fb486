"""Built-in skeleton layouts, each checked against its source.

Indices are zero-based; the sources are cited per layout.
"""

from __future__ import annotations

from skeletal.skeletons.skeleton import Skeleton, register

# NTU RGB+D (Kinect v2, 25 joints). Joint order and links from the dataset paper (Shahroudy et al. 2016, Fig. 1)
# and ST-GCN's ``neighbor_1base``, whose tree is rooted at the spine-shoulder joint (21 one-based), the centre
# of its spatial partition. 2s-AGCN centres coordinates on the spine middle (2 one-based): ``origin=1``.
NTU25 = register(
    Skeleton(
        name="ntu25",
        joint_names=(
            "spine_base",
            "spine_mid",
            "neck",
            "head",
            "left_shoulder",
            "left_elbow",
            "left_wrist",
            "left_hand",
            "right_shoulder",
            "right_elbow",
            "right_wrist",
            "right_hand",
            "left_hip",
            "left_knee",
            "left_ankle",
            "left_foot",
            "right_hip",
            "right_knee",
            "right_ankle",
            "right_foot",
            "spine_shoulder",
            "left_hand_tip",
            "left_thumb",
            "right_hand_tip",
            "right_thumb",
        ),  # fmt: skip
        parents=(1, 20, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, -1, 22, 7, 24, 11),
        left=(4, 5, 6, 7, 12, 13, 14, 15, 21, 22),
        right=(8, 9, 10, 11, 16, 17, 18, 19, 23, 24),
        center=20,
        origin=1,
        units="m",
        source="NTU RGB+D (Shahroudy et al. 2016); links of ST-GCN/2s-AGCN ntu_rgb_d graph",
    )
)

# Human3.6M, the 17 joints kept by VideoPose3D (``remove_joints``) and used by GAST-Net.
H36M17 = register(
    Skeleton(
        name="h36m17",
        joint_names=(
            "pelvis",
            "right_hip",
            "right_knee",
            "right_ankle",
            "left_hip",
            "left_knee",
            "left_ankle",
            "spine",
            "thorax",
            "neck",
            "head",
            "left_shoulder",
            "left_elbow",
            "left_wrist",
            "right_shoulder",
            "right_elbow",
            "right_wrist",
        ),  # fmt: skip
        parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
        left=(4, 5, 6, 11, 12, 13),
        right=(1, 2, 3, 14, 15, 16),
        center=0,
        units="m",
        source="Human3.6M 17-joint reduction of VideoPose3D (common/h36m_dataset.py) and GAST-Net",
    )
)
