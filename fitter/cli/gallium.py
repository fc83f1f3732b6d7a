"""``ganom gallium`` (combined ratios, 3+1 allowed regions) and ``ganom discriminate``
(source-vs-detection test with an electron-scattering run)."""

from __future__ import annotations

import click

from ganom.fitter.cli.common import (
    DAYS,
    BadInput,
    _echo_json,
    _save,
    activity_option,
    check_figure_path,
    distance_option,
    grid_option,
    json_option,
    source_option,
)
from ganom.models.detectors import preset_names
from ganom.models.gallium import DEFAULT_ERROR_TREATMENT, ERROR_TREATMENTS, EXPERIMENT_SETS, XSEC_MODELS

__all__ = ["gallium_cmd", "discriminate_cmd"]

_MODEL_CHOICES = list(XSEC_MODELS) + ["all"]


@click.command("gallium")
@click.option("--model", "-m", "model", type=click.Choice(_MODEL_CHOICES), default="bahcall", show_default=True,
              help="71Ga capture cross-section model ('all': every model).")
@click.option("--experiments", "-e", default="all", show_default=True,
              help="Experiment set (all, best, gallex_sage) or comma-separated names.")
@click.option("--contour", is_flag=True, help="3+1 fit: best fit and the 1/2/3 sigma allowed-region plot.")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Figure file (PNG/PDF): the allowed regions with --contour (default gallium_allowed.png), "
                   "the R_mean-per-model figure with --plot (default gallium_ratios.png).")
@grid_option("80x80", "With --contour: NxM grid, N log dm2 in [0.05, 100] eV^2 x M log sin^2 2theta in [0.01, 1].")
@click.option("--plot", is_flag=True, help="Without --contour: also write the R_mean-per-model figure to --out.")
@click.option("--errors", "errors", type=click.Choice(list(ERROR_TREATMENTS), case_sensitive=False),
              default=DEFAULT_ERROR_TREATMENT, show_default=True,
              help="Error treatment of the ratios: 'published' (BEST's quoted +-0.05, which contains Bahcall's "
                   "cross-section error, as in the literature tables) or 'experimental' (BEST stat+syst only). "
                   "Each model's own cross-section error is a correlated nuisance in both.")
@click.option("--solar", is_flag=True, help="Solar cross-check instead: predicted Ga solar capture rate [SNU] per "
                                            "cross-section model (Borexino/SNO fluxes, MSW-LMA) against the measured "
                                            "GALLEX+GNO+SAGE rate.")
@json_option()
def gallium_cmd(model: str, experiments: str, contour: bool, out: str | None, grid: tuple[int, int], plot: bool,
                errors: str, solar: bool, as_json: bool) -> None:
    """The gallium anomaly: measured/predicted ratios, combined R and its significance per
    cross-section model (the cross section as a correlated, asymmetric nuisance), or the 3+1
    fit with --contour.

    \b
    JSON (without --contour): {"model", "errors", "ratios": {"<experiment>": [R, err]}, "R_mean",
    "R_err_lo", "R_err_hi", "significance_sigma", "provenance"} ({"provenance", "records": [...]}
    for --model all); "err" is the symmetrised error of the --errors treatment (the model's
    cross-section error enters R_mean's errors). With --solar: {"records": [per model], "measured",
    "sources", "assumptions", "provenance"}.

    \b
    Examples:
      ganom gallium --model all
      ganom gallium --model all --errors experimental
      ganom gallium --contour --experiments best --out best.png
      ganom gallium --solar
    """
    from ganom.fitter.analyses.gallium import combined_ratio, fit_oscillation, oscillation_fits_table, ratios_table

    errors = errors.lower()
    if solar:
        _solar(model, as_json)
        return
    if not experiments.strip():
        raise BadInput(f"--experiments: empty; allowed: {', '.join(EXPERIMENT_SETS)} or experiment names")
    check_figure_path(out, "--out")
    models = list(XSEC_MODELS) if model == "all" else [model]
    if contour:
        from ganom.fitter.plotting.gallium import plot_gallium_allowed

        if model == "all":
            raise BadInput("--contour needs one --model (not 'all')")
        sets = ["best", "all"] if experiments.lower() == "all" else [experiments]
        results = [fit_oscillation(e, model, grid, errors=errors) for e in sets]
        if as_json:
            _echo_json([{k: v for k, v in r.to_dict().items() if k not in ("delta_chi2", "grid")} for r in results])
        else:
            click.echo(oscillation_fits_table(results).text())
        _save(plot_gallium_allowed(results), out or "gallium_allowed.png")
        return
    results = [combined_ratio(m, experiments, errors=errors) for m in models]
    if as_json:
        recs = [r.to_dict() for r in results]
        _echo_json(recs if model == "all" else recs[0])
    else:
        click.echo(f"Gallium source experiments, error treatment '{errors}': {ERROR_TREATMENTS[errors]}.")
        click.echo("R = measured/predicted with that error; R_mean with the model's cross section as a correlated "
                   "nuisance; deficit = sqrt(chi2(R=1) - chi2_min)")
        click.echo(ratios_table(results).text())
    if plot:
        from ganom.fitter.plotting.gallium import plot_combined_ratios

        _save(plot_combined_ratios(results), out or "gallium_ratios.png")


