"""``ganom contour``: Δm²–sin²2θ sensitivity and allowed/excluded regions."""

from __future__ import annotations

import time
from pathlib import Path

import click
import numpy as np

from ganom.fitter.cli.common import BadInput, _echo_json, _save, _source, activity_option, parse_run
from ganom.fitter.io import format_table, jsonable, write_json
from ganom.models.detectors import DEFAULT_DETECTOR

__all__ = ["METHODS", "contour_cmd"]

METHODS = ("wilks", "raster", "fc", "cls")


@click.command("contour")
@click.option("--detector", "-d", default=DEFAULT_DETECTOR, show_default=True, help="Detector preset or TOML file.")
@click.option("--source", "-s", default="cr51", show_default=True, help="Source preset or TOML file.")
@activity_option
@click.option("--distance", "-D", default="centre", show_default=True, help="Source position (name or metres).")
@click.option("--days", default="30", show_default=True, help="Run length [days].")
@click.option("--method", "-m", default="wilks", show_default=True,
              help="wilks | raster | fc | cls, or several comma-separated (overlaid).")
@click.option("--grid", default="60x60", show_default=True, help="Δm² points × sin²2θ points (log-spaced).")
@click.option("--dm2-range", default="0.01,100", show_default=True, help="Δm² range [eV²].")
@click.option("--levels", default="90,95,99", show_default=True, help="Confidence levels (or 1sigma,2sigma,3sigma).")
@click.option("--toys", type=click.IntRange(min=10), default=1000, show_default=True, help="FC toys per true point.")
@click.option("--fc-stride", type=click.IntRange(min=1), default=1, show_default=True,
              help="FC: throw toys at every k-th grid point and interpolate in between (stated in the output).")
@click.option("--bands", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also draw expected-sensitivity bands from this many toys of no oscillation "
                   "(raster limits unless only wilks is asked for).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Root seed (per-point seeds are derived from it).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Local worker processes for FC toys.")
@click.option("--scheduler", default=None, help="dask.distributed scheduler address ('local' for a LocalCluster).")
@click.option("--r-free", is_flag=True, help="Profile the normalisation R (shape-only analysis) instead of R = 1.")
@click.option("--angular-resolution", "angular", type=float, default=None,
              help="Directional analysis (cos θ to the source) with this resolution [degrees].")
@click.option("--data", "data_file", default=None, type=click.Path(), help="Observed counts: regions allowed by the data.")
@click.option("--overlay", default=None, type=click.Choice(["gallium"]),
              help="Overlay the gallium allowed region and best fit (all six source experiments).")
