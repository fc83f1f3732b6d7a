"""Native ganom vs pyhf on the same workspaces: parity table and speed (issue: pyhf parity).

For every preset and source position, the model is exported to a pyhf workspace (exact
floats) with the Asimov data at R = 0.82 (and, with ``--toy``, one toy) as observations; that
workspace is loaded back with :func:`ganom.fitter.pyhf.load.load_workspace` and fitted natively
(MIGRAD + HESSE on the analytic gradient) and by pyhf (numpy backend, minuit optimizer,
strategy 2, tolerance 0.01). Columns: R̂, σ_R (pyhf's HESSE and pyhf's profile width
δ/√2ΔNLL at R̂ + δ), 2ΔNLL between R = 1 and the best fit; then the time of one −ln L
evaluation and of one free fit, and pyhf/native ratios, all measured in this run.

    python benchmarks/bench_pyhf.py [--positions centre] [--toy] [--repeat 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import pyhf
from bench_fit import best_of

from ganom.fitter.config import build_configuration
from ganom.fitter.infer.fit import fit
from ganom.fitter.infer.significance import R_DEFICIT
from ganom.fitter.pyhf.export import export_workspace
from ganom.fitter.pyhf.load import load_workspace
from ganom.fitter.pyhf.parity import PyhfBridge, compare_fits, pyhf_minuit
from ganom.models.detectors import load_detector, preset_names


def rows(detector: str, position: str, toy: bool, repeat: int) -> list[dict]:
    _, model = build_configuration(detector, "cr51", position, 30.0)
    datasets = [("asimov", model.asimov({"R": R_DEFICIT}))]
    if toy:
        main, aux = model.toys({"R": R_DEFICIT}, 1, np.random.default_rng(1))
        datasets.append(("toy", model.data(main[0], aux[0])))
    out = []
    for label, data in datasets:
        spec = export_workspace(model, data, digits=None)
        native, ndata = load_workspace(spec)
        p = compare_fits(native, ndata, 1.0, spec=spec, profile=True)
        br = PyhfBridge(spec, native)
        th, pdata = native.parameters.inits, br.data(ndata)
        t_nll = best_of(lambda: native.nll(th, ndata), 20 * repeat)
        t_logpdf = best_of(lambda: br.pdf.logpdf(br.pars(th), pdata), 20 * repeat)
        t_fit = best_of(lambda: fit(native, ndata), repeat)
        with pyhf_minuit(0.01, 2):
            t_pyhf = best_of(lambda: br.fit(ndata), repeat)
        out.append({"detector": detector, "position": position, "data": label, "bins": native.n_bins, **p.row(),
                    "nll_ms": t_nll * 1e3, "logpdf_ms": t_logpdf * 1e3, "fit_s": t_fit, "pyhf_fit_s": t_pyhf})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", nargs="*", default=None, help="Source positions (default: every named one).")
    ap.add_argument("--toy", action="store_true", help="Also one toy dataset per configuration.")
    ap.add_argument("--repeat", type=int, default=1, help="Timings: best of this many fits.")
    args = ap.parse_args()
    print(f"pyhf {pyhf.__version__}, numpy backend, minuit optimizer (strategy 2, tolerance 0.01)")
    head = (f"{'preset':<9} {'position':<8} {'data':<6} {'bins':>5} {'R^ native':>10} {'R^ pyhf':>10} "
            f"{'sR native':>9} {'sR pyhf':>9} {'sR prof':>9} {'2dNLL nat':>10} {'2dNLL pyhf':>10} "
            f"{'nll ms':>7} {'pyhf ms':>8} {'ratio':>6} {'fit s':>6} {'pyhf s':>7} {'ratio':>6}")
    print(head)
    print("-" * len(head))
    for name in preset_names():
        for pos in (args.positions or list(load_detector(name).source_positions_m)):
            for r in rows(name, pos, args.toy, args.repeat):
                print(f"{r['detector']:<9} {r['position']:<8} {r['data']:<6} {r['bins']:>5} "
                      f"{r['poi_hat_native']:>10.6f} {r['poi_hat_pyhf']:>10.6f} {r['sigma_native']:>9.6f} "
                      f"{r['sigma_pyhf']:>9.6f} {r['pyhf_profile_sigma']:>9.6f} {r['delta_twice_nll_native']:>10.4f} "
                      f"{r['delta_twice_nll_pyhf']:>10.4f} {r['nll_ms']:>7.3f} {r['logpdf_ms']:>8.3f} "
                      f"{r['logpdf_ms'] / r['nll_ms']:>5.1f}x {r['fit_s']:>6.3f} {r['pyhf_fit_s']:>7.2f} "
                      f"{r['pyhf_fit_s'] / r['fit_s']:>5.0f}x", flush=True)


if __name__ == "__main__":
    main()
