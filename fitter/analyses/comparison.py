"""Detector comparisons and sensitivity curves: the R-deficit significances of many
configurations (:mod:`ganom.fitter.infer.significance` on each built configuration).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ganom.fitter.config import AnalysisConfig, _configure, build_configuration, window_counts
from ganom.fitter.hf.model import BinnedModel
from ganom.fitter.infer.significance import R_DEFICIT, asimov_significance, significance
from ganom.fitter.io import Table
from ganom.models.detectors import Detector, load_detector, preset_names
from ganom.models.sources import NeutrinoSource, load_source
from ganom.models.templates import Templates

__all__ = [
    "SensitivityPoint",
    "sensitivity_curve",
    "sensitivity_table",
    "ComparisonRecord",
    "deficit_record",
    "config_significance",
    "deficit_significances",
    "compare_detectors",
    "comparison_table",
    "toy_bands_text",
]


@dataclass
class SensitivityPoint:
    knob: str
    value: float
    signal_events: float
    background_events: float
    sigma_r: float
    z_reject_r1: float
    z_reject_r082: float


def sensitivity_curve(detector: Detector | str, knob: str, values: Sequence[float], source: NeutrinoSource | str = "cr51",
                      distance_m: float | str = "centre", days: float = 30.0,
                      config: AnalysisConfig | None = None) -> list[SensitivityPoint]:
    """Asimov σ_R and both significances as one knob varies (``KNOBS``)."""
    det0, src0 = load_detector(detector), load_source(source)
    out = []
    for v in values:
        d_days = float(v) if knob == "days" else days
        det, src, bscale = (det0, src0, 1.0) if knob == "days" else _configure(det0, src0, knob, float(v))
        tpl, model = build_configuration(det, src, distance_m, d_days, bscale, config=config)
        s, b = window_counts(tpl)
        z2 = asimov_significance(model, 1.0, R_DEFICIT)
        z1 = asimov_significance(model, R_DEFICIT, 1.0, sigma=z2.sigma_r)
        out.append(SensitivityPoint(knob, float(v), s, b, z2.sigma_r, z1.z_asimov, z2.z_asimov))
    return out


def sensitivity_table(points: Sequence[SensitivityPoint]) -> Table:
    """``ganom significance --vary``: one row per value of the knob."""
    return Table(["knob", "value", "signal", "background", "σ_R", "Z(R=1 | R=0.82)", "Z(R=0.82 | R=1)"],
                 [[p.knob, f"{p.value:.4g}", f"{p.signal_events:.0f}", f"{p.background_events:.0f}",
                   f"{p.sigma_r:.4f}", f"{p.z_reject_r1:.2f}", f"{p.z_reject_r082:.2f}"] for p in points])


@dataclass
class ComparisonRecord:
    """The R-deficit significances of one configuration: a row of ``ganom compare`` and
    ``ganom significance`` (the keys of :meth:`to_record` are a stable interface)."""

    detector: str
    distance_m: float
    days: float
    signal_events: float
    background_events: float
    sigma_R: float
    z_reject_R1_if_R082: float
    z_reject_R082_if_R1: float
    position: str = ""
    toys: int = 0
    z_reject_R1_if_R082_toys_median: float | None = None
    z_reject_R082_if_R1_toys_median: float | None = None
    bands_R1_if_R082: dict[str, float] = field(default_factory=dict)
    bands_R082_if_R1: dict[str, float] = field(default_factory=dict)

    def to_record(self, toys: bool = False) -> dict[str, Any]:
        """The JSON record; with ``toys``, also the toy medians and bands (``ganom significance``)."""
        out: dict[str, Any] = {
            "detector": self.detector, "position": self.position, "distance_m": self.distance_m, "days": self.days,
            "signal_events": self.signal_events, "background_events": self.background_events,
            "sigma_R": self.sigma_R, "z_reject_R1_if_R082": self.z_reject_R1_if_R082,
            "z_reject_R082_if_R1": self.z_reject_R082_if_R1}
        if toys:
            out.update({"toys": self.toys, "z_reject_R1_if_R082_toys_median": self.z_reject_R1_if_R082_toys_median,
                        "z_reject_R082_if_R1_toys_median": self.z_reject_R082_if_R1_toys_median,
                        "bands_R1_if_R082": self.bands_R1_if_R082, "bands_R082_if_R1": self.bands_R082_if_R1})
        return out


def deficit_record(templates: Templates, model: BinnedModel, days: float, position: str = "", toys: int = 0,
                   seed: int = 0, progress: bool = False) -> ComparisonRecord:
    """Events in the analysis window, σ_R and both R-deficit significances of one built
    configuration (Asimov; with ``toys``, also toy medians and bands: seeds ``seed``, ``seed + 1``)."""
    s, b = window_counts(templates)
    return _record(model, templates.detector.name, templates.distance_m, float(days), s, b, position, toys, seed,
                   progress)


def _record(model: BinnedModel, name: str, distance_m: float, days: float, signal: float, background: float,
            position: str, toys: int, seed: int, progress: bool) -> ComparisonRecord:
    """Both R-deficit significances of a model as a :class:`ComparisonRecord`."""
    z2 = significance(model, 1.0, R_DEFICIT, toys, seed + 1, progress)
    z1 = significance(model, R_DEFICIT, 1.0, toys, seed, progress, sigma=z2.sigma_r)
    return ComparisonRecord(name, distance_m, days, signal, background, z2.sigma_r, z1.z_asimov, z2.z_asimov,
                            position, toys, z1.z_toys_median, z2.z_toys_median, z1.z_toys_bands, z2.z_toys_bands)


def toy_bands_text(records: Sequence[ComparisonRecord]) -> str:
    """The toy distributions of Z behind the medians: the central 68 % and 95 % intervals, one
    line per configuration and test ("" without toys)."""
    lines = []
    for r in records:
        if not r.toys:
            continue
        for what, b in (("Z(R=1 | R=0.82)", r.bands_R1_if_R082), ("Z(R=0.82 | R=1)", r.bands_R082_if_R1)):
            lines.append(f"{r.detector} {r.position or f'D = {r.distance_m:g} m'}, {r.days:g} d, {what} over "
                         f"{r.toys} toys: 68 % in [{b['-1sigma']:.2f}, {b['+1sigma']:.2f}], "
                         f"95 % in [{b['-2sigma']:.2f}, {b['+2sigma']:.2f}]")
    return "\n".join(lines)


def config_significance(analysis: Any, toys: int = 0, seed: int = 0, progress: bool = False) -> ComparisonRecord:
    """:func:`deficit_record` of an analysis built from a configuration file
    (:func:`ganom.fitter.inputs.build_analysis`): signal = its oscillated (event) samples,
    or the samples its POI multiplies."""
    model = analysis.model
    if model.poi != "R":
        from ganom.exceptions import InputError

        raise InputError(f"significance: the R-deficit tests need the POI 'R' (the signal strength); "
                         f"{analysis.path or 'the configuration'} has poi = '{model.poi}'")
    sig = set(analysis.oscillation.signal) if analysis.oscillation is not None else {
        m.sample for m in model.modifiers if m.name == model.poi}
    s = float(sum(model.nominal[model.sample_index(n)].sum() for n in sig))
    return _record(model, analysis.name, float("nan"), float("nan"), s, float(model.nominal.sum()) - s, "", toys,
                   seed, progress)


def deficit_significances(detector: Detector | str, source: NeutrinoSource | str, distance_m: float | str,
                          days: Sequence[float], background_scale: float = 1.0, source_off_days: float = 0.0,
                          angular_resolution_deg: float | None = None, toys: int = 0,
                          seed: int = 0, progress: bool = False) -> list[ComparisonRecord]:
    """:func:`deficit_record` of one detector, source and position for each run length."""
    out = []
    for d in days:
        tpl, model = build_configuration(detector, source, distance_m, float(d), background_scale, source_off_days,
                                         angular_resolution_deg=angular_resolution_deg)
        out.append(deficit_record(tpl, model, d, str(distance_m), toys, seed, progress))
    return out


def _fmt_g(x: float) -> str:
    return f"{x:g}" if x == x else ""


def comparison_table(records: Sequence[ComparisonRecord], toys: bool = False) -> Table:
    """One row per configuration; with ``toys``, the toy medians too."""
    header = ["detector", "position", "D [m]", "days", "signal", "background", "σ_R", "Z(R=1 | R=0.82)",
              "Z(R=0.82 | R=1)"]
    rows = []
    for r in records:
        row = [r.detector, r.position, _fmt_g(r.distance_m), _fmt_g(r.days), f"{r.signal_events:.0f}",
               f"{r.background_events:.0f}", f"{r.sigma_R:.4f}", f"{r.z_reject_R1_if_R082:.2f}",
               f"{r.z_reject_R082_if_R1:.2f}"]
        if toys:
            row += [_fmt(r.z_reject_R1_if_R082_toys_median), _fmt(r.z_reject_R082_if_R1_toys_median)]
        rows.append(row)
    if toys:
        header += ["toy median Z(R=1 | R=0.82)", "toy median Z(R=0.82 | R=1)"]
    return Table(header, rows)


def _fmt(z: float | None) -> str:
    return "—" if z is None else f"{z:.2f}"


def compare_detectors(detectors: Iterable[str] | None = None, days: Sequence[float] = (10.0, 30.0),
                      source: NeutrinoSource | str = "cr51", positions: Sequence[str] | None = None,
                      config: AnalysisConfig | None = None,
                      angular_resolution_deg: float | None = None, progress: bool = False) -> list[ComparisonRecord]:
    """For each preset and named source position: events, background, σ_R, both significances
    (with a cos θ axis when ``angular_resolution_deg`` is given). ``progress``: a bar on
    stderr (off when it is not a terminal)."""
    from ganom.progress import progress as progress_bar

    src = load_source(source)
    todo = []
    for name in (list(detectors) if detectors is not None else preset_names()):
        det = load_detector(name)
        todo += [(det, pos, float(d)) for pos in (positions or list(det.source_positions_m)) for d in days]
    out = []
    with progress_bar(len(todo), "configurations", "cfg", enabled=progress) as bar:
        for det, pos, d in todo:
            tpl, model = build_configuration(det, src, pos, d, config=config, angular_resolution_deg=angular_resolution_deg)
            out.append(deficit_record(tpl, model, d, pos))
            bar.update(1)
    return out
