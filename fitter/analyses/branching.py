"""Measuring the ⁵¹Cr branching ratio B to the 320 keV level from ν–e recoils.

Two methods, both Asimov fits of the binned likelihood with B as the POI
(``AnalysisConfig(measure_branch=...)``):

* brute force: the recoil spectrum alone. The 427/432 keV lines end at T_max ≈ 267/271 keV;
  their share of the continuum below that step measures B. With ``mode="shape"`` the
  normalisation R is free, so only the step informs B (the activity drops out); with
  ``mode="rate"`` R = 1 and the (calorimetric or γ-counted) activity depends on B, so the
  total rate constrains B as well, under the assumption that nothing else changes the rate.
* directional: with Cherenkov light (slow liquid scintillator) every event has an angle θ to
  the source direction; (T, cos θ) fixes E_ν (:func:`ganom.models.xsec.neutrino_energy`), so the
  430 and 750 keV populations separate event by event as the angular resolution improves.

A B that would fully explain the gallium deficit is computed from the ⁷¹Ga line cross
sections and the activity method (:func:`b_explaining_deficit`); the significance of telling
it from the nominal B is the Asimov √q of that alternative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import brentq

from ganom.exceptions import InputError, PhysicsInputError
from ganom.fitter.config import AnalysisConfig, build_configuration, window_counts
from ganom.fitter.infer.fit import fit
from ganom.fitter.io import Table
from ganom.models.detectors import load_detector
from ganom.models.sources import NeutrinoSource, load_source

__all__ = [
    "b_explaining_deficit",
    "BranchResult",
    "branch_sensitivity",
    "sigma_b_vs_exposure",
    "sigma_b_vs_resolution",
    "resolution_for_gain",
    "BranchingStudy",
    "branching_study",
    "config_branch_sensitivity",
]


def b_explaining_deficit(ratio: float = 0.82, source: NeutrinoSource | str = "cr51",
                         xsec_model: str = "bahcall") -> float:
    """The true B for which the gallium rate equals ``ratio`` × its prediction with B₀.

    The gallium rate ∝ A(B) Σ_l I_l(B) σ_l with ⁷¹Ga line cross sections σ_l
    (:func:`ganom.models.gallium.line_cross_sections`) and the inferred activity A(B) of the
    source's activity method; a larger B lowers both A (more heat or γ's per decay) and the
    share of the better-captured 750 keV lines.
    """
    from ganom.models.gallium import line_cross_sections

    src = load_source(source)
    if src.gamma_branch <= 0:
        raise InputError(f"source '{src.name}' has no γ branch")
    if not 0 < ratio < 1.5:
        raise PhysicsInputError("ratio", ratio, "0 < ratio < 1.5")
    sig = line_cross_sections(xsec_model, src.isotope, src)
    excited = src.branch_mask("excited")
    w = src.intensities * sig

    def rel(b: float) -> float:
        f = src.branch_rate_scale(b)
        return float(np.sum(w * np.where(excited, f["excited"], f["ground"])) / w.sum()) - ratio

    lo, hi = 1e-3, 0.9
    if rel(lo) * rel(hi) > 0:
        raise InputError(f"no B in [{lo}, {hi}] gives a gallium ratio of {ratio} for the '{src.activity_method}' activity")
    return float(brentq(rel, lo, hi, xtol=1e-10))


@dataclass
class BranchResult:
    """Expected precision on B for one configuration (Asimov)."""

    detector: str
    distance_m: float
    days: float
    mode: str
    angular_resolution_deg: float | None
    b_true: float
    sigma_b: float
    signal_events: float
    background_events: float
    b_alternative: float | None = None
    z_alternative: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def events_for(self, target_sigma_b: float) -> float:
        """Signal events needed for σ_B = target at the same background level per signal event
        (σ_B ∝ 1/√N when signal and background scale together)."""
        if not target_sigma_b > 0:
            raise PhysicsInputError("target_sigma_b", target_sigma_b, "> 0")
        return self.signal_events * (self.sigma_b / target_sigma_b) ** 2

    def to_dict(self) -> dict[str, Any]:
        return {"detector": self.detector, "distance_m": self.distance_m, "days": self.days, "mode": self.mode,
                "angular_resolution_deg": self.angular_resolution_deg, "b_true": self.b_true, "sigma_b": self.sigma_b,
                "signal_events": self.signal_events, "background_events": self.background_events,
                "b_alternative": self.b_alternative, "z_alternative": self.z_alternative}


def branch_sensitivity(detector: Any = "jne-500t", source: NeutrinoSource | str = "cr51",
                       distance_m: float | str = "centre", days: float = 30.0,
                       angular_resolution_deg: float | None = None, mode: str = "shape",
                       b_true: float | None = None, b_alternative: float | None = None,
                       background_scale: float = 1.0, cos_bins: int = 10, angular_model: str = "constant") -> BranchResult:
    """σ_B (HESSE on the Asimov dataset at B_true) and, given an alternative B, the Asimov
    significance √q of rejecting it.

    ``angular_model`` "constant": σ_θ = ``angular_resolution_deg`` at every recoil energy above
    the Cherenkov threshold (the optimistic model); "cherenkov": the detector's quoted
    σ_θ at its reference energy, scaled with the Cherenkov yield
    (:meth:`~ganom.models.detectors.Detector.with_cherenkov_direction`; ``angular_resolution_deg``
    then defaults to the quoted value and is the σ_θ at the reference energy)."""
    from ganom.models.templates import default_binning

    det = load_detector(detector)
    src = load_source(source)
    if angular_model not in ("constant", "cherenkov"):
        raise PhysicsInputError("angular_model", angular_model, "constant | cherenkov")
    if angular_model == "cherenkov":
        det = det.with_cherenkov_direction()
        if angular_resolution_deg is None:
            angular_resolution_deg = det.angular_resolution_deg
    if angular_resolution_deg is not None:
        det = replace(det, angular_resolution_deg=float(angular_resolution_deg))
    else:
        det = replace(det, angular_resolution_deg=None)
    dist = det.source_distance(distance_m)
    binning = default_binning(det, src, dist, days, cos_bins=cos_bins if angular_resolution_deg is not None else 0)
    tpl, model = build_configuration(det, src, dist, days, background_scale,
                                     config=AnalysisConfig(measure_branch=mode), binning=binning)
    bt = src.gamma_branch if b_true is None else float(b_true)
    sigma_b, z = _b_fits(model, bt, b_alternative)
    s, b = window_counts(tpl)
    return BranchResult(det.name, dist, float(days), mode, angular_resolution_deg, bt, sigma_b, s, b,
                        b_alternative, z, {"bins": model.n_bins, "excited_signal": float(tpl.samples["signal_excited"].sum()),
                                          "detector_label": det.label, "isotope_label": src.isotope_label,
                                          "angular_model": angular_model_text(det) if angular_resolution_deg is not None
                                          else None})


def angular_model_text(det: Any) -> str:
    """The directional model of a detector in words, e.g. "46° at 2 MeV, scaled with the
    Cherenkov yield (143° at 0.5 MeV); none below 0.178 MeV"."""
    from ganom.models.direction import cherenkov_threshold_mev

    if det.angular_resolution_deg is None:
        return "no direction"
    threshold = ("" if det.refractive_index is None
                 else f"; none below {cherenkov_threshold_mev(det.refractive_index):.3g} MeV (Cherenkov threshold)")
    if det.angular_reference_mev is None:
        return f"{det.angular_resolution_deg:g}° at every energy{threshold}"
    at = float(det.angular_sigma_deg(0.5))
    return (f"{det.angular_resolution_deg:g}° at {det.angular_reference_mev:g} MeV, scaled with the Cherenkov yield ("
            + ("none" if not np.isfinite(at) else f"{at:.0f}°") + f" at 0.5 MeV){threshold}")


