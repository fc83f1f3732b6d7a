"""The ``ganom`` command line.

Every command prints a readable table by default and JSON records with ``--json``. Input
errors (a negative activity, an unknown preset, a malformed TOML, ...) exit with code 2 and
a one-line message naming the field, the value and the allowed range.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence

import click
import numpy as np

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


def parse_floats(text: str, option: str, allowed: str = "numbers", minimum: float | None = None,
                 strict: bool = False) -> list[float]:
    """'10,30' → [10.0, 30.0], every value finite and ≥ ``minimum`` (> it if ``strict``)."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise InputError(f"{option}: '{part}' is not a number; expected comma-separated {allowed}") from None
        if not np.isfinite(value) or (minimum is not None and (value <= minimum if strict else value < minimum)):
            raise InputError(f"{option}: {part} is not allowed; allowed: {allowed}")
        out.append(value)
    if not out:
        raise InputError(f"{option}: no value given; expected comma-separated {allowed}")
    return out


def parse_days(text: str, option: str = "--days") -> list[float]:
    """'10,30' → [10.0, 30.0]; every run length must be a number > 0."""
    return parse_floats(text, option, "run lengths > 0 days", 0.0, strict=True)


def parse_run(text: str, option: str = "--days") -> float:
    """One run length [days] (commands that fit a single configuration)."""
    days = parse_days(text, option)
    if len(days) > 1:
        raise InputError(f"{option}: '{text}' gives {len(days)} run lengths; this command takes one "
                         "(ganom significance and ganom compare take several)")
    return days[0]


def check_figure_path(path: str | None, option: str) -> None:
    """Refuse an unknown figure format before any computation (not after it)."""
    if path is None:
        return
    from matplotlib.figure import Figure

    kinds = Figure().canvas.get_supported_filetypes()
    ext = Path(path).suffix.lstrip(".").lower()
    if ext not in kinds:
        raise InputError(f"{option}: '{path}' has no figure format matplotlib writes; allowed suffixes: "
                         + ", ".join(f".{k}" for k in sorted(kinds)))


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
               f"({src.activity_mci:.3g} MCi), T1/2 = {src.half_life_days} d; "
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


# ----------------------------------------------------------------------------- likelihood
def parse_assignments(text: str, option: str, model: Any = None) -> dict[str, float]:
    """'R=0.82,activity=0.5' → {'R': 0.82, 'activity': 0.5}; with ``model``, every name must be
    one of its parameters and every value finite and inside that parameter's bounds."""
    out: dict[str, float] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InputError(f"{option}: '{part}' is not name=value (e.g. R=0.82)")
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise InputError(f"{option}: '{v}' is not a number (in '{part}')") from None
    if model is not None:
        ps = model.parameters
        for k, v in out.items():
            if k not in ps:
                raise InputError(f"{option}: unknown parameter '{k}'; known: {', '.join(ps.names)}")
            lo, hi = ps.bounds[ps.index(k)]
            if not (np.isfinite(v) and lo <= v <= hi):
                raise InputError(f"{option}: {k} = {v:g} is not allowed; allowed: {lo:g} ≤ {k} ≤ {hi:g}")
    return out


def _configuration_options(f: Any) -> Any:
    f = click.option("--angular-resolution", "angular", type=float, default=None,
                     help="Directional analysis (cos θ to the source) with this resolution [degrees].")(f)
    f = click.option("--source-off", "source_off", type=float, default=0.0, show_default=True,
                     help="Days of background-only data before the run (a second channel).")(f)
    f = click.option("--background-scale", type=float, default=1.0, show_default=True,
                     help="Multiply every background rate of the preset.")(f)
    f = click.option("--days", default="30", show_default=True, help="Run length(s) [days], comma-separated.")(f)
    f = click.option("--distance", "-D", default="centre", show_default=True,
                     help="Source distance from the centre [m] or a named position.")(f)
    f = click.option("--activity", "-a", default=None, help="Activity at t=0 (e.g. 3MCi).")(f)
    f = click.option("--source", "-s", default="cr51", show_default=True, help="Source preset or TOML file.")(f)
    f = click.option("--detector", "-d", default=DEFAULT_DETECTOR, show_default=True,
                     help="Detector preset name or TOML file.")(f)
    return f


