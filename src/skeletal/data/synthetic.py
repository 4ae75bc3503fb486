"""SYNTHETIC human motion: the embedded default data (no download), clearly not real recordings.

A procedural generator of labelled 3D motion on the ``h36m17`` skeleton with Human3.6M bone lengths, used by
``skeletal demo`` and the tests so that all three tasks train and evaluate out of the box. Nothing here is
measured data; numbers obtained on it say nothing about the published benchmarks.

How a sample is made:

1. Each action is a set of periodic joint-angle curves (flexion, abduction, twist) of a phase
   ``2 pi f t + phi``: walking, running, jumping, waving, squatting, kicking, clapping, punching.
2. Per sample: speed (``f`` x U(0.8, 1.25)), amplitude (x U(0.8, 1.2)), phase, body proportions (overall
   U(0.9, 1.1) times a symmetric per-bone U(0.95, 1.05)), facing direction, start position, slow angle noise,
   the side of one-sided actions, and the viewpoint of a virtual camera.
3. The angles become local rotation matrices ``(T, V, 3, 3)``; forward kinematics
   (:func:`skeletal.geometry.kinematics.forward_kinematics`, column convention) gives positions; the root
   height is set so that the lowest ankle stands 8 cm above the floor (plus the flight of jumps and runs), so
   rotations and positions are exactly consistent and bone lengths are constant over time.
4. A pinhole camera (Human3.6M-like: 1000 x 1000 px, f = 1145 px, no distortion) placed 3.5-6 m away (farther
   when the person travels) at a random azimuth and height projects the joints to pixels.

World frame: metres, y up; the person's rest frame has x to their left and z forward (Martinez et al.'s H3.6M
offsets: right joints at -x). Rest offsets: the H3.6M S1 bone lengths of the ``h36m32`` layout (hip 132.9 mm,
thigh 442.9, shin 454.2, spine 233.4, thorax 257.1, neck 121.1, head 115.0, shoulder 151.0, upper arm 278.9,
forearm 251.7), the limbs hanging along -y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from skeletal.geometry.camera import Camera, normalize_screen_coordinates
from skeletal.geometry.kinematics import forward_kinematics
from skeletal.skeletons import get

ACTIONS: tuple[str, ...] = ("walking", "running", "jumping", "waving", "squatting", "kicking", "clapping", "punching")
SKELETON = get("h36m17")
IMAGE_SIZE = (1000, 1000)
FOCAL_LENGTH = 1145.0
ANKLE_HEIGHT = 0.08
REST_OFFSETS = np.array(
    [[0, 0, 0], [-0.1329, 0, 0], [0, -0.4429, 0], [0, -0.4542, 0], [0.1329, 0, 0], [0, -0.4429, 0],
     [0, -0.4542, 0], [0, 0.2334, 0], [0, 0.2571, 0], [0, 0.1211, 0], [0, 0.1150, 0], [0.1510, 0, 0],
     [0, -0.2789, 0], [0, -0.2517, 0], [-0.1510, 0, 0], [0, -0.2789, 0], [0, -0.2517, 0]], dtype=np.float64,
)  # fmt: skip
# Base cycle frequency (Hz) and forward speed (m/s) of each action.
_FREQUENCY = {"walking": 0.9, "running": 1.4, "jumping": 0.8, "waving": 2.0, "squatting": 0.45, "kicking": 0.7,
              "clapping": 2.0, "punching": 1.2}  # fmt: skip
_SPEED = {"walking": 1.2, "running": 2.4}
R_HIP, R_KNEE, L_HIP, L_KNEE, SPINE, THORAX, NECK = 1, 2, 4, 5, 7, 8, 9
L_SHOULDER, L_ELBOW, R_SHOULDER, R_ELBOW = 11, 12, 14, 15


def _axis_rotation(angle: np.ndarray, axis: int) -> np.ndarray:
    """``(..., 3, 3)`` rotations by ``angle`` about the x (0), y (1) or z (2) axis."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros((*np.shape(angle), 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i], out[..., j, j], out[..., i, j], out[..., j, i] = c, c, -s, s
    return out


