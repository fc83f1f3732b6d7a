"""``ganom fit``, ``ganom significance`` and ``ganom compare``: the binned likelihood of one
configuration, its R-deficit significance and the detector comparison.
"""

from __future__ import annotations

import click

from ganom.fitter.cli.common import (
    ASSIGNMENTS,
    DAYS,
    BadInput,
    _configuration_options,
    _echo_json,
    _load_counts,
    _save,
    _source,
    activity_option,
    angular_option,
    check_assignments,
    check_figure_path,
    config_option,
    exit_if_invalid,
    json_option,
    load_analysis,
    parse_floats,
    refuse_with_config,
    resolved_preset,
    source_option,
)
from ganom.fitter.config import KNOBS
from ganom.models.sources import parse_activity

__all__ = ["fit_cmd", "significance_cmd", "compare_cmd"]


@click.command("fit")
@_configuration_options()
@click.option("--asimov", type=ASSIGNMENTS, default=None,
              help="Fit the Asimov dataset at these values, e.g. R=0.82 (default R=1).")
@click.option("--data", "data_file", default=None, type=click.Path(), help="Observed counts (.json/.npy/.npz).")
@click.option("--fix", type=ASSIGNMENTS, default="",
              help="Parameters held fixed, in the model's own units: R, B in natural units; normsys and histosys "
                   "α's (activity, fiducial, escale, bkg_*) in σ of their constraint, e.g. activity=0,escale=0.")
@click.option("--minos", is_flag=True, help="MINOS errors for R.")
@json_option("Print the fit result as JSON.")
@click.option("--plot", default=None, type=click.Path(), help="Write the post-fit spectrum figure (PNG/PDF).")
@click.option("--workspace", default=None, type=click.Path(dir_okay=False),
              help="Fit this pyhf workspace (JSON) with the native engine instead of a detector configuration.")
@click.option("--measurement", default=None, help="With --workspace: the measurement to use (default: the first).")
@click.option("--poi", default=None,
              help="With --workspace: the parameter of interest instead of the measurement's ('none': no POI, "
                   "e.g. for a background-only workspace).")
@config_option
@click.pass_context
def fit_cmd(ctx: click.Context, config_file: str | None, detector: str, source: str, activity: float | None, distance: str, days: float, background_scale: float,
            source_off: float, angular: float | None, asimov: dict[str, float] | None, data_file: str | None,
            fix: dict[str, float], minos: bool,
            as_json: bool, plot: str | None, workspace: str | None, measurement: str | None,
            poi: str | None) -> None:
    """Fit the binned likelihood (energy × baseline × time) to Asimov or observed data.

    \b
    Examples:
      ganom fit -d jne-500t --asimov R=0.82
      ganom fit -d juno --distance outside --days 30 --data counts.npy --minos
      ganom fit --workspace workspaces/juno_centre_30d.workspace.json --json
      ganom fit --config examples/own_templates/analysis.toml --asimov R=0.82
    """
    from ganom.fitter.config import build_configuration
    from ganom.fitter.infer.fit import fit

    if config_file:
        refuse_with_config(ctx, ["detector", "source", "activity", "distance", "days", "background_scale",
                                 "source_off", "angular", "workspace", "measurement", "poi", "plot"])
        if asimov and data_file:
            raise BadInput("--asimov and --data are exclusive")
        a = load_analysis(config_file)
        model = a.model
        if data_file:
            data, what = _load_counts(data_file, model), f"data from {data_file}"
        elif asimov or a.data is None:
            truth = check_assignments(asimov or {model.poi: 1.0}, "--asimov", model)
            data, what = model.asimov(truth), f"Asimov data at {truth}"
        else:
            data, what = a.data, f"the data of {config_file}"
        res = fit(model, data, fix=check_assignments(fix, "--fix", model), minos=minos)
        if as_json:
            _echo_json(res.to_dict(), a.provenance_record())
        else:
            click.echo(f"{a.name}: {model.n_bins} bins; fit to {what}")
            click.echo(res.table())
        exit_if_invalid(res, f"{a.name}, {what}")
        return
    if workspace:
        from ganom.fitter.cli.pyhf import fit_workspace

        return fit_workspace(workspace, asimov, data_file, fix, minos, as_json, plot, measurement, poi)
    if measurement or poi:
        raise BadInput("--measurement and --poi go with --workspace")
    if asimov and data_file:
        raise BadInput("--asimov and --data are exclusive")
    check_figure_path(plot, "--plot")
    run = days
    tpl, model = build_configuration(detector, _source(source, activity), distance, run, background_scale,
                                     source_off, angular_resolution_deg=angular)
    truth = check_assignments(asimov or {"R": 1.0}, "--asimov", model)
    data = _load_counts(data_file, model) if data_file else model.asimov(truth)
    res = fit(model, data, fix=check_assignments(fix, "--fix", model), minos=minos)
    what = f"data from {data_file}" if data_file else f"Asimov data at {truth}"
    if as_json:
        from ganom.fitter.config import configuration_record

        _echo_json(res.to_dict(), configuration_record(tpl))
    else:
        click.echo(f"{tpl.detector.label}, source at D = {tpl.distance_m:g} m, {run:g} days, "
                   f"{model.n_bins} bins; fit to {what}")
        click.echo(res.table())
    if plot:
        from ganom.fitter.plotting.likelihood import plot_postfit

        _save(plot_postfit(tpl, model, res, data), plot)
    exit_if_invalid(res, f"{tpl.detector.label}, D = {tpl.distance_m:g} m, {run:g} days, {what}")


