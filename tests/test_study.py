"""The main job: `ganom study --quick` writes a complete, parseable, reproducible folder."""

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from ganom.fitter.cli import main


@pytest.fixture(scope="module")
def study_dirs(tmp_path_factory):
    """The study, its sections side by side in two processes (the default on two cores)."""
    d = tmp_path_factory.mktemp("study")
    res = CliRunner().invoke(main, ["study", "--quick", "-d", "jne-1t", "--out", str(d), "--workers", "2"])
    assert res.exit_code == 0, res.output
    return [d]


def test_every_output_exists_and_parses(study_dirs):
    d = study_dirs[0]
    report = (d / "report.md").read_text()
    expected = ["rates.json", "rates.md", "comparison.json", "comparison.png", "gallium.json", "gallium_allowed.png",
                "gallium_ratios.png", "jne-1t/significance.json", "jne-1t/branching.json",
                "jne-1t/energy_centre.png", "jne-1t/baseline_outside.png", "jne-1t/contour_centre.png",
                "jne-1t/contour_outside_wilks.json", "jne-1t/contour_outside_wilks.yaml",
                "jne-1t/jne-1t_centre_30d.workspace.json"]
    for f in expected:
        p = d / f
        assert p.exists() and p.stat().st_size > 0, f
        if p.suffix == ".json":
            json.loads(p.read_text())
        elif p.suffix == ".yaml":
            yaml.safe_load(p.read_text())
        elif p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for link in re.findall(r"\(\./([^)]+)\)", report):
        assert (d / link).exists(), link
    for section in ("Signal rates", "R-deficit significance", "Sterile-neutrino sensitivity", "branching ratio",
                    "pyhf workspaces", "Detector comparison", "gallium anomaly"):
        assert section in report
    assert "ganom study --quick" in report and "pyhf" in report
    import pyhf

    pyhf.Workspace(json.loads((d / "jne-1t/jne-1t_centre_30d.workspace.json").read_text()))
    recs = json.loads((d / "comparison.json").read_text())["records"]
    assert {r["detector"] for r in recs} >= {"juno", "jne-500t", "jne-1t", "borexino"}
    for f in expected:
        if f.endswith(".pdf") or f.endswith(".png"):
            assert (d / f).with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    head = json.loads((d / "jne-1t/headline.json").read_text())["records"]
    assert {h["position"] for h in head} == {"centre", "outside"}
    assert "## Headline results" in report.split("## Signal rates")[0]


def test_every_result_carries_its_provenance(study_dirs):
    """Each JSON (except pyhf workspaces, whose schema is pyhf's) and each YAML names the
    command, the detector file digest, source, activity, run lengths, seed and versions."""
    import hashlib
    from pathlib import Path

    d = study_dirs[0]
    preset = Path(__file__).resolve().parents[1] / "models" / "catalog" / "jne_1t.toml"
    digest = hashlib.sha256(preset.read_bytes()).hexdigest()
    checked = 0
    for p in d.rglob("*.json"):
        if p.name.endswith(".workspace.json") or p.name == "MANIFEST.json":
            continue
        prov = json.loads(p.read_text())["provenance"]
        assert prov["command"].startswith("ganom study --quick -d jne-1t"), p
        assert prov["configuration"]["detectors"] == [{"name": "jne-1t", "file": "jne_1t.toml", "sha256": digest}]
        assert prov["configuration"]["activity_bq"] > 0 and prov["configuration"]["days"] == [10.0, 30.0]
        assert prov["seed"] == 0 and {"ganom", "numpy", "iminuit", "pyhf"} <= set(prov["versions"])
        checked += 1
    for p in d.rglob("*.yaml"):
        assert p.read_text().startswith("# provenance:\n#   command: ganom study"), p
        checked += 1
    assert checked >= 12


@pytest.mark.slow
def test_same_command_same_bytes(study_dirs, tmp_path):
    """Byte-identical results whether the sections ran in one process or side by side."""
    a, b = study_dirs[0], tmp_path / "one"
    res = CliRunner().invoke(main, ["study", "--quick", "-d", "jne-1t", "--out", str(b), "--workers", "1"])
    assert res.exit_code == 0, res.output
    files = [p.relative_to(a) for p in a.rglob("*") if p.suffix in (".json", ".yaml") or p.name.endswith(".md")]
    # the report quotes the (different) output folder and its run times; the manifest holds
    # the report's digest and the command
    files = [f for f in files if f.name not in ("report.md", "MANIFEST.json")]
    assert len(files) > 10

    def without_command(text):  # the provenance quotes each run's own command line
        return "\n".join(line for line in text.splitlines() if "ganom study --quick" not in line)

    for f in files:
        assert without_command((a / f).read_text()) == without_command((b / f).read_text()), f


def test_full_estimate_counts_fc_work_and_workers():
    """The stated run time grows with FC toys × bins and shrinks with FC workers."""
    from ganom.fitter.study import StudyConfig, estimate_seconds

    one, two = estimate_seconds(StudyConfig(workers=1)), estimate_seconds(StudyConfig(workers=2))
    quick = estimate_seconds(StudyConfig(quick=True))
    assert quick < 60 < two < one
    longer = estimate_seconds(StudyConfig(workers=1, days=(10.0, 100.0)))  # 10 time bins instead of 3
    assert longer - one > 2 * (one - two)


@pytest.mark.parametrize("args", [["--workers", "0"], ["--seed", "-1"], ["--days", "0"]])
def test_bad_study_options(args, tmp_path):
    res = CliRunner().invoke(main, ["study", "--quick", "--out", str(tmp_path / "s")] + args)
    assert res.exit_code == 2 and args[0] in res.output and ("allowed" in res.output or "range" in res.output)