def _source(source: str, activity: str | None) -> Any:
    src = load_source(source)
    return src.with_activity(parse_activity(activity, "--activity")) if activity else src


def _load_counts(path: str, model: Any) -> Any:
    """Observed counts from .json ({channel: counts} or a flat list), .npy or .npz."""
    import numpy as np
    from pathlib import Path

    p = Path(path)
    try:
        if p.suffix == ".json":
            obj = json.loads(p.read_text())
            if isinstance(obj, dict):
                missing = [c for c in model.channels if c not in obj]
                if missing:
                    raise InputError(f"--data {path}: channels {missing} missing; expected keys {model.channels}")
                arr = np.concatenate([np.asarray(obj[c], dtype=float).ravel() for c in model.channels])
            else:
                arr = np.asarray(obj, dtype=float).ravel()
        elif p.suffix == ".npz":
            z = np.load(p)
            arr = np.concatenate([z[c].ravel() for c in model.channels]) if all(c in z for c in model.channels) \
                else z[z.files[0]].ravel()
        else:
            arr = np.load(p).ravel()
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"--data {path}: cannot read counts ({exc})") from None
    if arr.size == 0:
        raise InputError(f"--data {path}: the histogram is empty; expected {model.n_bins} bins")
    return model.data(arr)


@main.command("fit")
@_configuration_options
@click.option("--asimov", default=None, help="Fit the Asimov dataset at these values, e.g. R=0.82 (default R=1).")
@click.option("--data", "data_file", default=None, type=click.Path(), help="Observed counts (.json/.npy/.npz).")
@click.option("--fix", default="", help="Parameters held fixed, e.g. activity=0,escale=0.")
@click.option("--minos", is_flag=True, help="MINOS errors for R.")
@click.option("--json", "as_json", is_flag=True, help="Print the fit result as JSON.")
@click.option("--plot", default=None, type=click.Path(), help="Write the post-fit spectrum figure (PNG/PDF).")
@click.option("--workspace", default=None, type=click.Path(dir_okay=False),
              help="Fit this pyhf workspace (JSON) with the native engine instead of a detector configuration.")
def fit_cmd(detector: str, source: str, activity: str | None, distance: str, days: str, background_scale: float,
            source_off: float, angular: float | None, asimov: str | None, data_file: str | None, fix: str, minos: bool,
            as_json: bool, plot: str | None, workspace: str | None) -> None:
    """Fit the binned likelihood (energy × baseline × time) to Asimov or observed data.

    \b
    Examples:
      ganom fit -d jne-500t --asimov R=0.82
      ganom fit -d juno --distance outside --days 30 --data counts.npy --minos
      ganom fit --workspace workspaces/juno_centre_30d.workspace.json --json
    """
    from fitter.fit import fit
    from fitter.significance import build_configuration

    if workspace:
        from fitter.cli_pyhf import fit_workspace

        return fit_workspace(workspace, asimov, data_file, fix, minos, as_json, plot)
    if asimov and data_file:
        raise InputError("--asimov and --data are exclusive")
    check_figure_path(plot, "--plot")
    run = parse_run(days)
    tpl, model = build_configuration(detector, _source(source, activity), distance, run, background_scale,
                                     source_off, angular_resolution_deg=angular)
    truth = parse_assignments(asimov or "R=1", "--asimov", model)
    data = _load_counts(data_file, model) if data_file else model.asimov(truth)
    res = fit(model, data, fix=parse_assignments(fix, "--fix", model), minos=minos)
    if as_json:
        _echo_json(res.to_dict())
    else:
        what = f"data from {data_file}" if data_file else f"Asimov data at {truth}"
        click.echo(f"{tpl.detector.label}, source at D = {tpl.distance_m:g} m, {run:g} days, "
                   f"{model.n_bins} bins; fit to {what}")
        click.echo(res.table())
    if plot:
        from fitter.analysis import unflatten
        from fitter.plotting import plot_stack

        per = model.expected_samples(res.values)[..., model.channel_slices["source_on"]]
        samples = {n: unflatten(tpl, per[i]) for i, n in enumerate(model.samples)}
        obs = unflatten(tpl, data.main[model.channel_slices["source_on"]])
        _save(plot_stack(tpl, "energy", samples=samples, data=obs), plot)
    if not res.valid:
        sys.exit(1)


