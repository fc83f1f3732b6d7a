"""The source's shield: tungsten attenuation, internal bremsstrahlung, what reaches the target."""

import math

import numpy as np
import pytest

from ganom.models.constants import ALPHA_EM, AVOGADRO, M_ELECTRON_MEV, SECONDS_PER_DAY
from ganom.models.detectors import load_detector
from ganom.models.shielding import (
    TUNGSTEN_DENSITY_G_CM3,
    TUNGSTEN_MU_RHO,
    compton_length_m,
    ec_bremsstrahlung,
    klein_nishina_total_cm2,
    shield_leakage,
    shield_leakage_component,
    shield_transmission,
    target_fraction,
    tungsten_attenuation_per_m,
)
from ganom.models.sources import load_source


def test_tungsten_table_reproduced_and_interpolated_log_log():
    e, mu_rho = map(np.asarray, TUNGSTEN_MU_RHO)
    assert np.allclose(tungsten_attenuation_per_m(e), mu_rho * TUNGSTEN_DENSITY_G_CM3 * 100, rtol=1e-12)
    # the ⁵¹Cr γ, 320.08 keV, between NIST's 0.3 and 0.4 MeV rows: a power law between them
    slope = math.log(0.1925 / 0.3238) / math.log(0.4 / 0.3)
    expect = 0.3238 * (0.32008 / 0.3) ** slope * 19.30 * 100
    assert float(tungsten_attenuation_per_m(0.32008)) == pytest.approx(expect, rel=1e-12)
    assert float(shield_transmission(0.32008, 0.09)) == pytest.approx(math.exp(-expect * 0.09), rel=1e-12)
    with pytest.raises(ValueError, match="tabulated"):
        tungsten_attenuation_per_m(5.0)


@pytest.mark.parametrize("e_mev, nist_water", [(0.3, 0.1187), (0.5, 0.09687), (1.0, 0.07072)])
def test_klein_nishina_attenuation_matches_nist_water(e_mev, nist_water):
    """Compton scattering alone gives water's μ/ρ (NIST, Hubbell & Seltzer, Table 4) to ~1 %:
    coherent scattering and photoabsorption on O add the rest."""
    electrons_per_g = AVOGADRO * 10 / 18.015
    mu_rho = electrons_per_g * float(klein_nishina_total_cm2(e_mev))
    assert mu_rho == pytest.approx(nist_water, rel=0.012) and mu_rho < nist_water
    assert float(compton_length_m(e_mev, electrons_per_g * 1e6)) == pytest.approx(0.01 / mu_rho, rel=1e-12)


def test_internal_bremsstrahlung_total_and_shape():
    k0 = 0.7467
    k = np.linspace(0.0, k0, 200001)
    w = ec_bremsstrahlung(k, k0)
    assert np.trapezoid(w, k) == pytest.approx(ALPHA_EM * k0**2 / (12 * math.pi * M_ELECTRON_MEV**2), rel=1e-8)
    assert k[np.argmax(w)] == pytest.approx(k0 / 3, abs=1e-4)  # k(1 − k/k₀)² peaks at k₀/3
    assert ec_bremsstrahlung(k0 * 1.01, k0) == 0.0


def test_leakage_without_shield_is_every_photon_above_80_kev():
    src = load_source("cr51")
    leak = shield_leakage(src, 0.0)
    lo = TUNGSTEN_MU_RHO[0][0]
    expect = sum(ln.intensity * ALPHA_EM / (math.pi * M_ELECTRON_MEV**2)
                 * (ln.energy_mev**2 / 12 - (lo**2 / 2 - 2 * lo**3 / (3 * ln.energy_mev) + lo**4 / (4 * ln.energy_mev**2)))
                 for ln in src.lines)
    assert leak.bremsstrahlung_per_decay == pytest.approx(expect, rel=1e-12)
    assert leak.line_per_decay == pytest.approx(src.gamma_branch, rel=1e-12)
    assert leak.total_per_decay == pytest.approx(expect + src.gamma_branch, rel=1e-12)


