"""The ``ganom`` command line.

Every command prints a readable table by default and JSON records with ``--json``. Input
errors (a negative activity, an unknown preset, a malformed TOML, ...) exit with code 2 and
a one-line message naming the field, the value and the allowed range.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Sequence

import click

from models.detectors import DEFAULT_DETECTOR, load_detector, preset_names
from models.errors import GanomError
from models.rates import RateResult, signal_rate
from models.sources import load_source, parse_activity


class InputError(click.ClickException):
    """A ganom input error on the command line: message on stderr, exit code 2."""

    exit_code = 2


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GanomError as exc:
            raise InputError(str(exc)) from None


def parse_days(text: str) -> list[float]:
    """'10,30' → [10.0, 30.0]; every run length must be a number > 0."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            value = float(part)
        except ValueError:
            raise InputError(f"--days: '{part}' is not a number; expected run lengths in days, e.g. 10,30") from None
        if not value > 0 or value != value:
            raise InputError(f"--days: {part} is not allowed; allowed: run lengths > 0 days")
        out.append(value)
    return out


def _echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False))


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]], floatfmt: str = ".4g") -> str:
    """A plain fixed-width text table."""
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return format(v, floatfmt)
        return str(v)

    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    return "\n".join(lines)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ganom")
def main() -> None:
    """ganom: source-based sterile-neutrino and gallium-anomaly fits.

    Count ν–e elastic scatters from an intense ⁵¹Cr (or ³⁷Ar) source next to a liquid-
    scintillator detector; build binned likelihoods, fit them, and compare detectors.
    Detector arguments take a preset name (see `ganom detectors`) or a TOML file.
    """


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


@main.command()
@click.option("--detector", "-d", "detector", default=DEFAULT_DETECTOR, show_default=True,
              help="Detector preset name or TOML file.")
@click.option("--all", "all_presets", is_flag=True, help="Every preset at each of its named source positions.")
@click.option("--source", "-s", default="cr51", show_default=True, help="Source preset (cr51, ar37) or TOML file.")
@click.option("--activity", "-a", default=None, help="Activity at t=0, e.g. 3MCi, 1.1e17 (Bq), 62.5PBq. Default: the source's.")
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
def rates(detector: str, all_presets: bool, source: str, activity: str | None, distance: str | None,
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
        src = src.with_activity(parse_activity(activity, "--activity"))
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
               f"({src.activity_bq / 3.7e16:.3g} MCi), T1/2 = {src.half_life_days} d; "
               f"threshold {first.threshold_mev:g} MeV (detector default unless set); "
               f"cross section: {xsec}" + (f"; 3+1 dm2 = {dm2:g} eV^2, sin^2 2theta = {s22t:g}" if dm2 is not None else ""))
    click.echo(_rates_table(results, run_days))


# ----------------------------------------------------------------------------- detectors
@main.command()
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
