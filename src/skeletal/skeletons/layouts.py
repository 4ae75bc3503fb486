"""Built-in skeleton layouts, each checked against its source.

Indices are zero-based; the sources are cited per layout.
"""

from __future__ import annotations

from typing import cast

from skeletal.skeletons.skeleton import Skeleton, from_edges, names, register

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

# The tables below are kept in rows as in their sources.
# fmt: off

# OpenPose COCO-18, the Kinetics-skeleton layout of ST-GCN (Yan et al. 2018). Joint order of OpenPose's COCO
# model; links and centre (the neck, 1) of the ``openpose`` layout of ST-GCN's ``net/utils/graph.py``, whose
# tree is rooted at the neck.
OPENPOSE18 = register(
    from_edges(
        "openpose18",
        ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
         "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye",
         "right_ear", "left_ear"),
        ((4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5), (8, 2), (5, 1), (2, 1),
         (0, 1), (15, 0), (14, 0), (17, 15), (16, 14)),
        root=1,
        left=(5, 6, 7, 11, 12, 13, 15, 17),
        right=(2, 3, 4, 8, 9, 10, 14, 16),
        center=1,
        source="OpenPose COCO-18 order; links and centre of the ST-GCN 'openpose' (Kinetics) graph",
    )
)

# COCO keypoints (Lin et al. 2014), 17 joints in the order of the COCO annotation files. COCO's own skeleton has
# cycles (the torso and the face); this tree is the ``coco`` layout of pyskl's ``pyskl/utils/graph.py``: rooted at
# the nose (also the graph centre), shoulders hang from the nose, hips from the shoulders, ears from the eyes.
COCO17 = register(
    from_edges(
        "coco17",
        ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
         "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
         "left_ankle", "right_ankle"),
        ((15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8), (8, 6), (5, 0), (6, 0),
         (1, 0), (3, 1), (2, 0), (4, 2)),
        root=0,
        left=(1, 3, 5, 7, 9, 11, 13, 15),
        right=(2, 4, 6, 8, 10, 12, 14, 16),
        center=0,
        source="COCO keypoint order; tree of pyskl's 'coco' graph layout (rooted at the nose)",
    )
)

