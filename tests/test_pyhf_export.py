"""pyhf interchange: export validity, round trips, native ⇄ pyhf parity, import of any workspace,
patchsets, the CLI, and bad input (JSON paths, nothing written)."""

import copy
import functools
import json
import math

import numpy as np
import pyhf
import pytest
from click.testing import CliRunner

from ganom.exceptions import ExportError, WorkspaceError
from ganom.fitter.analyses.exports import export_configuration
from ganom.fitter.cli import main
from ganom.fitter.config import AnalysisConfig, build_configuration, build_model
from ganom.fitter.infer.fit import fit
from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
from ganom.fitter.infer.significance import R_DEFICIT, asimov_significance
from ganom.fitter.io import dumps, read_json, write_json, write_text_atomic
from ganom.fitter.pyhf.export import export_workspace
from ganom.fitter.pyhf.load import load_workspace
from ganom.fitter.pyhf.parity import PyhfBridge, asymptotic_cls, compare_fits, native_cls, pyhf_minuit
from ganom.fitter.pyhf.patchset import apply_patch, export_patchset, validate_patchset
from ganom.fitter.pyhf.validate import validate_workspace
from ganom.models.detectors import load_detector, preset_names
from ganom.models.templates import with_coarse_baseline


@functools.cache
def configuration(detector: str, position: str = "centre", coarse: bool = True):
    """A preset configuration; ``coarse``: the coarse baseline bins (COARSE_BASELINE), enough
    for the parity of the likelihood (the slow large-preset tests take the default bins)."""
    det = load_detector(detector)
    return build_configuration(with_coarse_baseline(det) if coarse else det, "cr51", position, 30.0)


def random_points(model, n, rng, scale=1.5):
    """Parameter vectors around the inits, α's beyond ±1 (both interpolation regimes)."""
    ps = model.parameters
    lo, hi = ps.bounds.T
    th = ps.inits + rng.normal(0.0, scale, (n, len(ps))) * np.where(ps.inits == 0, 1.0, 0.1)
    return np.clip(th, np.maximum(lo, 1e-3), hi)


# ----------------------------------------------------------------------------- export
@pytest.mark.parametrize("detector", preset_names())
def test_export_is_valid_and_pyhf_has_the_same_likelihood(detector):
    _, model = configuration(detector)
    data = model.asimov({"R": R_DEFICIT})
    ws = export_workspace(model, data, digits=None)
    w = pyhf.Workspace(ws)  # pyhf's own schema validation
    pdf = w.model()
    assert pdf.config.poi_name == "R"
    assert set(pdf.config.parameters) == set(model.parameters.names)
    assert pdf.config.channels == ["source_on"]
    assert pdf.config.suggested_bounds()[pdf.config.par_slice("escale")][0] == [-30.0, 30.0]
    br = PyhfBridge(ws, model)
    for th in random_points(model, 4, np.random.default_rng(1)):
        assert br.nll(th, data) == pytest.approx(float(model.nll(th, data)), rel=1e-11)
        np.testing.assert_allclose(np.asarray(pdf.expected_actualdata(br.pars(th))), model.expected(th), rtol=1e-11)
    # import: the same model, parameters matched by name
    m2, d2 = load_workspace(ws)
    assert sorted(m2.parameters.names) == sorted(model.parameters.names)
    np.testing.assert_allclose(d2.main, data.main, rtol=1e-15)
    perm = [model.parameters.index(n) for n in m2.parameters.names]
    for th in random_points(model, 3, np.random.default_rng(2)):
        assert float(m2.nll(th[perm], d2)) == pytest.approx(float(model.nll(th, data)), rel=1e-12)
    for p in m2.parameters:
        q = model.parameters[p.name]
        assert (p.bounds, p.init, p.constraint, p.sigma, p.fixed) == (q.bounds, q.init, q.constraint, q.sigma, q.fixed)


