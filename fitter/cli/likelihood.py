"""``ganom fit``, ``ganom significance`` and ``ganom compare``: the binned likelihood of one
configuration, its R-deficit significance and the detector comparison.
"""

from __future__ import annotations

import click

from ganom.fitter.cli.common import (
    BadInput,
    _configuration_options,
    _echo_json,
    _load_counts,
    _save,
    _source,
    activity_option,
    check_figure_path,
    exit_if_invalid,
    parse_assignments,
    parse_days,
    parse_floats,
    parse_run,
)
from ganom.fitter.io import format_table
from ganom.models.sources import parse_activity

__all__ = ["fit_cmd", "significance_cmd", "compare_cmd"]


@click.command("fit")
@_configuration_options
@click.option("--asimov", default=None, help="Fit the Asimov dataset at these values, e.g. R=0.82 (default R=1).")
@click.option("--data", "data_file", default=None, type=click.Path(), help="Observed counts (.json/.npy/.npz).")
@click.option("--fix", default="",
              help="Parameters held fixed, in the model's own units: R, B in natural units; normsys and histosys "
                   "α's (activity, fiducial, escale, bkg_*) in σ of their constraint, e.g. activity=0,escale=0.")
@click.option("--minos", is_flag=True, help="MINOS errors for R.")
@click.option("--json", "as_json", is_flag=True, help="Print the fit result as JSON.")
@click.option("--plot", default=None, type=click.Path(), help="Write the post-fit spectrum figure (PNG/PDF).")
@click.option("--workspace", default=None, type=click.Path(dir_okay=False),
              help="Fit this pyhf workspace (JSON) with the native engine instead of a detector configuration.")
@click.option("--measurement", default=None, help="With --workspace: the measurement to use (default: the first).")
@click.option("--poi", default=None,
              help="With --workspace: the parameter of interest instead of the measurement's ('none': no POI, "
                   "e.g. for a background-only workspace).")
def fit_cmd(detector: str, source: str, activity: float | None, distance: str, days: str, background_scale: float,
            source_off: float, angular: float | None, asimov: str | None, data_file: str | None, fix: str, minos: bool,
            as_json: bool, plot: str | None, workspace: str | None, measurement: str | None,
            poi: str | None) -> None:
    """Fit the binned likelihood (energy × baseline × time) to Asimov or observed data.

    \b
    Examples:
      ganom fit -d jne-500t --asimov R=0.82
      ganom fit -d juno --distance outside --days 30 --data counts.npy --minos
      ganom fit --workspace workspaces/juno_centre_30d.workspace.json --json
    """
    from ganom.fitter.config import build_configuration
    from ganom.fitter.infer.fit import fit

    if workspace:
        from ganom.fitter.cli.pyhf import fit_workspace

        return fit_workspace(workspace, asimov, data_file, fix, minos, as_json, plot, measurement, poi)
    if measurement or poi:
        raise BadInput("--measurement and --poi go with --workspace")
    if asimov and data_file:
        raise BadInput("--asimov and --data are exclusive")
    check_figure_path(plot, "--plot")
    run = parse_run(days)
    tpl, model = build_configuration(detector, _source(source, activity), distance, run, background_scale,
                                     source_off, angular_resolution_deg=angular)
    truth = parse_assignments(asimov or "R=1", "--asimov", model)
    data = _load_counts(data_file, model) if data_file else model.asimov(truth)
    res = fit(model, data, fix=parse_assignments(fix, "--fix", model), minos=minos)
    what = f"data from {data_file}" if data_file else f"Asimov data at {truth}"
    if as_json:
        _echo_json(res.to_dict())
    else:
        click.echo(f"{tpl.detector.label}, source at D = {tpl.distance_m:g} m, {run:g} days, "
                   f"{model.n_bins} bins; fit to {what}")
        click.echo(res.table())
    if plot:
        from ganom.fitter.config import unflatten
        from ganom.fitter.plotting.likelihood import plot_stack

        per = model.expected_samples(res.values)[..., model.channel_slices["source_on"]]
        samples = {n: unflatten(tpl, per[i]) for i, n in enumerate(model.samples)}
        obs = unflatten(tpl, data.main[model.channel_slices["source_on"]])
        _save(plot_stack(tpl, "energy", samples=samples, data=obs), plot)
    exit_if_invalid(res, f"{tpl.detector.label}, D = {tpl.distance_m:g} m, {run:g} days, {what}")


@click.command("significance")
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
def significance_cmd(detector: str, source: str, activity: float | None, distance: str, days: str,
                     background_scale: float, source_off: float, angular: float | None, toys: int, seed: int,
                     vary: str | None, vary_values: str | None, plot: str | None, as_json: bool) -> None:
    """Expected significance of an R deficit: reject R=1 if R=0.82, and R=0.82 if R=1.

    \b
    Examples:
      ganom significance -d jne-500t --days 10,30 --toys 1000
      ganom significance -d juno --vary fiducial_radius --values 10,13,15,17.2 --plot fid.png
    """
    from ganom.fitter.analyses.comparison import sensitivity_curve
    from ganom.fitter.config import build_configuration, window_counts
    from ganom.fitter.infer.significance import R_DEFICIT, significance

    check_figure_path(plot, "--plot")
    if vary:
        if not vary_values:
            raise BadInput("--vary needs --values (comma-separated)")
        ignored = [o for o, used in (("--background-scale", background_scale != 1.0), ("--source-off", source_off != 0.0),
                                     ("--angular-resolution", angular is not None), ("--toys", toys != 0)) if used]
        if ignored:
            raise BadInput(f"--vary: {', '.join(ignored)} cannot be combined with a sensitivity curve "
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
            from ganom.fitter.plotting.likelihood import plot_sensitivity

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


@click.command("compare")
@click.option("--detector", "-d", "detectors", multiple=True, help="Presets to compare (default: all).")
@click.option("--source", "-s", default="cr51", show_default=True, help="Source preset or TOML file.")
@activity_option
@click.option("--days", default="10,30", show_default=True, help="Run lengths [days].")
@click.option("--angular-resolution", "angular", type=float, default=None,
              help="Directional analysis (cos θ to the source) with this resolution [degrees].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records.")
@click.option("--plot", default=None, type=click.Path(), help="Write the comparison figure.")
def compare_cmd(detectors: tuple[str, ...], source: str, activity: float | None, days: str, angular: float | None,
                as_json: bool, plot: str | None) -> None:
    """Side-by-side detector comparison: events, background, σ_R and both significances.

    Every preset at each of its named source positions, Asimov data, all systematics."""
    from ganom.fitter.analyses.comparison import compare_detectors

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
        from ganom.fitter.plotting.likelihood import plot_comparison

        src = _source(source, activity)
        _save(plot_comparison(recs, title=f"{src.activity_mci:.3g} MCi {src.isotope}: detector comparison "
                                          "(Asimov, 1σ systematics included)"), plot)
