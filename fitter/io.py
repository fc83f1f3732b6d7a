"""Input and output in one place: atomic writes, strict JSON, YAML, and text tables.

Every file ganom writes goes through :func:`write_bytes_atomic`: the content is written to a
uniquely named temporary file in the destination folder, flushed and fsync'ed, then renamed
over the destination. A reader sees the old file or the new one, never a half-written one, and
a full disk leaves the old file intact. JSON never contains a NaN or Infinity token: results
turn non-finite numbers into ``null`` (:func:`jsonable`); workspaces refuse them.

>>> print(markdown_table(["a", "b"], [[1, 2.5]]))
| a | b |
|---|---|
| 1 | 2.5 |
>>> jsonable({"x": float("nan"), "y": [1.0, float("inf")]})
{'x': None, 'y': [1.0, None]}
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ganom.exceptions import InputError

__all__ = [
    "FolderLock",
    "write_bytes_atomic",
    "write_text_atomic",
    "jsonable",
    "dumps",
    "write_json",
    "read_json",
    "write_yaml",
    "provenance",
    "set_command",
    "current_command",
    "versions",
    "with_provenance",
    "detector_record",
    "file_record",
    "save_figure",
    "save_figures",
    "save_npz",
    "format_table",
    "markdown_table",
    "Table",
]

FIGURE_DPI = 200
"""Resolution of raster figures [dots per inch]."""


def write_bytes_atomic(data: bytes, path: str | Path) -> Path:
    """Write ``data`` to ``path`` atomically (unique temporary file, fsync, rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes_atomic(text.encode("utf-8"), path)


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays as Python numbers and lists, paths as strings,
    dataclass-like objects through their ``to_dict``, and non-finite floats as ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    return obj


_COMPACT = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
_NUMBER_CHARS = frozenset("0123456789.eE+-,")


def number_array(value: Any) -> str | None:
    """A non-empty flat list of finite numbers (not booleans) as compact JSON text, else None.
    Encoded and checked by the json module's C encoder, so long arrays cost no Python loop."""
    if not isinstance(value, (list, tuple)) or not value:
        return None
    try:
        text = _COMPACT(value)
    except (ValueError, TypeError):
        return None
    return text if set(text[1:-1]) <= _NUMBER_CHARS else None


def _key(k: Any) -> str:
    """A mapping key as JSON writes it (JSON keys are strings)."""
    if isinstance(k, str):
        return k
    if isinstance(k, bool) or k is None:
        return {True: "true", False: "false", None: "null"}[k]
    if isinstance(k, float):
        if not math.isfinite(k):
            raise ValueError(f"Out of range float values are not JSON compliant: {k!r}")
        return float.__repr__(k)
    if isinstance(k, int):
        return int.__repr__(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")


def _encode(obj: Any, depth: int, out: list[str], sort_keys: bool) -> None:
    if isinstance(obj, Mapping):
        if not obj:
            out.append("{}")
            return
        pad = "\n" + " " * (depth + 1)
        items = sorted(obj.items()) if sort_keys else obj.items()
        for i, (k, v) in enumerate(items):
            out.append(("{" if i == 0 else ",") + pad + _COMPACT(_key(k)) + ": ")
            _encode(v, depth + 1, out, sort_keys)
        out.append("\n" + " " * depth + "}")
    elif isinstance(obj, (list, tuple)):
        numbers = number_array(obj) if obj and isinstance(obj[0], (int, float)) else None
        if not obj:
            out.append("[]")
        elif numbers is not None:
            out.append(numbers)
        else:
            pad = "\n" + " " * (depth + 1)
            for i, v in enumerate(obj):
                out.append(("[" if i == 0 else ",") + pad)
                _encode(v, depth + 1, out, sort_keys)
            out.append("\n" + " " * depth + "]")
    else:
        out.append(_COMPACT(obj))


def dumps(obj: Any, sort_keys: bool = False) -> str:
    """Strict, indented JSON with every array of numbers on one line (small files, readable
    diffs); the arrays are encoded by the json module's C encoder, so large patchsets write
    fast. A NaN or infinity raises ValueError: pass results through :func:`jsonable` first."""
    out: list[str] = []
    _encode(obj, 0, out, sort_keys)
    return "".join(out) + "\n"


def write_json(obj: Any, path: str | Path, sort_keys: bool = False) -> Path:
    """Serialise ``obj`` (:func:`dumps`) and write it atomically."""
    return write_text_atomic(dumps(obj, sort_keys=sort_keys), path)


def read_json(path: str | Path, error: type[InputError] = InputError) -> Any:
    """Parse a JSON file; an unreadable or malformed file raises ``error`` naming the file,
    the line and the column."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{p}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise error(f"{p}: not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise error(f"{p}: JSON nested too deeply to read") from None


def write_yaml(obj: Any, path: str | Path, prov: Mapping[str, Any] | None = None) -> Path:
    """Write ``obj`` as YAML (block style, keys in insertion order) atomically; ``prov`` (see
    :func:`provenance`) goes into comment lines on top, so formats with a fixed set of keys
    (HEPData) stay valid."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: same text, ~5× faster
    head = "".join(f"# {line}\n" for line in
                   yaml.dump({"provenance": jsonable(dict(prov))}, Dumper=dumper, sort_keys=False, width=10**9,
                             default_flow_style=None).splitlines()) if prov else ""
    return write_text_atomic(head + yaml.dump(jsonable(obj), Dumper=dumper, sort_keys=False, default_flow_style=None),
                             path)


# ----------------------------------------------------------------------------- provenance
_COMMAND: list[str] = []
VERSIONED = ("ganom", "numpy", "scipy", "iminuit", "pyhf", "matplotlib", "uproot")


def set_command(argv: Sequence[str]) -> None:
    """The command line this process runs (the CLI sets it); :func:`provenance` records it."""
    _COMMAND[:] = [str(a) for a in argv]


def versions() -> dict[str, str]:
    """Python's version and those of ganom and its numerical dependencies (package metadata,
    nothing imported)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed" if name != "ganom" else "source tree"
    return out


def current_command() -> str:
    """The command line recorded by :func:`set_command` ("" outside the CLI)."""
    import shlex

    return shlex.join(_COMMAND) if _COMMAND else ""


def provenance(configuration: Mapping[str, Any] | None = None, seed: int | None = None,
               command: str | None = None) -> dict[str, Any]:
    """Where a result comes from: the command line (default: the one :func:`set_command`
    recorded), the resolved configuration, the seed and the versions of ganom and its
    numerical dependencies. No time stamp, so the same command writes the same bytes."""
    import shlex
    import sys

    if command is None:
        command = shlex.join(_COMMAND) if _COMMAND else f"python {shlex.join(sys.argv)} (library call)"
    out: dict[str, Any] = {"command": command, "versions": versions()}
    if configuration is not None:
        out["configuration"] = dict(configuration)
    if seed is not None:
        out["seed"] = int(seed)
    return out


def with_provenance(result: Any, prov: Mapping[str, Any]) -> dict[str, Any]:
    """A result object with its provenance: a mapping gains a ``provenance`` key; a list of
    records becomes ``{"provenance": ..., "records": [...]}``."""
    if isinstance(result, Mapping):
        return {**result, "provenance": dict(prov)}
    return {"provenance": dict(prov), "records": list(result)}


def file_record(path: str | Path) -> dict[str, Any]:
    """An input file as a provenance entry: its name and the sha256 of its bytes."""
    import hashlib

    p = Path(path)
    return {"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}


def detector_record(detector: Any) -> dict[str, Any]:
    """A detector as a provenance entry: its name and the digest of the TOML it was read from."""
    src = getattr(detector, "source_file", "")
    return {"name": detector.name, **(file_record(src) if src and Path(src).is_file() else {})}


def save_figure(fig: Any, path: str | Path, dpi: int = FIGURE_DPI, close: bool = True,
                bbox_inches: Any = "tight") -> Path:
    """Save a matplotlib figure atomically (format from the suffix; no timestamp in the file,
    so reruns are byte-identical) and close it. ``bbox_inches``: "tight" (default) or a
    ``Bbox`` in inches already computed (:func:`save_figures` lays a figure out once)."""
    p = Path(path)
    buf = io.BytesIO()
    fmt = p.suffix.lstrip(".").lower() or "png"
    metadata: dict[str, Any] = {"Software": None} if fmt == "png" else {}
    if fmt in ("pdf", "svg", "ps", "eps"):
        metadata = {"Creator": None, "CreationDate": None} if fmt == "pdf" else {"Date": None} if fmt == "svg" else {}
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches=bbox_inches, metadata=metadata or None)
    out = write_bytes_atomic(buf.getvalue(), p)
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return out


def save_figures(fig: Any, path: str | Path, formats: Sequence[str] = ("png", "pdf"), dpi: int = FIGURE_DPI) -> list[Path]:
    """:func:`save_figure` in several formats (``path`` with each suffix): a PNG for reports and
    a vector PDF for papers and talks; the figure is closed after the last.

    The layout (constrained layout and the tight bounding box, the costly text measurements)
    is computed once, at ``dpi`` on the Agg renderer, and every format is drawn with it."""
    p = Path(path)
    paths = [p.with_suffix("." + f) for f in formats]
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    if len(paths) < 2 or get_renderer is None:
        return [save_figure(fig, q, dpi, close=(i == len(paths) - 1)) for i, q in enumerate(paths)]
    import matplotlib as mpl

    engine = fig.get_layout_engine()
    saved_dpi = fig.dpi
    try:
        fig.dpi = dpi
        fig.draw_without_rendering()
        pad = mpl.rcParams["savefig.pad_inches"]
        bbox = fig.get_tightbbox(get_renderer()).padded(pad)
        fig.set_layout_engine("none")
        return [save_figure(fig, q, dpi, close=False, bbox_inches=bbox) for q in paths]
    finally:
        fig.dpi = saved_dpi
        if engine is not None:
            fig.set_layout_engine(engine)
        import matplotlib.pyplot as plt

        plt.close(fig)


def save_npz(path: str | Path, **arrays: Any) -> Path:
    """Write arrays as an uncompressed ``.npz`` atomically."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return write_bytes_atomic(buf.getvalue(), path)


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]], floatfmt: str = ".4g") -> str:
    """A plain fixed-width text table (first column left-aligned, the others right-aligned)."""
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return format(v, floatfmt)
        return str(v)

    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    return "\n".join(lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table (``|`` inside a cell escaped)."""
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|")

    out = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


@dataclass(frozen=True)
class Table:
    """A result table: what commands print and reports embed (rows already formatted)."""

    header: Sequence[str]
    rows: Sequence[Sequence[Any]]

    def text(self) -> str:
        """Fixed-width text (the command line)."""
        return format_table(self.header, self.rows)

    def markdown(self) -> str:
        """GitHub-flavoured Markdown (reports)."""
        return markdown_table(self.header, self.rows)

    def __str__(self) -> str:
        return self.text()


class FolderLock:
    """An exclusive claim on an output folder while a run writes to it: ``.ganom.lock`` holding
    the process id, created atomically (O_EXCL). A second run into the same folder is refused
    with the holder's pid; a lock left by a process that no longer exists is taken over."""

    NAME = ".ganom.lock"
    MANIFEST = "MANIFEST.json"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / self.NAME
        self.held = False

    def acquire(self) -> FolderLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = self._holder()
                if pid is not None and pid != os.getpid() and _alive(pid):
                    raise InputError(f"output folder {self.folder} is in use by another ganom run (pid {pid}); wait "
                                     f"for it to finish or choose another --out") from None
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            self.held = True
            # outputs of an earlier run stay until replaced; without a manifest the folder says
            # that this run has not finished (a run killed half way leaves no manifest)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.folder / self.MANIFEST)
            return self
        raise InputError(f"output folder {self.folder}: could not take its lock {self.path}")

    def _holder(self) -> int | None:
        try:
            return int(self.path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def complete(self, command: str = "") -> Path:
        """Write ``MANIFEST.json`` last: every file of the folder with its size and sha256."""
        import hashlib

        files = {}
        for p in sorted(self.folder.rglob("*")):
            if p.is_file() and p.name not in (self.NAME, self.MANIFEST) and not p.name.startswith("."):
                files[str(p.relative_to(self.folder))] = {"bytes": p.stat().st_size,
                                                          "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        return write_json({"complete": True, "command": command, "files": files}, self.folder / self.MANIFEST)

    def release(self) -> None:
        if self.held and self._holder() == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        self.held = False

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
