"""The package's layering: each layer imports only what lies below it, and no source file outgrows one reading.

Every module under ``src/skeletal`` is parsed with :mod:`ast`; all its imports count, at module level and inside
functions (the deferred imports that keep start-up fast), absolute and relative. ``from skeletal import X`` counts
as an import of ``skeletal.X`` when ``X`` is a subpackage or module (``__version__`` is no layer).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "skeletal"

LAYERS: dict[str, int] = {
    "errors": 0,
    "skeletons": 1,
    "pretrained": 1,
    "safety": 1,
    "machine": 1,
    "atomic": 1,
    "geometry": 2,
    "nn": 3,
    "metrics": 3,
    "models": 4,
    "data": 4,
    "viz": 5,
    "checkpoint": 5,
    "config": 6,
    "inference": 7,
    "evaluation": 8,
    "tasks": 9,
    "bench": 9,
    "cli": 10,
}
"""Rank of each top-level module or subpackage of ``skeletal``: a module may import its own subpackage and any
subpackage of a lower rank, never one of the same or a higher rank. The package root (``skeletal/__init__.py``,
which loads the subpackages on first use) lies above them all."""

LOWER = ("data", "evaluation", "metrics", "models", "nn", "geometry", "skeletons")
"""The layers that must never reach up into training (``tasks``) or the command line (``cli``)."""

MAX_LINES = 420
"""Longest source file (lines): a module is split along its seams before it grows past what one reading holds."""


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> tuple[str, bool]:
    """``skeletal.a.b`` of a source file and whether it is a package ``__init__``."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if package else parts), package


def _is_module(dotted: str) -> bool:
    path = SRC.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every ``skeletal...`` module that ``path`` (or ``source`` as if it were that file) imports, anywhere in the
    file, relative imports resolved."""
    name, package = _module_name(path)
    here = name.split(".") if package else name.split(".")[:-1]
    found: set[str] = set()
    text = path.read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names if _is_module(f"{module}.{a.name}"))
    return {m for m in found if m == "skeletal" or m.startswith("skeletal.")}


def _layer(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_layer_has_a_rank() -> None:
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or p.is_dir()}
    tops -= {"__init__", "__pycache__", "resources"}
    tops = {t for t in tops if _is_module(f"skeletal.{t}")}
    assert tops == set(LAYERS), f"give every module of skeletal/ a rank in LAYERS: {sorted(tops ^ set(LAYERS))}"


def test_the_parser_sees_relative_and_deferred_imports() -> None:
    source = "from ..data import datasets\nfrom . import base\n\ndef f():\n    import skeletal.cli\n"
    source += "    from skeletal import __version__, models\n"
    found = imported_modules(PACKAGE / "tasks" / "engine.py", source)
    expected = {"skeletal.data", "skeletal.data.datasets", "skeletal.tasks", "skeletal.tasks.base", "skeletal.cli"}
    assert found == expected | {"skeletal", "skeletal.models"}
    assert imported_modules(PACKAGE / "data" / "__init__.py", "from .module import SkeletonDataModule\n") == {
        "skeletal.data.module"
    }


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_down_the_layers(path: Path) -> None:
    name, _ = _module_name(path)
    own = _layer(name)
    if own is None:  # the package root loads any subpackage on first use
        return
    upward = []
    for target in sorted(imported_modules(path)):
        layer = _layer(target)
        if layer is None or layer == own:
            continue
        if layer not in LAYERS or LAYERS[layer] >= LAYERS[own]:
            upward.append(f"{target} (rank {LAYERS.get(layer)})")
    assert not upward, f"{name} (layer {own}, rank {LAYERS[own]}) imports upwards or sideways: {', '.join(upward)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_lower_layers_never_import_tasks_or_cli(path: Path) -> None:
    name, _ = _module_name(path)
    if _layer(name) not in LOWER:
        return
    reached = sorted(m for m in imported_modules(path) if _layer(m) in ("tasks", "cli"))
    assert not reached, f"{name} imports {reached}; move what it needs below skeletal.tasks and skeletal.cli"


def test_no_source_file_exceeds_the_line_limit() -> None:
    long = {str(p.relative_to(SRC)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these along their seams (at most {MAX_LINES} lines): {long}"


def _readme_map() -> set[str]:
    """Paths (``skeletal/data/h36m/``, ``skeletal/data/h36m/cameras.py``) of the README's module map."""
    text = (SRC.parent / "README.md").read_text(encoding="utf-8")
    block = text.split("## Module map", 1)[1].split("```", 2)[1]
    paths, stack = set(), []
    for line in block.splitlines()[2:]:  # after the language tag and the `src/skeletal/` line
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip())) // 2 - 1
        name = line.split()[0]
        stack[depth:] = [name]
        paths.add("skeletal/" + "".join(stack))
    return paths


def test_readme_module_map_matches_the_tree() -> None:
    tree = set()
    for path in _modules():
        relative = path.relative_to(SRC)
        subpackage = path.name == "__init__.py" and path.parent != PACKAGE
        tree.add(relative.parent.as_posix() + "/" if subpackage else relative.as_posix())
    listed = _readme_map()
    assert listed == tree, f"README module map: add {sorted(tree - listed)}, remove {sorted(listed - tree)}"
