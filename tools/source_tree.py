"""Lay out the ``ganom`` package from the source tree as symbolic links.

Installed, ``ganom.models`` and ``ganom.fitter`` come from the repository folders ``models/``
and ``fitter/`` (setuptools package-dir). Tools that read packages from the file system (the
API reference's static analysis, the import-layer contracts) need the installed layout: this
builds it in a folder of links, so they read the files of this checkout.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def link_package(dest: Path) -> Path:
    """Create ``dest/ganom`` (links to src/ganom's files, models/ and fitter/); return ``dest``."""
    pkg = Path(dest) / "ganom"
    pkg.mkdir(parents=True)
    for item in (ROOT / "src" / "ganom").iterdir():
        if item.name != "__pycache__":
            (pkg / item.name).symlink_to(item)
    (pkg / "models").symlink_to(ROOT / "models")
    (pkg / "fitter").symlink_to(ROOT / "fitter")
    return Path(dest)
