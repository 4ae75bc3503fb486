"""Loading a configuration: YAML files (bounded, ``extends:`` inheritance), ``key.sub=value`` overrides, and the
resolved config written back as YAML.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from skeletal.config.schema import Config
from skeletal.config.validation import _build
from skeletal.errors import ConfigError

MAX_CONFIG_BYTES = 1 << 20
"""Largest config file read (1 MiB; presets are a few hundred bytes)."""
MAX_NODES = 100_000
"""Most YAML values a config may expand to, aliases counted at every use (an alias bomb expands to 10^9)."""


def from_dict(values: dict[str, Any]) -> Config:
    """Build a :class:`Config` from a nested dict, checking every key and type."""
    return _build(Config, values)


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "kwargs":
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def safe_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load`` whose result may hold at most :data:`MAX_NODES` values, aliases counted at every use,
    counted while composing (an alias bomb of 10^9 expanded values is refused after :data:`MAX_NODES`)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return None
    expanded, stack = 0, [node]
    while stack:  # count the expansion of the node graph (aliases share nodes) without building it
        current = stack.pop()
        expanded += 1
        if expanded > MAX_NODES:
            raise ConfigError(f"{where}: expands to more than {MAX_NODES} values (YAML aliases?)")
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_document(node)
    finally:
        constructor.dispose()


def read_yaml(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a config file as a dict, following ``extends:`` chains (paths relative to the file)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    if path.resolve() in _seen:
        raise ConfigError(f"{path}: 'extends' loops back to itself")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {path.stat().st_size} bytes, more than the {MAX_CONFIG_BYTES} byte bound")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start}); save the config as UTF-8") from None
    try:
        values = safe_yaml(text, str(path)) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})".replace("\n", " ")) from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(values).__name__}")
    parent = values.pop("extends", None)
    if parent is not None:
        base = read_yaml(path.parent / str(parent), (*_seen, path.resolve()))
        values = _merge(base, values)
    return values


def apply_overrides(values: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a nested dict, returning a new dict."""
    result = copy.deepcopy(values)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r}: expected key.sub=value")
        try:
            value = safe_yaml(text, f"override {key.strip()!r}") if text.strip() else ""
        except yaml.YAMLError:
            value = text
        parts = key.strip().split(".")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = value
    return result


def load_config(
    path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = (), check_model: bool = True
) -> Config:
    """Load a YAML config (or the defaults when ``path`` is None), apply overrides, check types and values."""
    values = read_yaml(path) if path is not None else {}
    values = apply_overrides(values, list(overrides))
    return from_dict(values).validate(check_model=check_model)


def save_config(config: Config, path: str | Path) -> Path:
    """Write the resolved config as YAML."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    return path
