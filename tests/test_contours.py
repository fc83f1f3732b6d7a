"""Oscillation scans and contours: exact averaging, truths recovered, FC coverage, determinism."""

import json

import numpy as np
import pytest
import yaml

from ganom.exceptions import InputError
from ganom.fitter.config import build_model
from ganom.fitter.hf.data import Data
from ganom.fitter.infer.contours import (
    ESGridProblem,
    band_method,
    contour_regions,
    feldman_cousins,
    gaussian_cls,
    limits_table,
    parse_levels,
    raster,
    sensitivity_bands,
    toy_statistics,
    upper_limits,
    wilks,
    write_outputs,
)
from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
from ganom.fitter.infer.scan import fit_point, null_start, scan_grid
from ganom.models.detectors import load_detector
from ganom.models.oscillation import p_ee
from ganom.models.templates import AnalysisBinning, build_templates, with_coarse_baseline


@pytest.fixture(scope="module")
def small():
    """JNE 1 t outside, coarse binning: fast enough for toy studies."""
    binning = AnalysisBinning(np.linspace(0.2, 0.7, 11), np.linspace(0.355, 1.645, 6), np.array([0, 15.0, 30.0]))
    tpl = build_templates("jne-1t", "cr51", "outside", 30, binning=binning)
    model = build_model(tpl)
    return tpl, model, OscillationModel(model, tpl)


@pytest.fixture(scope="module")
def big():
    """JNE 500 t at the centre with the coarse baseline bins (the statistics do not depend on them)."""
    tpl = build_templates(with_coarse_baseline(load_detector("jne-500t")), "cr51", "centre", 30)
    model = build_model(tpl)
    return tpl, model, OscillationModel(model, tpl)


def test_oscillated_kernel_does_not_alias(big):
    """Exact bin averages vs brute-force sampling of P_ee at Δm² up to 100 eV²."""
    tpl, _, _ = big
    k = tpl.kernel
    lo, hi = k.true_edges_m[:-1], k.true_edges_m[1:]
    for dm2, s in [(1.0, 0.3), (30.0, 0.5), (100.0, 0.4)]:
        exact = k.survival(dm2, s)  # [line, true bin]
        x = lo[:, None] + (hi - lo)[:, None] * (np.arange(2000) + 0.5) / 2000
        brute = np.stack([p_ee(x, e, dm2, s).mean(axis=1) for e in k.line_energies_mev])
        np.testing.assert_allclose(exact, brute, atol=2e-6)
        point = np.stack([p_ee(0.5 * (lo + hi), e, dm2, s) for e in k.line_energies_mev])
        if dm2 >= 30:
            assert np.abs(point - brute).max() > 0.05  # point sampling at bin centres would alias
    osc = tpl.signal_counts(100.0, 0.4)
    unosc = tpl.signal_counts()
    ratio = sum(v.sum() for v in osc.values()) / sum(v.sum() for v in unosc.values())
    assert ratio == pytest.approx(1 - 0.5 * 0.4, abs=2e-3)  # fully averaged: 1 − ½ sin²2θ


def test_null_scan_is_non_negative_and_zero_at_no_oscillation(small):
    _, model, om = small
    g = OscillationGrid.from_spec("14x12")
    scan = scan_grid(om, model.asimov({"R": 1.0}), g)
    assert scan.converged.all()
    assert np.all(scan.delta_chi2 >= 0)
    assert scan.delta_chi2_null == 0.0 and scan.best["sin2_2theta"] == 0.0


def test_goodness_of_fit_is_zero_on_asimov_and_chi2_distributed_on_toys(small):
    """Saturated-model deviance: 0 on Asimov data; on toys (main and auxiliary data fluctuated)
    its mean is the bins' exact expected Poisson deviance + n_constraints − n_free."""
    from scipy.stats import poisson

    _, model, om = small
    g = OscillationGrid.from_spec("6x5")
    asimov = model.asimov({"R": 1.0})
    gof = scan_grid(om, asimov, g).chi2_min - 2.0 * model.constraint_saturated(asimov.aux)
    assert gof == pytest.approx(0.0, abs=1e-5)
    main, aux = model.toys({"R": 1.0}, 60, np.random.default_rng(3))
    vals = [scan_grid(om, Data(n, a), g, polish=False).chi2_min - 2.0 * model.constraint_saturated(a)
            for n, a in zip(main, aux)]
    k = np.arange(400)[:, None]
    mu = asimov.main[None, :]
    dev = 2.0 * (mu - k + np.where(k > 0, k * np.log(np.maximum(k, 1) / mu), 0.0))
    expected_bins = float(np.sum(poisson.pmf(k, mu) * dev))
    n_constraints = model._normal.size + model._poisson.size
    ndf = expected_bins + n_constraints - int((~model.parameters.fixed).sum())
    assert np.mean(vals) == pytest.approx(ndf, abs=4 * np.sqrt(2 * ndf / len(vals)))


