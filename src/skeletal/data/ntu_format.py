"""NTU RGB+D 60/120 ``.skeleton`` files: the reader and the sample names.

File format (Kinect v2 output, one number per field, whitespace separated): the frame count; per frame a body
count; per body one line of 10 fields (``bodyID clipedEdges handLeftConfidence handLeftState
handRightConfidence handRightState isResticted leanX leanY trackingState``), the joint count (25), then one
line per joint of 12 fields (``x y z depthX depthY colorX colorY orientationW orientationX orientationY
orientationZ trackingState``). File names are ``SsssCcccPpppRrrrAaaa`` (setup, camera, performer, replication,
action, one-based).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from skeletal.data._safe import finite_float32, is_count, read_text
from skeletal.errors import DataError

NUM_JOINTS = 25
MAX_BODIES_READ = 4
SAMPLE_NAME = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")


@dataclass(frozen=True)
class NtuSampleId:
    """The fields of an NTU file name (one-based, as in the name)."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def label(self) -> int:
        """Zero-based class index (``action - 1``)."""
        return self.action - 1


@dataclass
class NtuBody:
    """One body of one frame: its bodyID (kept as text: a 64-bit integer), the 9 other body fields, joints."""

    body_id: str
    info: np.ndarray  # (9,) clipedEdges ... trackingState
    joints: np.ndarray  # (V, 12) x y z depthX depthY colorX colorY orientW orientX orientY orientZ trackingState


@dataclass
class NtuSkeleton:
    """A parsed ``.skeleton`` file: ``frames[t]`` is the list of bodies of frame ``t`` (possibly empty)."""

    frames: list[list[NtuBody]]
    source: str = ""

    @property
    def num_frames(self) -> int:
        return len(self.frames)


def parse_sample_name(name: str) -> NtuSampleId:
    """Parse ``S001C002P003R002A013`` (with or without ``.skeleton``) into its fields.

    Raises:
        DataError: The name does not follow ``SsssCcccPpppRrrrAaaa``.
    """
    match = SAMPLE_NAME.search(Path(name).name)
    if match is None:
        raise DataError("file name does not follow the NTU pattern SsssCcccPpppRrrrAaaa", name)
    return NtuSampleId(*(int(g) for g in match.groups()))


def read_ntu_skeleton(path: str | PathLike[str]) -> NtuSkeleton:
    """Read an NTU RGB+D ``.skeleton`` file exactly (every field of every body and joint).

    Raises:
        DataError: Missing/empty/non-text file, a count that is not a non-negative integer, a body line without
            10 fields, a joint line without 12 numbers, a NaN, a file that ends early or has extra content; the
            message names the line, frame and body.
    """
    path = Path(path)
    lines = read_text(path, "an NTU .skeleton file").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError("empty file (expected the frame count on line 1)", path, "line 1")
    cursor = 0

    def take(what: str, where: str) -> str:
        nonlocal cursor
        if cursor >= len(lines):
            raise DataError(f"file ends early: expected {what}", path, f"line {cursor + 1}, {where}")
        cursor += 1
        return lines[cursor - 1]

    def count(what: str, where: str) -> int:
        text = take(what, where).strip()
        if not is_count(text):
            raise DataError(f"expected {what} (a non-negative integer), found {text[:40]!r}", path,
                            f"line {cursor}, {where}")  # fmt: skip
        return int(text)

    num_frames = count("the frame count", "header")
    frames: list[list[NtuBody]] = []
    for t in range(num_frames):
        bodies = []
        for b in range(count("the body count", f"frame {t}")):
            where = f"frame {t}, body {b}"
            fields = take("a body line of 10 fields", where).split()
            if len(fields) != 10:
                raise DataError(
                    f"expected a body line of 10 fields, found {len(fields)}", path, f"line {cursor}, {where}"
                )
            info = _numbers(fields[1:], path, f"line {cursor}, {where}")
            num_joints = count("the joint count", where)
            start = cursor + 1
            block = [take(f"{num_joints} joint lines", f"{where}, joint {j}") for j in range(num_joints)]
            values = [row.split() for row in block]
            for j, row in enumerate(values):
                if len(row) != 12:
                    raise DataError(f"expected 12 joint fields, found {len(row)}", path,
                                    f"line {start + j}, {where}, joint {j}")  # fmt: skip
            joints = _numbers([v for row in values for v in row], path, f"lines {start}-{cursor}, {where}")
            bodies.append(NtuBody(fields[0], info, joints.reshape(num_joints, 12)))
        frames.append(bodies)
    if cursor != len(lines):
        raise DataError(f"unexpected content after the {num_frames} frames announced on line 1", path,
                        f"line {cursor + 1}")  # fmt: skip
    return NtuSkeleton(frames, str(path))


def _numbers(fields: list[str], path: Path, where: str) -> np.ndarray:
    try:
        values = np.array(fields, dtype=np.float64)
    except ValueError:
        bad = next(f for f in fields if not _is_float(f))
        raise DataError(f"expected a number, found {bad!r}", path, where) from None
    if not finite_float32(values).all():  # samples are float32: 1e308 would become inf
        raise DataError("NaN, inf or a value beyond float32 range", path, where)
    return values


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def skeleton_xyz(skeleton: NtuSkeleton, max_bodies: int = MAX_BODIES_READ) -> np.ndarray:
    """Joint positions of the first ``max_bodies`` body slots: ``(max_bodies, T, 25, 3)``, zeros where absent.

    Raises:
        DataError: A body has another joint count than 25.
    """
    data = np.zeros((max_bodies, skeleton.num_frames, NUM_JOINTS, 3))
    for t, bodies in enumerate(skeleton.frames):
        for m, body in enumerate(bodies):
            if body.joints.shape[0] != NUM_JOINTS:
                raise DataError(f"expected {NUM_JOINTS} joints, found {body.joints.shape[0]}", skeleton.source,
                                f"frame {t}, body {m}")  # fmt: skip
            if m < max_bodies:
                data[m, t] = body.joints[:, :3]
    return data
