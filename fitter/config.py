"""From physics templates to a :class:`BinnedModel` (the configuration and build step).

Parameters (the same names in native fits and pyhf workspaces):

==============  ===========================================================================
``R``           signal strength, free (the POI): R = 0.82 is the gallium-like deficit
``activity``    normsys on the signal, ±σ_A of the source (calorimetry: 0.23 % for ⁵¹Cr)
``br_gamma``    normsys per signal branch: the ±1σ shift of B (the 320 keV branch) moves
                the line shares and, for γ-counted or calorimetric activities, A itself
``fiducial``    normsys on everything that scales with the target mass (electron count)
``escale``      histosys on every sample: templates at ∓ the energy-scale uncertainty
``bkg_<name>``  normsys (Gaussian rate prior of the preset) or a free normfactor
==============  ===========================================================================

Normsys α's have unit normal constraints and HistFactory's code-4 interpolation (the factor
is 1 + σα for small α, log-normal-like beyond ±1σ); histosys uses code 4p.
"""

from __future__ import annotations

import hashlib
import pickle
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import InputError, PhysicsInputError
from ganom.fitter.hf.builder import ModelBuilder
from ganom.fitter.hf.model import BinnedModel
from ganom.fitter.hf.parameters import SIGNAL_STRENGTH
from ganom.models.detectors import Detector, load_detector
from ganom.models.sources import NeutrinoSource, load_source
from ganom.models.templates import Templates, build_templates

__all__ = [
    "configuration_record",
    "resolved_record",
    "KNOBS",
    "window_counts",
    "SYSTEMATICS",
    "BRANCH_MODES",
    "BranchFactor",
    "NEGLIGIBLE_EVENTS",
    "AnalysisConfig",
    "build_model",
    "unflatten",
    "Configuration",
    "BUILD_CACHE_SIZE",
    "build_configuration",
]

# ----------------------------------------------------------------------------- studies
KNOBS = ("days", "activity", "activity_uncertainty", "background_scale", "fiducial_radius", "assembly_radius",
         "shield_thickness", "energy_resolution", "vertex_resolution", "external_rate", "alpha_leakage")
KNOB_LABELS = {"days": "run length [days]", "activity": "source activity [MCi]",
               "activity_uncertainty": "relative activity uncertainty", "background_scale": "background scale factor",
               "fiducial_radius": "fiducial radius [m]", "assembly_radius": "source assembly radius [m]",
               "shield_thickness": "tungsten shield thickness [m]",
               "energy_resolution": "energy resolution a in σ_E/E = a/√E [E in MeV]",
               "vertex_resolution": "vertex resolution at 1 MeV [m]", "external_rate": "external γ rate [per day]",
               "alpha_leakage": "α events kept by the α/β pulse-shape cut"}
"""Axis labels of the :data:`KNOBS` (the activity is shown in MCi; its knob values are in Bq)."""


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
    if knob == "assembly_radius":
        if not 0 <= value <= 2.0:
            raise PhysicsInputError("assembly_radius", value, "0 ≤ r ≤ 2 m")
        return detector, source.with_assembly_radius(float(value)), 1.0
    if knob == "energy_resolution":
        if not 0 <= value <= 1:
            raise PhysicsInputError("energy_resolution", value, "0 ≤ a ≤ 1 (σ_E/E = a/√E)")
        return replace(detector, energy_stochastic=float(value)), source, 1.0
    if knob == "vertex_resolution":
        if not 0 <= value <= 10:
            raise PhysicsInputError("vertex_resolution", value, "0 ≤ σ ≤ 10 m at 1 MeV")
        return replace(detector, vertex_sigma_1mev_m=float(value)), source, 1.0
    if knob == "external_rate":
        ext = (detector.backgrounds or {}).get("external")
        if not isinstance(ext, dict):
            raise PhysicsInputError("external_rate", value, f"a detector with an external γ background ('{detector.name}' has none)")
        if not (np.isfinite(value) and value >= 0):
            raise PhysicsInputError("external_rate", value, "≥ 0 per day")
        return replace(detector, backgrounds={**detector.backgrounds, "external": {**ext, "rate_per_day": float(value)}}), source, 1.0
    if knob == "alpha_leakage":
        if not 0 <= value <= 1:
            raise PhysicsInputError("alpha_leakage", value, "0 ≤ fraction ≤ 1")
        psd = {**(detector.backgrounds or {}).get("alpha_beta_psd", {}), "alpha_leakage": float(value)}
        return replace(detector, backgrounds={**(detector.backgrounds or {}), "alpha_beta_psd": psd}), source, 1.0
    if knob == "shield_thickness":
        if not 0 <= value <= 2.0 - source.capsule_radius_m:
            raise PhysicsInputError("shield_thickness", value, f"0 ≤ t ≤ {2.0 - source.capsule_radius_m:g} m")
        return detector, source.with_shield_thickness(float(value)), 1.0
    raise PhysicsInputError("knob", knob, " | ".join(KNOBS))


