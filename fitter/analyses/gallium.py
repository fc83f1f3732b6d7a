"""Statistics of the gallium anomaly: combined ratio, 3+1 fit, source-vs-detection test.

The gallium likelihood is a χ² over the measured ratios R_i (:mod:`ganom.models.gallium`):

    χ² = Σ_i (R_i − μ_i)² / V_i(μ_i) + Σ_k (ν_k − a_k)²,
    μ_i = s · T_i · (1 + ε_iso(i)(ξ)) · (1 + Σ_k C_ki ν_k),

* T_i: the physics prediction (1 for a flat deficit, R_pred(Δm², sin²2θ) for 3+1);
* s: a free scale (the combined ratio R̄, or R_source·R_Ga in the joint fit);
* ξ: the cross-section pull, common to every experiment (fully correlated, per isotope
  widths δ±); ε(ξ) is HistFactory's "code 4p" interpolation between the model's −δ_lo and
  +δ_hi (exact at ξ = ±1, linear beyond, C² everywhere), so asymmetric errors stay asymmetric;
* ν_k: other shared normalisations (BEST's source activity, common to both zones);
* V_i(μ) = σ₊σ₋ + (σ₊ − σ₋)(μ − R_i): Barlow's variable-width Gaussian for asymmetric
  errors (R. Barlow, "Asymmetric statistical errors", arXiv:physics/0406120, §4), which gives
  Δχ² = 1 at μ = R + σ₊ and μ = R − σ₋.

Nuisances are profiled by a vectorised damped Newton iteration (exact gradient and Hessian,
Gauss–Newton curvature where that is not positive definite), for any batch of predictions (a whole Δm²–sin²2θ grid at once) and any batch of datasets
(toys), never a Python loop over grid points.

The solar cross-check (:func:`solar_check`) compares the ⁷¹Ga solar capture rate predicted per
cross-section model (:mod:`ganom.models.gallium_solar`) with the measured GALLEX+GNO+SAGE rate.

The source-vs-detection test joins this χ² with an electron-scattering (ES) binned Poisson
likelihood (:class:`ganom.fitter.hf.model.BinnedModel`, Asimov data from a preset) with two deficits:
``R_source`` multiplies every prediction (the ES signal strength R and every gallium
prediction: activity or branching-ratio errors), ``R_Ga`` only the gallium ones (cross section
or ⁷¹Ge extraction). Test statistic −2 ln L = 2·(ES −ln L − constant) + χ²_Ga.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from ganom.exceptions import FitError, InputError, PhysicsInputError
from ganom.fitter.hf.interpolation import code4p
from ganom.fitter.hf.parameters import SIGNAL_STRENGTH
from ganom.fitter.infer.distributions import chi2_ppf, chi2_sf, norm_isf
from ganom.fitter.infer.minimize import Damping, newton_batch
from ganom.fitter.infer.oscillation import OscillationGrid
from ganom.fitter.infer.parallel import array_digest
from ganom.fitter.infer.scan import refine_minimum
from ganom.fitter.io import Table
from ganom.models.gallium import (
    DEFAULT_ERROR_TREATMENT,
    REFERENCE_MODEL,
    XSEC_MODELS,
    CrossSectionModel,
    GalliumExperiment,
    apply_error_treatment,
    error_treatment,
    predicted_ratio,
    select_experiments,
    xsec_model,
)

__all__ = [
    "SIGMA_LEVELS",
    "wilks_level",
    "z_from_delta_chi2",
    "asymmetric_shift",
    "min_xsec_pull",
    "GalliumData",
    "ProfileOutput",
    "GalliumLikelihood",
    "CombinedRatio",
    "combined_ratio",
    "combined_ratio_table",
    "GalliumFitResult",
    "ratios_table",
    "oscillation_fits_table",
    "discrimination_table",
    "default_gallium_grid",
    "fit_oscillation",
    "GalliumGridProblem",
    "HYPOTHESES",
    "DISCRIMINATE_GRID",
    "JointFit",
    "JointLikelihood",
    "DiscriminationRecord",
    "discriminate",
    "SolarModelRate",
    "SolarCheck",
    "solar_check",
    "solar_table",
]

SIGMA_LEVELS = (1, 2, 3)
# undamped Newton steps; damping only after a step that raises χ²
GALLIUM_DAMPING = Damping(start=0.0, shrink=0.1, floor=0.0, reject_floor=1e-3)


def wilks_level(n_sigma: float, dof: int = 2) -> float:
    """Δχ² threshold of an n-σ region (Gaussian two-sided coverage) for ``dof`` parameters.

    >>> round(wilks_level(1), 3), round(wilks_level(2), 3), round(wilks_level(3), 2)
    (2.296, 6.18, 11.83)
    """
    return float(chi2_ppf(math.erf(n_sigma / math.sqrt(2.0)), dof))


def z_from_delta_chi2(delta: float, dof: int = 1) -> float:
    """Gaussian-equivalent significance (two-sided convention) of Δχ² with ``dof`` degrees."""
    if not delta > 0:
        return 0.0
    if dof == 1:
        return math.sqrt(delta)
    return float(norm_isf(0.5 * chi2_sf(delta, dof)))


# ----------------------------------------------------------------------------- interpolation
def asymmetric_shift(xi: NDArray, lo: NDArray, hi: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """ε(ξ) with ε(−1) = −lo, ε(+1) = +hi: HistFactory code 4p (value, slope, curvature),
    the interpolation of the binned model's histosys (:func:`ganom.fitter.hf.interpolation.code4p`)."""
    return code4p(xi, np.asarray(lo, dtype=float), np.asarray(hi, dtype=float), curvature=True)