def test_rounded_export_round_trip_and_files(tmp_path):
    _, model = configuration("jne-1t")
    ws = export_workspace(model)
    text = dumps(ws)
    assert json.loads(text) == ws
    assert "\n" not in text[text.index('"data": [') : text.index("]", text.index('"data": ['))]
    m2, d2 = load_workspace(json.loads(text))
    th = model.parameters.vector({"R": 0.9, "escale": 0.7, "fiducial": -1.4})
    perm = [model.parameters.index(n) for n in m2.parameters.names]
    assert float(m2.nll(th[perm], d2)) == pytest.approx(float(model.nll(th, model.asimov())), rel=1e-7)
    path = write_json(ws, tmp_path / "sub" / "ws.json")
    assert read_json(path) == ws
    assert sorted(p.name for p in path.parent.iterdir()) == ["ws.json"]


def test_export_writes_toy_auxdata_and_refuses_what_pyhf_cannot_express():
    _, model = configuration("jne-1t")
    main_, aux = model.toys({"R": R_DEFICIT}, 1, np.random.default_rng(4))
    toy = model.data(main_[0], aux[0])
    ws = export_workspace(model, toy, digits=None)
    cfg = {p["name"]: p for p in ws["measurements"][0]["config"]["parameters"]}
    assert cfg["activity"]["auxdata"] == [pytest.approx(aux[0][model.parameters.index("activity")])]
    m2, d2 = load_workspace(ws)
    constrained = [p.constraint != "free" for p in model.parameters]
    back = d2.aux[[m2.parameters.index(n) for n in model.parameters.names]]
    np.testing.assert_allclose(back[constrained], toy.aux[constrained], rtol=1e-15)
    tpl, _ = configuration("jne-1t")
    free = build_model(tpl, AnalysisConfig(free=["activity"]))
    with pytest.raises(ExportError, match="'activity' .*normsys.* is free"):
        export_workspace(free)
    half = model.with_parameters(model.config().fix("R"))
    assert export_workspace(half)["measurements"][0]["config"]["parameters"][0]["fixed"] is True


# ----------------------------------------------------------------------------- parity
def _assert_parity(p, sigma_rel=0.02, hesse=True):
    assert p.poi_hat[1] == pytest.approx(p.poi_hat[0], rel=1e-3)
    if hesse:
        assert p.sigma[1] == pytest.approx(p.sigma[0], rel=sigma_rel)
    assert p.delta_twice_nll[1] == pytest.approx(p.delta_twice_nll[0], abs=1e-3)


def _fisher_sigma(model, theta):
    mu, jac = model.expected_and_jacobian(theta)
    info = jac.T @ (jac / mu[:, None]) + np.diag([1.0 / p.sigma**2 if p.constraint == "normal" else 0.0
                                                  for p in model.parameters])
    return math.sqrt(np.linalg.inv(info)[0, 0])


# pyhf's HESSE on JUNO is numerically unstable (repeated HESSE calls scatter by several %: the
# nuisance correlations reach −0.99); there the native σ is checked against the exact Fisher σ
# and pyhf's σ by the width of its profile likelihood.
UNSTABLE_PYHF_HESSE = {"juno"}


def _check(model, data, detector, theta=None):
    unstable = detector in UNSTABLE_PYHF_HESSE
    p = compare_fits(model, data, 1.0, profile=unstable)
    _assert_parity(p, hesse=not unstable)
    if unstable:
        assert p.pyhf_profile_sigma == pytest.approx(p.sigma[0], rel=0.02)
    if theta is not None:
        assert p.sigma[0] == pytest.approx(_fisher_sigma(model, theta), rel=2e-3)
    return p


def _parity_asimov(detector, position="centre", coarse=True):
    _, model = configuration(detector, position, coarse)
    theta = model.parameters.vector({"R": R_DEFICIT})
    p = _check(model, model.asimov(theta), detector, theta)
    sig = asimov_significance(model, R_DEFICIT, 1.0)  # native one-sided q (reject R = 1 if R = 0.82)
    assert sig.q_asimov == pytest.approx(p.delta_twice_nll[1], abs=1e-3)


