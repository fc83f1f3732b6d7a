"""Mono-energetic electron-capture neutrino sources (docs/physics.md §2).

A source is a set of neutrino lines (energy, intensity per decay, nuclear branch), a half-life,
an activity at t = 0 and the way that activity was measured. For ⁵¹Cr the branch B to the
320 keV level of ⁵¹V sets the share of the 427/432 keV lines; it also enters the activity
itself when the activity was inferred from the heat or the 320 keV γ rate:

* ``gamma``: A = N_γ / B, so every predicted rate scales as B₀/B;
* ``calorimetry``: A = P / Q_heat with Q_heat = B·E_γ + E_atomic (the heat per decay:
  the absorbed 320 keV γ in a fraction B of decays plus the atomic relaxation after the
  capture), so the rates scale as Q_heat(B₀)/Q_heat(B). This small dependence is kept
  (it is what makes a large B error a candidate explanation of the anomaly).
* ``fixed``: an activity known independently of B (e.g. a user's own number).

Energies in MeV, times in days, activities in Bq (strings like "3MCi" are accepted).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import ConfigError, PhysicsInputError, UnknownPresetError
from ganom.models._numerics import decay_integral
from ganom.models.constants import CURIE_BQ, SECONDS_PER_DAY

__all__ = [
    "ActivityMethod",
    "ACTIVITY_METHODS",
    "parse_activity",
    "NeutrinoLine",
    "GammaBranchMeasurement",
    "CR51_GAMMA_BRANCH_MEASUREMENTS",
    "combine_measurements",
    "NeutrinoSource",
    "CR51",
    "AR37",
    "SOURCES",
    "load_source",
]

ActivityMethod = Literal["calorimetry", "gamma", "fixed"]
ACTIVITY_METHODS: tuple[str, ...] = ("calorimetry", "gamma", "fixed")

_SI_PREFIX = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_BASE_UNIT = {"bq": 1.0, "ci": CURIE_BQ}
_ACTIVITY_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_activity(value: float | str, field_name: str = "activity") -> float:
    """An activity in Bq from a number (Bq) or a string with a unit ("3MCi", "62.5 PBq").

    The prefix M is mega for curies ("3 MCi" = 3e6 Ci) and m is milli ("5 mCi").

    >>> parse_activity("3MCi")
    1.11e+17
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        bq = float(value)
    elif isinstance(value, str):
        m = _ACTIVITY_RE.match(value)
        if not m:
            raise PhysicsInputError(field_name, value, "a number [Bq] or '<number><unit>' with unit Bq, kBq, ..., PBq, Ci, mCi, kCi, MCi")
        number, unit = float(m.group(1)), m.group(2) or "Bq"
        prefix, base = unit[:-2], unit[-2:].lower()
        if base not in _BASE_UNIT or prefix not in _SI_PREFIX:
            raise PhysicsInputError(field_name, value, "unit one of Bq, kBq, MBq, GBq, TBq, PBq, Ci, mCi, kCi, MCi")
        bq = number * _SI_PREFIX[prefix] * _BASE_UNIT[base]
    else:
        raise PhysicsInputError(field_name, value, "a number [Bq] or a string such as '3MCi'")
    if not (math.isfinite(bq) and bq > 0):
        raise PhysicsInputError(field_name, value, "an activity > 0 (e.g. '3MCi' or 1.11e17 [Bq])")
    return bq


@dataclass(frozen=True)
class NeutrinoLine:
    """One neutrino line: energy [MeV], neutrinos per decay at the nominal branching, branch."""

    energy_mev: float
    intensity: float
    branch: Literal["ground", "excited"]
    label: str

    @property
    def key_kev(self) -> str:
        """The line's energy in keV as a stable record key, e.g. ``"746.7"``."""
        return f"{self.energy_mev * 1e3:.1f}"


@dataclass(frozen=True)
class GammaBranchMeasurement:
    value: float
    error: float
    method: str
    reference: str