def window_counts(tpl: Templates) -> tuple[float, float]:
    """(signal, background) expected events in the analysis window of the source run."""
    s = float(sum(tpl.samples[n].sum() for n in tpl.signal_names))
    b = float(sum(tpl.samples[n].sum() for n in tpl.background_names))
    return s, b


SYSTEMATICS = ("activity", "br_gamma", "fiducial", "escale")


BRANCH_MODES = ("shape", "rate")


@dataclass(frozen=True)
class BranchFactor:
    """The rate factor of one nuclear branch when the ⁵¹Cr 320 keV branching is B.

    Line share × inferred-activity scale (ganom.models.sources): the ground branch scales as
    (1 − B)/(1 − B₀), the excited one as B/B₀, and the activity as B₀/B (γ counting),
    Q(B₀)/Q(B) with Q = B·E_γ + E_atomic (calorimetry) or 1 (fixed). Returns (f, df/dB).
    """

    b0: float
    branch: str
    method: str
    e_gamma: float
    e_atomic: float

    def __call__(self, b: NDArray) -> tuple[NDArray, NDArray]:
        b = np.asarray(b, dtype=float)
        if self.branch == "excited":
            share, dshare = b / self.b0, np.full_like(b, 1.0 / self.b0)
        else:
            share, dshare = (1.0 - b) / (1.0 - self.b0), np.full_like(b, -1.0 / (1.0 - self.b0))
        if self.method == "gamma":
            a, da = self.b0 / b, -self.b0 / (b * b)
        elif self.method == "calorimetry" and self.e_gamma > 0:
            q = b * self.e_gamma + self.e_atomic
            q0 = self.b0 * self.e_gamma + self.e_atomic
            a, da = q0 / q, -q0 * self.e_gamma / (q * q)
        else:
            a, da = np.ones_like(b), np.zeros_like(b)
        return a * share, da * share + a * dshare


NEGLIGIBLE_EVENTS = 1e-6


@dataclass
class AnalysisConfig:
    """User choices on top of the physics defaults.

    uncertainties : override relative 1σ's: "activity", "fiducial", "bkg_<name>" (relative),
        "br_gamma" (absolute on B); 0 removes the systematic.
    free : parameters whose prior is dropped (``bkg_po210`` → free normfactor).
    drop : systematics to leave out entirely (e.g. ["escale"]).
    r_bounds : bounds of the POI R.
    measure_branch : make the 320 keV branching B (natural units) the POI instead of the
        br_gamma nuisance: "shape" (R free: only the spectral step at the 427/432 keV recoil
        endpoints informs B) or "rate" (R = 1, activity constrained: the rate informs B too,
        through the activity's dependence on B).
    """

    uncertainties: dict[str, float] = field(default_factory=dict)
    free: Sequence[str] = ()
    drop: Sequence[str] = ()
    r_bounds: tuple[float, float] = (0.0, 10.0)
    measure_branch: str | None = None