def _parity_toy(detector, position="centre", seed=11, coarse=True):
    _, model = configuration(detector, position, coarse)
    main_, aux = model.toys({"R": R_DEFICIT}, 1, np.random.default_rng(seed))
    _check(model, model.data(main_[0], aux[0]), detector)


LARGE_PRESETS = ("jne-500t", "juno")  # 3240 and 8424 bins at full size: pyhf takes minutes per fit


@pytest.mark.parametrize("detector", [pytest.param(d, marks=pytest.mark.slow) if d in LARGE_PRESETS else d
                                      for d in preset_names()])
def test_parity_asimov_every_preset(detector):
    """Asimov parity on every preset; the large ones run with the slow tests (CI runs both)."""
    _parity_asimov(detector, coarse=detector not in LARGE_PRESETS)


@pytest.mark.parametrize("detector", ["jne-1t", "borexino"])
def test_parity_toy(detector):
    _parity_toy(detector)


@pytest.mark.slow
@pytest.mark.parametrize("detector", ["jne-500t", "juno"])
def test_parity_toy_large_presets(detector):
    """Toy parity at full size for JNE 500 t (3240 bins); JUNO's full size (8424 bins, ~7 min of
    pyhf per fit pair) is covered by its Asimov parity, its toy runs on the coarse bins."""
    _parity_toy(detector, coarse=detector == "juno")


@pytest.mark.slow
@pytest.mark.parametrize("detector", preset_names())
def test_parity_outside_position(detector):
    _parity_asimov(detector, "outside")
    _parity_toy(detector, "outside", seed=12)


def _cls_parity(detector, test):
    _, model = configuration(detector)
    data = model.asimov({"R": R_DEFICIT})
    br = PyhfBridge(export_workspace(model, data, digits=None), model)
    ps = model.parameters
    with pyhf_minuit(0.01, 2):
        cls = pyhf.infer.hypotest(test, br.data(data), br.pdf, init_pars=br.pars(ps.inits).tolist(),
                                  par_bounds=[list(b) for b in ps.bounds[br.to_pyhf]], test_stat="qtilde")
    mine, q, q_a = native_cls(model, data, test)
    assert math.log(mine) == pytest.approx(math.log(float(cls)), rel=1e-4, abs=1e-4)
    return q, q_a


@pytest.mark.slow  # CLs parity also runs by default on a patched workspace (test_pyhf_workspaces.py)
def test_cls_and_q_match_pyhf_jne1t():
    q, q_a = _cls_parity("jne-1t", 1.0)
    assert q == pytest.approx(asimov_significance(configuration("jne-1t")[1], R_DEFICIT, 1.0).q_asimov, rel=1e-5)
    # the other direction: reject R = 0.82 when R = 1 (pyhf's two-sided t̃ with R̂ > 0.82)
    _, model = configuration("jne-1t")
    p = compare_fits(model, model.asimov({"R": 1.0}), R_DEFICIT)
    assert p.delta_twice_nll[1] == pytest.approx(asimov_significance(model, 1.0, R_DEFICIT).q_asimov, abs=1e-3)


@pytest.mark.slow
def test_cls_near_the_truth_matches_pyhf():
    _cls_parity("jne-1t", 0.85)


@pytest.mark.slow
@pytest.mark.parametrize("detector", ["borexino", "jne-500t"])
def test_cls_and_q_match_pyhf_large_presets(detector):
    """CLs and q parity with pyhf's hypotest (MINUIT, strategy 2). JUNO is left out: the same
    likelihood code on 2340 bins took pyhf 21 min; its Asimov and toy parity run above."""
    _cls_parity(detector, 1.0)
    _, model = configuration(detector)
    p = compare_fits(model, model.asimov({"R": 1.0}), R_DEFICIT)
    assert p.delta_twice_nll[1] == pytest.approx(asimov_significance(model, 1.0, R_DEFICIT).q_asimov, abs=1e-3)


