"""From a validated configuration to an :class:`Analysis`: binned model, oscillation response
and data (docs/inputs.md).

* Histogram samples are taken as they are (contents in C order of energy, baseline, [cos],
  [time]); their Σw² is the MC uncertainty unless the sample says ``mc_statistics = false``.
* Event samples are oscillated: their weights are summed into an
  :class:`~ganom.models.events.EventKernel` per (line, true-baseline bin, analysis bin), so
  P_ee acts on the true baseline and energy of each event. Without a time column, a time
  axis spreads them by the decay of ``source`` (weights: expected events over the whole
  time range of the channel).
* Systematics become the typed HistFactory modifiers; a histosys on an event sample is an
  ``energy_scale`` (reconstructed energy × (1 ∓ δ)) or a pair of weight columns, recomputed
  under oscillation.
* The MC statistics of each channel are profiled analytically (:mod:`ganom.fitter.hf.mcstat`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import ConfigError
from ganom.fitter.hf.builder import ModelBuilder
from ganom.fitter.hf.data import Data
from ganom.fitter.hf.model import BinnedModel
from ganom.fitter.infer.oscillation import OscillationModel
from ganom.fitter.inputs.config import read_config, validate_config
from ganom.fitter.inputs.readers import Histogram, InputFileError, read_events, read_histogram
from ganom.models.events import EventKernel, bin_of

__all__ = ["AXES", "ChannelBinning", "EventResponse", "Analysis", "empty_bin_uncertainty", "build_analysis"]

FloatArray = NDArray[np.float64]
AXES = ("energy", "baseline", "cos", "time")
_EDGE_KEYS = {"energy": "energy_mev", "baseline": "baseline_m", "cos": "cos", "time": "time_days"}


@dataclass(frozen=True)
class ChannelBinning:
    """The analysis bins of one channel: axes (a subsequence of :data:`AXES`) and their edges."""

    name: str
    axes: tuple[str, ...]
    edges: tuple[FloatArray, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(e.size - 1 for e in self.edges)

    @property
    def n_bins(self) -> int:
        return int(np.prod(self.shape))

    def edge(self, axis: str) -> FloatArray:
        return self.edges[self.axes.index(axis)]

    def to_dict(self) -> dict[str, list[float]]:
        return {_EDGE_KEYS[a]: e.tolist() for a, e in zip(self.axes, self.edges)}

    def bin_index(self, columns: Mapping[str, FloatArray], axes: tuple[str, ...]) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        """Flat index (C order over ``axes``) of each event and whether it is inside."""
        inside = np.ones(next(iter(columns.values())).size, dtype=bool)
        flat = np.zeros(inside.size, dtype=np.intp)
        for a in axes:
            e = self.edge(a)
            i, ok = bin_of(e, columns[a])
            inside &= ok
            flat = flat * (e.size - 1) + np.where(ok, i, 0)
        return flat, inside


class EventResponse:
    """Event kernels of the oscillated samples as a :class:`~ganom.fitter.infer.oscillation.SignalResponse`."""

    def __init__(self) -> None:
        self.pieces: list[tuple[str, str]] = []
        self.kernels: dict[tuple[str, str], dict[Any, EventKernel]] = {}
        self.variations: dict[str, tuple[Any, Any]] = {}

    def add(self, sample: str, channel: str, kernel: EventKernel) -> None:
        self.pieces.append((sample, channel))
        self.kernels[(sample, channel)] = {None: kernel}

    def add_variation(self, name: str, sample: str, channel: str, lo: EventKernel, hi: EventKernel) -> None:
        self.variations[name] = ((name, -1), (name, 1))
        self.kernels[(sample, channel)][(name, -1)] = lo
        self.kernels[(sample, channel)][(name, 1)] = hi

    def evaluate(self, dm2: ArrayLike, sin2_2theta: ArrayLike, key: Any = None) -> list[FloatArray]:
        out = []
        for p in self.pieces:
            ks = self.kernels[p]
            out.append((ks[key] if key in ks else ks[None]).counts(dm2, sin2_2theta))
        return out


@dataclass
class Analysis:
    """A configuration built: the model, its oscillation response (event samples), the
    observed data (None: none given) and the binning of every channel."""

    name: str
    model: BinnedModel
    oscillation: OscillationModel | None
    data: Data | None
    binnings: list[ChannelBinning]
    config: dict[str, Any]
    path: Path | None = None

    def observed(self) -> Data:
        """The data, or the Asimov data at the inits when the configuration gives none."""
        return self.data if self.data is not None else self.model.asimov()

    def input_files(self) -> list[Path]:
        """Every file the configuration reads histograms, events or data from (resolved)."""
        base = self.path.parent if self.path is not None else Path(".")
        found: list[Path] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("file"), str):
                    p = Path(node["file"])
                    found.append(p if p.is_absolute() else base / p)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(self.config)
        return list(dict.fromkeys(found))

    def provenance_record(self) -> dict[str, Any]:
        """The configuration file and every input file with their sha256, for results' provenance."""
        from ganom.fitter.io import file_record

        rec: dict[str, Any] = ({"configuration_file": file_record(self.path)} if self.path is not None and self.path.is_file()
                               else {"configuration": self.name})
        rec["input_files"] = [file_record(p) for p in self.input_files() if p.is_file()]
        return rec

    def summary(self) -> dict[str, Any]:
        m = self.model
        per_sample = {s: float(m.nominal[i].sum()) for i, s in enumerate(m.samples)}
        return {"name": self.name, "channels": {b.name: {"axes": list(b.axes), "shape": list(b.shape)}
                                                 for b in self.binnings},
                "bins": m.n_bins, "parameters": m.parameters.names, "poi": m.poi,
                "mc_statistics_bins": 0 if m.mcstat is None else m.mcstat.size,
                "mc_statistics_constraint": None if m.mcstat is None else m.mcstat.constraint,
                "oscillated_samples": [] if self.oscillation is None else self.oscillation.signal,
                "expected_events": per_sample, "observed_events": None if self.data is None else float(self.data.main.sum())}


