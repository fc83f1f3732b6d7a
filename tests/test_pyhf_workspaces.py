"""The committed workspaces/: regenerated files equal the committed ones, pyhf validates every
file, `pyhf inspect`/`fit`/`patchset ...` run on them, and ganom fits them as pyhf does."""

import functools
import json
from pathlib import Path

import numpy as np
import pyhf
import pytest
from click.testing import CliRunner
from pyhf.cli import cli as pyhf_cli

from ganom.fitter.analyses.exports import export_configuration, index_markdown
from ganom.fitter.config import build_configuration
from ganom.fitter.infer.fit import fit
from ganom.fitter.infer.oscillation import OscillationGrid
from ganom.fitter.io import read_json
from ganom.fitter.pyhf.load import load_workspace
from ganom.fitter.pyhf.validate import workspace_digest
from ganom.models.detectors import load_detector, preset_names
from ganom.models.templates import with_coarse_baseline

WORKSPACES = Path(__file__).resolve().parent.parent / "workspaces"
GRID = "5x5"
CONFIGS = [(d, p) for d in preset_names() for p in load_detector(d).source_positions_m]
# JUNO's templates (30 baseline bins, fiducial cut) take seconds to rebuild: its files are
# checked in the slow run, which CI runs too; the default suite keeps under 4 minutes
CONFIGS_DEFAULT = [pytest.param(d, p, marks=pytest.mark.slow) if d == "juno" else (d, p) for d, p in CONFIGS]


def stem(detector, position):
    return f"{detector}_{position}_30d"


@functools.cache
def regenerated(detector, position):
    det = with_coarse_baseline(load_detector(detector))  # as the Makefile: --coarse-baseline
    return export_configuration(det, position, 30.0, grid=OscillationGrid.from_spec(GRID),
                                built=build_configuration(det, "cr51", position, 30.0))


@functools.cache
def committed(name):
    return read_json(WORKSPACES / name)


