"""The gallium source experiments: GALLEX, SAGE and BEST (docs/physics.md §8).

Six radioactive-source calibrations of ⁷¹Ga(νe, e⁻)⁷¹Ge detectors measured the ratio R of the
observed ⁷¹Ge production rate to the one predicted with Bahcall's 1997 capture cross section.
This module holds

* the measured ratios with their experimental uncertainties (the cross-section uncertainty
  is *not* inside them; it is a separate, fully correlated systematic, see
  :class:`CrossSectionModel`), and the correlated components the papers give;
* the ⁷¹Ga capture cross-section models, per source and per neutrino line, and the exact
  rescaling of the ratios from Bahcall's cross section to any other model;
* the target geometries (axisymmetric: the source sits on the symmetry axis) and their
  path-length distributions, computed by tracing rays from the source: the flux-weighted
  volume element is dV/(4πL²) = (dΩ/4π) dL, so every direction contributes its chords
  through the gallium with uniform weight in L. The solid-angle integral is a piecewise
  Gauss–Legendre rule split at every geometric kink; the L integral is exact. The 3+1
  survival probability is then averaged *exactly* over every chord (docs/physics.md §4);
* the oscillated prediction R_pred(Δm², sin²2θ) = Σ_lines w_line ⟨P_ee⟩_line with
  w = intensity × σ_line, normalised, vectorised over grids.

Units: metres, MeV, days, Bq, cm² (cross sections, as in the literature tables).

Confidence labels in the comments (docs/physics.md §8): CONFIRMED (seen in the
paper's own abstract), SECONDARY (quoted by another work or public code, named), DERIVED
(arithmetic from those, shown), UNVERIFIED (literature value not checked against the paper).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import PhysicsInputError
from ganom.models.constants import ALPHA_EM, ATOMIC_WEIGHT, AVOGADRO, CURIE_BQ, M_ELECTRON_MEV, SECONDS_PER_DAY
from ganom.models.oscillation import mean_sin2
from ganom.models.sources import AR37, CR51, NeutrinoSource

__all__ = [
    "Isotope",
    "ISOTOPES",
    "GA71_THRESHOLD_MEV",
    "GE71_EXCITED_MEV",
    "GE_Z",
    "GA_DENSITY_G_CM3",
    "GA71_ABUNDANCE",
    "GA_MOLAR_MASS",
    "ga71_density_cm3",
    "AxialSphere",
    "AxialCylinder",
    "Shape",
    "PathSegments",
    "GalliumZone",
    "GALLEX_SOURCE_Z_M",
    "BEST_INNER_RADIUS_M",
    "BEST_OUTER_RADIUS_M",
    "BEST_OUTER_HEIGHT_M",
    "BEST_TUBE_RADIUS_M",
    "BEST_TUBE_BOTTOM_M",
    "BEST_ZONE_MASS_KG",
    "best_outer_fill_height_m",
    "cylinder_geometry",
    "best_geometry",
    "allowed_phase_space",
    "excited_phase_space_ratio",
    "FREKERS_BGT_RATIO",
    "CrossSectionModel",
    "XSEC_MODELS",
    "REFERENCE_MODEL",
    "xsec_model",
    "line_cross_sections",
    "line_weights",
    "GalliumExperiment",
    "ERROR_TREATMENTS",
    "DEFAULT_ERROR_TREATMENT",
    "BEST_PUBLISHED_ERROR",
    "error_treatment",
    "apply_error_treatment",
    "EXPERIMENTS",
    "EXPERIMENT_NAMES",
    "EXPERIMENT_SETS",
    "select_experiments",
    "oscillation_deficit",
    "predicted_ratio",
]

Isotope = Literal["51Cr", "37Ar"]
ISOTOPES: tuple[str, ...] = ("51Cr", "37Ar")

# ----------------------------------------------------------------------------- nuclear data
# ⁷¹Ga(νe,e⁻)⁷¹Ge threshold 233 keV: SAGE, PRC 59 (1999) 2246, §I (CONFIRMED, ar5iv text);
# Bahcall, PRC 56 (1997) 3391 uses Q = 232.69 keV (SECONDARY); the 0.4 keV difference is
# irrelevant for the line shapes below (the only place it enters).
GA71_THRESHOLD_MEV = 0.2332
# ⁷¹Ge excited states reached by ⁵¹Cr/³⁷Ar neutrinos: 5/2⁻ at 174.956 keV and 3/2⁻ at
# 499.87 keV (ENSDF ⁷¹Ge adopted levels; Bahcall 1997 Table I uses 175 and 500 keV).
GE71_EXCITED_MEV: tuple[float, float] = (0.174956, 0.49987)
GE_Z = 32
# Liquid Ga metal at ~30 °C: 6.095 g/cm³ (density used by SAGE/BEST; docs/physics.md §8.2,
# SECONDARY); ⁷¹Ga isotopic abundance 39.892(9) % (IUPAC 2013 isotopic compositions).
GA_DENSITY_G_CM3 = 6.095
GA71_ABUNDANCE = 0.39892
GA_MOLAR_MASS = ATOMIC_WEIGHT["Ga"]


def ga71_density_cm3(density_g_cm3: float = GA_DENSITY_G_CM3) -> float:
    """Number density of ⁷¹Ga atoms in gallium metal [cm⁻³] (2.100e22 at 6.095 g/cm³)."""
    return density_g_cm3 / GA_MOLAR_MASS * AVOGADRO * GA71_ABUNDANCE


# ----------------------------------------------------------------------------- geometry
_BIG = 1e30  # "no limit" along a ray [m]


@dataclass(frozen=True)
class AxialSphere:
    """A sphere of ``radius_m`` centred on the symmetry axis at height ``centre_z_m``
    (coordinates relative to the source, z up)."""

    radius_m: float
    centre_z_m: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius_m) and self.radius_m > 0):
            raise PhysicsInputError("radius_m", self.radius_m, "a finite sphere radius > 0 m")
        if not math.isfinite(self.centre_z_m):
            raise PhysicsInputError("centre_z_m", self.centre_z_m, "a finite height [m]")

    def chord(self, u: NDArray, s: NDArray) -> tuple[NDArray, NDArray]:
        """[t_in, t_out] of the ray from the source with direction cosine u = cos θ (empty: t_in ≥ t_out)."""
        c, r = self.centre_z_m, self.radius_m
        disc = (c * u) ** 2 - (c * c - r * r)
        root = np.sqrt(np.maximum(disc, 0.0))
        t1, t2 = c * u - root, c * u + root
        ok = disc > 0
        return np.where(ok, np.maximum(t1, 0.0), 0.0), np.where(ok, np.maximum(t2, 0.0), 0.0)

    def circles(self) -> list[tuple[float, float]]:
        """The circle of tangency of the cone from the source (source outside the sphere)."""
        c, r = self.centre_z_m, self.radius_m
        if abs(c) <= r:
            return []
        z = (c * c - r * r) / c
        return [(math.sqrt(max(c * c - r * r - z * z, 0.0)), z)]

    def volume_m3(self) -> float:
        return 4.0 / 3.0 * math.pi * self.radius_m**3


@dataclass(frozen=True)
class AxialCylinder:
    """A cylinder of ``radius_m`` around the symmetry axis between heights ``z_lo_m`` and
    ``z_hi_m`` (relative to the source)."""

    radius_m: float
    z_lo_m: float
    z_hi_m: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius_m) and self.radius_m > 0):
            raise PhysicsInputError("radius_m", self.radius_m, "a finite cylinder radius > 0 m")
        if not (math.isfinite(self.z_lo_m) and math.isfinite(self.z_hi_m) and self.z_lo_m < self.z_hi_m):
            raise PhysicsInputError("z_lo_m, z_hi_m", (self.z_lo_m, self.z_hi_m), "finite heights with z_lo < z_hi [m]")

    def chord(self, u: NDArray, s: NDArray) -> tuple[NDArray, NDArray]:
        """[t_in, t_out] of the ray (direction cosine u, sine s) inside the cylinder."""
        with np.errstate(divide="ignore", invalid="ignore"):
            t_rad = np.where(s > 0, self.radius_m / np.where(s > 0, s, 1.0), _BIG)
            za = np.where(u != 0, self.z_lo_m / np.where(u != 0, u, 1.0), 0.0)
            zb = np.where(u != 0, self.z_hi_m / np.where(u != 0, u, 1.0), 0.0)
        inside_slab = (self.z_lo_m <= 0.0) & (self.z_hi_m >= 0.0)
        z_in = np.where(u != 0, np.minimum(za, zb), np.where(inside_slab, -_BIG, _BIG))
        z_out = np.where(u != 0, np.maximum(za, zb), np.where(inside_slab, _BIG, -_BIG))
        t_in = np.maximum(z_in, 0.0)
        t_out = np.minimum(z_out, t_rad)
        return t_in, np.maximum(t_out, t_in)

    def circles(self) -> list[tuple[float, float]]:
        return [(self.radius_m, self.z_lo_m), (self.radius_m, self.z_hi_m)]

    def volume_m3(self) -> float:
        return math.pi * self.radius_m**2 * (self.z_hi_m - self.z_lo_m)


Shape = AxialSphere | AxialCylinder


def _intersection_circles(a: Shape, b: Shape) -> list[tuple[float, float]]:
    """(ρ, z) of the circles where the boundaries of two axisymmetric shapes meet."""
    out: list[tuple[float, float]] = []
    pairs = [(a, b), (b, a)]
    for p, q in pairs:
        if isinstance(p, AxialSphere) and isinstance(q, AxialCylinder):
            r, c = p.radius_m, p.centre_z_m
            if q.radius_m < r:  # side wall ρ = a meets the sphere
                h = math.sqrt(r * r - q.radius_m**2)
                out += [(q.radius_m, c - h), (q.radius_m, c + h)]
            for z in (q.z_lo_m, q.z_hi_m):  # caps meet the sphere
                if abs(z - c) < r:
                    out.append((math.sqrt(r * r - (z - c) ** 2), z))
    if isinstance(a, AxialCylinder) and isinstance(b, AxialCylinder):
        out += [(a.radius_m, b.z_lo_m), (a.radius_m, b.z_hi_m), (b.radius_m, a.z_lo_m), (b.radius_m, a.z_hi_m)]
    if isinstance(a, AxialSphere) and isinstance(b, AxialSphere) and a.centre_z_m != b.centre_z_m:
        d = b.centre_z_m - a.centre_z_m
        z = (a.radius_m**2 - b.radius_m**2 + d * d) / (2 * d)
        if abs(z) < a.radius_m:
            out.append((math.sqrt(a.radius_m**2 - z * z), a.centre_z_m + z))
    return out


@dataclass(frozen=True)
class PathSegments:
    """Flux-weighted chords through a target: segment k covers baselines [l_lo, l_hi] [m]
    with weight ``weight`` (solid-angle fraction dΩ/4π of its ray).

    ∫ dV/(4πL²) f(L) = Σ_k weight_k ∫_{l_lo,k}^{l_hi,k} f(L) dL.
    """

    l_lo: NDArray[np.float64]
    l_hi: NDArray[np.float64]
    weight: NDArray[np.float64]

    @property
    def flux_weighted_volume_m(self) -> float:
        """G = ∫ dV/(4πL²) [m] (the 'effective path length' ⟨L⟩ of the gallium papers)."""
        return float(np.sum(self.weight * (self.l_hi - self.l_lo)))

    @property
    def mean_baseline_m(self) -> float:
        """Flux-weighted mean baseline ∫ L dV/(4πL²) / G [m]."""
        return float(np.sum(self.weight * 0.5 * (self.l_hi**2 - self.l_lo**2)) / self.flux_weighted_volume_m)

    def histogram(self, edges: ArrayLike) -> NDArray[np.float64]:
        """∫ dV/(4πL²) over each baseline interval of ``edges`` [m].

        Exact in L (chords are uniform in L); the solid-angle rule is not split at the
        directions where a chord ends on a bin edge, so bins carry ~1e-4 relative errors
        while their sum (G) is exact.
        """
        e = np.asarray(edges, dtype=float)
        if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
            raise PhysicsInputError("edges", edges, "an increasing 1-d array of ≥ 2 baselines [m]")
        lo = np.clip(self.l_lo[None, :], e[:-1, None], e[1:, None])
        hi = np.clip(self.l_hi[None, :], e[:-1, None], e[1:, None])
        return (hi - lo) @ self.weight

    def mean_sin2(self, e_nu_mev: ArrayLike, dm2: ArrayLike) -> NDArray[np.float64]:
        """Flux-weighted ⟨sin²(1.267 Δm² L/E)⟩ over the target, shape broadcast(dm2, E) [...].

        Exact in L on every chord (:func:`ganom.models.oscillation.mean_sin2`), so no aliasing at
        large Δm². Vectorised: the result has shape ``np.broadcast(dm2, e_nu).shape``.
        """
        d, e = np.broadcast_arrays(np.asarray(dm2, dtype=float), np.asarray(e_nu_mev, dtype=float))
        length = self.l_hi - self.l_lo
        wl = self.weight * length / self.flux_weighted_volume_m
        flat_d, flat_e = d.reshape(-1, 1), e.reshape(-1, 1)
        out = np.empty(flat_d.shape[0])
        chunk = max(1, 2_000_000 // max(1, length.size))
        for i in range(0, out.size, chunk):
            ms = mean_sin2(self.l_lo, self.l_hi, flat_e[i:i + chunk], flat_d[i:i + chunk])
            out[i:i + chunk] = ms @ wl
        return out.reshape(d.shape)


@dataclass(frozen=True)
class GalliumZone:
    """A gallium volume: ``shape`` minus the ``exclude`` shapes, with the source at the origin
    on the symmetry axis."""

    name: str
    shape: Shape
    exclude: tuple[Shape, ...] = ()
    nodes_per_piece: int = 48

    def segments(self) -> PathSegments:
        """The zone's chords from the source (:class:`PathSegments`), deterministic (cached)."""
        return _zone_segments(self)

    def _trace(self) -> PathSegments:
        shapes = (self.shape,) + tuple(self.exclude)
        circles = [c for sh in shapes for c in sh.circles()]
        for i in range(len(shapes)):
            for j in range(i + 1, len(shapes)):
                circles += _intersection_circles(shapes[i], shapes[j])
        breaks = {-1.0, 0.0, 1.0}
        for rho, z in circles:
            n = math.hypot(rho, z)
            if n > 0:
                breaks.add(z / n)
        b = np.array(sorted(x for x in breaks if -1.0 <= x <= 1.0))
        b = b[np.concatenate([[True], np.diff(b) > 1e-14])]
        # Gauss–Legendre in t ∈ [0, 1] per piece with u = a + (b − a)(3t² − 2t³): du/dt vanishes
        # at both ends, so square-root behaviour at a breakpoint (a tangent cone) stays smooth.
        x, w = np.polynomial.legendre.leggauss(self.nodes_per_piece)
        t = 0.5 * (x + 1.0)
        width = np.diff(b)
        u = (b[:-1, None] + width[:, None] * (t * t * (3.0 - 2.0 * t))[None, :]).ravel()
        wu = (width[:, None] * (0.5 * w * 6.0 * t * (1.0 - t))[None, :]).ravel() * 0.5  # dΩ/4π = du/2
        s = np.sqrt(np.clip(1.0 - u * u, 0.0, None))
        t_in, t_out = self.shape.chord(u, s)
        # Subtract the excluded shapes: split [t_in, t_out] at every excluded chord end and
        # keep the elementary pieces whose midpoints lie outside all exclusions.
        ex = [sh.chord(u, s) for sh in self.exclude]
        pts = [t_in, t_out] + [np.clip(a, t_in, t_out) for pair in ex for a in pair]
        P = np.sort(np.stack(pts, axis=-1), axis=-1)
        lo, hi = P[:, :-1], P[:, 1:]
        mid = 0.5 * (lo + hi)
        keep = hi > lo
        for a, bb in ex:
            keep &= ~((mid > a[:, None]) & (mid < bb[:, None]))
        wt = np.broadcast_to(wu[:, None], lo.shape)
        return PathSegments(lo[keep], hi[keep], wt[keep])

    def volume_m3(self) -> float:
        """Volume [m³] by the same ray integration: V = ∫ dΩ ∫ L² dL."""
        sg = self.segments()
        return float(4.0 * math.pi * np.sum(sg.weight * (sg.l_hi**3 - sg.l_lo**3) / 3.0))