def _b_fits(model: Any, b_true: float, b_alternative: float | None) -> tuple[float, float | None]:
    """(σ_B by HESSE, Asimov √q of ``b_alternative``) on the Asimov data at ``b_true``."""
    data = model.asimov({"B": b_true})
    res = fit(model, data, init={"B": b_true}).require_valid("branching-ratio fit")
    z = None
    if b_alternative is not None:
        alt = fit(model, data, init=res.values, fix={"B": float(b_alternative)}, hesse=False).require_valid("fit at B_alt")
        z = math.sqrt(max(alt.twice_nll - res.twice_nll, 0.0))
    return res.error("B"), z


def sigma_b_vs_exposure(days: Sequence[float], **kw: Any) -> list[BranchResult]:
    """σ_B for several run lengths (exposure)."""
    return [branch_sensitivity(days=float(d), **kw) for d in days]


def sigma_b_vs_resolution(resolutions_deg: Sequence[float | None], **kw: Any) -> list[BranchResult]:
    """σ_B for several angular resolutions (None: no directional information)."""
    return [branch_sensitivity(angular_resolution_deg=r, **kw) for r in resolutions_deg]


def resolution_for_gain(results: Sequence[BranchResult], reference_sigma: float, gain: float = 2.0) -> float | None:
    """The angular resolution [deg] at which σ_B(directional) = reference/gain (log interpolation).

    None if no scanned resolution reaches that gain; the coarsest scanned resolution if every one
    does (the crossover then lies at or beyond it: scan coarser resolutions to locate it).
    """
    pts = sorted((r.angular_resolution_deg, r.sigma_b) for r in results if r.angular_resolution_deg is not None)
    target = reference_sigma / gain
    if pts and all(s <= target for _, s in pts):
        return float(pts[-1][0])
    for (r0, s0), (r1, s1) in zip(pts[:-1], pts[1:]):
        if (s0 - target) * (s1 - target) <= 0 and s0 != s1:
            f = (np.log(target) - np.log(s0)) / (np.log(s1) - np.log(s0))
            return float(r0 + f * (r1 - r0))
    return None


