"""Vertex smearing and the fiducial cut on the reconstructed vertex.

A true vertex at distance L from the point source (and r from the detector centre) is
reconstructed at x' = x + δ with δ ~ N(0, σ² I₃). The analysis bins the reconstructed
baseline L' = |x' − s| and keeps events with reconstructed radius r' < R_fid. This module
computes, as deterministic integrals (no Monte Carlo), the response

    S_k[i, j] = ∫_{L ∈ true bin i} dV ρ(x) · P(L' ∈ reco bin j, r' < R_fid | x, σ_k)

for a set of vertex resolutions σ_k and a density ρ (the flux 1/(4πL²) for the signal,
uniform for internal backgrounds, exponential near the surface for external γ's).

Method. With the source at the origin and the centre at distance D, a point is given by
(L, r). Where r < R_fid − 6σ the fiducial cut is passed with certainty and P(L' ∈ bin) has a
closed form (the CDF of a non-central χ with 3 degrees of freedom). In the shell
|r − R_fid| < 6σ the component of δ along the source direction is integrated analytically
(both conditions are intervals in it) and the two transverse components by Gauss–Hermite
quadrature. For σ = 0 the response is the exact geometric one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from ganom.exceptions import PhysicsInputError

__all__ = ["chi3_cdf", "Density", "true_baseline_edges", "spatial_response", "spatial_responses"]

_SQRT2PI = np.sqrt(2.0 * np.pi)
_N_WINDOW = 6.0  # half-width of the fiducial transition shell, in σ
_Z_NEGLIGIBLE = 9.0  # Φ(−9) = 1.1e-19: a Gaussian tail below double precision of a probability


def _phi(x: NDArray) -> NDArray:
    return np.exp(-0.5 * x * x) / _SQRT2PI


def chi3_cdf(e: NDArray, L: NDArray, sigma: float) -> NDArray:
    """P(|L·û + δ| < e) for δ ~ N(0, σ²I₃): the reconstructed-baseline CDF.

    Closed form of the non-central χ (3 d.o.f.) distribution:
    Φ((e−L)/σ) + Φ((e+L)/σ) − 1 − (σ/L)[φ((e−L)/σ) − φ((e+L)/σ)].
    """
    L = np.maximum(L, 1e-6 * sigma)
    a, b = (e - L) / sigma, (e + L) / sigma
    out = ndtr(a) + ndtr(b) - 1.0 - sigma / L * (_phi(a) - _phi(b))
    return np.clip(np.where(e > 0, out, 0.0), 0.0, 1.0)


@dataclass(frozen=True)
class Density:
    """A vertex density in the detector target.

    kind : "flux" (1/(4πL²): the source signal, S in metres), "uniform" (S in m³),
           "external" (e^{−(R_target − r)/λ}: γ's from outside, S in m³),
           "source" (e^{−L/λ}/(4πL²): source-correlated γ's, S in metres).
    length_m : λ for "external" and "source".
    """

    kind: str = "flux"
    length_m: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("flux", "uniform", "external", "source"):
            raise PhysicsInputError("density kind", self.kind, "flux | uniform | external | source")
        if self.kind in ("external", "source") and not self.length_m > 0:
            raise PhysicsInputError("attenuation length_m", self.length_m, "> 0 m")

    def shell(self, L: NDArray, r1: NDArray, r2: NDArray, d: float, r_target: float) -> NDArray:
        """∫ ρ dV over r ∈ [r1, r2] per unit L, at source distance L (D > 0)."""
        ok = r2 > r1
        if self.kind == "flux":
            out = (r2 * r2 - r1 * r1) / (4.0 * L * d)
        elif self.kind == "source":
            out = (r2 * r2 - r1 * r1) / (4.0 * L * d) * np.exp(-L / self.length_m)
        elif self.kind == "uniform":
            out = np.pi * L * (r2 * r2 - r1 * r1) / d
        else:
            lam = self.length_m

            def prim(r: NDArray) -> NDArray:
                return lam * np.exp((r - r_target) / lam) * (r - lam)

            out = 2.0 * np.pi * L / d * (prim(r2) - prim(r1))
        return np.where(ok, out, 0.0)

    def measure(self, L: NDArray, r: NDArray, d: float, r_target: float) -> NDArray:
        """ρ · dV/(dL dr) at (L, r) for D > 0 (dV = 2πLr dr dL / D)."""
        base = 2.0 * np.pi * L * r / d
        if self.kind == "flux":
            return base / (4.0 * np.pi * L * L)
        if self.kind == "source":
            return base / (4.0 * np.pi * L * L) * np.exp(-L / self.length_m)
        if self.kind == "uniform":
            return base
        return base * np.exp((r - r_target) / self.length_m)

    def radial(self, L: NDArray, r_target: float) -> NDArray:
        """ρ · dV/dL for a source at the centre (r = L)."""
        if self.kind == "flux":
            return np.ones_like(L)
        if self.kind == "source":
            return np.exp(-L / self.length_m)
        if self.kind == "uniform":
            return 4.0 * np.pi * L * L
        return 4.0 * np.pi * L * L * np.exp((L - r_target) / self.length_m)


_GL_L = np.polynomial.legendre.leggauss(3)
_GL_WIN = np.polynomial.legendre.leggauss(8)
_GH_X, _GH_W = np.polynomial.hermite.hermgauss(8)
_GH_A = (np.sqrt(2.0) * _GH_X, _GH_W / np.sqrt(np.pi))
_GH_B = (np.sqrt(2.0) * _GH_X[4:], 2.0 * _GH_W[4:] / np.sqrt(np.pi))
_GL_A = np.polynomial.legendre.leggauss(5)
_A_BREAKS = np.array([-_N_WINDOW, -3.0, -1.0, 1.0, 3.0, _N_WINDOW])


def true_baseline_edges(reco_edges: NDArray, l_min: float, l_max: float, max_width: float,
                        kinks: list[float]) -> NDArray:
    """Fine true-baseline edges: every reco edge and kink, no bin wider than ``max_width``."""
    breaks = np.unique(np.concatenate([[l_min, l_max], reco_edges[(reco_edges > l_min) & (reco_edges < l_max)],
                                       [k for k in kinks if l_min < k < l_max]]))
    out = [breaks[:1]]
    for a, b in zip(breaks[:-1], breaks[1:]):
        n = max(1, int(np.ceil((b - a) / max_width - 1e-9)))
        out.append(np.linspace(a, b, n + 1)[1:])
    return np.concatenate(out)


def spatial_response(
    r_target: float,
    r_fid: float,
    distance: float,
    true_edges: NDArray,
    reco_edges: NDArray,
    sigmas: NDArray,
    density: Density = Density("flux"),
    exclusion_radius: float = 0.0,
) -> NDArray[np.float64]:
    """S[k, i, j]: density-weighted probability to reconstruct in reco bin j from true bin i.

    Parameters
    ----------
    r_target, r_fid : radius of the active target and of the fiducial cut on the
        reconstructed vertex [m]; true vertices fill the target.
    distance : source distance from the centre [m].
    true_edges : true-baseline edges [m]; must contain the reco edges and the kinks
        |R − D| of both spheres for the σ = 0 response to be exact.
    reco_edges : reconstructed-baseline edges [m].
    sigmas : vertex resolutions σ_k [m] (0 allowed).
    density : the vertex density (module docstring).
    exclusion_radius : no true vertices within this distance of the source (its capsule and
        shield) [m]; an edge of ``true_edges`` when inside the target.
    """
    return spatial_responses(r_target, r_fid, distance, true_edges, reco_edges, sigmas, [density], exclusion_radius)[0]


def spatial_responses(
    r_target: float,
    r_fid: float,
    distance: float,
    true_edges: NDArray,
    reco_edges: NDArray,
    sigmas: NDArray,
    densities: Sequence[Density],
    exclusion_radius: float = 0.0,
) -> list[NDArray[np.float64]]:
    """:func:`spatial_response` for several densities at once, one S[k, i, j] per density.

    The smearing across the fiducial surface (the costly part) depends on the geometry only;
    it is computed once and weighted by each density.
    """
    true_edges = np.asarray(true_edges, dtype=float)
    reco_edges = np.asarray(reco_edges, dtype=float)
    d = float(distance) if distance > 1e-12 * r_target else 0.0
    x, w = _GL_L
    lo, hi = true_edges[:-1], true_edges[1:]
    half = 0.5 * (hi - lo)
    L = (0.5 * (lo + hi))[:, None] + half[:, None] * x  # (nbins, 3)
    wL = np.where(L < exclusion_radius, 0.0, half[:, None] * w)
    out = np.zeros((len(densities), len(sigmas), len(lo), len(reco_edges) - 1))
    for k, sig in enumerate(np.asarray(sigmas, dtype=float)):
        f = _cdf_at_edges(L.ravel(), wL.ravel(), r_target, r_fid, d, reco_edges, float(sig), densities)
        out[:, k] = np.diff(f, axis=-1).reshape((len(densities),) + L.shape + (-1,)).sum(axis=2)
    return list(np.clip(out, 0.0, None))


def _cdf_at_edges(L: NDArray, wL: NDArray, r_t: float, r_f: float, d: float, edges: NDArray,
                  sig: float, densities: Sequence[Density]) -> NDArray:
    """Σ over the true points at each L of weight × P(L' < edge, r' < R_fid), shape
    (densities, nL, nedges)."""
    n_e = edges.size
    if d == 0.0:
        inside = L < r_t
        rad = np.stack([np.where(inside, dn.radial(L, r_t), 0.0) * wL for dn in densities])
        cut = np.minimum(edges[None, :], r_f)
        if sig == 0.0:
            return rad[..., None] * ((L[:, None] < cut) & (L[:, None] < r_f))
        return rad[..., None] * chi3_cdf(cut, L[:, None], sig)

    r_lo = np.abs(L - d)
    r_hi = np.minimum(L + d, r_t)
    valid = r_hi > r_lo
    if sig == 0.0:
        r2 = np.clip(np.minimum(r_hi, r_f), r_lo, None)
        wt = np.stack([np.where(valid, dn.shell(L, r_lo, r2, d, r_t), 0.0) * wL for dn in densities])
        return wt[..., None] * (L[:, None] < edges[None, :])

    # interior: the fiducial cut is certain; closed-form baseline smearing
    r_in = np.clip(np.minimum(r_hi, r_f - _N_WINDOW * sig), r_lo, None)
    w_in = np.stack([np.where(valid, dn.shell(L, r_lo, r_in, d, r_t), 0.0) * wL for dn in densities])
    f = w_in[..., None] * chi3_cdf(edges[None, :], L[:, None], sig)

    # the fiducial transition shell
    a = np.maximum(r_lo, r_f - _N_WINDOW * sig)
    b = np.minimum(r_hi, r_f + _N_WINDOW * sig)
    has = valid & (b > a)
    if not np.any(has):
        return f
    idx = np.nonzero(has)[0]
    xr, wr = _GL_WIN
    hr = 0.5 * (b[idx] - a[idx])
    r = (0.5 * (a[idx] + b[idx]))[:, None] + hr[:, None] * xr
    Lw = np.broadcast_to(L[idx, None], r.shape)
    weight = np.stack([(hr[:, None] * wr) * dn.measure(Lw, r, d, r_t) * wL[idx, None] for dn in densities])
    cos_a = np.clip((Lw * Lw + d * d - r * r) / (2.0 * Lw * d), -1.0, 1.0)
    sin_a = np.sqrt(1.0 - cos_a * cos_a)
    fw = _window_cdf(Lw.ravel(), cos_a.ravel(), sin_a.ravel(), d, r_f, edges, sig)
    f[:, idx] += np.einsum("npr,pre->npe", weight, fw.reshape(r.shape + (n_e,)))
    return f


def _transverse_nodes(ca: NDArray, r_f: float, sig: float, split: bool) -> tuple[NDArray, NDArray]:
    """(δ_a, δ_b²) nodes and weights, shapes (n, mb·ma): the transverse Gaussian quadrature.

    |δ_b| uses the non-negative half of an 8-point Gauss–Hermite rule (only δ_b² enters).
    δ_a uses 8-point Gauss–Hermite, or, where the displaced ray starts to miss the fiducial
    sphere within ±6σ (δ_a = D sin α ± √(R_fid² − δ_b²), a square-root kink that Hermite
    rules resolve poorly: tangent rays from an outside source), 5-point Gauss–Legendre
    panels with a Gaussian weight split at ±1σ, ±3σ, ±6σ and at the kinks.
    """
    db, wb = _GH_B[0] * sig, _GH_B[1]
    n = ca.size
    if not split:
        da = np.broadcast_to(_GH_A[0] * sig, (n, db.size, _GH_A[0].size))
        wa = np.broadcast_to(_GH_A[1], da.shape)
    else:
        lim = _N_WINDOW * sig
        h = np.sqrt(np.clip(r_f * r_f - db * db, 0.0, None))
        fixed = np.broadcast_to(_A_BREAKS * sig, (n, db.size, _A_BREAKS.size))
        kinks = np.stack(np.broadcast_arrays(ca[:, None] - h, ca[:, None] + h), axis=-1)
        br = np.sort(np.concatenate([fixed, np.clip(kinks, -lim, lim)], axis=-1), axis=-1)
        half = 0.5 * (br[..., 1:] - br[..., :-1])
        mid = 0.5 * (br[..., 1:] + br[..., :-1])
        xg, wg = _GL_A
        nodes = mid[..., None] + half[..., None] * xg
        da = nodes.reshape(n, db.size, -1)
        wa = (half[..., None] * wg * _phi(nodes / sig) / sig).reshape(n, db.size, -1)
    db2 = np.broadcast_to((db * db)[None, :, None], da.shape)
    w = wa * wb[None, :, None]
    return da.reshape(n, -1), db2.reshape(n, -1), w.reshape(n, -1)


def _window_cdf(L: NDArray, cos_a: NDArray, sin_a: NDArray, d: float, r_f: float, edges: NDArray,
                sig: float, chunk: int = 1024) -> NDArray:
    """P(L' < e, r' < R_fid) at points (L, α) for every edge e.

    The component δ₁ of the smearing along the source direction is integrated analytically
    (both conditions are intervals in δ₁), the transverse ones by :func:`_transverse_nodes`.
    Only edges within reach are evaluated: below L − 7σ the CDF is 0, above
    √((L+7σ)² + (7σ)²) it equals P(r' < R_fid).
    """
    ca = d * sin_a
    lim = _N_WINDOW * sig
    h = np.sqrt(np.clip(r_f * r_f - (_GH_B[0] * sig) ** 2, 0.0, None))
    split = np.any(np.abs(ca[:, None] - h[None, :]) < lim, axis=1) | np.any(ca[:, None] + h[None, :] < lim, axis=1)
    reach = 7.0 * sig
    j_lo = np.searchsorted(edges, L - reach)
    j_hi = np.searchsorted(edges, np.sqrt((L + reach) ** 2 + reach**2), side="right")
    out = np.empty((L.size, edges.size))
    cols = np.arange(edges.size)
    for rule in (False, True):
        idx_all = np.nonzero(split == rule)[0]
        for s in range(0, idx_all.size, chunk):
            idx = idx_all[s:s + chunk]
            m = int(np.max(j_hi[idx] - j_lo[idx])) + 1
            sel = np.clip(j_lo[idx, None] + np.arange(m), 0, edges.size - 1)
            e_sel = np.concatenate([edges[sel], np.full((idx.size, 1), np.inf)], axis=1)
            da, db2, w = _transverse_nodes(ca[idx], r_f, sig, rule)
            f = _cdf_core(L[idx], cos_a[idx] * d, ca[:, None][idx], da, db2, w, e_sel, r_f, sig)
            full = f[:, -1:]
            pos = cols[None, :] - j_lo[idx, None]
            inside = (pos >= 0) & (pos < m)
            got = np.take_along_axis(f[:, :-1], np.clip(pos, 0, m - 1), axis=1)
            out[idx] = np.where(pos < 0, 0.0, np.where(inside, got, full))
    return out


def _cdf_core(L: NDArray, dcos: NDArray, dsin: NDArray, da: NDArray, db2: NDArray, w: NDArray,
              e_sel: NDArray, r_f: float, sig: float) -> NDArray:
    """Σ_nodes w · P_δ₁(δ₁ ∈ I_L(e) ∩ I_fid), shapes: points n, nodes q, edges m.

    With I_L(e) = [−√(e² − p²) − L, √(e² − p²) − L] and I_fid = [c − s, c + s] (each empty
    when its square root is imaginary), P = max(Φ(min(hi)) − Φ(max(lo)), 0) and Φ is
    monotonic, so Φ is taken of the bounds, not of their extremes. The lower bound of I_L is
    ≤ −L: at points with L > 9σ its Φ is below 1.2·10⁻¹⁹ and is set to 0 (the Φ evaluations
    are the cost of this function).
    """
    Ls = L[:, None]
    inv = 1.0 / sig
    sq = np.sqrt(np.clip(r_f * r_f - (da - dsin) ** 2 - db2, 0.0, None))
    c = dcos[:, None] - Ls
    phi_lo = ndtr((c - sq) * inv)[..., None]
    phi_hi = ndtr((c + sq) * inv)[..., None]
    root = (e_sel * e_sel)[:, None, :] - (da * da + db2)[..., None]
    np.clip(root, 0.0, None, out=root)
    np.sqrt(root, out=root)
    root *= inv
    l_sig = (Ls * inv)[..., None]
    prob = ndtr(root - l_sig)
    np.minimum(prob, phi_hi, out=prob)
    prob -= phi_lo
    near = np.nonzero(L * inv < _Z_NEGLIGIBLE)[0]
    if near.size:  # Φ(max(lo_L, lo_fid)) − Φ(lo_fid) = max(Φ(lo_L) − Φ(lo_fid), 0)
        prob[near] -= np.maximum(ndtr(-(root[near] + l_sig[near])) - phi_lo[near], 0.0)
    np.maximum(prob, 0.0, out=prob)
    return np.einsum("nqe,nq->ne", prob, w)
