"""Internal ²³⁸U/²³²Th chains, radon and α/β pulse-shape discrimination (docs/physics.md §7)."""

from dataclasses import replace

import numpy as np
import pytest

from ganom.exceptions import ConfigError
from ganom.models.backgrounds import ALPHA_QUENCHING_FACTOR, detector_backgrounds
from ganom.models.constants import (
    RN222_CHAIN,
    SECONDS_PER_DAY,
    TH232_BQ_PER_G,
    TH232_CHAIN,
    U238_BQ_PER_G,
    U238_CHAIN,
)
from ganom.models.detectors import load_detector

# α decay energies Q_α [MeV] (AME2020, Wang et al., Chin. Phys. C 45 (2021) 030003): independent of
# the tabulated α kinetic energies, which must equal (Q_α − level)·(A − 4)/A up to recoil corrections.
Q_ALPHA = {"U238": 4.270, "U234": 4.858, "Th230": 4.770, "Ra226": 4.871, "Rn222": 5.590, "Po218": 6.115,
           "Po214": 7.833, "Th232": 4.082, "Th228": 5.520, "Ra224": 5.789, "Rn220": 6.405, "Po216": 6.906,
           "Bi212": 6.207}
# β⁻ decay energies Q_β [MeV] (AME2020); ²³⁴ᵐPa decays from its 73.9 keV isomer.
Q_BETA = {"Th234": 0.274, "Pa234m": 2.195 + 0.074, "Pb214": 1.018, "Bi214": 3.269, "Ra228": 0.046,
          "Ac228": 2.124, "Pb212": 0.570, "Bi212": 2.252, "Tl208": 4.999}


def _members():
    return {m[0]: m for m in U238_CHAIN + TH232_CHAIN}


@pytest.mark.parametrize("nuclide", sorted(Q_ALPHA))
def test_alpha_energies_follow_from_the_q_values(nuclide):
    _, _, a, _, _, branches = _members()[nuclide]
    for kind, _, e, level in branches:
        if kind == "a":
            assert e == pytest.approx((Q_ALPHA[nuclide] - level) * (a - 4) / a, abs=0.012)


@pytest.mark.parametrize("nuclide", sorted(Q_BETA))
def test_beta_endpoints_plus_level_give_the_q_value(nuclide):
    """Every β branch ends at Q_β − level (Table of Isotopes 1978 values for ²²⁸Ac sit 13 keV high)."""
    for kind, _, e, level in _members()[nuclide][5]:
        if kind == "b":
            assert e + level == pytest.approx(Q_BETA[nuclide], abs=0.015)


def test_chain_membership_and_branch_sums():
    names = [m[0] for m in U238_CHAIN]
    assert names == ["U238", "Th234", "Pa234m", "U234", "Th230", "Ra226", "Rn222", "Po218", "Pb214", "Bi214",
                     "Po214"]
    assert [m[0] for m in RN222_CHAIN] == names[6:]
    assert [m[0] for m in TH232_CHAIN][-1] == "Tl208"
    for _, _, _, per_chain, _, branches in U238_CHAIN + TH232_CHAIN:
        assert 0.96 <= sum(b[1] for b in branches) <= 1.001
        assert 0 < per_chain <= 1


def test_specific_activities():
    """1 ppm of U (Th) by mass is 12.4 (4.07) Bq/kg: the textbook conversion (e.g. IAEA
    RS-G-1.7)."""
    assert U238_BQ_PER_G == pytest.approx(12.4e3, rel=0.005)
    assert TH232_BQ_PER_G == pytest.approx(4.07e3, rel=0.005)


def _with(det, **tables):
    return replace(det, backgrounds={**(det.backgrounds or {}), **tables})


def _component(det, name):
    return next(c for c in detector_backgrounds(det) if c.name == name)


def _per_100t(det, rate_per_day):
    return rate_per_day / (det.density_g_cm3 * 4.0 / 3.0 * np.pi * det.radius_m**3 / 100.0)


