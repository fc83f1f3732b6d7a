"""The public API is locked: every public module declares ``__all__``, and the names and
signatures it exports match ``tests/public_api.json``.

A deliberate API change updates the lock file with
``GANOM_UPDATE_API=1 pytest tests/test_public_api.py`` (and a CHANGELOG line).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
from pathlib import Path

import pytest

import ganom
import ganom.fitter
import ganom.models

LOCK = Path(__file__).with_name("public_api.json")


def _modules() -> list[str]:
    names = {"ganom"}
    for pkg in (ganom, ganom.models, ganom.fitter):
        names.add(pkg.__name__)
        names.update(m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."))
    return sorted(n for n in names if not n.rsplit(".", 1)[-1].startswith("_"))


def _describe(obj: object) -> str:
    if inspect.isclass(obj):
        try:
            return "class" + str(inspect.signature(obj))
        except (TypeError, ValueError):
            return "class"
    if callable(obj):
        try:
            return "def" + str(inspect.signature(obj))
        except (TypeError, ValueError):
            return "callable"
    return type(obj).__name__


def _snapshot() -> dict[str, dict[str, str]]:
    out = {}
    for name in _modules():
        mod = importlib.import_module(name)
        exported = getattr(mod, "__all__", None)
        if exported is None:
            continue
        out[name] = {n: _describe(getattr(mod, n)) for n in sorted(exported) if n != "__version__"}
    return out


@pytest.mark.parametrize("name", _modules())
def test_module_declares_all(name: str) -> None:
    mod = importlib.import_module(name)
    if mod.__name__ in ("ganom.models", "ganom.models.catalog"):
        return  # namespace-like packages without code of their own
    exported = getattr(mod, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(mod, n)]
    assert not missing, f"{name}.__all__ names what the module lacks: {missing}"


def test_public_api_is_locked() -> None:
    snap = _snapshot()
    if os.environ.get("GANOM_UPDATE_API"):
        LOCK.write_text(json.dumps(snap, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    locked = json.loads(LOCK.read_text(encoding="utf-8"))
    added = {m: sorted(set(snap.get(m, {})) - set(v)) for m, v in locked.items()}
    removed = {m: sorted(set(v) - set(snap.get(m, {}))) for m, v in locked.items()}
    new_modules = sorted(set(snap) - set(locked))
    changed = {m: [n for n in v if n in snap.get(m, {}) and snap[m][n] != v[n]] for m, v in locked.items()}
    problems = {k: {m: v for m, v in d.items() if v} for k, d in
                (("added", added), ("removed", removed), ("changed signature", changed))}
    problems = {k: v for k, v in problems.items() if v}
    assert not problems and not new_modules, (
        f"public API differs from {LOCK.name}: {problems}; new modules: {new_modules}. "
        "If deliberate: GANOM_UPDATE_API=1 pytest tests/test_public_api.py")


def test_curated_api_is_lazy_and_complete() -> None:
    import subprocess
    import sys

    code = ("import sys, ganom; heavy = [m for m in ('matplotlib', 'iminuit', 'pyhf', 'scipy') if m in sys.modules];"
            "print(heavy); [getattr(ganom, n) for n in ganom.__all__]")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