def _save(fig: Any, path: str) -> None:
    import os
    from pathlib import Path

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp" + p.suffix)
    fig.savefig(tmp, dpi=130, bbox_inches="tight")
    os.replace(tmp, p)
    click.echo(f"wrote {p}", err=True)


@main.command("significance")
@_configuration_options
@click.option("--toys", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also run toys for the median and bands.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the toys.")
@click.option("--vary", type=click.Choice(["days", "activity", "activity_uncertainty", "background_scale",
                                           "fiducial_radius"]), default=None,
              help="Scan one knob over --values (Asimov): a sensitivity curve.")
@click.option("--values", "vary_values", default=None,
              help="Values of the --vary knob (activity accepts units, e.g. 1MCi,3MCi).")
@click.option("--plot", default=None, type=click.Path(), help="With --vary: write the curve figure.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records.")
def significance_cmd(detector: str, source: str, activity: str | None, distance: str, days: str,
                     background_scale: float, source_off: float, angular: float | None, toys: int, seed: int,
                     vary: str | None, vary_values: str | None, plot: str | None, as_json: bool) -> None:
    """Expected significance of an R deficit: reject R=1 if R=0.82, and R=0.82 if R=1.

    \b
    Examples:
      ganom significance -d jne-500t --days 10,30 --toys 1000
      ganom significance -d juno --vary fiducial_radius --values 10,13,15,17.2 --plot fid.png
    """
    from fitter.significance import R_DEFICIT, build_configuration, sensitivity_curve, significance, window_counts

    check_figure_path(plot, "--plot")
    if vary:
        if not vary_values:
            raise InputError("--vary needs --values (comma-separated)")
        ignored = [o for o, used in (("--background-scale", background_scale != 1.0), ("--source-off", source_off != 0.0),
                                     ("--angular-resolution", angular is not None), ("--toys", toys != 0)) if used]
        if ignored:
            raise InputError(f"--vary: {', '.join(ignored)} cannot be combined with a sensitivity curve "
                             "(Asimov scans of the preset's energy × baseline × time analysis)")
        vals = ([parse_activity(v.strip(), "--values") for v in vary_values.split(",") if v.strip()]
                if vary == "activity" else parse_floats(vary_values, "--values", f"numbers for {vary}"))
        pts = sensitivity_curve(detector, vary, vals, _source(source, activity), distance, parse_run(days))
        rows = [{"knob": p.knob, "value": p.value, "signal_events": p.signal_events, "background_events": p.background_events,
                 "sigma_R": p.sigma_r, "z_reject_R1_if_R082": p.z_reject_r1, "z_reject_R082_if_R1": p.z_reject_r082}
                for p in pts]
        if as_json:
            _echo_json(rows)
        else:
            click.echo(format_table(["knob", "value", "signal", "background", "sigma_R", "Z(R=1 | R=0.82)",
                                     "Z(R=0.82 | R=1)"],
                                    [[r["knob"], f"{r['value']:.4g}", f"{r['signal_events']:.0f}",
                                      f"{r['background_events']:.0f}", f"{r['sigma_R']:.4f}",
                                      f"{r['z_reject_R1_if_R082']:.2f}", f"{r['z_reject_R082_if_R1']:.2f}"] for r in rows]))
        if plot:
            from fitter.plotting import plot_sensitivity

            _save(plot_sensitivity(pts, xlabel=vary, logx=vary == "activity"), plot)
        return
    rows = []
    for d in parse_days(days):
        tpl, model = build_configuration(detector, _source(source, activity), distance, d, background_scale, source_off,
                                         angular_resolution_deg=angular)
        s, b = window_counts(tpl)
        z1 = significance(model, R_DEFICIT, 1.0, toys, seed)
        z2 = significance(model, 1.0, R_DEFICIT, toys, seed + 1)
        rows.append({"detector": tpl.detector.name, "distance_m": tpl.distance_m, "days": d, "signal_events": s,
                     "background_events": b, "sigma_R": z2.sigma_r, "z_reject_R1_if_R082": z1.z_asimov,
                     "z_reject_R082_if_R1": z2.z_asimov, "toys": toys,
                     "z_reject_R1_if_R082_toys_median": z1.z_toys_median,
                     "z_reject_R082_if_R1_toys_median": z2.z_toys_median,
                     "bands_R1_if_R082": z1.z_toys_bands, "bands_R082_if_R1": z2.z_toys_bands})
    if as_json:
        _echo_json(rows)
        return
    header = ["detector", "D [m]", "days", "signal", "background", "sigma_R", "Z(R=1 | R=0.82)", "Z(R=0.82 | R=1)"]
    if toys:
        header += ["toy median Z(R=1|0.82)", "toy median Z(0.82|1)"]
    table = []
    for r in rows:
        row = [r["detector"], f"{r['distance_m']:g}", f"{r['days']:g}", f"{r['signal_events']:.0f}",
               f"{r['background_events']:.0f}", f"{r['sigma_R']:.4f}", f"{r['z_reject_R1_if_R082']:.2f}",
               f"{r['z_reject_R082_if_R1']:.2f}"]
        if toys:
            row += [f"{r['z_reject_R1_if_R082_toys_median']:.2f}", f"{r['z_reject_R082_if_R1_toys_median']:.2f}"]
        table.append(row)
    click.echo(format_table(header, table))


@main.command("compare")
@click.option("--detector", "-d", "detectors", multiple=True, help="Presets to compare (default: all).")
@click.option("--source", "-s", default="cr51", show_default=True, help="Source preset or TOML file.")
@click.option("--activity", "-a", default=None, help="Activity at t=0 (e.g. 3MCi).")
@click.option("--days", default="10,30", show_default=True, help="Run lengths [days].")
@click.option("--angular-resolution", "angular", type=float, default=None,
              help="Directional analysis (cos θ to the source) with this resolution [degrees].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records.")
@click.option("--plot", default=None, type=click.Path(), help="Write the comparison figure.")
def compare_cmd(detectors: tuple[str, ...], source: str, activity: str | None, days: str, angular: float | None,
                as_json: bool, plot: str | None) -> None:
    """Side-by-side detector comparison: events, background, σ_R and both significances.

    Every preset at each of its named source positions, Asimov data, all systematics."""
    from fitter.significance import compare_detectors

    check_figure_path(plot, "--plot")
    recs = compare_detectors(detectors or None, parse_days(days), _source(source, activity),
                             angular_resolution_deg=angular)
    if as_json:
        _echo_json([r.to_record() for r in recs])
    else:
        header = ["detector", "position", "D [m]", "days", "signal", "background", "sigma_R",
                  "Z(R=1 | R=0.82)", "Z(R=0.82 | R=1)"]
        click.echo(format_table(header, [[r.detector, r.position, f"{r.distance_m:g}", f"{r.days:g}",
                                          f"{r.signal_events:.0f}", f"{r.background_events:.0f}", f"{r.sigma_R:.4f}",
                                          f"{r.z_reject_R1_if_R082:.2f}", f"{r.z_reject_R082_if_R1:.2f}"] for r in recs]))
    if plot:
        from fitter.plotting import plot_comparison

        src = _source(source, activity)
        _save(plot_comparison(recs, title=f"{src.activity_mci:.3g} MCi {src.isotope}: detector comparison "
                                          "(Asimov, 1σ systematics included)"), plot)


def _load_topic_commands() -> None:
    """Commands of larger topics live in ``fitter/cli_<topic>.py`` and attach themselves to
    :data:`main` when imported (contours, pyhf, gallium, ...)."""
    import importlib
    import pkgutil
    from pathlib import Path

    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if info.name.startswith("cli_"):
            importlib.import_module(f"{__package__}.{info.name}")


_load_topic_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
