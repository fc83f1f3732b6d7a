"""Neutrino–electron elastic scattering: dσ/dT for every flavour.

Two models:

* ``"bks"`` (default): Bahcall, Kamionkowski & Sirlin, PRD 51 (1995) 6146, with the
  electroweak radiative corrections to the couplings (their eqs. 11–14: ρ_NC, κ(T) with
  ŝ² = 0.2317) and the QED corrections f₋, f₊, f₊₋ of their Appendix (eqs. A2–A4).
* ``"tree"``: tree level with sin²θ_W = 0.23867 (MS-bar, Q → 0). It overestimates σ(νe)
  by ≈ 4.5 % at ⁵¹Cr energies; use it only for comparisons.

Energies in MeV; cross sections in cm² (dσ/dT in cm²/MeV). Every function broadcasts
over its array arguments.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import spence

from ganom.exceptions import PhysicsInputError
from ganom.models.constants import ALPHA_EM, BKS_RHO_NC, BKS_SIN2_HAT, M_ELECTRON_MEV, SIGMA0_CM2, SIN2_THETA_W_LOW_Q

__all__ = [
    "Flavour",
    "Model",
    "FLAVOURS",
    "MODELS",
    "t_max",
    "e_nu_min",
    "spence_l",
    "dsigma_dt",
    "dsigma_dt_mixture",
    "recoil_quadrature",
    "sigma",
    "cos_theta_recoil",
    "recoil_energy_at_angle",
    "neutrino_energy",
]

Flavour = Literal["e", "mu", "tau", "ebar", "mubar", "taubar", "s"]
Model = Literal["bks", "tree"]
FLAVOURS: tuple[str, ...] = ("e", "mu", "tau", "ebar", "mubar", "taubar", "s")
MODELS: tuple[str, ...] = ("bks", "tree")

_ME = M_ELECTRON_MEV


def t_max(e_nu: ArrayLike) -> NDArray[np.float64]:
    """Maximum electron recoil kinetic energy T_max = 2E²/(m_e + 2E) [MeV].

    >>> round(float(t_max(0.7467)), 4)  # ⁵¹Cr main line, docs/physics.md §3
    0.5563
    """
    e = np.asarray(e_nu, dtype=float)
    return 2.0 * e * e / (_ME + 2.0 * e)


def e_nu_min(t: ArrayLike) -> NDArray[np.float64]:
    """Smallest neutrino energy that can give recoil T [MeV] (inverse of :func:`t_max`)."""
    t = np.asarray(t, dtype=float)
    return 0.5 * (t + np.sqrt(t * (t + 2.0 * _ME)))


def _check(flavour: str, model: str) -> None:
    if flavour not in FLAVOURS:
        raise PhysicsInputError("flavour", flavour, f"one of {', '.join(FLAVOURS)}")
    if model not in MODELS:
        raise PhysicsInputError("model", model, f"one of {', '.join(MODELS)}")


def _is_antineutrino(flavour: str) -> bool:
    return flavour.endswith("bar")


def _charged_current(flavour: str) -> bool:
    return flavour in ("e", "ebar")


def spence_l(x: ArrayLike) -> NDArray[np.float64]:
    """BKS's L(x) = ∫₀ˣ ln|1 − t|/t dt = −Li₂(x), for x ≤ 1."""
    return -spence(1.0 - np.asarray(x, dtype=float))


