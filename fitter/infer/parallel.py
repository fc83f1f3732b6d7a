"""Deterministic fan-out of independent tasks (FC true points, toy batches).

* Seeds: one root seed → ``SeedSequence(root).spawn(n)``, one child per task (grid point),
  so a task's random numbers never depend on which worker runs it or how many there are.
* Arithmetic: every task runs with a single BLAS thread, in-process or in a worker, so the
  results are bit-identical for any number of workers.
* Where: local processes by default (``workers``), a dask.distributed cluster when a
  ``scheduler`` address (or ``"local"`` for a LocalCluster) is given (the ``dist`` extra).
* Checkpoints: finished tasks are written atomically to an ``.npz`` checkpoint every few
  seconds; a rerun with the same configuration skips them (a different configuration is
  refused, never silently mixed).
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import CheckpointError, InputError

__all__ = ["task_seeds", "config_digest", "array_digest", "single_blas_thread", "Checkpoint", "Interrupted",
           "run_tasks"]


def task_seeds(root_seed: int, n: int) -> list[np.random.SeedSequence]:
    """One independent SeedSequence per task, derived from the root seed."""
    if root_seed < 0:
        raise InputError(f"seed = {root_seed} is not allowed; allowed: an integer ≥ 0")
    return np.random.SeedSequence(int(root_seed)).spawn(int(n))


def config_digest(config: dict[str, Any]) -> str:
    """A short, stable hash of a JSON-serialisable configuration."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def array_digest(*arrays: Any) -> str:
    """A short hash of the values of ``arrays`` (as float64): identifies a model in checkpoints."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


_CONTROLLER: Any = None


def single_blas_thread(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` with one BLAS thread.

    The batched fits multiply many thin matrices; multi-threaded BLAS is several times slower
    on them (measured: a 50×50 scan takes 4 s with one thread, 22 s with two on this machine)
    and makes rounding depend on the thread count. Parallelism comes from processes instead.
    """
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _CONTROLLER
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        with _CONTROLLER.limit(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


def _single_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return single_blas_thread(fn)(*args)


_WORKER_STATE: dict[str, Any] = {}


def _init_worker(shared: Any) -> None:
    import os
    import signal
    import threading

    _WORKER_STATE["shared"] = shared
    # the main process decides what an interrupt means (save, stop the pool); a worker whose
    # main process is gone (SIGKILL) ends itself instead of computing for nobody
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="ganom-parent-watch").start()


def _run_in_worker(fn: Callable[..., Any], index: int, arg: Any) -> tuple[int, Any]:
    return index, _single_thread(fn, _WORKER_STATE["shared"], arg)


def _run_dask(fn: Callable[..., Any], shared: Any, index: int, arg: Any) -> tuple[int, Any]:
    return index, _single_thread(fn, shared, arg)


class Checkpoint:
    """Atomic ``.npz`` store of finished task results (arrays), tied to a configuration."""

    def __init__(self, path: str | Path | None, digest: str):
        self.path = None if path is None else Path(path)
        self.digest = digest
        self.results: dict[int, NDArray] = {}
        self._last = 0.0
        if self.path is not None and self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as z:
                    if digest and str(z["digest"]) != digest:
                        raise CheckpointError(f"checkpoint {self.path} belongs to another configuration "
                                              f"(digest {z['digest']} ≠ {digest}); delete it or use another --out")
                    for i, v in zip(z["indices"], z["values"]):
                        self.results[int(i)] = v
            except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                why = str(exc) or "empty or truncated"
                raise CheckpointError(f"checkpoint {self.path} cannot be read ({type(exc).__name__}: {why}); delete it "
                                      f"to start over") from None

    @staticmethod
    def check_readable(path: str | Path) -> None:
        """Raise :class:`CheckpointError` now if a checkpoint file exists but cannot be read
        (before a run spends time on the work that precedes its toys)."""
        if Path(path).exists():
            Checkpoint(path, "")  # reading it is the check (an empty digest matches any)

    def add(self, index: int, value: NDArray) -> None:
        self.results[index] = np.asarray(value, dtype=float)
        if self.path is not None and time.monotonic() - self._last > 5.0:
            self.save()

    def save(self) -> None:
        if self.path is None or not self.results:
            return
        idx = np.array(sorted(self.results), dtype=int)
        vals = np.stack([self.results[i] for i in idx])
        from ganom.fitter.io import save_npz

        save_npz(self.path, digest=np.array(self.digest), indices=idx, values=vals)
        self._last = time.monotonic()