def test_chain_rates_count_the_visible_events_per_decay():
    """With every tag perfect and every α rejected, the ²³⁸U chain leaves three β's per chain
    decay (²³⁴Th, ²³⁴ᵐPa, ²¹⁴Pb); without PSD and tags, 9.2 events; ²³²Th leaves ²²⁸Ra, ²²⁸Ac,
    ²¹²Pb, 0.64 ²¹²Bi(+Po) β and 0.36 ²⁰⁸Tl."""
    det = load_detector("borexino")
    per_nuclide = 1e-17 * 1e8 * U238_BQ_PER_G * SECONDS_PER_DAY  # per day in 100 t at 1e-17 g/g
    assert per_nuclide == pytest.approx(1.07, abs=0.01)
    clean = _with(det, u238={"concentration_g_per_g": 1e-17, "bipo214_tag_efficiency": 1.0},
                  th232={"concentration_g_per_g": 1e-17, "bipo212_tag_efficiency": 0.0},
                  alpha_beta_psd={"alpha_leakage": 0.0})
    assert _per_100t(det, _component(clean, "u238").rate_per_day) == pytest.approx(3 * per_nuclide, rel=1e-9)
    th_nuclide = 1e-17 * 1e8 * TH232_BQ_PER_G * SECONDS_PER_DAY
    assert _per_100t(det, _component(clean, "th232").rate_per_day) == pytest.approx(
        (3 + 0.64 + 0.36) * th_nuclide, rel=0.01)
    raw = _with(det, u238={"concentration_g_per_g": 1e-17, "bipo214_tag_efficiency": 0.0})
    assert _per_100t(det, _component(raw, "u238").rate_per_day) == pytest.approx(11 * per_nuclide, rel=1e-9)


def test_radon_spectrum_shapes():
    """²²²Rn with perfect tags and PSD leaves ²¹⁴Pb alone: nothing below the 295 keV level but its
    6.2 % ground-state branch, nothing above Q = 1.023 MeV. Without PSD the ²²²Rn and ²¹⁸Po α's
    appear as lines at E_α / quenching, one event each per decay."""
    det = load_detector("borexino")
    only_pb = _component(_with(det, rn222={"rate_cpd_per_100t": 1.0, "bipo214_tag_efficiency": 1.0},
                               alpha_beta_psd={"alpha_leakage": 0.0}), "rn222")
    t, w = only_pb.spectrum.quadrature()
    assert w.sum() == pytest.approx(1.0)
    assert w[t < 0.295].sum() < 0.063
    assert t[w > 0].max() <= 1.023 + 1e-9
    assert _per_100t(det, only_pb.rate_per_day) == pytest.approx(1.0)
    full = _component(_with(det, rn222={"rate_cpd_per_100t": 1.0, "decaying": True}), "rn222")
    lines = dict(full.spectrum.lines)
    assert lines[5.490 / ALPHA_QUENCHING_FACTOR] == pytest.approx(1.0 / 3.2)
    assert full.half_life_days == pytest.approx(3.8235)
    assert _per_100t(det, full.rate_per_day) == pytest.approx(3.2)


def test_untagged_bipo212_sums_the_alpha_into_the_beta_event():
    det = load_detector("borexino")
    th = _component(_with(det, th232={"concentration_g_per_g": 1e-17}, alpha_beta_psd={"alpha_leakage": 0.0}),
                    "th232")
    po212 = 8.785 / ALPHA_QUENCHING_FACTOR
    assert po212 + 2.246 in th.spectrum.breaks
    assert max(th.spectrum.breaks) == pytest.approx(3.198 + 1.801)


def test_alpha_psd_scales_po210():
    det = load_detector("borexino")
    base = _component(det, "po210").rate_per_day
    cut = _component(_with(det, alpha_beta_psd={"alpha_leakage": 0.01}), "po210").rate_per_day
    assert cut == pytest.approx(0.01 * base)


