"""Test-session ordering: the modules with the longest set-up start first, so that with
``-n auto --dist loadfile`` no worker begins a minute-long module at the end of the run."""

from __future__ import annotations

import pytest

# set-up or run time on an idle 2-core machine (pytest --durations): notebooks ~60 s, the
# README's main job ~30 s, pyhf parity and toy significances ~10-30 s each
_FIRST = ("test_notebooks.py", "test_study.py", "test_pyhf_export.py", "test_pyhf_workspaces.py",
          "test_significance.py", "test_optimize.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(_FIRST)))  # stable: the rest keep their order
