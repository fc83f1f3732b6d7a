"""Fits: Asimov truth, toy pulls and HESSE coverage, batch minimiser vs MIGRAD, profiles."""

import numpy as np
import pytest

from ganom.fitter.config import AnalysisConfig, build_model
from ganom.fitter.hf.data import Data
from ganom.fitter.infer.fit import fit, profile_scan
from ganom.fitter.infer.minimize import minimize_batch
from ganom.models.templates import AnalysisBinning, build_templates


@pytest.fixture(scope="module")
def jne500():
    tpl = build_templates("jne-500t", "cr51", "centre", 30)
    return tpl, build_model(tpl)


@pytest.fixture(scope="module")
def small():
    """A coarse, fast configuration for toy studies (JNE 1 t outside, ~60 bins)."""
    binning = AnalysisBinning(np.linspace(0.2, 0.7, 11), np.linspace(0.355, 1.645, 4), np.array([0, 15.0, 30.0]))
    tpl = build_templates("jne-1t", "cr51", "outside", 30, binning=binning)
    return tpl, build_model(tpl)


def test_asimov_fit_returns_truth_with_zero_pulls(jne500):
    _, model = jne500
    truth = {"R": 0.82, "bkg_po210": 0.0, "activity": 0.0}
    res = fit(model, model.asimov(truth))
    assert res.valid
    assert res.value("R") == pytest.approx(0.82, abs=1e-4)
    assert max(abs(v) for v in res.pulls.values()) < 5e-3
    shifted = fit(model, model.asimov({"R": 0.9, "bkg_external": 0.7}))
    assert shifted.value("R") == pytest.approx(0.9, abs=1e-3)
    assert shifted.value("bkg_external") == pytest.approx(0.7, abs=1e-2)


def test_batch_minimiser_agrees_with_migrad(small):
    _, model = small
    main, aux = model.toys({"R": 0.82}, 8, np.random.default_rng(5))
    bf = minimize_batch(model, main, aux, covariance=True)
    assert bf.converged.all()
    i = model.parameters.index("R")
    for k in range(4):
        r = fit(model, Data(main[k], aux[k]))
        assert bf.theta[k, i] == pytest.approx(r.value("R"), abs=2e-4)
        assert bf.errors()[k, i] == pytest.approx(r.error("R"), rel=2e-3)
        assert bf.objective[k] <= r.nll - model.constant(Data(main[k], aux[k])) + 1e-6


def test_toy_pulls_and_hesse_coverage(small):
    """2000 seeded toys: pull of R has mean 0 ± 0.05, width 1 ± 0.05; the HESSE 68.3 % interval covers ±3 %."""
    _, model = small
    n = 2000
    main, aux = model.toys({"R": 1.0}, n, np.random.default_rng(2024))
    bf = minimize_batch(model, main, aux, model.parameters.vector({"R": 1.0}), covariance=True)
    assert bf.converged.all()
    i = model.parameters.index("R")
    pull = (bf.theta[:, i] - 1.0) / bf.errors()[:, i]
    assert abs(pull.mean()) < 0.05
    assert abs(pull.std(ddof=1) - 1.0) < 0.05
    assert abs(np.mean(np.abs(pull) < 1.0) - 0.6827) < 0.03


def test_profile_scan_matches_hesse(small):
    _, model = small
    data = model.asimov({"R": 1.0})
    best = fit(model, data)
    prof = profile_scan(model, data, "R", np.linspace(0.7, 1.3, 25), best)
    lo, hi = prof.interval(1.0)
    assert prof.delta_twice_nll.min() < 0.05
    assert 0.5 * (hi - lo) == pytest.approx(best.error("R"), rel=0.03)


def test_user_fix_free_and_reconstrain(small):
    tpl, model = small
    r_fixed = fit(model, model.asimov({"R": 0.9}), fix={"activity": 0.0, "fiducial": 0.0})
    assert r_fixed.fixed[model.parameters.index("fiducial")]
    free_model = build_model(tpl, AnalysisConfig(free=["bkg_external"], uncertainties={"fiducial": 0.05}))
    assert free_model.parameters["bkg_external"].constraint == "free"
    assert free_model.parameters["bkg_external"].bounds == (0.0, 100.0)
    wide = fit(free_model, free_model.asimov({"R": 1.0}))
    narrow = fit(model, model.asimov({"R": 1.0}))
    assert wide.error("R") > narrow.error("R")
    with pytest.raises(Exception, match="unknown parameter 'bkg_nope'"):
        build_model(tpl, AnalysisConfig(free=["bkg_nope"]))


def test_frozen_fisher_mode_reaches_the_same_minima(small):
    """hessian="frozen" (exact gradients, a fixed Fisher matrix) finds the same minima."""
    from ganom.fitter.infer.oscillation import OscillationModel

    tpl, model = small
    om = OscillationModel(model, tpl)
    main, aux = model.toys({"R": 1.0}, 64, np.random.default_rng(8))
    ov = om.override(np.full(64, 2.0), np.full(64, 0.2))
    a = minimize_batch(model, main, aux, None, None, ov, tol=1e-9)
    b = minimize_batch(model, main, aux, None, None, ov, tol=1e-9, hessian="frozen")
    h0 = np.eye(model.n_params) * 50.0  # a crude start: the frozen steps must still converge
    c = minimize_batch(model, main, aux, None, None, ov, tol=1e-9, hessian="frozen", hessian0=h0)
    assert a.converged.all() and b.converged.all() and c.converged.all()
    np.testing.assert_allclose(b.objective, a.objective, atol=1e-6)
    np.testing.assert_allclose(c.objective, a.objective, atol=1e-6)
    np.testing.assert_allclose(b.theta, a.theta, atol=2e-3)


def test_covariance_with_shared_templates_equals_per_element(small):
    """template_index (U hypotheses shared by N fits) gives the fits and HESSE covariances of
    passing every element its own templates."""
    from ganom.fitter.infer.oscillation import OscillationModel

    tpl, model = small
    om = OscillationModel(model, tpl)
    main, aux = model.toys({"R": 1.0}, 6, np.random.default_rng(3))
    dm2, s22 = np.array([2.0, 0.5]), np.array([0.2, 0.6])
    tix = np.array([0, 1, 1, 0, 1, 0])
    shared = minimize_batch(model, main, aux, None, None, om.override(dm2, s22), tol=1e-9, covariance=True,
                            template_index=tix)
    own = minimize_batch(model, main, aux, None, None, om.override(dm2[tix], s22[tix]), tol=1e-9, covariance=True)
    np.testing.assert_allclose(shared.theta, own.theta, atol=1e-6)
    np.testing.assert_allclose(shared.covariance, own.covariance, rtol=1e-4, atol=1e-9)