# Measurements of the ⁵¹Cr 320 keV γ emission probability (as compiled by
# Barinov et al., PRC 105 (2022) 065502, Table III; docs/physics.md §2).
CR51_GAMMA_BRANCH_MEASUREMENTS: tuple[GammaBranchMeasurement, ...] = (
    GammaBranchMeasurement(0.1030, 0.0019, "Ge(Li)", "Fisher & Hershberger, NPA 423 (1984) 121"),
    GammaBranchMeasurement(0.0990, 0.0008, "NaI", "Konstantinov et al., NIM A 339 (1994) 200"),
    GammaBranchMeasurement(0.1008, 0.0011, "HPGe", "Konstantinov et al., NIM A 339 (1994) 200"),
    GammaBranchMeasurement(0.0990, 0.0010, "HPGe β–γ coincidence", "Yalcin & Kurucu, Appl. Radiat. Isot. 62 (2005) 63"),
    GammaBranchMeasurement(0.0987, 0.0003, "Si(Li), fixed activity", "Moreira et al., Appl. Radiat. Isot. 68 (2010) 596"),
)


def combine_measurements(values: ArrayLike, errors: ArrayLike) -> tuple[float, float, float]:
    """Weighted mean, its error scaled by the PDG factor S = √(χ²/(N−1)) when S > 1, and S.

    PDG, "Introduction", §5.2.2 (unconstrained averaging).
    """
    v, e = np.asarray(values, dtype=float), np.asarray(errors, dtype=float)
    w = 1.0 / e**2
    mean = float(np.sum(w * v) / np.sum(w))
    err = float(1.0 / np.sqrt(np.sum(w)))
    chi2 = float(np.sum(w * (v - mean) ** 2))
    scale = math.sqrt(chi2 / (v.size - 1)) if v.size > 1 else 1.0
    return mean, err * max(scale, 1.0), scale