def build_model(templates: Templates, config: AnalysisConfig | None = None) -> BinnedModel:
    """The binned likelihood of a template set: channel ``source_on`` (E × L × t flattened,
    C order; E × L × cos θ × t for directional binnings) and, with a source-off exposure,
    ``source_off`` (the same without time bins)."""
    cfg = config or AnalysisConfig()
    src, det = templates.source, templates.detector
    unc = dict(cfg.uncertainties)
    known = set(SYSTEMATICS) | {f"bkg_{n}" for n in templates.background_names}
    for k in list(unc) + list(cfg.free) + list(cfg.drop):
        if k not in known:
            raise InputError(f"unknown parameter '{k}' in the analysis configuration; known: {', '.join(sorted(known))}")

    b = ModelBuilder()
    b.add_channel("source_on", templates.binning.n_bins)
    off = templates.source_off
    if off:
        n_off = int(np.prod(next(iter(off.values())).shape))
        b.add_channel("source_off", n_off)
    keep = [n for n, a in templates.samples.items() if a.sum() > NEGLIGIBLE_EVENTS or templates.info[n].kind == "signal"]
    for n in keep:
        counts = {"source_on": templates.samples[n].ravel()}
        if off and n in off:
            counts["source_off"] = off[n].ravel()
        b.add_sample(n, counts)
    sig = [n for n in keep if templates.info[n].kind == "signal"]
    bkg = [n for n in keep if templates.info[n].kind == "background"]

    b.add_normfactor(SIGNAL_STRENGTH, sig, init=1.0, bounds=cfg.r_bounds)
    if cfg.measure_branch is not None:
        if cfg.measure_branch not in BRANCH_MODES:
            raise InputError(f"measure_branch = {cfg.measure_branch!r}; allowed: {' | '.join(BRANCH_MODES)}")
        if src.gamma_branch <= 0 or len({templates.info[n].branch for n in sig}) < 2:
            raise InputError(f"measure_branch: source '{src.name}' has no second nuclear branch to measure")
        b.add_function("B", {n: BranchFactor(src.gamma_branch, templates.info[n].branch, src.activity_method,
                                             src.gamma_energy_mev, src.atomic_heat_mev) for n in sig},
                       init=src.gamma_branch, bounds=(1e-4, 0.6))

    s_a = unc.get("activity", src.activity_rel_uncertainty)
    if s_a > 0 and "activity" not in cfg.drop:
        b.add_normsys("activity", {n: (1 - s_a, 1 + s_a) for n in sig})
    s_b = unc.get("br_gamma", src.gamma_branch_uncertainty)
    if src.gamma_branch > 0 and s_b > 0 and "br_gamma" not in cfg.drop and cfg.measure_branch is None:
        dn = src.branch_rate_scale(src.gamma_branch - s_b)
        up = src.branch_rate_scale(src.gamma_branch + s_b)
        b.add_normsys("br_gamma", {n: (dn[templates.info[n].branch], up[templates.info[n].branch]) for n in sig})
    s_f = unc.get("fiducial", det.fiducial_uncertainty)
    if s_f > 0 and "fiducial" not in cfg.drop:
        vol = sig + [n for n in bkg if templates.info[n].in_volume]
        b.add_normsys("fiducial", {n: (1 - s_f, 1 + s_f) for n in vol})
    for n in bkg:
        pname = f"bkg_{n}"
        s = unc.get(pname, templates.info[n].uncertainty)
        if s is None or pname in cfg.free:
            b.add_normfactor(pname, [n], init=1.0, bounds=(0.0, 100.0))
        elif s > 0 and pname not in cfg.drop:
            if s >= 1:
                raise InputError(f"{pname}: a relative uncertainty of {s} (≥ 100 %) cannot be a normsys; "
                                 f"use uncertainty = \"free\"")
            b.add_normsys(pname, {n: (1 - s, 1 + s)})
    if templates.escale and "escale" not in cfg.drop and unc.get("escale", templates.escale_sigma) > 0:
        shapes = {}
        for n in keep:
            if n in templates.escale:
                dn, up = templates.escale[n]
                shapes[(n, "source_on")] = (dn.ravel(), up.ravel())
                if off and n in off and templates.source_off_escale and n in templates.source_off_escale:
                    odn, oup = templates.source_off_escale[n]
                    shapes[(n, "source_off")] = (odn.ravel(), oup.ravel())
        b.add_histosys("escale", shapes)
    model = b.build(poi="B" if cfg.measure_branch else SIGNAL_STRENGTH)
    if cfg.measure_branch == "rate":
        model = model.with_parameters(model.config().fix(SIGNAL_STRENGTH, 1.0))
    for name in cfg.free:
        if name in model.parameters and model.parameters[name].constraint == "normal":
            model = model.with_parameters(model.config().unconstrain(name))
    return model


def unflatten(templates: Templates, values: NDArray, channel: str = "source_on") -> NDArray:
    """Reshape a flat vector of one channel to the binning's shape (time axis of length 1 for
    source_off)."""
    shape = templates.binning.shape if channel == "source_on" else templates.binning.shape[:-1] + (1,)
    return np.asarray(values).reshape(shape)


