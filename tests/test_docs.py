"""The documentation builds (mkdocs --strict, API reference from the docstrings) and every
citation of it in the code points at a section that exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CITE = re.compile(r"docs/(physics|statistics|architecture)\.md(?: §(\d+(?:\.\d+)?))?")


def _sections(page: str) -> set[str]:
    text = (DOCS / f"{page}.md").read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.M))


def _citations() -> list[tuple[str, str, str | None]]:
    out = []
    for folder in ("models", "fitter", "src", "tests", "benchmarks", "notebooks"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".toml", ".ipynb") and "__pycache__" not in path.parts:
                for m in CITE.finditer(path.read_text(encoding="utf-8")):
                    out.append((str(path.relative_to(ROOT)), m.group(1), m.group(2)))
    return out


def test_citations_point_at_sections() -> None:
    cites = _citations()
    assert len(cites) >= 30, "the code cites the docs by section; the scan found too few"
    sections = {p: _sections(p) for p in ("physics", "statistics", "architecture")}
    bad = [c for c in cites if c[2] is not None and c[2] not in sections[c[1]]]
    assert not bad, f"citations of missing sections: {bad}"


def test_mkdocs_builds_strict(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("dsigma_dt", "ModelBuilder", "load_workspace", "Configuration"):
        assert name in api, f"the API reference lacks {name}"
