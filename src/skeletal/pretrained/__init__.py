"""Trained weights that ship with skeletal: ``skeletal.load("pretrained:NAME")``, ``--checkpoint pretrained:NAME``.

Each entry of ``manifest.json`` (beside this file) names a safetensors model file in this folder, what it was
trained on, with which config and command, its test metrics (measured by the benchmark script it names) and the
SHA-256 of the file, checked before every load. Only weights trained on data that may be redistributed ship here
(the CMU Graphics Lab Motion Capture Database, mocap.cs.cmu.edu); models trained on Human3.6M or HumanEva are not
shipped, their recipes and numbers are in ``benchmarks/results/``.

    >>> import skeletal
    >>> skeletal.pretrained.names()                       # doctest: +SKIP
    >>> model = skeletal.load("pretrained:st-transformer-cmu")  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from skeletal.errors import ConfigError, DataError

PREFIX = "pretrained:"
FOLDER = Path(__file__).resolve().parent
MANIFEST = FOLDER / "manifest.json"


@dataclass(frozen=True)
class Pretrained:
    """One shipped model.

    Attributes:
        name: Registry name (``pretrained:NAME``).
        task: ``recognition``, ``prediction`` or ``lifting``.
        model: Registered architecture (``skeletal.models``) and its size.
        file: File name in this folder.
        sha256: SHA-256 of the file.
        layout: Skeleton layout of its input.
        training: Data, config and command it was trained with, and how long.
        metrics: Test metrics (name to value) and the script that measured them.
        default_for: Commands that use it when no model is given (``lift``, ``lift --causal``, ``predict``).
    """

    name: str
    task: str
    model: str
    file: str
    sha256: str
    layout: str
    training: str
    metrics: dict[str, Any] = field(default_factory=dict)
    default_for: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return FOLDER / self.file


@cache
def _manifest() -> dict[str, Pretrained]:
    try:
        entries = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read the pretrained manifest ({error})", MANIFEST) from None
    return {
        entry["name"]: Pretrained(**{**entry, "default_for": tuple(entry.get("default_for", ()))}) for entry in entries
    }


def names(task: str | None = None) -> list[str]:
    """Names of the shipped models (of one task)."""
    return [name for name, entry in _manifest().items() if task is None or entry.task == task]


def get(name: str) -> Pretrained:
    """The entry of ``name`` (with or without the ``pretrained:`` prefix).

    Raises:
        ConfigError: No such model; the message names the closest ones.
    """
    name = name.removeprefix(PREFIX)
    found = _manifest().get(name)
    if found is None:
        close = difflib.get_close_matches(name, list(_manifest()), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"no pretrained model {name!r}{hint} (shipped: {', '.join(names()) or 'none'})")
    return found


def default(command: str) -> Pretrained:
    """The model a command uses when none is given (``lift``, ``lift --causal``, ``predict``)."""
    for entry in _manifest().values():
        if command in entry.default_for:
            return entry
    raise ConfigError(f"no pretrained model is the default of {command!r}; pass a model file")


def is_pretrained(path: str | Path) -> bool:
    return isinstance(path, str) and path.startswith(PREFIX)


def resolve(spec: str) -> Path:
    """``pretrained:NAME`` -> the path of its file, after checking the file's SHA-256 against the manifest.

    Raises:
        ConfigError: Unknown name.
        DataError: The file is missing or its checksum differs (a damaged installation).
    """
    entry = get(spec)
    path = entry.path
    if not path.is_file():
        raise DataError(f"the file of pretrained model {entry.name!r} is missing; reinstall skeletal", path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != entry.sha256:
        raise DataError(
            f"pretrained model {entry.name!r}: file checksum {digest[:16]}... differs from the manifest's "
            f"{entry.sha256[:16]}...; the installation is damaged",
            path,
        )
    return path


__all__ = ["PREFIX", "Pretrained", "default", "get", "is_pretrained", "names", "resolve"]
