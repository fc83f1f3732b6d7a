"""Signal rates: scaling laws, decay, oscillation limits and an independent hand calculation."""

import math
from dataclasses import replace

import pytest
from scipy.integrate import quad

from ganom.exceptions import PhysicsInputError
from ganom.models.constants import SECONDS_PER_DAY
from ganom.models.detectors import load_detector
from ganom.models.rates import signal_rate
from ganom.models.sources import CR51

CR51_MIX_BKS_T200 = 2.691e-45  # cm², docs/physics.md §3 (independent implementation)


def test_hand_calculation_juno_centre():
    det = load_detector("juno")
    # G = R_fid − r_x for a central source: the fiducial sphere minus the source assembly
    expected = (CR51.activity_bq * det.electron_density_m3 * CR51_MIX_BKS_T200 * 1e-4 * (17.2 - CR51.assembly_radius_m)
                * SECONDS_PER_DAY)
    assert signal_rate("juno", "cr51", 0.0).events_per_day == pytest.approx(expected, rel=5e-3)


def test_rate_proportional_to_activity_density_and_g():
    base = signal_rate("jne-500t", "cr51", 0.0)
    double = signal_rate("jne-500t", CR51.with_activity(2 * CR51.activity_bq), 0.0)
    assert double.events_per_day == pytest.approx(2 * base.events_per_day, rel=1e-12)
    det = load_detector("jne-500t")
    dense = replace(det, density_g_cm3=1.5 * det.density_g_cm3)
    assert signal_rate(dense, "cr51", 0.0).events_per_day == pytest.approx(1.5 * base.events_per_day, rel=1e-12)
    out = signal_rate("jne-500t", "cr51", 6.0)
    r_x = CR51.assembly_radius_m
    g_ratio = (det.fiducial_geometry(6.0, r_x).flux_weighted_volume()
               / det.fiducial_geometry(0.0, r_x).flux_weighted_volume())
    assert out.events_per_day / base.events_per_day == pytest.approx(g_ratio, rel=1e-12)


@pytest.mark.parametrize("days", [10.0, 30.0])
def test_run_integral(days):
    r = signal_rate("juno", "cr51", 0.0, days=[days])
    tau = CR51.half_life_days / math.log(2)
    assert r.events_in_run[days] == pytest.approx(r.events_per_day * quad(lambda t: math.exp(-t / tau), 0, days)[0], rel=1e-10)


def test_line_shares():
    r = signal_rate("juno", "cr51", 0.0)
    assert sum(ln.share for ln in r.lines) == pytest.approx(1.0)
    rec = r.to_record()
    assert set(rec) == {"detector", "source", "activity_bq", "distance_m", "threshold_mev", "events_per_day",
                        "events_in_run", "line_shares"}
    assert set(rec["line_shares"]) == {"746.7", "751.8", "426.6", "431.7"}
    assert set(rec["events_in_run"]) == {"10", "30"}
    # below the 427 keV lines' endpoint the excited branch contributes; above it does not
    r3 = signal_rate("juno", "cr51", 0.0, threshold_mev=0.3)
    assert r3.lines[2].share == 0.0 and r3.lines[3].share == 0.0


@pytest.mark.parametrize("det, d", [("juno", 0.0), ("juno", 19.0), ("jne-1t", 1.0)])
def test_oscillation_limits(det, d):
    base = signal_rate(det, "cr51", d).events_per_day
    fast = signal_rate(det, "cr51", d, dm2=1e4, sin2_2theta=0.3).events_per_day
    slow = signal_rate(det, "cr51", d, dm2=1e-8, sin2_2theta=0.3).events_per_day
    assert fast == pytest.approx((1 - 0.5 * 0.3) * base, rel=1e-3)
    assert slow == pytest.approx(base, rel=1e-9)


def test_oscillated_rate_against_direct_integral():
    """Independent check: adaptive quadrature of flux_density × P_ee for a mid Δm²."""
    from ganom.models.oscillation import p_ee
    from ganom.models.rates import oscillated_flux_weight

    geom = load_detector("jne-1t").fiducial_geometry(1.0)
    e, dm2, s = 0.7467, 3.0, 0.4
    num = quad(lambda L: geom.flux_density(L) * p_ee(L, e, dm2, s), geom.l_min, geom.l_max,
               points=[abs(geom.radius_m - geom.source_distance_m)], limit=400)[0]
    assert oscillated_flux_weight(geom, [e], dm2, s)[0] == pytest.approx(num, rel=1e-6)


def test_ar37_has_one_branch():
    r = signal_rate("juno", "ar37", 0.0)
    assert len(r.lines) == 2 and r.source == "ar37"


@pytest.mark.parametrize("kwargs, field", [
    ({"threshold_mev": 0.57}, "threshold_mev"),
    ({"threshold_mev": -0.1}, "threshold_mev"),
    ({"distance_m": -1.0}, "distance_m"),
    ({"days": [0.0]}, "days"),
    ({"dm2": 1.0}, "oscillation"),
])
def test_bad_inputs(kwargs, field):
    args = {"detector": "juno", "source": "cr51", "distance_m": 0.0} | kwargs
    with pytest.raises(PhysicsInputError, match=field) as exc:
        signal_rate(**args)
    if field == "threshold_mev":
        assert "0.56" in str(exc.value)  # names the allowed range (T_max of the 752 keV line)
