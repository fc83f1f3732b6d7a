"""Reading histograms and event tables: ROOT files (uproot), ``.npz``, parquet and
in-memory objects (``hist``/boost-histogram, uproot histograms, dicts of arrays).

uproot and pyarrow are imported only when a file of their kind is read.

``.npz`` layout (numpy only, no pickles):

* histogram ``NAME``: ``NAME/values`` (N-d), ``NAME/variances`` (Σw², optional),
  ``NAME/edges/0`` … ``NAME/edges/{N-1}``;
* event table ``NAME``: one 1-d array ``NAME/COLUMN`` per column (``NAME`` = "" → ``COLUMN``).

Every error names the file, the object and, where it applies, the bin or column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import InputError

__all__ = ["Histogram", "InputFileError", "read_histogram", "read_events"]

FloatArray = NDArray[np.float64]


class InputFileError(InputError):
    """A histogram or event table that is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Histogram:
    """Bin contents (N-d), Σw² per bin (None: not stored) and the edges of each axis."""

    values: FloatArray
    variances: FloatArray | None
    edges: tuple[FloatArray, ...]
    where: str

    def check(self) -> Histogram:
        """Finite contents ≥ 0 and finite variances ≥ 0; the error names the bin."""
        for what, arr in (("content", self.values), ("variance (sumw2)", self.variances)):
            if arr is None:
                continue
            bad = ~np.isfinite(arr) | (arr < 0)
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                raise InputFileError(f"{self.where}: bin {idx} has {what} {arr[idx]!r}; need a finite value ≥ 0")
        return self


def _path(ref: Mapping[str, Any], base: Path, where: str) -> Path:
    p = Path(ref["file"])
    p = p if p.is_absolute() else base / p
    if not p.is_file():
        raise InputFileError(f"{where}: file '{p}' does not exist")
    return p


def _where(ref: Mapping[str, Any]) -> str:
    return f"{ref['file']}:{ref['object']}" if ref.get("file") else f"object '{ref['object']}'"


def _open_root(path: Path, where: str) -> Any:
    try:
        import uproot
    except ImportError:  # pragma: no cover - uproot is a dependency
        raise InputFileError(f"{where}: reading ROOT files needs uproot (pip install uproot)") from None
    try:
        return uproot.open(path)
    except Exception as exc:  # uproot raises many kinds for a file that is not ROOT
        raise InputFileError(f"{where}: '{path}' is not a readable ROOT file ({type(exc).__name__}: {exc})") from None


def _root_object(path: Path, name: str, where: str) -> Any:
    f = _open_root(path, where)
    try:
        return f[name]
    except Exception:
        keys = sorted({k.split(";")[0] for k in f.keys()})
        raise InputFileError(f"{where}: no object '{name}' in '{path}'; it has: {', '.join(keys) or 'nothing'}") from None


def _load_npz(path: Path, where: str) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:
        raise InputFileError(f"{where}: '{path}' is not a readable .npz file ({exc})") from None


def _uhi(obj: Any, where: str) -> Histogram:
    """A histogram from any object of the UHI plottable protocol (hist, boost-histogram, uproot)."""
    try:
        values = np.asarray(obj.values(flow=False), dtype=float)
        var = obj.variances(flow=False)
        edges = []
        for ax in obj.axes:
            e = ax.edges
            edges.append(np.asarray(e() if callable(e) else e, dtype=float))
    except Exception as exc:
        raise InputFileError(f"{where}: not a histogram ({type(exc).__name__}: {exc})") from None
    return Histogram(values, None if var is None else np.asarray(var, dtype=float), tuple(edges), where)


