"""Interpolation codes of HistFactory modifiers, as pyhf implements them.

* normsys, code 4: κ(α) = hi^α for α ≥ 1, lo^(−α) for α ≤ −1, and inside |α| < 1 the
  6th-order polynomial that matches value, first and second derivative at ±1 (pyhf docs,
  "Modifiers"; ROOT HistFactory code 4).
* histosys, code 4p: Δ(α) = α·S + c₂(α)·A with S = (dhi + dlo)/2, A = (dhi − dlo)/16 and
  c₂ = α²(15 + α²(3α² − 10)) inside |α| ≤ 1, ±8α beyond (linear extrapolation).

>>> import numpy as np
>>> lo, hi = np.array(0.9), np.array(1.2)
>>> c = code4_coefficients(lo, hi)
>>> [round(float(code4(a, lo, hi, c)[0]), 12) for a in (-1.0, 0.0, 1.0, 2.0)]
[0.9, 1.0, 1.2, 1.44]
>>> [float(code4p(a, np.array(2.0), np.array(3.0))[0]) for a in (-1.0, 0.0, 1.0, 2.0)]
[-2.0, 0.0, 3.0, 6.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["code4_coefficients", "code4", "code4p", "HistoParts"]

# ----------------------------------------------------------------------------- interpolation
_A0 = 1.0


def _code4_matrix() -> NDArray[Any]:
    """Rows: p(α₀), p(−α₀), p'(α₀), p'(−α₀), p''(α₀), p''(−α₀) of p(α) = Σ_{i=1..6} c_i αⁱ."""
    a = _A0
    rows = []
    for deriv in range(3):
        for sign in (1.0, -1.0):
            x = sign * a
            row = []
            for i in range(1, 7):
                if deriv == 0:
                    row.append(x**i)
                elif deriv == 1:
                    row.append(i * x ** (i - 1))
                else:
                    row.append(i * (i - 1) * x ** (i - 2) if i >= 2 else 0.0)
            rows.append(row)
    return np.linalg.inv(np.array(rows))


_CODE4_INV = _code4_matrix()


def code4_coefficients(lo: NDArray[Any], hi: NDArray[Any]) -> NDArray[Any]:
    """Polynomial coefficients (…, 6) of normsys interpolation code 4 inside |α| < 1.

    The polynomial matches the exponential extrapolations hi^α and lo^(−α) in value, first
    and second derivative at α = ±1 (pyhf ``code4``; ROOT HistFactory code 4).
    """
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    lhi, llo = np.log(hi), np.log(lo)
    b = np.stack([hi - 1.0, lo - 1.0, lhi * hi, -llo * lo, lhi**2 * hi, llo**2 * lo], axis=-1)
    out: NDArray[Any] = b @ _CODE4_INV.T
    return out


def code4(alpha: NDArray[Any], lo: NDArray[Any], hi: NDArray[Any], coef: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """(κ(α), dκ/dα) of normsys code 4; ``alpha`` broadcasts against lo/hi."""
    a = np.asarray(alpha, dtype=float)
    c = np.moveaxis(np.asarray(coef, dtype=float), -1, 0)
    poly = c[5] * a  # Horner: 1 + a(c1 + a(c2 + … + a c6)) and its derivative
    dpoly = 6.0 * c[5] * a
    for i in range(4, 0, -1):
        poly = (c[i] + poly) * a
        dpoly = ((i + 1) * c[i] + dpoly) * a
    poly = 1.0 + (c[0] + poly) * a
    dpoly = c[0] + dpoly
    up = hi ** np.maximum(a, 0.0)
    dn = lo ** np.maximum(-a, 0.0)
    val = np.where(a >= _A0, up, np.where(a <= -_A0, dn, poly))
    der = np.where(a >= _A0, up * np.log(hi), np.where(a <= -_A0, -dn * np.log(lo), dpoly))
    return val, der


def _code4p_c2(a: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """c₂(α) and dc₂/dα of code 4p written as Δ = α·S + c₂(α)·A (see :func:`code4p`):
    c₂ = α²(15 + α²(3α² − 10)) inside |α| ≤ 1 and ±8α beyond, so the branch depends on α only."""
    a2 = a * a
    c2 = np.where(a > 1.0, 8.0 * a, np.where(a < -1.0, -8.0 * a, a2 * (15.0 + a2 * (3.0 * a2 - 10.0))))
    dc2 = np.where(a > 1.0, 8.0, np.where(a < -1.0, -8.0, 30.0 * a + a2 * a * (18.0 * a2 - 40.0)))
    return c2, dc2


def code4p(alpha: NDArray[Any], dlo: NDArray[Any], dhi: NDArray[Any], curvature: bool = False) -> tuple[NDArray[Any], ...]:
    """(Δ(α), dΔ/dα[, d²Δ/dα²]) of histosys code 4p with dhi = hi − nominal, dlo = nominal − lo.

    |α| ≤ 1: Δ = α(S + αA(15 + α²(3α² − 10))), S = (dhi + dlo)/2, A = (dhi − dlo)/16;
    linear beyond (pyhf ``code4p``): value, slope and curvature are continuous at ±1.
    """
    a = np.asarray(alpha, dtype=float)
    s = 0.5 * (dhi + dlo)
    asym = (dhi - dlo) / 16.0
    c2, dc2 = _code4p_c2(a)
    val, der = a * s + c2 * asym, s + dc2 * asym
    if not curvature:
        return val, der
    a2 = a * a
    return val, der, np.where(np.abs(a) > 1.0, 0.0, asym * (30.0 + a2 * (90.0 * a2 - 120.0)))


@dataclass
class HistoParts:
    """Histosys shifts in the form code 4p uses: sym = (dhi + dlo)/2, asym = (dhi − dlo)/16.

    Pass one instead of (dlo, dhi) when the same override is evaluated many times.
    """

    sym: NDArray[Any]
    asym: NDArray[Any]

    @classmethod
    def from_shifts(cls, dlo: NDArray[Any], dhi: NDArray[Any]) -> HistoParts:
        return cls(0.5 * (dhi + dlo), (dhi - dlo) / 16.0)

    def astuple(self) -> tuple[NDArray[Any], NDArray[Any]]:
        return self.sym, self.asym

    def __getitem__(self, idx: Any) -> HistoParts:
        return HistoParts(self.sym[idx], self.asym[idx])
