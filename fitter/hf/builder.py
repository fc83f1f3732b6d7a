"""ModelBuilder: assemble a :class:`~ganom.fitter.hf.model.BinnedModel` channel by channel and
modifier by modifier (the typed modifiers of :mod:`ganom.fitter.hf.modifiers`).

Parameters follow pyhf 0.7's conventions (pyhf docs, "Modifiers"; docs/statistics.md §3–4):

* normsys/histosys α: N(0, 1), bounds ±30 here (a numerical guard: profiles far from the data
  pull α by ≫ 5σ; pyhf's default ±5 is applied when a workspace is loaded);
* lumi: N(1, σ); normfactor and shapefactor: free;
* staterror γ_b: N(1, σ_b), σ_b = √(Σ_s δ_sb²) / Σ_s ν_sb over the samples carrying it;
  a bin with σ_b = 0 is fixed at 1 (its constraint keeps σ = 1, as in pyhf);
* shapesys γ_b: Poisson with τ_b = (ν_b/δ_b)²; a bin with ν_b = 0 or δ_b = 0 is fixed
  (τ_b = 1, as in pyhf).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import ModelError
from ganom.fitter.hf.interpolation import code4_coefficients
from ganom.fitter.hf.mcstat import CONSTRAINTS, MCStat
from ganom.fitter.hf.model import ALPHA_BOUNDS, BinnedModel, _GammaMod, _ScalarMod
from ganom.fitter.hf.modifiers import (
    PER_BIN,
    Function,
    HistoSys,
    Lumi,
    Modifier,
    NormFactor,
    NormSys,
    ShapeFactor,
    ShapeSys,
    StatError,
)
from ganom.fitter.hf.parameters import Parameter, ParameterSet

__all__ = ["ModelBuilder", "GAMMA_BOUNDS"]

FloatArray = NDArray[np.float64]
GAMMA_BOUNDS = (1e-10, 10.0)
"""Bounds of staterror and shapesys γ's (pyhf's defaults)."""
_ALPHA_LIKE = ("normsys", "histosys")


class ModelBuilder:
    """Assemble a :class:`BinnedModel` channel by channel and modifier by modifier.

    >>> b = ModelBuilder()
    >>> b.add_channel("sr", 2)
    >>> b.add_sample("sig", {"sr": [5.0, 10.0]}); b.add_sample("bkg", {"sr": [50.0, 60.0]})
    >>> b.add_normfactor("mu", ["sig"]); b.add_normsys("bkg_norm", {"bkg": (0.9, 1.1)})
    >>> m = b.build(poi="mu")
    >>> m.expected(m.parameters.inits).tolist()
    [55.0, 70.0]
    """

    def __init__(self) -> None:
        self._channels: list[tuple[str, int]] = []
        self._samples: dict[str, dict[str, FloatArray]] = {}
        self._params = ParameterSet()
        self._ptype: dict[str, str] = {}
        self._mods: list[Modifier] = []
        self._mcstat: dict[str, dict[str, FloatArray]] = {}
        self._mc_constraint: str | None = None

    # -- structure --------------------------------------------------------------------
    def add_channel(self, name: str, n_bins: int) -> None:
        if any(c == name for c, _ in self._channels):
            raise ModelError(f"channel '{name}' defined twice")
        if n_bins < 1:
            raise ModelError(f"channel '{name}' needs ≥ 1 bin, got {n_bins}")
        self._channels.append((name, int(n_bins)))

    def _nbins(self, channel: str) -> int:
        for c, n in self._channels:
            if c == channel:
                return n
        raise ModelError(f"unknown channel '{channel}'; channels: {', '.join(c for c, _ in self._channels)}")

    def add_sample(self, name: str, counts: Mapping[str, ArrayLike]) -> None:
        """Nominal counts of a sample in one or more channels (absent channels: no sample)."""
        if name in self._samples:
            raise ModelError(f"sample '{name}' defined twice")
        out = {}
        for ch, arr in counts.items():
            a = np.asarray(arr, dtype=float).ravel()
            if a.size != self._nbins(ch):
                raise ModelError(f"sample '{name}', channel '{ch}': {a.size} bins, the channel has {self._nbins(ch)}")
            if not np.all(np.isfinite(a)):
                raise ModelError(f"sample '{name}', channel '{ch}': the template contains NaN or inf")
            out[ch] = a
        self._samples[name] = out

    # -- modifiers ----------------------------------------------------------------------
    def add_modifier(self, mod: Modifier, **param: Any) -> None:
        """Add one typed modifier; ``param`` (init, bounds, constraint) sets up its parameter
        the first time the name is seen (normfactor and function parameters)."""
        if mod.sample not in self._samples:
            raise ModelError(f"{mod.where()}: unknown sample '{mod.sample}'; samples: {', '.join(self._samples)}")
        if mod.channel not in self._samples[mod.sample]:
            raise ModelError(f"{mod.where()}: sample '{mod.sample}' is not in channel '{mod.channel}'")
        n = self._nbins(mod.channel)
        sized = {"histosys": ("lo_data", "hi_data"), "staterror": ("errors",), "shapesys": ("errors",)}
        for attr in sized.get(mod.kind, ()):
            if getattr(mod, attr).size != n:
                raise ModelError(f"{mod.where()}: {attr} has {getattr(mod, attr).size} bins, the channel has {n}")
        self._param(mod, **param)
        if mod.kind in PER_BIN:
            self._check_sharing(mod)
        self._mods.append(mod)

    def _check_sharing(self, mod: Modifier) -> None:
        """Per-bin modifiers of one name: what pyhf accepts (checked when added, so that a
        workspace error can name the offending modifier)."""
        uses = [m for m in self._mods if m.name == mod.name]
        if not uses:
            return
        if mod.kind == "shapesys":
            raise ModelError(f"{mod.where()}: shapesys '{mod.name}' is already on '{uses[0].sample}'/"
                             f"'{uses[0].channel}'; a shapesys belongs to one sample in one channel (pyhf refuses "
                             f"a shared one too)")
        chans = list(dict.fromkeys([m.channel for m in uses] + [mod.channel]))
        if mod.kind == "staterror" and len(chans) > 1:
            raise ModelError(f"staterror '{mod.name}' spans channels {', '.join(chans)}; its σ_b are computed per "
                             f"bin of one channel (pyhf cannot share it either): name it per channel")
        if self._nbins(mod.channel) != self._nbins(uses[0].channel):
            raise ModelError(f"{mod.kind} '{mod.name}' spans channels of different bin counts "
                             f"({uses[0].channel}: {self._nbins(uses[0].channel)}, {mod.channel}: "
                             f"{self._nbins(mod.channel)}); its γ's are one per bin")

    def _param(self, mod: Modifier, **kw: Any) -> None:
        name, kind = mod.name, mod.kind
        if name in self._ptype:
            old = self._ptype[name]
            if old != kind and not (old in _ALPHA_LIKE and kind in _ALPHA_LIKE):
                raise ModelError(f"parameter '{name}' is used as {old} and as {kind}")
            if kind == "function":
                raise ModelError(f"parameter '{name}' defined twice")
            return
        self._ptype[name] = kind
        if kind in _ALPHA_LIKE:
            self._params.add(Parameter(name, 0.0, ALPHA_BOUNDS, "normal", 0.0, 1.0))
        elif kind == "normfactor":
            self._params.add(Parameter(name, float(kw.get("init", 1.0)), tuple(kw.get("bounds", (0.0, 10.0)))))
        elif kind == "lumi":
            s = mod.sigma  # type: ignore[attr-defined]
            self._params.add(Parameter(name, 1.0, kw.get("bounds", (max(1e-10, 1 - 5 * s), 1 + 5 * s)), "normal", 1.0, s))
        elif kind == "function":
            c = kw.get("constraint")
            if c is None:
                self._params.add(Parameter(name, float(kw["init"]), tuple(kw["bounds"])))
            else:
                self._params.add(Parameter(name, float(kw["init"]), tuple(kw["bounds"]), "normal", float(c[0]),
                                           float(c[1])))
        # per-bin parameters are created by build(), when every use of the name is known

    def _targets(self, samples: Iterable[str], channels: Iterable[str] | None) -> list[tuple[str, str]]:
        out = []
        chans = None if channels is None else list(channels)
        for s in samples:
            if s not in self._samples:
                raise ModelError(f"unknown sample '{s}'; samples: {', '.join(self._samples)}")
            for c in self._samples[s]:
                if chans is None or c in chans:
                    out.append((s, c))
        return out

    def add_normfactor(self, name: str, samples: Iterable[str], channels: Iterable[str] | None = None,
                       init: float = 1.0, bounds: tuple[float, float] = (0.0, 10.0)) -> None:
        """A free multiplicative parameter on the samples (in the given channels, default all)."""
        for s, c in self._targets(samples, channels):
            self.add_modifier(NormFactor(name, s, c), init=init, bounds=bounds)

    def add_lumi(self, name: str, samples: Iterable[str], sigma: float, channels: Iterable[str] | None = None) -> None:
        """A multiplicative parameter with a normal constraint N(1, σ) (pyhf ``lumi``)."""
        for s, c in self._targets(samples, channels):
            self.add_modifier(Lumi(name, s, c, sigma=float(sigma)))

    def add_normsys(self, name: str,
                    factors: Mapping[str, tuple[float, float]] | Mapping[tuple[str, str], tuple[float, float]]) -> None:
        """Normalisation systematic: {sample or (sample, channel): (lo, hi)} factors at α = ∓1."""
        for key, (lo, hi) in factors.items():
            sample, channel = key if isinstance(key, tuple) else (key, None)
            for s, c in self._targets([sample], None if channel is None else [channel]):
                self.add_modifier(NormSys(name, s, c, lo=float(lo), hi=float(hi)))

    def add_histosys(self, name: str, shapes: Mapping[tuple[str, str], tuple[ArrayLike, ArrayLike]]) -> None:
        """Shape systematic: {(sample, channel): (template at α = −1, template at α = +1)}."""
        for (sample, channel), (lo, hi) in shapes.items():
            self.add_modifier(HistoSys(name, sample, channel, lo_data=lo, hi_data=hi))  # type: ignore[arg-type]

    def add_function(self, name: str, factors: Mapping[str, Callable[[FloatArray], tuple[FloatArray, FloatArray]]],
                     init: float, bounds: tuple[float, float], constraint: tuple[float, float] | None = None) -> None:
        """A parameter in natural units acting through factors f_s(θ) on samples (all their
        channels). ``factors``: {sample: callable θ → (f(θ), f'(θ))}, vectorised and picklable.
        A native extension of HistFactory (pyhf cannot express it). ``constraint`` = (centre,
        σ) adds a normal constraint."""
        if name in self._ptype:
            raise ModelError(f"parameter '{name}' defined twice")
        for sample, fn in factors.items():
            for s, c in self._targets([sample], None):
                mod = Function(name, s, c, factor=fn)
                if name in self._ptype:
                    self._mods.append(mod)
                else:
                    self.add_modifier(mod, init=init, bounds=bounds, constraint=constraint)

    def add_staterror(self, name: str, channel: str, samples: Iterable[str],
                      abs_uncertainties: Mapping[str, ArrayLike]) -> None:
        """Per-bin γ's shared by the samples, σ_b = √Σδ²/Σν (pyhf staterror)."""
        n = self._nbins(channel)
        for s in samples:
            err = abs_uncertainties.get(s)
            self.add_modifier(StatError(name, s, channel, errors=np.zeros(n) if err is None else err))  # type: ignore[arg-type]

    def add_mc_statistics(self, channel: str, abs_uncertainties: Mapping[str, ArrayLike],
                          constraint: str = "normal") -> None:
        """MC statistical uncertainties δ_sb (√Σw²) of the templates in a channel, profiled
        analytically per bin (Barlow–Beeston lite, :mod:`ganom.fitter.hf.mcstat`).

        The γ_b of a bin multiplies every sample of the channel, σ_b = √Σ_s δ_sb² / Σ_s ν_sb
        over all of them (a sample without an entry has δ = 0): exactly a pyhf ``staterror``
        named ``mcstat_<channel>`` on every sample, which is how the model exports. Call once
        per channel, after its samples. ``constraint`` "poisson" treats the MC as a count of
        1/σ_b² effective events (one constraint per model; pyhf's staterror is "normal")."""
        n = self._nbins(channel)
        if constraint not in CONSTRAINTS:
            raise ModelError(f"MC statistics constraint = {constraint!r}; allowed: {' | '.join(CONSTRAINTS)}")
        if self._mc_constraint not in (None, constraint):
            raise ModelError(f"MC statistics of channel '{channel}': constraint {constraint}, the model's other "
                             f"channels use {self._mc_constraint} (one per model)")
        self._mc_constraint = constraint
        if channel in self._mcstat:
            raise ModelError(f"MC statistics of channel '{channel}' given twice")
        errs = {}
        for sample, err in abs_uncertainties.items():
            if sample not in self._samples or channel not in self._samples[sample]:
                raise ModelError(f"MC statistics: sample '{sample}' is not in channel '{channel}'")
            e = np.asarray(err, dtype=float).ravel()
            if e.size != n:
                raise ModelError(f"MC statistics of '{sample}'/'{channel}': {e.size} bins, the channel has {n}")
            if not (np.all(np.isfinite(e)) and np.all(e >= 0)):
                bad = int(np.nonzero(~(np.isfinite(e) & (e >= 0)))[0][0])
                raise ModelError(f"MC statistics of '{sample}'/'{channel}', bin {bad}: δ = {e[bad]!r}; need a finite "
                                 f"value ≥ 0")
            errs[sample] = e
        self._mcstat[channel] = errs

    def add_shapesys(self, name: str, sample: str, channel: str, abs_uncertainty: ArrayLike) -> None:
        """Per-bin γ's of one sample with Poisson constraints, τ_b = (ν_b/δ_b)² (pyhf shapesys)."""
        self.add_modifier(ShapeSys(name, sample, channel, errors=abs_uncertainty))  # type: ignore[arg-type]

    def add_shapefactor(self, name: str, samples: Iterable[str], channel: str) -> None:
        """Per-bin free γ's (pyhf shapefactor)."""
        for s in samples:
            self.add_modifier(ShapeFactor(name, s, channel))

    # -- build --------------------------------------------------------------------------
    def build(self, poi: str | None = None, evaluator: str = "auto") -> BinnedModel:
        """The model; ``evaluator`` "auto" lets one- or two-channel models without per-bin γ's
        take the BLAS fast path (ganom's analysis models), "flat" always uses the general
        evaluator and the Newton-then-MIGRAD fit (pyhf workspaces)."""
        if evaluator not in ("auto", "flat"):
            raise ModelError(f"evaluator = {evaluator!r}; allowed: auto | flat")
        chans = [c for c, _ in self._channels]
        if not chans or not self._samples:
            raise ModelError("a model needs at least one channel and one sample")
        snames = list(self._samples)
        S, C = len(snames), len(chans)
        offsets = np.cumsum([0] + [n for _, n in self._channels])
        B = int(offsets[-1])
        nominal = np.zeros((S, B))
        present = np.zeros((S, C), dtype=bool)
        for s, sname in enumerate(snames):
            for ch, arr in self._samples[sname].items():
                c = chans.index(ch)
                nominal[s, offsets[c]:offsets[c + 1]] = arr
                present[s, c] = True
        params = self._params.copy()

        def sl_of(c: int) -> slice:
            return slice(int(offsets[c]), int(offsets[c + 1]))

        scalar: dict[int, _ScalarMod] = {}
        normsys: dict[int, tuple[FloatArray, FloatArray]] = {}
        histo: dict[int, tuple[FloatArray, FloatArray]] = {}
        per_bin: dict[str, list[Modifier]] = {}
        for mod in self._mods:
            s, c = snames.index(mod.sample), chans.index(mod.channel)
            if mod.kind in PER_BIN:
                per_bin.setdefault(mod.name, []).append(mod)
                continue
            p = params.index(mod.name)
            if mod.kind == "normsys":
                lo, hi = normsys.setdefault(p, (np.ones((S, C)), np.ones((S, C))))
                lo[s, c], hi[s, c] = mod.lo, mod.hi  # type: ignore[attr-defined]
            elif mod.kind == "histosys":
                dlo, dhi = histo.setdefault(p, (np.zeros((S, B)), np.zeros((S, B))))
                sl = sl_of(c)
                dlo[s, sl] = nominal[s, sl] - mod.lo_data  # type: ignore[attr-defined]
                dhi[s, sl] = mod.hi_data - nominal[s, sl]  # type: ignore[attr-defined]
            else:
                sm = scalar.get(p)
                if sm is None:
                    sm = scalar[p] = _ScalarMod(mod.kind, p, np.zeros((S, C), dtype=bool), fn=[],
                                                fn_samples=np.zeros(0, dtype=int))
                sm.mask[s, c] = True
                assert sm.fn_samples is not None
                if mod.kind == "function" and s not in sm.fn_samples:
                    sm.fn.append(mod.factor)  # type: ignore[attr-defined]
                    sm.fn_samples = np.append(sm.fn_samples, s)
        gammas = [self._gamma(name, mods, params, nominal, snames, chans, sl_of) for name, mods in per_bin.items()]
        scalar_list = list(scalar.values())
        for p, (lo, hi) in normsys.items():
            scalar_list.append(_ScalarMod("normsys", p, (lo != 1) | (hi != 1), lo, hi, code4_coefficients(lo, hi)))
        if poi is not None and poi not in params and f"{poi}[0]" in params and f"{poi}[1]" not in params:
            poi = f"{poi}[0]"  # a one-bin per-bin set named as a whole (pyhf's poi naming)
        if poi is not None:
            params = ParameterSet(params.params, poi)
        mods = list(self._mods)
        mcstat = self._mc_statistics(nominal, snames, chans, sl_of, mods)
        model = BinnedModel(self._channels, snames, nominal, params, scalar_list, histo, gammas, tuple(mods),
                            present)
        model.evaluator = evaluator
        model.mcstat = mcstat
        return model

    def _mc_statistics(self, nominal: FloatArray, snames: list[str], chans: list[str],
                       sl_of: Callable[[int], slice], mods: list[Modifier]) -> MCStat | None:
        """The analytically profiled MC-statistics bins; their staterror modifiers (on every
        sample of the channel) are appended to ``mods`` for the pyhf export."""
        if not self._mcstat:
            return None
        bins, sigma, names, chan_of = [], [], [], []
        for channel, errs in self._mcstat.items():
            c = chans.index(channel)
            sl = sl_of(c)
            name = f"mcstat_{channel}"
            if name in self._ptype:
                raise ModelError(f"parameter name '{name}' is reserved for the MC statistics of channel '{channel}'")
            names.append(name)
            rows = [s for s, sn in enumerate(snames) if channel in self._samples[sn]]
            tot = nominal[rows, sl].sum(axis=0)
            err2 = np.sum([e ** 2 for e in errs.values()], axis=0) if errs else np.zeros(tot.size)
            ok = (tot > 0) & (err2 > 0)
            rel = np.sqrt(np.where(ok, err2, 0.0)) / np.where(ok, tot, 1.0)
            bins.append(sl.start + np.nonzero(ok)[0])
            sigma.append(rel[ok])
            chan_of.append(np.full(int(ok.sum()), c))
            for s in rows:
                sn = snames[s]
                mods.append(StatError(name, sn, channel, errors=errs.get(sn, np.zeros(tot.size))))
        return MCStat(np.concatenate(bins).astype(np.intp), np.concatenate(sigma), tuple(names),
                      np.concatenate(chan_of).astype(np.intp), self._mc_constraint or "normal")

    def _gamma(self, name: str, mods: list[Modifier], params: ParameterSet, nominal: FloatArray, snames: list[str],
               chans: list[str], sl_of: Callable[[int], slice]) -> _GammaMod:
        # one kind per name, one bin count, staterror in one channel, shapesys on one sample:
        # add_modifier checked all of it (_check_sharing)
        kind = mods[0].kind
        used = list(dict.fromkeys(m.channel for m in mods))
        nb = self._nbins(used[0])
        blocks = []
        for c_name in used:
            mask = np.zeros(len(snames), dtype=bool)
            for m in mods:
                if m.channel == c_name:
                    mask[snames.index(m.sample)] = True
            blocks.append((chans.index(c_name), mask))
        idx = []
        if kind == "staterror":
            c = chans.index(used[0])
            sl = sl_of(c)
            rows = [snames.index(m.sample) for m in mods]
            tot = nominal[rows, sl].sum(axis=0)
            err2 = np.sum([m.errors ** 2 for m in mods], axis=0)  # type: ignore[attr-defined]
            rel = np.sqrt(np.where(tot > 0, err2 / np.where(tot > 0, tot, 1.0) ** 2, 0.0))
            for b in range(nb):
                sigma = float(rel[b]) if rel[b] > 0 else 1.0
                idx.append(params.add(Parameter(f"{name}[{b}]", 1.0, GAMMA_BOUNDS, "normal", 1.0, sigma,
                                                fixed=not rel[b] > 0)))
        elif kind == "shapesys":
            m = mods[0]
            nom = nominal[snames.index(m.sample), sl_of(chans.index(m.channel))]
            err = m.errors  # type: ignore[attr-defined]
            for b in range(nb):
                valid = nom[b] > 0 and err[b] > 0
                tau = float((nom[b] / err[b]) ** 2) if valid else 1.0
                idx.append(params.add(Parameter(f"{name}[{b}]", 1.0, GAMMA_BOUNDS, "poisson", tau, tau,
                                                fixed=not valid)))
        else:
            for b in range(nb):
                idx.append(params.add(Parameter(f"{name}[{b}]", 1.0, (0.0, 10.0), "free")))
        return _GammaMod(kind, name, np.array(idx, dtype=int), tuple(blocks))
