"""Gallium statistics (fitter/gallium.py): profiles, R̄, 3+1 fit, grid problem, joint fit."""

import math

import numpy as np
import pytest
from scipy import optimize

from ganom.exceptions import GanomError, PhysicsInputError
from ganom.fitter.analyses import gallium as fg
from ganom.fitter.infer.oscillation import OscillationGrid


@pytest.fixture(scope="module")
def lk():
    return fg.GalliumLikelihood("all", "bahcall")


def test_wilks_levels():
    assert fg.wilks_level(1) == pytest.approx(2.2957, abs=1e-3)
    assert fg.wilks_level(2) == pytest.approx(6.1801, abs=1e-3)
    assert fg.wilks_level(3) == pytest.approx(11.829, abs=1e-3)
    assert fg.z_from_delta_chi2(4.0, 1) == 2.0
    assert fg.z_from_delta_chi2(fg.wilks_level(3), 2) == pytest.approx(3.0, abs=1e-9)


def test_asymmetric_shift_is_smooth_and_hits_the_errors():
    lo, hi = np.array(0.03), np.array(0.07)
    v, d1, d2 = fg.asymmetric_shift(np.array([-1.0, 0.0, 1.0, 2.0, -3.0]), lo, hi)
    assert v == pytest.approx([-0.03, 0.0, 0.07, 0.14, -0.09])
    x = np.linspace(-1.5, 1.5, 3001)
    v, d1, d2 = fg.asymmetric_shift(x, lo, hi)
    h = x[1] - x[0]
    assert np.gradient(v, h)[1:-1] == pytest.approx(d1[1:-1], abs=1e-5)
    assert np.gradient(d1, h)[1:-1] == pytest.approx(d2[1:-1], abs=1e-4)
    assert np.all(d1 > 0)  # monotonic even for the strongly asymmetric ³⁷Ar Bahcall errors


def test_barlow_variance_gives_asymmetric_unit_steps(lk):
    r, hi, lo = lk.ratios, lk.err_hi, lk.err_lo
    f_up, _, _ = fg._barlow(r + hi, r, hi, lo)
    f_dn, _, _ = fg._barlow(r - lo, r, hi, lo)
    assert f_up == pytest.approx(np.ones_like(r)) and f_dn == pytest.approx(np.ones_like(r))


