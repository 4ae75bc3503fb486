"""``benchmarks/official_st_tr.py`` refuses to run without the official ST-TR code, with a message that says why.

The comparison itself needs a local copy of https://github.com/Chiaraplizz/ST-TR, which the repository does not
hold, so only the argument checks are tested here (in a subprocess: the script is never imported by tests).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "official_st_tr.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_missing_official_argument_is_explained() -> None:
    result = run()
    assert result.returncode == 1
    assert "--official is required" in result.stderr
    assert "Chiaraplizz/ST-TR" in result.stderr


def test_path_without_official_code_is_explained(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    result = run("--official", str(tmp_path))
    assert result.returncode == 1
    assert f"{tmp_path} does not hold the official ST-TR code" in result.stderr
    assert "code/st_gcn/net/st_gcn.py" in result.stderr
