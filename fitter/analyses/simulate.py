"""Simulated inputs drawn from ganom's analytic model: the closed loop of the configuration
path (docs/inputs.md).

:func:`simulate_preset` writes, for a detector preset, what a collaboration's simulation
would give ganom:

* signal events per nuclear branch (``signal_ground``, ``signal_excited``), each with the
  true neutrino energy (its line), the true vertex and baseline, the reconstructed energy,
  vertex and baseline, and a weight (expected events in the run per simulated event). They
  are drawn from the same physics as the analytic templates: lines ∝ intensity × σ above
  the lowest recoil the binning can reconstruct, the recoil T from dσ/dT (BKS), vertices
  uniform in flux-weighted volume (L from (dV/dL)/(4πL²), the direction on the shell's part
  inside the target, the source assembly excluded), E_reco = T + σ_E(T)·N(0, 1), the vertex
  smeared by σ_v(E_reco) in each coordinate and the fiducial cut on the reconstructed
  radius (the selection a collaboration applies before writing);
* backgrounds as weighted histograms (energy × baseline × time, Σw² stored): the analytic
  template of each component sampled with a fixed number of MC events, and its energy-scale
  variations (the same MC events reweighted by the analytic ratio, as a reprocessed
  simulation would be);
* a configuration file with the analytic model's systematics (same names and sizes).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import InputError
from ganom.fitter.config import Configuration
from ganom.fitter.hf.modifiers import HistoSys, NormFactor, NormSys
from ganom.models.constants import CM2_TO_M2, SECONDS_PER_DAY
from ganom.models.templates import Templates, has_fiducial_cut
from ganom.models.xsec import dsigma_dt, t_max

__all__ = ["SimulatedInputs", "simulate_signal_events", "simulate_preset", "configuration_for"]

FloatArray = NDArray[np.float64]


@dataclass
class SimulatedInputs:
    """What :func:`simulate_preset` wrote: the files, the configuration and the truth."""

    root_file: Path
    config_file: Path
    config: dict[str, Any]
    events: dict[str, int]
    expected: dict[str, float]


def _inverse_cdf(x: FloatArray, density: FloatArray, u: FloatArray) -> FloatArray:
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(x))])
    return np.interp(u * cdf[-1], cdf, x)


def simulate_signal_events(tpl: Templates, branch: str, n_events: int, rng: np.random.Generator) -> dict[str, FloatArray]:
    """Selected signal events of one nuclear branch with truth, reconstruction and weights."""
    det, src = tpl.detector, tpl.source
    e_edges = tpl.binning.energy_edges_mev
    lines = [(ln.energy_mev, ln.intensity) for ln in src.lines if ln.branch == branch]
    if not lines:
        raise InputError(f"source {src.name} has no {branch} branch")
    sig_thr = float(det.energy_sigma_mev(e_edges[0]))
    t_lo = max(1e-4, e_edges[0] - 7.0 * sig_thr)
    tables = []
    for e_nu, inten in lines:
        tm = float(t_max(e_nu))
        t = np.linspace(t_lo, tm, 4001) if tm > t_lo else np.array([t_lo, t_lo])
        d = dsigma_dt(t, e_nu, "e", tpl.meta.get("xsec_model", "bks")) if tm > t_lo else np.zeros(2)
        sigma = float(np.sum(0.5 * (d[1:] + d[:-1]) * np.diff(t)))  # cm²
        tables.append((e_nu, inten * sigma, t, d))
    rate = np.array([r for _, r, _, _ in tables])
    geom = det.target_geometry(tpl.distance_m, src.assembly_radius_m)
    g_flux = float(geom.flux_weighted_volume())
    exposure = float(src.decay_fraction(tpl.binning.time_edges_days[0], tpl.binning.time_edges_days[-1]))
    total = (src.activity_bq * det.electron_density_m3 * CM2_TO_M2 * SECONDS_PER_DAY * g_flux * exposure
             * float(rate.sum()))
    which = rng.choice(len(tables), size=n_events, p=rate / rate.sum())
    enu = np.array([tables[k][0] for k in which])
    T = np.empty(n_events)
    for k, (_, _, t, d) in enumerate(tables):
        sel = which == k
        T[sel] = _inverse_cdf(t, d, rng.random(int(sel.sum())))
    # true vertex: L from the flux-weighted volume, direction on the shell inside the target
    edges = np.linspace(geom.l_min, geom.l_max, 20001)
    w = geom.flux_weight_between(edges)
    cdf = np.concatenate([[0.0], np.cumsum(w)])
    L = np.interp(rng.random(n_events) * cdf[-1], cdf, edges)
    cmin = np.clip(geom.cos_alpha_min(L), -1.0, 1.0)
    cos_a = cmin + (1.0 - cmin) * rng.random(n_events)
    sin_a = np.sqrt(np.clip(1.0 - cos_a**2, 0.0, None))
    phi = 2.0 * np.pi * rng.random(n_events)
    x_true = np.stack([L * sin_a * np.cos(phi), L * sin_a * np.sin(phi), L * cos_a], axis=1)
    e_reco = T + det.energy_sigma_mev(T) * rng.standard_normal(n_events)
    sig_v = det.vertex_sigma_m(np.clip(e_reco, 1e-3, None))
    x_reco = x_true + sig_v[:, None] * rng.standard_normal((n_events, 3))
    centre = np.array([0.0, 0.0, tpl.distance_m])
    r_reco = np.linalg.norm(x_reco - centre, axis=1)
    keep = r_reco < det.fiducial_radius_m if has_fiducial_cut(det) else np.ones(n_events, dtype=bool)
    out = {"enu_mev": enu, "t_recoil_mev": T, "l_true_m": L, "e_reco_mev": e_reco,
           "l_reco_m": np.linalg.norm(x_reco, axis=1), "r_reco_m": r_reco,
           "x_reco_m": x_reco[:, 0], "y_reco_m": x_reco[:, 1], "z_reco_m": x_reco[:, 2],
           "weight": np.full(n_events, total / n_events)}
    return {k: np.ascontiguousarray(v[keep]) for k, v in out.items()}


def _background_histograms(tpl: Templates, n_events: int, rng: np.random.Generator
                           ) -> dict[str, tuple[FloatArray, FloatArray, FloatArray | None, FloatArray | None]]:
    """name → (values, Σw², down, up): each component's template sampled with ``n_events``."""
    out = {}
    for name in tpl.background_names:
        nom = tpl.samples[name]
        tot = float(nom.sum())
        if tot <= 0:
            continue
        counts = rng.multinomial(n_events, (nom / tot).ravel()).reshape(nom.shape).astype(float)
        w = tot / n_events
        vals, var = counts * w, counts * w * w
        dn = up = None
        if name in tpl.escale:
            lo, hi = tpl.escale[name]
            with np.errstate(divide="ignore", invalid="ignore"):
                dn = np.where(nom > 0, vals * lo / nom, 0.0)
                up = np.where(nom > 0, vals * hi / nom, 0.0)
        out[name] = (vals, var, dn, up)
    return out


