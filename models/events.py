"""Oscillation response kernels from simulated signal events.

A collaboration's detector simulation gives, per selected event, the true neutrino energy
E_ν (one of the source's lines), the true baseline L (source → interaction vertex), the
reconstructed variables that define the analysis bin b, and a weight (expected events).
Summing the weights per (line ℓ, true-baseline bin i, analysis bin b) gives

    K[ℓ, i, b] = Σ_{events in (ℓ, i, b)} w,       μ_b(Δm², sin²2θ) = Σ_ℓ Σ_i ⟨P_ee⟩(i, ℓ) K[ℓ, i, b]

the event-built twin of :class:`ganom.models.templates.SignalKernel`: P_ee acts on the true
baseline and energy only, the detector response (resolution, selection, efficiencies) is
whatever the simulation did, and a Δm²–sin²2θ scan stays one matrix product per grid
batch. ⟨P_ee⟩ is averaged exactly over each true bin (uniform in L inside it; the
flux-weighted volume of a sphere is flat in L away from its edges, docs/physics.md §5).

>>> import numpy as np
>>> k = EventKernel.from_events(np.array([0.75, 0.75]), np.array([1.0, 2.0]), np.array([0, 1]),
...                             np.array([2.0, 3.0]), n_bins=2, true_edges_m=np.array([0.0, 1.5, 3.0]))
>>> k.counts().tolist()  # no oscillation: the weights per analysis bin
[2.0, 3.0]
>>> bool(np.allclose(k.counts(1e4, 1.0), [1.0, 1.5], atol=2e-3))  # fast oscillation: P → 1 − ½
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import PhysicsInputError
from ganom.models.oscillation import mean_sin2

__all__ = ["MAX_LINES", "binned_survival", "bin_of", "line_index", "EventKernel"]

FloatArray = NDArray[np.float64]
MAX_LINES = 16
"""At most this many distinct true neutrino energies: a radioactive source has a few lines."""


def binned_survival(true_edges_m: ArrayLike, energies_mev: ArrayLike, dm2: ArrayLike,
                    sin2_2theta: ArrayLike) -> FloatArray:
    """⟨P_ee⟩[..., line, true bin] averaged exactly over each true-baseline bin [m], for
    broadcastable arrays of Δm² [eV²] and sin²2θ (leading axes)."""
    edges = np.asarray(true_edges_m, dtype=float)
    d = np.asarray(dm2, dtype=float)[..., None, None]
    s = np.asarray(sin2_2theta, dtype=float)[..., None, None]
    e = np.asarray(energies_mev, dtype=float)[:, None]
    return 1.0 - s * mean_sin2(edges[:-1], edges[1:], e, d)


def bin_of(edges: ArrayLike, x: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """(bin index, inside) of values ``x`` in bins [e_i, e_i+1) — the last bin closed — of ``edges``.

    >>> bin_of([0.0, 1.0, 2.0], [0.5, 2.0, 2.5])[0].tolist(), bin_of([0.0, 1.0, 2.0], [0.5, 2.0, 2.5])[1].tolist()
    ([0, 1, -1], [True, True, False])
    """
    e = np.asarray(edges, dtype=float)
    v = np.asarray(x, dtype=float)
    i = np.searchsorted(e, v, side="right") - 1
    i = np.where(v == e[-1], e.size - 2, i)
    inside = (i >= 0) & (i < e.size - 1)
    return np.where(inside, i, -1), inside


def line_index(enu_mev: ArrayLike, lines_mev: ArrayLike | None = None,
               tolerance_mev: float = 1e-4) -> tuple[FloatArray, NDArray[np.intp]]:
    """(line energies [MeV], index of each event's line): the distinct true energies, or
    the given lines matched within ``tolerance_mev``."""
    e = np.asarray(enu_mev, dtype=float)
    if lines_mev is None:
        lines = np.unique(np.round(e / tolerance_mev) * tolerance_mev)
        if lines.size > MAX_LINES:
            raise PhysicsInputError("true neutrino energy", f"{lines.size} distinct values",
                                    f"at most {MAX_LINES} lines (a radioactive source's spectrum)")
    else:
        lines = np.asarray(lines_mev, dtype=float)
    idx = np.abs(e[:, None] - lines[None, :]).argmin(axis=1)
    off = np.abs(e - lines[idx]) > tolerance_mev
    if off.any():
        raise PhysicsInputError("true neutrino energy", float(e[off][0]),
                                f"one of the lines {', '.join(f'{x:g}' for x in lines)} MeV")
    return lines, idx


@dataclass(frozen=True)
class EventKernel:
    """K[line, true bin, analysis bin] and the per-bin Σw² of one simulated sample.

    ``time_fractions`` [t] (optional) spreads each analysis bin over time bins by the
    source's decay; ``counts`` then returns analysis × time bins flattened (time fastest).
    """

    line_energies_mev: FloatArray
    true_edges_m: FloatArray
    matrix: FloatArray
    sumw2: FloatArray
    time_fractions: FloatArray | None = None

    @classmethod
    def from_events(cls, enu_mev: ArrayLike, l_true_m: ArrayLike, bin_index: ArrayLike, weights: ArrayLike,
                    n_bins: int, true_edges_m: ArrayLike, lines_mev: ArrayLike | None = None,
                    time_fractions: ArrayLike | None = None) -> EventKernel:
        """Sum the weights of events (analysis bin ``bin_index`` in [0, n_bins)) per line and
        true-baseline bin; events outside the true edges are an error (the kernel would lose them)."""
        lines, li = line_index(enu_mev, lines_mev)
        edges = np.asarray(true_edges_m, dtype=float)
        L = np.asarray(l_true_m, dtype=float)
        w = np.asarray(weights, dtype=float)
        b = np.asarray(bin_index, dtype=np.intp)
        ti, inside = bin_of(edges, L)
        bad = ~inside
        if bad.any():
            raise PhysicsInputError("true baseline", float(L[bad][0]), f"{edges[0]:g}–{edges[-1]:g} m")
        n_true = edges.size - 1
        flat = (li * n_true + ti) * n_bins + b
        size = lines.size * n_true * n_bins
        K = np.bincount(flat, weights=w, minlength=size).reshape(lines.size, n_true, n_bins)
        sw2 = np.bincount(b, weights=w * w, minlength=n_bins)
        tf = None if time_fractions is None else np.asarray(time_fractions, dtype=float)
        return cls(lines, edges, K, sw2, tf)

    @property
    def n_bins(self) -> int:
        """Bins of :meth:`counts` (analysis bins × time bins)."""
        t = 1 if self.time_fractions is None else self.time_fractions.size
        return int(self.matrix.shape[-1] * t)

    def _with_time(self, x: FloatArray) -> FloatArray:
        if self.time_fractions is None:
            return x
        return (x[..., None] * self.time_fractions).reshape(x.shape[:-1] + (-1,))

    def counts(self, dm2: ArrayLike | None = None, sin2_2theta: ArrayLike | None = None) -> FloatArray:
        """Expected counts [..., n_bins] (no oscillation when ``dm2`` is None)."""
        if dm2 is None:
            return self._with_time(self.matrix.sum(axis=(0, 1)))
        p = binned_survival(self.true_edges_m, self.line_energies_mev, dm2, sin2_2theta)
        return self._with_time(np.einsum("...li,lib->...b", p, self.matrix, optimize=True))

    def uncertainties(self) -> FloatArray:
        """√Σw² per bin [n_bins] (the MC statistical uncertainty, no oscillation).

        With ``time_fractions`` the same events fill every time bin of an analysis bin, so
        their MC fluctuation is common to those bins; per-bin uncertainties (HistFactory's
        staterror, one γ per bin) would shrink it by √n_t in the sum over time. Each time
        bin therefore carries √n_t × its share: the time-summed MC uncertainty is exact, the
        time shape gets more freedom than the MC has (conservative)."""
        if self.time_fractions is None:
            return np.sqrt(self.sumw2)
        f = self.time_fractions
        return (np.sqrt(self.sumw2)[:, None] * f * np.sqrt(f.size)).reshape(-1)
