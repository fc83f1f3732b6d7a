"""Physical constants and reference numbers, each defined once with its source.

Units follow the package convention: MeV, metres, days, Bq. Cross sections are
returned in cm² (the unit of the literature tables) and converted explicitly.
"""

from __future__ import annotations

import math

__all__ = [
    "G_FERMI_GEV2",
    "M_ELECTRON_MEV",
    "HBARC2_CM2_GEV2",
    "HBARC_MEV_FM",
    "ALPHA_EM",
    "AVOGADRO",
    "ATOMIC_WEIGHT",
    "ATOMIC_NUMBER",
    "SIN2_THETA_W_LOW_Q",
    "BKS_RHO_NC",
    "BKS_SIN2_HAT",
    "SIGMA0_CM2",
    "OSC_PHASE_EV2_M_PER_MEV",
    "CURIE_BQ",
    "SECONDS_PER_DAY",
    "CM2_TO_M2",
    "SOLAR_FLUX_B16_GS98",
    "SOLAR_BE7_LINES",
    "SOLAR_PEP_LINE_MEV",
    "SOLAR_PP_ENDPOINT_MEV",
    "SOLAR_CNO_ENDPOINTS_MEV",
    "SOLAR_PRODUCTION_NE",
    "SIN2_THETA12",
    "SIN2_THETA13",
    "DM2_21_EV2",
    "SQRT2_GF_NE_EV_PER_NA_CM3",
    "C14_Q_MEV",
    "C14_HALF_LIFE_S",
    "PO210_HALF_LIFE_DAYS",
    "KR85_Q_MEV",
    "BI210_Q_MEV",
    "C11_Q_BETA_MEV",
]

# --- CODATA / PDG ---------------------------------------------------------
# PDG 2024, "Physical constants" table (R.L. Workman et al., PTEP 2022 083C01 and 2024 update).
G_FERMI_GEV2 = 1.1663788e-5  # G_F/(ħc)³ [GeV⁻²]
M_ELECTRON_MEV = 0.51099895000  # m_e c² [MeV]
HBARC2_CM2_GEV2 = 0.3893793721e-27  # (ħc)² [GeV² cm²]
HBARC_MEV_FM = 197.3269804  # ħc [MeV fm]
ALPHA_EM = 1.0 / 137.035999084  # fine-structure constant at Q = 0
AVOGADRO = 6.02214076e23  # [mol⁻¹], exact (SI 2019)

# Standard atomic weights [g/mol], IUPAC 2021 (abridged, conventional values).
ATOMIC_WEIGHT = {
    "H": 1.008,
    "C": 12.011,
    "N": 14.007,
    "O": 15.999,
    "F": 18.998,
    "Si": 28.085,
    "P": 30.974,
    "S": 32.06,
    "Cl": 35.45,
    "Ar": 39.95,
    "Ga": 69.723,
    "Ge": 72.630,
    "Gd": 157.25,
    "In": 114.818,
    "Yb": 173.045,
}
ATOMIC_NUMBER = {
    "H": 1, "C": 6, "N": 7, "O": 8, "F": 9, "Si": 14, "P": 15, "S": 16, "Cl": 17,
    "Ar": 18, "Ga": 31, "Ge": 32, "Gd": 64, "In": 49, "Yb": 70,
}

# --- Electroweak couplings --------------------------------------------------
# sin²θ_W in the MS-bar scheme at Q → 0: Erler & Ramsey-Musolf, PRD 72 (2005) 073003.
SIN2_THETA_W_LOW_Q = 0.23867
# Bahcall, Kamionkowski & Sirlin, PRD 51 (1995) 6146 (BKS), eqs. (11)-(14):
# ρ_NC^(ν,ℓ) and the MS-bar ŝ²(M_Z) they use with κ(T).
BKS_RHO_NC = 1.0126
BKS_SIN2_HAT = 0.2317

# σ₀ = 2 G_F² m_e² (ħc)² / π [cm²]: natural unit of ν–e scattering, so that
# dσ/dT = (σ₀/m_e) [g_L² + g_R²(1 − T/E)² − g_L g_R m_e T / E²].
SIGMA0_CM2 = (
    2.0 * G_FERMI_GEV2**2 * (M_ELECTRON_MEV * 1e-3) ** 2 * HBARC2_CM2_GEV2 / math.pi
)

