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
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from ganom.exceptions import ModelError, ParameterError
from ganom.fitter.hf.data import Data
from ganom.fitter.hf.interpolation import HistoParts, _code4p_c2, code4
from ganom.fitter.hf.parameters import ParameterSet

__all__ = ["MU_FLOOR", "ALPHA_BOUNDS", "RowOverride", "BinnedModel"]

MU_FLOOR = 1e-12  # expected counts are floored here: a bin with data and μ → 0 is a wall, not NaN


ALPHA_BOUNDS = (-30.0, 30.0)  # range of normsys/histosys α parameters [σ]


@dataclass
class RowOverride:
    """Per-batch replacement templates for a few samples (the oscillated signal rows).

    ``rows`` are sample indices; ``nominal`` [..., r, B] their templates; ``sym``/``asym``
    [..., H, r, B] their histosys shifts in code-4p form (one entry per histosys parameter
    of the model, in the model's order). All other samples keep the model's templates, which
    the fast evaluation contracts as shared matrices (BLAS) instead of per-batch copies.
    """

    rows: NDArray
    nominal: NDArray
    sym: NDArray | None = None
    asym: NDArray | None = None

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.nominal.shape[:-2]

    def __getitem__(self, idx: Any) -> RowOverride:
        return RowOverride(self.rows, self.nominal[idx], None if self.sym is None else self.sym[idx],
                           None if self.asym is None else self.asym[idx])

    def broadcast(self, batch: tuple[int, ...]) -> RowOverride:
        def b(x: NDArray | None, tail: int) -> NDArray | None:
            return None if x is None else np.broadcast_to(x, batch + x.shape[-tail:])

        return RowOverride(self.rows, b(self.nominal, 2), b(self.sym, 3), b(self.asym, 3))

    def reshape(self, batch: tuple[int, ...]) -> RowOverride:
        def r(x: NDArray | None, tail: int) -> NDArray | None:
            return None if x is None else x.reshape(batch + x.shape[-tail:])

        return RowOverride(self.rows, r(self.nominal, 2), r(self.sym, 3), r(self.asym, 3))


def _function_factor(m: _ScalarMod, x: NDArray, shape: tuple[int, ...]) -> tuple[NDArray, NDArray]:
    """Value and derivative of a ``function`` modifier: per sample s, fn[s](θ_p) where masked."""
    v = np.ones(shape)
    d = np.zeros(shape)
    for s_i, f in zip(m.fn_samples, m.fn):
        val, der = f(x[..., 0, 0])
        cols = m.mask[s_i]
        v[..., s_i, cols] = val[..., None]
        d[..., s_i, cols] = der[..., None]
    return v, d


# ----------------------------------------------------------------------------- the model
@dataclass
class _ScalarMod:
    kind: str  # normfactor | lumi | normsys | function
    param: int
    mask: NDArray  # (S, C) bool
    lo: NDArray | None = None
    hi: NDArray | None = None
    coef: NDArray | None = None
    fn: Any = None  # function: callable x → (value, derivative), per sample in ``fn_samples``
    fn_samples: NDArray | None = None


@dataclass
class _GammaMod:
    kind: str  # staterror | shapesys | shapefactor
    name: str
    channel: int
    samples: NDArray  # (S,) bool
    params: NDArray  # (n_bins_channel,) parameter indices


