"""BinnedModel: samples × modifiers → expected counts μ(θ), Poisson NLL, analytic gradient.

The semantics are HistFactory's, as pyhf implements them (Cranmer et al., CERN-OPEN-2012-016;
pyhf docs "Modifiers"), so that a model and its exported pyhf workspace are the same
likelihood:

    μ_b(θ) = Σ_s [ν_sb + Σ_h Δ_hsb(α_h)] · Π_m κ_msc(θ) · Π_g γ_gsb
    −ln L(θ) = Σ_b [μ_b − n_b ln μ_b + ln Γ(n_b + 1)] + Σ_p c_p(θ_p | a_p)

with histosys shifts Δ (interpolation code 4p), multiplicative normfactor / lumi / normsys
(code 4) factors κ per (sample, channel), per-bin γ's (staterror, shapesys, shapefactor),
and constraint terms c_p (:mod:`ganom.fitter.hf.parameters`).

Everything is vectorised over a leading batch of parameter vectors θ[..., P], which is what
the grid scans and toy fits use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from ganom.exceptions import ModelError, ParameterError
from ganom.fitter.hf.data import Data
from ganom.fitter.hf.evaluate import FlatEvaluator
from ganom.fitter.hf.interpolation import HistoParts, _code4p_c2, code4
from ganom.fitter.hf.mcstat import MCStat, profiled_gamma, profiled_terms
from ganom.fitter.hf.modifiers import Modifier
from ganom.fitter.hf.parameters import ParameterSet
from ganom.fitter.hf.sampling import poisson_toys

__all__ = ["MU_FLOOR", "ALPHA_BOUNDS", "FAST_PATH_MAX_CHANNELS", "RowOverride", "RowShift", "BinnedModel",
           "poisson_nll", "poisson_constant"]

MU_FLOOR = 1e-12  # expected counts are floored here: a bin with data and μ → 0 is a wall, not NaN


ALPHA_BOUNDS = (-30.0, 30.0)  # range of normsys/histosys α parameters [σ]
FAST_PATH_MAX_CHANNELS = 2
"""Models without per-bin γ's and with at most this many channels take the BLAS fast path."""
_BLOCK_BYTES = 1 << 20
"""Size of one [elements, bins] array of a block of the fast gradient (fits in a core's cache)."""


_STIRLING_MIN = 1e3


