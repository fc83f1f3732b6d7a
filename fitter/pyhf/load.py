"""pyhf import: any valid pyhf workspace → BinnedModel and Data.

Import (:func:`load_workspace`): any workspace that pyhf's schema accepts, with the standard
modifiers, becomes a :class:`BinnedModel` and :class:`Data` with pyhf's semantics
(default α bounds ±5, measurement-config inits/bounds/fixed/auxdata/sigmas/factors);
parameters are matched to pyhf's by name (:class:`PyhfBridge`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ganom.exceptions import ModelError, ParameterError, WorkspaceError
from ganom.fitter.hf.builder import ModelBuilder
from ganom.fitter.hf.data import Data
from ganom.fitter.hf.model import BinnedModel
from ganom.fitter.hf.modifiers import HistoSys, Lumi, Modifier, NormFactor, NormSys, ShapeFactor, ShapeSys, StatError
from ganom.fitter.hf.parameters import ParameterSet
from ganom.fitter.io import read_json
from ganom.fitter.pyhf.validate import PER_BIN_MODIFIERS, json_path, validate_workspace

__all__ = ["PYHF_ALPHA_BOUNDS", "MEASUREMENT_POI", "load_workspace"]

PYHF_ALPHA_BOUNDS = (-5.0, 5.0)


# ----------------------------------------------------------------------------- import
def _select_measurement(spec: Mapping[str, Any], measurement: str | None, where: str) -> tuple[int, dict[str, Any]]:
    ms = spec["measurements"]
    if measurement is None:
        return 0, ms[0]
    for i, m in enumerate(ms):
        if m["name"] == measurement:
            return i, m
    raise WorkspaceError(f"{where}: measurements: no measurement '{measurement}'; known: "
                         f"{', '.join(m['name'] for m in ms)}")


def _collect(spec: Mapping[str, Any]) -> dict[tuple[str, str], list[tuple[str, str, Any, str]]]:
    """{(type, name): [(sample, channel, data, JSON path), ...]} in document order."""
    out: dict[tuple[str, str], list[tuple[str, str, Any, str]]] = {}
    for ci, ch in enumerate(spec["channels"]):
        for si, s in enumerate(ch["samples"]):
            for mi, m in enumerate(s["modifiers"]):
                out.setdefault((m["type"], m["name"]), []).append(
                    (s["name"], ch["name"], m["data"], json_path("channels", ci, "samples", si, "modifiers", mi)))
    return out


def _typed(mtype: str, name: str, sample: str, channel: str, data: Any, configs: Mapping[str, Mapping[str, Any]],
           path: str, where: str) -> Modifier:
    if mtype == "normfactor":
        return NormFactor(name, sample, channel)
    if mtype == "shapefactor":
        return ShapeFactor(name, sample, channel)
    if mtype == "lumi":
        cfg = configs.get(name, {})
        if "sigmas" not in cfg or "auxdata" not in cfg:
            raise WorkspaceError(f"{where}: {path}: the lumi modifier needs 'sigmas' and 'auxdata' in the "
                                 f"measurement config (parameter '{name}')")
        return Lumi(name, sample, channel, sigma=float(cfg["sigmas"][0]))
    if mtype == "normsys":
        return NormSys(name, sample, channel, lo=float(data["lo"]), hi=float(data["hi"]))
    if mtype == "histosys":
        return HistoSys(name, sample, channel, lo_data=data["lo_data"], hi_data=data["hi_data"])
    if mtype == "staterror":
        return StatError(name, sample, channel, errors=data)
    return ShapeSys(name, sample, channel, errors=data)


def _add_modifiers(b: ModelBuilder, spec: Mapping[str, Any], configs: Mapping[str, Mapping[str, Any]],
                   where: str) -> None:
    """Every modifier of the workspace, in document order, as a typed modifier."""
    for ci, ch in enumerate(spec["channels"]):
        for si, s in enumerate(ch["samples"]):
            for mi, m in enumerate(s["modifiers"]):
                path = json_path("channels", ci, "samples", si, "modifiers", mi)
                try:
                    b.add_modifier(_typed(m["type"], m["name"], s["name"], ch["name"], m["data"], configs, path,
                                          where))
                except (ModelError, ParameterError) as exc:
                    raise WorkspaceError(f"{where}: {path}: {exc}") from None


def _configure(model: BinnedModel, mods: dict[tuple[str, str], list[Any]], configs: Mapping[str, Mapping[str, Any]],
               cpath: Mapping[str, str], where: str) -> ParameterSet:
    """Apply pyhf's defaults and the measurement config to the native parameters."""
    ps = model.parameters
    params = list(ps.params)
    types = {name: t for t, name in mods}
    for name, mtype in types.items():
        if mtype in PER_BIN_MODIFIERS:
            idx = [i for i, p in enumerate(params) if p.name.startswith(f"{name}[")]
        else:
            idx = [ps.index(name)]
        for i in idx:
            p = params[i]
            if mtype in ("normsys", "histosys"):
                params[i] = replace(p, bounds=PYHF_ALPHA_BOUNDS)
        cfg = configs.get(name)
        if cfg is None:
            continue
        path = cpath[name]
        allowed = {"normfactor": {"inits", "bounds", "fixed"}, "shapefactor": {"inits", "bounds", "fixed"},
                   "normsys": {"inits", "bounds", "fixed", "auxdata"}, "histosys": {"inits", "bounds", "fixed", "auxdata"},
                   "lumi": {"inits", "bounds", "fixed", "auxdata", "sigmas"},
                   "staterror": {"inits", "bounds", "fixed", "auxdata", "sigmas"},
                   "shapesys": {"inits", "bounds", "fixed", "auxdata", "factors"}}[mtype]
        for key in cfg:
            if key != "name" and key not in allowed:
                raise WorkspaceError(f"{where}: {path}.{key}: {mtype} '{name}' does not use '{key}' "
                                     f"(allowed: {', '.join(sorted(allowed))})")
            if key not in ("name", "fixed") and len(cfg[key]) != len(idx):
                raise WorkspaceError(f"{where}: {path}.{key}: {len(cfg[key])} values, '{name}' has {len(idx)} parameter(s)")
        for k, i in enumerate(idx):
            kw: dict[str, Any] = {}
            if "bounds" in cfg:
                lo, hi = cfg["bounds"][k]
                kw["bounds"] = (float(lo), float(hi))
            if "inits" in cfg:
                kw["init"] = float(cfg["inits"][k])
            if "fixed" in cfg:
                kw["fixed"] = bool(cfg["fixed"])
            if "auxdata" in cfg:
                kw["aux"] = float(cfg["auxdata"][k])
            if "sigmas" in cfg:
                kw["sigma"] = float(cfg["sigmas"][k])
            if "factors" in cfg:
                kw["sigma"] = float(cfg["factors"][k])
            try:
                params[i] = replace(params[i], **kw)
            except ParameterError as exc:
                raise WorkspaceError(f"{where}: {path}: {exc}") from None
    return ParameterSet(params, ps.poi)