def _bks_kappa_i(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """I(T) of BKS eq. (13), entering κ(T)."""
    x = np.sqrt(1.0 + 2.0 * _ME / t)
    return (1.0 / 6.0) * (1.0 / 3.0 + (3.0 - x * x) * (0.5 * x * np.log((x + 1.0) / (x - 1.0)) - 1.0))


def _bks_couplings(t: NDArray[np.float64], flavour: str) -> tuple[NDArray, NDArray]:
    """(g_L(T), g_R(T)) of BKS eqs. (11)–(12), ρ and κ(T) included; ν̄ swaps L ↔ R."""
    i_t = _bks_kappa_i(t)
    if _charged_current(flavour):
        kappa = 0.9791 + 0.0097 * i_t
    else:
        kappa = 0.9970 - 0.00037 * i_t
    g_left = BKS_RHO_NC * (0.5 - kappa * BKS_SIN2_HAT) - (1.0 if _charged_current(flavour) else 0.0)
    g_right = -BKS_RHO_NC * kappa * BKS_SIN2_HAT
    if _is_antineutrino(flavour):
        return g_right, g_left
    return g_left, g_right


def _tree_couplings(flavour: str, sin2w: float) -> tuple[float, float]:
    """Tree-level (g_L, g_R); νe has the charged-current +1 in g_L, ν̄ swaps L ↔ R."""
    g_left = (0.5 if _charged_current(flavour) else -0.5) + sin2w
    g_right = sin2w
    if _is_antineutrino(flavour):
        return g_right, g_left
    return g_left, g_right


def _qed_factors(t: NDArray, e_nu: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """BKS Appendix, eqs. (A2)–(A4): f₋(z), (1 − z)² f₊(z) and f₊₋(z), with z = T/E_ν.

    The soft-photon logarithm ln(1 − z − m_e/(E + l)) diverges (integrably) at T_max;
    callers never evaluate exactly at the endpoint.
    """
    energy = t + _ME  # electron total energy
    mom = np.sqrt(t * (t + 2.0 * _ME))  # electron momentum l
    beta = mom / energy
    z = t / e_nu
    ln_z = np.log(z)
    ln_1mz = np.log1p(-z)
    f0 = energy / mom * np.log((energy + mom) / _ME) - 1.0
    ln_soft = np.log(np.clip(1.0 - z - _ME / (energy + mom), 1e-300, None))
    l_z, l_beta, l_1mz = spence_l(z), spence_l(beta), spence_l(1.0 - z)

    f_minus = (
        f0 * (2.0 * ln_soft - ln_1mz - 0.5 * ln_z - 5.0 / 12.0)
        + 0.5 * (l_z - l_beta)
        - 0.5 * ln_1mz**2
        - (11.0 / 12.0 + 0.5 * z) * ln_1mz
        + z * (ln_z + 0.5 * np.log(2.0 * e_nu / _ME))
        - (31.0 / 18.0 + ln_z / 12.0) * beta
        - 11.0 / 12.0 * z
        + z * z / 24.0
    )
    one_mz2 = (1.0 - z) ** 2
    f_plus_times = (
        f0 * (one_mz2 * (2.0 * ln_soft - ln_1mz - 0.5 * ln_z - 2.0 / 3.0) - 0.5 * (z * z * ln_z + 1.0 - z))
        - 0.5 * one_mz2 * (ln_1mz**2 + beta * (l_1mz - ln_z * ln_1mz))
        + ln_1mz * (0.5 * z * z * ln_z + (1.0 - z) / 3.0 * (2.0 * z - 0.5))
        - 0.5 * z * z * l_1mz
        - z * (1.0 - 2.0 * z) / 3.0 * ln_z
        - z * (1.0 - z) / 6.0
        - beta / 12.0 * (ln_z + (1.0 - z) * (115.0 - 109.0 * z) / 6.0)
    )
    f_pm = 2.0 * f0 * ln_soft
    return f_minus, f_plus_times, f_pm


def dsigma_dt(
    t: ArrayLike,
    e_nu: ArrayLike,
    flavour: Flavour = "e",
    model: Model = "bks",
    sin2w: float = SIN2_THETA_W_LOW_Q,
) -> NDArray[np.float64]:
    """Differential cross section dσ/dT [cm²/MeV] for recoil kinetic energy T [MeV].

    Zero outside 0 < T < T_max(E_ν). A sterile neutrino (``flavour="s"``) does not scatter.
    Tree level (BKS eq. 1): dσ/dT = (σ₀/m_e)[g_L² + g_R²(1 − z)² − g_L g_R m_e z/E_ν], z = T/E_ν.

    Parameters
    ----------
    t, e_nu : array_like
        Recoil kinetic energy and neutrino energy [MeV]; broadcast together.
    flavour : {"e", "mu", "tau", "ebar", "mubar", "taubar", "s"}
    model : {"bks", "tree"}
    sin2w : float
        Weak mixing angle for the tree-level model only.
    """
    _check(flavour, model)
    out, inside, (tt, ee) = _allowed(t, e_nu)
    if flavour != "s" and tt.size:
        qed = _qed_factors(tt, ee) if model == "bks" else None
        out[inside] = _dsigma_inside(tt, ee, flavour, qed, sin2w)
    return out


def dsigma_dt_mixture(t: ArrayLike, e_nu: ArrayLike, p_e: ArrayLike, model: Model = "bks") -> NDArray[np.float64]:
    """p dσ_e/dT + (1 − p) dσ_μ/dT [cm²/MeV]: a ν_e flux that arrives as ν_e with probability
    p and as ν_μ,τ otherwise (τ scatters as μ). Equal to the two :func:`dsigma_dt` calls; the
    QED factors, which do not depend on the flavour, are computed once.

    >>> t, e = np.array([0.2, 0.5]), 0.862
    >>> bool(np.allclose(dsigma_dt_mixture(t, e, 0.55), 0.55 * dsigma_dt(t, e) + 0.45 * dsigma_dt(t, e, "mu")))
    True
    """
    _check("e", model)
    out, inside, (tt, ee, pp) = _allowed(t, e_nu, p_e)
    if tt.size:
        qed = _qed_factors(tt, ee) if model == "bks" else None
        out[inside] = pp * _dsigma_inside(tt, ee, "e", qed) + (1.0 - pp) * _dsigma_inside(tt, ee, "mu", qed)
    return out


def _allowed(t: ArrayLike, e_nu: ArrayLike, *more: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_],
                                                                        list[NDArray[np.float64]]]:
    """(zeros of the broadcast shape, mask of 0 < T < T_max(E_ν), [T, E_ν, *more] inside it)."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (t, e_nu, *more)))
    t_arr, e_arr = arrays[:2]
    inside = (t_arr > 0.0) & (t_arr < t_max(e_arr)) & (e_arr > 0.0)
    return np.zeros(t_arr.shape), inside, [a[inside] for a in arrays]


def _dsigma_inside(tt: NDArray, ee: NDArray, flavour: str, qed: tuple[NDArray, NDArray, NDArray] | None,
                   sin2w: float = SIN2_THETA_W_LOW_Q) -> NDArray[np.float64]:
    """dσ/dT [cm²/MeV] at kinematically allowed points; ``qed``: the factors of
    :func:`_qed_factors` (BKS), or None for tree level at ``sin2w``."""
    z = tt / ee
    if qed is None:
        g_l, g_r = _tree_couplings(flavour, sin2w)
        val = g_l**2 + g_r**2 * (1.0 - z) ** 2 - g_l * g_r * _ME * z / ee
    else:
        g_l, g_r = _bks_couplings(tt, flavour)
        f_m, f_p_times, f_pm = qed
        a_pi = ALPHA_EM / np.pi
        val = (
            g_l**2 * (1.0 + a_pi * f_m)
            + g_r**2 * ((1.0 - z) ** 2 + a_pi * f_p_times)
            - g_l * g_r * _ME * z / ee * (1.0 + a_pi * f_pm)
        )
    return SIGMA0_CM2 / _ME * np.clip(val, 0.0, None)  # type: ignore[no-any-return]


# 48 Gauss–Legendre nodes per sub-interval; with the u² substitution below the
# endpoint logarithm of the QED factors integrates to ≲1e-9 relative.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)


def recoil_quadrature(
    lo: ArrayLike, hi: ArrayLike, n_sub: int = 1
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Quadrature nodes and weights for ∫_lo^hi f(T) dT, accurate near T = hi.

    The interval is split into ``n_sub`` equal parts; the last uses T = hi − Δ·u² so that
    an integrable logarithmic endpoint singularity (the soft-photon log at T_max) is
    smoothed. Returns arrays of shape ``(..., n_sub * 48)``.
    """
    lo = np.asarray(lo, dtype=float)[..., None]
    hi = np.asarray(hi, dtype=float)[..., None]
    width = (hi - lo) / n_sub
    nodes, weights = [], []
    x01 = 0.5 * (_GL_X + 1.0)
    w01 = 0.5 * _GL_W
    for k in range(n_sub - 1):
        a = lo + k * width
        nodes.append(a + width * x01)
        weights.append(width * w01 * np.ones_like(a))
    a = hi - width
    nodes.append(hi - width * x01**2)
    weights.append(2.0 * width * x01 * w01 * np.ones_like(a))
    return np.concatenate(nodes, axis=-1), np.concatenate(weights, axis=-1)


def sigma(
    e_nu: ArrayLike,
    t_min: ArrayLike = 0.0,
    t_upper: ArrayLike | None = None,
    flavour: Flavour = "e",
    model: Model = "bks",
    sin2w: float = SIN2_THETA_W_LOW_Q,
) -> NDArray[np.float64]:
    """Cross section ∫ dσ/dT dT over t_min < T < min(t_upper, T_max) [cm²].

    >>> round(float(sigma(0.7467, 0.2)) / 1e-45, 2)  # docs/physics.md §3: 2.928 (BKS)
    2.93
    """
    e = np.asarray(e_nu, dtype=float)
    tm = t_max(e)
    hi = tm if t_upper is None else np.minimum(np.asarray(t_upper, dtype=float), tm)
    lo = np.broadcast_to(np.asarray(t_min, dtype=float), np.broadcast(e, hi).shape)
    hi = np.broadcast_to(hi, lo.shape)
    e = np.broadcast_to(e, lo.shape)
    valid = hi > lo
    lo_c = np.where(valid, lo, 0.0)
    hi_c = np.where(valid, hi, 1.0)
    nodes, weights = recoil_quadrature(np.maximum(lo_c, 0.0), hi_c, n_sub=4)
    vals = dsigma_dt(nodes, e[..., None], flavour=flavour, model=model, sin2w=sin2w)
    return np.where(valid, np.sum(vals * weights, axis=-1), 0.0)


# ----------------------------------------------------------------------------- kinematics
def cos_theta_recoil(t: ArrayLike, e_nu: ArrayLike) -> NDArray[np.float64]:
    """cos θ of the recoil electron relative to the neutrino direction:
    cos θ = (1 + m_e/E_ν) √(T/(T + 2m_e)) (two-body kinematics; 1 at T_max)."""
    t = np.asarray(t, dtype=float)
    e = np.asarray(e_nu, dtype=float)
    return (1.0 + _ME / e) * np.sqrt(t / (t + 2.0 * _ME))


def recoil_energy_at_angle(e_nu: ArrayLike, cos_theta: ArrayLike) -> NDArray[np.float64]:
    """T [MeV] of an electron recoiling at angle θ: 2 m E² cos²θ / ((m + E)² − E² cos²θ)."""
    e = np.asarray(e_nu, dtype=float)
    c2 = np.asarray(cos_theta, dtype=float) ** 2
    return 2.0 * _ME * e * e * c2 / ((_ME + e) ** 2 - e * e * c2)


def neutrino_energy(t: ArrayLike, cos_theta: ArrayLike) -> NDArray[np.float64]:
    """E_ν [MeV] reconstructed from a recoil (T, cos θ): E = m k / (cos θ − k), k = √(T/(T+2m)).

    NaN where no neutrino energy is kinematically allowed (cos θ ≤ k).

    >>> round(float(neutrino_energy(0.3, cos_theta_recoil(0.3, 0.7467))), 6)
    0.7467
    """
    t = np.asarray(t, dtype=float)
    c = np.asarray(cos_theta, dtype=float)
    k = np.sqrt(t / (t + 2.0 * _ME))
    with np.errstate(divide="ignore", invalid="ignore"):
        e = _ME * k / (c - k)
    return np.where(c > k, e, np.nan)
