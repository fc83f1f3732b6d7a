"""The main job: a complete sensitivity study of one or more detectors, written to a folder.

``run_study`` runs the chain config → templates → model → fits → plots for each detector
and writes: the signal-rates table, stacked spectrum / baseline / direction plots, the
R-deficit significance table, Asimov 3+1 sensitivity contours with the gallium allowed region
overlaid, the detector comparison, the ⁵¹Cr branching-ratio precision, the pyhf workspaces,
and ``report.md`` linking everything with the command and package versions that produced it.

Reproducibility: one BLAS thread, seeded toys, and JSON written with sorted keys and no time
stamps, so the same command gives byte-identical tables and JSON.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganom.exceptions import InputError
from ganom.fitter.io import (
    detector_record,
    dumps,
    jsonable,
    markdown_table,
    provenance,
    save_figures,
    versions,
    with_provenance,
    write_json,
    write_text_atomic,
)
from ganom.models.detectors import DEFAULT_DETECTOR, Detector, load_detector, preset_names
from ganom.models.rates import signal_rates
from ganom.models.sources import load_source

__all__ = ["StudyConfig", "StudyResult", "FC_STRIDE", "estimate_seconds", "versions", "run_study", "study_provenance"]


@dataclass
class StudyConfig:
    """What the study covers and how thoroughly (``quick``: coarse grids, one run length for
    the comparison, no FC toys). ``workers``: local processes for the FC toys, or, without FC
    toys, for the independent sections (detectors, comparison, gallium) side by side; no
    result depends on it."""

    detectors: Sequence[str] = (DEFAULT_DETECTOR,)
    days: Sequence[float] = (10.0, 30.0)
    out: Path = Path("ganom-study")
    quick: bool = False
    seed: int = 0
    source: str = "cr51"
    command: str = "ganom study"
    workers: int = 1
    overlays: Sequence[str] = ()
    """Published contours drawn on the contour plots besides the gallium region: shipped names
    or files (:func:`ganom.fitter.overlays.load_overlay`)."""

    @property
    def grid(self) -> str:
        return "24x24" if self.quick else "60x60"

    @property
    def fc_toys(self) -> int:
        return 0 if self.quick else 500


@dataclass
class StudyResult:
    out: Path
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


# Seconds per toy fit and per bin of the FC engine, one core of this 2-core machine
# (benchmarks/bench_fc.py: ~1500 toys/s at 1620 bins; the toy fit is dominated by μ and its
# gradient, linear in the bins).
_FC_SECONDS_PER_TOY_BIN = 4.3e-7


FC_STRIDE = 3


def estimate_seconds(cfg: StudyConfig) -> float:
    """A rough run-time estimate, stated before the study starts (this 2-core machine): FC toys
    scale with true points × toys × bins of each configuration, the rest is measured per detector."""
    from ganom.fitter.infer.contours import fc_true_points
    from ganom.fitter.infer.oscillation import OscillationGrid
    from ganom.models.templates import default_binning

    per_det = 12.0 if cfg.quick else 90.0
    compare = 1.5 * len(preset_names()) * (1 if cfg.quick else len(cfg.days)) + 1.5  # + the gallium fits
    if _parallel_sections(cfg):  # sections side by side, after a few seconds of process start
        n = min(cfg.workers, 5 * len(cfg.detectors) + 2)  # per detector: 2 positions, 2 sensitivities, B
        return max(per_det / 2, (per_det * len(cfg.detectors) + compare) / n) + 4.0
    fc = 0.0
    if cfg.fc_toys:
        src = load_source(cfg.source)
        points = len(fc_true_points(OscillationGrid.from_spec(cfg.grid), FC_STRIDE))
        for name in cfg.detectors:
            det = load_detector(name)
            for pos in det.source_positions_m:
                b = default_binning(det, src, det.source_distance(pos), max(cfg.days))
                n_bins = np.prod([b.edges(a).size - 1 for a in b.axes])
                fc += _FC_SECONDS_PER_TOY_BIN * n_bins * cfg.fc_toys * points
        fc /= max(1, min(cfg.workers, points))
    return per_det * len(cfg.detectors) + compare + fc + 2.0


def study_detector(det: Detector, cfg: StudyConfig) -> Detector:
    """The detector as the study analyses it: with ``--quick``, coarse baseline bins
    (:data:`ganom.models.templates.COARSE_BASELINE`) unless its own [analysis] table sets them."""
    from ganom.models.templates import with_coarse_baseline

    return with_coarse_baseline(det) if cfg.quick else det


def _parallel_sections(cfg: StudyConfig) -> bool:
    """Sections run side by side when there are workers to spare: no FC toys (which use them)."""
    return cfg.workers > 1 and cfg.fc_toys == 0


def run_study(cfg: StudyConfig, log: Callable[[str], None] = print) -> StudyResult:
    """Run the study and write every output (module docstring)."""
    from threadpoolctl import threadpool_limits

    for d in cfg.days:
        if not (np.isfinite(d) and d > 0):
            raise InputError(f"days = {d} is not allowed; allowed: run lengths > 0 days")
    dets = [study_detector(load_detector(d), cfg) for d in cfg.detectors]
    src = load_source(cfg.source)
    out = Path(cfg.out)
    t0 = time.perf_counter()
    res = StudyResult(out)
    log(f"ganom study: {', '.join(d.name for d in dets)}; {'quick' if cfg.quick else 'full'} mode; "
        f"expected run time ≈ {estimate_seconds(cfg) / 60:.1f} min; writing to {out}/")
    steps: list[tuple[str, Callable[..., Any], tuple[Any, ...]]] = [("signal rates", _rates_section, (dets, src, cfg, out))]
    for det in dets:
        steps += [(f"{det.name}: source {pos}", _position_section, (det, src, cfg, out, pos))
                  for pos in det.source_positions_m]
        steps += [(f"{det.name}: 3+1 sensitivity, {pos}", _sensitivity_section, (det, src, cfg, out, pos))
                  for pos in det.source_positions_m]
        steps.append((f"{det.name}: branching ratio", _branching_section, (det, src, cfg, out)))
    steps += [("detector comparison", _comparison_section, (cfg, src, out)),
              ("gallium anomaly", _gallium_section, (cfg, out))]
    parallel = _parallel_sections(cfg)
    if parallel:
        done = _sections_in_processes(steps, out, cfg.workers, log)
    else:
        done = [_run_section(fn, args, out, log) for _, fn, args in steps]
    parts: dict[str, Any] = {}
    timings = []
    for (step, _, _), (part, files, seconds, _lines) in zip(steps, done):
        parts[step] = part
        res.files += files
        timings.append((step, seconds))
        if not parallel:
            log(f"    ({step}: {seconds:.1f} s)")
    sections = [parts["signal rates"]]
    for det in dets:
        positions = [parts[f"{det.name}: source {pos}"] for pos in det.source_positions_m]
        sections.append(_detector_text(det, cfg, out, positions, parts[f"{det.name}: branching ratio"], res))
        sections += [parts[f"{det.name}: 3+1 sensitivity, {pos}"] for pos in det.source_positions_m]
    sections += [parts["detector comparison"], parts["gallium anomaly"]]
    how = (f"side by side in {min(cfg.workers, len(steps))} processes, so they add up to more than the total"
           if parallel else "one after the other")
    sections.append(f"## Run time\n\nWall time of each step on this machine ({how}; total "
                    f"{time.perf_counter() - t0:.1f} s; not part of the reproducible results).\n\n"
                    + markdown_table(["step", "seconds"], [[k, f"{v:.1f}"] for k, v in timings]) + "\n")
    head_text, head_files = _headline_section(dets, cfg, out)
    sections.insert(0, head_text)
    res.files += head_files
    with threadpool_limits(limits=1):
        report = _report(cfg, sections)
        res.files.append(write_text_atomic(report, out / "report.md"))
    res.seconds = time.perf_counter() - t0
    log(f"done in {res.seconds:.1f} s: {len(res.files)} files in {out}/ (start with {out / 'report.md'})")
    return res


HEADLINE_DM2 = (0.3, 1.0, 3.0)
"""Δm² [eV²] at which the report quotes the 90 % CL reach in sin²2θ (the gallium region)."""


def limits_at(result: Any, level: str, dm2: Sequence[float]) -> dict[str, float | None]:
    """The upper limit on sin²2θ at each Δm² [eV²], interpolated log–log between grid rows
    (None where a neighbouring row excludes nothing on the grid, or outside the grid)."""
    lim = result.limit_curve(level)
    x = np.log(result.grid.dm2)
    out: dict[str, float | None] = {}
    for target in dm2:
        t = np.log(target)
        if not x[0] <= t <= x[-1]:
            out[f"{target:g}"] = None
            continue
        i = int(np.clip(np.searchsorted(x, t), 1, x.size - 1))
        a, b = lim[i - 1], lim[i]
        f = (t - x[i - 1]) / (x[i] - x[i - 1])
        out[f"{target:g}"] = None if not (np.isfinite(a) and np.isfinite(b)) else float(np.exp((1 - f) * np.log(a) + f * np.log(b)))
    return out


def _headline_section(dets: Sequence[Any], cfg: StudyConfig, out: Path) -> tuple[str, list[Path]]:
    """The report's first table, gathered from the sections' files into ``<detector>/headline.json``."""
    import json

    rows, files = [], []
    days_max = max(cfg.days)
    for det in dets:
        folder = out / det.name
        sig = {r["position"]: r for r in json.loads((folder / "significance.json").read_text())["records"]
               if r["days"] == days_max}
        br = json.loads((folder / "branching.json").read_text())["results"][0]
        reach = {pos: json.loads((folder / f"reach_{pos}.json").read_text())["sin2_2theta_90cl_wilks"]
                 for pos in det.source_positions_m}
        head = [{"detector": det.name, "position": pos, "distance_m": sig[pos]["distance_m"], "days": days_max,
                 "z_reject_R1_if_R082": sig[pos]["z_reject_R1_if_R082"], "sigma_R": sig[pos]["sigma_R"],
                 "sin2_2theta_90cl_wilks": reach[pos],
                 "sigma_B_energy_only": br["sigma_b"] if pos == "centre" else None, "B_true": br["b_true"]}
                for pos in det.source_positions_m]
        files.append(_write_result(head, folder / "headline.json", cfg))
        for h in head:
            lims = h["sin2_2theta_90cl_wilks"]
            rows.append([det.label, f"{h['position']} ({h['distance_m']:g} m)", f"{h['days']:g}",
                         f"{h['z_reject_R1_if_R082']:.1f}", f"{h['sigma_R']:.4f}"]
                        + ["—" if lims[f"{d:g}"] is None else f"{lims[f'{d:g}']:.3f}" for d in HEADLINE_DM2]
                        + ["" if h["sigma_B_energy_only"] is None else f"{h['sigma_B_energy_only']:.4f}"])
    header = (["detector", "source position", "days", "Z(reject R = 1 | R = 0.82)", "σ_R"]
              + [f"sin²2θ 90 % at {d:g} eV²" for d in HEADLINE_DM2] + ["σ_B"])
    text = ("## Headline results\n\nPer detector and source position, for the longest run: Z, the median "
            "significance (Asimov) to reject R = 1 (no deficit) if the ES rate is the gallium-like 0.82 of the "
            "prediction; σ_R, the 1σ uncertainty on R if there is no deficit; the 90 % CL upper limit on "
            "sin²2θ a no-oscillation result would set (Wilks, 2 d.o.f., interpolated between grid rows; '—': "
            "nothing excluded on the grid); σ_B, the uncertainty on the ⁵¹Cr 320 keV branching ratio B "
            "from the recoil spectrum alone, source at the centre. Details and files in the sections below; "
            "these numbers in `<detector>/headline.json`.\n\n" + markdown_table(header, rows) + "\n")
    return text, files


def _run_section(fn: Callable[..., Any], args: tuple[Any, ...], out: Path,
                 log: Callable[[str], None] | None = None) -> tuple[Any, list[Path], float, list[str]]:
    """One section on one BLAS thread: (its part of the report: text, or what the main process
    assembles it from; files written; seconds; log lines kept when ``log`` is None)."""
    from threadpoolctl import threadpool_limits

    part = StudyResult(out)
    lines: list[str] = []
    t = time.perf_counter()
    with threadpool_limits(limits=1):
        text = fn(*args, part, log if log is not None else lines.append)
    return text, part.files, time.perf_counter() - t, lines


def _init_section_worker() -> None:
    import matplotlib

    matplotlib.use("Agg")


def _sections_in_processes(steps: Sequence[tuple[str, Callable[..., Any], tuple[Any, ...]]], out: Path, workers: int,
                           log: Callable[[str], None]) -> list[tuple[Any, list[Path], float, list[str]]]:
    """Run the sections in worker processes, the costliest first (so the short ones fill the
    gaps: the order of measured section times), and log each one's lines as it ends; results
    come back in the order of ``steps``."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    cost = [_comparison_section, _sensitivity_section, _position_section, _branching_section, _gallium_section,
            _rates_section]
    order = sorted(range(len(steps)), key=lambda i: cost.index(steps[i][1]))
    results: list[Any] = [None] * len(steps)
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(steps)), mp_context=ctx,
                             initializer=_init_section_worker) as pool:
        futures = {pool.submit(_run_section, steps[i][1], steps[i][2], out): i for i in order}
        try:
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                for line in results[i][3]:
                    log(line)
                log(f"    ({steps[i][0]}: {results[i][2]:.1f} s)")
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return results