MEASUREMENT_POI = "<measurement>"
"""Default of ``load_workspace(poi=...)``: the measurement's own parameter of interest."""


def load_workspace(source: str | Path | Mapping[str, Any], measurement: str | None = None,
                   poi: str | None = MEASUREMENT_POI, where: str | None = None) -> tuple[BinnedModel, Data]:
    """A pyhf workspace (a file or a dict) as a native model and its observed data.

    The model has pyhf's semantics: the same −ln L as ``pyhf.Workspace(spec).model()``'s
    −logpdf for the same parameter values (matched by name, see
    :class:`~ganom.fitter.pyhf.parity.PyhfBridge`). ``poi`` overrides the measurement's
    parameter of interest (None: no POI, as pyhf's ``poi_name=None``; a background-only
    workspace names a signal strength that only its signal patches add). A measurement with
    an empty POI has none. Unsupported or invalid content raises :class:`WorkspaceError`
    naming the JSON path, prefixed by ``where`` (default: the file name, or "workspace" for a dict).
    """
    if isinstance(source, Mapping):
        spec, where = source, where or "workspace"
    else:
        spec, where = read_json(source, WorkspaceError), where or str(source)
    validate_workspace(spec, where)
    mi, meas = _select_measurement(spec, measurement, where)
    cfg_list = meas["config"]["parameters"]
    configs = {p["name"]: p for p in cfg_list}
    cpath = {p["name"]: json_path("measurements", mi, "config", "parameters", k) for k, p in enumerate(cfg_list)}
    b = ModelBuilder()
    for ch in spec["channels"]:
        b.add_channel(ch["name"], len(ch["samples"][0]["data"]))
    samples: dict[str, dict[str, list[float]]] = {}
    for ch in spec["channels"]:
        for s in ch["samples"]:
            samples.setdefault(s["name"], {})[ch["name"]] = s["data"]
    try:
        for name, counts in samples.items():
            b.add_sample(name, counts)
    except ModelError as exc:
        raise WorkspaceError(f"{where}: channels: {exc}") from None
    mods = _collect(spec)
    _add_modifiers(b, spec, configs, where)
    if poi == MEASUREMENT_POI:
        poi = meas["config"].get("poi") or None
        poi_path = json_path("measurements", mi, "config", "poi")
    else:
        poi_path = "poi"
    known = {name for _, name in mods}
    if poi is not None and poi not in known:
        names = sorted(known)
        shown = ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "")
        raise WorkspaceError(f"{where}: {poi_path}: '{poi}' is not a modifier of the workspace (known: {shown}); "
                             f"a background-only workspace needs poi=None (ganom fit --poi none)")
    try:
        model = b.build(poi=poi, evaluator="flat")
    except (ModelError, ParameterError) as exc:
        raise WorkspaceError(f"{where}: {exc}") from None
    model = model.with_parameters(_configure(model, mods, configs, cpath, where))
    obs = {o["name"]: o["data"] for o in spec["observations"]}
    main = np.concatenate([np.asarray(obs[c], dtype=float) for c in model.channels])
    aux = np.array([p.aux if p.constraint != "free" else p.init for p in model.parameters])
    try:
        return model, model.data(main, aux)
    except ModelError as exc:
        raise WorkspaceError(f"{where}: observations: {exc}") from None