@dataclass
class BranchingStudy:
    """``ganom br``: σ_B from the spectrum alone and (optionally) with direction, the exposure
    that a target σ_B needs, and σ_B versus exposure and angular resolution."""

    energy_only: BranchResult
    result: BranchResult
    deficit: float
    b_alternative: float
    target_sigma_b: float
    target_given: bool
    activity_mci: float
    vs_exposure: list[BranchResult]
    vs_resolution: list[BranchResult]
    cherenkov: BranchResult | None = None
    """The directional fit with the detector's quoted σ_θ(T) and Cherenkov threshold (None: the
    detector quotes no directional resolution)."""

    @property
    def activity_mci_for_target(self) -> float:
        """The source activity [MCi] that reaches the target σ_B in the same run (σ_B ∝ 1/√N)."""
        return self.activity_mci * (self.result.sigma_b / self.target_sigma_b) ** 2

    @property
    def resolution_for_gain_2_deg(self) -> float | None:
        return resolution_for_gain(self.vs_resolution, self.energy_only.sigma_b, 2.0)

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.result.to_dict(), "energy_only": self.energy_only.to_dict(),
                "b_explaining_deficit": self.b_alternative, "deficit": self.deficit,
                "target_sigma_b": self.target_sigma_b,
                "signal_events_for_target": self.result.events_for(self.target_sigma_b),
                "activity_mci_for_target": self.activity_mci_for_target,
                "resolution_for_gain_2_deg": self.resolution_for_gain_2_deg,
                "vs_exposure": [r.to_dict() for r in self.vs_exposure],
                "vs_resolution": [r.to_dict() for r in self.vs_resolution],
                "cherenkov": None if self.cherenkov is None else self.cherenkov.to_dict()}

    def method_table(self) -> Table:
        rows = [["energy only", "—", f"{self.energy_only.sigma_b:.4g}", f"{self.energy_only.z_alternative:.2f}",
                 f"{self.energy_only.signal_events:.0f}"]]
        if self.result is not self.energy_only:
            r = self.result
            rows.append(["directional, σ_θ constant", f"{r.angular_resolution_deg:g}°", f"{r.sigma_b:.4g}",
                         f"{r.z_alternative:.2f}", f"{r.signal_events:.0f}"])
        if self.cherenkov is not None:
            c = self.cherenkov
            rows.append(["directional, Cherenkov σ_θ(T)", c.meta["angular_model"].split(",")[0] + ", scaled", f"{c.sigma_b:.4g}",
                         f"{c.z_alternative:.2f}", f"{c.signal_events:.0f}"])
        return Table(["method", "resolution", "σ_B", f"Z(B={self.b_alternative:.3g})", "signal events"], rows)

    def exposure_table(self) -> Table:
        return Table(["days", "signal events", "σ_B"],
                     [[f"{r.days:g}", f"{r.signal_events:.0f}", f"{r.sigma_b:.4g}"] for r in self.vs_exposure])

    def resolution_table(self) -> Table:
        return Table(["angular resolution [deg]", "σ_B", "gain vs energy only"],
                     [[f"{r.angular_resolution_deg:g}", f"{r.sigma_b:.4g}", f"{self.energy_only.sigma_b / r.sigma_b:.2f}"]
                      for r in self.vs_resolution])

    def summary_lines(self) -> list[str]:
        """The sentences around the tables: the question, the target, the resolution for a 2× gain."""
        e, r = self.energy_only, self.result
        why = "" if self.target_given else f" (B₀ and B = {self.b_alternative:.3g} 5σ apart)"
        gain2 = self.resolution_for_gain_2_deg
        all_reach = bool(self.vs_resolution) and max(x.sigma_b for x in self.vs_resolution) <= e.sigma_b / 2.0
        return [
            f"{e.detector}, source at D = {e.distance_m:g} m, {e.days:g} d, fit mode '{e.mode}'; "
            f"B₀ = {e.b_true:.4g}; a gallium ratio of {self.deficit:g} needs B = {self.b_alternative:.4g}",
            f"for σ_B = {self.target_sigma_b:.3g}{why}: {r.events_for(self.target_sigma_b):.3g} signal events, i.e. a "
            f"{self.activity_mci_for_target:.3g} MCi source for the same {e.days:g}-day run "
            "(backgrounds scaled with it; σ_B ∝ 1/√N)",
            "the directional fit halves σ_B at a resolution of "
            + ("— (not reached in the scanned range)" if gain2 is None
               else f"≥ {gain2:g}° (every scanned resolution does)" if all_reach else f"{gain2:.1f}°")
            + " (σ_θ the same at every recoil energy above the Cherenkov threshold: the optimistic model)",
        ] + ([] if self.cherenkov is None else [
            f"with the detector's quoted direction, {self.cherenkov.meta['angular_model']}: σ_B = "
            f"{self.cherenkov.sigma_b:.4g}, against {e.sigma_b:.4g} from the spectrum alone (gain "
            f"×{e.sigma_b / self.cherenkov.sigma_b:.2f})"])


