"""Detectors: geometry, target material, resolutions, threshold, source positions.

Presets live in ``models/catalog/*.toml`` (``juno``, ``jne-500t``, ``jne-1t``, ``borexino``);
every number there carries a comment with its source or the word "assumption". Anywhere a
preset name is accepted, the path of a user's TOML file of the same form works too
(``ganom detectors --template`` prints a commented example).

Resolutions (E in MeV of visible electron energy):
    σ_E(E) = E · [a/√E ⊕ b] = √(a² E + b² E²)       [MeV]
    σ_vertex(E) = σ₁ / √E                              [m], σ₁ at 1 MeV
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import ConfigError, PhysicsInputError, UnknownPresetError
from ganom.models._toml import check_range, optional, read_toml, require
from ganom.models.constants import ATOMIC_NUMBER, ATOMIC_WEIGHT, AVOGADRO
from ganom.models.geometry import SphereGeometry

__all__ = [
    "parse_formula",
    "mass_fraction",
    "electrons_per_kg",
    "Detector",
    "preset_names",
    "DEFAULT_DETECTOR",
    "load_detector",
    "detector_from_toml",
]

_FORMULA_RE = re.compile(r"([A-Z][a-z]?)(\d*\.?\d*)")


def parse_formula(formula: str) -> dict[str, float]:
    """Atom counts of a chemical formula such as ``"C18H30"`` or ``"C9H12"``."""
    pos, counts = 0, {}
    for m in _FORMULA_RE.finditer(formula):
        if m.start() != pos:
            break
        el, n = m.group(1), m.group(2)
        if el not in ATOMIC_WEIGHT:
            raise PhysicsInputError("formula", formula, f"elements among {', '.join(ATOMIC_WEIGHT)}")
        counts[el] = counts.get(el, 0.0) + (float(n) if n else 1.0)
        pos = m.end()
    if pos != len(formula) or not counts:
        raise PhysicsInputError("formula", formula, "a chemical formula such as 'C18H30'")
    return counts


def _mixture(composition: str | dict[str, float]) -> dict[str, float]:
    mix = {composition: 1.0} if isinstance(composition, str) else dict(composition)
    total = sum(mix.values())
    if not mix or total <= 0 or any(w < 0 for w in mix.values()):
        raise PhysicsInputError("composition", composition, "positive mass fractions")
    return {k: v / total for k, v in mix.items()}


def mass_fraction(composition: str | dict[str, float], element: str) -> float:
    """Mass fraction of ``element`` in a compound or mixture (e.g. carbon in LAB: 0.877)."""
    out = 0.0
    for formula, weight in _mixture(composition).items():
        atoms = parse_formula(formula)
        a = sum(ATOMIC_WEIGHT[el] * n for el, n in atoms.items())
        out += weight * ATOMIC_WEIGHT.get(element, 0.0) * atoms.get(element, 0.0) / a
    return out


def electrons_per_kg(composition: str | dict[str, float]) -> float:
    """Electrons per kg of a compound (formula) or a mixture {formula: mass fraction}.

    >>> round(electrons_per_kg("C9H12") * 1e5 / 1e31, 3)  # pseudocumene: 3.307e31 per 100 t
    3.307
    """
    z_over_a = 0.0
    for formula, weight in _mixture(composition).items():
        atoms = parse_formula(formula)
        z = sum(ATOMIC_NUMBER[el] * n for el, n in atoms.items())
        a = sum(ATOMIC_WEIGHT[el] * n for el, n in atoms.items())
        z_over_a += weight * z / a
    return z_over_a * AVOGADRO * 1e3


@dataclass(frozen=True)
class Detector:
    """A spherical liquid-scintillator detector and its response.

    Attributes
    ----------
    name, label : key ("jne-500t") and display name ("JNE 500 t").
    radius_m : radius of the active target [m].
    fiducial_radius_m : fiducial cut on the (reconstructed) vertex radius [m].
    density_g_cm3 : target density [g/cm³].
    electrons_per_kg : target electrons per kg.
    energy_stochastic, energy_constant : a and b of σ_E/E = a/√E ⊕ b (E in MeV).
    vertex_sigma_1mev_m : vertex resolution at 1 MeV [m], scaling as 1/√E.
    threshold_mev : analysis threshold on the recoil kinetic energy [MeV].
    source_positions_m : named distances of the source from the detector centre [m].
    angular_resolution_deg : resolution on the electron direction (None: no directionality);
        with ``angular_reference_mev``, the resolution at that recoil energy.
    refractive_index : of the target, for the Cherenkov threshold of the direction (None: no
        threshold, the energy-independent model of :func:`ganom.models.direction.angular_sigma_deg`).
    angular_reference_mev : recoil energy [MeV] at which ``angular_resolution_deg`` holds; σ_θ
        then scales with the Cherenkov yield (None: the same σ_θ at every energy above the
        threshold). An analysis choice: :meth:`with_cherenkov_direction` sets it.
    cherenkov_resolution_deg, cherenkov_reference_mev : the detector's directional capability,
        σ_θ at a recoil energy as its collaboration quotes it (None: not known); it makes no
        analysis directional by itself.
    backgrounds : the preset's background table (read by :mod:`ganom.models.backgrounds`).
    """

    name: str
    label: str
    radius_m: float
    fiducial_radius_m: float
    density_g_cm3: float
    electrons_per_kg: float
    energy_stochastic: float
    energy_constant: float
    vertex_sigma_1mev_m: float
    threshold_mev: float
    source_positions_m: dict[str, float]
    material: str = ""
    site: str = ""
    description: str = ""
    overburden_mwe: float | None = None
    fiducial_uncertainty: float = 0.01
    energy_scale_uncertainty: float = 0.005
    angular_resolution_deg: float | None = None
    refractive_index: float | None = None
    angular_reference_mev: float | None = None
    cherenkov_resolution_deg: float | None = None
    cherenkov_reference_mev: float | None = None
    carbon_mass_fraction: float = 0.0
    backgrounds: dict[str, Any] = field(default_factory=dict, compare=False)
    analysis: dict[str, Any] = field(default_factory=dict, compare=False)
    source_file: str = ""

    def __post_init__(self) -> None:
        ctx = f"detector '{self.name}'"
        for fname, lo in (("radius_m", 0.0), ("fiducial_radius_m", 0.0), ("density_g_cm3", 0.0),
                          ("electrons_per_kg", 0.0)):
            v = getattr(self, fname)
            if not (math.isfinite(v) and v > lo):
                raise PhysicsInputError(fname, v, "> 0", ctx)
        if self.fiducial_radius_m > self.radius_m:
            raise PhysicsInputError("fiducial_radius_m", self.fiducial_radius_m,
                                    f"0 < fiducial radius ≤ radius_m = {self.radius_m} m", ctx)
        for fname in ("energy_stochastic", "energy_constant", "vertex_sigma_1mev_m", "threshold_mev",
                      "fiducial_uncertainty", "energy_scale_uncertainty"):
            v = getattr(self, fname)
            if not (math.isfinite(v) and v >= 0):
                raise PhysicsInputError(fname, v, "≥ 0", ctx)
        for key, d in self.source_positions_m.items():
            if not (math.isfinite(d) and d >= 0):
                raise PhysicsInputError(f"source_positions.{key}", d, "a distance ≥ 0 m", ctx)
        if self.overburden_mwe is not None and not (math.isfinite(self.overburden_mwe) and self.overburden_mwe >= 0):
            raise PhysicsInputError("overburden_mwe", self.overburden_mwe, "≥ 0 m water equivalent", ctx)
        if self.angular_resolution_deg is not None and not (0 <= self.angular_resolution_deg <= 180):
            raise PhysicsInputError("angular_resolution_deg", self.angular_resolution_deg, "0–180 degrees", ctx)
        if self.refractive_index is not None and not (math.isfinite(self.refractive_index) and 1 < self.refractive_index <= 3):
            raise PhysicsInputError("refractive_index", self.refractive_index, "1 < n ≤ 3", ctx)
        if (self.cherenkov_resolution_deg is None) != (self.cherenkov_reference_mev is None):
            raise PhysicsInputError("cherenkov_resolution_deg", self.cherenkov_resolution_deg,
                                    "given together with cherenkov_reference_mev", ctx)
        if self.cherenkov_resolution_deg is not None and not (0 < self.cherenkov_resolution_deg <= 180):
            raise PhysicsInputError("cherenkov_resolution_deg", self.cherenkov_resolution_deg, "0 < σ_θ ≤ 180 degrees", ctx)
        for fname in ("angular_reference_mev", "cherenkov_reference_mev"):
            t_ref = getattr(self, fname)
            if t_ref is None:
                continue
            if self.refractive_index is None:
                raise PhysicsInputError(fname, t_ref, "set together with refractive_index (the Cherenkov threshold)", ctx)
            from ganom.models.direction import cherenkov_threshold_mev

            t_c = cherenkov_threshold_mev(self.refractive_index)
            if not (math.isfinite(t_ref) and t_c < t_ref <= 20):
                raise PhysicsInputError(fname, t_ref, f"{t_c:.3g} MeV (the Cherenkov threshold) < T ≤ 20 MeV", ctx)

    def with_cherenkov_direction(self) -> Detector:
        """This detector analysed with its quoted directional capability: σ_θ(T) scaled from
        ``cherenkov_resolution_deg`` at ``cherenkov_reference_mev``, no direction below the
        Cherenkov threshold."""
        if self.cherenkov_resolution_deg is None:
            raise PhysicsInputError("cherenkov_resolution_deg", None,
                                    f"a quoted σ_θ for detector '{self.name}' ([response] cherenkov_resolution_deg "
                                    "and cherenkov_reference_mev)")
        return replace(self, angular_resolution_deg=self.cherenkov_resolution_deg,
                       angular_reference_mev=self.cherenkov_reference_mev)

    def angular_sigma_deg(self, t_mev: ArrayLike) -> NDArray[np.float64]:
        """σ_θ [degrees] at recoil energies ``t_mev`` (∞: no direction, e.g. below the
        Cherenkov threshold): :func:`ganom.models.direction.angular_sigma_deg`."""
        from ganom.models.direction import angular_sigma_deg

        if self.angular_resolution_deg is None:
            raise PhysicsInputError("angular_resolution_deg", None, "a resolution in degrees (a directional analysis)")
        return angular_sigma_deg(t_mev, self.angular_resolution_deg, self.refractive_index, self.angular_reference_mev)

    # -- target -------------------------------------------------------------------
    @property
    def electron_density_m3(self) -> float:
        """Electrons per m³ of target."""
        return self.density_g_cm3 * 1e3 * self.electrons_per_kg

    @property
    def fiducial_mass_t(self) -> float:
        return self.density_g_cm3 * 1e3 * 4.0 / 3.0 * math.pi * self.fiducial_radius_m**3 / 1e3

    @property
    def fiducial_electrons(self) -> float:
        return self.electron_density_m3 * 4.0 / 3.0 * math.pi * self.fiducial_radius_m**3

    def fiducial_geometry(self, distance_m: float, exclusion_radius_m: float = 0.0) -> SphereGeometry:
        """The fiducial sphere seen from a source at ``distance_m``, without the
        ``exclusion_radius_m`` around it that the source assembly occupies [m]."""
        return SphereGeometry(self.fiducial_radius_m, distance_m, exclusion_radius_m)

    def target_geometry(self, distance_m: float, exclusion_radius_m: float = 0.0) -> SphereGeometry:
        """The whole target seen from a source at ``distance_m`` (see :meth:`fiducial_geometry`)."""
        return SphereGeometry(self.radius_m, distance_m, exclusion_radius_m)

    def source_distance(self, position: str | float) -> float:
        """A named source position ("centre", "outside", ...) or a distance [m]."""
        if isinstance(position, str):
            if position in self.source_positions_m:
                return self.source_positions_m[position]
            try:
                position = float(position)
            except ValueError:
                raise PhysicsInputError("source position", position,
                                        f"a distance ≥ 0 m or one of {', '.join(self.source_positions_m)}",
                                        f"detector '{self.name}'") from None
        if not (math.isfinite(position) and position >= 0):
            raise PhysicsInputError("distance_m", position, "a distance ≥ 0 m from the detector centre",
                                    f"detector '{self.name}'")
        return float(position) + 0.0  # -0.0 → 0.0

    # -- response -------------------------------------------------------------------
    def energy_sigma_mev(self, e_mev: ArrayLike) -> NDArray[np.float64]:
        """σ_E [MeV] at visible energy E [MeV]."""
        e = np.clip(np.asarray(e_mev, dtype=float), 0.0, None)
        return np.sqrt(self.energy_stochastic**2 * e + (self.energy_constant * e) ** 2)

    def vertex_sigma_m(self, e_mev: ArrayLike) -> NDArray[np.float64]:
        """Vertex resolution per coordinate [m] at visible energy E [MeV] (σ₁/√E)."""
        e = np.clip(np.asarray(e_mev, dtype=float), 1e-3, None)
        return self.vertex_sigma_1mev_m / np.sqrt(e)

    def summary(self) -> dict[str, Any]:
        """Key numbers of the preset as a JSON-ready record."""
        return {
            "detector": self.name,
            "label": self.label,
            "material": self.material,
            "radius_m": self.radius_m,
            "fiducial_radius_m": self.fiducial_radius_m,
            "fiducial_mass_t": self.fiducial_mass_t,
            "electrons_per_m3": self.electron_density_m3,
            "fiducial_electrons": self.fiducial_electrons,
            "energy_resolution_1mev": float(self.energy_sigma_mev(1.0)),
            "vertex_resolution_1mev_m": self.vertex_sigma_1mev_m,
            "threshold_mev": self.threshold_mev,
            "source_positions_m": dict(self.source_positions_m),
            "angular_resolution_deg": self.angular_resolution_deg,
            "refractive_index": self.refractive_index,
            "cherenkov_resolution_deg": self.cherenkov_resolution_deg,
            "cherenkov_reference_mev": self.cherenkov_reference_mev,
            "overburden_mwe": self.overburden_mwe,
        }


# ---------------------------------------------------------------------------------
# Presets and TOML loading

def preset_names() -> list[str]:
    """Names of the bundled detector presets ("jne-500t" for catalog/jne_500t.toml)."""
    files = resources.files("ganom.models.catalog")
    return sorted(p.name[:-5].replace("_", "-") for p in files.iterdir() if p.name.endswith(".toml"))


DEFAULT_DETECTOR = "jne-500t"


def load_detector(spec: str | Path | Detector) -> Detector:
    """A detector from a preset name, the path of a TOML file, or a Detector (returned as is)."""
    if isinstance(spec, Detector):
        return spec
    text = str(spec)
    key = text.lower().replace("_", "-")
    if key in preset_names():
        res = resources.files("ganom.models.catalog").joinpath(key.replace("-", "_") + ".toml")
        with resources.as_file(res) as path:
            return detector_from_toml(path, name=key)
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        return detector_from_toml(path)
    raise UnknownPresetError("detector", text, preset_names())


_TOML_KEYS = {
    "detector": {"name", "label", "site", "description", "overburden_mwe"},
    "target": {"material", "formula", "composition", "electrons_per_kg", "carbon_mass_fraction", "radius_m",
               "fiducial_radius_m", "density_g_cm3"},
    "response": {"energy_stochastic", "energy_constant", "vertex_sigma_1mev_m", "threshold_mev",
                 "angular_resolution_deg", "refractive_index", "cherenkov_resolution_deg", "cherenkov_reference_mev",
                 "fiducial_uncertainty", "energy_scale_uncertainty"},
}


_TOML_TABLES = ("detector", "target", "response", "source_positions", "backgrounds", "analysis")
# [analysis]: (type, low, high) of each binning override (templates.default_binning)
_ANALYSIS_KEYS = {"energy_bin_mev": (float, 1e-4, 1.0), "energy_max_mev": (float, 0.01, 20.0),
                  "sideband_bin_mev": (float, 1e-4, 5.0),
                  "baseline_bins": (int, 1, 200), "baseline_bin_sigma": (float, 0.1, 20.0),
                  "max_baseline_bins": (int, 3, 200), "time_bins": (int, 1, 1000), "cos_bins": (int, 0, 200)}
MAX_RADIUS_M = 100.0
"""Largest target radius accepted [m]: an assumption well above every liquid-scintillator or water
detector built or planned (JUNO 17.7 m, Hyper-Kamiokande ≈ 35 m); a larger value is a typo."""


def _check_analysis(table: dict[str, Any], f: str) -> dict[str, Any]:
    for k, v in table.items():
        if k not in _ANALYSIS_KEYS:
            raise ConfigError(f, f"analysis.{k}", "unknown key (it would be ignored); allowed in [analysis]: "
                                                  + ", ".join(sorted(_ANALYSIS_KEYS)))
        kind, lo, hi = _ANALYSIS_KEYS[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind is int and not float(v).is_integer()):
            raise ConfigError(f, f"analysis.{k}", f"got {v!r}; expected {'an integer' if kind is int else 'a number'}")
        check_range(float(v), lo, hi, f, f"analysis.{k}")
    return table


def detector_from_toml(path: str | Path, name: str | None = None) -> Detector:
    """Build a :class:`Detector` from a TOML file (the catalog's format)."""
    path = Path(path)
    return detector_from_dict(read_toml(path), str(path), name)


def detector_from_dict(data: dict[str, Any], f: str = "<detector>", name: str | None = None) -> Detector:
    """Build a :class:`Detector` from the parsed content of a detector TOML (``f`` names it in errors)."""
    path = Path(f)
    unknown_tables = sorted(set(data) - set(_TOML_TABLES))
    if unknown_tables:
        raise ConfigError(f, unknown_tables[0], "unknown table or key (it would be ignored); allowed at the top "
                                                "level: " + ", ".join(f"[{t}]" for t in _TOML_TABLES))
    det = require(data, "detector", dict, f)
    tgt = require(data, "target", dict, f)
    resp = require(data, "response", dict, f)
    pos = optional(data, "source_positions", dict, f, "", {"centre": 0.0})
    for section, table in (("detector", det), ("target", tgt), ("response", resp)):
        unknown = sorted(set(table) - _TOML_KEYS[section])
        if unknown:
            raise ConfigError(f, f"{section}.{unknown[0]}",
                              f"unknown key (it would be ignored); allowed in [{section}]: "
                              + ", ".join(sorted(_TOML_KEYS[section])))

    carbon = optional(tgt, "carbon_mass_fraction", (int, float), f, "target", None)
    if carbon is not None:
        check_range(carbon, 0, 1, f, "target.carbon_mass_fraction")
    if "electrons_per_kg" in tgt:
        e_kg = require(tgt, "electrons_per_kg", (int, float), f, "target")
        check_range(e_kg, 0, None, f, "target.electrons_per_kg", lo_open=True)
    else:
        comp = tgt.get("composition", tgt.get("formula"))
        if comp is None:
            raise ConfigError(f, "target.formula", "missing: give target.formula (e.g. 'C18H30'), "
                                                   "target.composition {formula = mass fraction} or target.electrons_per_kg")
        if not isinstance(comp, (str, dict)):
            raise ConfigError(f, "target.formula", f"got {comp!r}; expected a formula string or a table")
        try:
            e_kg = electrons_per_kg(comp)
            if carbon is None:
                carbon = mass_fraction(comp, "C")
        except PhysicsInputError as exc:
            raise ConfigError(f, "target.formula", str(exc)) from exc

    radius = check_range(require(tgt, "radius_m", (int, float), f, "target"), 0, MAX_RADIUS_M, f, "target.radius_m",
                         lo_open=True, unit="m")
    fid = check_range(optional(tgt, "fiducial_radius_m", (int, float), f, "target", radius), 0, radius, f,
                      "target.fiducial_radius_m", lo_open=True, unit=f"m (≤ target.radius_m = {radius})")
    density = check_range(require(tgt, "density_g_cm3", (int, float), f, "target"), 0, 25, f,
                          "target.density_g_cm3", lo_open=True, unit="g/cm³")
    a = check_range(require(resp, "energy_stochastic", (int, float), f, "response"), 0, 1, f, "response.energy_stochastic")
    b = check_range(optional(resp, "energy_constant", (int, float), f, "response", 0.0), 0, 1, f, "response.energy_constant")
    vtx = check_range(require(resp, "vertex_sigma_1mev_m", (int, float), f, "response"), 0, 10, f,
                      "response.vertex_sigma_1mev_m", unit="m")
    thr = check_range(require(resp, "threshold_mev", (int, float), f, "response"), 0, 10, f, "response.threshold_mev", unit="MeV")
    ang = optional(resp, "angular_resolution_deg", (int, float), f, "response", None)
    if ang is not None:
        check_range(ang, 0, 180, f, "response.angular_resolution_deg", unit="degrees")
    n_refr = optional(resp, "refractive_index", (int, float), f, "response", None)
    if n_refr is not None:
        check_range(n_refr, 1, 3, f, "response.refractive_index", lo_open=True)
    ch_res = optional(resp, "cherenkov_resolution_deg", (int, float), f, "response", None)
    ch_ref = optional(resp, "cherenkov_reference_mev", (int, float), f, "response", None)
    if (ch_res is None) != (ch_ref is None) or (ch_res is not None and n_refr is None):
        raise ConfigError(f, "response.cherenkov_resolution_deg", "give cherenkov_resolution_deg and cherenkov_reference_mev "
                                                                 "together, with refractive_index")
    if ch_res is not None:
        from ganom.models.direction import cherenkov_threshold_mev

        check_range(ch_res, 0, 180, f, "response.cherenkov_resolution_deg", lo_open=True, unit="degrees")
        check_range(ch_ref, cherenkov_threshold_mev(float(n_refr)), 20, f, "response.cherenkov_reference_mev", lo_open=True,
                    unit="MeV")
    fid_unc = check_range(optional(resp, "fiducial_uncertainty", (int, float), f, "response", 0.01), 0, 1, f,
                          "response.fiducial_uncertainty")
    esc_unc = check_range(optional(resp, "energy_scale_uncertainty", (int, float), f, "response", 0.005), 0, 0.5, f,
                          "response.energy_scale_uncertainty")
    positions = {}
    for k, v in pos.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f, f"source_positions.{k}", f"got {v!r}; expected a distance in m")
        positions[k] = check_range(float(v), 0, None, f, f"source_positions.{k}", unit="m")
    if not positions:
        raise ConfigError(f, "source_positions", "needs at least one named position (e.g. centre = 0.0)")
    overburden = optional(det, "overburden_mwe", (int, float), f, "detector", None)
    bkg = optional(data, "backgrounds", dict, f, "", {})
    analysis = _check_analysis(optional(data, "analysis", dict, f, "", {}), f)
    for key in ("name", "label", "site", "description"):
        optional(det, key, str, f, "detector", None)
    optional(tgt, "material", str, f, "target", None)
    return Detector(
        name=name or str(det.get("name", path.stem)),
        label=str(det.get("label", det.get("name", path.stem))),
        radius_m=float(radius),
        fiducial_radius_m=float(fid),
        density_g_cm3=float(density),
        electrons_per_kg=float(e_kg),
        energy_stochastic=float(a),
        energy_constant=float(b),
        vertex_sigma_1mev_m=float(vtx),
        threshold_mev=float(thr),
        source_positions_m=positions,
        material=str(tgt.get("material", "")),
        site=str(det.get("site", "")),
        description=str(det.get("description", "")),
        overburden_mwe=None if overburden is None else float(overburden),
        fiducial_uncertainty=float(fid_unc),
        energy_scale_uncertainty=float(esc_unc),
        angular_resolution_deg=None if ang is None else float(ang),
        refractive_index=None if n_refr is None else float(n_refr),
        cherenkov_resolution_deg=None if ch_res is None else float(ch_res),
        cherenkov_reference_mev=None if ch_ref is None else float(ch_ref),
        carbon_mass_fraction=float(carbon or 0.0),
        backgrounds=bkg,
        analysis=analysis,
        source_file=f,
    )
