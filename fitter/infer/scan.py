"""Vectorised profile-likelihood scans over the (Δm², sin²2θ) grid.

At every grid point all nuisance parameters are profiled by the batched Newton minimiser,
all grid points of a chunk at once; the only per-point work is a contraction of the signal
kernel. The global minimum is the lowest of: every grid point, the no-oscillation hypothesis
(sin²2θ = 0) and the best grid point polished in continuous (Δm², sin²2θ) by
:func:`refine_minimum`, the polisher every oscillation fit of ganom uses.

The signal strength ``R`` is held at 1 by default (a source experiment predicts the rate: an
average deficit at large Δm² is part of the sterile signature); ``r_free=True`` profiles it
instead, for a shape-only (baseline and energy) analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ganom.fitter.hf.data import Data
from ganom.fitter.hf.model import BinnedModel
from ganom.fitter.hf.parameters import SIGNAL_STRENGTH
from ganom.fitter.infer.fit import fit
from ganom.fitter.infer.minimize import minimize_batch
from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
from ganom.fitter.infer.parallel import single_blas_thread

__all__ = [
    "MEMORY_BUDGET_FLOATS",
    "ScanResult",
    "fixed_mask",
    "null_start",
    "profile_points",
    "scan_grid",
    "local_minima",
    "refine_minimum",
    "polish_minimum",
    "fit_point",
]

MEMORY_BUDGET_FLOATS = 2.5e7  # per chunk: batch × samples × bins (≈ 200 MB of float64)


@dataclass
class ScanResult:
    """2 × the fit objective (Poisson deviance + constraint −ln L) profiled at every grid point.

    Subtract ``2 * model.constraint_saturated(aux)`` from ``chi2_min`` for a goodness of fit.

    ``chi2`` [n_dm2, n_s22t]; ``chi2_null`` at sin²2θ = 0; ``best`` the polished global
    minimum (dm2, sin2_2theta, chi2), with dm2 = sin2_2theta = 0 when no oscillation fits
    best. ``delta_chi2`` is relative to the global minimum.
    """

    grid: OscillationGrid
    chi2: NDArray[np.float64]
    chi2_null: float
    best: dict[str, float]
    theta: NDArray[np.float64]
    converged: NDArray[np.bool_]
    r_free: bool
    parameter_names: list[str] = field(default_factory=list)

    @property
    def chi2_min(self) -> float:
        return float(min(self.chi2.min(), self.chi2_null, self.best["chi2"]))

    @property
    def delta_chi2(self) -> NDArray[np.float64]:
        return np.maximum(self.chi2 - self.chi2_min, 0.0)

    @property
    def delta_chi2_null(self) -> float:
        """Δχ² of the no-oscillation hypothesis (the significance of an oscillation signal)."""
        return max(self.chi2_null - self.chi2_min, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"grid": self.grid.to_dict(), "delta_chi2": self.delta_chi2.tolist(), "chi2_min": self.chi2_min,
                "delta_chi2_null": self.delta_chi2_null, "best_fit": self.best, "r_free": self.r_free,
                "all_converged": bool(self.converged.all())}


def _chunk_size(model: BinnedModel) -> int:
    per = model.n_bins * model.n_params * 4
    return int(np.clip(MEMORY_BUDGET_FLOATS // per, 8, 2048))


def fixed_mask(model: BinnedModel, r_free: bool) -> NDArray[np.bool_]:
    """The model's fixed parameters, plus R unless ``r_free``."""
    fixed = model.parameters.fixed.copy()
    if not r_free and SIGNAL_STRENGTH in model.parameters:
        fixed[model.parameters.index(SIGNAL_STRENGTH)] = True
    return fixed


def null_start(om: OscillationModel, data: Data, r_free: bool) -> tuple[NDArray, float]:
    """Profiled nuisances and objective under no oscillation (the warm start of every point)."""
    m = om.model
    th0 = m.parameters.inits.copy()
    if SIGNAL_STRENGTH in m.parameters:
        th0[m.parameters.index(SIGNAL_STRENGTH)] = 1.0
    res = minimize_batch(m, data.main, data.aux, th0, fixed_mask(m, r_free))
    return res.theta, float(res.objective)


def profile_points(om: OscillationModel, data: Data, dm2: NDArray, s22t: NDArray, r_free: bool = False,
                   start: NDArray | None = None, tol: float = 1e-7,
                   progress: Callable[[int], None] | None = None) -> tuple[NDArray, NDArray, NDArray]:
    """(objective [n], θ̂ [n, P], converged [n]) at the given points, in memory-bounded chunks."""
    m = om.model
    n = dm2.size
    fixed = fixed_mask(m, r_free)
    if start is None:
        start, _ = null_start(om, data, r_free)
    out_f = np.empty(n)
    out_t = np.empty((n, m.n_params))
    out_c = np.empty(n, dtype=bool)
    step = _chunk_size(m)
    for s in range(0, n, step):
        sl = slice(s, min(s + step, n))
        res = minimize_batch(m, data.main, data.aux, np.broadcast_to(start, (sl.stop - sl.start, m.n_params)),
                             fixed, om.override(dm2[sl], s22t[sl]), tol=tol)
        out_f[sl], out_t[sl], out_c[sl] = res.objective, res.theta, res.converged
        if progress:
            progress(sl.stop - sl.start)
    return out_f, out_t, out_c


