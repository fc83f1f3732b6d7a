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
    from ganom.fitter.analyses.optimize import best_position, optimize_positions
    from ganom.fitter.cli.common import BadInput, hold_output_folder, resolved_preset
    from ganom.fitter.io import provenance, with_provenance
    from ganom.fitter.plotting.likelihood import plot_window_optimum

    many = positions is not None
    items = [t.strip() for t in positions.split(",")] if many else [distance]
    if "" in items:
        raise BadInput(f"--positions: empty entry in {positions!r}; expected names or metres, comma-separated")
    res = optimize_positions(detector, items, _source(source, activity), days, thresholds_mev=thresholds,
                             fiducial_radii_m=radii, dm2_ev2=dm2, energy_max_mev=energy_max)
    outdir = hold_output_folder(Path(out))
    bz, bl = best_position(res, "z"), best_position(res, "limit")
    summary = {"scans": [r.to_dict() for r in res], "best_z": bz, "best_limit": bl} if many else res[0].to_dict()
    resolved = resolved_preset(detector, _source(source, activity), items[0], days,
                               **({"positions": items} if many else {}), thresholds_mev=list(thresholds),
                               fiducial_radii_m=None if radii is None else list(radii), dm2_ev2=dm2,
                               energy_max_mev=None if energy_max is None else list(energy_max))
    write_json(jsonable(with_provenance(summary, provenance(resolved))), outdir / "optimize.json")
    for r in res:
        tag = f"_D{r.distance_m:g}m" if many else ""
        _save(plot_window_optimum(r, "z"), str(outdir / f"optimize_z{tag}.png"))
        _save(plot_window_optimum(r, "limit"), str(outdir / f"optimize_limit{tag}.png"))
    if as_json:
        _echo_json(summary, resolved)
        return
    for r in res:
        if many:
            click.echo(f"source at {r.position} (D = {r.distance_m:g} m):")
        click.echo(r.table().text())
    click.echo(f"best Z: {bz['z_reject_R1_if_R082']:.2f} at {_where(bz, many)}; best reach: sin²2θ < "
               f"{bl['s22t_limit']:.3g} at Δm² = {dm2:g} eV² at {_where(bl, many)}; files in {outdir}")


def _where(best: dict, with_position: bool) -> str:
    top = best.get("energy_max_mev")
    return ((f"D = {best['distance_m']:g} m, " if with_position else "") + f"threshold {best['threshold_mev']:g} MeV"
            + ("" if top is None else f", window top {top:.3g} MeV") + f", R_fid {best['fiducial_radius_m']:g} m")
