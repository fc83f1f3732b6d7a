"""Parity with pyhf: the same workspace fitted by pyhf (numpy backend, minuit) and natively, and
the asymptotic CLs of both (used by tests and benchmarks).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from ganom.exceptions import WorkspaceError
from ganom.fitter.hf.data import Data
from ganom.fitter.hf.model import BinnedModel
from ganom.fitter.infer.distributions import norm_sf
from ganom.fitter.pyhf.export import export_workspace

__all__ = ["logpdf_rounding", "pyhf_minuit", "PyhfFit", "PyhfBridge", "asymptotic_cls", "Parity", "compare_fits", "native_cls"]


# ----------------------------------------------------------------------------- parity helpers
def logpdf_rounding(model: BinnedModel, theta: ArrayLike, data: Data) -> float:
    """An estimate of the float64 rounding error of pyhf's −logpdf at θ [in −ln L units].

    pyhf sums n ln μ − μ − ln Γ(n + 1) per bin and per Poisson constraint: where those terms
    are large and cancel (a shapesys with τ ~ 1e11), its sum carries an absolute error of about
    ε·Σ|terms|, far above 1e-9 of the total. ganom evaluates the same terms in a cancellation-
    free form (:func:`~ganom.fitter.hf.model.poisson_nll`), so agreement is tested to
    max(1e-9 relative, this bound).
    """
    th = np.asarray(theta, dtype=float)
    mu = np.maximum(model.expected(th), 1e-300)
    n = data.main
    terms = np.abs(n * np.log(mu)) + mu + gammaln(n + 1.0)
    total = float(np.sum(terms))
    ps = model.parameters
    for i, p in enumerate(ps):
        if p.constraint == "poisson":
            lam, a = th[i] * p.sigma, data.aux[i]
            total += abs(a * math.log(max(lam, 1e-300))) + lam + float(gammaln(a + 1.0))
        elif p.constraint == "normal":
            total += 0.5 * ((th[i] - data.aux[i]) / p.sigma) ** 2 + abs(math.log(p.sigma)) + 1.0
    return float(np.finfo(float).eps * total)



@contextlib.contextmanager
def pyhf_minuit(tolerance: float = 0.1, strategy: int | None = None) -> Iterator[None]:
    """pyhf with the numpy backend and the minuit optimizer, restored afterwards."""
    import pyhf

    tensorlib, optimizer = pyhf.get_backend()
    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(tolerance=tolerance, strategy=strategy))
    try:
        yield
    finally:
        pyhf.set_backend(tensorlib, optimizer)


@dataclass
class PyhfFit:
    """A pyhf fit in native parameter order: values, HESSE errors, −2 ln L."""

    values: NDArray[np.float64]
    errors: NDArray[np.float64]
    twice_nll: float


class PyhfBridge:
    """The pyhf model of a workspace next to the native one, parameters matched by name.

    pyhf orders parameters and channels its own way (alphabetically); the bridge maps
    native parameter vectors and :class:`Data` to pyhf's vectors and back.
    """

    def __init__(self, spec: Mapping[str, Any], model: BinnedModel, measurement: str | None = None):
        import pyhf

        self.workspace = pyhf.Workspace(dict(spec))
        self.pdf = self.workspace.model(measurement_name=measurement)
        self.model = model
        cfg = self.pdf.config
        names: list[str] = []
        for p in cfg.par_order:
            n = cfg.param_set(p).n_parameters
            names += [p] if cfg.param_set(p).is_scalar else [f"{p}[{i}]" for i in range(n)]
        self.names = names
        missing = set(names) ^ set(model.parameters.names)
        if missing:
            raise WorkspaceError(f"pyhf and native parameters differ: {sorted(missing)}")
        self.to_native = np.array([names.index(n) for n in model.parameters.names])
        self.to_pyhf = np.array([model.parameters.index(n) for n in names])
        self.main_order = np.concatenate([np.arange(model.channel_slices[c].start, model.channel_slices[c].stop)
                                          for c in cfg.channels])
        aux_idx = []
        for p in cfg.auxdata_order:
            ps = cfg.param_set(p)
            aux_idx += [model.parameters.index(p)] if ps.is_scalar else [
                model.parameters.index(f"{p}[{i}]") for i in range(ps.n_parameters)]
        self.aux_order = np.array(aux_idx, dtype=int)

    def pars(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Native θ → pyhf parameter vector."""
        return np.asarray(theta, dtype=float)[..., self.to_pyhf]

    def native(self, pars: ArrayLike) -> NDArray[np.float64]:
        """pyhf parameter vector → native θ."""
        return np.asarray(pars, dtype=float)[..., self.to_native]

    def data(self, data: Data) -> NDArray[np.float64]:
        """Native :class:`Data` → pyhf's main + auxdata vector."""
        return np.concatenate([data.main[self.main_order], data.aux[self.aux_order]])

    def nll(self, theta: ArrayLike, data: Data) -> float:
        """pyhf's −logpdf at native θ."""
        return -float(self.pdf.logpdf(self.pars(theta), self.data(data))[0])

    def fit(self, data: Data, fix: Mapping[str, float] | None = None, init: ArrayLike | None = None,
            restarts: int = 1) -> PyhfFit:
        """pyhf's MLE fit (current backend and optimizer) with ``fix`` held, in native order.

        A fit that pyhf reports as failed (MIGRAD above its EDM goal) is restarted from where
        it stopped, up to ``restarts`` times, as one would by hand.
        """
        import pyhf

        ps = self.model.parameters
        x0 = ps.inits if init is None else np.asarray(init, dtype=float)
        fixed = ps.fixed.copy()
        for k, v in (fix or {}).items():
            i = ps.index(k)
            x0 = x0.copy()
            x0[i] = v
            fixed[i] = True
        try:
            res, twice = pyhf.infer.mle.fit(self.data(data), self.pdf, init_pars=self.pars(x0).tolist(),
                                            par_bounds=[list(b) for b in ps.bounds[self.to_pyhf]],
                                            fixed_params=fixed[self.to_pyhf].tolist(), return_uncertainties=True,
                                            return_fitted_val=True)
        except pyhf.exceptions.FailedMinimization as exc:
            if restarts < 1:
                raise
            return self.fit(data, fix, self.native(np.asarray(exc.result.x, dtype=float)), restarts - 1)
        res = np.asarray(res)
        return PyhfFit(self.native(res[:, 0]), self.native(res[:, 1]), float(twice))


