"""Monte Carlo statistical uncertainty of the templates, profiled analytically per bin.

Barlow–Beeston "lite" (J. S. Conway, arXiv:1103.0354; R. Barlow and C. Beeston, Comput.
Phys. Commun. 77 (1993) 219): one factor γ_b per bin multiplies the total expected count
of the bin, with a Gaussian constraint of the template's relative MC uncertainty

    σ_b = √(Σ_s δ_sb²) / Σ_s ν_sb        (δ_sb² = Σ w² of sample s in bin b)

which is pyhf's ``staterror`` on every sample of the channel (docs/statistics.md §4). The
γ_b enter no other term, so each is minimised in closed form: for a bin with count n,
expected μ (before γ) and auxiliary datum a (1 nominally),

    D(μ) = min_γ [γμ − n − n ln(γμ/n) + (γ − a)²/(2σ²)] + ln σ + ½ ln 2π,
    γ̂ = positive root of γ² + (μσ² − a) γ − nσ² = 0,

(CMS "autoMCStats" profiles its per-bin parameters the same way). With ``constraint =
"poisson"`` the MC is instead an auxiliary Poisson count m = aτ of τ = 1/σ² effective
events, as in Barlow and Beeston's original treatment:

    D(μ) = min_γ [γμ − n − n ln(γμ/n) + τγ − m − m ln(τγ/m)],   γ̂ = (n + m)/(μ + τ),

which stays unbiased where bins hold few MC events (the Gaussian form pulls R there;
docs/statistics.md §17 has the coverage measured both ways). The profiled likelihood
has the same maximum as the one with explicit γ's, so a model exported with ``staterror``
modifiers fits in pyhf to the same answer, but the minimisers see only the scalar
parameters: a model with 1000 bins of MC templates costs what it costs without them.

>>> import math, numpy as np
>>> g = profiled_gamma(np.array([100.0]), np.array([120.0]), np.array([1.0]), np.array([0.1]))
>>> bool(abs(g[0] - math.sqrt(1.2)) < 1e-12)  # μσ² = a: γ̂² = nσ² (pulled towards n/μ = 1.2)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["CONSTRAINTS", "MCStat", "profiled_gamma", "profiled_terms"]

CONSTRAINTS = ("normal", "poisson")
"""The constraint of the MC-statistics γ's: pyhf's staterror (normal) or Barlow–Beeston's Poisson."""

FloatArray = NDArray[np.float64]
_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


@dataclass(frozen=True)
class MCStat:
    """The bins with an MC uncertainty: flat bin indices ``bins`` [M] and their relative
    uncertainties ``sigma`` [M] (> 0); ``names`` gives each channel's staterror name (what a
    pyhf export calls it) and ``channel_of`` [M] the channel index of each bin."""

    bins: NDArray[np.intp]
    sigma: FloatArray
    names: tuple[str, ...]
    channel_of: NDArray[np.intp]
    constraint: str = "normal"

    @property
    def size(self) -> int:
        return int(self.bins.size)


def profiled_gamma(mu: FloatArray, n: FloatArray, a: FloatArray, sigma: FloatArray,
                   constraint: str = "normal") -> FloatArray:
    """γ̂ per bin (module docstring), stable for any sign of μσ² − a and for n = 0."""
    if constraint == "poisson":
        tau = 1.0 / (sigma * sigma)
        return (n + a * tau) / (mu + tau)
    b = mu * sigma * sigma - a
    c = n * sigma * sigma
    root = np.sqrt(b * b + 4.0 * c)
    with np.errstate(divide="ignore", invalid="ignore"):
        small_b = 0.5 * (root - b)
        big_b = np.where(root + b > 0, 2.0 * c / np.where(root + b > 0, root + b, 1.0), 0.0)
    return np.where(b > 0, big_b, small_b)


def profiled_terms(mu: FloatArray, n: FloatArray, a: FloatArray, sigma: FloatArray,
                   curvature: bool = False, constraint: str = "normal") -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Per bin: (D(μ), ∂D/∂μ = γ̂ − n/μ, ∂²D/∂μ² = n/μ² + ∂γ̂/∂μ ≥ 0) for μ > 0. For the
    Poisson constraint D omits the auxiliary count's constant m − m ln m + ln Γ(m + 1).

    >>> import numpy as np
    >>> mu, n, a, s = np.array([50.0]), np.array([60.0]), np.array([1.0]), np.array([0.05])
    >>> d0, g, _ = profiled_terms(mu, n, a, s)
    >>> h = 1e-6
    >>> d1, _, _ = profiled_terms(mu + h, n, a, s)
    >>> bool(abs((d1 - d0)[0] / h - g[0]) < 1e-6)
    True
    """
    gam = profiled_gamma(mu, n, a, sigma, constraint)
    lam = gam * mu
    s2 = sigma * sigma
    if constraint == "poisson":
        tau = 1.0 / s2
        m = a * tau
        with np.errstate(divide="ignore", invalid="ignore"):
            val = (lam - n + np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / np.where(lam > 0, lam, 1.0)), 0.0)
                   + tau * gam - m + np.where(m > 0, m * np.log(np.where(m > 0, m, 1.0) / (tau * gam)), 0.0))
            grad = gam - n / mu
        curv_p = np.maximum(n / (mu * mu) - (n + m) / (mu + tau) ** 2, 0.0) if curvature else None
        return val, grad, curv_p
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = lam - n + np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / np.where(lam > 0, lam, 1.0)), 0.0)
        grad = gam - n / mu
    val = dev + (gam - a) ** 2 / (2.0 * s2) + np.log(sigma) + _HALF_LOG_2PI
    curv = None
    if curvature:
        disc = 2.0 * gam + mu * s2 - a  # = √(b² + 4nσ²) > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            dgam = -s2 * gam / np.where(disc > 0, disc, np.inf)
        curv = np.maximum(n / (mu * mu) + dgam, 0.0)
    return val, grad, curv
