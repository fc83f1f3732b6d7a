"""``ganom rates`` and ``ganom detectors``: signal rates and the bundled presets."""

from __future__ import annotations

import click

from ganom.fitter.cli.common import DAYS, _echo_json, activity_option, json_option, source_option
from ganom.models.detectors import DEFAULT_DETECTOR, load_detector, preset_names
from ganom.models.sources import load_source

__all__ = ["rates", "detectors"]


@click.command()
@click.option("--detector", "-d", "detector", default=DEFAULT_DETECTOR, show_default=True,
              help="Detector preset name or TOML file.")
@click.option("--all", "all_presets", is_flag=True, help="Every preset at each of its named source positions.")
@source_option
@activity_option
@click.option("--distance", "-D", default=None, type=str,
              help="Source distance from the detector centre [m] or a named position (centre, outside). "
                   "Default: every named position of the detector.")
@click.option("--threshold", "-t", default=None, type=float, help="Recoil threshold [MeV]. Default: the detector's.")
@click.option("--days", type=DAYS, default="10,30", show_default=True, help="Run lengths [days], comma-separated.")
@click.option("--xsec", type=click.Choice(["bks", "tree"]), default="bks", show_default=True,
              help="ν–e cross section: with radiative corrections (BKS 1995) or tree level.")
@click.option("--dm2", type=float, default=None, help="3+1 Δm² [eV²] (with --sin2-2theta).")
@click.option("--sin2-2theta", "s22t", type=float, default=None, help="3+1 sin²2θ (with --dm2).")
@json_option("Print JSON records instead of a table.")
def rates(detector: str, all_presets: bool, source: str, activity: float | None, distance: str | None,
          threshold: float | None, days: list[float], xsec: str, dm2: float | None, s22t: float | None,
          as_json: bool) -> None:
    """Expected signal: events/day at t=0, events per run, share of each neutrino line.

    \b
    Examples:
      ganom rates --all
      ganom rates -d juno --distance 19 --activity 3MCi --days 10,30,100
      ganom rates -d my_detector.toml --json
    """
    from ganom.fitter.analyses.rates import rates_table
    from ganom.models.rates import signal_rates

    run_days = days
    src = load_source(source)
    if activity is not None:
        src = src.with_activity(activity)
    results = signal_rates(preset_names() if all_presets else [detector], src, distance, threshold, run_days, dm2,
                           s22t, xsec)
    if as_json:
        _echo_json([r.to_record() for r in results])
        return
    first = results[0]
    click.echo(f"Source {src.name} ({src.isotope}), A0 = {src.activity_bq:.4g} Bq "
               f"({src.activity_mci:.3g} MCi), T1/2 = {src.half_life_days} d; "
               f"threshold {first.threshold_mev:g} MeV (detector default unless set); "
               f"cross section: {xsec}" + (f"; 3+1 dm2 = {dm2:g} eV^2, sin^2 2theta = {s22t:g}" if dm2 is not None else ""))
    click.echo(rates_table(results, run_days).text())


# ----------------------------------------------------------------------------- detectors
@click.command()
@json_option("Print JSON records instead of a table.")
def detectors(as_json: bool) -> None:
    """The bundled detector presets and their key numbers."""
    records = [load_detector(n).summary() for n in preset_names()]
    if as_json:
        _echo_json(records)
        return
    from ganom.fitter.analyses.rates import detectors_table

    click.echo(detectors_table(records).text())