def empty_bin_uncertainty(nominal: FloatArray, delta: FloatArray) -> FloatArray:
    """MC uncertainties with empty bins filled: a bin without MC entries has expectation ≥ 0,
    not 0 ± 0; it gets the sample's mean event weight Σw²/Σw, the count of one event (CMS
    "autoMCStats" does the same), so that its γ may cover what the MC missed there."""
    w_bar = float(np.sum(delta**2) / np.sum(nominal)) if np.sum(nominal) > 0 else 0.0
    return np.where(nominal > 0, delta, w_bar)


_UP = re.compile(r"(^|[_./ -])(up|hi|high|plus)([_./ -]|$)", re.IGNORECASE)
_DOWN = re.compile(r"(^|[_./ -])(down|dn|lo|low|minus)([_./ -]|$)", re.IGNORECASE)


def _ref_name(v: Mapping[str, Any], side: str) -> str:
    if side in v:
        return str(v[side]["object"])
    return str(v.get(f"weight_{side}", ""))


def _looks_swapped(v: Mapping[str, Any]) -> bool:
    """A variation whose `up` is named like a down variation and whose `down` like an up one."""
    up, down = _ref_name(v, "up"), _ref_name(v, "down")
    return bool(up and down and _DOWN.search(up) and not _UP.search(up) and _UP.search(down) and not _DOWN.search(down))


