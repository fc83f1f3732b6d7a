"""``ganom export``, ``ganom patch``, ``ganom validate`` and the ``ganom fit --workspace`` path.

The pyhf files of the repository (``workspaces/``) are regenerated with

    ganom export --all --patchset --grid 5x5 --out workspaces
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ganom.exceptions import WorkspaceError
from ganom.fitter.cli.common import (
    DAYS,
    BadInput,
    _echo_json,
    activity_option,
    angular_option,
    check_assignments,
    exit_if_invalid,
    grid_option,
    json_option,
    parse_floats,
    source_option,
)
from ganom.models.detectors import load_detector, preset_names

__all__ = ["export_cmd", "patch_cmd", "validate_cmd", "fit_workspace"]


@click.command("export")
@click.option("--detector", "-d", "detectors", multiple=True, help="Detector preset or TOML file (repeatable).")
@click.option("--all", "all_presets", is_flag=True, help="Every preset.")
@click.option("--distance", "-D", "distances", multiple=True,
              help="Source distance [m] or named position (repeatable). Default: every named position.")
@click.option("--days", type=DAYS, default="30", show_default=True, help="Run length(s) [days], comma-separated.")
@source_option
@activity_option
@click.option("--patchset", is_flag=True, help="Also write a patchset of 3+1 oscillation hypotheses.")
@grid_option("5x5", "Patchset grid NxM: N log-spaced dm2 in [0.01, 100] eV^2 x M sin^2 2theta in [1e-3, 1].")
@click.option("--digits", type=click.IntRange(min=1, max=17), default=7, show_default=True,
              help="Significant digits of every yield.")
@angular_option
@click.option("--coarse-baseline", is_flag=True,
              help="Baseline bins of 2σ_vertex, at most 30, as ganom study --quick (smaller files; "
                   "sin²2θ limits up to ~35 % weaker near 1.6 eV² for JUNO).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@json_option("Print JSON records of the written files.")
@click.option("--config", "config_file", default=None, type=click.Path(dir_okay=False),
              help="Export an analysis configuration file (your own histograms and events) instead of presets.")
@click.pass_context
def export_cmd(ctx: click.Context, config_file: str | None, detectors: tuple[str, ...], all_presets: bool, distances: tuple[str, ...], days: list[float],
               source: str, activity: float | None, patchset: bool, grid: tuple[int, int], digits: int,
               angular: float | None, coarse_baseline: bool, out_dir: str, as_json: bool) -> None:
    """Write pyhf workspaces (and oscillation patchsets) of detector configurations.

    Each workspace has channel source_on (E x L x t flattened, C order), one sample per signal
    branch and background, the native parameter names, POI R, and the Asimov data at R = 1 as
    observations. Every file is validated before anything is written; INDEX.md lists the files
    and their bin edges.

    \b
    Examples:
      ganom export --all --patchset --grid 5x5 --out workspaces
      ganom export -d juno -D outside --days 10,30 --out ws
      pyhf fit ws/juno_outside_30d.workspace.json
    """
    from ganom.fitter.analyses.exports import export_configuration, export_table, write_exports
    from ganom.fitter.infer.oscillation import OscillationGrid

    if config_file:
        from ganom.fitter.analyses.exports import export_analysis
        from ganom.fitter.cli.common import load_analysis, refuse_with_config

        refuse_with_config(ctx, ["detectors", "all_presets", "distances", "days", "source", "activity", "angular",
                                 "coarse_baseline"])
        exp = export_analysis(load_analysis(config_file), Path(config_file).stem,
                              OscillationGrid.from_spec(grid) if patchset else None, digits, progress=True)
        files = exp.write(out_dir)
        if as_json:
            _echo_json(exp.summary)
            return
        if "workspace_note" in exp.summary:
            click.echo(f"note: {exp.summary['workspace_note']}", err=True)
        click.echo("\n".join(f"wrote {p}" for p in files), err=True)
        return

    names = list(preset_names()) if all_presets else list(detectors)
    if not names:
        raise BadInput("give --detector NAME (repeatable) or --all")
    osc_grid = OscillationGrid.from_spec(grid) if patchset else None
    exports = []
    for name in names:
        det = load_detector(name)
        if coarse_baseline:
            from ganom.models.templates import with_coarse_baseline

            det = with_coarse_baseline(det)
        for pos in (distances or tuple(det.source_positions_m)):
            for d in days:
                exports.append(export_configuration(det, pos, d, source, osc_grid, digits, activity,
                                                    angular_resolution_deg=angular, progress=True))
    paths = write_exports(exports, out_dir)
    if as_json:
        _echo_json([e.to_record(out_dir) for e in exports])
        return
    click.echo(export_table(exports, out_dir).text())
    click.echo(f"wrote {len(paths)} files to {out_dir} (with INDEX.md)", err=True)


@click.command("patch")
@click.argument("workspace", type=click.Path(dir_okay=False))
@click.argument("patchset", type=click.Path(dir_okay=False))
@click.option("--name", "patch_name", default=None, help="Patch name (see `pyhf patchset inspect`).")
@click.option("--values", "patch_values", default=None, help="Patch values instead of a name, e.g. 1.0,0.1.")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="Patched workspace (JSON).")
def patch_cmd(workspace: str, patchset: str, patch_name: str | None, patch_values: str | None, out_file: str) -> None:
    """Apply one patch of a patchset to its workspace (digest checked) and write the result.

    \b
    Example:
      ganom patch workspaces/jne-1t_centre_30d.workspace.json \\
                  workspaces/jne-1t_centre_30d.patchset.json --values 1,0.1778279 --out osc.json
    """
    from ganom.fitter.io import read_json, write_json
    from ganom.fitter.pyhf.patchset import apply_patch

    if (patch_name is None) == (patch_values is None):
        raise BadInput("give exactly one of --name and --values")
    key: Any = patch_name
    if patch_values is not None:
        key = parse_floats(patch_values, "--values", "the patch's label values, e.g. dm2,sin2_2theta")
    out = apply_patch(read_json(workspace, WorkspaceError), read_json(patchset, WorkspaceError), key, where=patchset)
    click.echo(f"wrote {write_json(out, out_file)}", err=True)


@click.command("validate")
@click.argument("workspace", type=click.Path(dir_okay=False))
@click.argument("patchset", required=False, type=click.Path(dir_okay=False))
def validate_cmd(workspace: str, patchset: str | None) -> None:
    """Check a pyhf workspace (schema, consistency, ganom support) and a patchset against it.

    Problems are reported with the JSON path of the offending element (exit code 2).
    """
    from ganom.fitter.io import read_json
    from ganom.fitter.pyhf.load import load_workspace
    from ganom.fitter.pyhf.patchset import validate_patchset
    from ganom.fitter.pyhf.validate import validate_workspace

    spec = read_json(workspace, WorkspaceError)
    validate_workspace(spec, workspace)  # a JSON string is content, never a file name to follow
    model, _ = load_workspace(spec, where=workspace)
    click.echo(f"{workspace}: valid; {len(model.channels)} channel(s), {model.n_bins} bins, "
               f"{len(model.samples)} samples, {model.n_params} parameters, POI {model.poi}")
    if patchset:
        ps = read_json(patchset, WorkspaceError)
        validate_patchset(ps, spec, patchset)
        click.echo(f"{patchset}: valid; {len(ps['patches'])} patches apply to {workspace}")


def fit_workspace(path: str, asimov: dict[str, float] | None, data_file: str | None, fix: dict[str, float],
                  minos: bool, as_json: bool, plot: str | None, measurement: str | None = None,
                  poi: str | None = None) -> None:
    """``ganom fit --workspace FILE``: the native fit of a pyhf workspace's observations."""
    from ganom.fitter.cli.common import _load_counts
    from ganom.fitter.hf.data import Data
    from ganom.fitter.infer.fit import fit
    from ganom.fitter.pyhf.load import load_workspace

    if plot:
        raise BadInput("--plot needs a detector configuration; it is not available with --workspace")
    if asimov and data_file:
        raise BadInput("--asimov and --data are exclusive")
    from ganom.fitter.pyhf.load import MEASUREMENT_POI

    poi_arg = MEASUREMENT_POI if poi is None else (None if poi.lower() == "none" else poi)
    model, data = load_workspace(path, measurement, poi=poi_arg)
    what = "the workspace's observations"
    if asimov:
        truth = check_assignments(asimov, "--asimov", model)
        data, what = model.asimov(truth), f"Asimov data at {truth}"
    elif data_file:
        data, what = Data(_load_counts(data_file, model).main, data.aux), f"data from {data_file}"
    res = fit(model, data, fix=check_assignments(fix, "--fix", model), minos=minos)
    if as_json:
        from ganom.fitter.io import file_record

        rec = {"workspace": file_record(path), "measurement": measurement, "poi": model.poi,
               **({"data": file_record(data_file)} if data_file else {})}
        _echo_json({"workspace": path, **res.to_dict()}, rec)
    else:
        click.echo(f"{path}: {len(model.channels)} channel(s), {model.n_bins} bins, {model.n_params} parameters, "
                   f"POI {model.poi}; native fit to {what}")
        click.echo(res.table())
    exit_if_invalid(res, f"{path} ({what})")
