"""Expected-count templates on the analysis binning: T_reco × L_reco × time.

The signal is kept as a response kernel so that oscillation fits are one contraction
(docs/architecture.md, "Data flow"):

    μ_sig[line, E, L, t] = τ_t · a[line, E] · Σ_k w[E, k] Σ_i P_ee(i, line) · S_k[i, L]

* a[line, E]: activity × intensity × n_e × ∫ dσ/dT(T) R(T → E) dT, the cross section folded
  with the Gaussian energy response (σ_E(T) of the detector);
* S_k[i, L]: the flux-weighted volume of true-baseline bin i reconstructed in L_reco bin L
  with r_reco < R_fid, for vertex resolution σ_k (:mod:`ganom.models.spatial`);
* w[E, k]: interpolation weights of the vertex resolution σ_v at the reconstructed energy
  (the detected light sets both) on the σ_k grid;
* τ_t: ∫ e^{−t/τ} dt over time bin t [days];
* P_ee(i, line): the 3+1 survival probability averaged exactly over true bin i.

Backgrounds use the same energy and vertex response with their own spectrum, density and
time dependence. Everything is a deterministic numerical integral: with zero resolutions
the signal templates sum to the rates of :mod:`ganom.models.rates` (to rounding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from ganom.exceptions import PhysicsInputError
from ganom.models._numerics import endpoint_nodes
from ganom.models.backgrounds import BackgroundComponent, configuration_backgrounds
from ganom.models.constants import CM2_TO_M2, SECONDS_PER_DAY
from ganom.models.detectors import Detector, load_detector
from ganom.models.events import binned_survival
from ganom.models.geometry import SphereGeometry
from ganom.models.rates import check_threshold
from ganom.models.sources import NeutrinoSource, load_source
from ganom.models.spatial import Density, spatial_responses, true_baseline_edges
from ganom.models.xsec import dsigma_dt, t_max

__all__ = [
    "N_SIGMA_GROUPS",
    "AnalysisBinning",
    "default_binning",
    "BASELINE_BIN_SIGMA",
    "MAX_BASELINE_BINS",
    "COARSE_BASELINE",
    "with_coarse_baseline",
    "has_fiducial_cut",
    "energy_response",
    "vertex_sigma_grid",
    "SignalKernel",
    "SampleInfo",
    "Templates",
    "build_templates",
]

N_SIGMA_GROUPS = 6


# ----------------------------------------------------------------------------- binning
def _edges(values: ArrayLike, name: str, lo: float = 0.0) -> NDArray[np.float64]:
    e = np.asarray(values, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)):
        raise PhysicsInputError(name, values, "a 1-d array of at least 2 finite edges")
    if np.any(np.diff(e) <= 0):
        raise PhysicsInputError(name, values, "strictly increasing edges (every bin width > 0)")
    if e[0] < lo:
        raise PhysicsInputError(name, values, f"edges ≥ {lo:g}")
    return e


@dataclass(frozen=True)
class AnalysisBinning:
    """Analysis bins: reconstructed recoil energy [MeV], reconstructed baseline [m], time [days].

    Time is measured from the start of the source run (t = 0, where the activity is A₀).
    """

    energy_edges_mev: NDArray[np.float64]
    baseline_edges_m: NDArray[np.float64]
    time_edges_days: NDArray[np.float64]
    cos_edges: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "energy_edges_mev", _edges(self.energy_edges_mev, "energy_edges_mev"))
        object.__setattr__(self, "baseline_edges_m", _edges(self.baseline_edges_m, "baseline_edges_m"))
        object.__setattr__(self, "time_edges_days", _edges(self.time_edges_days, "time_edges_days"))
        if self.cos_edges is not None:
            from ganom.models.direction import check_cos_edges

            object.__setattr__(self, "cos_edges", check_cos_edges(self.cos_edges))

    @property
    def directional(self) -> bool:
        return self.cos_edges is not None

    @property
    def axes(self) -> tuple[str, ...]:
        """Names of the axes of every template: energy, baseline, [cos,] time."""
        return ("energy", "baseline", "cos", "time") if self.directional else ("energy", "baseline", "time")

    def edges(self, axis: str) -> NDArray[np.float64]:
        return {"energy": self.energy_edges_mev, "baseline": self.baseline_edges_m, "cos": self.cos_edges,
                "time": self.time_edges_days}[axis]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.edges(a).size - 1 for a in self.axes)

    @property
    def n_bins(self) -> int:
        return int(np.prod(self.shape))

    @property
    def run_days(self) -> float:
        return float(self.time_edges_days[-1] - self.time_edges_days[0])

    def to_dict(self) -> dict[str, list[float]]:
        out = {"energy_edges_mev": self.energy_edges_mev.tolist(), "baseline_edges_m": self.baseline_edges_m.tolist(),
               "time_edges_days": self.time_edges_days.tolist()}
        if self.directional:
            out["cos_edges"] = self.cos_edges.tolist()
        return out


BASELINE_BIN_SIGMA = 1.0
"""Default width of a baseline bin in units of the vertex resolution at 0.4 MeV. Refining the
bins changes the Asimov 95 % raster limits by < 2 % below this width (JUNO centre, 30 d, at
Δm² = 1, 1.6, 2.2, 10 eV²: 0.0195/0.0232/0.0287 at 1.2σ, 0.0194/0.0229/0.0282 at 0.9σ,
0.0193/0.0227/0.0278 at 0.6σ), while 2σ bins capped at 30 (0.57 m) lost up to 35 % at
1.6 eV² (0.0304) by washing out the L/E pattern (tests/test_templates.py, docs/physics.md §5.4)."""

MAX_BASELINE_BINS = 120
"""Most baseline bins of a default binning (JUNO with the source outside spans 34 m)."""

COARSE_BASELINE = {"baseline_bin_sigma": 2.0, "max_baseline_bins": 30}
"""[analysis] settings of a coarse baseline binning (``ganom study --quick``, ``ganom export
--coarse-baseline``): 2σ_vertex bins, at most 30 — up to ~35 % weaker sin²2θ limits near
1.6 eV² for JUNO, a few % for the others; Z and σ_R barely move."""


def with_coarse_baseline(detector: Detector) -> Detector:
    """The detector with :data:`COARSE_BASELINE` unless its own [analysis] table sets those keys."""
    from dataclasses import replace as _replace

    return _replace(detector, analysis={**COARSE_BASELINE, **(detector.analysis or {})})


def default_binning(
    detector: Detector,
    source: NeutrinoSource,
    distance_m: float,
    days: float = 30.0,
    n_time_bins: int | None = None,
    energy_bin_mev: float | None = None,
    energy_max_mev: float | None = None,
    n_baseline_bins: int | None = None,
    threshold_mev: float | None = None,
    cos_bins: int | None = None,
) -> AnalysisBinning:
    """The default binning of a preset (overridable per argument or the preset's [analysis]).

    Energy: threshold → T_max of the highest line + max(5σ_E, 150 keV) (a sideband that
    constrains the backgrounds), 20 keV bins; [analysis] ``energy_max_mev`` moves the top, and
    ``sideband_bin_mev`` sets the largest width of the equal bins from T_max + max(5σ_E, 150 keV)
    to exactly that top. Baseline: the reconstructed-vertex range of the
    fiducial volume in bins of :data:`BASELINE_BIN_SIGMA` σ_vertex at 0.4 MeV (3 to
    :data:`MAX_BASELINE_BINS` bins; [analysis] ``baseline_bin_sigma`` and
    ``max_baseline_bins`` change both, ``baseline_bins`` fixes the number). Time: equal bins of at most
    10 days (at least 3), short against the sources' mean lives (⁵¹Cr 40 d, ³⁷Ar 50 d), so
    that a long run keeps the decay curve that separates the source from flat backgrounds.
    Direction (detectors with an angular resolution, or ``cos_bins`` > 0): cos θ to the
    source direction in 10 equal bins over [−1, 1].
    """
    cfg = detector.analysis or {}
    thr = detector.threshold_mev if threshold_mev is None else float(threshold_mev)
    check_threshold(thr, source)
    width = float(energy_bin_mev or cfg.get("energy_bin_mev", 0.02))
    if not width > 0:
        raise PhysicsInputError("energy_bin_mev", width, "> 0 MeV")
    tm = float(np.max(t_max(source.energies_mev)))
    signal_top = tm + max(5 * float(detector.energy_sigma_mev(tm)), 0.15)
    top = energy_max_mev or cfg.get("energy_max_mev") or signal_top
    if top <= thr:
        raise PhysicsInputError("energy_max_mev", top, f"> threshold {thr} MeV")
    side = float(cfg.get("sideband_bin_mev", width))
    fine_top = top if side == width else min(top, max(signal_top, thr + width))
    n_e = max(1, int(math.ceil((fine_top - thr) / width - 1e-9)))
    e_edges = thr + width * np.arange(n_e + 1)
    if top > e_edges[-1] + 1e-9:
        n_s = int(math.ceil((top - e_edges[-1]) / side - 1e-9))
        e_edges = np.concatenate([e_edges, np.linspace(e_edges[-1], top, n_s + 1)[1:]])

    geom = detector.fiducial_geometry(distance_m, source.assembly_radius_m)
    sig_v = float(detector.vertex_sigma_m(0.4))
    lo, hi = geom.l_min, geom.l_max
    if not has_fiducial_cut(detector):
        lo, hi = max(0.0, lo - 3 * sig_v), hi + 3 * sig_v
    if n_baseline_bins is None:
        per_sigma = float(cfg.get("baseline_bin_sigma", BASELINE_BIN_SIGMA))
        most = int(cfg.get("max_baseline_bins", MAX_BASELINE_BINS))
        n_baseline_bins = int(cfg.get("baseline_bins", 0)) or int(
            np.clip(np.ceil((hi - lo) / max(per_sigma * sig_v, 1e-3)), 3, max(most, 3)))
    if n_baseline_bins < 1:
        raise PhysicsInputError("n_baseline_bins", n_baseline_bins, "≥ 1")
    l_edges = np.linspace(lo, hi, n_baseline_bins + 1)

    if not (np.isfinite(days) and days > 0):
        raise PhysicsInputError("days", days, "a run length > 0 days")
    n_t = int(n_time_bins or cfg.get("time_bins", 0) or max(3, math.ceil(days / 10.0 - 1e-9)))
    if n_t < 1:
        raise PhysicsInputError("n_time_bins", n_t, "≥ 1")
    if cos_bins is None:
        cos_bins = int(cfg.get("cos_bins", 10)) if detector.angular_resolution_deg is not None else 0
    if cos_bins < 0:
        raise PhysicsInputError("cos_bins", cos_bins, "≥ 0 (0: no direction axis)")
    cos_edges = np.linspace(-1.0, 1.0, cos_bins + 1) if cos_bins else None
    from ganom.resources import require_memory

    n_bins = n_e * n_baseline_bins * n_t * max(cos_bins, 1)
    # every sample's template and its two energy-scale variations, the signal kernel's line
    # counts and the model's working copies: ≈ 200 doubles per analysis bin for a preset
    require_memory(f"the analysis binning ({n_e} energy × {n_baseline_bins} baseline × {n_t} time"
                   + (f" × {cos_bins} cos θ" if cos_bins else "") + f" = {n_bins:.3g} bins; days = {days:g})",
                   1600.0 * n_bins, "use a shorter run, fewer or wider bins")
    return AnalysisBinning(e_edges, l_edges, np.linspace(0.0, float(days), n_t + 1), cos_edges)


def has_fiducial_cut(detector: Detector) -> bool:
    """A fiducial radius equal to the target radius means: no cut on the reconstructed vertex."""
    return detector.fiducial_radius_m < detector.radius_m


# ----------------------------------------------------------------------------- responses
def energy_response(t_true: ArrayLike, edges: NDArray, sigma_mev: ArrayLike, escale: float = 0.0) -> NDArray:
    """R[i, E] = P(E_reco ∈ bin E | T_true = t_i): Gaussian with σ_E(t_i), E_reco = (1+ε)·E_smeared."""
    t = np.asarray(t_true, dtype=float)[:, None]
    s = np.broadcast_to(np.asarray(sigma_mev, dtype=float), np.asarray(t_true).shape)[:, None]
    e = np.asarray(edges, dtype=float)[None, :] / (1.0 + escale)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (e - t) / s
    cdf = np.where(s > 0, ndtr(z), (t < e).astype(float))
    return np.diff(cdf, axis=1)


def vertex_sigma_grid(detector: Detector, energy_edges: NDArray) -> tuple[NDArray, NDArray]:
    """(σ_k grid [m], weights w[E, k]): σ_v at each reco-bin centre, linearly interpolated."""
    centres = 0.5 * (energy_edges[:-1] + energy_edges[1:])
    sig = detector.vertex_sigma_m(centres)
    if detector.vertex_sigma_1mev_m == 0:
        return np.zeros(1), np.ones((centres.size, 1))
    lo, hi = float(sig.min()), float(sig.max())
    if hi / lo < 1.0 + 1e-9:
        return np.array([lo]), np.ones((centres.size, 1))
    grid = np.geomspace(lo, hi, N_SIGMA_GROUPS)
    j = np.clip(np.searchsorted(grid, sig) - 1, 0, grid.size - 2)
    frac = (sig - grid[j]) / (grid[j + 1] - grid[j])
    w = np.zeros((centres.size, grid.size))
    w[np.arange(centres.size), j] = 1.0 - frac
    w[np.arange(centres.size), j + 1] = frac
    return grid, w


def _recoil_nodes(lo: float, hi: float, breaks: NDArray, n: int = 12) -> tuple[NDArray, NDArray]:
    """Quadrature on [lo, hi] split at ``breaks``; T = b − Δu² in each piece (soft endpoint logs)."""
    return endpoint_nodes(np.unique(np.concatenate([[lo, hi], breaks[(breaks > lo) & (breaks < hi)]])), n)


# ----------------------------------------------------------------------------- signal kernel
@dataclass
class SignalKernel:
    """The factorised signal response of one source position (module docstring).

    ``energy[eps]`` holds a[line, E] for the nominal energy scale (eps = 0.0) and each
    energy-scale variation; it already contains A₀·I·n_e·σ and the unit conversion, so
    that ``counts = energy × w × S × time`` is in events.
    """

    line_energies_mev: NDArray
    line_branches: tuple[str, ...]
    true_edges_m: NDArray
    energy: dict[float, NDArray]
    sigma_weights: NDArray
    spatial: NDArray
    time_days: NDArray

    @property
    def n_lines(self) -> int:
        return self.line_energies_mev.size

    def survival(self, dm2: ArrayLike, sin2_2theta: ArrayLike) -> NDArray:
        """⟨P_ee⟩[..., line, true bin] for (broadcastable) arrays of Δm² [eV²] and sin²2θ."""
        return binned_survival(self.true_edges_m, self.line_energies_mev, dm2, sin2_2theta)

    def reco_spatial(self, survival: NDArray | None = None) -> NDArray:
        """X[..., line, k, L] = Σ_i P(i, line) S_k[i, L] (no oscillation when ``survival`` is None)."""
        if survival is None:
            x = self.spatial.sum(axis=1)
            return np.broadcast_to(x, (self.n_lines,) + x.shape)
        return np.einsum("...li,kij->...lkj", survival, self.spatial, optimize=True)

    @property
    def n_axes(self) -> int:
        """Binning axes of a template: 3 (E, L, t) or 4 with the direction axis."""
        return 4 if self.energy[0.0].ndim == 3 else 3

    def line_counts(self, dm2: ArrayLike | None = None, sin2_2theta: ArrayLike | None = None,
                    escale: float = 0.0) -> NDArray:
        """Expected counts [..., line, E, L, (cos,) t] (leading axes from arrays of Δm², sin²2θ)."""
        surv = None if dm2 is None else self.survival(dm2, sin2_2theta)
        x = self.reco_spatial(surv)
        a = self.energy[escale]
        if a.ndim == 3:
            el = np.einsum("lec,ek,...lkj->...lejc", a, self.sigma_weights, x, optimize=True)
        else:
            el = np.einsum("le,ek,...lkj->...lej", a, self.sigma_weights, x, optimize=True)
        return el[..., None] * self.time_days

    def group_counts(self, dm2: ArrayLike | None = None, sin2_2theta: ArrayLike | None = None,
                     escale: float = 0.0) -> dict[str, NDArray]:
        """Expected counts summed per nuclear branch ("ground", "excited")."""
        lines = self.line_counts(dm2, sin2_2theta, escale)
        axis = lines.ndim - self.n_axes - 1
        out = {}
        for g in dict.fromkeys(self.line_branches):
            mask = np.array([b == g for b in self.line_branches])
            out[g] = np.compress(mask, lines, axis=axis).sum(axis=axis)
        return out


# ----------------------------------------------------------------------------- templates
@dataclass
class SampleInfo:
    """Physics facts the likelihood builder needs about one sample."""

    kind: str  # "signal" or "background"
    label: str
    branch: str | None = None
    uncertainty: float | None = None
    in_volume: bool = True
    component: BackgroundComponent | None = None


@dataclass
class Templates:
    """All expected-count templates of one configuration (arrays of shape ``binning.shape``).

    ``samples`` maps sample names to nominal counts; ``escale`` maps them to (down, up)
    templates at ∓ the detector's energy-scale uncertainty; ``source_off`` holds the
    background-only exposure (shape E × L × 1) when requested.
    """

    detector: Detector
    source: NeutrinoSource
    distance_m: float
    binning: AnalysisBinning
    kernel: SignalKernel
    samples: dict[str, NDArray]
    escale: dict[str, tuple[NDArray, NDArray]]
    info: dict[str, SampleInfo]
    escale_sigma: float
    source_off: dict[str, NDArray] | None = None
    source_off_escale: dict[str, tuple[NDArray, NDArray]] | None = None
    source_off_days: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def signal_names(self) -> list[str]:
        return [n for n, i in self.info.items() if i.kind == "signal"]

    @property
    def background_names(self) -> list[str]:
        return [n for n, i in self.info.items() if i.kind == "background"]

    def total(self) -> NDArray:
        return sum(self.samples.values())

    def signal_counts(self, dm2: float | None = None, sin2_2theta: float | None = None,
                      escale: float = 0.0) -> dict[str, NDArray]:
        """Signal templates per sample name, optionally oscillated."""
        groups = self.kernel.group_counts(dm2, sin2_2theta, escale)
        return {f"signal_{g}": v for g, v in groups.items()}


def _signal_energy(det: Detector, src: NeutrinoSource, e_edges: NDArray, escales: Sequence[float],
                   xsec_model: str, cos_edges: NDArray | None = None) -> dict[float, NDArray]:
    """a[line, E(, cos)] for each energy-scale offset (includes A₀ I n_e and the units); with
    ``cos_edges``, smeared in direction with the detector's σ_θ(T)."""
    from ganom.models.direction import angular_response
    from ganom.models.xsec import cos_theta_recoil

    shape = (src.energies_mev.size, e_edges.size - 1) + (() if cos_edges is None else (cos_edges.size - 1,))
    out = {eps: np.zeros(shape) for eps in escales}
    sig_lo = float(det.energy_sigma_mev(e_edges[0]))
    for j, (e_nu, inten) in enumerate(zip(src.energies_mev, src.intensities)):
        tm = float(t_max(e_nu))
        lo = max(0.0, e_edges[0] / (1 + max(escales)) - 7.0 * sig_lo) if sig_lo > 0 else e_edges[0] / (1 + max(escales))
        if tm <= lo:
            continue
        breaks = np.concatenate([e_edges / (1 + eps) for eps in escales])
        t, w = _recoil_nodes(lo, tm, breaks)
        dens = dsigma_dt(t, e_nu, "e", xsec_model) * w
        norm = src.activity_bq * inten * det.electron_density_m3 * CM2_TO_M2 * SECONDS_PER_DAY
        sig_e = det.energy_sigma_mev(t)
        ang = None if cos_edges is None else angular_response(cos_theta_recoil(t, e_nu), cos_edges, det.angular_sigma_deg(t))
        for eps in escales:
            resp = energy_response(t, e_edges, sig_e, eps)
            if ang is None:
                out[eps][j] = norm * dens @ resp
            else:
                out[eps][j] = norm * np.einsum("t,te,tc->ec", dens, resp, ang)
    return out


def _background_energy(det: Detector, comp: BackgroundComponent, e_edges: NDArray,
                       escales: Sequence[float]) -> dict[float, NDArray]:
    """Fraction of the component's spectrum reconstructed in each energy bin, per scale."""
    breaks = np.concatenate([e_edges / (1 + eps) for eps in escales])
    t, w = comp.spectrum.quadrature(extra_breaks=breaks)
    sig_e = det.energy_sigma_mev(t)
    return {eps: w @ energy_response(t, e_edges, sig_e, eps) for eps in escales}


def _density_total(density: Density, det: Detector, distance: float, exclusion_radius_m: float = 0.0) -> float:
    """∫ ρ dV over the whole target: turns a total rate into a rate per unit density.

    Volume and external backgrounds are rates of the full target: the source assembly
    displaces its share. Source-correlated γ's interact only outside the assembly: their
    total is taken over the target without it."""
    r = det.radius_m
    if density.kind == "uniform":
        return 4.0 / 3.0 * math.pi * r**3
    if density.kind == "external":
        lam = density.length_m
        return 4.0 * math.pi * lam * (r * r - 2 * lam * r + 2 * lam * lam - 2 * lam * lam * math.exp(-r / lam))
    geom = SphereGeometry(r, distance, exclusion_radius_m)
    edges = np.linspace(geom.l_min, geom.l_max, 2001)
    x, w = np.polynomial.legendre.leggauss(8)
    half = 0.5 * np.diff(edges)[:, None]
    L = 0.5 * (edges[:-1] + edges[1:])[:, None] + half * x
    val = geom.flux_density(L)
    if density.kind == "source":
        val = val * np.exp(-L / density.length_m)
    return float(np.sum(half * w * val))


def build_templates(
    detector: Detector | str,
    source: NeutrinoSource | str = "cr51",
    distance_m: float | str = "centre",
    days: float = 30.0,
    binning: AnalysisBinning | None = None,
    backgrounds: bool | Sequence[BackgroundComponent] = True,
    source_off_days: float = 0.0,
    xsec_model: str = "bks",
    escale_sigma: float | None = None,
    true_bin_width_m: float | None = None,
    angular_resolution_deg: float | None = None,
) -> Templates:
    """Build every template of a (detector, source, position, run) configuration.

    Parameters
    ----------
    detector, source : presets, TOML paths or objects.
    distance_m : source distance from the centre [m] or a named position.
    days : run length [days] (used when ``binning`` is None).
    binning : the analysis binning; :func:`default_binning` when None.
    backgrounds : True for the preset's components, False for none, or a list.
    source_off_days : length of a background-only exposure before the run [days] (0: none).
    xsec_model : "bks" or "tree".
    escale_sigma : relative energy-scale uncertainty for the ± templates (detector's default).
    true_bin_width_m : width of the true-baseline bins of the oscillation kernel.
    angular_resolution_deg : make the analysis directional with this resolution [degrees]
        (default: the detector's; a cos θ axis needs one).
    """
    det = load_detector(detector)
    if angular_resolution_deg is not None:
        from dataclasses import replace as _replace

        det = _replace(det, angular_resolution_deg=float(angular_resolution_deg))
    src = load_source(source)
    dist = det.source_distance(distance_m)
    if binning is None:
        binning = default_binning(det, src, dist, days)
    if binning.directional and det.angular_resolution_deg is None:
        raise PhysicsInputError("angular_resolution_deg", None,
                                "a resolution in degrees (0–180) for a binning with a cos θ axis")
    try:
        check_threshold(float(binning.energy_edges_mev[0]), src)
    except PhysicsInputError as exc:
        raise PhysicsInputError("energy_edges_mev[0] (the threshold)", float(binning.energy_edges_mev[0]),
                                exc.allowed) from None
    e_edges, l_edges = binning.energy_edges_mev, binning.baseline_edges_m
    tm_all = float(np.max(t_max(src.energies_mev)))
    if e_edges[0] >= tm_all + 5 * float(det.energy_sigma_mev(tm_all)) or e_edges[-1] <= 0:
        raise PhysicsInputError("energy_edges_mev", [e_edges[0], e_edges[-1]],
                                f"a range overlapping the signal (recoils below {tm_all:.3f} MeV)")
    target = det.target_geometry(dist, src.assembly_radius_m)
    if l_edges[0] >= target.l_max or l_edges[-1] <= target.l_min:
        raise PhysicsInputError("baseline_edges_m", [l_edges[0], l_edges[-1]],
                                f"a range overlapping the detector ({target.l_min:.3g}–{target.l_max:.3g} m from the source)")
    if source_off_days < 0 or not np.isfinite(source_off_days):
        raise PhysicsInputError("source_off_days", source_off_days, "≥ 0 days")
    esc = det.energy_scale_uncertainty if escale_sigma is None else float(escale_sigma)
    if not 0 <= esc < 0.5:
        raise PhysicsInputError("escale_sigma", esc, "0 ≤ δ < 0.5")
    escales = (0.0, -esc, esc) if esc > 0 else (0.0,)

    r_fid = det.fiducial_radius_m if has_fiducial_cut(det) else np.inf
    sig_grid, sig_w = vertex_sigma_grid(det, e_edges)
    reach = 7.0 * float(sig_grid.max())
    l_lo = max(target.l_min, l_edges[0] - reach)
    l_hi = min(target.l_max, l_edges[-1] + reach)
    width = true_bin_width_m or max(min(float(sig_grid.min()) / 3.0, (l_edges[-1] - l_edges[0]) / 40.0), 1e-3)
    if sig_grid.max() == 0:
        width = true_bin_width_m or (l_edges[-1] - l_edges[0]) / 200.0
    kinks = [abs(det.radius_m - dist), abs(det.fiducial_radius_m - dist), det.fiducial_radius_m + dist,
             src.assembly_radius_m]
    t_edges = true_baseline_edges(l_edges, l_lo, l_hi, width, kinks)

    if backgrounds is True:
        comps = configuration_backgrounds(det, src, dist)
    elif backgrounds is False:
        comps = []
    else:
        comps = list(backgrounds)
    # one geometric kernel for every vertex density: the signal's and the backgrounds'
    densities = list(dict.fromkeys([Density("flux")] + [c.density for c in comps]))
    responses = dict(zip(densities, spatial_responses(det.radius_m, r_fid, dist, t_edges, l_edges, sig_grid, densities,
                                                      src.assembly_radius_m)))
    s_flux = responses[Density("flux")]
    energy = _signal_energy(det, src, e_edges, escales, xsec_model, binning.cos_edges)
    time_sig = src.decay_fraction(binning.time_edges_days[:-1], binning.time_edges_days[1:])
    kernel = SignalKernel(src.energies_mev, tuple(ln.branch for ln in src.lines), t_edges, energy, sig_w, s_flux, time_sig)

    samples: dict[str, NDArray] = {}
    esc_tpl: dict[str, tuple[NDArray, NDArray]] = {}
    info: dict[str, SampleInfo] = {}
    groups = {eps: kernel.group_counts(escale=eps) for eps in escales}
    for g, arr in groups[0.0].items():
        name = f"signal_{g}"
        samples[name] = arr
        info[name] = SampleInfo("signal", f"{src.isotope_label} ν ({'320 keV branch' if g == 'excited' else 'ground state'})", branch=g)
        if esc > 0:
            esc_tpl[name] = (groups[-esc][g], groups[esc][g])

    off: dict[str, NDArray] | None = {} if source_off_days > 0 else None
    off_esc: dict[str, tuple[NDArray, NDArray]] | None = {} if source_off_days > 0 else None
    spatial_cache: dict[Density, NDArray] = {}
    for comp in comps:
        if comp.density not in spatial_cache:
            s = responses[comp.density].sum(axis=1)
            spatial_cache[comp.density] = s / _density_total(comp.density, det, dist, src.assembly_radius_m)
        s_norm = spatial_cache[comp.density]  # fraction of the component in (k, L)
        en = _background_energy(det, comp, e_edges, escales)
        per_el = {eps: np.einsum("e,ek,kj->ej", en[eps], sig_w, s_norm) * comp.rate_per_day for eps in escales}
        if binning.directional:  # isotropic relative to the source direction (ganom.models.direction)
            iso = np.diff(binning.cos_edges) / 2.0
            per_el = {eps: v[:, :, None] * iso for eps, v in per_el.items()}
        time_b = comp.time_integral(binning.time_edges_days[:-1], binning.time_edges_days[1:])
        name = comp.name
        samples[name] = per_el[0.0][..., None] * time_b
        info[name] = SampleInfo("background", comp.label, None, comp.uncertainty, comp.in_volume, comp)
        if esc > 0:
            esc_tpl[name] = (per_el[-esc][..., None] * time_b, per_el[esc][..., None] * time_b)
        if off is not None and comp.density.kind != "source":
            t_off = comp.time_integral(-source_off_days, 0.0)
            off[name] = per_el[0.0][..., None] * t_off
            if esc > 0:
                off_esc[name] = (per_el[-esc][..., None] * t_off, per_el[esc][..., None] * t_off)

    for name, arr in samples.items():
        if not np.all(np.isfinite(arr)):
            raise PhysicsInputError(f"template {name}", "non-finite", "finite expected counts (a numerical bug: please report)")
    return Templates(det, src, dist, binning, kernel, samples, esc_tpl, info, esc, off, off_esc,
                     float(source_off_days), {"xsec_model": xsec_model, "true_bins": int(t_edges.size - 1),
                                              "vertex_sigma_grid_m": sig_grid.tolist(),
                                              "angular_resolution_deg": det.angular_resolution_deg})
