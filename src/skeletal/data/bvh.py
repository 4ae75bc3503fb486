"""BVH (Biovision hierarchy) motion files -> :class:`~skeletal.data.types.Motion`.

A BVH file has a ``HIERARCHY`` (``ROOT``/``JOINT`` blocks with an ``OFFSET`` to the parent, a ``CHANNELS`` list
and nested children; ``End Site`` blocks with an offset only) and a ``MOTION`` section (``Frames: N``,
``Frame Time: dt``, then N lines of one value per channel, in hierarchy order).

Conventions of this reader:

- The rotation channels of a joint, listed e.g. ``Zrotation Yrotation Xrotation``, are intrinsic rotations
  applied in the listed order: ``R = Rz @ Ry @ Rx`` (any of the six orders is read); degrees.
- Only the root may carry position channels; its position is ``OFFSET + (Xposition, Yposition, Zposition)``.
  Position channels on another joint raise :class:`DataError` (bone lengths would change per frame).
- ``End Site`` blocks are not joints (the joints are the ``ROOT``/``JOINT`` entries); their offsets are kept in
  ``meta["end_sites"]`` keyed by the parent joint name.
- ``fps = 1 / Frame Time``, rounded to the nearest integer when within 0.01 of it (``.0083333`` -> 120).
- Units are those of the file (BVH does not state them); ``units`` says what the caller knows, ``scale``
  multiplies offsets and translations (e.g. CMU's ASF units to metres: ``0.0254 / 0.45``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from skeletal.data._safe import is_count, read_text
from skeletal.data.types import Motion
from skeletal.errors import DataError
from skeletal.skeletons import Skeleton

_ROTATIONS = {"Xrotation": "X", "Yrotation": "Y", "Zrotation": "Z"}
_POSITIONS = {"Xposition": 0, "Yposition": 1, "Zposition": 2}


@dataclass
class _Joint:
    name: str
    parent: int
    offset: tuple[float, float, float]
    channels: list[str] = field(default_factory=list)


class _Tokens:
    """Whitespace tokens of the hierarchy with their line numbers, for error messages."""

    def __init__(self, lines: list[str], path: Path):
        self.items = [(tok, n) for n, line in enumerate(lines, start=1) for tok in line.split()]
        self.pos = 0
        self.path = path
        self.last_line = len(lines)

    def next(self, expected: str) -> tuple[str, int]:
        if self.pos >= len(self.items):
            raise DataError(
                f"file ends inside the hierarchy (expected {expected})", self.path, f"line {self.last_line}"
            )
        item = self.items[self.pos]
        self.pos += 1
        return item

    def expect(self, word: str) -> int:
        token, line = self.next(repr(word))
        if token != word:
            raise DataError(f"expected {word!r}, found {token!r}", self.path, f"line {line}")
        return line

    def number(self, what: str) -> float:
        token, line = self.next(what)
        try:
            value = float(token)
        except ValueError:
            raise DataError(f"expected a number ({what}), found {token!r}", self.path, f"line {line}") from None
        if not np.isfinite(value):
            raise DataError(f"{what} is not finite ({token})", self.path, f"line {line}")
        return value

    def integer(self, what: str) -> int:
        token, line = self.next(what)
        if not is_count(token):
            raise DataError(f"expected a non-negative integer ({what}), found {token!r}", self.path, f"line {line}")
        return int(token)


MAX_DEPTH = 256
"""Deepest joint nesting read (a body is ~10 deep; 1,500 nested JOINTs would overflow Python's stack)."""


def _parse_joint(
    tokens: _Tokens, name: str, parent: int, joints: list[_Joint], end_sites: dict, depth: int = 0
) -> None:
    line = tokens.expect("{")
    if depth >= MAX_DEPTH:
        raise DataError(f"joints nested more than {MAX_DEPTH} deep", tokens.path, f"line {line}")
    index = len(joints)
    tokens.expect("OFFSET")
    offset = (tokens.number("offset x"), tokens.number("offset y"), tokens.number("offset z"))
    joint = _Joint(name, parent, offset)
    joints.append(joint)
    token, line = tokens.next("CHANNELS")
    if token != "CHANNELS":
        raise DataError(f"expected 'CHANNELS' for joint {name!r}, found {token!r}", tokens.path, f"line {line}")
    count = tokens.integer("channel count")
    for _ in range(count):
        channel, line = tokens.next("a channel name")
        if channel not in _ROTATIONS and channel not in _POSITIONS:
            raise DataError(
                f"unknown channel {channel!r} of joint {name!r} (expected X/Y/Z position/rotation)",
                tokens.path,
                f"line {line}",
            )
        if channel in _POSITIONS and parent >= 0:
            raise DataError(
                f"joint {name!r} has a position channel; only the root may translate", tokens.path, f"line {line}"
            )
        joint.channels.append(channel)
    rotations = [c for c in joint.channels if c in _ROTATIONS]
    if len(rotations) not in (0, 3) or len(set(rotations)) != len(rotations):
        raise DataError(f"joint {name!r}: expected 0 or 3 distinct rotation channels, got {rotations}", tokens.path)
    while True:
        token, line = tokens.next("'JOINT', 'End' or '}'")
        if token == "}":
            return
        if token == "JOINT":
            child, _ = tokens.next("a joint name")
            _parse_joint(tokens, child, index, joints, end_sites, depth + 1)
        elif token == "End":
            tokens.expect("Site")
            tokens.expect("{")
            tokens.expect("OFFSET")
            end_sites[name] = (tokens.number("offset x"), tokens.number("offset y"), tokens.number("offset z"))
            tokens.expect("}")
        else:
            raise DataError(f"expected 'JOINT', 'End Site' or '}}' in joint {name!r}, found {token!r}", tokens.path,
                            f"line {line}")  # fmt: skip


def _header_value(line: str, key: str, path: Path, number: int) -> str:
    if not line.strip().startswith(key):
        raise DataError(f"expected '{key} ...', found {line.strip()[:40]!r}", path, f"line {number}")
    return line.strip()[len(key) :].strip()


def read_bvh(
    path: str | PathLike[str],
    scale: float = 1.0,
    units: str = "",
    name: str | None = None,
) -> Motion:
    """Read a BVH file: skeleton, local rotations, root translation and positions by forward kinematics.

    Args:
        path: The ``.bvh`` file.
        scale: Factor applied to offsets and root translations (file units -> ``units``).
        units: Units of the scaled positions, for the record (BVH files do not state them).
        name: Name of the built skeleton; default ``"bvh:<file stem>"``.

    Returns:
        A :class:`Motion`: ``rotations (T, V, 3, 3)`` (column convention, float64), ``positions (T, V, 3)``,
        ``root_positions (T, 3)``, ``fps``; the skeleton is built from the file (not registered) with its
        offsets; ``meta`` holds ``channels`` (per joint), ``end_sites`` and ``frame_time``.

    Raises:
        DataError: Missing or unreadable file, malformed hierarchy, a frame line with another count of values
            than the channels, a non-number, a NaN, fewer frame lines than ``Frames:``; the message names the line.
    """
    path = Path(path)
    lines = read_text(path, "a .bvh file").splitlines()
    if not any(line.strip() for line in lines):
        raise DataError("empty file (expected 'HIERARCHY')", path)
    motion_line = next((i for i, line in enumerate(lines) if line.strip() == "MOTION"), None)
    if motion_line is None:
        raise DataError("no 'MOTION' section (file truncated?)", path, f"line {len(lines)}")
    tokens = _Tokens(lines[:motion_line], path)
    tokens.expect("HIERARCHY")
    tokens.expect("ROOT")
    root_name, _ = tokens.next("the root name")
    joints: list[_Joint] = []
    end_sites: dict[str, tuple[float, float, float]] = {}
    _parse_joint(tokens, root_name, -1, joints, end_sites)
    if tokens.pos != len(tokens.items):
        token, line = tokens.items[tokens.pos]
        raise DataError(f"unexpected {token!r} after the root block (one root expected)", path, f"line {line}")

    header = [(i + 1, lines[i]) for i in range(motion_line + 1, min(motion_line + 3, len(lines)))]
    if len(header) < 2:
        raise DataError("file ends before 'Frames:' and 'Frame Time:'", path, f"line {len(lines)}")
    count_text = _header_value(header[0][1], "Frames:", path, header[0][0])
    time_text = _header_value(header[1][1], "Frame Time:", path, header[1][0])
    try:
        if not is_count(count_text):
            raise ValueError(count_text)
        num_frames, frame_time = int(count_text), float(time_text)
        fps = 1.0 / frame_time if frame_time > 0 else 0.0  # 1e-320 overflows
    except (ValueError, OverflowError):
        raise DataError(f"bad frame count or frame time ({count_text!r}, {time_text!r})", path,
                        f"line {header[0][0]}") from None  # fmt: skip
    if num_frames <= 0 or not (np.isfinite(frame_time) and fps > 0 and np.isfinite(fps)):
        raise DataError(f"expected a positive frame count and a positive finite frame time, got {num_frames}, "
                        f"{frame_time}", path,
                        f"line {header[0][0]}")  # fmt: skip

    num_channels = sum(len(j.channels) for j in joints)
    first = motion_line + 3
    data_lines = [(i + 1, lines[i]) for i in range(first, len(lines)) if lines[i].strip()]
    if len(data_lines) != num_frames:
        raise DataError(f"'Frames: {num_frames}' but {len(data_lines)} frame lines follow (file truncated?)", path,
                        f"line {len(lines)}")  # fmt: skip
    values = np.empty((num_frames, num_channels), dtype=np.float64)
    for frame, (number, text) in enumerate(data_lines):
        fields = text.split()
        if len(fields) != num_channels:
            raise DataError(f"expected {num_channels} channel values, found {len(fields)}", path,
                            f"line {number} (frame {frame})")  # fmt: skip
        try:
            values[frame] = [float(v) for v in fields]
        except ValueError:
            raise DataError("expected numbers, found a non-number", path, f"line {number} (frame {frame})") from None
    if not np.all(np.isfinite(values)):
        frame = int(np.flatnonzero(~np.all(np.isfinite(values), axis=1))[0])
        raise DataError("NaN or inf channel value", path, f"line {data_lines[frame][0]} (frame {frame})")

    rotations = np.tile(np.eye(3), (num_frames, len(joints), 1, 1))
    root_offset = np.asarray(joints[0].offset)
    root_positions = np.tile(root_offset, (num_frames, 1))
    column = 0
    for index, joint in enumerate(joints):
        block = values[:, column : column + len(joint.channels)]
        column += len(joint.channels)
        rot = [(k, _ROTATIONS[c]) for k, c in enumerate(joint.channels) if c in _ROTATIONS]
        if rot:
            order = "".join(axis for _, axis in rot)
            angles = block[:, [k for k, _ in rot]]
            rotations[:, index] = Rotation.from_euler(order, angles, degrees=True).as_matrix()
        for k, channel in enumerate(joint.channels):
            if channel in _POSITIONS:
                root_positions[:, _POSITIONS[channel]] = root_offset[_POSITIONS[channel]] + block[:, k]

    offsets = np.asarray([j.offset for j in joints], dtype=np.float64) * scale
    root_positions = root_positions * scale
    skeleton = Skeleton(
        name=name or f"bvh:{path.stem}",
        joint_names=tuple(j.name for j in joints),
        parents=tuple(j.parent for j in joints),
        offsets=tuple(tuple(o) for o in offsets),
        units=units,
        source=str(path),
    )
    from skeletal.geometry import forward_kinematics

    fk_offsets = offsets.copy()
    fk_offsets[0] = 0.0  # the root's offset is already in root_positions
    _, positions = forward_kinematics(rotations, fk_offsets, skeleton.parents, root_positions)
    positions = np.asarray(positions)
    if not np.isfinite(positions).all():  # finite but huge offsets/translations (1e308) overflow in FK
        frame = int(np.flatnonzero(~np.isfinite(positions).all(axis=(1, 2)))[0])
        raise DataError("joint positions overflow (offsets or translations too large)", path,
                        f"line {data_lines[frame][0]} (frame {frame})")  # fmt: skip
    if abs(fps - round(fps)) < 0.01:
        fps = float(round(fps))
    return Motion(
        skeleton=skeleton,
        fps=fps,
        positions=positions,
        rotations=rotations,
        root_positions=root_positions,
        units=units,
        source=str(path),
        meta={
            "format": "bvh",
            "frame_time": frame_time,
            "channels": {j.name: tuple(j.channels) for j in joints},
            "end_sites": {k: tuple(float(c) * scale for c in v) for k, v in end_sites.items()},
        },
    )
