"""Model parameters: name, initial value, bounds, and the constraint that ties them to an
auxiliary measurement.

Constraint kinds (HistFactory conventions, as pyhf uses them):

* ``"free"``: no constraint term (normfactor, shapefactor);
* ``"normal"``: −ln L ∋ ½((θ − aux)/σ)² + ln(σ√2π), with aux = 0, σ = 1 for the α of a normsys
  or histosys, and aux = 1, σ = σ_rel for lumi and staterror γ's;
* ``"poisson"``: −ln L ∋ γτ − a ln(γτ) + ln Γ(a + 1), a = τ at nominal (shapesys γ's).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import ParameterError

__all__ = ["CONSTRAINTS", "SIGNAL_STRENGTH", "Parameter", "ParameterSet"]

CONSTRAINTS = ("free", "normal", "poisson")
SIGNAL_STRENGTH = "R"
"""The name of the signal-strength parameter of ganom's source analyses (the POI: the measured
rate over the predicted one; R = 0.82 is a gallium-like deficit)."""


@dataclass(frozen=True)
class Parameter:
    """One scalar parameter.

    Attributes
    ----------
    name : the parameter's name (``R``, ``activity``, ``bkg_po210``, ``staterror_ch[3]``).
    init : starting value (and the nominal value for Asimov data).
    bounds : allowed range.
    constraint : "free", "normal" or "poisson".
    aux : nominal auxiliary datum (centre of a normal constraint; τ for poisson).
    sigma : width of a normal constraint; τ (= aux) for poisson.
    fixed : held at ``init`` in fits.
    """

    name: str
    init: float
    bounds: tuple[float, float]
    constraint: str = "free"
    aux: float = 0.0
    sigma: float = 1.0
    fixed: bool = False

    def __post_init__(self) -> None:
        if self.constraint not in CONSTRAINTS:
            raise ParameterError(f"parameter '{self.name}': constraint {self.constraint!r} not in {CONSTRAINTS}")
        lo, hi = self.bounds
        if not lo < hi:
            raise ParameterError(f"parameter '{self.name}': bounds {self.bounds} must satisfy low < high")
        if not lo <= self.init <= hi:
            raise ParameterError(f"parameter '{self.name}': init {self.init} outside bounds {self.bounds}")
        if self.constraint == "normal" and not self.sigma > 0:
            raise ParameterError(f"parameter '{self.name}': constraint width σ = {self.sigma} must be > 0")


@dataclass
class ParameterSet:
    """An ordered collection of parameters, addressed by name."""

    params: list[Parameter] = field(default_factory=list)
    poi: str | None = None

    def __post_init__(self) -> None:
        self._index = {p.name: i for i, p in enumerate(self.params)}
        if len(self._index) != len(self.params):
            dup = [p.name for p in self.params if sum(q.name == p.name for q in self.params) > 1]
            raise ParameterError(f"duplicate parameter names: {sorted(set(dup))}")
        if self.poi is not None and self.poi not in self._index:
            raise ParameterError(f"parameter of interest '{self.poi}' is not a parameter; known: {self.names}")

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.params)

    def __contains__(self, name: str) -> bool:
        return name in self._index

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise ParameterError(f"unknown parameter '{name}'; known parameters: {', '.join(self.names)}") from None

    def __getitem__(self, name: str) -> Parameter:
        return self.params[self.index(name)]

    def add(self, param: Parameter) -> int:
        if param.name in self._index:
            raise ParameterError(f"parameter '{param.name}' defined twice")
        self.params.append(param)
        self._index[param.name] = len(self.params) - 1
        return len(self.params) - 1

    def copy(self) -> ParameterSet:
        return ParameterSet(list(self.params), self.poi)

    # -- user settings ------------------------------------------------------------
    def fix(self, name: str, value: float | None = None) -> ParameterSet:
        """Hold ``name`` fixed (at ``value``, or at its init)."""
        i = self.index(name)
        p = self.params[i]
        v = p.init if value is None else float(value)
        lo, hi = p.bounds
        if not lo <= v <= hi:
            raise ParameterError(f"cannot fix '{name}' at {v}: outside its bounds {p.bounds}")
        self.params[i] = replace(p, init=v, fixed=True)
        return self

    def release(self, name: str) -> ParameterSet:
        """Let a fixed parameter float again."""
        i = self.index(name)
        self.params[i] = replace(self.params[i], fixed=False)
        return self

    def unconstrain(self, name: str) -> ParameterSet:
        """Remove the constraint term of ``name`` (it floats freely within its bounds)."""
        i = self.index(name)
        self.params[i] = replace(self.params[i], constraint="free")
        return self

    def constrain(self, name: str, sigma: float, aux: float | None = None) -> ParameterSet:
        """Give ``name`` a normal constraint of width ``sigma`` (around ``aux`` or its init)."""
        i = self.index(name)
        p = self.params[i]
        if not sigma > 0:
            raise ParameterError(f"constraint width for '{name}' must be > 0, got {sigma}")
        self.params[i] = replace(p, constraint="normal", sigma=float(sigma), aux=p.init if aux is None else float(aux))
        return self

    def set_init(self, name: str, value: float) -> ParameterSet:
        i = self.index(name)
        self.params[i] = replace(self.params[i], init=float(value))
        return self

    def set_bounds(self, name: str, low: float, high: float) -> ParameterSet:
        i = self.index(name)
        self.params[i] = replace(self.params[i], bounds=(float(low), float(high)))
        return self

    # -- arrays -------------------------------------------------------------------
    @property
    def inits(self) -> NDArray[np.float64]:
        return np.array([p.init for p in self.params], dtype=float)

    @property
    def bounds(self) -> NDArray[np.float64]:
        return np.array([p.bounds for p in self.params], dtype=float).reshape(-1, 2)

    @property
    def fixed(self) -> NDArray[np.bool_]:
        return np.array([p.fixed for p in self.params], dtype=bool)

    def constrained(self, kind: str) -> NDArray[np.int64]:
        """Indices of parameters with a constraint of ``kind``."""
        return np.array([i for i, p in enumerate(self.params) if p.constraint == kind], dtype=int)

    def vector(self, values: dict[str, float] | None = None, base: Iterable[float] | None = None) -> NDArray[np.float64]:
        """A parameter vector: the inits (or ``base``) with named overrides."""
        v = self.inits if base is None else np.array(list(base), dtype=float)
        for k, x in (values or {}).items():
            v[self.index(k)] = float(x)
        return v
