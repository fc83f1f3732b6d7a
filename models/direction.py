"""Directional reconstruction: the angle between the recoil electron and the source direction.

Neutrinos from a point source travel radially, so at a vertex the neutrino direction is the
source→vertex direction, and the recoil angle θ obeys two-body kinematics,
cos θ = (1 + m_e/E_ν)√(T/(T + 2m_e)) (:func:`ganom.models.xsec.cos_theta_recoil`): a measured
(T, cos θ) pair fixes E_ν (:func:`ganom.models.xsec.neutrino_energy`).

The reconstructed direction is smeared with a von Mises–Fisher distribution of width σ_θ
(concentration κ = 1/σ_θ², σ_θ in radians), the spherical analogue of a Gaussian. Averaged
over the azimuth, the reconstructed polar angle θ' for a true angle θ₀ has the density

    p(θ' | θ₀) = κ/(2 sinh κ) · exp(κ cos θ' cos θ₀) · I₀(κ sin θ' sin θ₀) · sin θ'.

Isotropic backgrounds are uniform in cos θ whatever the resolution. Solar-ν recoils are
treated as isotropic relative to the source direction: exact for a source at the centre (the
source direction is then isotropic over the volume), an approximation for outside positions,
where their distribution depends on the Sun's position.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import i0e

from ganom.exceptions import PhysicsInputError

__all__ = ["check_cos_edges", "angular_response"]

_N_THETA = 2880  # 0.0625° steps of the reconstructed polar angle


def check_cos_edges(edges: ArrayLike) -> NDArray[np.float64]:
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0) or e[0] < -1 or e[-1] > 1:
        raise PhysicsInputError("cos_edges", edges, "increasing edges within [−1, 1]")
    return e


def angular_response(cos_true: ArrayLike, edges: ArrayLike, sigma_deg: float) -> NDArray[np.float64]:
    """P(cos θ_reco ∈ bin | cos θ_true) [n, n_bins] for a resolution σ_θ [degrees].

    σ_θ = 0 is a perfect measurement (the bin holding cos θ_true). Probability outside
    [edges[0], edges[-1]] is lost (bins need not cover [−1, 1]).
    """
    c0 = np.clip(np.asarray(cos_true, dtype=float), -1.0, 1.0).ravel()
    e = check_cos_edges(edges)
    if not (np.isfinite(sigma_deg) and 0 <= sigma_deg <= 180):
        raise PhysicsInputError("angular_resolution_deg", sigma_deg, "0–180 degrees")
    if sigma_deg == 0:
        idx = np.searchsorted(e, c0, side="right") - 1
        idx = np.where(c0 == e[-1], e.size - 2, idx)
        out = np.zeros((c0.size, e.size - 1))
        ok = (idx >= 0) & (idx < e.size - 1)
        out[np.nonzero(ok)[0], idx[ok]] = 1.0
        return out
    kappa = 1.0 / np.radians(sigma_deg) ** 2
    th = (np.arange(_N_THETA) + 0.5) * np.pi / _N_THETA  # reconstructed θ' grid (midpoints)
    th0 = np.arccos(c0)[:, None]
    x = kappa * np.sin(th)[None, :] * np.sin(th0)
    logp = (np.log(kappa) - np.log1p(-np.exp(-2.0 * kappa)) + kappa * (np.cos(th[None, :] - th0) - 1.0)
            + np.log(i0e(x)) + np.log(np.sin(th))[None, :])
    p = np.exp(logp)
    p /= p.sum(axis=1, keepdims=True)  # the grid's quadrature weights are equal
    # cumulative probability at the cell boundaries, interpolated at the bin edges' angles
    bounds = np.arange(_N_THETA + 1) * np.pi / _N_THETA
    cdf = np.concatenate([np.zeros((c0.size, 1)), np.cumsum(p, axis=1)], axis=1)
    theta_edges = np.arccos(e)  # decreasing
    k = np.clip(np.searchsorted(bounds, theta_edges) - 1, 0, _N_THETA - 1)
    f = (theta_edges - bounds[k]) / (bounds[k + 1] - bounds[k])
    at = cdf[:, k] * (1.0 - f) + cdf[:, k + 1] * f
    return np.clip(at[:, :-1] - at[:, 1:], 0.0, None)