@click.command("significance")
@_configuration_options(several_days=True)
@click.option("--toys", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also run toys for the median and bands.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the toys.")
@click.option("--vary", type=click.Choice(list(KNOBS)), default=None,
              help="Scan one knob over --values (Asimov): a sensitivity curve.")
@click.option("--values", "vary_values", default=None,
              help="Values of the --vary knob (activity accepts units, e.g. 1MCi,3MCi).")
@click.option("--plot", default=None, type=click.Path(), help="With --vary: write the curve figure.")
@json_option("Print JSON records.")
@config_option
@click.pass_context
def significance_cmd(ctx: click.Context, config_file: str | None, detector: str, source: str, activity: float | None, distance: str, days: list[float],
                     background_scale: float, source_off: float, angular: float | None, toys: int, seed: int,
                     vary: str | None, vary_values: str | None, plot: str | None, as_json: bool) -> None:
    """Expected significance of an R deficit: reject R=1 if R=0.82, and R=0.82 if R=1.

    \b
    Examples:
      ganom significance -d jne-500t --days 10,30 --toys 1000
      ganom significance -d juno --vary fiducial_radius --values 10,13,15,17.2 --plot fid.png
    """
    from ganom.fitter.analyses.comparison import (
        comparison_table,
        deficit_significances,
        sensitivity_curve,
        sensitivity_table,
        toy_bands_text,
    )

    check_figure_path(plot, "--plot")
    if config_file:
        refuse_with_config(ctx, ["detector", "source", "activity", "distance", "days", "background_scale",
                                 "source_off", "angular", "vary", "vary_values", "plot"])
        from ganom.fitter.analyses.comparison import config_significance

        a = load_analysis(config_file)
        rec = config_significance(a, toys, seed, progress=True)
        if as_json:
            _echo_json(rec.to_record(toys=True), a.provenance_record(), seed if toys else None)
        else:
            click.echo(comparison_table([rec], toys=bool(toys)).text())
            if toys:
                click.echo(toy_bands_text([rec]))
        return
    if not vary:
        recs = deficit_significances(detector, _source(source, activity), distance, days, background_scale,
                                     source_off, angular, toys, seed, progress=True)
        if as_json:
            resolved = resolved_preset(detector, _source(source, activity), distance, max(days),
                                       run_lengths_days=list(days), background_scale=background_scale,
                                       source_off_days=source_off, angular_resolution_deg=angular, toys=toys)
            _echo_json([r.to_record(toys=True) for r in recs], resolved, seed if toys else None)
        else:
            click.echo(comparison_table(recs, toys=bool(toys)).text())
            if toys:
                click.echo(toy_bands_text(recs))
        return
    if not vary_values:
        raise BadInput("--vary needs --values (comma-separated)")
    ignored = [o for o, used in (("--background-scale", background_scale != 1.0), ("--source-off", source_off != 0.0),
                                 ("--angular-resolution", angular is not None), ("--toys", toys != 0)) if used]
    if ignored:
        raise BadInput(f"--vary: {', '.join(ignored)} cannot be combined with a sensitivity curve "
                       "(Asimov scans of the preset's energy × baseline × time analysis)")
    if len(days) > 1:
        raise BadInput(f"--days: {len(days)} run lengths; a sensitivity curve takes one (or --vary days)")
    vals = ([parse_activity(v.strip(), "--values") for v in vary_values.split(",") if v.strip()]
            if vary == "activity" else parse_floats(vary_values, "--values", f"numbers for {vary}"))
    pts = sensitivity_curve(detector, vary, vals, _source(source, activity), distance, days[0])
    if as_json:
        _echo_json([{"knob": p.knob, "value": p.value, "signal_events": p.signal_events,
                     "background_events": p.background_events, "sigma_R": p.sigma_r,
                     "z_reject_R1_if_R082": p.z_reject_r1, "z_reject_R082_if_R1": p.z_reject_r082} for p in pts],
                   resolved_preset(detector, _source(source, activity), distance, days[0], vary=vary, values=vals))
    else:
        click.echo(sensitivity_table(pts).text())
    if plot:
        from ganom.fitter.plotting.likelihood import plot_sensitivity
        from ganom.models.detectors import load_detector

        det, src = load_detector(detector), _source(source, activity)
        preset = {"days": None, "activity": src.activity_bq, "activity_uncertainty": src.activity_rel_uncertainty,
                  "background_scale": 1.0, "fiducial_radius": det.fiducial_radius_m,
                  "assembly_radius": src.assembly_radius_m, "shield_thickness": src.shield_thickness_m,
                  "energy_resolution": det.energy_stochastic, "vertex_resolution": det.vertex_sigma_1mev_m,
                  "external_rate": (det.backgrounds or {}).get("external", {}).get("rate_per_day"),
                  "alpha_leakage": (det.backgrounds or {}).get("alpha_beta_psd", {}).get("alpha_leakage", 1.0)}[vary]
        title = (f"{det.label}, {src.isotope_label} {src.activity_mci:.3g} MCi at D = {det.source_distance(distance):g} m"
                 + ("" if vary == "days" else f", {days[0]:g} d") + ": Asimov, all systematics")
        _save(plot_sensitivity(pts, logx=vary == "activity", title=title, preset_value=preset), plot)


@click.command("compare")
@click.option("--detector", "-d", "detectors", multiple=True, help="Presets to compare (default: all).")
@source_option
@activity_option
@click.option("--days", type=DAYS, default="10,30", show_default=True, help="Run lengths [days], comma-separated.")
@angular_option
@json_option("Print JSON records.")
@click.option("--plot", default=None, type=click.Path(), help="Write the comparison figure.")
def compare_cmd(detectors: tuple[str, ...], source: str, activity: float | None, days: list[float],
                angular: float | None, as_json: bool, plot: str | None) -> None:
    """Side-by-side detector comparison: events, background, σ_R and both significances.

    Every preset at each of its named source positions, Asimov data, all systematics."""
    from ganom.fitter.analyses.comparison import compare_detectors, comparison_table

    check_figure_path(plot, "--plot")
    recs = compare_detectors(detectors or None, days, _source(source, activity), angular_resolution_deg=angular,
                             progress=True)
    if as_json:
        _echo_json([r.to_record() for r in recs])
    else:
        click.echo(comparison_table(recs).text())
    if plot:
        from ganom.fitter.plotting.likelihood import plot_comparison

        src = _source(source, activity)
        _save(plot_comparison(recs, title=f"{src.activity_mci:.3g} MCi {src.isotope_label}: detector comparison "
                                          "(Asimov, 1σ systematics included)"), plot)