def test_asymptotic_cls_formulae():
    # q̃ ≤ q_A: CLs = Φ̄(√q)/Φ̄(√q − √q_A); at q = q_A (median of the alternative) CLb = ½
    assert asymptotic_cls(4.0, 4.0) == pytest.approx(2 * 0.022750131948179, rel=1e-9)
    assert asymptotic_cls(0.0, 9.0) == pytest.approx(0.5 / 0.998650101968370, rel=1e-9)
    # continuity at q = q_A between the two branches
    assert asymptotic_cls(9.0 * (1 + 1e-9), 9.0) == pytest.approx(asymptotic_cls(9.0, 9.0), rel=1e-6)


# ----------------------------------------------------------------------------- import
def _spec(channels, observations, parameters=(), poi="mu"):
    return {"channels": channels, "observations": observations, "version": "1.0.0",
            "measurements": [{"name": "meas", "config": {"poi": poi, "parameters": list(parameters)}}]}


def _rich_spec():
    """Two channels, every modifier type, zero-uncertainty bins, a sample missing in one
    channel, a normsys and a histosys sharing their α, and measurement-config overrides
    (bounds, inits, fixed, auxdata, sigmas)."""
    sr = {"name": "sr", "samples": [
        {"name": "sig", "data": [5.0, 10.0, 0.0], "modifiers": [
            {"name": "mu", "type": "normfactor", "data": None}, {"name": "lumi", "type": "lumi", "data": None},
            {"name": "stat_sr", "type": "staterror", "data": [1.0, 2.0, 0.0]},
            {"name": "js", "type": "normsys", "data": {"hi": 1.04, "lo": 0.97}}]},
        {"name": "bkg", "data": [50.0, 60.0, 0.0], "modifiers": [
            {"name": "lumi", "type": "lumi", "data": None}, {"name": "bn", "type": "normsys", "data": {"hi": 1.1, "lo": 0.85}},
            {"name": "stat_sr", "type": "staterror", "data": [3.0, 4.0, 0.0]},
            {"name": "js", "type": "histosys", "data": {"hi_data": [55.0, 62.0, 0.0], "lo_data": [47.0, 59.0, 0.0]}}]}]}
    cr = {"name": "cr", "samples": [
        {"name": "bkg", "data": [100.0, 120.0], "modifiers": [
            {"name": "bn", "type": "normsys", "data": {"hi": 1.05, "lo": 0.9}},
            {"name": "sh", "type": "shapesys", "data": [10.0, 0.0]}, {"name": "sf", "type": "shapefactor", "data": None},
            {"name": "js", "type": "histosys", "data": {"hi_data": [110.0, 125.0], "lo_data": [95.0, 118.0]}}]}]}
    return _spec([sr, cr], [{"name": "sr", "data": [57.0, 66.0, 0.0]}, {"name": "cr", "data": [104.0, 118.0]}], [
        {"name": "lumi", "auxdata": [1.0], "sigmas": [0.02], "bounds": [[0.8, 1.2]], "inits": [1.0]},
        {"name": "mu", "bounds": [[-2.0, 5.0]], "inits": [0.5]},
        {"name": "bn", "auxdata": [0.3], "bounds": [[-4.0, 4.0]]},
        {"name": "sf", "fixed": False, "bounds": [[0.1, 5.0], [0.1, 5.0]]}])


def _simple_models():
    unc = pyhf.simplemodels.uncorrelated_background([12.0, 11.0], [50.0, 52.0], [3.0, 7.0])
    cor = pyhf.simplemodels.correlated_background([12.0, 11.0], [50.0, 52.0], [45.0, 57.0], [55.0, 47.0])
    obs = [64.0, 59.0]
    return {"uncorrelated_background": _spec(unc.spec["channels"], [{"name": "singlechannel", "data": obs}]),
            "correlated_background": _spec(cor.spec["channels"], [{"name": "single_channel", "data": obs}]),
            "rich": _rich_spec()}


