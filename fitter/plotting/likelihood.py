"""Matplotlib figures. Every function accepts an ``ax`` and returns the Figure.

Colours: from Paul Tol's colour-blind-safe schemes; the signal lines in pinks and yellows,
backgrounds in distinct blues, greens and purples, red reserved for the gallium region.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from ganom.fitter.infer.fit import ProfileResult
from ganom.models.templates import Templates

__all__ = [
    "SIGNAL_COLOURS",
    "BACKGROUND_COLOURS",
    "DATA_STYLE",
    "plot_stack",
    "plot_postfit",
    "plot_profile",
    "plot_comparison",
    "plot_sensitivity",
    "CONTOUR_COLOURS",
    "CONTOUR_STYLES",
    "plot_contours",
    "refresh_legend",
    "OVERLAY_COLOURS",
    "OVERLAY_STYLES",
    "overlay_contour",
    "plot_delta_chi2_map",
    "plot_sigma_b",
    "plot_branching_exposure",
    "plot_branching_resolution",
    "plot_window_optimum",
]

SIGNAL_COLOURS = ["#EE6677", "#F4A6B0", "#CCBB44", "#E8DC8A"]


BACKGROUND_COLOURS = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#882255", "#AA4499", "#6699CC",
                      "#8C6D31", "#663333", "#004488", "#997700", "#555555", "#99AACC"]


DATA_STYLE = dict(fmt="o", color="black", ms=3.5, lw=1.0, label="data")


def _axes(ax: Any = None, figsize: tuple[float, float] = (6.4, 4.4)) -> tuple[Figure, Any]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _project(arr: NDArray, axis: str, axes: Sequence[str] = ("energy", "baseline", "time")) -> NDArray:
    """Project a template (axes named by ``axes``) on one axis."""
    keep = list(axes).index(axis)
    return arr.sum(axis=tuple(i for i in range(len(axes)) if i != keep))


def plot_stack(templates: Templates, axis: str = "energy", samples: dict[str, NDArray] | None = None,
               data: NDArray | None = None, ax: Any = None, log: bool | None = None, title: str | None = None,
               min_fraction: float = 1e-3, by_line: bool = True) -> Figure:
    """Stacked expected counts (signal by branch + each background) projected on one axis.

    Parameters
    ----------
    axis : "energy" (reconstructed recoil energy), "baseline" (reconstructed L), "time", or
        "cos" (angle to the source direction, directional binnings).
    samples : per-sample counts to stack (default: the nominal templates; pass
        post-fit per-sample counts reshaped to the binning to show a fit).
    data : observed counts with the binning's shape, drawn as points with √n errors; on a new
        figure (no ``ax``) a panel below shows the residuals (data − expected)/√expected.
    min_fraction : backgrounds below this share of the total are merged into "other"; so is
        every layer too thin to see on the axes (below 1 % of the axis height in every bin),
        so that the legend names only what is visible.
    by_line : show the nominal signal line by line (746.7, 751.8, 426.6, 431.7 keV for ⁵¹Cr)
        instead of by nuclear branch (only without ``samples``).
    """
    res_ax = None
    if ax is None and data is not None:
        fig, (ax, res_ax) = plt.subplots(2, 1, figsize=(6.4, 5.4), sharex=True, layout="constrained",
                                         gridspec_kw={"height_ratios": [3.2, 1.0]})
    else:
        fig, ax = _axes(ax)
    b = templates.binning
    if axis not in b.axes:
        raise ValueError(f"axis '{axis}' not in this binning's axes {b.axes}")
    edges = b.edges(axis)
    xlabel = {"energy": "reconstructed recoil energy $T$ [MeV]", "baseline": "reconstructed baseline $L$ [m]",
              "time": "time since source start [days]", "cos": r"$\cos\theta$ to the source direction"}[axis]
    src = dict(samples or templates.samples)
    labels = {n: templates.info[n].label for n in src}
    kinds = {n: templates.info[n].kind for n in src}
    if by_line and samples is None:
        lines = templates.kernel.line_counts()
        for n in [k for k in src if kinds[k] == "signal"]:
            del src[n]
        for k, e in enumerate(templates.kernel.line_energies_mev):
            key = f"line_{k}"
            src[key] = lines[k]
            labels[key] = f"{templates.source.isotope_label} ν {e * 1e3:.1f} keV"
            kinds[key] = "signal"
    proj = {n: _project(np.asarray(a), axis, b.axes) for n, a in src.items()}
    total = sum(v.sum() for v in proj.values())
    stacked = sum(proj.values())
    if log is None:
        log = axis == "energy"
    y_lo, y_hi = ((max(stacked.min() * 0.3, stacked.max() * 1e-5), stacked.max() * 8) if log
                  else (0.0, stacked.max() * 1.6))  # linear: room for the legend
    sig = [n for n in proj if kinds[n] == "signal"]
    bkg = sorted((n for n in proj if kinds[n] != "signal"), key=lambda n: proj[n].sum())
    other = [n for n in bkg if proj[n].sum() < min_fraction * total]
    bkg = [n for n in bkg if n not in other]

    def visible(names: list[str], before: NDArray) -> tuple[list[str], list[str], NDArray]:
        """Split stacked layers into those at least 1 % of the axis height somewhere and the rest."""
        keep, drop, low = [], [], before.copy()
        for n in names:
            top = low + proj[n]
            if log:
                span = (np.log(np.clip(top, y_lo, None)) - np.log(np.clip(low, y_lo, None))) / np.log(y_hi / y_lo)
            else:
                span = proj[n] / (y_hi - y_lo)
            (keep if span.max() >= 0.01 else drop).append(n)
            low = top
        return keep, drop, low

    base = sum((proj[n] for n in other), np.zeros(edges.size - 1))
    bkg, hidden, _ = visible(bkg, base)
    other += hidden
    base = sum((proj[n] for n in other), np.zeros(edges.size - 1))
    sig_keep, sig_hidden, _ = visible(sig, base + sum((proj[n] for n in bkg), np.zeros(edges.size - 1)))
    layers = [(n, labels[n], BACKGROUND_COLOURS[i % len(BACKGROUND_COLOURS)]) for i, n in enumerate(bkg)]
    layers += [(n, labels[n], SIGNAL_COLOURS[i % len(SIGNAL_COLOURS)]) for i, n in enumerate(sig_keep)]
    if sig_hidden:
        merged = "sig_rest"
        proj[merged] = sum(proj[n] for n in sig_hidden)
        name = templates.source.isotope_label + " ν, " + ("other lines" if by_line and samples is None else "other")
        layers.append((merged, name, SIGNAL_COLOURS[len(sig_keep) % len(SIGNAL_COLOURS)]))
    bottom = np.zeros(edges.size - 1)
    if other:
        o = sum(proj[n] for n in other)
        proj["other"] = o
        seen = bool(visible(["other"], bottom)[0])
        ax.stairs(o + bottom, edges, baseline=bottom, fill=True, color="#DDDDDD",
                  label="other backgrounds" if seen else None)
        bottom = bottom + o
    for n, label, colour in layers:
        ax.stairs(bottom + proj[n], edges, baseline=bottom, fill=True, color=colour, label=label, alpha=0.9)
        bottom = bottom + proj[n]
    ax.stairs(bottom, edges, color="black", lw=0.8)
    if data is not None:
        d = _project(np.asarray(data), axis, b.axes)
        centres = 0.5 * (edges[:-1] + edges[1:])
        ax.errorbar(centres, d, yerr=np.sqrt(np.maximum(d, 0)), **DATA_STYLE)
        if res_ax is not None:
            pull = (d - bottom) / np.sqrt(np.where(bottom > 0, bottom, 1.0))
            res_ax.axhline(0.0, color="black", lw=0.8)
            for k in (-2, 2):
                res_ax.axhline(k, color="#888888", lw=0.6, ls=":")
            res_ax.errorbar(centres, pull, yerr=np.sqrt(np.maximum(d, 0)) / np.sqrt(np.where(bottom > 0, bottom, 1.0)),
                            **DATA_STYLE)
            lim = max(3.5, float(np.nanmax(np.abs(pull))) * 1.2)
            res_ax.set_ylim(-lim, lim)
            res_ax.set_ylabel(r"$(n-\mu)/\sqrt{\mu}$")
            res_ax.set_xlabel(xlabel)
    if res_ax is None:
        ax.set_xlabel(xlabel)
    width = np.diff(edges)
    unit = {"energy": f"{width[0] * 1e3:.0f} keV", "baseline": f"{width[0]:.2g} m", "time": f"{width[0]:.3g} d",
            "cos": f"{width[0]:.2g}"}[axis]
    ax.set_ylabel(f"events / {unit}" if np.allclose(width, width[0]) else "events per bin")
    ax.set_xlim(edges[0], edges[-1])
    if log:
        ax.set_yscale("log")
    ax.set_ylim(y_lo, y_hi)
    ax.legend(fontsize=7, ncol=2, frameon=False, loc="upper right")
    det, src_ = templates.detector, templates.source
    ax.set_title(title or f"{det.label}, {src_.isotope_label} {src_.activity_mci:.3g} MCi at D = {templates.distance_m:g} m, "
                          f"{templates.binning.run_days:g} d", fontsize=9)
    return fig


def plot_postfit(templates: Templates, model: Any, result: Any, data: Any, axis: str = "energy",
                 ax: Any = None, poi: str | None = None) -> Figure:
    """:func:`plot_stack` of the fitted per-sample counts of a
    :class:`~ganom.fitter.infer.fit.FitResult` (the source-on channel, summed over the other
    axes) with the fitted ``data`` on top and the fit result in the corner: the parameter of
    interest ``poi`` (default: the model's) with its error, the goodness of fit and the fit's
    status."""
    from ganom.fitter.config import unflatten

    on = model.channel_slices["source_on"]
    per = model.expected_samples(result.values)[..., on]
    samples = {n: unflatten(templates, per[i]) for i, n in enumerate(model.samples)}
    fig = plot_stack(templates, axis, samples=samples, data=unflatten(templates, data.main[on]), ax=ax)
    poi = poi or model.poi
    v, e = result.value(poi), result.error(poi)
    digits = max(0, 1 - int(np.floor(np.log10(e)))) if np.isfinite(e) and e > 0 else 4
    lines = [f"post-fit: {poi} = {v:.{digits}f} ± {e:.{digits}f}"]
    if result.gof:
        lines.append(f"χ² = {result.gof['chi2']:.1f} / {result.gof['ndf']} dof (p = {result.gof['p_value']:.2g})")
    lines.append("fit valid" if result.valid else f"fit INVALID: {result.message}")
    main = fig.axes[0]
    main.text(0.02, 0.97, "\n".join(lines), transform=main.transAxes, va="top", ha="left", fontsize=7.5,
              color="black" if result.valid else "#AA0000",
              bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#BBBBBB", "alpha": 0.9})
    main.set_title(main.get_title() + "\npost-fit expectation, source-on channel", fontsize=9)
    return fig


def plot_profile(profile: ProfileResult, ax: Any = None, label: str | None = None, levels: Sequence[float] = (1.0, 4.0),
                 truth: float | None = None) -> Figure:
    """−2Δln L versus the scanned parameter, with the 1σ/2σ lines."""
    fig, ax = _axes(ax)
    ax.plot(profile.values, profile.delta_twice_nll, color=SIGNAL_COLOURS[0], lw=1.6, label=label)
    for lv in levels:
        ax.axhline(lv, color="grey", lw=0.7, ls="--")
        ax.text(profile.values[-1], lv, f" {np.sqrt(lv):.0f}σ", va="bottom", ha="right", fontsize=7, color="grey")
    if truth is not None:
        ax.axvline(truth, color="black", lw=0.8, ls=":", label=f"truth {truth:g}")
    ax.set_xlabel(profile.parameter)
    ax.set_ylabel(r"$-2\Delta\ln L$")
    ax.set_ylim(0, max(max(levels) * 1.6, 1.0))
    ax.set_xlim(profile.values.min(), profile.values.max())
    if label or truth is not None:
        ax.legend(frameon=False, fontsize=8)
    return fig


def plot_comparison(records: Sequence[Any], ax: Any = None, metric: str = "z_reject_R1_if_R082",
                    title: str = "3 MCi ⁵¹Cr: detector comparison (Asimov, 1σ systematics included)") -> Figure:
    """Bar chart of a comparison metric per (detector, source position), one bar per run length."""
    fig, ax = _axes(ax, figsize=(7.2, 4.2))
    keys = list(dict.fromkeys((r.detector, r.distance_m) for r in records))
    days = sorted({r.days for r in records})
    width = 0.8 / max(len(days), 1)
    x = np.arange(len(keys))
    for j, d in enumerate(days):
        vals = [next((getattr(r, metric) for r in records if (r.detector, r.distance_m) == k and r.days == d), np.nan)
                for k in keys]
        ax.bar(x + (j - (len(days) - 1) / 2) * width, vals, width, label=f"{d:g} days",
               color=BACKGROUND_COLOURS[j % len(BACKGROUND_COLOURS)])
    ax.set_xticks(x, [f"{k[0]}\nD = {k[1]:g} m" for k in keys], fontsize=8)
    ylabel = {"z_reject_R1_if_R082": "Z to reject R = 1 if R = 0.82 [σ]",
              "z_reject_R082_if_R1": "Z to reject R = 0.82 if R = 1 [σ]", "sigma_R": r"$\sigma_R$"}.get(metric, metric)
    ax.set_ylabel(ylabel)
    if metric.startswith("z_"):
        for z in (3, 5):
            ax.axhline(z, color="grey", lw=0.7, ls="--")
            ax.text(1.0, z, f" {z}σ", transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=7,
                    color="grey")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig


def plot_sensitivity(points: Sequence[Any], ax: Any = None, metric: str = "z_reject_r1", xlabel: str | None = None,
                     logx: bool = False, title: str | None = None, preset_value: float | None = None) -> Figure:
    """A sensitivity curve (significance or σ_R versus a knob of
    :data:`~ganom.fitter.config.KNOBS`; an activity in Bq is drawn in MCi), with the 3σ/5σ
    lines for a significance and the preset's own value of the knob marked (``preset_value``,
    in the knob's units)."""
    from ganom.fitter.config import KNOB_LABELS
    from ganom.models.constants import CURIE_BQ

    fig, ax = _axes(ax)
    knob = points[0].knob
    scale = 1.0 / (1e6 * CURIE_BQ) if knob == "activity" else 1.0
    x = [p.value * scale for p in points]
    y = [getattr(p, metric) for p in points]
    ax.plot(x, y, "o-", color=SIGNAL_COLOURS[0])
    ax.set_xlabel(xlabel or KNOB_LABELS.get(knob, knob))
    ax.set_ylabel({"z_reject_r1": "Z to reject R = 1 if R = 0.82 [σ]", "z_reject_r082": "Z to reject R = 0.82 if R = 1 [σ]",
                   "sigma_r": r"$\sigma_R$"}.get(metric, metric))
    if metric.startswith("z_"):
        lo, hi = ax.get_ylim()
        for z in (3, 5):
            if lo <= z <= hi:
                ax.axhline(z, color="grey", lw=0.7, ls="--")
                ax.text(1.0, z, f" {z}σ", transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=7,
                        color="grey")
    if preset_value is not None:
        ax.axvline(preset_value * scale, color="black", lw=0.8, ls=":", label=f"preset: {preset_value * scale:g}")
        ax.legend(frameon=False, fontsize=8)
    if logx:
        ax.set_xscale("log")
    if title:
        ax.set_title(title, fontsize=9)
    return fig


# ----------------------------------------------------------------------------- contours
# red is left to the gallium region (ganom.fitter.plotting.gallium), green/yellow to the sensitivity bands
CONTOUR_COLOURS = ["#222222", "#4477AA", "#AA3377", "#CC6600", "#66CCEE"]  # no green/yellow: those are the bands


CONTOUR_STYLES = ["-", "--", ":", "-."]


METHOD_NAMES = {"wilks": "Wilks", "raster": "raster scan", "fc": "Feldman–Cousins", "cls": "CLs"}
"""Method names in legends, as the literature writes them."""


def _tick_excluded_side(line: Any, seg: NDArray) -> None:
    """Ticks along an exclusion contour on its excluded side (larger sin²2θ at a given Δm²)."""
    from matplotlib import patheffects

    x, y = np.log10(seg[:, 1]), np.log10(seg[:, 0])
    k = len(x) // 2
    lo, hi = max(k - 1, 0), min(k + 1, len(x) - 1)
    left_normal_x = -(y[hi] - y[lo])  # the left-hand normal of the path's direction
    line.set_path_effects([patheffects.withTickedStroke(angle=135 if left_normal_x > 0 else -135, spacing=12,
                                                        length=0.4)])


def plot_contours(results: Sequence[Any], ax: Any = None, levels: Sequence[str] | None = None,
                  labels: Sequence[str] | None = None, bands: Any = None, title: str | None = None,
                  xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None) -> Figure:
    """Δm² (y) versus sin²2θ (x), log–log: contours of one or more :class:`ContourResult`.

    Each result gets a colour, each confidence level a line style; the first exclusion contour
    carries ticks on its excluded side. ``bands``: a
    :class:`ganom.fitter.infer.contours.SensitivityBands` drawn as green/yellow ±1σ/±2σ bands with its
    median, as PROSPECT and STEREO show expected sensitivities.
    """
    fig, ax = _axes(ax, figsize=(6.0, 5.2))
    if bands is not None:
        d = bands.dm2
        q = bands.quantiles
        ax.fill_betweenx(d, np.minimum(q["-2sigma"], 1.0), np.minimum(q["+2sigma"], 1.0), color="#FFEE88",
                         label=f"±2σ expected ({bands.method}, {bands.level}, {bands.n_toys} toys)", lw=0)
        ax.fill_betweenx(d, np.minimum(q["-1sigma"], 1.0), np.minimum(q["+1sigma"], 1.0), color="#99DD99",
                         label="±1σ expected", lw=0)
        ax.plot(np.minimum(q["median"], 1.0), d, color="#117733", lw=1.0, ls="--", label="median of toys")
    for k, res in enumerate(results):
        colour = CONTOUR_COLOURS[k % len(CONTOUR_COLOURS)]
        lv = list(levels or res.critical)
        for m, level in enumerate(lv):
            if level not in res.critical:
                continue
            segs = res.lines(level)
            ticked = k == 0 and m == 0 and res.kind == "exclusion"
            for n_seg, seg in enumerate(segs):
                lab = None
                if n_seg == 0:
                    base = labels[k] if labels else METHOD_NAMES.get(res.method, res.method)
                    lab = f"{base}, {level} CL" + (" (ticks: excluded side)" if ticked else "")
                (line,) = ax.plot(seg[:, 1], seg[:, 0], color=colour, ls=CONTOUR_STYLES[m % len(CONTOUR_STYLES)],
                                  lw=1.5, label=lab)
                if ticked:
                    _tick_excluded_side(line, seg)
        bf = res.best_fit or {}
        if bf.get("dm2", 0) > 0 and bf.get("sin2_2theta", 0) > 0 and res.kind == "allowed":
            ax.plot(bf["sin2_2theta"], bf["dm2"], marker="*", color=colour, ms=10, ls="none")
    g = results[0].grid if results else bands
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*(xlim or (float(g.sin2_2theta[0]), float(g.sin2_2theta[-1])) if results else (1e-3, 1)))
    ax.set_ylim(*(ylim or (float(g.dm2[0]), float(g.dm2[-1])) if results else (0.01, 100)))
    ax.set_xlabel(r"$\sin^2 2\theta_{ee}$")
    ax.set_ylabel(r"$\Delta m^2_{41}$ [eV$^2$]")
    ax.grid(True, which="major", color="#DDDDDD", lw=0.5)
    _legend_below(ax)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def _legend_below(ax: Any, handles: Sequence[Any] | None = None) -> None:
    """A two-column legend under the axes: contours and bands fill the whole plane."""
    if handles is None:
        handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles=list(handles), fontsize=7, frameon=False, ncol=2, loc="upper center",
                  bbox_to_anchor=(0.5, -0.12))


