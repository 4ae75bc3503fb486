"""Custom layouts as small YAML or JSON files, usable wherever a layout name is (``--layout``, ``skeleton=``).

A layout file lists the joints in the order of the data, each joint's parent (by name or index; ``null`` or
``-1`` for the one root), the left/right pairs swapped by flips, and the graph centre::

    name: my_skeleton          # optional; default the file name without its suffix
    joints: [pelvis, spine, head, left_hip, left_knee, right_hip, right_knee]
    parents: [null, pelvis, spine, pelvis, left_hip, pelvis, right_hip]
    left: [left_hip, left_knee]     # paired index by index with right
    right: [right_hip, right_knee]
    center: pelvis             # optional; default the root (ST-GCN's spatial partition measures from it)
    origin: pelvis             # optional; joint on which coordinates are centred (default the root)

:func:`skeletal.skeletons.get` accepts the file's path (suffix ``.yaml``, ``.yml`` or ``.json``) and registers the
layout under its ``name``, so that model files, configs (``model.kwargs.skeleton: my_skeleton.yaml``) and the
command line (``--layout my_skeleton.yaml``) take it like a built-in name. A model trained on it stores the whole
definition in its model file, so the file is not needed to load the model later.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

from skeletal.errors import ConfigError
from skeletal.skeletons.skeleton import Skeleton

LAYOUT_SUFFIXES = (".yaml", ".yml", ".json")
MAX_LAYOUT_BYTES = 1 << 20
KEYS = ("name", "joints", "parents", "left", "right", "center", "origin", "units", "source")
_CACHE: dict[tuple[str, int, int], Skeleton] = {}


def is_layout_file(value: object) -> bool:
    """True for a string or path naming a layout file (by its suffix), whether or not it exists."""
    return isinstance(value, str | PathLike) and Path(value).suffix.lower() in LAYOUT_SUFFIXES


def _joint(value: Any, names: tuple[str, ...], path: Path, key: str, allow_root: bool = False) -> int:
    """A joint given by name or zero-based index."""
    if allow_root and (value is None or value == -1):
        return -1
    if isinstance(value, bool):
        raise ConfigError(f"{path}: {key}: expected a joint name or index, got {value!r}")
    if isinstance(value, int):
        if not 0 <= value < len(names):
            raise ConfigError(f"{path}: {key}: joint index {value} out of range 0..{len(names) - 1}")
        return value
    if isinstance(value, str) and value in names:
        return names.index(value)
    from skeletal.errors import did_you_mean

    hint = did_you_mean(str(value), names)
    raise ConfigError(f"{path}: {key}: {value!r} is not one of the joints{hint}")


def _joint_list(values: Any, names: tuple[str, ...], path: Path, key: str) -> tuple[int, ...]:
    if values is None:
        return ()
    if not isinstance(values, list):
        raise ConfigError(f"{path}: {key}: expected a list of joint names or indices, got {values!r}"[:200])
    return tuple(_joint(value, names, path, f"{key}[{i}]") for i, value in enumerate(values))


def layout_from_dict(values: Any, path: str | PathLike[str], default_name: str = "") -> Skeleton:
    """The :class:`Skeleton` of a parsed layout file (see the module docstring); ``path`` names it in errors."""
    path = Path(path)
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping with joints, parents, left, right, center")
    unknown = [key for key in values if key not in KEYS]
    if unknown:
        from skeletal.errors import did_you_mean

        raise ConfigError(f"{path}: unknown key {unknown[0]!r}{did_you_mean(str(unknown[0]), KEYS)} "
                          f"(keys: {', '.join(KEYS)})")  # fmt: skip
    joints = values.get("joints")
    if not isinstance(joints, list) or not joints or not all(isinstance(j, str) and j for j in joints):
        raise ConfigError(f"{path}: joints: expected a list of joint names (strings), got {joints!r}"[:200])
    names = tuple(joints)
    parents = values.get("parents")
    if not isinstance(parents, list) or len(parents) != len(names):
        count = len(parents) if isinstance(parents, list) else "no list of"
        raise ConfigError(f"{path}: parents: expected one parent per joint ({len(names)}), found {count}")
    parent_indices = tuple(_joint(p, names, path, f"parents[{i}]", allow_root=True) for i, p in enumerate(parents))
    left = _joint_list(values.get("left"), names, path, "left")
    right = _joint_list(values.get("right"), names, path, "right")
    root = parent_indices.index(-1) if -1 in parent_indices else 0
    center = root if values.get("center") is None else _joint(values["center"], names, path, "center")
    origin = None if values.get("origin") is None else _joint(values["origin"], names, path, "origin")
    name = values.get("name", default_name or path.stem)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}: name: expected a non-empty string, got {name!r}")
    try:
        return Skeleton(
            name=name, joint_names=names, parents=parent_indices, left=left, right=right, center=center,
            origin=origin, units=str(values.get("units", "")), source=str(values.get("source", f"layout file {path}")),
        )  # fmt: skip
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def read_layout(path: str | PathLike[str]) -> Skeleton:
    """Read a layout file (``.yaml``/``.yml``/``.json``, see the module docstring) into a :class:`Skeleton`.

    Raises:
        ConfigError: The file is missing, not YAML/JSON, or its joints, parents, sides or centre are invalid; the
            message names the file and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"layout file {path} not found (a .yaml or .json file with joints, parents, left, right)")
    if path.stat().st_size > MAX_LAYOUT_BYTES:
        raise ConfigError(f"layout file {path}: larger than {MAX_LAYOUT_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"layout file {path}: not UTF-8 text") from None
    if path.suffix.lower() == ".json":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"layout file {path}: invalid JSON ({error.msg}, line {error.lineno})") from None
    else:
        import yaml

        try:
            if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
                raise ConfigError(f"layout file {path}: YAML aliases (*name) are not accepted; write the lists out")
            values = yaml.safe_load(text)  # bounded: at most MAX_LAYOUT_BYTES and no aliases to expand
        except yaml.YAMLError as error:
            raise ConfigError(f"layout file {path}: not valid YAML ({error})".replace("\n", " ")) from None
    return layout_from_dict(values, path)


