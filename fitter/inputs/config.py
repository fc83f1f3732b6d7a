"""Analysis configuration files (TOML, YAML or JSON): read, validate against the shipped,
versioned JSON schema (``schemas/analysis-1.0.json``), and fill in the defaults.

Errors name the file, the key path (``channels[0].samples[2].histogram``), the value and
what is allowed.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ganom.exceptions import ConfigError

__all__ = ["SCHEMA_VERSION", "schema", "read_config", "validate_config", "COLUMN_DEFAULTS"]

SCHEMA_VERSION = "1.0"
COLUMN_DEFAULTS = {"enu": "enu_mev", "l_true": "l_true_m", "energy": "e_reco_mev", "baseline": "l_reco_m",
                   "cos": "cos_reco", "time": "t_days", "weight": "weight"}
"""Event-table column names used unless a sample's ``columns`` maps them otherwise."""


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON schema of this version of the configuration."""
    path = Path(__file__).with_name("schemas") / f"analysis-{SCHEMA_VERSION}.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def read_config(path: str | Path) -> dict[str, Any]:
    """Parse and validate a configuration file (.toml, .yaml/.yml or .json)."""
    from ganom.models._toml import read_text, read_toml

    p = Path(path)
    if p.suffix == ".toml":
        return validate_config(read_toml(p), str(p))
    if p.suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(str(p), "<file>", f"unknown type '{p.suffix}'; allowed: .toml, .yaml, .yml, .json")
    text = read_text(p)
    try:
        if p.suffix == ".json":
            spec = json.loads(text)
        else:
            import yaml

            spec = yaml.safe_load(text)
    except Exception as exc:
        raise ConfigError(str(p), "<syntax>", f"malformed {p.suffix[1:].upper()}: {exc}") from None
    return validate_config(spec, str(p))


def validate_config(spec: Any, where: str = "configuration") -> dict[str, Any]:
    """The validated configuration with defaults filled in (a copy)."""
    import jsonschema

    from ganom.fitter.pyhf.validate import _schema_error

    if isinstance(spec, Mapping) and "version" in spec and spec["version"] != SCHEMA_VERSION:
        raise ConfigError(where, "version", f"{spec['version']!r} is not supported; this ganom reads version "
                                            f"{SCHEMA_VERSION!r}")
    validator = jsonschema.Draft7Validator(schema())
    errors = sorted(validator.iter_errors(spec), key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        path, msg = _schema_error(errors[0])
        raise ConfigError(where, path, _explain(msg))
    out = copy.deepcopy(dict(spec))
    out.setdefault("poi", "R")
    out.setdefault("mc_statistics_constraint", "poisson")
    out.setdefault("systematics", [])
    osc = out.setdefault("oscillation", {})
    osc.setdefault("true_baseline_bins", 200)
    for ch in out["channels"]:
        for s in ch["samples"]:
            s.setdefault("mc_statistics", True)
            if "events" in s:
                s["events"].setdefault("outside", "error")
                s["events"]["columns"] = {**COLUMN_DEFAULTS, **s["events"].get("columns", {})}
        if "data" in ch and "events" in ch["data"]:
            ev = ch["data"]["events"]
            ev.setdefault("outside", "error")
            ev["columns"] = {**COLUMN_DEFAULTS, **ev.get("columns", {})}
    return out


def _explain(msg: str) -> str:
    if "Additional properties are not allowed" in msg:
        return msg.replace("Additional properties are not allowed", "unknown key(s)") + " (see the schema, docs/inputs.md)"
    return msg
