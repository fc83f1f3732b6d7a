"""Physical constants and reference numbers, each defined once with its source.

Units follow the package convention: MeV, metres, days, Bq. Cross sections are
returned in cm² (the unit of the literature tables) and converted explicitly.
"""

from __future__ import annotations

import math

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