def differences(a, b, rtol=1e-6, path="", skip=("digests",)):
    """JSON paths where a and b differ (numbers: relative tolerance ``rtol``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a if k not in skip for d in differences(a[k], b[k], rtol, f"{path}.{k}", skip)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        if a and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in a + b):
            x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
            bad = ~np.isclose(x, y, rtol=rtol, atol=1e-300)
            return [f"{path}[{int(i)}]: {a[i]!r} != {b[i]!r}" for i in np.nonzero(bad)[0][:3]]
        return [d for i, (u, v) in enumerate(zip(a, b)) for d in differences(u, v, rtol, f"{path}[{i}]", skip)]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return [] if np.isclose(a, b, rtol=rtol, atol=1e-300) else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_differences_finds_numbers_keys_and_lengths():
    a = {"x": [1.0, 2.0, 3.0], "y": {"z": "s"}, "v": 1.0}
    assert differences(a, json.loads(json.dumps(a))) == []
    assert differences(a, {**a, "x": [1.0, 2.00001, 3.0]}) == [".x[1]: 2.0 != 2.00001"]
    assert differences(a, {**a, "x": [1.0, 2.0]}) == [".x: length 3 != 2"]
    assert differences(a, {**a, "y": {"z": "t"}}) == [".y.z: 's' != 't'"]
    assert differences(a, {"x": a["x"], "y": a["y"]}) == [": keys ['v']"]


def test_committed_files_are_exactly_the_generated_set():
    expected = {"INDEX.md", "README.md", "Makefile"}
    for d, p in CONFIGS:
        expected |= {f"{stem(d, p)}.workspace.json", f"{stem(d, p)}.patchset.json"}
    assert {f.name for f in WORKSPACES.iterdir()} == expected
    total = sum(f.stat().st_size for f in WORKSPACES.iterdir())
    assert total < 25e6


@pytest.mark.parametrize("detector,position", CONFIGS_DEFAULT)
def test_regenerated_workspaces_match_the_committed_ones(detector, position):
    e = regenerated(detector, position)
    ws, ps = committed(e.files[0]), committed(e.files[1])
    assert differences(e.workspace, ws) == []
    assert differences(e.patchset, ps) == []
    assert e.patchset["metadata"]["digests"]["sha256"] == workspace_digest(e.workspace)
    # pyhf's validation of each committed file
    w = pyhf.Workspace(ws)
    patchset = pyhf.PatchSet(ps)
    patchset.verify(w)
    assert len(patchset) == 25 and patchset.labels == ["dm2", "sin2_2theta"]
    assert w.model().config.npars == len(e.workspace["measurements"][0]["config"]["parameters"])


@pytest.mark.slow  # regenerates every preset's workspace, JUNO's included (see CONFIGS_DEFAULT)
def test_index_matches():
    text = index_markdown([regenerated(d, p) for d, p in CONFIGS])
    assert text == (WORKSPACES / "INDEX.md").read_text()


def _pyhf(*args):
    res = CliRunner().invoke(pyhf_cli, [str(a) for a in args])
    assert res.exit_code == 0, (args, res.output, res.exception)
    return res.output


@pytest.mark.parametrize("detector,position", CONFIGS_DEFAULT)
def test_pyhf_cli_on_every_file_and_native_fit_equals_pyhf(detector, position, tmp_path):
    ws_file = WORKSPACES / f"{stem(detector, position)}.workspace.json"
    ps_file = WORKSPACES / f"{stem(detector, position)}.patchset.json"
    assert "R" in _pyhf("inspect", ws_file)
    out = json.loads(_pyhf("fit", "--value", ws_file))
    res = fit(*load_workspace(ws_file))
    assert res.valid
    assert out["mle_parameters"]["R"][0] == pytest.approx(res.value("R"), rel=1e-3)
    assert out["twice_nll"] == pytest.approx(res.twice_nll, abs=1e-3)
    assert "25 patches found" in _pyhf("patchset", "inspect", ps_file)
    patched = tmp_path / "patched.json"
    _pyhf("patchset", "apply", ws_file, ps_file, "--name", "dm2_1_s22t_0p03162", "--output-file", patched)
    assert "R" in _pyhf("inspect", patched)


@pytest.mark.slow
@pytest.mark.parametrize("detector,position", CONFIGS)
def test_pyhf_fit_on_patched_workspaces_equals_native(detector, position, tmp_path):
    ws_file = WORKSPACES / f"{stem(detector, position)}.workspace.json"
    ps_file = WORKSPACES / f"{stem(detector, position)}.patchset.json"
    patched = tmp_path / "patched.json"
    _pyhf("patchset", "apply", ws_file, ps_file, "--name", "dm2_1_s22t_0p1778", "--output-file", patched)
    out = json.loads(_pyhf("fit", "--optimizer", "minuit", "--optconf", "tolerance=0.01", "--value", patched))
    res = fit(*load_workspace(patched))
    assert out["mle_parameters"]["R"][0] == pytest.approx(res.value("R"), rel=1e-3)
    assert out["twice_nll"] == pytest.approx(res.twice_nll, abs=1e-2)
    if position == "outside":  # pyhf's MINUIT at strategy 2 needs 15 min for `pyhf cls` on the JNE 500 t centre file
        assert "CLs_obs" in _pyhf("cls", "--optimizer", "minuit", "--optconf", "strategy=2", patched)


def test_pyhf_fit_and_cls_on_a_patched_workspace_equals_native(tmp_path):
    ws_file = WORKSPACES / "jne-1t_outside_30d.workspace.json"
    ps_file = WORKSPACES / "jne-1t_outside_30d.patchset.json"
    patched = tmp_path / "patched.json"
    _pyhf("patchset", "apply", ws_file, ps_file, "--name", "dm2_1_s22t_0p1778", "--output-file", patched)
    out = json.loads(_pyhf("fit", "--optimizer", "minuit", "--optconf", "tolerance=0.01", "--value", patched))
    res = fit(*load_workspace(patched))
    assert res.value("R") > 1.02  # the oscillated prediction is below the (unoscillated) data
    assert out["mle_parameters"]["R"][0] == pytest.approx(res.value("R"), rel=1e-3)
    assert out["twice_nll"] == pytest.approx(res.twice_nll, abs=1e-3)
    # `pyhf cls` on the patched files (13 s of pyhf's MINUIT here) runs in the slow suite