class _Builder:
    def __init__(self, spec: dict[str, Any], where: str, base: Path, objects: Mapping[str, Any] | None):
        self.spec, self.where, self.base, self.objects = spec, where, base, objects
        self.hists: dict[tuple[str, str], Histogram] = {}
        self.events: dict[tuple[str, str], dict[str, FloatArray]] = {}
        self.nominal: dict[tuple[str, str], FloatArray] = {}
        self.mc: dict[tuple[str, str], FloatArray] = {}
        self.binnings: dict[str, ChannelBinning] = {}
        self.response = EventResponse()
        self._source: Any = None

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.where, key, message)

    # -- binning -------------------------------------------------------------------
    def binning(self, ci: int, ch: dict[str, Any]) -> ChannelBinning:
        key = f"channels[{ci}].binning"
        if "binning" in ch:
            b = ch["binning"]
            axes = tuple(a for a in AXES if _EDGE_KEYS[a] in b)
            edges = []
            for a in axes:
                e = np.asarray(b[_EDGE_KEYS[a]], dtype=float)
                if not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
                    raise self.fail(f"{key}.{_EDGE_KEYS[a]}", f"{e.tolist()}: need strictly increasing finite edges")
                edges.append(e)
            return ChannelBinning(ch["name"], axes, tuple(edges))
        for si, s in enumerate(ch["samples"]):
            if "histogram" in s:
                h = self.histogram(s["histogram"], f"channels[{ci}].samples[{si}].histogram")
                if h.values.ndim not in (1, 2, 3, 4):
                    raise self.fail(f"channels[{ci}].samples[{si}].histogram",
                                    f"{h.where} has {h.values.ndim} axes; need energy [× baseline] [× cos] [× time]")
                axes = {1: ("energy",), 2: ("energy", "baseline"), 3: ("energy", "baseline", "time"),
                        4: ("energy", "baseline", "cos", "time")}[h.values.ndim]
                return ChannelBinning(ch["name"], axes, h.edges)
        raise self.fail(key, "no binning and no histogram sample to read it from; give energy_mev and baseline_m edges")

    def histogram(self, ref: dict[str, Any], key: str) -> Histogram:
        try:
            return read_histogram(ref, self.base, self.objects)
        except InputFileError as exc:
            raise self.fail(key, str(exc)) from None

    def check_edges(self, h: Histogram, b: ChannelBinning, key: str) -> None:
        if h.values.ndim != len(b.axes):
            raise self.fail(key, f"{h.where} has {h.values.ndim} axes; channel '{b.name}' has {len(b.axes)} "
                                 f"({' × '.join(b.axes)})")
        for a, e_h, e_b in zip(b.axes, h.edges, b.edges):
            if e_h.size != e_b.size or not np.allclose(e_h, e_b, rtol=1e-9, atol=1e-12):
                raise self.fail(key, f"{h.where}: the {a} edges {np.round(e_h, 6).tolist()[:6]}… differ from the "
                                     f"channel's {np.round(e_b, 6).tolist()[:6]}…")

    # -- samples -------------------------------------------------------------------
    def source(self, key: str, why: str = "the channel has a time axis and the events have no time column: give "
                                          "`source` (e.g. \"cr51\") so that its decay spreads the events over time") -> Any:
        if self._source is None:
            if "source" not in self.spec:
                raise self.fail(key, why)
            from ganom.models.sources import load_source

            try:
                self._source = load_source(self.spec["source"])
            except Exception as exc:
                raise self.fail("source", str(exc)) from None
        return self._source

    def event_columns(self, ev: dict[str, Any], b: ChannelBinning, key: str, truth: bool,
                      extra: tuple[str, ...] = ()) -> dict[str, FloatArray]:
        cols = ev["columns"]
        need = [a for a in b.axes if a != "time"]
        has_time = False
        names = [cols[a] for a in need] + ([cols["enu"], cols["l_true"]] if truth else []) + list(extra)
        try:
            raw = read_events(ev, names, self.base, self.objects, optional=[cols["weight"], cols["time"]])
        except InputFileError as exc:
            raise self.fail(key, str(exc)) from None
        out = {a: raw[cols[a]] for a in need}
        if "time" in b.axes and cols["time"] in raw:
            out["time"] = raw[cols["time"]]
            has_time = True
        n = next(iter(raw.values())).size
        out["weight"] = raw.get(cols["weight"], np.ones(n))
        if truth:
            out["enu"], out["l_true"] = raw[cols["enu"]], raw[cols["l_true"]]
        for c in extra:
            out[c] = raw[c]
        out["_has_time"] = np.array(has_time)
        return out

    def time_fractions(self, b: ChannelBinning, key: str) -> FloatArray:
        """Share of a run's events in each time bin: the source's decay over the channel's time range."""
        t = b.edge("time")
        f = np.asarray(self.source(key).decay_fraction(t[:-1], t[1:]), dtype=float)
        return f / f.sum()

    def kernel(self, cols: dict[str, FloatArray], b: ChannelBinning, key: str, outside: str,
               true_edges: FloatArray, weights: FloatArray | None = None, escale: float = 0.0) -> EventKernel:
        has_time = bool(cols["_has_time"])
        axes = tuple(a for a in b.axes if a != "time" or has_time)
        binned = {a: cols[a] for a in axes}
        if escale:
            binned["energy"] = cols["energy"] * (1.0 + escale)
        flat, inside = b.bin_index(binned, axes)
        if not inside.all() and outside == "error" and not escale:
            i = int(np.argmin(inside))
            vals = ", ".join(f"{a} = {binned[a][i]:g}" for a in axes)
            raise self.fail(key, f"{int((~inside).sum())} events lie outside the binning (first: event {i}, {vals}); "
                                 f"set outside = \"drop\" if the binning is a selection")
        if not inside.any():
            raise self.fail(key, f"no event lies in the binning of channel '{b.name}' (zero MC entries where a "
                                 f"sample is needed)")
        w = cols["weight"] if weights is None else weights
        tf = self.time_fractions(b, key) if ("time" in b.axes and not has_time) else None
        n_reco = int(np.prod([b.edge(a).size - 1 for a in axes]))
        return EventKernel.from_events(cols["enu"][inside], cols["l_true"][inside], flat[inside], w[inside], n_reco,
                                       true_edges, time_fractions=tf)

    def true_edges(self, l_true: FloatArray) -> FloatArray:
        osc = self.spec["oscillation"]
        lo, hi = osc.get("true_baseline_range_m", (float(l_true.min()), float(l_true.max())))
        if l_true.min() < lo or l_true.max() > hi:
            raise self.fail("oscillation.true_baseline_range_m", f"[{lo}, {hi}] m does not contain the events' "
                                                                  f"true baselines {l_true.min():.4g}–{l_true.max():.4g} m")
        hi = hi if hi > lo else lo + 1e-6
        return np.linspace(lo, hi * (1 + 1e-12) + 1e-12, int(osc["true_baseline_bins"]) + 1)

    def sample(self, ci: int, si: int, s: dict[str, Any], b: ChannelBinning) -> None:
        key = f"channels[{ci}].samples[{si}]"
        pk = (s["name"], b.name)
        if pk in self.nominal:
            raise self.fail(f"{key}.name", f"sample '{s['name']}' appears twice in channel '{b.name}'")
        if "histogram" in s:
            h = self.histogram(s["histogram"], f"{key}.histogram")
            self.check_edges(h, b, f"{key}.histogram")
            self.hists[pk] = h
            nom = h.values.ravel()
            if s["mc_statistics"]:
                var = h.variances if h.variances is not None else h.values
                self.mc[pk] = np.sqrt(var.ravel())
        else:
            ev = s["events"]
            cols = self.event_columns(ev, b, f"{key}.events", truth=True)
            self.events[pk] = cols
            k = self.kernel(cols, b, f"{key}.events", ev["outside"], self.true_edges(cols["l_true"]))
            self.response.add(s["name"], b.name, k)
            nom = k.counts()
            if s["mc_statistics"]:
                self.mc[pk] = k.uncertainties()
        if not nom.sum() > 0:
            raise self.fail(key, f"sample '{s['name']}' has no entries in the binning of channel '{b.name}' "
                                 f"(zero MC entries where a sample is needed)")
        if pk in self.mc:
            self.mc[pk] = empty_bin_uncertainty(nom, self.mc[pk])
        self.nominal[pk] = nom

    # -- systematics -----------------------------------------------------------------
    def targets(self, i: int, sy: dict[str, Any]) -> list[tuple[str, str]]:
        known = {s for s, _ in self.nominal}
        chans = sy.get("channels")
        for c in chans or []:
            if c not in self.binnings:
                raise self.fail(f"systematics[{i}].channels", f"unknown channel '{c}'; channels: {', '.join(self.binnings)}")
        out = []
        for s in sy["samples"]:
            if s not in known:
                raise self.fail(f"systematics[{i}].samples", f"unknown sample '{s}'; samples: {', '.join(sorted(known))}")
            out += [(s, c) for (s2, c) in self.nominal if s2 == s and (chans is None or c in chans)]
        return out

    def systematic(self, i: int, sy: dict[str, Any], mb: ModelBuilder) -> None:
        key = f"systematics[{i}]"
        kind, name = sy["type"], sy["name"]
        tg = self.targets(i, sy)
        samples = list(dict.fromkeys(s for s, _ in tg))
        chans = sy.get("channels")
        if kind == "normfactor":
            bounds = tuple(sy.get("bounds", (0.0, 10.0)))
            init = float(sy.get("init", 1.0))
            if not bounds[0] <= init <= bounds[1]:
                raise self.fail(f"{key}.init", f"{init} is outside bounds {list(bounds)}")
            mb.add_normfactor(name, samples, chans, init=init, bounds=bounds)  # type: ignore[arg-type]
        elif kind == "normsys":
            for s, c in tg:
                if "factors" in sy:
                    if s not in sy["factors"]:
                        raise self.fail(f"{key}.factors", f"no [lo, hi] for sample '{s}'")
                    lo, hi = sy["factors"][s]
                elif "uncertainty" in sy:
                    u = float(sy["uncertainty"])
                    if u >= 1:
                        raise self.fail(f"{key}.uncertainty", f"{u} (≥ 100 %) cannot be a normsys; use a normfactor")
                    lo, hi = 1 - u, 1 + u
                elif "lo" in sy and "hi" in sy:
                    lo, hi = sy["lo"], sy["hi"]
                else:
                    raise self.fail(key, "a normsys needs `uncertainty`, `lo` and `hi`, or `factors`")
                if lo == hi:
                    raise self.fail(key, f"lo = hi = {lo} for sample '{s}': the variation has no effect")
                mb.add_normsys(name, {(s, c): (float(lo), float(hi))})
        elif kind == "lumi":
            if "uncertainty" not in sy:
                raise self.fail(key, "a lumi systematic needs `uncertainty` (its σ)")
            mb.add_lumi(name, samples, float(sy["uncertainty"]), chans)
        elif kind == "shapefactor":
            for c in dict.fromkeys(c for _, c in tg):
                mb.add_shapefactor(name, [s for s, c2 in tg if c2 == c], c)
        elif kind == "shapesys":
            if "uncertainty" not in sy:
                raise self.fail(key, "a shapesys needs `uncertainty` (relative, per bin)")
            for s, c in tg:
                mb.add_shapesys(f"{name}" if len(tg) == 1 else f"{name}_{s}_{c}", s, c,
                                float(sy["uncertainty"]) * self.nominal[(s, c)])
        elif kind == "histosys":
            self.histosys(i, sy, tg, mb)

    def histosys(self, i: int, sy: dict[str, Any], tg: list[tuple[str, str]], mb: ModelBuilder) -> None:
        key = f"systematics[{i}]"
        name = sy["name"]
        var = sy.get("variations", {})
        shapes = {}
        for s, c in tg:
            nom = self.nominal[(s, c)]
            v = var.get(s, {})
            if (s, c) in self.events:
                cols = self.events[(s, c)]
                k0 = self.response.kernels[(s, c)][None]
                if "weight_up" in v or "weight_down" in v:
                    if not ("weight_up" in v and "weight_down" in v):
                        raise self.fail(f"{key}.variations.{s}", "give both weight_up and weight_down")
                    ev = next(x["events"] for ch in self.spec["channels"] if ch["name"] == c
                              for x in ch["samples"] if x["name"] == s)
                    extra = self.event_columns(ev, self.binnings[c], f"{key}.variations.{s}", truth=True,
                                               extra=(v["weight_down"], v["weight_up"]))
                    ks = [self.kernel(extra, self.binnings[c], f"{key}.variations.{s}", "drop", k0.true_edges_m,
                                      weights=extra[v[w]]) for w in ("weight_down", "weight_up")]
                elif "energy_scale" in sy:
                    d = float(sy["energy_scale"])
                    ks = [self.kernel(cols, self.binnings[c], key, "drop", k0.true_edges_m, escale=e) for e in (-d, d)]
                else:
                    raise self.fail(f"{key}.variations.{s}", f"event sample '{s}': a histosys needs `energy_scale` or "
                                                             f"weight_up/weight_down columns (recomputed under oscillation)")
                lo, hi = ks[0].counts(), ks[1].counts()
                self.response.add_variation(name, s, c, ks[0], ks[1])
            else:
                if "up" not in v or "down" not in v:
                    raise self.fail(f"{key}.variations.{s}", f"histogram sample '{s}': give `up` and `down` histograms")
                hl, hh = (self.histogram(v[w], f"{key}.variations.{s}.{w}") for w in ("down", "up"))
                for h, w in ((hl, "down"), (hh, "up")):
                    self.check_edges(h, self.binnings[c], f"{key}.variations.{s}.{w}")
                lo, hi = hl.values.ravel(), hh.values.ravel()
            if _looks_swapped(v):
                raise self.fail(f"{key}.variations.{s}", f"up and down of '{name}' on '{s}' look swapped: up = "
                                                         f"{_ref_name(v, 'up')!r}, down = {_ref_name(v, 'down')!r}")
            if np.array_equal(lo, hi):
                raise self.fail(f"{key}.variations.{s}", f"up and down of '{name}' on '{s}' are identical")
            if np.allclose(lo, nom, rtol=1e-12, atol=0) and np.allclose(hi, nom, rtol=1e-12, atol=0):
                raise self.fail(f"{key}.variations.{s}", f"'{name}' does not change '{s}' (up = down = nominal)")
            shapes[(s, c)] = (lo, hi)
        mb.add_histosys(name, shapes)

    # -- data ------------------------------------------------------------------------
    def data(self, ci: int, ch: dict[str, Any], b: ChannelBinning) -> FloatArray | None:
        if "data" not in ch:
            return None
        key = f"channels[{ci}].data"
        d = ch["data"]
        if "histogram" in d:
            h = self.histogram(d["histogram"], f"{key}.histogram")
            self.check_edges(h, b, f"{key}.histogram")
            return h.values.ravel()
        cols = self.event_columns(d["events"], b, f"{key}.events", truth=False)
        axes = b.axes if bool(cols["_has_time"]) or "time" not in b.axes else None
        if axes is None:
            raise self.fail(f"{key}.events", f"channel '{b.name}' has a time axis: observed events need a time column "
                                             f"('{d['events']['columns']['time']}')")
        flat, inside = b.bin_index({a: cols[a] for a in axes}, axes)
        if not inside.all() and d["events"]["outside"] == "error":
            raise self.fail(f"{key}.events", f"{int((~inside).sum())} observed events lie outside the binning; "
                                             f"set outside = \"drop\" if the binning is a selection")
        return np.bincount(flat[inside], minlength=b.n_bins).astype(float)


