"""Detector comparisons and sensitivity curves: the R-deficit significances of many
configurations (:mod:`ganom.fitter.infer.significance` on each built configuration).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ganom.fitter.config import AnalysisConfig, _configure, build_configuration, window_counts
from ganom.fitter.infer.significance import R_DEFICIT, asimov_significance
from ganom.models.detectors import Detector, load_detector, preset_names
from ganom.models.sources import NeutrinoSource, load_source

__all__ = ["SensitivityPoint", "sensitivity_curve", "ComparisonRecord", "compare_detectors"]


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
        z1 = asimov_significance(model, R_DEFICIT, 1.0)
        z2 = asimov_significance(model, 1.0, R_DEFICIT)
        out.append(SensitivityPoint(knob, float(v), s, b, z2.sigma_r, z1.z_asimov, z2.z_asimov))
    return out


@dataclass
class ComparisonRecord:
    """One row of ``ganom compare`` (keys of :meth:`to_record` are a stable interface)."""

    detector: str
    distance_m: float
    days: float
    signal_events: float
    background_events: float
    sigma_R: float
    z_reject_R1_if_R082: float
    z_reject_R082_if_R1: float
    position: str = ""

    def to_record(self) -> dict[str, Any]:
        return {"detector": self.detector, "distance_m": self.distance_m, "days": self.days,
                "signal_events": self.signal_events, "background_events": self.background_events,
                "sigma_R": self.sigma_R, "z_reject_R1_if_R082": self.z_reject_R1_if_R082,
                "z_reject_R082_if_R1": self.z_reject_R082_if_R1}


def compare_detectors(detectors: Iterable[str] | None = None, days: Sequence[float] = (10.0, 30.0),
                      source: NeutrinoSource | str = "cr51", positions: Sequence[str] | None = None,
                      config: AnalysisConfig | None = None,
                      angular_resolution_deg: float | None = None) -> list[ComparisonRecord]:
    """For each preset and named source position: events, background, σ_R, both significances
    (with a cos θ axis when ``angular_resolution_deg`` is given)."""
    out = []
    src = load_source(source)
    for name in (list(detectors) if detectors is not None else preset_names()):
        det = load_detector(name)
        for pos in (positions or list(det.source_positions_m)):
            for d in days:
                tpl, model = build_configuration(det, src, pos, float(d), config=config,
                                                 angular_resolution_deg=angular_resolution_deg)
                s, b = window_counts(tpl)
                z1 = asimov_significance(model, R_DEFICIT, 1.0)
                z2 = asimov_significance(model, 1.0, R_DEFICIT)
                out.append(ComparisonRecord(det.name, det.source_distance(pos), float(d), s, b, z2.sigma_r,
                                            z1.z_asimov, z2.z_asimov, pos))
    return out