@dataclass(frozen=True)
class NeutrinoSource:
    """An electron-capture neutrino source.

    Attributes
    ----------
    name : preset or user name ("cr51").
    lines : neutrino lines at the nominal excited-branch fraction ``gamma_branch``.
    half_life_days : T½ [days].
    activity_bq : activity at t = 0 [Bq].
    activity_rel_uncertainty : relative 1σ uncertainty of the activity.
    activity_method : "calorimetry", "gamma" or "fixed" (module docstring).
    gamma_branch : B, the fraction of decays through the excited nuclear level (0 if none).
    gamma_branch_uncertainty : 1σ on B.
    gamma_energy_mev : energy of the γ from that level [MeV].
    atomic_heat_mev : mean heat per decay from the atomic relaxation [MeV] (calorimetry).
    assembly_radius_m : outer radius of the source assembly (capsule and shield) [m]: no
        target within this distance of the source when it is deployed inside a detector
        (docs/physics.md §5).
    shield_thickness_m : tungsten between the capsule and the scintillator [m], the outer
        part of ``assembly_radius_m``: it sets the photons (the γ line, the internal
        bremsstrahlung) that reach the scintillator (:mod:`ganom.models.shielding`).
    """

    name: str
    isotope: str
    lines: tuple[NeutrinoLine, ...]
    half_life_days: float
    activity_bq: float
    activity_rel_uncertainty: float
    activity_method: ActivityMethod = "fixed"
    gamma_branch: float = 0.0
    gamma_branch_uncertainty: float = 0.0
    gamma_energy_mev: float = 0.0
    atomic_heat_mev: float = 0.0
    assembly_radius_m: float = 0.0
    shield_thickness_m: float = 0.0
    references: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        ctx = f"source '{self.name}'"
        if not (math.isfinite(self.activity_bq) and self.activity_bq > 0):
            raise PhysicsInputError("activity_bq", self.activity_bq, "> 0 Bq", ctx)
        if not (math.isfinite(self.half_life_days) and self.half_life_days > 0):
            raise PhysicsInputError("half_life_days", self.half_life_days, "> 0 days", ctx)
        if not (0 <= self.activity_rel_uncertainty < 1):
            raise PhysicsInputError("activity_rel_uncertainty", self.activity_rel_uncertainty, "0 ≤ σ_A/A < 1", ctx)
        if self.activity_method not in ACTIVITY_METHODS:
            raise PhysicsInputError("activity_method", self.activity_method, " | ".join(ACTIVITY_METHODS), ctx)
        if not (0 <= self.gamma_branch < 1):
            raise PhysicsInputError("gamma_branch", self.gamma_branch, "0 ≤ B < 1", ctx)
        if not (math.isfinite(self.assembly_radius_m) and 0 <= self.assembly_radius_m <= 2.0):
            raise PhysicsInputError("assembly_radius_m", self.assembly_radius_m, "0 ≤ r ≤ 2 m", ctx)
        if not (math.isfinite(self.shield_thickness_m) and 0 <= self.shield_thickness_m <= self.assembly_radius_m):
            raise PhysicsInputError("shield_thickness_m", self.shield_thickness_m,
                                    f"0 ≤ t ≤ assembly_radius_m = {self.assembly_radius_m:g} m", ctx)
        if self.gamma_branch_uncertainty < 0:
            raise PhysicsInputError("gamma_branch_uncertainty", self.gamma_branch_uncertainty, "≥ 0", ctx)
        if not self.lines:
            raise PhysicsInputError("lines", self.lines, "at least one neutrino line", ctx)
        for ln in self.lines:
            if not (ln.energy_mev > 0 and ln.intensity > 0):
                raise PhysicsInputError("lines", ln, "energy_mev > 0 and intensity > 0", ctx)
        if self.activity_method == "gamma" and self.gamma_branch <= 0:
            raise PhysicsInputError("activity_method", "gamma", "'gamma' needs a source with a γ branch (B > 0)", ctx)
        excited = sum(ln.intensity for ln in self.lines if ln.branch == "excited")
        if self.gamma_branch > 0 and not math.isclose(excited, self.gamma_branch, rel_tol=1e-6):
            raise PhysicsInputError("gamma_branch", self.gamma_branch, f"equal to the summed intensity of the excited-branch lines ({excited:.6g})", ctx)

    @property
    def isotope_label(self) -> str:
        """The isotope as typeset in text and figures, mass number as a superscript.

        >>> load_source("cr51").isotope_label
        '⁵¹Cr'
        """
        digits = len(self.isotope) - len(self.isotope.lstrip("0123456789"))
        return self.isotope[:digits].translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + self.isotope[digits:]

    @property
    def activity_mci(self) -> float:
        """A₀ in MCi (1 Ci = 3.7e10 Bq)."""
        return self.activity_bq / (1e6 * CURIE_BQ)

    # -- time dependence --------------------------------------------------------
    @property
    def mean_life_days(self) -> float:
        """τ = T½ / ln 2 [days]."""
        return self.half_life_days / math.log(2.0)

    def activity(self, t_days: ArrayLike) -> NDArray[np.float64]:
        """A(t) = A₀ e^{−t/τ} [Bq]."""
        return self.activity_bq * np.exp(-np.asarray(t_days, dtype=float) / self.mean_life_days)

    def decay_fraction(self, t1_days: ArrayLike, t2_days: ArrayLike) -> NDArray[np.float64]:
        """∫_{t1}^{t2} e^{−t/τ} dt [days]: the run exposure in 'days at the t = 0 activity'."""
        return decay_integral(self.mean_life_days, t1_days, t2_days)

    def decays_between(self, t1_days: ArrayLike, t2_days: ArrayLike) -> NDArray[np.float64]:
        """Number of decays in [t1, t2] [days]."""
        return self.activity_bq * SECONDS_PER_DAY * self.decay_fraction(t1_days, t2_days)

    # -- branching ratio --------------------------------------------------------
    @property
    def energies_mev(self) -> NDArray[np.float64]:
        return np.array([ln.energy_mev for ln in self.lines])

    @property
    def intensities(self) -> NDArray[np.float64]:
        return np.array([ln.intensity for ln in self.lines])

    def branch_mask(self, branch: str) -> NDArray[np.bool_]:
        return np.array([ln.branch == branch for ln in self.lines])

    def line_intensities(self, gamma_branch: float | None = None) -> NDArray[np.float64]:
        """Neutrinos per decay of every line when the excited-branch fraction is B."""
        b0 = self.gamma_branch
        if gamma_branch is None or b0 == 0:
            return self.intensities
        if not (0 <= gamma_branch < 1):
            raise PhysicsInputError("gamma_branch", gamma_branch, "0 ≤ B < 1", f"source '{self.name}'")
        scale = np.where(self.branch_mask("excited"), gamma_branch / b0, (1 - gamma_branch) / (1 - b0))
        return self.intensities * scale

    def activity_scale(self, gamma_branch: float) -> float:
        """A(B)/A(B₀): how the inferred activity moves when the true B differs from B₀."""
        b0 = self.gamma_branch
        if self.activity_method == "gamma":
            return b0 / gamma_branch
        if self.activity_method == "calorimetry" and self.gamma_energy_mev > 0:
            q0 = b0 * self.gamma_energy_mev + self.atomic_heat_mev
            return q0 / (gamma_branch * self.gamma_energy_mev + self.atomic_heat_mev)
        return 1.0

    def branch_rate_scale(self, gamma_branch: float) -> dict[str, float]:
        """Rate multipliers of the ground and excited line groups for a true B.

        Combines the line share and :meth:`activity_scale`; equals 1 at B = B₀.
        """
        b0 = self.gamma_branch
        a = self.activity_scale(gamma_branch)
        if b0 == 0:
            return {"ground": a, "excited": a}
        return {"ground": a * (1 - gamma_branch) / (1 - b0), "excited": a * gamma_branch / b0}

    def with_activity(self, activity: float | str) -> NeutrinoSource:
        """A copy with another activity at t = 0 (Bq or a string such as '3MCi')."""
        return replace(self, activity_bq=parse_activity(activity))

    @property
    def capsule_radius_m(self) -> float:
        """Outer radius of the source material and its capsule, inside the shield [m]."""
        return self.assembly_radius_m - self.shield_thickness_m

    def with_assembly_radius(self, radius_m: float) -> NeutrinoSource:
        """A copy whose assembly reaches ``radius_m`` from the source [m]: the capsule stays,
        the shield takes the rest (none when ``radius_m`` is within the capsule)."""
        r = float(radius_m)
        return replace(self, assembly_radius_m=r, shield_thickness_m=max(0.0, r - self.capsule_radius_m))

    def with_shield_thickness(self, thickness_m: float) -> NeutrinoSource:
        """A copy with ``thickness_m`` of tungsten around the same capsule [m]."""
        t = float(thickness_m)
        return replace(self, assembly_radius_m=self.capsule_radius_m + t, shield_thickness_m=t)


