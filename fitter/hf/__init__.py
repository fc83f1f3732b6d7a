"""The HistFactory core: parameters, interpolation codes, the model builder, the binned model
and its data. It imports nothing of ganom above it (only :mod:`ganom.exceptions` and the memory
guard :mod:`ganom.resources`).

The likelihood (CERN-OPEN-2012-016; pyhf, JOSS 6 (2021) 2823; docs/statistics.md §1–4):

    −ln L(θ) = Σ_b [μ_b(θ) − n_b ln μ_b(θ) + ln Γ(n_b + 1)] + Σ_p c_p(θ_p | a_p)
"""

from ganom.fitter.hf.builder import ModelBuilder
from ganom.fitter.hf.data import Data
from ganom.fitter.hf.interpolation import code4, code4_coefficients, code4p
from ganom.fitter.hf.model import BinnedModel, RowOverride, RowShift
from ganom.fitter.hf.parameters import Parameter, ParameterSet
from ganom.fitter.hf.sampling import poisson_toys

__all__ = ["BinnedModel", "Data", "ModelBuilder", "Parameter", "ParameterSet", "RowOverride", "RowShift", "code4",
           "code4_coefficients", "code4p", "poisson_toys"]
