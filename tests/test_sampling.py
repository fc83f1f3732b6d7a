"""Poisson toys drawn by bin (multinomial counts, random assignment): the Poisson distribution,
independent bins and toys, the tabulated window holding all the probability."""

import numpy as np
import pytest
from scipy.special import pdtr, pdtrc
from scipy.stats import chi2, poisson

from ganom.fitter.hf.sampling import poisson_toys, poisson_window

LAMBDAS = np.array([0.0, 1e-3, 0.3, 1.0, 4.0, 9.9, 10.0, 41.0, 150.0, 483.0, 5000.0])


def test_window_holds_all_but_1e_20_and_is_the_poisson_pmf():
    k, pmf = poisson_window(LAMBDAS)
    lo = k[:, 0]
    outside = np.where(lo > 0, pdtr(lo - 1, LAMBDAS), 0.0) + pdtrc(k[:, -1], LAMBDAS)
    assert np.all(outside < 1e-20)
    exact = poisson.pmf(k, LAMBDAS[:, None])
    big = exact > 1e-250
    np.testing.assert_allclose(pmf[big], exact[big], rtol=1e-9)
    np.testing.assert_allclose(pmf.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("n", [40, 5000])  # one count at a time, and by bin
def test_counts_are_poisson_in_every_bin(n):
    lam = np.array([0.0, 0.3, 4.0, 41.0, 483.0])
    x = np.concatenate([poisson_toys(lam, n, np.random.default_rng(s)) for s in range(20000 // n)])
    assert x.shape == (20000 // n * n, lam.size) and np.all(x == np.round(x)) and np.all(x[:, 0] == 0)
    for b, m in enumerate(lam[1:], start=1):
        # χ² of the count histogram against the pmf, cells pooled to ≥ 20 expected
        edges = np.arange(int(poisson.ppf(1e-6, m)), int(poisson.isf(1e-6, m)) + 2)
        obs = np.histogram(x[:, b], edges)[0].astype(float)
        exp_ = np.diff(poisson.cdf(edges - 1, m)) * x.shape[0]
        keep = exp_ >= 20
        o = np.append(obs[keep], obs[~keep].sum())
        e = np.append(exp_[keep], x.shape[0] - exp_[keep].sum())
        stat = np.sum((o - e) ** 2 / e)
        assert chi2.sf(stat, o.size - 1) > 1e-4, (m, stat, o.size)


def test_bins_and_toys_are_independent():
    """Counts sorted together in every bin would correlate the bins: the total of a toy has
    variance Σλ only if they are independent."""
    lam = np.full(400, 20.0)
    x = poisson_toys(lam, 4000, np.random.default_rng(2))
    tot = x.sum(axis=1)
    # var of a sample variance of 4000 normal draws: 2σ⁴/(n-1) → 5σ band
    assert abs(tot.var(ddof=1) / lam.sum() - 1) < 5 * np.sqrt(2 / 3999)
    c = np.corrcoef(x[:, :50].T)[np.triu_indices(50, 1)]
    assert np.abs(c).max() < 5 / np.sqrt(4000)
    assert abs(np.corrcoef(tot[:-1], tot[1:])[0, 1]) < 5 / np.sqrt(4000)  # neighbouring toys


def test_seeded_and_refuses_bad_expectations():
    lam = np.array([3.0, 70.0])
    a = poisson_toys(lam, 200, np.random.default_rng(5))
    np.testing.assert_array_equal(a, poisson_toys(lam, 200, np.random.default_rng(5)))
    for bad in ([-1.0, 2.0], [np.nan, 1.0], [np.inf, 1.0]):
        with pytest.raises(ValueError, match="finite and ≥ 0"):
            poisson_toys(np.array(bad), 100, np.random.default_rng(0))