def refresh_legend(ax: Any) -> None:
    """Redraw the legend with every labelled artist plus overlay handles (e.g. the gallium region)."""
    handles, _ = ax.get_legend_handles_labels()
    _legend_below(ax, handles + list(getattr(ax, "_gallium_handles", [])))


# published contours (ganom.fitter.overlays): colours and dashes apart from the contours, the
# bands and the gallium red
OVERLAY_COLOURS = ["#332288", "#44AA99", "#882255", "#997700", "#777777"]


OVERLAY_STYLES: list[Any] = [(0, (7, 2, 1.5, 2)), (0, (9, 2.5)), (0, (3, 1.5, 1, 1.5)), (0, (1.5, 1.5))]


def overlay_contour(ax: Any, overlay: Any, colour: str | None = None, linestyle: Any = None, fill: bool | None = None,
                    label: str | None = None) -> Figure:
    """Draw a published or user contour (:class:`~ganom.fitter.overlays.ContourOverlay`) on
    Δm² (y) versus sin²2θ (x) axes, with one legend entry "label (citation)" that
    :func:`refresh_legend` picks up.

    Successive overlays on one Axes take successive :data:`OVERLAY_COLOURS` and
    :data:`OVERLAY_STYLES`; an allowed region is filled lightly (``fill``, default: allowed
    only). Returns the Figure.
    """
    k = getattr(ax, "_overlay_count", 0)
    ax._overlay_count = k + 1
    colour = colour or OVERLAY_COLOURS[k % len(OVERLAY_COLOURS)]
    linestyle = linestyle if linestyle is not None else OVERLAY_STYLES[k % len(OVERLAY_STYLES)]
    fill = overlay.kind == "allowed" if fill is None else fill
    name: str | None = label or overlay.legend_label
    if overlay.kind == "allowed" and "allowed" not in str(name).lower():
        name = f"{name}, allowed"
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    if not any(((seg[:, 0] >= x0) & (seg[:, 0] <= x1) & (seg[:, 1] >= y0) & (seg[:, 1] <= y1)).any()
               for seg in overlay.curves):
        name = None  # outside the axes: no legend entry for what cannot be seen
    for n, seg in enumerate(overlay.curves):
        ax.plot(seg[:, 0], seg[:, 1], color=colour, ls=linestyle, lw=1.3, zorder=2.5, label=name if n == 0 else None)
        if fill:
            ax.fill(seg[:, 0], seg[:, 1], color=colour, alpha=0.12, lw=0, zorder=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    return ax.figure


def plot_delta_chi2_map(result: Any, ax: Any = None, vmax: float = 25.0, title: str | None = None) -> Figure:
    """The Δχ² (or CLs) map behind a contour, as a colour map on log–log axes, with the
    contour of each confidence level of ``result`` drawn on it (white, one line style per
    level) and the method and kind in the title."""
    fig, ax = _axes(ax, figsize=(6.2, 5.0))
    g = result.grid
    stat = np.minimum(result.statistic, vmax) if result.method != "cls" else result.statistic
    mesh = ax.pcolormesh(g.sin2_2theta, g.dm2, stat, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="CLs" if result.method == "cls" else rf"$\Delta\chi^2$ (clipped at {vmax:g})")
    for k, level in enumerate(result.critical):
        style = CONTOUR_STYLES[k % len(CONTOUR_STYLES)]
        for j, seg in enumerate(result.lines(level)):
            ax.plot(seg[:, 1], seg[:, 0], color="white", lw=1.2, ls=style, label=f"{level} CL" if j == 0 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(g.sin2_2theta.min(), g.sin2_2theta.max())
    ax.set_ylim(g.dm2.min(), g.dm2.max())
    ax.set_xlabel(r"$\sin^2 2\theta_{ee}$")
    ax.set_ylabel(r"$\Delta m^2_{41}$ [eV$^2$]")
    if result.critical:
        ax.legend(frameon=True, facecolor="#44444488", edgecolor="none", labelcolor="white", fontsize=8,
                  loc="lower left")
    what = f"{METHOD_NAMES.get(result.method, result.method)} {result.kind} map"
    ax.set_title(f"{title}\n{what}" if title else what, fontsize=9)
    return fig


# ----------------------------------------------------------------------------- branching ratio
def plot_sigma_b(results: Sequence[Any], x: str = "signal_events", ax: Any = None, reference: float | None = None,
                 b_alternative: float | None = None, b_true: float | None = None, label: str | None = None,
                 logx: bool = True) -> Figure:
    """σ_B versus exposure (``x="signal_events"``, each point labelled with its run length, or
    ``"days"``) or angular resolution (``x="angular_resolution_deg"``); ``reference`` draws
    the energy-only σ_B, and the σ_B that separates B_alt from B by 3σ and 5σ
    (|B_alt − B| / 3 and / 5) is drawn as the target."""
    fig, ax = _axes(ax)
    pts = sorted((getattr(r, x), r.sigma_b, r.days) for r in results if getattr(r, x) is not None)
    ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=SIGNAL_COLOURS[0], label=label or "σ_B (Asimov)")
    if x == "signal_events":
        for px, py, d in pts:
            ax.annotate(f"{d:g} d", (px, py), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7)
        if len(pts) > 1:
            xs = np.geomspace(pts[0][0], pts[-1][0], 20)
            ax.plot(xs, pts[0][1] * np.sqrt(pts[0][0] / xs), color="grey", lw=0.8, ls="--", label=r"$\propto 1/\sqrt{N}$")
    if reference is not None:
        ax.axhline(reference, color=BACKGROUND_COLOURS[0], ls="--", lw=1.2, label=f"energy only: σ_B = {reference:.3g}")
    if b_alternative is not None and b_true is not None:
        for n, ls in ((3, ":"), (5, "-.")):
            ax.axhline(abs(b_alternative - b_true) / n, color="grey", ls=ls, lw=0.9,
                       label=f"σ_B for {n}σ between B = {b_true:.4g} and {b_alternative:.4g}")
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo / 1.2, hi * 1.6)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel({"signal_events": "signal events in the window", "days": "run length [days]",
                   "angular_resolution_deg": "angular resolution σ_θ [degrees]"}.get(x, x))
    ax.set_ylabel(r"$\sigma_B$ (320 keV branching)")
    ax.legend(frameon=False, fontsize=8)
    return fig


