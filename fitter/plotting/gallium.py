"""Figures of the gallium anomaly. Every function accepts an ``ax`` and returns the Figure.

Oscillation plots use the usual convention: x = sin²2θ, y = Δm² [eV²], both logarithmic.
Colours: Paul Tol's colour-blind-safe "bright" set; the σ levels of one fit share its colour
and differ in line style (solid 1σ, dashed 2σ, dotted 3σ).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ganom.fitter.analyses.gallium import CombinedRatio, GalliumFitResult
from ganom.fitter.plotting.likelihood import _axes

__all__ = [
    "TOL_BRIGHT",
    "LEVEL_STYLES",
    "GALLIUM_COLOUR",
    "overlay_gallium",
    "plot_gallium_allowed",
    "plot_combined_ratios",
]

TOL_BRIGHT = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB"]


LEVEL_STYLES = {1: "solid", 2: "dashed", 3: "dotted"}


GALLIUM_COLOUR = "#EE6677"


def _label_of(res: GalliumFitResult) -> str:
    exps = res.experiments
    if sorted(exps) == ["BEST-inner", "BEST-outer"]:
        return "BEST"
    if len(exps) == 6:
        return "GALLEX + SAGE + BEST"
    return " + ".join(exps)


def overlay_gallium(ax: Any, result: GalliumFitResult | None = None, levels: Sequence[int] = (1, 2, 3),
                    colour: str = GALLIUM_COLOUR, label: str | None = None, fill: bool = True,
                    best_fit: bool = True, clabel: bool = True) -> Figure:
    """Draw a gallium allowed region (Wilks, 2 dof) and its best fit on an existing Axes.

    The Axes must use x = sin²2θ and y = Δm² [eV²] (the ES contour plots do). ``result``
    defaults to the fit of all six experiments with Bahcall's cross section. Returns the Figure.
    """
    if result is None:
        from ganom.fitter.analyses.gallium import fit_oscillation

        result = fit_oscillation()
    fig = ax.figure
    g = result.grid
    S, D = np.meshgrid(g.sin2_2theta, g.dm2)
    dchi = result.delta_chi2
    lv = sorted(int(k) for k in levels)
    for k in lv:
        if k not in result.levels:
            raise ValueError(f"level {k}σ not available; levels: {sorted(result.levels)}")
    if fill:
        ax.contourf(S, D, dchi, levels=[-1.0, result.levels[lv[0]]], colors=[colour], alpha=0.18, zorder=1)
    cs = ax.contour(S, D, dchi, levels=[result.levels[k] for k in lv], colors=[colour] * len(lv),
                    linestyles=[LEVEL_STYLES.get(k, "dashdot") for k in lv], linewidths=1.6, zorder=3)
    if clabel:
        ax.clabel(cs, fmt={result.levels[k]: f"{k}σ" for k in lv}, fontsize=7, inline=True)
    if best_fit:
        ax.plot(result.best_sin2_2theta, result.best_dm2, marker="*", ms=12, color=colour, mec="black", mew=0.6,
                ls="none", zorder=4)
    from ganom.models.gallium import xsec_model

    name = label or f"{_label_of(result)} ({xsec_model(result.model).label} σ)"
    handles = list(getattr(ax, "_gallium_handles", []))
    handles.append(Line2D([], [], color=colour, lw=1.6, marker="*", ms=9, mec="black", mew=0.5,
                          label=f"{name}: best fit, {'/'.join(f'{k}σ' for k in lv)}"))
    ax._gallium_handles = handles
    ax.set_xscale("log")
    ax.set_yscale("log")
    return fig


def plot_gallium_allowed(results: GalliumFitResult | Sequence[GalliumFitResult], ax: Any = None,
                         levels: Sequence[int] = (1, 2, 3), title: str | None = None,
                         colours: Sequence[str] | None = None) -> Figure:
    """Allowed regions of one or more gallium fits (log-log Δm² versus sin²2θ) with best fits."""
    res = [results] if isinstance(results, GalliumFitResult) else list(results)
    if not res:
        raise ValueError("plot_gallium_allowed needs at least one fit result")
    fig, ax = _axes(ax)
    cols = list(colours or [TOL_BRIGHT[1], TOL_BRIGHT[0], TOL_BRIGHT[2], TOL_BRIGHT[3]])
    for k, r in enumerate(res):
        overlay_gallium(ax, r, levels, cols[k % len(cols)], fill=True, clabel=False)  # the legend names the styles
    g = res[0].grid
    ax.set_xlim(g.sin2_2theta[0], g.sin2_2theta[-1])
    ax.set_ylim(g.dm2[0], g.dm2[-1])
    ax.set_xlabel(r"$\sin^2 2\theta_{ee}$")
    ax.set_ylabel(r"$\Delta m^2_{41}$ [eV$^2$]")
    style = [Line2D([], [], color="black", lw=1.2, ls=LEVEL_STYLES[k], label=f"{k}σ (Wilks, 2 dof)") for k in sorted(levels)]
    ax.legend(handles=list(ax._gallium_handles) + style, fontsize=7, frameon=False, loc="lower left")
    ax.grid(True, which="major", lw=0.3, alpha=0.5)
    from ganom.models.gallium import xsec_model

    ax.set_title(title or f"Gallium source experiments: 3+1 allowed regions ({xsec_model(res[0].model).label} σ, "
                          f"'{res[0].errors}' errors)", fontsize=9)
    return fig


def plot_combined_ratios(results: Sequence[CombinedRatio], ax: Any = None, title: str | None = None) -> Figure:
    """R̄ per cross-section model with its asymmetric 1σ errors and the deficit's significance."""
    if not results:
        raise ValueError("plot_combined_ratios needs at least one model")
    fig, ax = _axes(ax, figsize=(6.4, 0.55 * len(results) + 1.6))
    y = np.arange(len(results))[::-1]
    r = np.array([c.r_mean for c in results])
    err = np.array([[c.r_err_lo for c in results], [c.r_err_hi for c in results]])
    ax.errorbar(r, y, xerr=err, fmt="o", color=TOL_BRIGHT[0], ms=5, capsize=3, lw=1.4)
    ax.axvline(1.0, color="black", lw=0.8, ls="--")
    for yi, c in zip(y, results):
        ax.text(1.02, yi, f"{c.r_mean:.3f} −{c.r_err_lo:.3f}/+{c.r_err_hi:.3f}   {c.significance_sigma:.1f}σ",
                va="center", ha="left", fontsize=7.5)
    ax.text(1.02, len(results) - 0.55, r"$\bar R$ (1σ)   deficit", va="center", ha="left", fontsize=7.5, style="italic")
    ax.set_yticks(y, [c.label for c in results], fontsize=8)
    lo = min(0.6, float((r - err[0]).min()) - 0.03)
    ax.set_xlim(lo, 1.3)
    ax.set_ylim(-0.7, len(results) - 0.2)
    ax.set_xlabel(r"combined ratio $\bar R$ = measured / predicted")
    ax.text(1.0, -0.6, " no deficit", va="bottom", ha="left", fontsize=7, color="black")
    n = len(results[0].ratios)
    names = ", ".join(results[0].ratios) if n <= 3 else f"{n} source experiments"
    ax.set_title(title or f"Gallium anomaly per ⁷¹Ga cross-section model ({names}; '{results[0].errors}' errors)",
                 fontsize=9)
    return fig