# ----------------------------------------------------------------------------- sections
def study_provenance(cfg: StudyConfig, analysis: Any = None) -> dict[str, Any]:
    """The provenance every JSON/YAML of a study carries: its command, the detectors (file
    digests) or the analysis configuration and its input files (digests), source and activity,
    run lengths, mode, grid and seed."""
    src = load_source(cfg.source)
    if analysis is None:
        resolved: dict[str, Any] = {"detectors": [detector_record(load_detector(d)) for d in cfg.detectors]}
    else:
        resolved = analysis.provenance_record()
    resolved.update({"source": src.name, "activity_bq": float(src.activity_bq), "days": [float(d) for d in cfg.days],
                     "mode": "quick" if cfg.quick else "full", "grid": cfg.grid, "fc_toys": cfg.fc_toys})
    return provenance(resolved, cfg.seed, cfg.command)


def _write_result(obj: Any, path: Path, cfg: StudyConfig, analysis: Any = None) -> Path:
    """A study's JSON result with its provenance, keys sorted (reruns are byte-identical)."""
    return write_text_atomic(dumps(jsonable(with_provenance(obj, study_provenance(cfg, analysis))), sort_keys=True),
                             path)


def _rates_section(dets, src, cfg: StudyConfig, out: Path, res: StudyResult, log) -> str:
    log("[1] signal rates")
    from ganom.fitter.analyses.rates import rates_table

    results = signal_rates(dets, src, None, days=cfg.days)
    res.files.append(_write_result([r.to_record() for r in results], out / "rates.json", cfg))
    table = rates_table(results, cfg.days).markdown()
    res.files.append(write_text_atomic(table + "\n", out / "rates.md"))
    return ("## Signal rates\n\nExpected ν–e elastic-scattering events from "
            f"{src.activity_mci:.3g} MCi of {src.isotope_label} above each detector's recoil threshold, with the "
            "Bahcall–Kamionkowski–Sirlin cross section and the exact flux-weighted fiducial volume "
            "G = ∫ dV/(4πL²) [m] (the events are n_e σ ∫Φ dt × G per unit flux at 1 m; without "
            f"the {src.assembly_radius_m:g} m source assembly, an assumption: docs/physics.md §5.3); runs start "
            "at the reference activity and include the decay. Files: `rates.json`, `rates.md`.\n\n" + table + "\n")


