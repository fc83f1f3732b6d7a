"""``ganom br``: the ⁵¹Cr branching ratio from the recoil spectrum and from directionality."""

from __future__ import annotations

from pathlib import Path

import click

from ganom.fitter.cli.common import (
    DAYS,
    RUN,
    BadInput,
    NumberList,
    _echo_json,
    _save,
    angular_option,
    detector_option,
    distance_option,
    json_option,
    source_option,
)
from ganom.fitter.io import jsonable, write_json

__all__ = ["br_cmd"]


@click.command("br")
@detector_option
@source_option
@distance_option
@click.option("--days", type=RUN, default="30", show_default=True, help="Run length [days].")
@angular_option
@click.option("--mode", type=click.Choice(["shape", "rate"]), default="shape", show_default=True,
              help="shape: R free, only the spectrum informs B; rate: R = 1, the activity's B dependence too.")
@click.option("--deficit", type=click.FloatRange(0.0, 1.5, min_open=True, max_open=True), default=0.82,
              show_default=True, help="Gallium ratio the alternative B should explain.")
@click.option("--target", type=click.FloatRange(0.0, min_open=True), default=None,
              help="Target σ_B (default: the 5σ separation of the alternative).")
@click.option("--exposures", type=DAYS, default="10,30,100,300", show_default=True,
              help="Run lengths [days] for σ_B vs exposure.")
@click.option("--resolutions", type=NumberList("angular resolutions 0–180 degrees", 0.0, maximum=180.0),
              default="60,40,20,10,5,2,0",
              show_default=True, help="Angular resolutions [degrees] for σ_B vs resolution.")
@click.option("--out", default="ganom-output/br", show_default=True, type=click.Path(), help="Output folder (plots).")
@json_option()
@click.option("--config", "config_file", default=None, type=click.Path(dir_okay=False),
              help="An analysis configuration whose signal samples are marked branch = ground/excited: σ_B and "
                   "Z(B_alt) for it (no exposure or resolution scans).")
@click.pass_context
def br_cmd(ctx: click.Context, detector: str, source: str, distance: str, days: float, angular: float | None, mode: str,
           deficit: float, target: float | None, exposures: list[float], resolutions: list[float], out: str,
           as_json: bool, config_file: str | None) -> None:
    """Expected precision on the ⁵¹Cr 320 keV branching B, events needed, and plots of σ_B
    versus exposure and angular resolution.

    \b
    Examples:
      ganom br -d jne-500t --days 30
      ganom br -d juno --distance outside --angular-resolution 20 --mode shape
    """
    from ganom.fitter.analyses.branching import branching_study
    from ganom.fitter.plotting.likelihood import plot_branching_exposure, plot_branching_resolution

    if config_file:
        from ganom.fitter.analyses.branching import b_explaining_deficit, config_branch_sensitivity
        from ganom.fitter.cli.common import refuse_with_config
        from ganom.fitter.inputs import read_config

        refuse_with_config(ctx, ["detector", "source", "distance", "days", "angular", "target", "exposures",
                                 "resolutions", "out"])
        spec = read_config(config_file)
        if "source" not in spec:
            raise BadInput(f"--config {config_file}: measuring the branching ratio needs `source` in the configuration")
        b_alt = b_explaining_deficit(deficit, spec["source"])
        r = config_branch_sensitivity(config_file, mode, b_alt)
        if as_json:
            _echo_json(r.to_dict())
            return
        click.echo(f"{r.detector}: B fitted as the POI ({mode} mode), Asimov at B₀ = {r.b_true:.4f}")
        click.echo(f"σ_B = {r.sigma_b:.4f};  B = {b_alt:.4f} (explains a gallium ratio {deficit:g}) rejected at "
                   f"Z = {r.z_alternative:.2f}")
        return

    study = branching_study(detector, source, distance, days, angular, mode, deficit, target, exposures, resolutions,
                            progress=True)
    outdir = Path(out)

    from ganom.fitter.cli.common import hold_output_folder

    outdir = hold_output_folder(outdir)
    _save(plot_branching_exposure(study), str(outdir / "sigma_b_vs_exposure.png"))
    _save(plot_branching_resolution(study), str(outdir / "sigma_b_vs_resolution.png"))
    summary = study.to_dict()
    from ganom.fitter.cli.common import resolved_preset
    from ganom.fitter.io import provenance, with_provenance

    resolved = resolved_preset(detector, source, distance, days, angular_resolution_deg=angular, mode=mode,
                               deficit=deficit, target_sigma_b=target, exposures_days=list(exposures),
                               resolutions_deg=list(resolutions))
    write_json(jsonable(with_provenance(summary, provenance(resolved))), outdir / "br.json")
    if as_json:
        _echo_json(summary, resolved)
        return
    first, target_line, resolution_line, *cherenkov_line = study.summary_lines()
    click.echo(first)
    click.echo(study.method_table().text())
    for line in cherenkov_line:
        click.echo(line)
    click.echo(target_line)
    click.echo(study.exposure_table().text())
    click.echo(study.resolution_table().text())
    click.echo(resolution_line)