@pytest.mark.parametrize("name", ["uncorrelated_background", "correlated_background", "rich"])
def test_import_any_workspace_matches_pyhf(name):
    spec = _simple_models()[name]
    model, data = load_workspace(spec)
    br = PyhfBridge(spec, model)
    for th in random_points(model, 6, np.random.default_rng(3), 0.5):
        assert float(model.nll(th, data)) == pytest.approx(br.nll(th, data), rel=1e-12, abs=1e-12)
    nf = fit(model, data, tolerance=1e-4)
    assert nf.valid
    with pyhf_minuit(1e-4, 2):
        pf = br.fit(data)
    free = ~model.parameters.fixed
    np.testing.assert_allclose(pf.values, nf.values, rtol=1e-3, atol=2e-3)
    np.testing.assert_allclose(pf.errors[free], nf.errors[free], rtol=0.02)
    assert pf.twice_nll == pytest.approx(nf.twice_nll, abs=1e-4)
    # export of the imported model: pyhf sees the same likelihood again
    again = export_workspace(model, data, digits=None)
    br2 = PyhfBridge(again, model)
    th = random_points(model, 1, np.random.default_rng(5), 0.5)[0]
    assert br2.nll(th, data) == pytest.approx(br.nll(th, data), rel=1e-12)


def test_gradient_is_finite_with_a_gamma_at_zero():
    """A shapefactor γ on its lower bound 0 (an empty bin) has a finite ∂μ/∂γ: the Jacobian equals
    central differences of μ (μ is linear in each γ, so the difference is exact)."""
    spec = _rich_spec()
    spec["measurements"][0]["config"]["parameters"][-1]["bounds"] = [[0.0, 5.0], [0.0, 5.0]]
    model, _ = load_workspace(spec)
    th = model.parameters.inits.copy()
    k = model.parameters.index("sf[0]")
    th[k] = 0.0
    mu, jac = model.expected_and_jacobian(th)
    e = np.zeros_like(th)
    e[k] = 1e-3
    assert np.all(np.isfinite(jac))
    np.testing.assert_allclose(jac[:, k], (model.expected(th + e) - model.expected(th - e)) / 2e-3, rtol=1e-9, atol=1e-9)


def test_import_respects_pyhf_defaults_and_measurement_config():
    model, data = load_workspace(_rich_spec())
    ps = model.parameters
    assert ps.poi == "mu" and ps["mu"].bounds == (-2.0, 5.0) and ps["mu"].init == 0.5
    assert ps["js"].bounds == (-5.0, 5.0) and ps["bn"].bounds == (-4.0, 4.0) and ps["bn"].aux == 0.3
    assert ps["lumi"].sigma == 0.02 and ps["lumi"].bounds == (0.8, 1.2)
    assert ps["stat_sr[2]"].fixed and ps["sh[1]"].fixed and not ps["stat_sr[0]"].fixed
    assert ps["sh[0]"].constraint == "poisson" and ps["sh[0]"].sigma == pytest.approx((100.0 / 10.0) ** 2)
    assert ps["sf[0]"].bounds == (0.1, 5.0)
    assert data.aux[ps.index("bn")] == 0.3
    assert model.channels == ["sr", "cr"] and not model.sample_channels[model.sample_index("sig"), 1]


# ----------------------------------------------------------------------------- patchsets
@pytest.fixture(scope="module")
def patched():
    tpl, model = configuration("jne-1t", "outside")
    ws = export_workspace(model)
    grid = OscillationGrid.from_spec("2x3", dm2_range=(0.3, 3.0), s22t_range=(0.05, 0.5))
    osc = OscillationModel(model, tpl)
    return model, osc, ws, export_patchset(osc, ws, grid), grid