def _position_section(det, src, cfg: StudyConfig, out: Path, pos: str, res: StudyResult, log) -> dict[str, Any]:
    """One source position of a detector: its configurations for every run length (R-deficit
    records), the stacked spectra with a seeded pseudo-dataset and the pyhf workspace, from one
    build per run length. Returns the records and the workspace file (:func:`_detector_text`
    assembles the report's text)."""
    from ganom.fitter.analyses.comparison import deficit_record
    from ganom.fitter.analyses.exports import export_configuration
    from ganom.fitter.config import build_configuration
    from ganom.fitter.plotting.likelihood import plot_stack

    name = det.name
    days_max = max(cfg.days)
    log(f"[2] {name}: templates, spectra and R-deficit, source {pos}")
    rng = np.random.default_rng([cfg.seed, list(det.source_positions_m).index(pos)])
    records = []
    for d in cfg.days:
        tpl, model = build_configuration(det, src, pos, d)
        records.append(deficit_record(tpl, model, d, pos))
        if d == days_max:
            data = rng.poisson(tpl.total())
            for axis in ("energy", "baseline"):
                f = plot_stack(tpl, axis, data=data)
                res.files += save_figures(f, out / name / f"{axis}_{pos}.png")
    log(f"[5] {name}: pyhf workspace, source {pos}")
    exp = export_configuration(det, pos, days_max, cfg.source)
    workspace = write_json(exp.workspace, out / name / f"{exp.stem}.workspace.json")
    res.files.append(workspace)
    return {"records": records, "workspace": workspace}