def layout_to_dict(skeleton: Skeleton) -> dict[str, Any]:
    """The layout file content of ``skeleton`` (joints and parents by name), the inverse of :func:`layout_from_dict`."""
    names = skeleton.joint_names
    values: dict[str, Any] = {
        "name": skeleton.name,
        "joints": list(names),
        "parents": [None if p < 0 else names[p] for p in skeleton.parents],
        "left": [names[i] for i in skeleton.left],
        "right": [names[i] for i in skeleton.right],
        "center": names[skeleton.center],
    }
    if skeleton.origin is not None:
        values["origin"] = names[skeleton.origin]
    if skeleton.units:
        values["units"] = skeleton.units
    return values


def write_layout(skeleton: Skeleton, path: str | PathLike[str]) -> Path:
    """Write ``skeleton`` as a layout file (JSON for ``.json``, else YAML)."""
    path = Path(path)
    values = layout_to_dict(skeleton)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(values, indent=1) + "\n")
    else:
        import yaml

        path.write_text(yaml.safe_dump(values, sort_keys=False, default_flow_style=None, width=118))
    return path


def get_layout_file(path: str | PathLike[str]) -> Skeleton:
    """The layout of a file, read once per file version and registered under its name.

    Raises:
        ConfigError: The file is invalid, or its name is already registered with another definition (a built-in
            layout or another file): rename it.
    """
    from skeletal.skeletons.skeleton import _REGISTRY, register

    path = Path(path)
    try:
        status = path.stat()
    except OSError:
        raise ConfigError(
            f"layout file {path} not found (a .yaml or .json file with joints, parents, left, right)"
        ) from None
    key = (str(path.resolve()), status.st_mtime_ns, status.st_size)
    if key in _CACHE:
        return _CACHE[key]
    skeleton = read_layout(path)
    known = _REGISTRY.get(skeleton.name)
    if known is None:
        register(skeleton)
    elif known != skeleton:
        raise ConfigError(f"layout file {path}: the name {skeleton.name!r} is already a layout with other joints or "
                          "links; set another `name:` in the file")  # fmt: skip
    _CACHE[key] = known or skeleton
    return _CACHE[key]


def register_stored(skeleton: Skeleton) -> Skeleton:
    """Register a layout read from a model file or a prepared folder unless its name is taken; returns it."""
    from skeletal.skeletons.skeleton import _REGISTRY, register

    if skeleton.name not in _REGISTRY:
        register(skeleton)
    return skeleton
