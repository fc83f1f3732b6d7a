"""mkdocs hook: mkdocstrings reads ``ganom`` from this checkout, laid out as installed
(tools/source_tree.py)."""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from source_tree import link_package


@event_priority(100)  # before mkdocstrings reads its handler options
def on_config(config: Any) -> Any:
    tmp = Path(tempfile.mkdtemp(prefix="ganom-docs-"))
    atexit.register(shutil.rmtree, tmp, True)
    handler = config["plugins"]["mkdocstrings"].config["handlers"].setdefault("python", {})
    handler["paths"] = [str(link_package(tmp))]
    return config
