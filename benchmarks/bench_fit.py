"""Template-build and fit times per preset (issue: binned likelihood).

Prints, for every preset and source position: the time to build all templates, to run one
full fit (MIGRAD + HESSE on the Asimov dataset), and the per-toy cost of the batched Newton
minimiser; the last column is the speed-up of batched toy fits over one MIGRAD fit each,
both measured in this run.

    python benchmarks/bench_fit.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ganom.fitter.config import build_model
from ganom.fitter.infer.fit import fit
from ganom.fitter.infer.minimize import minimize_batch
from ganom.models.detectors import load_detector, preset_names
from ganom.models.templates import build_templates


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--toys", type=int, default=200)
    args = ap.parse_args()
    print(f"{'preset':<10} {'position':<8} {'bins':>5} {'pars':>4} {'templates [s]':>13} {'fit [s]':>8} "
          f"{'toy fit [ms]':>12} {'batch speed-up':>14}")
    for name in preset_names():
        det = load_detector(name)
        for pos in det.source_positions_m:
            t_tpl = best_of(lambda: build_templates(det, "cr51", pos, 30), args.repeat)
            tpl = build_templates(det, "cr51", pos, 30)
            model = build_model(tpl)
            data = model.asimov({"R": 0.82})
            t_fit = best_of(lambda: fit(model, data), args.repeat)
            main_, aux = model.toys({"R": 0.82}, args.toys, np.random.default_rng(1))
            t_toys = best_of(lambda: minimize_batch(model, main_, aux, model.parameters.vector({"R": 0.82})), 1)
            per_toy = t_toys / args.toys
            print(f"{name:<10} {pos:<8} {model.n_bins:>5} {model.n_params:>4} {t_tpl:>13.2f} {t_fit:>8.3f} "
                  f"{per_toy * 1e3:>12.2f} {t_fit / per_toy:>13.1f}x")


if __name__ == "__main__":
    main()