def test_injected_oscillation_is_recovered(big):
    _, model, om = big
    g = OscillationGrid.from_spec("20x20")
    i, j = 11, 16
    data = om.asimov(model.parameters.vector({"R": 1.0}), g.dm2[i], g.sin2_2theta[j])
    scan = scan_grid(om, data, g)
    assert scan.delta_chi2[i, j] < 1e-4
    assert scan.best["dm2"] == pytest.approx(g.dm2[i], rel=0.05)
    assert scan.best["sin2_2theta"] == pytest.approx(g.sin2_2theta[j], rel=0.05)
    assert scan.delta_chi2_null > 25


def test_vectorised_scan_equals_per_point_iminuit(big):
    _, model, om = big
    g = OscillationGrid.from_spec("12x12")
    data = model.asimov({"R": 1.0})
    scan = scan_grid(om, data, g)
    for i, j in [(2, 3), (6, 9), (9, 11), (11, 5)]:
        res = fit_point(om, data, g.dm2[i], g.sin2_2theta[j])
        assert res.valid
        assert scan.chi2[i, j] - scan.chi2_min == pytest.approx(2 * (res.nll - model.constant(data)) - scan.chi2_min,
                                                                abs=1e-3)


def test_fc_statistic_matches_full_scans(small):
    """The fast FC statistic (linear search + exact refinement) equals the definition."""
    _, model, om = small
    g = OscillationGrid.from_spec("10x10")
    prob = ESGridProblem(om, g)
    for i, j in [(3, 7), (8, 2)]:
        stat = prob.toy_statistics(i, j, 5, np.random.default_rng(9))
        main, aux = prob.toys(g.dm2[i], g.sin2_2theta[j], 5, np.random.default_rng(9))
        for k in range(5):
            d = Data(main[k], aux[k])
            c = prob.chi2_grid(d)[0]
            _, f0 = null_start(om, d, False)
            assert stat[k] == pytest.approx(c[i, j] - min(c.min(), 2 * f0), abs=2e-3)


def _through_jacobian(model, th, data, nominal=None):
    """−ln L − constant and its gradient as Σ_b (∂μ_b/∂θ) w_b with the Jacobian formed: the
    reference the fast path (which never forms it) must reproduce."""
    mu, jac = model.expected_and_jacobian(th, nominal)
    val, w, _ = model.data_terms(mu, data.main, data.aux)
    c, gc = model._constraint(np.asarray(th, dtype=float), data.aux, True)
    return val + c, np.einsum("...bp,...b->...p", jac, w) + gc


