"""``ganom optimize``: the energy window × fiducial radius that maximise the reach."""

from __future__ import annotations

from pathlib import Path

import click

from ganom.fitter.cli.common import (
    RUN,
    NumberList,
    _echo_json,
    _save,
    _source,
    activity_option,
    detector_option,
    distance_option,
    json_option,
    source_option,
)
from ganom.fitter.io import jsonable, write_json

__all__ = ["optimize_cmd"]


@click.command("optimize")
@detector_option
@source_option
@activity_option
@distance_option
@click.option("--days", type=RUN, default="30", show_default=True, help="Run length [days].")
@click.option("--thresholds", type=NumberList("recoil thresholds > 0 MeV", 0.0, strict=True),
              default="0.2,0.25,0.3,0.35,0.4", show_default=True, help="Recoil thresholds [MeV].")
@click.option("--radii", type=NumberList("fiducial radii > 0 m", 0.0, strict=True), default=None,
              help="Fiducial radii [m] (default: six from a quarter of the target radius, or twice the source "
                   "assembly's radius, to the preset's).")
@click.option("--energy-max", "energy_max", type=NumberList("window tops > 0 MeV", 0.0, strict=True), default=None,
              help="Tops of the energy window [MeV] to scan with every threshold (default: the preset's, T_max of "
                   "the highest line + max(5σ_E, 150 keV)).")
@click.option("--positions", default=None,
              help="Source positions to scan as a third axis, comma-separated names or metres (e.g. "
                   "centre,outside,2.5); replaces --distance.")
@click.option("--dm2", type=click.FloatRange(0.0, min_open=True), default=1.0, show_default=True,
              help="Δm² [eV²] of the sin²2θ reach.")
@click.option("--out", default="ganom-output/optimize", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (optimize.json, optimize_z.png, optimize_limit.png).")
@json_option()
def optimize_cmd(detector: str, source: str, activity: float | None, distance: str, days: float,
                 thresholds: list[float], radii: list[float] | None, energy_max: list[float] | None,
                 positions: str | None, dm2: float, out: str, as_json: bool) -> None:
    """Scan energy window (recoil threshold × window top) × fiducial radius: Z(R=1 | R=0.82) and the 90 % sin²2θ reach at
    one Δm² (Asimov, every systematic), with the best of each.

    \b
    Examples:
      ganom optimize -d jne-500t
      ganom optimize -d juno --thresholds 0.2,0.3,0.33,0.4 --radii 2.9,5,8,12,17.2 --dm2 1.6
      ganom optimize -d jne-1t --thresholds 0.2,0.3 --energy-max 0.9,1.2,1.5
      ganom optimize -d jne-500t --positions centre,3,outside --thresholds 0.2,0.3
    """
    from ganom.fitter.analyses.optimize import optimize_window
    from ganom.fitter.plotting.likelihood import plot_window_optimum

    if positions is not None:
        _optimize_positions(detector, source, activity, days, thresholds, radii, energy_max, positions, dm2, out,
                            as_json)
        return

    res = optimize_window(detector, _source(source, activity), distance, days, thresholds, radii, dm2,
                          energy_max_mev=energy_max)
    outdir = Path(out)

    from ganom.fitter.cli.common import hold_output_folder

    outdir = hold_output_folder(outdir)
    summary = res.to_dict()
    from ganom.fitter.cli.common import resolved_preset
    from ganom.fitter.io import provenance, with_provenance

    resolved = resolved_preset(detector, _source(source, activity), distance, days, thresholds_mev=list(thresholds),
                               fiducial_radii_m=None if radii is None else list(radii), dm2_ev2=dm2,
                               energy_max_mev=None if energy_max is None else list(energy_max))
    write_json(jsonable(with_provenance(summary, provenance(resolved))), outdir / "optimize.json")
    _save(plot_window_optimum(res, "z"), str(outdir / "optimize_z.png"))
    _save(plot_window_optimum(res, "limit"), str(outdir / "optimize_limit.png"))
    if as_json:
        _echo_json(summary, resolved)
        return
    click.echo(res.table().text())
    bz, bl = res.best("z"), res.best("limit")
    click.echo(f"best Z: {bz['z_reject_R1_if_R082']:.2f} at {_window(bz)}, R_fid {bz['fiducial_radius_m']:g} m; "
               f"best reach: sin²2θ < {bl['s22t_limit']:.3g} at Δm² = {dm2:g} eV² at {_window(bl)}, R_fid "
               f"{bl['fiducial_radius_m']:g} m; files in {outdir}")


def _window(best: dict) -> str:
    top = best.get("energy_max_mev")
    return f"threshold {best['threshold_mev']:g} MeV" + ("" if top is None else f", window top {top:.3g} MeV")


def _optimize_positions(detector: str, source: str, activity: float | None, days: float, thresholds: list[float],
                        radii: list[float] | None, energy_max: list[float] | None, positions: str, dm2: float,
                        out: str, as_json: bool) -> None:
    from ganom.fitter.analyses.optimize import best_position, optimize_positions
    from ganom.fitter.cli.common import BadInput, hold_output_folder, resolved_preset
    from ganom.fitter.io import provenance, with_provenance
    from ganom.fitter.plotting.likelihood import plot_window_optimum

    items: list[float | str] = []
    for tok in (t.strip() for t in positions.split(",")):
        if not tok:
            raise BadInput(f"--positions: empty entry in {positions!r}; expected names or metres, comma-separated")
        try:
            items.append(float(tok))
        except ValueError:
            items.append(tok)
    res = optimize_positions(detector, items, _source(source, activity), days, thresholds_mev=thresholds,
                             fiducial_radii_m=radii, dm2_ev2=dm2, energy_max_mev=energy_max)
    outdir = hold_output_folder(Path(out))
    bz, bl = best_position(res, "z"), best_position(res, "limit")
    summary = {"scans": [r.to_dict() for r in res], "best_z": bz, "best_limit": bl}
    resolved = resolved_preset(detector, _source(source, activity), items[0], days, positions=items,
                               thresholds_mev=list(thresholds), fiducial_radii_m=None if radii is None else list(radii),
                               dm2_ev2=dm2, energy_max_mev=None if energy_max is None else list(energy_max))
    write_json(jsonable(with_provenance(summary, provenance(resolved))), outdir / "optimize.json")
    for r in res:
        tag = f"D{r.distance_m:g}m"
        _save(plot_window_optimum(r, "z"), str(outdir / f"optimize_z_{tag}.png"))
        _save(plot_window_optimum(r, "limit"), str(outdir / f"optimize_limit_{tag}.png"))
    if as_json:
        _echo_json(summary, resolved)
        return
    for r in res:
        click.echo(f"source at {r.position} (D = {r.distance_m:g} m):")
        click.echo(r.table().text())
    click.echo(f"best Z: {bz['z_reject_R1_if_R082']:.2f} at D = {bz['distance_m']:g} m, {_window(bz)}, R_fid "
               f"{bz['fiducial_radius_m']:g} m; best reach: sin²2θ < {bl['s22t_limit']:.3g} at Δm² = {dm2:g} eV² at "
               f"D = {bl['distance_m']:g} m, {_window(bl)}, R_fid {bl['fiducial_radius_m']:g} m; files in {outdir}")