def test_patchset_is_valid_and_each_patch_is_the_oscillated_model(patched):
    model, osc, ws, ps, grid = patched
    p = pyhf.PatchSet(ps)
    p.verify(ws)
    assert p.labels == ["dm2", "sin2_2theta"] and len(p) == 6
    d, s = grid.points()
    assert [tuple(x.values) for x in p] == [tuple(float(f"{v:.7g}") for v in pair) for pair in zip(d, s)]
    k = 4
    out = apply_patch(ws, ps, [d[k], s[k]])
    assert dict(p.apply(ws, p.patches[k].name)) == out
    at = osc.at(d[k], s[k])
    reference = export_workspace(at, model.asimov())
    assert json.loads(json.dumps(out)) == reference  # the same rounded numbers as exporting the oscillated model
    m2, d2 = load_workspace(out)
    th = random_points(model, 1, np.random.default_rng(9))[0]
    perm = [model.parameters.index(n) for n in m2.parameters.names]
    np.testing.assert_allclose(m2.expected(th[perm]), osc.expected(th, d[k], s[k]), rtol=5e-6)


def test_patchset_errors_name_the_json_path(patched, tmp_path):
    model, osc, ws, ps, grid = patched
    bad = copy.deepcopy(ps)
    bad["patches"][1]["patch"][1]["path"] = "/channels/0/samples/99/data"
    with pytest.raises(WorkspaceError, match=r"patches\[1\] \('dm2_0p3_s22t_0p1581'\)\.patch\[1\]: replace "
                                             r"'/channels/0/samples/99/data' does not apply"):
        validate_patchset(bad, ws)
    wrong = copy.deepcopy(ps)
    wrong["patches"][2]["patch"][0]["value"] = "c14"
    with pytest.raises(WorkspaceError, match=r"patches\[2\].*patch\[0\]: test '/channels/0/samples/0/name'"):
        validate_patchset(wrong, ws)
    other = copy.deepcopy(ws)
    other["observations"][0]["data"][0] += 1.0
    with pytest.raises(WorkspaceError, match=r"metadata\.digests\.sha256: .* another workspace"):
        validate_patchset(ps, other)
    short = copy.deepcopy(ps)
    short["patches"][0]["patch"][4]["value"] = short["patches"][0]["patch"][4]["value"][:-1]
    with pytest.raises(WorkspaceError, match=rf"patches\[0\].*inconsistent.*channels\[0\]\.samples\[1\]\.data: {model.n_bins - 1} bins"):
        validate_patchset(short, ws)
    late = copy.deepcopy(ps)  # patches after the first with a new shape are applied, not skipped
    late["patches"][4]["patch"][4]["value"] = late["patches"][4]["patch"][4]["value"][:-1]
    with pytest.raises(WorkspaceError, match=rf"patches\[4\].*inconsistent.*{model.n_bins - 1} bins"):
        validate_patchset(late, ws)
    tested = copy.deepcopy(ps)  # a test operation's value is compared, not only its shape
    first = ws["observations"][0]["data"][0]
    tested["patches"][2]["patch"].insert(0, {"op": "test", "path": "/observations/0/data/0", "value": first})
    tested["patches"][3]["patch"].insert(0, {"op": "test", "path": "/observations/0/data/0", "value": first + 1.0})
    with pytest.raises(WorkspaceError, match=r"patches\[3\].*patch\[0\]: test '/observations/0/data/0' does not apply"):
        validate_patchset(tested, ws)
    tested["patches"][3]["patch"][0]["value"] = first
    validate_patchset(tested, ws)
    text = copy.deepcopy(ps)
    text["patches"][3]["patch"][2]["value"]["hi_data"][5] = "x"
    with pytest.raises(WorkspaceError, match=r"patches\[3\] .*\.patch\[2\]\.value: replace '/channels/0/samples/0/"
                                             r"modifiers/\d+/data' puts non-numbers"):
        validate_patchset(text, ws)
    no_schema = copy.deepcopy(ps)
    del no_schema["metadata"]["labels"]
    with pytest.raises(WorkspaceError, match=r"metadata: 'labels' is a required property"):
        validate_patchset(no_schema, ws)
    # the CLI: exit 2, the JSON path, no output file
    write_json(ws, tmp_path / "ws.json")
    write_json(bad, tmp_path / "bad.json")
    res = CliRunner().invoke(main, ["patch", str(tmp_path / "ws.json"), str(tmp_path / "bad.json"),
                                    "--name", "dm2_0p3_s22t_0p1581", "--out", str(tmp_path / "out.json")])
    assert res.exit_code == 2 and "patch[1]" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out.json").exists()
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "ws.json"), str(tmp_path / "bad.json")])
    assert res.exit_code == 2 and "/channels/0/samples/99/data" in res.output


