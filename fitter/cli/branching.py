"""``ganom br``: the ⁵¹Cr branching ratio from the recoil spectrum and from directionality."""

from __future__ import annotations

from pathlib import Path

import click

from ganom.fitter.cli.common import BadInput, _echo_json, _save, parse_days, parse_floats, parse_run
from ganom.fitter.io import format_table, jsonable, write_json
from ganom.models.detectors import DEFAULT_DETECTOR

__all__ = ["br_cmd"]


def _activity_mci(source: str) -> float:
    from ganom.models.sources import load_source

    return load_source(source).activity_mci


@click.command("br")
@click.option("--detector", "-d", default=DEFAULT_DETECTOR, show_default=True, help="Detector preset or TOML file.")
@click.option("--source", "-s", default="cr51", show_default=True, help="Source preset or TOML file.")
@click.option("--distance", "-D", default="centre", show_default=True, help="Source position (name or metres).")
@click.option("--days", default="30", show_default=True, help="Run length [days].")
@click.option("--angular-resolution", "angular", type=float, default=None,
              help="Directional reconstruction with this resolution [degrees] (Cherenkov light, slow LS).")
@click.option("--mode", type=click.Choice(["shape", "rate"]), default="shape", show_default=True,
              help="shape: R free, only the spectrum informs B; rate: R = 1, the activity's B dependence too.")
@click.option("--deficit", type=float, default=0.82, show_default=True,
              help="Gallium ratio the alternative B should explain.")
@click.option("--target", type=float, default=None, help="Target σ_B (default: the 5σ separation of the alternative).")
@click.option("--exposures", default="10,30,100,300", show_default=True, help="Run lengths [days] for σ_B vs exposure.")
@click.option("--resolutions", default="60,40,20,10,5,2,0", show_default=True,
              help="Angular resolutions [degrees] for σ_B vs resolution.")
