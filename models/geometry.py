"""A spherical detector volume seen from a point source (docs/physics.md §5).

The source sits at distance D ≥ 0 from the centre of a sphere of radius R, inside
(D < R) or outside (D > R). The volume at distance L from the source is

    dV/dL = 4πL²                          for L < R − D (source inside),
          = πL [R² − (L − D)²] / D        for |R − D| ≤ L ≤ R + D,
          = 0                             otherwise,

and the flux-weighted volume G = ∫ dV / (4πL²) = R/2 + (R² − D²)/(4D) ln[(D+R)/|D−R|]
(→ R as D → 0). An event rate is A · n_e · ⟨σ⟩ · G. Lengths in metres.

A source inside the volume is a capsule in a shield, not scintillator: with an exclusion
sphere of radius r_x centred on the source, dV/dL = 0 for L < r_x and is unchanged above
(every shell L ≥ r_x lies outside the exclusion), so G loses ∫₀^{r_x} dV/(4πL²) — exactly
r_x when the exclusion sphere lies inside the volume (r_x ≤ R − D).

All interval integrals are exact: they are split at the kinks |R − D| and R + D, and each
smooth piece is integrated in closed form or by Gauss–Legendre rules that are exact (or
accurate to rounding) for the piece's integrand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import PhysicsInputError

__all__ = ["SphereGeometry"]

_GL3 = np.polynomial.legendre.leggauss(3)
_GL16 = np.polynomial.legendre.leggauss(16)


def _log1p_ratio(x: NDArray) -> NDArray:
    """ln(1 + x)/x with its limit 1 at x = 0."""
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 1.0, np.log1p(safe) / safe)


@dataclass(frozen=True)
class SphereGeometry:
    """A sphere of radius ``radius_m`` and a point source at ``source_distance_m`` from its
    centre, with no volume within ``exclusion_radius_m`` of the source (its capsule and shield)."""

    radius_m: float
    source_distance_m: float
    exclusion_radius_m: float = 0.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.radius_m) and self.radius_m > 0):
            raise PhysicsInputError("radius_m", self.radius_m, "a finite radius > 0 m")
        if not (np.isfinite(self.source_distance_m) and self.source_distance_m >= 0):
            raise PhysicsInputError("source_distance_m", self.source_distance_m, "a finite distance ≥ 0 m")
        if not (np.isfinite(self.exclusion_radius_m) and self.exclusion_radius_m >= 0):
            raise PhysicsInputError("exclusion_radius_m", self.exclusion_radius_m, "a finite radius ≥ 0 m")

    # -- shorthands ---------------------------------------------------------------
    @property
    def _d(self) -> float:
        # Below 1e-12 R the lens shell (width 2D) is numerically indistinguishable from D = 0.
        return 0.0 if self.source_distance_m < 1e-12 * self.radius_m else self.source_distance_m

    @property
    def _x(self) -> float:
        return self.exclusion_radius_m

    @property
    def l_min(self) -> float:
        """Smallest source–vertex distance in the volume [m]."""
        return min(max(self._x, self._d - self.radius_m), self.l_max)

    @property
    def l_max(self) -> float:
        """Largest source–vertex distance in the volume [m]."""
        return self._d + self.radius_m

    @property
    def source_inside(self) -> bool:
        return self._d < self.radius_m

    @property
    def volume_m3(self) -> float:
        """The volume outside the exclusion sphere [m³]."""
        return float(self.volume_between([0.0, self.l_max])[0])

    # -- pointwise ----------------------------------------------------------------
    def cos_alpha_min(self, L: ArrayLike) -> NDArray[np.float64]:
        """Lower limit of cos α for a vertex at distance L inside the sphere.

        α is the angle at the source between the directions to the centre and to the
        vertex; the vertex is inside when L² + D² − 2LD cos α < R². Returns values in
        [−1, 1], and > 1 (no solid angle) where the sphere of radius L misses the volume.
        """
        L = np.asarray(L, dtype=float)
        d, r = self._d, self.radius_m
        if d == 0.0:
            return np.where(L < r, -1.0, 2.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = (L * L + d * d - r * r) / (2.0 * L * d)
        c = np.where(L > 0, c, np.where(self.source_inside, -1.0, 2.0))
        return np.where(c < -1.0, -1.0, c)

    def dv_dl(self, L: ArrayLike) -> NDArray[np.float64]:
        """dV/dL [m²] at source distances L [m]."""
        L = np.asarray(L, dtype=float)
        d, r = self._d, self.radius_m
        if d == 0.0:
            return np.where((L >= self._x) & (L < r), 4.0 * np.pi * L * L, 0.0)
        inner = (L >= 0) & (L < r - d)
        lens = (L >= abs(r - d)) & (L <= r + d)
        lens_val = np.pi * L * (r - L + d) * (r + L - d) / d
        return np.where(L < self._x, 0.0, np.where(inner, 4.0 * np.pi * L * L, np.where(lens, lens_val, 0.0)))

    def flux_density(self, L: ArrayLike) -> NDArray[np.float64]:
        """(dV/dL)/(4πL²), the dimensionless flux-weighted volume per unit L."""
        L = np.asarray(L, dtype=float)
        d, r = self._d, self.radius_m
        if d == 0.0:
            return np.where((L >= self._x) & (L < r), 1.0, 0.0)
        inner = (L >= 0) & (L < r - d)
        lens = (L >= abs(r - d)) & (L <= r + d) & (L > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lens_val = (r - L + d) * (r + L - d) / (4.0 * L * d)
        return np.where(L < self._x, 0.0, np.where(inner, 1.0, np.where(lens, lens_val, 0.0)))

    # -- interval integrals ---------------------------------------------------------
    def _pieces(self, edges: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        """Clip every interval to the inner region and to the lens region."""
        d, r = self._d, self.radius_m
        lo, hi = np.maximum(edges[:-1], self._x), np.maximum(edges[1:], self._x)
        in_hi = max(r - d, 0.0)
        in_a, in_b = np.clip(lo, 0.0, in_hi), np.clip(hi, 0.0, in_hi)
        lens_lo, lens_hi = (abs(r - d), r + d) if d > 0 else (r, r)
        ln_a, ln_b = np.clip(lo, lens_lo, lens_hi), np.clip(hi, lens_lo, lens_hi)
        return np.stack([in_a, in_b]), np.stack([ln_a, ln_b]), np.asarray([lens_lo, lens_hi])

    @staticmethod
    def _check_edges(edges: ArrayLike) -> NDArray:
        e = np.asarray(edges, dtype=float)
        if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) < 0) or not np.all(np.isfinite(e)):
            raise PhysicsInputError("edges", edges, "a finite, non-decreasing 1-d array of ≥ 2 baselines [m]")
        return e

    def volume_between(self, edges: ArrayLike) -> NDArray[np.float64]:
        """∫ dV/dL dL over each interval of ``edges`` [m³]."""
        e = self._check_edges(edges)
        (in_a, in_b), (ln_a, ln_b), _ = self._pieces(e)
        inner = 4.0 / 3.0 * np.pi * (in_b**3 - in_a**3)
        if self._d == 0.0:
            return inner
        # The lens integrand is a cubic polynomial in L: 3-point Gauss–Legendre is exact.
        x, w = _GL3
        half, mid = 0.5 * (ln_b - ln_a), 0.5 * (ln_b + ln_a)
        nodes = mid[:, None] + half[:, None] * x
        lens = half * np.sum(w * self.dv_dl(nodes), axis=-1)
        return inner + lens

    def flux_weight_between(self, edges: ArrayLike) -> NDArray[np.float64]:
        """∫ dV/(4πL²) over each interval of ``edges`` [m] (sums to G over the full range)."""
        e = self._check_edges(edges)
        (in_a, in_b), (ln_a, ln_b), _ = self._pieces(e)
        inner = in_b - in_a
        d, r = self._d, self.radius_m
        if d == 0.0:
            return inner
        if 0.25 * r <= d <= 4.0 * r:
            # Closed form of ∫ [(R² − D²)/L + 2D − L] dL / (4D); no cancellation for R/4 ≲ D ≲ 4R.
            # At D = R the lens starts at L = 0 where (R² − D²) ln L is 0·∞ → 0.
            ok = ln_b > ln_a
            a = np.where(ok, ln_a, 1.0)
            b = np.where(ok, ln_b, 1.0)
            log_term = 0.0 if d == r else (r * r - d * d) * np.log(b / a)
            lens = (log_term + (b - a) * (2.0 * d - 0.5 * (a + b))) / (4.0 * d)
            lens = np.where(ok, lens, 0.0)
        else:
            # Lens shell L ∈ [|R − D|, R + D] with D < R/4 or D > 4R: the integrand is smooth
            # (1/L varies by < 5/3), so 16-point Gauss–Legendre is accurate to rounding; the
            # closed form would cancel catastrophically far away (its terms ~ R, the result ~ R³/D²).
            x, w = _GL16
            half, mid = 0.5 * (ln_b - ln_a), 0.5 * (ln_b + ln_a)
            nodes = mid[:, None] + half[:, None] * x
            lens = half * np.sum(w * self.flux_density(nodes), axis=-1)
        return inner + lens

    def flux_weighted_volume(self) -> float:
        """G = ∫ dV/(4πL²) over the sphere [m] (docs/physics.md §5), stable at D → 0, R, ∞,
        minus the exclusion sphere's share (module docstring)."""
        if self._x > 0.0:
            full = SphereGeometry(self.radius_m, self.source_distance_m)
            return full.flux_weighted_volume() - float(full.flux_weight_between([0.0, self._x])[0])
        d, r = self._d, self.radius_m
        if d == 0.0:
            return r
        if d == r:
            return 0.5 * r
        if d < r:
            x = 2.0 * d / (r - d)
            return float(0.5 * r + 0.5 * (r + d) * _log1p_ratio(np.asarray(x)))
        u = r / d
        if u < 0.1:
            # far away: G = D Σ_{k≥1} u^{2k+1}/((2k−1)(2k+1)) → V/(4πD²), no cancellation
            k = np.arange(1, 21)
            return float(d * np.sum(u ** (2 * k + 1) / ((2 * k - 1) * (2 * k + 1))))
        x = 2.0 * r / (d - r)
        return float(0.5 * r - 0.5 * (d + r) * r / d * _log1p_ratio(np.asarray(x)))
