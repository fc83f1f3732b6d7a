"""Significance of an R deficit, Asimov and toy significances.

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import FitError, PhysicsInputError
from ganom.fitter.hf.model import BinnedModel
from ganom.fitter.hf.parameters import SIGNAL_STRENGTH
from ganom.fitter.infer.fit import fit
from ganom.fitter.infer.minimize import minimize_batch

__all__ = [
    "R_DEFICIT",
    "SignificanceResult",
    "one_sided_q",
    "asimov_significance",
    "sigma_r",
    "toy_significance",
    "significance",
]

R_DEFICIT = 0.82  # a gallium-like deficit (docs/physics.md §8)


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
                        poi: str = SIGNAL_STRENGTH, *, sigma: float | None = None) -> SignificanceResult:
    """Median significance to reject R = r_test when the truth is R = r_true (Asimov data).

    The free fit starts at the truth, which is the minimum of Asimov data (MIGRAD confirms it
    in a few steps). ``sigma``: σ_R at R = 1 if already known (saves a fit when r_true ≠ 1).
    """
    _check_hypotheses(r_true, r_test)
    data = model.asimov({poi: r_true})
    free = fit(model, data, init={poi: r_true}).require_valid("Asimov fit")
    cond = fit(model, data, init=free.values, fix={poi: r_test}, hesse=False).require_valid("conditional Asimov fit")
    q = float(one_sided_q(cond.twice_nll, free.twice_nll, free.value(poi), r_true, r_test))
    if r_true == 1.0:
        sigma = free.error(poi)
    elif sigma is None:
        sigma = sigma_r(model, 1.0, poi)
    return SignificanceResult(r_true, r_test, math.sqrt(q), q, sigma)


def sigma_r(model: BinnedModel, r_true: float = 1.0, poi: str = SIGNAL_STRENGTH) -> float:
    """HESSE uncertainty of R on the Asimov dataset at R = r_true (the fit starts at the truth)."""
    res = fit(model, model.asimov({poi: r_true}), init={poi: r_true}).require_valid("Asimov fit for σ_R")
    return res.error(poi)


def toy_significance(model: BinnedModel, r_true: float = R_DEFICIT, r_test: float = 1.0, n_toys: int = 1000,
                     seed: int = 0, poi: str = SIGNAL_STRENGTH, chunk: int = 500,
                     progress: bool = False) -> tuple[NDArray, NDArray]:
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
    from ganom.progress import progress as progress_bar

    bar = progress_bar(n_toys, f"toys at R = {r_true:g}", "toy", enabled=progress)
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
            raise FitError(f"toy_significance: {bad} toy fits did not converge")
        q = one_sided_q(2 * cond.objective, 2 * free.objective, free.theta[:, ip], r_true, r_test)
        z[sl] = np.sqrt(q)
        r_hat[sl] = free.theta[:, ip]
        bar.update(min(chunk, n_toys - s))
    bar.close()
    return z, r_hat


def significance(model: BinnedModel, r_true: float = R_DEFICIT, r_test: float = 1.0, n_toys: int = 0,
                 seed: int = 0, progress: bool = False, *, sigma: float | None = None) -> SignificanceResult:
    """Asimov significance, σ_R and (with ``n_toys``) the toy median and ±1σ/±2σ bands.
    ``sigma``: σ_R at R = 1 if already known (:func:`asimov_significance`)."""
    res = asimov_significance(model, r_true, r_test, sigma=sigma)
    if n_toys:
        z, _ = toy_significance(model, r_true, r_test, n_toys, seed, progress=progress)
        qs = np.quantile(z, [0.0228, 0.1587, 0.5, 0.8413, 0.9772])
        res.z_toys_median = float(qs[2])
        res.z_toys_bands = {"-2sigma": float(qs[0]), "-1sigma": float(qs[1]), "+1sigma": float(qs[3]),
                            "+2sigma": float(qs[4])}
        res.n_toys = n_toys
    return res
