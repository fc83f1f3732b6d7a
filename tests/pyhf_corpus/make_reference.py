#!/usr/bin/env python
"""Produce reference.json for the pyhf workspace corpus in this folder.

For every record of MANIFEST.json this script

* loads the workspace (``.json`` or ``.json.gz``) and checks its sha256 against the manifest,
* builds pyhf's model for the record's measurement (plus the record's ``model_kwargs``,
  e.g. ``{"poi_name": null}`` for background-only likelihoods whose POI is not in the model),
* evaluates ``model.logpdf(init, data)`` at pyhf's suggested initial parameters,
* runs ``pyhf.infer.mle.fit(data, model, return_uncertainties=True, return_fitted_val=True)``
  (also for POI-less models) with the numpy backend and the MINUIT optimizer,
* records best-fit values and MINUIT (HESSE) errors, ``logpdf`` at the best fit, the parameter
  names in pyhf's order (expanded per-bin names such as ``staterror_x[3]`` and the parameter-set
  names), the fit's wall time and whether the minimisation succeeded,

and writes ``reference.json`` (compact JSON; floats are written with Python's ``repr``, i.e. the
shortest string that round-trips exactly).  A summary table is printed at the end.

Only pyhf, numpy, iminuit and the standard library (json, gzip, ...) are used.

Usage::

    python make_reference.py                 # all manifest entries
    python make_reference.py --only NAME ...  # a subset (still writes reference.json unless -o is given)
"""

import argparse
import gzip
import hashlib
import json
import math
import os
import platform
import sys
import time
import warnings

import iminuit
import numpy as np
import pyhf

HERE = os.path.dirname(os.path.abspath(__file__))

# MINUIT settings.  pyhf minimises twice the negative log-likelihood with errordef=1.
# iminuit stops when EDM < 0.002 * tolerance * errordef; tolerance=1e-3 -> EDM < 2e-6,
# i.e. about 1e-6 in -log L, tighter than pyhf's default (0.1).  strategy=None lets pyhf
# choose (1 for the numpy backend, which provides no gradient).
DEFAULT_TOLERANCE = 1e-3
DEFAULT_MAXITER = 200_000


