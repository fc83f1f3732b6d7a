"""The general, vectorised evaluation of a :class:`~ganom.fitter.hf.model.BinnedModel`.

Every modifier instance is one *entry* of a flat table, so an evaluation is a fixed number of
array operations whatever the number of channels, samples and modifiers (pyhf workspaces
with 40 channels and 300 parameters cost about what one channel does):

* multiplicative scalar entries (normfactor, lumi, normsys code 4, function) on blocks
  (sample, channel): F_sc = Π_e v_e(θ), and ∂F/∂θ_p from the products of the *other*
  factors of each block (counted zeros, no division by a zero factor);
* histosys shifts Δ_hsb(α) (code 4p) on the templates T_sb = ν_sb + Σ_h Δ_hsb;
* per-bin entries (staterror, shapesys, shapefactor) on (sample, bin): Γ_sb = Π_e γ_e;

    μ_b = Σ_s F_{s,c(b)} · T_sb · Γ_sb                      (docs/statistics.md §2)

The gradient of −ln L is contracted with the residual weights w_b = 1 − n_b/μ_b without
forming ∂μ/∂θ; the Jacobian is formed only when a Newton step needs the Fisher matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ganom.fitter.hf.interpolation import _code4p_c2, code4

if TYPE_CHECKING:
    from ganom.fitter.hf.model import BinnedModel

__all__ = ["FlatEvaluator"]

FloatArray = NDArray[np.float64]
_LINEAR, _NORMSYS, _FUNCTION = 0, 1, 2


def _segment_products(v: FloatArray, starts: NDArray[np.intp], seg: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
    """Per segment of the entry axis (axis 1, sorted by segment): the product of the entries
    and, per entry, the product of the *other* entries of its segment. Zeros are counted, so
    a factor 0 (a normfactor at 0) never divides."""
    zero = v == 0.0
    pnz = np.multiply.reduceat(np.where(zero, 1.0, v), starts, axis=1)
    nz = np.add.reduceat(zero.astype(np.int64), starts, axis=1)
    prod = np.where(nz > 0, 0.0, pnz)
    pe, ne = pnz[:, seg], nz[:, seg]
    with np.errstate(divide="ignore", invalid="ignore"):
        others = np.where(zero, np.where(ne == 1, pe, 0.0), np.where(ne == 0, pe / np.where(zero, 1.0, v), 0.0))
    return prod, others


def _scatter_matrix(targets: NDArray[np.intp], size: int) -> sp.csr_matrix:
    """The [size, m] 0/1 matrix that sums m entries into their ``targets``."""
    m = targets.size
    return sp.csr_matrix((np.ones(m), (targets, np.arange(m))), shape=(size, m))


def _scatter(values: FloatArray, targets: NDArray[np.intp], size: int) -> FloatArray:
    """Σ of ``values`` [n, m] over entries with the same target → [n, size]."""
    if values.shape[0] == 1:
        one: FloatArray = np.bincount(targets, weights=values[0], minlength=size).astype(float)[None]
        return one
    out = np.zeros((values.shape[0], size))
    np.add.at(out, (slice(None), targets), values)  # type: ignore[arg-type]
    return out


class FlatEvaluator:
    """μ, the gradient of the objective and ∂μ/∂θ of a model, from flat entry tables."""

    def __init__(self, model: BinnedModel):
        S, C, B, P = len(model.samples), len(model.channels), model.n_bins, model.n_params
        self.S, self.C, self.B, self.P = S, C, B, P
        self.cb = model.chan_of_bin
        self.ch_starts = np.array([model.channel_slices[c].start for c in model.channels], dtype=np.intp)
        # -- scalar entries, sorted by block s·C + c
        rows: list[tuple[int, int, int, float, float, FloatArray, Any]] = []  # par, block, kind, lo, hi, coef, fn
        for m in model._scalar:
            if m.kind == "function":
                for s_i, f in zip(m.fn_samples if m.fn_samples is not None else (), m.fn):
                    for c in np.nonzero(m.mask[s_i])[0]:
                        rows.append((m.param, int(s_i * C + c), _FUNCTION, 1.0, 1.0, np.zeros(6), f))
                continue
            for s_i, c in zip(*np.nonzero(m.mask)):
                if m.kind == "normsys" and m.lo is not None and m.hi is not None and m.coef is not None:
                    rows.append((m.param, int(s_i * C + c), _NORMSYS, float(m.lo[s_i, c]), float(m.hi[s_i, c]),
                                 m.coef[s_i, c], None))
                else:
                    rows.append((m.param, int(s_i * C + c), _LINEAR, 1.0, 1.0, np.zeros(6), None))
        par = [r[0] for r in rows]
        blk = [r[1] for r in rows]
        kind = [r[2] for r in rows]
        lo = [r[3] for r in rows]
        hi = [r[4] for r in rows]
        coef = [r[5] for r in rows]
        fns = [r[6] for r in rows]
        order = np.argsort(np.array(blk, dtype=np.intp), kind="stable")
        self.e_par = np.array(par, dtype=np.intp)[order]
        self.e_blk = np.array(blk, dtype=np.intp)[order]
        e_kind = np.array(kind, dtype=np.intp)[order]
        self.lin = np.nonzero(e_kind == _LINEAR)[0]
        self.ns = np.nonzero(e_kind == _NORMSYS)[0]
        self.ns_lo = np.array(lo, dtype=float)[order][self.ns]
        self.ns_hi = np.array(hi, dtype=float)[order][self.ns]
        self.ns_coef = np.array(coef, dtype=float).reshape(-1, 6)[order][self.ns]
        self.fn = [(int(i), fns[int(order[i])]) for i in np.nonzero(e_kind == _FUNCTION)[0]]
        self.E = self.e_par.size
        self.e_starts, self.e_seg, self.seg_blk = self._segments(self.e_blk)
        self.M_jac = _scatter_matrix(self.e_par * (S * C) + self.e_blk, P * S * C)
        # -- templates and histosys
        self.nominal = model.nominal
        self.hp = model._histo_params
        self.hs, self.ha = model._histo_parts(None)
        # -- per-bin entries, sorted by s·B + b
        gpar: list[NDArray[Any]] = []
        gsb: list[NDArray[Any]] = []
        for g in model._gammas:
            nb = g.params.size
            for ch, mask in g.blocks:
                start = int(self.ch_starts[ch])
                for s_i in np.nonzero(mask)[0]:
                    gpar.append(g.params)
                    gsb.append(s_i * B + start + np.arange(nb))
        gp = np.concatenate(gpar) if gpar else np.zeros(0, dtype=np.intp)
        gs = np.concatenate(gsb) if gsb else np.zeros(0, dtype=np.intp)
        order = np.argsort(gs, kind="stable")
        self.g_par, self.g_sb = gp[order].astype(np.intp), gs[order].astype(np.intp)
        self.G = self.g_par.size
        self.g_starts, self.g_seg, self.seg_sb = self._segments(self.g_sb)
        self.Mg_jac = _scatter_matrix(self.g_par * B + self.g_sb % B, P * B)

    @staticmethod
    def _segments(keys: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        if keys.size == 0:
            z = np.zeros(0, dtype=np.intp)
            return z, z, z
        new = np.r_[True, keys[1:] != keys[:-1]]
        starts = np.nonzero(new)[0].astype(np.intp)
        seg = (np.cumsum(new) - 1).astype(np.intp)
        return starts, seg, keys[starts]

    # -- pieces ------------------------------------------------------------------------
    def factors(self, th: FloatArray, grad: bool) -> tuple[FloatArray, FloatArray | None]:
        """F [n, S·C] and, with ``grad``, ∂F_block(e)/∂θ_par(e) per entry [n, E]."""
        n = th.shape[0]
        F = np.ones((n, self.S * self.C))
        if not self.E:
            return F, (np.zeros((n, 0)) if grad else None)
        v = np.empty((n, self.E))
        dv = np.empty((n, self.E))
        v[:, self.lin] = th[:, self.e_par[self.lin]]
        dv[:, self.lin] = 1.0
        if self.ns.size:
            v[:, self.ns], dv[:, self.ns] = code4(th[:, self.e_par[self.ns]], self.ns_lo, self.ns_hi, self.ns_coef)
        for i, f in self.fn:
            v[:, i], dv[:, i] = f(th[:, self.e_par[i]])
        prod, others = _segment_products(v, self.e_starts, self.e_seg)
        F[:, self.seg_blk] = prod
        return F, (others * dv if grad else None)

    def gammas(self, th: FloatArray, grad: bool) -> tuple[FloatArray | None, FloatArray | None]:
        """Γ [n, S·B] (None without per-bin modifiers) and ∂Γ_sb(e)/∂γ_e per entry [n, G]."""
        if not self.G:
            return None, None
        n = th.shape[0]
        v = th[:, self.g_par]
        prod, others = _segment_products(v, self.g_starts, self.g_seg)
        gam = np.ones((n, self.S * self.B))
        gam[:, self.seg_sb] = prod
        return gam, (others if grad else None)

    def templates(self, th: FloatArray, nominal: FloatArray | None, histo: tuple[FloatArray, FloatArray] | None
                  ) -> tuple[FloatArray, Any]:
        """T [n or 1, S, B] and the histosys pieces (sym, asym, dc₂/dα) for the derivatives;
        ``nominal`` [n?, S, B] and ``histo`` = (sym, asym) [n?, H, S, B] replace the model's."""
        nom = self.nominal if nominal is None else nominal
        if not self.hp.size:
            return (nom[None] if nom.ndim == 2 else nom), None
        hs, ha = (self.hs, self.ha) if histo is None else histo
        a = th[:, self.hp]
        c2, dc2 = _code4p_c2(a)
        sub = "nh,hsb->nsb" if hs.ndim == 3 else "nh,nhsb->nsb"
        return nom + np.einsum(sub, a, hs) + np.einsum(sub, c2, ha), (hs, ha, dc2)

    # -- evaluations ---------------------------------------------------------------------
    def _prepare(self, th: FloatArray, nominal: FloatArray | None, histo: Any, grad: bool) -> dict[str, Any]:
        F, gF = self.factors(th, grad)
        gam, gG = self.gammas(th, grad)
        T, hterm = self.templates(th, nominal, histo)
        TG = T if gam is None else T * gam.reshape(-1, self.S, self.B)
        Fb = F.reshape(-1, self.S, self.C)[:, :, self.cb]
        return {"F": F, "gF": gF, "gam": gam, "gG": gG, "T": T, "hterm": hterm, "TG": TG, "Fb": Fb}

    def expected_samples(self, th: FloatArray, nominal: FloatArray | None = None, histo: Any = None) -> FloatArray:
        p = self._prepare(th, nominal, histo, False)
        out: FloatArray = p["Fb"] * p["TG"]
        return out

    def expected(self, th: FloatArray, nominal: FloatArray | None = None, histo: Any = None) -> FloatArray:
        out: FloatArray = self.expected_samples(th, nominal, histo).sum(axis=1)
        return out

    def weighted_gradient(self, th: FloatArray, w: FloatArray, p: dict[str, Any]) -> FloatArray:
        """Σ_b w_b ∂μ_b/∂θ [n, P] from the prepared pieces ``p``."""
        n = th.shape[0]
        grad = np.zeros((n, self.P))
        TG, Fb = p["TG"], p["Fb"]
        if self.E:
            Y = np.add.reduceat(TG * w[:, None, :], self.ch_starts, axis=2).reshape(n, -1)
            grad += _scatter(p["gF"] * Y[:, self.e_blk], self.e_par, self.P)
        if p["hterm"] is not None:
            hs, ha, dc2 = p["hterm"]
            FGw = Fb * w[:, None, :] if p["gam"] is None else Fb * p["gam"].reshape(n, self.S, self.B) * w[:, None, :]
            sub = "nsb,hsb->nh" if hs.ndim == 3 else "nsb,nhsb->nh"
            grad[:, self.hp] += np.einsum(sub, FGw, hs) + dc2 * np.einsum(sub, FGw, ha)
        if self.G:
            FTw = (Fb * p["T"] * w[:, None, :]).reshape(n, -1)
            grad += _scatter(p["gG"] * FTw[:, self.g_sb], self.g_par, self.P)
        return grad

    def mu_and_jacobian_t(self, th: FloatArray, nominal: FloatArray | None = None, histo: Any = None
                          ) -> tuple[FloatArray, FloatArray]:
        """(μ [n, B], ∂μ/∂θ [n, P, B])."""
        n = th.shape[0]
        p = self._prepare(th, nominal, histo, True)
        TG, Fb = p["TG"], p["Fb"]
        mu = (Fb * TG).sum(axis=1)
        jt = np.zeros((n, self.P, self.B))
        if self.E:
            D = (self.M_jac @ p["gF"].T).T.reshape(n, self.P, self.S, self.C)
            jt += np.einsum("npsb,nsb->npb", D[..., self.cb], np.broadcast_to(TG, (n, self.S, self.B)))
        if p["hterm"] is not None:
            hs, ha, dc2 = p["hterm"]
            FG = Fb if p["gam"] is None else Fb * p["gam"].reshape(n, self.S, self.B)
            sub = "nsb,hsb->nhb" if hs.ndim == 3 else "nsb,nhsb->nhb"
            jt[:, self.hp] += np.einsum(sub, FG, hs) + dc2[..., None] * np.einsum(sub, FG, ha)
        if self.G:
            FT = np.broadcast_to(Fb * p["T"], (n, self.S, self.B)).reshape(n, -1)
            jt += (self.Mg_jac @ (p["gG"] * FT[:, self.g_sb]).T).T.reshape(n, self.P, self.B)
        return mu, jt