def _branching_section(det, src, cfg: StudyConfig, out: Path, res: StudyResult, log) -> str:
    """σ_B of the ⁵¹Cr branching ratio from the recoil spectrum, and with direction."""
    from ganom.fitter.analyses.branching import b_explaining_deficit, branch_sensitivity
    from ganom.fitter.infer.significance import R_DEFICIT

    name = det.name
    days_max = max(cfg.days)
    log(f"[4] {name}: ⁵¹Cr branching ratio")
    b_alt = b_explaining_deficit(R_DEFICIT, src)
    brs = [branch_sensitivity(det, src, "centre", days_max, None, b_alternative=b_alt)]
    for ang in ((20.0,) if cfg.quick else (40.0, 20.0, 10.0, 5.0)):
        brs.append(branch_sensitivity(det, src, "centre", days_max, ang, b_alternative=b_alt))
    if det.cherenkov_resolution_deg is not None:
        brs.append(branch_sensitivity(det, src, "centre", days_max, None, b_alternative=b_alt, angular_model="cherenkov"))
    res.files.append(_write_result({"b_explaining_deficit": b_alt, "results": [r.to_dict() for r in brs]},
                                   out / name / "branching.json", cfg))
    rows = [["energy only" if r.angular_resolution_deg is None
             else f"directional, {r.meta['angular_model']}" if r.meta.get("angular_model", "").count("scaled")
             else f"directional, {r.angular_resolution_deg:g}° at every energy",
             f"{r.sigma_b:.4f}", f"{r.z_alternative:.2f}"] for r in brs]
    return ("### ⁵¹Cr branching ratio\n\nB (the 320 keV branch, 0.0988) fitted as the parameter of interest with "
            "the rate normalisation free, so only the recoil spectrum (the step at 267 keV) and, with "
            "Cherenkov light, the angle to the source inform it: with a σ_θ that holds at every recoil energy "
            "(optimistic), and, where the preset quotes one, with its σ_θ at a reference energy scaled with the "
            "Cherenkov yield, which leaves ⁵¹Cr recoils (≤ 0.56 MeV) little direction (docs/physics.md §6.3). "
            f"A true B = {b_alt:.4f} would explain a "
            "gallium ratio of 0.82 through the calorimetric activity; Z is the significance to tell it from "
            f"0.0988. File: `{name}/branching.json`.\n\n"
            + markdown_table(["method", "σ_B", f"Z(B = {b_alt:.3f})"], rows) + "\n")