@lru_cache(maxsize=64)
def _zone_segments(zone: GalliumZone) -> PathSegments:
    return zone._trace()


# Geometries (metres, relative to the source; z up).
# GALLEX tank: cylinder R = 1.9 m, H = 5.0 m, source on the axis at 2.7 m (Cr1) and 2.38 m
# (Cr2) above the bottom of the solution: Acero, Giunti & Laveder, PRD 78 (2008) 073009,
# Table II, as used in a public fit code (docs/physics.md §8.2, SECONDARY). The source's
# re-entrant thimble is not modelled (its dimensions were not found).
GALLEX_RADIUS_M, GALLEX_HEIGHT_M = 1.9, 5.0
GALLEX_SOURCE_Z_M = {"GALLEX-1": 2.7, "GALLEX-2": 2.38}
# SAGE source reactor: cylinder R = 0.7 m, H = 1.47 m, source at 0.72 m (same source,
# SECONDARY). 13.1 t (Cr) / 13 t (Ar) of Ga (CONFIRMED, abstracts) is 2.15 m³, 5 % less than
# this cylinder (2.26 m³): the fill height is probably ~1.40 m; not corrected here.
SAGE_RADIUS_M, SAGE_HEIGHT_M, SAGE_SOURCE_Z_M = 0.7, 1.47, 0.72
# BEST two-zone target: inner sphere of inner diameter 133.5 cm with the source at its centre;
# outer cylinder 218.0 cm diameter, 234.5 cm tall, centred on the source; re-entrant source
# tube of radius 4.3 + 3 cm (source + shield) from 6.9 cm below the centre upward: public
# re-implementation Harvard-Neutrino/DayaBaySterileDecoherence BEST/BEST.py (commit 5d019e86),
# SECONDARY. Zone masses 7469.1 kg (inner) and 39959.3 kg (outer): docs/physics.md §8.2,
# UNVERIFIED (recalled from Barinov et al., PRC 105 (2022) 065502).
BEST_INNER_RADIUS_M = 1.335 / 2.0
BEST_OUTER_RADIUS_M = 2.180 / 2.0
BEST_OUTER_HEIGHT_M = 2.345
BEST_TUBE_RADIUS_M = 0.043 + 0.03
BEST_TUBE_BOTTOM_M = -(0.108 + 0.03) / 2.0
BEST_ZONE_MASS_KG = {"inner": 7469.1, "outer": 39959.3}