def configuration_for(cfg: Configuration, root_name: str, backgrounds: list[str]) -> dict[str, Any]:
    """The analysis configuration (dict) that reproduces the analytic model of ``cfg`` from
    the simulated files: samples, binning and every systematic of the built model."""
    tpl, model = cfg.build()
    b = tpl.binning
    signal = [n for n in tpl.signal_names if n in model.samples]
    samples: list[dict[str, Any]] = [{"name": n, "events": {"file": root_name, "object": n, "outside": "drop"},
                                      "branch": tpl.info[n].branch} for n in signal]
    samples += [{"name": n, "histogram": {"file": root_name, "object": n}} for n in backgrounds]
    systematics: list[dict[str, Any]] = []
    by_name: dict[str, list[Any]] = {}
    for mod in model.modifiers:
        if mod.sample in signal or mod.sample in backgrounds:
            by_name.setdefault(mod.name, []).append(mod)
    for name, mods in by_name.items():
        kind = mods[0].kind
        ss = list(dict.fromkeys(m.sample for m in mods))
        if isinstance(mods[0], NormFactor):
            p = model.parameters[name]
            systematics.append({"name": name, "type": "normfactor", "samples": ss, "init": float(p.init),
                                "bounds": [float(v) for v in p.bounds]})
        elif isinstance(mods[0], NormSys):
            systematics.append({"name": name, "type": "normsys", "samples": ss,
                                "factors": {m.sample: [float(m.lo), float(m.hi)] for m in mods}})
        elif isinstance(mods[0], HistoSys) and name == "escale":
            systematics.append({"name": name, "type": "histosys", "samples": ss, "energy_scale": float(tpl.escale_sigma),
                                "variations": {n: {"down": {"file": root_name, "object": f"{n}_escale_down"},
                                                   "up": {"file": root_name, "object": f"{n}_escale_up"}}
                                               for n in ss if n in backgrounds}})
        else:
            raise InputError(f"simulate: the {kind} '{name}' of the analytic model has no configuration form here")
    return {"version": "1.0", "name": f"{tpl.detector.name}, {tpl.source.isotope_label} at D = {tpl.distance_m:g} m, "
                                      f"{b.run_days:g} d (simulated)",
            "poi": "R", "source": tpl.source.name,
            "channels": [{"name": "source_on",
                          "binning": {"energy_mev": b.energy_edges_mev.tolist(), "baseline_m": b.baseline_edges_m.tolist(),
                                      "time_days": b.time_edges_days.tolist()},
                          "samples": samples}],
            "systematics": systematics}


