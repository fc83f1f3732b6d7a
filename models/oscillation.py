"""3+1 short-baseline νe disappearance.

P_ee(L, E) = 1 − sin²2θ · sin²(Δm² L / 4E)   with Δm² [eV²], L [m], E [MeV]
(docs/physics.md §4). Baseline bins are always averaged exactly, never point-sampled: at
Δm² ≳ 10 eV² the oscillation length is centimetres and point samples alias.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import PhysicsInputError
from ganom.models.constants import OSC_PHASE_EV2_M_PER_MEV

__all__ = ["phase_per_metre", "p_ee", "mean_sin2", "p_ee_mean", "p_ee_solar"]


def _check(dm2: NDArray, sin2_2theta: NDArray) -> None:
    if np.any(dm2 < 0) or not np.all(np.isfinite(dm2)):
        raise PhysicsInputError("dm2", dm2, "finite Δm² ≥ 0 [eV²]")
    if np.any((sin2_2theta < 0) | (sin2_2theta > 1)) or not np.all(np.isfinite(sin2_2theta)):
        raise PhysicsInputError("sin2_2theta", sin2_2theta, "0 ≤ sin²2θ ≤ 1")


def phase_per_metre(e_nu: ArrayLike, dm2: ArrayLike) -> NDArray[np.float64]:
    """k = 1.267 Δm²/E [1/m], so that the oscillating term is sin²(kL)."""
    return OSC_PHASE_EV2_M_PER_MEV * np.asarray(dm2, dtype=float) / np.asarray(e_nu, dtype=float)


def p_ee(L: ArrayLike, e_nu: ArrayLike, dm2: ArrayLike, sin2_2theta: ArrayLike) -> NDArray[np.float64]:
    """Point survival probability P_ee at baseline L [m] and energy E [MeV]."""
    dm2_a, s_a = np.asarray(dm2, dtype=float), np.asarray(sin2_2theta, dtype=float)
    _check(dm2_a, s_a)
    k = phase_per_metre(e_nu, dm2_a)
    return 1.0 - s_a * np.sin(k * np.asarray(L, dtype=float)) ** 2


def mean_sin2(l_lo: ArrayLike, l_hi: ArrayLike, e_nu: ArrayLike, dm2: ArrayLike) -> NDArray[np.float64]:
    """Exact average of sin²(kL) over L ∈ [l_lo, l_hi] (uniform weight).

    ⟨sin²(kL)⟩ = ½ − [sin 2kL₂ − sin 2kL₁] / [4k(L₂ − L₁)] = ½[1 − cos(2kL̄)·sinc(kΔ)],
    with L̄ the bin centre and Δ its width; the second form is exact and stable as k → 0
    or Δ → 0 (docs/physics.md §4).

    >>> round(float(mean_sin2(0.0, 1e3, 0.75, 1e3)), 6)  # many oscillation lengths → ½
    0.5
    """
    k = phase_per_metre(e_nu, dm2)
    lo, hi = np.asarray(l_lo, dtype=float), np.asarray(l_hi, dtype=float)
    centre, width = 0.5 * (lo + hi), hi - lo
    return 0.5 * (1.0 - np.cos(2.0 * k * centre) * np.sinc(k * width / np.pi))


def p_ee_mean(
    l_lo: ArrayLike, l_hi: ArrayLike, e_nu: ArrayLike, dm2: ArrayLike, sin2_2theta: ArrayLike
) -> NDArray[np.float64]:
    """P_ee averaged exactly over the baseline interval [l_lo, l_hi] [m]."""
    dm2_a, s_a = np.asarray(dm2, dtype=float), np.asarray(sin2_2theta, dtype=float)
    _check(dm2_a, s_a)
    return 1.0 - s_a * mean_sin2(l_lo, l_hi, e_nu, dm2_a)


def p_ee_solar(e_nu: ArrayLike, n_e_na_cm3: ArrayLike) -> NDArray[np.float64]:
    """Day-time solar νe survival probability, adiabatic 3ν MSW-LMA.

    P_ee = c₁₃⁴ [½ + ½ cos 2θ₁₂ cos 2θ₁₂ᵐ] + s₁₃⁴, with the matter angle at the production
    density n_e [N_A cm⁻³]: cos 2θ₁₂ᵐ = (cos 2θ₁₂ − β)/√((cos 2θ₁₂ − β)² + sin² 2θ₁₂),
    β = 2√2 G_F n_e E c₁₃² / Δm²₂₁ (Giunti & Kim, "Fundamentals of Neutrino Physics", §9).
    Mixing from NuFIT 6.0. Irrelevant for a source at metres: only for solar backgrounds.

    >>> round(float(p_ee_solar(0.8618, 79.6)), 3)  # ⁷Be line at its production density
    0.527
    """
    from ganom.models.constants import DM2_21_EV2, SIN2_THETA12, SIN2_THETA13, SQRT2_GF_NE_EV_PER_NA_CM3

    e_ev = np.asarray(e_nu, dtype=float) * 1e6
    c13sq = 1.0 - SIN2_THETA13
    cos2 = 1.0 - 2.0 * SIN2_THETA12
    sin2sq = 1.0 - cos2 * cos2
    beta = 2.0 * SQRT2_GF_NE_EV_PER_NA_CM3 * np.asarray(n_e_na_cm3, dtype=float) * e_ev * c13sq / DM2_21_EV2
    cos2m = (cos2 - beta) / np.sqrt((cos2 - beta) ** 2 + sin2sq)
    return c13sq**2 * (0.5 + 0.5 * cos2 * cos2m) + SIN2_THETA13**2
