"""Validation of pyhf workspaces: pyhf's JSON schema (version 1.0.0), the modifier types ganom
supports, and the consistency pyhf checks when it builds a model (bin counts, unique names);
errors name the JSON path.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

if TYPE_CHECKING:

    pass
from ganom.exceptions import WorkspaceError

__all__ = [
    "SCHEMA_VERSION",
    "SUPPORTED_MODIFIERS",
    "PER_BIN_MODIFIERS",
    "json_path",
    "workspace_digest",
    "validate_workspace",
]

SCHEMA_VERSION = "1.0.0"


SUPPORTED_MODIFIERS = ("normfactor", "lumi", "normsys", "histosys", "staterror", "shapesys", "shapefactor")


PER_BIN_MODIFIERS = ("staterror", "shapesys", "shapefactor")


# ----------------------------------------------------------------------------- JSON I/O
def json_path(*parts: str | int) -> str:
    """``("channels", 0, "samples", 2)`` → ``"channels[0].samples[2]"`` (pyhf's notation)."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<root>"


def workspace_digest(spec: Mapping[str, Any]) -> str:
    """The sha256 digest pyhf uses to tie a patchset to its background-only workspace."""
    import pyhf

    return pyhf.utils.digest(dict(spec), algorithm="sha256")


# ----------------------------------------------------------------------------- validation
def _schema_error(exc: Any) -> tuple[str, str]:
    """(JSON path, message) of the most specific reason behind a jsonschema error.

    For a failed ``anyOf`` (the modifier alternatives) the reason is taken from the
    alternative whose ``type`` matches the instance's, not the generic summary.
    """
    err = exc
    while err.context:
        groups: dict[Any, list[Any]] = {}
        for sub in err.context:
            groups.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
        matching = [g for g in groups.values() if not any(list(s.relative_path) == ["type"] for s in g)]
        if len(matching) != 1:
            break
        err = min(matching[0], key=lambda s: len(s.relative_path))
    return json_path(*err.absolute_path), err.message


def _schema_folder() -> Path:
    """pyhf's schema files of :data:`SCHEMA_VERSION`, found without importing pyhf (its import
    brings scipy.stats and its tensor backends: ~0.6 s in a fresh process)."""
    import importlib.util

    spec = importlib.util.find_spec("pyhf")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("pyhf is not installed")
    return Path(spec.origin).parent / "schemas" / SCHEMA_VERSION


@functools.cache
def _validator(schema: str) -> Any:
    """A Draft-6 validator of one of pyhf's schema files, built once: the schemas and their
    ``$ref`` targets come from pyhf's package data through a ``referencing`` registry (pyhf's
    own ``validate`` rebuilds its resolver at every call, which costs more than a whole fit of a
    small workspace)."""
    import jsonschema
    from referencing import Registry, Resource

    folder = _schema_folder()
    resources = []
    for f in sorted(folder.glob("*.json")):
        contents = json.loads(f.read_text(encoding="utf-8"))
        resources.append((contents.get("$id", f.as_uri()), Resource.from_contents(contents)))
    registry: Registry = Registry().with_resources(resources)  # type: ignore[type-arg]
    root = json.loads((folder / schema).read_text(encoding="utf-8"))
    # draft 6 ignores "$id" next to "$ref": resolve the file's reference against its id
    root = {"$schema": root["$schema"], "$ref": urljoin(root["$id"], root["$ref"])}
    return jsonschema.Draft6Validator(root, registry=registry)


@functools.cache
def _fast_validator(schema: str) -> Any:
    """The same schema compiled to Python by fastjsonschema, its ``defs.json`` references
    inlined: ~30× faster than jsonschema on a workspace of 1500 modifiers. It only says yes or
    no quickly; the message of a refusal comes from :func:`_validator`. None where the schema
    refers to files other than defs.json."""
    import fastjsonschema

    folder = _schema_folder()
    root = json.loads((folder / schema).read_text(encoding="utf-8"))
    defs = json.loads((folder / "defs.json").read_text(encoding="utf-8"))
    if not str(root.get("$ref", "")).startswith("defs.json#"):
        return None

    def local(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "$ref":
                    if not str(v).startswith(("defs.json#", "#")):
                        raise LookupError(v)
                    v = "#" + str(v).split("#", 1)[1]
                out[k] = local(v)
            return out
        return [local(x) for x in node] if isinstance(node, list) else node

    try:
        inlined = {"$schema": defs["$schema"], "definitions": local(defs["definitions"]),
                   "$ref": "#" + root["$ref"].split("#", 1)[1]}
    except LookupError:
        return None
    return fastjsonschema.compile(inlined)


def _check_schema(spec: Any, schema: str, where: str) -> None:
    import fastjsonschema
    import jsonschema

    fast = _fast_validator(schema)
    if fast is not None:
        try:
            fast(spec)
            return
        except fastjsonschema.JsonSchemaException:
            pass  # the detailed message below
    try:
        _validator(schema).validate(spec)
    except jsonschema.ValidationError as exc:
        path, msg = _schema_error(exc)
        raise WorkspaceError(f"{where}: {path}: {msg} (pyhf schema {SCHEMA_VERSION}/{schema})") from None
    if fast is not None:
        raise WorkspaceError(f"{where}: the workspace does not satisfy pyhf schema {SCHEMA_VERSION}/{schema}")


def _check_modifier_types(spec: Any, where: str) -> None:
    channels = spec.get("channels") if isinstance(spec, Mapping) else None
    for ci, ch in enumerate(channels if isinstance(channels, list) else []):
        samples = ch.get("samples") if isinstance(ch, Mapping) else None
        for si, s in enumerate(samples if isinstance(samples, list) else []):
            mods = s.get("modifiers") if isinstance(s, Mapping) else None
            for mi, m in enumerate(mods if isinstance(mods, list) else []):
                t = m.get("type") if isinstance(m, Mapping) else None
                if isinstance(t, str) and t not in SUPPORTED_MODIFIERS:
                    raise WorkspaceError(
                        f"{where}: {json_path('channels', ci, 'samples', si, 'modifiers', mi)}: modifier "
                        f"'{m.get('name')}' has unknown type '{t}'; supported: {', '.join(SUPPORTED_MODIFIERS)}")


def _check_structure(spec: Mapping[str, Any], where: str) -> dict[str, int]:
    """Consistency that the schema cannot express; returns {channel: number of bins}."""
    nbins: dict[str, int] = {}
    for ci, ch in enumerate(spec["channels"]):
        if ch["name"] in nbins:
            raise WorkspaceError(f"{where}: {json_path('channels', ci, 'name')}: channel '{ch['name']}' defined twice")
        n = len(ch["samples"][0]["data"])
        seen: set[str] = set()
        for si, s in enumerate(ch["samples"]):
            sp = ("channels", ci, "samples", si)
            if s["name"] in seen:
                raise WorkspaceError(f"{where}: {json_path(*sp, 'name')}: sample '{s['name']}' appears twice in "
                                     f"channel '{ch['name']}'")
            seen.add(s["name"])
            if len(s["data"]) != n:
                raise WorkspaceError(f"{where}: {json_path(*sp, 'data')}: {len(s['data'])} bins, channel "
                                     f"'{ch['name']}' has {n} (from its first sample)")
            mods: set[tuple[str, str]] = set()
            for mi, m in enumerate(s["modifiers"]):
                mp = json_path(*sp, "modifiers", mi)
                if (m["type"], m["name"]) in mods:
                    raise WorkspaceError(f"{where}: {mp}: {m['type']} '{m['name']}' listed twice on sample '{s['name']}'")
                mods.add((m["type"], m["name"]))
                arrays = ({"lo_data": m["data"]["lo_data"], "hi_data": m["data"]["hi_data"]} if m["type"] == "histosys"
                          else {"": m["data"]} if m["type"] in ("staterror", "shapesys") else {})
                for key, arr in arrays.items():
                    if len(arr) != n:
                        raise WorkspaceError(f"{where}: {mp}.data{'.' + key if key else ''}: {len(arr)} values, "
                                             f"channel '{ch['name']}' has {n} bins")
        nbins[ch["name"]] = n
    seen_obs: set[str] = set()
    for oi, ob in enumerate(spec["observations"]):
        if ob["name"] not in nbins:
            continue
        if ob["name"] in seen_obs:
            raise WorkspaceError(f"{where}: {json_path('observations', oi, 'name')}: two observations for channel '{ob['name']}'")
        seen_obs.add(ob["name"])
        if len(ob["data"]) != nbins[ob["name"]]:
            raise WorkspaceError(f"{where}: {json_path('observations', oi, 'data')}: {len(ob['data'])} bins, channel "
                                 f"'{ob['name']}' has {nbins[ob['name']]}")
    missing = [c for c in nbins if c not in seen_obs]
    if missing:
        raise WorkspaceError(f"{where}: observations: no observed data for channel(s) {', '.join(missing)}")
    return nbins


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


def validate_workspace(spec: Any, where: str = "workspace") -> None:
    """Check a workspace against pyhf's schema and for consistency; errors name the JSON path."""
    if not isinstance(spec, Mapping):
        raise WorkspaceError(f"{where}: a pyhf workspace is a JSON object (channels, measurements, observations, "
                             f"version); got a JSON {_json_kind(spec)}")
    _check_modifier_types(spec, where)
    _check_schema(spec, "workspace.json", where)
    _check_structure(spec, where)