def _branching_title(r: Any, activity_mci: float, what: str) -> str:
    m = r.meta
    return (f"{m.get('detector_label', r.detector)}, {activity_mci:.3g} MCi {m.get('isotope_label', '')} at "
            f"D = {r.distance_m:g} m, {r.mode} fit: {what}")


def plot_branching_exposure(study: Any, ax: Any = None) -> Figure:
    """σ_B versus exposure of a :class:`~ganom.fitter.analyses.branching.BranchingStudy`."""
    e, ang = study.energy_only, study.result.angular_resolution_deg
    fig = plot_sigma_b(study.vs_exposure, "signal_events", ax=ax, b_alternative=study.b_alternative, b_true=e.b_true,
                       label="σ_B" + (" (energy only)" if ang is None else f" (σ_θ = {ang:g}°)"))
    fig.axes[0].set_title(_branching_title(e, study.activity_mci, "σ_B vs exposure"), fontsize=9)
    return fig


def plot_branching_resolution(study: Any, ax: Any = None) -> Figure:
    """σ_B versus angular resolution of a :class:`~ganom.fitter.analyses.branching.BranchingStudy`,
    with the energy-only σ_B as reference."""
    e = study.energy_only
    fig = plot_sigma_b(study.vs_resolution, "angular_resolution_deg", ax=ax, reference=e.sigma_b,
                       b_alternative=study.b_alternative, b_true=e.b_true, logx=False)
    fig.axes[0].set_title(_branching_title(e, study.activity_mci, f"σ_B vs angular resolution, {e.days:g} d"),
                          fontsize=9)
    return fig


