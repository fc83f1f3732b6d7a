"""The layer contracts of the package hold (import-linter; contracts in pyproject.toml):
cli on top, the HistFactory core and the physics below, models never imports fitter, no
import cycles inside a room."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from source_tree import link_package  # noqa: E402


def test_layer_contracts(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(link_package(tmp_path)))
    res = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                          "lint_imports_command()"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken" in res.stdout, res.stdout[-2000:]
