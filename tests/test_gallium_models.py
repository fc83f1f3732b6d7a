"""Gallium physics (models/gallium.py): geometry, cross sections, experiments, predictions."""

import math

import numpy as np
import pytest
from scipy import integrate

from ganom.exceptions import GanomError, PhysicsInputError
from ganom.models import gallium as g
from ganom.models.geometry import SphereGeometry
from ganom.models.oscillation import phase_per_metre


# ----------------------------------------------------------------------------- geometry
@pytest.mark.parametrize("radius", [0.6675, 1.0, 17.7])
def test_point_source_at_sphere_centre_gives_radius(radius):
    zone = g.GalliumZone("s", g.AxialSphere(radius))
    sg = zone.segments()
    assert sg.flux_weighted_volume_m == pytest.approx(radius, rel=1e-12)
    # every ray sees the full radius: the L distribution is flat on [0, R]
    h = sg.histogram(np.linspace(0.0, radius, 6))
    assert h == pytest.approx(np.full(5, radius / 5), rel=1e-12)
    assert zone.volume_m3() == pytest.approx(4 / 3 * math.pi * radius**3, rel=1e-10)


@pytest.mark.parametrize("d", [0.2, 0.5, 0.9, 1.5, 3.0])
def test_off_centre_sphere_matches_closed_form(d):
    # G = R/2 + (R² − D²)/(4D) ln[(D+R)/|D−R|] (docs/physics.md §5), source inside or outside
    r = 1.0
    zone = g.GalliumZone("s", g.AxialSphere(r, centre_z_m=d))
    closed = r / 2 + (r * r - d * d) / (4 * d) * math.log((d + r) / abs(d - r))
    sg = zone.segments()
    assert sg.flux_weighted_volume_m == pytest.approx(closed, rel=1e-9)
    # and the path-length distribution matches the sphere module's exact dV/dL/(4πL²) per bin
    edges = np.linspace(max(0.0, d - r), d + r, 9)
    ref = SphereGeometry(r, d).flux_weight_between(edges)
    assert sg.histogram(edges) == pytest.approx(ref, abs=5e-4 * ref.sum())


@pytest.mark.parametrize("R, H, z0", [(0.7, 1.47, 0.72), (1.9, 5.0, 2.7), (1.9, 5.0, 2.38), (1.0, 0.3, 0.05)])
def test_cylinder_by_independent_quadrature(R, H, z0):
    zone = g.cylinder_geometry("c", R, H, z0)[0]
    ref, _ = integrate.dblquad(lambda z, rho: rho / (2 * (rho * rho + z * z)), 0, R, -z0, H - z0,
                               epsabs=1e-11, epsrel=1e-11)
    assert zone.segments().flux_weighted_volume_m == pytest.approx(ref, rel=1e-9)
    assert zone.volume_m3() == pytest.approx(math.pi * R * R * H, rel=1e-9)


@pytest.mark.parametrize("dm2", [0.3, 2.0, 30.0])
def test_oscillation_average_by_independent_quadrature(dm2):
    R, H, z0, e = 0.7, 1.47, 0.72, 0.7467
    zone = g.cylinder_geometry("c", R, H, z0)[0]
    k = phase_per_metre(e, dm2)
    w = lambda z, rho: rho / (2 * (rho * rho + z * z))
    num, _ = integrate.dblquad(lambda z, rho: w(z, rho) * np.sin(k * math.hypot(rho, z)) ** 2, 0, R, -z0, H - z0,
                               epsabs=1e-11, epsrel=1e-10, )
    den, _ = integrate.dblquad(w, 0, R, -z0, H - z0, epsabs=1e-11, epsrel=1e-11)
    assert float(zone.segments().mean_sin2(e, dm2)) == pytest.approx(num / den, abs=2e-7)


