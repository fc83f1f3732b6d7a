"""A batched, bounded Newton minimiser for many fits at once (toys, grid points).

Every batch element is an independent fit of the same :class:`BinnedModel` to its own data
(and, for oscillation scans, its own signal templates). One iteration costs one evaluation of
μ and ∂μ/∂θ for the whole batch; the step solves

    (H + λ diag H) δ = −∇(−ln L),   H = Jᵀ diag(n/μ²) J + constraint curvature

(Fisher scoring: the exact Hessian at an Asimov minimum), with a Levenberg–Marquardt λ per
element that grows when a step does not lower −ln L. Bounds are handled by an active set:
a parameter on a bound whose gradient points outward is held for that step. The gradient is
exact, so the minima are the exact maximum-likelihood points; the results agree with
:func:`fitter.fit.fit` (MIGRAD) to the minimiser tolerance (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .fit import hessian_from_gradient
from .model import MU_FLOOR, BinnedModel, Data


@dataclass
class BatchFit:
    """Results of a batch of fits: θ̂ [N, P], −ln L − constant [N], convergence [N]."""

    theta: NDArray[np.float64]
    objective: NDArray[np.float64]
    converged: NDArray[np.bool_]
    iterations: int
    covariance: NDArray[np.float64] | None = None

    def errors(self) -> NDArray[np.float64]:
        if self.covariance is None:
            raise ValueError("covariance was not computed (call with covariance=True)")
        return np.sqrt(np.clip(np.diagonal(self.covariance, axis1=-2, axis2=-1), 0.0, None))


def _terms(model: BinnedModel, th: NDArray, main: NDArray, aux: NDArray, nominal, histo):
    """(objective, gradient, Fisher matrix) per batch element."""
    mu, jac = model.expected_and_jacobian(th, nominal, histo)
    mu_s = np.maximum(mu, MU_FLOOR)
    val = np.sum(model.deviance_terms(mu_s, main), axis=-1)
    w = np.where(mu > MU_FLOOR, 1.0 - main / mu_s, 1.0)
    grad = np.einsum("...b,...bp->...p", w, jac)
    wj = jac * (main / (mu_s * mu_s))[..., None]
    fisher = np.einsum("...bp,...bq->...pq", wj, jac, optimize=True)
    c, gc = model._constraint(th, aux, True)
    curv = np.zeros(th.shape)
    if model._normal.size:
        curv[..., model._normal] = 1.0 / model._sigma[model._normal] ** 2
    if model._poisson.size:
        i = model._poisson
        lam = np.maximum(th[..., i] * model._sigma[i], MU_FLOOR)
        curv[..., i] = aux[..., i] * model._sigma[i] ** 2 / lam**2
    idx = np.arange(th.shape[-1])
    fisher[..., idx, idx] += curv
    return val + c, grad + gc, fisher


def _objective(model: BinnedModel, th: NDArray, main: NDArray, aux: NDArray, nominal, histo) -> NDArray:
    mu = model.expected(th, nominal, histo)
    val = np.sum(model.deviance_terms(np.maximum(mu, MU_FLOOR), main), axis=-1)
    c, _ = model._constraint(th, aux, False)
    return val + c


def minimize_batch(
    model: BinnedModel,
    main: ArrayLike,
    aux: ArrayLike,
    theta0: ArrayLike | None = None,
    fixed: ArrayLike | None = None,
    nominal: NDArray | None = None,
    histo: tuple[NDArray, NDArray] | None = None,
    max_iter: int = 100,
    tol: float = 1e-9,
    covariance: bool = False,
) -> BatchFit:
    """Minimise −ln L for every batch element.

    Parameters
    ----------
    main, aux : data [N, B] and auxiliary data [N, P] (broadcast to the batch).
    theta0 : starting points [N, P] (default: the model's inits); fixed parameters keep
        their value from here.
    fixed : [P] or [N, P] booleans (default: the model's fixed parameters).
    nominal, histo : batched template overrides (see :meth:`BinnedModel.expected`).
    tol : convergence when the estimated distance to the minimum ½gᵀH⁻¹g and the last
        decrease are both below ``tol``.
    covariance : also return the inverse of the exact Hessian (finite differences of the
        analytic gradient) on the free parameters: HESSE's covariance.
    """
    ps = model.parameters
    P = len(ps)
    main = np.asarray(main, dtype=float)
    batch = np.broadcast_shapes(main.shape[:-1], np.asarray(aux).shape[:-1],
                                () if theta0 is None else np.asarray(theta0).shape[:-1],
                                () if nominal is None else nominal.shape[:-2])
    main = np.broadcast_to(main, batch + main.shape[-1:])
    aux = np.broadcast_to(np.asarray(aux, dtype=float), batch + (P,))
    th = np.broadcast_to(ps.inits if theta0 is None else np.asarray(theta0, dtype=float), batch + (P,)).copy()
    fix = np.broadcast_to(ps.fixed if fixed is None else np.asarray(fixed, dtype=bool), batch + (P,))
    lo, hi = ps.bounds[:, 0], ps.bounds[:, 1]
    th = np.clip(th, lo, hi)
    lam = np.full(batch, 1e-3)
    f, g, H = _terms(model, th, main, aux, nominal, histo)
    done = np.zeros(batch, dtype=bool)
    eye = np.eye(P)
    it = 0
    for it in range(1, max_iter + 1):
        at_lo = (th <= lo) & (g > 0)
        at_hi = (th >= hi) & (g < 0)
        hold = fix | at_lo | at_hi
        gf = np.where(hold, 0.0, g)
        keep = ~hold
        Hf = H * (keep[..., :, None] & keep[..., None, :]) + eye * hold[..., None, :]
        diag = np.diagonal(Hf, axis1=-2, axis2=-1)
        A = Hf + (lam[..., None] * np.maximum(diag, 1e-12))[..., None] * eye
        step = -np.linalg.solve(A, gf[..., None])[..., 0]
        edm = 0.5 * np.einsum("...p,...p->...", -gf, step)
        trial = np.clip(th + step, lo, hi)
        f_new = _objective(model, trial, main, aux, nominal, histo)
        better = (f_new <= f + 1e-12 * np.maximum(1.0, np.abs(f))) & ~done
        conv = done | ((edm < tol) & (np.abs(f - np.where(better, f_new, f)) < tol * 10))
        if np.all(conv):
            done = conv
            break
        upd = better & ~conv
        if np.any(upd):
            th = np.where(upd[..., None], trial, th)
            f_u, g_u, H_u = _terms(model, th, main, aux, nominal, histo)
            f = np.where(upd, f_u, f)
            g = np.where(upd[..., None], g_u, g)
            H = np.where(upd[..., None, None], H_u, H)
        lam = np.where(upd, np.maximum(lam * 0.3, 1e-9), np.where(conv, lam, lam * 10.0))
        stuck = (lam > 1e10) & ~conv
        done = conv | stuck
        if np.all(done):
            break
    converged = done & (lam <= 1e10)
    cov = None
    if covariance:
        def grad_fn(t: NDArray) -> NDArray:
            return _terms(model, t, main, aux, nominal, histo)[1]

        Hx = hessian_from_gradient(grad_fn, th, ps.bounds)
        hold = fix
        Hx = Hx * (~hold[..., :, None] & ~hold[..., None, :]) + eye * hold[..., None, :]
        cov = np.linalg.inv(Hx) * (~hold[..., :, None] & ~hold[..., None, :])
    return BatchFit(th, f, converged, it, cov)


def profile_batch(model: BinnedModel, data: Data, fixed_values: dict[str, ArrayLike],
                  theta0: ArrayLike | None = None, **kw) -> BatchFit:
    """Conditional fits with the named parameters fixed at (arrays of) values."""
    ps = model.parameters
    vals = {k: np.asarray(v, dtype=float) for k, v in fixed_values.items()}
    batch = np.broadcast_shapes(*(v.shape for v in vals.values()))
    th = np.broadcast_to(ps.inits if theta0 is None else np.asarray(theta0, dtype=float), batch + (len(ps),)).copy()
    fix = np.broadcast_to(ps.fixed, batch + (len(ps),)).copy()
    for k, v in vals.items():
        i = ps.index(k)
        th[..., i] = v
        fix[..., i] = True
    return minimize_batch(model, data.main, data.aux, th, fix, **kw)