def test_thicker_shield_leaks_less_and_harder():
    src = load_source("cr51")
    leaks = [shield_leakage(src, t) for t in (0.05, 0.09, 0.13, 0.18)]
    totals = [lk.total_per_decay for lk in leaks]
    assert all(a > b for a, b in zip(totals, totals[1:]))
    means = [lk.mean_energy_mev for lk in leaks]
    assert all(a < b for a, b in zip(means, means[1:])) and means[-1] < 0.7518
    # the 320 keV line stops long before the bremsstrahlung tail near 0.75 MeV does
    assert leaks[1].line_per_decay < 1e-6 * leaks[1].bremsstrahlung_per_decay


def test_target_fraction_central_source_is_closed_form():
    det = load_detector("jne-500t")
    lam, rx = 0.13, 0.235
    assert target_fraction(det, 0.0, rx, lam) == pytest.approx(1 - math.exp(-(det.radius_m - rx) / lam), rel=1e-9)
    small = load_detector("jne-1t")
    assert target_fraction(small, 0.0, rx, lam) == pytest.approx(1 - math.exp(-(small.radius_m - rx) / lam), rel=1e-9)
    outside = target_fraction(det, det.radius_m + 1.0, rx, lam)
    assert 0 < outside < math.exp(-(1.0 - rx) / lam)  # at least the gap to cross


def test_shield_component_in_the_templates():
    """The component's rate is the leakage × activity × the target fraction, it decays with the
    source, and the exclusion radius and the leakage come from the same shield."""
    from ganom.fitter.config import build_configuration

    det, src = load_detector("jne-500t"), load_source("cr51")
    comp = shield_leakage_component(det, src, 0.0)
    leak = shield_leakage(src, src.shield_thickness_m, n_nodes=24)
    lam = float(compton_length_m(leak.mean_energy_mev, det.electron_density_m3))
    expect = leak.total_per_decay * src.activity_bq * SECONDS_PER_DAY * (1 - math.exp(-(det.radius_m - src.assembly_radius_m) / lam))
    assert comp.rate_per_day == pytest.approx(expect, rel=1e-9)
    assert comp.half_life_days == src.half_life_days and comp.density.kind == "source"
    tpl, model = build_configuration(det, src, "centre", 30)
    assert "bkg_source_shield" in model.parameters.names
    thin = src.with_shield_thickness(0.12)
    assert thin.assembly_radius_m == pytest.approx(src.capsule_radius_m + 0.12)
    thin_comp = shield_leakage_component(det, thin, 0.0)
    assert thin_comp.rate_per_day > 1e4 * comp.rate_per_day
    tpl_thin, _ = build_configuration(det, thin, "centre", 30)
    sig = sum(tpl.samples[n].sum() for n in tpl.signal_names)
    sig_thin = sum(tpl_thin.samples[n].sum() for n in tpl_thin.signal_names)
    assert sig_thin > sig  # less tungsten, more scintillator near the source
    assert shield_leakage_component(load_detector("juno"), src, load_detector("juno").source_distance("outside")) is None


def test_assembly_radius_knob_moves_the_shield_not_the_capsule():
    src = load_source("cr51")
    big = src.with_assembly_radius(0.30)
    assert big.capsule_radius_m == pytest.approx(src.capsule_radius_m)
    assert big.shield_thickness_m == pytest.approx(0.30 - src.capsule_radius_m)
    none = src.with_assembly_radius(0.02)
    assert none.shield_thickness_m == 0.0 and none.assembly_radius_m == 0.02
    from dataclasses import replace

    from ganom.exceptions import PhysicsInputError

    with pytest.raises(PhysicsInputError, match="shield_thickness_m"):
        replace(src, shield_thickness_m=0.5)
