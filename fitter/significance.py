"""Significance of an R deficit, Asimov sensitivity, and detector comparisons.

Two questions for a source run (R is the signal strength relative to the prediction):

* discovery-style: if the truth is a gallium-like deficit R = 0.82, how strongly is R = 1
  rejected? (the source is innocent only if R = 1 survives);
* exclusion-style: if the truth is R = 1, how strongly is R = 0.82 rejected?

The test statistic is the one-sided profile-likelihood ratio of Cowan, Cranmer, Gross &
Vitells, EPJC 71 (2011) 1554 (their q_μ for an upper and q̃-like for a lower alternative):

    q(R_test) = −2 ln λ(R_test)  if R̂ lies on the side of the truth, else 0,   Z = √q.

The median significance is √q on the Asimov dataset of the truth (their eq. 97); toys give
its spread. With no background and no systematics σ_R → 1/√N (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from models.detectors import Detector, load_detector, preset_names
from models.errors import GanomError, PhysicsInputError
from models.sources import NeutrinoSource, load_source
from models.templates import Templates, build_templates

from .analysis import AnalysisConfig, build_model
from .fit import FitResult, fit
from .model import BinnedModel, Data
from .newton import minimize_batch

R_DEFICIT = 0.82  # the gallium combined ratio (PHYSICS.md §8, BEST+GALLEX+SAGE)


@dataclass
class SignificanceResult:
    """Expected significances and the R precision of one configuration."""

    r_true: float
    r_test: float
    z_asimov: float
    q_asimov: float
    sigma_r: float
    z_toys_median: float | None = None
    z_toys_bands: dict[str, float] = field(default_factory=dict)
    n_toys: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"r_true": self.r_true, "r_test": self.r_test, "z_asimov": self.z_asimov, "q_asimov": self.q_asimov,
                "sigma_r": self.sigma_r, "z_toys_median": self.z_toys_median, "z_toys_bands": self.z_toys_bands,
                "n_toys": self.n_toys}


def one_sided_q(twice_nll_cond: NDArray, twice_nll_free: NDArray, r_hat: NDArray, r_true: float, r_test: float) -> NDArray:
    """q = 2ΔNLL when R̂ is on the truth's side of R_test, else 0 (never negative)."""
    q = np.maximum(np.asarray(twice_nll_cond) - np.asarray(twice_nll_free), 0.0)
    side = np.sign(r_true - r_test)
    return np.where(side * (np.asarray(r_hat) - r_test) > 0, q, 0.0)


def _check_hypotheses(r_true: float, r_test: float) -> None:
    if r_true == r_test:
        raise PhysicsInputError("r_test", r_test, f"≠ r_true = {r_true} (a significance needs two hypotheses)")


def asimov_significance(model: BinnedModel, r_true: float = R_DEFICIT, r_test: float = 1.0,
                        poi: str = "R") -> SignificanceResult:
    """Median significance to reject R = r_test when the truth is R = r_true (Asimov data)."""
    _check_hypotheses(r_true, r_test)
    data = model.asimov({poi: r_true})
    free = fit(model, data).require_valid("Asimov fit")
    cond = fit(model, data, init=free.values, fix={poi: r_test}, hesse=False).require_valid("conditional Asimov fit")
    q = float(one_sided_q(cond.twice_nll, free.twice_nll, free.value(poi), r_true, r_test))
    sigma = free.error(poi) if r_true == 1.0 else sigma_r(model, 1.0, poi)
    return SignificanceResult(r_true, r_test, math.sqrt(q), q, sigma)


def sigma_r(model: BinnedModel, r_true: float = 1.0, poi: str = "R") -> float:
    """HESSE uncertainty of R on the Asimov dataset at R = r_true."""
    res = fit(model, model.asimov({poi: r_true})).require_valid("Asimov fit for σ_R")
    return res.error(poi)


