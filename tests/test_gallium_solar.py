"""Ga solar capture rate per cross-section model (models/gallium_solar.py) and the BEST error treatments."""

import json

import pytest
from click.testing import CliRunner

from ganom.exceptions import PhysicsInputError
from ganom.fitter.analyses import gallium as fg
from ganom.fitter.cli import main
from ganom.models import gallium as g
from ganom.models import gallium_solar as gs


def test_bp2000_ssm_prediction_reproduced():
    # Bahcall's σ with the BP2000 fluxes, no oscillation: 128 (+9, −7) SNU (Bahcall,
    # Pinsonneault & Basu, ApJ 555 (2001) 990). Tolerance 1 SNU: rounding of the published
    # per-source σ and fluxes (three digits each), far below the quoted ±7 SNU.
    rows = gs.solar_capture_rates("bahcall", gs.BP2000_FLUXES, oscillate=False)
    assert sum(r.rate_snu for r in rows) == pytest.approx(128.0, abs=1.0)
    pp = next(r for r in rows if r.source == "pp")
    assert pp.rate_snu == pytest.approx(69.7, abs=0.2)  # BP2000 pp contribution


def test_p_ee_matches_borexino_survival_probabilities():
    # Borexino, Nature 562 (2018) 505: P_ee(pp) = 0.57 ± 0.09, P_ee(⁷Be) = 0.53 ± 0.05;
    # SNO/Borexino ⁸B at ~10 MeV ≈ 0.3. MSW-LMA with NuFIT 6.0 must fall inside those errors.
    assert gs.solar_p_ee("pp") == pytest.approx(0.57, abs=0.09)
    assert gs.solar_p_ee("be7") == pytest.approx(0.53, abs=0.05)
    assert 0.28 < gs.solar_p_ee("b8") < 0.36


def test_per_model_cross_sections_follow_the_excited_state_share():
    # pp (≤ 420 keV) cannot reach the 175/500 keV states: the same σ in every model
    pp = {m: gs.solar_sigma_cm2(m, "pp")[0] for m in g.XSEC_MODELS}
    assert max(pp.values()) == pytest.approx(min(pp.values()), rel=1e-3)
    # Bahcall's own model returns Bahcall's table
    for s in gs.SOLAR_GA_SOURCES:
        assert gs.solar_sigma_cm2("bahcall", s)[0] == pytest.approx(gs.BAHCALL_SOLAR_SIGMA_CM2[s], rel=1e-12)
    # ⁷Be (862 keV) sits near ⁵¹Cr (747 keV): its relative change between models follows ⁵¹Cr's
    b, h = g.XSEC_MODELS["bahcall"].sigma_cm2["51Cr"], g.XSEC_MODELS["haxton"].sigma_cm2["51Cr"]
    be_ratio = gs.solar_sigma_cm2("haxton", "be7")[0] / gs.solar_sigma_cm2("bahcall", "be7")[0]
    assert be_ratio == pytest.approx(h / b, rel=0.03)
    assert gs.excited_ratio("pep") > gs.excited_ratio("be7") > gs.excited_ratio("pp")
    with pytest.raises(PhysicsInputError, match="solar source"):
        gs.ground_state_solar_sigma_cm2("li7")


def test_solar_check_agrees_with_the_measured_rate():
    chk = fg.solar_check()
    rec = {r.model: r for r in chk.records}
    # Unlike the source experiments (R̄ ≈ 0.8), the solar rate agrees with Bahcall's σ:
    # 66.1 ± 3.1 SNU measured (SAGE, PRC 80 (2009) 015807)
    assert rec["bahcall"].predicted_snu == pytest.approx(66.1, abs=2 * 5.0)
    assert abs(rec["bahcall"].pull) < 1.0
    # larger σ → larger prediction; the ground state is the minimum
    order = sorted(rec, key=lambda m: rec[m].predicted_snu)
    assert order[0] == "ground_state" and order[-1] == "haxton"
    d = chk.to_dict()
    assert set(d) == {"records", "measured", "sources", "assumptions"}
    assert d["measured"]["snu"] == 66.1 and "pp" in d["sources"]["fluxes"]


def test_solar_cli_table_and_json():
    res = CliRunner().invoke(main, ["gallium", "--solar", "-m", "all"])
    assert res.exit_code == 0, res.output
    assert "Kostensalo 2019" in res.output and "assumption:" in res.output and "66.1" in res.output
    res = CliRunner().invoke(main, ["gallium", "--solar", "--json"])
    rec = json.loads(res.output)
    assert rec["records"][0]["model"] == "bahcall" and "provenance" in rec


# ----------------------------------------------------------------------------- error treatments
def test_error_treatments_differ_only_for_best():
    pub = fg.GalliumLikelihood("all", "bahcall", errors="published")
    exp = fg.GalliumLikelihood("all", "bahcall", errors="experimental")
    assert pub.errors == "published" and exp.errors == "experimental"
    i = pub.names.index("BEST-inner")
    # published: BEST's quoted ±0.05 (Barinov et al. 2022), no activity nuisance of its own
    assert pub.err_hi[i] == pytest.approx(0.05) and pub.err_lo[i] == pytest.approx(0.05)
    assert "best_activity" not in pub.nuisance_names and "best_activity" in exp.nuisance_names
    # experimental: stat ⊕ syst = 0.791·√(2.5² + 1.4²)/54.9 = 0.041
    assert exp.err_hi[i] == pytest.approx(0.791 * (2.5**2 + 1.4**2) ** 0.5 / 54.9, rel=1e-9)
    j = pub.names.index("SAGE-Cr")
    assert pub.err_hi[j] == exp.err_hi[j]
    # rescaled to another model, the published error scales like R
    hx = fg.GalliumLikelihood("best", "haxton", errors="published")
    assert hx.err_hi[0] == pytest.approx(0.05 * 5.81 / 6.39, rel=1e-9)


def test_published_errors_widen_and_weaken():
    a = fg.combined_ratio("bahcall", errors="published")
    b = fg.combined_ratio("bahcall", errors="experimental")
    assert a.errors == "published" and b.errors == "experimental"
    assert a.r_err_lo > b.r_err_lo and a.significance_sigma < b.significance_sigma
    assert a.to_dict()["errors"] == "published"
    with pytest.raises(PhysicsInputError, match="errors"):
        fg.GalliumLikelihood("all", errors="both")


def test_cli_errors_option():
    res = CliRunner().invoke(main, ["gallium", "--errors", "experimental", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["errors"] == "experimental"
    res = CliRunner().invoke(main, ["gallium", "-m", "all"])
    assert "error treatment 'published'" in res.output
    res = CliRunner().invoke(main, ["gallium", "--errors", "nope"])
    assert res.exit_code == 2