def test_best_zones_volumes_and_tube():
    inner, outer = g.best_geometry()
    r, a, b = g.BEST_INNER_RADIUS_M, g.BEST_TUBE_RADIUS_M, -g.BEST_TUBE_BOTTOM_M
    # sphere minus a cylinder of radius a from −b to the top (a ≪ R: cap corrections ~ a⁴/R)
    h = math.sqrt(r * r - a * a)
    tube_in_sphere = math.pi * a * a * (h + b)
    cap = math.pi * (r - h) ** 2 * (3 * r - (r - h)) / 3  # the spherical cap above the tube's top
    assert inner.volume_m3() == pytest.approx(4 / 3 * math.pi * r**3 - tube_in_sphere - cap, rel=1e-6)
    # the tube removes the nearest gallium: G falls well below R
    g_in = inner.segments().flux_weighted_volume_m
    assert 0.55 < g_in < 0.60
    # outer: the fill height follows the zone mass (the tube above the sphere is < 0.2 % of it)
    mass_t = outer.volume_m3() * g.GA_DENSITY_G_CM3
    assert mass_t == pytest.approx(g.BEST_ZONE_MASS_KG["outer"] / 1e3, rel=2e-3)
    # with the mass-derived fill height G_out agrees with BEST's predicted rate (72.6/d) to 0.5 %
    exp = g.select_experiments("BEST-outer")[0]
    assert exp.predicted_rate_per_day() == pytest.approx(exp.measured_rate_per_day / exp.ratio, rel=5e-3)


def test_histogram_and_mean_baseline_consistent():
    sg = g.select_experiments("BEST-outer")[0].segments()
    edges = np.linspace(0.0, 2.0, 41)
    h = sg.histogram(edges)
    assert h.sum() == pytest.approx(sg.flux_weighted_volume_m, rel=1e-12)
    centres = 0.5 * (edges[1:] + edges[:-1])
    assert np.sum(h * centres) / h.sum() == pytest.approx(sg.mean_baseline_m, abs=2e-4)
    assert h[0] == 0.0  # nothing of the outer zone is closer than the inner sphere


def test_geometry_bad_inputs():
    with pytest.raises(PhysicsInputError, match="radius_m"):
        g.AxialSphere(0.0)
    with pytest.raises(PhysicsInputError, match="z_lo_m"):
        g.AxialCylinder(1.0, 0.5, 0.5)
    with pytest.raises(PhysicsInputError, match="source_z_m"):
        g.cylinder_geometry("c", 1.0, 2.0, 2.5)
    with pytest.raises(PhysicsInputError, match="edges"):
        g.select_experiments("SAGE-Cr")[0].segments().histogram([0.0])


# ----------------------------------------------------------------------------- cross sections
def test_phase_space_reproduces_bahcall_line_ratio():
    # Bahcall's per-line σ(426.6)/σ(746.7) = 26.7/60.8; the allowed phase space with the
    # point-charge Fermi function gives the ground-state ratio within 1 %
    ps = g.allowed_phase_space(np.array([0.7467, 0.4266]))
    assert ps[1] / ps[0] == pytest.approx(26.7 / 60.8, rel=0.01)
    assert g.allowed_phase_space(0.2) == 0.0  # below threshold
    xi = g.excited_phase_space_ratio(np.array([0.4266]))
    assert xi[0, 1] == 0.0  # the 427 keV line cannot reach the 500 keV state


@pytest.mark.parametrize("name", list(g.XSEC_MODELS))
@pytest.mark.parametrize("iso", g.ISOTOPES)
def test_line_cross_sections_normalised(name, iso):
    src = g.CR51 if iso == "51Cr" else g.AR37
    sig = g.line_cross_sections(name, iso)
    assert float(src.intensities @ sig) == pytest.approx(g.XSEC_MODELS[name].sigma_cm2[iso], rel=1e-12)
    w = g.line_weights(name, iso)
    assert w.sum() == pytest.approx(1.0)
    if iso == "51Cr":  # the 427/432 keV lines carry 3.5–5 % of the ⁷¹Ge production
        assert 0.035 < w[2] + w[3] < 0.05


def test_frekers_semenov_structure():
    # σ = σ_gs (1 + Σ_k ξ_k B_k/B_gs) with Bahcall's phase-space factors (Cr: 0.669, 0.220;
    # Ar: 0.695, 0.263) and Frekers' B(GT) ratios reproduces the tabulated totals
    gs, sem, fre = (g.XSEC_MODELS[k] for k in ("ground_state", "semenov", "frekers"))
    b = g.FREKERS_BGT_RATIO
    for iso, xi in (("51Cr", (0.669, 0.220)), ("37Ar", (0.695, 0.263))):
        factor = 1 + xi[0] * b[0] + xi[1] * b[1]
        assert gs.sigma_cm2[iso] * factor == pytest.approx(sem.sigma_cm2[iso], rel=1e-3)
        bahcall_gs = {"51Cr": 5.52e-45, "37Ar": 6.62e-45}[iso]
        assert bahcall_gs * factor == pytest.approx(fre.sigma_cm2[iso], rel=2e-3)


