"""The 3+1 hypothesis space: grids in (Δm², sin²2θ) and oscillated signal templates.

An :class:`OscillationModel` pairs a :class:`BinnedModel` with the templates it was built
from. For any batch of (Δm², sin²2θ) it returns the nominal templates and histosys shifts
with the signal samples replaced by their oscillated versions: one contraction of the
response kernel per batch (docs/architecture.md, "Data flow"), never a rebuild.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ganom.exceptions import InputError
from ganom.fitter.hf.interpolation import HistoParts
from ganom.fitter.hf.model import BinnedModel, RowOverride, RowShift
from ganom.models.templates import Templates

__all__ = ["DEFAULT_DM2_RANGE", "DEFAULT_S22T_RANGE", "parse_grid_shape", "OscillationGrid", "SignalResponse",
           "TemplateResponse", "OscillationModel"]

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
        from ganom.resources import require_memory

        # a scan keeps, per point, the profiled parameters, the objective and its convergence
        # (≈ 64 doubles); the oscillated templates are handled in bounded chunks
        require_memory(f"grid {n}x{k} ({n * k:.3g} points)", 512.0 * n * k, "use a coarser grid")
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


class SignalResponse(Protocol):
    """What an :class:`OscillationModel` needs of the physics: the oscillated (sample,
    channel) pieces and their expected counts for batches of (Δm², sin²2θ).

    ``variations`` maps histosys parameter names to the (α = −1, α = +1) keys that
    :meth:`evaluate` understands besides ``None`` (nominal): the shape systematics that the
    response recomputes under oscillation (an energy scale, event reweightings).
    """

    pieces: list[tuple[str, str]]
    variations: dict[str, tuple[Any, Any]]

    def evaluate(self, dm2: ArrayLike, sin2_2theta: ArrayLike, key: Any = None) -> list[NDArray]:
        """Counts [..., bins of the piece's channel] of every piece, in order."""
        ...


class TemplateResponse:
    """The analytic templates' signal kernel (:class:`ganom.models.templates.SignalKernel`)
    as a :class:`SignalResponse`: one piece per nuclear branch in ``source_on``, the energy
    scale recomputed at ∓σ."""

    def __init__(self, templates: Templates, model: BinnedModel):
        self.kernel = templates.kernel
        names = [n for n in templates.signal_names if n in model.samples]
        self.pieces = [(n, "source_on") for n in names]
        self._groups = [n.removeprefix("signal_") for n in names]
        esc = templates.escale_sigma
        self.variations = {"escale": (-esc, esc)} if esc > 0 else {}

    def evaluate(self, dm2: ArrayLike, sin2_2theta: ArrayLike, key: Any = None) -> list[NDArray]:
        counts = self.kernel.group_counts(dm2, sin2_2theta, 0.0 if key is None else key)
        batch = counts[self._groups[0]].shape[:-self.kernel.n_axes]
        return [counts[g].reshape(batch + (-1,)) for g in self._groups]


class OscillationModel:
    """A binned model whose signal samples follow (Δm², sin²2θ).

    Parameters
    ----------
    model : the binned model (built by :func:`ganom.fitter.config.build_model` or from a
        configuration file, :mod:`ganom.fitter.inputs`).
    templates : the analytic templates the model was built from (their signal kernel is
        contracted with ⟨P_ee⟩), or None with ``response``.
    response : any :class:`SignalResponse` (e.g. kernels built from simulated events).
    """

    def __init__(self, model: BinnedModel, templates: Templates | None = None, *,
                 response: SignalResponse | None = None):
        if (templates is None) == (response is None):
            raise InputError("OscillationModel needs the templates or a signal response (one of them)")
        self.model = model
        self.templates = templates
        self.response: SignalResponse = response if response is not None else TemplateResponse(templates, model)
        self.pieces = [(n, c) for n, c in self.response.pieces if n in model.samples]
        if not self.pieces:
            raise InputError("the model has no signal sample to oscillate")
        self.signal = list(dict.fromkeys(n for n, _ in self.pieces))
        self._rows = np.array([model.sample_index(n) for n in self.signal])
        self._q = [self.signal.index(n) for n, _ in self.pieces]
        self._sl = [model.channel_slices[c] for _, c in self.pieces]
        hp = model.histosys_parameters
        self._var = []  # (position among the histosys parameters, key at −1, key at +1)
        for name, (k_lo, k_hi) in self.response.variations.items():
            if name in model.parameters and model.parameters.index(name) in hp:
                self._var.append((int(np.nonzero(hp == model.parameters.index(name))[0][0]), k_lo, k_hi))

    def _evaluate(self, dm2: ArrayLike, sin2_2theta: ArrayLike):
        base = self.response.evaluate(dm2, sin2_2theta)
        var = [(h, self.response.evaluate(dm2, sin2_2theta, k_lo), self.response.evaluate(dm2, sin2_2theta, k_hi))
               for h, k_lo, k_hi in self._var]
        return base[0].shape[:-1], base, var

    def nominal(self, dm2: ArrayLike, sin2_2theta: ArrayLike) -> tuple[NDArray, tuple[NDArray, NDArray]]:
        """(nominal [..., S, B], (dlo, dhi) [..., H, S, B]) with oscillated signal rows."""
        batch, base, var = self._evaluate(dm2, sin2_2theta)
        nom = np.broadcast_to(self.model.nominal, batch + self.model.nominal.shape).copy()
        dlo0, dhi0 = self.model.histosys_shifts()
        dlo = np.broadcast_to(dlo0, batch + dlo0.shape).copy()
        dhi = np.broadcast_to(dhi0, batch + dhi0.shape).copy()
        for k, (q, sl) in enumerate(zip(self._q, self._sl)):
            row = self._rows[q]
            nom[..., row, sl] = base[k]
            for h, dn, up in var:
                dlo[..., h, row, sl] = base[k] - dn[k]
                dhi[..., h, row, sl] = up[k] - base[k]
        return nom, (dlo, dhi)

    def override(self, dm2: ArrayLike, sin2_2theta: ArrayLike) -> RowOverride:
        """The oscillated signal rows only (templates and code-4p histosys parts), batched.

        The fast form of :meth:`nominal`: the background samples are not copied.
        """
        batch, base, var = self._evaluate(dm2, sin2_2theta)
        m = self.model
        r = len(self._rows)
        nom = np.broadcast_to(m.nominal[self._rows], batch + (r, m.n_bins)).copy()
        H = m.histosys_parameters.size
        sym = asym = None
        if H:
            hs, ha = HistoParts.from_shifts(*m.histosys_shifts()).astuple()
            sym = np.broadcast_to(hs[:, self._rows], batch + (H, r, m.n_bins)).copy()
            asym = np.broadcast_to(ha[:, self._rows], batch + (H, r, m.n_bins)).copy()
        for k, (q, sl) in enumerate(zip(self._q, self._sl)):
            nom[..., q, sl] = base[k]
            for h, dn, up in var:
                dlo = base[k] - dn[k]
                dhi = up[k] - base[k]
                sym[..., h, q, sl] = 0.5 * (dhi + dlo)
                asym[..., h, q, sl] = (dhi - dlo) / 16.0
        return RowOverride(self._rows, nom, sym, asym)

    def __getstate__(self) -> dict:
        # The templates hold background spectra as closures; workers only need the response.
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

    def shift(self, dm2: ArrayLike) -> RowShift | None:
        """The signal rows over the Δm² values ``dm2`` as a :class:`RowShift`: entry a of its
        table is the deficit T(Δm²_a, sin²2θ = 0) − T(Δm²_a, 1), so ``.at(a, sin²2θ)`` is
        any point of that Δm² row without copying templates.

        None where that form does not hold: the model's signal templates are not the
        unoscillated ones, or the response is not linear in sin²2θ (checked at ½ on every row).
        """
        d = np.asarray(dm2, dtype=float).ravel()
        o0, oh, o1 = (self.override(d, np.full(d.size, s)) for s in (0.0, 0.5, 1.0))
        hs, ha = HistoParts.from_shifts(*self.model.histosys_shifts()).astuple()
        own = [(o0.nominal, self.model.nominal[self._rows])]
        if o0.sym is not None and o0.asym is not None:
            own += [(o0.sym, hs[:, self._rows]), (o0.asym, ha[:, self._rows])]
        tables = []
        for k, (t0, model_t) in enumerate(own):
            t1 = (o1.nominal, o1.sym, o1.asym)[k]
            th = (oh.nominal, oh.sym, oh.asym)[k]
            scale = max(float(np.abs(t0).max()), 1e-300)
            if np.abs(t0 - model_t).max() > 1e-9 * scale or np.abs(th - 0.5 * (t0 + t1)).max() > 1e-9 * scale:
                return None
            tables.append(t0 - t1)
        sym, asym = (tables[1], tables[2]) if len(tables) == 3 else (None, None)
        return RowShift(self._rows, tables[0], sym, asym, np.zeros(0, dtype=np.intp), np.zeros(0))
