"""Neutrino sources: activity parsing, decay, branching (docs/physics.md §2)."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from ganom.exceptions import ConfigError, PhysicsInputError, UnknownPresetError
from ganom.models.sources import (
    AR37,
    CR51,
    CR51_GAMMA_BRANCH_MEASUREMENTS,
    combine_measurements,
    load_source,
    parse_activity,
)


@pytest.mark.parametrize("text, bq", [("3MCi", 1.11e17), ("3 MCi", 1.11e17), ("409kCi", 409e3 * 3.7e10),
                                      ("62.5 PBq", 6.25e16), ("5mCi", 1.85e8), ("1.5e17", 1.5e17),
                                      (2.0e16, 2.0e16), ("1e3 Bq", 1e3)])
def test_parse_activity(text, bq):
    assert parse_activity(text) == pytest.approx(bq, rel=1e-12)


@pytest.mark.parametrize("bad", [-1.0, 0.0, "0MCi", "-3MCi", "3 furlongs", "lots", float("nan"), None])
def test_bad_activity(bad):
    with pytest.raises(PhysicsInputError, match="activity"):
        parse_activity(bad)


def test_presets_are_normalised():
    assert CR51.intensities.sum() == pytest.approx(1.0, abs=1e-4)
    assert AR37.intensities.sum() == pytest.approx(1.0, abs=1e-4)
    assert CR51.gamma_branch == pytest.approx(0.0895 + 0.0093)
    assert CR51.mean_life_days == pytest.approx(27.704 / math.log(2))


@pytest.mark.parametrize("days", [10.0, 30.0, 100.0])
def test_decay_fraction_vs_integral(days):
    tau = CR51.mean_life_days
    num = quad(lambda t: math.exp(-t / tau), 0, days)[0]
    assert CR51.decay_fraction(0, days) == pytest.approx(num, rel=1e-12)
    assert CR51.decays_between(0, days) == pytest.approx(CR51.activity_bq * 86400 * num, rel=1e-12)
    # later windows: [t1, t2] = e^{-t1/τ} × [0, t2 - t1]
    assert CR51.decay_fraction(7.0, 7.0 + days) == pytest.approx(math.exp(-7 / tau) * num, rel=1e-12)


def test_activity_halves_after_half_life():
    assert CR51.activity(CR51.half_life_days) == pytest.approx(CR51.activity_bq / 2, rel=1e-12)


def test_branch_rescaling():
    b = 0.12
    new = CR51.line_intensities(b)
    assert new.sum() == pytest.approx(CR51.intensities.sum(), rel=1e-12)
    assert new[CR51.branch_mask("excited")].sum() == pytest.approx(b, rel=1e-12)
    np.testing.assert_allclose(CR51.line_intensities(CR51.gamma_branch), CR51.intensities, rtol=1e-14)


def test_activity_scale_by_method():
    from dataclasses import replace

    gam = replace(CR51, activity_method="gamma")
    assert gam.activity_scale(0.12) == pytest.approx(0.0988 / 0.12)
    # With γ counting the excited-branch rate is fixed by N_γ: independent of B.
    assert gam.branch_rate_scale(0.12)["excited"] == pytest.approx(1.0)
    cal = CR51
    q = lambda b: b * 0.32008 + 0.00501
    assert cal.activity_scale(0.12) == pytest.approx(q(0.0988) / q(0.12))
    fixed = replace(CR51, activity_method="fixed")
    assert fixed.activity_scale(0.12) == 1.0
    for s in (gam, cal, fixed):
        assert s.branch_rate_scale(s.gamma_branch) == pytest.approx({"ground": 1.0, "excited": 1.0})


def test_gamma_branch_combination():
    v = [m.value for m in CR51_GAMMA_BRANCH_MEASUREMENTS]
    e = [m.error for m in CR51_GAMMA_BRANCH_MEASUREMENTS]
    mean, err, scale = combine_measurements(v, e)
    assert 0.0985 < mean < 0.0995
    assert scale > 1  # the measurements scatter more than their errors
    assert CR51.gamma_branch_uncertainty == pytest.approx(err, abs=1e-5)
    # two equal measurements: mean and error/√2
    m2, e2, s2 = combine_measurements([1.0, 1.0], [0.1, 0.1])
    assert (m2, e2) == pytest.approx((1.0, 0.1 / math.sqrt(2)))


def test_load_source(tmp_path):
    assert load_source("CR51") is CR51
    p = tmp_path / "src.toml"
    p.write_text('[source]\npreset = "cr51"\nactivity = "1 MCi"\nactivity_method = "gamma"\n')
    s = load_source(p)
    assert s.activity_bq == pytest.approx(3.7e16) and s.activity_method == "gamma"
    with pytest.raises(UnknownPresetError, match="cr51"):
        load_source("co60")
    bad = tmp_path / "bad.toml"
    bad.write_text('[source]\npreset = "cr51"\nactivity = "-2 MCi"\n')
    with pytest.raises(ConfigError, match="source.activity"):
        load_source(bad)
    bad.write_text('[source]\npreset = "cr51"\nactivity_method = "guess"\n')
    with pytest.raises(ConfigError, match="activity_method"):
        load_source(bad)
    bad.write_text('[source]\npreset = "cr51"\nassembly_radius_m = -0.1\n')
    with pytest.raises(ConfigError, match="assembly_radius_m"):
        load_source(bad)
    p.write_text('[source]\npreset = "cr51"\nassembly_radius_m = 0.25\n')
    assert load_source(p).assembly_radius_m == 0.25
    assert CR51.with_assembly_radius(0.0).assembly_radius_m == 0.0 and CR51.assembly_radius_m > 0
