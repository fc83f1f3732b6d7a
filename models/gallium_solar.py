"""Solar-neutrino capture rate on ⁷¹Ga per cross-section model (docs/physics.md §8.7).

R_pred = Σ_i Φ_i ⟨P_ee σ⟩_i [SNU = 10⁻³⁶ captures per ⁷¹Ga atom per second], over the sources
pp, pep, ⁷Be, ¹³N, ¹⁵O, ¹⁷F, ⁸B and hep (every source above the 233 keV threshold; hep adds
< 0.1 SNU). Fluxes: measured where measured (Borexino pp, ⁷Be, pep, CNO; SNO ⁸B), the B16-GS98
standard solar model otherwise (¹⁷F, hep). P_ee: day-time adiabatic MSW-LMA
(:func:`ganom.models.oscillation.p_ee_solar`) at each source's production density.

Per-model cross sections (an approximation, docs/physics.md §8.7): Bahcall's per-source σ_i
(PRC 56 (1997) 3391, Table II) sets the normalisation; its excited-state share is
x_B r_i/(1 + x_B r_i), with x_m = σ_Cr,m/σ_Cr,gs − 1 a model's ⁵¹Cr excited/ground-state ratio
and r_i the phase-space factor of the 175 and 500 keV states over the source spectrum relative to
⁵¹Cr (:func:`excited_ratio`). A model m replaces x_B by x_m (assumption: the states ⁵¹Cr reaches,
in Frekers' proportions, carry the excited part of every source below 2 MeV). ⁸B and hep reach
high-lying Gamow–Teller and isobaric-analogue states no source model constrains: they keep
Bahcall's σ for every model (assumption) except ``ground_state`` (the lower bound: the allowed
ground-state phase space alone, :func:`ground_state_solar_sigma_cm2`).

Units: cm⁻² s⁻¹ (fluxes), cm² (σ), MeV, SNU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import PhysicsInputError
from ganom.models.backgrounds import neutrino_spectrum_beta_plus
from ganom.models.constants import (
    SOLAR_BE7_LINES,
    SOLAR_CNO_ENDPOINTS_MEV,
    SOLAR_FLUX_B16_GS98,
    SOLAR_PEP_LINE_MEV,
    SOLAR_PP_ENDPOINT_MEV,
    SOLAR_PRODUCTION_NE,
)
from ganom.models.gallium import (
    FREKERS_BGT_RATIO,
    GE71_EXCITED_MEV,
    XSEC_MODELS,
    CrossSectionModel,
    allowed_phase_space,
    xsec_model,
)
from ganom.models.oscillation import p_ee_solar
from ganom.models.sources import CR51

__all__ = [
    "SNU",
    "SOLAR_GA_SOURCES",
    "BAHCALL_SOLAR_SIGMA_CM2",
    "B8_SIGMA_REL_ERR",
    "HEP_FLUX_B16_GS98",
    "B8_P_EE_ENERGY_MEV",
    "SolarFlux",
    "MEASURED_SOLAR_FLUXES",
    "GA_SOLAR_RATE_SNU",
    "BP2000_FLUXES",
    "ground_state_solar_sigma_cm2",
    "excited_ratio",
    "solar_sigma_cm2",
    "solar_p_ee",
    "SolarSourceRate",
    "solar_capture_rates",
]

SNU = 1e-36  # captures per target atom per second (Bahcall's definition)
SOLAR_GA_SOURCES: tuple[str, ...] = ("pp", "pep", "be7", "n13", "o15", "f17", "b8", "hep")

# Bahcall, PRC 56 (1997) 3391, Table II: ⁷¹Ga absorption cross sections averaged over the
# standard spectra, including excited states [cm²]: pp 11.72, pep 204, ⁷Be 71.7, ¹³N 60.4,
# ¹⁵O 113.7, ¹⁷F 113.9 (10⁻⁴⁶ cm²), ⁸B 2.40 × 10⁻⁴², hep 7.14 × 10⁻⁴² (SECONDARY: the values
# as coded in a public gallium detector simulation; DERIVED check: with the BP2000 fluxes they
# reproduce the 128 SNU of Bahcall, Pinsonneault & Basu, ApJ 555 (2001) 990, tested).
BAHCALL_SOLAR_SIGMA_CM2: dict[str, float] = {
    "pp": 11.72e-46, "pep": 204e-46, "be7": 71.7e-46, "n13": 60.4e-46, "o15": 113.7e-46,
    "f17": 113.9e-46, "b8": 2.40e-42, "hep": 7.14e-42,
}
# ⁸B/hep σ: 1σ relative uncertainty, assumption (their excited part, > 90 %, rests on (p,n)
# strengths with a poorly known tensor interference; the re-evaluation of arXiv:2501.03528 moves
# them by O(10 %)).
B8_SIGMA_REL_ERR = 0.25
# B16-GS98 hep flux [cm⁻² s⁻¹] and 1σ: 7.98 × 10³ (1 ± 0.30), Vinyoles et al., ApJ 835 (2017)
# 202, Table 6 (not yet checked against the paper: UNVERIFIED; it adds 0.02 SNU).
HEP_FLUX_B16_GS98 = (7.98e3, 0.30)
# ⁸B and hep: P_ee evaluated at 10 MeV (assumption: the σ-weighted ⁸B spectrum peaks near
# 9–10 MeV; P_ee changes by < 0.01 between 7 and 14 MeV in the MSW regime).
B8_P_EE_ENERGY_MEV = 10.0


@dataclass(frozen=True)
class SolarFlux:
    """A solar νe production flux at Earth [cm⁻² s⁻¹] with asymmetric 1σ and its source."""

    value: float
    err_hi: float
    err_lo: float
    reference: str


def _flux(v: float, stat: float, sys_hi: float, sys_lo: float, ref: str, scale: float) -> SolarFlux:
    return SolarFlux(v * scale, math.hypot(stat, sys_hi) * scale, math.hypot(stat, sys_lo) * scale, ref)


# CNO total [cm⁻² s⁻¹]: Borexino, Nature 587 (2020) 577: 7.0 (+3.0, −2.0) × 10⁸ (CONFIRMED,
# abstract), split into ¹³N/¹⁵O/¹⁷F with the B16-GS98 proportions (assumption).
_CNO = (7.0e8, 3.0e8, 2.0e8)
_CNO_SSM = {k: SOLAR_FLUX_B16_GS98[k][0] for k in ("n13", "o15")}
_BX18 = "Borexino, Nature 562 (2018) 505 (value not yet checked against the paper: UNVERIFIED)"
MEASURED_SOLAR_FLUXES: dict[str, SolarFlux] = {
    # Borexino Phase-II (HZ-SSM CNO constraint for pep): pp 6.1 ± 0.5 (+0.3, −0.5) × 10¹⁰,
    # ⁷Be 4.99 ± 0.11 (+0.06, −0.08) × 10⁹, pep 1.27 ± 0.19 (+0.08, −0.12) × 10⁸.
    "pp": _flux(6.1, 0.5, 0.3, 0.5, _BX18, 1e10),
    "be7": _flux(4.99, 0.11, 0.06, 0.08, _BX18, 1e9),
    "pep": _flux(1.27, 0.19, 0.08, 0.12, _BX18, 1e8),
    **{k: SolarFlux(_CNO[0] * f / sum(_CNO_SSM.values()), _CNO[1] * f / sum(_CNO_SSM.values()),
                    _CNO[2] * f / sum(_CNO_SSM.values()),
                    "Borexino CNO, Nature 587 (2020) 577, split by B16-GS98 13N:15O (assumption)")
       for k, f in _CNO_SSM.items()},
    # ¹⁷F is not separated from the CNO fit: B16-GS98 (Vinyoles et al., ApJ 835 (2017) 202).
    "f17": SolarFlux(SOLAR_FLUX_B16_GS98["f17"][0], SOLAR_FLUX_B16_GS98["f17"][0] * SOLAR_FLUX_B16_GS98["f17"][1],
                     SOLAR_FLUX_B16_GS98["f17"][0] * SOLAR_FLUX_B16_GS98["f17"][1], "B16-GS98 SSM (not measured)"),
    # ⁸B total active flux from SNO's neutral current, all phases combined: 5.25 ± 0.16 (stat)
    # (+0.11, −0.13) (syst) × 10⁶, Aharmim et al., PRC 88 (2013) 025501 (not yet checked against the paper: UNVERIFIED).
    "b8": _flux(5.25, 0.16, 0.11, 0.13, "SNO NC, PRC 88 (2013) 025501 (not yet checked against the paper: UNVERIFIED)", 1e6),
    "hep": SolarFlux(HEP_FLUX_B16_GS98[0], HEP_FLUX_B16_GS98[0] * HEP_FLUX_B16_GS98[1],
                     HEP_FLUX_B16_GS98[0] * HEP_FLUX_B16_GS98[1], "B16-GS98 SSM (not measured)"),
}
# Measured Ga solar capture rate, GALLEX + GNO + SAGE weighted average: 66.1 ± 3.1 SNU (stat
# and syst in quadrature): Abdurashitov et al. (SAGE), PRC 80 (2009) 015807, arXiv:0901.2200,
# abstract (CONFIRMED).
GA_SOLAR_RATE_SNU = (66.1, 3.1, "GALLEX+GNO+SAGE, SAGE PRC 80 (2009) 015807")
# BP2000 SSM fluxes [cm⁻² s⁻¹] (Bahcall, Pinsonneault & Basu, ApJ 555 (2001) 990, Table 7;
# not yet checked against the paper: UNVERIFIED); with Bahcall's σ and no oscillation they give 128 (+9, −7) SNU.
BP2000_FLUXES: dict[str, float] = {
    "pp": 5.95e10, "pep": 1.40e8, "be7": 4.77e9, "n13": 5.48e8, "o15": 4.80e8, "f17": 5.63e6,
    "b8": 5.05e6, "hep": 9.3e3,
}


# ----------------------------------------------------------------------------- spectra
_X, _W = np.polynomial.legendre.leggauss(400)


def _continuum(source: str) -> tuple[NDArray, NDArray]:
    """(E [MeV], normalised weights) of a continuous spectrum above the Ga threshold grid."""
    if source == "pp":
        q, z, a = SOLAR_PP_ENDPOINT_MEV, 1, 2
    elif source in SOLAR_CNO_ENDPOINTS_MEV:
        q, z, a = SOLAR_CNO_ENDPOINTS_MEV[source], {"n13": 6, "o15": 7, "f17": 8}[source], int(source[1:])
    else:  # ⁸B, hep: allowed β⁺ shapes (14 and 18.8 MeV endpoints), approximations
        q, z, a = (14.0, 4, 8) if source == "b8" else (18.77, 2, 4)
    e = 0.5 * q * (_X + 1.0)
    w = 0.5 * q * _W * neutrino_spectrum_beta_plus(q, z, a)(e)
    return e, w / w.sum()


def _lines(source: str) -> tuple[NDArray, NDArray]:
    if source == "be7":
        return np.array([x[0] for x in SOLAR_BE7_LINES]), np.array([x[1] for x in SOLAR_BE7_LINES])
    return np.array([SOLAR_PEP_LINE_MEV]), np.array([1.0])


def _spectrum(source: str) -> tuple[NDArray, NDArray]:
    if source not in SOLAR_GA_SOURCES:
        raise PhysicsInputError("solar source", source, " | ".join(SOLAR_GA_SOURCES))
    return _lines(source) if source in ("be7", "pep") else _continuum(source)


def ground_state_solar_sigma_cm2(source: str) -> float:
    """σ_gs of a solar source [cm²]: the ground-state ⁵¹Cr σ (the ⁷¹Ge half-life,
    ``XSEC_MODELS["ground_state"]``) times ⟨φ⟩_source/⟨φ⟩_Cr, φ the allowed phase space."""
    e, w = _spectrum(source)
    cr = float(CR51.intensities @ allowed_phase_space(CR51.energies_mev))
    return XSEC_MODELS["ground_state"].sigma_cm2["51Cr"] * float(w @ allowed_phase_space(e)) / cr


def excited_ratio(source: str) -> float:
    """r_i = Σ_k b_k ⟨φ(E − E_k)⟩_i / ⟨φ(E)⟩_i: the excited/ground-state σ ratio of a source per
    unit of the ⁵¹Cr one, with Frekers' 175:500 keV B(GT) proportions as the shape (pp: ≈ 0)."""
    def raw(e: NDArray, w: NDArray) -> float:
        ex = np.stack([allowed_phase_space(e, x) for x in GE71_EXCITED_MEV], axis=-1) @ np.asarray(FREKERS_BGT_RATIO)
        return float(w @ ex) / float(w @ allowed_phase_space(e))
    return raw(*_spectrum(source)) / raw(CR51.energies_mev, CR51.intensities)