def run_tasks(
    fn: Callable[[Any, Any], NDArray],
    shared: Any,
    args: Sequence[Any],
    workers: int = 1,
    scheduler: str | None = None,
    checkpoint: Checkpoint | None = None,
    progress: bool = False,
    desc: str = "tasks",
    stop_after: int | None = None,
) -> list[NDArray]:
    """``[fn(shared, a) for a in args]``, in parallel, with checkpointing and progress.

    ``fn`` and ``shared`` must be picklable for workers > 1 or a scheduler. ``stop_after``
    ends the run after that many new tasks (to test interrupt-and-resume).
    """
    if workers < 1:
        raise InputError(f"workers = {workers} is not allowed; allowed: ≥ 1")
    ckpt = checkpoint or Checkpoint(None, "")
    todo = [i for i in range(len(args)) if i not in ckpt.results]
    bar = None
    if progress:
        from ganom.progress import progress as progress_bar

        bar = progress_bar(len(args), desc, "pt", initial=len(args) - len(todo))
    done_new = 0

    def record(i: int, value: NDArray) -> bool:
        nonlocal done_new
        ckpt.add(i, value)
        done_new += 1
        if bar is not None:
            bar.update(1)
        return stop_after is not None and done_new >= stop_after

    import signal
    import threading

    # SIGTERM (a batch system, `kill`) stops a run like SIGINT: checkpoint saved, workers ended
    main_thread = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _raise_interrupt) if main_thread else None
    try:
        if scheduler:
            _run_with_dask(fn, shared, args, todo, scheduler, record)
        elif workers == 1:
            for i in todo:
                if record(i, _single_thread(fn, shared, args[i])):
                    break
        else:
            _run_with_pool(fn, shared, args, todo, workers, record)
    except KeyboardInterrupt:
        ckpt.save()
        raise Interrupted(f"interrupted after {len(ckpt.results)} of {len(args)} {desc}"
                          + (f"; the checkpoint {ckpt.path} keeps them: run the same command again to resume"
                             if ckpt.path is not None else "")) from None
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, old_term)
        ckpt.save()
        if bar is not None:
            bar.close()
    missing = [i for i in range(len(args)) if i not in ckpt.results]
    if missing:
        raise InterruptedError(f"{len(missing)} of {len(args)} tasks not finished (checkpoint saved)")
    return [ckpt.results[i] for i in range(len(args))]


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM after saving its checkpoint (the message says how to resume)."""


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run_with_pool(fn: Callable, shared: Any, args: Sequence[Any], todo: list[int], workers: int,
                   record: Callable[[int, NDArray], bool]) -> None:
    """Local worker processes; an interrupt stops the pool at once (queued tasks cancelled,
    running workers terminated), never after the queue."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(shared,))
    clean = False
    try:
        futures = [pool.submit(_run_in_worker, fn, i, args[i]) for i in todo]
        for fut in as_completed(futures):
            i, value = fut.result()
            if record(i, value):
                break
        clean = True
    finally:
        if not clean:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
        pool.shutdown(wait=clean, cancel_futures=True)


def _run_with_dask(fn: Callable, shared: Any, args: Sequence[Any], todo: list[int], scheduler: str,
                   record: Callable[[int, NDArray], bool]) -> None:
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError as exc:
        raise InputError("--scheduler needs dask.distributed: pip install 'ganom[dist]'") from exc
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect to a dask scheduler there ({exc}); start one "
                             f"(`dask scheduler`) or use 'local' or --workers") from None
    try:
        shared_f = client.scatter(shared, broadcast=True)
        futures = [client.submit(_run_dask, fn, shared_f, i, args[i], pure=False) for i in todo]
        for fut in dask_completed(futures):
            i, value = fut.result()
            if record(i, value):
                client.cancel(futures)
                break
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
