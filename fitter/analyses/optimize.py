"""Use only part of the detector: the energy window × fiducial radius that maximise the
R-deficit significance and the reach in sin²2θ (``ganom optimize``).

A central source's signal grows like the fiducial radius while uniform backgrounds grow like
its cube, and a threshold above the ¹⁴C pile-up removes most of the low-energy background at
the cost of the softest recoils (docs/physics.md §5.2, §7); a higher window top adds a
sideband that measures the backgrounds under the signal. For every (window, radius) pair the
configuration is rebuilt (templates, backgrounds, every systematic) and fitted on
Asimov data: Z to reject R = 1 if R = 0.82 (:func:`deficit_record`), and the Asimov 90 % raster
upper limit on sin²2θ at one Δm² (a profiled 1 × K scan). The best pair is reported for each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import PhysicsInputError
from ganom.fitter.analyses.comparison import deficit_record
from ganom.fitter.config import build_configuration
from ganom.fitter.infer.contours import ESGridProblem, raster
from ganom.fitter.infer.oscillation import DEFAULT_S22T_RANGE, OscillationGrid, OscillationModel
from ganom.fitter.io import Table
from ganom.models.detectors import Detector, load_detector
from ganom.models.sources import NeutrinoSource, load_source

__all__ = ["WindowOptimum", "optimize_window", "optimize_positions", "best_position"]

LIMIT_LEVEL = ("90%", 0.90)
"""Confidence level of the raster sin²2θ reach."""


@dataclass
class WindowOptimum:
    """Z and the sin²2θ reach on an energy-window × fiducial-radius grid (rows: windows, each a
    recoil threshold and a window top ``energy_max_mev`` [MeV])."""

    detector: str
    position: str
    distance_m: float
    days: float
    dm2_ev2: float
    thresholds_mev: NDArray[np.float64]
    fiducial_radii_m: NDArray[np.float64]
    signal: NDArray[np.float64]
    background: NDArray[np.float64]
    z_reject_r1: NDArray[np.float64]
    s22t_limit: NDArray[np.float64]
    label: str = ""
    """The detector's label for titles (default: its name)."""
    energy_max_mev: NDArray[np.float64] | None = None
    """The top of each row's energy window [MeV] (None: not recorded, the default binning's)."""
    tops_scanned: bool = False
    """Whether the window top was an axis of the scan (else each row has the default top)."""

    def windows(self) -> list[str]:
        """Row labels: the threshold, or "threshold–top" when the top was scanned."""
        if not self.tops_scanned or self.energy_max_mev is None:
            return [f"{t:g}" for t in self.thresholds_mev]
        return [f"{t:g}–{h:.3g}" for t, h in zip(self.thresholds_mev, self.energy_max_mev)]

    def best(self, metric: str = "z") -> dict[str, float]:
        """The grid point with the largest Z (``metric="z"``) or the lowest sin²2θ limit ("limit")."""
        if metric not in ("z", "limit"):
            raise PhysicsInputError("metric", metric, "z | limit")
        vals = self.z_reject_r1 if metric == "z" else np.where(np.isnan(self.s22t_limit), -np.inf, -self.s22t_limit)
        i, j = np.unravel_index(int(np.argmax(vals)), vals.shape)
        return {"threshold_mev": float(self.thresholds_mev[i]),
                "energy_max_mev": None if self.energy_max_mev is None else float(self.energy_max_mev[i]),
                "row": int(i), "fiducial_radius_m": float(self.fiducial_radii_m[j]),
                "signal": float(self.signal[i, j]), "background": float(self.background[i, j]),
                "z_reject_R1_if_R082": float(self.z_reject_r1[i, j]), "s22t_limit": float(self.s22t_limit[i, j])}

    def to_dict(self) -> dict[str, Any]:
        return {"detector": self.detector, "position": self.position, "distance_m": self.distance_m, "days": self.days,
                "dm2_ev2": self.dm2_ev2, "limit_level": LIMIT_LEVEL[0],
                "thresholds_mev": self.thresholds_mev.tolist(),
                "energy_max_mev": None if self.energy_max_mev is None else self.energy_max_mev.tolist(),
                "fiducial_radii_m": self.fiducial_radii_m.tolist(),
                "signal": self.signal.tolist(), "background": self.background.tolist(),
                "z_reject_R1_if_R082": self.z_reject_r1.tolist(), "s22t_limit": self.s22t_limit.tolist(),
                "best_z": self.best("z"), "best_limit": self.best("limit")}

    def table(self) -> Table:
        """One row per grid point, best Z and best limit marked."""
        bz, bl = self.best("z"), self.best("limit")
        tops = self.energy_max_mev if self.energy_max_mev is not None else np.full(self.thresholds_mev.size, np.nan)
        rows = []
        for i, t in enumerate(self.thresholds_mev):
            for j, r in enumerate(self.fiducial_radii_m):
                mark = ("Z " if (i, r) == (bz["row"], bz["fiducial_radius_m"]) else "") + \
                       ("limit" if (i, r) == (bl["row"], bl["fiducial_radius_m"]) else "")
                lim = self.s22t_limit[i, j]
                rows.append([f"{t:g}", "—" if np.isnan(tops[i]) else f"{tops[i]:.3g}", f"{r:g}", f"{self.signal[i, j]:.0f}", f"{self.background[i, j]:.0f}",
                             f"{self.signal[i, j] / max(self.background[i, j], 1e-300):.2f}",
                             f"{self.z_reject_r1[i, j]:.2f}", "—" if np.isnan(lim) else f"{lim:.3g}", mark.strip()])
        return Table(["threshold [MeV]", "window top [MeV]", "R_fid [m]", "signal", "background", "S/B", "Z(R=1 | R=0.82)",
                      f"sin²2θ {LIMIT_LEVEL[0]} at Δm² = {self.dm2_ev2:g} eV²", "best"], rows)


