"""Directional reconstruction: the angle between the recoil electron and the source direction.

Neutrinos from a point source travel radially, so at a vertex the neutrino direction is the
source→vertex direction, and the recoil angle θ obeys two-body kinematics,
cos θ = (1 + m_e/E_ν)√(T/(T + 2m_e)) (:func:`ganom.models.xsec.cos_theta_recoil`): a measured
(T, cos θ) pair fixes E_ν (:func:`ganom.models.xsec.neutrino_energy`).

The reconstructed direction is smeared with a von Mises–Fisher distribution of width σ_θ
(concentration κ = 1/σ_θ², σ_θ in radians), the spherical analogue of a Gaussian. Averaged
over the azimuth, the reconstructed polar angle θ' for a true angle θ₀ has the density

    p(θ' | θ₀) = κ/(2 sinh κ) · exp(κ cos θ' cos θ₀) · I₀(κ sin θ' sin θ₀) · sin θ'.

In a scintillator the direction comes from the Cherenkov light, which an electron emits only
above the threshold β > 1/n (T_C = m_e(1/√(1 − 1/n²) − 1), 0.18 MeV in LAB): below it the
reconstructed direction carries no information (uniform in cos θ). Above it σ_θ shrinks as the
number of Cherenkov photons grows: with the Frank–Tamm yield per unit path ∝ 1 − 1/(n²β²) and
a constant stopping power (an approximation), the photons of the whole track are
N(T) ∝ ∫_{T_C}^{T} (1 − 1/(n²β²)) dT', and σ_θ(T) = σ_ref √(N(T_ref)/N(T)) scales a resolution
σ_ref quoted at T_ref (:func:`angular_sigma_deg`; multiple scattering, which widens σ_θ
further at low T, is neglected: an optimistic assumption).

Isotropic backgrounds are uniform in cos θ whatever the resolution. Solar-ν recoils are
treated as isotropic relative to the source direction: exact for a source at the centre (the
source direction is then isotropic over the volume), an approximation for outside positions,
where their distribution depends on the Sun's position.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import i0e

from ganom.exceptions import PhysicsInputError
from ganom.models.constants import M_ELECTRON_MEV

__all__ = ["check_cos_edges", "angular_response", "cherenkov_threshold_mev", "cherenkov_yield", "angular_sigma_deg"]

_N_THETA = 2880  # 0.0625° steps of the reconstructed polar angle


def check_cos_edges(edges: ArrayLike) -> NDArray[np.float64]:
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0) or e[0] < -1 or e[-1] > 1:
        raise PhysicsInputError("cos_edges", edges, "increasing edges within [−1, 1]")
    return e


def cherenkov_threshold_mev(refractive_index: float) -> float:
    """Electron kinetic energy [MeV] above which it emits Cherenkov light, β > 1/n.

    >>> round(cherenkov_threshold_mev(1.49), 3)  # LAB
    0.178
    """
    n = float(refractive_index)
    if not n > 1:
        raise PhysicsInputError("refractive_index", refractive_index, "> 1")
    return M_ELECTRON_MEV * (1.0 / math.sqrt(1.0 - 1.0 / (n * n)) - 1.0)


def cherenkov_yield(t_mev: ArrayLike, refractive_index: float) -> NDArray[np.float64]:
    """Cherenkov photons of a stopping electron of kinetic energy ``t_mev``, up to a constant:
    ∫_{T_C}^{T} (1 − 1/(n²β²)) dT' [MeV] (0 below the threshold), in closed form with
    γ = 1 + T/m_e: m_e[γ(1 − 1/n²) − ln((γ − 1)/(γ + 1))/(2n²)] between γ_C and γ."""
    n2 = float(refractive_index) ** 2
    t_c = cherenkov_threshold_mev(refractive_index)

    def prim(g: NDArray) -> NDArray:
        return M_ELECTRON_MEV * (g * (1.0 - 1.0 / n2) - np.log((g - 1.0) / (g + 1.0)) / (2.0 * n2))

    t = np.asarray(t_mev, dtype=float)
    g = 1.0 + np.maximum(t, t_c) / M_ELECTRON_MEV
    return np.where(t > t_c, prim(g) - prim(np.asarray(1.0 + t_c / M_ELECTRON_MEV)), 0.0)


def angular_sigma_deg(t_mev: ArrayLike, sigma_deg: float, refractive_index: float | None = None,
                      reference_mev: float | None = None) -> NDArray[np.float64]:
    """σ_θ [degrees] at recoil energies ``t_mev``: ``sigma_deg`` everywhere (no
    ``refractive_index``: the energy-independent model), ∞ (no direction) at or below the
    Cherenkov threshold, and σ_ref √(N(T_ref)/N(T)) above it when ``reference_mev`` says at which
    energy ``sigma_deg`` holds (:func:`cherenkov_yield`).

    >>> s = angular_sigma_deg([0.1, 0.5, 2.0], 46.0, 1.49, 2.0)
    >>> bool(np.isinf(s[0])), round(float(s[2]), 6), bool(s[1] > 3 * 46)
    (True, 46.0, True)
    """
    t = np.asarray(t_mev, dtype=float)
    if refractive_index is None:
        return np.full(t.shape, float(sigma_deg))
    above = t > cherenkov_threshold_mev(refractive_index)
    if reference_mev is None:
        return np.where(above, float(sigma_deg), np.inf)
    ref = float(cherenkov_yield(reference_mev, refractive_index))
    if not ref > 0:
        raise PhysicsInputError("angular_reference_mev", reference_mev,
                                f"above the Cherenkov threshold {cherenkov_threshold_mev(refractive_index):.3g} MeV")
    y = cherenkov_yield(t, refractive_index)
    val = float(sigma_deg) * np.sqrt(ref / np.where(y > 0, y, 1.0))
    return np.where(above & (y > 0) & (val <= 180.0), val, np.inf)  # wider than 180°: no direction


def angular_response(cos_true: ArrayLike, edges: ArrayLike, sigma_deg: float | ArrayLike) -> NDArray[np.float64]:
    """P(cos θ_reco ∈ bin | cos θ_true) [n, n_bins] for a resolution σ_θ [degrees], one value
    or one per ``cos_true``.

    σ_θ = 0 is a perfect measurement (the bin holding cos θ_true); σ_θ = ∞ (e.g. below the
    Cherenkov threshold) no measurement: uniform in cos θ. Probability outside
    [edges[0], edges[-1]] is lost (bins need not cover [−1, 1]).
    """
    c0 = np.clip(np.asarray(cos_true, dtype=float), -1.0, 1.0).ravel()
    e = check_cos_edges(edges)
    sig = np.broadcast_to(np.asarray(sigma_deg, dtype=float), np.shape(cos_true)).ravel()
    if np.any(np.isnan(sig) | (sig < 0) | (np.isfinite(sig) & (sig > 180))):
        raise PhysicsInputError("angular_resolution_deg", sigma_deg, "0–180 degrees (∞: no direction)")
    out = np.zeros((c0.size, e.size - 1))
    iso = ~np.isfinite(sig)
    out[iso] = np.diff(e) / 2.0
    exact = sig == 0
    if exact.any():
        idx = np.searchsorted(e, c0[exact], side="right") - 1
        idx = np.where(c0[exact] == e[-1], e.size - 2, idx)
        ok = (idx >= 0) & (idx < e.size - 1)
        rows = np.nonzero(exact)[0]
        out[rows[ok], idx[ok]] = 1.0
    smear = ~(iso | exact)
    if not smear.any():
        return out
    kappa = 1.0 / np.radians(sig[smear])[:, None] ** 2
    th = (np.arange(_N_THETA) + 0.5) * np.pi / _N_THETA  # reconstructed θ' grid (midpoints)
    th0 = np.arccos(c0[smear])[:, None]
    x = kappa * np.sin(th)[None, :] * np.sin(th0)
    logp = (np.log(kappa) - np.log1p(-np.exp(-2.0 * kappa)) + kappa * (np.cos(th[None, :] - th0) - 1.0)
            + np.log(i0e(x)) + np.log(np.sin(th))[None, :])
    p = np.exp(logp)
    p /= p.sum(axis=1, keepdims=True)  # the grid's quadrature weights are equal
    # cumulative probability at the cell boundaries, interpolated at the bin edges' angles
    bounds = np.arange(_N_THETA + 1) * np.pi / _N_THETA
    cdf = np.concatenate([np.zeros((p.shape[0], 1)), np.cumsum(p, axis=1)], axis=1)
    theta_edges = np.arccos(e)  # decreasing
    k = np.clip(np.searchsorted(bounds, theta_edges) - 1, 0, _N_THETA - 1)
    f = (theta_edges - bounds[k]) / (bounds[k + 1] - bounds[k])
    at = cdf[:, k] * (1.0 - f) + cdf[:, k + 1] * f
    out[smear] = np.clip(at[:, :-1] - at[:, 1:], 0.0, None)
    return out