def asymptotic_cls(q: float, q_asimov: float) -> float:
    """CLs of the q̃ test statistic with the asymptotic formulae (Cowan et al. 2011, eq. 65–66).

    ``q_asimov`` is q̃ on the background-only (POI = 0) Asimov data; CLs = p_{s+b} / (1 − p_b).
    """
    sq, sqa = math.sqrt(max(q, 0.0)), math.sqrt(max(q_asimov, 0.0))
    if sq <= sqa or sqa == 0.0:
        clsb, clb = norm_sf(sq), norm_sf(sq - sqa)
    else:
        clsb, clb = norm_sf((q + q_asimov) / (2 * sqa)), norm_sf((q - q_asimov) / (2 * sqa))
    return float(clsb / clb)


@dataclass
class Parity:
    """Native and pyhf fits of one model to one dataset: the POI, its error, and the
    twice-NLL difference between the hypothesis ``poi = test`` and the best fit (pairs are
    (native, pyhf)). ``pyhf_profile_sigma``: δ/√(2ΔNLL) of pyhf's profile at POÎ + δ, δ = the
    native σ (a check of σ that does not rely on numerical second derivatives)."""

    poi: str
    test: float
    poi_hat: tuple[float, float]
    sigma: tuple[float, float]
    delta_twice_nll: tuple[float, float]
    native_s: float
    pyhf_s: float
    pyhf_profile_sigma: float | None = None

    def row(self) -> dict[str, float | None]:
        keys = ("poi_hat", "sigma", "delta_twice_nll")
        out = {f"{k}_{w}": getattr(self, k)[j] for k in keys for j, w in enumerate(("native", "pyhf"))}
        return {**out, "pyhf_profile_sigma": self.pyhf_profile_sigma, "native_s": self.native_s, "pyhf_s": self.pyhf_s}


def compare_fits(model: BinnedModel, data: Data, test: float, spec: Mapping[str, Any] | None = None,
                 tolerance: float = 0.01, strategy: int = 2, profile: bool = False) -> Parity:
    """Fit ``data`` natively (MIGRAD on the analytic gradient) and with pyhf (numpy, minuit):
    free and with the POI fixed at ``test`` (and at POÎ + σ with ``profile``). ``spec``
    defaults to the exact export. The times cover the free and the ``test`` fits."""
    import time

    from ganom.fitter.infer.fit import fit

    poi = model.poi
    i = model.parameters.index(poi)
    br = PyhfBridge(spec if spec is not None else export_workspace(model, data, digits=None), model)
    t0 = time.perf_counter()
    nf = fit(model, data)
    nc = fit(model, data, init=nf.values, fix={poi: test}, hesse=False)
    t1 = time.perf_counter()
    with pyhf_minuit(tolerance, strategy):
        pf = br.fit(data)

        def conditional(value: float) -> float:
            start = pf.values.copy()
            start[i] = value
            return br.fit(data, fix={poi: value}, init=start).twice_nll - pf.twice_nll

        dq = conditional(test)
        t2 = time.perf_counter()
        width = None
        if profile:
            width = float(nf.errors[i] / math.sqrt(conditional(float(pf.values[i] + nf.errors[i]))))
    return Parity(poi, test, (float(nf.values[i]), float(pf.values[i])), (float(nf.errors[i]), float(pf.errors[i])),
                  (nc.twice_nll - nf.twice_nll, dq), t1 - t0, t2 - t1, width)


def native_cls(model: BinnedModel, data: Data, test: float) -> tuple[float, float, float]:
    """(CLs, q̃, q̃_A) of POI = ``test`` with the asymptotic formulae, computed as pyhf's
    ``hypotest(..., test_stat="qtilde", calctype="asymptotics")`` does: q̃_A on the Asimov
    data of the POI = 0 conditional fit to ``data``. Fits: the batched Newton minimiser."""
    from ganom.exceptions import FitError
    from ganom.fitter.infer.minimize import minimize_batch

    ps = model.parameters
    ip = ps.index(model.poi)

    def fits(main: NDArray, aux: NDArray, values: Sequence[float | None]) -> Any:
        th = np.tile(ps.inits, (len(values), 1))
        fixed = np.tile(ps.fixed, (len(values), 1))
        for k, v in enumerate(values):
            if v is not None:
                th[k, ip], fixed[k, ip] = v, True
        res = minimize_batch(model, main, aux, th, fixed)
        if not res.converged.all():
            raise FitError(f"native_cls: a fit with {model.poi} in {values} did not converge")
        return res

    def qtilde(res: Any) -> float:
        q = 2.0 * (res.objective[1] - res.objective[0])
        return max(float(q), 0.0) if res.theta[0, ip] <= test else 0.0

    on_data = fits(data.main, data.aux, [None, test, 0.0])
    asimov = model.asimov(on_data.theta[2])
    q, q_a = qtilde(on_data), qtilde(fits(asimov.main, asimov.aux, [None, test]))
    return asymptotic_cls(q, q_a), q, q_a
