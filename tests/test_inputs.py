"""Analyses from a collaboration's own inputs: configuration files, histograms, simulated
events; the closed loop against the analytic presets; bad input."""

import json
from pathlib import Path

import hist
import numpy as np
import pyhf
import pytest
from click.testing import CliRunner

from ganom.exceptions import ConfigError, ExportError
from ganom.fitter.analyses.simulate import simulate_preset
from ganom.fitter.cli import main
from ganom.fitter.config import Configuration
from ganom.fitter.infer.contours import ESGridProblem
from ganom.fitter.infer.fit import fit
from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
from ganom.fitter.infer.significance import R_DEFICIT, asimov_significance
from ganom.fitter.inputs import build_analysis
from ganom.fitter.pyhf.export import export_workspace

E_EDGES = [0.2, 0.3, 0.4, 0.5, 0.6]
L_EDGES = [0.0, 1.0, 2.0]


# ----------------------------------------------------------------------------- closed loop
@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim")
    cfg = Configuration.resolve("jne-1t", "cr51", "centre", 30)
    big = simulate_preset(cfg, 200_000, folder / "big.root", seed=1)
    small = simulate_preset(cfg, 2_000, folder / "small.root", seed=2)
    return cfg, build_analysis(big.config_file), build_analysis(small.config_file)


def _numbers(model, om=None):
    z1 = asimov_significance(model, R_DEFICIT, 1.0)
    z2 = asimov_significance(model, 1.0, R_DEFICIT)
    out = {"sigma_R": z2.sigma_r, "Z1": z1.z_asimov, "Z2": z2.z_asimov}
    if om is not None:
        g = OscillationGrid.from_spec("12x12", (0.3, 30.0))
        p = ESGridProblem(om, g)
        chi = p.scan().chi2
        s = g.sin2_2theta
        for i in (3, 6, 9):  # 90 % raster limit at three Δm²: first crossing of Δχ² = 2.71
            c = chi[i] - chi[i].min()
            k = int(np.argmax(c > 2.706))
            out[f"raster90_{g.dm2[i]:.3g}"] = float(np.interp(2.706, c[k - 1:k + 1], s[k - 1:k + 1]))
    return out


def test_closed_loop_large_sample_reproduces_the_preset(simulated):
    """200k events per signal sample, 200k MC events per background: σ_R, both Z and the raster
    limits within 3 % (MC precision of the signal normalisation ≈ 0.3 %, plus the ≈ 1 %
    widening by the profiled MC statistics)."""
    cfg, big, _ = simulated
    tpl, model = cfg.build()
    ref = _numbers(model, OscillationModel(model, tpl))
    got = _numbers(big.model, big.oscillation)
    assert big.model.parameters.names == model.parameters.names
    for k in ref:
        assert got[k] == pytest.approx(ref[k], rel=0.03), k
    assert got["sigma_R"] >= ref["sigma_R"] * 0.995  # MC statistics can only widen


def test_closed_loop_small_sample_widens(simulated):
    cfg, big, small = simulated
    _, model = cfg.build()
    s_ref = asimov_significance(model, 1.0, R_DEFICIT).sigma_r
    s_small = asimov_significance(small.model, 1.0, R_DEFICIT).sigma_r
    s_big = asimov_significance(big.model, 1.0, R_DEFICIT).sigma_r
    assert s_small > 1.2 * s_ref and s_small > 1.2 * s_big


def test_signal_normalisation_within_mc_precision(simulated):
    cfg, big, _ = simulated
    _, model = cfg.build()
    for n in ("signal_ground", "signal_excited"):
        ref = model.nominal[model.sample_index(n)].sum()
        got = big.model.nominal[big.model.sample_index(n)].sum()
        mc = np.sqrt(np.sum(big.oscillation.response.kernels[(n, "source_on")][None].sumw2)) / got
        assert abs(got / ref - 1) < 4 * mc + 1e-3, (n, got / ref - 1, mc)


