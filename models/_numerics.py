"""Numerical pieces shared by the physics modules, one home each.

* Gauss–Legendre nodes on [0, 1];
* the endpoint-substituted rule T = b − (b − a)u² on the pieces of a split interval, which
  integrates an integrable endpoint singularity at b (the soft-photon logarithm at a recoil
  edge) smoothly;
* the decay integral ∫ e^{−t/τ} dt over [t1, t2].

>>> import numpy as np
>>> t, w = endpoint_nodes(np.array([0.0, 1.0, 2.0]), 8)
>>> round(float(np.sum(w * t**2)), 12)  # ∫_0^2 T² dT
2.666666666667
>>> round(float(decay_integral(10.0, 0.0, 1e9)), 9)  # ∫_0^∞ e^{−t/10} dt
10.0
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["gauss_legendre01", "endpoint_nodes", "decay_integral"]


@functools.cache
def gauss_legendre01(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes and weights of the n-point Gauss–Legendre rule on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(n)
    x01, w01 = 0.5 * (x + 1.0), 0.5 * w
    x01.setflags(write=False)
    w01.setflags(write=False)
    return x01, w01


def endpoint_nodes(pts: NDArray[np.float64], n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes and weights for ∫ f(T) dT over [pts[0], pts[-1]], split at every point of ``pts``
    (sorted), with T = b − (b − a)u² in each piece [a, b]: n nodes per piece."""
    x01, w01 = gauss_legendre01(n)
    a, b = pts[:-1, None], pts[1:, None]
    return (b - (b - a) * x01**2).ravel(), (2.0 * (b - a) * x01 * w01).ravel()


def decay_integral(tau: float, t1: ArrayLike, t2: ArrayLike) -> NDArray[np.float64]:
    """∫_{t1}^{t2} e^{−t/τ} dt (same units as τ), without cancellation for short intervals."""
    t1_, t2_ = np.asarray(t1, dtype=float), np.asarray(t2, dtype=float)
    out: NDArray[np.float64] = tau * np.exp(-t1_ / tau) * -np.expm1(-(t2_ - t1_) / tau)
    return out