@pytest.mark.parametrize("tables, field", [
    ({"u238": {"concentration_g_per_g": -1e-17}}, "backgrounds.u238.concentration_g_per_g"),
    ({"u238": {}}, "backgrounds.u238.concentration_g_per_g"),
    ({"th232": {"concentration_g_per_g": 1e-17, "bipo212_tag_efficiency": 1.5}},
     "backgrounds.th232.bipo212_tag_efficiency"),
    ({"rn222": {"rate_cpd_per_100t": 1.0, "decaying": "yes"}}, "backgrounds.rn222.decaying"),
    ({"alpha_beta_psd": {"alpha_leakage": 2.0}}, "backgrounds.alpha_beta_psd.alpha_leakage"),
    ({"alpha_beta_psd": {"rejection": 0.99}}, "backgrounds.alpha_beta_psd.rejection"),
])
def test_bad_chain_tables_name_the_field(tables, field):
    det = _with(load_detector("jne-1t"), **tables)
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        detector_backgrounds(det)


def test_c14_mean_energy_and_shape_factor():
    """The allowed ¹⁴C shape gives NNDC's mean β energy, 49.47 keV (computed there with the
    allowed shape by LOGFT), an independent check of the Fermi function and phase space; the
    shape factor 1 − 0.45 W (W in m_e) lowers it to 47.6 keV (docs/physics.md §7.1)."""
    from ganom.models.backgrounds import beta_spectrum
    from ganom.models.constants import C14_Q_MEV

    t = np.linspace(0.0, C14_Q_MEV, 20001)[1:-1]

    def mean(shape_a):
        f = beta_spectrum(C14_Q_MEV, 7, 14, "allowed", shape_a=shape_a)(t)
        return float((f * t).sum() / f.sum())

    assert mean(0.0) * 1e3 == pytest.approx(49.47, abs=0.15)
    assert mean(-0.45) * 1e3 == pytest.approx(47.6, abs=0.1)


def test_documented_radiopurity_example():
    """examples/jne_500t_radiopurity.toml: the JNE 500 t preset plus both chains at 1e-17 g/g and
    decaying radon; the preset's own components are unchanged."""
    from pathlib import Path

    ex = load_detector(Path(__file__).parent.parent / "examples" / "jne_500t_radiopurity.toml")
    preset = {c.name: c.rate_per_day for c in detector_backgrounds(load_detector("jne-500t"))}
    comps = {c.name: c for c in detector_backgrounds(ex)}
    assert set(comps) - set(preset) == {"u238", "th232", "rn222"}
    assert all(comps[n].rate_per_day == pytest.approx(r) for n, r in preset.items())
    assert comps["rn222"].half_life_days == pytest.approx(3.8235)
    assert _per_100t(ex, comps["rn222"].rate_per_day) == pytest.approx(10.0 * (2 + 0.1 + 1 + 0.1))


def test_borexino_c14_and_pileup_rates():
    """The Borexino preset reproduces Borexino Phase-II's ¹⁴C activity, 40 ± 2 Bq/100 t, and its
    ¹⁴C–¹⁴C pile-up, 137.5 ± 2.8 cpd/100 t (PRD 100 (2019) 082004): the ¹⁴C/¹²C ratio and the
    360 ns window of the preset are derived from those two numbers (docs/physics.md §7.3), so
    this checks the chain ratio → Bq → rate² τ of the code, not the inputs."""
    det = load_detector("borexino")
    comps = {c.name: c for c in detector_backgrounds(det)}
    assert _per_100t(det, comps["c14"].rate_per_day) / SECONDS_PER_DAY == pytest.approx(40.0, rel=0.05)
    assert _per_100t(det, comps["c14_pileup"].rate_per_day) == pytest.approx(137.5, rel=0.05)
