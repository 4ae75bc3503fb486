"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(block for block in blocks if "skeletal.models.create" in block)
    namespace: dict[str, object] = {}
    exec(compile(example, str(README), "exec"), namespace)  # noqa: S102 - our own documentation
    assert namespace["logits"].shape == (2, 60)
    assert namespace["poses"].shape == (1, 100, 17, 3)
    assert len(namespace["maps"].spatial) > 0
