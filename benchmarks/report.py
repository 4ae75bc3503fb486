"""Shared by the benchmark scripts: write a results file of markdown lines."""

from __future__ import annotations

from pathlib import Path


def write_lines(path: str | Path, lines: list[str]) -> Path:
    """Write ``lines`` (one per line) to ``path``, creating its folder, and say so."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")
    return out