def simulate_preset(cfg: Configuration, n_events: int, out: str | Path, seed: int = 0,
                    background_events: int | None = None) -> SimulatedInputs:
    """Simulate the inputs of the analytic configuration ``cfg`` into ``out`` (a .root file)
    and write the configuration next to it (``<stem>.toml``). Files are written whole or not
    at all."""
    import hist
    import uproot

    from ganom.fitter.io import write_text_atomic

    out = Path(out)
    if out.suffix != ".root":
        raise InputError(f"--out {out}: the simulated inputs are a ROOT file (.root)")
    if n_events < 10:
        raise InputError(f"--events {n_events}: need at least 10 events per sample")
    tpl, model = cfg.build()
    if tpl.binning.directional or tpl.source_off:
        raise InputError("simulate: directional binnings and source-off exposures are not simulated (yet); "
                         "drop --angular-resolution / --source-off")
    rng = np.random.default_rng(seed)
    signal = [n for n in tpl.signal_names if n in model.samples]
    events = {n: simulate_signal_events(tpl, n.removeprefix("signal_"), n_events, rng) for n in signal}
    bkg = _background_histograms(tpl, background_events or n_events, rng)
    bkg = {n: v for n, v in bkg.items() if n in model.samples}
    b = tpl.binning
    axes = [hist.axis.Variable(b.energy_edges_mev, name="energy_mev"), hist.axis.Variable(b.baseline_edges_m, name="baseline_m"),
            hist.axis.Variable(b.time_edges_days, name="time_days")]

    def weighted(values: FloatArray, variances: FloatArray) -> Any:
        h = hist.Hist(*axes, storage=hist.storage.Weight())
        view = h.view()
        view.value = values
        view.variance = variances
        return h

    config = configuration_for(cfg, out.name, list(bkg))
    cfg_path = out.with_suffix(".toml")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with uproot.recreate(tmp) as f:
            for n, ev in events.items():
                f[n] = ev
            for n, (vals, var, dn, up) in bkg.items():
                f[n] = weighted(vals, var)
                if dn is not None and up is not None:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        f[f"{n}_escale_down"] = weighted(dn, var * np.where(vals > 0, (dn / vals) ** 2, 0.0))
                        f[f"{n}_escale_up"] = weighted(up, var * np.where(vals > 0, (up / vals) ** 2, 0.0))
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    write_text_atomic(_toml(config), cfg_path)
    return SimulatedInputs(out, cfg_path, config, {n: int(ev["weight"].size) for n, ev in events.items()},
                           {n: float(model.nominal[model.sample_index(n)].sum()) for n in model.samples})


def _toml(value: dict[str, Any]) -> str:
    """A small TOML writer for the configuration (tables, arrays of tables, numbers, strings)."""
    lines: list[str] = ["# written by `ganom simulate`: the analytic model's inputs as simulated files", ""]

    def scalar(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return f"{v:.12g}" if isinstance(v, float) else str(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(scalar(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{_key(k)} = {scalar(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    def table(prefix: str, d: dict[str, Any], array: bool = False) -> None:
        simple = {k: v for k, v in d.items() if not (isinstance(v, list) and v and isinstance(v[0], dict))}
        nested = {k: v for k, v in d.items() if k not in simple}
        if prefix:
            lines.append(f"[[{prefix}]]" if array else f"[{prefix}]")
        for k, v in simple.items():
            lines.append(f"{_key(k)} = {scalar(v)}")
        lines.append("")
        for k, v in nested.items():
            for item in v:
                table(f"{prefix}.{k}" if prefix else k, item, array=True)

    table("", value)
    return "\n".join(lines)


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else f'"{k}"'