def _limb(flexion: np.ndarray, abduction: np.ndarray | float = 0.0, twist: np.ndarray | float = 0.0) -> np.ndarray:
    """Local rotation of a hanging limb: forward flexion (about -x), then sideways abduction (z), then twist (y)."""
    flexion = np.asarray(flexion, dtype=np.float64)
    shape = flexion.shape
    return (_axis_rotation(np.broadcast_to(twist, shape), 1) @ _axis_rotation(np.broadcast_to(abduction, shape), 2)
            @ _axis_rotation(-flexion, 0))  # fmt: skip


def _angles(action: str, phase: np.ndarray, amplitude: float, side: int) -> dict[str, np.ndarray]:
    """Joint-angle curves (radians) of one action; ``side`` +1 uses the left limb for one-sided actions."""
    s, c = np.sin(phase), np.cos(phase)
    zero = np.zeros_like(phase)
    a = amplitude
    out = {name: zero.copy() for name in ("hip_r", "hip_l", "knee_r", "knee_l", "sh_r", "sh_l", "elb_r", "elb_l",
                                          "abd_r", "abd_l", "hz_r", "hz_l", "lean", "twist", "lift")}  # fmt: skip
    out["elb_r"] = out["elb_l"] = zero + 0.15
    if action in ("walking", "running"):
        run = action == "running"
        hip = (0.7 if run else 0.45) * a
        out["hip_r"], out["hip_l"] = hip * s + 0.1 * run, -hip * s + 0.1 * run
        knee = (1.2 if run else 0.6) * a
        out["knee_r"], out["knee_l"] = 0.1 + knee * np.maximum(c, 0), 0.1 + knee * np.maximum(-c, 0)
        out["sh_r"], out["sh_l"] = -(0.5 if run else 0.3) * a * s, (0.5 if run else 0.3) * a * s
        out["elb_r"] = out["elb_l"] = zero + (1.4 if run else 0.3)
        out["lean"], out["twist"] = zero + (0.2 if run else 0.04), 0.12 * a * s
        out["lift"] = 0.06 * np.abs(c) if run else zero
    elif action == "jumping":
        crouch, flight = np.maximum(-s, 0), np.maximum(s, 0)
        out["hip_r"] = out["hip_l"] = 0.9 * a * crouch
        out["knee_r"] = out["knee_l"] = 1.5 * a * crouch
        out["lean"] = 0.4 * crouch
        out["sh_r"] = out["sh_l"] = -0.6 * crouch + 2.4 * a * flight
        out["lift"] = 0.35 * a * flight
    elif action == "waving":
        key = "l" if side > 0 else "r"
        out[f"abd_{key}"] = zero + 2.3
        out[f"sh_{key}"] = zero + 0.2
        out[f"elb_{key}"] = 0.7 + 0.5 * a * s
        out["twist"] = 0.03 * np.sin(0.25 * phase)
    elif action == "squatting":
        depth = a * (1 - c) / 2
        out["hip_r"] = out["hip_l"] = 1.4 * depth
        out["knee_r"] = out["knee_l"] = 2.2 * depth
        out["lean"] = 0.5 * depth
        out["sh_r"] = out["sh_l"] = 1.3 * depth
    elif action == "kicking":
        key, other = ("l", "r") if side > 0 else ("r", "l")
        kick, windup = np.maximum(s, 0) ** 2, np.maximum(-s, 0)
        out[f"hip_{key}"] = 1.4 * a * kick - 0.35 * windup
        out[f"knee_{key}"] = 0.2 + 1.2 * windup
        out[f"knee_{other}"] = zero + 0.15
        out[f"sh_{other}"], out["abd_r"], out["abd_l"] = 0.6 * kick, zero + 0.3, zero + 0.3
        out["lean"] = -0.25 * kick
    elif action == "clapping":
        out["sh_r"] = out["sh_l"] = zero + 1.2
        apart = -0.2 + 0.65 * a * (1 + s) / 2  # negative: hands cross the midline and meet
        out["hz_l"], out["hz_r"] = apart, -apart
        out["elb_r"] = out["elb_l"] = zero + 0.5
    elif action == "punching":
        right, left = np.maximum(s, 0) ** 3, np.maximum(-s, 0) ** 3
        out["sh_r"], out["sh_l"] = 0.9 + 0.6 * a * right, 0.9 + 0.6 * a * left
        out["elb_r"], out["elb_l"] = 0.1 + 2.0 * (1 - right), 0.1 + 2.0 * (1 - left)
        out["abd_r"], out["abd_l"] = zero - 0.15, zero + 0.15
        out["twist"] = 0.35 * a * (left - right)
        out["hip_r"] = out["hip_l"] = zero + 0.2
        out["knee_r"] = out["knee_l"] = zero + 0.3
    else:
        raise ValueError(f"unknown synthetic action {action!r}; expected one of {ACTIONS}")
    return out


