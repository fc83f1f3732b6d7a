"""Photons from the source assembly: internal bremsstrahlung, the γ line, and the shield.

An electron-capture source emits, besides its neutrinos, the γ of any excited-state branch
(⁵¹Cr: 320 keV in 9.9 % of decays) and a continuum of internal bremsstrahlung (IB) up to
each neutrino line's energy. A tungsten shield around the source absorbs both; what gets
through enters the scintillator and scatters within a few attenuation lengths of the
assembly. This module computes the photons per decay that leave the shield, uncollided.

Inputs and approximations (docs/physics.md §5.3):

* tungsten mass attenuation coefficients μ/ρ (with coherent scattering) from NIST,
  Hubbell & Seltzer, NISTIR 5632 (2004), Table 3, Z = 74, and the density used there,
  19.30 g/cm³, interpolated log–log between the tabulated energies;
* the IB spectrum of allowed 1s capture (Morrison & Schiff, Phys. Rev. 58 (1940) 24;
  Glauber & Martin, Phys. Rev. 104 (1956) 158), applied to every capture line with its own
  endpoint k₀ = E_ν: dN/dk = α/(π m_e²) · k (1 − k/k₀)² per capture, so that the total is
  α k₀²/(12 π m_e²) (4.1·10⁻⁴ per ⁵¹Cr ground-state capture);
* uncollided (narrow-beam) transmission e^{−μ t}: the buildup of scattered photons, the
  self-absorption in the source material and the capsule wall are neglected (assumption: the
  first raises the leakage by a factor of order unity behind a thick high-Z shield, the others
  lower it);
* in the scintillator the photons are attenuated by Compton scattering on its electrons
  (Klein–Nishina; photoabsorption on C and H is negligible above 0.1 MeV).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.models.constants import ALPHA_EM, HBARC_MEV_FM, M_ELECTRON_MEV

__all__ = [
    "TUNGSTEN_MU_RHO",
    "TUNGSTEN_DENSITY_G_CM3",
    "tungsten_attenuation_per_m",
    "shield_transmission",
    "ec_bremsstrahlung",
    "klein_nishina_total_cm2",
    "compton_length_m",
    "LeakedPhotons",
    "shield_leakage",
    "SHIELD_PEAK_FRACTION",
    "SHIELD_RATE_UNCERTAINTY",
    "SHIELD_MIN_RATE_PER_DAY",
    "target_fraction",
    "shield_leakage_component",
]

# NIST XCOM / X-ray mass attenuation coefficients, Hubbell & Seltzer, NISTIR 5632, Table 3
# (Z = 74): photon energy [MeV] and μ/ρ [cm²/g] above the K edge (69.525 keV).
TUNGSTEN_MU_RHO = (
    (0.08, 0.10, 0.15, 0.20, 0.30, 0.40, 0.50, 0.60, 0.80, 1.00, 1.25, 1.50, 2.00),
    (7.810, 4.438, 1.581, 0.7844, 0.3238, 0.1925, 0.1378, 0.1093, 0.08066, 0.06618, 0.05577, 0.05000, 0.04433),
)
TUNGSTEN_DENSITY_G_CM3 = 19.30  # NISTIR 5632, Table 1 (pure W; a heavy alloy of ~18 g/cm³ shields less)

_R_E_CM = ALPHA_EM * HBARC_MEV_FM / M_ELECTRON_MEV * 1e-13  # classical electron radius [cm]


def tungsten_attenuation_per_m(e_mev: ArrayLike) -> NDArray[np.float64]:
    """Linear attenuation coefficient μ of tungsten [1/m] at photon energies ``e_mev``
    (0.08–2 MeV), log–log interpolation of NIST's μ/ρ.

    >>> round(float(tungsten_attenuation_per_m(0.5)), 1)  # 0.1378 cm²/g × 19.30 g/cm³
    266.0
    """
    e = np.asarray(e_mev, dtype=float)
    lo, hi = TUNGSTEN_MU_RHO[0][0], TUNGSTEN_MU_RHO[0][-1]
    if np.any((e < lo) | (e > hi)):
        raise ValueError(f"tungsten μ/ρ is tabulated here for {lo:g}–{hi:g} MeV, got {e.min():g}–{e.max():g} MeV")
    log_mu = np.interp(np.log(e), np.log(TUNGSTEN_MU_RHO[0]), np.log(TUNGSTEN_MU_RHO[1]))
    return np.exp(log_mu) * TUNGSTEN_DENSITY_G_CM3 * 100.0


def shield_transmission(e_mev: ArrayLike, thickness_m: float) -> NDArray[np.float64]:
    """Uncollided fraction e^{−μ t} of photons of ``e_mev`` through ``thickness_m`` of tungsten."""
    if not thickness_m >= 0:
        raise ValueError(f"shield thickness {thickness_m!r} m: need ≥ 0")
    e = np.asarray(e_mev, dtype=float)
    if thickness_m == 0:
        return np.ones_like(e)
    return np.exp(-tungsten_attenuation_per_m(e) * thickness_m)


def ec_bremsstrahlung(k_mev: ArrayLike, k0_mev: float) -> NDArray[np.float64]:
    """Internal-bremsstrahlung photons per capture per MeV at photon energy ``k_mev`` for a
    capture whose neutrino carries ``k0_mev`` (Morrison–Schiff, allowed 1s capture).

    >>> k0 = 0.7467  # ⁵¹Cr ground-state K capture: ∫ dN/dk dk = α k₀²/(12π m_e²) = 4.13e-4
    >>> k = np.linspace(0, k0, 20001)
    >>> total = ALPHA_EM * k0**2 / (12 * np.pi * M_ELECTRON_MEV**2)
    >>> round(total, 7), bool(abs(np.trapezoid(ec_bremsstrahlung(k, k0), k) / total - 1) < 1e-6)
    (0.0004133, True)
    """
    k = np.asarray(k_mev, dtype=float)
    x = np.clip(1.0 - k / k0_mev, 0.0, None)
    return np.where((k > 0) & (k < k0_mev), ALPHA_EM / (np.pi * M_ELECTRON_MEV**2) * k * x * x, 0.0)


def klein_nishina_total_cm2(e_mev: ArrayLike) -> NDArray[np.float64]:
    """Total Klein–Nishina cross section per free electron [cm²] (Thomson limit 0.665 b).

    >>> round(float(klein_nishina_total_cm2(1e-6)) * 1e24, 3)
    0.665
    """
    k = np.asarray(e_mev, dtype=float) / M_ELECTRON_MEV
    one = 1.0 + 2.0 * k
    lg = np.log1p(2.0 * k)
    with np.errstate(divide="ignore", invalid="ignore"):
        full = ((1 + k) / k**2 * (2 * (1 + k) / one - lg / k) + lg / (2 * k) - (1 + 3 * k) / one**2)
    small = 4.0 / 3.0 * (1.0 - 2.0 * k + 5.2 * k * k)  # series, k → 0 (8π/3 r_e² at k = 0)
    return 2.0 * np.pi * _R_E_CM**2 * np.where(k < 1e-3, small, full)


def compton_length_m(e_mev: ArrayLike, electron_density_m3: float) -> NDArray[np.float64]:
    """Attenuation length 1/(n_e σ_KN) [m] of photons in a low-Z medium of ``electron_density_m3``
    electrons per m³ (Compton scattering only)."""
    return 1.0 / (electron_density_m3 * klein_nishina_total_cm2(e_mev) * 1e-4)


@dataclass(frozen=True)
class LeakedPhotons:
    """Photons that leave the shield uncollided, per decay of the source.

    ``energies_mev`` are nodes of the continuum (and the γ line), ``per_decay`` the photons per
    decay each node carries (∑ = total leakage per decay)."""

    energies_mev: NDArray[np.float64]
    per_decay: NDArray[np.float64]
    line_per_decay: float
    bremsstrahlung_per_decay: float

    @property
    def total_per_decay(self) -> float:
        return float(self.per_decay.sum())

    @property
    def mean_energy_mev(self) -> float:
        return float(np.sum(self.energies_mev * self.per_decay) / max(self.total_per_decay, 1e-300))


def shield_leakage(source: Any, thickness_m: float, n_nodes: int = 96) -> LeakedPhotons:
    """Photons per decay of ``source`` (a :class:`~ganom.models.sources.NeutrinoSource`) that
    cross ``thickness_m`` of tungsten uncollided: its γ line (``gamma_branch`` at
    ``gamma_energy_mev``) and the IB continuum of every capture line (weight = the line's
    share of decays), on ``n_nodes`` energy nodes per line (midpoints of equal bins from
    0.08 MeV, below which tungsten stops everything)."""
    k_lo = TUNGSTEN_MU_RHO[0][0]
    nodes, weights = [], []
    for line in source.lines:
        k0 = float(line.energy_mev)
        if k0 <= k_lo:
            continue
        edges = np.linspace(k_lo, k0, n_nodes + 1)
        k = 0.5 * (edges[:-1] + edges[1:])
        # exact per-bin integral of k(1 − k/k₀)² (a quartic primitive), times the transmission at the midpoint
        prim = edges**2 / 2 - 2 * edges**3 / (3 * k0) + edges**4 / (4 * k0**2)
        per_bin = ALPHA_EM / (np.pi * M_ELECTRON_MEV**2) * np.diff(prim)
        nodes.append(k)
        weights.append(float(line.intensity) * per_bin * shield_transmission(k, thickness_m))
    brems = float(sum(w.sum() for w in weights))
    line_leak = 0.0
    if getattr(source, "gamma_branch", 0.0) > 0 and getattr(source, "gamma_energy_mev", 0.0) > k_lo:
        line_leak = float(source.gamma_branch * shield_transmission(source.gamma_energy_mev, thickness_m))
        nodes.append(np.array([float(source.gamma_energy_mev)]))
        weights.append(np.array([line_leak]))
    if not nodes:
        return LeakedPhotons(np.zeros(0), np.zeros(0), 0.0, 0.0)
    e = np.concatenate(nodes)
    w = np.concatenate(weights)
    order = np.argsort(e, kind="stable")
    return LeakedPhotons(e[order], w[order], line_leak, brems)


SHIELD_PEAK_FRACTION = 0.85
"""Share of leaked photons that deposit their full energy in the scintillator — assumption:
a photon first scatters about one attenuation length (~0.13 m) from the shield, from where
the shield covers ~12–15 % of the sky; a scattered photon heading back into it leaves only the
first Compton electron, the others stay in a detector many attenuation lengths large."""

SHIELD_RATE_UNCERTAINTY = 0.5
"""Relative 1σ prior on the leakage rate — assumption: neglected buildup (a factor of order
unity), the shield's density and composition."""

