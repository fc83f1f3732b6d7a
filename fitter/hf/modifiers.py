"""Typed HistFactory modifiers: one frozen instance per (parameter, sample, channel), as in a
pyhf workspace (pyhf docs, "Modifiers"; CERN-OPEN-2012-016 §2; docs/statistics.md §4).

=============  ======================  ========================================================
class          pyhf type               effect on the sample's expected counts in its channel
=============  ======================  ========================================================
NormFactor     ``normfactor``          × θ (free)
Lumi           ``lumi``                × θ, θ constrained by N(aux | θ, σ)
NormSys        ``normsys``             × κ(α), code 4 between ``lo`` (α = −1) and ``hi`` (+1)
HistoSys       ``histosys``            + Δ(α), code 4p between ``lo_data`` and ``hi_data``
StatError      ``staterror``           × γ_b per bin, γ_b ~ N(1, σ_b), σ_b from all samples
ShapeSys       ``shapesys``            × γ_b per bin, Poisson constraint τ_b = (ν_b/δ_b)²
ShapeFactor    ``shapefactor``         × γ_b per bin (free)
Function       (ganom only)            × f(θ) for a callable f (θ in natural units)
=============  ======================  ========================================================

Modifiers of the same name share their parameter(s): a normsys on several samples and
channels has one α; a shapefactor of one name in several channels has one γ per bin.

>>> NormSys("bkg_norm", "bkg", "sr", lo=0.9, hi=1.1).kind
'normsys'
>>> NormSys("x", "bkg", "sr", lo=0.0, hi=1.1)
Traceback (most recent call last):
...
ganom.exceptions.ModelError: normsys 'x' on 'bkg'/'sr': lo = 0.0, hi = 1.1 must be finite and > 0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import ModelError

__all__ = [
    "Modifier",
    "NormFactor",
    "Lumi",
    "NormSys",
    "HistoSys",
    "StatError",
    "ShapeSys",
    "ShapeFactor",
    "Function",
    "PER_BIN",
    "SCALAR",
]

FloatArray = NDArray[np.float64]


def _vector(values: Any, what: str) -> FloatArray:
    arr = np.array(values, dtype=float).ravel()
    if not np.all(np.isfinite(arr)):
        raise ModelError(f"{what}: the values contain NaN or inf")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class Modifier:
    """A modifier named ``name`` (its parameter's name) on ``sample`` in ``channel``."""

    name: str
    sample: str
    channel: str
    kind: ClassVar[str] = ""

    def where(self) -> str:
        return f"{self.kind} '{self.name}' on '{self.sample}'/'{self.channel}'"


@dataclass(frozen=True)
class NormFactor(Modifier):
    """A free multiplicative parameter."""

    kind: ClassVar[str] = "normfactor"


@dataclass(frozen=True)
class Lumi(Modifier):
    """A multiplicative parameter with a normal constraint of width ``sigma`` around 1."""

    sigma: float = 0.0
    kind: ClassVar[str] = "lumi"

    def __post_init__(self) -> None:
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ModelError(f"{self.where()}: σ = {self.sigma} must be finite and > 0")


@dataclass(frozen=True)
class NormSys(Modifier):
    """Normalisation systematic: factors ``lo`` at α = −1 and ``hi`` at α = +1 (code 4)."""

    lo: float = 1.0
    hi: float = 1.0
    kind: ClassVar[str] = "normsys"

    def __post_init__(self) -> None:
        if not (self.lo > 0 and self.hi > 0 and np.isfinite(self.lo) and np.isfinite(self.hi)):
            raise ModelError(f"{self.where()}: lo = {self.lo}, hi = {self.hi} must be finite and > 0")


@dataclass(frozen=True, eq=False)
class HistoSys(Modifier):
    """Shape systematic: the sample's templates at α = −1 (``lo_data``) and +1 (``hi_data``)."""

    lo_data: FloatArray = field(default_factory=lambda: np.zeros(0))
    hi_data: FloatArray = field(default_factory=lambda: np.zeros(0))
    kind: ClassVar[str] = "histosys"

    def __post_init__(self) -> None:
        object.__setattr__(self, "lo_data", _vector(self.lo_data, f"{self.where()}: lo_data"))
        object.__setattr__(self, "hi_data", _vector(self.hi_data, f"{self.where()}: hi_data"))
        if self.lo_data.size != self.hi_data.size:
            raise ModelError(f"{self.where()}: lo_data has {self.lo_data.size} bins, hi_data {self.hi_data.size}")


@dataclass(frozen=True, eq=False)
class StatError(Modifier):
    """Per-bin γ's shared by the samples carrying the same name in one channel; ``errors`` are
    this sample's absolute uncertainties per bin (pyhf: σ_b = √Σ_s δ_sb² / Σ_s ν_sb)."""

    errors: FloatArray = field(default_factory=lambda: np.zeros(0))
    kind: ClassVar[str] = "staterror"

    def __post_init__(self) -> None:
        object.__setattr__(self, "errors", _vector(self.errors, f"{self.where()}: data"))


@dataclass(frozen=True, eq=False)
class ShapeSys(Modifier):
    """Per-bin γ's of one sample with Poisson constraints; ``errors`` are absolute per bin."""

    errors: FloatArray = field(default_factory=lambda: np.zeros(0))
    kind: ClassVar[str] = "shapesys"

    def __post_init__(self) -> None:
        object.__setattr__(self, "errors", _vector(self.errors, f"{self.where()}: data"))


@dataclass(frozen=True)
class ShapeFactor(Modifier):
    """Per-bin free γ's (one per bin, shared by every sample and channel using the name)."""

    kind: ClassVar[str] = "shapefactor"


@dataclass(frozen=True, eq=False)
class Function(Modifier):
    """× f(θ): ``factor`` maps θ (array) to (f, df/dθ), vectorised and picklable. A native
    extension of HistFactory: pyhf cannot express it."""

    factor: Callable[[FloatArray], tuple[FloatArray, FloatArray]] | None = None
    kind: ClassVar[str] = "function"


PER_BIN = ("staterror", "shapesys", "shapefactor")
"""Modifier kinds with one parameter per bin."""
SCALAR = ("normfactor", "lumi", "normsys", "function")
"""Multiplicative modifier kinds with one parameter."""
