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
from typing import TYPE_CHECKING, Any

import numpy as np

from ganom.exceptions import ModelError, ParameterError, WorkspaceError
from ganom.fitter.hf.builder import ModelBuilder
from ganom.fitter.hf.data import Data
from ganom.fitter.hf.model import BinnedModel
from ganom.fitter.hf.parameters import ParameterSet

if TYPE_CHECKING:

    pass
from ganom.fitter.io import read_json
from ganom.fitter.pyhf.validate import PER_BIN_MODIFIERS, json_path, validate_workspace

__all__ = ["PYHF_ALPHA_BOUNDS", "load_workspace"]

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


def _add_modifiers(b: ModelBuilder, mods: dict[tuple[str, str], list[tuple[str, str, Any, str]]],
                   configs: Mapping[str, Mapping[str, Any]], where: str) -> None:
    def guarded(path: str, what: str, call: Any, *args: Any) -> None:
        try:
            call(*args)
        except (ModelError, ParameterError) as exc:
            raise WorkspaceError(f"{where}: {path}: {what}: {exc}") from None

    for (mtype, name), uses in mods.items():
        what = f"{mtype} '{name}'"
        chans = list(dict.fromkeys(c for _, c, _, _ in uses))
        if mtype in PER_BIN_MODIFIERS and len(chans) > 1:
            first_other = next(p for _, c, _, p in uses if c != chans[0])
            raise WorkspaceError(f"{where}: {first_other}: {what} spans channels {', '.join(chans)}; ganom supports "
                                 f"per-bin modifiers within one channel (name them per channel)")
        if mtype == "lumi":
            cfg = configs.get(name, {})
            if "sigmas" not in cfg or "auxdata" not in cfg:
                raise WorkspaceError(f"{where}: {uses[0][3]}: the lumi modifier needs 'sigmas' and 'auxdata' in the "
                                     f"measurement config (parameter 'lumi')")
        if mtype == "shapesys" and len(uses) > 1:
            raise WorkspaceError(f"{where}: {uses[1][3]}: {what} on several samples; ganom supports one sample per "
                                 f"shapesys (pyhf would take τ from the first only)")
        if mtype == "staterror":
            guarded(uses[0][3], what, b.add_staterror, name, chans[0], [s for s, _, _, _ in uses],
                    {s: d for s, _, d, _ in uses})
        elif mtype == "shapefactor":
            guarded(uses[0][3], what, b.add_shapefactor, name, [s for s, _, _, _ in uses], chans[0])
        for s, c, d, path in uses:
            if mtype == "normfactor":
                guarded(path, what, b.add_normfactor, name, [s], [c])
            elif mtype == "lumi":
                guarded(path, what, b.add_lumi, name, [s], float(configs[name]["sigmas"][0]), [c])
            elif mtype == "normsys":
                guarded(path, what, b.add_normsys, name, {(s, c): (d["lo"], d["hi"])})
            elif mtype == "histosys":
                guarded(path, what, b.add_histosys, name, {(s, c): (d["lo_data"], d["hi_data"])})
            elif mtype == "shapesys":
                guarded(path, what, b.add_shapesys, name, s, c, d)


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
            elif mtype == "staterror" and p.constraint == "free":
                params[i] = replace(p, constraint="normal", aux=1.0, sigma=1.0)
            elif mtype == "shapesys" and p.constraint == "free":
                params[i] = replace(p, constraint="poisson", aux=1.0, sigma=1.0)
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


def load_workspace(source: str | Path | Mapping[str, Any], measurement: str | None = None) -> tuple[BinnedModel, Data]:
    """A pyhf workspace (a file or a dict) as a native model and its observed data.

    The model has pyhf's semantics: the same −ln L as ``pyhf.Workspace(spec).model()``'s
    −logpdf for the same parameter values (matched by name, see :class:`PyhfBridge`).
    Unsupported or invalid content raises :class:`WorkspaceError` naming the JSON path.
    """
    if isinstance(source, Mapping):
        spec, where = source, "workspace"
    else:
        spec, where = read_json(source, WorkspaceError), str(source)
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
    _add_modifiers(b, mods, configs, where)
    poi = meas["config"]["poi"]
    known = {name for _, name in mods}
    if poi not in known:
        raise WorkspaceError(f"{where}: {json_path('measurements', mi, 'config', 'poi')}: '{poi}' is not a modifier "
                             f"of the workspace")
    try:
        model = b.build(poi=poi)
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
