"""MC statistical uncertainties profiled analytically (Barlow–Beeston lite) against explicit
γ's: pyhf's staterror and ganom's own per-bin staterror parameters."""

import numpy as np
import pyhf
import pytest

from ganom.fitter.hf.builder import ModelBuilder
from ganom.fitter.hf.mcstat import profiled_gamma, profiled_terms
from ganom.fitter.infer.fit import fit
from ganom.fitter.pyhf.export import export_workspace

SIG = np.array([5.0, 10.0, 20.0, 10.0, 5.0])
BKG = np.array([50.0, 60.0, 70.0, 60.0, 50.0])


def _model(mcstat: bool = True, explicit: bool = False):
    b = ModelBuilder()
    b.add_channel("sr", SIG.size)
    b.add_sample("sig", {"sr": SIG})
    b.add_sample("bkg", {"sr": BKG})
    b.add_normfactor("mu", ["sig"])
    b.add_normsys("bn", {"bkg": (0.9, 1.1)})
    errs = {"sig": 0.2 * SIG, "bkg": 0.05 * BKG}
    if explicit:
        b.add_staterror("stat", "sr", ["sig", "bkg"], errs)
    elif mcstat:
        b.add_mc_statistics("sr", errs)
    return b.build(poi="mu")


def test_profiled_terms_derivatives():
    rng = np.random.default_rng(3)
    mu = rng.uniform(0.5, 200, 50)
    n = rng.poisson(mu * rng.uniform(0.7, 1.3, 50)).astype(float)
    a = rng.normal(1.0, 0.05, 50)
    s = rng.uniform(0.01, 0.5, 50)
    v, g, c = profiled_terms(mu, n, a, s, curvature=True)
    h = 1e-5 * mu
    vp, gp, _ = profiled_terms(mu + h, n, a, s)
    vm, gm, _ = profiled_terms(mu - h, n, a, s)
    assert np.allclose((vp - vm) / (2 * h), g, rtol=1e-6, atol=1e-8)
    pos = n > 0  # at n = 0, D is concave in μ: the curvature handed to Newton is clipped at 0
    assert np.allclose(((gp - gm) / (2 * h))[pos], c[pos], rtol=1e-5, atol=1e-9)
    assert np.all(c >= 0)
    # γ̂ solves the stationarity condition μ − n/γ + (γ − a)/σ² = 0
    gam = profiled_gamma(mu, n, a, s)
    assert np.allclose(mu - n / gam + (gam - a) / s**2, 0.0, atol=1e-8 * (1 + n / gam))


def test_profiled_equals_explicit_gammas_and_pyhf():
    data_main = np.array([9.0, 80.0, 95.0, 66.0, 40.0])
    prof, expl = _model(), _model(explicit=True)
    assert prof.n_params == 2 and expl.n_params == 2 + SIG.size
    r_p = fit(prof, prof.data(data_main))
    r_e = fit(expl, expl.data(data_main))
    # the same minimum (to the fits' tolerance, ~1e-3 σ) and the same curvature (HESSE)
    assert r_p.value("mu") == pytest.approx(r_e.value("mu"), abs=2e-3 * r_e.error("mu"))
    assert r_p.error("mu") == pytest.approx(r_e.error("mu"), rel=1e-2)
    assert r_p.nll == pytest.approx(r_e.nll, abs=1e-7)
    ws = pyhf.Workspace(export_workspace(prof, prof.data(data_main), digits=None))
    pm = ws.model()
    assert [m["type"] for m in ws["channels"][0]["samples"][0]["modifiers"]].count("staterror") == 1
    best, twice_nll = pyhf.infer.mle.fit(ws.data(pm), pm, return_fitted_val=True)
    assert float(twice_nll) / 2 == pytest.approx(r_p.nll, abs=1e-6)
    assert float(best[pm.config.poi_index]) == pytest.approx(r_p.value("mu"), abs=1e-3)


def test_asimov_returns_truth_and_mc_widens():
    with_mc, without = _model(), _model(mcstat=False)
    r1 = fit(with_mc, with_mc.asimov({"mu": 1.3}))
    r0 = fit(without, without.asimov({"mu": 1.3}))
    assert r1.value("mu") == pytest.approx(1.3, abs=3e-3 * r1.error("mu"))
    assert r1.error("mu") > 1.05 * r0.error("mu")


def test_toys_fluctuate_mc_aux():
    m = _model()
    aux = m.aux_toys(m.parameters.inits, 4000, np.random.default_rng(0))
    assert aux.shape == (4000, m.n_aux)
    assert np.allclose(aux[:, 2:].std(axis=0), m.mcstat.sigma, rtol=0.05)


def test_profiled_gammas_equal_the_fitted_explicit_ones():
    data_main = np.array([9.0, 80.0, 95.0, 66.0, 40.0])
    prof, expl = _model(), _model(explicit=True)
    r_p, r_e = fit(prof, prof.data(data_main)), fit(expl, expl.data(data_main))
    gam = prof.mc_gammas(r_p.values, prof.data(data_main))
    explicit = np.array([r_e.value(f"stat[{b}]") for b in range(SIG.size)])
    assert np.allclose(gam, explicit, atol=2e-3)
    assert prof.mc_gammas(prof.parameters.inits, prof.asimov()) == pytest.approx(np.ones(SIG.size))
