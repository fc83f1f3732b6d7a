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
    "U238_BQ_PER_G",
    "TH232_BQ_PER_G",
    "RN222_HALF_LIFE_DAYS",
    "U238_CHAIN",
    "TH232_CHAIN",
    "RN222_CHAIN",
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

# --- Natural radioactivity chains ---------------------------------------------------
# Specific activities from NUBASE2020 half-lives (²³⁸U 4.468 Gy, ²³²Th 14.0 Gy) and atomic
# masses: A = ln2/T½ · N_A/M, 12.4 kBq and 4.07 kBq per g. ²²²Rn: T½ = 3.8235 d.
U238_BQ_PER_G = math.log(2.0) / (4.468e9 * 365.25 * SECONDS_PER_DAY) * AVOGADRO / 238.0508
TH232_BQ_PER_G = math.log(2.0) / (1.40e10 * 365.25 * SECONDS_PER_DAY) * AVOGADRO / 232.0381
RN222_HALF_LIFE_DAYS = 3.8235
# Decay data of each chain member: (nuclide, Z of the daughter, A, decays per chain decay, tag,
# branches); a branch is (kind "a" α | "b" β⁻, intensity, energy [MeV]: α kinetic energy or β
# endpoint, daughter level [MeV]). β branches: the DECAY0 tables (Ponkratenko, Tretyak &
# Zdesenko, Phys. At. Nucl. 63 (2000) 1282), which follow ENSDF: ²³⁴Th NDS 108 (2007) 681,
# ²³⁴ᵐPa NDS 71 (1994) 181, ²¹⁴Pb NDS 76 (1995) 127, ²¹⁴Bi and ²¹⁴Po NDS 99 (2003) 649, ²²⁸Ra
# NDS 80 (1997) 723, ²⁰⁸Tl NDS 108 (2007) 1583, ²¹²Po NDS 66 (1992) 171, ²²⁸Ac/²¹²Pb/²¹²Bi Table of
# Isotopes 7th ed. (1978). Branches of ≥ 0.5 % are listed (²¹⁴Bi: 97.4 %, ²²⁸Ac: 96.8 % of the
# decays; ²⁰⁸Tl: 99.3 %); each nuclide's branches are renormalised to 1. α emitters without a
# DECAY0 table: the two strongest lines (NuDat 3, ENSDF), which satisfy E_α = Q·(A − 4)/A to
# 1 keV. ²¹⁴Bi's α branch (0.02 %) and ²³⁴ᵐPa's isomeric transition (0.16 %) are left out.
_A, _B = "a", "b"
RN222_CHAIN = (
    ("Rn222", 84, 222, 1.0, None, ((_A, 1.0, 5.490, 0.0),)),
    ("Po218", 82, 218, 1.0, None, ((_A, 1.0, 6.002, 0.0),)),
    ("Pb214", 83, 214, 1.0, None, ((_B, 0.02732, 0.184, 0.839), (_B, 0.01164, 0.489, 0.534),
                                   (_B, 0.48221, 0.671, 0.352), (_B, 0.41615, 0.728, 0.295),
                                   (_B, 0.06213, 1.023, 0.0))),
    ("Bi214", 84, 214, 1.0, "bipo214", (
        (_B, 0.005609, 0.543, 2.729), (_B, 0.013317, 0.790, 2.482), (_B, 0.028144, 0.824, 2.448),
        (_B, 0.005599, 0.979, 2.293), (_B, 0.057278, 1.068, 2.204), (_B, 0.008328, 1.079, 2.193),
        (_B, 0.042661, 1.151, 2.119), (_B, 0.022035, 1.253, 2.017), (_B, 0.013717, 1.259, 2.011),
        (_B, 0.011418, 1.275, 1.995), (_B, 0.015927, 1.380, 1.890), (_B, 0.081913, 1.423, 1.847),
        (_B, 0.170694, 1.505, 1.764), (_B, 0.178503, 1.540, 1.730), (_B, 0.007208, 1.609, 1.661),
        (_B, 0.029544, 1.727, 1.543), (_B, 0.008108, 1.855, 1.415), (_B, 0.074404, 1.892, 1.378),
        (_B, 0.017026, 2.661, 0.609), (_B, 0.182512, 3.270, 0.0))),
    ("Po214", 82, 214, 1.0, "bipo214", ((_A, 1.0, 7.687, 0.0),)),
)
U238_CHAIN = (
    ("U238", 90, 238, 1.0, None, ((_A, 0.790, 4.198, 0.0), (_A, 0.209, 4.151, 0.0496))),
    ("Th234", 91, 234, 1.0, None, ((_B, 0.01501, 0.086, 0.187), (_B, 0.06405, 0.106, 0.167),
                                   (_B, 0.14012, 0.106, 0.166), (_B, 0.78067, 0.199, 0.074))),
    ("Pa234m", 92, 234, 1.0, None, ((_B, 0.010064, 1.224, 1.045), (_B, 0.006889, 1.459, 0.810),
                                    (_B, 0.980988, 2.269, 0.0))),
    ("U234", 90, 234, 1.0, None, ((_A, 0.714, 4.775, 0.0), (_A, 0.284, 4.722, 0.0532))),
    ("Th230", 88, 230, 1.0, None, ((_A, 0.763, 4.687, 0.0), (_A, 0.234, 4.621, 0.0677))),
    ("Ra226", 86, 226, 1.0, None, ((_A, 0.938, 4.784, 0.0), (_A, 0.062, 4.601, 0.1862))),
) + RN222_CHAIN
TH232_CHAIN = (
    ("Th232", 88, 232, 1.0, None, ((_A, 0.782, 4.012, 0.0), (_A, 0.217, 3.947, 0.0638))),
    ("Ra228", 89, 228, 1.0, None, ((_B, 0.30, 0.0128, 0.0331), (_B, 0.20, 0.0257, 0.0202),
                                   (_B, 0.40, 0.0392, 0.0067), (_B, 0.10, 0.0396, 0.0063))),
    ("Ac228", 90, 228, 1.0, None, (
        (_B, 0.0150, 0.413, 1.724), (_B, 0.0210, 0.448, 1.689), (_B, 0.0150, 0.454, 1.683),
        (_B, 0.0470, 0.491, 1.646), (_B, 0.0080, 0.494, 1.643), (_B, 0.0120, 0.499, 1.638),
        (_B, 0.0800, 0.605, 1.532), (_B, 0.0190, 0.687, 1.450), (_B, 0.0150, 0.705, 1.432),
        (_B, 0.0080, 0.910, 1.227), (_B, 0.0360, 0.968, 1.169), (_B, 0.0500, 0.983, 1.154),
        (_B, 0.0540, 1.014, 1.123), (_B, 0.0200, 1.115, 1.022), (_B, 0.3195, 1.168, 0.969),
        (_B, 0.1300, 1.741, 0.396), (_B, 0.0080, 1.950, 0.187), (_B, 0.1100, 2.079, 0.058))),
    ("Th228", 88, 228, 1.0, None, ((_A, 0.734, 5.423, 0.0), (_A, 0.260, 5.340, 0.0844))),
    ("Ra224", 86, 224, 1.0, None, ((_A, 0.949, 5.686, 0.0), (_A, 0.051, 5.449, 0.2410))),
    ("Rn220", 84, 220, 1.0, None, ((_A, 1.0, 6.288, 0.0),)),
    ("Po216", 82, 216, 1.0, None, ((_A, 1.0, 6.778, 0.0),)),
    ("Pb212", 83, 212, 1.0, None, ((_B, 0.05, 0.158, 0.415), (_B, 0.83, 0.334, 0.239), (_B, 0.12, 0.573, 0.0))),
    # ²¹²Bi: 64 % β⁻ (followed 0.3 µs later by the ²¹²Po 8.785 MeV α, in the same event), 36 % α.
    ("Bi212", 84, 212, 1.0, "bipo212", (
        (_A, 0.003960, 5.607, 0.493), (_A, 0.006012, 5.769, 0.328), (_A, 0.251568, 6.051, 0.040),
        (_A, 0.097920, 6.090, 0.0), (_B, 0.00660, 0.440, 1.806), (_B, 0.01900, 0.625, 1.621),
        (_B, 0.01500, 0.733, 1.513), (_B, 0.04400, 1.519, 0.727), (_B, 0.55263, 2.246, 0.0))),
    ("Tl208", 82, 208, 0.36, None, ((_B, 0.0318, 1.038, 3.961), (_B, 0.0063, 1.079, 3.920),
                                     (_B, 0.2420, 1.291, 3.708), (_B, 0.2220, 1.524, 3.475),
                                     (_B, 0.49114, 1.801, 3.198))),
)
C11_Q_BETA_MEV = 0.960