@dataclass
class _BatchPrep:
    """A flattened batch (n = ∏ batch) ready for the BLAS contractions of the fast path."""

    batch: tuple[int, ...]
    n: int
    th2: NDArray
    rows: tuple[int, ...]
    nom_s: NDArray
    hs_s: Any
    ha_s: Any
    H: int
    a: NDArray
    c2: NDArray
    dc2: NDArray
    F: NDArray
    terms: list
    dF: NDArray | None
    ovb: RowOverride | None

    def override_rows(self, sl: slice) -> NDArray:
        """The overridden rows' templates [n, r, b] on the bins ``sl``, histosys applied."""
        ov = self.ovb
        base = ov.nominal[:, :, sl]
        if self.H and ov.sym is not None:
            base = base + np.einsum("nh,nhrb->nrb", self.a, ov.sym[:, :, :, sl]) \
                + np.einsum("nh,nhrb->nrb", self.c2, ov.asym[:, :, :, sl])
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

    def __init__(self, channels: list[tuple[str, int]], samples: list[str], nominal: NDArray,
                 parameters: ParameterSet, scalar_mods: list[_ScalarMod], histo: dict[int, tuple[NDArray, NDArray]],
                 gammas: list[_GammaMod], spec: list[dict[str, Any]], sample_channels: NDArray):
        self.channels = [c for c, _ in channels]
        offsets = np.cumsum([0] + [n for _, n in channels])
        self.channel_slices = {c: slice(int(offsets[i]), int(offsets[i + 1])) for i, (c, _) in enumerate(channels)}
        self.n_bins = int(offsets[-1])
        self.chan_of_bin = np.repeat(np.arange(len(channels)), [n for _, n in channels])
        self.samples = list(samples)
        self.nominal = nominal
        self.parameters = parameters
        self.spec = spec
        self.sample_channels = sample_channels  # (S, C) bool: sample present in channel
        self._scalar = scalar_mods
        self._histo_params = np.array(sorted(histo), dtype=int)
        self._histo_dlo = np.stack([histo[p][0] for p in self._histo_params]) if histo else np.zeros((0,) + nominal.shape)
        self._histo_dhi = np.stack([histo[p][1] for p in self._histo_params]) if histo else np.zeros((0,) + nominal.shape)
        self._gammas = gammas
        self._prepare_constraints()

    # -- bookkeeping ------------------------------------------------------------------
    @property
    def poi(self) -> str | None:
        return self.parameters.poi

    @property
    def n_params(self) -> int:
        return len(self.parameters)

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
    def _histo_parts(self, histo: tuple[NDArray, NDArray] | HistoParts | None) -> tuple[NDArray, NDArray]:
        """(S, A) = ((dhi + dlo)/2, (dhi − dlo)/16) of code 4p, from the model or an override."""
        if histo is None:
            if not hasattr(self, "_hs"):
                self._hs = 0.5 * (self._histo_dhi + self._histo_dlo)
                self._ha = (self._histo_dhi - self._histo_dlo) / 16.0
            return self._hs, self._ha
        if isinstance(histo, HistoParts):
            return histo.sym, histo.asym
        return HistoParts.from_shifts(*histo).astuple()

    def _factor_terms(self, th: NDArray, batch: tuple[int, ...], need_grad: bool) -> tuple[NDArray, list]:
        """Multiplicative factors F[..., S, C] = Π_m κ_m(θ) and, with ``need_grad``, the
        product-rule terms (parameter, ∂F/∂θ_p contribution [..., S, C]) of every modifier
        (prefix/suffix products: no division, so R = 0 is safe)."""
        S, C = len(self.samples), len(self.channels)
        factors, derivs = [], []
        for m in self._scalar:
            x = th[..., m.param][..., None, None]
            if m.kind == "normsys":
                v, d = code4(x, m.lo, m.hi, m.coef)
            elif m.kind == "function":
                v, d = _function_factor(m, x, batch + (S, C))
            else:
                v = np.where(m.mask, x, 1.0)
                d = np.broadcast_to(m.mask.astype(float), batch + (S, C))
            factors.append(np.broadcast_to(v, batch + (S, C)))
            derivs.append(np.broadcast_to(d, batch + (S, C)))
        F = np.ones(batch + (S, C))
        for v in factors:
            F = F * v
        terms = []
        if need_grad and factors:
            prefix = [np.ones(batch + (S, C))]
            for v in factors[:-1]:
                prefix.append(prefix[-1] * v)
            suffix = np.ones(batch + (S, C))
            for t in range(len(factors) - 1, -1, -1):
                terms.append((self._scalar[t].param, prefix[t] * suffix * derivs[t]))
                suffix = suffix * factors[t]
        return F, terms

    def _pieces(self, theta: NDArray, nominal: NDArray | None, histo: tuple[NDArray, NDArray] | None, need_grad: bool):
        th = np.asarray(theta, dtype=float)
        batch = th.shape[:-1]
        nom = self.nominal if nominal is None else nominal
        S, C, P = len(self.samples), len(self.channels), self.n_params
        hterm = None
        if self._histo_params.size:
            # code 4p: Δ = α·S + c₂(α)·A, with c₂ = α²(15 + α²(3α² − 10)) inside |α| ≤ 1 and ±8α
            # beyond (which makes Δ = α·dhi or α·dlo): the branch depends on α only.
            a = th[..., self._histo_params]
            c2, dc2 = _code4p_c2(a)
            hs, ha = self._histo_parts(histo)
            if hs.ndim == 3:
                shift = np.tensordot(a, hs, axes=([-1], [0])) + np.tensordot(c2, ha, axes=([-1], [0]))
            else:
                shift = np.einsum("...h,...hsb->...sb", a, hs) + np.einsum("...h,...hsb->...sb", c2, ha)
            shifted = nom + shift
            if need_grad:
                hterm = (hs, ha, dc2)
        else:
            shifted = np.broadcast_to(nom, batch + nom.shape)
        f_total, terms = self._factor_terms(th, batch, need_grad)
        dF = None
        if terms:
            dF = np.zeros(batch + (S, C, P))
            for p_i, d in terms:
                dF[..., p_i] += d
        gam = self._gamma_product(th, batch) if self._gammas else None
        return th, batch, shifted, hterm, dF, f_total, gam

    def _gamma_product(self, th: NDArray, batch: tuple[int, ...], skip: int | None = None) -> NDArray:
        """Product of the per-bin γ factors [..., S, B], leaving out group ``skip`` (its derivative)."""
        gam = np.ones(batch + (len(self.samples), self.n_bins))
        for k, g in enumerate(self._gammas):
            if k != skip:
                sl = self.channel_slices[self.channels[g.channel]]
                gam[..., g.samples, sl] = gam[..., g.samples, sl] * th[..., g.params][..., None, :]
        return gam

    def _full(self, nominal: NDArray | RowOverride | None) -> NDArray | None:
        """A RowOverride as full [..., S, B] templates (for the general path)."""
        if not isinstance(nominal, RowOverride):
            return nominal
        full = np.broadcast_to(self.nominal, nominal.batch_shape + self.nominal.shape).copy()
        full[..., nominal.rows, :] = nominal.nominal
        if nominal.sym is not None:
            raise ModelError("a RowOverride with histosys rows needs the fast path (a model without per-bin γ's)")
        return full

    def _static(self, rows: tuple[int, ...]) -> tuple[NDArray, NDArray, NDArray]:
        """Shared templates with the overridden rows zeroed: (nominal, sym, asym)."""
        cache = self.__dict__.setdefault("_static_cache", {})
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

    def _touched(self) -> list[dict[int, NDArray]]:
        """Per channel, the samples each scalar-modifier parameter multiplies (sparsity of ∂F)."""
        if "_touched_cache" not in self.__dict__:
            out: list[dict[int, set]] = [dict() for _ in self.channels]
            for m in self._scalar:
                mask = m.mask if m.kind != "normsys" else ((m.lo != 1) | (m.hi != 1))
                for c in range(len(self.channels)):
                    for s_i in np.nonzero(mask[:, c])[0]:
                        out[c].setdefault(m.param, set()).add(int(s_i))
            self._touched_cache = [{p: np.array(sorted(v)) for p, v in d.items()} for d in out]
        return self._touched_cache

    def _stacked(self, rows: tuple[int, ...], c: int, p: int, samp: NDArray, nom_s: NDArray, hs_s: NDArray,
                 ha_s: NDArray) -> NDArray:
        """[nominal | sym_h | asym_h ...] of the samples ``samp`` in channel c, side by side (cached)."""
        cache = self.__dict__.setdefault("_stack_cache", {})
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

    def _batch_prep(self, th: NDArray, ov: RowOverride | None, need_grad: bool) -> _BatchPrep:
        """What μ and its gradient share for a flattened batch of θ (and row overrides)."""
        batch = th.shape[:-1] if ov is None else np.broadcast_shapes(th.shape[:-1], ov.batch_shape)
        n = int(np.prod(batch)) if batch else 1
        th2 = np.broadcast_to(th, batch + th.shape[-1:]).reshape(n, -1)
        rows = tuple(int(r) for r in ov.rows) if ov is not None else ()
        H = self._histo_params.size
        a = th2[:, self._histo_params]
        c2, dc2 = _code4p_c2(a) if H else (a, a)
        F, terms = self._factor_terms(th2, (n,), need_grad)
        dF = np.zeros((n, len(self.channels), self.n_params, len(self.samples))) if need_grad else None
        for p_i, d in terms:
            dF[:, :, p_i, :] += np.swapaxes(d, 1, 2)
        ovb = None if ov is None else (ov.broadcast(batch) if ov.batch_shape != batch else ov).reshape((n,))
        return _BatchPrep(batch, n, th2, rows, *self._static(rows), H, a, c2, dc2, F, terms, dF, ovb)

    def _fast(self, th: NDArray, ov: RowOverride | None, need_grad: bool) -> tuple[NDArray, NDArray | None]:
        """μ (and ∂μ/∂θ) for models without per-bin γ's.

        The batch is flattened and every contraction with the shared templates is one 2-D
        matrix product (BLAS); only the few overridden rows are handled per batch element.
        """
        bp = self._batch_prep(th, ov, need_grad)
        batch, n, rows, nom_s, hs_s, ha_s = bp.batch, bp.n, bp.rows, bp.nom_s, bp.hs_s, bp.ha_s
        H, a, c2, dc2, F, ovb = bp.H, bp.a, bp.c2, bp.dc2, bp.F, bp.ovb
        dF = bp.dF if bp.terms else None
        P, B = self.n_params, self.n_bins
        mu = np.empty((n, B))
        jt = np.zeros((n, P, B)) if need_grad else None  # ∂μ/∂θ, parameter-major (contiguous rows)
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

    def value_and_gradient(self, theta: NDArray, main: NDArray, aux: NDArray,
                           nominal: RowOverride | None = None) -> tuple[NDArray, NDArray]:
        """(−ln L − constant, exact gradient) for models without per-bin γ's, without forming
        ∂μ/∂θ: the gradient Σ_b (1 − n_b/μ_b) ∂μ_b/∂θ is assembled from the residual weights
        projected on every sample's templates (one GEMM) and the sparse ∂F/∂θ."""
        bp = self._batch_prep(np.asarray(theta, dtype=float), nominal, True)
        batch, n, th2, nom_s, hs_s, ha_s = bp.batch, bp.n, bp.th2, bp.nom_s, bp.hs_s, bp.ha_s
        H, a, c2, dc2, F, dF, ovb = bp.H, bp.a, bp.c2, bp.dc2, bp.F, bp.dF, bp.ovb
        P, B = self.n_params, self.n_bins
        mu = np.empty((n, B))
        base_r = {}
        for c, ch in enumerate(self.channels):
            sl = self.channel_slices[ch]
            Fc = np.ascontiguousarray(F[:, :, c])
            mu[:, sl] = Fc @ nom_s[:, sl]
            for h in range(H):
                mu[:, sl] += a[:, h, None] * (Fc @ hs_s[h][:, sl]) + c2[:, h, None] * (Fc @ ha_s[h][:, sl])
            if ovb is not None:
                br = base_r[c] = bp.override_rows(sl)
                mu[:, sl] += np.einsum("nr,nrb->nb", F[:, ovb.rows, c], br)
        mains = np.broadcast_to(main, batch + main.shape[-1:]).reshape(n, -1)
        mu_s = np.maximum(mu, MU_FLOOR)
        val = np.sum(self.deviance_terms(mu_s, mains), axis=-1)
        w1 = np.where(mu > MU_FLOOR, 1.0 - mains / mu_s, 1.0)
        grad = np.zeros((n, P))
        for c, ch in enumerate(self.channels):
            sl = self.channel_slices[ch]
            wc = np.ascontiguousarray(w1[:, sl])
            y = wc @ nom_s[:, sl].T  # (n, S): Σ_b T_sb w_b
            for h in range(H):
                ys = wc @ hs_s[h][:, sl].T
                ya = wc @ ha_s[h][:, sl].T
                y = y + a[:, h, None] * ys + c2[:, h, None] * ya
                grad[:, self._histo_params[h]] += np.einsum("ns,ns->n", F[:, :, c], ys + dc2[:, h, None] * ya)
            if ovb is not None:
                # the static templates have the overridden rows zeroed: they enter here
                y = y.copy()
                y[:, ovb.rows] = np.einsum("nrb,nb->nr", base_r[c], wc)
                if H and ovb.sym is not None:
                    for h in range(H):
                        dd = ovb.sym[:, h, :, sl] + dc2[:, h, None, None] * ovb.asym[:, h, :, sl]
                        grad[:, self._histo_params[h]] += np.einsum("nr,nr->n", F[:, ovb.rows, c],
                                                                    np.einsum("nrb,nb->nr", dd, wc))
            grad += np.einsum("nps,ns->np", dF[:, c], y)
        aux2 = np.broadcast_to(aux, batch + aux.shape[-1:]).reshape(n, -1)
        cval, cgrad = self._constraint(th2, aux2, True)
        return (val + cval).reshape(batch), (grad + cgrad).reshape(batch + (P,))

    def expected(self, theta: ArrayLike, nominal: NDArray | RowOverride | None = None,
                 histo: tuple[NDArray, NDArray] | None = None) -> NDArray[np.float64]:
        """μ[..., B] for θ[..., P]; ``nominal`` [..., S, B] and ``histo`` (dlo, dhi) [..., H, S, B]
        may replace the nominal templates and histosys shifts, or ``nominal`` may be a
        :class:`RowOverride` of a few samples (batched oscillation scans)."""
        if not self._gammas and (nominal is None or isinstance(nominal, RowOverride)) and histo is None:
            return self._fast(np.asarray(theta, dtype=float), nominal, False)[0]
        _, _, shifted, _, _, f_total, gam = self._pieces(theta, self._full(nominal), histo, False)
        base = shifted if gam is None else shifted * gam
        return np.einsum("...sb,...sb->...b", base, f_total[..., self.chan_of_bin])

    def expected_samples(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Per-sample expected counts [..., S, B] at θ."""
        _, _, shifted, _, _, f_total, gam = self._pieces(theta, None, None, False)
        base = shifted if gam is None else shifted * gam
        return base * f_total[..., self.chan_of_bin]

    def expected_and_jacobian(self, theta: ArrayLike, nominal: NDArray | RowOverride | None = None,
                              histo: tuple[NDArray, NDArray] | None = None) -> tuple[NDArray, NDArray]:
        """(μ[..., B], ∂μ/∂θ [..., B, P]) analytically."""
        mu, jt = self.mu_and_jacobian_t(theta, nominal, histo)
        return mu, np.swapaxes(jt, -1, -2)

    def mu_and_jacobian_t(self, theta: ArrayLike, nominal: NDArray | RowOverride | None = None,
                          histo: tuple[NDArray, NDArray] | None = None) -> tuple[NDArray, NDArray]:
        """(μ[..., B], ∂μ/∂θ laid out parameter-major [..., P, B]): the minimisers' form."""
        if not self._gammas and (nominal is None or isinstance(nominal, RowOverride)) and histo is None:
            return self._fast(np.asarray(theta, dtype=float), nominal, True)
        mu, jac = self._general_jacobian(theta, self._full(nominal), histo)
        return mu, np.ascontiguousarray(np.swapaxes(jac, -1, -2))

    def _general_jacobian(self, theta: ArrayLike, nominal: NDArray | None,
                          histo: tuple[NDArray, NDArray] | None) -> tuple[NDArray, NDArray]:
        th, batch, shifted, hterm, dF, f_total, gam = self._pieces(theta, nominal, histo, True)
        cb = self.chan_of_bin
        base = shifted if gam is None else shifted * gam  # (..., S, B)
        fb = f_total[..., cb]
        mu = np.einsum("...sb,...sb->...b", base, fb)
        jac = np.zeros(batch + (self.n_bins, self.n_params))
        if dF is not None:
            for c, ch in enumerate(self.channels):
                sl = self.channel_slices[ch]
                jac[..., sl, :] += np.matmul(np.swapaxes(base[..., :, sl], -1, -2), dF[..., :, c, :])
        if hterm is not None:
            hs, ha, dc2 = hterm
            fg = fb if gam is None else fb * gam
            js = np.einsum("...hsb,...sb->...hb", hs, fg)
            ja = np.einsum("...hsb,...sb->...hb", ha, fg)
            jac[..., self._histo_params] += np.swapaxes(js + dc2[..., :, None] * ja, -1, -2)
        for k, g in enumerate(self._gammas):
            sl = self.channel_slices[self.channels[g.channel]]
            rest = shifted[..., g.samples, sl] * self._gamma_product(th, batch, skip=k)[..., g.samples, sl]
            contrib = (rest * f_total[..., g.samples, :][..., cb[sl]]).sum(axis=-2)  # no division: γ = 0 is allowed
            bins = np.arange(sl.start, sl.stop)
            jac[..., bins, g.params] += contrib
        return mu, jac

    # -- data -----------------------------------------------------------------------
    def asimov(self, theta: ArrayLike | Mapping[str, float] | None = None) -> Data:
        """The Asimov dataset at θ (dict of named values, a vector, or the inits)."""
        th = self._theta(theta)
        aux = th.copy()
        if self._poisson.size:
            aux[self._poisson] = th[self._poisson] * self._sigma[self._poisson]
        return Data(self.expected(th), aux)

    def toys(self, theta: ArrayLike | Mapping[str, float] | None, n_toys: int, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
        """Poisson main counts [n, B] and fluctuated auxiliary data [n, P] generated at θ.

        Normal constraints get aux ~ N(θ_p, σ_p); Poisson ones aux ~ Pois(γ_p τ_p).
        """
        th = self._theta(theta)
        mu = self.expected(th)
        main = rng.poisson(np.broadcast_to(mu, (n_toys, mu.size))).astype(float)
        aux = np.broadcast_to(th, (n_toys, th.size)).copy()
        if self._normal.size:
            aux[:, self._normal] = rng.normal(th[self._normal], self._sigma[self._normal], (n_toys, self._normal.size))
        if self._poisson.size:
            lam = th[self._poisson] * self._sigma[self._poisson]
            aux[:, self._poisson] = rng.poisson(np.broadcast_to(lam, (n_toys, lam.size))).astype(float)
        return main, aux

    def _theta(self, theta: ArrayLike | Mapping[str, float] | None) -> NDArray:
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
        """Σ_b [n_b − n_b ln n_b + ln Γ(n_b + 1)]: added to the deviance form to give −ln L."""
        n = data.main
        return float(np.sum(n - np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0)), 0.0) + gammaln(n + 1.0)))

    def constraint_saturated(self, aux: ArrayLike) -> float:
        """The constraint terms' −ln L at their own minimum (θ_j at its auxiliary measurement).

        Subtracted from a minimised objective it leaves a saturated-model deviance: 0 on
        Asimov data, ≈ χ²(n_bins − n_free) on real data (a goodness of fit).
        """
        a = np.asarray(aux, dtype=float)
        th = self.parameters.inits.astype(float).copy()
        th[self._normal] = a[self._normal]
        th[self._poisson] = a[self._poisson] / self._sigma[self._poisson]
        return float(self._constraint(th, a, False)[0])

    def _constraint(self, th: NDArray, aux: NDArray, grad: bool):
        val = np.zeros(th.shape[:-1])
        g = np.zeros(th.shape) if grad else None
        if self._normal.size:
            i = self._normal
            z = (th[..., i] - aux[..., i]) / self._sigma[i]
            val = val + np.sum(0.5 * z * z + np.log(self._sigma[i]) + 0.5 * np.log(2 * np.pi), axis=-1)
            if grad:
                g[..., i] = z / self._sigma[i]
        if self._poisson.size:
            i = self._poisson
            lam = np.maximum(th[..., i] * self._sigma[i], MU_FLOOR)
            a = aux[..., i]
            val = val + np.sum(lam - a * np.log(lam) + gammaln(a + 1.0), axis=-1)
            if grad:
                g[..., i] = self._sigma[i] * (1.0 - a / lam)
        return val, g

    def nll(self, theta: ArrayLike, data: Data, nominal: NDArray | None = None,
            histo: tuple[NDArray, NDArray] | None = None) -> NDArray[np.float64]:
        """−ln L(θ) including all constants (comparable with pyhf's −logpdf)."""
        th = np.asarray(theta, dtype=float)
        mu = np.maximum(self.expected(th, nominal, histo), MU_FLOOR)
        n = data.main
        main = np.sum(mu - n * np.log(mu) + gammaln(n + 1.0), axis=-1)
        c, _ = self._constraint(th, data.aux, False)
        return main + c

    def deviance_terms(self, mu: NDArray, n: NDArray) -> NDArray:
        """μ − n + n ln(n/μ) per bin: ≥ 0 and well conditioned (−ln L minus its constant)."""
        mu = np.maximum(mu, MU_FLOOR)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = mu - n + np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / mu), 0.0)
        return t

    def objective(self, theta: ArrayLike, data: Data, nominal: NDArray | None = None,
                  histo: tuple[NDArray, NDArray] | None = None) -> tuple[NDArray, NDArray]:
        """(−ln L − constant(data), its gradient): what the minimisers use."""
        th = np.asarray(theta, dtype=float)
        mu, jt = self.mu_and_jacobian_t(th, nominal, histo)
        mu_s = np.maximum(mu, MU_FLOOR)
        n = data.main
        val = np.sum(self.deviance_terms(mu_s, n), axis=-1)
        w = np.where(mu > MU_FLOOR, 1.0 - n / mu_s, 1.0)
        grad = np.einsum("...pb,...b->...p", jt, w)
        c, gc = self._constraint(th, data.aux, True)
        return val + c, grad + gc