def poisson_constant(n: ArrayLike) -> NDArray[np.float64]:
    """n − n ln n + ln Γ(n + 1) (0 at n = 0): the part of −ln Pois(n | μ) that does not depend
    on μ. Above n = 1000 it is the Stirling series ½ ln(2πn) + 1/(12n) − 1/(360n³) + 1/(1260n⁵),
    whose first omitted term is < 1e-24: the direct form would cancel n ln n against ln Γ.

    >>> import math
    >>> abs(float(poisson_constant(3.0)) - (3 - 3 * math.log(3) + math.log(6))) < 1e-15
    True
    >>> abs(float(poisson_constant(2e11)) - 0.5 * math.log(2 * math.pi * 2e11)) < 1e-12
    True
    """
    x = np.asarray(n, dtype=float)
    big = x > _STIRLING_MIN
    xs = np.where(big, 0.0, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = xs - np.where(xs > 0, xs * np.log(np.where(xs > 0, xs, 1.0)), 0.0) + gammaln(xs + 1.0)
        xb = np.where(big, x, 1.0)
        inv = 1.0 / xb
        stirling = 0.5 * np.log(2.0 * np.pi * xb) + inv * (1.0 / 12 - inv * inv * (1.0 / 360 - inv * inv / 1260))
    return np.where(big, stirling, direct)


def poisson_nll(n: ArrayLike, lam: ArrayLike) -> NDArray[np.float64]:
    """−ln Pois(n | λ) = λ − n ln λ + ln Γ(n + 1), evaluated as n·(x − ln(1 + x)) + C(n) with
    x = λ/n − 1 and C of :func:`poisson_constant`: exact to rounding also where n and λ are
    ~1e11 (a shapesys with a 0.001 relative error), where the textbook form loses ~1e-3.

    >>> import math
    >>> abs(float(poisson_nll(4.0, 2.5)) - (2.5 - 4 * math.log(2.5) + math.log(24))) < 1e-14
    True
    """
    n_ = np.asarray(n, dtype=float)
    lam_ = np.asarray(lam, dtype=float)
    pos = n_ > 0
    npos = np.where(pos, n_, 1.0)
    x = lam_ / npos - 1.0
    dev = np.where(pos, npos * (x - np.log1p(x)), lam_)
    return dev + poisson_constant(n_)


@dataclass
class RowOverride:
    """Per-batch replacement templates for a few samples (the oscillated signal rows).

    ``rows`` are sample indices; ``nominal`` [..., r, B] their templates; ``sym``/``asym``
    [..., H, r, B] their histosys shifts in code-4p form (one entry per histosys parameter
    of the model, in the model's order). All other samples keep the model's templates, which
    the fast evaluation contracts as shared matrices (BLAS) instead of per-batch copies.
    """

    rows: NDArray[Any]
    nominal: NDArray[Any]
    sym: NDArray[Any] | None = None
    asym: NDArray[Any] | None = None

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.nominal.shape[:-2]

    def __getitem__(self, idx: Any) -> RowOverride:
        return RowOverride(self.rows, self.nominal[idx], None if self.sym is None else self.sym[idx],
                           None if self.asym is None else self.asym[idx])

    def broadcast(self, batch: tuple[int, ...]) -> RowOverride:
        def b(x: NDArray[Any] | None, tail: int) -> NDArray[Any] | None:
            return None if x is None else np.broadcast_to(x, batch + x.shape[-tail:])

        return RowOverride(self.rows, np.broadcast_to(self.nominal, batch + self.nominal.shape[-2:]), b(self.sym, 3),
                           b(self.asym, 3))

    def reshape(self, batch: tuple[int, ...]) -> RowOverride:
        def r(x: NDArray[Any] | None, tail: int) -> NDArray[Any] | None:
            return None if x is None else x.reshape(batch + x.shape[-tail:])

        return RowOverride(self.rows, self.nominal.reshape(batch + self.nominal.shape[-2:]), r(self.sym, 3),
                           r(self.asym, 3))


@dataclass
class RowShift:
    """Per-batch templates of a few samples as the model's own minus a scaled entry of a
    shared table: element n uses T_r − ``scale[n]`` · ``table[index[n]]`` on the samples
    ``rows`` (nominal and code-4p histosys parts), the model's templates elsewhere.

    This is a 3+1 oscillation: the signal is linear in sin²2θ, so with the table holding the
    deficit at sin²2θ = 1 of every Δm², (index, scale) = (Δm² row, sin²2θ) selects any grid
    point. The fast evaluation contracts each table entry with all elements that use it as one
    matrix product: no per-element copy of templates (a :class:`RowOverride` holds one).
    ``nominal`` [U, r, B]; ``sym``/``asym`` [U, H, r, B]; ``index``/``scale`` broadcast to the
    batch.
    """

    rows: NDArray[Any]
    nominal: NDArray[Any]
    sym: NDArray[Any] | None
    asym: NDArray[Any] | None
    index: NDArray[Any]
    scale: NDArray[Any]
    _stacks: dict[tuple[int, int], NDArray[Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(np.broadcast_shapes(np.shape(self.index), np.shape(self.scale)))

    def _with(self, index: NDArray[Any], scale: NDArray[Any]) -> RowShift:
        return RowShift(self.rows, self.nominal, self.sym, self.asym, index, scale, self._stacks)

    def at(self, index: ArrayLike, scale: ArrayLike) -> RowShift:
        """The same table with other (index, scale) per element."""
        ix = np.asarray(index, dtype=np.intp)
        if ix.size and (ix.min() < 0 or ix.max() >= self.nominal.shape[0]):
            raise ModelError(f"RowShift index out of range [0, {self.nominal.shape[0]})")
        return self._with(ix, np.asarray(scale, dtype=float))

    def __getitem__(self, idx: Any) -> RowShift:
        b = self.batch_shape
        return self._with(np.broadcast_to(self.index, b)[idx], np.broadcast_to(self.scale, b)[idx])

    def broadcast(self, batch: tuple[int, ...]) -> RowShift:
        return self._with(np.broadcast_to(self.index, batch), np.broadcast_to(self.scale, batch))

    def reshape(self, batch: tuple[int, ...]) -> RowShift:
        b = self.batch_shape
        return self._with(np.broadcast_to(self.index, b).reshape(batch), np.broadcast_to(self.scale, b).reshape(batch))

    def table_stack(self, sl: slice) -> NDArray[Any]:
        """[U, (1 + 2H)·r, bins of ``sl``]: the nominal, then every sym, then every asym part
        (cached with the table, which every :meth:`at` shares)."""
        key = (sl.start, sl.stop)
        if key not in self._stacks:
            parts = [self.nominal[:, :, sl]]
            if self.sym is not None and self.asym is not None:
                U, H, r = self.sym.shape[:3]
                parts += [self.sym[:, :, :, sl].reshape(U, H * r, -1), self.asym[:, :, :, sl].reshape(U, H * r, -1)]
            self._stacks[key] = np.ascontiguousarray(np.concatenate(parts, axis=1))
        return self._stacks[key]

    def materialize(self, model: BinnedModel) -> RowOverride:
        """The same templates as a :class:`RowOverride` (one copy per element)."""
        s = self.scale[..., None, None]
        nom = model.nominal[self.rows] - s * self.nominal[self.index]
        sym = asym = None
        if self.sym is not None and self.asym is not None:
            hs, ha = model._histo_parts(None)
            sym = hs[:, self.rows] - s[..., None] * self.sym[self.index]
            asym = ha[:, self.rows] - s[..., None] * self.asym[self.index]
        return RowOverride(self.rows, nom, sym, asym)


def _function_factor(m: _ScalarMod, x: NDArray[Any], shape: tuple[int, ...]) -> tuple[NDArray[Any], NDArray[Any]]:
    """Value and derivative of a ``function`` modifier: per sample s, fn[s](θ_p) where masked."""
    v = np.ones(shape)
    d = np.zeros(shape)
    for s_i, f in zip(m.fn_samples, m.fn):
        val, der = f(x[..., 0, 0])
        cols = m.mask[s_i]
        v[..., s_i, cols] = val[..., None]
        d[..., s_i, cols] = der[..., None]
    return v, d


def _concat(parts: list[NDArray[Any]], empty: tuple[int, ...]) -> NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(empty)


def _log_ratio(ratio: NDArray[Any]) -> NDArray[Any]:
    """ln r for r = n/μ (μ floored), where n ln r is to be 0 at n = 0: r is 0 only there, so
    flooring r at 1e-300 is exact (a new array; ``ratio`` is kept)."""
    out: NDArray[Any] = np.maximum(ratio, 1e-300)
    np.log(out, out=out)
    return out


def _shift_groups(index: NDArray[Any], scale: NDArray[Any]) -> list[tuple[int, Any, NDArray[Any]]]:
    """(table entry, elements, their scales) of a :class:`RowShift` batch, entries with a
    nonzero scale only; the elements are a slice where the batch is sorted by entry."""
    live = np.flatnonzero(scale != 0.0)
    if live.size == 0:
        return []
    ix = index[live]
    order = np.argsort(ix, kind="stable")
    cuts = np.flatnonzero(np.diff(ix[order])) + 1
    out: list[tuple[int, Any, NDArray[Any]]] = []
    for part in np.split(live[order], cuts):  # increasing: contiguous iff it spans its size
        el: Any = slice(int(part[0]), int(part[-1]) + 1) if part[-1] - part[0] == part.size - 1 else part
        out.append((int(index[part[0]]), el, scale[part]))
    return out


# ----------------------------------------------------------------------------- the model
@dataclass
class _ScalarMod:
    kind: str  # normfactor | lumi | normsys | function
    param: int
    mask: NDArray[Any]  # (S, C) bool
    lo: Any = None  # normsys: factors at α = ∓1 per (sample, channel), and code-4 coefficients
    hi: Any = None
    coef: Any = None
    fn: Any = None  # function: callable x → (value, derivative), per sample in ``fn_samples``
    fn_samples: Any = None


@dataclass
class _GammaMod:
    """Per-bin γ's of one name: ``params`` [n_bins] multiply bin b of every block (channel,
    samples) that uses the name (a shapefactor may span channels of equal bin counts)."""

    kind: str  # staterror | shapesys | shapefactor
    name: str
    params: NDArray[Any]  # (n_bins,) parameter indices
    blocks: tuple[tuple[int, NDArray[Any]], ...]  # (channel index, (S,) bool samples)


@dataclass
class _BatchPrep:
    """A flattened batch (n = ∏ batch) ready for the BLAS contractions of the fast path."""

    batch: tuple[int, ...]
    n: int
    th2: NDArray[Any]
    rows: tuple[int, ...]
    nom_s: NDArray[Any]
    hs_s: Any
    ha_s: Any
    H: int
    a: NDArray[Any]
    c2: NDArray[Any]
    dc2: NDArray[Any]
    F: NDArray[Any]
    has_factors: bool  # any scalar modifier (dF then carries their derivatives)
    dF: Any
    ovb: Any

    def override_rows(self, sl: slice, elements: slice = slice(None)) -> NDArray[Any]:
        """The overridden rows' templates [n, r, b] on the bins ``sl`` (of the batch
        ``elements``), histosys applied."""
        ov = self.ovb
        e = elements
        base: NDArray[Any] = ov.nominal[e, :, sl]
        if self.H and ov.sym is not None:
            base = base + np.einsum("nh,nhrb->nrb", self.a[e], ov.sym[e, :, :, sl]) \
                + np.einsum("nh,nhrb->nrb", self.c2[e], ov.asym[e, :, :, sl])
        return base


class BinnedModel:
    """A binned likelihood: build with :class:`ModelBuilder`.

    Attributes
    ----------
    channels : channel names; ``channel_slices`` maps them to ranges of the flat bin axis.
    samples : sample names; ``nominal[S, B]`` their nominal counts.
    parameters : the :class:`ParameterSet` (with the POI).
    spec : the modifier specification (for pyhf export).
    """

    _flat_cache: FlatEvaluator
    mcstat: MCStat | None = None
    """Bins whose MC statistical uncertainty is profiled analytically (:mod:`ganom.fitter.hf.mcstat`);
    their auxiliary data follow the parameters' in ``Data.aux``."""

    def __init__(self, channels: list[tuple[str, int]], samples: list[str], nominal: NDArray[Any],
                 parameters: ParameterSet, scalar_mods: list[_ScalarMod], histo: dict[int, tuple[NDArray[Any], NDArray[Any]]],
                 gammas: list[_GammaMod], modifiers: tuple[Modifier, ...], sample_channels: NDArray[Any]):
        self.channels = [c for c, _ in channels]
        offsets = np.cumsum([0] + [n for _, n in channels])
        self.channel_slices = {c: slice(int(offsets[i]), int(offsets[i + 1])) for i, (c, _) in enumerate(channels)}
        self.n_bins = int(offsets[-1])
        self.chan_of_bin = np.repeat(np.arange(len(channels)), [n for _, n in channels])
        self.samples = list(samples)
        self.nominal = nominal
        self.parameters = parameters
        self.modifiers = modifiers
        self.sample_channels = sample_channels  # (S, C) bool: sample present in channel
        self._scalar = scalar_mods
        self._histo_params = np.array(sorted(histo), dtype=int)
        self._histo_dlo = np.stack([histo[p][0] for p in self._histo_params]) if histo else np.zeros((0,) + nominal.shape)
        self._histo_dhi = np.stack([histo[p][1] for p in self._histo_params]) if histo else np.zeros((0,) + nominal.shape)
        self._gammas = gammas
        self.evaluator = "auto"
        self._prepare_constraints()

    # -- bookkeeping ------------------------------------------------------------------
    @property
    def poi(self) -> str | None:
        return self.parameters.poi

    @property
    def uses_flat_evaluator(self) -> bool:
        """Whether plain evaluations take the flat evaluator (any model but ganom's own one- or
        two-channel models without per-bin γ's): batched calls then cost little more than one."""
        return not self._uses_fast_path(None, None)

    @property
    def has_per_bin(self) -> bool:
        """Whether the model has per-bin γ's (staterror, shapesys, shapefactor)."""
        return bool(self._gammas)

    @property
    def n_params(self) -> int:
        return len(self.parameters)

    @property
    def n_aux(self) -> int:
        """Length of ``Data.aux``: one entry per parameter, then one per MC-statistics bin."""
        return self.n_params + (self.mcstat.size if self.mcstat is not None else 0)

    def _mc_aux(self, aux: NDArray[Any]) -> NDArray[Any]:
        mc = self.mcstat
        assert mc is not None
        P = self.n_params
        if aux.shape[-1] != P + mc.size:
            raise ModelError(f"auxiliary data have {aux.shape[-1]} entries; the model needs {P} parameters + "
                             f"{mc.size} MC-statistics bins")
        return aux[..., P:]

    def data_terms(self, mu: NDArray[Any], main: NDArray[Any], aux: NDArray[Any],
                   curvature: bool = False) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]:
        """The main measurement's part of −ln L − constant for expected counts μ [..., B]:
        (value [...], ∂/∂μ_b [..., B], ∂²/∂μ_b² [..., B] with ``curvature``). Bins with an
        MC uncertainty carry their γ_b profiled analytically (:func:`profiled_terms`). A bin
        without data whose μ is at (or below) the floor contributes a constant, so its ∂/∂μ is 0:
        an empty bin that a variation would push below zero is a boundary, not a slope (the
        Asimov truth stays a stationary point)."""
        mu_s = np.maximum(mu, MU_FLOOR)
        ratio = np.divide(main, mu_s)
        mc = self.mcstat
        with_mc = mc is not None and mc.size > 0
        log_r = _log_ratio(ratio)
        if with_mc:
            val: Any = mu_s - main + main * log_r
        else:
            val = (np.einsum("...b,...b->...", np.broadcast_to(main, log_r.shape), log_r)
                   + np.sum(mu_s, axis=-1) - np.sum(main, axis=-1))
        any_low = bool(np.min(mu) <= MU_FLOOR) if np.size(mu) else False
        low = mu <= MU_FLOOR if any_low else None
        curv = ratio / mu_s if curvature else None
        w = np.subtract(1.0, ratio, out=ratio)
        if low is not None:
            w = np.where(low, 1.0, w)
        if with_mc:
            assert mc is not None
            shape = np.broadcast_shapes(val.shape, np.shape(aux)[:-1] + (self.n_bins,))
            val, w = np.broadcast_to(val, shape).copy(), np.broadcast_to(w, shape).copy()
            v, g, c = profiled_terms(np.broadcast_to(mu_s, shape)[..., mc.bins],
                                     np.broadcast_to(main, shape)[..., mc.bins], self._mc_aux(np.asarray(aux)),
                                     mc.sigma, curvature, mc.constraint)
            val[..., mc.bins] = v
            w[..., mc.bins] = g
            if curv is not None:
                curv = np.broadcast_to(curv, shape).copy()
                curv[..., mc.bins] = c
            val = np.sum(val, axis=-1)
        if low is not None:
            w = np.where(low & (main == 0), 0.0, w)
        return val, w, curv

    def mc_gammas(self, theta: ArrayLike, data: Data) -> NDArray[np.float64]:
        """The profiled γ̂_b [..., M] of the MC-statistics bins at θ (empty without them)."""
        mc = self.mcstat
        if mc is None:
            return np.zeros(np.shape(theta)[:-1] + (0,))
        mu = np.maximum(self.expected(theta), MU_FLOOR)[..., mc.bins]
        return profiled_gamma(mu, data.main[..., mc.bins], self._mc_aux(data.aux), mc.sigma, mc.constraint)

    def sample_index(self, name: str) -> int:
        try:
            return self.samples.index(name)
        except ValueError:
            raise ModelError(f"unknown sample '{name}'; samples: {', '.join(self.samples)}") from None

    def _prepare_constraints(self) -> None:
        ps = self.parameters
        self._normal = ps.constrained("normal")
        self._poisson = ps.constrained("poisson")
        self._sigma = np.array([p.sigma for p in ps], dtype=float)
        self._aux0 = np.array([p.aux for p in ps], dtype=float)

    def with_parameters(self, parameters: ParameterSet) -> BinnedModel:
        """The same model with other parameter settings (fixed/free, constraints, inits)."""
        if parameters.names != self.parameters.names:
            raise ParameterError("with_parameters: the parameter names and order must not change")
        new = object.__new__(BinnedModel)
        new.__dict__.update(self.__dict__)
        new.parameters = parameters
        new._prepare_constraints()
        return new

    def config(self) -> ParameterSet:
        """A copy of the parameter set, to modify and pass to :meth:`with_parameters`."""
        return self.parameters.copy()

    # -- expected counts ------------------------------------------------------------
    def _histo_parts(self, histo: tuple[NDArray[Any], NDArray[Any]] | HistoParts | None) -> tuple[NDArray[Any], NDArray[Any]]:
        """(S, A) = ((dhi + dlo)/2, (dhi − dlo)/16) of code 4p, from the model or an override."""
        if histo is None:
            if not hasattr(self, "_hs"):
                self._hs = 0.5 * (self._histo_dhi + self._histo_dlo)
                self._ha = (self._histo_dhi - self._histo_dlo) / 16.0
            return self._hs, self._ha
        if isinstance(histo, HistoParts):
            return histo.sym, histo.asym
        return HistoParts.from_shifts(*histo).astuple()

    def _factor_terms(self, th: NDArray[Any], batch: tuple[int, ...], need_grad: bool) -> tuple[NDArray[Any], NDArray[Any] | None]:
        """Multiplicative factors F[..., S, C] = Π_m κ_m(θ) and, with ``need_grad``, their
        derivatives ∂F/∂θ [..., C, P, S] by the product rule (None without scalar modifiers)."""
        S, C = len(self.samples), len(self.channels)
        M = len(self._scalar)
        if M == 0:
            return np.ones(batch + (S, C)), None
        V = np.ones(batch + (M * S * C,))
        D = np.zeros(batch + (M * S * C,))
        flat, params, lo, hi, coef = self._normsys_entries()
        if flat.size:  # every (normsys, sample, channel) entry that is not 1, at once
            V[..., flat], D[..., flat] = code4(th[..., params], lo, hi, coef)
        V = V.reshape(batch + (M, S, C))
        D = D.reshape(batch + (M, S, C))
        for k, m in enumerate(self._scalar):
            if m.kind == "normsys":
                continue
            x = th[..., m.param][..., None, None]
            if m.kind == "function":
                V[..., k, :, :], D[..., k, :, :] = _function_factor(m, x, batch + (S, C))
            else:
                V[..., k, :, :] = np.where(m.mask, x, 1.0)
                D[..., k, :, :] = m.mask
        F = np.prod(V, axis=-3)
        if not need_grad:
            return F, None
        # ∂F/∂θ of modifier k: D_k times the product of the others, F / V_k (or, where a
        # factor is 0, e.g. R = 0, prefix · suffix products); modifiers last, then one product
        # with the modifier → parameter map sums them per parameter
        Vm = np.moveaxis(V, -3, -1)  # [..., S, C, M]
        Dm = np.moveaxis(D, -3, -1)
        if np.all(Vm != 0.0):
            dk = F[..., None] / Vm
            dk *= Dm
        else:
            ones = np.ones(batch + (S, C, 1))
            prefix = np.concatenate([ones, np.cumprod(Vm[..., :-1], axis=-1)], axis=-1)
            suffix = np.concatenate([np.cumprod(Vm[..., :0:-1], axis=-1)[..., ::-1], ones], axis=-1)
            dk = prefix * suffix * Dm
        dF = dk @ self._modifier_to_param()  # [..., S, C, P]
        return F, np.ascontiguousarray(np.moveaxis(dF, -3, -1))  # [..., C, P, S]

    def _modifier_to_param(self) -> NDArray[Any]:
        """[M, P] ones where scalar modifier m acts through parameter p (cached)."""
        if "_mod_param_cache" not in self.__dict__:
            t = np.zeros((len(self._scalar), self.n_params))
            t[np.arange(len(self._scalar)), [m.param for m in self._scalar]] = 1.0
            self._mod_param_cache = t
        return self._mod_param_cache

    def _normsys_entries(self) -> tuple[NDArray[Any], ...]:
        """The (normsys modifier, sample, channel) entries whose factor is not 1: their flat
        positions in [M, S, C] (M scalar modifiers), parameters, lo, hi and code-4
        coefficients [E, 6] (cached)."""
        if "_normsys_cache" not in self.__dict__:
            S, C = len(self.samples), len(self.channels)
            flat, params, lo, hi, coef = [], [], [], [], []
            for k, m in enumerate(self._scalar):
                if m.kind != "normsys":
                    continue
                lo_m, hi_m = np.broadcast_to(m.lo, (S, C)), np.broadcast_to(m.hi, (S, C))
                cf = np.broadcast_to(m.coef, (S, C, 6))
                s_i, c_i = np.nonzero((lo_m != 1) | (hi_m != 1))
                flat.append((k * S + s_i) * C + c_i)
                params.append(np.full(s_i.size, m.param))
                lo.append(lo_m[s_i, c_i])
                hi.append(hi_m[s_i, c_i])
                coef.append(cf[s_i, c_i])
            self._normsys_cache = (_concat(flat, (0,)).astype(np.intp), _concat(params, (0,)).astype(np.intp),
                                   _concat(lo, (0,)), _concat(hi, (0,)), _concat(coef, (0, 6)))
        return self._normsys_cache

    @property
    def _flat(self) -> FlatEvaluator:
        """The general evaluator (built once; it depends on the structure and templates only)."""
        if "_flat_cache" not in self.__dict__:
            self._flat_cache = FlatEvaluator(self)
        return self._flat_cache

    def _uses_fast_path(self, nominal: NDArray[Any] | RowOverride | RowShift | None, histo: Any) -> bool:
        """The BLAS fast path serves ganom's own models (one or two large channels, no per-bin
        γ's, batched row overrides); every other model takes the flat evaluator."""
        if isinstance(nominal, (RowOverride, RowShift)) and not self._gammas:
            return True
        return (self.evaluator == "auto" and not self._gammas and nominal is None and histo is None
                and len(self.channels) <= FAST_PATH_MAX_CHANNELS)

    def _full(self, nominal: NDArray[Any] | RowOverride | RowShift | None) -> NDArray[Any] | None:
        """A RowOverride (or RowShift) as full [..., S, B] templates (for the general path)."""
        if isinstance(nominal, RowShift):
            nominal = nominal.materialize(self)
        if not isinstance(nominal, RowOverride):
            return nominal
        full: NDArray[Any] = np.broadcast_to(self.nominal, nominal.batch_shape + self.nominal.shape).copy()
        full[..., nominal.rows, :] = nominal.nominal
        if nominal.sym is not None:
            raise ModelError("a RowOverride with histosys rows needs the fast path (a model without per-bin γ's)")
        return full

    def _flat_args(self, theta: ArrayLike, nominal: NDArray[Any] | RowOverride | RowShift | None,
                   histo: tuple[NDArray[Any], NDArray[Any]] | HistoParts | None
                   ) -> tuple[tuple[int, ...], NDArray[Any], NDArray[Any] | None, tuple[NDArray[Any], NDArray[Any]] | None]:
        """(batch, θ [n, P], nominal [n?, S, B], (sym, asym) [n?, H, S, B]) flattened."""
        th = np.asarray(theta, dtype=float)
        nom = self._full(nominal)
        parts = None if histo is None else self._histo_parts(histo)
        shapes = [th.shape[:-1]]
        if nom is not None and nom.ndim > 2:
            shapes.append(nom.shape[:-2])
        if parts is not None and parts[0].ndim > 3:
            shapes.append(parts[0].shape[:-3])
        batch = np.broadcast_shapes(*shapes)
        n = int(np.prod(batch)) if batch else 1
        th2 = np.broadcast_to(th, batch + th.shape[-1:]).reshape(n, -1)
        if nom is not None and nom.ndim > 2:
            nom = np.broadcast_to(nom, batch + nom.shape[-2:]).reshape((n,) + nom.shape[-2:])
        if parts is not None and parts[0].ndim > 3:
            parts = tuple(np.broadcast_to(x, batch + x.shape[-3:]).reshape((n,) + x.shape[-3:])  # type: ignore[assignment]
                          for x in parts)
        return batch, th2, nom, parts

    def _static(self, rows: tuple[int, ...]) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        """Shared templates with the overridden rows zeroed: (nominal, sym, asym)."""
        cache: dict[tuple[int, ...], tuple[NDArray[Any], NDArray[Any], NDArray[Any]]] = \
            self.__dict__.setdefault("_static_cache", {})
        if rows not in cache:
            nom = self.nominal.copy()
            hs, ha = self._histo_parts(None) if self._histo_params.size else (np.zeros((0,) + nom.shape),) * 2
            hs, ha = hs.copy(), ha.copy()
            if rows:
                r = list(rows)
                nom[r] = 0.0
                hs[:, r] = 0.0
                ha[:, r] = 0.0
            cache[rows] = (nom, hs, ha)
        return cache[rows]

    def _touched(self) -> list[dict[int, NDArray[Any]]]:
        """Per channel, the samples each scalar-modifier parameter multiplies (sparsity of ∂F)."""
        if "_touched_cache" not in self.__dict__:
            out: list[dict[int, set[int]]] = [dict() for _ in self.channels]
            for m in self._scalar:
                mask: NDArray[Any] = m.mask if m.kind != "normsys" else ((m.lo != 1) | (m.hi != 1))
                for c in range(len(self.channels)):
                    for s_i in np.nonzero(mask[:, c])[0]:
                        out[c].setdefault(m.param, set()).add(int(s_i))
            self._touched_cache = [{p: np.array(sorted(v)) for p, v in d.items()} for d in out]
        return self._touched_cache

    def _stacked(self, rows: tuple[int, ...], c: int, p: int, samp: NDArray[Any], nom_s: NDArray[Any], hs_s: NDArray[Any],
                 ha_s: NDArray[Any]) -> NDArray[Any]:
        """[nominal | sym_h | asym_h ...] of the samples ``samp`` in channel c, side by side (cached)."""
        cache: dict[tuple[Any, ...], NDArray[Any]] = self.__dict__.setdefault("_stack_cache", {})
        key = (rows, c, p)
        if key not in cache:
            sl = self.channel_slices[self.channels[c]]
            parts = [nom_s[samp][:, sl]]
            for h in range(hs_s.shape[0]):
                parts += [hs_s[h][samp][:, sl], ha_s[h][samp][:, sl]]
            cache[key] = np.ascontiguousarray(np.concatenate(parts, axis=1))
        return cache[key]

    def _params_on_rows(self, rows: tuple[int, ...], c: int) -> list[int]:
        """Parameters whose factors act on any of ``rows`` in channel ``c``."""
        return [p for p, samp in self._touched()[c].items() if np.isin(samp, rows).any()]

    def _batch_prep(self, th: NDArray[Any], ov: RowOverride | None, need_grad: bool) -> _BatchPrep:
        """What μ and its gradient share for a flattened batch of θ (and row overrides)."""
        batch = th.shape[:-1] if ov is None else np.broadcast_shapes(th.shape[:-1], ov.batch_shape)
        n = int(np.prod(batch)) if batch else 1
        th2 = np.broadcast_to(th, batch + th.shape[-1:]).reshape(n, -1)
        rows = tuple(int(r) for r in ov.rows) if ov is not None else ()
        H = self._histo_params.size
        a = th2[:, self._histo_params]
        c2, dc2 = _code4p_c2(a) if H else (a, a)
        F, dF = self._factor_terms(th2, (n,), need_grad)
        if need_grad and dF is None:  # no scalar modifiers
            dF = np.zeros((n, len(self.channels), self.n_params, len(self.samples)))
        ovb: Any = None if ov is None else (ov.broadcast(batch) if ov.batch_shape != batch else ov).reshape((n,))
        return _BatchPrep(batch, n, th2, rows, *self._static(rows), H, a, c2, dc2, F, bool(self._scalar), dF, ovb)

    def _fast(self, th: NDArray[Any], ov: RowOverride | RowShift | None, need_grad: bool) -> tuple[NDArray[Any], NDArray[Any] | None]:
        """μ (and ∂μ/∂θ) for models without per-bin γ's.

        The batch is flattened and every contraction with the shared templates is one 2-D
        matrix product (BLAS); only the few overridden rows are handled per batch element.
        """
        if isinstance(ov, RowShift):
            ov = ov.materialize(self)
        bp = self._batch_prep(th, ov, need_grad)
        batch, n, rows, nom_s, hs_s, ha_s = bp.batch, bp.n, bp.rows, bp.nom_s, bp.hs_s, bp.ha_s
        H, a, c2, dc2, F, ovb = bp.H, bp.a, bp.c2, bp.dc2, bp.F, bp.ovb
        dF = bp.dF if bp.has_factors else None
        P, B = self.n_params, self.n_bins
        mu: Any = np.empty((n, B))
        jt: Any = np.zeros((n, P, B)) if need_grad else None  # ∂μ/∂θ, parameter-major (contiguous rows)
        touched = self._touched()  # per channel: {param: sample indices its factors act on}
        for c, ch in enumerate(self.channels):
            sl = self.channel_slices[ch]
            Fc = np.ascontiguousarray(F[:, :, c])
            mu[:, sl] = Fc @ nom_s[:, sl]
            X = Y = None
            if H:
                X = np.stack([Fc @ hs_s[h][:, sl] for h in range(H)], axis=1)  # (n, H, Bc)
                Y = np.stack([Fc @ ha_s[h][:, sl] for h in range(H)], axis=1)
                mu[:, sl] += np.einsum("nh,nhb->nb", a, X) + np.einsum("nh,nhb->nb", c2, Y)
            if need_grad:
                if dF is not None:
                    # ∂μ/∂θ_p = Σ_{s acted on by p} ∂F_s/∂θ_p · T_s(α): one GEMM per parameter
                    # against its samples' [nominal | sym | asym] templates, combined in place
                    bc = sl.stop - sl.start
                    for p_i, samp in touched[c].items():
                        d = dF[:, c, p_i][:, samp]
                        res = d @ self._stacked(rows, c, p_i, samp, nom_s, hs_s, ha_s)
                        col = jt[:, p_i, sl]
                        col[...] = res[:, :bc]
                        for h in range(H):
                            part = res[:, (1 + 2 * h) * bc:(2 + 2 * h) * bc]
                            part *= a[:, h, None]
                            col += part
                            part = res[:, (2 + 2 * h) * bc:(3 + 2 * h) * bc]
                            part *= c2[:, h, None]
                            col += part
                if H:
                    jt[:, self._histo_params, sl] += X + dc2[:, :, None] * Y
            if ovb is not None:
                Fr = F[:, ovb.rows, c]  # (n, r)
                base_r = bp.override_rows(sl)
                mu[:, sl] += np.einsum("nr,nrb->nb", Fr, base_r)
                if need_grad:
                    if dF is not None:
                        for p_i in self._params_on_rows(tuple(int(r) for r in ovb.rows), c):
                            jt[:, p_i, sl] += np.einsum("nr,nrb->nb", dF[:, c, p_i][:, ovb.rows], base_r)
                    if H and ovb.sym is not None:
                        for h in range(H):
                            dd = ovb.sym[:, h, :, sl] + dc2[:, h, None, None] * ovb.asym[:, h, :, sl]
                            jt[:, self._histo_params[h], sl] += np.einsum("nr,nrb->nb", Fr, dd)
        mu = mu.reshape(batch + (B,))
        if jt is not None:
            jt = jt.reshape(batch + (P, B))
        return mu, jt

    def _full_stack(self, rows: tuple[int, ...], c: int) -> NDArray[Any]:
        """[nominal; sym_h; asym_h] of every sample in channel c, (1 + 2H)·S rows, the
        overridden ``rows`` zeroed (cached): μ is one product with these coefficients."""
        cache: dict[tuple[Any, ...], NDArray[Any]] = self.__dict__.setdefault("_full_stack_cache", {})
        if (rows, c) not in cache:
            nom, hs, ha = self._static(rows)
            sl = self.channel_slices[self.channels[c]]
            cache[(rows, c)] = np.ascontiguousarray(np.concatenate(
                [nom[:, sl]] + [hs[h][:, sl] for h in range(hs.shape[0])] + [ha[h][:, sl] for h in range(ha.shape[0])]))
        return cache[(rows, c)]

    def value_and_gradient(self, theta: NDArray[Any], main: NDArray[Any], aux: NDArray[Any],
                           nominal: NDArray[Any] | RowOverride | RowShift | None = None
                           ) -> tuple[NDArray[Any], NDArray[Any]]:
        """(−ln L − constant, exact gradient) for models without per-bin γ's, without forming
        ∂μ/∂θ. Per channel, μ = C·T with T the samples' [nominal; sym_h; asym_h] templates
        stacked and C their coefficients [F; F·α_h; F·c₂(α_h)] (one matrix product); the
        gradient Σ_b (1 − n_b/μ_b) ∂μ_b/∂θ is assembled from the residual weights projected on
        the same stack (one more) and the sparse ∂F/∂θ. A :class:`RowShift` enters as one
        product per table entry. Full ``nominal`` templates and models with per-bin γ's take
        the flat evaluator."""
        if not self._uses_fast_path(nominal, None):
            return self._flat_value_and_gradient(theta, main, aux, nominal)
        shift = nominal if isinstance(nominal, RowShift) else None
        th = np.asarray(theta, dtype=float)
        if shift is not None:
            th = np.broadcast_to(th, np.broadcast_shapes(th.shape[:-1], shift.batch_shape) + th.shape[-1:])
        bp = self._batch_prep(th, nominal if isinstance(nominal, RowOverride) else None, True)
        batch, n, th2 = bp.batch, bp.n, bp.th2
        H, a, c2, dc2, F, dF, ovb = bp.H, bp.a, bp.c2, bp.dc2, bp.F, bp.dF, bp.ovb
        P, B, S = self.n_params, self.n_bins, len(self.samples)
        if shift is not None:
            sh = shift.broadcast(batch).reshape((n,))
            srows = np.asarray(sh.rows)
            kpos = np.concatenate([j * S + srows for j in range(1 + 2 * H)]) if sh.sym is not None else srows
        coef = []
        for c in range(len(self.channels)):
            Fc = F[:, :, c]
            coef.append(np.concatenate([Fc] + [Fc * a[:, h, None] for h in range(H)]
                                       + [Fc * c2[:, h, None] for h in range(H)], axis=1))
        mains = np.broadcast_to(main, batch + main.shape[-1:]).reshape(n, -1)
        aux2 = np.broadcast_to(aux, batch + aux.shape[-1:]).reshape(n, -1)
        val = np.empty(n)
        ys_all = [np.empty((n, C.shape[1])) for C in coef]  # Σ_b T_kb w_b per channel
        r = 0 if ovb is None else len(ovb.rows)
        ov_y = [np.empty((n, r)) for _ in coef]  # the same for the overridden rows
        ov_h = [np.zeros((n, H)) for _ in coef]  # and their histosys slopes
        # blocks of elements whose [block, bins] arrays stay in cache: the Poisson terms are
        # a few passes over μ, which would otherwise stream through memory each time
        step = max(1, _BLOCK_BYTES // (8 * B))
        for b0 in range(0, n, step):
            blk = slice(b0, min(b0 + step, n))
            m = blk.stop - blk.start
            mu: Any = np.empty((m, B))
            parts = [] if shift is None else _shift_groups(sh.index[blk], sh.scale[blk])
            base_r = {}
            for c, ch in enumerate(self.channels):
                sl = self.channel_slices[ch]
                np.matmul(coef[c][blk], self._full_stack(bp.rows, c), out=mu[:, sl])
                if ovb is not None:
                    br = base_r[c] = bp.override_rows(sl, blk)
                    mu[:, sl] += np.einsum("nr,nrb->nb", F[blk, ovb.rows, c], br)
                for u, el, sc in parts:
                    mu[el, sl] -= (coef[c][blk][el][:, kpos] * sc[:, None]) @ sh.table_stack(sl)[u]
            val[blk], w, _ = self.data_terms(mu, mains[blk], aux2[blk])
            for c, ch in enumerate(self.channels):
                sl = self.channel_slices[ch]
                wc = np.ascontiguousarray(w[:, sl])
                y = ys_all[c][blk]
                np.matmul(wc, self._full_stack(bp.rows, c).T, out=y)
                for u, el, sc in parts:
                    y[el[:, None] if isinstance(el, np.ndarray) else el, kpos] -= \
                        (wc[el] @ sh.table_stack(sl)[u].T) * sc[:, None]
                if ovb is not None:
                    ov_y[c][blk] = np.einsum("nrb,nb->nr", base_r[c], wc)
                    if H and ovb.sym is not None:
                        for h in range(H):
                            dd = ovb.sym[blk, h, :, sl] + dc2[blk, h, None, None] * ovb.asym[blk, h, :, sl]
                            ov_h[c][blk, h] = np.einsum("nr,nr->n", F[blk, ovb.rows, c],
                                                        np.einsum("nrb,nb->nr", dd, wc))
        grad = np.zeros((n, P))
        for c in range(len(self.channels)):
            y, Fc = ys_all[c], F[:, :, c]
            ys = y[:, :S].copy()
            for h in range(H):
                y_s, y_a = y[:, (1 + h) * S:(2 + h) * S], y[:, (1 + H + h) * S:(2 + H + h) * S]
                ys += a[:, h, None] * y_s + c2[:, h, None] * y_a
                grad[:, self._histo_params[h]] += np.einsum("ns,ns->n", Fc, y_s + dc2[:, h, None] * y_a)
            if ovb is not None:
                # the static templates have the overridden rows zeroed: they enter here
                ys[:, ovb.rows] = ov_y[c]
                grad[:, self._histo_params] += ov_h[c]
            grad += np.einsum("nps,ns->np", dF[:, c], ys)
        cval, cgrad = self._constraint(th2, aux2, True)
        assert cgrad is not None
        return (val + cval).reshape(batch), (grad + cgrad).reshape(batch + (P,))

    def _flat_value_and_gradient(self, theta: ArrayLike, main: NDArray[Any], aux: NDArray[Any],
                                 nominal: NDArray[Any] | RowOverride | RowShift | None = None
                                 ) -> tuple[NDArray[Any], NDArray[Any]]:
        batch, th2, nom, _ = self._flat_args(theta, nominal, None)
        n = th2.shape[0]
        fl = self._flat
        pieces = fl._prepare(th2, nom, None, True)
        mu = (pieces["Fb"] * pieces["TG"]).sum(axis=1)
        mains = np.broadcast_to(main, batch + main.shape[-1:]).reshape(n, -1)
        aux2 = np.broadcast_to(aux, batch + aux.shape[-1:]).reshape(n, -1)
        val, w, _ = self.data_terms(mu, mains, aux2)
        grad = fl.weighted_gradient(th2, w, pieces)
        cval, cgrad = self._constraint(th2, aux2, True)
        assert cgrad is not None
        return (val + cval).reshape(batch), (grad + cgrad).reshape(batch + (self.n_params,))

    def expected(self, theta: ArrayLike, nominal: NDArray[Any] | RowOverride | None = None,
                 histo: tuple[NDArray[Any], NDArray[Any]] | HistoParts | None = None) -> NDArray[np.float64]:
        """μ[..., B] for θ[..., P]; ``nominal`` [..., S, B] and ``histo`` (dlo, dhi) [..., H, S, B]
        may replace the nominal templates and histosys shifts, or ``nominal`` may be a
        :class:`RowOverride` of a few samples (batched oscillation scans)."""
        if self._uses_fast_path(nominal, histo):
            return self._fast(np.asarray(theta, dtype=float), nominal, False)[0]  # type: ignore[arg-type]
        batch, th2, nom, parts = self._flat_args(theta, nominal, histo)
        return self._flat.expected(th2, nom, parts).reshape(batch + (self.n_bins,))

    def expected_samples(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Per-sample expected counts [..., S, B] at θ."""
        batch, th2, _, _ = self._flat_args(theta, None, None)
        return self._flat.expected_samples(th2).reshape(batch + self.nominal.shape)

    def expected_and_jacobian(self, theta: ArrayLike, nominal: NDArray[Any] | RowOverride | None = None,
                              histo: tuple[NDArray[Any], NDArray[Any]] | None = None) -> tuple[NDArray[Any], NDArray[Any]]:
        """(μ[..., B], ∂μ/∂θ [..., B, P]) analytically."""
        mu, jt = self.mu_and_jacobian_t(theta, nominal, histo)
        return mu, np.swapaxes(jt, -1, -2)

    def mu_and_jacobian_t(self, theta: ArrayLike, nominal: NDArray[Any] | RowOverride | None = None,
                          histo: tuple[NDArray[Any], NDArray[Any]] | None = None) -> tuple[NDArray[Any], NDArray[Any]]:
        """(μ[..., B], ∂μ/∂θ laid out parameter-major [..., P, B]): the minimisers' form."""
        if self._uses_fast_path(nominal, histo):
            return self._fast(np.asarray(theta, dtype=float), nominal, True)  # type: ignore[arg-type,return-value]
        batch, th2, nom, parts = self._flat_args(theta, nominal, histo)
        mu, jt = self._flat.mu_and_jacobian_t(th2, nom, parts)
        return mu.reshape(batch + (self.n_bins,)), jt.reshape(batch + (self.n_params, self.n_bins))

    # -- data -----------------------------------------------------------------------
    def asimov(self, theta: ArrayLike | Mapping[str, float] | None = None) -> Data:
        """The Asimov dataset at θ (dict of named values, a vector, or the inits)."""
        th = self._theta(theta)
        aux = th.copy()
        if self._poisson.size:
            aux[self._poisson] = th[self._poisson] * self._sigma[self._poisson]
        if self.mcstat is not None:
            aux = np.concatenate([aux, np.ones(self.mcstat.size)])
        return Data(self.expected(th), aux)

    def toys(self, theta: ArrayLike | Mapping[str, float] | None, n_toys: int, rng: np.random.Generator) -> tuple[NDArray[Any], NDArray[Any]]:
        """Poisson main counts [n, B] and fluctuated auxiliary data [n, P] generated at θ.

        Normal constraints get aux ~ N(θ_p, σ_p); Poisson ones aux ~ Pois(γ_p τ_p).
        """
        from ganom.resources import require_memory

        # the toys' counts and auxiliary data, and the fits' working copies of both
        require_memory(f"{n_toys} toys of {self.n_bins} bins", 8.0 * 4 * n_toys * (self.n_bins + self.n_aux),
                       "use fewer toys")
        th = self._theta(theta)
        mu = self.expected(th)
        main = np.ascontiguousarray(poisson_toys(mu, n_toys, rng))
        return main, self.aux_toys(th, n_toys, rng)

    def _theta(self, theta: ArrayLike | Mapping[str, float] | None) -> NDArray[Any]:
        if theta is None:
            return self.parameters.inits
        if isinstance(theta, Mapping):
            return self.parameters.vector(dict(theta))
        th = np.asarray(theta, dtype=float)
        if th.shape[-1] != self.n_params:
            raise ModelError(f"θ has {th.shape[-1]} entries; the model has {self.n_params} parameters")
        return th

    def data(self, main: ArrayLike, aux: ArrayLike | None = None) -> Data:
        """Wrap observed counts (validated: finite, ≥ 0, right length) with nominal aux data."""
        m = np.asarray(main, dtype=float).ravel()
        if m.size != self.n_bins:
            raise ModelError(f"data has {m.size} bins; the model has {self.n_bins} ({', '.join(f'{c}: {s.stop - s.start}' for c, s in self.channel_slices.items())})")
        if not np.all(np.isfinite(m)) or np.any(m < 0):
            bad = int(np.nonzero(~np.isfinite(m) | (m < 0))[0][0])
            raise ModelError(f"data bin {bad} = {m[bad]!r}: counts must be finite and ≥ 0")
        a = self.asimov().aux if aux is None else np.asarray(aux, dtype=float)
        return Data(m, a)

    # -- likelihood -----------------------------------------------------------------
    def constant(self, data: Data) -> float:
        """Σ_b [n_b − n_b ln n_b + ln Γ(n_b + 1)]: added to the deviance form to give −ln L
        (with Poisson-constrained MC statistics, also their auxiliary counts' constants)."""
        return float(np.sum(poisson_constant(data.main))) + float(self._mc_constant(data.aux))

    def _mc_constant(self, aux: NDArray[Any]) -> Any:
        mc = self.mcstat
        if mc is None or mc.constraint != "poisson":
            return 0.0
        return np.sum(poisson_constant(self._mc_aux(np.asarray(aux)) / mc.sigma**2), axis=-1)

    def constraint_saturated(self, aux: ArrayLike) -> float:
        """The constraint terms' −ln L at their own minimum (θ_j at its auxiliary measurement).

        Subtracted from a minimised objective it leaves a saturated-model deviance: 0 on
        Asimov data, ≈ χ²(n_bins − n_free) on real data (a goodness of fit).
        """
        a = np.asarray(aux, dtype=float)
        th = self.parameters.inits.astype(float).copy()
        th[self._normal] = a[self._normal]
        th[self._poisson] = a[self._poisson] / self._sigma[self._poisson]
        mc = 0.0 if self.mcstat is None or self.mcstat.constraint == "poisson" else float(
            np.sum(np.log(self.mcstat.sigma) + 0.5 * np.log(2 * np.pi)))
        return float(self._constraint(th, a, False)[0]) + mc

    def _constraint(self, th: NDArray[Any], aux: NDArray[Any], grad: bool) -> tuple[NDArray[Any], NDArray[Any] | None]:
        val = np.zeros(th.shape[:-1])
        g = np.zeros(th.shape) if grad else None
        if self._normal.size:
            i = self._normal
            z = (th[..., i] - aux[..., i]) / self._sigma[i]
            val = val + np.sum(0.5 * z * z + np.log(self._sigma[i]) + 0.5 * np.log(2 * np.pi), axis=-1)
            if g is not None:
                g[..., i] = z / self._sigma[i]
        if self._poisson.size:
            i = self._poisson
            lam = np.maximum(th[..., i] * self._sigma[i], MU_FLOOR)
            a = aux[..., i]
            val = val + np.sum(poisson_nll(a, lam), axis=-1)
            if g is not None:
                g[..., i] = self._sigma[i] * (1.0 - a / lam)
        return val, g

    def nll(self, theta: ArrayLike, data: Data, nominal: NDArray[Any] | None = None,
            histo: tuple[NDArray[Any], NDArray[Any]] | None = None) -> NDArray[np.float64]:
        """−ln L(θ) including all constants (comparable with pyhf's −logpdf)."""
        th = np.asarray(theta, dtype=float)
        mu = self.expected(th, nominal, histo)
        c, _ = self._constraint(th, data.aux, False)
        val, _, _ = self.data_terms(mu, data.main, data.aux)
        out: NDArray[np.float64] = val + np.sum(poisson_constant(data.main), axis=-1) + c + self._mc_constant(data.aux)
        return out

    def deviance_terms(self, mu: NDArray[Any], n: NDArray[Any]) -> NDArray[Any]:
        """μ − n + n ln(n/μ) per bin: ≥ 0 and well conditioned (−ln L minus its constant)."""
        mu = np.maximum(mu, MU_FLOOR)
        t: NDArray[Any] = mu - n + n * _log_ratio(np.divide(n, mu))
        return t

    def objective(self, theta: ArrayLike, data: Data, nominal: NDArray[Any] | None = None,
                  histo: tuple[NDArray[Any], NDArray[Any]] | None = None) -> tuple[NDArray[Any], NDArray[Any]]:
        """(−ln L − constant(data), its gradient): what the minimisers use. Without ``histo``
        the gradient is assembled without forming ∂μ/∂θ (:meth:`value_and_gradient`: ~2× faster
        for one θ, ~9× for the batch of a finite-difference Hessian)."""
        th = np.asarray(theta, dtype=float)
        if histo is None:
            return self.value_and_gradient(th, data.main, data.aux, nominal)
        mu, jt = self.mu_and_jacobian_t(th, nominal, histo)
        val, w, _ = self.data_terms(mu, data.main, data.aux)
        grad = np.einsum("...pb,...b->...p", jt, w)
        c, gc = self._constraint(th, data.aux, True)
        return val + c, grad + gc

    # -- public pieces for the minimisers, toys and interchange ------------------------------
    def constraint_curvature(self, theta: ArrayLike, aux: ArrayLike) -> NDArray[np.float64]:
        """∂²c_p/∂θ_p² of every constraint term at θ [..., P] (0 for free parameters): the
        constraints' part of the Fisher matrix."""
        th = np.asarray(theta, dtype=float)
        a = np.broadcast_to(np.asarray(aux, dtype=float)[..., :th.shape[-1]], th.shape)
        curv = np.zeros(th.shape)
        if self._normal.size:
            curv[..., self._normal] = 1.0 / self._sigma[self._normal] ** 2
        if self._poisson.size:
            i = self._poisson
            lam = np.maximum(th[..., i] * self._sigma[i], MU_FLOOR)
            curv[..., i] = a[..., i] * self._sigma[i] ** 2 / lam**2
        return curv

    def aux_toys(self, theta: ArrayLike, n_toys: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """Auxiliary data [n, P] fluctuated around θ: normal constraints N(θ_p, σ_p), Poisson
        ones Pois(γ_p τ_p); free parameters keep θ_p; MC-statistics bins (appended) N(1, σ_b), or
        Pois(τ_b)/τ_b with the Poisson constraint."""
        th = self._theta(theta)
        aux = np.broadcast_to(th, (n_toys, th.size)).copy()
        if self._normal.size:
            aux[:, self._normal] = rng.normal(th[self._normal], self._sigma[self._normal], (n_toys, self._normal.size))
        if self._poisson.size:
            lam = th[self._poisson] * self._sigma[self._poisson]
            aux[:, self._poisson] = rng.poisson(np.broadcast_to(lam, (n_toys, lam.size))).astype(float)
        mc = self.mcstat
        if mc is not None:
            if mc.constraint == "poisson":
                tau = 1.0 / mc.sigma**2
                draw = rng.poisson(np.broadcast_to(tau, (n_toys, mc.size))) / tau
            else:
                draw = rng.normal(1.0, mc.sigma, (n_toys, mc.size))
            aux = np.concatenate([aux, draw], axis=1)
        out: NDArray[np.float64] = aux
        return out

    @property
    def histosys_parameters(self) -> NDArray[np.int64]:
        """Indices of the histosys parameters, in the order of :meth:`histosys_shifts`."""
        return self._histo_params

    def histosys_shifts(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(dlo, dhi) [H, S, B]: nominal − template at α = −1 and template at α = +1 − nominal."""
        return self._histo_dlo, self._histo_dhi

    def histosys_data(self, name: str, sample: str, channel: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The templates (at α = −1, at α = +1) of histosys ``name`` on a sample in a channel,
        as the model evaluates them (after :meth:`replace_templates`)."""
        h = int(np.nonzero(self._histo_params == self.parameters.index(name))[0][0])
        s, sl = self.sample_index(sample), self.channel_slices[channel]
        nom = self.nominal[s, sl]
        return nom - self._histo_dlo[h, s, sl], nom + self._histo_dhi[h, s, sl]

    def replace_templates(self, nominal: ArrayLike, dlo: ArrayLike | None = None,
                          dhi: ArrayLike | None = None) -> BinnedModel:
        """The same model with other nominal templates [S, B] (and histosys shifts [H, S, B]);
        the modifiers, parameters and their sparsity are unchanged."""
        nom = np.asarray(nominal, dtype=float)
        if nom.shape != self.nominal.shape:
            raise ModelError(f"replace_templates: nominal has shape {nom.shape}; the model's is {self.nominal.shape}")
        new = object.__new__(BinnedModel)
        new.__dict__.update(self.__dict__)
        new.nominal = nom
        if dlo is not None:
            new._histo_dlo = np.asarray(dlo, dtype=float)
        if dhi is not None:
            new._histo_dhi = np.asarray(dhi, dtype=float)
        for cached in ("_hs", "_ha", "_static_cache", "_stack_cache", "_full_stack_cache", "_flat_cache"):
            new.__dict__.pop(cached, None)
        return new
