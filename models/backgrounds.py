"""Background components: visible-energy spectra, rates, spatial and time behaviour.

Every spectrum is computed from physics, none drawn by hand (docs/physics.md §7):

* β decays (¹⁴C, ⁸⁵Kr, ²¹⁰Bi, ¹¹C): relativistic Fermi function with a finite nuclear radius,
  times the shape factor of the transition's forbiddenness;
* ¹⁴C–¹⁴C pile-up: the self-convolution of the ¹⁴C spectrum, with rate ρ₁₄ · R₁₄ · τ_window
  per volume (one decay here, the other anywhere in the target within the window);
* solar ν (pp, ⁷Be, pep, CNO, ⁸B): ν–e recoil spectra from :mod:`ganom.models.xsec` with B16-GS98 fluxes
  and the MSW-LMA survival probability at each source's production density;
* ²¹⁰Po: the quenched α line (a delta at the visible energy, smeared by the resolution);
* ²³⁸U/²³²Th chains and ²²²Rn: every member's β branches (shifted by the level they feed) and
  quenched α lines, with ²¹⁴Bi–Po and ²¹²Bi–Po coincidence tags and α/β pulse-shape cuts;
* external and source-correlated γ's: the Klein–Nishina single-Compton electron spectrum
  plus an optional full-absorption line.

Rates in a preset are given per 100 t (Borexino's cpd/100 t) or from a ¹⁴C/¹²C ratio, and
converted here to events per day in the target. Energies in MeV.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import loggamma

from ganom.exceptions import ConfigError, PhysicsInputError
from ganom.models._numerics import decay_integral, endpoint_nodes
from ganom.models.constants import (
    ALPHA_EM,
    ATOMIC_WEIGHT,
    AVOGADRO,
    BI210_Q_MEV,
    C11_Q_BETA_MEV,
    C14_HALF_LIFE_S,
    C14_Q_MEV,
    HBARC_MEV_FM,
    KR85_Q_MEV,
    M_ELECTRON_MEV,
    PO210_HALF_LIFE_DAYS,
    RN222_CHAIN,
    RN222_HALF_LIFE_DAYS,
    SECONDS_PER_DAY,
    SOLAR_BE7_LINES,
    SOLAR_CNO_ENDPOINTS_MEV,
    SOLAR_FLUX_B16_GS98,
    SOLAR_PEP_LINE_MEV,
    SOLAR_PP_ENDPOINT_MEV,
    SOLAR_PRODUCTION_NE,
    TH232_BQ_PER_G,
    TH232_CHAIN,
    U238_BQ_PER_G,
    U238_CHAIN,
)
from ganom.models.oscillation import p_ee_solar
from ganom.models.spatial import Density
from ganom.models.xsec import dsigma_dt_mixture, e_nu_min, t_max

__all__ = [
    "Spectrum",
    "fermi_function",
    "beta_spectrum",
    "neutrino_spectrum_beta_plus",
    "klein_nishina_electron",
    "self_convolution",
    "es_recoil_lines",
    "es_recoil_continuum",
    "BackgroundComponent",
    "c14_specific_activity_bq_per_kg_carbon",
    "detector_backgrounds",
    "configuration_backgrounds",
    "source_gamma_component",
    "chain_component",
    "ALPHA_QUENCHING_FACTOR",
]

_ME = M_ELECTRON_MEV
_GL16 = np.polynomial.legendre.leggauss(16)


# ----------------------------------------------------------------------------- spectra
@dataclass(frozen=True)
class Spectrum:
    """A normalised spectrum of true visible energy: a continuum plus delta lines.

    ``pdf`` need not be normalised: :meth:`quadrature` normalises the continuum to
    ``1 − Σ line weights``. ``breaks`` lists kinks and steps of the pdf (endpoints of
    recoil edges); the quadrature splits there and substitutes T = b − Δu² at each
    piece's upper end, so integrable endpoint singularities are handled.
    """

    pdf: Callable[[NDArray], NDArray] | None
    lo: float = 0.0
    hi: float = 0.0
    breaks: tuple[float, ...] = ()
    lines: tuple[tuple[float, float], ...] = ()

    def quadrature(self, extra_breaks: ArrayLike = (), n: int = 16) -> tuple[NDArray, NDArray]:
        """Nodes [MeV] and weights summing to 1, split at ``breaks`` and ``extra_breaks``."""
        line_w = sum(w for _, w in self.lines)
        nodes = [np.array([e for e, _ in self.lines], dtype=float)]
        weights = [np.array([w for _, w in self.lines], dtype=float)]
        if self.pdf is not None and self.hi > self.lo:
            pts = np.concatenate([[self.lo, self.hi], self.breaks, np.asarray(extra_breaks, dtype=float)])
            pts = np.unique(pts[(pts >= self.lo) & (pts <= self.hi)])
            t, wt = endpoint_nodes(pts, n)
            dens = np.clip(self.pdf(t), 0.0, None) * wt
            total = dens.sum()
            if not total > 0:
                raise PhysicsInputError("spectrum", self, "a pdf with positive integral")
            nodes.append(t)
            weights.append(dens / total * (1.0 - line_w))
        return np.concatenate(nodes), np.concatenate(weights)


def fermi_function(z_daughter: int, w: NDArray, a_mass: int, beta_plus: bool = False) -> NDArray:
    """Relativistic Fermi function F(Z, W) for a uniformly charged nucleus (point-like radius R).

    F = 2(1+γ)(2pR)^{2(γ−1)} e^{πη} |Γ(γ+iη)|² / Γ(2γ+1)², γ = √(1 − (αZ)²), η = ±αZW/p,
    with W, p in units of m_e and R = 1.2 A^{1/3} fm in units of ħ/(m_e c)
    (Hayen et al., RMP 90 (2018) 015008, eq. 31).
    """
    w = np.asarray(w, dtype=float)
    p = np.sqrt(np.clip(w * w - 1.0, 1e-30, None))
    az = ALPHA_EM * z_daughter
    gam = math.sqrt(1.0 - az * az)
    eta = (-1.0 if beta_plus else 1.0) * az * w / p
    r = 1.2 * a_mass ** (1.0 / 3.0) / (HBARC_MEV_FM / M_ELECTRON_MEV)  # nuclear radius in units of ħ/m_e c
    lg = loggamma(gam + 1j * eta).real
    log_f = (math.log(2.0 * (1.0 + gam)) + 2.0 * (gam - 1.0) * np.log(2.0 * p * r) + math.pi * eta
             + 2.0 * lg - 2.0 * float(loggamma(2.0 * gam + 1.0).real))
    return np.exp(log_f)


def beta_spectrum(q_mev: float, z_daughter: int, a_mass: int, shape: str = "allowed",
                  shape_a: float = 0.0, beta_plus: bool = False) -> Callable[[NDArray], NDArray]:
    """dN/dT of the β's kinetic energy T (unnormalised): F(Z,W) p W (W₀ − W)² C(W).

    shape: "allowed" (C = 1 + aW with a = ``shape_a``) or "unique1" (first forbidden unique:
    C = q² + p², q = W₀ − W the neutrino momentum).
    """
    w0 = 1.0 + q_mev / _ME

    def pdf(t: NDArray) -> NDArray:
        t = np.asarray(t, dtype=float)
        w = 1.0 + t / _ME
        p = np.sqrt(np.clip(w * w - 1.0, 0.0, None))
        q = np.clip(w0 - w, 0.0, None)
        base = fermi_function(z_daughter, w, a_mass, beta_plus) * p * w * q * q
        c = q * q + p * p if shape == "unique1" else 1.0 + shape_a * w
        return np.where((t > 0) & (t < q_mev), base * c, 0.0)

    return pdf


def neutrino_spectrum_beta_plus(q_mev: float, z_daughter: int, a_mass: int) -> Callable[[NDArray], NDArray]:
    """dN/dE_ν of an allowed β⁺ decay with positron endpoint ``q_mev`` (unnormalised)."""
    def pdf(e: NDArray) -> NDArray:
        e = np.asarray(e, dtype=float)
        t = q_mev - e
        w = 1.0 + np.clip(t, 0.0, None) / _ME
        p = np.sqrt(np.clip(w * w - 1.0, 0.0, None))
        val = e * e * p * w * fermi_function(z_daughter, w, a_mass, beta_plus=True)
        return np.where((e > 0) & (e < q_mev), val, 0.0)

    return pdf


def _kn_shape(t: NDArray, k_mev: NDArray) -> NDArray:
    """Unnormalised dσ/dT at recoil energies ``t`` for γ energies ``k_mev`` (broadcast)."""
    kappa = k_mev / _ME
    s = t / k_mev
    one = np.clip(1.0 - s, 1e-12, None)
    val = 2.0 + s * s / (kappa * kappa * one * one) + s / one * (s - 2.0 / kappa)
    return np.where((s > 0) & (t < t_max(k_mev)), val, 0.0)


def klein_nishina_electron(k_mev: float) -> Callable[[NDArray], NDArray]:
    """dσ/dT of Compton scattering of a γ of energy k on a free electron (unnormalised).

    With κ = k/m_e and s = T/k: 2 + s²/(κ²(1 − s)²) + s/(1 − s)·(s − 2/κ), for
    0 < T < 2k²/(m_e + 2k) (Klein & Nishina 1929; e.g. Knoll, Radiation Detection, §10).
    """

    def pdf(t: NDArray) -> NDArray:
        return _kn_shape(np.asarray(t, dtype=float), float(k_mev))

    return pdf


def photon_deposit_spectrum(energies_mev: ArrayLike, weights: ArrayLike, peak_fraction: float) -> Spectrum:
    """Visible energy of photons of ``energies_mev`` (relative ``weights``) that start in the
    scintillator: a share ``peak_fraction`` deposits its full energy (a line per energy), the
    rest one Compton electron (Klein–Nishina continuum up to each Compton edge)."""
    k = np.atleast_1d(np.asarray(energies_mev, dtype=float))
    w = np.atleast_1d(np.asarray(weights, dtype=float))
    w = w / w.sum()
    edges = t_max(k)
    x, gw = _GL16
    t_nodes = 0.5 * edges[:, None] * (x + 1.0)
    norms = np.sum(gw * 0.5 * edges[:, None] * _kn_shape(t_nodes, k[:, None]), axis=1)
    scale = w / norms * (1.0 - peak_fraction)

    def pdf(t: NDArray) -> NDArray:
        tt = np.asarray(t, dtype=float)
        return np.sum(_kn_shape(tt[..., None], k) * scale, axis=-1)

    lines = tuple((float(e), peak_fraction * float(wi)) for e, wi in zip(k, w) if wi > 0)
    if peak_fraction == 1.0:
        return Spectrum(None, lines=lines)
    breaks = tuple(float(b) for b in edges) if k.size <= 8 else (float(edges.max()),)
    return Spectrum(pdf, 0.0, float(edges.max()), breaks=breaks, lines=lines)


def self_convolution(pdf: Callable[[NDArray], NDArray], hi: float, n: int = 4001) -> Callable[[NDArray], NDArray]:
    """The pdf of T₁ + T₂ for independent T₁, T₂ ~ pdf on [0, hi] (pile-up), tabulated."""
    t = np.linspace(0.0, hi, n)
    f = pdf(t)
    f = f / np.trapezoid(f, t)
    conv = np.convolve(f, f) * (t[1] - t[0])
    grid = np.linspace(0.0, 2 * hi, conv.size)

    def out(x: NDArray) -> NDArray:
        return np.interp(np.asarray(x, dtype=float), grid, conv, left=0.0, right=0.0)

    return out


def es_recoil_lines(lines: list[tuple[float, float]], p_ee: list[float]) -> Spectrum:
    """Recoil spectrum of mono-energetic ν lines (E, weight) with survival probabilities."""
    def pdf(t: NDArray) -> NDArray:
        total = np.zeros_like(np.asarray(t, dtype=float))
        for (e, w), p in zip(lines, p_ee):
            total += w * dsigma_dt_mixture(t, e, p)
        return total

    edges = tuple(float(t_max(e)) for e, _ in lines)
    return Spectrum(pdf, 0.0, max(edges), breaks=edges)


def es_recoil_continuum(nu_pdf: Callable[[NDArray], NDArray], e_end: float, n_e_prod: float, n_nodes: int = 64) -> Spectrum:
    """Recoil spectrum of a continuous ν spectrum: ∫ φ(E) [P σ'_e + (1−P) σ'_μ] dE."""
    x, w = np.polynomial.legendre.leggauss(n_nodes)

    def pdf(t: NDArray) -> NDArray:
        t = np.asarray(t, dtype=float)
        lo = np.minimum(e_nu_min(t), e_end)
        half = 0.5 * (e_end - lo)[..., None]
        e = 0.5 * (e_end + lo)[..., None] + half * x
        p = p_ee_solar(e, n_e_prod)
        d = dsigma_dt_mixture(t[..., None], e, p)
        return np.sum(half * w * nu_pdf(e) * d, axis=-1)

    return Spectrum(pdf, 0.0, float(t_max(e_end)))


# ----------------------------------------------------------------------------- components
@dataclass(frozen=True)
class BackgroundComponent:
    """One background: spectrum, rate, where it sits, how it evolves in time.

    Attributes
    ----------
    name : parameter suffix (the likelihood parameter is ``bkg_<name>``).
    rate_per_day : events per day, whole spectrum, in the whole target (at t = 0).
    density : spatial density (uniform, external, source-correlated).
    half_life_days : None for constant rates; the decay half-life otherwise.
    uncertainty : relative 1σ of the rate prior; None for a free normalisation.
    in_volume : True when the rate scales with the target mass (fiducial nuisance).
    """

    name: str
    label: str
    spectrum: Spectrum
    rate_per_day: float
    density: Density
    half_life_days: float | None = None
    uncertainty: float | None = 0.1
    in_volume: bool = True
    reference: str = ""

    def time_integral(self, t1_days: ArrayLike, t2_days: ArrayLike) -> NDArray[np.float64]:
        """∫ rate(t)/rate(0) dt over [t1, t2] [days]."""
        if self.half_life_days is None:
            return np.asarray(t2_days, dtype=float) - np.asarray(t1_days, dtype=float)
        return decay_integral(self.half_life_days / math.log(2.0), t1_days, t2_days)


def c14_specific_activity_bq_per_kg_carbon(ratio: float) -> float:
    """¹⁴C activity per kg of carbon at a ¹⁴C/¹²C number ratio (1.93e-4 Bq/kg at 1e-18)."""
    atoms = AVOGADRO / ATOMIC_WEIGHT["C"] * 1e3 * ratio
    return atoms * math.log(2.0) / C14_HALF_LIFE_S


# Defaults for components a preset names without details (each can be overridden).
_SOLAR_UNC = {"pp": SOLAR_FLUX_B16_GS98["pp"][1], "be7": 0.06, "pep": 0.01, "cno": 0.16, "b8": 0.12}
_SOLAR_DEFAULT = ["pp", "be7", "pep", "cno", "b8"]


_UPPER = {"rate_cpd_per_100t": 1e9, "rate_per_day": 1e12, "c14_to_c12": 1e-9, "carbon_mass_fraction": 1.0,
          "window_ns": 1e6, "visible_mev": 20.0, "gamma_mev": 20.0, "attenuation_length_m": 1e3,
          "half_life_days": 1e12, "peak_fraction": 1.0, "concentration_g_per_g": 1e-6,
          "bipo214_tag_efficiency": 1.0, "bipo212_tag_efficiency": 1.0, "alpha_leakage": 1.0}
"""Largest accepted value of each background field: assumptions far outside any real detector
(γ lines of natural and activation radioactivity lie below 10 MeV), there to stop typos such as
1e300 before they overflow."""


def _num(table: dict, key: str, file: str, prefix: str, default: Any = None, lo: float | None = 0.0) -> Any:
    if key not in table:
        if default is None:
            raise ConfigError(file, f"{prefix}.{key}", "missing")
        return default
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(file, f"{prefix}.{key}", f"got {v!r}; expected a finite number")
    hi = _UPPER.get(key)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ConfigError(file, f"{prefix}.{key}", f"got {v!r}; allowed range [{'-inf' if lo is None else f'{lo:g}'}, "
                                                   f"{'inf' if hi is None else f'{hi:g}'}]")
    return float(v)


def _uncertainty(table: dict, file: str, prefix: str, default: float) -> float | None:
    v = table.get("uncertainty", default)
    if v == "free":
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < 10):
        raise ConfigError(file, f"{prefix}.uncertainty", f"got {v!r}; expected a relative 1σ in (0, 10) or \"free\"")
    return float(v)


_GAMMA_KEYS = {"rate_per_day", "gamma_mev", "peak_fraction", "attenuation_length_m", "uncertainty"}
_IMPURITY_KEYS = _GAMMA_KEYS | {"half_life_days"}
_BACKGROUND_KEYS = {
    "c14": {"c14_to_c12", "carbon_mass_fraction", "uncertainty"},
    "c14_pileup": {"window_ns", "uncertainty"},
    "po210": {"rate_cpd_per_100t", "visible_mev", "uncertainty"},
    "kr85": {"rate_cpd_per_100t", "uncertainty"},
    "bi210": {"rate_cpd_per_100t", "uncertainty"},
    "c11": {"rate_cpd_per_100t", "uncertainty"},
    "solar": {"components", "pp", "be7", "pep", "cno", "b8"},
    "external": {"gamma_mev", "attenuation_length_m", "rate_per_day", "uncertainty"},
    "source_gamma": _GAMMA_KEYS | {"enabled", "impurities"},
    "u238": {"concentration_g_per_g", "bipo214_tag_efficiency", "uncertainty"},
    "th232": {"concentration_g_per_g", "bipo212_tag_efficiency", "uncertainty"},
    "rn222": {"rate_cpd_per_100t", "bipo214_tag_efficiency", "decaying", "uncertainty"},
    "alpha_beta_psd": {"alpha_leakage"},
}
"""The keys each ``[backgrounds.NAME]`` table may have: anything else is a typo, refused."""


_TAG_DEFAULT = {"bipo214": 0.9, "bipo212": 0.0}
"""Delayed-coincidence tag efficiencies when a preset names none (assumptions): ²¹⁴Bi–²¹⁴Po
(164 µs apart) is tagged in every large scintillator (0.9: assumption of Borexino's order);
²¹²Bi–²¹²Po (0.3 µs) falls into one event, untagged by default (conservative)."""

_CHAIN_REFERENCE = {
    "u238": "²³⁸U → ²¹⁴Po in secular equilibrium (²¹⁰Pb onwards: the bi210/po210 components); "
            "decay data: DECAY0 tables (ENSDF), docs/physics.md §7",
    "th232": "²³²Th → ²⁰⁸Pb in secular equilibrium; decay data: DECAY0 tables (ENSDF), docs/physics.md §7",
    "rn222": "²²²Rn → ²¹⁴Po with its short-lived daughters; decay data: DECAY0 tables (ENSDF)",
}


def _check_keys(table: dict, allowed: set[str], file: str, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(file, f"{where}.{unknown[0]}", "unknown key (it would be ignored); allowed: "
                                                         + ", ".join(sorted(allowed)))


def detector_backgrounds(detector: Any, source_half_life_days: float | None = None) -> list[BackgroundComponent]:
    """The background components of a detector preset's ``[backgrounds]`` table.

    Rates are converted to events/day in the whole target volume. Unknown component
    names and malformed fields raise :class:`ConfigError` naming the field.
    """
    cfg = detector.backgrounds or {}
    f = detector.source_file or detector.name
    rho_t_m3 = detector.density_g_cm3  # t/m³
    v_target = 4.0 / 3.0 * math.pi * detector.radius_m**3
    mass_100t = rho_t_m3 * v_target / 100.0
    out: list[BackgroundComponent] = []
    for name in cfg:
        if name not in _BACKGROUND_KEYS:
            raise ConfigError(f, f"backgrounds.{name}", f"unknown component; known: {', '.join(sorted(_BACKGROUND_KEYS))}")
        if not isinstance(cfg[name], dict):
            raise ConfigError(f, f"backgrounds.{name}", "expected a table")
        _check_keys(cfg[name], _BACKGROUND_KEYS[name], f, f"backgrounds.{name}")
    solar = cfg.get("solar", {})
    comps_given = solar.get("components", _SOLAR_DEFAULT)
    if not isinstance(comps_given, list) or not all(isinstance(c, str) for c in comps_given):
        raise ConfigError(f, "backgrounds.solar.components", f"got {comps_given!r}; expected a list of names from "
                                                             f"{', '.join(_SOLAR_UNC)}")
    for comp in _SOLAR_UNC:
        if isinstance(solar.get(comp), dict):
            _check_keys(solar[comp], {"uncertainty"}, f, f"backgrounds.solar.{comp}")
    sg = cfg.get("source_gamma", {})
    if not isinstance(sg.get("enabled", True), bool):
        raise ConfigError(f, "backgrounds.source_gamma.enabled", f"got {sg['enabled']!r}; expected true or false")
    for key, imp in (sg.get("impurities") or {}).items() if isinstance(sg.get("impurities", {}), dict) else ():
        if isinstance(imp, dict):
            _check_keys(imp, _IMPURITY_KEYS, f, f"backgrounds.source_gamma.impurities.{key}")

    def per100t(tab: dict, key: str) -> float:
        return _num(tab, "rate_cpd_per_100t", f, key) * mass_100t

    c14_pdf = beta_spectrum(C14_Q_MEV, 7, 14, "allowed", shape_a=-0.45)
    if "c14" in cfg:
        tab = cfg["c14"]
        ratio = _num(tab, "c14_to_c12", f, "backgrounds.c14")
        carbon = _num(tab, "carbon_mass_fraction", f, "backgrounds.c14", detector.carbon_mass_fraction, lo=0.0)
        bq_per_m3 = c14_specific_activity_bq_per_kg_carbon(ratio) * carbon * rho_t_m3 * 1e3
        out.append(BackgroundComponent(
            "c14", "¹⁴C", Spectrum(c14_pdf, 0.0, C14_Q_MEV), bq_per_m3 * v_target * SECONDS_PER_DAY,
            Density("uniform"), None, _uncertainty(tab, f, "backgrounds.c14", 0.05), True,
            "β⁻, Q = 156.5 keV, shape factor 1 − 0.45 W (Kuzminov & Osetrova, Phys. At. Nucl. 63 (2000) 1292)"))
        if "c14_pileup" in cfg:
            pt = cfg["c14_pileup"]
            window_s = _num(pt, "window_ns", f, "backgrounds.c14_pileup") * 1e-9
            total_bq = bq_per_m3 * v_target
            rate = bq_per_m3 * total_bq * window_s * v_target * SECONDS_PER_DAY
            out.append(BackgroundComponent(
                "c14_pileup", "¹⁴C pile-up", Spectrum(self_convolution(c14_pdf, C14_Q_MEV), 0.0, 2 * C14_Q_MEV),
                rate, Density("uniform"), None, _uncertainty(pt, f, "backgrounds.c14_pileup", 0.1), True,
                "two ¹⁴C decays within the window: rate ρ₁₄ · R₁₄(target) · τ"))
    elif "c14_pileup" in cfg:
        raise ConfigError(f, "backgrounds.c14_pileup", "needs a backgrounds.c14 table (its rate sets the pile-up)")

    leak = _num(cfg.get("alpha_beta_psd", {}), "alpha_leakage", f, "backgrounds.alpha_beta_psd", 1.0)
    if "po210" in cfg:
        tab = cfg["po210"]
        e_vis = _num(tab, "visible_mev", f, "backgrounds.po210", 0.42)
        out.append(BackgroundComponent(
            "po210", "²¹⁰Po", Spectrum(None, lines=((e_vis, 1.0),)), per100t(tab, "backgrounds.po210") * leak,
            Density("uniform"), PO210_HALF_LIFE_DAYS, _uncertainty(tab, f, "backgrounds.po210", 0.1), True,
            "5.30 MeV α, quenched to the visible energy; decays with T½ = 138.4 d"))
    for key, chain, label, specific in (("u238", U238_CHAIN, "²³⁸U chain", U238_BQ_PER_G),
                                        ("th232", TH232_CHAIN, "²³²Th chain", TH232_BQ_PER_G)):
        if key in cfg:
            tab, where = cfg[key], f"backgrounds.{key}"
            tag = "bipo214" if key == "u238" else "bipo212"
            conc = _num(tab, "concentration_g_per_g", f, where)
            eff = _num(tab, f"{tag}_tag_efficiency", f, where, _TAG_DEFAULT[tag])
            out.append(chain_component(
                key, label, chain, conc * rho_t_m3 * v_target * 1e6 * specific * SECONDS_PER_DAY,
                alpha_leakage=leak, tag_efficiency={tag: eff}, uncertainty=_uncertainty(tab, f, where, 0.3),
                reference=_CHAIN_REFERENCE[key]))
    if "rn222" in cfg:
        tab = cfg["rn222"]
        decaying = tab.get("decaying", False)
        if not isinstance(decaying, bool):
            raise ConfigError(f, "backgrounds.rn222.decaying", f"got {decaying!r}; expected true or false")
        eff = _num(tab, "bipo214_tag_efficiency", f, "backgrounds.rn222", _TAG_DEFAULT["bipo214"])
        out.append(chain_component(
            "rn222", "²²²Rn", RN222_CHAIN, per100t(tab, "backgrounds.rn222"), alpha_leakage=leak,
            tag_efficiency={"bipo214": eff}, half_life_days=RN222_HALF_LIFE_DAYS if decaying else None,
            uncertainty=_uncertainty(tab, f, "backgrounds.rn222", 0.3), reference=_CHAIN_REFERENCE["rn222"]))
    if "kr85" in cfg:
        tab = cfg["kr85"]
        out.append(BackgroundComponent(
            "kr85", "⁸⁵Kr", Spectrum(beta_spectrum(KR85_Q_MEV, 37, 85, "unique1"), 0.0, KR85_Q_MEV),
            per100t(tab, "backgrounds.kr85"), Density("uniform"), None,
            _uncertainty(tab, f, "backgrounds.kr85", 0.3), True, "β⁻, Q = 687 keV, first forbidden unique"))
    if "bi210" in cfg:
        tab = cfg["bi210"]
        out.append(BackgroundComponent(
            "bi210", "²¹⁰Bi", Spectrum(beta_spectrum(BI210_Q_MEV, 84, 210, "allowed"), 0.0, BI210_Q_MEV),
            per100t(tab, "backgrounds.bi210"), Density("uniform"), None,
            _uncertainty(tab, f, "backgrounds.bi210", 0.1), True,
            "β⁻, Q = 1162 keV; allowed shape (an approximation of the first-forbidden non-unique shape)"))
    if "c11" in cfg:
        tab = cfg["c11"]
        pos = beta_spectrum(C11_Q_BETA_MEV, 5, 11, "allowed", beta_plus=True)
        shift = 2 * _ME  # both annihilation γ's deposit their energy (assumption: no quenching)
        out.append(BackgroundComponent(
            "c11", "¹¹C", Spectrum(lambda t: pos(np.asarray(t) - shift), shift, shift + C11_Q_BETA_MEV),
            per100t(tab, "backgrounds.c11"), Density("uniform"), None,
            _uncertainty(tab, f, "backgrounds.c11", 0.1), True, "β⁺, endpoint 0.960 MeV + 1.022 MeV annihilation"))
    if "solar" in cfg:
        tab = cfg["solar"]
        comps = tab.get("components", _SOLAR_DEFAULT)
        ne_m3 = detector.electron_density_m3
        for comp in comps:
            if comp not in _SOLAR_UNC:
                raise ConfigError(f, "backgrounds.solar.components", f"unknown '{comp}'; known: {', '.join(_SOLAR_UNC)}")
            spec, rate_per_e = _solar_component(comp)
            out.append(BackgroundComponent(
                comp, {"pp": "pp ν", "be7": "⁷Be ν", "pep": "pep ν", "cno": "CNO ν", "b8": "⁸B ν"}[comp], spec,
                rate_per_e * ne_m3 * v_target * SECONDS_PER_DAY, Density("uniform"), None,
                _uncertainty(tab.get(comp, {}) if isinstance(tab.get(comp), dict) else {}, f,
                             f"backgrounds.solar.{comp}", _SOLAR_UNC[comp]), True,
                "ν–e recoils, B16-GS98 flux (ApJ 835 (2017) 202), MSW-LMA P_ee (NuFIT 6.0)"))
    if "external" in cfg:
        tab = cfg["external"]
        k = _num(tab, "gamma_mev", f, "backgrounds.external", 2.614)
        lam = _num(tab, "attenuation_length_m", f, "backgrounds.external", 0.3)
        out.append(BackgroundComponent(
            "external", "external γ", Spectrum(klein_nishina_electron(k), 0.0, float(t_max(k))),
            _num(tab, "rate_per_day", f, "backgrounds.external"), Density("external", lam), None,
            _uncertainty(tab, f, "backgrounds.external", 0.2), False,
            "single-Compton electrons of external γ's, falling as e^{−(R−r)/λ} from the vessel"))
    if "source_gamma" in cfg and cfg["source_gamma"].get("enabled", True):
        tab = cfg["source_gamma"]
        if "rate_per_day" in tab:
            out.append(source_gamma_component(tab, f, source_half_life_days))
        impurities = tab.get("impurities", {})
        if not isinstance(impurities, dict):
            raise ConfigError(f, "backgrounds.source_gamma.impurities", "expected tables [backgrounds.source_gamma.impurities.NAME]")
        for key, imp in impurities.items():
            where = f"backgrounds.source_gamma.impurities.{key}"
            if not isinstance(imp, dict):
                raise ConfigError(f, where, "expected a table with rate_per_day, gamma_mev and half_life_days")
            half_life = _num(imp, "half_life_days", f, where)
            if not half_life > 0:
                raise ConfigError(f, f"{where}.half_life_days", f"got {half_life!r}; allowed range > 0 days")
            out.append(source_gamma_component(imp, f, half_life, name=f"source_gamma_{key}", where=where,
                                              label=f"source γ ({key})"))
    return out


ALPHA_QUENCHING_FACTOR = 5.304 / 0.42
"""E_α / E_visible of α's in the scintillator: the ²¹⁰Po 5.304 MeV α seen at 0.42 MeV, the
presets' ²¹⁰Po line (assumption: one factor for every α; Birks quenching is weaker at higher α
energy, so the ²¹⁴Po and ²¹²Po lines sit somewhat higher in a real scintillator)."""


def chain_component(name: str, label: str, members: tuple, decays_per_day: float, *,
                    alpha_leakage: float = 1.0, tag_efficiency: dict[str, float] | None = None,
                    half_life_days: float | None = None, uncertainty: float | None = 0.3,
                    reference: str = "") -> BackgroundComponent:
    """Visible events of a decay-chain segment in secular equilibrium, as one component.

    ``members``: ``(nuclide, Z of the daughter, A, decays per chain decay, tag, branches)``
    with branches ``(kind "a"|"b", intensity, energy [MeV], daughter level [MeV])``: α kinetic
    energy or β endpoint; each member's intensities are renormalised to 1. Every γ/conversion
    cascade is absorbed in the event (a large detector: assumption); α's are quenched by :data:`ALPHA_QUENCHING_FACTOR`, and a fraction
    ``alpha_leakage`` of α events survives the α/β pulse-shape cut. ``tag`` names a delayed
    coincidence: "bipo214" (²¹⁴Bi–²¹⁴Po, T½ = 164 µs: both events removed with the tag
    efficiency), "bipo212" (²¹²Bi–²¹²Po, T½ = 0.3 µs: the α falls in the β's event and adds its
    visible energy; removed with the tag efficiency). ``decays_per_day``: chain decays in the
    target; the component's rate is that times the visible events per chain decay.
    """
    eff = tag_efficiency or {}
    po212_visible = 8.785 / ALPHA_QUENCHING_FACTOR
    beta_parts: list[tuple[float, float, float, int, int]] = []  # (weight, endpoint, shift, Z, A)
    lines: list[tuple[float, float]] = []
    for _nuc, z, a, per_chain, tag, branches in members:
        tagged = 1.0 - eff.get(tag, 0.0) if tag else 1.0
        norm = sum(b[1] for b in branches)
        for kind, intensity, energy, level in branches:
            w = per_chain * intensity / norm
            if kind == "a":
                keep = tagged if tag == "bipo214" else 1.0
                lines.append((energy / ALPHA_QUENCHING_FACTOR + level, w * keep * alpha_leakage))
            else:
                w *= tagged
                shift = level + (po212_visible if tag == "bipo212" else 0.0)
                beta_parts.append((w, energy, shift, z, a))
    total = sum(w for w, *_ in beta_parts) + sum(w for _, w in lines)
    if not total > 0:
        raise PhysicsInputError(f"{name} visible events", total, "> 0 per chain decay")
    shapes = [(w / total, _normalised(beta_spectrum(q, z, a), q), shift) for w, q, shift, z, a in beta_parts]

    def pdf(t: NDArray) -> NDArray:
        t = np.asarray(t, dtype=float)
        return sum(w * f(t - shift) for w, f, shift in shapes)

    ends = [shift + q for _, q, shift, _, _ in beta_parts]
    spec = Spectrum(pdf if shapes else None, 0.0, max(ends, default=0.0),
                    breaks=tuple(sorted({s for _, _, s, _, _ in beta_parts} | set(ends))),
                    lines=tuple((e, w / total) for e, w in lines if w > 0))
    return BackgroundComponent(name, label, spec, decays_per_day * total, Density("uniform"), half_life_days,
                               uncertainty, True, reference)


def source_gamma_component(tab: dict, file: str = "<config>", source_half_life_days: float | None = None,
                           name: str = "source_gamma", where: str = "backgrounds.source_gamma",
                           label: str = "source γ") -> BackgroundComponent:
    """A source-correlated γ background: leakage of the source's own γ line through the
    shield, or an activation impurity of the source material.

    It falls off as e^{−L/λ}/(4πL²) from the source and decays with ``source_half_life_days``
    — the source's own half-life for its γ line, the impurity's half-life for an impurity
    (e.g. ⁴⁶Sc 83.79 d, ⁵⁹Fe 44.50 d, ⁶⁰Co 1925.3 d; ENSDF): time binning separates an
    impurity from the signal only through that difference, otherwise only the spatial shape
    can. Fields: ``rate_per_day`` (at t=0, in the whole target), ``gamma_mev`` (list of γ
    energies), ``peak_fraction`` (share in the full-energy line; the rest single-Compton),
    ``attenuation_length_m``, ``uncertainty``.
    """
    lines = tab.get("gamma_mev", [0.320])
    if isinstance(lines, (int, float)):
        lines = [lines]
    if not lines or any(isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 < x <= _UPPER["gamma_mev"]
                        for x in lines):
        raise ConfigError(file, f"{where}.gamma_mev", f"got {lines!r}; expected γ energies in (0, {_UPPER['gamma_mev']:g}] MeV")
    peak = _num(tab, "peak_fraction", file, where, 0.3)
    if peak > 1:
        raise ConfigError(file, f"{where}.peak_fraction", f"got {peak!r}; allowed range [0, 1]")
    lam = _num(tab, "attenuation_length_m", file, where, 0.11)
    spec = photon_deposit_spectrum(lines, np.ones(len(lines)), peak)
    return BackgroundComponent(
        name, label, spec, _num(tab, "rate_per_day", file, where),
        Density("source", lam), source_half_life_days, _uncertainty(tab, file, where, 0.3), False,
        "γ's from the source assembly (leakage or impurities): e^{−L/λ}/(4πL²) in space, decaying with "
        + ("its own half-life" if name != "source_gamma" else "the source"))


def _solar_component(name: str) -> tuple[Spectrum, float]:
    """(recoil spectrum, rate per target electron per second) of a solar ν component."""
    if name == "pp":
        q = SOLAR_PP_ENDPOINT_MEV
        nu = _normalised(neutrino_spectrum_beta_plus(q, 1, 2), q)
        spec = es_recoil_continuum(nu, q, SOLAR_PRODUCTION_NE["pp"])
        return spec, SOLAR_FLUX_B16_GS98["pp"][0] * _spectrum_integral(spec)
    if name == "be7":
        phi = SOLAR_FLUX_B16_GS98["be7"][0]
        lines = [(e, w) for e, w in SOLAR_BE7_LINES]
        p = [float(p_ee_solar(e, SOLAR_PRODUCTION_NE["be7"])) for e, _ in lines]
        spec = es_recoil_lines(lines, p)
        rate = phi * sum(w * (pp * _sig(e, "e") + (1 - pp) * _sig(e, "mu")) for (e, w), pp in zip(lines, p))
        return spec, rate
    if name == "pep":
        phi = SOLAR_FLUX_B16_GS98["pep"][0]
        e = SOLAR_PEP_LINE_MEV
        p = float(p_ee_solar(e, SOLAR_PRODUCTION_NE["pep"]))
        return es_recoil_lines([(e, 1.0)], [p]), phi * (p * _sig(e, "e") + (1 - p) * _sig(e, "mu"))
    if name == "cno":
        parts = []
        total = 0.0
        for iso, (z, a) in {"n13": (6, 13), "o15": (7, 15), "f17": (8, 17)}.items():
            q = SOLAR_CNO_ENDPOINTS_MEV[iso]
            nu = _normalised(neutrino_spectrum_beta_plus(q, z, a), q)
            spec = es_recoil_continuum(nu, q, SOLAR_PRODUCTION_NE[iso])
            r = SOLAR_FLUX_B16_GS98[iso][0] * _spectrum_integral(spec)
            parts.append((spec, r))
            total += r
        hi = max(s.hi for s, _ in parts)

        def pdf(t: NDArray) -> NDArray:
            return sum(r / _spectrum_integral(s) * s.pdf(t) for s, r in parts)

        return Spectrum(pdf, 0.0, hi, breaks=tuple(s.hi for s, _ in parts)), total
    # ⁸B: allowed β⁺ shape with a 14 MeV endpoint (an approximation of Winter et al. 2006;
    # in a < 1 MeV recoil window only the nearly flat normalisation matters).
    q = 14.0
    nu = _normalised(neutrino_spectrum_beta_plus(q, 4, 8), q)
    spec = es_recoil_continuum(nu, q, SOLAR_PRODUCTION_NE["b8"], n_nodes=96)
    return spec, SOLAR_FLUX_B16_GS98["b8"][0] * _spectrum_integral(spec)


def _sig(e: float, flavour: str) -> float:
    """Total ν–e cross section [cm²] (a flux in cm⁻² s⁻¹ times this is a rate per electron)."""
    from ganom.models.xsec import sigma

    return float(sigma(e, 0.0, flavour=flavour))


def _normalised(pdf: Callable[[NDArray], NDArray], hi: float) -> Callable[[NDArray], NDArray]:
    x, w = np.polynomial.legendre.leggauss(200)
    e = 0.5 * hi * (x + 1)
    norm = float(np.sum(0.5 * hi * w * pdf(e)))
    return lambda z: pdf(z) / norm


def _spectrum_integral(spec: Spectrum) -> float:
    """∫ pdf dT over the spectrum [cm² for recoil spectra]."""
    pts = np.unique(np.concatenate([[spec.lo, spec.hi], spec.breaks]))
    x, w = np.polynomial.legendre.leggauss(48)
    x01, w01 = 0.5 * (x + 1.0), 0.5 * w
    a, b = pts[:-1, None], pts[1:, None]
    t = b - (b - a) * x01**2
    wt = 2.0 * (b - a) * x01 * w01
    return float(np.sum(spec.pdf(t.ravel()) * wt.ravel()))


def configuration_backgrounds(detector: Any, source: Any, distance_m: float) -> list[BackgroundComponent]:
    """Every background of a detector with ``source`` at ``distance_m`` [m] from its centre:
    :func:`detector_backgrounds` and the photons through the source's shield
    (:func:`ganom.models.shielding.shield_leakage_component`, when not negligible)."""
    from ganom.models.shielding import shield_leakage_component

    comps = detector_backgrounds(detector, source.half_life_days)
    leak = shield_leakage_component(detector, source, distance_m)
    return comps + ([leak] if leak is not None else [])