@dataclass
class SyntheticSample:
    """One synthetic sample (``M`` people, ``T`` frames, ``V = 17`` joints of ``h36m17``).

    Attributes:
        label: Index of ``action`` in :data:`ACTIONS`.
        action: Action name.
        rotations: ``(M, T, V, 3, 3)`` local rotations (column convention); the root's holds the facing.
        positions: ``(M, T, V, 3)`` world positions, metres, y up.
        root_positions: ``(M, T, 3)`` root translations (``positions`` = FK of rotations + these).
        offsets: ``(M, V, 3)`` the bone offsets of each person (their body proportions).
        keypoints: ``(M, T, V, 2)`` pixel projections through ``camera``.
        camera: The virtual camera (intrinsics in pixels, no distortion).
        present: ``(M,)`` which people exist (absent ones are all zeros, as NTU pads the second body).
    """

    label: int
    action: str
    rotations: np.ndarray
    positions: np.ndarray
    root_positions: np.ndarray
    offsets: np.ndarray
    keypoints: np.ndarray
    camera: Camera
    present: np.ndarray


class SyntheticMotion:
    """A deterministic, indexable set of SYNTHETIC labelled motions (see the module docstring).

    Sample ``i`` depends only on ``(seed, i)`` and the constructor arguments, not on ``num_samples``.

    Args:
        num_samples: Number of samples.
        num_frames: Frames per sample ``T``.
        fps: Frame rate.
        seed: Seed of the whole set.
        actions: Subset of :data:`ACTIONS` (labels index this tuple).
        num_people: ``M``: 1, or 2 for a second person doing the same action beside the first.
        second_person_probability: Chance that the second person is present (else zeros).
    """

    def __init__(self, num_samples: int, num_frames: int = 64, fps: float = 30.0, seed: int = 0,
                 actions: tuple[str, ...] = ACTIONS, num_people: int = 1,
                 second_person_probability: float = 0.5):  # fmt: skip
        unknown = set(actions) - set(ACTIONS)
        if unknown:
            raise ValueError(f"unknown synthetic actions {sorted(unknown)}; expected some of {ACTIONS}")
        if num_people not in (1, 2):
            raise ValueError(f"num_people must be 1 or 2, got {num_people}")
        self.num_samples, self.num_frames, self.fps, self.seed = num_samples, num_frames, fps, seed
        self.actions, self.num_people, self.second_person_probability = (
            tuple(actions),
            num_people,
            second_person_probability,
        )
        self.skeleton = SKELETON

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int) -> SyntheticSample:
        if not -self.num_samples <= index < self.num_samples:
            raise IndexError(f"sample {index} out of range for {self.num_samples} samples")
        return self.generate([index % self.num_samples])[0]

    # ------------------------------------------------------------------------------------------ generation
    def _person(self, rng: np.random.Generator, action: str, facing: float, start: np.ndarray):
        """Local rotations (T, V, 3, 3), root (T, 3) before ground contact, offsets (V, 3), lift (T,)."""
        time = np.arange(self.num_frames) / self.fps
        frequency = _FREQUENCY[action] * rng.uniform(0.8, 1.25)
        phase = 2 * np.pi * frequency * time + rng.uniform(0, 2 * np.pi)
        side = 1 if rng.random() < 0.5 else -1
        angles = _angles(action, phase, rng.uniform(0.8, 1.2), side)
        for name in ("hip_r", "hip_l", "knee_r", "knee_l", "sh_r", "sh_l", "elb_r", "elb_l", "lean", "twist"):
            wobble = rng.uniform(0.2, 0.6)  # slow noise, a sinusoid of random frequency and phase
            angles[name] = angles[name] + 0.04 * np.sin(2 * np.pi * wobble * time + rng.uniform(0, 2 * np.pi))
        angles["knee_r"], angles["knee_l"] = np.maximum(angles["knee_r"], 0), np.maximum(angles["knee_l"], 0)
        rotations = np.broadcast_to(np.eye(3), (self.num_frames, SKELETON.num_joints, 3, 3)).copy()
        rotations[:, 0] = _axis_rotation(np.full(self.num_frames, facing), 1)
        rotations[:, R_HIP], rotations[:, L_HIP] = _limb(angles["hip_r"]), _limb(angles["hip_l"])
        rotations[:, R_KNEE], rotations[:, L_KNEE] = _limb(-angles["knee_r"]), _limb(-angles["knee_l"])
        rotations[:, SPINE] = _axis_rotation(angles["lean"], 0)
        rotations[:, THORAX] = _axis_rotation(angles["twist"], 1)
        rotations[:, NECK] = _axis_rotation(-0.6 * angles["lean"], 0)
        rotations[:, L_SHOULDER] = _limb(angles["sh_l"], angles["abd_l"], angles["hz_l"])
        rotations[:, R_SHOULDER] = _limb(angles["sh_r"], -angles["abd_r"], angles["hz_r"])
        rotations[:, L_ELBOW], rotations[:, R_ELBOW] = _limb(angles["elb_l"]), _limb(angles["elb_r"])
        bone_scale = rng.uniform(0.95, 1.05, SKELETON.num_joints)
        bone_scale = (bone_scale + bone_scale[list(SKELETON.flip_permutation)]) / 2  # same left and right
        offsets = REST_OFFSETS * bone_scale[:, None] * rng.uniform(0.9, 1.1)
        forward = np.array([np.sin(facing), 0.0, np.cos(facing)])
        root = start + _SPEED.get(action, 0.0) * rng.uniform(0.85, 1.15) * time[:, None] * forward
        return rotations, root, offsets, angles["lift"]

    def generate(self, indices: list[int] | range) -> list[SyntheticSample]:
        """Generate the samples at ``indices`` (one batched forward-kinematics pass)."""
        indices = list(indices)
        count, people, frames, joints = len(indices), self.num_people, self.num_frames, SKELETON.num_joints
        rotations = np.zeros((count, people, frames, joints, 3, 3))
        roots = np.zeros((count, people, frames, 3))
        offsets = np.zeros((count, people, joints, 3))
        lifts = np.zeros((count, people, frames))
        present = np.zeros((count, people), dtype=bool)
        labels, rngs = [], []
        for n, index in enumerate(indices):
            rng = np.random.default_rng([self.seed, index])
            rngs.append(rng)
            label = int(rng.integers(len(self.actions)))
            labels.append(label)
            facing = rng.uniform(-np.pi, np.pi)
            for person in range(people):
                if person == 1 and rng.random() >= self.second_person_probability:
                    continue
                start = np.zeros(3)
                if person == 1:  # beside the first person, at their left or right, roughly facing the same way
                    lateral = np.array([np.cos(facing), 0.0, -np.sin(facing)]) * rng.choice([-1, 1])
                    start = lateral * rng.uniform(1.0, 1.8)
                    facing_person = facing + rng.uniform(-0.5, 0.5)
                else:
                    facing_person = facing
                r, root, off, lift = self._person(rng, self.actions[label], facing_person, start)
                rotations[n, person], roots[n, person], offsets[n, person], lifts[n, person] = r, root, off, lift
                present[n, person] = True
        rotations[~present] = np.eye(3)
        _, positions = forward_kinematics(rotations, offsets[:, :, None], SKELETON.parents)
        lowest = np.minimum(positions[..., 3, 1], positions[..., 6, 1])  # the two ankles
        roots[..., 1] = ANKLE_HEIGHT - lowest + lifts
        positions = positions + roots[..., None, :]
        positions[~present] = 0.0
        roots[~present] = 0.0
        samples = []
        for n in range(count):
            camera, camera_to_world = self._camera(rngs[n], positions[n, 0])
            local = (positions[n] - camera.translation) @ camera_to_world  # R.T (X - t), the camera frame
            keypoints = local[..., :2] / local[..., 2:] * camera.intrinsics[:2] + camera.intrinsics[2:4]
            keypoints[~present[n]] = 0.0
            samples.append(SyntheticSample(labels[n], self.actions[labels[n]], rotations[n].astype(np.float32),
                                           positions[n].astype(np.float32), roots[n].astype(np.float32),
                                           offsets[n].astype(np.float32), keypoints.astype(np.float32), camera,
                                           present[n].copy()))  # fmt: skip
        return samples

    def _camera(self, rng: np.random.Generator, positions: np.ndarray) -> tuple[Camera, np.ndarray]:
        """A camera looking at the middle of the first person's path from a random azimuth and height."""
        target = positions[:, 0].mean(axis=0) + np.array([0.0, 0.1, 0.0])
        travel = np.linalg.norm(positions[-1, 0] - positions[0, 0])
        distance = max(rng.uniform(3.5, 6.0), 2.6 * (travel / 2 + 0.9))
        azimuth = rng.uniform(-np.pi, np.pi)
        eye = target + np.array([distance * np.sin(azimuth), rng.uniform(-0.4, 0.8), distance * np.cos(azimuth)])
        forward = (target - eye) / np.linalg.norm(target - eye)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        camera_to_world = np.stack([right, down, forward], axis=1)
        width, height = IMAGE_SIZE
        intrinsics = np.array([FOCAL_LENGTH, FOCAL_LENGTH, width / 2, height / 2, 0, 0, 0, 0, 0])
        quaternion = np.roll(Rotation.from_matrix(camera_to_world).as_quat(), 1)  # (x, y, z, w) -> (w, x, y, z)
        camera = Camera(intrinsics=intrinsics, rotation=quaternion, translation=eye, width=width, height=height,
                        name="synthetic")  # fmt: skip
        return camera, camera_to_world


