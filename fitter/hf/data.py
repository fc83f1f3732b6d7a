"""Observed data of a binned model: main-measurement counts and auxiliary data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Data"]


# ----------------------------------------------------------------------------- data
@dataclass
class Data:
    """Observed main-measurement counts (all channels concatenated) and auxiliary data.

    ``aux`` has one entry per model parameter (ignored for unconstrained ones): the centre of
    a normal constraint or the count of a Poisson one; a model with analytically profiled MC
    statistics appends one entry per MC-statistics bin (``BinnedModel.n_aux`` in all).
    """

    main: NDArray[np.float64]
    aux: NDArray[np.float64]

    def __post_init__(self) -> None:
        self.main = np.asarray(self.main, dtype=float)
        self.aux = np.asarray(self.aux, dtype=float)