def _solar(model: str, as_json: bool) -> None:
    """``ganom gallium --solar``: the table or JSON of :func:`ganom.fitter.analyses.gallium.solar_check`."""
    from ganom.fitter.analyses.gallium import solar_check, solar_table

    models = list(XSEC_MODELS) if model == "all" else [model]
    res = solar_check(models)
    if as_json:
        _echo_json(res.to_dict())
        return
    click.echo(f"Solar cross-check: predicted 71Ga capture rate = sum_i Phi_i <P_ee sigma>_i [SNU] against the "
               f"measured {res.measured_snu:.1f} +- {res.measured_err_snu:.1f} SNU ({res.measured_reference}).")
    click.echo("Fluxes: " + "; ".join(f"{k} {v}" for k, v in res.flux_sources.items()))
    click.echo(solar_table(res).text())
    for a in res.assumptions:
        click.echo(f"assumption: {a}")


@click.command("discriminate")
@click.option("--detector", "-d", "detectors", multiple=True, required=True,
              help=f"Detector preset ({', '.join(preset_names())}) or TOML file (repeatable).")
@click.option("--days", type=DAYS, default="10,30", show_default=True, help="Run lengths [days], comma-separated.")
@source_option
@activity_option
@distance_option
@click.option("--model", "-m", type=click.Choice(list(XSEC_MODELS)), default="bahcall", show_default=True,
              help="71Ga cross-section model of the gallium part.")
@click.option("--no-sterile", is_flag=True, help="Only the source and detection hypotheses.")
@json_option("Print JSON records.")
def discriminate_cmd(detectors: tuple[str, ...], days: list[float], source: str, activity: float | None, distance: str,
                     model: str, no_sterile: bool, as_json: bool) -> None:
    """Source or detection? How strongly an ES run tells the explanations of the gallium
    deficit apart (Asimov ES data, measured gallium data, joint likelihood).

    \b
    Hypotheses: source (R_source free: every prediction low), detection (R_Ga free: only
    gallium low), sterile (3+1 oscillation, R_source = R_Ga = 1). For each true explanation,
    the table gives dchi2 = chi2_min(hypothesis) - chi2_min(best) and Z = sqrt(dchi2).

    \b
    Example:
      ganom discriminate -d jne-500t -d juno --days 10,30
    """
    from ganom.fitter.analyses.gallium import HYPOTHESES, discriminate, discrimination_table
    from ganom.progress import progress

    hyps = tuple(h for h in HYPOTHESES if not (no_sterile and h == "sterile"))
    records = []
    with progress(len(detectors) * len(days), "configurations", "cfg") as bar:
        for det in detectors:
            for d in days:
                records.append(discriminate(det, d, source, distance, model, "all", hyps, activity=activity))
                bar.update(1)
    if as_json:
        _echo_json([r.to_dict() for r in records])
        return
    click.echo(f"Gallium: 6 experiments, {XSEC_MODELS[model].label} cross section; truth 'source' has "
               f"R_source = R_mean of the gallium data, 'sterile' the gallium 3+1 best fit.")
    click.echo(discrimination_table(records).text())
    if "sterile" in hyps:
        click.echo("Why Z(sterile) can be small when the truth is 'source': at Δm² ≫ E/L (≳ 10 eV² for "
                   "0.75 MeV at metres)\nthe oscillation averages out, P_ee = 1 − sin²2θ/2 in every bin: a "
                   "flat deficit, as from a weak source.\nOnly the gallium ratios and the L/E pattern at "
                   "smaller Δm² tell the two apart.")
    click.echo("Z(source vs detection), the two explanations that differ by where the deficit is:")
    for r in records:
        click.echo(f"  {r.detector} {r.days:g} d: if the source is low, detection is rejected at "
                   f"{r.z_source_vs_detection[0]:.1f} sigma; if detection is low, the source at "
                   f"{r.z_source_vs_detection[1]:.1f} sigma")