# ----------------------------------------------------------------------------- in-memory inputs, pyhf
def _events(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    L = rng.uniform(0.0, 2.0, n)
    e = rng.uniform(0.2, 0.6, n)
    return {"enu_mev": np.full(n, 0.747), "l_true_m": L, "e_reco_mev": e + 0.02 * rng.standard_normal(n),
            "l_reco_m": np.clip(L + 0.1 * rng.standard_normal(n), 0.0, 1.999), "weight": np.full(n, 500.0 / n)}


def _bkg_hist():
    h = hist.Hist(hist.axis.Variable(E_EDGES), hist.axis.Variable(L_EDGES), storage=hist.storage.Weight())
    h.view().value = np.full((4, 2), 100.0)
    h.view().variance = np.full((4, 2), 25.0)
    return h


def _spec(**over):
    spec = {"version": "1.0", "name": "toy",
            "channels": [{"name": "on", "binning": {"energy_mev": E_EDGES, "baseline_m": L_EDGES},
                          "samples": [{"name": "sig", "events": {"object": "ev", "outside": "drop"}},
                                      {"name": "bkg", "histogram": {"object": "bkg"}}]}],
            "systematics": [{"name": "R", "type": "normfactor", "samples": ["sig"]},
                            {"name": "bkg_norm", "type": "normsys", "samples": ["bkg"], "uncertainty": 0.05}]}
    spec.update(over)
    return spec


def test_in_memory_hist_and_events_fit_like_pyhf():
    a = build_analysis(_spec(mc_statistics_constraint="normal"), objects={"ev": _events(), "bkg": _bkg_hist()})
    m = a.model
    assert m.n_params == 2 and m.mcstat.size == 8
    data = m.data(np.random.default_rng(5).poisson(m.expected(m.parameters.vector({"R": 0.8}))).astype(float))
    res = fit(m, data)
    ws = pyhf.Workspace(export_workspace(m, data, digits=None))
    pm = ws.model()
    best, twice = pyhf.infer.mle.fit(ws.data(pm), pm, return_fitted_val=True)
    assert float(twice) / 2 == pytest.approx(res.nll, abs=1e-6)
    assert float(best[pm.config.poi_index]) == pytest.approx(res.value("R"), abs=2e-3 * res.error("R"))
    poisson = build_analysis(_spec(), objects={"ev": _events(), "bkg": _bkg_hist()}).model
    assert poisson.mcstat.constraint == "poisson"
    with pytest.raises(ExportError, match="Poisson"):
        export_workspace(poisson)


def test_event_kernel_oscillates_per_true_baseline():
    a = build_analysis(_spec(), objects={"ev": _events(40_000), "bkg": _bkg_hist()})
    om = a.oscillation
    nom = om.nominal(np.array(1e3), np.array(1.0))[0]
    row = a.model.sample_index("sig")
    assert nom[row].sum() == pytest.approx(0.5 * a.model.nominal[row].sum(), rel=2e-3)  # fast: ⟨P⟩ = ½
    slow = om.nominal(np.array(1e-6), np.array(1.0))[0]
    assert np.allclose(slow[row], a.model.nominal[row], rtol=1e-6)


def test_npz_inputs_and_time_axis_from_decay(tmp_path):
    ev = _events()
    arrays = {f"ev/{k}": v for k, v in ev.items()}
    arrays.update({"bkg/values": np.full((4, 2, 3), 30.0), "bkg/edges/0": np.array(E_EDGES),
                   "bkg/edges/1": np.array(L_EDGES), "bkg/edges/2": np.array([0.0, 10.0, 20.0, 30.0])})
    np.savez(tmp_path / "in.npz", **arrays)
    spec = _spec(source="cr51")
    ch = spec["channels"][0]
    ch["binning"]["time_days"] = [0.0, 10.0, 20.0, 30.0]
    ch["samples"] = [{"name": "sig", "events": {"file": "in.npz", "object": "ev", "outside": "drop"}},
                     {"name": "bkg", "histogram": {"file": "in.npz", "object": "bkg"}, "mc_statistics": False}]
    a = build_analysis(spec, base_dir=tmp_path)
    sig = a.model.nominal[a.model.sample_index("sig")].reshape(4, 2, 3).sum(axis=(0, 1))
    tau = 27.7025 / np.log(2)
    expect = np.diff(-np.exp(-np.array([0.0, 10, 20, 30]) / tau))
    assert np.allclose(sig / sig.sum(), expect / expect.sum(), rtol=1e-3)
    assert a.model.mcstat.size == 8 * 3  # the signal's MC statistics only


# ----------------------------------------------------------------------------- bad input
def _write(tmp_path, spec, name="a.json"):
    p = tmp_path / name
    p.write_text(json.dumps(spec))
    return p


@pytest.mark.parametrize("mutate, words", [
    (lambda s: s.update(version="2.0"), ["version", "2.0"]),
    (lambda s: s.update(colour="red"), ["unknown key", "colour"]),
    (lambda s: s["channels"][0]["samples"][1]["histogram"].update(file="nope.root"), ["samples[1].histogram", "nope.root"]),
    (lambda s: s["channels"][0]["samples"][1]["histogram"].update(file="in.root", object="missing"), ["missing", "it has"]),
    (lambda s: s["channels"][0]["samples"][0]["events"]["columns"].update(weight="w", energy="erec") if "columns" in
     s["channels"][0]["samples"][0]["events"] else s["channels"][0]["samples"][0]["events"].update(
         columns={"energy": "erec"}), ["erec"]),
    (lambda s: s["channels"][0]["binning"].update(energy_mev=[0.2, 0.3, 0.4, 0.5, 0.7]), ["energy edges", "differ"]),
    (lambda s: s["channels"][0]["samples"][0]["events"].update(outside="error"), ["outside the binning", "drop"]),
    (lambda s: s.update(poi="mu"), ["poi", "mu"]),
    (lambda s: s["systematics"][1].update(samples=["bgk"]), ["systematics[1].samples", "bgk"]),
    (lambda s: s["channels"][0].update(binning={"energy_mev": [1, 2], "baseline_m": L_EDGES}),
     ["samples[0].events", "no event lies in the binning"]),
])
def test_bad_configurations_name_the_key(tmp_path, mutate, words):
    import uproot

    with uproot.recreate(tmp_path / "in.root") as f:
        f["ev"] = _events()
        f["bkg"] = _bkg_hist()
    spec = _spec()
    spec["channels"][0]["samples"] = [{"name": "sig", "events": {"file": "in.root", "object": "ev", "outside": "drop"}},
                                      {"name": "bkg", "histogram": {"file": "in.root", "object": "bkg"}}]
    build_analysis(_write(tmp_path, spec))  # the valid one builds
    mutate(spec)
    with pytest.raises(ConfigError) as exc:
        build_analysis(_write(tmp_path, spec))
    msg = str(exc.value)
    assert "a.json" in msg
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize("bad", [np.nan, -1.0])
def test_bad_bin_contents_name_the_bin(tmp_path, bad):
    vals = np.full((4, 2), 10.0)
    vals[2, 1] = bad
    np.savez(tmp_path / "h.npz", **{"bkg/values": vals, "bkg/edges/0": np.array(E_EDGES), "bkg/edges/1": np.array(L_EDGES)})
    spec = _spec()
    spec["channels"][0]["samples"][1]["histogram"] = {"file": "h.npz", "object": "bkg"}
    with pytest.raises(ConfigError, match=r"bin \(2, 1\)"):
        build_analysis(spec, objects={"ev": _events()}, base_dir=tmp_path)


def test_identical_variations_are_refused():
    spec = _spec()
    spec["systematics"].append({"name": "shape", "type": "histosys", "samples": ["bkg"],
                                "variations": {"bkg": {"up": {"object": "bkg"}, "down": {"object": "bkg"}}}})
    with pytest.raises(ConfigError, match="identical"):
        build_analysis(spec, objects={"ev": _events(), "bkg": _bkg_hist()})


def test_cli_build_and_bad_input_write_nothing(tmp_path):
    cfg = Configuration.resolve("jne-1t", "cr51", "centre", 10)
    res = simulate_preset(cfg, 5_000, tmp_path / "s.root", seed=3)
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["build", str(res.config_file), "--out", str(out), "--grid", "3x3", "--json"])
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)
    assert summary["oscillated_samples"] == ["signal_ground", "signal_excited"]
    for f in summary["files"]:
        assert Path(f).is_file()
    text = res.config_file.read_text().replace('object = "c14"', 'object = "c41"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    out2 = tmp_path / "out2"
    run = CliRunner().invoke(main, ["build", str(bad), "--out", str(out2)])
    assert run.exit_code == 2 and "c41" in run.output and "Traceback" not in run.output
    assert not out2.exists()
    fitted = CliRunner().invoke(main, ["fit", "--config", str(res.config_file), "--asimov", "R=0.82", "--json"])
    assert fitted.exit_code == 0, fitted.output
    rec = json.loads(fitted.stdout)
    assert rec["parameters"]["R"]["value"] == pytest.approx(0.82, abs=1e-3)
    out = CliRunner().invoke(main, ["contour", "--config", str(res.config_file), "-m", "raster", "--grid", "3x3",
                                    "--out", str(tmp_path / "c"), "--json"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "c" / "contours.png").is_file()
    refused = CliRunner().invoke(main, ["fit", "--config", str(res.config_file), "-d", "juno"])
    assert refused.exit_code == 2 and "--detector" in refused.output


def test_shipped_example_runs(tmp_path):
    """examples/own_templates: its generator command, then build, fit, study and export (CI size)."""
    import shutil

    src = Path(__file__).resolve().parents[1] / "examples" / "own_templates" / "analysis.toml"
    shutil.copy(src, tmp_path / "analysis.toml")
    gen = CliRunner().invoke(main, ["simulate", "-d", "jne-1t", "--days", "30", "--events", "50000", "--seed", "1",
                                    "--out", str(tmp_path / "inputs.root")])
    assert gen.exit_code == 0, gen.output
    a = build_analysis(tmp_path / "analysis.toml")
    from ganom.models.detectors import load_detector
    from ganom.models.sources import load_source
    from ganom.models.templates import default_binning

    preset = default_binning(load_detector("jne-1t"), load_source("cr51"), 0.0, 30)
    assert a.binnings[0].shape == tuple(preset.edges(x).size - 1 for x in ("energy", "baseline", "time"))
    res = fit(a.model, a.model.asimov({"R": 0.82}))
    assert res.valid and res.value("R") == pytest.approx(0.82, abs=1e-3)
    st = CliRunner().invoke(main, ["study", "--config", str(tmp_path / "analysis.toml"), "--quick",
                                   "--out", str(tmp_path / "st")])
    assert st.exit_code == 0, st.output
    report = (tmp_path / "st" / "report.md").read_text()
    assert "R-deficit significance" in report and "contours.png" in report
    ex = CliRunner().invoke(main, ["export", "--config", str(tmp_path / "analysis.toml"), "--out", str(tmp_path / "ex"),
                                   "--json"])
    assert ex.exit_code == 0, ex.output
    assert "Poisson" in json.loads(ex.stdout)["workspace_note"]
    pyhf.Workspace(json.loads((tmp_path / "ex" / "analysis.workspace.json").read_text())).model()


@pytest.mark.slow
def test_coverage_of_r_with_small_mc_samples(tmp_path):
    """Small MC (3000 events per sample vs ≈ 13 000 data events): over 16 independent MC sets ×
    100 data toys from the analytic truth (R = 1), R̂ ± σ_R (HESSE) covers R = 1 at least as
    often as it should (68.3 %) with the profiled MC statistics, and visibly less without.

    The JNE 1 t window is the default one (to 0.80 MeV, 720 bins): the preset's 2 MeV window
    spreads the 3000 external-γ events over 1008 bins (≈ 3 per bin, weight 5 each), where the
    normal approximation of the MC-statistics constraint no longer holds (coverage 0.24)."""
    from dataclasses import replace

    from ganom.fitter.infer.minimize import minimize_batch
    from ganom.fitter.inputs import read_config
    from ganom.models.detectors import load_detector

    cfg = Configuration.resolve(replace(load_detector("jne-1t"), analysis={}), "cr51", "centre", 30)
    _, m0 = cfg.build()
    mu_true = m0.expected(m0.parameters.inits)
    rng = np.random.default_rng(11)
    cover: dict[bool, list[float]] = {True: [], False: []}
    for k in range(16):
        sim = simulate_preset(cfg, 3000, tmp_path / f"s{k}.root", seed=100 + k)
        spec = read_config(sim.config_file)
        main = rng.poisson(np.broadcast_to(mu_true, (100, mu_true.size))).astype(float)
        for mc in (True, False):
            for s in spec["channels"][0]["samples"]:
                s["mc_statistics"] = mc
            m = build_analysis(spec, base_dir=tmp_path).model
            res = minimize_batch(m, main, np.broadcast_to(m.asimov().aux, (100, m.n_aux)), covariance=True)
            i = m.parameters.index("R")
            cover[mc].append(float(np.mean(np.abs(res.theta[:, i] - 1.0) < res.errors()[:, i])))
    with_mc, without = np.mean(cover[True]), np.mean(cover[False])
    se = np.std(cover[True]) / np.sqrt(len(cover[True]))
    assert with_mc > 0.683 - 2 * se, (with_mc, se)
    assert without < with_mc - 0.1


# ----------------------------------------------------------------------------- more structure
def test_two_channels_share_samples_and_systematics():
    """Two source positions as two channels: the same sample names, one R and one activity,
    separate event kernels; data from an event list and from a histogram."""
    ev_near, ev_far = _events(seed=1), _events(seed=2)
    ev_far["weight"] = ev_far["weight"] * 0.3
    spec = _spec(mc_statistics_constraint="normal")
    near = spec["channels"][0]
    far = json.loads(json.dumps(near))
    far["name"] = "far"
    far["samples"][0]["events"]["object"] = "ev_far"
    spec["channels"].append(far)
    spec["systematics"].append({"name": "activity", "type": "normsys", "samples": ["sig"], "uncertainty": 0.01})
    rng = np.random.default_rng(4)
    obs = {"enu_mev": np.zeros(50), "l_true_m": np.zeros(50), "e_reco_mev": rng.uniform(0.2, 0.6, 50),
           "l_reco_m": rng.uniform(0.0, 2.0, 50)}
    near["data"] = {"events": {"object": "obs"}}
    h = _bkg_hist()
    far["data"] = {"histogram": {"object": "far_data"}}
    a = build_analysis(spec, objects={"ev": ev_near, "ev_far": ev_far, "bkg": _bkg_hist(), "obs": obs, "far_data": h})
    m = a.model
    assert m.channels == ["on", "far"] and m.parameters.names[:1] == ["R"]
    assert a.oscillation.pieces == [("sig", "on"), ("sig", "far")]
    assert a.data.main[:8].sum() == 50 and a.data.main[8:].sum() == pytest.approx(800.0)
    near_sig = m.nominal[m.sample_index("sig"), m.channel_slices["on"]].sum()
    far_sig = m.nominal[m.sample_index("sig"), m.channel_slices["far"]].sum()
    assert far_sig == pytest.approx(0.3 * near_sig, rel=0.05)
    nom = a.oscillation.nominal(np.array(1e3), np.array(1.0))[0]
    assert nom[0, m.channel_slices["far"]].sum() == pytest.approx(0.5 * far_sig, rel=5e-3)
    assert fit(m, a.data).valid


def test_cos_and_time_columns_and_weight_variations():
    rng = np.random.default_rng(6)
    ev = _events(20_000)
    ev["cos_reco"] = rng.uniform(-1, 1, ev["weight"].size)
    ev["t_days"] = rng.uniform(0, 20, ev["weight"].size)
    ev["w_up"] = ev["weight"] * (1 + 0.1 * ev["e_reco_mev"])
    ev["w_dn"] = ev["weight"] * (1 - 0.1 * ev["e_reco_mev"])
    bk = hist.Hist(hist.axis.Variable(E_EDGES), hist.axis.Variable(L_EDGES), hist.axis.Variable([-1, 0, 1]),
                   hist.axis.Variable([0, 10, 20]), storage=hist.storage.Weight())
    bk.view().value = 20.0
    bk.view().variance = 4.0
    spec = _spec()
    spec["channels"][0]["binning"].update(cos=[-1, 0, 1], time_days=[0, 10, 20])
    spec["systematics"] += [{"name": "xsec", "type": "histosys", "samples": ["sig"],
                             "variations": {"sig": {"weight_up": "w_up", "weight_down": "w_dn"}}},
                            {"name": "lumi", "type": "lumi", "samples": ["sig", "bkg"], "uncertainty": 0.02},
                            {"name": "bshape", "type": "shapesys", "samples": ["bkg"], "uncertainty": 0.1},
                            {"name": "free_shape", "type": "shapefactor", "samples": ["bkg"]}]
    a = build_analysis(spec, objects={"ev": ev, "bkg": bk})
    m = a.model
    assert m.n_bins == 4 * 2 * 2 * 2
    assert {"xsec", "lumi", "bshape[0]", "free_shape[0]"} <= set(m.parameters.names)
    lo, hi = m.histosys_data("xsec", "sig", "on")
    nom = m.nominal[m.sample_index("sig")]
    assert np.all(hi > nom) and np.all(lo < nom)
    # the weight variation is recomputed under oscillation
    _, (dlo, dhi) = a.oscillation.nominal(np.array(1e3), np.array(1.0))
    h = list(m.histosys_parameters).index(m.parameters.index("xsec"))
    assert dhi[h, m.sample_index("sig")].sum() == pytest.approx(0.5 * (hi - nom).sum(), rel=1e-2)


def test_time_axis_needs_a_source_or_time_column():
    spec = _spec()
    spec["channels"][0]["binning"]["time_days"] = [0, 10, 20]
    spec["channels"][0]["samples"] = spec["channels"][0]["samples"][:1]
    with pytest.raises(ConfigError, match="source"):
        build_analysis(spec, objects={"ev": _events()})


def test_energy_only_channel_from_a_th1(tmp_path):
    """A detector without vertex reconstruction: one energy axis (a ROOT TH1), the signal still
    oscillated per true baseline."""
    import uproot

    h = hist.Hist(hist.axis.Variable(E_EDGES), storage=hist.storage.Weight())
    h.view().value = [50.0, 40.0, 30.0, 20.0]
    h.view().variance = [25.0, 16.0, 9.0, 4.0]
    with uproot.recreate(tmp_path / "in.root") as f:
        f["bkg"] = h
        f["ev"] = {k: v for k, v in _events().items() if k != "l_reco_m"}
    spec = _spec()
    del spec["channels"][0]["binning"]
    spec["channels"][0]["samples"] = [{"name": "sig", "events": {"file": "in.root", "object": "ev", "outside": "drop"}},
                                      {"name": "bkg", "histogram": {"file": "in.root", "object": "bkg"}}]
    a = build_analysis(_write(tmp_path, spec))
    assert a.binnings[0].axes == ("energy",) and a.model.n_bins == 4
    assert np.allclose(a.model.nominal[a.model.sample_index("bkg")], [50, 40, 30, 20])
    assert a.oscillation.nominal(np.array(1e3), np.array(1.0))[0][0].sum() == pytest.approx(
        0.5 * a.model.nominal[0].sum(), rel=5e-3)


def test_branching_ratio_from_events_matches_the_preset(simulated):
    """B as the POI on the branch-marked event samples (shape mode): σ_B within 10 % of the
    analytic preset's (200k events per branch; the MC statistics can only widen it)."""
    from ganom.fitter.analyses.branching import branch_sensitivity, config_branch_sensitivity

    cfg, big, _ = simulated
    ref = branch_sensitivity("jne-1t", "cr51", "centre", 30, b_alternative=0.122)
    got = config_branch_sensitivity(big.path, "shape", 0.122)
    assert got.sigma_b == pytest.approx(ref.sigma_b, rel=0.10)
    assert got.sigma_b >= 0.99 * ref.sigma_b
    assert got.z_alternative == pytest.approx(ref.z_alternative, rel=0.10)
    with pytest.raises(ConfigError, match="branch"):
        spec = json.loads(json.dumps(big.config))
        for s in spec["channels"][0]["samples"]:
            s.pop("branch", None)
        build_analysis(spec, base_dir=big.path.parent, measure_branch="shape")


def test_parquet_event_table(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table(_events()), tmp_path / "ev.parquet")
    spec = _spec()
    spec["channels"][0]["samples"][0]["events"] = {"file": "ev.parquet", "object": "", "outside": "drop"}
    a = build_analysis(spec, objects={"bkg": _bkg_hist()}, base_dir=tmp_path)
    b = build_analysis(_spec(), objects={"ev": _events(), "bkg": _bkg_hist()})
    assert np.allclose(a.model.nominal, b.model.nominal)


@pytest.mark.parametrize("name, text, words", [
    ("a.toml", "version = \"1.0\"\nchannels = [", ["a.toml", "malformed TOML"]),
    ("a.yaml", "version: '1.0'\nchannels: [\n", ["a.yaml", "malformed YAML"]),
    ("a.txt", "", ["unknown type '.txt'"]),
    ("a.yaml", "version: '1.0'\nchannels: []\n", ["channels", "should be non-empty"]),
])
def test_malformed_files(tmp_path, name, text, words):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        build_analysis(p)
    for w in words:
        assert w in str(exc.value), (w, str(exc.value))


def test_swapped_variations_are_refused():
    spec = _spec()
    spec["systematics"].append({"name": "shape", "type": "histosys", "samples": ["bkg"],
                                "variations": {"bkg": {"up": {"object": "bkg_shape_down"},
                                                       "down": {"object": "bkg_shape_up"}}}})
    up, dn = _bkg_hist(), _bkg_hist()
    up.view().value = up.view().value * 1.1
    dn.view().value = dn.view().value * 0.9
    objs = {"ev": _events(), "bkg": _bkg_hist(), "bkg_shape_up": up, "bkg_shape_down": dn}
    with pytest.raises(ConfigError, match="look swapped"):
        build_analysis(spec, objects=objs)
    v = spec["systematics"][-1]["variations"]["bkg"]
    v["up"], v["down"] = v["down"], v["up"]
    assert "shape" in build_analysis(spec, objects=objs).model.parameters
