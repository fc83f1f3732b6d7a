"""Generated hostile input (hypothesis): detector presets, analysis configurations and option
values mutated at random must either work or fail with an InputError naming the field —
never another exception — and an independent oracle (:func:`_must_reject`) says which mutations
must be refused: an accepted one of those is a silent accept and fails the test (issue:
reliability). About 300 generated inputs per run."""

import copy
import math
import numbers
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ganom.exceptions import InputError
from ganom.fitter.cli import main
from ganom.fitter.inputs import build_analysis
from ganom.models._toml import read_toml
from ganom.models.backgrounds import detector_backgrounds
from ganom.models.detectors import detector_from_dict
from ganom.models.sources import load_source
from ganom.models.templates import default_binning

PRESET = read_toml(Path(__file__).resolve().parents[1] / "models" / "catalog" / "jne_1t.toml")
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.sampled_from([0, -1, 1e300, -1e-300, 1e-300]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), max_size=2),
)


def _paths(d, prefix=()):
    for k, v in d.items():
        yield prefix + (k,)
        if isinstance(v, dict):
            yield from _paths(v, prefix + (k,))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                if isinstance(x, dict):
                    yield from _paths(x, prefix + (k, i))


def _mutate(doc, data):
    """One random mutation: a value replaced, a key deleted or an unknown key added."""
    doc = copy.deepcopy(doc)
    paths = list(_paths(doc))
    path = data.draw(st.sampled_from(paths))
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    action = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(VALUES)
    elif action == "delete":
        del parent[path[-1]]
    else:
        target = parent[path[-1]] if isinstance(parent[path[-1]], dict) else parent
        target[data.draw(st.text(min_size=1, max_size=6)) + "_x"] = data.draw(VALUES)
    return doc, path, action


def _none_free(x):
    """TOML has no null: a None from the strategy stands for a deleted value."""
    if isinstance(x, dict):
        return {k: _none_free(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_none_free(v) for v in x if v is not None]
    return x


def _kind(x):
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, numbers.Real):
        return "number"
    return type(x).__name__


def _size(d):
    if isinstance(d, dict):
        return len(d) + sum(_size(v) for v in d.values())
    if isinstance(d, list):
        return sum(_size(v) for v in d)
    return 0


def _must_reject(before, path, action, after, open_tables=()):
    """The oracle for silent acceptance, independent of ganom's validation: a key nobody knows,
    a value whose type differs from the original's, a non-finite number, or a negative where
    the original was not negative must be refused. Returns why, or None where acceptance is
    allowed (a deleted optional key; a same-type value in range, checked by the outputs)."""
    if action == "add":
        if path[:1] in open_tables:
            return None
        return "unknown key" if _size(after) > _size(before) else None  # a None value is no key in TOML
    if action == "delete":
        return None
    old, new = before, after
    for k in path[:-1]:
        old, new = old[k], new[k]
    if path[-1] not in new:
        return None
    old, new = old[path[-1]], new[path[-1]]
    if _kind(old) != _kind(new):
        return f"type {_kind(old)} -> {_kind(new)}"
    if _kind(new) == "number" and not math.isfinite(new):
        return "non-finite number"
    if _kind(new) == "number" and new < 0 <= old:
        return "negative"
    if _kind(new) == "list" and old and new and {_kind(x) for x in new} != {_kind(old[0])}:
        return "list of another type"
    return None


@SETTINGS
@given(st.data())
def test_fuzzed_detector_presets(data):
    doc, path, action = _mutate(PRESET, data)
    doc = _none_free(doc)
    why = _must_reject(PRESET, path, action, doc, open_tables=[("source_positions",)])
    try:
        det = detector_from_dict(doc, "fuzz.toml")
        comps = detector_backgrounds(det, 27.7)
        default_binning(det, load_source("cr51"), det.source_distance("centre"), 30.0)
    except InputError as exc:
        msg = str(exc)
        assert "fuzz.toml" in msg or "allowed" in msg, msg  # names the file, or the field and its range
        event("clean error")
        return
    assert why is None, f"silently accepted ({why}): {path} {action}"
    event("accepted")
    for c in comps:
        assert math.isfinite(c.rate_per_day) and c.rate_per_day >= 0, (path, action, c.name, c.rate_per_day)


