"""Templates and backgrounds: sum rules, spatial response vs Monte Carlo, spectra vs literature."""

import math
from dataclasses import replace

import numpy as np
import pytest

from ganom.exceptions import ConfigError, PhysicsInputError
from ganom.models.backgrounds import (
    _solar_component,
    beta_spectrum,
    c14_specific_activity_bq_per_kg_carbon,
    detector_backgrounds,
    fermi_function,
    klein_nishina_electron,
    self_convolution,
    source_gamma_component,
)
from ganom.models.constants import M_ELECTRON_MEV
from ganom.models.detectors import load_detector
from ganom.models.oscillation import p_ee_solar
from ganom.models.rates import signal_rate
from ganom.models.sources import CR51
from ganom.models.spatial import Density, chi3_cdf, spatial_response, true_baseline_edges
from ganom.models.templates import AnalysisBinning, build_templates, default_binning, energy_response

E100T_PC = 3.307e31  # electrons per 100 t of pseudocumene


def _ideal(name):
    return replace(load_detector(name), energy_stochastic=0.0, vertex_sigma_1mev_m=0.0)


@pytest.mark.parametrize("name, pos", [("juno", 0.0), ("juno", 19.0), ("jne-1t", 1.0), ("jne-500t", 2.5)])
def test_zero_resolution_templates_sum_to_rates(name, pos):
    det = _ideal(name)
    tpl = build_templates(det, "cr51", pos, 30, backgrounds=False)
    total = sum(tpl.samples[n].sum() for n in tpl.signal_names)
    assert total == pytest.approx(signal_rate(det, "cr51", pos, days=[30]).events_in_run[30], rel=1e-3)


def test_kernel_line_sums_and_time_axis():
    det = _ideal("jne-500t")
    tpl = build_templates(det, "cr51", 0.0, 30, backgrounds=False)
    r = signal_rate(det, "cr51", 0.0, days=[30])
    per_line = tpl.kernel.line_counts().sum(axis=(1, 2, 3))
    np.testing.assert_allclose(per_line / per_line.sum(), [ln.share for ln in r.lines], rtol=1e-6)
    per_t = tpl.samples["signal_ground"].sum(axis=(0, 1))
    tau = CR51.mean_life_days
    edges = tpl.binning.time_edges_days
    expected = np.exp(-edges[:-1] / tau) - np.exp(-edges[1:] / tau)
    np.testing.assert_allclose(per_t / per_t.sum(), expected / expected.sum(), rtol=1e-10)


def test_oscillated_kernel_matches_rates():
    det = _ideal("jne-1t")
    tpl = build_templates(det, "cr51", 1.0, 30, backgrounds=False)
    for dm2, s in [(0.3, 0.4), (2.0, 0.3), (40.0, 0.2)]:
        osc = sum(v.sum() for v in tpl.signal_counts(dm2, s).values())
        ref = signal_rate(det, "cr51", 1.0, days=[30], dm2=dm2, sin2_2theta=s).events_in_run[30]
        assert osc == pytest.approx(ref, rel=2e-3)


def test_chi3_cdf_limits():
    # L ≫ σ: Gaussian in L' with mean L + σ²/L (the transverse smearing adds p²/2L);
    # L → 0: the χ₃ distribution of |δ|.
    from scipy.stats import norm

    assert chi3_cdf(np.array(10.1), np.array(10.0), 0.1) == pytest.approx(norm.cdf(1 - 0.1 / 10), abs=5e-5)
    from scipy.stats import chi

    assert chi3_cdf(np.array(0.3), np.array(1e-9), 0.2) == pytest.approx(chi.cdf(1.5, 3), rel=1e-6)


@pytest.mark.parametrize("rt, rf, d, dens, r_x", [(2.0, 1.8, 0.0, "flux", 0.0), (2.0, 1.8, 0.7, "flux", 0.0),
                                                  (2.0, 1.8, 2.5, "uniform", 0.0), (2.0, 1.8, 1.0, "external", 0.0),
                                                  (2.0, 1.8, 0.7, "flux", 0.3), (2.0, 1.8, 0.0, "uniform", 0.4)])