@click.option("--out", default="ganom-output/br", show_default=True, type=click.Path(), help="Output folder (plots).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def br_cmd(detector: str, source: str, distance: str, days: str, angular: float | None, mode: str, deficit: float,
           target: float | None, exposures: str, resolutions: str, out: str, as_json: bool) -> None:
    """Expected precision on the ⁵¹Cr 320 keV branching B, events needed, and plots of σ_B
    versus exposure and angular resolution.

    \b
    Examples:
      ganom br -d jne-500t --days 30
      ganom br -d juno --distance outside --angular-resolution 20 --mode shape
    """
    from ganom.fitter.analyses.branching import (
        b_explaining_deficit,
        branch_sensitivity,
        resolution_for_gain,
        sigma_b_vs_exposure,
        sigma_b_vs_resolution,
    )
    from ganom.fitter.plotting.likelihood import plot_sigma_b

    if angular is not None and not 0 <= angular <= 180:
        raise BadInput(f"--angular-resolution: {angular} is not allowed; allowed: 0–180 degrees")
    if target is not None and not target > 0:
        raise BadInput(f"--target: {target} is not allowed; allowed: > 0")
    run = parse_run(days)
    exposure_days = parse_days(exposures, "--exposures")
    res_list = parse_floats(resolutions, "--resolutions", "angular resolutions 0–180 degrees", 0.0)
    if max(res_list) > 180:
        raise BadInput(f"--resolutions: {max(res_list):g} is not allowed; allowed: 0–180 degrees")
    b_alt = b_explaining_deficit(deficit, source)
    kw = dict(detector=detector, source=source, distance_m=distance, mode=mode, b_alternative=b_alt)
    brute = branch_sensitivity(days=run, angular_resolution_deg=None, **kw)
    main_res = brute if angular is None else branch_sensitivity(days=run, angular_resolution_deg=angular, **kw)
    tgt = target if target is not None else abs(b_alt - brute.b_true) / 5.0
    by_exp = sigma_b_vs_exposure(exposure_days, angular_resolution_deg=angular, **kw)
    by_res = sigma_b_vs_resolution(res_list, days=run, **kw)
    gain2 = resolution_for_gain(by_res, brute.sigma_b, 2.0)
    all_reach = bool(by_res) and max(r.sigma_b for r in by_res) <= brute.sigma_b / 2.0
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    f1 = plot_sigma_b(by_exp, "signal_events", reference=None, b_alternative=b_alt, b_true=brute.b_true,
                      label="σ_B" + ("" if angular is None else f" ({angular:g}°)"))
    f1.axes[0].set_title(f"{brute.detector}, D = {brute.distance_m:g} m, {mode} fit: σ_B vs exposure ({', '.join(f'{d:g}' for d in (r.days for r in by_exp))} d)",
                         fontsize=9)
    _save(f1, str(outdir / "sigma_b_vs_exposure.png"))
    f2 = plot_sigma_b(by_res, "angular_resolution_deg", reference=brute.sigma_b, b_alternative=b_alt,
                      b_true=brute.b_true, logx=False)
    f2.axes[0].set_title(f"{brute.detector}, D = {brute.distance_m:g} m, {run:g} d, {mode} fit: σ_B vs angular resolution",
                         fontsize=9)
    _save(f2, str(outdir / "sigma_b_vs_resolution.png"))
    summary = {
        "result": main_res.to_dict(), "energy_only": brute.to_dict(), "b_explaining_deficit": b_alt, "deficit": deficit,
        "target_sigma_b": tgt, "signal_events_for_target": main_res.events_for(tgt),
        "activity_mci_for_target": _activity_mci(source) * (main_res.sigma_b / tgt) ** 2,
        "resolution_for_gain_2_deg": gain2,
        "vs_exposure": [r.to_dict() for r in by_exp], "vs_resolution": [r.to_dict() for r in by_res]}
    write_json(jsonable(summary), outdir / "br.json")
    if as_json:
        _echo_json(summary)
        return
    click.echo(f"{brute.detector}, source at D = {brute.distance_m:g} m, {run:g} d, fit mode '{mode}'; "
               f"B₀ = {brute.b_true:.4g}; a gallium ratio of {deficit:g} needs B = {b_alt:.4g}")
    rows = [["energy only", "—", f"{brute.sigma_b:.4g}", f"{brute.z_alternative:.2f}", f"{brute.signal_events:.0f}"]]
    if angular is not None:
        rows.append(["directional", f"{angular:g}°", f"{main_res.sigma_b:.4g}", f"{main_res.z_alternative:.2f}",
                     f"{main_res.signal_events:.0f}"])
    click.echo(format_table(["method", "resolution", "sigma_B", f"Z(B={b_alt:.3g})", "signal events"], rows))
    why = "" if target is not None else f" (B₀ and B = {b_alt:.3g} 5σ apart)"
    click.echo(f"for σ_B = {tgt:.3g}{why}: {main_res.events_for(tgt):.3g} signal events, i.e. a "
               f"{_activity_mci(source) * (main_res.sigma_b / tgt) ** 2:.3g} MCi source for the same {run:g}-day run "
               f"(backgrounds scaled with it; σ_B ∝ 1/√N)")
    click.echo(format_table(["days", "signal events", "sigma_B"],
                            [[f"{r.days:g}", f"{r.signal_events:.0f}", f"{r.sigma_b:.4g}"] for r in by_exp]))
    click.echo(format_table(["angular resolution [deg]", "sigma_B", "gain vs energy only"],
                            [[f"{r.angular_resolution_deg:g}", f"{r.sigma_b:.4g}", f"{brute.sigma_b / r.sigma_b:.2f}"]
                             for r in by_res]))
    click.echo("the directional fit halves σ_B at a resolution of "
               + ("— (not reached in the scanned range)" if gain2 is None
                  else f"≥ {gain2:g}° (every scanned resolution does)" if all_reach else f"{gain2:.1f}°"))