# ---------------------------------------------------------------------------
# Presets.
# ⁵¹Cr: T½ = 27.704(3) d, ENSDF (NDS 107 (2006) 2715, Wang et al.). Line intensities from
# Bahcall, PRC 56 (1997) 3391, as used by the gallium analyses; B = 0.0895 + 0.0093.
# ⁵¹V K-shell binding 5.465 keV (Deslattes et al., RMP 75 (2003) 35); atomic heat per
# capture ≈ P_K·E_K + (1 − P_K)·E_L ≈ 0.906·5.465 + 0.094·0.63 keV = 5.01 keV.
# Default activity: 3 MCi (BEST-like, docs/physics.md §2), calorimetric ±0.23% as BEST.
_CR51_LINES = (
    NeutrinoLine(0.7467, 0.8163, "ground", "K"),
    NeutrinoLine(0.7518, 0.0849, "ground", "L+"),
    NeutrinoLine(0.4266, 0.0895, "excited", "K"),
    NeutrinoLine(0.4317, 0.0093, "excited", "L+"),
)
# Source assembly (capsule + γ shield): an assumption — no published design of a ⁵¹Cr source
# for a scintillator detector was found. The BEST ⁵¹Cr target was a stack of 4 mm Cr disks of
# 84/88 mm diameter (Danshin et al., J. Phys. Conf. Ser. 1390 (2019) 012100): 4.4 cm core
# radius; + ~1 cm steel capsule (assumption) = 5.5 cm. Shield: 18 cm of tungsten (assumption).
# The 320 keV γ line alone would need ~9 cm, but the internal bremsstrahlung of the capture
# (up to 0.75 MeV, 4·10⁻⁴ photons per decay) does not: through 9 cm of W, 3·10⁹ photons per
# day reach the scintillator from 3 MCi; through 18 cm, ~150 per day (ganom.models.shielding,
# uncollided), a few % of the central signal of JNE 500 t. docs/physics.md §5.3 shows how
# rates and significances move with the thickness.
CR51_CAPSULE_RADIUS_M = 0.055
CR51_SHIELD_THICKNESS_M = 0.18
CR51_ASSEMBLY_RADIUS_M = CR51_CAPSULE_RADIUS_M + CR51_SHIELD_THICKNESS_M
_CR51_B_MEAN, _CR51_B_ERR, _ = combine_measurements(
    [m.value for m in CR51_GAMMA_BRANCH_MEASUREMENTS], [m.error for m in CR51_GAMMA_BRANCH_MEASUREMENTS]
)

