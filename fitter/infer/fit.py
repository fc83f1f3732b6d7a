"""Maximum-likelihood fits with iminuit (MIGRAD, HESSE, optionally MINOS) and profile scans.

An invalid minimum is never used silently: :func:`fit` retries once with MINUIT strategy 2
from the initial values, and the :class:`FitResult` says ``valid = False`` if that fails too;
functions that need a valid minimum call :meth:`FitResult.require_valid`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from iminuit import Minuit
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import FitError, InputError, ParameterError
from ganom.fitter.hf.data import Data
from ganom.fitter.hf.model import BinnedModel
from ganom.fitter.infer.distributions import chi2_sf, poisson_pmf
from ganom.fitter.infer.minimize import hessian_from_gradient, minimize_batch

__all__ = ["FitResult", "parameter_kind", "fit", "goodness_of_fit", "poisson_deviance_moments", "ProfileResult",
           "profile_scan"]


@dataclass
class FitResult:
    """The outcome of a maximum-likelihood fit.

    ``nll`` is −ln L with all constants (comparable with pyhf's −logpdf); ``twice_nll``
    is 2·nll. ``pulls`` are (θ̂ − aux)/σ for normally constrained parameters and
    ``constraints`` their post-fit σ relative to the prior. ``kinds`` says what each value
    is: "α [σ]" for a nuisance in units of its Gaussian constraint (normsys, histosys: 0 is
    nominal, ±1 the ±1σ variation; not a rate or an activity in Bq), "N(a, σ)" for another
    Gaussian-constrained factor, "γ (Poisson)" for a Poisson-constrained one, "free" for an
    unconstrained factor (R, normfactors, shapefactors).
    """

    names: list[str]
    values: NDArray[np.float64]
    errors: NDArray[np.float64]
    covariance: NDArray[np.float64]
    nll: float
    valid: bool
    fixed: NDArray[np.bool_]
    edm: float = 0.0
    nfev: int = 0
    message: str = ""
    minos: dict[str, tuple[float, float]] = field(default_factory=dict)
    pulls: dict[str, float] = field(default_factory=dict)
    constraints: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    gof: dict[str, float] = field(default_factory=dict)

    @property
    def twice_nll(self) -> float:
        return 2.0 * self.nll

    @property
    def correlation(self) -> NDArray[np.float64]:
        d = np.sqrt(np.clip(np.diag(self.covariance), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            c = self.covariance / np.outer(d, d)
        return np.where(np.outer(d, d) > 0, c, 0.0)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise InputError(f"unknown parameter '{name}'; known: {', '.join(self.names)}") from None

    def value(self, name: str) -> float:
        return float(self.values[self.index(name)])

    def error(self, name: str) -> float:
        return float(self.errors[self.index(name)])

    def require_valid(self, what: str = "fit") -> FitResult:
        if not self.valid:
            raise FitError(f"{what}: MINUIT did not find a valid minimum ({self.message}); "
                           f"check the data and the parameter bounds")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "message": self.message,
            "nll": self.nll,
            "edm": self.edm,
            "parameters": {n: {"value": float(v), "error": float(e), "fixed": bool(f), "kind": self.kinds.get(n, "")}
                           for n, v, e, f in zip(self.names, self.values, self.errors, self.fixed)},
            "minos": {k: list(v) for k, v in self.minos.items()},
            "pulls": self.pulls,
            "goodness_of_fit": self.gof,
        }

    def table(self, names: Iterable[str] | None = None) -> str:
        """A readable table of the fitted parameters."""
        sel = list(names) if names is not None else self.names
        w = max(len(n) for n in sel)
        k = max([len(self.kinds.get(n, "")) for n in sel] + [4])
        lines = [f"{'parameter':<{w}}  {'kind':<{k}}  {'value':>12}  {'error':>10}  {'pull':>7}", "-" * (w + k + 38)]
        for n in sel:
            i = self.index(n)
            pull = self.pulls.get(n)
            extra = "  fixed" if self.fixed[i] else ""
            if n in self.minos:
                lo, hi = self.minos[n]
                extra += f"  MINOS {lo:+.4g}/{hi:+.4g}"
            lines.append(f"{n:<{w}}  {self.kinds.get(n, ''):<{k}}  {self.values[i]:>12.6g}  {self.errors[i]:>10.4g}  "
                         f"{'' if pull is None else f'{pull:+7.3f}':>7}{extra}")
        status = "valid" if self.valid else f"INVALID ({self.message})"
        lines.append(f"-ln L = {self.nll:.6f}, EDM = {self.edm:.2e}, {status}")
        if self.gof:
            g = self.gof
            sparse = abs(g.get("expected_chi2", g["ndf"]) - g["ndf"]) > 0.01 * max(g["ndf"], 1)
            line = (f"goodness of fit: χ² = {g['chi2']:.1f} for {g['ndf']} degrees of freedom"
                    + (f", {g['expected_chi2']:.1f} expected with these few counts per bin" if sparse else "")
                    + f" (p = {g['p_value']:.3g})")
            if g["p_value"] < 1e-3:
                line += ": the model does not describe these data; read the parameters with care"
            lines.append(line)
        return "\n".join(lines)


@contextlib.contextmanager
def _minuit_messages_to_stderr() -> Iterator[None]:
    """MINUIT's C++ core prints diagnostics ("Initial matrix not pos.def.") on file descriptor 1;
    during a fit they go to stderr, so that a command's JSON on stdout stays valid JSON."""
    try:
        out_fd = sys.stdout.fileno()
        err_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real descriptors (e.g. a notebook)
        yield
        return
    sys.stdout.flush()
    saved = os.dup(out_fd)
    try:
        os.dup2(err_fd, out_fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, out_fd)
        os.close(saved)


def fit(
    model: BinnedModel,
    data: Data,
    init: ArrayLike | Mapping[str, float] | None = None,
    fix: Mapping[str, float] | None = None,
    minos: Sequence[str] | bool = False,
    hesse: bool = True,
    strategy: int = 1,
    tolerance: float = 0.01,
) -> FitResult:
    """Fit ``model`` to ``data`` with MIGRAD (+ HESSE, MINOS on request).

    Parameters
    ----------
    init : starting values (named or a vector; default the model's inits).
    fix : parameters held at the given values (in addition to those fixed in the model).
    minos : parameter names for MINOS errors, or True for the POI.

    The result carries its goodness of fit (:func:`goodness_of_fit`): a valid minimum of a
    model that does not describe the data says so.
    """
    res = _fit(model, data, init, fix, minos, hesse, strategy, tolerance)
    res.gof = goodness_of_fit(model, data, res)
    return res


def goodness_of_fit(model: BinnedModel, data: Data, res: FitResult) -> dict[str, float]:
    """The saturated-model deviance at the fit, χ² = 2(−ln L − −ln L_saturated) (Baker &
    Cousins, NIM 221 (1984) 437), with ndf = bins − free unconstrained parameters (a constrained
    nuisance brings its own auxiliary measurement), and its p-value.

    With few counts per bin the deviance is not χ²(ndf)-distributed (a bin with μ = 0.1 has
    E[d] = 0.47, not 1): the p-value comes from χ² matched to the deviance's exact mean and
    variance at the fitted expectation (:func:`poisson_deviance_moments`, less one mean and two
    variance units per fitted free parameter), D ≈ a·χ²(k) with a = Var/(2E), k = 2E²/Var
    (Satterthwaite); with many counts per bin a = 1, k = ndf. ``expected_chi2`` is that mean.
    """
    chi2 = 2.0 * (res.nll - model.constant(data) - model.constraint_saturated(data.aux))
    free_unconstrained = sum(1 for i, p in enumerate(model.parameters) if not res.fixed[i] and p.constraint == "free")
    ndf = int(model.n_bins - free_unconstrained)
    e_bins, v_bins = poisson_deviance_moments(np.asarray(model.expected(res.values), dtype=float).ravel())
    mean = float(e_bins.sum()) - free_unconstrained
    var = float(v_bins.sum()) - 2.0 * free_unconstrained
    if ndf > 0 and mean > 0 and var > 0:
        a, k = var / (2.0 * mean), 2.0 * mean**2 / var
        p = float(chi2_sf(max(chi2, 0.0) / a, k))
    else:
        p = float("nan")
    return {"chi2": float(chi2), "ndf": ndf, "expected_chi2": mean, "p_value": p}


_DEVIANCE_SUM_TERMS = ((0.0, 0.5, 20), (0.5, 3.0, 40), (3.0, 10.0, 64), (10.0, 30.0, 137))
"""(μ from, μ to, terms n = 0 … terms − 1) of the exact deviance moments: the Poisson tail left
out, weighted by d², is below 10⁻¹⁹ in each class."""


def poisson_deviance_moments(mu: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and variance of one bin's Poisson deviance d = 2(μ − n + n ln(n/μ)), n ~ Poisson(μ).

    Exact sums over n for μ ≤ 30; above, the expansion E = 1 + 1/(6μ), Var = 2(1 + 1/(6μ))²
    (within 0.1 % of the sums at μ = 30). χ²(1) (E = 1, Var = 2) only as μ → ∞:

    >>> e, v = poisson_deviance_moments([0.1, 1000.0])
    >>> [round(float(x), 3) for x in e], [round(float(x), 3) for x in v]
    ([0.474, 1.0], [0.86, 2.001])
    """
    m = np.clip(np.asarray(mu, dtype=float), 1e-12, None)
    e = 1.0 + 1.0 / (6.0 * m)
    v = 2.0 * e**2
    for lo, hi, n_terms in _DEVIANCE_SUM_TERMS:
        sel = (m > lo) & (m <= hi)
        if not np.any(sel):
            continue
        ml = m[sel][:, None]
        n = np.arange(0, n_terms, dtype=float)[None, :]
        pmf = poisson_pmf(n, ml)
        d = 2.0 * (ml - n + np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / ml), 0.0))
        e_sel = (pmf * d).sum(axis=1)
        e[sel] = e_sel
        v[sel] = (pmf * d * d).sum(axis=1) - e_sel**2
    return e, v


def _fit(model: BinnedModel, data: Data, init: ArrayLike | Mapping[str, float] | None,
         fix: Mapping[str, float] | None, minos: Sequence[str] | bool, hesse: bool, strategy: int,
         tolerance: float) -> FitResult:
    ps = model.parameters
    x0 = np.array(ps.inits if init is None else ps.vector(dict(init)) if isinstance(init, Mapping) else init,
                  dtype=float)
    fixed = ps.fixed.copy()
    bounds = ps.bounds
    for name, v in (fix or {}).items():
        i = ps.index(name)
        if not bounds[i, 0] <= float(v) <= bounds[i, 1]:
            raise ParameterError(f"cannot fix '{name}' at {v}: outside its bounds "
                                 f"[{bounds[i, 0]:g}, {bounds[i, 1]:g}]")
        fixed[i] = True
        x0[i] = float(v)
    x0 = np.clip(x0, bounds[:, 0], bounds[:, 1])
    free = np.nonzero(~fixed)[0]
    constant = model.constant(data)

    def full(xf: NDArray) -> NDArray:
        th = x0.copy()
        th[free] = xf
        return th

    last: dict[str, Any] = {}

    def evaluate(xf: NDArray) -> tuple[NDArray, NDArray]:
        """MINUIT asks for the value and the gradient at the same point: evaluate once."""
        x = np.asarray(xf, dtype=float)
        if last.get("x") is None or not np.array_equal(last["x"], x):
            last["x"], last["out"] = x.copy(), model.objective(full(x), data)
        return last["out"]  # type: ignore[no-any-return]

    def fcn(xf: NDArray) -> float:
        return float(evaluate(xf)[0])

    def grad(xf: NDArray) -> NDArray:
        return evaluate(xf)[1][free]  # type: ignore[no-any-return]

    def hess(xf: NDArray) -> NDArray:
        return hessian_from_gradient(lambda t: model.objective(t, data)[1], full(np.asarray(xf)), bounds, free)

    names = [ps.names[i] for i in free]
    if free.size == 0:
        val, _ = model.objective(x0, data)
        return _result(model, x0, np.zeros(x0.size), np.zeros((x0.size, x0.size)), float(val) + constant,
                       True, fixed, 0.0, 1, "all parameters fixed", {})

    flat = model.uses_flat_evaluator

    def newton_fit() -> tuple[NDArray, bool, FitResult | None]:
        """The batched Newton core from x0 (tolerance 1e-10): θ̂, whether it converged, and the
        result when :func:`_newton_result` accepts it (EDM, curvature, KKT)."""
        nb = minimize_batch(model, data.main, data.aux, theta0=x0, fixed=fixed, tol=1e-10, max_iter=1000)
        theta = np.asarray(nb.theta, dtype=float).reshape(-1)
        if not bool(np.all(nb.converged)):
            return theta, False, None
        return theta, True, _newton_result(model, data, theta, free, fixed, hess, grad, constant,
                                           int(nb.iterations), hesse)

    def run(start: NDArray, strat: int) -> Minuit:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if flat:
                m = Minuit(fcn, start, grad=grad, name=names)
            else:
                # iminuit 2.33 needs g2 whenever hessian is given (it then uses the Hessian).
                m = Minuit(fcn, start, grad=grad, hessian=hess, g2=lambda x: np.diag(hess(x)), name=names)
        m.errordef = Minuit.LIKELIHOOD
        m.strategy = strat
        m.tol = tolerance
        m.limits = [tuple(bounds[i]) for i in free]
        with warnings.catch_warnings(), _minuit_messages_to_stderr():
            warnings.simplefilter("ignore")
            m.migrad()
        return m

    start = x0[free]
    newton_start = None
    if flat:
        # Models of any shape (pyhf workspaces): the batched Newton core reaches the minimum
        # in a few vectorised steps; MIGRAD then confirms it from there (strategy 0: the
        # covariance comes from the exact Hessian below, not from MINUIT's estimate).
        theta, converged, done = newton_fit()
        start = theta[free]
        newton_start = start.copy() if converged else None
        if done is not None and not minos:
            return done
    m = run(start, min(strategy, 0) if flat else strategy)
    if not m.valid and not (flat and _bounded_minimum(model, data, full(np.array(m.values)), fixed) is not None):
        m = run(start if flat else x0[free], 2)
    if newton_start is not None and m.valid and fcn(newton_start) < m.fval:
        m.values = newton_start  # the converged Newton point is the more exact minimum
    message = "" if m.valid else _minuit_problem(m)
    valid = bool(m.valid)
    if not valid:
        bounded = _bounded_minimum(model, data, full(np.array(m.values)), fixed)
        if bounded is not None:
            th_b, at = bounded
            m.values = th_b[free]
            valid, message = True, f"minimum on the bound of {', '.join(at)} (KKT conditions checked)"
    exact_cov = None
    if hesse and m.valid:
        h_free = hess(np.array(m.values))
        if flat:
            exact_cov = h_free
        else:
            with warnings.catch_warnings(), _minuit_messages_to_stderr():
                warnings.simplefilter("ignore")
                m.hesse()
        loose = _unconstrained(h_free, names)
        if not m.valid and not message.startswith("minimum on the bound"):
            loose = loose or ["(HESSE failed)"]
        if loose:
            valid, exact_cov = False, None
            message = ("HESSE: the Hessian is not positive definite: the data do not constrain "
                       + (", ".join(loose) if loose else "a combination of parameters"))
    if not valid and not flat and not minos:
        # MIGRAD can stop short on badly scaled likelihoods (nuisances constrained 100× tighter
        # than their priors); the bounded Newton core with the Fisher matrix is scale-free.
        _, _, done = newton_fit()
        if done is not None and not done.message:  # interior minima only: degenerate data stay invalid
            return done
    minos_out: dict[str, tuple[float, float]] = {}
    want = ([ps.poi] if (minos is True and ps.poi) else (list(minos) if minos else []))
    if want and m.valid:
        sel = [n for n in want if n in names]
        if sel:
            with warnings.catch_warnings(), _minuit_messages_to_stderr():
                warnings.simplefilter("ignore")
                m.minos(*sel)
            for n in sel:
                me = m.merrors[n]
                minos_out[n] = (float(me.lower), float(me.upper))
    th = full(np.array(m.values))
    err = np.zeros(th.size)
    err[free] = np.array(m.errors)
    cov = np.zeros((th.size, th.size))
    if exact_cov is not None or (message.startswith("minimum on the bound") and valid):
        # the exact Hessian (finite differences of the analytic gradient) in external
        # coordinates; MINUIT's limit transform would distort HESSE on a bound
        c = np.linalg.inv(exact_cov if exact_cov is not None else hess(th[free]))
        cov[np.ix_(free, free)] = c
        err[free] = np.sqrt(np.clip(np.diag(c), 0.0, None))
    elif m.covariance is not None:
        cov[np.ix_(free, free)] = np.array(m.covariance)
    return _result(model, th, err, cov, fcn(th[free]) + constant, valid, fixed, float(m.fmin.edm),
                   int(m.nfcn), message, minos_out)


def _bounded_minimum(model: BinnedModel, data: Data, theta: NDArray, fixed: NDArray,
                     tol: float = 1e-4) -> tuple[NDArray, list[str]] | None:
    """Refine a minimum that MINUIT rejects because it sits on a parameter limit.

    The bounded Newton minimiser (active set) converges there; the point is accepted when
    the KKT conditions hold: an estimated distance to the minimum ½gᵀH⁻¹g below ``tol``
    (MIGRAD's EDM) in the free interior directions, and a gradient pointing out of the
    allowed region for the parameters on their bounds.
    """

    res = minimize_batch(model, data.main, data.aux, theta, fixed)
    th = res.theta
    _, g = model.objective(th, data)
    lo, hi = model.parameters.bounds[:, 0], model.parameters.bounds[:, 1]
    at_lo = (th <= lo + 1e-12 * np.maximum(1, np.abs(lo))) & (g >= 0) & ~fixed
    at_hi = (th >= hi - 1e-12 * np.maximum(1, np.abs(hi))) & (g <= 0) & ~fixed
    interior = np.nonzero(~fixed & ~at_lo & ~at_hi)[0]
    if not res.converged or not (at_lo | at_hi).any():
        return None
    if interior.size:
        # the distance to the minimum along the free interior directions, as MIGRAD's EDM
        h = hessian_from_gradient(lambda t: model.objective(t, data)[1], th, model.parameters.bounds)
        gi = g[interior]
        try:
            edm = 0.5 * float(gi @ np.linalg.solve(h[np.ix_(interior, interior)], gi))
        except np.linalg.LinAlgError:
            return None
        if not (0 <= edm < tol):
            return None
    names = [model.parameters.names[i] for i in np.nonzero(at_lo | at_hi)[0]]
    return th, names


def _unconstrained(hess: NDArray, names: list[str], rtol: float = 1e-10) -> list[str]:
    """Names of the parameters in flat (or negative-curvature) directions of the Hessian.

    The test runs on the correlation form D^-½ H D^-½ (D = diag H), which does not depend on
    the parameters' units: a shapesys with τ ~ 1e11 next to α's of curvature ~1 is not flat."""
    d = np.diag(hess)
    if np.any(d <= 0):
        return [n for n, x in zip(names, d) if x <= 0]
    s = 1.0 / np.sqrt(d)
    w, v = np.linalg.eigh(0.5 * (hess + hess.T) * np.outer(s, s))
    scale = max(float(np.max(np.abs(w))), 1.0)
    bad = w <= rtol * scale
    if not bad.any():
        return []
    involved = np.any(np.abs(v[:, bad]) > 0.1, axis=1)
    return [n for n, b in zip(names, involved) if b]


def _minuit_problem(m: Minuit) -> str:
    f = m.fmin
    flags = [name for name, bad in (("above max EDM", f.is_above_max_edm), ("call limit", f.has_reached_call_limit),
                                    ("parameters at limit", f.has_parameters_at_limit),
                                    ("Hesse failed", f.hesse_failed)) if bad]
    return ", ".join(flags) or "invalid minimum"


def _newton_result(model: BinnedModel, data: Data, th: NDArray, free: NDArray, fixed: NDArray, hess: Any,
                   grad: Any, constant: float, iterations: int, hesse: bool) -> FitResult | None:
    """The result of a converged Newton minimisation, with the exact Hessian's covariance and
    EDM ½ gᵀH⁻¹g over the interior parameters; parameters on a bound must satisfy the KKT
    conditions (gradient pointing out of the allowed region). None: let MIGRAD decide."""
    names = [model.parameters.names[i] for i in free]
    bounds = model.parameters.bounds[free]
    x = th[free]
    g = np.asarray(grad(x), dtype=float)
    span = bounds[:, 1] - bounds[:, 0]
    lo = x <= bounds[:, 0] + 1e-9 * span
    hi = x >= bounds[:, 1] - 1e-9 * span
    if np.any(lo & (g < 0)) or np.any(hi & (g > 0)):
        return None
    h = hess(x)
    inner = ~(lo | hi)
    hi_in = h[np.ix_(inner, inner)]
    if inner.any() and _unconstrained(hi_in, [n for n, k in zip(names, inner) if k]):
        return None
    try:
        edm = float(0.5 * g[inner] @ np.linalg.solve(hi_in, g[inner])) if inner.any() else 0.0
        c = np.linalg.inv(h) if hesse else np.zeros_like(h)
    except np.linalg.LinAlgError:
        return None
    if not edm < 1e-6:
        return None
    err = np.zeros(th.size)
    cov = np.zeros((th.size, th.size))
    cov[np.ix_(free, free)] = c
    err[free] = np.sqrt(np.clip(np.diag(c), 0.0, None))
    at = [n for n, b in zip(names, lo | hi) if b]
    message = f"minimum on the bound of {', '.join(at)} (KKT conditions checked)" if at else ""
    val, _ = model.objective(th, data)
    return _result(model, th, err, cov, float(val) + constant, True, fixed, edm, iterations, message, {})


def _result(model: BinnedModel, th: NDArray, err: NDArray, cov: NDArray, nll: float, valid: bool,
            fixed: NDArray, edm: float, nfev: int, message: str, minos: dict) -> FitResult:
    pulls, cons = {}, {}
    for i, p in enumerate(model.parameters):
        if p.constraint == "normal" and not fixed[i]:
            pulls[p.name] = float((th[i] - p.aux) / p.sigma)
            cons[p.name] = float(err[i] / p.sigma)
    return FitResult(list(model.parameters.names), th, err, cov, nll, valid, fixed, edm, nfev, message, minos, pulls, cons,
                     {p.name: parameter_kind(p) for p in model.parameters})


def parameter_kind(p: Any) -> str:
    """What a fitted value means (see :class:`FitResult`)."""
    if p.constraint == "normal":
        return "α [σ]" if p.aux == 0.0 and p.sigma == 1.0 else f"N({p.aux:g}, {p.sigma:.3g})"
    return "γ (Poisson)" if p.constraint == "poisson" else "free"


# ----------------------------------------------------------------------------- profiles
@dataclass
class ProfileResult:
    """A profile-likelihood scan: −2Δln L of ``parameter`` at ``values`` (0 at the best fit)."""

    parameter: str
    values: NDArray[np.float64]
    delta_twice_nll: NDArray[np.float64]
    best_value: float
    best_twice_nll: float
    valid: NDArray[np.bool_]

    def interval(self, level: float = 1.0) -> tuple[float, float]:
        """The interval where −2Δln L < ``level`` (1 → 68.3 %), by linear interpolation."""
        x, y = self.values, self.delta_twice_nll
        inside = y < level
        if not inside.any():
            return (float("nan"), float("nan"))
        i0, i1 = np.nonzero(inside)[0][[0, -1]]

        def cross(a: int, b: int) -> float:  # a inside (y < level), b outside
            return float(np.interp(level, [y[a], y[b]], [x[a], x[b]])) if y[a] != y[b] else float(x[a])

        lo = float(x[0]) if i0 == 0 else cross(i0, i0 - 1)
        hi = float(x[-1]) if i1 == x.size - 1 else cross(i1, i1 + 1)
        return lo, hi


def profile_scan(model: BinnedModel, data: Data, parameter: str, values: ArrayLike,
                 best: FitResult | None = None) -> ProfileResult:
    """Profile −2Δln L over ``values`` of ``parameter`` (every other free parameter refitted)."""
    vals = np.asarray(values, dtype=float)
    best = best or fit(model, data)
    best.require_valid("profile_scan: global fit")
    out = np.empty(vals.size)
    ok = np.empty(vals.size, dtype=bool)
    start = best.values.copy()
    order = np.argsort(np.abs(vals - best.value(parameter)))
    for j in order:
        r = fit(model, data, init=start, fix={parameter: float(vals[j])}, hesse=False)
        out[j] = r.twice_nll - best.twice_nll
        ok[j] = r.valid
    return ProfileResult(parameter, vals, np.maximum(out, 0.0), best.value(parameter), best.twice_nll, ok)
