"""Read the public-workspace corpus of this folder (MANIFEST.json, reference.json): used by
tests/test_pyhf_corpus.py and benchmarks/bench_pyhf.py."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def manifest() -> list[dict[str, Any]]:
    return json.loads((HERE / "MANIFEST.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def reference() -> dict[str, dict[str, Any]]:
    """pyhf's results per workspace name (make_reference.py)."""
    return {e["name"]: e for e in json.loads((HERE / "reference.json").read_text(encoding="utf-8"))["entries"]}


def spec(entry: dict[str, Any]) -> dict[str, Any]:
    raw = (HERE / entry["file"]).read_bytes()
    return json.loads(gzip.decompress(raw) if entry["file"].endswith(".gz") else raw)  # type: ignore[no-any-return]


def poi_override(entry: dict[str, Any]) -> dict[str, Any]:
    """``load_workspace`` keywords that mirror the reference's ``pyhf model(**kwargs)``."""
    kw = entry.get("model_kwargs") or {}
    return {"poi": kw["poi_name"]} if "poi_name" in kw else {}