def toy_significance(model: BinnedModel, r_true: float = R_DEFICIT, r_test: float = 1.0, n_toys: int = 1000,
                     seed: int = 0, poi: str = "R", chunk: int = 500) -> tuple[NDArray, NDArray]:
    """Per-toy significances Z = √q and fitted R̂ for ``n_toys`` toys generated at R = r_true.

    Toys fluctuate the main counts (Poisson) and every auxiliary measurement; both the free
    and the conditional fit of every toy use the batched Newton minimiser.
    """
    _check_hypotheses(r_true, r_test)
    rng = np.random.default_rng(seed)
    main, aux = model.toys({poi: r_true}, n_toys, rng)
    ip = model.parameters.index(poi)
    z = np.empty(n_toys)
    r_hat = np.empty(n_toys)
    start = model.parameters.vector({poi: r_true})
    for s in range(0, n_toys, chunk):
        sl = slice(s, s + chunk)
        free = minimize_batch(model, main[sl], aux[sl], start)
        th_c = free.theta.copy()
        th_c[:, ip] = r_test
        fixed = model.parameters.fixed.copy()
        fixed[ip] = True
        cond = minimize_batch(model, main[sl], aux[sl], th_c, fixed)
        if not (free.converged.all() and cond.converged.all()):
            bad = int((~free.converged).sum() + (~cond.converged).sum())
            raise GanomError(f"toy_significance: {bad} toy fits did not converge")
        q = one_sided_q(2 * cond.objective, 2 * free.objective, free.theta[:, ip], r_true, r_test)
        z[sl] = np.sqrt(q)
        r_hat[sl] = free.theta[:, ip]
    return z, r_hat


def significance(model: BinnedModel, r_true: float = R_DEFICIT, r_test: float = 1.0, n_toys: int = 0,
                 seed: int = 0) -> SignificanceResult:
    """Asimov significance, σ_R and (with ``n_toys``) the toy median and ±1σ/±2σ bands."""
    res = asimov_significance(model, r_true, r_test)
    if n_toys:
        z, _ = toy_significance(model, r_true, r_test, n_toys, seed)
        qs = np.quantile(z, [0.0228, 0.1587, 0.5, 0.8413, 0.9772])
        res.z_toys_median = float(qs[2])
        res.z_toys_bands = {"-2sigma": float(qs[0]), "-1sigma": float(qs[1]), "+1sigma": float(qs[3]),
                            "+2sigma": float(qs[4])}
        res.n_toys = n_toys
    return res


# ----------------------------------------------------------------------------- studies
KNOBS = ("days", "activity", "activity_uncertainty", "background_scale", "fiducial_radius")


@dataclass
class SensitivityPoint:
    knob: str
    value: float
    signal_events: float
    background_events: float
    sigma_r: float
    z_reject_r1: float
    z_reject_r082: float


def _configure(detector: Detector, source: NeutrinoSource, knob: str, value: float) -> tuple[Detector, NeutrinoSource, float]:
    if knob == "activity":
        return detector, replace(source, activity_bq=float(value)), 1.0
    if knob == "activity_uncertainty":
        return detector, replace(source, activity_rel_uncertainty=float(value)), 1.0
    if knob == "fiducial_radius":
        if not 0 < value <= detector.radius_m:
            raise PhysicsInputError("fiducial_radius", value, f"0 < R_fid ≤ {detector.radius_m} m")
        return replace(detector, fiducial_radius_m=float(value)), source, 1.0
    if knob == "background_scale":
        return detector, source, float(value)
    raise PhysicsInputError("knob", knob, " | ".join(KNOBS))


def build_configuration(detector: "Detector | str", source: "NeutrinoSource | str" = "cr51",
                        distance_m: float | str = "centre", days: float = 30.0, background_scale: float = 1.0,
                        source_off_days: float = 0.0, config: AnalysisConfig | None = None,
                        **template_kw: Any) -> tuple[Templates, BinnedModel]:
    """Templates and model of one configuration (background rates scaled by ``background_scale``)."""
    from models.backgrounds import detector_backgrounds

    if not (np.isfinite(background_scale) and background_scale >= 0):
        raise PhysicsInputError("background_scale", background_scale, "a finite factor ≥ 0 (0: no backgrounds)")
    det = load_detector(detector)
    src = load_source(source)
    comps = [replace(c, rate_per_day=c.rate_per_day * background_scale)
             for c in detector_backgrounds(det, src.half_life_days)] if background_scale > 0 else False
    tpl = build_templates(det, src, distance_m, days, backgrounds=comps, source_off_days=source_off_days,
                          **template_kw)
    return tpl, build_model(tpl, config)


def window_counts(tpl: Templates) -> tuple[float, float]:
    """(signal, background) expected events in the analysis window of the source run."""
    s = float(sum(tpl.samples[n].sum() for n in tpl.signal_names))
    b = float(sum(tpl.samples[n].sum() for n in tpl.background_names))
    return s, b


def sensitivity_curve(detector: "Detector | str", knob: str, values: Sequence[float], source: "NeutrinoSource | str" = "cr51",
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
                      source: "NeutrinoSource | str" = "cr51", positions: Sequence[str] | None = None,
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