SHIELD_MIN_RATE_PER_DAY = 0.01
"""Leakage below this rate in the target [events/day at t = 0] is left out of the model."""


def target_fraction(detector: Any, distance_m: float, exclusion_radius_m: float, length_m: float) -> float:
    """Share of photons leaving the assembly surface (radius ``exclusion_radius_m``, source at
    ``distance_m`` from the centre) that first interact in the detector's target sphere, for an
    attenuation length ``length_m`` counted from that surface (the medium between an outside
    source and the target attenuates like the scintillator: an approximation).

    For a source at the centre: 1 − e^{−(R − r_x)/λ}.
    """
    from ganom.models.geometry import SphereGeometry

    geom = SphereGeometry(detector.radius_m, distance_m, exclusion_radius_m)
    lo, hi = geom.l_min, geom.l_max
    if hi <= lo:
        return 0.0
    cut = min(hi, lo + 60.0 * length_m)
    edges = np.linspace(lo, cut, 4001)
    x, w = np.polynomial.legendre.leggauss(8)
    half = 0.5 * np.diff(edges)[:, None]
    L = 0.5 * (edges[:-1] + edges[1:])[:, None] + half * x
    dens = geom.flux_density(L) * np.exp(-(L - exclusion_radius_m) / length_m) / length_m
    return float(np.sum(half * w * dens))


