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
    assert plot_sensitivity(pts).axes[0].get_xlabel() == "days"
    plt.close("all")