@click.option("--out", default="ganom-output/contour", show_default=True, type=click.Path(), help="Output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def contour_cmd(detector: str, source: str, activity: float | None, distance: str, days: str, method: str, grid: str,
                dm2_range: str, levels: str, toys: int, fc_stride: int, bands: int, seed: int, workers: int,
                scheduler: str | None, r_free: bool, angular: float | None, data_file: str | None, overlay: str | None,
                out: str, as_json: bool) -> None:
    """Sensitivity (Asimov, no oscillation) or regions for data in Δm²–sin²2θ.

    Writes contour_<method>.json/.yaml (HEPData style), contours.png and scan.png to --out.
    FC runs show progress, checkpoint to --out and resume after an interruption.

    \b
    Examples:
      ganom contour -d jne-500t --days 30 --method wilks,raster,cls
      ganom contour -d jne-500t --method fc --grid 50x50 --toys 1000 --workers 2
      ganom contour -d juno --distance outside --method raster --bands 200
    """

    from ganom.fitter.cli.common import _load_counts
    from ganom.fitter.config import build_configuration
    from ganom.fitter.infer.contours import (
        ESGridProblem,
        feldman_cousins,
        gaussian_cls,
        parse_levels,
        raster,
        sensitivity_bands,
        wilks,
        write_outputs,
    )
    from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
    from ganom.fitter.plotting.likelihood import plot_contours, plot_delta_chi2_map, refresh_legend

    methods = [m.strip() for m in method.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise BadInput(f"--method: {', '.join(bad) or method!r} not allowed; allowed: {', '.join(METHODS)}")
    try:
        lo, hi = (float(x) for x in dm2_range.split(","))
    except ValueError:
        raise BadInput(f"--dm2-range: '{dm2_range}' is not 'low,high' in eV²") from None
    lv = parse_levels(levels)
    g = OscillationGrid.from_spec(grid, (lo, hi))
    src = _source(source, activity)
    run_days = parse_run(days)
    tpl, model = build_configuration(detector, src, distance, run_days, angular_resolution_deg=angular)
    om = OscillationModel(model, tpl)
    data = _load_counts(data_file, model) if data_file else None
    problem = ESGridProblem(om, g, r_free=r_free, data=data)
    kind = "allowed" if data is not None else "exclusion"
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    what = f"data {data_file}" if data_file else "Asimov data of no oscillation (sensitivity)"
    click.echo(f"{tpl.detector.label}, {src.isotope} at D = {tpl.distance_m:g} m, {run_days:g} d, {model.n_bins} bins, "
               f"{model.n_params} parameters ({'R profiled' if r_free else 'R = 1'}); {what}; grid {g.shape[0]}×{g.shape[1]}",
               err=True)
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    with threadpool_limits(limits=1):
        from tqdm.auto import tqdm

        with tqdm(total=g.shape[0] * g.shape[1], desc="profile scan", unit="pt", disable=None) as bar:
            scan = problem.scan(progress=bar.update)
    results = []
    for m in methods:
        if m == "wilks":
            results.append(wilks(scan, lv, kind))
        elif m == "raster":
            results.append(raster(scan, lv, kind))
        elif m == "cls":
            if data is not None:
                results.append(gaussian_cls(problem, lv, observed=scan))
            else:
                with threadpool_limits(limits=1):
                    results.append(gaussian_cls(problem, lv))
        else:
            from ganom.fitter.infer.contours import fc_true_points, toy_statistics

            n_pts = len(fc_true_points(g, fc_stride))
            with threadpool_limits(limits=1):
                tc = time.perf_counter()
                toy_statistics(problem, g.shape[0] // 2, g.shape[1] // 2, 50, np.random.default_rng(0))
                per_toy = (time.perf_counter() - tc) / 50
            eta = per_toy * toys * n_pts / max(workers, 1)
            click.echo(f"Feldman–Cousins: {n_pts} true points × {toys} toys; expected run time ≈ {eta / 60:.1f} min "
                       f"on {workers} worker(s) (checkpoint: {outdir / 'fc_checkpoint.npz'})", err=True)
            results.append(feldman_cousins(problem, lv, toys, seed, scan, fc_stride, workers,
                                           scheduler, outdir / "fc_checkpoint.npz", progress=True))
            results[-1].kind = kind
    band = None
    if bands:
        # raster is the exclusion convention whose toy median equals the Asimov limit; the
        # 2-dof Wilks limit of a toy is measured from its own global minimum, which fluctuations
        # pull below the null, so the Wilks median lies left of the Wilks Asimov curve.
        band_method = "wilks" if "wilks" in methods and "raster" not in methods else "raster"
        with threadpool_limits(limits=1):
            band = sensitivity_bands(problem, (next(iter(lv)), next(iter(lv.values()))), bands, seed, band_method)
    paths = []
    for r in results:
        paths += write_outputs(r, outdir, f"contour_{r.method}")
    title = (f"{tpl.detector.label}, 3+1 {'sensitivity' if data is None else 'fit'}, "
             f"{src.activity_mci:.3g} MCi {src.isotope}, D = {tpl.distance_m:g} m, {run_days:g} d")
    fig = plot_contours(results, bands=band, title=title)
    if overlay == "gallium":
        from ganom.fitter.plotting.gallium import overlay_gallium

        overlay_gallium(fig.axes[0])
        refresh_legend(fig.axes[0])
    _save(fig, str(outdir / "contours.png"))
    _save(plot_delta_chi2_map(results[0]), str(outdir / "scan.png"))
    if band is not None:
        bp = outdir / "bands.json"
        write_json(jsonable(band.to_dict()), bp)
        paths.append(bp)
    elapsed = time.perf_counter() - t0
    summary = {"detector": tpl.detector.name, "distance_m": tpl.distance_m, "days": run_days, "grid": list(g.shape),
               "best_fit": scan.best,
               "chi2_gof": scan.chi2_min - 2.0 * model.constraint_saturated(problem.observed().aux),
               "n_bins": model.n_bins, "delta_chi2_no_oscillation": scan.delta_chi2_null, "seconds": elapsed,
               "files": [str(p) for p in paths + [outdir / "contours.png", outdir / "scan.png"]],
               "methods": {r.method: r.meta for r in results}}
    if as_json:
        _echo_json(summary)
        return
    rows = []
    for r in results:
        for level in lv:
            lim = r.limit_curve(level)
            for target in (0.1, 1.0, 10.0):
                i = int(np.argmin(np.abs(np.log(g.dm2 / target))))
                rows.append([r.method, level, f"{g.dm2[i]:.3g}", "—" if np.isnan(lim[i]) else f"{lim[i]:.3g}"])
    click.echo(format_table(["method", "level", "dm2 [eV^2]", "upper limit on sin^2 2theta"], rows))
    b = scan.best
    where = "no oscillation" if b["sin2_2theta"] == 0.0 else f"dm2 = {b['dm2']:.3g} eV^2, sin^2 2theta = {b['sin2_2theta']:.3g}"
    click.echo(f"best fit: {where}, χ²_min = {summary['chi2_gof']:.2f} for {model.n_bins} bins "
               f"(saturated-model deviance); Δχ² of no oscillation: {scan.delta_chi2_null:.3g}; {elapsed:.1f} s; "
               f"files in {outdir}")