def best_outer_fill_height_m(mass_kg: float = BEST_ZONE_MASS_KG["outer"], wall_m: float = 0.0,
                             density_g_cm3: float = GA_DENSITY_G_CM3) -> float:
    """Height [m] of the Ga column in BEST's outer tank implied by the outer-zone mass.

    V = π R_out² h − (4/3)π (R_in + wall)³ − π a² (h − h_c), with the tube (radius a) above the
    sphere neglected at the 0.1 % level and h_c the height of the sphere centre. The outer
    mass (≈40 t) is 13 % below a full 234.5 cm tank (45.7 t at 6.095 g/cm³): the Ga does not
    reach the lid. This fill height, not a rate, is what brings the flux-weighted volume of the
    outer zone to ≈ 0.546 m (see :func:`best_geometry`).
    """
    v = mass_kg * 1e-3 / density_g_cm3  # m³ (kg / (g/cm³) = 1e-3 m³)
    v_sphere = 4.0 / 3.0 * math.pi * (BEST_INNER_RADIUS_M + wall_m) ** 3
    return (v + v_sphere) / (math.pi * BEST_OUTER_RADIUS_M**2)


def cylinder_geometry(name: str, radius_m: float, height_m: float, source_z_m: float) -> tuple[GalliumZone, ...]:
    """A cylindrical target with the source on its axis at ``source_z_m`` above the bottom."""
    if not 0.0 < source_z_m < height_m:
        raise PhysicsInputError("source_z_m", source_z_m, f"0 < z < {height_m} m (source inside the tank)")
    return (GalliumZone(name, AxialCylinder(radius_m, -source_z_m, height_m - source_z_m)),)