@dataclass(frozen=True)
class Configuration:
    """One analysis configuration, resolved from names once: what :meth:`build` turns into
    templates and a model.

    Attributes
    ----------
    detector, source : the resolved physics objects.
    distance_m : source distance from the detector centre [m].
    days : run length [days].
    background_scale : factor on every background rate (0: no backgrounds).
    source_off_days : background-only exposure before the run [days] (0: none).
    analysis : the :class:`AnalysisConfig` (systematics, free parameters, POI).
    template_options : further keywords of :func:`ganom.models.templates.build_templates`
        (``binning``, ``angular_resolution_deg``, ``xsec_model``, ...).

    >>> cfg = Configuration.resolve("jne-1t", "cr51", "outside", 10)
    >>> cfg.detector.name, cfg.distance_m, cfg.days
    ('jne-1t', 1.0, 10.0)
    >>> cfg.build()[1] is Configuration.resolve("jne-1t", "cr51", 1.0, 10.0).build()[1]
    True
    """

    detector: Detector
    source: NeutrinoSource
    distance_m: float
    days: float
    background_scale: float = 1.0
    source_off_days: float = 0.0
    analysis: AnalysisConfig = field(default_factory=lambda: AnalysisConfig())
    template_options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def resolve(cls, detector: Detector | str, source: NeutrinoSource | str = "cr51",
                distance: float | str = "centre", days: float = 30.0, background_scale: float = 1.0,
                source_off_days: float = 0.0, analysis: AnalysisConfig | None = None,
                **template_options: Any) -> Configuration:
        """Resolve preset names, TOML paths and named positions; check the run parameters."""
        if not (np.isfinite(background_scale) and background_scale >= 0):
            raise PhysicsInputError("background_scale", background_scale, "a finite factor ≥ 0 (0: no backgrounds)")
        det = load_detector(detector)
        return cls(det, load_source(source), det.source_distance(distance), float(days), float(background_scale),
                   float(source_off_days), analysis if analysis is not None else AnalysisConfig(),
                   tuple(sorted((k, v) for k, v in template_options.items() if v is not None)))

    @property
    def digest(self) -> str:
        """sha256 of everything the build depends on."""
        return hashlib.sha256(pickle.dumps(self, protocol=4)).hexdigest()

    @property
    def templates_digest(self) -> str:
        """sha256 of everything the templates depend on (not the analysis choices)."""
        return hashlib.sha256(pickle.dumps(replace(self, analysis=AnalysisConfig()), protocol=4)).hexdigest()

    def templates(self) -> Templates:
        """The templates of this configuration, built once per process (see :meth:`build`)."""
        key = self.templates_digest
        if key not in _TEMPLATES:
            from ganom.models.backgrounds import configuration_backgrounds

            comps: bool | list[Any] = False
            if self.background_scale > 0:
                comps = [replace(c, rate_per_day=c.rate_per_day * self.background_scale)
                         for c in configuration_backgrounds(self.detector, self.source, self.distance_m)]
            _TEMPLATES[key] = build_templates(self.detector, self.source, self.distance_m, self.days,
                                              backgrounds=comps, source_off_days=self.source_off_days,
                                              **dict(self.template_options))
        return _remember(_TEMPLATES, key, _TEMPLATES[key])

    def build(self) -> tuple[Templates, BinnedModel]:
        """Templates and model of this configuration, each built once per process (small LRU
        caches: a study asks for the same configuration from several steps, and analyses that
        differ only in their :class:`AnalysisConfig` share the templates). Treat both as
        read-only; change parameters through ``model.with_parameters``."""
        tpl = self.templates()
        key = self.digest
        if key not in _MODELS:
            _MODELS[key] = build_model(tpl, self.analysis)
        return tpl, _remember(_MODELS, key, _MODELS[key])


BUILD_CACHE_SIZE = 6
"""Built templates (and models) kept per process; a JUNO build holds ~0.1 GB of templates."""
_TEMPLATES: OrderedDict[str, Templates] = OrderedDict()
_MODELS: OrderedDict[str, BinnedModel] = OrderedDict()


def _remember(cache: OrderedDict[str, Any], key: str, value: Any) -> Any:
    cache.move_to_end(key)
    while len(cache) > BUILD_CACHE_SIZE:
        cache.popitem(last=False)
    return value


def build_configuration(detector: Detector | str, source: NeutrinoSource | str = "cr51",
                        distance_m: float | str = "centre", days: float = 30.0, background_scale: float = 1.0,
                        source_off_days: float = 0.0, config: AnalysisConfig | None = None,
                        **template_kw: Any) -> tuple[Templates, BinnedModel]:
    """Templates and model of one configuration: ``Configuration.resolve(...).build()``."""
    return Configuration.resolve(detector, source, distance_m, days, background_scale, source_off_days, config,
                                 **template_kw).build()


def configuration_record(templates: Templates, **extra: Any) -> dict[str, Any]:
    """The resolved configuration of built templates, for a result's provenance: the detector
    (name and file digest), the source and its activity [Bq], the distance [m], the run length
    [days] and every bin edge; ``extra`` adds command options (a grid, a number of toys)."""
    b = templates.binning
    return resolved_record(templates.detector, templates.source, templates.distance_m, float(b.time_edges_days[-1]),
                           b, **extra)


def resolved_record(detector: Detector, source: NeutrinoSource, distance_m: float, days: float, binning: Any,
                    **extra: Any) -> dict[str, Any]:
    """:func:`configuration_record` from its parts (a detector, a source, distance [m], days and
    an :class:`~ganom.models.templates.AnalysisBinning`), for commands that build no templates."""
    from ganom.fitter.io import detector_record

    return {"detector": detector_record(detector), "source": source.name, "isotope": source.isotope,
            "activity_bq": float(source.activity_bq), "distance_m": float(distance_m), "days": float(days),
            "binning": {a: [float(x) for x in binning.edges(a)] for a in binning.axes}, **extra}