def read_histogram(ref: Mapping[str, Any], base: Path, objects: Mapping[str, Any] | None = None) -> Histogram:
    """The histogram named by ``ref`` = {"file": ..., "object": ...} (no file: ``objects``)."""
    where = _where(ref)
    name = ref["object"]
    if not ref.get("file"):
        if objects is None or name not in objects:
            raise InputFileError(f"{where}: no file given and no such in-memory object; known: "
                                 f"{', '.join(sorted(objects or {})) or 'none'}")
        return _uhi(objects[name], where).check()
    path = _path(ref, base, where)
    if path.suffix == ".npz":
        z = _load_npz(path, where)
        if f"{name}/values" not in z.files:
            hists = sorted({k.rsplit("/values", 1)[0] for k in z.files if k.endswith("/values")})
            raise InputFileError(f"{where}: no histogram '{name}' (key '{name}/values') in '{path}'; it has: "
                                 f"{', '.join(hists) or 'none'}")
        values = np.asarray(z[f"{name}/values"], dtype=float)
        edges = []
        for k in range(values.ndim):
            key = f"{name}/edges/{k}"
            if key not in z.files:
                raise InputFileError(f"{where}: missing '{key}' (the edges of axis {k})")
            edges.append(np.asarray(z[key], dtype=float))
        var = np.asarray(z[f"{name}/variances"], dtype=float) if f"{name}/variances" in z.files else None
        h = Histogram(values, var, tuple(edges), where)
    elif path.suffix == ".root":
        h = _uhi(_root_object(path, name, where), where)
    else:
        raise InputFileError(f"{where}: unknown histogram file type '{path.suffix}'; allowed: .root, .npz")
    for k, e in enumerate(h.edges):
        if e.size != h.values.shape[k] + 1:
            raise InputFileError(f"{where}: axis {k} has {h.values.shape[k]} bins but {e.size} edges")
    if h.variances is not None and h.variances.shape != h.values.shape:
        raise InputFileError(f"{where}: variances of shape {h.variances.shape}, contents {h.values.shape}")
    return h.check()


def read_events(ref: Mapping[str, Any], columns: Sequence[str], base: Path,
                objects: Mapping[str, Any] | None = None, optional: Sequence[str] = ()) -> dict[str, FloatArray]:
    """The named columns (1-d float arrays of equal length) of an event table; ``optional``
    columns are returned only if present."""
    where = _where(ref)
    name = ref["object"]
    available: dict[str, Any]
    if not ref.get("file"):
        if objects is None or name not in objects:
            raise InputFileError(f"{where}: no file given and no such in-memory object")
        available = dict(objects[name])
    else:
        path = _path(ref, base, where)
        if path.suffix == ".npz":
            z = _load_npz(path, where)
            pre = f"{name}/" if name else ""
            available = {k[len(pre):]: z[k] for k in z.files if k.startswith(pre)}
            if not available:
                raise InputFileError(f"{where}: no event table '{name}' (keys '{pre}COLUMN') in '{path}'")
        elif path.suffix == ".root":
            tree = _root_object(path, name, where)
            if not hasattr(tree, "arrays"):
                raise InputFileError(f"{where}: '{name}' is a {type(tree).__name__}, not a TTree")
            keys = set(tree.keys())
            want = [c for c in columns if c in keys] + [c for c in optional if c in keys]
            available = {k: v for k, v in tree.arrays(want, library="np").items()} if want else {}
            available.update({c: None for c in keys if c not in available})
        elif path.suffix == ".parquet":
            try:
                import pyarrow.parquet as pq
            except ImportError:
                raise InputFileError(f"{where}: reading parquet files needs pyarrow (pip install pyarrow)") from None
            try:
                table = pq.read_table(path)
            except Exception as exc:
                raise InputFileError(f"{where}: '{path}' is not a readable parquet file ({exc})") from None
            available = {c: table.column(c).to_numpy() for c in table.column_names}
        else:
            raise InputFileError(f"{where}: unknown event file type '{path.suffix}'; allowed: .root, .npz, .parquet")
    missing = [c for c in columns if c not in available]
    if missing:
        raise InputFileError(f"{where}: no column(s) {', '.join(missing)}; the table has: "
                             f"{', '.join(sorted(available)) or 'nothing'}")
    out: dict[str, FloatArray] = {}
    n = None
    for c in list(columns) + [c for c in optional if c in available]:
        try:
            arr = np.asarray(available[c], dtype=float)
        except (TypeError, ValueError):
            raise InputFileError(f"{where}: column '{c}' is not numeric") from None
        if arr.ndim != 1:
            raise InputFileError(f"{where}: column '{c}' has shape {arr.shape}; need one value per event")
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputFileError(f"{where}: column '{c}', event {int(np.argmax(bad))}: {arr[bad][0]!r}; need finite values")
        if n is not None and arr.size != n:
            raise InputFileError(f"{where}: column '{c}' has {arr.size} events, the others {n}")
        n = arr.size
        out[c] = arr
    if not n:
        raise InputFileError(f"{where}: the event table is empty")
    return out
