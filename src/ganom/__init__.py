"""ganom: statistical fits for sterile-neutrino and gallium-anomaly tests with radioactive
neutrino sources.

The package has two halves: :mod:`ganom.models` is the physics (sources, ν–e cross sections,
geometry, detectors, backgrounds, templates, gallium experiments) and :mod:`ganom.fitter` the
statistics (the HistFactory core :mod:`ganom.fitter.hf`, inference :mod:`ganom.fitter.infer`,
pyhf interchange :mod:`ganom.fitter.pyhf`, configurations, analyses, plots, the CLI). The
names below are the curated entry points; they are imported on first use, so ``import
ganom`` stays light.

>>> import ganom
>>> cfg = ganom.Configuration.resolve("jne-1t", "cr51", "centre", 10)
>>> tpl, model = cfg.build()
>>> res = ganom.fit(model, model.asimov({"R": 0.82}))
>>> round(res.value("R"), 3)  # the truth, to well within its error (±0.03)
0.82
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("ganom")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"

_API: dict[str, str] = {
    # physics
    "load_detector": "ganom.models.detectors",
    "load_source": "ganom.models.sources",
    "CR51": "ganom.models.sources",
    "AR37": "ganom.models.sources",
    "signal_rate": "ganom.models.rates",
    "sigma": "ganom.models.xsec",
    "dsigma_dt": "ganom.models.xsec",
    "build_templates": "ganom.models.templates",
    # configuration → build
    "Configuration": "ganom.fitter.config",
    "AnalysisConfig": "ganom.fitter.config",
    "build_model": "ganom.fitter.config",
    # the HistFactory core
    "ModelBuilder": "ganom.fitter.hf.builder",
    "BinnedModel": "ganom.fitter.hf.model",
    "Data": "ganom.fitter.hf.data",
    # inference
    "fit": "ganom.fitter.infer.fit",
    "profile_scan": "ganom.fitter.infer.fit",
    "FitResult": "ganom.fitter.infer.fit",
    "asimov_significance": "ganom.fitter.infer.significance",
    "significance": "ganom.fitter.infer.significance",
    "sigma_r": "ganom.fitter.infer.significance",
    "OscillationGrid": "ganom.fitter.infer.oscillation",
    "OscillationModel": "ganom.fitter.infer.oscillation",
    "ESGridProblem": "ganom.fitter.infer.contours",
    "parse_levels": "ganom.fitter.infer.contours",
    "wilks": "ganom.fitter.infer.contours",
    "raster": "ganom.fitter.infer.contours",
    "gaussian_cls": "ganom.fitter.infer.contours",
    "feldman_cousins": "ganom.fitter.infer.contours",
    "sensitivity_bands": "ganom.fitter.infer.contours",
    # pyhf interchange
    "load_workspace": "ganom.fitter.pyhf.load",
    "export_workspace": "ganom.fitter.pyhf.export",
    # errors
    "GanomError": "ganom.exceptions",
    "InputError": "ganom.exceptions",
    "FitError": "ganom.exceptions",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    try:
        module = _API[name]
    except KeyError:
        raise AttributeError(f"module 'ganom' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from ganom.exceptions import FitError, GanomError, InputError
    from ganom.fitter.config import AnalysisConfig, Configuration, build_model
    from ganom.fitter.hf.builder import ModelBuilder
    from ganom.fitter.hf.data import Data
    from ganom.fitter.hf.model import BinnedModel
    from ganom.fitter.infer.contours import (
        ESGridProblem,
        feldman_cousins,
        gaussian_cls,
        parse_levels,
        raster,
        sensitivity_bands,
        wilks,
    )
    from ganom.fitter.infer.fit import FitResult, fit, profile_scan
    from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
    from ganom.fitter.infer.significance import asimov_significance, sigma_r, significance
    from ganom.fitter.pyhf.export import export_workspace
    from ganom.fitter.pyhf.load import load_workspace
    from ganom.models.detectors import load_detector
    from ganom.models.rates import signal_rate
    from ganom.models.sources import AR37, CR51, load_source
    from ganom.models.templates import build_templates
    from ganom.models.xsec import dsigma_dt, sigma