CR51 = NeutrinoSource(
    name="cr51",
    isotope="51Cr",
    lines=_CR51_LINES,
    half_life_days=27.704,
    activity_bq=3e6 * CURIE_BQ,
    activity_rel_uncertainty=0.0023,
    activity_method="calorimetry",
    gamma_branch=0.0988,
    # Spread of the five measurements above: weighted mean 0.0990 with PDG-scaled error.
    gamma_branch_uncertainty=round(_CR51_B_ERR, 5),
    gamma_energy_mev=0.32008,
    atomic_heat_mev=0.00501,
    assembly_radius_m=CR51_ASSEMBLY_RADIUS_M,
    shield_thickness_m=CR51_SHIELD_THICKNESS_M,
    references={
        "half_life": "ENSDF, Nucl. Data Sheets 107 (2006) 2715",
        "lines": "Bahcall, PRC 56 (1997) 3391",
        "gamma_branch": "Barinov et al., PRC 105 (2022) 065502 (compilation)",
        "activity_uncertainty": "BEST calorimetry, Barinov et al., PRL 128 (2022) 232501",
        "assembly_radius": "assumption (see CR51_ASSEMBLY_RADIUS_M)",
        "shield_thickness": "assumption (see CR51_SHIELD_THICKNESS_M)",
    },
)

# ³⁷Ar: T½ = 35.011(19) d (ENSDF, NDS 107 (2006) 1); EC to the ³⁷Cl ground state only.
# Lines 811/813 keV with 90.2/9.8 % (K / L+ capture), Bahcall PRC 56 (1997) 3391.
# Default activity: SAGE-Ar, 409 ± 2 kCi (Abdurashitov et al., PRC 73 (2006) 045805).
AR37 = NeutrinoSource(
    name="ar37",
    isotope="37Ar",
    lines=(NeutrinoLine(0.8110, 0.902, "ground", "K"), NeutrinoLine(0.8130, 0.098, "ground", "L+")),
    half_life_days=35.011,
    activity_bq=409e3 * CURIE_BQ,
    activity_rel_uncertainty=2.0 / 409.0,
    activity_method="fixed",
    # assumption: a gas-filled capsule of ~5 cm outer radius; no γ line, but the internal
    # bremsstrahlung (up to 0.81 MeV, 5·10⁻⁴ photons per decay) needs the same tungsten as ⁵¹Cr
    assembly_radius_m=0.05 + CR51_SHIELD_THICKNESS_M,
    shield_thickness_m=CR51_SHIELD_THICKNESS_M,
    references={
        "assembly_radius": "assumption (a ~5 cm capsule in the ⁵¹Cr shield)",
        "half_life": "ENSDF, Nucl. Data Sheets 107 (2006) 1",
        "lines": "Bahcall, PRC 56 (1997) 3391",
        "activity": "SAGE, PRC 73 (2006) 045805",
    },
)

SOURCES: dict[str, NeutrinoSource] = {"cr51": CR51, "ar37": AR37}


def load_source(spec: str | Path | NeutrinoSource) -> NeutrinoSource:
    """A source from a preset name (``cr51``, ``ar37``), a TOML file, or a source object."""
    if isinstance(spec, NeutrinoSource):
        return spec
    key = str(spec).lower()
    if key in SOURCES:
        return SOURCES[key]
    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        return _source_from_toml(path)
    raise UnknownPresetError("source", str(spec), sorted(SOURCES))


