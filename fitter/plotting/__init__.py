"""Figures: every function accepts ``ax`` and returns the Figure."""

from ganom.fitter.plotting.gallium import overlay_gallium, plot_combined_ratios, plot_gallium_allowed
from ganom.fitter.plotting.likelihood import (
    plot_comparison,
    plot_contours,
    plot_delta_chi2_map,
    plot_profile,
    plot_sensitivity,
    plot_sigma_b,
    plot_stack,
)

__all__ = ["overlay_gallium", "plot_combined_ratios", "plot_comparison", "plot_contours", "plot_delta_chi2_map",
           "plot_gallium_allowed", "plot_profile", "plot_sensitivity", "plot_sigma_b", "plot_stack"]