def test_row_shift_is_the_oscillated_templates(big):
    """A RowShift (model's signal rows minus sin²2θ × the deficit of a Δm² row) gives the same
    μ, −ln L and gradient as per-element oscillated templates, sorted by Δm² row or not."""
    _, model, om = big
    g = OscillationGrid.from_spec("12x8")
    shift = om.shift(g.dm2)
    assert shift is not None
    rng = np.random.default_rng(3)
    from ganom.fitter.hf.model import _BLOCK_BYTES

    n = 3 * max(1, _BLOCK_BYTES // (8 * model.n_bins)) + 5  # several cache blocks of the fast path
    ix, s = rng.integers(0, 12, n), rng.uniform(0.0, 1.0, n)
    s[:4] = 0.0  # no oscillation: the model's own templates
    th = model.parameters.inits + rng.normal(0.0, 0.03, (n, model.n_params))
    ov = om.override(g.dm2[ix], s)
    main = rng.poisson(model.expected(th, ov)).astype(float)
    aux = np.broadcast_to(model.parameters.inits, (n, model.n_aux))
    v0, g0 = model.value_and_gradient(th, main, aux, ov)
    v_j, g_j = _through_jacobian(model, th, Data(main, aux), ov)  # through ∂μ/∂θ, unblocked
    np.testing.assert_allclose(v0, v_j, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(g0, g_j, rtol=1e-9, atol=1e-8)
    v_p, g_p = model.objective(th, Data(main, aux))  # the model's own templates, as the fits call it
    v_pj, g_pj = _through_jacobian(model, th, Data(main, aux))
    np.testing.assert_allclose(v_p, v_pj, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(g_p, g_pj, rtol=1e-9, atol=1e-8)
    for order in (np.arange(n), np.argsort(ix, kind="stable")):
        v1, g1 = model.value_and_gradient(th[order], main[order], aux, shift.at(ix[order], s[order]))
        np.testing.assert_allclose(v1, v0[order], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(g1, g0[order], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(model.expected(th, shift.at(ix, s)), model.expected(th, ov), rtol=1e-12)


def test_fc_statistic_is_the_same_with_and_without_row_shift(big):
    """The FC toys fitted with shared deficit tables equal those fitted with per-element
    templates (the path a response that is not linear in sin²2θ takes)."""
    _, model, om = big
    g = OscillationGrid.from_spec("10x10")
    fast = ESGridProblem(om, g, fit_tol=1e-7)  # tight: the two paths round differently
    slow = ESGridProblem(om, g, fit_tol=1e-7)
    slow._shift = None
    for i, j in [(4, 6), (7, 3)]:
        a = fast.toy_statistics(i, j, 60, np.random.default_rng(5))
        b = slow.toy_statistics(i, j, 60, np.random.default_rng(5))
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_fc_search_finds_the_two_best_of_the_whole_linearised_table(big):
    """The linearised search takes each Δm² row's convexity in sin²2θ to look at four grid
    points per row; its statistic and candidates equal the minimum and the two smallest of
    the full [toys, Δm², sin²2θ] table (rows without sensitivity at tiny Δm² included)."""
    _, _, om = big
    g = OscillationGrid(np.geomspace(1e-4, 20.0, 14), np.geomspace(1e-3, 1.0, 9))
    prob = ESGridProblem(om, g)
    for i, j in [(9, 3), (2, 7), (13, 0)]:
        s_t = g.sin2_2theta[j]
        main, aux = prob.toys(g.dm2[i], s_t, 300, np.random.default_rng(i))
        _, cand, _, _, approx = prob._linear_search(i, s_t, main, aux)
        # the table by brute force, from the search's own linearisation
        mu_t, jac = prob._truth(i, s_t)
        w = 1.0 / mu_t
        wj = jac * w[:, None]
        Minv = np.linalg.pinv(jac.T @ wj + np.diag(prob.curv))
        u = (main - mu_t) @ wj + (aux[:, prob.free] - prob.theta0[prob.free]) * prob.curv
        D = prob.deficit
        jwd = wj.T @ D.T
        G = D @ (D * w).T - jwd.T @ Minv @ jwd
        A_k = (main - mu_t) @ (D * w).T - u @ Minv @ jwd
        s = g.sin2_2theta
        table = (s**2 * np.diag(G)[:, None])[None] - 2 * s * (s_t * G[:, i][:, None] + A_k[:, :, None]) \
            + (s_t**2 * G[i, i] + 2 * s_t * A_k[:, i])[:, None, None]
        flat = np.concatenate([table.reshape(300, -1), (s_t**2 * G[i, i] + 2 * s_t * A_k[:, i])[:, None]], axis=1)
        np.testing.assert_allclose(approx, np.maximum(-flat.min(axis=1), 0.0), rtol=1e-10, atol=1e-10)
        best2 = np.argsort(flat, axis=1)[:, :2]
        best2 = np.where(best2 == flat.shape[1] - 1, -1, best2)
        np.testing.assert_array_equal(np.sort(cand, axis=1), np.sort(best2, axis=1))


def test_fc_fits_only_the_toys_that_decide_the_quantiles(big):
    """With ``lowest_level``, the order statistics from that level's quantile up are those of
    all-exact toys, while most toys below keep their linearised statistic (not fitted)."""
    _, _, om = big
    g = OscillationGrid.from_spec("20x20")
    prob = ESGridProblem(om, g)
    n = 400
    k = int(np.floor((n - 1) * 0.9))
    for i, j in [(5, 8), (14, 4), (2, 3)]:
        part = prob.toy_statistics(i, j, n, np.random.default_rng(i), lowest_level=0.9)
        full = prob.toy_statistics(i, j, n, np.random.default_rng(i))
        np.testing.assert_allclose(np.sort(part)[k:], np.sort(full)[k:], rtol=0, atol=1e-8)
        assert np.mean(np.abs(part - full) > 1e-6) > 0.3, (i, j)
    with pytest.raises(InputError, match="lowest_level = 1.0 is not allowed"):
        prob.toy_statistics(1, 1, 10, np.random.default_rng(0), lowest_level=1.0)


def test_fc_map_is_the_same_with_quantile_toys_or_all_exact(small, tmp_path):
    _, _, om = small
    g = OscillationGrid.from_spec("3x4")
    prob = ESGridProblem(om, g)
    lv = parse_levels("90,95")
    ck = tmp_path / "fc.npz"
    fast = feldman_cousins(prob, lv, 150, seed=2, checkpoint_path=ck)
    full = feldman_cousins(prob, lv, 150, seed=2, exact_toys="all")
    for name in lv:
        np.testing.assert_allclose(fast.critical[name], full.critical[name], rtol=0, atol=1e-8)
    assert fast.meta["exact_toys"] == "quantiles" and full.meta["exact_toys"] == "all"
    with pytest.raises(Exception, match="another configuration"):  # other toys: not mixed
        feldman_cousins(prob, lv, 150, seed=2, checkpoint_path=ck, exact_toys="all")
    with pytest.raises(InputError, match="exact_toys = 'some' is not allowed"):
        feldman_cousins(prob, lv, 150, exact_toys="some")


def test_row_shift_refuses_a_response_not_linear_in_sin2_2theta(big):
    tpl, model, om = big

    class Squared:
        pieces, variations = om.response.pieces, om.response.variations

        def evaluate(self, dm2, sin2_2theta, key=None):
            return om.response.evaluate(dm2, np.asarray(sin2_2theta) ** 2, key)

    assert OscillationModel(model, response=Squared()).shift(np.array([1.0, 2.0])) is None
    assert om.shift(np.array([1.0, 2.0])) is not None


def test_fc_coverage(small):
    """At 3 true points, the FC 90 % critical value covers fresh pseudo-experiments at 90 % ± binomial."""
    _, _, om = small
    g = OscillationGrid.from_spec("10x10")
    prob = ESGridProblem(om, g)
    for i, j in [(2, 8), (5, 5), (8, 3)]:
        crit = np.quantile(toy_statistics(prob, i, j, 600, np.random.default_rng(100 + i)), 0.9)
        fresh = toy_statistics(prob, i, j, 300, np.random.default_rng(200 + i))
        cov = np.mean(fresh <= crit)
        assert abs(cov - 0.9) < 3 * np.sqrt(0.9 * 0.1 / 300) + 0.025, (i, j, cov)


def test_fc_map_is_deterministic_across_workers_and_resumes(small, tmp_path):
    _, _, om = small
    g = OscillationGrid.from_spec("4x4")
    prob = ESGridProblem(om, g)
    lv = parse_levels("90")
    one = feldman_cousins(prob, lv, 30, seed=7, workers=1)
    two = feldman_cousins(prob, lv, 30, seed=7, workers=2)
    # the same toys and the same fits in every process; OpenBLAS kernels may round differently
    # for arrays at other memory alignments (pickled copies in a worker), at 1e-13 relative
    np.testing.assert_allclose(one.critical["90%"], two.critical["90%"], rtol=1e-10, atol=0)
    ck = tmp_path / "fc.npz"
    with pytest.raises(InterruptedError):
        feldman_cousins(prob, lv, 30, seed=7, checkpoint_path=ck, stop_after=5)
    assert ck.exists()
    resumed = feldman_cousins(prob, lv, 30, seed=7, checkpoint_path=ck)
    np.testing.assert_array_equal(one.critical["90%"], resumed.critical["90%"])
    with pytest.raises(Exception, match="another configuration"):
        feldman_cousins(prob, lv, 31, seed=7, checkpoint_path=ck)
    # another likelihood on the same grid (here: R profiled) must not reuse these toys
    with pytest.raises(Exception, match="another configuration"):
        feldman_cousins(ESGridProblem(om, g, r_free=True), lv, 30, seed=7, checkpoint_path=ck)


def test_fc_with_dask_local_cluster(small):
    pytest.importorskip("dask.distributed")
    _, _, om = small
    g = OscillationGrid.from_spec("3x3")
    prob = ESGridProblem(om, g)
    lv = parse_levels("90")
    local = feldman_cousins(prob, lv, 20, seed=3)
    dask = feldman_cousins(prob, lv, 20, seed=3, scheduler="local")
    np.testing.assert_array_equal(local.critical["90%"], dask.critical["90%"])


def test_methods_outputs_and_limits(small, tmp_path):
    _, model, om = small
    g = OscillationGrid.from_spec("16x16")
    prob = ESGridProblem(om, g)
    scan = prob.scan()
    lv = parse_levels("90,3sigma")
    w, r, c = wilks(scan, lv), raster(scan, lv), gaussian_cls(prob, lv)
    assert w.critical["90%"] == pytest.approx(4.605, abs=1e-3) and r.critical["90%"] == pytest.approx(2.706, abs=1e-3)
    assert c.statistic[-1, -1] < 0.01 and c.statistic[:, 0].min() > 0.5  # strong signal excluded; none at tiny mixing
    for res in (w, r, c):
        lim = res.limit_curve("90%")
        assert np.nanmin(lim) > 0 and np.all(res.region("90%")[:, -1] | np.isnan(lim))
    paths = write_outputs(w, tmp_path, "contour_wilks")
    d = json.loads(paths[0].read_text())
    assert d["method"] == "wilks" and len(d["contours"]["90%"]) >= 1
    h = yaml.safe_load(paths[1].read_text())
    assert len(h["independent_variables"][0]["values"]) == 16 * 16
    # the raster limit curve at each Δm² equals an independent 1-d scan of that row
    row = 12
    stat = scan.chi2[row] - min(scan.chi2[row].min(), scan.chi2_null)
    assert r.limit_curve("90%")[row] == pytest.approx(upper_limits(g.sin2_2theta, stat[None], r.critical["90%"])[0], rel=1e-9)
    # one call runs any set of methods, in the order asked, with the same maps
    both, band = contour_regions(prob, scan, ["raster", "wilks", "cls"], lv)
    assert [x.method for x in both] == ["raster", "wilks", "cls"] and band is None
    np.testing.assert_array_equal(both[1].statistic, w.statistic)
    np.testing.assert_array_equal(both[2].statistic, c.statistic)
    with pytest.raises(InputError, match="fk not allowed"):
        contour_regions(prob, scan, ["wilks", "fk"], lv)
    table = limits_table(both, list(lv))
    assert len(table.rows) == 3 * 2 * 3 and table.rows[0][:2] == ["raster", "90%"]
    assert band_method(["wilks"]) == "wilks" and band_method(["wilks", "raster"]) == "raster"


def test_polished_best_fit_recovers_an_off_grid_truth(big):
    """Asimov data at a point between grid nodes: the polished minimum is the truth, χ² ≈ 0."""
    _, model, om = big
    g = OscillationGrid.from_spec("30x30")
    d0, s0 = 1.234, 0.0567
    data = om.asimov(model.parameters.vector({"R": 1.0}), d0, s0)
    scan = scan_grid(om, data, g)
    at_truth = 2.0 * model.constraint_saturated(data.aux)  # deviance 0, constraints at their minimum
    assert scan.chi2.min() - at_truth > 0.1  # no grid node is the truth
    assert scan.best["chi2"] - at_truth < 1e-5
    assert scan.best["dm2"] == pytest.approx(d0, rel=2e-3) and scan.best["sin2_2theta"] == pytest.approx(s0, rel=2e-3)


def test_sensitivity_bands_median_matches_asimov(big):
    _, _, om = big
    g = OscillationGrid.from_spec("12x24")
    prob = ESGridProblem(om, g)
    b = sensitivity_bands(prob, ("90%", 0.9), n_toys=300, seed=1)
    ok = ~np.isnan(b.asimov)
    rel = np.abs(np.log(b.quantiles["median"][ok] / b.asimov[ok]))
    assert np.median(rel) < 0.1
    lo, med, hi = (np.where(np.isnan(b.quantiles[k]), np.inf, b.quantiles[k]) for k in ("-1sigma", "median", "+1sigma"))
    assert np.all(lo <= med) and np.all(med <= hi)


def test_contour_cli(tmp_path):
    from click.testing import CliRunner

    from ganom.fitter.cli import main

    out = tmp_path / "c"
    res = CliRunner().invoke(main, ["contour", "-d", "jne-1t", "--distance", "outside", "--grid", "8x8",
                                    "--method", "wilks,raster", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    for f in ("contour_wilks.json", "contour_wilks.yaml", "contour_raster.json", "contours.png", "scan.png"):
        assert (out / f).exists()
    bad = CliRunner().invoke(main, ["contour", "--method", "magic"])
    assert bad.exit_code == 2 and "magic" in bad.output
    bad = CliRunner().invoke(main, ["contour", "--grid", "10by10"])
    assert bad.exit_code == 2 and "grid" in bad.output