E_EDGES = [0.2, 0.3, 0.4, 0.5, 0.6]
L_EDGES = [0.0, 1.0, 2.0]
_rng = np.random.default_rng(0)
_N = 400
EVENTS = {"enu_mev": np.full(_N, 0.747), "l_true_m": _rng.uniform(0, 2, _N), "e_reco_mev": _rng.uniform(0.2, 0.6, _N),
          "l_reco_m": _rng.uniform(0, 1.999, _N), "weight": np.full(_N, 1.0)}
BKG = {"values": np.full((4, 2), 10.0)}


class _Hist:
    """A minimal UHI histogram (no hist dependency needed for the fuzz)."""

    class _Ax:
        def __init__(self, e):
            self.edges = np.asarray(e, dtype=float)

    def __init__(self):
        self.axes = [self._Ax(E_EDGES), self._Ax(L_EDGES)]

    def values(self, flow=False):
        return np.full((4, 2), 10.0)

    def variances(self, flow=False):
        return np.full((4, 2), 1.0)


SPEC = {"version": "1.0", "name": "fuzz", "source": "cr51",
        "channels": [{"name": "on", "binning": {"energy_mev": E_EDGES, "baseline_m": L_EDGES},
                      "samples": [{"name": "sig", "events": {"object": "ev", "outside": "drop"}},
                                  {"name": "bkg", "histogram": {"object": "bkg"}}]}],
        "systematics": [{"name": "R", "type": "normfactor", "samples": ["sig"]},
                        {"name": "bn", "type": "normsys", "samples": ["bkg"], "uncertainty": 0.05}]}


@SETTINGS
@given(st.data())
def test_fuzzed_analysis_configurations(data):
    spec, path, action = _mutate(SPEC, data)
    why = _must_reject(SPEC, path, action, spec)
    try:
        a = build_analysis(spec, objects={"ev": EVENTS, "bkg": _Hist()})
    except InputError as exc:
        assert "configuration" in str(exc) or "object" in str(exc), str(exc)
        event("clean error")
        return
    assert why is None, f"silently accepted ({why}): {path} {action}"
    event("accepted")
    assert np.all(np.isfinite(a.model.nominal))


OPTIONS = st.sampled_from(["--distance", "--activity", "--days", "--threshold"])
BAD_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["nan", "inf", "-1", "1e400", "3MCi", "0", "1e-300", ",",
                                                            "centre", "-0", "1,2", "1e9"]))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(OPTIONS, BAD_TEXT)
def test_fuzzed_option_values(option, value):
    r = CliRunner().invoke(main, ["rates", "-d", "jne-1t", option, value])
    assert r.exit_code in (0, 2), (option, value, r.exit_code, r.output, r.exception)
    assert "Traceback" not in r.output
    if r.exit_code == 0:
        number = value.strip().lower()
        for unit in ("mci", "ci", "bq"):
            number = number.removesuffix(unit)
        allowed = (option == "--distance" and value.strip() in ("centre", "outside")) or (
            all(_finite(x) for x in number.split(",")) and (option == "--days" or "," not in number))
        assert allowed, f"silently accepted {option} {value!r}"
    event("clean error" if r.exit_code == 2 else "accepted")


def _finite(text):
    try:
        x = float(text)
    except ValueError:
        return False
    return math.isfinite(x) and x >= 0


@pytest.mark.parametrize("text", ["", "[[[", "x = ", "\x00", "detector = 5", "[detector]\nname = 1"])
def test_hand_written_hostile_presets(tmp_path, text):
    p = tmp_path / "h.toml"
    p.write_text(text)
    r = CliRunner().invoke(main, ["rates", "-d", str(p)])
    assert r.exit_code == 2 and "h.toml" in r.output and "Traceback" not in r.output, r.output