def test_rescaling_preserves_measured_rates():
    b = g.XSEC_MODELS["bahcall"]
    for name, m in g.XSEC_MODELS.items():
        for e in g.EXPERIMENTS:
            r = e.rescaled(name)
            # measured rate ∝ R σ: unchanged by the choice of model; relative errors too
            assert r.ratio * m.sigma_cm2[e.isotope] == pytest.approx(e.ratio * b.sigma_cm2[e.isotope], rel=1e-14)
            assert r.err_hi / r.ratio == pytest.approx(e.err_hi / e.ratio, rel=1e-14)
    # ⁵¹Cr and ³⁷Ar rescale differently (Haxton raises σ(Ar) by 10.3 %, σ(Cr) by 10.0 %)
    cr, ar = (g.select_experiments(n)[0].rescaled("haxton") for n in ("SAGE-Cr", "SAGE-Ar"))
    assert cr.ratio / 0.95 != pytest.approx(ar.ratio / 0.79, rel=1e-3)
    # σ [1e-45 cm²]: Bahcall 1997 5.81 (Cr), 7.00 (Ar); Haxton 1998 6.39 (Cr), 7.72 (Ar)
    assert cr.ratio == pytest.approx(0.95 * 5.81 / 6.39, rel=2e-3)
    assert ar.ratio == pytest.approx(0.79 * 7.00 / 7.72, rel=2e-3)


def test_bad_model_and_experiment_names():
    with pytest.raises(PhysicsInputError, match="cross-section model"):
        g.xsec_model("bahcal")
    with pytest.raises(PhysicsInputError, match="experiments"):
        g.select_experiments("BEST-middle")
    with pytest.raises(PhysicsInputError, match="experiments"):
        g.select_experiments(",")
    assert [e.name for e in g.select_experiments("best,SAGE-Ar,best")] == ["BEST-inner", "BEST-outer", "SAGE-Ar"]
    with pytest.raises(GanomError):
        g.GalliumExperiment("x", "51Cr", 1e15, -0.9, 0.1, 0.1, 0.0, ())
    with pytest.raises(GanomError, match="isotope"):
        g.GalliumExperiment("x", "7Be", 1e15, 0.9, 0.1, 0.1, 0.0, ())
    with pytest.raises(GanomError, match="zones"):
        g.GalliumExperiment("x", "51Cr", 1e15, 0.9, 0.1, 0.1, 0.0, ())


# ----------------------------------------------------------------------------- predictions
def test_predicted_ratio_limits_and_shape():
    exps = g.EXPERIMENTS
    d = np.array([[0.0], [1.0], [1e4]])
    s = np.array([0.0, 0.3, 1.0])
    r = g.predicted_ratio(exps, "bahcall", d, s)
    assert r.shape == (3, 3, 6)
    assert np.all(r[0] == 1.0) and np.all(r[:, 0] == 1.0)
    # fully averaged oscillation: R = 1 − sin²2θ/2 for every experiment
    assert r[2, 1] == pytest.approx(1 - 0.15, abs=2e-3)
    assert r[2, 2] == pytest.approx(0.5, abs=5e-3)
    # linear in sin²2θ
    assert (1 - r[1, 2]) == pytest.approx((1 - r[1, 1]) / 0.3, rel=1e-12)
    # a grid from its axes equals the point-by-point evaluation (f once per Δm²)
    D, S = np.meshgrid(d[:, 0], s, indexing="ij")
    np.testing.assert_allclose(r, g.predicted_ratio(exps, "bahcall", D, S), rtol=0, atol=1e-15)
    assert g.predicted_ratio(exps, "bahcall", 1.0, s[:, None]).shape == (3, 1, 6)
    with pytest.raises(PhysicsInputError, match="sin2_2theta"):
        g.predicted_ratio(exps, "bahcall", 1.0, 1.2)
    with pytest.raises(PhysicsInputError, match="dm2"):
        g.predicted_ratio(exps, "bahcall", -1.0, 0.2)


def test_best_zones_see_different_baselines():
    inner, outer = g.select_experiments("best")
    f = g.oscillation_deficit((inner, outer), "bahcall", np.array([1.0, 3.0]))
    # at Δm² ~ 1 eV² (oscillation length ~1.9 m) the outer zone (mean L ≈ 0.96 m) oscillates more
    assert f[0, 1] > 2 * f[0, 0]
    assert inner.segments().mean_baseline_m < 0.45 < outer.segments().mean_baseline_m