@single_blas_thread
def scan_grid(om: OscillationModel, data: Data, grid: OscillationGrid, r_free: bool = False, polish: bool = True,
              progress: Callable[[int], None] | None = None) -> ScanResult:
    """The profiled χ² map of ``data`` over ``grid`` (module docstring)."""
    start, f_null = null_start(om, data, r_free)
    d, s = grid.points()
    f, th, conv = profile_points(om, data, d, s, r_free, start, progress=progress)
    chi2 = 2.0 * f.reshape(grid.shape)
    best = {"dm2": 0.0, "sin2_2theta": 0.0, "chi2": 2.0 * f_null}
    k = int(np.argmin(f))
    if 2.0 * f[k] < best["chi2"]:
        best = {"dm2": float(d[k]), "sin2_2theta": float(s[k]), "chi2": float(2.0 * f[k])}
        if polish:
            best = polish_minimum(om, data, grid, chi2, th[k], r_free)
    return ScanResult(grid, chi2, 2.0 * f_null, best, th.reshape(grid.shape + (-1,)), conv.reshape(grid.shape),
                      r_free, list(om.model.parameters.names))


def local_minima(chi2: NDArray, k: int = 3) -> list[tuple[int, int]]:
    """The ``k`` lowest local minima of a 2-d map (points not above any of their 8 neighbours)."""
    c = np.asarray(chi2, dtype=float)
    pad = np.pad(c, 1, constant_values=np.inf)
    is_min = np.ones(c.shape, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= c <= pad[1 + di:1 + di + c.shape[0], 1 + dj:1 + dj + c.shape[1]]
    ii, jj = np.nonzero(is_min)
    order = np.argsort(c[ii, jj])[:k]
    return [(int(ii[o]), int(jj[o])) for o in order]


def refine_minimum(chi2_at: Callable[[float, float], float], grid: OscillationGrid, chi2: NDArray,
                   starts: Sequence[tuple[float, float]] = (), k: int = 1, xatol: float = 1e-5,
                   fatol: float = 1e-8, maxiter: int = 400) -> dict[str, float]:
    """The one polisher of every oscillation fit: the minimum of a profiled χ²(Δm², sin²2θ) off
    the grid.

    Nelder–Mead in (log₁₀ Δm², sin²2θ), clipped to the grid's Δm² range and sin²2θ ∈ [0, 1],
    from the ``k`` lowest local minima of the map ``chi2`` [n_dm2, n_s22t] and any extra
    ``starts`` (Δm², sin²2θ). A simplex method, because ``chi2_at`` is itself a minimisation
    whose value carries the inner tolerance: finite-difference gradients of it are noise.
    Returns {"dm2", "sin2_2theta", "chi2"}, never worse than the best grid point.
    """
    from scipy import optimize

    lo, hi = np.log10(grid.dm2[[0, -1]])

    def point(x: NDArray) -> tuple[float, float]:
        return float(10.0 ** np.clip(x[0], lo, hi)), float(np.clip(x[1], 0.0, 1.0))

    def objective(x: NDArray) -> float:
        return chi2_at(*point(x))

    c = np.asarray(chi2, dtype=float)
    i0, j0 = np.unravel_index(np.argmin(c), c.shape)
    best = {"dm2": float(grid.dm2[i0]), "sin2_2theta": float(grid.sin2_2theta[j0]), "chi2": float(c[i0, j0])}
    for d0, s0 in [(float(grid.dm2[i]), float(grid.sin2_2theta[j])) for i, j in local_minima(c, k)] + list(starts):
        res = optimize.minimize(objective, [np.log10(d0), s0], method="Nelder-Mead",
                                options={"xatol": xatol, "fatol": fatol, "maxiter": maxiter})
        if float(res.fun) < best["chi2"]:
            d, s = point(res.x)
            best = {"dm2": d, "sin2_2theta": s, "chi2": float(res.fun)}
    return best


def polish_minimum(om: OscillationModel, data: Data, grid: OscillationGrid, chi2: NDArray, theta: NDArray,
                   r_free: bool) -> dict[str, float]:
    """:func:`refine_minimum` of a scan's map, nuisances profiled by the batched minimiser
    (warm-started from the best grid point's θ̂ [P], inner tolerance 1e-10)."""
    fixed = fixed_mask(om.model, r_free)
    state = {"theta": theta.copy()}

    def prof(dm2: float, s22t: float) -> float:
        ov = om.override(np.array([dm2]), np.array([s22t]))
        res = minimize_batch(om.model, data.main, data.aux, state["theta"][None], fixed, ov, tol=1e-10)
        if res.converged[0]:
            state["theta"] = res.theta[0]
        return float(2.0 * res.objective[0])

    return refine_minimum(prof, grid, chi2, k=1)


def fit_point(om: OscillationModel, data: Data, dm2: float, s22t: float, r_free: bool = False):
    """An iminuit fit (MIGRAD) at one grid point: the per-point reference of the vectorised scan."""
    model = om.at(dm2, s22t)
    fix = {} if r_free or SIGNAL_STRENGTH not in model.parameters else {SIGNAL_STRENGTH: 1.0}
    return fit(model, data, fix=fix, hesse=False)
