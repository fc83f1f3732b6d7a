"""Expected ν–e elastic-scattering signal rates from a source near a detector.

Rate per line = A · I_line · n_e · σ_line(T > threshold) · G_line, where G_line is the
flux-weighted fiducial volume ∫ dV P_ee(L, E_line) / (4πL²) (docs/physics.md §5). Without
oscillation G_line = G(R_fid, D); with 3+1 oscillation P_ee is averaged exactly over fine
baseline intervals (docs/physics.md §4). Over a run starting at t = 0 the decay gives
N(T_run) = rate(0) · τ (1 − e^{−T_run/τ}).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import PhysicsInputError
from ganom.models.constants import CM2_TO_M2, SECONDS_PER_DAY
from ganom.models.detectors import Detector, load_detector
from ganom.models.geometry import SphereGeometry
from ganom.models.oscillation import p_ee_mean
from ganom.models.sources import NeutrinoSource, load_source
from ganom.models.xsec import Model, sigma, t_max

__all__ = ["LineRate", "RateResult", "oscillated_flux_weight", "check_threshold", "signal_rate", "signal_rates"]


@dataclass(frozen=True)
class LineRate:
    """The signal from one neutrino line."""

    energy_mev: float
    intensity: float
    t_max_mev: float
    sigma_cm2: float
    events_per_day: float
    share: float


@dataclass(frozen=True)
class RateResult:
    """Expected signal of one (detector, source, position) configuration."""

    detector: str
    source: str
    activity_bq: float
    distance_m: float
    threshold_mev: float
    fiducial_radius_m: float
    fiducial_electrons: float
    flux_weighted_volume_m: float
    events_per_day: float
    events_in_run: dict[float, float]
    lines: tuple[LineRate, ...]
    xsec_model: str = "bks"
    dm2_ev2: float | None = None
    sin2_2theta: float | None = None

    def to_record(self) -> dict[str, Any]:
        """The stable JSON record of ``ganom rates --json`` (keys are an interface)."""
        return {
            "detector": self.detector,
            "source": self.source,
            "activity_bq": self.activity_bq,
            "distance_m": self.distance_m,
            "threshold_mev": self.threshold_mev,
            "events_per_day": self.events_per_day,
            "events_in_run": {_days_key(d): n for d, n in self.events_in_run.items()},
            "line_shares": {f"{ln.energy_mev * 1e3:.1f}": ln.share for ln in self.lines},
        }


def _days_key(days: float) -> str:
    return f"{days:g}"


def oscillated_flux_weight(
    geometry: SphereGeometry, e_nu: Sequence[float] | NDArray, dm2: float, sin2_2theta: float, n_bins: int = 4000
) -> NDArray[np.float64]:
    """∫ dV P_ee(L, E) / (4πL²) [m] for each energy in ``e_nu``.

    P_ee is averaged exactly over each of ``n_bins`` baseline intervals (edges include the
    kinks of dV/dL), so fast oscillations do not alias.
    """
    kinks = [abs(geometry.radius_m - geometry.source_distance_m), geometry.l_max]
    edges = np.unique(np.concatenate([np.linspace(geometry.l_min, geometry.l_max, n_bins + 1),
                                      [k for k in kinks if geometry.l_min <= k <= geometry.l_max]]))
    weight = geometry.flux_weight_between(edges)
    e = np.asarray(e_nu, dtype=float)[:, None]
    return p_ee_mean(edges[:-1], edges[1:], e, dm2, sin2_2theta) @ weight


def check_threshold(threshold_mev: float, source: NeutrinoSource) -> None:
    """Raise when the threshold is negative or at/above every line's recoil endpoint."""
    endpoint = float(np.max(t_max(source.energies_mev)))
    if not (np.isfinite(threshold_mev) and 0 <= threshold_mev < endpoint):
        raise PhysicsInputError("threshold_mev", threshold_mev,
                                f"0 ≤ threshold < {endpoint:.4f} MeV (the highest recoil endpoint T_max of {source.name})")


def signal_rate(
    detector: Detector | str,
    source: NeutrinoSource | str = "cr51",
    distance_m: float | str = 0.0,
    threshold_mev: float | None = None,
    days: Sequence[float] = (10.0, 30.0),
    dm2: float | None = None,
    sin2_2theta: float | None = None,
    xsec_model: Model = "bks",
) -> RateResult:
    """Expected signal events per day at t = 0 and in runs of the given lengths.

    Parameters
    ----------
    detector, source : presets, TOML paths or objects.
    distance_m : source distance from the detector centre [m] or a named position.
    threshold_mev : recoil threshold [MeV]; the detector's by default.
    days : run lengths [days] starting at t = 0.
    dm2, sin2_2theta : optional 3+1 oscillation (both or neither).
    xsec_model : "bks" (radiative corrections) or "tree".
    """
    det = load_detector(detector)
    src = load_source(source)
    dist = det.source_distance(distance_m)
    thr = det.threshold_mev if threshold_mev is None else float(threshold_mev)
    check_threshold(thr, src)
    run_days = [float(d) for d in days]
    for d in run_days:
        if not (np.isfinite(d) and d > 0):
            raise PhysicsInputError("days", d, "run lengths > 0 days")
    if (dm2 is None) != (sin2_2theta is None):
        raise PhysicsInputError("oscillation", (dm2, sin2_2theta), "both dm2 and sin2_2theta, or neither")

    geom = det.fiducial_geometry(dist, src.assembly_radius_m)
    energies, intens = src.energies_mev, src.intensities
    if dm2 is None:
        g_line = np.full(energies.shape, geom.flux_weighted_volume())
    else:
        g_line = oscillated_flux_weight(geom, energies, float(dm2), float(sin2_2theta))
    sig = sigma(energies, thr, model=xsec_model)
    per_s = src.activity_bq * intens * det.electron_density_m3 * sig * CM2_TO_M2 * g_line
    per_day = per_s * SECONDS_PER_DAY
    total = float(per_day.sum())
    lines = tuple(
        LineRate(float(e), float(i), float(t_max(e)), float(s), float(r), float(r / total) if total > 0 else 0.0)
        for e, i, s, r in zip(energies, intens, sig, per_day)
    )
    in_run = {d: total * float(src.decay_fraction(0.0, d)) for d in run_days}
    return RateResult(
        detector=det.name,
        source=src.name,
        activity_bq=src.activity_bq,
        distance_m=dist,
        threshold_mev=thr,
        fiducial_radius_m=det.fiducial_radius_m,
        fiducial_electrons=det.fiducial_electrons,
        flux_weighted_volume_m=geom.flux_weighted_volume(),
        events_per_day=total,
        events_in_run=in_run,
        lines=lines,
        xsec_model=xsec_model,
        dm2_ev2=dm2,
        sin2_2theta=sin2_2theta,
    )


def signal_rates(detectors: Sequence[Detector | str], source: NeutrinoSource | str = "cr51",
                 distance_m: float | str | None = None, threshold_mev: float | None = None,
                 days: Sequence[float] = (10.0, 30.0), dm2: float | None = None, sin2_2theta: float | None = None,
                 xsec_model: Model = "bks") -> list[RateResult]:
    """:func:`signal_rate` of each detector at ``distance_m``, or (None) at each of its named
    source positions."""
    src = load_source(source)
    out = []
    for name in detectors:
        det = load_detector(name)
        positions = [distance_m] if distance_m is not None else list(det.source_positions_m)
        out += [signal_rate(det, src, det.source_distance(p), threshold_mev, days, dm2, sin2_2theta, xsec_model)
                for p in positions]
    return out