# ----------------------------------------------------------------------------- bad input
def test_bad_workspaces_are_reported_with_their_json_path(tmp_path):
    good = _rich_spec()
    cases = [
        (lambda s: s["channels"][0]["samples"][1]["modifiers"][1]["data"].pop("hi"),
         r"channels\[0\]\.samples\[1\]\.modifiers\[1\]\.data: 'hi' is a required property"),
        (lambda s: s["channels"][1]["samples"][0]["modifiers"][0].update(type="magicsys"),
         r"channels\[1\]\.samples\[0\]\.modifiers\[0\]: modifier 'bn' has unknown type 'magicsys'"),
        (lambda s: s["channels"][0]["samples"][0].update(data=[1.0, "x", 2.0]),
         r"channels\[0\]\.samples\[0\]\.data\[1\]: 'x' is not of type 'number'"),
        (lambda s: s["observations"].pop(),
         r"observations: no observed data for channel\(s\) cr"),
        (lambda s: s["channels"][0]["samples"][1]["modifiers"][3]["data"]["lo_data"].pop(),
         r"channels\[0\]\.samples\[1\]\.modifiers\[3\]\.data\.lo_data: 2 values, channel 'sr' has 3 bins"),
        (lambda s: s["measurements"][0]["config"].update(poi="nope"),
         r"measurements\[0\]\.config\.poi: 'nope' is not a modifier"),
        (lambda s: s["measurements"][0]["config"]["parameters"][1].update(bounds=[[0.0, 1.0], [0.0, 2.0]]),
         r"measurements\[0\]\.config\.parameters\[1\]\.bounds: 2 values, 'mu' has 1"),
        (lambda s: s["channels"][1]["samples"][0]["modifiers"].append({"name": "stat_sr", "type": "staterror",
                                                                        "data": [1.0, 1.0]}),
         r"channels\[1\]\.samples\[0\]\.modifiers\[4\]: staterror 'stat_sr' spans channels sr, cr"),
        (lambda s: s["channels"][0]["samples"][1]["modifiers"][1]["data"].update(lo=-0.2),
         r"channels\[0\]\.samples\[1\]\.modifiers\[1\]: normsys 'bn' on 'bkg'/'sr': lo = -0.2"),
        (lambda s: s.update(version="2.0.0"), r"version: '1.0.0' was expected"),
    ]
    for mutate, pattern in cases:
        spec = copy.deepcopy(good)
        mutate(spec)
        with pytest.raises(WorkspaceError, match=pattern):
            load_workspace(spec)
    spec = copy.deepcopy(good)
    spec["channels"][1]["samples"][0]["modifiers"][0]["type"] = "magicsys"
    (tmp_path / "bad.json").write_text(json.dumps(spec))
    res = CliRunner().invoke(main, ["fit", "--workspace", str(tmp_path / "bad.json")])
    assert res.exit_code == 2 and "unknown type 'magicsys'" in res.output and "Traceback" not in res.output
    (tmp_path / "broken.json").write_text("{\"channels\": [")
    with pytest.raises(WorkspaceError, match="not valid JSON"):
        load_workspace(tmp_path / "broken.json")
    with pytest.raises(WorkspaceError, match="cannot be read"):
        validate_workspace(read_json(tmp_path / "missing.json", WorkspaceError))