def test_spatial_response_vs_monte_carlo(rt, rf, d, dens, r_x):
    """The deterministic vertex-smearing integral against a seeded Monte Carlo (pulls < 4),
    also with a source assembly of radius r_x that holds no target."""
    rng = np.random.default_rng(11)
    sig, n = 0.18, 1_500_000
    density = Density(dens, 0.3 if dens == "external" else 0.0)
    reco = np.linspace(max(0, d - rf), d + rf, 7)
    edges = true_baseline_edges(reco, max(r_x, d - rt), d + rt, 0.03, [abs(rt - d), abs(rf - d), r_x])
    s = spatial_response(rt, rf, d, edges, reco, np.array([sig]), density, r_x)[0].sum(axis=0)
    u = rng.normal(size=(n, 3))
    x = u / np.linalg.norm(u, axis=1)[:, None] * rt * rng.random(n)[:, None] ** (1 / 3)
    src = np.array([0.0, 0.0, -d])
    L = np.linalg.norm(x - src, axis=1)
    vol = 4 / 3 * np.pi * rt**3 / n
    w = {"flux": vol / (4 * np.pi * L * L), "uniform": np.full(n, vol),
         "external": vol * np.exp((np.linalg.norm(x, axis=1) - rt) / 0.3)}[dens] * (L >= r_x)
    xr = x + rng.normal(0, sig, (n, 3))
    keep = np.linalg.norm(xr, axis=1) < rf
    lr = np.linalg.norm(xr - src, axis=1)[keep]
    h, _ = np.histogram(lr, reco, weights=w[keep])
    h2, _ = np.histogram(lr, reco, weights=w[keep] ** 2)
    pulls = (s - h) / np.sqrt(h2)
    if dens == "flux" and d < rf and r_x == 0:
        pulls = pulls[1:]  # first bin: 1/L² weights give the MC an unreliable variance
    assert np.all(np.abs(pulls) < 4), pulls


