"""Detector geometry seen from a point source (docs/physics.md §5)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from ganom.exceptions import PhysicsInputError
from ganom.models.geometry import SphereGeometry

CASES = [(17.2, 0.0), (17.2, 1e-7), (17.2, 0.05), (17.2, 3.0), (17.2, 12.0), (17.2, 17.2), (17.2, 17.1999),
         (17.2, 17.2001), (17.2, 19.0), (0.645, 1.0), (5.18, 6.0), (3.0, 30.0)]


def _numeric_g(r, d):
    geom = SphereGeometry(r, d)
    pts = [p for p in (abs(r - d), r + d) if geom.l_min < p < geom.l_max]
    return quad(geom.flux_density, geom.l_min, geom.l_max, points=pts or None, limit=400, epsabs=1e-13, epsrel=1e-12)[0]


def _g_formula(r, d):
    """docs/physics.md §5, written naively (valid away from D = 0 and D = R)."""
    return r / 2 + (r * r - d * d) / (4 * d) * np.log((d + r) / abs(d - r))


@pytest.mark.parametrize("r, d", CASES)
def test_g_analytic_vs_numeric(r, d):
    assert SphereGeometry(r, d).flux_weighted_volume() == pytest.approx(_numeric_g(r, d), rel=1e-9)


@pytest.mark.parametrize("r, d", [(17.2, 3.0), (17.2, 12.0), (17.2, 19.0), (0.645, 1.0)])
def test_g_matches_textbook_formula(r, d):
    assert SphereGeometry(r, d).flux_weighted_volume() == pytest.approx(_g_formula(r, d), rel=1e-12)


def test_g_limits():
    assert SphereGeometry(17.2, 0.0).flux_weighted_volume() == 17.2
    assert SphereGeometry(17.2, 1e-6).flux_weighted_volume() == pytest.approx(17.2, rel=1e-10)
    # Continuous through the surface: G → R/2.
    for d in (17.2 - 1e-6, 17.2, 17.2 + 1e-6):
        assert SphereGeometry(17.2, d).flux_weighted_volume() == pytest.approx(8.6, rel=1e-5)
    # Far away: G → V/(4πD²) = R³/(3D²) (1 + O(R²/D²)).
    r, d = 1.0, 300.0
    assert SphereGeometry(r, d).flux_weighted_volume() == pytest.approx(r**3 / (3 * d * d), rel=1e-4)


@pytest.mark.parametrize("r, d", CASES)
def test_interval_integrals_sum_to_totals(r, d):
    geom = SphereGeometry(r, d)
    edges = np.linspace(geom.l_min, geom.l_max, 37)
    assert geom.volume_between(edges).sum() == pytest.approx(geom.volume_m3, rel=1e-12)
    assert geom.flux_weight_between(edges).sum() == pytest.approx(geom.flux_weighted_volume(), rel=1e-9)


@pytest.mark.parametrize("r, d", [(17.2, 0.0), (17.2, 5.0), (17.2, 19.0), (0.645, 1.0)])
def test_dv_dl_integrates_to_interval_volumes(r, d):
    geom = SphereGeometry(r, d)
    edges = np.array([geom.l_min, 0.3 * geom.l_max, abs(r - d) + 0.01, 0.9 * geom.l_max, geom.l_max + 1.0])
    edges.sort()
    for (a, b), v in zip(zip(edges[:-1], edges[1:]), geom.volume_between(edges)):
        num = quad(geom.dv_dl, a, b, points=[p for p in (abs(r - d), r + d) if a < p < b] or None, limit=200)[0]
        assert v == pytest.approx(num, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(r=st.floats(0.1, 30), frac=st.floats(0, 3), cuts=st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_any_partition_sums_to_g(r, frac, cuts):
    geom = SphereGeometry(r, r * frac)
    edges = np.sort(np.concatenate([[geom.l_min, geom.l_max], geom.l_min + np.array(cuts) * (geom.l_max - geom.l_min)]))
    w = geom.flux_weight_between(edges)
    assert np.all(w >= -1e-12 * r)
    assert w.sum() == pytest.approx(geom.flux_weighted_volume(), rel=1e-8)


def test_cos_alpha_min_reproduces_flux_density():
    """∫ dV/(4πL²) at fixed L is ½(1 − cos α_min): the template quadrature relies on it."""
    for r, d in [(17.2, 5.0), (17.2, 19.0), (0.645, 1.0)]:
        geom = SphereGeometry(r, d)
        L = np.linspace(geom.l_min + 1e-6, geom.l_max - 1e-6, 101)
        np.testing.assert_allclose(0.5 * (1 - np.clip(geom.cos_alpha_min(L), -1, 1)), geom.flux_density(L), atol=1e-12)


def test_bad_geometry():
    with pytest.raises(PhysicsInputError, match="source_distance_m"):
        SphereGeometry(1.0, -0.5)
    with pytest.raises(PhysicsInputError, match="radius_m"):
        SphereGeometry(0.0, 1.0)
    with pytest.raises(PhysicsInputError, match="edges"):
        SphereGeometry(1.0, 0.0).volume_between([1.0, 0.5])


@pytest.mark.parametrize("r, d, r_x", [(17.2, 0.0, 0.15), (17.2, 3.0, 0.15), (0.65, 0.0, 0.15), (5.18, 2.5, 0.3),
                                       (1.0, 0.9, 0.3), (1.0, 1.2, 0.3), (5.18, 6.0, 0.15)])
def test_source_assembly_excludes_its_volume(r, d, r_x):
    """G, V and dV/dL without the sphere of radius r_x around the source: against quad() of the
    pointwise densities and, where the exclusion lies inside, the closed forms G − r_x, V − 4πr_x³/3."""
    full, geom = SphereGeometry(r, d), SphereGeometry(r, d, r_x)
    assert np.all(geom.dv_dl(np.linspace(0, r_x, 50, endpoint=False)) == 0)
    L = np.linspace(r_x, d + r, 200)[1:]
    np.testing.assert_array_equal(geom.flux_density(L), full.flux_density(L))
    pts = [p for p in (abs(r - d), r + d, r_x) if 0 < p < d + r]
    g_num = quad(geom.flux_density, 0, d + r, points=pts, limit=400, epsabs=1e-13, epsrel=1e-12)[0]
    v_num = quad(geom.dv_dl, 0, d + r, points=pts, limit=400, epsabs=1e-12, epsrel=1e-12)[0]
    assert geom.flux_weighted_volume() == pytest.approx(g_num, rel=1e-9, abs=1e-13)
    assert geom.volume_m3 == pytest.approx(v_num, rel=1e-9)
    edges = np.linspace(0, d + r, 97)
    assert geom.flux_weight_between(edges).sum() == pytest.approx(g_num, rel=1e-9, abs=1e-13)
    if r_x <= r - d:  # the assembly lies inside the sphere
        assert geom.flux_weighted_volume() == pytest.approx(full.flux_weighted_volume() - r_x, rel=1e-12)
        assert geom.volume_m3 == pytest.approx(4 / 3 * np.pi * (r**3 - r_x**3), rel=1e-12)
        assert geom.l_min == r_x
    if d - r >= r_x:  # a source outside: nothing changes
        assert geom.flux_weighted_volume() == full.flux_weighted_volume()


@pytest.mark.parametrize("d", [68.9, 172.0, 1.0e3, 1.0e5, 1.0e8])
def test_far_source_stays_exact(d):
    """Far away, G → V/(4πD²): the closed form cancelled catastrophically (terms ~ R, result
    ~ R³/D²: 6× too large at D = 1e8 m). Against the exact formula in 60-digit arithmetic."""
    from decimal import Decimal, localcontext

    r = 17.2
    with localcontext() as ctx:
        ctx.prec = 60
        R, D = Decimal(r), Decimal(d)
        exact = float(R / 2 - (D * D - R * R) / (4 * D) * ((D + R) / (D - R)).ln())
    geom = SphereGeometry(r, d)
    assert geom.flux_weighted_volume() == pytest.approx(exact, rel=1e-12)
    assert geom.flux_weight_between(np.linspace(d - r, d + r, 37)).sum() == pytest.approx(exact, rel=1e-8)
    if d >= 1e5:
        assert exact == pytest.approx(4.0 / 3.0 * np.pi * r**3 / (4 * np.pi * d * d), rel=1e-7)