def best_geometry(fill_from_mass: bool = True, tube_radius_m: float = BEST_TUBE_RADIUS_M,
                  tube_bottom_m: float = BEST_TUBE_BOTTOM_M, sphere_wall_m: float = 0.0) -> tuple[GalliumZone, GalliumZone]:
    """BEST's inner (sphere minus the source tube) and outer (cylinder minus the sphere and the
    tube) zones.

    ``fill_from_mass``: the outer Ga column height from the outer-zone mass
    (:func:`best_outer_fill_height_m`) instead of the full 234.5 cm tank.

    Flux-weighted volumes G = ∫dV/(4πL²) of this geometry: inner 0.5716 m, outer 0.5457 m
    (full tank: 0.5926 m). BEST's predicted rates (69.4 and 72.6 ⁷¹Ge/d = P_meas/R, from the
    abstracts) correspond to G = A σ_B n₇₁ / P = 0.521 and 0.545 m (docs/physics.md §8.2). The
    outer zone agrees once the fill height follows the zone mass; the inner zone stays 9.7 %
    high. Inside the inner sphere the weight 1/L² concentrates on the gallium next to the
    source, so G there is dominated by the source-holder cavity (a 12 cm radius instead of
    7.3 cm gives G_in = 0.523 m), whose real dimensions were not found. SAGE shows the same
    pattern: its plain cylinder gives A σ_B n₇₁ G = 15.5 ⁷¹Ge/d for the ³⁷Ar source against
    the published 11.0/0.79 = 13.9 (G ≈ 0.72 m instead of 0.80 m), again the source thimble.
    No factor is applied to hide this: the fits use the measured *ratios* and need only the
    shape of the path-length distribution. A 12 cm cavity moves R_pred,in by ≤ 1.3 % (at
    Δm² ≈ 1 eV², sin²2θ = 0.4) and the BEST-only best fit from Δm² = 3.14 to 3.21 eV² at
    unchanged sin²2θ = 0.415 (tested); the full-tank outer zone would move R_pred,out by ≤ 1 %.
    """
    top = BEST_OUTER_HEIGHT_M / 2.0
    bottom = -BEST_OUTER_HEIGHT_M / 2.0
    if fill_from_mass:
        top = bottom + best_outer_fill_height_m(wall_m=sphere_wall_m)
    tube = AxialCylinder(tube_radius_m, tube_bottom_m, top + 1.0)
    inner = GalliumZone("BEST-inner", AxialSphere(BEST_INNER_RADIUS_M), (tube,))
    outer = GalliumZone("BEST-outer", AxialCylinder(BEST_OUTER_RADIUS_M, bottom, top),
                        (AxialSphere(BEST_INNER_RADIUS_M + sphere_wall_m), tube))
    return inner, outer


