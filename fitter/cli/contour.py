"""``ganom contour``: Δm²–sin²2θ sensitivity and allowed/excluded regions."""

from __future__ import annotations

import time
from typing import Any

import click

from ganom.exceptions import InputError
from ganom.fitter.cli.common import (
    RUN,
    BadInput,
    Interval,
    _echo_json,
    _Parsed,
    _save,
    _source,
    activity_option,
    angular_option,
    config_option,
    detector_option,
    distance_option,
    grid_option,
    json_option,
    load_analysis,
    refuse_with_config,
    resolve_workers,
    source_option,
    workers_option,
)
from ganom.fitter.io import file_record, jsonable, provenance, with_provenance, write_json

__all__ = ["contour_cmd", "resolve_overlays", "draw_overlays"]


class MethodList(_Parsed):
    """'wilks,raster' → ['wilks', 'raster'] (each one of the region constructions)."""

    name = "METHODS"

    def parse(self, text: str, option: str) -> list[str]:
        from ganom.fitter.infer.contours import METHODS

        methods = [m.strip() for m in text.split(",") if m.strip()]
        bad = [m for m in methods if m not in METHODS]
        if bad or not methods:
            raise BadInput(f"{option}: {', '.join(bad) or repr(text)} not allowed; allowed: {', '.join(METHODS)}")
        return methods


