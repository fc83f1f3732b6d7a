"""The command line: output formats, stable JSON keys, and exit code 2 for bad input."""

import json

import pytest
from click.testing import CliRunner

from ganom.fitter.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_rates_all_json():
    res = run("rates", "--all", "--json")
    assert res.exit_code == 0, res.output
    recs = json.loads(res.output)["records"]
    assert len(recs) >= 8
    for r in recs:
        assert set(r) == {"detector", "source", "activity_bq", "distance_m", "threshold_mev", "events_per_day",
                          "events_in_run", "line_shares"}
    pairs = {(r["detector"], r["distance_m"]) for r in recs}
    assert ("juno", 0.0) in pairs and ("juno", 19.0) in pairs and ("jne-1t", 1.0) in pairs


def test_rates_table_and_options():
    res = run("rates", "-d", "juno", "--distance", "19", "--activity", "1MCi", "--days", "10,30,100")
    assert res.exit_code == 0, res.output
    assert "juno" in res.output and "events in 100 d" in res.output
    res = run("rates", "-d", "juno", "--distance", "centre", "--json", "--activity", "3MCi")
    rec = json.loads(res.output)["records"][0]
    assert rec["activity_bq"] == pytest.approx(1.11e17) and rec["distance_m"] == 0.0


def test_detectors_command():
    res = run("detectors")
    assert res.exit_code == 0 and "JUNO" in res.output
    assert {r["detector"] for r in json.loads(run("detectors", "--json").output)["records"]} >= {"juno", "jne-500t", "jne-1t", "borexino"}


@pytest.mark.parametrize("args, needle", [
    (["rates", "--activity", "-3MCi"], "activity"),
    (["rates", "--activity", "0"], "activity"),
    (["rates", "--threshold", "0.6"], "threshold"),
    (["rates", "--distance", "-2"], "distance"),
    (["rates", "-d", "kamland"], "unknown detector"),
    (["rates", "--days", "10,x"], "--days"),
    (["rates", "--days", "-5"], "--days"),
    (["rates", "--source", "co60"], "unknown source"),
])
def test_bad_input_exit_code_2(args, needle):
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output


def test_bad_toml_exit_code_2(tmp_path):
    p = tmp_path / "d.toml"
    p.write_text("[detector]\nname='x'\n[target]\nradius_m = 1.0\nfiducial_radius_m = 2.0\n")
    res = run("rates", "-d", str(p))
    assert res.exit_code == 2
    assert "d.toml" in res.output and "response" in res.output and "missing" in res.output


def test_fit_command_asimov_and_plot(tmp_path):
    out = tmp_path / "fit.png"
    res = run("fit", "-d", "jne-1t", "--distance", "outside", "--days", "10", "--asimov", "R=0.82", "--plot", str(out))
    assert res.exit_code == 0, res.output
    assert "R " in res.output and "0.82" in res.output and out.exists()
    res = run("fit", "-d", "jne-1t", "--days", "10", "--asimov", "R=0.9", "--json")
    rec = json.loads(res.output)
    assert rec["valid"] and abs(rec["parameters"]["R"]["value"] - 0.9) < 1e-3
    prov = rec["provenance"]  # the stdout JSON carries what the result files carry
    assert prov["command"] == "ganom fit -d jne-1t --days 10 --asimov R=0.9 --json"
    assert prov["configuration"]["detector"]["name"] == "jne-1t" and len(prov["configuration"]["detector"]["sha256"]) == 64
    assert prov["configuration"]["days"] == 10.0


def test_fit_command_with_data_file(tmp_path):
    import numpy as np

    from ganom.fitter.config import build_configuration

    _, model = build_configuration("jne-1t", "cr51", "centre", 10.0)
    counts = np.random.default_rng(1).poisson(model.expected(model.parameters.inits))
    p = tmp_path / "counts.npy"
    np.save(p, counts)
    res = run("fit", "-d", "jne-1t", "--days", "10", "--data", str(p))
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([1.0, float("nan")] + [1.0] * (model.n_bins - 2)).replace("NaN", "NaN"))
    res = run("fit", "-d", "jne-1t", "--days", "10", "--data", str(bad))
    assert res.exit_code == 2 and "finite" in res.output
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    res = run("fit", "-d", "jne-1t", "--days", "10", "--data", str(empty))
    assert res.exit_code == 2 and "empty" in res.output
    neg = tmp_path / "neg.npy"
    np.save(neg, -np.ones(model.n_bins))
    res = run("fit", "-d", "jne-1t", "--days", "10", "--data", str(neg))
    assert res.exit_code == 2 and "≥ 0" in res.output