def _detector_text(det, cfg: StudyConfig, out: Path, positions: Sequence[dict[str, Any]], branching: str,
                   res: StudyResult) -> str:
    """A detector's section of the report from its position and branching-ratio parts; writes
    ``<detector>/significance.json`` (records in the order positions × run lengths)."""
    from ganom.fitter.analyses.comparison import comparison_table

    name = det.name
    days_max = max(cfg.days)
    sig_recs = [r for p in positions for r in p["records"]]
    res.files.append(_write_result([r.to_record() for r in sig_recs], out / name / "significance.json", cfg))
    table = comparison_table(sig_recs).markdown()
    text = [f"## {det.label}\n"]
    text.append(f"### Spectra and baselines\n\nStacked expected counts ({days_max:g}-day run) with one pseudo-dataset "
                "(seeded) on top: the ⁵¹Cr recoil continuum ends at 556 keV (ground-state lines) with a step at "
                "267 keV (320 keV branch); backgrounds are computed from their physics. In baseline the signal "
                "is flat for a central source (the flux-weighted volume is uniform in L) while volume backgrounds "
                "grow as L². Files: " + ", ".join(f"`{name}/{a}_{p}.png`" for p in det.source_positions_m
                                                 for a in ("energy", "baseline")) + ".\n")
    text.append("### R-deficit significance\n\nAsimov fits of the binned likelihood (reconstructed energy × baseline × "
                "time, every nuisance profiled): the expected significance to reject R = 1 if the truth is the "
                "gallium-like R = 0.82, and the reverse; σ_R is the HESSE error at R = 1. The signal and background "
                "counted here are those in the analysis window (energy and baseline bins of the fit), hence fewer "
                "events than in the rates table, which counts every recoil above threshold in the fiducial volume. With 1 % fiducial and "
                f"0.23 % activity uncertainties σ_R cannot fall below ≈ 1 %. File: `{name}/significance.json`.\n\n"
                + table + "\n")
    text.append(branching)
    text.append("### pyhf workspaces\n\nThe same binned likelihoods as pyhf JSON workspaces (Asimov observations, "
                "POI R, identical parameter names): `pyhf fit` and `ganom fit --workspace` give the same answer. "
                "Files: " + ", ".join(f"`{p['workspace'].relative_to(out)}`" for p in positions) + ".\n")
    return "\n".join(text)