_SOURCE_KEYS = {"preset", "name", "isotope", "lines", "activity", "half_life_days", "activity_rel_uncertainty",
                "gamma_branch", "gamma_branch_uncertainty", "gamma_energy_mev", "atomic_heat_mev", "assembly_radius_m",
                "shield_thickness_m", "activity_method"}


def _source_from_toml(path: Path) -> NeutrinoSource:
    from ganom.models._toml import read_toml, require

    data = read_toml(path)
    fname = str(path)
    if set(data) - {"source"}:
        raise ConfigError(fname, sorted(set(data) - {"source"})[0], "unknown table or key (it would be ignored); a "
                                                                    "source file has one table, [source]")
    src = require(data, "source", dict, fname)
    unknown = sorted(set(src) - _SOURCE_KEYS)
    if unknown:
        raise ConfigError(fname, f"source.{unknown[0]}", "unknown key (it would be ignored); allowed: "
                                                         + ", ".join(sorted(_SOURCE_KEYS)))
    for key in ("preset", "name", "isotope", "activity_method"):
        if key in src and not isinstance(src[key], str):
            raise ConfigError(fname, f"source.{key}", f"got {src[key]!r}; expected a string")
    base_name = src.get("preset")
    base = SOURCES.get(str(base_name).lower()) if base_name is not None else None
    if base_name is not None and base is None:
        raise ConfigError(fname, "source.preset", f"unknown preset '{base_name}'; known: {', '.join(SOURCES)}")
    kw: dict = {}
    if "lines" in src:
        lines = []
        for i, entry in enumerate(require(src, "lines", list, fname, "source")):
            if not isinstance(entry, dict):
                raise ConfigError(fname, f"source.lines[{i}]", f"got {entry!r}; expected a table "
                                                               f"{{energy_mev, intensity, branch, label}}")
            extra = sorted(set(entry) - {"energy_mev", "intensity", "branch", "label"})
            if extra:
                raise ConfigError(fname, f"source.lines[{i}].{extra[0]}", "unknown key; allowed: energy_mev, "
                                                                          "intensity, branch, label")
            if entry.get("branch", "ground") not in ("ground", "excited"):
                raise ConfigError(fname, f"source.lines[{i}].branch", f"got {entry['branch']!r}; allowed: ground | excited")
            if any(isinstance(entry.get(k), bool) for k in ("energy_mev", "intensity")):
                raise ConfigError(fname, f"source.lines[{i}]", "energy_mev and intensity are numbers, not booleans")
            try:
                lines.append(NeutrinoLine(float(entry["energy_mev"]), float(entry["intensity"]),
                                          entry.get("branch", "ground"), entry.get("label", "")))
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(fname, f"source.lines[{i}]", "needs energy_mev and intensity numbers") from exc
        kw["lines"] = tuple(lines)
    if "activity" in src:
        try:
            kw["activity_bq"] = parse_activity(src["activity"], "source.activity")
        except PhysicsInputError as exc:
            raise ConfigError(fname, "source.activity", str(exc)) from exc
    for key in ("half_life_days", "activity_rel_uncertainty", "gamma_branch", "gamma_branch_uncertainty",
                "gamma_energy_mev", "atomic_heat_mev", "assembly_radius_m", "shield_thickness_m"):
        if key in src:
            kw[key] = require(src, key, (int, float), fname, "source")
    for key in ("activity_method", "isotope"):
        if key in src:
            kw[key] = str(src[key])
    kw["name"] = str(src.get("name", path.stem))
    try:
        if base is not None:
            return replace(base, **kw)
        missing = [k for k in ("lines", "half_life_days", "activity_bq") if k not in kw]
        if missing:
            raise ConfigError(fname, f"source.{missing[0]}", "missing (or set source.preset = 'cr51' to start from a preset)")
        kw.setdefault("isotope", kw["name"])
        kw.setdefault("activity_rel_uncertainty", 0.0)
        return NeutrinoSource(**kw)
    except PhysicsInputError as exc:
        raise ConfigError(fname, f"source.{exc.field}", str(exc)) from exc