def test_failed_writes_leave_nothing_behind(tmp_path, monkeypatch):
    import os

    target = tmp_path / "ws.json"
    write_text_atomic("old", target)

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_text_atomic("new", target)
    monkeypatch.undo()
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["ws.json"]
    with pytest.raises(ValueError):
        write_json({"x": [float("nan")]}, tmp_path / "nan.json")
    assert not (tmp_path / "nan.json").exists()
    res = CliRunner().invoke(main, ["export", "-d", "jne-1t", "-d", "no-such-detector", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "no-such-detector" in res.output
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- CLI
def test_cli_export_fit_patch(tmp_path):
    out = tmp_path / "ws"
    res = CliRunner().invoke(main, ["export", "-d", "jne-1t", "-D", "centre", "--patchset", "--grid", "2x2",
                                    "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output)["records"][0]
    assert rec["bins"] == build_configuration("jne-1t", "cr51", "centre", 30)[1].n_bins and set(rec["files"]) == {"jne-1t_centre_30d.workspace.json",
                                                        "jne-1t_centre_30d.patchset.json"}
    assert sorted(p.name for p in out.iterdir()) == ["INDEX.md", "jne-1t_centre_30d.patchset.json",
                                                     "jne-1t_centre_30d.workspace.json"]
    assert "(i_E · n_L + i_L) · n_t + i_t" in (out / "INDEX.md").read_text()
    ws_file = str(out / "jne-1t_centre_30d.workspace.json")
    res = CliRunner().invoke(main, ["fit", "--workspace", ws_file, "--asimov", "R=0.82", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["parameters"]["R"]["value"] == pytest.approx(0.82, abs=1e-4)
    res = CliRunner().invoke(main, ["fit", "--workspace", ws_file])
    assert res.exit_code == 0 and "POI R" in res.output and "valid" in res.output
    res = CliRunner().invoke(main, ["patch", ws_file, str(out / "jne-1t_centre_30d.patchset.json"),
                                    "--name", "dm2_100_s22t_1", "--out", str(tmp_path / "osc.json")])
    assert res.exit_code == 0, res.output
    model, data = load_workspace(tmp_path / "osc.json")
    assert fit(model, data).value("R") == pytest.approx(2.0, rel=0.05)  # averaged-out oscillation halves the rate
    res = CliRunner().invoke(main, ["fit", "--workspace", ws_file, "--plot", str(tmp_path / "x.png")])
    assert res.exit_code == 2 and "--plot" in res.output


def test_export_configuration_names_and_metadata():
    e = export_configuration("jne-1t", "1.5", 10.0, grid=OscillationGrid.from_spec("2x2"),
                             built=build_configuration("jne-1t", "cr51", 1.5, 10.0))
    assert e.stem == "jne-1t_D1.5m_10d" and e.files[1] == "jne-1t_D1.5m_10d.patchset.json"
    assert e.patchset["metadata"]["binning"]["source_on"]["time_edges_days"][-1] == 10.0
    assert e.workspace["measurements"][0]["name"] == "ganom_jne-1t_D1.5m_10d"


def test_two_channels_with_source_off_exposure():
    from ganom.fitter.analyses.exports import binning_record

    tpl, model = build_configuration("jne-1t", "cr51", "centre", 30.0, source_off_days=20.0)
    data = model.asimov({"R": R_DEFICIT, "bkg_kr85": 0.5})
    ws = export_workspace(model, data, digits=None)
    assert [c["name"] for c in ws["channels"]] == ["source_on", "source_off"]
    br = PyhfBridge(ws, model)
    assert br.pdf.config.channels == ["source_off", "source_on"]  # pyhf sorts; matched by name
    for th in random_points(model, 3, np.random.default_rng(8)):
        assert br.nll(th, data) == pytest.approx(float(model.nll(th, data)), rel=1e-11)
    rec = binning_record(tpl)
    n_off = len(ws["channels"][1]["samples"][0]["data"])
    assert rec["source_off"]["shape"][:2] == rec["source_on"]["shape"][:2] and n_off == np.prod(rec["source_off"]["shape"])
    assert rec["source_off"]["time_edges_days"] == [0.0, 20.0]
