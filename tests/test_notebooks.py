"""The tutorial notebooks execute top to bottom (outputs are stripped in git)."""

import json
import os
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_notebooks_are_stripped():
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text())["cells"]
        for c in cells:
            if c["cell_type"] == "code":
                assert not c.get("outputs") and c.get("execution_count") is None, f"{nb.name} has outputs"


def _execute(path: Path, workdir: Path):
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    # no per-cell timeout: a loaded CI machine must not fail a notebook on wall time
    client = nbclient.NotebookClient(nb, timeout=None, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute()
    except Exception as exc:  # reported by the notebook's own test, not by the others
        return nb, exc
    return nb, None


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every notebook executed once, two at a time (each kernel is its own process, so the
    CI machine's two cores run two notebooks side by side)."""
    pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        futures = {p.stem: pool.submit(_execute, p, tmp_path_factory.mktemp(p.stem)) for p in NOTEBOOKS}
        return {k: f.result() for k, f in futures.items()}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, executed):
    nb, exc = executed[path.stem]
    assert exc is None, f"{path.name}: {exc}"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    images = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    assert images >= 1, f"{path.name} renders no figure"
