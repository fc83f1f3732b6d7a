"""``ganom optimize``: threshold × fiducial-radius scans of the reach."""

import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from ganom.fitter.analyses.comparison import deficit_significances
from ganom.fitter.analyses.optimize import optimize_window
from ganom.fitter.cli import main
from ganom.models.detectors import load_detector
from ganom.models.sources import CR51


@pytest.fixture(scope="module")
def scan():
    det = load_detector("jne-1t")
    return optimize_window(det, thresholds_mev=[det.threshold_mev, 0.35],
                           fiducial_radii_m=[0.4, det.fiducial_radius_m], dm2_ev2=1.0)


def test_preset_cell_equals_the_significance_command(scan):
    """The cell at the preset's own threshold and radius is the preset's configuration."""
    ref = deficit_significances("jne-1t", "cr51", "centre", [30.0])[0]
    assert scan.z_reject_r1[0, 1] == pytest.approx(ref.z_reject_R1_if_R082, rel=1e-9)
    assert scan.signal[0, 1] == pytest.approx(ref.signal_events, rel=1e-12)


def test_physics_of_the_window(scan):
    # a central source: signal ∝ G = R_fid − r_x, uniform backgrounds ∝ volume: S/B improves inward
    sb = scan.signal / scan.background
    assert sb[0, 0] > sb[0, 1]
    ideal = replace(load_detector("jne-1t"), energy_stochastic=0.0, vertex_sigma_1mev_m=0.0)
    exact = optimize_window(ideal, thresholds_mev=[0.2], fiducial_radii_m=[0.4, 0.645], dm2_ev2=1.0, n_s22t=3)
    r_x = CR51.assembly_radius_m  # without vertex smearing the window holds exactly G of each sphere
    assert exact.signal[0, 0] / exact.signal[0, 1] == pytest.approx((0.4 - r_x) / (0.645 - r_x), rel=1e-6)
    # a higher threshold loses signal and background; the limit exists everywhere
    assert np.all(scan.signal[1] < scan.signal[0]) and np.all(scan.background[1] < scan.background[0])
    assert np.all(np.isfinite(scan.s22t_limit)) and np.all((scan.s22t_limit > 0) & (scan.s22t_limit < 1))
    bz = scan.best("z")
    assert bz["z_reject_R1_if_R082"] == pytest.approx(scan.z_reject_r1.max())
    assert scan.best("limit")["s22t_limit"] == pytest.approx(np.nanmin(scan.s22t_limit))
    holey = replace(scan, s22t_limit=np.where(np.arange(4).reshape(2, 2) == 0, np.nan, scan.s22t_limit))
    assert np.isfinite(holey.best("limit")["s22t_limit"])  # a cell without a limit is never the best


def test_optimize_cli(tmp_path):
    out = tmp_path / "opt"
    res = CliRunner().invoke(main, ["optimize", "-d", "jne-1t", "--thresholds", "0.2", "--radii", "0.5,0.645",
                                    "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads((out / "optimize.json").read_text())
    assert d["best_z"]["fiducial_radius_m"] in (0.5, 0.645) and (out / "optimize_z.png").exists()
    bad = CliRunner().invoke(main, ["optimize", "-d", "jne-1t", "--radii", "0.9"])
    assert bad.exit_code == 2 and "fiducial_radius_m" in bad.output and "Traceback" not in bad.output


def test_window_top_axis():
    """The window top is an axis: at the preset's own top the cell equals the default scan; a
    higher top only adds bins, so the Asimov Z cannot fall (q of a sum of χ² terms ≥ q of a part);
    a top at or below a threshold names the field."""
    from ganom.exceptions import PhysicsInputError
    from ganom.models.templates import default_binning

    det = load_detector("jne-1t")
    top = float(default_binning(det, CR51, 0.0, 30.0).energy_edges_mev[-1])
    assert top == pytest.approx(2.0)  # the preset's [analysis] window (docs/physics.md §5.2)
    res = optimize_window(det, thresholds_mev=[0.2], fiducial_radii_m=[det.fiducial_radius_m],
                          energy_max_mev=[0.78, 1.0, 1.4, top], n_s22t=3)
    ref = deficit_significances("jne-1t", "cr51", "centre", [30.0])[0]
    assert res.z_reject_r1[-1, 0] == pytest.approx(ref.z_reject_R1_if_R082, rel=1e-9)
    assert res.energy_max_mev == pytest.approx([0.78, 1.0, 1.4, top])
    assert np.all(np.diff(res.z_reject_r1[:, 0]) >= -1e-9)
    assert res.windows()[1] == "0.2–1" and res.best("z")["row"] == int(np.argmax(res.z_reject_r1[:, 0]))
    with pytest.raises(PhysicsInputError, match="energy_max_mev"):
        optimize_window(det, thresholds_mev=[0.2, 0.3], fiducial_radii_m=[0.6], energy_max_mev=[0.25])
    bad = CliRunner().invoke(main, ["optimize", "-d", "jne-1t", "--thresholds", "0.3", "--energy-max", "0.3"])
    assert bad.exit_code == 2 and "energy_max_mev" in bad.output and "Traceback" not in bad.output


def test_source_position_axis(tmp_path):
    """--positions: one scan per source position; the overall best is the best of the bests
    (JNE 1 t: the centre, with ~4× the outside rate); an unknown position names the field."""
    from ganom.fitter.analyses.optimize import best_position, optimize_positions

    res = optimize_positions("jne-1t", ["centre", "outside"], thresholds_mev=[0.2], fiducial_radii_m=[0.645],
                             n_s22t=3)
    best = best_position(res, "z")
    assert best["position"] == "centre" and best["distance_m"] == 0.0
    assert best["z_reject_R1_if_R082"] == pytest.approx(max(r.z_reject_r1.max() for r in res))
    out = tmp_path / "opt"
    ok = CliRunner().invoke(main, ["optimize", "-d", "jne-1t", "--positions", "centre,0.3", "--thresholds", "0.2",
                                   "--radii", "0.645", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    d = json.loads((out / "optimize.json").read_text())
    assert len(d["scans"]) == 2 and d["best_z"]["distance_m"] in (0.0, 0.3)
    assert (out / "optimize_z_D0.3m.png").exists() and (out / "optimize_limit_D0m.png").exists()
    bad = CliRunner().invoke(main, ["optimize", "-d", "jne-1t", "--positions", "centre,moon", "--radii", "0.6"])
    assert bad.exit_code == 2 and "moon" in bad.output and "Traceback" not in bad.output
