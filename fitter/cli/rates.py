"""``ganom rates`` and ``ganom detectors``: signal rates and the bundled presets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from ganom.fitter.cli.common import _echo_json, activity_option, parse_days
from ganom.fitter.io import format_table
from ganom.models.detectors import DEFAULT_DETECTOR, load_detector, preset_names
from ganom.models.rates import RateResult, signal_rate
from ganom.models.sources import load_source

__all__ = ["rates", "detectors"]


# ----------------------------------------------------------------------------- rates
def _rates_table(results: Sequence[RateResult], days: Sequence[float]) -> str:
    header = ["detector", "D [m]", "R_fid [m]", "G [m]", "events/day (t=0)"]
    header += [f"events in {d:g} d" for d in days]
    energies = [f"{ln.energy_mev * 1e3:.1f}" for ln in results[0].lines]
    header += [f"share {e} keV" for e in energies]
    rows = []
    for r in results:
        row: list[Any] = [r.detector, f"{r.distance_m:.2f}", f"{r.fiducial_radius_m:.2f}",
                          f"{r.flux_weighted_volume_m:.3f}", f"{r.events_per_day:.2f}"]
        row += [f"{r.events_in_run[d]:.1f}" for d in days]
        row += [f"{ln.share:.4f}" for ln in r.lines]
        rows.append(row)
    return format_table(header, rows)


@click.command()
@click.option("--detector", "-d", "detector", default=DEFAULT_DETECTOR, show_default=True,
              help="Detector preset name or TOML file.")
@click.option("--all", "all_presets", is_flag=True, help="Every preset at each of its named source positions.")
@click.option("--source", "-s", default="cr51", show_default=True, help="Source preset (cr51, ar37) or TOML file.")
@activity_option
@click.option("--distance", "-D", default=None, type=str,
              help="Source distance from the detector centre [m] or a named position (centre, outside). "
                   "Default: every named position of the detector.")
@click.option("--threshold", "-t", default=None, type=float, help="Recoil threshold [MeV]. Default: the detector's.")
@click.option("--days", default="10,30", show_default=True, help="Run lengths [days], comma-separated.")
@click.option("--xsec", type=click.Choice(["bks", "tree"]), default="bks", show_default=True,
              help="ν–e cross section: with radiative corrections (BKS 1995) or tree level.")
@click.option("--dm2", type=float, default=None, help="3+1 Δm² [eV²] (with --sin2-2theta).")
@click.option("--sin2-2theta", "s22t", type=float, default=None, help="3+1 sin²2θ (with --dm2).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of a table.")
def rates(detector: str, all_presets: bool, source: str, activity: float | None, distance: str | None,
          threshold: float | None, days: str, xsec: str, dm2: float | None, s22t: float | None,
          as_json: bool) -> None:
    """Expected signal: events/day at t=0, events per run, share of each neutrino line.

    \b
    Examples:
      ganom rates --all
      ganom rates -d juno --distance 19 --activity 3MCi --days 10,30,100
      ganom rates -d my_detector.toml --json
    """
    run_days = parse_days(days)
    src = load_source(source)
    if activity is not None:
        src = src.with_activity(activity)
    detectors = preset_names() if all_presets else [detector]
    results = []
    for name in detectors:
        det = load_detector(name)
        positions = [distance] if distance is not None else list(det.source_positions_m)
        for pos in positions:
            results.append(signal_rate(det, src, det.source_distance(pos), threshold, run_days, dm2, s22t, xsec))
    if as_json:
        _echo_json([r.to_record() for r in results])
        return
    first = results[0]
    click.echo(f"Source {src.name} ({src.isotope}), A0 = {src.activity_bq:.4g} Bq "
               f"({src.activity_mci:.3g} MCi), T1/2 = {src.half_life_days} d; "
               f"threshold {first.threshold_mev:g} MeV (detector default unless set); "
               f"cross section: {xsec}" + (f"; 3+1 dm2 = {dm2:g} eV^2, sin^2 2theta = {s22t:g}" if dm2 is not None else ""))
    click.echo(_rates_table(results, run_days))


# ----------------------------------------------------------------------------- detectors
@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of a table.")
def detectors(as_json: bool) -> None:
    """The bundled detector presets and their key numbers."""
    records = [load_detector(n).summary() for n in preset_names()]
    if as_json:
        _echo_json(records)
        return
    header = ["preset", "detector", "R [m]", "R_fid [m]", "fid. mass [t]", "e-/m^3", "sigma_E/E @1MeV",
              "vertex @1MeV [m]", "threshold [MeV]", "source positions [m]"]
    rows = [[r["detector"], r["label"], f"{r['radius_m']:.3g}", f"{r['fiducial_radius_m']:.3g}",
             f"{r['fiducial_mass_t']:.4g}", f"{r['electrons_per_m3']:.4g}", f"{r['energy_resolution_1mev']:.3f}",
             f"{r['vertex_resolution_1mev_m']:.3g}", f"{r['threshold_mev']:g}",
             ", ".join(f"{k}={v:g}" for k, v in r["source_positions_m"].items())] for r in records]
    click.echo(format_table(header, rows))
