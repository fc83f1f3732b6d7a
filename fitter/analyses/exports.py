"""pyhf exports of built configurations (detector × position × run length): the workspaces and
patchsets of ``workspaces/`` and ``ganom export``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ganom.fitter.hf.model import BinnedModel

if TYPE_CHECKING:
    from ganom.fitter.infer.oscillation import OscillationGrid
    from ganom.models.templates import Templates
from ganom.fitter.io import Table, dumps, write_text_atomic
from ganom.fitter.pyhf.export import export_workspace
from ganom.fitter.pyhf.patchset import export_patchset

__all__ = [
    "ExportedConfiguration",
    "binning_record",
    "export_configuration",
    "index_markdown",
    "write_exports",
    "export_table",
    "ExportedAnalysis",
    "export_analysis",
]


# ----------------------------------------------------------------------------- configurations
@dataclass
class ExportedConfiguration:
    """The workspace (and patchset) of one detector configuration, ready to be written."""

    stem: str
    detector: str
    position: str
    distance_m: float
    days: float
    source: str
    workspace: dict[str, Any]
    patchset: dict[str, Any] | None
    binning: dict[str, Any]

    @property
    def files(self) -> list[str]:
        return [f"{self.stem}.workspace.json"] + ([f"{self.stem}.patchset.json"] if self.patchset else [])

    @property
    def n_bins(self) -> int:
        return sum(len(c["samples"][0]["data"]) for c in self.workspace["channels"])

    def to_record(self, out_dir: str | Path) -> dict[str, Any]:
        """What was written where: the JSON record of ``ganom export`` (after :func:`write_exports`)."""
        paths = {f: Path(out_dir) / f for f in self.files}
        return {"detector": self.detector, "position": self.position, "distance_m": self.distance_m,
                "days": self.days, "bins": self.n_bins, "files": {f: str(p) for f, p in paths.items()},
                "bytes": sum(p.stat().st_size for p in paths.values())}


def binning_record(templates: Templates) -> dict[str, Any]:
    """Shapes, axis order and edges of every exported channel (the flattening is C order over
    the binning's axes: energy, baseline, [cos θ to the source,] time)."""
    b = templates.binning
    names = {"energy": "energy_reco_mev", "baseline": "baseline_reco_m", "cos": "cos_theta_to_source",
             "time": "time_days"}
    keys = {"energy": "energy_edges_mev", "baseline": "baseline_edges_m", "cos": "cos_edges", "time": "time_edges_days"}
    letters = {"energy": "E", "baseline": "L", "cos": "c", "time": "t"}

    def flat(axes: Sequence[str]) -> str:
        expr = f"i_{letters[axes[0]]}"
        for a in axes[1:]:
            expr = f"({expr}) * n_{letters[a]} + i_{letters[a]}" if "*" in expr or "+" in expr else f"{expr} * n_{letters[a]} + i_{letters[a]}"
        return expr

    edges = {keys[a]: b.edges(a).tolist() for a in b.axes if a != "time"}
    out = {"source_on": {"shape": list(b.shape), "axes": [names[a] for a in b.axes], "flat_index": flat(b.axes),
                         **edges, "time_edges_days": b.time_edges_days.tolist()}}
    if templates.source_off:
        off_axes = [a for a in b.axes if a != "time"]
        out["source_off"] = {"shape": list(b.shape[:-1]) + [1], "axes": [names[a] for a in b.axes],
                             "flat_index": flat(off_axes), **edges,
                             "time_edges_days": [0.0, float(templates.source_off_days)]}
    return out


def export_configuration(detector: Any, position: str | float = "centre", days: float = 30.0,
                         source: str = "cr51", grid: OscillationGrid | None = None, digits: int | None = 7,
                         activity: float | str | None = None, built: tuple[Templates, BinnedModel] | None = None,
                         angular_resolution_deg: float | None = None, progress: bool = False) -> ExportedConfiguration:
    """Workspace of a preset (or TOML detector) at a source position, with a patchset over
    ``grid`` (an :class:`~ganom.fitter.infer.oscillation.OscillationGrid`) if given.

    The observations are the Asimov data at R = 1 without oscillation (all nuisances nominal).
    ``built``: the (templates, model) of this configuration if already at hand;
    ``angular_resolution_deg``: a directional binning (cos θ axis, in the file name as "_dirX");
    ``progress``: a bar over the patchset's points on stderr.
    """
    from ganom.fitter.config import build_configuration
    from ganom.fitter.infer.oscillation import OscillationModel
    from ganom.models.detectors import load_detector
    from ganom.models.sources import load_source

    det = load_detector(detector)
    src = load_source(source)
    if activity is not None:
        src = src.with_activity(activity)
    distance = det.source_distance(position)
    named = str(position) if str(position) in det.source_positions_m else f"D{distance:g}m"
    tpl, model = built if built is not None else build_configuration(det, src, distance, float(days),
                                                                      angular_resolution_deg=angular_resolution_deg)
    stem = f"{det.name}_{named}_{float(days):g}d" + ("" if angular_resolution_deg is None else f"_dir{angular_resolution_deg:g}")
    ws = export_workspace(model, measurement=f"ganom_{stem}", digits=digits)
    binning = binning_record(tpl)
    ps = None
    if grid is not None:
        ps = export_patchset(OscillationModel(model, tpl), ws, grid, digits=digits, progress=progress,
                             metadata={"detector": det.name, "source_position": named, "distance_m": distance,
                                       "days": float(days), "binning": binning})
    return ExportedConfiguration(stem, det.name, named, distance, float(days), src.name, ws, ps, binning)


def _edges_text(edges: Sequence[float]) -> str:
    e = np.asarray(edges, dtype=float)
    step = np.diff(e)
    if e.size > 3 and np.allclose(step, step[0], rtol=1e-9, atol=0):
        return f"{e[0]:.6g} … {e[-1]:.6g} in {e.size - 1} bins of {step[0]:.6g}"
    return ", ".join(f"{v:.6g}" for v in e)


def index_markdown(exports: Sequence[ExportedConfiguration]) -> str:
    """``INDEX.md``: every exported file, its configuration and its bin layout."""
    lines = ["# Index of the generated pyhf files", "",
             "Generated by `ganom export` (see README.md); do not edit by hand.", "",
             "| workspace | patchset | detector | position | D [m] | days | source | bins (E × L × t) |",
             "|---|---|---|---|---|---|---|---|"]
    for e in exports:
        shape = " × ".join(str(n) for n in e.binning["source_on"]["shape"])
        ps = f"`{e.files[1]}` ({len(e.patchset['patches'])} patches)" if e.patchset else "–"
        lines.append(f"| `{e.files[0]}` | {ps} | {e.detector} | {e.position} | {e.distance_m:g} | {e.days:g} | "
                     f"{e.source} | {shape} |")
    lines += ["", "Channel `source_on` is the E_reco × L_reco × t histogram flattened in C order: bin "
              "`k = (i_E · n_L + i_L) · n_t + i_t` (time fastest).", ""]
    for e in exports:
        lines.append(f"## {e.stem}")
        lines.append("")
        for chan, rec in e.binning.items():
            lines.append(f"- `{chan}` (shape {rec['shape']}, flat index {rec['flat_index']}):")
            lines.append(f"  - energy [MeV]: {_edges_text(rec['energy_edges_mev'])}")
            lines.append(f"  - baseline [m]: {_edges_text(rec['baseline_edges_m'])}")
            lines.append(f"  - time [days]: {_edges_text(rec['time_edges_days'])}")
        lines.append("")
    return "\n".join(lines)


def write_exports(exports: Sequence[ExportedConfiguration], out_dir: str | Path, index: bool = True) -> list[Path]:
    """Write every file (atomically, after everything was built and validated) and INDEX.md."""
    out = Path(out_dir)
    texts: list[tuple[Path, str]] = []
    for e in exports:
        texts.append((out / e.files[0], dumps(e.workspace)))
        if e.patchset is not None:
            texts.append((out / e.files[1], dumps(e.patchset)))
    if index:
        texts.append((out / "INDEX.md", index_markdown(exports)))
    return [write_text_atomic(t, p) for p, t in texts]


def export_table(exports: Sequence[ExportedConfiguration], out_dir: str | Path) -> Table:
    """One row per written workspace (after :func:`write_exports`)."""
    rows = []
    for e in exports:
        rec = e.to_record(out_dir)
        rows.append([e.files[0], e.detector, e.position, f"{e.distance_m:g}", f"{e.days:g}", rec["bins"],
                     len(e.patchset["patches"]) if e.patchset else 0, f"{rec['bytes'] / 1e3:.0f}"])
    return Table(["workspace", "detector", "position", "D [m]", "days", "bins", "patches", "size [kB]"], rows)


# ----------------------------------------------------------------------------- configuration files
@dataclass
class ExportedAnalysis:
    """The workspace (and patchset) of an analysis built from a configuration file."""

    stem: str
    workspace: dict[str, Any]
    patchset: dict[str, Any] | None
    summary: dict[str, Any]

    def write(self, folder: str | Path) -> list[Path]:
        """Write workspace, patchset and summary (each validated before; written atomically)."""
        from ganom.fitter.io import jsonable, write_json

        folder = Path(folder)
        files = [folder / f"{self.stem}.workspace.json"]
        if self.patchset is not None:
            files.append(folder / f"{self.stem}.patchset.json")
        files.append(folder / f"{self.stem}.summary.json")
        self.summary["files"] = [str(p) for p in files]
        folder.mkdir(parents=True, exist_ok=True)
        write_json(self.workspace, files[0])
        if self.patchset is not None:
            write_json(self.patchset, files[1])
        write_json(jsonable(self.summary), files[-1])
        return files


def export_analysis(analysis: Any, stem: str, grid: OscillationGrid | None = None,
                    digits: int | None = 7, progress: bool = False) -> ExportedAnalysis:
    """pyhf workspace of a built :class:`ganom.fitter.inputs.Analysis` (observations: its data,
    or the Asimov data at the inits) and, with event samples and a ``grid``, the oscillation
    patchset. Poisson-constrained MC statistics go out as pyhf's staterror (same σ_b), which
    the summary's ``workspace_note`` says."""
    model = analysis.model
    mc = model.mcstat
    approx = mc is not None and mc.constraint == "poisson"
    ws = export_workspace(model, analysis.observed(), digits=digits, mcstat_as_normal=approx)
    from ganom.fitter.io import provenance, with_provenance

    summary = analysis.summary()
    summary["configuration"] = str(analysis.path) if analysis.path else analysis.name
    summary = with_provenance(summary, provenance(analysis.provenance_record()))
    if approx:
        summary["workspace_note"] = ("MC statistics: ganom's constraint is Poisson (Barlow–Beeston); pyhf's staterror "
                                     "is normal with the same σ_b, so the workspace approximates it (exact with "
                                     "mc_statistics_constraint = \"normal\")")
    ps = None
    if analysis.oscillation is not None and grid is not None:
        ps = export_patchset(analysis.oscillation, ws, grid, digits=digits, progress=progress,
                             metadata={"configuration": str(analysis.path or analysis.name)})
    return ExportedAnalysis(stem, ws, ps, summary)