def _chunks(dataset: SyntheticMotion, size: int = 256) -> list[SyntheticSample]:
    samples: list[SyntheticSample] = []
    for start in range(0, len(dataset), size):
        samples.extend(dataset.generate(range(start, min(start + size, len(dataset)))))
    return samples


def recognition_arrays(
    num_samples: int,
    num_frames: int = 64,
    fps: float = 30.0,
    seed: int = 0,
    num_people: int = 2,
    actions: tuple[str, ...] = ACTIONS,
) -> tuple[np.ndarray, np.ndarray]:
    """SYNTHETIC action-recognition data, NTU-like: 3D joints centred on the first person's first-frame root.

    Returns:
        ``x (N, M, T, V, 3)`` float32 metres (absent people are zeros) and ``labels (N,)`` int64 indexing
        ``actions``.
    """
    samples = _chunks(SyntheticMotion(num_samples, num_frames, fps, seed, actions, num_people))
    x = np.stack([s.positions for s in samples])
    origin = x[:, :1, :1, :1].copy()  # (N, 1, 1, 1, 3): person 0, frame 0, root joint
    present = np.stack([s.present for s in samples])[:, :, None, None, None]
    x = np.where(present, x - origin, 0.0).astype(np.float32)
    return x, np.array([s.label for s in samples], dtype=np.int64)