# MediaPipe Pose (BlazePose, Bazarevsky et al. 2020), 33 landmarks in the order of ``mp.solutions.pose.
# PoseLandmark``. The links are MediaPipe's ``POSE_CONNECTIONS`` made a tree: of the cycles (hand and foot
# triangles, torso) we keep wrist->pinky/index/thumb, ankle->heel->foot_index, shoulder->hip; the face (which
# POSE_CONNECTIONS leaves unconnected to the body) hangs from the nose, as do the shoulders (as in ``coco17``).
MEDIAPIPE33 = register(
    from_edges(
        "mediapipe33",
        ("nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
         "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
         "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
         "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
         "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index"),
        ((0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (0, 9), (0, 10), (0, 11), (0, 12),
         (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (12, 14), (14, 16), (16, 18), (16, 20), (16, 22),
         (11, 23), (12, 24), (23, 25), (25, 27), (27, 29), (29, 31), (24, 26), (26, 28), (28, 30), (30, 32)),
        root=0,
        left=(1, 2, 3, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31),
        right=(4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32),
        center=0,
        source="MediaPipe Pose landmarks (PoseLandmark order; POSE_CONNECTIONS made a tree)",
    )
)

# Human3.6M, the full 32-joint mocap skeleton of the exponential-map motion-prediction benchmark. Parents and
# rest-pose bone offsets (millimetres, each joint relative to its parent) exactly as ``_some_variables()`` of
# Martinez et al.'s ``src/forward_kinematics.py`` (una-dinosauria/human-motion-prediction); names are the
# dataset's (snake case; "site" joints are chain ends). In H3.6M naming ``up_leg`` is the hip joint, ``leg`` the
# knee, ``foot`` the ankle, ``shoulder`` the clavicle, ``arm`` the shoulder joint, ``fore_arm`` the elbow and
# ``hand`` the wrist. The rest pose is not a T-pose: limb offsets lie along one axis, the rotations do the rest.
H36M32 = register(
    Skeleton(
        name="h36m32",
        joint_names=(
            "hips", "right_up_leg", "right_leg", "right_foot", "right_toe_base", "right_toe_site", "left_up_leg",
            "left_leg", "left_foot", "left_toe_base", "left_toe_site", "spine", "spine1", "neck", "head",
            "head_site", "left_shoulder", "left_arm", "left_fore_arm", "left_hand", "left_hand_thumb",
            "left_thumb_site", "left_wrist_end", "left_wrist_end_site", "right_shoulder", "right_arm",
            "right_fore_arm", "right_hand", "right_hand_thumb", "right_thumb_site", "right_wrist_end",
            "right_wrist_end_site",
        ),
        parents=(-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 12, 16, 17, 18, 19, 20, 19, 22, 12, 24, 25,
                 26, 27, 28, 27, 30),
        left=(6, 7, 8, 9, 10, 16, 17, 18, 19, 20, 21, 22, 23),
        right=(1, 2, 3, 4, 5, 24, 25, 26, 27, 28, 29, 30, 31),
        center=0,
        offsets=(
            (0.0, 0.0, 0.0), (-132.948591, 0.0, 0.0), (0.0, -442.894612, 0.0), (0.0, -454.206447, 0.0),
            (0.0, 0.0, 162.767078), (0.0, 0.0, 74.999437), (132.948826, 0.0, 0.0), (0.0, -442.894413, 0.0),
            (0.0, -454.20659, 0.0), (0.0, 0.0, 162.767426), (0.0, 0.0, 74.999948), (0.0, 0.1, 0.0),
            (0.0, 233.383263, 0.0), (0.0, 257.077681, 0.0), (0.0, 121.134938, 0.0), (0.0, 115.002227, 0.0),
            (0.0, 257.077681, 0.0), (0.0, 151.034226, 0.0), (0.0, 278.882773, 0.0), (0.0, 251.733451, 0.0),
            (0.0, 0.0, 0.0), (0.0, 0.0, 99.999627), (0.0, 100.000188, 0.0), (0.0, 0.0, 0.0),
            (0.0, 257.077681, 0.0), (0.0, 151.031437, 0.0), (0.0, 278.892924, 0.0), (0.0, 251.72868, 0.0),
            (0.0, 0.0, 0.0), (0.0, 0.0, 99.999888), (0.0, 137.499922, 0.0), (0.0, 0.0, 0.0),
        ),
        units="mm",
        source="Human3.6M 32-joint mocap skeleton; parents and offsets of Martinez et al. forward_kinematics.py",
    )
)

# HumanEva-I, the 15-joint skeleton of VideoPose3D (``common/humaneva_dataset.py``: parents and left/right joints;
# names from the comments of ``data/tools/ConvertHumanEva.m``, which averages proximal and distal markers).
HUMANEVA15 = register(
    Skeleton(
        name="humaneva15",
        joint_names=("pelvis", "thorax", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder",
                     "right_elbow", "right_wrist", "left_hip", "left_knee", "left_ankle", "right_hip", "right_knee",
                     "right_ankle", "head"),
        parents=(-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1),
        left=(2, 3, 4, 8, 9, 10),
        right=(5, 6, 7, 11, 12, 13),
        center=0,
        units="m",
        source="HumanEva-I 15 joints of VideoPose3D (common/humaneva_dataset.py, data/tools/ConvertHumanEva.m)",
    )
)

# SMPL (Loper et al. 2015), the 24 joints of the body model's ``kintree_table`` in model order; names as in the
# ETH ``spl`` code (``SMPL_JOINTS`` of eth-ait/motion-transformer ``eth_source/smpl.py``), sides spelled out.
SMPL24 = register(
    Skeleton(
        name="smpl24",
        joint_names=("pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
                     "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar",
                     "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
                     "right_wrist", "left_hand", "right_hand"),
        parents=(-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21),
        left=(1, 4, 7, 10, 13, 16, 18, 20, 22),
        right=(2, 5, 8, 11, 14, 17, 19, 21, 23),
        center=0,
        source="SMPL body model kintree (24 joints); names of eth-ait/motion-transformer SMPL_JOINTS",
    )
)

# The SMPL joints kept by the AMASS motion-prediction protocol (DIP/SPL, ST-Transformer supplement):
# ``SMPL_MAJOR_JOINTS`` of eth-ait/motion-transformer, in that order.
AMASS15_SMPL_INDICES = (1, 2, 3, 4, 5, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19)

# Parents: each kept joint's nearest kept SMPL ancestor, which is also the SPL ``SMPL_SKELETON`` tree of
# eth-ait/motion-transformer (``spl/model/spl.py``). There, as in SMPL, the hips and spine1 are children of the
# pelvis, which is not kept, so SPL has three roots; we make spine1 (the joint just above the pelvis) the single
# root and hang both hips from it. Nothing else differs from SPL.
AMASS15 = register(
    Skeleton(
        name="amass15",
        joint_names=tuple(SMPL24.joint_names[i] for i in AMASS15_SMPL_INDICES),
        parents=(2, 2, -1, 0, 1, 2, 5, 6, 6, 6, 7, 8, 9, 11, 12),
        left=(0, 3, 8, 11, 13),
        right=(1, 4, 9, 12, 14),
        center=2,
        source="15 major SMPL joints of the AMASS protocol (eth-ait/motion-transformer SMPL_MAJOR_JOINTS, SPL tree)",
    )
)

# The CMU motion-prediction benchmark (Li et al. 2018; the exp-map files of ../shared/data/cmu-mocap-expmap):
# parents and offsets exactly as ``_some_variables_cmu()`` of the published loaders (Mao et al. 2019, LTD,
# wei-mao-2019/LearnTrajDep ``utils/forward_kinematics.py``), which multiply the listed numbers by 70. The loaders
# give no names; each joint is named after the end of the CMU ASF bone whose direction and length its offset
# matches. Zero offsets are branch points that coincide with their parent (``*_root``); the thorax, wrist-to-hand
# and thumb-base bones have zero length in this skeleton. Units: 70 x the ASF length unit (about mm: a femur is 532).
_CMU_OFFSETS_OVER_70 = (
    (0, 0, 0), (0, 0, 0), (1.65674, -1.80282, 0.62477), (2.5972, -7.13576, 0), (2.49236, -6.8477, 0),
    (0.19704, -0.54136, 2.14581), (0, 0, 1.11249), (0, 0, 0), (-1.6107, -1.80282, 0.62476), (-2.59502, -7.12977, 0),
    (-2.4678, -6.78024, 0), (-0.23024, -0.63258, 2.13368), (0, 0, 1.11569), (0, 0, 0), (0.01961, 2.0545, -0.14112),
    (0.01021, 2.06436, -0.05921), (0, 0, 0), (0.00713, 1.56711, 0.14968), (0.03429, 1.56041, -0.10006),
    (0.01305, 1.6256, -0.05265), (0, 0, 0), (3.54205, 0.90436, -0.17364), (4.86513, 0, 0), (3.35554, 0, 0),
    (0, 0, 0), (0.66117, 0, 0), (0.53306, 0, 0), (0, 0, 0), (0.5412, 0, 0.5412), (0, 0, 0),
    (-3.49802, 0.75994, -0.32616), (-5.02649, 0, 0), (-3.36431, 0, 0), (0, 0, 0), (-0.73041, 0, 0),
    (-0.58887, 0, 0), (0, 0, 0), (-0.59786, 0, 0.59786),
)
CMU38 = register(
    Skeleton(
        name="cmu38",
        joint_names=(
            "root", "left_hip_root", "left_hip", "left_knee", "left_ankle", "left_toe_base", "left_toe_end",
            "right_hip_root", "right_hip", "right_knee", "right_ankle", "right_toe_base", "right_toe_end",
            "spine_root", "lower_back", "upper_back", "thorax", "lower_neck", "upper_neck", "head",
            "left_clavicle_root", "left_shoulder", "left_elbow", "left_wrist", "left_hand_root", "left_hand",
            "left_fingers", "left_thumb_root", "left_thumb", "right_clavicle_root", "right_shoulder", "right_elbow",
            "right_wrist", "right_hand_root", "right_hand", "right_fingers", "right_thumb_root", "right_thumb",
        ),
        parents=(-1, 0, 1, 2, 3, 4, 5, 0, 7, 8, 9, 10, 11, 0, 13, 14, 15, 16, 17, 18, 15, 20, 21, 22, 23, 24, 25,
                 23, 27, 15, 29, 30, 31, 32, 33, 34, 32, 36),
        left=(1, 2, 3, 4, 5, 6, 20, 21, 22, 23, 24, 25, 26, 27, 28),
        right=(7, 8, 9, 10, 11, 12, 29, 30, 31, 32, 33, 34, 35, 36, 37),
        center=0,
        offsets=cast(
            tuple[tuple[float, float, float], ...], tuple(tuple(70.0 * c for c in row) for row in _CMU_OFFSETS_OVER_70)
        ),
        units="70 x CMU ASF length unit (about mm)",
        source="CMU motion-prediction benchmark (Li et al. 2018); parents/offsets of LTD _some_variables_cmu()",
    )
)

# fmt: on

BUILTIN_LAYOUTS = frozenset(names())
"""The layouts known without a layout file."""
