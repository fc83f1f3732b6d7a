"""A batched, bounded Newton minimiser for many fits at once (toys, grid points).

Every batch element is an independent fit of the same :class:`BinnedModel` to its own data
(and, for oscillation scans, its own signal templates). One iteration costs one evaluation of
μ and ∂μ/∂θ for the whole batch; the step solves

    (H + λ diag H) δ = −∇(−ln L),   H = Jᵀ diag(n/μ²) J + constraint curvature

(Fisher scoring: the exact Hessian at an Asimov minimum), with a Levenberg–Marquardt λ per
element that grows when a step does not lower −ln L. Bounds are handled by an active set:
a parameter on a bound whose gradient points outward is held for that step. The gradient is
exact, so the minima are the exact maximum-likelihood points; the results agree with
:func:`ganom.fitter.infer.fit.fit` (MIGRAD) to the minimiser tolerance (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.fitter.hf.data import Data
from ganom.fitter.hf.interpolation import HistoParts
from ganom.fitter.hf.model import BinnedModel, RowOverride, RowShift
from ganom.fitter.infer.parallel import single_blas_thread

__all__ = ["hessian_from_gradient", "Damping", "newton_batch", "BatchFit", "minimize_batch", "profile_batch"]


def hessian_from_gradient(grad: Any, theta: NDArray, bounds: NDArray | None = None, index: NDArray | None = None,
                          rel_step: float = 1e-5) -> NDArray:
    """Symmetric Hessian by finite differences of an analytic gradient, over the coordinates
    ``index`` (default all): [..., P] → [..., k, k].

    Central differences, one-sided next to a bound (a fitted R = 0 sits on its bound). For a
    single point (θ [P]) all 2k perturbed points go to ``grad`` as one [2k, P] batch; for a
    batch of points (θ [..., P]) ``grad`` is called once per coordinate with the whole batch.
    """
    th = np.asarray(theta, dtype=float)
    idx = np.arange(th.shape[-1]) if index is None else np.asarray(index)
    k = idx.size
    h = rel_step * np.maximum(1.0, np.abs(th[..., idx]))
    up = np.ones_like(h)
    dn = np.ones_like(h)
    if bounds is not None:
        dn = np.where(th[..., idx] - h < bounds[idx, 0], 0.0, 1.0)  # no room below: forward difference
        up = np.where(th[..., idx] + h > bounds[idx, 1], 0.0, 1.0)  # no room above: backward difference
        up = np.where((up == 0) & (dn == 0), 1.0, up)
    if th.ndim == 1:
        pts = np.broadcast_to(th, (2 * k, th.size)).copy()
        rows = np.arange(k)
        pts[rows, idx] += h * up
        pts[k + rows, idx] -= h * dn
        g = np.asarray(grad(pts))[:, idx]
        g_up, g_dn = g[:k], g[k:]
    else:
        g_up = np.empty(th.shape[:-1] + (k, k))
        g_dn = np.empty_like(g_up)
        for j, i in enumerate(idx):
            e = np.zeros_like(th)
            e[..., i] = h[..., j] * up[..., j]
            g_up[..., j, :] = np.asarray(grad(th + e))[..., idx]
            e[..., i] = h[..., j] * dn[..., j]
            g_dn[..., j, :] = np.asarray(grad(th - e))[..., idx]
    out = (g_up - g_dn) / (h * (up + dn))[..., None]
    return 0.5 * (out + np.swapaxes(out, -1, -2))  # type: ignore[no-any-return]


Evaluate = Callable[[NDArray, NDArray, int], tuple[NDArray, "NDArray | None", "NDArray | None"]]


@dataclass(frozen=True)
class Damping:
    """Levenberg–Marquardt damping schedule of :func:`newton_batch`: λ starts at ``start``,
    becomes max(λ·``shrink``, ``floor``) after an accepted step that gained at least ``poor``
    of the decrease its quadratic model predicted, max(λ·``grow``, ``poor_floor``) after an
    accepted step that gained less (the model's curvature is off: e.g. a Fisher matrix below
    the observed curvature makes every step overshoot), and max(λ·``grow``, ``reject_floor``)
    after a rejected one; an element whose λ passes ``give_up`` stops, not converged."""

    start: float = 1e-3
    shrink: float = 0.3
    floor: float = 1e-9
    grow: float = 10.0
    reject_floor: float = 0.0
    give_up: float = 1e10
    poor: float = 0.25
    poor_floor: float = 0.1


def _model_decrease(g: NDArray, H: NDArray, d: NDArray) -> NDArray:
    """−(gᵀd + ½dᵀHd): the decrease the quadratic model predicts for the steps d [n, P]."""
    return -(np.einsum("np,np->n", g, d) + 0.5 * np.einsum("np,npq,nq->n", d, H, d))  # type: ignore[no-any-return]


def newton_batch(evaluate: Evaluate, theta0: NDArray, lower: NDArray, upper: NDArray, fixed: NDArray, *,
                 max_iter: int = 100, tol: float = 1e-7, damping: Damping = Damping(), refresh: int | None = None,
                 lazy: bool = False, start: tuple[NDArray, NDArray, NDArray] | None = None,
                 limit_step: Callable[[NDArray, NDArray, NDArray], NDArray] | None = None,
                 predict: bool = False) -> tuple[NDArray, NDArray, NDArray, int]:
    """The batched minimiser core: bounded, damped Newton steps for N independent problems.

    ``evaluate(θ [m, P], rows [m], order)`` returns (f [m], ∇f [m, P], H [m, P, P]) of the
    problems ``rows`` at θ, with ∇f (order ≥ 1) and H (order 2) left ``None`` when not asked.
    H must be positive semi-definite (a Fisher or Gauss–Newton matrix, or the exact Hessian
    where that is positive definite): the steps are then descent directions.
    Each iteration solves (H + λ diag H) δ = −∇f per active element; a parameter on a bound
    whose gradient points outward is held for that step (active set). A step is accepted when
    f does not rise; an element has converged when ½gᵀH⁻¹g < ``tol`` with λ < 1 (or after an
    accepted step that gained < tol/10 with the same estimate).

    ``refresh``: recompute H only every ``refresh``-th iteration (order-1 evaluations between:
    quasi-frozen curvature for good starting points). ``lazy``: evaluate only f at a trial
    point and the derivatives where the step is accepted. ``start``: (f, ∇f, H) at θ₀ if
    known. ``limit_step(θ, δ, rows)`` may shorten the steps (e.g. keep a scale positive).
    ``predict``: an element that converges on ½gᵀH⁻¹g < ``tol`` reports the minimum its
    quadratic model predicts, f − ½gᵀH⁻¹g (computed along the damped step: exact to O(λ²)),
    while θ stays where f was evaluated.
    Returns (θ̂ [N, P], f [N], converged [N], iterations).
    """
    th = np.clip(np.array(theta0, dtype=float), lower, upper)
    n, P = th.shape
    allidx = np.arange(n)
    if start is None:
        f, g, H = evaluate(th, allidx, 2)
    else:
        f, g, H = (np.array(a, dtype=float) for a in start)
    lam = np.full(n, damping.start)
    done = np.zeros(n, dtype=bool)
    stuck = np.zeros(n, dtype=bool)
    eye = np.eye(P)
    it = 0
    for it in range(1, max_iter + 1):
        act = np.nonzero(~done)[0]
        if act.size == 0:
            break
        tha, ga, Ha, fa, la, fixa = th[act], g[act], H[act], f[act], lam[act], fixed[act]
        hold = fixa | ((tha <= lower) & (ga > 0)) | ((tha >= upper) & (ga < 0))
        gf = np.where(hold, 0.0, ga)
        keep = ~hold
        Hf = Ha * (keep[:, :, None] & keep[:, None, :]) + eye * hold[:, None, :]
        diag = np.diagonal(Hf, axis1=-2, axis2=-1)
        A = Hf + (la[:, None] * np.maximum(diag, 1e-12))[:, :, None] * eye
        step = -np.linalg.solve(A, gf[..., None])[..., 0]
        edm = 0.5 * np.einsum("np,np->n", -gf, step)
        small = (np.abs(edm) < tol) & (la < 1.0)  # |·|: an indefinite H gives edm < 0, not convergence
        done[act[small]] = True
        if predict and small.any():  # the model's decrease along this (barely damped) step
            f[act[small]] -= np.maximum(_model_decrease(gf[small], Hf[small], step[small]), 0.0)
        go = ~small
        act, tha, step, fa, la, edm = act[go], tha[go], step[go], fa[go], la[go], edm[go]
        if act.size == 0:
            break
        if limit_step is not None:
            step = limit_step(tha, step, act)
        trial = np.clip(tha + step, lower, upper)
        order = 1 if refresh is not None and it % refresh else 2
        f_t, g_t, H_t = evaluate(trial, act, 0 if lazy else order)
        resolution = 1e-12 * np.maximum(1.0, np.abs(fa))
        better = f_t <= fa + resolution
        # the decrease the undamped quadratic model predicts for the step taken (where it is
        # resolvable in f): a step that gains much less than that overshot
        predicted = _model_decrease(gf[go], Hf[go], trial - tha)
        poor = better & (predicted > 100.0 * resolution) & (fa - f_t < damping.poor * predicted)
        acc = act[better]
        th[acc], f[acc] = trial[better], f_t[better]
        if lazy:
            if acc.size:
                f[acc], g_l, H_l = evaluate(th[acc], acc, order)
                g[acc] = g_l
                if H_l is not None:
                    H[acc] = H_l
        else:
            g[acc] = g_t[better]
            H[acc] = (Ha[go] if order == 1 else H_t)[better]
        done[act[better & (fa - f_t < 0.1 * tol) & (np.abs(edm) < tol)]] = True
        lam[act] = np.where(better, np.where(poor, np.maximum(la * damping.grow, damping.poor_floor),
                                             np.maximum(la * damping.shrink, damping.floor)),
                            np.maximum(la * damping.grow, damping.reject_floor))
        bad = act[~better & (lam[act] > damping.give_up)]
        stuck[bad] = True
        done[bad] = True
    return th, f, done & ~stuck, it


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
    mu, jt = model.mu_and_jacobian_t(th, nominal, histo)
    val, w, curv_b = model.data_terms(mu, main, aux, curvature=True)
    grad = np.matmul(jt, w[..., None])[..., 0]
    fisher = np.matmul(jt * curv_b[..., None, :], np.swapaxes(jt, -1, -2))
    c, gc = model._constraint(th, aux, True)
    curv = model.constraint_curvature(th, aux)
    idx = np.arange(th.shape[-1])
    fisher[..., idx, idx] += curv
    return val + c, grad + gc, fisher


def _value_grad(model: BinnedModel, th: NDArray, main: NDArray, aux: NDArray, nominal, histo) -> tuple[NDArray, NDArray]:
    """(objective, exact gradient) without the Jacobian (fast-path models)."""
    return model.value_and_gradient(th, main, aux, nominal)


@single_blas_thread
def minimize_batch(
    model: BinnedModel,
    main: ArrayLike,
    aux: ArrayLike,
    theta0: ArrayLike | None = None,
    fixed: ArrayLike | None = None,
    nominal: NDArray | None = None,
    histo: tuple[NDArray, NDArray] | None = None,
    max_iter: int = 1000,
    tol: float = 1e-7,
    covariance: bool = False,
    template_index: ArrayLike | None = None,
    hessian: str = "fisher",
    hessian0: NDArray | None = None,
    predict: bool = False,
    _gather: tuple | None = None,
) -> BatchFit:
    """Minimise −ln L for every batch element.

    Parameters
    ----------
    main, aux : data [N, B] and auxiliary data [N, P] (broadcast to the batch).
    theta0 : starting points [N, P] (default: the model's inits); fixed parameters keep
        their value from here.
    fixed : [P] or [N, P] booleans (default: the model's fixed parameters).
    nominal, histo : batched template overrides (see :meth:`BinnedModel.expected`); ``nominal``
        may also be a :class:`RowOverride` or a :class:`RowShift` (oscillated signal rows).
    tol : convergence when the estimated distance to the minimum ½gᵀH⁻¹g is below ``tol``
        (in −ln L; Δχ² is then accurate to ~2·tol).
    covariance : also return the inverse of the exact Hessian (finite differences of the
        analytic gradient) on the free parameters: HESSE's covariance.
    template_index : with ``nominal`` [U, S, B] (and ``histo`` [U, H, S, B]) holding U
        distinct template sets, the set each batch element uses ([N] integers): many
        fits that share a few hypotheses run as one batch without copying templates.
    hessian : "fisher" (recomputed at every accepted step) or "frozen" (the Fisher matrix of
        the start, refreshed every 8th step; the steps between use exact gradients computed
        without ∂μ/∂θ: cheaper iterations for good starting points, same minimum).
    hessian0 : with ``hessian="frozen"``, a [P, P] (or [N, P, P]) approximation of the Hessian
        to start from (e.g. the Fisher matrix at the truth of a batch of toys): the first step
        then needs no ∂μ/∂θ at all.
    predict : report the minimum the last quadratic model predicts, f − ½gᵀH⁻¹g, where an
        element converged on ½gᵀH⁻¹g < ``tol`` (:func:`newton_batch`); the objective is then
        accurate to a fraction of ``tol`` rather than to ``tol``.
    """
    ps = model.parameters
    P = len(ps)
    if hessian not in ("fisher", "frozen"):
        raise ValueError(f"hessian = {hessian!r}; allowed: fisher | frozen")
    main = np.asarray(main, dtype=float)
    if histo is not None and not isinstance(histo, HistoParts):
        histo = HistoParts.from_shifts(*histo)
    if template_index is not None:
        tix = np.asarray(template_index, dtype=int).ravel()
        res = minimize_batch(model, main, aux, theta0, fixed, None, None, max_iter, tol, covariance,
                             hessian=hessian, hessian0=hessian0, predict=predict, _gather=(nominal, histo, tix))
        return res
    is_ov = isinstance(nominal, (RowOverride, RowShift))
    batch = np.broadcast_shapes(main.shape[:-1], np.asarray(aux).shape[:-1],
                                () if theta0 is None else np.asarray(theta0).shape[:-1],
                                () if nominal is None else (nominal.batch_shape if is_ov else nominal.shape[:-2]))
    n = int(np.prod(batch)) if batch else 1
    # work on a flat batch; per-element inputs are broadcast (views) and gathered per iteration
    main_b = np.broadcast_to(main, batch + main.shape[-1:]).reshape(n, -1)
    aux_b = np.broadcast_to(np.asarray(aux, dtype=float), batch + (model.n_aux,)).reshape(n, model.n_aux)
    th = np.broadcast_to(ps.inits if theta0 is None else np.asarray(theta0, dtype=float), batch + (P,)).reshape(n, P).copy()
    fix = np.broadcast_to(ps.fixed if fixed is None else np.asarray(fixed, dtype=bool), batch + (P,)).reshape(n, P)
    if is_ov:
        nom_b = nominal.broadcast(batch).reshape((n,))
    else:
        nom_b = None if nominal is None else np.broadcast_to(nominal, batch + nominal.shape[-2:]).reshape((n,) + nominal.shape[-2:])
    his_b = None
    if histo is not None and histo.sym.ndim == 4:
        his_b = HistoParts(np.broadcast_to(histo.sym, batch + histo.sym.shape[-3:]).reshape((n,) + histo.sym.shape[-3:]),
                           np.broadcast_to(histo.asym, batch + histo.asym.shape[-3:]).reshape((n,) + histo.asym.shape[-3:]))
    lo, hi = ps.bounds[:, 0], ps.bounds[:, 1]
    th = np.clip(th, lo, hi)

    def sub(idx: NDArray):
        if _gather is not None:
            g_nom, g_his, g_ix = _gather
            t = g_ix[idx]
            nm = None if g_nom is None else g_nom[t]
            if isinstance(g_nom, RowOverride):
                return main_b[idx], aux_b[idx], nm, None
            hs = None if g_his is None else (g_his[t] if g_his.sym.ndim == 4 else g_his)
            return main_b[idx], aux_b[idx], nm, hs
        if idx.size == n:  # every element (idx is increasing): no copies
            return main_b, aux_b, nom_b, histo if his_b is None else his_b
        nm = None if nom_b is None else nom_b[idx]
        hs = histo if his_b is None else his_b[idx]
        return main_b[idx], aux_b[idx], nm, hs

    allidx = np.arange(n)
    # frozen Fisher matrix: exact gradients without ∂μ/∂θ between refreshes (fast-path models)
    src_nom, src_his = (_gather[0], _gather[1]) if _gather is not None else (nominal, histo)
    frozen = (hessian == "frozen" and not model.has_per_bin and src_his is None
              and (src_nom is None or isinstance(src_nom, (RowOverride, RowShift))))

    def evaluate(t: NDArray, rows: NDArray, order: int) -> tuple[NDArray, NDArray | None, NDArray | None]:
        if order == 2:
            return _terms(model, t, *sub(rows))
        return (*_value_grad(model, t, *sub(rows)), None)

    start = None
    if frozen and hessian0 is not None:
        start = (*_value_grad(model, th, *sub(allidx)),
                 np.broadcast_to(np.asarray(hessian0, dtype=float), (n, P, P)))
    th, f, converged, it = newton_batch(evaluate, th, lo, hi, fix, max_iter=max_iter, tol=tol,
                                        refresh=8 if frozen else None, start=start, predict=predict)
    cov = None
    if covariance:
        inputs = sub(allidx)  # the templates each element was fitted with (gathered if need be)

        def grad_fn(t: NDArray) -> NDArray:
            return _terms(model, t, *inputs)[1]

        Hx = hessian_from_gradient(grad_fn, th, ps.bounds)
        eye = np.eye(P)
        free2 = ~fix[:, :, None] & ~fix[:, None, :]
        cov = (np.linalg.inv(Hx * free2 + eye * fix[:, None, :]) * free2).reshape(batch + (P, P))
    th = th.reshape(batch + (P,))
    f = f.reshape(batch)
    converged = converged.reshape(batch)
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