def test_window_cdf_core_equals_the_direct_formula():
    """The smearing kernel's inner sum (Φ of the bounds, the lower tail dropped beyond 9σ)
    against Σ w [Φ(min(hi)) − Φ(max(lo))]⁺ written out, near the source and far from it."""
    from scipy.special import ndtr

    from ganom.models.spatial import _cdf_core

    rng = np.random.default_rng(5)
    n, q, m, sig, r_f = 200, 12, 6, 0.15, 3.0
    L = np.concatenate([rng.uniform(0.0, 1.5, n // 2), rng.uniform(1.5, 6.0, n // 2)])
    dcos, dsin = rng.uniform(-3.0, 3.0, n), rng.uniform(0.0, 3.0, n)
    da, db2, w = rng.normal(0, sig, (n, q)), rng.uniform(0, 2 * sig, (n, q)) ** 2, rng.random((n, q))
    e_sel = np.concatenate([np.sort(L[:, None] + rng.normal(0, 3 * sig, (n, m - 1)), axis=1), np.full((n, 1), np.inf)], 1)
    s_fid = np.sqrt(np.clip(r_f**2 - (da - dsin[:, None]) ** 2 - db2, 0, None))[..., None]
    c = (dcos - L)[:, None, None]
    root = np.sqrt(np.clip(e_sel[:, None, :] ** 2 - (da * da + db2)[..., None], 0, None))
    hi = np.minimum(root - L[:, None, None], c + s_fid)
    lo = np.maximum(-root - L[:, None, None], c - s_fid)
    want = np.einsum("nqe,nq->ne", np.where(hi > lo, ndtr(hi / sig) - ndtr(lo / sig), 0.0), w)
    got = _cdf_core(L, dcos, dsin[:, None], da, db2, w, e_sel, r_f, sig)
    assert np.count_nonzero(want) > n
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-18)


def test_energy_response_normalised_and_escale():
    t = np.array([0.3, 0.4])
    edges = np.linspace(-1, 2, 301)
    r = energy_response(t, edges, np.array([0.02, 0.03]))
    np.testing.assert_allclose(r.sum(axis=1), 1.0, atol=1e-12)
    mean = (r * 0.5 * (edges[:-1] + edges[1:])).sum(axis=1)
    np.testing.assert_allclose(mean, t, atol=1e-6)
    r_up = energy_response(t, edges, np.array([0.02, 0.03]), escale=0.01)
    np.testing.assert_allclose((r_up * 0.5 * (edges[:-1] + edges[1:])).sum(axis=1), 1.01 * t, atol=1e-6)


# ---- background physics against independent numbers -------------------------------
@pytest.mark.parametrize("comp, ref, tol", [("pp", 131.1, 0.02), ("be7", 47.9, 0.02), ("pep", 2.74, 0.02),
                                            ("cno", 4.92, 0.03)])
def test_solar_rates_vs_borexino_ssm_references(comp, ref, tol):
    """Borexino's SSM (B16-GS98) reference ES rates in PC [cpd/100 t] (arXiv:2005.12829, Table 2)."""
    _, rate = _solar_component(comp)
    assert rate * E100T_PC * 86400 == pytest.approx(ref, rel=tol)


def test_solar_be7_vs_borexino_measurement():
    _, rate = _solar_component("be7")
    assert abs(rate * E100T_PC * 86400 - 48.3) < 2 * 1.3  # PRD 100 (2019) 082004: 48.3 ± 1.1 +0.4 −0.7


def test_solar_pp_vs_borexino_measurement_and_its_share_above_threshold():
    """pp: Borexino Phase-II measured 134 ± 10 +6 −10 cpd/100 t (Nature 562 (2018) 505); the
    recoils end at T_max(0.420 MeV) = 0.261 MeV, so only a few per cent lie above 0.2 MeV."""
    spec, rate = _solar_component("pp")
    cpd = rate * E100T_PC * 86400
    assert abs(cpd - 134.0) < 2 * 12.0
    assert spec.hi == pytest.approx(2 * 0.420**2 / (0.51099895 + 2 * 0.420), rel=1e-3)
    t = np.linspace(0.0, spec.hi, 4001)
    pdf = spec.pdf(t)
    above = np.trapezoid(np.where(t > 0.2, pdf, 0.0), t) / np.trapezoid(pdf, t)
    assert 0.01 < above < 0.06 and 1.0 < cpd * above < 8.0


@pytest.mark.parametrize("e, ne, ref", [(0.3843, 79.6, 0.540), (0.8618, 79.6, 0.527), (1.442, 66.5, 0.517)])
def test_solar_survival_probability(e, ne, ref):
    assert p_ee_solar(e, ne) == pytest.approx(ref, abs=0.002)


def test_solar_survival_probability_limits():
    """Vacuum limit c₁₃⁴(1 − ½ sin²2θ₁₂) + s₁₃⁴ and fully adiabatic limit c₁₃⁴ s₁₂² + s₁₃⁴ (NuFIT 6.0
    s₁₂² = 0.307, s₁₃² = 0.02195); ⁷Be against Borexino's P_ee = 0.53 ± 0.05 (Nature 562 (2018) 505)."""
    s12, s13 = 0.307, 0.02195
    c13_4, s13_4 = (1 - s13) ** 2, s13**2
    assert p_ee_solar(0.8618, 0.0) == pytest.approx(c13_4 * (1 - 2 * s12 * (1 - s12)) + s13_4, rel=1e-9)
    assert p_ee_solar(1e4, 1e4) == pytest.approx(c13_4 * s12 + s13_4, rel=1e-5)
    assert abs(p_ee_solar(0.8618, 79.6) - 0.53) < 0.05


def test_c14_specific_activity():
    # 1.93e-7 Bq per g of carbon at 14C/12C = 1e-18 (λN with T½ = 5700 y)
    assert c14_specific_activity_bq_per_kg_carbon(1e-18) == pytest.approx(1.93e-4, rel=3e-3)


def test_klein_nishina_integral_is_total_cross_section():
    """∫ dσ/dT dT with the KN prefactor πr_e²/(m κ²) equals the KN total cross section."""
    from scipy.integrate import quad

    r_e2 = 7.9407877e-26  # cm², classical electron radius squared (CODATA)
    for k in (0.32, 1.0, 2.614):
        kap = k / M_ELECTRON_MEV
        pdf = klein_nishina_electron(k)
        tmax = 2 * k * k / (M_ELECTRON_MEV + 2 * k)
        integral = quad(lambda t: float(pdf(np.array(t))), 0, tmax, limit=200)[0] * np.pi * r_e2 / (M_ELECTRON_MEV * kap**2)
        l = np.log(1 + 2 * kap)
        total = 2 * np.pi * r_e2 * ((1 + kap) / kap**2 * (2 * (1 + kap) / (1 + 2 * kap) - l / kap) + l / (2 * kap)
                                    - (1 + 3 * kap) / (1 + 2 * kap) ** 2)
        assert integral == pytest.approx(total, rel=1e-6)


def test_fermi_function_nonrelativistic_limit():
    """Low Z, modest energy: F → 2πη/(1 − e^{−2πη}) within a few per cent."""
    w = 1.0 + 0.1 / M_ELECTRON_MEV
    p = math.sqrt(w * w - 1)
    eta = 7 / 137.036 * w / p
    assert fermi_function(7, np.array(w), 14) == pytest.approx(2 * math.pi * eta / (1 - math.exp(-2 * math.pi * eta)), rel=0.05)
    assert fermi_function(7, np.array(w), 14, beta_plus=True) < 1.0 < fermi_function(7, np.array(w), 14)


def test_beta_spectra_support_and_pileup():
    pdf = beta_spectrum(0.156476, 7, 14, "allowed", shape_a=-0.45)
    t = np.linspace(0, 0.2, 2001)
    f = pdf(t)
    assert np.all(f[t >= 0.156476] == 0) and np.all(f[(t > 0) & (t < 0.156)] > 0)
    conv = self_convolution(pdf, 0.156476)
    x = np.linspace(0, 0.35, 3501)
    assert np.trapezoid(conv(x), x) == pytest.approx(1.0, rel=2e-3)
    mean1 = np.trapezoid(t * f, t) / np.trapezoid(f, t)
    assert np.trapezoid(x * conv(x), x) == pytest.approx(2 * mean1, rel=3e-3)


def test_preset_backgrounds_and_po210_decay():
    tpl = build_templates("jne-500t", "cr51", "centre", 276.752)
    po = tpl.samples["po210"].sum(axis=(0, 1))
    assert po[0] / po[-1] > 2.0  # 276.75 d = 2 half-lives of ²¹⁰Po
    w = 276.752 / po.size  # first and last of equal time bins are (n − 1) widths apart: e^{λ(n−1)w}
    assert po[0] / po[-1] == pytest.approx(2.0 ** ((po.size - 1) * w / 138.376), rel=1e-9)  # T½ 138.376 d (NNDC)
    ext = tpl.samples["external"].sum(axis=(0, 2))
    assert ext[-2] > 20 * ext[0]  # external γ's sit at the vessel (L ≈ R for a central source)


def test_source_gamma_background():
    tab = {"rate_per_day": 5000.0, "gamma_mev": [0.32], "peak_fraction": 0.3, "attenuation_length_m": 0.11}
    comp = source_gamma_component(tab, source_half_life_days=CR51.half_life_days)
    base = [c for c in detector_backgrounds(load_detector("jne-500t")) if c.name in ("po210",)]
    tpl = build_templates("jne-500t", "cr51", 0.0, 30, backgrounds=base + [comp])
    s = tpl.samples["source_gamma"]
    by_l = s.sum(axis=(0, 2))
    far = int(np.searchsorted(tpl.binning.edges("baseline"), 1.0))  # the first bin beyond 1 m
    assert by_l[0] > 10 * by_l[far]  # falls off steeply with distance from the source
    by_t = s.sum(axis=(0, 1))
    sig_t = tpl.samples["signal_ground"].sum(axis=(0, 1))
    np.testing.assert_allclose(by_t / by_t.sum(), sig_t / sig_t.sum(), rtol=1e-10)  # decays with the source
    with pytest.raises(ConfigError, match="gamma_mev"):
        source_gamma_component({"rate_per_day": 1.0, "gamma_mev": [-1.0]})


def test_source_off_channel():
    tpl = build_templates("jne-1t", "cr51", "outside", 30, source_off_days=60)
    assert tpl.source_off is not None and "signal_ground" not in tpl.source_off
    assert tpl.source_off["kr85"].sum() == pytest.approx(2 * tpl.samples["kr85"].sum(), rel=1e-10)


def test_bad_binning_and_inputs():
    det = load_detector("jne-500t")
    with pytest.raises(PhysicsInputError, match="energy_edges_mev"):
        AnalysisBinning(np.array([0.3, 0.2]), np.array([0, 1.0]), np.array([0, 10.0]))
    with pytest.raises(PhysicsInputError, match="energy_edges_mev"):
        build_templates(det, "cr51", 0.0, 30, binning=AnalysisBinning(np.array([1.5, 2.0]), np.array([0, 5.0]), np.array([0, 30.0])))
    with pytest.raises(PhysicsInputError, match="baseline_edges_m"):
        build_templates(det, "cr51", 0.0, 30, binning=AnalysisBinning(np.array([0.2, 0.5]), np.array([20, 30.0]), np.array([0, 30.0])))
    with pytest.raises(PhysicsInputError, match="threshold"):
        default_binning(det, CR51, 0.0, 30, threshold_mev=0.6)
    with pytest.raises(PhysicsInputError, match="days"):
        default_binning(det, CR51, 0.0, -3)


def test_documented_source_gamma_example():
    """The ⁵¹Cr leakage decays with the source, the ⁴⁶Sc impurity with its own half-life."""
    from pathlib import Path

    det = load_detector(Path(__file__).parent.parent / "examples" / "jne_500t_source_gamma.toml")
    tpl = build_templates(det, "cr51", "centre", 90)
    assert "source_gamma" in tpl.samples and tpl.info["source_gamma"].uncertainty == 0.3
    edges = tpl.binning.time_edges_days
    for name, half_life in (("source_gamma", CR51.half_life_days), ("source_gamma_sc46", 83.79)):
        by_t = tpl.samples[name].sum(axis=(0, 1))
        tau = half_life / np.log(2.0)
        expected = np.exp(-edges[:-1] / tau) - np.exp(-edges[1:] / tau)
        np.testing.assert_allclose(by_t / by_t.sum(), expected / expected.sum(), rtol=1e-10)
    bad = dict(det.backgrounds)
    bad["source_gamma"] = {"impurities": {"co60": {"rate_per_day": 1.0, "gamma_mev": [1.17, 1.33]}}}
    with pytest.raises(ConfigError, match="impurities.co60.half_life_days"):
        detector_backgrounds(replace(det, backgrounds=bad))


def test_source_off_exposure_constrains_backgrounds():
    """Background-only data, fitted jointly, pin the background normalisations."""
    from ganom.fitter.config import AnalysisConfig, build_model
    from ganom.fitter.infer.fit import fit

    cfg = AnalysisConfig(free=["bkg_external", "bkg_po210"])
    on = build_templates("jne-1t", "cr51", "outside", 30)
    both = build_templates("jne-1t", "cr51", "outside", 30, source_off_days=90)
    m_on, m_both = build_model(on, cfg), build_model(both, cfg)
    assert m_both.channels == ["source_on", "source_off"]
    e_on = fit(m_on, m_on.asimov({"R": 1.0})).error("bkg_external")
    r_both = fit(m_both, m_both.asimov({"R": 1.0}))
    assert r_both.error("bkg_external") < 0.7 * e_on
    assert r_both.value("R") == pytest.approx(1.0, abs=1e-4)


def test_default_baseline_binning_converges():
    """The 95 % raster limit at Δm² = 1.6 eV² (JNE 500 t centre, Asimov) moves by < 3 % when the
    default 1σ_vertex baseline bins are halved, and by more with the coarse 2σ bins."""
    from ganom.fitter.config import build_configuration
    from ganom.fitter.infer.contours import ESGridProblem, raster
    from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
    from ganom.models.templates import BASELINE_BIN_SIGMA, with_coarse_baseline

    det = load_detector("jne-500t")
    grid = OscillationGrid(np.array([1.6]), np.geomspace(0.005, 0.2, 33))

    def limit(d):
        tpl, model = build_configuration(d, "cr51", "centre", 30)
        scan = ESGridProblem(OscillationModel(model, tpl), grid).scan()
        return raster(scan, {"95%": 0.95}).limit_curve("95%")[0], tpl.binning.edges("baseline").size - 1

    default, n_default = limit(det)
    fine, n_fine = limit(replace(det, analysis={"baseline_bin_sigma": BASELINE_BIN_SIGMA / 2}))
    coarse, n_coarse = limit(with_coarse_baseline(det))
    assert n_fine >= 2 * n_default - 1 and n_coarse < n_default
    assert abs(default / fine - 1) < 0.03
    assert coarse / fine - 1 > 2 * abs(default / fine - 1)


def test_sideband_bins_are_wider_and_lose_nothing():
    """[analysis] sideband_bin_mev: 20 keV bins up to T_max + max(5σ_E, 150 keV), wider ones above
    (JNE 1 t: 100 keV to 2 MeV). The sideband measures smooth continua, so Z is the same as with
    20 keV bins throughout (to 10⁻⁵)."""
    from ganom.fitter.analyses.comparison import deficit_significances

    det = load_detector("jne-1t")
    edges = default_binning(det, CR51, 0.0, 30.0).energy_edges_mev
    w = np.diff(edges)
    assert edges[-1] == pytest.approx(2.0) and w[0] == pytest.approx(0.02) and w[-1] == pytest.approx(0.1)
    assert np.all(w[:-1] <= w[1:] + 1e-12) and edges[np.argmax(w > 0.05)] == pytest.approx(0.80)
    fine = replace(det, analysis={**det.analysis, "sideband_bin_mev": 0.02})
    z = [deficit_significances(d, "cr51", "centre", [30.0])[0].z_reject_R1_if_R082 for d in (det, fine)]
    assert z[0] == pytest.approx(z[1], rel=1e-5)