def _float(x):
    """Python float, or None for a non-finite value (JSON has no NaN/inf)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _floats(xs):
    return [_float(x) for x in np.asarray(xs, dtype=float).ravel()]


def load_workspace(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    return json.loads(raw), hashlib.sha256(raw).hexdigest()


def expanded_names(model):
    """Per-component parameter names in pyhf's order.

    Scalar parameter sets (normfactor, lumi, normsys, histosys) keep their name; per-bin sets
    (staterror, shapesys, shapefactor) get 'name[i]', also when they have a single bin --
    the same convention as pyhf's own ``model.config.par_names``.
    """
    names = []
    for pname in model.config.par_order:
        pset = model.config.param_set(pname)
        if pset.is_scalar:
            names.append(pname)
        else:
            names.extend(f"{pname}[{i}]" for i in range(pset.n_parameters))
    return names


def run_entry(entry, tolerance, strategy, maxiter):
    rec = {"name": entry["name"], "file": entry["file"], "measurement": entry["measurement"]}
    spec, digest = load_workspace(os.path.join(HERE, entry["file"]))
    rec["sha256_ok"] = entry.get("sha256") in (None, digest)

    workspace = pyhf.Workspace(spec)
    kwargs = dict(entry.get("model_kwargs") or {})
    model = workspace.model(measurement_name=entry["measurement"], **kwargs)
    data = workspace.data(model)

    names = expanded_names(model)
    if hasattr(model.config, "par_names"):  # pyhf >= 0.7 provides the same list
        assert list(model.config.par_names) == names, entry["name"]

    init = model.config.suggested_init()
    bounds = model.config.suggested_bounds()
    fixed = model.config.suggested_fixed()

    rec.update(
        model_kwargs=entry.get("model_kwargs"),
        poi_name=model.config.poi_name,
        poi_index=model.config.poi_index,
        n_channels=len(model.config.channels),
        n_bins=int(sum(model.config.channel_nbins.values())),
        n_parameters=int(model.config.npars),
        n_auxdata=len(model.config.auxdata),
        par_order=list(model.config.par_order),
        par_sizes=[int(model.config.param_set(p).n_parameters) for p in model.config.par_order],
        par_is_scalar=[bool(model.config.param_set(p).is_scalar) for p in model.config.par_order],
        par_names=names,
        init_pars=_floats(init),
        par_bounds=[[_float(lo), _float(hi)] for lo, hi in bounds],
        fixed_params=[bool(f) for f in fixed],
        data=_floats(data),
        logpdf_init=_float(model.logpdf(init, data)[0]),
    )

    pyhf.set_backend(
        "numpy",
        pyhf.optimize.minuit_optimizer(tolerance=tolerance, strategy=strategy, maxiter=maxiter),
    )
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bestfit, twice_nll, result = pyhf.infer.mle.fit(
                data,
                model,
                return_uncertainties=True,
                return_fitted_val=True,
                return_result_obj=True,
            )
        error = None
    except pyhf.exceptions.FailedMinimization as exc:
        bestfit = twice_nll = None
        result = getattr(exc, "result", None)
        error = f"FailedMinimization: {exc}"
    except Exception as exc:  # record, do not abort the whole corpus
        bestfit = twice_nll = result = None
        error = f"{type(exc).__name__}: {exc}"
    rec["fit_wall_time_s"] = time.perf_counter() - t0

    rec["success"] = bool(error is None and result is not None and result.success)
    rec["error"] = error
    minuit = getattr(result, "minuit", None) if result is not None else None
    rec["nfev"] = int(result.nfev) if result is not None and getattr(result, "nfev", None) is not None else None
    rec["minuit_valid"] = bool(minuit.valid) if minuit is not None else None
    rec["minuit_edm"] = _float(minuit.fmin.edm) if minuit is not None and minuit.fmin is not None else None
    rec["minuit_accurate_covar"] = (
        bool(minuit.accurate) if minuit is not None and minuit.fmin is not None else None
    )

    if bestfit is not None:
        bestfit = np.asarray(bestfit, dtype=float)
        values, errors = bestfit[:, 0], bestfit[:, 1]
        rec["bestfit"] = _floats(values)
        rec["uncertainties"] = _floats(errors)
        rec["twice_nll_bestfit"] = _float(twice_nll)
        rec["logpdf_bestfit"] = _float(model.logpdf(values, data)[0])
        if model.config.poi_index is not None:
            rec["poi_bestfit"] = _float(values[model.config.poi_index])
            rec["poi_uncertainty"] = _float(errors[model.config.poi_index])
    elif result is not None and getattr(result, "x", None) is not None:
        # failed fit: keep where MINUIT stopped, for diagnosis only
        rec["last_point"] = _floats(result.x)
    return rec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", default=os.path.join(HERE, "MANIFEST.json"))
    ap.add_argument("-o", "--output", default=os.path.join(HERE, "reference.json"))
    ap.add_argument("--only", nargs="*", help="names of manifest entries to run")
    ap.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    ap.add_argument("--strategy", type=int, default=None, help="MINUIT strategy (default: pyhf's choice)")
    ap.add_argument("--maxiter", type=int, default=DEFAULT_MAXITER)
    args = ap.parse_args(argv)

    with open(args.manifest) as f:
        manifest = json.load(f)
    if args.only:
        wanted = set(args.only)
        manifest = [e for e in manifest if e["name"] in wanted]
        missing = wanted - {e["name"] for e in manifest}
        if missing:
            ap.error(f"unknown entries: {sorted(missing)}")

    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(tolerance=args.tolerance))
    t_start = time.perf_counter()
    records = []
    for i, entry in enumerate(manifest, 1):
        print(f"[{i:2d}/{len(manifest)}] {entry['name']} ...", end="", flush=True)
        rec = run_entry(entry, args.tolerance, args.strategy, args.maxiter)
        records.append(rec)
        status = "ok" if rec["success"] else "FAILED"
        print(f" {status} ({rec['fit_wall_time_s']:.2f} s)", flush=True)
    total = time.perf_counter() - t_start

    out = {
        "description": "pyhf reference fits for the workspaces listed in MANIFEST.json (see README.md)",
        "generator": "make_reference.py",
        "settings": {
            "backend": "numpy",
            "optimizer": "minuit",
            "tolerance": args.tolerance,
            "strategy": args.strategy,
            "maxiter": args.maxiter,
            "fit_call": "pyhf.infer.mle.fit(data, model, return_uncertainties=True, return_fitted_val=True, return_result_obj=True)",
            "data": "workspace.data(model) (observations + auxiliary data)",
            "init": "model.config.suggested_init()",
        },
        "versions": {
            "pyhf": pyhf.__version__,
            "numpy": np.__version__,
            "iminuit": iminuit.__version__,
            "python": platform.python_version(),
        },
        "total_wall_time_s": total,
        "entries": records,
    }
    with open(args.output, "w") as f:
        json.dump(out, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")

    # summary table
    hdr = f"{'name':52s} {'ch':>3s} {'bins':>4s} {'npar':>4s} {'poi':>16s} {'logpdf(init)':>14s} {'logpdf(best)':>14s} {'poi hat':>10s} {'+-':>8s} {'time/s':>7s} ok"
    print()
    print(hdr)
    print("-" * len(hdr))
    for r in records:
        poi = (r["poi_name"] or "-")[:16]
        lb = r.get("logpdf_bestfit")
        ph = r.get("poi_bestfit")
        pe = r.get("poi_uncertainty")
        print(
            f"{r['name'][:52]:52s} {r['n_channels']:3d} {r['n_bins']:4d} {r['n_parameters']:4d} {poi:>16s} "
            f"{r['logpdf_init']:14.6f} {(f'{lb:14.6f}' if lb is not None else '-'):>14s} "
            f"{(f'{ph:10.5f}' if ph is not None else '-'):>10s} {(f'{pe:8.5f}' if pe is not None else '-'):>8s} "
            f"{r['fit_wall_time_s']:7.2f} {'yes' if r['success'] else 'NO'}"
        )
    n_fail = sum(not r["success"] for r in records)
    bad_sha = [r["name"] for r in records if not r["sha256_ok"]]
    print("-" * len(hdr))
    print(f"{len(records)} workspaces, {n_fail} failed fits, total wall time {total:.1f} s; wrote {args.output}")
    if bad_sha:
        print(f"WARNING: sha256 mismatch for {bad_sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