# --- Oscillation phase ------------------------------------------------------
# Δm² L / (4E) in natural units with Δm² [eV²], L [m], E [MeV]:
# 1e-12 MeV² · 1e15 fm / (4 ħc [MeV fm]) = 1.26693 (the familiar "1.267").
OSC_PHASE_EV2_M_PER_MEV = 1e3 / (4.0 * HBARC_MEV_FM)

# --- Units ------------------------------------------------------------------
CURIE_BQ = 3.7e10  # definition
SECONDS_PER_DAY = 86400.0
CM2_TO_M2 = 1e-4

# --- Solar neutrinos -----------------------------------------------------------
# B16-GS98 standard solar model fluxes [cm⁻² s⁻¹] and fractional 1σ: Vinyoles et al.,
# ApJ 835 (2017) 202, arXiv:1611.09867, Table 6.
SOLAR_FLUX_B16_GS98 = {
    "pp": (5.98e10, 0.006), "pep": (1.44e8, 0.010), "be7": (4.93e9, 0.06), "b8": (5.46e6, 0.12),
    "n13": (2.78e8, 0.15), "o15": (2.05e8, 0.17), "f17": (5.28e6, 0.20),
}
# ⁷Be electron capture: 861.8 keV (89.56 %) and 384.3 keV (10.44 %) lines (ENSDF, ⁷Be → ⁷Li*
# branch 10.44(4) %); pep line 1.442 MeV. CNO ν endpoints (β⁺ decays): ¹³N 1.199, ¹⁵O 1.732,
# ¹⁷F 1.740 MeV (Bahcall & Ulrich, RMP 60 (1988) 297).
SOLAR_BE7_LINES = ((0.8618, 0.8956), (0.3843, 0.1044))
SOLAR_PEP_LINE_MEV = 1.442
# pp ν (p + p → d + e⁺ + νe): endpoint 0.420 MeV; the spectrum is the allowed β⁺ shape with
# the deuteron's Fermi function (Bahcall, "Neutrino Astrophysics" (1989) §6.1; Bahcall,
# PRC 56 (1997) 3391 tabulates it; the allowed shape agrees to ~1 %).
SOLAR_PP_ENDPOINT_MEV = 0.420
SOLAR_CNO_ENDPOINTS_MEV = {"n13": 1.199, "o15": 1.732, "f17": 1.740}
# Production-zone mean electron densities [N_A cm⁻³] of the B16-GS98 model (averaged over
# the B16 production distributions: docs/physics.md §7.4).
SOLAR_PRODUCTION_NE = {"pp": 60.6, "pep": 66.5, "be7": 79.6, "b8": 87.9, "n13": 73.8, "o15": 86.2, "f17": 87.1}
# Three-flavour mixing for solar MSW-LMA: NuFIT 6.0 (normal ordering, IC19), Esteban et al.,
# JHEP 12 (2024) 216, arXiv:2410.05380.
SIN2_THETA12 = 0.307
SIN2_THETA13 = 0.02195
DM2_21_EV2 = 7.49e-5
# √2 G_F n_e [eV] for n_e = 1 N_A cm⁻³: √2 G_F N_A (ħc)³ with ħc in eV cm (= 7.632e-14 eV).
SQRT2_GF_NE_EV_PER_NA_CM3 = math.sqrt(2.0) * G_FERMI_GEV2 * 1e-18 * AVOGADRO * (HBARC_MEV_FM * 1e-7) ** 3

# --- Background isotopes ---------------------------------------------------------
# ¹⁴C: Q = 156.476 keV (AME2020), T½ = 5700(30) y (NUBASE2020). Specific activity of carbon
# at ¹⁴C/¹²C = 1e-18 (by number): N_A/12.011 · 1e-18 · ln2/T½ = 1.93e-7 Bq per g of C.
C14_Q_MEV = 0.156476
C14_HALF_LIFE_S = 5700.0 * 365.25 * SECONDS_PER_DAY
# ²¹⁰Po: T½ = 138.376 d, E_α = 5.304 MeV (NNDC). ⁸⁵Kr: Q = 687 keV (99.57 % to the ground
# state, unique first forbidden). ²¹⁰Bi: Q = 1162.2 keV, T½ = 5.012 d. ¹¹C: β⁺ endpoint
# 0.960 MeV, T½ = 20.334 min (NUBASE2020).
PO210_HALF_LIFE_DAYS = 138.376
KR85_Q_MEV = 0.687
BI210_Q_MEV = 1.1622
C11_Q_BETA_MEV = 0.960