def optimize_window(detector: Detector | str, source: NeutrinoSource | str = "cr51", position: float | str = "centre",
                    days: float = 30.0, thresholds_mev: Sequence[float] = (0.2, 0.25, 0.3, 0.35, 0.4),
                    fiducial_radii_m: Sequence[float] | None = None, dm2_ev2: float = 1.0,
                    n_s22t: int = 25, energy_max_mev: Sequence[float] | None = None) -> WindowOptimum:
    """Z(R = 1 | R = 0.82) and the Asimov raster sin²2θ limit at ``dm2_ev2`` for every energy
    window × fiducial radius [m] (default: six radii from a quarter of the target radius, or
    twice the source assembly's radius if larger, to the preset's fiducial radius).

    The windows are every recoil threshold [MeV] × every top ``energy_max_mev`` [MeV] (default:
    the preset's, T_max of the highest line plus a 5σ_E or 150 keV sideband)."""
    det, src = load_detector(detector), load_source(source)
    if not (np.isfinite(dm2_ev2) and dm2_ev2 > 0):
        raise PhysicsInputError("dm2_ev2", dm2_ev2, "> 0 eV²")
    low = min(max(0.25 * det.radius_m, 2.0 * src.assembly_radius_m), det.fiducial_radius_m)
    radii = np.asarray(fiducial_radii_m if fiducial_radii_m is not None
                       else np.unique(np.linspace(low, det.fiducial_radius_m, 6)), dtype=float)
    thr = np.asarray(thresholds_mev, dtype=float)
    if radii.size < 1 or thr.size < 1:
        raise PhysicsInputError("grid", (thr.tolist(), radii.tolist()), "at least one threshold and one radius")
    tops_in = [None] if energy_max_mev is None or len(energy_max_mev) == 0 else [float(h) for h in energy_max_mev]
    for h in tops_in:
        if h is not None and not (np.isfinite(h) and thr.max() < h <= 20.0):
            raise PhysicsInputError("energy_max_mev", h, f"above every threshold ({thr.max():g} MeV) and ≤ 20 MeV")
    windows = [(float(t), h) for t in thr for h in tops_in]
    for r in radii:
        if not (np.isfinite(r) and 0 < r <= det.radius_m):
            raise PhysicsInputError("fiducial_radius_m", float(r), f"0 < R_fid ≤ {det.radius_m:g} m (the target radius)")
    dist = det.source_distance(position)
    grid = OscillationGrid(np.array([float(dm2_ev2)]), np.geomspace(*DEFAULT_S22T_RANGE, n_s22t))
    shape = (len(windows), radii.size)
    out = {k: np.full(shape, np.nan) for k in ("s", "b", "z", "lim")}
    tops = np.full(len(windows), np.nan)
    for i, (t, h) in enumerate(windows):
        for j, r in enumerate(radii):
            d = replace(det, threshold_mev=t, fiducial_radius_m=float(r))
            if h is not None:
                d = replace(d, analysis={**(d.analysis or {}), "energy_max_mev": h})
            tpl, model = build_configuration(d, src, dist, days)
            tops[i] = tpl.binning.energy_edges_mev[-1]
            rec = deficit_record(tpl, model, days, str(position))
            scan = ESGridProblem(OscillationModel(model, tpl), grid).scan()
            out["s"][i, j], out["b"][i, j], out["z"][i, j] = rec.signal_events, rec.background_events, rec.z_reject_R1_if_R082
            out["lim"][i, j] = raster(scan, dict([LIMIT_LEVEL])).limit_curve(LIMIT_LEVEL[0])[0]
    return WindowOptimum(det.name, str(position), dist, float(days), float(dm2_ev2),
                         np.array([t for t, _ in windows]), radii, out["s"], out["b"], out["z"], out["lim"], det.label,
                         tops, tops_in != [None])


def optimize_positions(detector: Detector | str, positions: Sequence[float | str], source: NeutrinoSource | str = "cr51",
                       days: float = 30.0, **window: Any) -> list[WindowOptimum]:
    """:func:`optimize_window` at every source position (names or metres from the centre):
    the third axis of the scan; ``window`` passes thresholds, radii, tops and Δm² on."""
    if len(positions) == 0:
        raise PhysicsInputError("positions", list(positions), "at least one source position")
    return [optimize_window(detector, source, p, days, **window) for p in positions]


def best_position(results: Sequence[WindowOptimum], metric: str = "z") -> dict[str, Any]:
    """The best grid point over several positions (:meth:`WindowOptimum.best` of each), with its
    position and distance [m]."""
    if len(results) == 0:
        raise PhysicsInputError("results", [], "at least one scan")
    field = "z_reject_R1_if_R082" if metric == "z" else "s22t_limit"
    sign = 1.0 if metric == "z" else -1.0
    r, b = max(((r, r.best(metric)) for r in results), key=lambda rb: np.nan_to_num(sign * rb[1][field], nan=-np.inf))
    return {**b, "position": r.position, "distance_m": r.distance_m}