def _excess(m: CrossSectionModel) -> tuple[float, float, float]:
    """(x, +δx, −δx): the model's ⁵¹Cr excited-state σ over the ground-state σ."""
    gs = XSEC_MODELS["ground_state"].sigma_cm2["51Cr"]
    return m.sigma_cm2["51Cr"] / gs - 1.0, m.err_hi_cm2["51Cr"] / gs, m.err_lo_cm2["51Cr"] / gs


def solar_sigma_cm2(model: str | CrossSectionModel, source: str) -> tuple[float, float, float]:
    """(σ, +err, −err) [cm²] of ``source`` for a cross-section model (module docstring).

    Below 2 MeV: σ_m = σ_B (1 + x_m r_i)/(1 + x_B r_i), x the model's ⁵¹Cr excited/ground-state
    σ ratio and r_i :func:`excited_ratio` (Bahcall's σ_B sets the normalisation, the models only
    the excited-state share). ⁸B and hep keep Bahcall's σ (±25 %, assumption) for every model but
    ``ground_state`` (:func:`ground_state_solar_sigma_cm2`). The ground-state part carries the
    ground-state model's 0.34 % error; the excited part the model's ⁵¹Cr error.
    """
    m = xsec_model(model)
    gs_rel = XSEC_MODELS["ground_state"].rel_err("51Cr")[1]
    sb = BAHCALL_SOLAR_SIGMA_CM2[source]
    if source in ("b8", "hep"):
        if m.name == "ground_state":
            g = ground_state_solar_sigma_cm2(source)
            return g, g * gs_rel, g * gs_rel
        return sb, sb * B8_SIGMA_REL_ERR, sb * B8_SIGMA_REL_ERR
    r = excited_ratio(source)
    g = sb / (1.0 + _excess(XSEC_MODELS["bahcall"])[0] * r)
    x, x_hi, x_lo = _excess(m)
    return g * (1.0 + x * r), math.hypot(g * gs_rel, g * x_hi * r), math.hypot(g * gs_rel, g * x_lo * r)


