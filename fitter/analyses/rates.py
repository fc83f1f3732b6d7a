"""Tables of the signal rates and of the bundled detector presets (``ganom rates``,
``ganom detectors``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ganom.fitter.io import Table
from ganom.models.rates import RateResult

__all__ = ["rates_table", "detectors_table"]


def _count(x: float) -> str:
    """An expected count with four significant digits, so that a small source is not shown as 0.00."""
    return f"{x:.4g}" if abs(x) < 1e5 else f"{x:.0f}"


def rates_table(results: Sequence[RateResult], days: Sequence[float]) -> Table:
    """Events per day at t = 0, events per run of each length and the share of each line."""
    header = ["detector", "D [m]", "R_fid [m]", "G [m]", "events/day (t=0)"]
    header += [f"events in {d:g} d" for d in days]
    header += [f"share {ln.energy_mev * 1e3:.1f} keV" for ln in results[0].lines] if results else []
    rows = []
    for r in results:
        row: list[Any] = [r.detector, f"{r.distance_m:.2f}", f"{r.fiducial_radius_m:.2f}",
                          f"{r.flux_weighted_volume_m:.3f}", _count(r.events_per_day)]
        row += [_count(r.events_in_run[d]) for d in days]
        row += [f"{ln.share:.4f}" for ln in r.lines]
        rows.append(row)
    return Table(header, rows)


def detectors_table(records: Sequence[dict[str, Any]]) -> Table:
    """The key numbers of detector presets (``Detector.summary()`` records)."""
    header = ["preset", "detector", "R [m]", "R_fid [m]", "fid. mass [t]", "e-/m^3", "sigma_E/E @1MeV",
              "vertex @1MeV [m]", "threshold [MeV]", "source positions [m]"]
    rows = [[r["detector"], r["label"], f"{r['radius_m']:.3g}", f"{r['fiducial_radius_m']:.3g}",
             f"{r['fiducial_mass_t']:.4g}", f"{r['electrons_per_m3']:.4g}", f"{r['energy_resolution_1mev']:.3f}",
             f"{r['vertex_resolution_1mev_m']:.3g}", f"{r['threshold_mev']:g}",
             ", ".join(f"{k}={v:g}" for k, v in r["source_positions_m"].items())] for r in records]
    return Table(header, rows)
