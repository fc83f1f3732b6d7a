"""Published and user contours as overlays: CSV and HEPData YAML readers, validation with
clean errors, the shipped files, and the CLI drawing them (issue: published limits)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from ganom.exceptions import InputError
from ganom.fitter.cli import main
from ganom.fitter.overlays import (
    ContourOverlay,
    load_overlay,
    read_overlay,
    shipped_overlays,
)
from ganom.fitter.plotting.likelihood import (
    CONTOUR_COLOURS,
    OVERLAY_COLOURS,
    overlay_contour,
    refresh_legend,
)

CSV = """# label: Toy limit
# citation: PRD 1 (2000) 1
# kind: excluded
# a free comment: ignored
sin2_2theta,dm2_ev2
0.5,0.1
0.2,1.0
0.1,10

0.3,20
0.4,30
0.5,40
"""


def _write(tmp: Path, name: str, text: str | bytes) -> Path:
    p = tmp / name
    (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
    return p


def test_csv_curves_split_at_blank_lines_with_metadata(tmp_path):
    o = read_overlay(_write(tmp_path, "a.csv", CSV))
    assert [len(c) for c in o.curves] == [3, 3]
    assert o.label == "Toy limit" and o.citation == "PRD 1 (2000) 1" and o.kind == "excluded"
    assert o.legend_label == "Toy limit (PRD 1 (2000) 1)"
    np.testing.assert_allclose(o.curves[0][1], [0.2, 1.0])
    assert o.bounds() == ((0.1, 0.5), (0.1, 40.0))


def test_csv_curve_column_and_defaults(tmp_path):
    text = "dm2_ev2,sin2_2theta,curve\n1,0.1,a\n2,0.2,a\n3,0.3,b\n4,0.4,b\n5,0.5,b\n"
    o = read_overlay(_write(tmp_path, "my_region.csv", text))
    assert [len(c) for c in o.curves] == [2, 3]
    np.testing.assert_allclose(o.curves[1][0], [0.3, 3.0])  # columns by name, in any order
    assert o.label == "my_region" and o.citation == "" and o.kind == "excluded"
    assert read_overlay(o.source, label="L", citation="C", kind="allowed").legend_label == "L (C)"


def test_hepdata_contour_table_with_separator_and_curve_column(tmp_path):
    doc = {"independent_variables": [{"header": {"name": "$\\sin^{2}(2\\theta_{ee})$"},
                                      "values": [{"value": v} for v in (0.1, 0.2, "-", 0.3, 0.4)]}],
           "dependent_variables": [{"header": {"name": "$\\Delta m^{2}_{41}$", "units": "eV$^2$"},
                                    "qualifiers": [{"name": "CL", "value": "95%"}],
                                    "values": [{"value": v} for v in (1.0, 2.0, "-", 3.0, 4.0)]}]}
    p = _write(tmp_path, "t.yaml", "# label: Table\n# kind: allowed\n" + yaml.safe_dump(doc))
    o = read_overlay(p)
    assert [len(c) for c in o.curves] == [2, 2] and o.kind == "allowed" and o.label == "Table"
    doc["independent_variables"].append({"header": {"name": "curve"},
                                         "values": [{"value": v} for v in (0, 0, 1, 1, 1)]})
    for v in doc["independent_variables"][0]["values"] + doc["dependent_variables"][0]["values"]:
        if v["value"] == "-":
            v["value"] = 0.25
    o = read_overlay(_write(tmp_path, "u.yml", yaml.safe_dump(doc)))
    assert [len(c) for c in o.curves] == [2, 3] and o.label == "u" and o.kind == "excluded"


@pytest.fixture(scope="module")
def own_contour(tmp_path_factory):
    """A ganom contour run (jne-1t, coarse grid): its YAML and JSON."""
    out = tmp_path_factory.mktemp("own") / "c"
    r = CliRunner().invoke(main, ["contour", "-d", "jne-1t", "--grid", "14x14", "-m", "wilks,fc", "--toys", "10",
                                  "--fc-stride", "7", "--levels", "90,99", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_ganom_contour_yaml_round_trip(own_contour):
    """ganom's own contour_<method>.yaml reads as an overlay: the traced curves equal the
    contour lines of the JSON (Wilks: the Δχ² map against its critical value)."""
    doc = json.loads((own_contour / "contour_wilks.json").read_text())
    for level in ("90%", "99%"):
        o = read_overlay(own_contour / "contour_wilks.yaml", level=level)
        assert o.kind == "excluded" and o.label == f"contour_wilks, {level} CL"
        ref = [np.array(seg)[:, ::-1] for seg in doc["contours"][level]]
        assert len(o.curves) == len(ref)
        for a, b in zip(o.curves, ref):
            np.testing.assert_allclose(a, b, rtol=1e-5)
    fc = read_overlay(own_contour / "contour_fc.yaml")  # a critical map: the region's boundary is traced
    assert fc.curves and fc.label == "contour_fc, 90% CL"
    with pytest.raises(InputError, match=r"level '95%' is not in the table; allowed: 90%, 99%"):
        read_overlay(own_contour / "contour_wilks.yaml", level="95%")


def test_overlay_contour_draws_one_legend_entry(tmp_path):
    from ganom.fitter.plotting.gallium import GALLIUM_COLOUR

    assert not set(OVERLAY_COLOURS) & (set(CONTOUR_COLOURS) | {GALLIUM_COLOUR})
    fig, ax = plt.subplots()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-3, 1)
    ax.set_ylim(0.01, 100)
    a = read_overlay(_write(tmp_path, "a.csv", CSV))
    b = ContourOverlay((np.array([[0.1, 1.0], [0.2, 2.0], [0.15, 3.0]]),), "Region", "X", kind="allowed")
    far = ContourOverlay((np.array([[0.1, 1e4], [0.2, 2e4]]),), "Far away", "Y")
    for o in (a, b, far):
        overlay_contour(ax, o)
    refresh_legend(ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Toy limit (PRD 1 (2000) 1)", "Region (X), allowed"]  # nothing for what is not visible
    lines = [ln for ln in ax.get_lines() if ln.get_label() in labels]
    assert lines[0].get_color() != lines[1].get_color()
    plt.close(fig)


@pytest.mark.parametrize("name, text, words", [
    ("empty.csv", "", ["empty.csv", "empty file"]),
    ("blank.csv", "\n\n  \n", ["blank.csv", "empty file"]),
    ("binary.csv", b"sin2_2theta,dm2_ev2\n\x00\x01\x02", ["binary.csv", "binary file"]),
    ("latin1.csv", b"# label: Caf\xe9\nsin2_2theta,dm2_ev2\n", ["latin1.csv", "not UTF-8"]),
    ("nohead.csv", "0.1,1\n0.2,2\n", ["nohead.csv", "line 1", "'0.1'", "sin2_2theta, dm2_ev2"]),
    ("cols.csv", "sin2theta,dm2_ev2\n0.1,1\n", ["cols.csv", "line 1", "'sin2theta'", "allowed"]),
    ("only.csv", "# hello\n", ["only.csv", "no header line"]),
    ("nodata.csv", "sin2_2theta,dm2_ev2\n", ["nodata.csv", "no data points"]),
    ("nan.csv", "sin2_2theta,dm2_ev2\n0.1,1\nnan,2\n", ["nan.csv", "line 3", "sin2_2theta = nan",
                                                        "0 < sin2_2theta <= 1"]),
    ("big.csv", "sin2_2theta,dm2_ev2\n0.1,1\n1.5,2\n", ["big.csv", "line 3", "1.5", "0 < sin2_2theta <= 1"]),
    ("neg.csv", "sin2_2theta,dm2_ev2\n0.1,1\n0.2,-2\n", ["neg.csv", "line 3", "dm2_ev2 = -2.0", "dm2_ev2 > 0"]),
    ("inf.csv", "sin2_2theta,dm2_ev2\n0.1,inf\n0.2,2\n", ["inf.csv", "line 2", "dm2_ev2 = inf"]),
    ("text.csv", "sin2_2theta,dm2_ev2\n0.1,one\n", ["text.csv", "line 2", "dm2_ev2 = 'one'", "not a number"]),
    ("fields.csv", "sin2_2theta,dm2_ev2\n0.1,1,3\n", ["fields.csv", "line 2", "3 fields"]),
    ("single.csv", "sin2_2theta,dm2_ev2\n0.1,1\n\n0.2,1\n0.3,2\n", ["single.csv", "line 2", "1 point",
                                                                    "at least 2"]),
    ("kind.csv", "# kind: forbidden\nsin2_2theta,dm2_ev2\n0.1,1\n0.2,2\n", ["kind.csv", "line 1", "'forbidden'",
                                                                             "excluded, allowed"]),
    ("deep.yaml", "[" * 50_000 + "]" * 50_000, ["deep.yaml", "nested deeper"]),
    ("bomb.yaml", "a: &a [1, 1, 1]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", ["bomb.yaml", "aliases"]),
    ("bad.yaml", "a: [1, 2\nb: 3\n", ["bad.yaml", "not valid YAML", "line"]),
    ("list.yaml", "- 1\n- 2\n", ["list.yaml", "not a HEPData table"]),
    ("multi.yaml", "a: 1\n---\nb: 2\n", ["multi.yaml", "not valid YAML"]),
    ("vars.yaml", "independent_variables: 3\ndependent_variables: []\n", ["vars.yaml", "independent_variables",
                                                                          "list"]),
    ("names.yaml", yaml.safe_dump({"independent_variables": [{"header": {"name": "x"}, "values": [{"value": 1}]}],
                                   "dependent_variables": [{"header": {"name": "y"}, "values": [{"value": 1}]}]}),
     ["names.yaml", "'x', 'y'", "exactly one sin^2(2 theta)"]),
    ("units.yaml", yaml.safe_dump({"independent_variables": [{"header": {"name": "sin^2(2theta)"},
                                                              "values": [{"value": 0.1}, {"value": 0.2}]}],
                                   "dependent_variables": [{"header": {"name": "Delta m^2", "units": "meV^2"},
                                                            "values": [{"value": 1}, {"value": 2}]}]}),
     ["units.yaml", "units = 'meV^2'", "eV^2"]),
    ("value.yaml", yaml.safe_dump({"independent_variables": [{"header": {"name": "sin^2(2theta)"},
                                                              "values": [{"value": 0.1}, {"value": True}]}],
                                   "dependent_variables": [{"header": {"name": "Delta m^2"},
                                                            "values": [{"value": 1}, {"value": 2}]}]}),
     ["value.yaml", "independent_variables[0].values[1].value = True", "not a number"]),
    ("range.yaml", yaml.safe_dump({"independent_variables": [{"header": {"name": "sin^2(2theta)"},
                                                              "values": [{"value": 0.1}, {"value": 0.0}]}],
                                   "dependent_variables": [{"header": {"name": "Delta m^2"},
                                                            "values": [{"value": 1}, {"value": 2}]}]}),
     ["range.yaml", "values[1]", "sin2_2theta = 0.0", "0 < sin2_2theta <= 1"]),
    ("lengths.yaml", yaml.safe_dump({"independent_variables": [{"header": {"name": "sin^2(2theta)"},
                                                                "values": [{"value": 0.1}]}],
                                     "dependent_variables": [{"header": {"name": "Delta m^2"},
                                                              "values": [{"value": 1}, {"value": 2}]}]}),
     ["lengths.yaml", "different numbers of values"]),
    ("limit.json", "{}", ["limit.json", "suffix '.json'", ".csv"]),
])
def test_malformed_overlays_are_input_errors(tmp_path, name, text, words):
    p = _write(tmp_path, name, text)
    with pytest.raises(InputError) as exc:
        read_overlay(p)
    for w in words:
        assert w in str(exc.value), (w, str(exc.value))


def test_hostile_overlay_through_the_cli_exits_2_without_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "nan.csv", "sin2_2theta,dm2_ev2\n0.1,1\n0.2,nan\n")
    _write(tmp_path, "deep.yaml", "[" * 100_000 + "]" * 100_000)
    for args, words in [(["--overlay", "nan.csv"], ["nan.csv: line 3", "dm2_ev2 = nan", "dm2_ev2 > 0"]),
                        (["--overlay", "deep.yaml"], ["deep.yaml", "nested deeper"]),
                        (["--overlay", "nowhere.csv"], ["'nowhere.csv'", "no such file", "stereo2020"])]:
        for cmd in (["contour", "-d", "jne-1t", "--grid", "3x3", "--out", "c"], ["study", "--quick", "--out", "s"]):
            r = CliRunner().invoke(main, cmd + args)
            assert r.exit_code == 2, r.output
            assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit))
            for w in words:
                assert w in r.output, (w, r.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.yaml", "nan.csv"]  # nothing written


def test_cli_draws_overlays_with_legend_entries(tmp_path, monkeypatch):
    import matplotlib.figure

    from ganom.fitter.cli import contour as contour_cli

    seen = {}
    real = contour_cli.draw_overlays

    def spy(ax, overlays):
        notes = real(ax, overlays)
        seen["labels"] = [t.get_text() for t in ax.get_legend().get_texts()]
        return notes

    monkeypatch.setattr(contour_cli, "draw_overlays", spy)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda self, *a, **k: None)
    user = _write(tmp_path, "mine.csv", "# label: My limit\nsin2_2theta,dm2_ev2\n0.05,0.1\n0.5,50\n")
    far = _write(tmp_path, "far.csv", "sin2_2theta,dm2_ev2\n0.05,1000\n0.5,5000\n")
    r = CliRunner().invoke(main, ["contour", "-d", "jne-1t", "--grid", "6x6", "--out", str(tmp_path / "o"),
                                  "--overlay", "stereo2020", "--overlay", str(user), "--overlay", str(far)])
    assert r.exit_code == 0, r.output
    assert "STEREO, 95% CL excluded (PRD 102 (2020) 052002)" in seen["labels"]
    assert "My limit" in seen["labels"] and not any("far" in s for s in seen["labels"])
    assert "lies outside the plotted range" in r.output


def test_list_overlays():
    r = CliRunner().invoke(main, ["contour", "--list-overlays"])
    assert r.exit_code == 0, r.output
    assert "gallium" in r.output and "stereo2020" in r.output and "PRD 102 (2020) 052002" in r.output


# ----------------------------------------------------------------------------- shipped files
SHIPPED = {
    # name: (curves, points, sin2_2theta range, dm2 range [eV²]); stated in each file's header
    "stereo2020": (16, 868, (0.0166, 0.918), (0.1026, 9.7474)),
}


def test_every_shipped_overlay_is_documented_and_tested():
    assert set(shipped_overlays()) == set(SHIPPED)
    docs = (Path(__file__).resolve().parents[1] / "docs" / "statistics.md").read_text(encoding="utf-8")
    for name in SHIPPED:
        assert f"`{name}`" in docs


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_overlay_loads_with_citation_and_provenance(name):
    n_curves, n_points, s_range, d_range = SHIPPED[name]
    o = load_overlay(name)
    assert o.citation and o.label and o.kind in ("excluded", "allowed")
    assert len(o.curves) == n_curves and o.n_points == n_points
    (s0, s1), (d0, d1) = o.bounds()
    assert s0 == pytest.approx(s_range[0], rel=2e-3) and s1 == pytest.approx(s_range[1], rel=2e-3)
    assert d0 == pytest.approx(d_range[0], rel=1e-3) and d1 == pytest.approx(d_range[1], rel=1e-3)
    head = Path(o.source).read_text(encoding="utf-8").split("sin2_2theta,dm2_ev2")[0]
    for must in ("doi", "Obtained", "Conversion", "No point was digitised"):
        assert must in head, must
    assert f"{n_curves} curves, {n_points} points" in head


def test_stereo2020_excludes_the_reactor_anomaly_best_fit():
    """STEREO rejects the RAA best fit (sin²2θ ≈ 0.14, Δm² ≈ 2.4 eV²) and excludes little at
    sin²2θ = 0.02; the main boundary crosses Δm² = 2.4 eV² between the two."""
    o = load_overlay("stereo2020")
    main_curve = max(o.curves, key=len)
    near = main_curve[np.abs(np.log(main_curve[:, 1] / 2.4)) < 0.05]
    assert near.size and (near[:, 0] < 0.14).all() and (near[:, 0] > 0.02).all()
