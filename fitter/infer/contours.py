"""Δm²–sin²2θ regions: Wilks, raster, Feldman–Cousins and Gaussian CLs, and sensitivity bands.

* Wilks: Δχ² = χ² − χ²_min over the grid (and sin²2θ = 0) against the χ² quantile for 2 d.o.f.
* Raster: at each Δm² separately, Δχ² relative to the best sin²2θ there (or 0), 1 d.o.f.
* Feldman & Cousins, PRD 57 (1998) 3873: at each true point, toys give the distribution of
  Δχ²_toy = χ²_toy(true) − min_grid χ²_toy; its quantile is the critical value there
  (Wilks fails for oscillation searches: Coloma, Huber & Schwetz, EPJC 81 (2021) 2).
* Gaussian CLs, Qian et al., NIM A 827 (2016) 63: Δχ² = χ²(H₁) − χ²(H₀) is Gaussian with
  mean ±Δχ²_A and σ = 2√Δχ²_A under either hypothesis (Asimov data); toy-free.

The FC test statistic for the binned ES model (:class:`ESGridProblem`) is computed per toy
as follows: a linearised profile likelihood (Gaussian weights 1/μ at the true point, nuisances
linearised there) gives χ²_toy at every hypothesis at once — because P_ee is linear in
sin²2θ this costs one matrix product of rank n_Δm² — and picks each toy's best candidates;
exact profiled Poisson fits (the batched Newton minimiser, warm-started from the linear
solution) then give χ² at the true point and at the candidates. The statistic is exact
whenever the global minimum is among the candidates (tested against full scans).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from ganom.exceptions import InputError
from ganom.fitter.hf.data import Data
from ganom.fitter.hf.model import MU_FLOOR
from ganom.fitter.hf.parameters import SIGNAL_STRENGTH
from ganom.fitter.hf.sampling import poisson_toys
from ganom.fitter.infer.distributions import chi2_ppf, norm_sf
from ganom.fitter.infer.minimize import minimize_batch
from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
from ganom.fitter.infer.parallel import (
    Checkpoint,
    array_digest,
    config_digest,
    run_tasks,
    single_blas_thread,
    task_seeds,
)
from ganom.fitter.infer.scan import ScanResult, fixed_mask, scan_grid
from ganom.fitter.io import Table

__all__ = [
    "LEVEL_NAMES",
    "parse_levels",
    "ContourResult",
    "write_outputs",
    "wilks",
    "raster",
    "gaussian_cls",
    "GridProblem",
    "toy_statistics",
    "ESGridProblem",
    "fc_true_points",
    "feldman_cousins",
    "SensitivityBands",
    "sensitivity_bands",
    "upper_limits",
    "METHODS",
    "fc_run_estimate",
    "band_method",
    "contour_regions",
    "limits_table",
]

LEVEL_NAMES = {"68%": 0.6827, "90%": 0.90, "95%": 0.95, "99%": 0.99,
               "1sigma": 0.682689492, "2sigma": 0.954499736, "3sigma": 0.997300204}


def parse_levels(text: str | Sequence[str | float]) -> dict[str, float]:
    """'90,95,99' or '1sigma,2sigma,3sigma' (or probabilities) → {label: probability}."""
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text)]
    out: dict[str, float] = {}
    for it in items:
        if not it:
            continue
        key = str(it).replace("σ", "sigma").replace(" ", "")
        if key in LEVEL_NAMES:
            out[key] = LEVEL_NAMES[key]
            continue
        m = re.fullmatch(r"([0-9.]+)(%?)", key)
        if m:
            v = float(m.group(1))
            p = v / 100.0 if m.group(2) or v > 1 else v  # "0.5%" is half a percent, "0.9" a probability
            if 0 < p < 1:
                out[f"{p * 100:g}%"] = p
                continue
        raise InputError(f"confidence level '{it}': expected e.g. 90, 95%, 0.99 or 1sigma/2sigma/3sigma")
    if not out:
        raise InputError("no confidence levels given")
    return out


# ----------------------------------------------------------------------------- results
@dataclass
class ContourResult:
    """A Δχ² (or CLs) map with the critical values that define regions at several levels.

    ``kind`` is "exclusion" (the region beyond the contour is excluded, e.g. a sensitivity)
    or "allowed" (inside the contour). For Wilks/raster the critical value is a number per
    level, for FC a map per level; for CLs ``statistic`` holds CLs and the region is
    CLs < 1 − level.
    """

    grid: OscillationGrid
    method: str
    statistic: NDArray[np.float64]
    critical: dict[str, Any]
    kind: str = "exclusion"
    best_fit: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def region(self, level: str) -> NDArray[np.bool_]:
        """Boolean map of the excluded (kind "exclusion") or allowed ("allowed") region."""
        crit = self.critical[level]
        if self.method == "cls":
            excluded = self.statistic < crit
        else:
            excluded = self.statistic > crit
        return excluded if self.kind == "exclusion" else ~excluded

    def lines(self, level: str) -> list[NDArray]:
        """Contour polylines [(Δm², sin²2θ)...] of a level, traced in log–log coordinates."""
        import contourpy

        crit = np.broadcast_to(np.asarray(self.critical[level], dtype=float), self.statistic.shape)
        z = (self.statistic - crit) if self.method != "cls" else (crit - self.statistic)
        gen = contourpy.contour_generator(np.log10(self.grid.sin2_2theta), np.log10(self.grid.dm2), z)
        return [np.column_stack([10 ** seg[:, 1], 10 ** seg[:, 0]]) for seg in gen.lines(0.0) if len(seg) > 1]

    def limit_curve(self, level: str) -> NDArray[np.float64]:
        """Per Δm²: the upper limit on sin²2θ, the first excluded value above the row's best
        fit, interpolated in log sin²2θ (NaN where nothing up to the grid's end is excluded)."""
        if self.method == "cls":
            stat, crit = -self.statistic, -float(self.critical[level])
        else:
            stat = self.statistic
            crit = np.broadcast_to(np.asarray(self.critical[level], dtype=float), stat.shape)
            stat = stat - crit
            crit = 0.0
        return upper_limits(self.grid.sin2_2theta, stat, crit)

    def to_dict(self) -> dict[str, Any]:
        crit = {k: (np.asarray(v).tolist() if np.ndim(v) else float(v)) for k, v in self.critical.items()}
        return {
            "method": self.method, "kind": self.kind, "grid": self.grid.to_dict(),
            "statistic": "CLs" if self.method == "cls" else "delta_chi2",
            "values": self.statistic.tolist(), "critical": crit, "best_fit": self.best_fit, "meta": self.meta,
            "contours": {lv: [seg.tolist() for seg in self.lines(lv)] for lv in self.critical},
        }

    def to_hepdata(self) -> dict[str, Any]:
        """A HEPData-style table: one row per grid point, one dependent variable per level."""
        d, s = self.grid.points()
        deps = [{"header": {"name": "CLs" if self.method == "cls" else "Delta chi2"},
                 "qualifiers": [{"name": "method", "value": self.method}],
                 "values": [{"value": float(v)} for v in self.statistic.ravel()]}]
        for lv in self.critical:
            deps.append({"header": {"name": f"{self.kind} at {lv}"},
                         "qualifiers": [{"name": "critical value",
                                         "value": "map" if np.ndim(self.critical[lv]) else f"{float(self.critical[lv]):.6g}"}],
                         "values": [{"value": int(x)} for x in self.region(lv).ravel()]})
        return {"independent_variables": [
            {"header": {"name": "Delta m^2", "units": "eV^2"}, "values": [{"value": float(x)} for x in d]},
            {"header": {"name": "sin^2(2 theta)"}, "values": [{"value": float(x)} for x in s]}],
            "dependent_variables": deps}


def write_outputs(result: ContourResult, out_dir: str | Path, stem: str = "contour",
                  prov: Mapping[str, Any] | None = None) -> list[Path]:
    """Write ``stem.json`` and ``stem.yaml`` (HEPData style) atomically, with the provenance
    ``prov`` (:func:`ganom.fitter.io.provenance`; default: the command only); returns the paths."""
    from ganom.fitter.io import jsonable, provenance, with_provenance, write_json, write_yaml

    out = Path(out_dir)
    prov = prov if prov is not None else provenance()
    return [write_json(jsonable(with_provenance(result.to_dict(), prov)), out / f"{stem}.json"),
            write_yaml(result.to_hepdata(), out / f"{stem}.yaml", prov)]


# ----------------------------------------------------------------------------- asymptotic methods
def wilks(scan: ScanResult, levels: dict[str, float], kind: str = "exclusion") -> ContourResult:
    """Regions from Δχ² against the χ²(2 d.o.f.) quantiles."""
    crit = {k: float(chi2_ppf(p, 2)) for k, p in levels.items()}
    return ContourResult(scan.grid, "wilks", scan.delta_chi2, crit, kind, scan.best,
                         {"dof": 2, "delta_chi2_null": scan.delta_chi2_null})


def raster(scan: ScanResult, levels: dict[str, float], kind: str = "exclusion") -> ContourResult:
    """Raster scan: at each Δm², Δχ² relative to the best sin²2θ (or none), 1 d.o.f."""
    row_min = np.minimum(scan.chi2.min(axis=1, keepdims=True), scan.chi2_null)
    stat = np.maximum(scan.chi2 - row_min, 0.0)
    crit = {k: float(chi2_ppf(p, 1)) for k, p in levels.items()}
    return ContourResult(scan.grid, "raster", stat, crit, kind, scan.best, {"dof": 1})


@single_blas_thread
def gaussian_cls(problem: ESGridProblem, levels: dict[str, float], observed: ScanResult | None = None) -> ContourResult:
    """Gaussian CLs (Qian et al. 2016): median sensitivity, or the observed CLs with ``observed``."""
    a0 = problem.asimov_scan()  # Δχ²_A0(h) = χ²_h(A₀) − χ²₀(A₀)
    d_a0 = np.maximum(a0.chi2 - a0.chi2_null, 1e-12)
    d_a1 = np.maximum(problem.null_chi2_on_asimovs() - problem.chi2_asimov_self(), 1e-12)
    obs = d_a0 if observed is None else observed.chi2 - observed.chi2_null
    p1 = norm_sf((obs + d_a1) / (2.0 * np.sqrt(d_a1)))
    p0c = norm_sf((obs - d_a0) / (2.0 * np.sqrt(d_a0)))
    cls = np.clip(p1 / np.maximum(p0c, 1e-300), 0.0, 1.0)
    crit = {k: 1.0 - p for k, p in levels.items()}
    return ContourResult(problem.grid, "cls", cls, crit, "exclusion", {},
                         {"reference": "Qian et al., NIM A 827 (2016) 63", "observed": observed is not None})


# ----------------------------------------------------------------------------- problems
class GridProblem(Protocol):
    """What the FC engine needs from a likelihood over an oscillation grid."""

    grid: OscillationGrid

    def chi2_grid(self, data: Any) -> NDArray: ...  # [n, n_dm2, n_s22t], profiled

    def toys(self, dm2: float, sin2_2theta: float, n: int, rng: np.random.Generator) -> Any: ...

    def observed(self) -> Any: ...

    def describe(self) -> dict[str, Any]: ...  # identifies the likelihood in FC checkpoints


def toy_statistics(problem: Any, i: int, j: int, n: int, rng: np.random.Generator,
                   lowest_level: float | None = None) -> NDArray:
    """Δχ²_toy = χ²(true) − min over the grid, for ``n`` toys at grid point (i, j).

    Uses the problem's own fast method when it has one (passing ``lowest_level``, see
    :meth:`ESGridProblem.toy_statistics`), else ``chi2_grid`` on ``toys`` (every toy exact).
    """
    if hasattr(problem, "toy_statistics"):
        return problem.toy_statistics(i, j, n, rng, lowest_level=lowest_level)
    g = problem.grid
    data = problem.toys(float(g.dm2[i]), float(g.sin2_2theta[j]), n, rng)
    c = np.asarray(problem.chi2_grid(data))
    return np.maximum(c[:, i, j] - c.reshape(c.shape[0], -1).min(axis=1), 0.0)


class ESGridProblem:
    """The ν–e binned model over an oscillation grid: exact scans, toys and fast FC statistics.

    Toys are generated at the nominal nuisance values (R = 1) with the oscillation of the true
    point, auxiliary measurements fluctuated; ``r_free`` profiles R (shape-only analysis).
    """

    def __init__(self, om: OscillationModel, grid: OscillationGrid, r_free: bool = False,
                 data: Data | None = None, n_candidates: int = 2, fit_tol: float = 3e-3):
        m = om.model
        self.om, self.grid, self.r_free, self.n_candidates = om, grid, r_free, int(n_candidates)
        # the fits stop at ½gᵀH⁻¹g < fit_tol (in −ln L) and report the predicted minimum
        # f − ½gᵀH⁻¹g: every toy's Δχ² then exact to ~3·10⁻³ (measured, docs/statistics.md §13),
        # ~5 % of the statistical error of a 90 % critical value from 10⁴ toys (~0.06; 0.2 from 1000)
        self.fit_tol = float(fit_tol)
        self.data = data
        th0 = m.parameters.inits.copy()
        if SIGNAL_STRENGTH in m.parameters:
            th0[m.parameters.index(SIGNAL_STRENGTH)] = 1.0
        self.theta0 = th0
        self.fixed = fixed_mask(m, r_free)
        self.free = np.nonzero(~self.fixed)[0]
        mu0, j0 = m.expected_and_jacobian(th0)
        mu1, j1 = m.expected_and_jacobian(np.broadcast_to(th0, (grid.dm2.size, th0.size)),
                                          om.override(grid.dm2, np.ones(grid.dm2.size)))
        self.mu0, self.j0 = mu0, j0[:, self.free]
        self.deficit = mu1 - mu0  # μ(s = 1) − μ(s = 0) per Δm² (linear in s at fixed θ)
        self.djac = (j1 - j0)[..., self.free]
        self.curv = m.constraint_curvature(th0, m.asimov(th0).aux)[self.free]
        self._shift: Any = False  # the signal rows of any grid point as a RowShift (built at the first toy)
        self._cache: dict[str, Any] = {}

    def describe(self) -> dict[str, Any]:
        """What makes FC toys of this problem differ from another's (the checkpoint key)."""
        m, obs = self.om.model, self.observed()
        return {"problem": "es", "parameters": m.parameters.names, "r_free": self.r_free,
                "n_candidates": self.n_candidates, "fit_tol": self.fit_tol,
                "model": array_digest(self.mu0, self.deficit, self.theta0, np.array([p.sigma for p in m.parameters]), obs.main, obs.aux)}

    # -- exact scans ------------------------------------------------------------------
    def observed(self) -> Data:
        return self.data if self.data is not None else self.om.model.asimov(self.theta0)

    def scan(self, data: Data | None = None, progress: Any = None) -> ScanResult:
        return scan_grid(self.om, data or self.observed(), self.grid, self.r_free, progress=progress)

    def summary(self, scan: ScanResult) -> dict[str, Any]:
        """The scan of the observed data in numbers: best fit, goodness of fit (χ²_min minus the
        saturated constraint terms, for ``n_bins`` bins) and the Δχ² of no oscillation."""
        m = self.om.model
        return {"best_fit": scan.best, "chi2_gof": scan.chi2_min - 2.0 * m.constraint_saturated(self.observed().aux),
                "n_bins": m.n_bins, "delta_chi2_no_oscillation": scan.delta_chi2_null}

    def chi2_grid(self, data: Sequence[Data] | Data) -> NDArray:
        """Exact profiled χ² maps of one or several datasets [n, n_dm2, n_s22t]."""
        items = [data] if isinstance(data, Data) else list(data)
        return np.stack([scan_grid(self.om, d, self.grid, self.r_free, polish=False).chi2 for d in items])

    def asimov_scan(self) -> ScanResult:
        """The profiled scan of the Asimov dataset of no oscillation (cached)."""
        key = "asimov_null"
        if key not in self._cache:
            self._cache[key] = scan_grid(self.om, self.om.model.asimov(self.theta0), self.grid, self.r_free, polish=False)
        return self._cache[key]

    def null_chi2_on_asimovs(self) -> NDArray:
        """χ²₀ profiled on the Asimov dataset of every grid point: [n_dm2, n_s22t]."""
        m = self.om.model
        d, s = self.grid.points()
        out = np.empty(d.size)
        aux = m.asimov(self.theta0).aux
        step = 512
        for k in range(0, d.size, step):
            sl = slice(k, min(k + step, d.size))
            main = m.expected(self.theta0, self.om.override(d[sl], s[sl]))
            res = minimize_batch(m, main, aux, self.theta0, self.fixed)
            out[sl] = 2.0 * res.objective
        return out.reshape(self.grid.shape)

    def chi2_asimov_self(self) -> NDArray:
        """χ² of every grid point on its own Asimov dataset (its saturated value)."""
        m = self.om.model
        c, _ = m._constraint(self.theta0, m.asimov(self.theta0).aux, False)
        return np.full(self.grid.shape, 2.0 * float(c))

    # -- toys -------------------------------------------------------------------------
    def _truth(self, i: int, s: float) -> tuple[NDArray, NDArray]:
        mu = self.mu0 + s * self.deficit[i]
        jac = self.j0 + s * self.djac[i]
        return mu, jac

    def require_toys(self, n: int) -> None:
        """Refuse (before anything runs) a number of toys per point that cannot fit in memory."""
        from ganom.resources import require_memory

        m = self.om.model
        require_memory(f"{n} toys per grid point of {m.n_bins} bins", 8.0 * 4 * n * (m.n_bins + m.n_aux),
                       "use fewer toys per point")

    def toys(self, dm2: float, sin2_2theta: float, n: int, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
        """(main [n, B], aux [n, P]) generated at the nominal nuisances with oscillation."""
        m = self.om.model
        self.require_toys(n)
        mu = m.expected(self.theta0, self.om.override(np.asarray(dm2, dtype=float), np.asarray(sin2_2theta, dtype=float)))
        main = poisson_toys(np.maximum(mu, 0.0), n, rng)
        return main, m.aux_toys(self.theta0, n, rng)

    @single_blas_thread
    def toy_statistics(self, i: int, j: int, n: int, rng: np.random.Generator,
                       lowest_level: float | None = None) -> NDArray:
        """FC statistic Δχ² for ``n`` toys at grid point (i, j) (class docstring).

        Every toy gets the linearised statistic of the global search; exact profiled fits
        (the truth and the search's candidates) replace it where it matters. Without
        ``lowest_level``, for every toy. With it (a probability: the lowest level whose
        quantile will be read), only for the toys that can reach that quantile: those ranked
        above it or within 5 % of the toys below it by the linearised statistic, then every
        toy whose linearised value plus a margin δ reaches the quantile of the mix, until
        none does. δ is the largest underestimate seen among the fitted toys + 1 (in Δχ²).
        Every order statistic from that quantile up is then the one of all-exact toys where no
        toy left linearised underestimates by more than δ (docs/statistics.md: on 261 true
        points × 1000 toys of JNE 500 t no quantile changed; the largest margin a toy needed
        was 1.31); the toys below keep their linearised values.
        """
        if lowest_level is not None and not 0.0 < lowest_level < 1.0:
            raise InputError(f"lowest_level = {lowest_level} is not allowed; allowed: 0 < level < 1")
        g = self.grid
        s_t = float(g.sin2_2theta[j])
        main, aux = self.toys(float(g.dm2[i]), s_t, n, rng)
        search = self._linear_search(i, s_t, main, aux)
        if lowest_level is None:
            return self._exact(i, j, main, aux, search, np.arange(n))
        approx = search[-1]
        stat = approx.copy()
        fitted = np.zeros(n, dtype=bool)
        k = int(np.floor((n - 1) * lowest_level))  # np.quantile reads order statistics ≥ k
        todo = np.argsort(approx, kind="stable")[max(k - n // 20, 0):]
        while todo.size:
            stat[todo] = self._exact(i, j, main, aux, search, todo)
            fitted[todo] = True
            delta = max(float(np.max(stat[fitted] - approx[fitted])), 0.0) + 1.0
            q = np.partition(stat, k)[k]
            todo = np.flatnonzero(~fitted & (approx + delta >= q))
        return stat

    def _exact(self, i: int, j: int, main: NDArray, aux: NDArray, search: tuple, toys: NDArray) -> NDArray:
        """Exact Δχ² of the ``toys`` (indices) from profiled fits at the true point and at the
        linearised search's candidates."""
        g = self.grid
        s_t = float(g.sin2_2theta[j])
        starts_t, cand, starts_c, h0, _ = search
        main, aux, starts_t, cand, starts_c = main[toys], aux[toys], starts_t[toys], cand[toys], starts_c[toys]
        n = toys.size
        f_t, th_t = self._fit(main, aux, starts_t, self._templates(i, s_t)[0], hessian0=h0)
        # exact fits at the candidates (indices into the flattened grid; −1 = no oscillation),
        # all in one batch; a candidate that is the true point itself is already fitted
        k = cand.shape[1]
        flat = cand.ravel()
        ns = g.sin2_2theta.size
        rows = np.repeat(np.arange(n), k)
        # the candidates' starts moved by where the truth's exact fit went from its own start
        lo, hi = self.om.model.parameters.bounds.T
        th_c = np.clip((starts_c + (th_t - starts_t)[:, None, :]).reshape(-1, starts_c.shape[-1]), lo, hi)
        need = flat != i * ns + j
        f_c = np.empty(flat.size)
        f_c[~need] = f_t[rows[~need]]
        if need.any():
            c = flat[need]
            a_idx = np.where(c >= 0, c // ns, 0)
            order = np.argsort(a_idx, kind="stable")  # fits of one Δm² row side by side
            s_c = np.where(c >= 0, g.sin2_2theta[np.maximum(c, 0) % ns], 0.0)
            tpl, tix = self._templates(a_idx[order], s_c[order])
            sel = np.flatnonzero(need)[order]
            f_c[sel] = self._fit(main[rows[sel]], aux[rows[sel]], th_c[sel], tpl, tix, hessian0=h0)[0]
        f_min = np.minimum(f_t, f_c.reshape(n, k).min(axis=1))
        return np.maximum(2.0 * (f_t - f_min), 0.0)

    def _templates(self, dm2_index: Any, s22t: Any) -> tuple[Any, NDArray | None]:
        """The signal rows of the points (Δm² row, sin²2θ) (arrays, or one point as scalars)
        for :meth:`_fit`: a RowShift, or the distinct overrides and each point's index into
        them (responses not linear in s)."""
        if self._shift is False:
            self._shift = self.om.shift(self.grid.dm2)
        if self._shift is not None:
            return self._shift.at(dm2_index, s22t), None
        s = np.atleast_1d(np.asarray(s22t, dtype=float))
        key = np.where(s > 0, np.atleast_1d(dm2_index), -1)
        uniq, inv = np.unique(np.stack([key, s]), axis=1, return_inverse=True)
        d = np.where(uniq[0] >= 0, self.grid.dm2[np.maximum(uniq[0], 0).astype(int)], 1.0)
        ov = self.om.override(d, uniq[1])
        return (ov[0], None) if np.ndim(s22t) == 0 else (ov, inv.ravel())

    def _fit(self, main: NDArray, aux: NDArray, start: NDArray, nominal: Any, template_index: NDArray | None = None,
             chunk: int = 512, hessian0: NDArray | None = None) -> tuple[NDArray, NDArray]:
        """(−ln L − constant at the minimum, θ̂) of each fit."""
        m = self.om.model
        out = np.empty(main.shape[0])
        th = np.empty_like(start)
        batched = template_index is None and getattr(nominal, "batch_shape", ()) != ()
        for c in range(0, main.shape[0], chunk):
            sl = slice(c, c + chunk)
            tix = None if template_index is None else template_index[sl]
            res = minimize_batch(m, main[sl], aux[sl], start[sl], self.fixed, nominal[sl] if batched else nominal,
                                 None, tol=self.fit_tol, template_index=tix, hessian="frozen", hessian0=hessian0,
                                 predict=True)
            out[sl] = res.objective
            th[sl] = res.theta
        return out, th

    def _linear_search(self, i: int, s_t: float, main: NDArray, aux: NDArray):
        """Linearised profiled χ²_toy(h) − χ²_toy(true) for every hypothesis; best candidates."""
        g = self.grid
        m = self.om.model
        mu_t, jac = self._truth(i, s_t)
        w = 1.0 / np.maximum(mu_t, MU_FLOOR)
        wj = jac * w[:, None]
        M = jac.T @ wj + np.diag(self.curv)
        Minv = np.linalg.pinv(M)
        D = self.deficit  # [A, B]
        wd = D * w
        jwd = wj.T @ D.T  # [Pf, A]
        G = D @ wd.T - jwd.T @ Minv @ jwd  # [A, A]
        # the residuals z = n − μ_t projected on [wj | wd]: one product over the toys' counts
        W = np.concatenate([wj, wd.T], axis=1)
        zw = main @ W - mu_t @ W
        Pf = wj.shape[1]
        u = zw[:, :Pf] + (aux[:, self.free] - self.theta0[self.free]) * self.curv  # [n, Pf]
        A_k = zw[:, Pf:] - u @ Minv @ jwd  # [n, A]
        s = g.sin2_2theta  # increasing
        n, ns = main.shape[0], s.size
        # Δ_k(a, s) = G_aa s² − 2 s b_ka + c_k, b_ka = s_t G_ai + A_ka, c_k = s_t² G_ii + 2 s_t A_ki
        # (no oscillation: c_k). G is a Schur complement of a positive semi-definite matrix, so
        # G_aa ≥ 0 and each Δm² row is convex in s: its two smallest grid values lie among the
        # four grid points around the continuous minimum s* = b/G_aa (a row with G_aa = 0 is
        # linear, its minimum at the end b points to). Exact, without the [toys, grid] table.
        gaa = np.diag(G)
        b = s_t * G[:, i] + A_k  # [n, A]
        c = s_t**2 * G[i, i] + 2.0 * s_t * A_k[:, i]
        with np.errstate(divide="ignore", invalid="ignore"):
            s_star = np.where(gaa > 0, b / np.where(gaa > 0, gaa, 1.0), np.where(b > 0, np.inf, -np.inf))
        idx = np.searchsorted(s, s_star)[..., None] + np.arange(-2, 2)  # [n, A, 4], distinct
        inside = (idx >= 0) & (idx < ns)
        sv = s[np.clip(idx, 0, ns - 1)]
        flat = np.zeros((n, idx[0].size + 1))  # Δ − c of the row candidates, then no oscillation (0)
        flat[:, :-1] = np.where(inside, sv * (gaa[:, None] * sv - 2.0 * b[..., None]), np.inf).reshape(n, -1)
        hyp = np.concatenate([(np.arange(G.shape[0])[:, None] * ns + idx).reshape(n, -1),
                              np.full((n, 1), -1)], axis=1)  # flattened grid index; −1 = no oscillation
        approx = np.maximum(-(flat.min(axis=1) + c), 0.0)  # the linearised statistic
        k = min(self.n_candidates, G.shape[0] + 1)  # every toy has ≥ this many finite entries
        pos = np.empty((n, k), dtype=np.intp)
        rows = np.arange(n)
        for r in range(k):  # the k smallest per toy
            pos[:, r] = np.argmin(flat, axis=1)
            flat[rows, pos[:, r]] = np.inf
        cand = hyp[rows[:, None], pos]
        # warm starts: δ* = M⁻¹(u − v_h), v_h = s JWD_a − s_t JWD_i
        lo, hi = m.parameters.bounds[:, 0], m.parameters.bounds[:, 1]
        base = np.broadcast_to(self.theta0, (main.shape[0], self.theta0.size)).copy()
        st = base.copy()
        st[:, self.free] += u @ Minv.T
        st = np.clip(st, lo, hi)
        a_idx = np.where(cand >= 0, cand // g.sin2_2theta.size, i)
        s_val = np.where(cand >= 0, s[np.where(cand >= 0, cand % g.sin2_2theta.size, 0)], 0.0)
        v = s_val[..., None] * jwd.T[a_idx] - s_t * jwd[:, i]
        sc = np.broadcast_to(self.theta0, cand.shape + (self.theta0.size,)).copy()
        sc[..., self.free] += (u[:, None, :] - v) @ Minv.T
        sc = np.clip(sc, lo, hi)
        h0 = np.eye(self.theta0.size)
        h0[np.ix_(self.free, self.free)] = M  # the Fisher matrix at the truth (free parameters)
        return st, cand, sc, h0, approx


# ----------------------------------------------------------------------------- Feldman–Cousins
def _fc_task(shared: tuple[Any, int, float | None], arg: tuple[int, int, np.random.SeedSequence]) -> NDArray:
    problem, n_toys, lowest_level = shared
    i, j, seed = arg
    return np.sort(toy_statistics(problem, i, j, n_toys, np.random.default_rng(seed), lowest_level))


def fc_true_points(grid: OscillationGrid, stride: int = 1) -> list[tuple[int, int]]:
    """Every ``stride``-th grid point in each direction, always including the last row/column."""
    if stride < 1:
        raise InputError(f"stride = {stride} is not allowed; allowed: ≥ 1")
    ii = sorted(set(range(0, grid.dm2.size, stride)) | {grid.dm2.size - 1})
    jj = sorted(set(range(0, grid.sin2_2theta.size, stride)) | {grid.sin2_2theta.size - 1})
    return [(i, j) for i in ii for j in jj]


def feldman_cousins(
    problem: Any,
    levels: dict[str, float],
    n_toys: int = 1000,
    seed: int = 0,
    observed: ScanResult | None = None,
    stride: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
    checkpoint_path: str | Path | None = None,
    progress: bool = False,
    stop_after: int | None = None,
    exact_toys: str = "quantiles",
) -> ContourResult:
    """Feldman–Cousins regions: critical Δχ² from ``n_toys`` toys at each true point.

    ``observed``: the data's scan (default: the problem's observed data, e.g. Asimov of no
    oscillation for a sensitivity). ``stride`` > 1 throws toys at every stride-th point and
    interpolates the critical values linearly in (log Δm², log sin²2θ) in between (stated in
    the result's ``meta``). Seeds: child ``flat_index`` of SeedSequence(seed) for each point,
    so maps are identical for any number of workers. ``exact_toys``: "quantiles" fits exactly
    the toys that decide the quantiles of the requested levels (the critical values are those
    of all-exact toys; :meth:`ESGridProblem.toy_statistics`), "all" every toy.
    """
    if exact_toys not in ("quantiles", "all"):
        raise InputError(f"exact_toys = {exact_toys!r} is not allowed; allowed: quantiles | all")
    if n_toys < 10:
        raise InputError(f"toys = {n_toys} is not allowed; allowed: ≥ 10 (FC needs a quantile)")
    g = problem.grid
    if observed is None:
        observed = problem.scan() if hasattr(problem, "scan") else None
    pts = fc_true_points(g, stride)
    seeds = task_seeds(seed, g.dm2.size * g.sin2_2theta.size)
    args = [(i, j, seeds[i * g.sin2_2theta.size + j]) for i, j in pts]
    lowest = min(levels.values()) if exact_toys == "quantiles" and levels else None
    digest = config_digest({"grid": g.to_dict(), "toys": n_toys, "seed": seed, "stride": stride,
                            "problem": problem.describe(), "exact_from_level": lowest})
    ckpt = Checkpoint(checkpoint_path, digest)
    samples = run_tasks(_fc_task, (problem, n_toys, lowest), args, workers, scheduler, ckpt, progress, "FC true points",
                        stop_after)
    samples = np.stack(samples)
    crit: dict[str, Any] = {}
    ii = sorted({i for i, _ in pts})
    jj = sorted({j for _, j in pts})
    for name, p in levels.items():
        q = np.quantile(samples, p, axis=1).reshape(len(ii), len(jj))
        crit[name] = _interpolate(g, ii, jj, q)
    if observed is not None:
        stat, best, kind = observed.delta_chi2, observed.best, "exclusion"
    else:
        stat, best, kind = np.asarray(problem.chi2_grid(problem.observed()))[0], {}, "allowed"
        stat = stat - stat.min()
    meta = {"toys_per_point": n_toys, "seed": seed, "true_points": len(pts),
            "interpolated": stride > 1, "stride": stride, "exact_toys": exact_toys,
            "note": (f"FC critical values from toys at every {stride}-th grid point, linearly interpolated in "
                     f"(log dm2, log sin2_2theta) in between") if stride > 1 else "FC critical values at every grid point"}
    return ContourResult(g, "fc", stat, crit, kind, best, meta)


def _interpolate(grid: OscillationGrid, ii: list[int], jj: list[int], q: NDArray) -> NDArray:
    if len(ii) == grid.dm2.size and len(jj) == grid.sin2_2theta.size:
        return q
    from scipy.interpolate import RegularGridInterpolator

    x = np.log10(grid.dm2[ii])
    y = np.log10(grid.sin2_2theta[jj])
    f = RegularGridInterpolator((x, y), q, method="linear")
    X, Y = np.meshgrid(np.log10(grid.dm2), np.log10(grid.sin2_2theta), indexing="ij")
    return f(np.stack([X.ravel(), Y.ravel()], axis=-1)).reshape(grid.shape)


# ----------------------------------------------------------------------------- bands
@dataclass
class SensitivityBands:
    """Per-Δm² sin²2θ limits from toys of no oscillation: median, ±1σ, ±2σ."""

    dm2: NDArray[np.float64]
    level: str
    method: str
    quantiles: dict[str, NDArray[np.float64]]
    n_toys: int
    asimov: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        return {"dm2_ev2": self.dm2.tolist(), "level": self.level, "method": self.method, "n_toys": self.n_toys,
                "asimov": self.asimov.tolist(), "quantiles": {k: v.tolist() for k, v in self.quantiles.items()}}


@single_blas_thread
def sensitivity_bands(problem: ESGridProblem, level: tuple[str, float] = ("90%", 0.90), n_toys: int = 200,
                      seed: int = 0, method: str = "raster") -> SensitivityBands:
    """Expected-sensitivity bands (PROSPECT/STEREO style) from toys of no oscillation.

    Each toy's Δχ² map comes from the linearised profile likelihood (the FC search stage,
    validated against exact scans); the limit per Δm² is the smallest excluded sin²2θ,
    interpolated in log sin²2θ. The Asimov (median) limit is from the exact scan.
    """
    g = problem.grid
    rng = np.random.default_rng(seed)
    name, p = level
    main, aux = problem.toys(float(g.dm2[0]), 0.0, n_toys, rng)
    chi = _linear_maps(problem, main, aux)  # [n, A, S] and null
    maps, null = chi
    if method == "raster":
        ref = np.minimum(maps.min(axis=2, keepdims=True), null[:, None, None])
        crit = chi2_ppf(p, 1)
    elif method == "wilks":
        ref = np.minimum(maps.reshape(n_toys, -1).min(axis=1), null)[:, None, None]
        crit = chi2_ppf(p, 2)
    else:
        raise InputError(f"bands method '{method}': allowed raster | wilks")
    dchi = maps - ref
    limits = upper_limits(g.sin2_2theta, dchi, crit)
    qs = {"-2sigma": 0.02275, "-1sigma": 0.158655, "median": 0.5, "+1sigma": 0.841345, "+2sigma": 0.97725}
    # toys with no limit inside the grid count as limits above it (+∞); quantiles without interpolation
    filled = np.where(np.isnan(limits), np.inf, limits)
    quant = {k: np.quantile(filled, q, axis=0, method="inverted_cdf") for k, q in qs.items()}
    quant = {k: np.where(np.isinf(v), np.nan, v) for k, v in quant.items()}
    asimov_scan = problem.asimov_scan()
    asim = raster(asimov_scan, {name: p}) if method == "raster" else wilks(asimov_scan, {name: p})
    asimov_lim = upper_limits(g.sin2_2theta, asim.statistic, asim.critical[name])
    return SensitivityBands(g.dm2, name, method, quant, n_toys, asimov_lim)


def upper_limits(s: NDArray, stat: NDArray, crit: float | NDArray) -> NDArray:
    """Per row of ``stat`` [..., n_s]: the smallest sin²2θ above the row's minimum where
    ``stat`` reaches ``crit``, interpolated in log sin²2θ; NaN where it never does."""
    stat = np.asarray(stat, dtype=float)
    crit = np.broadcast_to(np.asarray(crit, dtype=float), stat.shape)
    k0 = np.argmin(stat, axis=-1)
    idx = np.arange(stat.shape[-1])
    above = (stat >= crit) & (idx >= k0[..., None])
    has = above.any(axis=-1)
    k = np.argmax(above, axis=-1)
    km1 = np.maximum(k - 1, 0)
    y1 = np.take_along_axis(stat - crit, k[..., None], -1)[..., 0]
    y0 = np.take_along_axis(stat - crit, km1[..., None], -1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where((k > 0) & (y1 != y0), -y0 / (y1 - y0), 1.0)
    ls = np.log10(s)
    val = ls[km1] + np.clip(f, 0.0, 1.0) * (ls[k] - ls[km1])
    return np.where(has, 10.0**val, np.nan)


def _linear_maps(problem: ESGridProblem, main: NDArray, aux: NDArray) -> tuple[NDArray, NDArray]:
    """Linearised profiled χ²(h) − χ²(null) for every toy and grid point (and 0 for the null)."""
    g = problem.grid
    mu_t, jac = problem.mu0, problem.j0
    w = 1.0 / np.maximum(mu_t, MU_FLOOR)
    wj = jac * w[:, None]
    Minv = np.linalg.pinv(jac.T @ wj + np.diag(problem.curv))
    z = main - mu_t
    at = (aux[:, problem.free] - problem.theta0[problem.free]) * problem.curv
    u = z @ wj + at
    D = problem.deficit
    jwd = wj.T @ D.T
    G = D @ (D * w).T - jwd.T @ Minv @ jwd
    A_k = z @ (D * w).T - u @ Minv @ jwd
    s = g.sin2_2theta
    maps = (s[None, None, :] ** 2) * np.diag(G)[None, :, None] - 2.0 * s[None, None, :] * A_k[:, :, None]
    return maps, np.zeros(main.shape[0])


# ----------------------------------------------------------------------------- one call for the CLI and the study
METHODS = ("wilks", "raster", "fc", "cls")
"""The region constructions of :func:`contour_regions`."""


def fc_run_estimate(problem: Any, n_toys: int, stride: int = 1, workers: int = 1, sample: int = 250,
                    levels: dict[str, float] | None = None) -> tuple[int, float]:
    """(true points, expected wall time [s]) of :func:`feldman_cousins`, from ``sample`` toys
    timed at three points on the grid's diagonal, as the run computes them for ``levels``
    (after a warm-up that builds the problem's caches)."""
    import time

    g = problem.grid
    n_pts = len(fc_true_points(g, stride))
    lowest = min(levels.values()) if levels else None
    pts = [(g.shape[0] * k // 4, g.shape[1] * k // 4) for k in (1, 2, 3)]
    n = min(sample, n_toys)
    with threadpool_limits(limits=1):
        toy_statistics(problem, *pts[1], 10, np.random.default_rng(0))
        t0 = time.perf_counter()
        for i, j in pts:
            toy_statistics(problem, i, j, n, np.random.default_rng(1), lowest)
    per_toy = (time.perf_counter() - t0) / (n * len(pts))
    return n_pts, per_toy * n_toys * n_pts / max(workers, 1)


def band_method(methods: Sequence[str]) -> str:
    """The convention of the expected-sensitivity bands drawn with ``methods``: raster unless
    only Wilks is asked for. Raster is the exclusion whose toy median equals the Asimov limit;
    a toy's 2-dof Wilks limit is measured from its own global minimum, which fluctuations pull
    below the null, so the Wilks median lies left of the Wilks Asimov curve."""
    return "wilks" if "wilks" in methods and "raster" not in methods else "raster"


def contour_regions(problem: ESGridProblem, scan: ScanResult, methods: Sequence[str], levels: dict[str, float],
                    kind: str = "exclusion", n_toys: int = 1000, seed: int = 0, fc_stride: int = 1,
                    workers: int = 1, scheduler: str | None = None, checkpoint_path: str | Path | None = None,
                    progress: bool = False, bands: int = 0) -> tuple[list[ContourResult], SensitivityBands | None]:
    """The regions of ``scan`` by each of ``methods`` (:data:`METHODS`), in order, and with
    ``bands`` > 0 the expected-sensitivity bands from that many toys of no oscillation."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise InputError(f"method: {', '.join(unknown) or 'none given'} not allowed; allowed: {', '.join(METHODS)}")
    observed = problem.data is not None
    results = []
    with threadpool_limits(limits=1):
        for m in methods:
            if m == "wilks":
                results.append(wilks(scan, levels, kind))
            elif m == "raster":
                results.append(raster(scan, levels, kind))
            elif m == "cls":
                results.append(gaussian_cls(problem, levels, observed=scan if observed else None))
            else:
                fc = feldman_cousins(problem, levels, n_toys, seed, scan, fc_stride, workers, scheduler,
                                     checkpoint_path, progress=progress)
                fc.kind = kind
                results.append(fc)
        band = None
        if bands:
            band = sensitivity_bands(problem, (next(iter(levels)), next(iter(levels.values()))), bands, seed,
                                     band_method(methods))
    return results, band


def limits_table(results: Sequence[ContourResult], levels: Sequence[str],
                 dm2_targets: Sequence[float] = (0.1, 1.0, 10.0)) -> Table:
    """Upper limits on sin²2θ of every method and level at the grid's Δm² nearest each target [eV²]."""
    rows = []
    for r in results:
        g = r.grid
        for level in levels:
            lim = r.limit_curve(level)
            for target in dm2_targets:
                i = int(np.argmin(np.abs(np.log(g.dm2 / target))))
                rows.append([r.method, level, f"{g.dm2[i]:.3g}", "—" if np.isnan(lim[i]) else f"{lim[i]:.3g}"])
    return Table(["method", "level", "Δm² [eV²]", "upper limit on sin²2θ"], rows)
