"""``ganom study``: the main job."""

from __future__ import annotations

from pathlib import Path

import click

from ganom.fitter.cli.common import DAYS, resolve_workers, source_option, workers_option

__all__ = ["study_cmd"]


@click.command("study")
@click.option("--detector", "-d", "detectors", multiple=True,
              help="Detector preset(s) or TOML file(s) (repeatable). Default: the bundled default detector.")
@click.option("--days", type=DAYS, default="10,30", show_default=True, help="Run lengths [days], comma-separated.")
@source_option
@click.option("--out", default="ganom-study", show_default=True, type=click.Path(file_okay=False),
              help="Output folder.")
@click.option("--quick", is_flag=True, help="Coarse grids and no toys: the whole study in under a minute.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of pseudo-data and toys.")
@workers_option("the FC toys, or without toys the study's sections side by side")
@click.option("--config", "config_file", default=None, type=click.Path(dir_okay=False),
              help="Study an analysis configuration file (your own histograms and events) instead of presets.")
@click.option("--overlay", "overlays", multiple=True, metavar="NAME|FILE",
              help="Also draw a published contour on the contour plots (repeatable): a shipped name "
                   "(ganom contour --list-overlays) or a CSV / HEPData YAML contour file.")
@click.pass_context
def study_cmd(ctx: click.Context, detectors: tuple[str, ...], days: list[float], source: str, out: str, quick: bool,
              seed: int, workers: int | None, config_file: str | None, overlays: tuple[str, ...]) -> None:
    """A complete sensitivity study: rates, spectra, R-deficit significances, 3+1 contours with
    the gallium region, detector comparison, ⁵¹Cr branching ratio, pyhf workspaces and a report.

    \b
    Examples:
      ganom study --quick
      ganom study -d jne-500t -d juno --days 10,30,100 --out my-study
      ganom study --config examples/own_templates/analysis.toml --quick
    """
    from ganom.fitter.cli.common import hold_output_folder
    from ganom.fitter.cli.contour import resolve_overlays
    from ganom.fitter.io import current_command
    from ganom.fitter.study import StudyConfig, run_study
    from ganom.models.detectors import DEFAULT_DETECTOR

    resolve_overlays([o for o in overlays if o != "gallium"])  # checked before any work; the gallium region is always drawn
    out = hold_output_folder(out)
    cfg = StudyConfig(detectors or (DEFAULT_DETECTOR,), days, out=Path(out),
                      quick=quick, seed=seed, source=source, workers=resolve_workers(workers),
                      overlays=tuple(o for o in overlays if o != "gallium"),
                      command=current_command() or "ganom study" + (" --quick" if quick else ""))
    if config_file:
        from ganom.fitter.cli.common import refuse_with_config
        from ganom.fitter.study import run_config_study

        refuse_with_config(ctx, ["detectors", "days", "source"])
        run_config_study(config_file, cfg, log=lambda m: click.echo(m, err=True))
        return
    run_study(cfg, log=lambda m: click.echo(m, err=True))
