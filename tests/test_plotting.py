"""Figures: every plot function returns its Figure and draws into a given Axes."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from ganom.fitter.analyses.comparison import ComparisonRecord, SensitivityPoint
from ganom.fitter.config import build_model
from ganom.fitter.infer.fit import fit, profile_scan
from ganom.fitter.plotting.likelihood import plot_comparison, plot_profile, plot_sensitivity, plot_stack
from ganom.models.templates import build_templates


@pytest.fixture(scope="module")
def tpl():
    return build_templates("jne-1t", "cr51", "outside", 10)


@pytest.mark.parametrize("axis", ["energy", "baseline", "time"])
def test_stack_plots(tpl, axis, tmp_path):
    fig, ax = plt.subplots()
    data = np.random.default_rng(0).poisson(tpl.total())
    out = plot_stack(tpl, axis, data=data, ax=ax)
    assert out is fig
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("51Cr" in t or "⁵¹Cr" in t for t in labels) and "data" in labels
    fig.savefig(tmp_path / f"{axis}.png")
    plt.close(fig)


def test_stack_legend_names_only_visible_layers_and_has_residuals(tpl):
    """On a new figure with data: a residual panel below; every background named in the legend
    spans at least 1 % of the (log) axis height in some bin, the rest is 'other'."""
    data = np.random.default_rng(0).poisson(tpl.total())
    fig = plot_stack(tpl, "energy", data=data)
    ax, res = fig.axes
    assert "sqrt" in res.get_ylabel() and len(res.lines) >= 3
    lo, hi = ax.get_ylim()
    named = {t.get_text() for t in ax.get_legend().get_texts()}
    for patch in ax.patches:
        if patch.get_label() in named:
            path = patch.get_path().vertices
            y = np.clip(path[:, 1], lo, hi)
            assert np.log(y.max() / y.min()) / np.log(hi / lo) >= 0.009, patch.get_label()
    assert len(named) < len(tpl.samples) + 3  # some invisible backgrounds were merged
    plt.close(fig)


def test_profile_comparison_and_sensitivity_plots(tpl):
    model = build_model(tpl)
    data = model.asimov({"R": 1.0})
    prof = profile_scan(model, data, "R", np.linspace(0.7, 1.3, 9), fit(model, data))
    assert plot_profile(prof, truth=1.0).axes[0].get_xlabel() == "R"
    recs = [ComparisonRecord("a", 0.0, 10, 100, 10, 0.1, 3.0, 3.1), ComparisonRecord("a", 0.0, 30, 300, 30, 0.05, 5.0, 5.1)]
    assert len(plot_comparison(recs).axes[0].patches) == 2
    pts = [SensitivityPoint("days", d, 1, 1, 0.1, z, z) for d, z in ((5, 1.0), (10, 2.0))]
    assert plot_sensitivity(pts).axes[0].get_xlabel() == "run length [days]"
    plt.close("all")


def test_postfit_plot_shows_the_fit_result(tpl):
    """The post-fit stack carries the fitted POI with its error, the goodness of fit and the
    fit's status; an invalid fit says so."""
    from ganom.fitter.plotting.likelihood import plot_postfit

    model = build_model(tpl)
    data = model.asimov({"R": 0.9})
    res = fit(model, data)
    fig = plot_postfit(tpl, model, res, data)
    box = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("post-fit")]
    assert len(box) == 1
    r, err = res.value("R"), res.error("R")
    digits = max(0, 1 - int(np.floor(np.log10(err))))
    assert f"R = {r:.{digits}f} ± {err:.{digits}f}" in box[0] and "fit valid" in box[0]
    assert "χ² = 0.0" in box[0]
    from dataclasses import replace

    bad = plot_postfit(tpl, model, replace(res, valid=False, message="EDM above goal"), data)
    assert any("INVALID: EDM above goal" in t.get_text() for t in bad.axes[0].texts)
    plt.close("all")


def test_sensitivity_plot_activity_in_mci_with_reference_lines():
    pts = [SensitivityPoint("activity", a * 3.7e16, 1, 1, 0.1, z, z) for a, z in ((1.0, 2.0), (3.0, 6.0))]
    ax = plot_sensitivity(pts, title="t", preset_value=3 * 3.7e16).axes[0]
    assert ax.get_xlabel() == "source activity [MCi]" and ax.get_title() == "t"
    assert list(ax.lines[0].get_xdata()) == pytest.approx([1.0, 3.0])
    assert {t.get_text().strip() for t in ax.texts} == {"3σ", "5σ"}  # both inside the y range 2..6
    assert ax.get_legend().get_texts()[0].get_text() == "preset: 3"
    plt.close("all")


def test_delta_chi2_map_draws_each_level_and_names_the_method():
    """A map with Δχ² = (s/0.1)² at every Δm² crosses 4.61 at sin²2θ = 0.1·√4.61: the drawn
    90 % line sits there."""
    from ganom.fitter.infer.contours import ContourResult
    from ganom.fitter.infer.oscillation import OscillationGrid
    from ganom.fitter.plotting.likelihood import plot_delta_chi2_map

    g = OscillationGrid(np.geomspace(0.1, 10, 12), np.geomspace(0.01, 1, 200))
    stat = np.broadcast_to((g.sin2_2theta / 0.1) ** 2, (12, 200)).copy()
    res = ContourResult(g, "wilks", stat, {"90%": 4.61, "99%": 9.21})
    ax = plot_delta_chi2_map(res, title="toy").axes[0]
    lines = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    assert set(lines) == {"90% CL", "99% CL"}
    assert np.allclose(lines["90% CL"].get_xdata(), 0.1 * np.sqrt(4.61), rtol=0.02)
    assert ax.get_title() == "toy\nWilks exclusion map"
    plt.close("all")


def test_save_figures_lays_out_once_and_draws_the_same_png(tmp_path):
    """Both formats share one constrained-layout pass and one tight box: the PNG is the same
    image as a plain tight save, the PDF has the same page size, and reruns are byte-identical."""
    from PIL import Image

    from ganom.fitter.io import FIGURE_DPI, save_figure, save_figures

    def figure():
        fig, ax = plt.subplots(layout="constrained")
        ax.loglog([1e-3, 1.0], [1e-2, 1e2], label=r"$\Delta m^2_{41}$ [eV$^2$], a long legend entry")
        ax.set_xlabel(r"$\sin^2 2\theta_{ee}$")
        fig.legend(loc="outside lower center")
        return fig

    save_figure(figure(), tmp_path / "plain.png")
    files = save_figures(figure(), tmp_path / "shared")
    assert [p.suffix for p in files] == [".png", ".pdf"]
    plain = np.asarray(Image.open(tmp_path / "plain.png"))
    np.testing.assert_array_equal(np.asarray(Image.open(files[0])), plain)
    import re

    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)", files[1].read_bytes())
    assert box is not None
    assert [float(v) for v in box.groups()] == pytest.approx([plain.shape[1] / FIGURE_DPI * 72,
                                                              plain.shape[0] / FIGURE_DPI * 72], abs=0.5)
    fig = figure()
    again = save_figures(fig, tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in files]
    assert not plt.fignum_exists(fig.number)
