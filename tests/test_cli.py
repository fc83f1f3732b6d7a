"""The command line: output formats, stable JSON keys, and exit code 2 for bad input."""

import json

import pytest
from click.testing import CliRunner

from fitter.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_rates_all_json():
    res = run("rates", "--all", "--json")
    assert res.exit_code == 0, res.output
    recs = json.loads(res.output)
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
    rec = json.loads(res.output)[0]
    assert rec["activity_bq"] == pytest.approx(1.11e17) and rec["distance_m"] == 0.0


def test_detectors_command():
    res = run("detectors")
    assert res.exit_code == 0 and "JUNO" in res.output
    assert {r["detector"] for r in json.loads(run("detectors", "--json").output)} >= {"juno", "jne-500t", "jne-1t", "borexino"}


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