def prediction_arrays(num_samples: int, seed_length: int = 50, target_length: int = 25, fps: float = 25.0,
                      seed: int = 0, actions: tuple[str, ...] = ACTIONS) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """SYNTHETIC motion-prediction windows of local rotations (default 50 seed + 25 target frames at 25 fps).

    Returns:
        ``rotations (N, seed_length + target_length, 17, 3, 3)`` float32 (split at ``seed_length``) and
        ``labels (N,)``.
    """
    samples = _chunks(SyntheticMotion(num_samples, seed_length + target_length, fps, seed, actions, 1))
    return np.stack([s.rotations[0] for s in samples]), np.array([s.label for s in samples], dtype=np.int64)


def lifting_arrays(num_samples: int, num_frames: int = 27, fps: float = 50.0, seed: int = 0,
                   actions: tuple[str, ...] = ACTIONS) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """SYNTHETIC 2D-to-3D lifting pairs in ``h36m17`` (the GAST-Net / VideoPose3D input convention).

    Returns:
        ``keypoints (N, T, 17, 2)`` screen-normalised (``x / w * 2 - [1, h / w]``) and ``positions (N, T, 17, 3)``
        camera-space metres relative to the pelvis.
    """
    samples = _chunks(SyntheticMotion(num_samples, num_frames, fps, seed, actions, 1))
    keypoints = np.stack([normalize_screen_coordinates(s.keypoints[0], *IMAGE_SIZE) for s in samples])
    local = np.stack([np.asarray(s.camera.world_to_camera(s.positions[0].astype(np.float64))) for s in samples])
    return keypoints.astype(np.float32), (local - local[:, :, :1]).astype(np.float32)
