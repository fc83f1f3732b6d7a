"""The docstring examples of every installed ganom module run and pass (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ganom
import ganom.fitter
import ganom.models


def _modules() -> list[str]:
    """Every module of the installed package (ganom.models and ganom.fitter live in folders of
    their own, so each is walked from its own path)."""
    names = {"ganom"}
    for pkg in (ganom, ganom.models, ganom.fitter):
        names.add(pkg.__name__)
        names.update(m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."))
    return sorted(n for n in names if ".cli" not in n)


@pytest.mark.parametrize("name", _modules())
def test_module_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} doctest examples failed"


def test_doctests_exist() -> None:
    """The examples that cite the literature are found (a walk that finds nothing fails)."""
    finder = doctest.DocTestFinder()
    n = sum(len(t.examples) for name in _modules() for t in finder.find(importlib.import_module(name)))
    assert n >= 15
