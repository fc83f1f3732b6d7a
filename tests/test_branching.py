"""The ⁵¹Cr branching ratio: kinematics, directional separation, Asimov truth, 1/√N scaling."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ganom.exceptions import PhysicsInputError
from ganom.fitter.analyses.branching import b_explaining_deficit, branch_sensitivity, resolution_for_gain
from ganom.fitter.config import AnalysisConfig, BranchFactor, build_model
from ganom.fitter.infer.fit import fit
from ganom.models.direction import angular_response
from ganom.models.sources import CR51
from ganom.models.templates import AnalysisBinning, build_templates
from ganom.models.xsec import cos_theta_recoil, neutrino_energy, recoil_energy_at_angle, t_max


@settings(max_examples=200, deadline=None)
@given(e=st.floats(0.1, 5.0), frac=st.floats(1e-3, 0.999))
def test_kinematics_round_trip(e, frac):
    t = frac * float(t_max(e))
    c = cos_theta_recoil(t, e)
    assert 0 < c <= 1
    assert float(neutrino_energy(t, c)) == pytest.approx(e, rel=1e-9)
    assert float(recoil_energy_at_angle(e, c)) == pytest.approx(t, rel=1e-9)


def test_angular_response_limits():
    edges = np.linspace(-1, 1, 21)
    r = angular_response([0.3, 0.95], edges, 0.0)
    assert r[0, np.searchsorted(edges, 0.3) - 1] == 1.0 and r.sum() == 2.0
    # true direction on the axis: cos θ_reco follows κ e^{κc} / (2 sinh κ) exactly
    for sig in (10.0, 45.0, 120.0):
        k = 1 / np.radians(sig) ** 2
        exact = (np.exp(k * (edges[1:] - 1)) - np.exp(k * (edges[:-1] - 1))) / (1 - np.exp(-2 * k))
        np.testing.assert_allclose(angular_response([1.0], edges, sig)[0], exact, atol=2e-4)
    np.testing.assert_allclose(angular_response(np.linspace(-1, 1, 7), edges, 20.0).sum(axis=1), 1.0, atol=1e-9)


def test_perfect_direction_separates_the_lines_in_neutrino_energy():
    """With perfect angular and energy resolution the 430 and 750 keV populations live in
    disjoint (T, cos θ) bins, and E_ν reconstructed per bin splits them completely."""
    from dataclasses import replace

    from ganom.models.detectors import load_detector

    det = replace(load_detector("jne-500t"), energy_stochastic=0.0, vertex_sigma_1mev_m=0.0, angular_resolution_deg=0.0)
    binning = AnalysisBinning(np.linspace(0.2, 0.6, 81), np.array([0.0, 5.18]), np.array([0.0, 30.0]),
                              np.linspace(0.5, 1.0, 251))
    tpl = build_templates(det, "cr51", 0.0, 30, binning=binning, backgrounds=False)
    g = tpl.samples["signal_ground"].sum(axis=(1, 3))
    x = tpl.samples["signal_excited"].sum(axis=(1, 3))
    assert x.sum() > 0 and g.sum() > 0
    assert np.minimum(g / g.sum(), x / x.sum()).sum() < 1e-9  # no shared bin
    tc = 0.5 * (binning.energy_edges_mev[:-1] + binning.energy_edges_mev[1:])
    cc = 0.5 * (binning.cos_edges[:-1] + binning.cos_edges[1:])
    e_nu = neutrino_energy(tc[:, None], cc[None, :])
    assert np.nansum(np.where(e_nu > 0.59, x, 0)) == 0 and np.nansum(np.where(e_nu < 0.59, g, 0)) == 0


def test_branch_factor_matches_source_physics():
    for method in ("calorimetry", "gamma", "fixed"):
        from dataclasses import replace

        src = replace(CR51, activity_method=method)
        for b in (0.08, 0.0988, 0.13):
            for br in ("ground", "excited"):
                f = BranchFactor(src.gamma_branch, br, method, src.gamma_energy_mev, src.atomic_heat_mev)
                v, d = f(np.array(b))
                assert float(v) == pytest.approx(src.branch_rate_scale(b)[br], rel=1e-12)
                h = 1e-6
                num = (f(np.array(b + h))[0] - f(np.array(b - h))[0]) / (2 * h)
                assert float(d) == pytest.approx(float(num), rel=1e-6)


@pytest.mark.parametrize("mode", ["shape", "rate"])
@pytest.mark.parametrize("b_true", [0.0988, 0.12])
def test_asimov_fit_returns_true_b(mode, b_true):
    tpl = build_templates("jne-1t", "cr51", "centre", 30)
    model = build_model(tpl, AnalysisConfig(measure_branch=mode))
    assert model.poi == "B"
    res = fit(model, model.asimov({"B": b_true}))
    assert res.valid and res.value("B") == pytest.approx(b_true, abs=0.005 * res.error("B"))


def test_sigma_b_scales_as_one_over_sqrt_n():
    """×4 signal and ×4 background (activity and background rates): σ_B halves, up to the
    constrained shape systematics (energy scale), whose priors do not shrink with N: the
    ratio is below 2 and close to it. The shield is thick enough that no photons leak through
    (their rate grows with the activity and the background scale, ×16)."""
    src = CR51.with_shield_thickness(0.30)
    a = branch_sensitivity("jne-1t", src, "centre", 30)
    b = branch_sensitivity("jne-1t", src.with_activity(4 * src.activity_bq), "centre", 30, background_scale=4.0)
    assert b.signal_events == pytest.approx(4 * a.signal_events, rel=1e-9)
    assert 1.95 < a.sigma_b / b.sigma_b <= 2.0 + 1e-6
    assert b.events_for(b.sigma_b / 2) == pytest.approx(4 * b.signal_events, rel=1e-12)


def test_longer_runs_never_lose_information():
    """Extra days add bins, so σ_B cannot grow with exposure; the default time bins (≤ 10 d)
    keep the decay curve that separates the source from flat backgrounds."""
    s = [branch_sensitivity("jne-1t", CR51, "centre", d).sigma_b for d in (30, 100, 300)]
    assert s[0] > s[1] >= s[2] * (1 - 1e-3)


def test_direction_helps_and_crossover():
    brute = branch_sensitivity("jne-1t", distance_m="centre")
    res = [branch_sensitivity("jne-1t", distance_m="centre", angular_resolution_deg=r) for r in (40.0, 10.0, 0.0)]
    s = [r.sigma_b for r in res]
    assert s[0] <= brute.sigma_b * 1.001 and s[0] > s[1] > s[2]
    r2 = resolution_for_gain(res, brute.sigma_b, 1.5)
    assert r2 is None or 0 <= r2 <= 40
    assert r2 is not None and 10 < r2 < 40  # σ_B(40°) > σ_energy/1.5 > σ_B(10°): the crossover lies between


def test_resolution_for_gain_edges():
    """Crossover interpolated in log σ; none reached → None; all reached → the coarsest scanned."""
    from types import SimpleNamespace as R

    pts = [R(angular_resolution_deg=a, sigma_b=s) for a, s in ((0.0, 1.0), (10.0, 2.0), (40.0, 4.0))]
    assert resolution_for_gain(pts, 6.0, 2.0) == pytest.approx(10.0 + 30.0 * np.log(1.5) / np.log(2.0))
    assert resolution_for_gain(pts, 1.0, 2.0) is None
    assert resolution_for_gain(pts, 10.0, 2.0) == 40.0


def test_b_explaining_the_deficit():
    b = b_explaining_deficit(0.82)
    assert 0.115 < b < 0.13
    assert b_explaining_deficit(0.9) < b  # a smaller deficit needs a smaller shift of B
    with pytest.raises(Exception):
        b_explaining_deficit(0.82, "ar37")


def test_direction_improves_r_precision():
    """Forward-peaked signal vs isotropic backgrounds: a directional fit measures R better
    (statistics only, so the 1 % systematics do not hide the gain)."""
    cfg = AnalysisConfig(drop=["activity", "br_gamma", "fiducial", "escale"])
    plain = build_model(build_templates("jne-1t", "cr51", "outside", 30), cfg)
    direc = build_model(build_templates("jne-1t", "cr51", "outside", 30, angular_resolution_deg=20.0), cfg)
    e_plain = fit(plain, plain.asimov({"R": 1.0})).error("R")
    e_dir = fit(direc, direc.asimov({"R": 1.0})).error("R")
    assert e_dir < 0.9 * e_plain


def test_br_cli(tmp_path):
    from click.testing import CliRunner

    from ganom.fitter.cli import main

    res = CliRunner().invoke(main, ["br", "-d", "jne-1t", "--days", "30", "--exposures", "10,30", "--resolutions", "20,0",
                                    "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "sigma_b_vs_exposure.png").exists() and (tmp_path / "sigma_b_vs_resolution.png").exists()
    bad = CliRunner().invoke(main, ["br", "--angular-resolution", "500"])
    assert bad.exit_code == 2 and "angular" in bad.output


def test_cherenkov_threshold_and_yield():
    """T_C from β = 1/n; the closed-form yield equals the integral of 1 − 1/(n²β²)."""
    from scipy.integrate import quad

    from ganom.models.constants import M_ELECTRON_MEV
    from ganom.models.direction import cherenkov_threshold_mev, cherenkov_yield

    n = 1.49
    t_c = cherenkov_threshold_mev(n)
    gamma = 1 + t_c / M_ELECTRON_MEV
    assert math.sqrt(1 - 1 / gamma**2) == pytest.approx(1 / n, rel=1e-12)

    def integrand(t):
        g = 1 + t / M_ELECTRON_MEV
        return 1 - g * g / (n * n * (g * g - 1))

    for t in (0.3, 0.556, 2.0):
        assert float(cherenkov_yield(t, n)) == pytest.approx(quad(integrand, t_c, t)[0], rel=1e-9)
    assert float(cherenkov_yield(0.1, n)) == 0.0


def test_angular_sigma_scales_with_the_yield_and_no_direction_below_threshold():
    from ganom.models.direction import angular_response, angular_sigma_deg, cherenkov_yield

    t = np.array([0.15, 0.5, 1.0, 2.0])
    s = angular_sigma_deg(t, 46.0, 1.49, 2.0)
    assert np.isinf(s[0]) and s[3] == pytest.approx(46.0)
    assert s[2] == pytest.approx(46.0 * math.sqrt(cherenkov_yield(2.0, 1.49) / cherenkov_yield(1.0, 1.49)), rel=1e-12)
    assert np.all(angular_sigma_deg(t, 20.0) == 20.0)  # no refractive index: the constant model
    assert np.isinf(angular_sigma_deg(0.15, 20.0, 1.49)) and angular_sigma_deg(0.3, 20.0, 1.49) == 20.0
    edges = np.linspace(-1, 1, 11)
    resp = angular_response([0.9, 0.9], edges, [np.inf, 10.0])
    assert np.allclose(resp[0], 0.1)  # no direction: uniform in cos θ
    assert resp[1, -1] > 0.7 and resp[1].sum() == pytest.approx(1.0, abs=1e-6)  # θ₀ = 26°: mostly in [0, 37°]


def test_quoted_cherenkov_direction_adds_little_at_cr51_energies():
    """JNE's quoted 46° at 2 MeV is > 127° over the ⁵¹Cr recoils: σ_B stays within 2 % of the
    spectrum-only value, while the optimistic 20° at every energy gains ×1.6."""
    e = branch_sensitivity("jne-1t", CR51, "centre", 30)
    c = branch_sensitivity("jne-1t", CR51, "centre", 30, angular_model="cherenkov")
    k = branch_sensitivity("jne-1t", CR51, "centre", 30, 20.0)
    assert c.angular_resolution_deg == 46.0 and "46° at 2 MeV" in c.meta["angular_model"]
    assert c.sigma_b == pytest.approx(e.sigma_b, rel=0.02)
    assert e.sigma_b / k.sigma_b > 1.4
    with pytest.raises(PhysicsInputError, match="cherenkov_resolution_deg"):
        branch_sensitivity("juno", CR51, "centre", 30, angular_model="cherenkov")
