"""pyhf export: BinnedModel → pyhf workspace (schema 1.0.0).

Export layout (:func:`export_workspace`)
---------------------------------------
* One pyhf channel per native channel, in the native order. ``source_on`` holds the
  E_reco × L_reco × t analysis bins flattened in C order: flat bin
  ``k = (i_E · n_L + i_L) · n_t + i_t`` (time fastest, energy slowest), exactly as
  :func:`ganom.fitter.config.unflatten` reshapes them. ``source_off`` (with a source-off exposure)
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

Interpolation: :mod:`ganom.fitter.hf.model` uses pyhf's codes (normsys code 4, histosys code 4p), so
native and pyhf likelihoods are the same function; the tests show −ln L agreeing to 1e-9.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.fitter.hf.data import Data
from ganom.fitter.hf.model import BinnedModel

if TYPE_CHECKING:

    pass
from ganom.exceptions import ExportError
from ganom.fitter.hf.modifiers import HistoSys, Modifier, NormSys, ShapeSys, StatError
from ganom.fitter.pyhf.validate import PER_BIN_MODIFIERS, SCHEMA_VERSION, validate_workspace

__all__ = ["rounded", "measurement_config", "export_workspace"]


def rounded(values: ArrayLike, digits: int | None) -> list[float]:
    """Values as a list of Python floats, rounded to ``digits`` significant digits (None: exact)."""
    flat = np.asarray(values, dtype=float).ravel().tolist()
    if digits is None:
        return flat
    return [float(f"{v:.{digits}g}") for v in flat]


# ----------------------------------------------------------------------------- export
def _modifier_data(model: BinnedModel, mod: Modifier, digits: int | None) -> Any:
    """The pyhf ``data`` of a modifier. Histosys templates come from the model's current shifts
    (so a model with replaced templates, e.g. :meth:`OscillationModel.at`, exports what it
    evaluates)."""
    if isinstance(mod, NormSys):
        return {"hi": rounded(mod.hi, digits)[0], "lo": rounded(mod.lo, digits)[0]}
    if isinstance(mod, HistoSys):
        lo, hi = model.histosys_data(mod.name, mod.sample, mod.channel)
        return {"hi_data": rounded(hi, digits), "lo_data": rounded(lo, digits)}
    if isinstance(mod, (StatError, ShapeSys)):
        return rounded(mod.errors, digits)
    return None


def _modifier_sets(model: BinnedModel) -> list[tuple[str, str, list[int]]]:
    """(type, name, parameter indices) of every modifier, in order of first use."""
    out: dict[str, tuple[str, str, list[int]]] = {}
    names = model.parameters.names
    for mod in model.modifiers:
        if mod.name in out:
            continue
        if mod.kind in PER_BIN_MODIFIERS:
            pref = f"{mod.name}["
            idx = [i for i, n in enumerate(names) if n.startswith(pref)]
        else:
            idx = [model.parameters.index(mod.name)]
        out[mod.name] = (mod.kind, mod.name, idx)
    return list(out.values())


def _auto_fixed(model: BinnedModel, mtype: str, name: str, n: int) -> NDArray[np.bool_]:
    """The parameters of a set that pyhf fixes by itself: γ's of bins without uncertainty."""
    if mtype not in ("staterror", "shapesys"):
        return np.zeros(n, dtype=bool)
    mods = [m for m in model.modifiers if m.name == name]
    sl = model.channel_slices[mods[0].channel]
    if mtype == "shapesys":
        nom = model.nominal[model.sample_index(mods[0].sample), sl]
        return ~((nom > 0) & (mods[0].errors > 0))  # type: ignore[attr-defined, no-any-return]
    tot = model.nominal[[model.sample_index(m.sample) for m in mods], sl].sum(axis=0)
    err2 = np.sum([m.errors ** 2 for m in mods], axis=0)  # type: ignore[attr-defined]
    return ~((tot > 0) & (err2 > 0))  # type: ignore[no-any-return]


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
    mc = model.mcstat
    for mtype, mname, idx in _modifier_sets(model):
        if mc is not None and mname in mc.names:
            # profiled analytically: pyhf's defaults (γ = 1, N(1, σ_b)) are the native ones;
            # fluctuated auxiliary data (a toy) go in as auxdata, 1 in bins without MC uncertainty
            chan = next(m.channel for m in model.modifiers if m.name == mname)
            c = model.channels.index(chan)
            a = np.asarray(aux_v, dtype=float)[len(ps):][mc.channel_of == c]
            if a.size and not np.all(a == 1.0):
                sl = model.channel_slices[chan]
                full = np.ones(sl.stop - sl.start)
                full[mc.bins[mc.channel_of == c] - sl.start] = a
                params.append({"name": mname, "auxdata": full.tolist()})
            continue
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
                     digits: int | None = 7, mcstat_as_normal: bool = False) -> dict[str, Any]:
    """The pyhf workspace (schema 1.0.0) of ``model`` with ``data`` as observations.

    Parameters
    ----------
    data : observed counts and auxiliary data (default: the Asimov data at the inits); an
        auxiliary datum that differs from the nominal one is written as ``auxdata``.
    digits : significant digits of every yield (None: exact floats).
    mcstat_as_normal : a model whose MC statistics have a Poisson constraint exports them as
        pyhf's staterror (normal, the same σ_b) only when this is set: pyhf has no Poisson
        factor shared by the samples of a bin, so the workspace is then an approximation.
    """
    data = model.asimov() if data is None else data
    if model.mcstat is not None and model.mcstat.constraint == "poisson" and not mcstat_as_normal:
        raise ExportError("the MC statistics have a Poisson constraint, which pyhf cannot express on the sum of a "
                          "bin's samples; export with mcstat_as_normal=True (staterror with the same σ_b, an "
                          "approximation) or build with mc_statistics_constraint = \"normal\"")
    if any(m.kind == "function" for m in model.modifiers):
        names = sorted({m.name for m in model.modifiers if m.kind == "function"})
        raise ExportError(f"parameter(s) {', '.join(names)} act through a native function modifier, which pyhf "
                          f"cannot express")
    channels = []
    for c, chan in enumerate(model.channels):
        sl = model.channel_slices[chan]
        samples = []
        for s, sname in enumerate(model.samples):
            if not model.sample_channels[s, c]:
                continue
            mods: dict[tuple[str, str], dict[str, Any]] = {}
            for mod in model.modifiers:
                if mod.sample != sname or mod.channel != chan:
                    continue
                key = (mod.kind, mod.name)
                if key in mods:
                    raise ExportError(f"{mod.kind} '{mod.name}' is applied twice to sample '{sname}' in channel "
                                      f"'{chan}'; a pyhf modifier acts once")
                if mod.kind == "lumi" and mod.name != "lumi":
                    raise ExportError(f"lumi parameter '{mod.name}': pyhf requires the lumi modifier to be named 'lumi'")
                mods[key] = {"name": mod.name, "type": mod.kind, "data": _modifier_data(model, mod, digits)}
            samples.append({"name": sname, "data": rounded(model.nominal[s, sl], digits), "modifiers": list(mods.values())})
        channels.append({"name": chan, "samples": samples})
    observations = [{"name": chan, "data": rounded(data.main[model.channel_slices[chan]], digits)}
                    for chan in model.channels]
    ws = {"channels": channels, "measurements": [measurement_config(model, data.aux, measurement)],
          "observations": observations, "version": SCHEMA_VERSION}
    validate_workspace(ws, "exported workspace")
    return ws
