"""ModelBuilder: assemble a :class:`~ganom.fitter.hf.model.BinnedModel` channel by channel and
modifier by modifier (the typed modifiers of :mod:`ganom.fitter.hf.modifiers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import ModelError
from ganom.fitter.hf.interpolation import code4_coefficients
from ganom.fitter.hf.model import ALPHA_BOUNDS, BinnedModel, _GammaMod, _ScalarMod
from ganom.fitter.hf.parameters import Parameter, ParameterSet

__all__ = ["ModelBuilder"]


# ----------------------------------------------------------------------------- builder
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
        self._samples: dict[str, dict[str, NDArray]] = {}
        self._params = ParameterSet()
        self._ptype: dict[str, str] = {}
        self._mods: list[dict[str, Any]] = []

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

    def _param(self, name: str, kind: str, **kw: Any) -> None:
        alpha_like = {"normsys", "histosys"}
        if name in self._ptype:
            old = self._ptype[name]
            if old != kind and not (old in alpha_like and kind in alpha_like):
                raise ModelError(f"parameter '{name}' is used as {old} and as {kind}")
            return
        self._ptype[name] = kind
        if kind in alpha_like:
            # α bounds are numerical guards only: profiles far from the data (a conditional
            # fit at R = 1 on deficit data) legitimately pull α by ≫ 5σ.
            self._params.add(Parameter(name, 0.0, ALPHA_BOUNDS, "normal", 0.0, 1.0))
        elif kind == "normfactor":
            self._params.add(Parameter(name, kw.get("init", 1.0), kw.get("bounds", (0.0, 10.0))))
        elif kind == "lumi":
            s = kw["sigma"]
            self._params.add(Parameter(name, 1.0, kw.get("bounds", (max(1e-10, 1 - 5 * s), 1 + 5 * s)), "normal", 1.0, s))
        else:
            raise ModelError(f"unknown parameter kind {kind}")

    def _check_samples(self, samples: Iterable[str]) -> list[str]:
        out = list(samples)
        for s in out:
            if s not in self._samples:
                raise ModelError(f"unknown sample '{s}'; samples: {', '.join(self._samples)}")
        return out

    def add_normfactor(self, name: str, samples: Iterable[str], channels: Iterable[str] | None = None,
                       init: float = 1.0, bounds: tuple[float, float] = (0.0, 10.0)) -> None:
        """A free multiplicative parameter on the samples (in the given channels, default all)."""
        self._param(name, "normfactor", init=init, bounds=bounds)
        self._mods.append({"type": "normfactor", "name": name, "samples": self._check_samples(samples),
                           "channels": None if channels is None else list(channels)})

    def add_lumi(self, name: str, samples: Iterable[str], sigma: float, channels: Iterable[str] | None = None) -> None:
        """A multiplicative parameter with a normal constraint N(1, σ) (pyhf ``lumi``)."""
        self._param(name, "lumi", sigma=sigma)
        self._mods.append({"type": "lumi", "name": name, "samples": self._check_samples(samples),
                           "channels": None if channels is None else list(channels)})

    def add_normsys(self, name: str, factors: Mapping[str, tuple[float, float]] | Mapping[tuple[str, str], tuple[float, float]]) -> None:
        """Normalisation systematic: {sample or (sample, channel): (lo, hi)} factors at α = ∓1."""
        self._param(name, "normsys")
        for key, (lo, hi) in factors.items():
            sample, channel = (key if isinstance(key, tuple) else (key, None))
            self._check_samples([sample])
            if not (lo > 0 and hi > 0 and np.isfinite(lo) and np.isfinite(hi)):
                raise ModelError(f"normsys '{name}' on '{sample}': lo = {lo}, hi = {hi} must be finite and > 0")
            self._mods.append({"type": "normsys", "name": name, "samples": [sample],
                               "channels": None if channel is None else [channel], "lo": float(lo), "hi": float(hi)})

    def add_histosys(self, name: str, shapes: Mapping[tuple[str, str], tuple[ArrayLike, ArrayLike]]) -> None:
        """Shape systematic: {(sample, channel): (template at α = −1, template at α = +1)}."""
        self._param(name, "histosys")
        for (sample, channel), (lo, hi) in shapes.items():
            self._check_samples([sample])
            n = self._nbins(channel)
            lo, hi = np.asarray(lo, dtype=float).ravel(), np.asarray(hi, dtype=float).ravel()
            if lo.size != n or hi.size != n or not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
                raise ModelError(f"histosys '{name}' on '{sample}'/'{channel}': need two finite templates of {n} bins")
            self._mods.append({"type": "histosys", "name": name, "samples": [sample], "channels": [channel],
                               "lo_data": lo, "hi_data": hi})

    def add_function(self, name: str, factors: Mapping[str, Any], init: float, bounds: tuple[float, float],
                     constraint: tuple[float, float] | None = None) -> None:
        """A parameter in natural units acting through arbitrary factors f_s(θ) on samples.

        ``factors``: {sample: callable θ → (f(θ), f'(θ))}, vectorised and picklable. A native
        extension of HistFactory (pyhf cannot express it). ``constraint`` = (centre, σ) adds a
        normal constraint.
        """
        if name in self._ptype:
            raise ModelError(f"parameter '{name}' defined twice")
        self._ptype[name] = "function"
        if constraint is None:
            self._params.add(Parameter(name, float(init), bounds))
        else:
            self._params.add(Parameter(name, float(init), bounds, "normal", float(constraint[0]), float(constraint[1])))
        self._mods.append({"type": "function", "name": name, "samples": self._check_samples(factors),
                           "channels": None, "functions": dict(factors)})

    def add_staterror(self, name: str, channel: str, samples: Iterable[str], abs_uncertainties: Mapping[str, ArrayLike]) -> None:
        """Per-bin γ's shared by the samples, normal constraint with σ_b = √Σσ²/Σν (pyhf staterror)."""
        self._mods.append({"type": "staterror", "name": name, "samples": self._check_samples(samples),
                           "channels": [channel], "errors": {s: np.asarray(v, dtype=float) for s, v in abs_uncertainties.items()}})

    def add_shapesys(self, name: str, sample: str, channel: str, abs_uncertainty: ArrayLike) -> None:
        """Per-bin γ's of one sample with Poisson constraints, τ_b = (ν_b/σ_b)² (pyhf shapesys)."""
        self._mods.append({"type": "shapesys", "name": name, "samples": self._check_samples([sample]),
                           "channels": [channel], "errors": np.asarray(abs_uncertainty, dtype=float)})

    def add_shapefactor(self, name: str, samples: Iterable[str], channel: str) -> None:
        """Per-bin free γ's (pyhf shapefactor)."""
        self._mods.append({"type": "shapefactor", "name": name, "samples": self._check_samples(samples), "channels": [channel]})

    def build(self, poi: str | None = None) -> BinnedModel:
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
        scalar: list[_ScalarMod] = []
        histo: dict[int, tuple[NDArray, NDArray]] = {}
        gammas: list[_GammaMod] = []
        normsys_acc: dict[int, tuple[NDArray, NDArray]] = {}

        def mask_for(mod: dict[str, Any]) -> NDArray:
            m = np.zeros((S, C), dtype=bool)
            cs = range(C) if mod["channels"] is None else [chans.index(c) for c in mod["channels"]]
            for sname in mod["samples"]:
                for c in cs:
                    m[snames.index(sname), c] = True
            return m & present

        for mod in self._mods:
            t = mod["type"]
            if t in ("normfactor", "lumi"):
                scalar.append(_ScalarMod(t, params.index(mod["name"]), mask_for(mod)))
            elif t == "function":
                m_ = mask_for(mod)
                idx = [snames.index(n) for n in mod["samples"]]
                scalar.append(_ScalarMod(t, params.index(mod["name"]), m_, fn=[mod["functions"][n] for n in mod["samples"]],
                                         fn_samples=np.array(idx)))
            elif t == "normsys":
                p = params.index(mod["name"])
                lo, hi = normsys_acc.setdefault(p, (np.ones((S, C)), np.ones((S, C))))
                m = mask_for(mod)
                lo[m] = mod["lo"]
                hi[m] = mod["hi"]
            elif t == "histosys":
                p = params.index(mod["name"])
                dlo, dhi = histo.setdefault(p, (np.zeros((S, B)), np.zeros((S, B))))
                s = snames.index(mod["samples"][0])
                c = chans.index(mod["channels"][0])
                sl = slice(offsets[c], offsets[c + 1])
                dlo[s, sl] = nominal[s, sl] - mod["lo_data"]
                dhi[s, sl] = mod["hi_data"] - nominal[s, sl]
            else:
                ch = mod["channels"][0]
                c = chans.index(ch)
                sl = slice(offsets[c], offsets[c + 1])
                smask = np.array([n in mod["samples"] for n in snames])
                nb = sl.stop - sl.start
                idx = []
                if t == "staterror":
                    tot = nominal[smask, sl].sum(axis=0)
                    err2 = np.zeros(nb)
                    for e in mod["errors"].values():
                        err2 += np.asarray(e, dtype=float) ** 2
                    rel = np.where(tot > 0, np.sqrt(err2) / np.where(tot > 0, tot, 1.0), 0.0)
                for b in range(nb):
                    pname = f"{mod['name']}[{b}]"
                    if t == "staterror":
                        if rel[b] > 0:
                            pi = params.add(Parameter(pname, 1.0, (1e-10, 10.0), "normal", 1.0, float(rel[b])))
                        else:
                            pi = params.add(Parameter(pname, 1.0, (1e-10, 10.0), "free", fixed=True))
                    elif t == "shapesys":
                        nom_b = nominal[snames.index(mod["samples"][0]), sl][b]
                        err = float(mod["errors"][b])
                        if err > 0 and nom_b > 0:
                            tau = (nom_b / err) ** 2
                            pi = params.add(Parameter(pname, 1.0, (1e-10, 10.0), "poisson", tau, tau))
                        else:
                            pi = params.add(Parameter(pname, 1.0, (1e-10, 10.0), "free", fixed=True))
                    else:
                        pi = params.add(Parameter(pname, 1.0, (0.0, 10.0), "free"))
                    idx.append(pi)
                gammas.append(_GammaMod(t, mod["name"], c, smask, np.array(idx, dtype=int)))
        for p, (lo, hi) in normsys_acc.items():
            scalar.append(_ScalarMod("normsys", p, (lo != 1) | (hi != 1), lo, hi, code4_coefficients(lo, hi)))
        if poi is not None:
            params = ParameterSet(params.params, poi)
        return BinnedModel(self._channels, snames, nominal, params, scalar, histo, gammas, self._mods, present)
