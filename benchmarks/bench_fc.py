"""Feldman–Cousins throughput on the JNE 500 t preset and the wall time of a 50×50-grid ×
1000-toy FC map on this 2-core machine (issue: speed).

    python benchmarks/bench_fc.py [--points 8] [--toys 1000] [--workers 2] [--dask 1,2] [--full]

Measured in one run: (a) toys per second per core for the FC statistic at random true
points (one BLAS thread), as ``feldman_cousins`` computes it for the CLI's default levels
(exact fits for the toys that decide the 90/95/99 % quantiles), and the same toys with every
toy fitted exactly as the reference: the ratio, and the largest difference of those
quantiles between the two (0 up to rounding: the same critical values). (b) a real
``feldman_cousins`` engine run over a block of true points with ``--workers`` processes:
its wall time less the worker start-up (timed separately on a trivial task), the peak
resident memory, and the projection to 2500 true points (and to the stride-2 map, 676).
(c) with ``--dask``: the same block through dask.distributed on a LocalCluster of each
number of worker processes (one thread each), the wall time relative to the first, and
whether every worker count gives the identical statistics. A real cluster is the same call
with ``--scheduler tcp://host:8786`` (``ganom contour --method fc --scheduler ...``).
(d) with ``--full``: the whole 50×50 × ``--toys`` map through ``feldman_cousins`` with
``--workers`` processes, timed end to end (no projection).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from threadpoolctl import threadpool_limits

from ganom.fitter.config import build_model
from ganom.fitter.infer.contours import ESGridProblem, parse_levels, toy_statistics
from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
from ganom.models.templates import build_templates


class _Block:
    """A view of a problem restricted to a block of true points (for the timing run)."""

    def __init__(self, problem: ESGridProblem, rows: slice, cols: slice):
        self.p, self.rows, self.cols = problem, rows, cols
        self.grid = OscillationGrid(problem.grid.dm2[rows], problem.grid.sin2_2theta[cols])

    def toy_statistics(self, i: int, j: int, n: int, rng: np.random.Generator,
                       lowest_level: float | None = None) -> np.ndarray:
        return self.p.toy_statistics(self.rows.start + i, self.cols.start + j, n, rng, lowest_level=lowest_level)

    def describe(self) -> str:
        return "bench block"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=8, help="true points for the single-core rate")
    ap.add_argument("--toys", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--block", type=int, default=4, help="block side for the parallel run (block² true points)")
    ap.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                    help="also time every toy fitted exactly on the same toys (the ratio, the quantiles)")
    ap.add_argument("--full", action="store_true", help="run and time the whole 50×50 map (d)")
    ap.add_argument("--dask", default="", help="comma-separated LocalCluster worker counts for (c), e.g. 1,2")
    args = ap.parse_args()

    tpl = build_templates("jne-500t", "cr51", "centre", 30)
    model = build_model(tpl)
    om = OscillationModel(model, tpl)
    grid = OscillationGrid.from_spec("50x50")
    prob = ESGridProblem(om, grid)
    print(f"JNE 500 t, source at the centre, 30 d: {model.n_bins} bins, {model.n_params} parameters, grid 50×50")

    rng = np.random.default_rng(0)
    pts = [(int(i), int(j)) for i, j in zip(rng.integers(0, 50, args.points), rng.integers(0, 50, args.points))]

    levels = parse_levels("90,95,99")  # the CLI's default
    lowest = min(levels.values())

    def rate_of(lowest_level: float | None) -> tuple[float, list[np.ndarray]]:
        with threadpool_limits(limits=1):
            toy_statistics(prob, 25, 25, 50, np.random.default_rng(1))  # warm-up (caches)
            t0 = time.perf_counter()
            out = [toy_statistics(prob, i, j, args.toys, np.random.default_rng(k), lowest_level)
                   for k, (i, j) in enumerate(pts)]
            return args.points * args.toys / (time.perf_counter() - t0), out

    rate, stats = rate_of(lowest)
    print(f"(a) FC statistic, 1 core: {rate:,.0f} toys/s per core ({args.toys / rate:.3f} s per true point × "
          f"{args.toys} toys; exact fits for the toys that decide the 90/95/99 % quantiles)")
    if args.reference:
        ref_rate, ref_stats = rate_of(None)
        p = list(levels.values())
        diff = max(float(np.max(np.abs(np.quantile(a, p) - np.quantile(b, p)))) for a, b in zip(stats, ref_stats))
        print(f"    reference in the same run (every toy fitted exactly): {ref_rate:,.0f} toys/s per core; "
              f"ratio {rate / ref_rate:.2f}; largest difference of the 90/95/99 % quantiles {diff:.1e}")
    full_1core = 2500 * args.toys / rate
    print(f"    projection from (a): 50×50 × {args.toys} toys = {full_1core / 60:.1f} min on 1 core, "
          f"{full_1core / 2 / 60:.1f} min on 2 cores (goal ≤ 5 min on 2 cores)")

    b = args.block
    block = _Block(prob, slice(20, 20 + b), slice(20, 20 + b))
    # run the block through the real engine (seeds, worker processes)
    from ganom.fitter.infer.contours import _fc_task
    from ganom.fitter.infer.parallel import run_tasks, task_seeds

    seeds = task_seeds(1, b * b)
    tasks = [(i, j, seeds[i * b + j]) for i in range(b) for j in range(b)]
    t0 = time.perf_counter()  # the pool's start-up: spawned workers import ganom, unpickle the problem
    run_tasks(_fc_task, (block, 10, lowest), tasks[:args.workers], workers=args.workers)
    startup = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_tasks(_fc_task, (block, args.toys, lowest), tasks, workers=args.workers)
    wall = time.perf_counter() - t0
    per_point = max(wall - startup, 0.0) / (b * b)
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(f"(b) FC engine, {args.workers} workers: {b * b} true points × {args.toys} toys in {wall:.1f} s, of which "
          f"{startup:.1f} s start-up ({per_point:.3f} s per true point); peak RSS (self + largest child) ≈ {peak:.0f} MiB")
    print(f"    projection from (b): full 50×50 map (2500 true points) {(2500 * per_point + startup) / 60:.1f} min; "
          f"stride-2 map (676 true points, interpolated) {(676 * per_point + startup) / 60:.1f} min")
    if args.dask:
        from dask.distributed import LocalCluster

        walls, maps = {}, {}
        for n in (int(x) for x in args.dask.split(",")):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
                t0 = time.perf_counter()
                maps[n] = np.stack(run_tasks(_fc_task, (block, args.toys, lowest), tasks, scheduler=cluster.scheduler_address))
                walls[n] = time.perf_counter() - t0
        first = next(iter(walls))
        for n, w in walls.items():
            same = np.array_equal(maps[n], maps[first])
            print(f"(c) dask LocalCluster, {n} worker(s): {w:.1f} s, speed-up {walls[first] / w:.2f} "
                  f"(ideal {n / first:g}); statistics identical to {first} worker(s): {same}")
    if args.full:
        from ganom.fitter.infer.contours import feldman_cousins

        t0 = time.perf_counter()
        res = feldman_cousins(prob, levels, args.toys, seed=0, workers=args.workers)
        wall = time.perf_counter() - t0
        print(f"(d) the whole map: 50×50 true points × {args.toys} toys, {args.workers} workers: {wall / 60:.2f} min "
              f"(goal ≤ 5 min on 2 cores); 90 % critical values {np.nanmin(res.critical['90%']):.2f}–"
              f"{np.nanmax(res.critical['90%']):.2f}")


if __name__ == "__main__":
    main()
