"""The 3+1 hypothesis space: grids in (Δm², sin²2θ) and oscillated signal templates.

An :class:`OscillationModel` pairs a :class:`BinnedModel` with the templates it was built
from. For any batch of (Δm², sin²2θ) it returns the nominal templates and histosys shifts
with the signal samples replaced by their oscillated versions: one contraction of the
response kernel per batch (docs/architecture.md, "Data flow"), never a rebuild.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import InputError
from ganom.fitter.hf.interpolation import HistoParts
from ganom.fitter.hf.model import BinnedModel, RowOverride
from ganom.models.templates import Templates

__all__ = ["DEFAULT_DM2_RANGE", "DEFAULT_S22T_RANGE", "parse_grid_shape", "OscillationGrid", "OscillationModel"]

DEFAULT_DM2_RANGE = (0.01, 100.0)  # eV²


DEFAULT_S22T_RANGE = (1e-3, 1.0)


def parse_grid_shape(spec: str | tuple[int, int]) -> tuple[int, int]:
    """'NxM' → (N, M): Δm² points × sin²2θ points, at least 2 each."""
    if isinstance(spec, tuple):
        n, k = (int(v) for v in spec)
    else:
        m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", str(spec))
        if not m:
            raise InputError(f"grid '{spec}': expected 'NxM' (Δm² points × sin²2θ points), e.g. 60x60")
        n, k = int(m.group(1)), int(m.group(2))
    if n < 2 or k < 2:
        raise InputError(f"grid '{spec}': need at least 2×2 points")
    return n, k


@dataclass(frozen=True)
class OscillationGrid:
    """A log-spaced (Δm² [eV²], sin²2θ) grid; ``dm2`` along axis 0 of every map."""

    dm2: NDArray[np.float64]
    sin2_2theta: NDArray[np.float64]

    def __post_init__(self) -> None:
        for name, v, lo, hi in (("dm2", self.dm2, 0.0, np.inf), ("sin2_2theta", self.sin2_2theta, 0.0, 1.0)):
            a = np.asarray(v, dtype=float)
            if a.ndim != 1 or a.size < 1 or not np.all(np.isfinite(a)) or np.any(a < lo) or np.any(a > hi) or np.any(np.diff(a) <= 0):
                raise InputError(f"grid {name}: need increasing values in [{lo:g}, {hi:g}], got {v!r}")
            object.__setattr__(self, name, a)

    @classmethod
    def from_spec(cls, spec: str | tuple[int, int] = "60x60", dm2_range: tuple[float, float] = DEFAULT_DM2_RANGE,
                  s22t_range: tuple[float, float] = DEFAULT_S22T_RANGE) -> OscillationGrid:
        """'NxM' (or (N, M)) → N log-spaced Δm² values × M log-spaced sin²2θ values."""
        n, k = parse_grid_shape(spec)
        lo, hi = dm2_range
        slo, shi = s22t_range
        if not (0 < lo < hi) or not (0 < slo < shi <= 1):
            raise InputError(f"grid ranges: need 0 < Δm² low < high and 0 < sin²2θ low < high ≤ 1, got {dm2_range}, {s22t_range}")
        return cls(np.geomspace(lo, hi, n), np.geomspace(slo, shi, k))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.dm2.size, self.sin2_2theta.size)

    def points(self) -> tuple[NDArray, NDArray]:
        """Flattened (Δm², sin²2θ) of every grid point, C order (Δm² slowest)."""
        d, s = np.meshgrid(self.dm2, self.sin2_2theta, indexing="ij")
        return d.ravel(), s.ravel()

    def to_dict(self) -> dict[str, list[float]]:
        return {"dm2_ev2": self.dm2.tolist(), "sin2_2theta": self.sin2_2theta.tolist()}


class OscillationModel:
    """A binned model whose signal samples follow (Δm², sin²2θ).

    Parameters
    ----------
    model : the model built from ``templates`` by :func:`ganom.fitter.config.build_model`.
    templates : the templates (their signal kernel is contracted with ⟨P_ee⟩).
    """

    def __init__(self, model: BinnedModel, templates: Templates):
        self.model = model
        self.templates = templates
        self.kernel = templates.kernel
        self.signal = [n for n in templates.signal_names if n in model.samples]
        if not self.signal:
            raise InputError("the model has no signal sample to oscillate")
        self._rows = np.array([model.sample_index(n) for n in self.signal])
        self._groups = [n.removeprefix("signal_") for n in self.signal]
        self._sl = model.channel_slices["source_on"]
        hp = model.histosys_parameters
        self._escale_h = None
        if "escale" in model.parameters and hp.size:
            ip = model.parameters.index("escale")
            if ip in hp:
                self._escale_h = int(np.nonzero(hp == ip)[0][0])
        self._esc = templates.escale_sigma

    def nominal(self, dm2: ArrayLike, sin2_2theta: ArrayLike) -> tuple[NDArray, tuple[NDArray, NDArray]]:
        """(nominal [..., S, B], (dlo, dhi) [..., H, S, B]) with oscillated signal rows."""
        k = self.kernel
        base = k.group_counts(dm2, sin2_2theta, 0.0)
        batch = base[self._groups[0]].shape[:-3]
        nom = np.broadcast_to(self.model.nominal, batch + self.model.nominal.shape).copy()
        dlo0, dhi0 = self.model.histosys_shifts()
        dlo = np.broadcast_to(dlo0, batch + dlo0.shape).copy()
        dhi = np.broadcast_to(dhi0, batch + dhi0.shape).copy()
        if self._escale_h is not None:
            dn = k.group_counts(dm2, sin2_2theta, -self._esc)
            up = k.group_counts(dm2, sin2_2theta, self._esc)
        for row, g in zip(self._rows, self._groups):
            flat = base[g].reshape(batch + (-1,))
            nom[..., row, self._sl] = flat
            if self._escale_h is not None:
                dlo[..., self._escale_h, row, self._sl] = flat - dn[g].reshape(batch + (-1,))
                dhi[..., self._escale_h, row, self._sl] = up[g].reshape(batch + (-1,)) - flat
        return nom, (dlo, dhi)

    def override(self, dm2: ArrayLike, sin2_2theta: ArrayLike) -> RowOverride:
        """The oscillated signal rows only (templates and code-4p histosys parts), batched.

        The fast form of :meth:`nominal`: the background samples are not copied.
        """
        k = self.kernel
        base = k.group_counts(dm2, sin2_2theta, 0.0)
        batch = base[self._groups[0]].shape[:-3]
        m = self.model
        B = m.n_bins
        r = len(self._rows)
        nom = np.zeros(batch + (r, B))
        H = m.histosys_parameters.size
        sym = asym = None
        if H:
            hs, ha = HistoParts.from_shifts(*m.histosys_shifts()).astuple()
            sym = np.broadcast_to(hs[:, self._rows], batch + (H, r, B)).copy()
            asym = np.broadcast_to(ha[:, self._rows], batch + (H, r, B)).copy()
        if self._escale_h is not None:
            dn = k.group_counts(dm2, sin2_2theta, -self._esc)
            up = k.group_counts(dm2, sin2_2theta, self._esc)
        for q, (row, g) in enumerate(zip(self._rows, self._groups)):
            flat = base[g].reshape(batch + (-1,))
            nom[..., q, :] = m.nominal[row]
            nom[..., q, self._sl] = flat
            if self._escale_h is not None:
                dlo = flat - dn[g].reshape(batch + (-1,))
                dhi = up[g].reshape(batch + (-1,)) - flat
                sym[..., self._escale_h, q, self._sl] = 0.5 * (dhi + dlo)
                asym[..., self._escale_h, q, self._sl] = (dhi - dlo) / 16.0
        return RowOverride(self._rows, nom, sym, asym)

    def __getstate__(self) -> dict:
        # The templates hold background spectra as closures; workers only need the kernel.
        state = dict(self.__dict__)
        state["templates"] = None
        return state

    def expected(self, theta: ArrayLike, dm2: ArrayLike, sin2_2theta: ArrayLike) -> NDArray:
        """μ at θ under (Δm², sin²2θ) (broadcast batches)."""
        nom, histo = self.nominal(dm2, sin2_2theta)
        return self.model.expected(theta, nom, histo)

    def asimov(self, theta: ArrayLike | dict | None = None, dm2: float | None = None,
               sin2_2theta: float | None = None):
        """The Asimov dataset at θ with (optionally) oscillation injected."""
        from ganom.fitter.hf.data import Data

        data = self.model.asimov(theta)
        if dm2 is None:
            return data
        th = self.model.parameters.vector(theta) if isinstance(theta, dict) else (
            self.model.parameters.inits if theta is None else np.asarray(theta, dtype=float))
        return Data(self.expected(th, dm2, sin2_2theta), data.aux)

    def at(self, dm2: float, sin2_2theta: float) -> BinnedModel:
        """A plain :class:`BinnedModel` with the signal oscillated at one point (for iminuit, export)."""
        nom, (dlo, dhi) = self.nominal(np.asarray(dm2, dtype=float), np.asarray(sin2_2theta, dtype=float))
        return self.model.replace_templates(nom, dlo, dhi)