def test_profile_matches_independent_minimiser(lk):
    data = lk.observed()
    rng = np.random.default_rng(7)
    preds = 1.0 - 0.5 * rng.random((5, len(lk.names)))
    prof = lk.profile(preds, data)
    assert prof.converged.all()
    for k in range(5):
        f = lambda nu: float(lk.chi2(preds[k], nu, data)[0])
        ref = optimize.minimize(f, np.zeros(lk.n_nuisances), method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
        assert prof.chi2[0, k] == pytest.approx(ref.fun, abs=1e-7)
    # free scale, against a 3-parameter independent minimisation
    free = lk.profile(np.ones(len(lk.names)), data, free_scale=True)

    def g3(x):
        return float(lk.chi2(np.ones(len(lk.names)), x[1:], data, scale=x[0])[0])

    ref = optimize.minimize(g3, [0.8] + [0.0] * lk.n_nuisances, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    assert free.chi2[0] == pytest.approx(ref.fun, abs=1e-7)
    assert free.scale[0] == pytest.approx(ref.x[0], abs=1e-5)


def test_combined_ratio_bahcall_literature_region():
    c = fg.combined_ratio("bahcall")
    # literature: R̄ ≈ 0.80 ± 0.05 with Bahcall's cross section (e.g. Giunti et al. 2023);
    # the deficit exceeds 4σ once BEST is included (Barinov et al. 2022, Giunti et al. 2023)
    assert 0.78 < c.r_mean < 0.82
    assert 0.02 < c.r_err_lo < 0.06 and 0.02 < c.r_err_hi < 0.06
    assert c.r_err_lo > c.r_err_hi  # σ's upper error (+3.6 %) pulls R̄ down
    assert c.significance_sigma > 4.0
    assert c.gof_p_value > 0.05  # the six ratios are mutually consistent
    d = c.to_dict()
    assert set(d) == {"model", "errors", "ratios", "R_mean", "R_err_lo", "R_err_hi", "significance_sigma"}
    assert d["ratios"]["BEST-inner"][0] == pytest.approx(0.791)


def test_combined_ratio_ordering_follows_cross_sections():
    t = {c.model: c for c in fg.combined_ratio_table()}
    # larger σ → smaller R̄; the ground state (minimum σ) gives the largest ratio
    order = sorted(t, key=lambda m: t[m].r_mean)
    assert order[0] == "haxton" and order[-1] == "ground_state"
    # No model's cross section can fall below the ground-state part fixed by the ⁷¹Ge
    # half-life, and reaching it costs prior: no deficit is weaker than the g.s.-only one.
    gs = t["ground_state"].significance_sigma
    assert gs > 5.0 and all(c.significance_sigma >= gs - 1e-6 for c in t.values())


@pytest.mark.parametrize("model", ["bahcall", "haxton", "kostensalo", "frekers"])
def test_xsec_nuisance_stops_at_the_ground_state(model):
    """At the lower bound of ξ the model's σ equals the ground-state σ (Giunti et al. 2023,
    Table 1: 5.539 / 6.625 ×10⁻⁴⁵ cm²); the fit at s = 1 never goes below it."""
    from ganom.models.gallium import XSEC_MODELS

    lk = fg.GalliumLikelihood("all", model)
    assert np.isfinite(lk.xsec_min) and lk.xsec_min < -1.0
    for iso, gs in (("51Cr", 5.539e-45), ("37Ar", 6.625e-45)):
        m = XSEC_MODELS[model]
        eps, _, _ = fg.asymmetric_shift(np.array([[lk.xsec_min]]), np.array([m.rel_err(iso)[0]]),
                                        np.array([m.rel_err(iso)[1]]))
        assert m.sigma_cm2[iso] * (1 + eps[0, 0]) >= gs * (1 - 1e-9)
    out = lk.profile(np.ones(len(lk.names)), lk.observed(), scale=1.0)
    assert out.converged.all() and out.nuisances[0, 0] >= lk.xsec_min - 1e-12
    assert fg.GalliumLikelihood("all", "ground_state").xsec_min == -np.inf


def test_combined_ratio_without_xsec_error_is_weighted_mean():
    # with a near-zero cross-section error and symmetric errors R̄ is the inverse-variance mean
    lk = fg.GalliumLikelihood(["GALLEX-1", "SAGE-Cr"], "ground_state")
    c = fg.combined_ratio(likelihood=lk)
    w = 1.0 / lk.err_hi**2
    assert c.r_mean == pytest.approx(np.sum(w * lk.ratios) / w.sum(), rel=1e-6)
    assert 0.5 * (c.r_err_lo + c.r_err_hi) == pytest.approx(math.hypot(1 / math.sqrt(w.sum()),
                                                                        0.0034 * c.r_mean), rel=0.02)


@pytest.fixture(scope="module")
def small_grid():
    return OscillationGrid.from_spec("40x40", (0.05, 100.0), (0.01, 1.0))


def test_best_alone_fit_near_published(small_grid):
    r = fg.fit_oscillation("best", grid=small_grid)
    # BEST, PRC 105 (2022) 065502: Δm² = 3.3 (+∞, −2.3) eV², sin²2θ = 0.42 (+0.15, −0.17)
    assert 0.25 < r.best_sin2_2theta < 0.57
    assert r.best_dm2 > 1.0
    assert r.chi2_min == pytest.approx(0.0, abs=1e-6)  # 2 data, 2 parameters
    assert r.null_delta_chi2 > 20.0
    assert r.delta_chi2.min() >= 0.0 and r.allowed(1).any()


def test_allowed_region_shrinks_with_smaller_errors(small_grid):
    base = fg.fit_oscillation(likelihood=fg.GalliumLikelihood("all"), grid=small_grid)
    tight = fg.fit_oscillation(likelihood=fg.GalliumLikelihood("all", error_scale={"BEST-inner": 0.5, "BEST-outer": 0.5}),
                               grid=small_grid)
    for k in (1, 2):
        assert tight.allowed(k).sum() < base.allowed(k).sum()
    lo_b, hi_b = base.sin2_2theta_interval(2)
    lo_t, hi_t = tight.sin2_2theta_interval(2)
    assert hi_t - lo_t < hi_b - lo_b


def test_grid_problem_protocol(lk, small_grid):
    gp = fg.GalliumGridProblem(lk, small_grid)
    obs = gp.observed()
    c = gp.chi2_grid(obs)
    assert c.shape == (1,) + small_grid.shape
    fit = fg.fit_oscillation(likelihood=lk, grid=small_grid)
    assert c[0] == pytest.approx(fit.chi2)
    t1 = gp.toys(1.3, 0.35, 50, np.random.default_rng(5))
    t2 = gp.toys(1.3, 0.35, 50, np.random.default_rng(5))
    assert t1.ratios.shape == (50, 6) and t1.aux.shape == (50, lk.n_nuisances)
    assert np.array_equal(t1.ratios, t2.ratios)
    ct = gp.chi2_grid(t1)
    assert ct.shape == (50,) + small_grid.shape and np.all(np.isfinite(ct))


def test_toys_follow_the_two_piece_normal(lk):
    rng = np.random.default_rng(11)
    pred = np.full(len(lk.names), 0.8)
    nu = np.zeros(lk.n_nuisances)
    t = lk.toys(pred, nu, 200_000, rng)
    mu = lk.expected(pred, nu)
    mean_expect = mu + math.sqrt(2 / math.pi) * (lk.err_lo - lk.err_hi)
    n = t.ratios.shape[0]  # 4 standard errors of each mean (σ of a two-piece normal ≤ hypot(lo, hi))
    tol = 4 * np.hypot(lk.err_lo, lk.err_hi) / math.sqrt(n)
    assert np.all(np.abs(t.ratios.mean(axis=0) - mean_expect) < tol), (t.ratios.mean(axis=0) - mean_expect, tol)
    below = (t.ratios < mu).mean(axis=0)
    assert below == pytest.approx(lk.err_hi / (lk.err_hi + lk.err_lo), abs=5e-3)
    assert t.aux.std(axis=0) == pytest.approx(np.ones(lk.n_nuisances), abs=1e-2)


def test_bad_inputs(lk):
    with pytest.raises(PhysicsInputError, match="error_scale"):
        fg.GalliumLikelihood("all", error_scale={"BEST-inner": -1.0})
    with pytest.raises(PhysicsInputError, match="error_scale"):
        fg.GalliumLikelihood("best", error_scale={"SAGE-Cr": 0.5})
    with pytest.raises(PhysicsInputError, match="correlated_syst"):
        fg.GalliumLikelihood("best", correlated_syst={"best_syst": (["BEST-inner"], 1.5)})
    with pytest.raises(GanomError, match="experiments"):
        lk.profile(np.ones(3), lk.observed())
    with pytest.raises(GanomError, match="ratio rows"):
        fg.GalliumData(np.ones((2, 6)), np.zeros((3, 2)))
    with pytest.raises(GanomError, match="finite"):
        fg.GalliumData(np.full((1, 6), np.nan), np.zeros((1, 2)))
    with pytest.raises(PhysicsInputError, match="toys"):
        lk.toys(np.ones(6), np.zeros(2), 0, np.random.default_rng(0))


def test_correlated_systematics_keep_total_variance():
    a = fg.GalliumLikelihood("best")
    b = fg.GalliumLikelihood("best", correlated_syst={"best_syst": (["BEST-inner", "BEST-outer"], 1.0)})
    assert "best_syst" in b.nuisance_names
    # the correlated share leaves the per-zone variance unchanged
    i = b.corr_names.index("best_syst")
    rel = b.C[i] * b.ratios
    assert np.hypot(b.err_hi, rel) == pytest.approx(a.err_hi, rel=1e-12)


# ----------------------------------------------------------------------------- joint fit
@pytest.fixture(scope="module")
def joint():
    from ganom.fitter.config import build_configuration

    tpl, model = build_configuration("jne-1t", "cr51", "centre", 30.0)
    return fg.JointLikelihood(model, tpl, fg.GalliumLikelihood("all"))


@pytest.mark.parametrize("r_source, r_ga", [(0.9, 0.85), (1.0, 0.8), (0.8, 1.0)])
def test_joint_fit_recovers_truth_on_asimov(joint, r_source, r_ga):
    lk = joint.gallium
    es = joint.es_asimov(r_source)
    ga_mu = lk.expected(np.ones(len(lk.names)), np.zeros(lk.n_nuisances), r_source * r_ga)
    ga = fg.GalliumData(ga_mu[None, :], np.zeros((1, lk.n_nuisances)))
    f = joint.fit("free", es, ga)
    assert f.r_source == pytest.approx(r_source, abs=1e-4)
    assert f.r_ga == pytest.approx(r_ga, abs=1e-4)
    assert f.chi2 == pytest.approx(0.0, abs=1e-6)
    if r_ga == 1.0:
        s = joint.fit("source", es, ga)
        assert s.r_source == pytest.approx(r_source, abs=1e-4) and s.chi2 == pytest.approx(0.0, abs=1e-6)
    if r_source == 1.0:
        d = joint.fit("detection", es, ga)
        assert d.r_ga == pytest.approx(r_ga, abs=1e-4) and d.chi2 == pytest.approx(0.0, abs=1e-6)


def test_joint_hypotheses_penalise_the_wrong_explanation(joint):
    lk = joint.gallium
    es_low = joint.es_asimov(0.8)
    ga = fg.GalliumData(lk.expected(np.ones(6), np.zeros(lk.n_nuisances), 0.8)[None, :], np.zeros((1, lk.n_nuisances)))
    src, det = joint.fit("source", es_low, ga), joint.fit("detection", es_low, ga)
    assert det.chi2 - src.chi2 > 4.0  # a low ES rate rejects the detection explanation
    with pytest.raises(PhysicsInputError, match="hypothesis"):
        joint.fit("magic", es_low, ga)


@pytest.mark.slow
def test_discriminate_record():
    rec = fg.discriminate("jne-500t", 10.0)
    z_det, z_src = rec.z_source_vs_detection
    assert z_det > 5.0 and z_src > 3.0
    assert rec.delta_chi2["sterile"]["sterile"] == pytest.approx(0.0, abs=1e-6)
    assert set(rec.to_dict()) >= {"detector", "days", "delta_chi2", "z", "truths"}


def test_best_fit_robust_against_the_source_cavity():
    # The inner zone's flux-weighted volume depends on the (unknown) source-holder cavity
    # (ganom.models.gallium.best_geometry); the BEST-only 3+1 fit must not.
    from dataclasses import replace

    from ganom.models import gallium as g

    grid = OscillationGrid.from_spec("40x40", (0.05, 100.0), (0.01, 1.0))
    inner, outer = g.select_experiments("best")
    wide_in, wide_out = g.best_geometry(tube_radius_m=0.12)
    assert wide_in.segments().flux_weighted_volume_m < 0.53 < inner.segments().flux_weighted_volume_m
    alt = fg.fit_oscillation(likelihood=fg.GalliumLikelihood([replace(inner, zones=(wide_in,)),
                                                             replace(outer, zones=(wide_out,))]), grid=grid)
    nom = fg.fit_oscillation("best", grid=grid)
    assert alt.best_sin2_2theta == pytest.approx(nom.best_sin2_2theta, abs=0.01)
    assert alt.best_dm2 == pytest.approx(nom.best_dm2, rel=0.05)
    assert abs(int(alt.allowed(1).sum()) - int(nom.allowed(1).sum())) <= 0.02 * nom.allowed(1).sum()


def test_xsec_bound_inside_the_interpolated_region():
    """A model whose excited part is smaller than its lower error: the bound lies in (−1, 0),
    where the shift is the code-4p polynomial; σ there equals the ground state."""
    from dataclasses import replace

    from ganom.models.gallium import XSEC_MODELS

    m = replace(XSEC_MODELS["kostensalo"], name="tiny",
                sigma_cm2={"51Cr": 5.60e-45, "37Ar": 6.70e-45}, err_lo_cm2={"51Cr": 0.10e-45, "37Ar": 0.10e-45},
                err_hi_cm2={"51Cr": 0.10e-45, "37Ar": 0.10e-45})
    xi = fg.min_xsec_pull(m, ["51Cr"])
    assert -1.0 < xi < 0.0
    eps, _, _ = fg.asymmetric_shift(np.array([[xi]]), np.array([0.10 / 5.60]), np.array([0.10 / 5.60]))
    assert 5.60e-45 * (1 + eps[0, 0]) == pytest.approx(5.539e-45, rel=1e-9)


def test_bundled_fits_are_computed_once_and_read_only():
    a = fg.fit_oscillation("best", grid="20x20")
    assert fg.fit_oscillation("BEST", "Bahcall", (20, 20)) is a
    with pytest.raises(ValueError):
        a.chi2[0, 0] = 0.0
    lk = fg.GalliumLikelihood("best")
    assert fg.fit_oscillation(likelihood=lk, grid="20x20") is not a  # user likelihoods are not cached
