"""Acclaim ASF (skeleton) + AMC (motion) pairs, the original format of the CMU motion capture database.

ASF: ``:units`` (``length`` L: one file unit is ``1/L`` inch; ``angle`` ``deg`` or ``rad``; ``mass``), ``:root``
(``order`` of the root's AMC channels, ``axis`` order of its rotation, ``position``, ``orientation``),
``:bonedata`` (per bone: ``name``, unit ``direction`` in world axes, ``length``, ``axis ax ay az ORDER`` the
orientation of the bone's local frame, optional ``dof`` e.g. ``rx ry rz`` and ``limits``) and ``:hierarchy``
(``parent child child ...`` lines). AMC: header lines (``:FULLY-SPECIFIED``, ``:DEGREES``), then per frame its
number followed by one line per moving segment, ``name value value ...`` in the ``dof``/``order`` order.

Kinematics (the Acclaim convention as read by the common CMU parsers): a bone's rotation is
``L = C @ M @ C^-1`` where ``C`` is the rotation of its ``axis`` line and ``M`` the rotation of its AMC dof
values, both composed in the axis order with the first-listed axis applied first (``XYZ``: ``Rz @ Ry @ Rx``);
its global rotation is ``G = G_parent @ L`` and its tip is ``start + G @ (direction * length)``.

The :class:`Motion` has one joint per bone *start* plus the root (as BVH exports of CMU data do): joint
``b`` sits where bone ``b`` starts, its parent is the joint of the parent bone, its offset is the parent bone's
vector (zero for bones starting at the root) and its local rotation is ``L_b``. Tips of the leaf bones are in
``meta["end_sites"]``. Positions are converted to metres (``units="m"``), rotations are float64 matrices.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from skeletal.data._safe import is_count, read_text
from skeletal.data.types import Motion
from skeletal.errors import DataError
from skeletal.skeletons import Skeleton

INCH = 0.0254
_DOF_AXIS = {"rx": "X", "ry": "Y", "rz": "Z"}
_ROOT_CHANNELS = ("TX", "TY", "TZ", "RX", "RY", "RZ")


def _read_lines(path: Path, what: str) -> list[str]:
    lines = read_text(path, what).splitlines()
    if not any(line.strip() and not line.startswith("#") for line in lines):
        raise DataError(f"empty file (expected {what})", path)
    return lines


def _floats(fields: list[str], count: int, path: Path, number: int, what: str) -> list[float]:
    if len(fields) != count:
        raise DataError(f"expected {count} values for {what}, found {len(fields)}", path, f"line {number}")
    try:
        values = [float(f) for f in fields]
    except ValueError:
        raise DataError(f"expected numbers for {what}, found {' '.join(fields)!r}", path, f"line {number}") from None
    if not np.all(np.isfinite(values)):
        raise DataError(f"{what} is not finite ({' '.join(fields)})", path, f"line {number}")
    return values


def _fields(fields: list[str], count: int, path: Path, number: int, what: str) -> list[str]:
    """The ``count`` values after a keyword (``name lhumerus``): exactly that many, or a DataError."""
    if len(fields) - 1 != count:
        raise DataError(f"expected {count} value{'s' * (count != 1)} after {fields[0]!r} ({what}), found "
                        f"{len(fields) - 1}", path, f"line {number}")  # fmt: skip
    return fields[1:]


def _axis_order(text: str, path: Path, number: int) -> str:
    """A rotation order: the three axes X, Y, Z once each, in any order (``XYZ``, ``zyx``)."""
    if len(text) != 3 or sorted(text.upper()) != ["X", "Y", "Z"]:
        raise DataError(f"axis order must name X, Y and Z once each, found {text!r}", path, f"line {number}")
    return text.upper()


def _rotation(angles_xyz: list[float] | np.ndarray, order: str, degrees: bool) -> np.ndarray:
    """Rotation of angles given as ``(..., [x, y, z])``, composed in ``order``, first listed applied first."""
    order = order.upper()
    angles = np.asarray(angles_xyz, dtype=np.float64)[..., ["XYZ".index(a) for a in order]]
    return Rotation.from_euler(order.lower(), angles, degrees=degrees).as_matrix()


def read_asf(path: str | PathLike[str]) -> dict:
    """Parse an ASF skeleton into a dict (``units``, ``root``, ``bones``, ``children``); see :func:`read_asf_amc`."""
    path = Path(path)
    lines = _read_lines(path, "an Acclaim .asf skeleton")
    units = {"length": 1.0, "angle": "deg", "mass": 1.0}
    root = {"order": list(_ROOT_CHANNELS), "axis": "XYZ", "position": [0.0] * 3, "orientation": [0.0] * 3}
    bones: dict[str, dict] = {}
    children: dict[str, list[str]] = {}
    section = ""
    bone: dict[str, Any] | None = None
    parents_line: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#")[0].strip()
        if not line:
            continue
        fields = line.split()
        if line.startswith(":"):
            section = fields[0]
            continue
        key = fields[0]
        if section == ":units" and key in units:
            value = _fields(fields, 1, path, number, f"unit {key}")
            if key == "angle":
                units[key] = value[0]
                continue
            amount = _floats(value, 1, path, number, key)[0]
            if key == "length" and not amount > INCH / np.finfo(np.float64).max:  # 1 / length stays finite
                raise DataError(f"length unit must be positive, found {amount}", path, f"line {number}")
            units[key] = amount
        elif section == ":root":
            if key == "order":
                channels = [c.upper() for c in fields[1:]]
                if not channels or any(c not in _ROOT_CHANNELS for c in channels) or len(set(channels)) < len(channels):
                    raise DataError(f"root order must list distinct channels of {' '.join(_ROOT_CHANNELS)}, found "
                                    f"{' '.join(fields[1:])!r}", path, f"line {number}")  # fmt: skip
                root[key] = channels
            elif key == "axis":
                root[key] = _axis_order(_fields(fields, 1, path, number, "root axis order")[0], path, number)
            elif key in ("position", "orientation"):
                root[key] = _floats(fields[1:], 3, path, number, f"root {key}")
        elif section == ":bonedata":
            if key == "begin":
                bone = {"dof": [], "axis": [0.0, 0.0, 0.0], "order": "XYZ", "line": number}
            elif key == "end":
                if bone is None or "name" not in bone or "direction" not in bone or "length" not in bone:
                    raise DataError("bone block without name, direction or length", path, f"line {number}")
                if bone["name"] in bones or bone["name"] == "root":
                    raise DataError(f"bone {bone['name']!r} is defined twice", path, f"line {number}")
                bones[bone["name"]] = bone
                bone = None
            elif bone is None:
                raise DataError(f"{key!r} outside a 'begin'/'end' bone block", path, f"line {number}")
            elif key == "name":
                bone["name"] = _fields(fields, 1, path, number, "bone name")[0]
            elif key == "direction":
                bone["direction"] = _floats(fields[1:], 3, path, number, "bone direction")
            elif key == "length":
                bone["length"] = _floats(fields[1:], 1, path, number, "bone length")[0]
            elif key == "axis":
                if len(fields) not in (4, 5):
                    raise DataError(f"expected 'axis ax ay az [ORDER]', found {len(fields) - 1} values", path,
                                    f"line {number}")  # fmt: skip
                bone["axis"] = _floats(fields[1:4], 3, path, number, "bone axis")
                bone["order"] = _axis_order(fields[4], path, number) if len(fields) > 4 else "XYZ"
            elif key == "dof":
                unknown = [d for d in fields[1:] if d not in _DOF_AXIS]
                if unknown:
                    raise DataError(f"unsupported dof {unknown} (expected rx, ry, rz)", path, f"line {number}")
                if len(set(fields[1:])) != len(fields[1:]):
                    raise DataError(f"dof lists an axis twice ({' '.join(fields[1:])})", path, f"line {number}")
                bone["dof"] = fields[1:]
        elif section == ":hierarchy" and key not in ("begin", "end"):
            if key in parents_line:
                raise DataError(f"{key!r} lists its children twice (also line {parents_line[key]})", path,
                                f"line {number}")  # fmt: skip
            parents_line[key] = number
            children[key] = fields[1:]
    if units["angle"] not in ("deg", "rad"):
        raise DataError(f"unknown angle unit {units['angle']!r} (expected deg or rad)", path)
    if not bones:
        raise DataError("no :bonedata bones", path)
    for parent in children:
        if parent != "root" and parent not in bones:
            raise DataError(f"hierarchy names bone {parent!r}, which is not in :bonedata", path,
                            f"line {parents_line[parent]}")  # fmt: skip
    placed: dict[str, str] = {}
    for parent, kids in children.items():
        for child in kids:
            if child not in bones:
                raise DataError(f"hierarchy names bone {child!r}, which is not in :bonedata", path,
                                f"line {parents_line[parent]}")  # fmt: skip
            if child in placed:
                raise DataError(f"bone {child!r} has two parents ({placed[child]!r} and {parent!r})", path,
                                f"line {parents_line[parent]}")  # fmt: skip
            placed[child] = parent
    reached, stack = set(), list(children.get("root", []))
    while stack:  # every bone must hang from the root: a cycle (a -> b -> a) never reaches it
        child = stack.pop()
        reached.add(child)
        stack.extend(children.get(child, []))
    unplaced = sorted(set(bones) - reached)
    if unplaced:
        raise DataError(f"hierarchy and bonedata disagree: bones {unplaced} do not hang from the root "
                        "(missing, or in a cycle)", path)  # fmt: skip
    return {"units": units, "root": root, "bones": bones, "children": children, "path": path}


def _read_amc(path: Path, asf: dict) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """AMC frames: ``(T, 6)`` root channels (TX TY TZ RX RY RZ) and ``{bone: (T, len(dof))}``."""
    lines = _read_lines(path, "an Acclaim .amc motion")
    bones = asf["bones"]
    frames: list[dict[str, list[float]]] = []
    numbers: list[int] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(":"):
            continue
        fields = line.split()
        if len(fields) == 1 and is_count(fields[0]):
            if frames and int(fields[0]) != numbers[-1] + 1:
                raise DataError(f"frame {fields[0]} follows frame {numbers[-1]}", path, f"line {number}")
            frames.append({})
            numbers.append(int(fields[0]))
            continue
        if not frames:
            raise DataError(f"expected a frame number, found {fields[0]!r}", path, f"line {number}")
        name = fields[0]
        if name == "root":
            frames[-1][name] = _floats(fields[1:], len(asf["root"]["order"]), path, number, "root channels")
        elif name in bones:
            frames[-1][name] = _floats(fields[1:], len(bones[name]["dof"]), path, number, f"bone {name!r} dof")
        else:
            raise DataError(f"unknown segment {name!r} (not in the ASF)", path, f"line {number}")
    if not frames:
        raise DataError("no frames", path)
    expected = ["root"] + [b for b, bone in bones.items() if bone["dof"]]
    line_of_frame = [n for n, raw in enumerate(lines, start=1) if is_count(raw.strip())]
    for index, frame in enumerate(frames):
        absent = [b for b in expected if b not in frame]
        if absent:
            raise DataError(f"frame {numbers[index]} lacks segments {absent} (file truncated?)", path,
                            f"line {line_of_frame[index]}")  # fmt: skip
    order = [c.upper() for c in asf["root"]["order"]]
    root = np.asarray([f["root"] for f in frames], dtype=np.float64)
    root6 = np.zeros((len(frames), 6))
    for k, channel in enumerate(order):
        root6[:, _ROOT_CHANNELS.index(channel)] = root[:, k]
    dofs = {b: np.asarray([f[b] for f in frames], dtype=np.float64) for b in expected[1:]}
    return root6, dofs


def read_asf_amc(
    asf_path: str | PathLike[str],
    amc_path: str | PathLike[str],
    fps: float = 120.0,
) -> Motion:
    """Read an ASF skeleton and an AMC motion into a :class:`Motion` in metres.

    Args:
        asf_path: The ``.asf`` skeleton.
        amc_path: The ``.amc`` motion of that skeleton.
        fps: Frame rate (AMC does not store it; the CMU database records at 120 fps).

    Returns:
        A :class:`Motion` with one joint per bone start plus the root (see the module docstring):
        ``rotations (T, V, 3, 3)``, ``positions (T, V, 3)`` and ``root_positions (T, 3)`` in metres
        (``length / units.length`` inches), ``meta["end_sites"]`` the ``(T, 3)`` tips of the leaf bones.

    Raises:
        DataError: Missing, empty or corrupt files, a segment with the wrong number of values, a non-number, a
            NaN, a frame lacking segments (truncated file), an AMC segment absent from the ASF.
    """
    asf = read_asf(asf_path)
    amc_path = Path(amc_path)
    root_channels, dofs = _read_amc(amc_path, asf)
    degrees = asf["units"]["angle"] == "deg"
    to_metres = INCH / float(asf["units"]["length"])
    bones = asf["bones"]

    names = ["root"]
    parents = [-1]
    owner: dict[str, int] = {"root": 0}  # bone -> joint at its start
    offsets = [np.zeros(3)]
    stack = list(reversed(asf["children"].get("root", [])))
    parent_bone = {c: "root" for c in asf["children"].get("root", [])}
    while stack:
        bone = stack.pop()
        parent = parent_bone[bone]
        owner[bone] = len(names)
        names.append(bone)
        parents.append(owner[parent])
        vector = np.zeros(3) if parent == "root" else np.asarray(bones[parent]["direction"]) * bones[parent]["length"]
        offsets.append(vector * to_metres)
        for child in reversed(asf["children"].get(bone, [])):
            parent_bone[child] = bone
            stack.append(child)

    num_frames = root_channels.shape[0]
    rotations = np.tile(np.eye(3), (num_frames, len(names), 1, 1))
    root = asf["root"]
    rotations[:, 0] = _rotation(root_channels[:, 3:], root["axis"], degrees)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, with its frame
        root_positions = root_channels[:, :3] * to_metres  # AMC translations are absolute
    for bone, values in dofs.items():
        spec = bones[bone]
        frame_axes = _rotation(spec["axis"], spec["order"], degrees)
        angles = np.zeros((num_frames, 3))
        for k, dof in enumerate(spec["dof"]):
            angles[:, "XYZ".index(_DOF_AXIS[dof])] = values[:, k]
        local = _rotation(angles, spec["order"], degrees)
        rotations[:, owner[bone]] = frame_axes @ local @ frame_axes.T

    from skeletal.geometry import forward_kinematics

    offsets_array = np.asarray(offsets)
    asf_path = Path(asf_path)
    skeleton = Skeleton(
        name=f"asf:{asf_path.stem}",
        joint_names=tuple(names),
        parents=tuple(parents),
        offsets=tuple(tuple(o) for o in offsets_array),
        units="m",
        source=str(asf_path),
    )
    with np.errstate(over="ignore", invalid="ignore"):
        global_rotations, positions = forward_kinematics(rotations, offsets_array, skeleton.parents, root_positions)
    global_rotations, positions = np.asarray(global_rotations), np.asarray(positions)
    end_sites = {}
    for bone in names[1:]:
        if not asf["children"].get(bone):
            vector = np.asarray(bones[bone]["direction"]) * bones[bone]["length"] * to_metres
            joint = owner[bone]
            end_sites[bone] = positions[:, joint] + global_rotations[:, joint] @ vector
    with np.errstate(all="ignore"):  # finite but huge lengths, angles or translations (1e308) overflow in FK
        finite = [np.isfinite(a).reshape(num_frames, -1).all(axis=1) for a in (positions, rotations,
                                                                                *end_sites.values())]  # fmt: skip
    bad = ~np.logical_and.reduce(finite)
    if bad.any():
        raise DataError("joint positions or rotations overflow (bone lengths, angles or translations too large)",
                        amc_path, f"frame {int(np.flatnonzero(bad)[0])}")  # fmt: skip
    return Motion(
        skeleton=skeleton,
        fps=fps,
        positions=positions,
        rotations=rotations,
        root_positions=root_positions,
        units="m",
        source=str(amc_path),
        meta={"format": "asf/amc", "asf": str(asf_path), "asf_units": dict(asf["units"]), "end_sites": end_sites},
    )