def _list_overlays(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ganom.fitter.overlays import load_overlay, shipped_overlays

    rows = [("gallium", "GALLEX + SAGE + BEST allowed regions, computed by ganom")]
    rows += [(name, load_overlay(name).legend_label) for name in shipped_overlays()]
    width = max(len(r[0]) for r in rows)
    click.echo("\n".join(f"{name.ljust(width)}  {what}" for name, what in rows))
    ctx.exit(0)


def resolve_overlays(specs: tuple[str, ...] | list[str]) -> list[Any]:
    """``--overlay`` values → 'gallium' or a :class:`~ganom.fitter.overlays.ContourOverlay`
    each, read and checked before any work (a bad file: InputError, exit 2)."""
    from ganom.fitter.overlays import load_overlay

    out: list[Any] = []
    for spec in specs:
        try:
            out.append("gallium" if spec == "gallium" else load_overlay(spec))
        except InputError as exc:
            raise BadInput(f"--overlay: {exc}") from None
    return out


def draw_overlays(ax: Any, overlays: list[Any]) -> list[str]:
    """Draw resolved overlays on a contour Axes and refresh its legend; returns a note per
    overlay that lies outside the plotted range."""
    from ganom.fitter.plotting.likelihood import overlay_contour, refresh_legend

    notes = []
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    for o in overlays:
        if o == "gallium":
            from ganom.fitter.plotting.gallium import overlay_gallium

            overlay_gallium(ax)
            continue
        overlay_contour(ax, o)
        (s0, s1), (d0, d1) = o.bounds()
        if s1 < x0 or s0 > x1 or d1 < y0 or d0 > y1:
            notes.append(f"overlay {o.label!r} ({o.source}) lies outside the plotted range: not drawn")
    if overlays:
        refresh_legend(ax)
    return notes


@click.command("contour")
@detector_option
@source_option
@activity_option
@distance_option
@click.option("--days", type=RUN, default="30", show_default=True, help="Run length [days].")
@click.option("--method", "-m", "methods", type=MethodList(), default="wilks", show_default=True,
              help="wilks | raster | fc | cls, or several comma-separated (overlaid).")
@grid_option("60x60", "Δm² points × sin²2θ points (log-spaced).")
@click.option("--dm2-range", type=Interval("eV²"), default="0.01,100", show_default=True, help="Δm² range [eV²].")
@click.option("--levels", default="90,95,99", show_default=True, help="Confidence levels (or 1sigma,2sigma,3sigma).")
@click.option("--toys", type=click.IntRange(min=10), default=1000, show_default=True, help="FC toys per true point.")
@click.option("--fc-stride", type=click.IntRange(min=1), default=1, show_default=True,
              help="FC: throw toys at every k-th grid point and interpolate in between (stated in the output).")
@click.option("--bands", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also draw expected-sensitivity bands from this many toys of no oscillation "
                   "(raster limits unless only wilks is asked for).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Root seed (per-point seeds are derived from it).")
@workers_option("the FC toys")
@click.option("--scheduler", default=None, help="dask.distributed scheduler address ('local' for a LocalCluster).")
@click.option("--r-free", is_flag=True, help="Profile the normalisation R (shape-only analysis) instead of R = 1.")
@angular_option
@click.option("--data", "data_file", default=None, type=click.Path(), help="Observed counts: regions allowed by the data.")
@click.option("--overlay", "overlays", multiple=True, metavar="NAME|FILE",
              help="Overlay (repeatable): 'gallium' (the gallium allowed region and best fit, all six source "
                   "experiments), a shipped published contour by name (--list-overlays), or a contour file: CSV "
                   "with columns sin2_2theta,dm2_ev2 or HEPData YAML (a ganom contour_*.yaml too).")
@click.option("--list-overlays", is_flag=True, is_eager=True, expose_value=False, callback=_list_overlays,
              help="List the shipped published contours with their citations and exit.")
@click.option("--out", default="ganom-output/contour", show_default=True, type=click.Path(), help="Output folder.")
@json_option("Print a JSON summary.")
@config_option
@click.pass_context
def contour_cmd(ctx: click.Context, config_file: str | None, detector: str, source: str, activity: float | None, distance: str, days: float, methods: list[str],
                grid: tuple[int, int], dm2_range: tuple[float, float], levels: str, toys: int, fc_stride: int,
                bands: int, seed: int, workers: int,
                scheduler: str | None, r_free: bool, angular: float | None, data_file: str | None, overlays: tuple[str, ...],
                out: str, as_json: bool) -> None:
    """Sensitivity (Asimov, no oscillation) or regions for data in Δm²–sin²2θ.

    Writes contour_<method>.json/.yaml (HEPData style), contours.png and scan.png to --out.
    FC runs show progress, checkpoint to --out and resume after an interruption.

    \b
    Examples:
      ganom contour -d jne-500t --days 30 --method wilks,raster,cls
      ganom contour -d jne-500t --method fc --grid 50x50 --toys 1000 --workers 2
      ganom contour -d juno --distance outside --method raster --bands 200
      ganom contour -d jne-500t --overlay gallium --overlay stereo2020 --overlay my_limit.csv
    """

    from ganom.fitter.cli.common import _load_counts
    from ganom.fitter.config import build_configuration, configuration_record
    from ganom.fitter.infer.contours import (
        ESGridProblem,
        contour_regions,
        fc_run_estimate,
        limits_table,
        parse_levels,
        write_outputs,
    )
    from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
    from ganom.fitter.plotting.likelihood import plot_contours, plot_delta_chi2_map

    workers = resolve_workers(workers)
    drawn = resolve_overlays(overlays)
    lv = parse_levels(levels)
    g = OscillationGrid.from_spec(grid, dm2_range)
    if config_file:
        refuse_with_config(ctx, ["detector", "source", "activity", "distance", "days", "angular"])
        a = load_analysis(config_file)
        if a.oscillation is None:
            raise BadInput(f"--config {config_file}: no event sample to oscillate (a contour needs the signal as "
                           f"simulated events with their true baseline and energy)")
        model, om = a.model, a.oscillation
        data = _load_counts(data_file, model) if data_file else a.data
        label = a.name
        summary_head = {"configuration": config_file}
        resolved = a.provenance_record()
    else:
        src = _source(source, activity)
        tpl, model = build_configuration(detector, src, distance, days, angular_resolution_deg=angular)
        om = OscillationModel(model, tpl)
        data = _load_counts(data_file, model) if data_file else None
        label = f"{tpl.detector.label}, {src.activity_mci:.3g} MCi {src.isotope_label}, D = {tpl.distance_m:g} m, {days:g} d"
        summary_head = {"detector": tpl.detector.name, "distance_m": tpl.distance_m, "days": days}
        resolved = configuration_record(tpl)
    resolved.update({"grid": list(g.shape), "dm2_range_ev2": [float(g.dm2[0]), float(g.dm2[-1])],
                     "methods": list(methods), "levels": levels, "r_free": r_free,
                     "data": file_record(data_file) if data_file else "Asimov, no oscillation"})
    if "fc" in methods or bands:
        resolved["toys"] = {"fc": toys if "fc" in methods else 0, "bands": bands}
    if drawn:
        resolved["overlays"] = [o if o == "gallium" else {"label": o.legend_label, **file_record(o.source)}
                                for o in drawn]
    prov = provenance(resolved, seed)
    problem = ESGridProblem(om, g, r_free=r_free, data=data)
    if "fc" in methods or bands:
        problem.require_toys(max(toys if "fc" in methods else 0, bands))
    from ganom.fitter.cli.common import output_folder

    outdir = output_folder(out)
    if "fc" in methods:
        from ganom.fitter.infer.parallel import Checkpoint

        Checkpoint.check_readable(outdir / "fc_checkpoint.npz")

    from ganom.fitter.cli.common import hold_output_folder

    outdir = hold_output_folder(outdir)
    what = "the data" if data is not None else "Asimov data of no oscillation (sensitivity)"
    click.echo(f"{label}, {model.n_bins} bins, {model.n_params} parameters ({'R profiled' if r_free else 'R = 1'}); "
               f"{what}; grid {g.shape[0]}×{g.shape[1]}", err=True)
    t0 = time.perf_counter()
    from ganom.progress import progress

    with progress(g.shape[0] * g.shape[1], "profile scan", "pt") as bar:
        scan = problem.scan(progress=bar.update)
    checkpoint = outdir / "fc_checkpoint.npz"
    if "fc" in methods:
        n_pts, eta = fc_run_estimate(problem, toys, fc_stride, workers, levels=lv)
        click.echo(f"Feldman–Cousins: {n_pts} true points × {toys} toys; expected run time ≈ {eta / 60:.1f} min "
                   f"on {workers} worker(s) (checkpoint: {checkpoint})", err=True)
    results, band = contour_regions(problem, scan, methods, lv, "allowed" if data is not None else "exclusion",
                                    toys, seed, fc_stride, workers, scheduler, checkpoint, progress=True, bands=bands)
    paths = []
    for r in results:
        paths += write_outputs(r, outdir, f"contour_{r.method}", prov)
    title = f"{label}: 3+1 {'sensitivity' if data is None else 'fit'}"
    fig = plot_contours(results, bands=band, title=title)
    for note in draw_overlays(fig.axes[0], drawn):
        click.echo(note, err=True)
    _save(fig, str(outdir / "contours.png"))
    _save(plot_delta_chi2_map(results[0], title=title), str(outdir / "scan.png"))
    if band is not None:
        bp = outdir / "bands.json"
        write_json(jsonable(with_provenance(band.to_dict(), prov)), bp)
        paths.append(bp)
    elapsed = time.perf_counter() - t0
    summary = {**summary_head, "grid": list(g.shape),
               **problem.summary(scan), "seconds": elapsed,
               "files": [str(p) for p in paths + [outdir / "contours.png", outdir / "scan.png"]],
               "methods": {r.method: r.meta for r in results}}
    if as_json:
        _echo_json(with_provenance(summary, prov))
        return
    click.echo(limits_table(results, list(lv)).text())
    click.echo("Upper limits on sin²2θ at the grid's Δm² nearest 0.1, 1 and 10 eV² (every point: the contour "
               "files); — : no limit below sin²2θ = 1 at that Δm².")
    b = scan.best
    where = "no oscillation" if b["sin2_2theta"] == 0.0 else f"dm2 = {b['dm2']:.3g} eV^2, sin^2 2theta = {b['sin2_2theta']:.3g}"
    click.echo(f"best fit: {where}, χ²_min = {summary['chi2_gof']:.2f} for {model.n_bins} bins "
               f"(saturated-model deviance); Δχ² of no oscillation: {scan.delta_chi2_null:.3g}; {elapsed:.1f} s; "
               f"files in {outdir}")
