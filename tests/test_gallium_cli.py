"""``ganom gallium`` and ``ganom discriminate``: JSON keys, figures, exit code 2 on bad input."""

import json

import pytest
from click.testing import CliRunner

from ganom.fitter.cli import main
from ganom.models.gallium import EXPERIMENT_NAMES, XSEC_MODELS

KEYS = {"model", "errors", "ratios", "R_mean", "R_err_lo", "R_err_hi", "significance_sigma"}


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_gallium_json_one_model():
    res = run("gallium", "--json")
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output)
    assert set(rec) == KEYS | {"provenance"} and rec["model"] == "bahcall"
    assert rec["provenance"]["command"] == "ganom gallium --json" and "numpy" in rec["provenance"]["versions"]
    assert list(rec["ratios"]) == list(EXPERIMENT_NAMES)
    assert all(len(v) == 2 for v in rec["ratios"].values())
    assert rec["R_err_lo"] > 0 and rec["R_err_hi"] > 0


def test_gallium_json_all_models_and_table():
    res = run("gallium", "--model", "all", "--json")
    assert res.exit_code == 0, res.output
    recs = json.loads(res.output)["records"]
    assert [r["model"] for r in recs] == list(XSEC_MODELS) and all(set(r) == KEYS for r in recs)
    res = run("gallium", "-m", "all")
    assert res.exit_code == 0 and "Kostensalo 2019" in res.output and "deficit" in res.output


def test_gallium_plots(tmp_path):
    out = tmp_path / "ratios.png"
    res = run("gallium", "-m", "all", "--plot", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 10_000
    out = tmp_path / "allowed.png"
    res = run("gallium", "--contour", "--grid", "30x30", "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    recs = json.loads(res.output[:res.output.rindex("}") + 1])["records"]
    assert [len(r["experiments"]) for r in recs] == [2, 6]
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize("args, msg", [
    (["gallium", "--model", "bahcal"], "bahcal"),
    (["gallium", "-e", "best,BEST-middle"], "BEST-middle"),
    (["gallium", "--contour", "--grid", "7"], "NxM"),
    (["gallium", "--contour", "-m", "all"], "--model"),
    (["discriminate", "-d", "nope", "--days", "10"], "nope"),
    (["discriminate", "-d", "jne-1t", "--days", "-3"], "--days"),
])
def test_bad_input_exit_2(args, msg):
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert msg in res.output


def test_discriminate_table_and_json():
    res = run("discriminate", "-d", "jne-1t", "--days", "10", "--no-sterile", "--json")
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output)["records"][0]
    assert rec["detector"] == "jne-1t" and set(rec["delta_chi2"]) == {"source", "detection"}
    assert rec["delta_chi2"]["source"]["source"] == pytest.approx(0.0, abs=1e-6)
    assert rec["delta_chi2"]["source"]["detection"] > 0
    res = run("discriminate", "-d", "jne-1t", "--days", "10", "--no-sterile")
    assert res.exit_code == 0 and "Z(source vs detection)" in res.output