def branching_study(detector: Any, source: NeutrinoSource | str = "cr51", distance_m: float | str = "centre",
                    days: float = 30.0, angular_resolution_deg: float | None = None, mode: str = "shape",
                    deficit: float = 0.82, target_sigma_b: float | None = None,
                    exposures: Sequence[float] = (10.0, 30.0, 100.0, 300.0),
                    resolutions_deg: Sequence[float] = (60.0, 40.0, 20.0, 10.0, 5.0, 2.0, 0.0),
                    progress: bool = False) -> BranchingStudy:
    """Everything ``ganom br`` reports (:class:`BranchingStudy`); the default target σ_B puts
    B₀ and the B that explains ``deficit`` 5σ apart. ``progress``: a bar over the fits on
    stderr (:func:`ganom.progress.progress`)."""
    from ganom.progress import progress as progress_bar

    if target_sigma_b is not None and not target_sigma_b > 0:
        raise PhysicsInputError("target_sigma_b", target_sigma_b, "> 0")
    src = load_source(source)
    b_alt = b_explaining_deficit(deficit, src)
    if target_sigma_b is None and abs(b_alt - src.gamma_branch) < 1e-6 * src.gamma_branch:
        raise PhysicsInputError("deficit", deficit, "a gallium ratio ≠ 1 (a ratio of 1 needs no other B, so there is "
                                "no separation to aim at; give a target σ_B instead)")
    kw = dict(detector=detector, source=src, distance_m=distance_m, mode=mode, b_alternative=b_alt)
    cases = [dict(days=days, angular_resolution_deg=None)]
    if angular_resolution_deg is not None:
        cases.append(dict(days=days, angular_resolution_deg=angular_resolution_deg))
    cases += [dict(days=float(d), angular_resolution_deg=angular_resolution_deg) for d in exposures]
    cases += [dict(days=days, angular_resolution_deg=r) for r in resolutions_deg]
    quoted = load_detector(detector).cherenkov_resolution_deg is not None
    if quoted:
        cases.append(dict(days=days, angular_resolution_deg=None, angular_model="cherenkov"))
    fits = []
    with progress_bar(len(cases), "σ_B fits", "fit", enabled=progress) as bar:
        for case in cases:
            fits.append(branch_sensitivity(**case, **kw))
            bar.update(1)
    cherenkov = fits.pop() if quoted else None
    brute = fits.pop(0)
    main = brute if angular_resolution_deg is None else fits.pop(0)
    target = target_sigma_b if target_sigma_b is not None else abs(b_alt - brute.b_true) / 5.0
    return BranchingStudy(brute, main, deficit, b_alt, target, target_sigma_b is not None, src.activity_mci,
                          fits[:len(exposures)], fits[len(exposures):], cherenkov)


def config_branch_sensitivity(config: Any, mode: str = "shape", b_alternative: float | None = None) -> BranchResult:
    """σ_B and the significance of ``b_alternative`` for an analysis configuration whose signal
    samples are marked by nuclear branch (:func:`ganom.fitter.inputs.build_analysis` with
    ``measure_branch``): Asimov data at the source's B₀."""
    from ganom.fitter.inputs import build_analysis

    a = build_analysis(config, measure_branch=mode)
    m = a.model
    src = load_source(a.config["source"])
    sigma_b, z = _b_fits(m, src.gamma_branch, b_alternative)
    sig = [n for n in m.samples if any(mod.name == "B" and mod.sample == n for mod in m.modifiers)]
    s = float(sum(m.nominal[m.sample_index(n)].sum() for n in sig))
    return BranchResult(a.name, float("nan"), float("nan"), mode, None, src.gamma_branch, sigma_b, s,
                        float(m.nominal.sum()) - s, b_alternative, z, {"bins": m.n_bins})
