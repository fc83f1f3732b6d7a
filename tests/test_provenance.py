"""Every result file names where it comes from: the command line, the resolved configuration
(detector file digest, source, activity, distance, days, binning, options), the seed and the
versions (issue: the first hour of a new user, outputs that can be trusted later)."""

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganom.fitter.cli import main

PRESET = Path(__file__).resolve().parents[1] / "models" / "catalog" / "jne_1t.toml"
DIGEST = hashlib.sha256(PRESET.read_bytes()).hexdigest()


@pytest.mark.parametrize("args, files", [
    (["contour", "-d", "jne-1t", "--grid", "4x4", "--seed", "7"], ["contour_wilks.json"]),
    (["br", "-d", "jne-1t", "--exposures", "10", "--resolutions", "20"], ["br.json"]),
    (["optimize", "-d", "jne-1t", "--thresholds", "0.2,0.3", "--radii", "0.5,0.645"], ["optimize.json"]),
])
def test_cli_results_carry_their_provenance(tmp_path, args, files):
    out = tmp_path / "out"
    r = CliRunner().invoke(main, args + ["--out", str(out)])
    assert r.exit_code == 0, r.output
    for f in files:
        prov = json.loads((out / f).read_text())["provenance"]
        assert prov["command"] == "ganom " + " ".join(args + ["--out", str(out)])
        cfg = prov["configuration"]
        assert cfg["detector"] == {"name": "jne-1t", "file": "jne_1t.toml", "sha256": DIGEST}
        assert cfg["source"] == "cr51" and cfg["activity_bq"] == pytest.approx(1.11e17)
        assert cfg["days"] == 30.0 and cfg["distance_m"] == 0.0 and cfg["binning"]["energy"][0] == pytest.approx(0.2)
        assert {"ganom", "numpy", "scipy", "iminuit", "pyhf"} <= set(prov["versions"])
    if args[0] == "contour":
        assert prov["seed"] == 7 and cfg["grid"] == [4, 4]
        assert (out / "contour_wilks.yaml").read_text().startswith("# provenance:\n#   command: ganom contour")


def test_configuration_exports_digest_every_input_file(tmp_path):
    from ganom.fitter.analyses.simulate import simulate_preset
    from ganom.fitter.config import Configuration

    sim = simulate_preset(Configuration.resolve("jne-1t", "cr51", "centre", 10.0), 20_000, tmp_path / "sim.root", seed=3)
    out = tmp_path / "ex"
    r = CliRunner().invoke(main, ["export", "--config", str(sim.config_file), "--out", str(out)])
    assert r.exit_code == 0, r.output
    summary = next(out.glob("*.summary.json"))
    prov = json.loads(summary.read_text())["provenance"]
    root = hashlib.sha256((tmp_path / "sim.root").read_bytes()).hexdigest()
    assert prov["configuration"]["input_files"] == [{"file": "sim.root", "sha256": root}]
    assert prov["configuration"]["configuration_file"]["file"] == Path(sim.config_file).name
