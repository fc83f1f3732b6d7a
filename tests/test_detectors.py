"""Detector presets and TOML loading (docs/physics.md §6)."""

import re
from importlib import resources

import pytest

from ganom.exceptions import ConfigError, PhysicsInputError, UnknownPresetError
from ganom.models.detectors import electrons_per_kg, load_detector, parse_formula, preset_names


def test_presets_exist():
    assert {"juno", "jne-500t", "jne-1t", "borexino"} <= set(preset_names())


def test_electron_densities_match_literature():
    # LAB: 3.37e32 e-/kt (JUNO); pseudocumene: 3.307e31 e-/100 t (Borexino).
    assert electrons_per_kg("C18H30") * 1e6 == pytest.approx(3.37e32, rel=3e-3)
    assert electrons_per_kg("C9H12") * 1e5 == pytest.approx(3.307e31, rel=1e-3)
    assert electrons_per_kg({"C9H12": 0.5, "C18H30": 0.5}) == pytest.approx(
        0.5 * electrons_per_kg("C9H12") + 0.5 * electrons_per_kg("C18H30"))
    juno = load_detector("juno")
    assert juno.electron_density_m3 == pytest.approx(2.89e29, rel=3e-3)


def test_parse_formula():
    assert parse_formula("C18H30") == {"C": 18, "H": 30}
    with pytest.raises(PhysicsInputError):
        parse_formula("Xx2")
    with pytest.raises(PhysicsInputError):
        parse_formula("c18h30")


def test_every_catalog_number_has_a_source_comment():
    """Each numeric value in a preset carries a comment (a reference or 'assumption')."""
    cat = resources.files("ganom.models.catalog")
    number = re.compile(r"^\s*[\w.]+\s*=\s*[-+]?\d")
    for f in cat.iterdir():
        if not f.name.endswith(".toml"):
            continue
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if number.match(line):
                assert "#" in line and len(line.split("#", 1)[1].strip()) > 3, f"{f.name}:{i} has no source: {line}"


def test_resolutions():
    det = load_detector("juno")
    assert det.energy_sigma_mev(1.0) == pytest.approx(0.03)
    assert det.energy_sigma_mev(0.25) == pytest.approx(0.03 * 0.5)
    assert det.vertex_sigma_m(0.25) == pytest.approx(0.2)


def _write(tmp_path, text):
    p = tmp_path / "det.toml"
    p.write_text(text)
    return p


GOOD = """
[detector]
name = "mine"
[target]
formula = "C18H30"
density_g_cm3 = 0.86
radius_m = 2.0
fiducial_radius_m = 1.5
[response]
energy_stochastic = 0.05
vertex_sigma_1mev_m = 0.1
threshold_mev = 0.2
[source_positions]
centre = 0.0
outside = 3.0
"""


def test_user_toml(tmp_path):
    det = load_detector(_write(tmp_path, GOOD))
    assert det.name == "mine" and det.fiducial_radius_m == 1.5 and det.source_distance("outside") == 3.0


@pytest.mark.parametrize("old, new, field", [
    ("fiducial_radius_m = 1.5", "fiducial_radius_m = 2.5", "target.fiducial_radius_m"),
    ("density_g_cm3 = 0.86", "density_g_cm3 = -1", "target.density_g_cm3"),
    ("radius_m = 2.0\n", "", "target.radius_m"),
    ("outside = 3.0", "outside = -3.0", "source_positions.outside"),
    ("threshold_mev = 0.2", "threshold_mev = \"low\"", "response.threshold_mev"),
    ("formula = \"C18H30\"", "formula = \"Zz9\"", "target.formula"),
    ("density_g_cm3 = 0.86", "density_g_cm3 = 0.86\nfiducial_uncertainty = 0.02", "target.fiducial_uncertainty"),
])
def test_bad_toml_fields(tmp_path, old, new, field):
    text = GOOD.replace(old, new)
    with pytest.raises(ConfigError, match=re.escape(field)) as exc:
        load_detector(_write(tmp_path, text))
    assert "det.toml" in str(exc.value)


def test_malformed_and_unknown(tmp_path):
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_detector(_write(tmp_path, "[detector\nname='x'"))
    with pytest.raises(UnknownPresetError, match="juno"):
        load_detector("kamland")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_detector(tmp_path / "missing.toml")


def test_named_position_errors():
    det = load_detector("juno")
    with pytest.raises(PhysicsInputError, match="distance"):
        det.source_distance(-1.0)
    with pytest.raises(PhysicsInputError, match="centre"):
        det.source_distance("moon")