@pytest.mark.parametrize("args, needle", [
    (["fit", "-d", "jne-1t", "--asimov", "mu=1"], "unknown parameter"),
    (["fit", "-d", "jne-1t", "--asimov", "R"], "name=value"),
    (["fit", "-d", "jne-1t", "--fix", "bogus=1"], "unknown parameter"),
    (["significance", "-d", "jne-1t", "--toys", "-1"], "--toys"),
    (["fit", "-d", "jne-1t", "--asimov", "R=-1"], "0 ≤ R ≤ 10"),
    (["fit", "-d", "jne-1t", "--fix", "R=nan"], "--fix: R = nan"),
    (["fit", "-d", "jne-1t", "--days", "10,30"], "takes one"),
    (["fit", "-d", "jne-1t", "--plot", "fit.xyz"], "allowed suffixes"),
    (["significance", "-d", "jne-1t", "--vary", "activity", "--values", "1MCi", "--background-scale", "5"],
     "--background-scale cannot be combined"),
    (["significance", "-d", "jne-1t", "--vary", "days", "--values", "10,abc"], "'abc' is not a number"),
    (["significance", "-d", "jne-1t", "--seed", "-1"], "--seed"),
    (["contour", "-d", "jne-1t", "--fc-stride", "0"], "--fc-stride"),
    (["br", "-d", "jne-1t", "--exposures", "0"], "--exposures: 0"),
    (["br", "-d", "jne-1t", "--resolutions", "200"], "0–180 degrees"),
    (["br", "-d", "jne-1t", "--deficit", "1"], "deficit = 1"),
    (["compare", "--plot", "c.xyz"], "allowed suffixes"),
    (["contour", "-d", "jne-1t", "--grid", "1x30"], "--grid: grid '1x30': need at least 2×2"),
    (["contour", "-d", "jne-1t", "--grid", "thirty"], "expected 'NxM'"),
    (["contour", "-d", "jne-1t", "--dm2-range", "10,1"], "--dm2-range: '10,1' is not allowed"),
    (["contour", "-d", "jne-1t", "--method", "wilks,fk"], "--method: fk not allowed"),
    (["contour", "-d", "jne-1t", "--days", "10,30"], "takes one"),
    (["export", "-d", "jne-1t", "--grid", "5", "--out", "x"], "--grid"),
    (["significance", "-d", "jne-1t", "--background-scale", "-1"], "--background-scale"),
    (["significance", "-d", "jne-1t", "--angular-resolution", "181"], "--angular-resolution"),
    (["significance", "-d", "jne-1t", "--vary", "days", "--values", "10", "--days", "10,30"], "takes one"),
])
def test_likelihood_commands_bad_input(args, needle):
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output


def test_significance_and_compare_commands(tmp_path):
    res = run("significance", "-d", "jne-1t", "--distance", "outside", "--days", "10", "--json")
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output)["records"][0]
    assert rec["z_reject_R1_if_R082"] > 1
    out = tmp_path / "cmp.png"
    res = run("compare", "-d", "jne-1t", "--days", "10", "--json", "--plot", str(out))
    assert res.exit_code == 0, res.output
    recs = (json.loads(res.output.split("wrote")[0]) if "wrote" in res.output else json.loads(res.output))["records"]
    assert {r["detector"] for r in recs} == {"jne-1t"} and out.exists()
    assert set(recs[0]) == {"detector", "position", "distance_m", "days", "signal_events", "background_events", "sigma_R",
                            "z_reject_R1_if_R082", "z_reject_R082_if_R1"}


def test_json_stays_json_when_the_fit_fails(tmp_path):
    """All-zero data cannot be fitted validly: ``ganom fit --json`` still prints valid JSON on
    stdout (MINUIT's C++ diagnostics go to stderr), says why on stderr and exits with 3."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np

    zeros = tmp_path / "zeros.npy"
    from ganom.fitter.config import build_configuration

    np.save(zeros, np.zeros(build_configuration("jne-1t", "cr51", "centre", 30)[1].n_bins))
    exe = Path(sys.executable).with_name("ganom")
    res = subprocess.run([str(exe), "fit", "-d", "jne-1t", "--data", str(zeros), "--json"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 3, res.stderr[-2000:]
    out = json.loads(res.stdout)
    assert out["valid"] is False and "do not constrain" in out["message"]
    assert "the fit is not valid" in res.stderr


def test_shared_option_types_convert_and_refuse():
    from ganom.fitter.cli.common import ASSIGNMENTS, DAYS, GRID, RUN, BadInput, Interval, NumberList

    assert DAYS.convert("10, 30,100", None, None) == [10.0, 30.0, 100.0]
    assert RUN.convert("30", None, None) == 30.0
    assert GRID.convert("50x40", None, None) == (50, 40)
    assert Interval("eV²").convert("0.1,10", None, None) == (0.1, 10.0)
    assert ASSIGNMENTS.convert("R=0.82, activity=-1", None, None) == {"R": 0.82, "activity": -1.0}
    assert NumberList("degrees", 0.0, maximum=180.0).convert("0,180", None, None) == [0.0, 180.0]
    for typ, text in ((DAYS, "0"), (DAYS, ""), (DAYS, "inf"), (RUN, "1,2"), (GRID, "2x1"), (ASSIGNMENTS, "R"),
                      (Interval("m"), "1"), (NumberList("degrees", 0.0, maximum=180.0), "181")):
        with pytest.raises(BadInput):
            typ.convert(text, None, None)


def test_tables_render_as_text_and_markdown():
    from ganom.fitter.io import Table

    t = Table(["a", "σ"], [["x", "1.00"], ["yy", "10.00"]])
    assert t.text().splitlines()[0].split() == ["a", "σ"] and t.text().splitlines()[-1].split() == ["yy", "10.00"]
    assert t.markdown().splitlines() == ["| a | σ |", "|---|---|", "| x | 1.00 |", "| yy | 10.00 |"]
    assert Table(["Z(R=1 | R=0.82)"], [["1"]]).markdown().splitlines()[0] == "| Z(R=1 \\| R=0.82) |"