def _sensitivity_section(det, src, cfg: StudyConfig, out: Path, pos: str, res: StudyResult, log) -> str:
    """The Asimov 3+1 contours of one source position (and its FC toys in full mode): files and report text."""
    from ganom.fitter.config import build_configuration
    from ganom.fitter.infer.contours import ESGridProblem, contour_regions, parse_levels, write_outputs
    from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
    from ganom.fitter.plotting.gallium import overlay_gallium
    from ganom.fitter.plotting.likelihood import plot_contours, refresh_legend

    name = det.name
    days_max = max(cfg.days)
    log(f"[3] {name}: Asimov 3+1 sensitivity ({cfg.grid}), source {pos}")
    grid = OscillationGrid.from_spec(cfg.grid)
    tpl, model = build_configuration(det, src, pos, days_max)
    prob = ESGridProblem(OscillationModel(model, tpl), grid)
    scan = prob.scan()
    results, _ = contour_regions(prob, scan, ["wilks", "raster"], parse_levels("90,3sigma"))
    reach = limits_at(next(r for r in results if r.method == "wilks"), "90%", HEADLINE_DM2)
    if cfg.fc_toys:
        log(f"    FC, {cfg.fc_toys} toys at 1 in {FC_STRIDE} grid points per axis, {pos}, {cfg.workers} worker(s)")
        fc, _ = contour_regions(prob, scan, ["fc"], {"90%": 0.9}, n_toys=cfg.fc_toys, seed=cfg.seed,
                                fc_stride=FC_STRIDE, workers=cfg.workers, progress=True)
        results += fc
    files = []
    for r in results:
        files += write_outputs(r, out / name, f"contour_{pos}_{r.method}", study_provenance(cfg))
    fig = plot_contours(results, levels=["90%"], title=f"{det.label}, 3+1 sensitivity, {src.isotope_label}, "
                                                         f"D = {tpl.distance_m:g} m, {days_max:g} d")
    overlay_gallium(fig.axes[0])
    _draw_overlays(fig.axes[0], cfg)
    refresh_legend(fig.axes[0])
    res.files += save_figures(fig, out / name / f"contour_{pos}.png") + files
    res.files.append(_write_result({"sin2_2theta_90cl_wilks": reach}, out / name / f"reach_{pos}.json", cfg))
    head = ""
    if pos == next(iter(det.source_positions_m)):
        head = ("### Sterile-neutrino sensitivity\n\nThe Asimov dataset of no oscillation scanned over Δm²–sin²2θ "
                f"({grid.shape[0]}×{grid.shape[1]} log grid), every nuisance profiled at every point: 90 % CL "
                "exclusion by Wilks (2 d.o.f.) and raster (1 d.o.f.)"
                + (f" and Feldman–Cousins (toys at 1 in {FC_STRIDE} grid points per axis, interpolated in between)"
                   if cfg.fc_toys else "")
                + ", with the gallium allowed region (GALLEX+SAGE+BEST, 1/2/3σ) and best fit overlaid.\n\n")
    return (head + f"Source {pos} (D = {tpl.distance_m:g} m): contours and Δχ² maps as JSON and HEPData-style YAML, "
            + ", ".join(f"`{p.relative_to(out)}`" for p in files if p.suffix == ".json") + ".\n\n"
            + f"![{det.label} {pos}](./{name}/contour_{pos}.png)\n")


def _comparison_section(cfg: StudyConfig, src, out: Path, res: StudyResult, log) -> str:
    from ganom.fitter.analyses.comparison import compare_detectors, comparison_table
    from ganom.fitter.plotting.likelihood import plot_comparison

    days = [max(cfg.days)] if cfg.quick else list(cfg.days)
    log(f"[6] detector comparison ({', '.join(f'{d:g}' for d in days)} d, all presets)")
    recs = compare_detectors([study_detector(load_detector(n), cfg) for n in preset_names()], days, src)
    res.files.append(_write_result([r.to_record() for r in recs], out / "comparison.json", cfg))
    title = f"{src.activity_mci:.3g} MCi {src.isotope_label}: detector comparison (Asimov, 1σ systematics included)"
    res.files += save_figures(plot_comparison(recs, title=title), out / "comparison.png")
    return ("## Detector comparison\n\nEvery bundled preset at each of its source positions, Asimov data, all "
            "systematics: events in the analysis window, background, σ_R and both R-deficit significances. "
            "Files: `comparison.json`, `comparison.png`.\n\n"
            + comparison_table(recs).markdown() + "\n\n![comparison](./comparison.png)\n")


