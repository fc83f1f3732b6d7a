"""pyhf interchange: BinnedModel ⇄ pyhf workspace (schema 1.0.0), oscillation patchsets, parity.

Export layout (:func:`export_workspace`)
---------------------------------------
* One pyhf channel per native channel, in the native order. ``source_on`` holds the
  E_reco × L_reco × t analysis bins flattened in C order: flat bin
  ``k = (i_E · n_L + i_L) · n_t + i_t`` (time fastest, energy slowest), exactly as
  :func:`fitter.analysis.unflatten` reshapes them. ``source_off`` (with a source-off exposure)
  holds E × L with one time bin. The edges of each exported file are listed in
  ``workspaces/INDEX.md`` and in the patchset metadata (``binning``).
* One sample per native sample: ``signal_ground`` / ``signal_excited`` (the ⁵¹Cr lines that
  feed the ⁵¹V ground state and the 320 keV level) and one per background.
* Modifiers carry the native parameter names: ``R`` normfactor (the POI), ``activity``,
  ``fiducial`` and ``bkg_*`` normsys (or ``bkg_*`` normfactor when free), ``escale`` histosys.
  ``br_gamma`` is one normsys with a different (lo, hi) on each branch sample: the native
  model splits the signal by nuclear branch, so this reproduces the line-share change of a
  shifted γ branch exactly, and no histosys is needed.
* Measurement config: POI ``R`` and, for every parameter, explicit ``inits`` and ``bounds``
  (the native α range is ±30, pyhf's default ±5), ``fixed`` when held, ``auxdata`` where the
  auxiliary datum differs from the nominal one, ``sigmas`` for lumi and staterror. Constraint
  widths follow pyhf's conventions: a normsys α is N(0, 1) and the ±1σ effect is in (lo, hi).
* Observations: the data given, by default the Asimov data at the inits (R = 1, nominal).

Interpolation: :mod:`fitter.model` uses pyhf's codes (normsys code 4, histosys code 4p), so
native and pyhf likelihoods are the same function; the tests show −ln L agreeing to 1e-9.

Patchsets (:func:`export_patchset`): one patch per (Δm², sin²2θ) grid point, labels
``["dm2", "sin2_2theta"]``; each patch replaces the ``data`` of every signal sample in
``source_on`` and the ``hi_data``/``lo_data`` of its ``escale`` histosys by the oscillated
templates (a JSON-patch ``test`` on the sample name guards each replacement). The base
workspace is the no-oscillation model; its sha256 digest is in the metadata.

Import (:func:`load_workspace`): any workspace that pyhf's schema accepts, with the standard
modifiers, becomes a :class:`BinnedModel` and :class:`Data` with pyhf's semantics
(default α bounds ±5, measurement-config inits/bounds/fixed/auxdata/sigmas/factors);
parameters are matched to pyhf's by name (:class:`PyhfBridge`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from models.errors import GanomError

from .model import BinnedModel, Data, ModelBuilder, ModelError
from .parameters import ParameterError, ParameterSet

if TYPE_CHECKING:
    from models.templates import Templates

    from .oscillation import OscillationGrid, OscillationModel

SCHEMA_VERSION = "1.0.0"
SUPPORTED_MODIFIERS = ("normfactor", "lumi", "normsys", "histosys", "staterror", "shapesys", "shapefactor")
PER_BIN_MODIFIERS = ("staterror", "shapesys", "shapefactor")
PYHF_ALPHA_BOUNDS = (-5.0, 5.0)
PATCH_LABELS = ["dm2", "sin2_2theta"]
NO_HEPDATA_RECORD = "ins0000000"
"""Placeholder for the ``references.hepdata`` field that the pyhf 1.0.0 patchset schema
requires: these projections have no HEPData record (said in each patchset's description)."""


class WorkspaceError(GanomError):
    """An invalid pyhf workspace or patchset; the message names the JSON path."""


class ExportError(GanomError):
    """A native model that a pyhf workspace cannot express (the message says why)."""


# ----------------------------------------------------------------------------- JSON I/O
def json_path(*parts: str | int) -> str:
    """``("channels", 0, "samples", 2)`` → ``"channels[0].samples[2]"`` (pyhf's notation)."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<root>"


def rounded(values: ArrayLike, digits: int | None) -> list[float]:
    """Values as a list of Python floats, rounded to ``digits`` significant digits (None: exact)."""
    flat = np.asarray(values, dtype=float).ravel().tolist()
    if digits is None:
        return flat
    return [float(f"{v:.{digits}g}") for v in flat]


_NUMBER_ARRAY = re.compile(r"\[\s*((?:-?[0-9][0-9.eE+-]*,\s*)*-?[0-9][0-9.eE+-]*)\s*\]")


def dumps(obj: Any) -> str:
    """Indented JSON with every array of numbers on one line (small files, readable diffs)."""
    text = json.dumps(obj, indent=1, allow_nan=False)
    return _NUMBER_ARRAY.sub(lambda m: "[" + re.sub(r",\s+", ",", m.group(1)) + "]", text) + "\n"


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` through a temporary file and :func:`os.replace`."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p


def write_json(obj: Any, path: str | Path) -> Path:
    """Serialise ``obj`` (:func:`dumps`) and write it atomically."""
    return write_text_atomic(dumps(obj), path)


def read_json(path: str | Path) -> Any:
    """Parse a JSON file; unreadable or malformed files raise :class:`WorkspaceError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkspaceError(f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


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


def _check_schema(spec: Any, schema: str, where: str) -> None:
    import pyhf

    try:
        pyhf.schema.validate(spec, schema, version=SCHEMA_VERSION)
    except pyhf.exceptions.InvalidSpecification as exc:
        path, msg = _schema_error(exc.parent)
        raise WorkspaceError(f"{where}: {path}: {msg} (pyhf schema {SCHEMA_VERSION}/{schema})") from None


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


def validate_workspace(spec: Any, where: str = "workspace") -> None:
    """Check a workspace against pyhf's schema and for consistency; errors name the JSON path."""
    _check_modifier_types(spec, where)
    _check_schema(spec, "workspace.json", where)
    _check_structure(spec, where)


# ----------------------------------------------------------------------------- export
def _modifier_data(model: BinnedModel, mod: Mapping[str, Any], s: int, sl: slice, digits: int | None) -> Any:
    """The pyhf ``data`` of a native modifier on sample ``s`` in the channel at ``sl``.

    Histosys templates come from the model's current shifts (so that a model with replaced
    templates, e.g. :meth:`OscillationModel.at`, exports what it evaluates).
    """
    t = mod["type"]
    if t == "normsys":
        return {"hi": rounded(mod["hi"], digits)[0], "lo": rounded(mod["lo"], digits)[0]}
    if t == "histosys":
        h = int(np.nonzero(model._histo_params == model.parameters.index(mod["name"]))[0][0])
        nom = model.nominal[s, sl]
        return {"hi_data": rounded(nom + model._histo_dhi[h, s, sl], digits),
                "lo_data": rounded(nom - model._histo_dlo[h, s, sl], digits)}
    if t == "staterror":
        err = mod["errors"].get(model.samples[s])
        return rounded(np.zeros(sl.stop - sl.start) if err is None else err, digits)
    if t == "shapesys":
        return rounded(mod["errors"], digits)
    return None


def _modifier_sets(model: BinnedModel) -> list[tuple[str, str, list[int]]]:
    """(type, name, parameter indices) of every modifier, in order of first use."""
    out: dict[str, tuple[str, str, list[int]]] = {}
    names = model.parameters.names
    for mod in model.spec:
        if mod["name"] in out:
            continue
        if mod["type"] in PER_BIN_MODIFIERS:
            pref = f"{mod['name']}["
            idx = [i for i, n in enumerate(names) if n.startswith(pref)]
        else:
            idx = [model.parameters.index(mod["name"])]
        out[mod["name"]] = (mod["type"], mod["name"], idx)
    return list(out.values())


def _auto_fixed(model: BinnedModel, mtype: str, name: str, n: int) -> NDArray[np.bool_]:
    """The parameters of a set that pyhf fixes by itself: γ's of bins without uncertainty."""
    if mtype not in ("staterror", "shapesys"):
        return np.zeros(n, dtype=bool)
    mod = next(m for m in model.spec if m["name"] == name)
    sl = model.channel_slices[mod["channels"][0]]
    if mtype == "shapesys":
        nom = model.nominal[model.sample_index(mod["samples"][0]), sl]
        return ~((nom > 0) & (np.asarray(mod["errors"]) > 0))
    rows = [model.sample_index(s) for s in mod["samples"]]
    tot = model.nominal[rows, sl].sum(axis=0)
    err2 = sum((np.asarray(e, dtype=float) ** 2 for e in mod["errors"].values()), np.zeros(n))
    return ~((tot > 0) & (err2 > 0))


def measurement_config(model: BinnedModel, aux: ArrayLike | None = None, name: str = "ganom") -> dict[str, Any]:
    """The pyhf measurement (POI, inits, bounds, fixed, auxdata, sigmas) of a native model.

    ``aux`` (per native parameter) overrides the nominal auxiliary data, e.g. for a toy.
    Raises :class:`ExportError` for settings pyhf cannot express (a normsys without its
    N(0, 1) constraint, a constrained normfactor, a mixed fixed/free γ set, ...).
    """
    ps = model.parameters
    if ps.poi is None:
        raise ExportError("pyhf needs a parameter of interest: the model has none (build it with poi=...)")
    aux_v = np.array([p.aux for p in ps]) if aux is None else np.asarray(aux, dtype=float)
    params = []
    for mtype, mname, idx in _modifier_sets(model):
        sel = [ps.params[i] for i in idx]
        entry: dict[str, Any] = {"name": mname, "inits": [p.init for p in sel], "bounds": [list(p.bounds) for p in sel]}
        kinds = {p.constraint for p in sel}
        if mtype in ("normfactor", "shapefactor") and kinds != {"free"}:
            raise ExportError(f"parameter '{mname}' ({mtype}) has a {kinds.pop()} constraint; pyhf's {mtype} is free")
        if mtype in ("normsys", "histosys", "lumi"):
            p = sel[0]
            if p.constraint != "normal":
                raise ExportError(f"parameter '{mname}' ({mtype}) is {p.constraint}; pyhf constrains every {mtype} "
                                  f"parameter with a normal")
            if mtype != "lumi" and p.sigma != 1.0:
                raise ExportError(f"parameter '{mname}' ({mtype}) has constraint width {p.sigma}; pyhf's is 1 "
                                  f"(put the ±1σ effect into the modifier's data instead)")
            if mtype == "lumi":
                entry["sigmas"] = [p.sigma]
                entry["auxdata"] = [float(aux_v[idx[0]])]
            elif aux_v[idx[0]] != 0.0:
                entry["auxdata"] = [float(aux_v[idx[0]])]
        if mtype == "staterror":
            entry["sigmas"] = [p.sigma if p.constraint == "normal" else 1.0 for p in sel]
        if mtype == "shapesys":
            entry["factors"] = [p.sigma if p.constraint == "poisson" else 1.0 for p in sel]
        if mtype in ("staterror", "shapesys"):
            nominal = [p.aux if p.constraint != "free" else 1.0 for p in sel]
            data_aux = [float(aux_v[i]) if p.constraint != "free" else 1.0 for i, p in zip(idx, sel)]
            if data_aux != nominal or mtype == "shapesys":
                entry["auxdata"] = data_aux
        fixed = np.array([p.fixed for p in sel])
        auto = _auto_fixed(model, mtype, mname, len(sel))
        if np.array_equal(fixed, auto):
            pass
        elif fixed.all() or not fixed.any():
            entry["fixed"] = bool(fixed[0])
        else:
            raise ExportError(f"parameter set '{mname}' ({mtype}) has some bins fixed and others free: pyhf can only "
                              f"fix all of them or those without uncertainty")
        params.append(entry)
    return {"name": name, "config": {"poi": ps.poi, "parameters": params}}


def export_workspace(model: BinnedModel, data: Data | None = None, *, measurement: str = "ganom",
                     digits: int | None = 7) -> dict[str, Any]:
    """The pyhf workspace (schema 1.0.0) of ``model`` with ``data`` as observations.

    Parameters
    ----------
    data : observed counts and auxiliary data (default: the Asimov data at the inits); an
        auxiliary datum that differs from the nominal one is written as ``auxdata``.
    digits : significant digits of every yield (None: exact floats).
    """
    data = model.asimov() if data is None else data
    spec_mods = model.spec
    channels = []
    for c, chan in enumerate(model.channels):
        sl = model.channel_slices[chan]
        samples = []
        for s, sname in enumerate(model.samples):
            if not model.sample_channels[s, c]:
                continue
            mods: dict[tuple[str, str], dict[str, Any]] = {}
            for mod in spec_mods:
                if sname not in mod["samples"] or (mod["channels"] is not None and chan not in mod["channels"]):
                    continue
                key = (mod["type"], mod["name"])
                if key in mods and mod["type"] in ("normfactor", "lumi", "shapefactor"):
                    raise ExportError(f"{mod['type']} '{mod['name']}' is applied twice to sample '{sname}' in channel "
                                      f"'{chan}'; a pyhf modifier acts once")
                if mod["type"] == "lumi" and mod["name"] != "lumi":
                    raise ExportError(f"lumi parameter '{mod['name']}': pyhf requires the lumi modifier to be named 'lumi'")
                mods[key] = {"name": mod["name"], "type": mod["type"], "data": _modifier_data(model, mod, s, sl, digits)}
            samples.append({"name": sname, "data": rounded(model.nominal[s, sl], digits), "modifiers": list(mods.values())})
        channels.append({"name": chan, "samples": samples})
    observations = [{"name": chan, "data": rounded(data.main[model.channel_slices[chan]], digits)}
                    for chan in model.channels]
    ws = {"channels": channels, "measurements": [measurement_config(model, data.aux, measurement)],
          "observations": observations, "version": SCHEMA_VERSION}
    validate_workspace(ws, "exported workspace")
    return ws


# ----------------------------------------------------------------------------- patchsets
def _tag(value: float) -> str:
    return f"{value:.4g}".replace(".", "p").replace("-", "m").replace("+", "")


def _signal_pointers(osc: OscillationModel, workspace: Mapping[str, Any]) -> list[tuple[int, str, str, str | None]]:
    """(model row, sample name, JSON pointer of the sample, pointer of its escale data) per signal."""
    chans = [c["name"] for c in workspace["channels"]]
    if "source_on" not in chans:
        raise ExportError("the workspace has no 'source_on' channel to patch")
    ci = chans.index("source_on")
    names = [s["name"] for s in workspace["channels"][ci]["samples"]]
    out = []
    for row, sname in zip(osc._rows, osc.signal):
        if sname not in names:
            raise ExportError(f"signal sample '{sname}' is not in channel 'source_on' of the workspace")
        si = names.index(sname)
        base = f"/channels/{ci}/samples/{si}"
        mods = workspace["channels"][ci]["samples"][si]["modifiers"]
        esc = [mi for mi, m in enumerate(mods) if m["type"] == "histosys" and m["name"] == "escale"]
        out.append((int(row), sname, base, f"{base}/modifiers/{esc[0]}/data" if esc else None))
    return out


def export_patchset(osc: OscillationModel, workspace: Mapping[str, Any], grid: OscillationGrid, *, digits: int | None = 7,
                    chunk: int = 64, description: str = "", metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pyhf PatchSet with one patch per point of ``grid`` (an :class:`OscillationGrid`).

    ``osc`` is the :class:`~fitter.oscillation.OscillationModel` of the model that
    ``workspace`` was exported from; the patches replace its signal templates (and their
    ``escale`` variations) in ``source_on`` by the oscillated ones.
    """
    model = osc.model
    sl = model.channel_slices["source_on"]
    ptrs = _signal_pointers(osc, workspace)
    dm2, s22t = grid.points()
    tags = [f"dm2_{_tag(d)}_s22t_{_tag(s)}" for d, s in zip(dm2, s22t)]
    if len(set(tags)) != len(tags):
        tags = [f"dm2_{i}_s22t_{j}" for i in range(grid.shape[0]) for j in range(grid.shape[1])]
    esc_h = osc._escale_h
    patches = []
    for start in range(0, dm2.size, chunk):
        stop = min(start + chunk, dm2.size)
        nom, (dlo, dhi) = osc.nominal(dm2[start:stop], s22t[start:stop])
        for k in range(stop - start):
            ops: list[dict[str, Any]] = []
            for row, sname, base, esc_ptr in ptrs:
                n = nom[k, row, sl]
                ops.append({"op": "test", "path": f"{base}/name", "value": sname})
                ops.append({"op": "replace", "path": f"{base}/data", "value": rounded(n, digits)})
                if esc_ptr is not None and esc_h is not None:
                    ops.append({"op": "replace", "path": esc_ptr,
                                "value": {"hi_data": rounded(n + dhi[k, esc_h, row, sl], digits),
                                          "lo_data": rounded(n - dlo[k, esc_h, row, sl], digits)}})
            i = start + k
            patches.append({"metadata": {"name": tags[i], "values": rounded([dm2[i], s22t[i]], digits)},
                            "patch": ops})
    meta = {"description": description or "3+1 oscillation hypotheses (dm2 [eV^2], sin2_2theta) of the signal; "
            "the base workspace is the no-oscillation model",
            "digests": {"sha256": workspace_digest(workspace)}, "labels": list(PATCH_LABELS),
            "references": {"hepdata": NO_HEPDATA_RECORD}}
    meta["description"] += (f"; references.hepdata = {NO_HEPDATA_RECORD} is a placeholder required by the "
                            f"pyhf schema (no HEPData record)")
    meta.update(dict(metadata or {}))
    meta["grid"] = {"dm2_ev2": rounded(grid.dm2, digits), "sin2_2theta": rounded(grid.sin2_2theta, digits)}
    ps = {"metadata": meta, "patches": patches, "version": SCHEMA_VERSION}
    validate_patchset(ps, workspace, "exported patchset")
    return ps


def _clone(obj: Any) -> Any:
    """A copy of a JSON document that shares nothing mutable (number arrays copied flat)."""
    if isinstance(obj, Mapping):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        if all(isinstance(v, (int, float, str, bool)) or v is None for v in obj):
            return list(obj)
        return [_clone(v) for v in obj]
    return obj


def _apply_ops(doc: Any, ops: Sequence[Mapping[str, Any]], where: str) -> Any:
    """Apply JSON-patch operations one by one (in place); a failure names the operation."""
    import jsonpatch
    import jsonpointer

    for k, op in enumerate(ops):
        try:
            doc = jsonpatch.JsonPatch([op]).apply(doc, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, KeyError, IndexError, TypeError) as exc:
            raise WorkspaceError(f"{where}.patch[{k}]: {op.get('op')} {op.get('path')!r} does not apply "
                                 f"({type(exc).__name__}: {exc})") from None
    return doc


def _verify_digests(patchset: Mapping[str, Any], workspace: Mapping[str, Any], where: str) -> None:
    import pyhf

    for alg, expected in patchset["metadata"]["digests"].items():
        got = pyhf.utils.digest(dict(workspace), algorithm=alg)
        if got != expected:
            raise WorkspaceError(f"{where}: metadata.digests.{alg}: {expected} does not match the workspace ({got}); "
                                 f"the patchset was made for another workspace")


def _numeric(value: Any) -> bool:
    """No non-finite number anywhere, and no array that mixes numbers with anything else."""
    if isinstance(value, Mapping):
        return all(_numeric(v) for v in value.values())
    if isinstance(value, list):
        nums = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in value]
        if any(nums) and not all(nums):
            return False
        return all(math.isfinite(v) if n else _numeric(v) for v, n in zip(value, nums))
    return not (isinstance(value, float) and not math.isfinite(value))


def validate_patchset(patchset: Any, workspace: Mapping[str, Any] | None = None, where: str = "patchset") -> None:
    """Schema, labels and unique keys of a patchset; with ``workspace`` also its digest and
    that every patch applies and leaves a consistent workspace (the first one is validated in
    full, the others for structure and numbers). Errors name the JSON path."""
    _check_schema(patchset, "patchset.json", where)
    labels = patchset["metadata"]["labels"]
    names: set[str] = set()
    values: set[tuple[Any, ...]] = set()
    for i, p in enumerate(patchset["patches"]):
        md = p["metadata"]
        if len(md["values"]) != len(labels):
            raise WorkspaceError(f"{where}: {json_path('patches', i, 'metadata', 'values')}: {len(md['values'])} values, "
                                 f"labels {labels} need {len(labels)}")
        if md["name"] in names or tuple(md["values"]) in values:
            raise WorkspaceError(f"{where}: {json_path('patches', i, 'metadata')}: patch '{md['name']}' "
                                 f"{md['values']} repeats an earlier name or values")
        names.add(md["name"])
        values.add(tuple(md["values"]))
    if workspace is None:
        return
    validate_workspace(workspace, f"{where} (base workspace)")
    _verify_digests(patchset, workspace, where)
    for i, p in enumerate(patchset["patches"]):
        here = f"{where}: {json_path('patches', i)} ('{p['metadata']['name']}')"
        for k, op in enumerate(p["patch"]):
            if not _numeric(op.get("value")):
                raise WorkspaceError(f"{here}.patch[{k}].value: {op.get('op')} {op.get('path')!r} puts non-numbers "
                                     f"or non-finite numbers into the workspace")
        out = _apply_ops(_clone(workspace), p["patch"], here)
        try:
            (validate_workspace if i == 0 else _check_structure)(out, "patched")
        except WorkspaceError as exc:
            raise WorkspaceError(f"{here} leaves an inconsistent workspace: {exc}") from None


def apply_patch(workspace: Mapping[str, Any], patchset: Mapping[str, Any], key: str | Sequence[float],
                where: str = "patchset") -> dict[str, Any]:
    """The workspace with one patch applied, looked up by name or by values (to 1e-6 relative:
    the values are written with 7 significant digits)."""
    validate_patchset(patchset, None, where)
    validate_workspace(workspace, f"{where} (base workspace)")
    _verify_digests(patchset, workspace, where)
    for i, p in enumerate(patchset["patches"]):
        md = p["metadata"]
        if (isinstance(key, str) and md["name"] == key) or (
                not isinstance(key, str) and len(md["values"]) == len(key)
                and np.allclose(np.asarray(md["values"], dtype=float), np.asarray(key, dtype=float), rtol=1e-6, atol=0)):
            out = _apply_ops(_clone(workspace), p["patch"], f"{where}: {json_path('patches', i)}")
            validate_workspace(out, f"{where}: {json_path('patches', i)} applied")
            return out
    shown = key if isinstance(key, str) else [float(v) for v in key]
    raise WorkspaceError(f"{where}: no patch named or with values {shown!r}; e.g. "
                         f"{', '.join(p['metadata']['name'] for p in patchset['patches'][:3])}")


# ----------------------------------------------------------------------------- configurations
@dataclass
class ExportedConfiguration:
    """The workspace (and patchset) of one detector configuration, ready to be written."""

    stem: str
    detector: str
    position: str
    distance_m: float
    days: float
    source: str
    workspace: dict[str, Any]
    patchset: dict[str, Any] | None
    binning: dict[str, Any]

    @property
    def files(self) -> list[str]:
        return [f"{self.stem}.workspace.json"] + ([f"{self.stem}.patchset.json"] if self.patchset else [])


def binning_record(templates: Templates) -> dict[str, Any]:
    """Shapes, axis order and edges of every exported channel (the flattening is C order over
    the binning's axes: energy, baseline, [cos θ to the source,] time)."""
    b = templates.binning
    names = {"energy": "energy_reco_mev", "baseline": "baseline_reco_m", "cos": "cos_theta_to_source",
             "time": "time_days"}
    keys = {"energy": "energy_edges_mev", "baseline": "baseline_edges_m", "cos": "cos_edges", "time": "time_edges_days"}
    letters = {"energy": "E", "baseline": "L", "cos": "c", "time": "t"}

    def flat(axes: Sequence[str]) -> str:
        expr = f"i_{letters[axes[0]]}"
        for a in axes[1:]:
            expr = f"({expr}) * n_{letters[a]} + i_{letters[a]}" if "*" in expr or "+" in expr else f"{expr} * n_{letters[a]} + i_{letters[a]}"
        return expr

    edges = {keys[a]: b.edges(a).tolist() for a in b.axes if a != "time"}
    out = {"source_on": {"shape": list(b.shape), "axes": [names[a] for a in b.axes], "flat_index": flat(b.axes),
                         **edges, "time_edges_days": b.time_edges_days.tolist()}}
    if templates.source_off:
        off_axes = [a for a in b.axes if a != "time"]
        out["source_off"] = {"shape": list(b.shape[:-1]) + [1], "axes": [names[a] for a in b.axes],
                             "flat_index": flat(off_axes), **edges,
                             "time_edges_days": [0.0, float(templates.source_off_days)]}
    return out


def export_configuration(detector: str, position: str | float = "centre", days: float = 30.0,
                         source: str = "cr51", grid: OscillationGrid | None = None, digits: int | None = 7,
                         activity: float | str | None = None, built: tuple[Templates, BinnedModel] | None = None,
                         angular_resolution_deg: float | None = None) -> ExportedConfiguration:
    """Workspace of a preset (or TOML detector) at a source position, with a patchset over
    ``grid`` (an :class:`~fitter.oscillation.OscillationGrid`) if given.

    The observations are the Asimov data at R = 1 without oscillation (all nuisances nominal).
    ``built``: the (templates, model) of this configuration if already at hand;
    ``angular_resolution_deg``: a directional binning (cos θ axis, in the file name as "_dirX").
    """
    from models.detectors import load_detector
    from models.sources import load_source

    from .oscillation import OscillationModel
    from .significance import build_configuration

    det = load_detector(detector)
    src = load_source(source)
    if activity is not None:
        src = src.with_activity(activity)
    distance = det.source_distance(position)
    named = str(position) if str(position) in det.source_positions_m else f"D{distance:g}m"
    tpl, model = built if built is not None else build_configuration(det, src, distance, float(days),
                                                                      angular_resolution_deg=angular_resolution_deg)
    stem = f"{det.name}_{named}_{float(days):g}d" + ("" if angular_resolution_deg is None else f"_dir{angular_resolution_deg:g}")
    ws = export_workspace(model, measurement=f"ganom_{stem}", digits=digits)
    binning = binning_record(tpl)
    ps = None
    if grid is not None:
        ps = export_patchset(OscillationModel(model, tpl), ws, grid, digits=digits,
                             metadata={"detector": det.name, "source_position": named, "distance_m": distance,
                                       "days": float(days), "binning": binning})
    return ExportedConfiguration(stem, det.name, named, distance, float(days), src.name, ws, ps, binning)


def _edges_text(edges: Sequence[float]) -> str:
    e = np.asarray(edges, dtype=float)
    step = np.diff(e)
    if e.size > 3 and np.allclose(step, step[0], rtol=1e-9, atol=0):
        return f"{e[0]:.6g} … {e[-1]:.6g} in {e.size - 1} bins of {step[0]:.6g}"
    return ", ".join(f"{v:.6g}" for v in e)


def index_markdown(exports: Sequence[ExportedConfiguration]) -> str:
    """``INDEX.md``: every exported file, its configuration and its bin layout."""
    lines = ["# Index of the generated pyhf files", "",
             "Generated by `ganom export` (see README.md); do not edit by hand.", "",
             "| workspace | patchset | detector | position | D [m] | days | source | bins (E × L × t) |",
             "|---|---|---|---|---|---|---|---|"]
    for e in exports:
        shape = " × ".join(str(n) for n in e.binning["source_on"]["shape"])
        ps = f"`{e.files[1]}` ({len(e.patchset['patches'])} patches)" if e.patchset else "–"
        lines.append(f"| `{e.files[0]}` | {ps} | {e.detector} | {e.position} | {e.distance_m:g} | {e.days:g} | "
                     f"{e.source} | {shape} |")
    lines += ["", "Channel `source_on` is the E_reco × L_reco × t histogram flattened in C order: bin "
              "`k = (i_E · n_L + i_L) · n_t + i_t` (time fastest).", ""]
    for e in exports:
        lines.append(f"## {e.stem}")
        lines.append("")
        for chan, rec in e.binning.items():
            lines.append(f"- `{chan}` (shape {rec['shape']}, flat index {rec['flat_index']}):")
            lines.append(f"  - energy [MeV]: {_edges_text(rec['energy_edges_mev'])}")
            lines.append(f"  - baseline [m]: {_edges_text(rec['baseline_edges_m'])}")
            lines.append(f"  - time [days]: {_edges_text(rec['time_edges_days'])}")
        lines.append("")
    return "\n".join(lines)


def write_exports(exports: Sequence[ExportedConfiguration], out_dir: str | Path, index: bool = True) -> list[Path]:
    """Write every file (atomically, after everything was built and validated) and INDEX.md."""
    out = Path(out_dir)
    texts: list[tuple[Path, str]] = []
    for e in exports:
        texts.append((out / e.files[0], dumps(e.workspace)))
        if e.patchset is not None:
            texts.append((out / e.files[1], dumps(e.patchset)))
    if index:
        texts.append((out / "INDEX.md", index_markdown(exports)))
    return [write_text_atomic(t, p) for p, t in texts]


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
        spec, where = read_json(source), str(source)
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


# ----------------------------------------------------------------------------- parity helpers
@contextlib.contextmanager
def pyhf_minuit(tolerance: float = 0.1, strategy: int | None = None) -> Iterator[None]:
    """pyhf with the numpy backend and the minuit optimizer, restored afterwards."""
    import pyhf

    tensorlib, optimizer = pyhf.get_backend()
    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(tolerance=tolerance, strategy=strategy))
    try:
        yield
    finally:
        pyhf.set_backend(tensorlib, optimizer)


@dataclass
class PyhfFit:
    """A pyhf fit in native parameter order: values, HESSE errors, −2 ln L."""

    values: NDArray[np.float64]
    errors: NDArray[np.float64]
    twice_nll: float


class PyhfBridge:
    """The pyhf model of a workspace next to the native one, parameters matched by name.

    pyhf orders parameters and channels its own way (alphabetically); the bridge maps
    native parameter vectors and :class:`Data` to pyhf's vectors and back.
    """

    def __init__(self, spec: Mapping[str, Any], model: BinnedModel, measurement: str | None = None):
        import pyhf

        self.workspace = pyhf.Workspace(dict(spec))
        self.pdf = self.workspace.model(measurement_name=measurement)
        self.model = model
        cfg = self.pdf.config
        names: list[str] = []
        for p in cfg.par_order:
            n = cfg.param_set(p).n_parameters
            names += [p] if cfg.param_set(p).is_scalar else [f"{p}[{i}]" for i in range(n)]
        self.names = names
        missing = set(names) ^ set(model.parameters.names)
        if missing:
            raise WorkspaceError(f"pyhf and native parameters differ: {sorted(missing)}")
        self.to_native = np.array([names.index(n) for n in model.parameters.names])
        self.to_pyhf = np.array([model.parameters.index(n) for n in names])
        self.main_order = np.concatenate([np.arange(model.channel_slices[c].start, model.channel_slices[c].stop)
                                          for c in cfg.channels])
        aux_idx = []
        for p in cfg.auxdata_order:
            ps = cfg.param_set(p)
            aux_idx += [model.parameters.index(p)] if ps.is_scalar else [
                model.parameters.index(f"{p}[{i}]") for i in range(ps.n_parameters)]
        self.aux_order = np.array(aux_idx, dtype=int)

    def pars(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Native θ → pyhf parameter vector."""
        return np.asarray(theta, dtype=float)[..., self.to_pyhf]

    def native(self, pars: ArrayLike) -> NDArray[np.float64]:
        """pyhf parameter vector → native θ."""
        return np.asarray(pars, dtype=float)[..., self.to_native]

    def data(self, data: Data) -> NDArray[np.float64]:
        """Native :class:`Data` → pyhf's main + auxdata vector."""
        return np.concatenate([data.main[self.main_order], data.aux[self.aux_order]])

    def nll(self, theta: ArrayLike, data: Data) -> float:
        """pyhf's −logpdf at native θ."""
        return -float(self.pdf.logpdf(self.pars(theta), self.data(data))[0])

    def fit(self, data: Data, fix: Mapping[str, float] | None = None, init: ArrayLike | None = None,
            restarts: int = 1) -> PyhfFit:
        """pyhf's MLE fit (current backend and optimizer) with ``fix`` held, in native order.

        A fit that pyhf reports as failed (MIGRAD above its EDM goal) is restarted from where
        it stopped, up to ``restarts`` times, as one would by hand.
        """
        import pyhf

        ps = self.model.parameters
        x0 = ps.inits if init is None else np.asarray(init, dtype=float)
        fixed = ps.fixed.copy()
        for k, v in (fix or {}).items():
            i = ps.index(k)
            x0 = x0.copy()
            x0[i] = v
            fixed[i] = True
        try:
            res, twice = pyhf.infer.mle.fit(self.data(data), self.pdf, init_pars=self.pars(x0).tolist(),
                                            par_bounds=[list(b) for b in ps.bounds[self.to_pyhf]],
                                            fixed_params=fixed[self.to_pyhf].tolist(), return_uncertainties=True,
                                            return_fitted_val=True)
        except pyhf.exceptions.FailedMinimization as exc:
            if restarts < 1:
                raise
            return self.fit(data, fix, self.native(np.asarray(exc.result.x, dtype=float)), restarts - 1)
        res = np.asarray(res)
        return PyhfFit(self.native(res[:, 0]), self.native(res[:, 1]), float(twice))


def asymptotic_cls(q: float, q_asimov: float) -> float:
    """CLs of the q̃ test statistic with the asymptotic formulae (Cowan et al. 2011, eq. 65–66).

    ``q_asimov`` is q̃ on the background-only (POI = 0) Asimov data; CLs = p_{s+b} / (1 − p_b).
    """
    sq, sqa = math.sqrt(max(q, 0.0)), math.sqrt(max(q_asimov, 0.0))
    if sq <= sqa or sqa == 0.0:
        clsb, clb = norm.sf(sq), norm.sf(sq - sqa)
    else:
        clsb, clb = norm.sf((q + q_asimov) / (2 * sqa)), norm.sf((q - q_asimov) / (2 * sqa))
    return float(clsb / clb)


@dataclass
class Parity:
    """Native and pyhf fits of one model to one dataset: the POI, its error, and the
    twice-NLL difference between the hypothesis ``poi = test`` and the best fit (pairs are
    (native, pyhf)). ``pyhf_profile_sigma``: δ/√(2ΔNLL) of pyhf's profile at POÎ + δ, δ = the
    native σ (a check of σ that does not rely on numerical second derivatives)."""

    poi: str
    test: float
    poi_hat: tuple[float, float]
    sigma: tuple[float, float]
    delta_twice_nll: tuple[float, float]
    native_s: float
    pyhf_s: float
    pyhf_profile_sigma: float | None = None

    def row(self) -> dict[str, float | None]:
        keys = ("poi_hat", "sigma", "delta_twice_nll")
        out = {f"{k}_{w}": getattr(self, k)[j] for k in keys for j, w in enumerate(("native", "pyhf"))}
        return {**out, "pyhf_profile_sigma": self.pyhf_profile_sigma, "native_s": self.native_s, "pyhf_s": self.pyhf_s}


def compare_fits(model: BinnedModel, data: Data, test: float, spec: Mapping[str, Any] | None = None,
                 tolerance: float = 0.01, strategy: int = 2, profile: bool = False) -> Parity:
    """Fit ``data`` natively (MIGRAD on the analytic gradient) and with pyhf (numpy, minuit):
    free and with the POI fixed at ``test`` (and at POÎ + σ with ``profile``). ``spec``
    defaults to the exact export. The times cover the free and the ``test`` fits."""
    import time

    from .fit import fit

    poi = model.poi
    i = model.parameters.index(poi)
    br = PyhfBridge(spec if spec is not None else export_workspace(model, data, digits=None), model)
    t0 = time.perf_counter()
    nf = fit(model, data)
    nc = fit(model, data, init=nf.values, fix={poi: test}, hesse=False)
    t1 = time.perf_counter()
    with pyhf_minuit(tolerance, strategy):
        pf = br.fit(data)

        def conditional(value: float) -> float:
            start = pf.values.copy()
            start[i] = value
            return br.fit(data, fix={poi: value}, init=start).twice_nll - pf.twice_nll

        dq = conditional(test)
        t2 = time.perf_counter()
        width = None
        if profile:
            width = float(nf.errors[i] / math.sqrt(conditional(float(pf.values[i] + nf.errors[i]))))
    return Parity(poi, test, (float(nf.values[i]), float(pf.values[i])), (float(nf.errors[i]), float(pf.errors[i])),
                  (nc.twice_nll - nf.twice_nll, dq), t1 - t0, t2 - t1, width)


def native_cls(model: BinnedModel, data: Data, test: float) -> tuple[float, float, float]:
    """(CLs, q̃, q̃_A) of POI = ``test`` with the asymptotic formulae, computed as pyhf's
    ``hypotest(..., test_stat="qtilde", calctype="asymptotics")`` does: q̃_A on the Asimov
    data of the POI = 0 conditional fit to ``data``. Fits: the batched Newton minimiser."""
    from .fit import FitError
    from .newton import minimize_batch

    ps = model.parameters
    ip = ps.index(model.poi)

    def fits(main: NDArray, aux: NDArray, values: Sequence[float | None]) -> Any:
        th = np.tile(ps.inits, (len(values), 1))
        fixed = np.tile(ps.fixed, (len(values), 1))
        for k, v in enumerate(values):
            if v is not None:
                th[k, ip], fixed[k, ip] = v, True
        res = minimize_batch(model, main, aux, th, fixed)
        if not res.converged.all():
            raise FitError(f"native_cls: a fit with {model.poi} in {values} did not converge")
        return res

    def qtilde(res: Any) -> float:
        q = 2.0 * (res.objective[1] - res.objective[0])
        return max(float(q), 0.0) if res.theta[0, ip] <= test else 0.0

    on_data = fits(data.main, data.aux, [None, test, 0.0])
    asimov = model.asimov(on_data.theta[2])
    q, q_a = qtilde(on_data), qtilde(fits(asimov.main, asimov.aux, [None, test]))
    return asymptotic_cls(q, q_a), q, q_a
