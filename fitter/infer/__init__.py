"""Inference on binned models: single fits (iminuit), the batched minimiser, scans, oscillation
hypotheses, contours (Wilks, raster, CLs, Feldman–Cousins), significance and parallel toys."""

from ganom.fitter.infer.contours import (
    ESGridProblem,
    feldman_cousins,
    gaussian_cls,
    parse_levels,
    raster,
    sensitivity_bands,
    wilks,
)
from ganom.fitter.infer.fit import FitResult, ProfileResult, fit, profile_scan
from ganom.fitter.infer.minimize import minimize_batch
from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
from ganom.fitter.infer.scan import scan_grid
from ganom.fitter.infer.significance import asimov_significance, sigma_r, significance, toy_significance

__all__ = ["ESGridProblem", "FitResult", "OscillationGrid", "OscillationModel", "ProfileResult",
           "asimov_significance", "feldman_cousins", "fit", "gaussian_cls", "minimize_batch", "parse_levels",
           "profile_scan", "raster", "scan_grid", "sensitivity_bands", "significance", "sigma_r",
           "toy_significance", "wilks"]