# ----------------------------------------------------------------------------- cross sections
def allowed_phase_space(e_nu_mev: ArrayLike, excitation_mev: float = 0.0) -> NDArray[np.float64]:
    """p_e E_e F(Z=32, E_e) [MeV²] of an allowed ⁷¹Ga→⁷¹Ge transition (0 below threshold).

    E_e = E_ν − Q − E_x + m_e; F is the non-relativistic point-charge Fermi function
    2πη/(1 − e^{−2πη}), η = αZ E_e/p_e. Used only for the *relative* weights of the lines of
    one source (its absolute value cancels); it reproduces Bahcall's ratio
    σ(427 keV)/σ(747 keV) = 26.7/60.8 to 1 % (tested).
    """
    e = np.asarray(e_nu_mev, dtype=float)
    t = e - GA71_THRESHOLD_MEV - excitation_mev
    ee = np.where(t > 0, t, 0.0) + M_ELECTRON_MEV
    p = np.sqrt(np.maximum(ee * ee - M_ELECTRON_MEV**2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        x = 2.0 * math.pi * ALPHA_EM * GE_Z * ee / np.where(p > 0, p, 1.0)
        fermi = x / -np.expm1(-x)
    return np.where(t > 0, p * ee * fermi, 0.0)


def excited_phase_space_ratio(e_nu_mev: ArrayLike) -> NDArray[np.float64]:
    """ξ_k(E) = φ(E − E_k)/φ(E) for the 175 and 500 keV states, shape (..., 2)."""
    e = np.asarray(e_nu_mev, dtype=float)
    gs = allowed_phase_space(e)[..., None]
    ex = np.stack([allowed_phase_space(e, ex) for ex in GE71_EXCITED_MEV], axis=-1)
    return np.where(gs > 0, ex / np.where(gs > 0, gs, 1.0), 0.0)


# Frekers et al., PLB 706 (2011) 134, ⁷¹Ga(³He,t): B(GT) of the 175 and 500 keV states
# relative to the ground state, 0.040 ± 0.031 and 0.207 ± 0.016 (their Table 3 as
# transcribed in a public gallium fit code; docs/physics.md §8.3, SECONDARY).
FREKERS_BGT_RATIO = (0.040, 0.207)


@dataclass(frozen=True)
class CrossSectionModel:
    """A ⁷¹Ga(νe,e⁻) capture cross-section model.

    ``sigma_cm2[iso]`` is the cross section averaged over the source's neutrino spectrum,
    ``err_hi/err_lo[iso]`` its 1σ upper/lower uncertainties [cm²]. ``line_sigma_cm2`` holds
    per-line values where the model gives them (keyed by line energy in keV, e.g. "746.7");
    otherwise the line weights follow the allowed phase space with the excited-state
    strengths ``bgt_ratio`` (B(GT)_{175}/B(GT)_gs, B(GT)_{500}/B(GT)_gs).
    """

    name: str
    label: str
    sigma_cm2: dict[str, float]
    err_hi_cm2: dict[str, float]
    err_lo_cm2: dict[str, float]
    reference: str
    status: str
    bgt_ratio: tuple[float, float] | None = None
    line_sigma_cm2: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for iso in ISOTOPES:
            for d, what in ((self.sigma_cm2, "sigma_cm2"), (self.err_hi_cm2, "err_hi_cm2"), (self.err_lo_cm2, "err_lo_cm2")):
                if iso not in d or not (math.isfinite(d[iso]) and d[iso] >= 0):
                    raise PhysicsInputError(f"{what}[{iso}]", d.get(iso), "a finite value ≥ 0 [cm²]", f"cross-section model '{self.name}'")
            if not self.sigma_cm2[iso] > 0:
                raise PhysicsInputError(f"sigma_cm2[{iso}]", self.sigma_cm2[iso], "> 0 cm²", f"cross-section model '{self.name}'")

    def rel_err(self, isotope: str) -> tuple[float, float]:
        """(δ_lo, δ_hi): relative 1σ uncertainties of σ for ``isotope``."""
        s = self.sigma_cm2[isotope]
        return self.err_lo_cm2[isotope] / s, self.err_hi_cm2[isotope] / s


_E45 = 1e-45


def _xs(cr: tuple[float, float, float], ar: tuple[float, float, float]) -> tuple[dict, dict, dict]:
    """(σ, +err, −err) in 1e-45 cm² per isotope → three dicts in cm²."""
    return ({"51Cr": cr[0] * _E45, "37Ar": ar[0] * _E45}, {"51Cr": cr[1] * _E45, "37Ar": ar[1] * _E45},
            {"51Cr": cr[2] * _E45, "37Ar": ar[2] * _E45})


def _model(name: str, label: str, cr: tuple[float, float, float], ar: tuple[float, float, float], reference: str,
           status: str, **kw) -> CrossSectionModel:
    s, hi, lo = _xs(cr, ar)
    return CrossSectionModel(name, label, s, hi, lo, reference, status, **kw)


# Values in 1e-45 cm²: (σ, +err, −err) for ⁵¹Cr and ³⁷Ar.
XSEC_MODELS: dict[str, CrossSectionModel] = {m.name: m for m in (
    # Ground state only, from the ⁷¹Ge EC half-life (T½ = 11.43 d, Hampel & Remsberg,
    # PRC 31 (1985) 666): the minimum cross section. 5.539 ± 0.019 / 6.625 ± 0.022 as compiled
    # by Giunti et al., PLB 842 (2023) 137983 (arXiv:2212.09722), Table 1 — UNVERIFIED (research
    # note §2); Bahcall's own g.s. parts are 5.52 / 6.62 (SECONDARY).
    _model("ground_state", "g.s. only", (5.539, 0.019, 0.019), (6.625, 0.022, 0.022),
           "Giunti et al., PLB 842 (2023) 137983 (g.s. from the 71Ge half-life)", "UNVERIFIED", bgt_ratio=(0.0, 0.0)),
    # Bahcall, PRC 56 (1997) 3391 (hep-ph/9710491): ⁵¹Cr 58.1 (+2.1, −1.6) ×10⁻⁴⁶ cm², ³⁷Ar
    # 70.0 (+4.9, −2.1) ×10⁻⁴⁶ cm² (central values SECONDARY: public fit code). The ³⁷Ar
    # errors are DERIVED-consistent with the SAGE-Ar abstract: 11.0 (+1.0, −0.9) ± 0.6 /d and
    # R = 0.79 (+0.09, −0.10) require +7 %/−3 % theory errors. Per-line values (10⁻⁴⁶ cm²)
    # 747: 60.8, 752: 61.5, 427: 26.7, 432: 27.1, 811: 70.1, 813: 70.3 (Acero et al. 2008
    # Table I via the same code, SECONDARY); they average to 57.5, 1 % below 58.1, so only
    # their shape is used and the total is kept.
    _model("bahcall", "Bahcall 1997", (5.81, 0.21, 0.16), (7.00, 0.49, 0.21),
           "Bahcall, PRC 56 (1997) 3391", "SECONDARY",
           line_sigma_cm2={"51Cr": {"746.7": 60.8e-46, "751.8": 61.5e-46, "426.6": 26.7e-46, "431.7": 27.1e-46},
                           "37Ar": {"811.0": 70.1e-46, "813.0": 70.3e-46}}),
    # Haxton, PLB 431 (1998) 110 (shell model, destructive (p,n) interference for the 500 keV
    # state). ⁵¹Cr DERIVED from the SAGE-Cr abstract (hep-ph/9803418): σ_meas = 5.55 and the
    # ratio to Haxton 0.87 ± 0.11 (expt) ± 0.09 (theor) give 6.38 ± 10.3 %; 6.39 ± 0.65 as in
    # Giunti et al. 2023 Table 1. ³⁷Ar 7.72 ± 0.81 (Giunti et al. 2023, UNVERIFIED).
    _model("haxton", "Haxton 1998", (6.39, 0.65, 0.65), (7.72, 0.81, 0.81),
           "Haxton, PLB 431 (1998) 110", "Cr DERIVED, Ar UNVERIFIED"),
    # Frekers et al., PLB 706 (2011) 134: g.s. (Bahcall 5.52/6.62) + their B(GT): 5.92 ± 0.11 /
    # 7.15 ± 0.14 (Giunti et al. 2023 Table 1, UNVERIFIED). DERIVED check: 5.52 × (1 + 0.669·0.040
    # + 0.220·0.207) = 5.92 and 6.62 × (1 + 0.695·0.040 + 0.263·0.207) = 7.16 (Bahcall's
    # phase-space factors, SECONDARY).
    _model("frekers", "Frekers 2011", (5.92, 0.11, 0.11), (7.15, 0.14, 0.14),
           "Frekers et al., PLB 706 (2011) 134", "UNVERIFIED (DERIVED-consistent)", bgt_ratio=FREKERS_BGT_RATIO),
    # Kostensalo, Suhonen, Giunti & Srivastava, PLB 795 (2019) 542 (arXiv:1906.10980), shell
    # model: 5.67 ± 0.06 / 6.80 ± 0.08 (docs/physics.md §8.3, UNVERIFIED). CONFIRMED in their
    # abstract: the GALLEX+SAGE anomaly drops from 3.0σ to 2.3σ with it.
    _model("kostensalo", "Kostensalo 2019", (5.67, 0.06, 0.06), (6.80, 0.08, 0.08),
           "Kostensalo et al., PLB 795 (2019) 542", "UNVERIFIED"),
    # Semenov, Phys. At. Nucl. 83 (2020) 1549: 5.938 ± 0.116 / 7.169 ± 0.147 (docs/physics.md §8.3,
    # UNVERIFIED); DERIVED-consistent with g.s. 5.539/6.625 + Frekers B(GT) (5.939/7.168).
    _model("semenov", "Semenov 2020", (5.938, 0.116, 0.116), (7.169, 0.147, 0.147),
           "Semenov, Phys. At. Nucl. 83 (2020) 1549", "UNVERIFIED (DERIVED-consistent)", bgt_ratio=FREKERS_BGT_RATIO),
)}
REFERENCE_MODEL = "bahcall"  # the measured ratios are relative to this model


def xsec_model(name: str | CrossSectionModel) -> CrossSectionModel:
    """A cross-section model by name (``XSEC_MODELS``) or the object itself."""
    if isinstance(name, CrossSectionModel):
        return name
    key = str(name).lower().replace("-", "_")
    if key in ("gs", "ground"):
        key = "ground_state"
    if key not in XSEC_MODELS:
        raise PhysicsInputError("cross-section model", name, " | ".join(XSEC_MODELS))
    return XSEC_MODELS[key]


def _source_for(isotope: str) -> NeutrinoSource:
    if isotope == "51Cr":
        return CR51
    if isotope == "37Ar":
        return AR37
    raise PhysicsInputError("isotope", isotope, " | ".join(ISOTOPES))


def line_cross_sections(model: str | CrossSectionModel, isotope: str,
                        source: NeutrinoSource | None = None) -> NDArray[np.float64]:
    """σ per neutrino line of the source [cm²], normalised so that Σ I_l σ_l = σ_model(isotope).

    The shape comes from the model's own per-line values where it gives them, else from the
    allowed phase space with the model's excited-state strengths (B(GT) ratios; models that
    give only totals take Frekers' 175:500 keV proportions scaled to their ⁵¹Cr excess over
    the ground state).
    """
    m = xsec_model(model)
    src = source or _source_for(isotope)
    e, inten = src.energies_mev, src.intensities
    given = m.line_sigma_cm2.get(isotope)
    keys = [f"{x * 1e3:.1f}" for x in e]
    if given and all(k in given for k in keys):
        shape = np.array([given[k] for k in keys])
    else:
        ratio = m.bgt_ratio
        if ratio is None:
            gs = XSEC_MODELS["ground_state"].sigma_cm2["51Cr"]
            cr = CR51
            xi_cr = excited_phase_space_ratio(cr.energies_mev)
            w_cr = cr.intensities * allowed_phase_space(cr.energies_mev)
            base = float((w_cr @ xi_cr) @ np.asarray(FREKERS_BGT_RATIO) / w_cr.sum())
            kappa = max(m.sigma_cm2["51Cr"] / gs - 1.0, 0.0) / base
            ratio = (kappa * FREKERS_BGT_RATIO[0], kappa * FREKERS_BGT_RATIO[1])
        shape = allowed_phase_space(e) * (1.0 + excited_phase_space_ratio(e) @ np.asarray(ratio))
    return shape * m.sigma_cm2[isotope] / float(inten @ shape)


def line_weights(model: str | CrossSectionModel, isotope: str, source: NeutrinoSource | None = None) -> NDArray[np.float64]:
    """w_l = I_l σ_l / Σ I σ: the share of the ⁷¹Ge production of every line."""
    src = source or _source_for(isotope)
    w = src.intensities * line_cross_sections(model, isotope, src)
    return w / w.sum()


# ----------------------------------------------------------------------------- experiments
@dataclass(frozen=True)
class GalliumExperiment:
    """One source experiment.

    ratio : measured/predicted ⁷¹Ge production with Bahcall's σ (REFERENCE_MODEL).
    stat_hi, stat_lo, syst : its experimental 1σ errors on R (no cross-section error);
        ``syst`` symmetric and uncorrelated between experiments unless ``correlated`` says.
    correlated : {nuisance name: relative 1σ} of normalisation uncertainties shared with
        other experiments (e.g. BEST's source activity, common to the inner and outer zone).
    zones : the target volume(s) whose path lengths the ratio averages over.
    published_error : the symmetric total 1σ on R as the collaboration quotes it, where that
        total *includes* Bahcall's cross-section error (BEST: ±0.05); used by the "published"
        error treatment (:data:`ERROR_TREATMENTS`).
    """

    name: str
    isotope: str
    activity_bq: float
    ratio: float
    stat_hi: float
    stat_lo: float
    syst: float
    zones: tuple[GalliumZone, ...]
    correlated: dict[str, float] = field(default_factory=dict)
    measured_rate_per_day: float | None = None
    ga71_density_cm3: float | None = None
    references: dict[str, str] = field(default_factory=dict, compare=False)
    published_error: float | None = None

    def __post_init__(self) -> None:
        ctx = f"gallium experiment '{self.name}'"
        if self.isotope not in ISOTOPES:
            raise PhysicsInputError("isotope", self.isotope, " | ".join(ISOTOPES), ctx)
        for f in ("ratio", "stat_hi", "stat_lo", "activity_bq"):
            v = getattr(self, f)
            if not (math.isfinite(v) and v > 0):
                raise PhysicsInputError(f, v, "a finite value > 0", ctx)
        if not (math.isfinite(self.syst) and self.syst >= 0):
            raise PhysicsInputError("syst", self.syst, "a finite value ≥ 0", ctx)
        if not self.zones or not all(isinstance(z, GalliumZone) for z in self.zones):
            raise PhysicsInputError("zones", self.zones, "one or more GalliumZone target volumes", ctx)
        if self.published_error is not None and not (math.isfinite(self.published_error) and self.published_error > 0):
            raise PhysicsInputError("published_error", self.published_error, "a finite value > 0 or None", ctx)

    def with_errors(self, treatment: str) -> GalliumExperiment:
        """This experiment under an error treatment (:data:`ERROR_TREATMENTS`).

        "published": an experiment with a ``published_error`` carries that symmetric total as
        its only (uncorrelated) error, with no shared nuisance of its own (the published total
        already holds them); "experimental": unchanged (stat ⊕ syst, shared nuisances).
        """
        if error_treatment(treatment) == "published" and self.published_error is not None:
            return replace(self, stat_hi=self.published_error, stat_lo=self.published_error, syst=0.0,
                           correlated={})
        return self

    @property
    def err_hi(self) -> float:
        """Total experimental upper error on R (stat ⊕ syst; correlated parts excluded)."""
        return math.hypot(self.stat_hi, self.syst)

    @property
    def err_lo(self) -> float:
        return math.hypot(self.stat_lo, self.syst)

    @property
    def source(self) -> NeutrinoSource:
        return _source_for(self.isotope).with_activity(self.activity_bq)

    def segments(self) -> PathSegments:
        """Chords of all zones that form this ratio."""
        parts = [z.segments() for z in self.zones]
        return PathSegments(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("l_lo", "l_hi", "weight")))

    @property
    def flux_weighted_volume_m(self) -> float:
        return self.segments().flux_weighted_volume_m

    def rescaled(self, model: str | CrossSectionModel) -> GalliumExperiment:
        """The same measurement expressed relative to another cross-section model.

        R_model = R_B σ_B/σ_model (all errors scale alike): the measured rate R·σ is unchanged.
        """
        m, b = xsec_model(model), XSEC_MODELS[REFERENCE_MODEL]
        k = b.sigma_cm2[self.isotope] / m.sigma_cm2[self.isotope]
        pub = None if self.published_error is None else self.published_error * k
        return replace(self, ratio=self.ratio * k, stat_hi=self.stat_hi * k, stat_lo=self.stat_lo * k,
                       syst=self.syst * k, published_error=pub)

    def predicted_rate_per_day(self, model: str | CrossSectionModel = REFERENCE_MODEL) -> float | None:
        """A σ n₇₁ G [⁷¹Ge atoms/d] from this geometry (no oscillation), where n₇₁ is known."""
        if self.ga71_density_cm3 is None:
            return None
        m = xsec_model(model)
        return (self.activity_bq * m.sigma_cm2[self.isotope] * self.ga71_density_cm3
                * self.flux_weighted_volume_m * 100.0 * SECONDS_PER_DAY)


# BEST's quoted total 1σ on R_in = 0.791 and R_out = 0.766: ±0.05, which contains Bahcall's
# cross-section error (Barinov et al., PRL 128 (2022) 232501 abstract; quoted as R = 0.791 ± 0.05
# and 0.766 ± 0.05 in the abstract of Elliott, Gavrin, Haxton et al., arXiv:2303.13623,
# CONFIRMED).
BEST_PUBLISHED_ERROR = 0.05

# How the ratios' errors enter the gallium χ² (docs/physics.md §8.1). In both, each model's own
# cross-section error is the fully correlated nuisance ξ. "published" is the default because the
# per-model tables of Giunti, Li, Ternes & Xin, PLB 842 (2023) 137983 (arXiv:2212.09722) and of
# Elliott, Gavrin & Haxton, PPNP 134 (2024) 104082 (arXiv:2306.03299) take BEST's quoted ±0.05 as
# its error and rescale it to each model (as their method sections are summarised in reviews of
# them; the tables themselves were not available to check: UNVERIFIED). It counts Bahcall's 2.7–3.6 % σ error inside BEST's ±0.05 once more
# than "experimental" does (BEST's stat ⊕ syst alone is ±0.041).
ERROR_TREATMENTS: dict[str, str] = {
    "published": "BEST with its published +-0.05 (which contains Bahcall's cross-section error), "
                 "uncorrelated between zones; plus each model's own cross-section error",
    "experimental": "BEST with stat + syst only (Bahcall's cross-section error removed) and the shared "
                    "source-activity nuisance; plus each model's own cross-section error",
}
DEFAULT_ERROR_TREATMENT = "published"


def error_treatment(name: str) -> str:
    """The canonical name of an error treatment (:data:`ERROR_TREATMENTS`), case-insensitive."""
    key = str(name).strip().lower()
    if key not in ERROR_TREATMENTS:
        raise PhysicsInputError("errors", name, " | ".join(ERROR_TREATMENTS))
    return key


def apply_error_treatment(experiments: Iterable[GalliumExperiment], treatment: str = DEFAULT_ERROR_TREATMENT
                          ) -> tuple[GalliumExperiment, ...]:
    """Every experiment under ``treatment`` (:meth:`GalliumExperiment.with_errors`)."""
    t = error_treatment(treatment)
    return tuple(e.with_errors(t) for e in experiments)


def _experiments() -> tuple[GalliumExperiment, ...]:
    inner, outer = best_geometry()
    n71 = ga71_density_cm3()
    best_a = 3.414e6 * CURIE_BQ
    # BEST: Barinov et al., PRL 128 (2022) 232501 (arXiv:2109.11482) and PRC 105 (2022) 065502
    # (arXiv:2201.07364), abstracts (CONFIRMED): A = 3.414 MCi (calorimetric, ±0.23 %,
    # arXiv:2303.13623 abstract); P_in = 54.9 (+2.5, −2.4) stat ± 1.4 syst, P_out = 55.6
    # (+2.7, −2.6) ± 1.4 ⁷¹Ge/d; R_in = 0.791, R_out = 0.766 (three digits: arXiv:2303.13623
    # abstract). The quoted ±0.05 on R already contains the Bahcall cross-section error
    # (0.791 × √((2.87/54.9)² + (2.5/69.4)²) = 0.050, DERIVED), so here R carries stat ⊕ syst
    # only, rescaled to R: δR = R δP/P. The zone systematics are uncorrelated: with them
    # uncorrelated the out/in ratio error is ±0.072, fully correlated ±0.063; BEST quotes
    # 0.97 ± 0.07 (DERIVED).
    def best(name: str, r: float, p: float, s_hi: float, s_lo: float, zone: GalliumZone) -> GalliumExperiment:
        return GalliumExperiment(name, "51Cr", best_a, r, r * s_hi / p, r * s_lo / p, r * 1.4 / p, (zone,),
                                 {"best_activity": 0.0023}, p, n71,
                                 {"data": "Barinov et al., PRL 128 (2022) 232501; PRC 105 (2022) 065502",
                                  "geometry": "Harvard-Neutrino/DayaBaySterileDecoherence BEST/BEST.py (SECONDARY)"},
                                 published_error=BEST_PUBLISHED_ERROR)
    gx_zone = {k: cylinder_geometry(k, GALLEX_RADIUS_M, GALLEX_HEIGHT_M, z) for k, z in GALLEX_SOURCE_Z_M.items()}
    sage_zone = cylinder_geometry("SAGE", SAGE_RADIUS_M, SAGE_HEIGHT_M, SAGE_SOURCE_Z_M)
    kaether = "Kaether et al., PLB 685 (2010) 47 (re-analysis), as used by Giunti & Laveder, arXiv:1006.3244 (SECONDARY)"
    return (
        # GALLEX Cr1: 62.5 PBq (1.69 MCi), R = 0.953 ± 0.11 (Kaether 2010, SECONDARY).
        GalliumExperiment("GALLEX-1", "51Cr", 62.5e15, 0.953, 0.11, 0.11, 0.0, gx_zone["GALLEX-1"],
                          references={"data": kaether, "geometry": "Acero, Giunti & Laveder, PRD 78 (2008) 073009"}),
        # GALLEX Cr2: ≈ 69.1 PBq, R = 0.812 ± 0.10 (Kaether 2010 via Giunti & Laveder, SECONDARY;
        # docs/physics.md §8 lists the same).
        GalliumExperiment("GALLEX-2", "51Cr", 69.1e15, 0.812, 0.10, 0.10, 0.0, gx_zone["GALLEX-2"],
                          references={"data": kaether, "geometry": "Acero, Giunti & Laveder, PRD 78 (2008) 073009"}),
        # SAGE Cr: 517 kCi, R = 0.95 ± 0.12 (expt) (+0.035, −0.027) (theor): Abdurashitov et
        # al., PRC 59 (1999) 2246 (hep-ph/9803418) abstract (CONFIRMED). Expt error only here.
        GalliumExperiment("SAGE-Cr", "51Cr", 517e3 * CURIE_BQ, 0.95, 0.12, 0.12, 0.0, sage_zone,
                          references={"data": "Abdurashitov et al., PRC 59 (1999) 2246"}),
        # SAGE Ar: 409 ± 2 kCi; P = 11.0 (+1.0, −0.9) stat ± 0.6 syst /d, R = 0.79 (+0.09, −0.10)
        # including the cross-section error: Abdurashitov et al., PRC 73 (2006) 045805 abstract
        # (CONFIRMED). Experimental part DERIVED: 0.79 × (1.0, 0.9, 0.6)/11.0.
        GalliumExperiment("SAGE-Ar", "37Ar", 409e3 * CURIE_BQ, 0.79, 0.79 * 1.0 / 11.0, 0.79 * 0.9 / 11.0,
                          0.79 * 0.6 / 11.0, sage_zone, measured_rate_per_day=11.0, ga71_density_cm3=n71,
                          references={"data": "Abdurashitov et al., PRC 73 (2006) 045805"}),
        best("BEST-inner", 0.791, 54.9, 2.5, 2.4, inner),
        best("BEST-outer", 0.766, 55.6, 2.7, 2.6, outer),
    )


EXPERIMENTS: tuple[GalliumExperiment, ...] = _experiments()
EXPERIMENT_NAMES: tuple[str, ...] = tuple(e.name for e in EXPERIMENTS)
EXPERIMENT_SETS: dict[str, tuple[str, ...]] = {
    "all": EXPERIMENT_NAMES,
    "best": ("BEST-inner", "BEST-outer"),
    "gallex_sage": ("GALLEX-1", "GALLEX-2", "SAGE-Cr", "SAGE-Ar"),
}


def select_experiments(which: str | Iterable[str] = "all") -> tuple[GalliumExperiment, ...]:
    """Experiments by set name ("all", "best", "gallex_sage") or by a list of names."""
    items = [x.strip() for x in which.split(",")] if isinstance(which, str) else [str(x) for x in which]
    names: list[str] = []
    for it in items:
        if not it:
            continue
        names += list(EXPERIMENT_SETS.get(it.lower(), (it,)))
    lookup = {e.name.lower(): e for e in EXPERIMENTS}
    out: list[GalliumExperiment] = []
    for n in dict.fromkeys(names):
        if n.lower() not in lookup:
            raise PhysicsInputError("experiments", n, " | ".join(list(EXPERIMENT_SETS) + list(EXPERIMENT_NAMES)))
        out.append(lookup[n.lower()])
    if not out:
        raise PhysicsInputError("experiments", which, "at least one experiment")
    return tuple(out)


def oscillation_deficit(experiments: Sequence[GalliumExperiment], model: str | CrossSectionModel,
                        dm2: ArrayLike) -> NDArray[np.float64]:
    """f_i(Δm²) = Σ_l w_l ⟨sin²(1.267 Δm² L/E_l)⟩_i, shape dm2.shape + (n_exp,).

    The oscillated prediction is R_pred,i = 1 − sin²2θ · f_i(Δm²), linear in sin²2θ, so a
    whole (Δm², sin²2θ) grid costs one f per Δm².
    """
    d = np.asarray(dm2, dtype=float)
    if np.any(d < 0) or not np.all(np.isfinite(d)):
        raise PhysicsInputError("dm2", dm2, "finite Δm² ≥ 0 [eV²]")
    out = np.empty(d.shape + (len(experiments),))
    for i, exp in enumerate(experiments):
        src = exp.source
        w = line_weights(model, exp.isotope, src)
        ms = exp.segments().mean_sin2(src.energies_mev[None, :], d.reshape(-1, 1))  # (n_dm2, n_lines)
        out[..., i] = (ms @ w).reshape(d.shape)
    return out


def predicted_ratio(experiments: Sequence[GalliumExperiment], model: str | CrossSectionModel,
                    dm2: ArrayLike, sin2_2theta: ArrayLike) -> NDArray[np.float64]:
    """R_pred(Δm², sin²2θ) = Σ_l w_l ⟨P_ee⟩_l per experiment, shape broadcast(dm2, s22t) + (n_exp,)."""
    s = np.asarray(sin2_2theta, dtype=float)
    if np.any((s < 0) | (s > 1)) or not np.all(np.isfinite(s)):
        raise PhysicsInputError("sin2_2theta", sin2_2theta, "0 ≤ sin²2θ ≤ 1")
    f = oscillation_deficit(experiments, model, np.asarray(dm2, dtype=float))  # once per Δm² given
    return 1.0 - s[..., None] * f  # broadcast(dm2, s22t) + (n_exp,)