def shield_leakage_component(detector: Any, source: Any, distance_m: float) -> Any:
    """The photons that cross the source's shield (:func:`shield_leakage`) and interact in the
    target, as a background component (``bkg_source_shield``): rate at t = 0 in the whole
    target, visible energy :func:`~ganom.models.backgrounds.photon_deposit_spectrum` with
    :data:`SHIELD_PEAK_FRACTION`, vertices e^{−L/λ}/(4πL²) with λ the Compton length at the
    photons' mean energy, decaying with the source. ``None`` when the rate in the target is
    below :data:`SHIELD_MIN_RATE_PER_DAY` (e.g. a source well outside the detector) or the
    source has no capture lines above 80 keV."""
    from ganom.models.backgrounds import BackgroundComponent, photon_deposit_spectrum
    from ganom.models.constants import SECONDS_PER_DAY
    from ganom.models.spatial import Density

    leak = shield_leakage(source, source.shield_thickness_m, n_nodes=24)
    if leak.total_per_decay <= 0:
        return None
    lam = float(compton_length_m(leak.mean_energy_mev, detector.electron_density_m3))
    rate = (leak.total_per_decay * source.activity_bq * SECONDS_PER_DAY
            * target_fraction(detector, distance_m, source.assembly_radius_m, lam))
    if rate < SHIELD_MIN_RATE_PER_DAY:
        return None
    what = f"{source.shield_thickness_m * 100:.3g} cm W"
    return BackgroundComponent(
        "source_shield", f"{source.isotope_label} γ + IB through {what}",
        photon_deposit_spectrum(leak.energies_mev, leak.per_decay, SHIELD_PEAK_FRACTION), rate,
        Density("source", lam), source.half_life_days, SHIELD_RATE_UNCERTAINTY, False,
        f"internal bremsstrahlung and γ line of the source, uncollided through {what} (NIST μ/ρ; "
        "Morrison–Schiff IB): ganom.models.shielding")
