"""``ganom build`` and ``ganom simulate``: analyses from a collaboration's own histograms and
simulated events (docs/inputs.md)."""

from __future__ import annotations

from pathlib import Path

import click

from ganom.fitter.cli.common import (
    BadInput,
    _echo_json,
    _source,
    activity_option,
    days_option,
    detector_option,
    distance_option,
    grid_option,
    json_option,
    load_analysis,
    source_option,
)

__all__ = ["build_cmd", "simulate_cmd"]


@click.command("build")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Folder for the model summary, pyhf workspace and patchset (default: next to CONFIG).")
@grid_option("10x10", "Δm² × sin²2θ points of the oscillation patchset (event samples only).")
@json_option("Print the model summary as JSON.")
def build_cmd(config: str, out: str | None, grid: tuple[int, int], as_json: bool) -> None:
    """Build an analysis configuration: model summary, pyhf workspace (+ oscillation patchset).

    \b
    Examples:
      ganom build examples/own_templates/analysis.toml
      ganom build my_analysis.yaml --out build/ --grid 30x30
    """
    from ganom.fitter.analyses.exports import export_analysis
    from ganom.fitter.infer.oscillation import OscillationGrid

    a = load_analysis(config)
    folder = Path(out) if out else Path(config).parent
    exp = export_analysis(a, Path(config).stem, OscillationGrid.from_spec(grid))
    outputs = exp.write(folder)
    summary = exp.summary
    if as_json:
        _echo_json(summary)
        return
    m = a.model
    click.echo(f"{a.name}: {m.n_bins} bins in {len(a.binnings)} channel(s), {m.n_params} parameters (POI {m.poi}), "
               f"{summary['mc_statistics_bins']} bins with MC statistics profiled analytically")
    for b in a.binnings:
        click.echo(f"  {b.name}: {' × '.join(f'{ax} {n}' for ax, n in zip(b.axes, b.shape))}")
    for s, v in summary["expected_events"].items():
        tag = " (oscillated, from events)" if s in summary["oscillated_samples"] else ""
        click.echo(f"  {s:<20s} {v:12.4g} expected events{tag}")
    if "workspace_note" in summary:
        click.echo(f"note: {summary['workspace_note']}", err=True)
    for p in outputs:
        click.echo(f"wrote {p}", err=True)


@click.command("simulate")
@detector_option
@source_option
@activity_option
@distance_option
@days_option(several=False)
@click.option("--events", "n_events", type=click.IntRange(min=10, max=50_000_000), default=200_000, show_default=True,
              help="Simulated events per signal sample (and MC events per background histogram).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="ROOT file to write; the configuration goes next to it (same name, .toml).")
@json_option("Print what was written as JSON.")
def simulate_cmd(detector: str, source: str, activity: float | None, distance: str, days: float, n_events: int,
                 seed: int, out: str, as_json: bool) -> None:
    """Simulate a preset's inputs from the analytic model: signal events, background histograms
    and a ready configuration (the closed loop of `--config`).

    \b
    Examples:
      ganom simulate -d jne-1t --days 30 --events 200000 --out sim/jne1t.root
      ganom fit --config sim/jne1t.toml --asimov R=0.82
    """
    from ganom.fitter.analyses.simulate import simulate_preset
    from ganom.fitter.config import Configuration

    if Path(out).suffix != ".root":
        raise BadInput(f"--out {out}: the simulated inputs are a ROOT file (.root)")
    cfg = Configuration.resolve(detector, _source(source, activity), distance, days)
    res = simulate_preset(cfg, n_events, out, seed)
    rec = {"root_file": str(res.root_file), "config_file": str(res.config_file), "events": res.events,
           "expected_events": res.expected}
    if as_json:
        _echo_json(rec)
        return
    for n, k in res.events.items():
        click.echo(f"{n}: {k} selected events of {n_events} simulated ({res.expected[n]:.4g} expected in the window)")
    click.echo(f"wrote {res.root_file} and {res.config_file}", err=True)