def _barlow(mu: NDArray, r: NDArray, s_hi: NDArray, s_lo: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """(f, f', f'') of f(μ) = (μ − R)²/V(μ), V = σ₊σ₋ + (σ₊ − σ₋)(μ − R), floored at 5 % of σ₊σ₋."""
    d = mu - r
    v0 = s_hi * s_lo
    k = s_hi - s_lo
    v = v0 + k * d
    floor = 0.05 * v0
    lin = v > floor
    ve = np.where(lin, v, floor)
    f = d * d / ve
    f1 = np.where(lin, d * (2.0 * v0 + k * d) / (ve * ve), 2.0 * d / ve)
    f2 = np.where(lin, 2.0 * v0 * v0 / (ve * ve * ve), 2.0 / ve)
    return f, f1, f2


def _positive_definite(H: NDArray) -> NDArray[np.bool_]:
    """Per-matrix positive definiteness of a batch [..., P, P] (Sylvester's criterion for P ≤ 3)."""
    P = H.shape[-1]
    if P == 1:
        return H[..., 0, 0] > 0
    a, b, d = H[..., 0, 0], H[..., 0, 1], H[..., 1, 1]
    m2 = a * d - b * b
    if P == 2:
        return (a > 0) & (m2 > 0)
    if P == 3:
        return (a > 0) & (m2 > 0) & (np.linalg.det(H) > 0)
    return np.linalg.eigvalsh(H)[..., 0] > 0


# ----------------------------------------------------------------------------- data
@dataclass
class GalliumData:
    """A batch of gallium datasets: measured ratios [n, E] and auxiliary nuisance data [n, K]."""

    ratios: NDArray[np.float64]
    aux: NDArray[np.float64]

    def __post_init__(self) -> None:
        self.ratios = np.atleast_2d(np.asarray(self.ratios, dtype=float))
        self.aux = np.atleast_2d(np.asarray(self.aux, dtype=float))
        if self.ratios.shape[0] != self.aux.shape[0]:
            raise InputError(f"gallium data: {self.ratios.shape[0]} ratio rows but {self.aux.shape[0]} aux rows")
        if not (np.all(np.isfinite(self.ratios)) and np.all(np.isfinite(self.aux))):
            raise InputError("gallium data: ratios and auxiliary data must be finite")

    def __len__(self) -> int:
        return self.ratios.shape[0]


@dataclass
class ProfileOutput:
    """Profiled χ² [n, *batch], nuisances [n, *batch, K] (ξ first), the scale [n, *batch]."""

    chi2: NDArray[np.float64]
    nuisances: NDArray[np.float64]
    scale: NDArray[np.float64]
    converged: NDArray[np.bool_]

    def to_dict(self) -> dict[str, Any]:
        return {"chi2": self.chi2.tolist(), "nuisances": self.nuisances.tolist(), "scale": self.scale.tolist(),
                "converged": self.converged.tolist()}


def min_xsec_pull(model: CrossSectionModel, isotopes: Sequence[str]) -> float:
    """The lowest physical value of the cross-section nuisance ξ: where the first isotope's
    cross section falls to its ground-state part (the excited-state contribution is a sum of
    positive Gamow–Teller strengths and cannot go below zero). −∞ for the ground-state model.

    A model's uncertainty is that of its excited-state part (the ground-state part is fixed
    to 0.3 % by the ⁷¹Ge half-life), so below ξ_min the excited part would be negative: ξ is
    bounded there (docs/statistics.md §15). Below ξ = −1 the shift is linear, ε = ξ δ₋:
    ξ_min = −σ_exc/σ₋ when σ_exc ≥ σ₋; otherwise the root lies in the polynomial part.
    """
    gs = XSEC_MODELS["ground_state"].sigma_cm2
    bound = -math.inf
    for iso in isotopes:
        s, lo, hi = model.sigma_cm2[iso], model.err_lo_cm2[iso], model.err_hi_cm2[iso]
        exc = s - gs[iso]
        if exc <= 0 or lo <= 0:  # the ground-state model: nothing to bound
            continue
        xi = -exc / lo if exc >= lo else optimize.brentq(_relative_shift, -1.0, 0.0, args=(lo / s, hi / s, exc / s))
        bound = max(bound, xi)
    return bound


def _relative_shift(xi: float, lo: float, hi: float, offset: float) -> float:
    return float(asymmetric_shift(np.array([[xi]]), np.array([lo]), np.array([hi]))[0][0, 0]) + offset


class GalliumLikelihood:
    """The χ² of a set of gallium experiments under one cross-section model.

    Parameters
    ----------
    experiments : set name ("all", "best", "gallex_sage"), experiment names, or
        :class:`ganom.models.gallium.GalliumExperiment` objects (ratios relative to Bahcall's σ).
    model : cross-section model name (``ganom.models.gallium.XSEC_MODELS``) or object.
    error_scale : {experiment: factor} multiplying that experiment's experimental errors
        (studies of "what if BEST were more precise").
    correlated_syst : {nuisance: (experiments, fraction)} moves a fraction ρ of the named
        experiments' systematic variance into a shared nuisance (e.g. BEST zones; default none).
    errors : error treatment of the ratios (:data:`ganom.models.gallium.ERROR_TREATMENTS`):
        "published" (default, as the literature tables: BEST's quoted ±0.05, which contains
        Bahcall's σ error) or "experimental" (BEST's stat ⊕ syst only); each model's own σ error
        is the correlated nuisance in both (docs/physics.md §8.1).
    """

    def __init__(self, experiments: str | Iterable[str] | Iterable[GalliumExperiment] = "all", model: str | CrossSectionModel = REFERENCE_MODEL,
                 error_scale: dict[str, float] | None = None,
                 correlated_syst: dict[str, tuple[Sequence[str], float]] | None = None,
                 errors: str = DEFAULT_ERROR_TREATMENT):
        self.model = xsec_model(model)
        self.errors = error_treatment(errors)
        items = [experiments] if isinstance(experiments, GalliumExperiment) else experiments
        if not isinstance(items, str) and all(isinstance(e, GalliumExperiment) for e in items):
            base = tuple(items)  # experiment objects (e.g. with another geometry)
            if not base:
                raise PhysicsInputError("experiments", experiments, "at least one experiment")
        else:
            base = select_experiments(experiments)
        self.experiments: tuple[GalliumExperiment, ...] = tuple(
            e.rescaled(self.model) for e in apply_error_treatment(base, self.errors))
        names = [e.name for e in self.experiments]
        scale = np.ones(len(names))
        for k, v in (error_scale or {}).items():
            if k not in names:
                raise PhysicsInputError("error_scale", k, " | ".join(names))
            if not (math.isfinite(v) and v > 0):
                raise PhysicsInputError(f"error_scale[{k}]", v, "a factor > 0")
            scale[names.index(k)] = v
        stat_hi = np.array([e.stat_hi for e in self.experiments]) * scale
        stat_lo = np.array([e.stat_lo for e in self.experiments]) * scale
        syst = np.array([e.syst for e in self.experiments]) * scale
        corr: dict[str, NDArray] = {}
        for e_i, e in enumerate(self.experiments):
            for k, rel in e.correlated.items():
                corr.setdefault(k, np.zeros(len(names)))[e_i] = rel
        for k, (exps, rho) in (correlated_syst or {}).items():
            if not 0 <= rho <= 1:
                raise PhysicsInputError(f"correlated_syst[{k}]", rho, "a fraction 0 ≤ ρ ≤ 1")
            row = corr.setdefault(k, np.zeros(len(names)))
            for x in exps:
                if x not in names:
                    raise PhysicsInputError(f"correlated_syst[{k}]", x, " | ".join(names))
                i = names.index(x)
                row[i] = math.sqrt(rho) * syst[i] / self.experiments[i].ratio
                syst[i] *= math.sqrt(1.0 - rho)
        self.names = names
        self.ratios = np.array([e.ratio for e in self.experiments])
        self.err_hi = np.hypot(stat_hi, syst)
        self.err_lo = np.hypot(stat_lo, syst)
        self.corr_names = sorted(corr)
        self.C = np.array([corr[k] for k in self.corr_names]).reshape(len(self.corr_names), len(names))
        rel = [self.model.rel_err(e.isotope) for e in self.experiments]
        self.xs_lo = np.array([r[0] for r in rel])
        self.xs_hi = np.array([r[1] for r in rel])
        self.xsec_min = min_xsec_pull(self.model, sorted({e.isotope for e in self.experiments}))

    # -- bookkeeping --------------------------------------------------------------
    @property
    def nuisance_names(self) -> list[str]:
        return ["xsec"] + self.corr_names

    @property
    def n_nuisances(self) -> int:
        return 1 + len(self.corr_names)

    def observed(self) -> GalliumData:
        """The measured ratios (relative to this model's cross section), nominal aux data."""
        return GalliumData(self.ratios[None, :], np.zeros((1, self.n_nuisances)))

    def predicted(self, dm2: ArrayLike, sin2_2theta: ArrayLike) -> NDArray[np.float64]:
        """T_i(Δm², sin²2θ) of these experiments, shape broadcast(dm2, s22t) + (E,)."""
        return predicted_ratio(self.experiments, self.model, dm2, sin2_2theta)

    def expected(self, pred: ArrayLike, nuisances: ArrayLike, scale: ArrayLike = 1.0) -> NDArray[np.float64]:
        """μ_i = s T_i (1 + ε(ξ))(1 + C·ν) for nuisances [..., K] (ξ first)."""
        nu = np.asarray(nuisances, dtype=float)
        eps, _, _ = asymmetric_shift(nu[..., :1], self.xs_lo, self.xs_hi)
        h = 1.0 + nu[..., 1:] @ self.C
        return np.asarray(scale, dtype=float)[..., None] * np.asarray(pred, dtype=float) * (1.0 + eps) * h

    def chi2(self, pred: ArrayLike, nuisances: ArrayLike, data: GalliumData, scale: ArrayLike = 1.0) -> NDArray:
        """χ² at given nuisances (no profiling); broadcasting like :meth:`expected`."""
        mu = self.expected(pred, nuisances, scale)
        f, _, _ = _barlow(mu, data.ratios, self.err_hi, self.err_lo)
        nu = np.asarray(nuisances, dtype=float)
        return f.sum(axis=-1) + np.sum((nu - data.aux) ** 2, axis=-1)

    # -- profiling ----------------------------------------------------------------
    def profile(self, pred: ArrayLike, data: GalliumData, free_scale: bool = False, scale: ArrayLike = 1.0,
                paired: bool = False, max_iter: int = 50, tol: float = 1e-8) -> ProfileOutput:
        """χ² minimised over the nuisances (and the scale s if ``free_scale``).

        ``pred`` [*B, E] (or [E]) and ``scale`` [*B] (ignored if free) are broadcast against the
        n datasets: the result has shape [n, *B]. With ``paired``, ``pred`` is [n, *B, E]: one
        prediction batch per dataset. The batched Newton core
        (:func:`ganom.fitter.infer.minimize.newton_batch`) with exact derivatives (Gauss–Newton
        curvature where the exact Hessian is not positive definite); converged when the Newton
        decrement ½ gᵀH⁻¹g < ``tol``.
        """
        T = np.asarray(pred, dtype=float)
        E = len(self.names)
        if T.shape[-1] != E:
            raise InputError(f"gallium prediction has {T.shape[-1]} experiments; the likelihood has {E}")
        n = len(data)
        if paired:
            if T.shape[0] != n:
                raise InputError(f"paired gallium predictions: {T.shape[0]} rows for {n} datasets")
            bshape = np.broadcast_shapes(T.shape[1:-1], np.shape(scale))
            T = np.broadcast_to(T, (n,) + bshape + (E,)).reshape(n, -1, E)
        else:
            bshape = np.broadcast_shapes(T.shape[:-1], np.shape(scale))
            T = np.broadcast_to(T, bshape + (E,)).reshape(1, -1, E)
        G = T.shape[1]
        N = n * G
        Tf = np.broadcast_to(T, (n, G, E)).reshape(N, E)
        s0 = np.broadcast_to(np.asarray(scale, dtype=float), bshape).reshape(1, -1)
        s0f = np.broadcast_to(s0, (n, G)).reshape(N, 1)
        Rf = np.broadcast_to(data.ratios[:, None, :], (n, G, E)).reshape(N, E)
        K = self.n_nuisances
        Af = np.broadcast_to(data.aux[:, None, :], (n, G, K)).reshape(N, K)
        P = K + (1 if free_scale else 0)
        p = np.zeros((N, P))
        p[:, :K] = Af
        if free_scale:
            w = 1.0 / (self.err_hi * self.err_lo)
            p[:, K] = np.sum(w * Rf / np.where(Tf > 0, Tf, 1.0), axis=-1) / np.sum(w)
        # the cross-section shift depends on the isotope only: evaluate it per isotope
        pairs, inv = np.unique(np.stack([self.xs_lo, self.xs_hi]), axis=1, return_inverse=True)
        inv = np.asarray(inv).ravel()
        lo_u, hi_u = pairs[0], pairs[1]
        C = self.C
        Kc = K - 1
        eh, el = self.err_hi, self.err_lo
        idx_k = np.arange(K)

        def evaluate(pp: NDArray, T_: NDArray, R_: NDArray, A_: NDArray, s_: NDArray, need: bool = True):
            eps_u, d1_u, d2_u = asymmetric_shift(pp[:, :1], lo_u, hi_u)
            g = 1.0 + eps_u[:, inv]
            s = pp[:, K:K + 1] if free_scale else s_
            sT = s * T_
            h = (1.0 + pp[:, 1:K] @ C) if Kc else 1.0
            base = sT * g
            mu = base * h
            f, f1, f2 = _barlow(mu, R_, eh, el)
            val = f.sum(-1) + np.sum((pp[:, :K] - A_) ** 2, axis=-1)
            if not need:
                return val, None, None
            d1 = d1_u[:, inv]
            J = np.empty(mu.shape + (P,))
            J[..., 0] = sT * d1 * h
            if Kc:
                J[..., 1:K] = base[..., None] * C.T
            if free_scale:
                J[..., K] = T_ * g * h
            grad = np.einsum("ie,iep->ip", f1, J)
            grad[:, :K] += 2.0 * (pp[:, :K] - A_)
            Hgn = np.einsum("iep,ieq->ipq", J * f2[..., None], J)
            Hgn[:, idx_k, idx_k] += 2.0
            H = Hgn.copy()
            H[:, 0, 0] += np.sum(f1 * sT * d2_u[:, inv] * h, axis=-1)
            if Kc:
                cross = (f1 * sT * d1) @ C.T
                H[:, 0, 1:K] += cross
                H[:, 1:K, 0] += cross
            if free_scale:
                t1 = np.sum(f1 * T_ * d1 * h, axis=-1)
                H[:, 0, K] += t1
                H[:, K, 0] += t1
                if Kc:
                    cs = (f1 * T_ * g) @ C.T
                    H[:, 1:K, K] += cs
                    H[:, K, 1:K] += cs
            H = np.where(_positive_definite(H)[:, None, None], H, Hgn)
            return val, grad, H

        def batch_terms(t: NDArray, rows: NDArray, order: int):
            return evaluate(t, Tf[rows], Rf[rows], Af[rows], s0f[rows], need=order > 0)

        def keep_scale_positive(t: NDArray, step: NDArray, rows: NDArray) -> NDArray:
            if free_scale:
                step[:, K] = np.maximum(step[:, K], -0.5 * t[:, K])
            return step

        upper = np.full(P, np.inf)
        lower = -upper
        lower[0] = self.xsec_min
        p, val, ok, _ = newton_batch(batch_terms, p, lower, upper, np.zeros((N, P), dtype=bool),
                                     max_iter=max_iter, tol=tol, damping=GALLIUM_DAMPING, lazy=True,
                                     limit_step=keep_scale_positive)
        out_shape = (n,) + bshape
        scale_out = p[:, K] if free_scale else s0f[:, 0]
        return ProfileOutput(val.reshape(out_shape), p[:, :K].reshape(out_shape + (K,)),
                             np.asarray(scale_out).reshape(out_shape), ok.reshape(out_shape))

    # -- toys ---------------------------------------------------------------------
    def toys(self, pred: ArrayLike, nuisances: ArrayLike, n: int, rng: np.random.Generator,
             scale: float = 1.0) -> GalliumData:
        """``n`` pseudo-datasets at the true prediction and nuisances.

        Auxiliary data ~ N(ν_true, 1); every ratio from a two-piece normal with mode μ_i, width
        σ₊ below and σ₋ above (the sampling distribution whose likelihood has Δχ² = 1 at
        R + σ₊ and R − σ₋), P(below) = σ₊/(σ₊ + σ₋).
        """
        if n < 1:
            raise PhysicsInputError("n", n, "≥ 1 toys")
        nu = np.asarray(nuisances, dtype=float)
        mu = self.expected(np.asarray(pred, dtype=float), nu, scale)
        z = np.abs(rng.standard_normal((n, mu.size)))
        below = rng.random((n, mu.size)) < self.err_hi / (self.err_hi + self.err_lo)
        r = mu + np.where(below, -self.err_hi * z, self.err_lo * z)
        aux = nu + rng.standard_normal((n, nu.size))
        return GalliumData(r, aux)


# ----------------------------------------------------------------------------- combined ratio
@dataclass
class CombinedRatio:
    """R̄ of one cross-section model with its profile-likelihood errors and the deficit's
    significance (R̄ = 1 against the best fit, one parameter)."""

    model: str
    label: str
    ratios: dict[str, tuple[float, float, float]]  # experiment: (R, err_hi, err_lo), experimental only
    r_mean: float
    r_err_lo: float
    r_err_hi: float
    chi2_min: float
    ndf: int
    chi2_at_one: float
    significance_sigma: float
    xsec_pull: float
    errors: str = DEFAULT_ERROR_TREATMENT

    @property
    def gof_p_value(self) -> float:
        return float(chi2_sf(self.chi2_min, self.ndf)) if self.ndf > 0 else 1.0

    def to_dict(self) -> dict[str, Any]:
        """The ``ganom gallium --json`` record (``ratios``: [R, symmetrised error of the treatment],
        ``errors``: the error treatment used)."""
        return {"model": self.model, "errors": self.errors,
                "ratios": {k: [v[0], 0.5 * (v[1] + v[2])] for k, v in self.ratios.items()},
                "R_mean": self.r_mean, "R_err_lo": self.r_err_lo, "R_err_hi": self.r_err_hi,
                "significance_sigma": self.significance_sigma}


def combined_ratio(model: str | CrossSectionModel = REFERENCE_MODEL, experiments: str | Iterable[str] = "all",
                   likelihood: GalliumLikelihood | None = None, errors: str = DEFAULT_ERROR_TREATMENT) -> CombinedRatio:
    """The combined ratio R̄ with the cross section as a correlated (asymmetric) nuisance.

    ``errors``: the error treatment (:class:`GalliumLikelihood`; ignored with ``likelihood``).
    """
    lk = likelihood or GalliumLikelihood(experiments, model, errors=errors)
    data = lk.observed()
    ones = np.ones(len(lk.names))
    best = lk.profile(ones, data, free_scale=True)
    if not best.converged.all():
        raise FitError("combined ratio: the profile fit did not converge")
    r_hat = float(best.scale[0])
    c_min = float(best.chi2[0])

    def prof(r: float) -> float:
        return float(lk.profile(ones, data, scale=r).chi2[0]) - c_min - 1.0

    def crossing(direction: float) -> float:
        step = 0.02 * direction
        x = r_hat
        for _ in range(200):
            nxt = max(x + step, 1e-6)
            if prof(nxt) > 0:
                return optimize.brentq(prof, x, nxt, xtol=1e-9) if direction > 0 else optimize.brentq(prof, nxt, x, xtol=1e-9)
            x = nxt
            step *= 1.5
        raise FitError("combined ratio: no Δχ² = 1 crossing found")

    lo, hi = crossing(-1.0), crossing(+1.0)
    c1 = float(lk.profile(ones, data, scale=1.0).chi2[0])
    z = math.copysign(math.sqrt(max(c1 - c_min, 0.0)), 1.0 - r_hat)
    rat = {e.name: (e.ratio, float(lk.err_hi[i]), float(lk.err_lo[i])) for i, e in enumerate(lk.experiments)}
    return CombinedRatio(lk.model.name, lk.model.label, rat, r_hat, r_hat - lo, hi - r_hat, c_min,
                         len(lk.names) - 1, c1, z, float(best.nuisances[0, 0]), lk.errors)


def combined_ratio_table(models: Sequence[str] | None = None, experiments: str | Iterable[str] = "all",
                         errors: str = DEFAULT_ERROR_TREATMENT) -> list[CombinedRatio]:
    """:func:`combined_ratio` for every model (default: all of ``XSEC_MODELS``)."""
    return [combined_ratio(m, experiments, errors=errors) for m in (models or list(XSEC_MODELS))]


# ----------------------------------------------------------------------------- 3+1 fit
@dataclass
class GalliumFitResult:
    """The 3+1 fit of a set of gallium experiments on a (Δm², sin²2θ) grid (Wilks, 2 dof)."""

    experiments: list[str]
    model: str
    grid: OscillationGrid
    chi2: NDArray[np.float64]
    best_dm2: float
    best_sin2_2theta: float
    chi2_min: float
    chi2_null: float
    ndf: int
    levels: dict[int, float] = field(default_factory=lambda: {k: wilks_level(k) for k in SIGMA_LEVELS})
    errors: str = DEFAULT_ERROR_TREATMENT

    @property
    def delta_chi2(self) -> NDArray[np.float64]:
        """χ² − χ²_min over the grid (the best fit is refined off the grid, so ≥ 0)."""
        return np.maximum(self.chi2 - self.chi2_min, 0.0)

    @property
    def null_delta_chi2(self) -> float:
        return self.chi2_null - self.chi2_min

    @property
    def null_p_value(self) -> float:
        """p-value of no oscillation (Wilks, 2 dof: unreliable near the sin²2θ = 0 boundary)."""
        return float(chi2_sf(self.null_delta_chi2, 2))

    @property
    def null_z(self) -> float:
        return z_from_delta_chi2(self.null_delta_chi2, 2)

    def allowed(self, n_sigma: int) -> NDArray[np.bool_]:
        """Grid points inside the n-σ allowed region."""
        return self.delta_chi2 <= self.levels[n_sigma]

    def sin2_2theta_interval(self, n_sigma: int = 1) -> tuple[float, float] | None:
        """Range of sin²2θ inside the n-σ region (any Δm²)."""
        m = self.allowed(n_sigma)
        if not m.any():
            return None
        s = np.broadcast_to(self.grid.sin2_2theta, m.shape)[m]
        return float(s.min()), float(s.max())

    def to_dict(self) -> dict[str, Any]:
        return {"experiments": self.experiments, "model": self.model, "errors": self.errors, "best_fit": {"dm2_ev2": self.best_dm2,
                "sin2_2theta": self.best_sin2_2theta, "chi2": self.chi2_min, "ndf": self.ndf},
                "chi2_null": self.chi2_null, "null_delta_chi2": self.null_delta_chi2, "null_p_value_wilks": self.null_p_value,
                "null_z_wilks": self.null_z, "levels": {f"{k}sigma": v for k, v in self.levels.items()},
                "sin2_2theta_1sigma": self.sin2_2theta_interval(1), "grid": self.grid.to_dict(),
                "delta_chi2": self.delta_chi2.tolist()}


def default_gallium_grid(spec: str | tuple[int, int] = "80x80") -> OscillationGrid:
    """Δm² 0.05–100 eV² × sin²2θ 0.01–1 (the region the gallium data constrain)."""
    return OscillationGrid.from_spec(spec, (0.05, 100.0), (0.01, 1.0))


def _as_grid(grid: OscillationGrid | str | tuple[int, int] | None) -> OscillationGrid:
    if grid is None:
        return default_gallium_grid()
    if isinstance(grid, (str, tuple)):
        return default_gallium_grid(grid)
    return grid


def fit_oscillation(experiments: str | Iterable[str] = "all", model: str | CrossSectionModel = REFERENCE_MODEL,
                    grid: OscillationGrid | str | tuple[int, int] | None = None, likelihood: GalliumLikelihood | None = None,
                    errors: str = DEFAULT_ERROR_TREATMENT) -> GalliumFitResult:
    """3+1 fit: profiled χ² on the grid, best fit refined off the grid, χ² of no oscillation.

    ``errors``: the error treatment (:class:`GalliumLikelihood`; ignored with ``likelihood``).
    Fits of the bundled data named by strings (experiment set, model, grid, errors) are computed
    once per process: the study and every contour figure with the gallium overlay share them."""
    errors = error_treatment(errors)
    if likelihood is None and isinstance(experiments, str) and isinstance(model, str) \
            and (grid is None or isinstance(grid, (str, tuple))):
        return _bundled_fit(experiments.lower(), model.lower(), _as_grid(grid).shape, errors)
    return _fit_oscillation(experiments, model, grid, likelihood, errors)


@functools.lru_cache(maxsize=16)
def _bundled_fit(experiments: str, model: str, shape: tuple[int, int],
                 errors: str = DEFAULT_ERROR_TREATMENT) -> GalliumFitResult:
    res = _fit_oscillation(experiments, model, shape, None, errors)
    res.chi2.setflags(write=False)  # shared between callers
    return res


def _fit_oscillation(experiments: str | Iterable[str], model: str | CrossSectionModel,
                     grid: OscillationGrid | str | tuple[int, int] | None,
                     likelihood: GalliumLikelihood | None, errors: str = DEFAULT_ERROR_TREATMENT) -> GalliumFitResult:
    lk = likelihood or GalliumLikelihood(experiments, model, errors=errors)
    g = _as_grid(grid)
    data = lk.observed()
    problem = GalliumGridProblem(lk, g)
    chi2 = problem.chi2_grid(data)[0]

    def f(d: float, s: float) -> float:
        return float(lk.profile(lk.predicted(d, s), data).chi2[0])

    best = refine_minimum(f, g, chi2, k=3)
    null = float(lk.profile(np.ones(len(lk.names)), data).chi2[0])
    return GalliumFitResult(lk.names, lk.model.name, g, chi2, best["dm2"], best["sin2_2theta"], best["chi2"], null,
                            len(lk.names) - 2, errors=lk.errors)


class GalliumGridProblem:
    """The gallium 3+1 likelihood on a grid, in the form the Feldman–Cousins engine calls.

    ``chi2_grid(data)`` → [n, n_dm2, n_s22t] (−2 ln L up to a data-independent constant,
    profiled over every nuisance); ``toys(dm2, s22t, n, rng)`` → :class:`GalliumData`
    generated at that point with the nuisances at their conditional best fit to the observed
    data (profile construction) and the auxiliary data fluctuated; ``observed()``.
    """

    def __init__(self, likelihood: GalliumLikelihood, grid: OscillationGrid, chunk_elements: int = 4_000_000):
        self.likelihood = likelihood
        self.grid = grid
        self._pred = likelihood.predicted(grid.dm2[:, None], grid.sin2_2theta[None, :])  # [n_dm2, n_s22t, E]
        self._chunk = chunk_elements

    def observed(self) -> GalliumData:
        return self.likelihood.observed()

    def describe(self) -> dict[str, Any]:
        """What makes FC toys of this problem differ from another's (the checkpoint key)."""
        obs = self.observed()
        return {"problem": "gallium", "experiments": list(self.likelihood.names),
                "model": array_digest(self._pred, obs.ratios, obs.aux)}

    def chi2_grid(self, data: GalliumData) -> NDArray[np.float64]:
        lk = self.likelihood
        T = self._pred.reshape(-1, len(lk.names))
        per = max(1, self._chunk // max(1, T.shape[0] * len(lk.names) * (lk.n_nuisances + 1) ** 2))
        out = np.empty((len(data), T.shape[0]))
        for a in range(0, len(data), per):
            sub = GalliumData(data.ratios[a:a + per], data.aux[a:a + per])
            pr = lk.profile(T, sub)
            out[a:a + per] = pr.chi2
        return out.reshape((len(data),) + self.grid.shape)

    def toys(self, dm2: float, sin2_2theta: float, n: int, rng: np.random.Generator) -> GalliumData:
        lk = self.likelihood
        pred = lk.predicted(dm2, sin2_2theta)
        nu = lk.profile(pred, lk.observed()).nuisances[0]
        return lk.toys(pred, nu, n, rng)


# ----------------------------------------------------------------------------- source vs detection
HYPOTHESES = ("source", "detection", "sterile")


def DISCRIMINATE_GRID() -> OscillationGrid:
    """The coarse scan of the sterile hypothesis in the joint fit (refined off-grid):
    24 Δm² values in 0.05–100 eV² × 12 sin²2θ values in 0.01–1."""
    return OscillationGrid.from_spec("24x12", (0.05, 100.0), (0.01, 1.0))


@dataclass
class JointFit:
    """One hypothesis fitted to the joint ES + gallium data."""

    hypothesis: str
    r_source: float
    r_ga: float
    dm2: float | None
    sin2_2theta: float | None
    chi2: float
    chi2_es: float
    chi2_ga: float

    def to_dict(self) -> dict[str, Any]:
        return {"hypothesis": self.hypothesis, "R_source": self.r_source, "R_Ga": self.r_ga, "dm2_ev2": self.dm2,
                "sin2_2theta": self.sin2_2theta, "chi2": self.chi2, "chi2_es": self.chi2_es, "chi2_ga": self.chi2_ga}


class JointLikelihood:
    """ES binned likelihood ⊗ gallium χ² with the deficits ``R_source`` and ``R_Ga``.

    Parameters
    ----------
    es_model, es_templates : from :func:`ganom.fitter.config.build_configuration`.
    gallium : the gallium likelihood.
    """

    def __init__(self, es_model: Any, es_templates: Any, gallium: GalliumLikelihood):
        from ganom.fitter.infer.oscillation import OscillationModel

        self.es_model = es_model
        self.osc = OscillationModel(es_model, es_templates)
        self.gallium = gallium
        self._ir = es_model.parameters.index(SIGNAL_STRENGTH)
        self._offset = self._constraint_offset()

    def _constraint_offset(self) -> float:
        """2 × the ES constraint terms at their minimum (θ = aux): the ES part of the reported
        χ² is 2·(−ln L − const) minus this, so that Asimov data at the truth give χ²_ES = 0."""
        m = self.es_model
        return 2.0 * m.constraint_saturated(m.asimov().aux)

    # -- pieces ------------------------------------------------------------------------
    def es_profile(self, es_data: Any, r_values: ArrayLike, dm2: ArrayLike | None = None,
                   sin2_2theta: ArrayLike | None = None) -> NDArray[np.float64]:
        """2·(−ln L_ES − const) minimised over the ES nuisances with R fixed, for a batch of R
        (and, if given, oscillation parameters broadcast against it)."""
        from ganom.fitter.infer.minimize import minimize_batch

        m = self.es_model
        r = np.atleast_1d(np.asarray(r_values, dtype=float))
        if dm2 is not None:
            d, s, r = np.broadcast_arrays(np.asarray(dm2, dtype=float), np.asarray(sin2_2theta, dtype=float), r)
        shape = r.shape
        r = r.ravel()
        out = np.empty(r.size)
        chunk = 64 if dm2 is not None else 512
        for a in range(0, r.size, chunk):
            rr = r[a:a + chunk]
            th = np.broadcast_to(m.parameters.inits, (rr.size, m.n_params)).copy()
            th[:, self._ir] = rr
            fixed = np.broadcast_to(m.parameters.fixed, th.shape).copy()
            fixed[:, self._ir] = True
            nom = None if dm2 is None else self.osc.override(d.ravel()[a:a + chunk], s.ravel()[a:a + chunk])
            res = minimize_batch(m, es_data.main, es_data.aux, th, fixed, nominal=nom, max_iter=400)
            if not res.converged.all():
                raise FitError(f"ES profile: {int((~res.converged).sum())} fits did not converge")
            out[a:a + chunk] = 2.0 * res.objective
        return out.reshape(shape)

    def es_free(self, es_data: Any) -> tuple[float, float]:
        """(R̂, 2·(−ln L − const)) of the ES fit with R free."""
        from ganom.fitter.infer.minimize import minimize_batch

        m = self.es_model
        res = minimize_batch(m, es_data.main, es_data.aux, m.parameters.inits[None, :], max_iter=400)
        if not res.converged.all():
            raise FitError("ES fit with R free did not converge")
        return float(res.theta[0, self._ir]), float(2.0 * res.objective[0])

    def es_asimov(self, r_source: float = 1.0, dm2: float | None = None, sin2_2theta: float | None = None) -> Any:
        """The ES Asimov dataset with signal strength ``r_source`` (and oscillation if given)."""
        return self.osc.asimov({SIGNAL_STRENGTH: r_source}, dm2, sin2_2theta)

    # -- hypotheses --------------------------------------------------------------------
    def fit(self, hypothesis: str, es_data: Any, ga_data: GalliumData | None = None,
            grid: OscillationGrid | str | None = None, starts: Sequence[tuple[float, float]] = ()) -> JointFit:
        """Best fit of one hypothesis: "free" (R_source and R_Ga free), "source" (R_Ga = 1),
        "detection" (R_source = 1) or "sterile" (R_source = R_Ga = 1, Δm² and sin²2θ free:
        a scan of ``grid`` (default :data:`DISCRIMINATE_GRID`), then Nelder–Mead from its two
        lowest local minima and from ``starts``, e.g. the true point of Asimov data)."""
        ga = ga_data or self.gallium.observed()
        lk = self.gallium
        ones = np.ones(len(lk.names))
        if hypothesis == "free":
            r_s, c_es = self.es_free(es_data)
            g = lk.profile(ones, ga, free_scale=True)
            s = float(g.scale[0])
            c_es -= self._offset
            return JointFit("free", r_s, s / r_s, None, None, c_es + float(g.chi2[0]), c_es, float(g.chi2[0]))
        if hypothesis == "detection":
            c_es = float(self.es_profile(es_data, 1.0)[0]) - self._offset
            g = lk.profile(ones, ga, free_scale=True)
            return JointFit("detection", 1.0, float(g.scale[0]), None, None, c_es + float(g.chi2[0]), c_es, float(g.chi2[0]))
        if hypothesis == "source":
            def total(r: float) -> float:
                return float(self.es_profile(es_data, r)[0]) + float(lk.profile(ones, ga, scale=r).chi2[0])

            r0, _ = self.es_free(es_data)
            s0 = float(lk.profile(ones, ga, free_scale=True).scale[0])
            lo, hi = min(r0, s0) - 0.05, max(r0, s0) + 0.05
            res = optimize.minimize_scalar(total, bounds=(max(lo, 0.01), hi), method="bounded",
                                           options={"xatol": 1e-7})
            r = float(res.x)
            c_es = float(self.es_profile(es_data, r)[0]) - self._offset
            c_ga = float(lk.profile(ones, ga, scale=r).chi2[0])
            return JointFit("source", r, 1.0, None, None, c_es + c_ga, c_es, c_ga)
        if hypothesis == "sterile":
            g = _as_grid(grid) if grid is not None else DISCRIMINATE_GRID()
            d, s = np.meshgrid(g.dm2, g.sin2_2theta, indexing="ij")
            tot = lk.profile(lk.predicted(d, s), ga).chi2[0] + self.es_profile(es_data, 1.0, d, s)

            def f(dd: float, ss: float) -> float:
                return (float(self.es_profile(es_data, 1.0, dd, ss).ravel()[0])
                        + float(lk.profile(lk.predicted(dd, ss), ga).chi2[0]))

            best = refine_minimum(f, g, tot, starts, k=2, xatol=1e-4, fatol=1e-6, maxiter=150)
            dd, ss = best["dm2"], best["sin2_2theta"]
            ce = float(self.es_profile(es_data, 1.0, dd, ss).ravel()[0])
            cg = float(lk.profile(lk.predicted(dd, ss), ga).chi2[0])
            return JointFit("sterile", 1.0, 1.0, dd, ss, ce + cg - self._offset, ce - self._offset, cg)
        raise PhysicsInputError("hypothesis", hypothesis, "free | " + " | ".join(HYPOTHESES))


@dataclass
class DiscriminationRecord:
    """How strongly the ES data tell the explanations apart, for one configuration.

    For every true explanation (ES Asimov data generated under it; the gallium data are the
    measured ones) ``delta_chi2[truth][hypothesis]`` is χ²_min(hypothesis) − χ²_min(best
    hypothesis) of the joint likelihood and ``z`` = √Δχ² the expected (Asimov) significance
    with which that hypothesis is rejected.
    """

    detector: str
    distance_m: float
    days: float
    xsec_model: str
    truths: dict[str, dict[str, float]]
    delta_chi2: dict[str, dict[str, float]]
    fits: dict[str, dict[str, JointFit]] = field(repr=False, default_factory=dict)

    @property
    def z(self) -> dict[str, dict[str, float]]:
        return {t: {h: math.sqrt(max(v, 0.0)) for h, v in row.items()} for t, row in self.delta_chi2.items()}

    @property
    def z_source_vs_detection(self) -> tuple[float, float]:
        """(Z rejecting "detection" if the source is at fault, Z rejecting "source" if detection is)."""
        z = self.z
        return z["source"]["detection"], z["detection"]["source"]

    def to_dict(self) -> dict[str, Any]:
        return {"detector": self.detector, "distance_m": self.distance_m, "days": self.days,
                "xsec_model": self.xsec_model, "truths": self.truths, "delta_chi2": self.delta_chi2, "z": self.z,
                "fits": {t: {h: f.to_dict() for h, f in row.items()} for t, row in self.fits.items()}}


def discriminate(detector: str, days: float, source: str = "cr51", distance: str | float = "centre",
                 model: str | CrossSectionModel = REFERENCE_MODEL, experiments: str | Iterable[str] = "all",
                 hypotheses: Sequence[str] = HYPOTHESES, grid: OscillationGrid | str | None = None,
                 activity: str | float | None = None, errors: str = DEFAULT_ERROR_TREATMENT) -> DiscriminationRecord:
    """Expected discrimination between the explanations of the gallium deficit by one ES run.

    Truths: "source" (R_source = R̄ of the gallium data, the ES rate is low), "detection"
    (R_source = 1, the ES rate is nominal) and, if "sterile" is among ``hypotheses``, the
    gallium 3+1 best fit (the ES rate shows the oscillation in L and E).
    """
    from ganom.fitter.config import build_configuration

    for h in hypotheses:
        if h not in HYPOTHESES:
            raise PhysicsInputError("hypotheses", h, " | ".join(HYPOTHESES))
    from ganom.models.sources import load_source

    src = load_source(source)
    if activity is not None:
        src = src.with_activity(activity)
    tpl, es_model = build_configuration(detector, src, distance, float(days))
    lk = GalliumLikelihood(experiments, model, errors=errors)
    joint = JointLikelihood(es_model, tpl, lk)
    ga = lk.observed()
    rbar = float(lk.profile(np.ones(len(lk.names)), ga, free_scale=True).scale[0])
    truths: dict[str, dict[str, float]] = {"source": {"R_source": rbar}, "detection": {"R_source": 1.0}}
    data = {"source": joint.es_asimov(rbar), "detection": joint.es_asimov(1.0)}
    g = _as_grid(grid) if grid is not None else DISCRIMINATE_GRID()
    starts: list[tuple[float, float]] = []
    if "sterile" in hypotheses:
        osc = fit_oscillation(experiments, model, None, lk, errors)
        truths["sterile"] = {"dm2_ev2": osc.best_dm2, "sin2_2theta": osc.best_sin2_2theta}
        data["sterile"] = joint.es_asimov(1.0, osc.best_dm2, osc.best_sin2_2theta)
        starts.append((osc.best_dm2, osc.best_sin2_2theta))
    delta: dict[str, dict[str, float]] = {}
    fits: dict[str, dict[str, JointFit]] = {}
    for t, es_data in data.items():
        fits[t] = {h: joint.fit(h, es_data, ga, g, starts) for h in hypotheses}
        c_best = min(f.chi2 for f in fits[t].values())
        delta[t] = {h: f.chi2 - c_best for h, f in fits[t].items()}
    return DiscriminationRecord(tpl.detector.name, float(tpl.distance_m), float(days), lk.model.name, truths, delta, fits)


# ----------------------------------------------------------------------------- tables
def ratios_table(results: Sequence[CombinedRatio], per_experiment: bool = True) -> Table:
    """Combined ratio per cross-section model: (each experiment's R ± symmetrised error,) R̄
    with its profile-likelihood errors, χ²/ndf and the deficit in σ."""
    names = list(results[0].ratios) if per_experiment else []
    header = ["model"] + names + ["R_mean", "err_lo", "err_hi", "χ²/ndf", "deficit [σ]", "errors"]
    rows = [[c.label] + [f"{c.ratios[n][0]:.3f}±{0.5 * (c.ratios[n][1] + c.ratios[n][2]):.3f}" for n in names]
            + [f"{c.r_mean:.3f}", f"{c.r_err_lo:.3f}", f"{c.r_err_hi:.3f}", f"{c.chi2_min:.2f}/{c.ndf}",
               f"{c.significance_sigma:.2f}", c.errors] for c in results]
    return Table(header, rows)


def oscillation_fits_table(results: Sequence[GalliumFitResult]) -> Table:
    """The 3+1 best fit of each experiment set, its χ²/ndf and the rejection of no oscillation."""
    rows = [[" + ".join(r.experiments), r.model, r.errors, f"{r.best_dm2:.3g}", f"{r.best_sin2_2theta:.3f}",
             f"{r.chi2_min:.2f}/{r.ndf}", f"{r.null_delta_chi2:.2f}", f"{r.null_z:.2f}"] for r in results]
    return Table(["experiments", "model", "errors", "best Δm² [eV²]", "best sin²2θ", "χ²/ndf", "Δχ²(no osc.)",
                  "Z(no osc., Wilks 2 dof)"], rows)


def discrimination_table(records: Sequence[DiscriminationRecord]) -> Table:
    """Per configuration and true explanation: Δχ² and Z of each hypothesis."""
    hyps = list(next(iter(records[0].delta_chi2.values()))) if records else []
    rows = []
    for r in records:
        for t in r.delta_chi2:
            rows.append([r.detector, f"{r.distance_m:g}", f"{r.days:g}", t]
                        + [f"{r.delta_chi2[t][h]:.2f}" for h in hyps] + [f"{r.z[t][h]:.2f}" for h in hyps])
    return Table(["detector", "D [m]", "days", "truth"] + [f"Δχ²({h})" for h in hyps] + [f"Z({h})" for h in hyps], rows)


# ----------------------------------------------------------------------------- solar cross-check
@dataclass
class SolarModelRate:
    """The predicted ⁷¹Ga solar capture rate of one cross-section model against the measured one.

    ``err_hi/err_lo`` [SNU]: flux errors (independent between sources, in quadrature) ⊕ the
    cross-section error (fully correlated between sources, summed linearly). ``pull`` =
    (predicted − measured)/√(σ_pred² + σ_meas²), σ_pred the error on the side of the measurement.
    """

    model: str
    label: str
    predicted_snu: float
    err_hi_snu: float
    err_lo_snu: float
    per_source_snu: dict[str, float]
    ratio: float
    ratio_err: float
    pull: float

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "predicted_snu": self.predicted_snu, "err_hi_snu": self.err_hi_snu,
                "err_lo_snu": self.err_lo_snu, "per_source_snu": self.per_source_snu,
                "measured_over_predicted": self.ratio, "ratio_err": self.ratio_err, "pull_sigma": self.pull}


@dataclass
class SolarCheck:
    """:func:`solar_check`: every model's prediction, the measurement and the inputs used."""

    records: list[SolarModelRate]
    measured_snu: float
    measured_err_snu: float
    measured_reference: str
    flux_sources: dict[str, str]
    p_ee: dict[str, float]
    assumptions: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"records": [r.to_dict() for r in self.records],
                "measured": {"snu": self.measured_snu, "err_snu": self.measured_err_snu,
                             "reference": self.measured_reference},
                "sources": {"fluxes": self.flux_sources, "p_ee": self.p_ee,
                            "cross_sections": "Bahcall, PRC 56 (1997) 3391, Table II, excited-state share rescaled "
                                              "per model (docs/physics.md §8.7)",
                            "p_ee_model": "day-time adiabatic 3-flavour MSW-LMA, NuFIT 6.0"},
                "assumptions": self.assumptions}