def plot_window_optimum(result: Any, metric: str = "z", ax: Any = None) -> Figure:
    """Heat map of a :class:`~ganom.fitter.analyses.optimize.WindowOptimum` over energy
    window (recoil threshold, or threshold–top) × fiducial radius: Z(R = 1 | R = 0.82) (``metric="z"``) or the sin²2θ limit
    ("limit"), every cell annotated, the best one outlined."""
    fig, ax = _axes(ax, figsize=(6.4, 4.6))
    vals = result.z_reject_r1 if metric == "z" else result.s22t_limit
    x, y = result.thresholds_mev, result.fiducial_radii_m
    im = ax.imshow(vals.T, origin="lower", aspect="auto", cmap="viridis" if metric == "z" else "viridis_r",
                   extent=(-0.5, x.size - 0.5, -0.5, y.size - 0.5))
    for i in range(x.size):
        for j in range(y.size):
            v = vals[i, j]
            r, g, b, _ = im.cmap(im.norm(v)) if np.isfinite(v) else (0.0, 0.0, 0.0, 1.0)
            ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
            ax.text(i, j, "—" if np.isnan(v) else (f"{v:.2f}" if metric == "z" else f"{v:.3g}"), ha="center",
                    va="center", fontsize=7, color=ink)
    best = result.best(metric)
    bi = best["row"]
    bj = int(np.nonzero(y == best["fiducial_radius_m"])[0][0])
    ax.add_patch(plt.Rectangle((bi - 0.5, bj - 0.5), 1, 1, fill=False, ec="red", lw=2))
    labels = result.windows()
    ax.set_xticks(range(x.size), labels, rotation=0 if all("–" not in w for w in labels) else 45,
                  ha="center" if all("–" not in w for w in labels) else "right")
    ax.set_yticks(range(y.size), [f"{r:g}" for r in y])
    ax.set_xlabel("recoil threshold [MeV]" if all("–" not in w for w in labels) else "energy window [MeV]")
    ax.set_ylabel("fiducial radius [m]")
    label = "Z(R = 1 | R = 0.82), Asimov" if metric == "z" else \
        f"90 % raster limit on sin²2θ at Δm² = {result.dm2_ev2:g} eV²"
    fig.colorbar(im, ax=ax, label=label)
    best_is = "largest Z" if metric == "z" else "smallest limit"
    ax.set_title(f"{result.label or result.detector}, D = {result.distance_m:g} m, {result.days:g} d: "
                 f"Asimov, all systematics; {best_is} outlined", fontsize=9)
    return fig
