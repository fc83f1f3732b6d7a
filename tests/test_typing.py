"""mypy --strict holds on the HistFactory core (ganom.fitter.hf), the I/O module and the
exceptions (settings in pyproject.toml); the package is read as installed (tools/source_tree.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from source_tree import link_package  # noqa: E402

STRICT = ("ganom.fitter.hf", "ganom.fitter.io", "ganom.exceptions")


def test_mypy_strict_core(tmp_path: Path) -> None:
    tree = link_package(tmp_path / "tree")
    env = dict(os.environ, MYPYPATH=str(tree))
    args = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
            "--cache-dir", str(tmp_path / "cache")]
    for p in STRICT:
        args += ["-p", p]
    res = subprocess.run(args, cwd=tree, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
