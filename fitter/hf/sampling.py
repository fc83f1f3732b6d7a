"""Poisson toys of many bins: n independent count vectors with the same expectations.

A toy ensemble draws n counts in every bin from one Poisson(λ_b). Drawing them one at a time
(numpy's ``Generator.poisson``: PTRS for λ ≥ 10, ~40–60 ns a draw) costs more than a
Feldman–Cousins fit of the toy's 3000 bins. The n draws of one bin are instead drawn as a
whole: how many of the n toys take each value k is multinomial,

    (c_b0, c_b1, …) ~ Multinomial(n; p_b(k) = e^{−λ_b} λ_b^k / k!),

and a uniformly random permutation per bin assigns those values to the toys. This is exact:
the n values of a bin are i.i.d. Poisson(λ_b) (the multiset of n i.i.d. draws is multinomial,
its order uniformly random), and bins use independent permutations. The pmf is tabulated on
a window of λ ± 11√λ (+ 30 above) that holds all but < 10⁻²⁰ of the probability (Chernoff
bounds; checked against the incomplete gamma function in the tests); that remainder is
spread over the window by normalising it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

__all__ = ["poisson_toys", "poisson_window"]

# below this many toys per call the table costs more than drawing one count at a time
_MIN_TOYS_FOR_TABLE = 64
_WIDTH_SIGMAS = 11.0


def _window(lam: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Each bin's lowest tabulated count and the number of counts tabulated from there."""
    sd = np.sqrt(lam)
    lo = np.maximum(np.floor(lam - _WIDTH_SIGMAS * sd), 0.0)
    return lo, (np.ceil(lam + _WIDTH_SIGMAS * sd + 30.0 - lo) + 1).astype(np.int64)


def poisson_window(lam: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(k [B, K], pmf [B, K]): the counts of each bin's window and their probabilities,
    normalised to 1 over the window (λ ≥ 0; λ = 0 puts all mass on k = 0)."""
    lam = np.asarray(lam, dtype=float)
    lo, widths = _window(lam)
    k: NDArray[np.float64] = lo[:, None] + np.arange(int(widths.max()) if lam.size else 1, dtype=float)
    # p(lo) from its logarithm, the rest by p(k+1) = p(k) λ/(k+1) (no overflow: every p ≤ 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p0 = np.where(lam > 0, lo * np.log(np.where(lam > 0, lam, 1.0)), 0.0) - lam - gammaln(lo + 1.0)
    ratio = np.empty_like(k)
    ratio[:, 0] = np.exp(log_p0)
    ratio[:, 1:] = lam[:, None] / k[:, 1:]
    pmf: NDArray[Any] = np.cumprod(ratio, axis=1)
    pmf /= pmf.sum(axis=1, keepdims=True)
    return k, pmf


def poisson_toys(lam: NDArray[np.float64], n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Counts [n, B] (floats), every entry Poisson(λ_b) and all of them independent; from
    the table, the transpose of a [B, n] array (a bin's counts contiguous; copy with
    ``np.ascontiguousarray`` where toys are read one by one many times).

    ``lam`` [B] ≥ 0. By bin (module docstring: the same distribution, about twice as fast)
    where the pmf table [B, K] is no larger than the toys (K ≤ n, n ≥ 64); otherwise one
    count at a time (``rng.poisson``).

    >>> rng = np.random.default_rng(1)
    >>> x = poisson_toys(np.array([0.0, 2.5, 400.0]), 20_000, rng)
    >>> x.shape, float(x[:, 0].max())
    ((20000, 3), 0.0)
    >>> bool(np.allclose(x.mean(axis=0), [0, 2.5, 400], atol=0.3))
    True
    """
    lam = np.asarray(lam, dtype=float)
    if np.any(~np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("Poisson expectations must be finite and ≥ 0")
    widths = _window(lam)[1]
    if n < _MIN_TOYS_FOR_TABLE or lam.size == 0 or widths.max() > n:
        return rng.poisson(np.broadcast_to(lam, (n, lam.size))).astype(float)
    # bins in classes of similar window width (within 2×): one tight table per class
    order = np.argsort(widths, kind="stable")
    cls = np.ceil(np.log2(widths[order]))
    values = np.empty((lam.size, n))  # [bin, toy]
    for part in np.split(order, np.flatnonzero(np.diff(cls)) + 1):
        k, pmf = poisson_window(lam[part])
        counts = rng.multinomial(n, pmf)  # how many toys take each value
        values[part] = np.repeat(k.ravel(), counts.ravel()).reshape(part.size, n)
    rng.permuted(values, axis=1, out=values)  # which toy takes which value, per bin
    out: NDArray[np.float64] = values.T
    return out