_SOLAR_ASSUMPTIONS = [
    "below 2 MeV a model changes only the excited-state share of Bahcall's per-source sigma, in the "
    "proportions of the 175/500 keV states that 51Cr reaches (Frekers' B(GT) shape)",
    "8B and hep keep Bahcall's sigma (+-25 %) for every model but 'ground_state'",
    "CNO split into 13N/15O with B16-GS98 proportions; 17F and hep fluxes from B16-GS98 (not measured)",
    "P_ee day-time only (no Earth regeneration); 8B/hep P_ee at 10 MeV",
    "uncertainties of P_ee (mixing parameters) are not propagated",
]


def solar_check(models: Sequence[str] | None = None, fluxes: dict | None = None) -> SolarCheck:
    """Predicted Ga solar capture rate [SNU] per cross-section model against the measured
    GALLEX+GNO+SAGE rate (Gonzalez-Garcia et al., JHEP 02 (2024) 064 propose this as the test of
    the detection process: the same ⁷¹Ga(νe,e⁻) capture, with measured solar fluxes).

    ``fluxes``: {source: SolarFlux or value} replacing
    :data:`ganom.models.gallium_solar.MEASURED_SOLAR_FLUXES`.
    """
    from ganom.models.gallium_solar import GA_SOLAR_RATE_SNU, MEASURED_SOLAR_FLUXES, solar_capture_rates

    meas, meas_err, meas_ref = GA_SOLAR_RATE_SNU
    fl = fluxes or MEASURED_SOLAR_FLUXES
    recs = []
    p_ee: dict[str, float] = {}
    for name in (models or list(XSEC_MODELS)):
        m = xsec_model(name)
        rows = solar_capture_rates(m, fl)
        pred = sum(r.rate_snu for r in rows)
        flux_hi = math.sqrt(sum((r.err_hi_snu**2 - r.sigma_err_hi_snu**2) for r in rows))
        flux_lo = math.sqrt(sum((r.err_lo_snu**2 - r.sigma_err_lo_snu**2) for r in rows))
        hi = math.hypot(flux_hi, sum(r.sigma_err_hi_snu for r in rows))
        lo = math.hypot(flux_lo, sum(r.sigma_err_lo_snu for r in rows))
        side = lo if pred > meas else hi
        pull = (pred - meas) / math.hypot(side, meas_err)
        ratio = meas / pred
        ratio_err = ratio * math.hypot(meas_err / meas, 0.5 * (hi + lo) / pred)
        recs.append(SolarModelRate(m.name, m.label, pred, hi, lo, {r.source: r.rate_snu for r in rows}, ratio,
                                   ratio_err, pull))
        p_ee = {r.source: r.p_ee for r in rows}
    srcs = {k: (v.reference if hasattr(v, "reference") else "user value") for k, v in fl.items()}
    return SolarCheck(recs, meas, meas_err, meas_ref, srcs, p_ee, list(_SOLAR_ASSUMPTIONS))


def solar_table(check: SolarCheck) -> Table:
    """Per model: predicted SNU (+err, −err), measured, measured/predicted, pull [σ]."""
    rows = [[r.label, f"{r.predicted_snu:.1f}", f"+{r.err_hi_snu:.1f}/-{r.err_lo_snu:.1f}",
             f"{check.measured_snu:.1f}±{check.measured_err_snu:.1f}", f"{r.ratio:.3f}±{r.ratio_err:.3f}",
             f"{r.pull:+.2f}"] for r in check.records]
    return Table(["model", "predicted [SNU]", "err", "measured [SNU]", "measured/predicted", "pull [σ]"], rows)