def _gallium_section(cfg: StudyConfig, out: Path, res: StudyResult, log) -> str:
    from ganom.fitter.analyses.gallium import (
        combined_ratio_table,
        fit_oscillation,
        oscillation_fits_table,
        ratios_table,
    )
    from ganom.fitter.plotting.gallium import plot_combined_ratios, plot_gallium_allowed

    log("[7] gallium anomaly")
    table = combined_ratio_table()
    fits = [fit_oscillation("best"), fit_oscillation("all")]
    res.files.append(_write_result({"combined_ratios": [t.to_dict() for t in table], "fits": [f.to_dict() for f in fits]},
                                   out / "gallium.json", cfg))
    res.files += save_figures(plot_combined_ratios(table), out / "gallium_ratios.png")
    res.files += save_figures(plot_gallium_allowed(fits), out / "gallium_allowed.png")
    return ("## The gallium anomaly\n\nThe six source experiments (GALLEX-1/2, SAGE-Cr/Ar, BEST inner/outer) with "
            "path lengths from their geometries: the combined ratio R̄ per ⁷¹Ga cross-section model (the "
            "cross-section uncertainty as a shared pull) with the significance of the deficit, and the 3+1 "
            "best fits. Files: `gallium.json`, `gallium_ratios.png`, `gallium_allowed.png`.\n\n"
            + ratios_table(table, per_experiment=False).markdown() + "\n\n"
            + oscillation_fits_table(fits).markdown()
            + "\n\n![gallium](./gallium_allowed.png)\n")


def _report(cfg: StudyConfig, sections: Sequence[str]) -> str:
    v = versions()
    head = (f"# ganom sensitivity study\n\nProduced by\n\n```\n{cfg.command}\n```\n\n"
            f"with {', '.join(f'{k} {val}' for k, val in v.items())} ({platform.system()} {platform.machine()}); "
            f"mode: {'quick (coarse grids, baseline bins of 2σ_vertex, at most 30; no toys)' if cfg.quick else 'full'}; seed {cfg.seed}. Re-running the same "
            "command gives identical tables and JSON. Every figure is a PNG (200 dpi, shown here) with a vector "
            "PDF of the same name beside it.\n\n"
            "Physics inputs are cited in the code and in the detector presets (`models/catalog/*.toml`); numbers "
            "marked *assumption* there are not measured values.\n")
    return head + "\n" + "\n".join(sections)


# ----------------------------------------------------------------------------- configuration files
def run_config_study(config: str | Path, cfg: StudyConfig, log: Callable[[str], None] = print) -> StudyResult:
    """The study of an analysis built from a configuration file (docs/inputs.md): its model,
    the R-deficit significances, the 3+1 sensitivity (with event samples) with the gallium
    region, the pyhf workspace and a report."""
    from threadpoolctl import threadpool_limits

    from ganom.fitter.analyses.comparison import comparison_table, config_significance
    from ganom.fitter.analyses.exports import export_analysis
    from ganom.fitter.inputs import build_analysis

    out = Path(cfg.out)
    t0 = time.perf_counter()
    res = StudyResult(out)
    a = build_analysis(config)
    log(f"ganom study --config {config}: {a.name}; {'quick' if cfg.quick else 'full'} mode; writing to {out}/")
    with threadpool_limits(limits=1):
        m = a.model
        summary = a.summary()
        rows = [[s, f"{v:.4g}", "events (oscillated)" if s in summary["oscillated_samples"] else "histogram"]
                for s, v in summary["expected_events"].items()]
        sections = [f"## The analysis\n\n`{config}`: {m.n_bins} bins in "
                    + ", ".join(f"{b.name} ({' × '.join(f'{ax} {n}' for ax, n in zip(b.axes, b.shape))})"
                                for b in a.binnings)
                    + f"; {m.n_params} parameters (POI {m.poi}); MC statistics of "
                    f"{summary['mc_statistics_bins']} bins profiled analytically "
                    f"({summary['mc_statistics_constraint'] or 'none'} constraint).\n\n"
                    + markdown_table(["sample", "expected events", "input"], rows) + "\n"]
        if m.poi == "R":
            log("[1] R-deficit significance")
            rec = config_significance(a)
            res.files.append(_write_result(rec.to_record(), out / "significance.json", cfg, a))
            sections.append("## R-deficit significance\n\nAsimov fits, every nuisance and the MC statistics profiled. "
                            "File: `significance.json`.\n\n" + comparison_table([rec]).markdown() + "\n")
        if a.oscillation is not None:
            sections.append(_config_contours(a, cfg, out, res, log))
        log("[3] pyhf workspace")
        exp = export_analysis(a, "analysis")
        res.files += exp.write(out)
        sections.append("## pyhf workspace\n\n`analysis.workspace.json` (observations: "
                        + ("the configuration's data" if a.data is not None else "Asimov data at the inits")
                        + ")" + (f"; {exp.summary['workspace_note']}" if "workspace_note" in exp.summary else "")
                        + ".\n")
        cmd = cfg.command
        head = (f"# ganom study of {a.name}\n\nProduced by\n\n```\n{cmd}\n```\n\nwith "
                f"{', '.join(f'{k} {val}' for k, val in versions().items())}; mode: "
                f"{'quick' if cfg.quick else 'full'}; seed {cfg.seed}.\n")
        res.files.append(write_text_atomic(head + "\n" + "\n".join(sections), out / "report.md"))
    res.seconds = time.perf_counter() - t0
    log(f"done in {res.seconds:.1f} s: {len(res.files)} files in {out}/ (start with {out / 'report.md'})")
    return res