def _add_branching(bd: _Builder, mb: ModelBuilder, branches: dict[str, str], mode: str, where: str) -> None:
    """B as a parameter in natural units on the branch-marked samples (docs/inputs.md)."""
    from ganom.fitter.config import BRANCH_MODES, BranchFactor

    if mode not in BRANCH_MODES:
        raise ConfigError(where, "measure_branch", f"{mode!r}; allowed: {' | '.join(BRANCH_MODES)}")
    src = bd.source("source", "measuring the branching ratio needs `source` (B₀, the activity method)")
    if src.gamma_branch <= 0:
        raise ConfigError(where, "source", f"'{src.name}' has no second nuclear branch to measure")
    if set(branches.values()) != {"ground", "excited"}:
        raise ConfigError(where, "channels[].samples[].branch",
                          "measuring B needs signal samples marked branch = \"ground\" and branch = \"excited\"")
    mb.add_function("B", {n: BranchFactor(src.gamma_branch, b, src.activity_method, src.gamma_energy_mev,
                                          src.atomic_heat_mev) for n, b in branches.items()},
                    init=src.gamma_branch, bounds=(1e-4, 0.6))


def build_analysis(config: str | Path | Mapping[str, Any], objects: Mapping[str, Any] | None = None,
                   base_dir: str | Path | None = None, measure_branch: str | None = None) -> Analysis:
    """Read (if a path), validate and build a configuration.

    Parameters
    ----------
    config : a configuration file (.toml/.yaml/.json) or its content as a dict.
    objects : in-memory histograms (``hist.Hist``, boost-histogram, uproot) and event tables
        (dicts of column arrays), referred to by ``object`` without ``file``.
    base_dir : folder that relative file names are resolved against (default: the
        configuration file's folder, or the working directory for a dict).
    measure_branch : "shape" or "rate": make the ⁵¹Cr branching ratio B the POI, acting on
        the samples marked ``branch = "ground" | "excited"`` as in the analytic model
        (:class:`ganom.fitter.config.BranchFactor`; a systematic named ``br_gamma`` is left
        out, B being measured); "rate" also fixes R = 1.
    """
    if isinstance(config, (str, Path)):
        path: Path | None = Path(config)
        spec = read_config(path)
        where = str(path)
    else:
        path, spec, where = None, validate_config(config), "configuration"
    base = Path(base_dir) if base_dir is not None else (path.parent if path is not None else Path.cwd())
    bd = _Builder(spec, where, base, objects)
    mb = ModelBuilder()
    for ci, ch in enumerate(spec["channels"]):
        if ch["name"] in bd.binnings:
            raise bd.fail(f"channels[{ci}].name", f"channel '{ch['name']}' is defined twice")
        b = bd.binning(ci, ch)
        bd.binnings[ch["name"]] = b
        mb.add_channel(ch["name"], b.n_bins)
    for ci, ch in enumerate(spec["channels"]):
        for si, s in enumerate(ch["samples"]):
            bd.sample(ci, si, s, bd.binnings[ch["name"]])
    for sname in dict.fromkeys(s for s, _ in bd.nominal):
        mb.add_sample(sname, {c: v for (s, c), v in bd.nominal.items() if s == sname})
    branch_samples = {s["name"]: s["branch"] for ch in spec["channels"] for s in ch["samples"] if "branch" in s}
    for i, sy in enumerate(spec["systematics"]):
        if measure_branch is not None and sy["name"] == "br_gamma":
            continue
        bd.systematic(i, sy, mb)
    if measure_branch is not None:
        _add_branching(bd, mb, branch_samples, measure_branch, where)
    for c in bd.binnings:
        errs = {s: e for (s, c2), e in bd.mc.items() if c2 == c}
        if errs:
            mb.add_mc_statistics(c, errs, spec["mc_statistics_constraint"])
    poi = spec["poi"]
    if not any(sy["name"] == poi and sy["type"] == "normfactor" for sy in spec["systematics"]):
        raise ConfigError(where, "poi", f"'{poi}' is not a normfactor of the systematics; define "
                                        f"{{name = \"{poi}\", type = \"normfactor\", samples = [...]}}")
    model = mb.build(poi="B" if measure_branch is not None else poi)
    if measure_branch == "rate":
        if "R" not in model.parameters:
            raise ConfigError(where, "poi", "measure_branch = rate fixes the signal strength R = 1: the configuration "
                                            "has no parameter R")
        model = model.with_parameters(model.config().fix("R", 1.0))
    mains = [bd.data(ci, ch, bd.binnings[ch["name"]]) for ci, ch in enumerate(spec["channels"])]
    data = None
    if any(m is not None for m in mains):
        missing = [ch["name"] for ch, m in zip(spec["channels"], mains) if m is None]
        if missing:
            raise ConfigError(where, "channels", f"data are given for some channels but not for {', '.join(missing)}")
        data = model.data(np.concatenate(mains))  # type: ignore[arg-type]
    osc = OscillationModel(model, response=bd.response) if bd.response.pieces else None
    return Analysis(spec.get("name", path.stem if path is not None else "analysis"), model, osc, data,
                    list(bd.binnings.values()), spec, path)