def solar_p_ee(source: str) -> float:
    """⟨P_ee⟩ of a source weighted by its spectrum times the ground-state phase space (the
    shape of σ(E) below 2 MeV); ⁸B and hep at :data:`B8_P_EE_ENERGY_MEV` (assumption)."""
    ne = SOLAR_PRODUCTION_NE["b8" if source == "hep" else source]
    if source in ("b8", "hep"):
        return float(p_ee_solar(B8_P_EE_ENERGY_MEV, ne))
    e, w = _spectrum(source)
    ws = w * allowed_phase_space(e)
    return float(ws @ p_ee_solar(e, ne) / ws.sum())


@dataclass(frozen=True)
class SolarSourceRate:
    """One source's contribution to the Ga solar rate [SNU] for one model."""

    source: str
    flux: float
    sigma_cm2: float
    p_ee: float
    rate_snu: float
    err_hi_snu: float
    err_lo_snu: float
    sigma_err_hi_snu: float
    sigma_err_lo_snu: float


def solar_capture_rates(model: str | CrossSectionModel, fluxes: dict[str, SolarFlux | float] | None = None,
                        oscillate: bool = True) -> list[SolarSourceRate]:
    """Per-source Φ_i ⟨P_ee⟩_i σ_i [SNU] for one cross-section model.

    ``fluxes``: {source: :class:`SolarFlux` or value [cm⁻² s⁻¹]} (default
    :data:`MEASURED_SOLAR_FLUXES`; a bare value has no error); ``oscillate=False`` sets
    P_ee = 1 (the pre-oscillation SSM predictions, e.g. Bahcall's 128 SNU).
    Errors: flux ⊕ σ per source; ``sigma_err_*`` the σ part alone (fully correlated between
    sources: the caller adds it linearly).
    """
    fl = MEASURED_SOLAR_FLUXES if fluxes is None else fluxes
    out = []
    for s in SOLAR_GA_SOURCES:
        if s not in fl:
            continue
        f = fl[s]
        phi, f_hi, f_lo = (f.value, f.err_hi, f.err_lo) if isinstance(f, SolarFlux) else (float(f), 0.0, 0.0)
        if not (math.isfinite(phi) and phi >= 0):
            raise PhysicsInputError(f"fluxes[{s}]", phi, "a finite flux ≥ 0 [cm⁻² s⁻¹]")
        sig, s_hi, s_lo = solar_sigma_cm2(model, s)
        p = solar_p_ee(s) if oscillate else 1.0
        r = phi * p * sig / SNU
        out.append(SolarSourceRate(s, phi, sig, p, r, r * math.hypot(f_hi / phi if phi else 0.0, s_hi / sig),
                                   r * math.hypot(f_lo / phi if phi else 0.0, s_lo / sig),
                                   r * s_hi / sig, r * s_lo / sig))
    return out