def _draw_overlays(ax: Any, cfg: StudyConfig) -> None:
    """The configuration's published contours (``cfg.overlays``) on a contour Axes."""
    from ganom.fitter.overlays import load_overlay
    from ganom.fitter.plotting.likelihood import overlay_contour

    for spec in cfg.overlays:
        overlay_contour(ax, load_overlay(spec))


def _config_contours(a: Any, cfg: StudyConfig, out: Path, res: StudyResult, log: Callable[[str], None]) -> str:
    from ganom.fitter.infer.contours import ESGridProblem, contour_regions, parse_levels, write_outputs
    from ganom.fitter.infer.oscillation import OscillationGrid
    from ganom.fitter.plotting.gallium import overlay_gallium
    from ganom.fitter.plotting.likelihood import plot_contours, refresh_legend

    log(f"[2] 3+1 sensitivity ({cfg.grid})")
    grid = OscillationGrid.from_spec(cfg.grid)
    prob = ESGridProblem(a.oscillation, grid, data=a.data)
    scan = prob.scan()
    kind = "allowed" if a.data is not None else "exclusion"
    results, _ = contour_regions(prob, scan, ["wilks", "raster"], parse_levels("90,3sigma"), kind)
    if cfg.fc_toys:
        log(f"    FC, {cfg.fc_toys} toys at 1 in {FC_STRIDE} grid points per axis, {cfg.workers} worker(s)")
        fc, _ = contour_regions(prob, scan, ["fc"], {"90%": 0.9}, kind, n_toys=cfg.fc_toys, seed=cfg.seed,
                                fc_stride=FC_STRIDE, workers=cfg.workers, progress=True)
        results += fc
    files = []
    for r in results:
        files += write_outputs(r, out, f"contour_{r.method}", study_provenance(cfg, a))
    fig = plot_contours(results, levels=["90%"], title=f"{a.name}: 3+1 {'fit' if a.data is not None else 'sensitivity'}")
    overlay_gallium(fig.axes[0])
    _draw_overlays(fig.axes[0], cfg)
    refresh_legend(fig.axes[0])
    res.files += save_figures(fig, out / "contours.png")
    res.files += files
    return ("## Sterile-neutrino " + ("regions" if a.data is not None else "sensitivity") + "\n\n"
            + ("The configuration's data" if a.data is not None else "The Asimov dataset of no oscillation")
            + f" scanned over Δm²–sin²2θ ({grid.shape[0]}×{grid.shape[1]} log grid) with the event kernels, every "
            "nuisance profiled: 90 % CL by Wilks and raster"
            + (" and Feldman–Cousins" if cfg.fc_toys else "") + ", the gallium allowed region overlaid. Files: "
            + ", ".join(f"`{p.name}`" for p in files if p.suffix == ".json") + ".\n\n![contours](./contours.png)\n")
