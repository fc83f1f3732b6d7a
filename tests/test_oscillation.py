"""3+1 survival probability and its exact baseline averaging (docs/physics.md §4)."""

import numpy as np
import pytest

from ganom.exceptions import PhysicsInputError
from ganom.models.oscillation import mean_sin2, p_ee, p_ee_mean, phase_per_metre


def test_phase_constant():
    # 1.267 Δm²[eV²] L[m] / E[MeV]
    assert phase_per_metre(1.0, 1.0) == pytest.approx(1.26693, rel=1e-5)


@pytest.mark.parametrize("dm2", [1e-3, 0.1, 1.0, 7.3, 30.0, 100.0])
@pytest.mark.parametrize("lo, hi", [(0.0, 0.1), (2.0, 2.5), (10.0, 17.2), (3.3, 3.3001)])
def test_interval_average_vs_brute_force(dm2, lo, hi):
    e = 0.7467
    x = np.linspace(lo, hi, 400_001)
    brute = np.mean(np.sin(phase_per_metre(e, dm2) * x) ** 2)
    assert mean_sin2(lo, hi, e, dm2) == pytest.approx(brute, abs=2e-6)


def test_limits():
    assert p_ee_mean(1.0, 2.0, 0.75, 0.0, 0.5) == 1.0
    assert p_ee_mean(0.0, 100.0, 0.75, 1e4, 0.3) == pytest.approx(1 - 0.15, abs=1e-4)
    assert p_ee(0.0, 0.75, 5.0, 1.0) == 1.0
    # zero-width interval is the point value
    assert p_ee_mean(3.0, 3.0, 0.75, 2.0, 0.4) == pytest.approx(p_ee(3.0, 0.75, 2.0, 0.4), rel=1e-14)


def test_bad_parameters():
    with pytest.raises(PhysicsInputError, match="sin2_2theta"):
        p_ee(1.0, 0.75, 1.0, 1.5)
    with pytest.raises(PhysicsInputError, match="dm2"):
        p_ee_mean(0.0, 1.0, 0.75, -1.0, 0.1)
