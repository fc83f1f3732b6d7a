"""Published or user contours in the Δm²–sin²2θ plane, read from files to overlay on plots.

Two formats (docs/statistics.md §12.1):

* **CSV** with a header line naming the columns ``sin2_2theta`` and ``dm2_ev2`` [eV²] (and
  optionally ``curve``). Lines starting with ``#`` are comments; ``# label: ...``,
  ``# citation: ...`` and ``# kind: allowed|excluded`` set the metadata. A blank line, or a
  change of the ``curve`` value, starts a new curve.
* **HEPData YAML** (``independent_variables`` / ``dependent_variables``): a contour table
  (one sin²2θ and one Δm² column; a ``curve`` column or a row with ``-`` splits curves), or a
  grid table as ``ganom contour`` writes it (``contour_<method>.yaml``), whose region of one
  confidence level is traced as the curves.

Every value is checked (finite, 0 < sin²2θ ≤ 1, Δm² > 0, at least two points per curve);
a malformed file raises :class:`~ganom.exceptions.InputError` naming the file, the line or
field, the value and the allowed range. Shipped published contours (``fitter/data/overlays``)
are listed by :func:`shipped_overlays` and selected by name with :func:`load_overlay`.

>>> o = ContourOverlay((np.array([[0.1, 1.0], [0.2, 10.0]]),), "toy", "PRD 1 (2000) 1")
>>> o.legend_label, o.n_points
('toy (PRD 1 (2000) 1)', 2)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ganom.exceptions import InputError

__all__ = [
    "OVERLAY_KINDS",
    "MAX_OVERLAY_BYTES",
    "ContourOverlay",
    "read_overlay",
    "read_overlay_csv",
    "read_overlay_yaml",
    "shipped_overlays",
    "load_overlay",
]

OVERLAY_KINDS = ("excluded", "allowed")
"""What lies inside (allowed) or beyond (excluded) an overlay's curves."""

MAX_OVERLAY_BYTES = 20 * 2**20
"""Largest overlay file read [bytes]."""

_MAX_DEPTH = 12  # nesting of a HEPData table: mapping → list → mapping → list → mapping
_META = re.compile(r"^#\s?(label|citation|kind)\s*:(.*)$")
_CSV_COLUMNS = ("sin2_2theta", "dm2_ev2", "curve")
_CURVE_NAMES = {"curve", "contour", "segment", "curveindex", "contourindex", "segmentindex"}
DATA_DIR = Path(__file__).resolve().parent / "data" / "overlays"


@dataclass(frozen=True)
class ContourOverlay:
    """Curves of one published (or user) region: each an array [n, 2] of (sin²2θ, Δm² [eV²]).

    ``kind`` is "excluded" (the side of larger sin²2θ is excluded) or "allowed" (inside the
    closed curves); ``source`` is the file it was read from.
    """

    curves: tuple[NDArray[np.float64], ...]
    label: str
    citation: str = ""
    kind: str = "excluded"
    source: str = ""

    @property
    def legend_label(self) -> str:
        """"label (citation)", or the label alone without a citation."""
        return f"{self.label} ({self.citation})" if self.citation else self.label

    @property
    def n_points(self) -> int:
        """Points over all curves."""
        return sum(len(c) for c in self.curves)

    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((sin²2θ min, max), (Δm² min, max) [eV²]) over all curves."""
        pts = np.concatenate(self.curves)
        return (float(pts[:, 0].min()), float(pts[:, 0].max())), (float(pts[:, 1].min()), float(pts[:, 1].max()))


# ----------------------------------------------------------------------------- common checks
def _text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_OVERLAY_BYTES:
            raise InputError(f"{path}: {size} bytes; an overlay file may have at most {MAX_OVERLAY_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise InputError(f"{path}: empty file; expected a contour (CSV with columns sin2_2theta, dm2_ev2, or "
                         f"HEPData YAML)")
    if b"\x00" in data:
        raise InputError(f"{path}: binary file (NUL byte at {data.index(0)}); expected CSV or YAML text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _check_point(s: float, d: float, where: str) -> None:
    if not (math.isfinite(s) and 0.0 < s <= 1.0):
        raise InputError(f"{where}: sin2_2theta = {s!r} is not allowed; allowed: 0 < sin2_2theta <= 1")
    if not (math.isfinite(d) and d > 0.0):
        raise InputError(f"{where}: dm2_ev2 = {d!r} is not allowed; allowed: finite dm2_ev2 > 0 [eV^2]")


def _metadata(text: str, path: Path) -> dict[str, str]:
    meta: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = _META.match(line.strip())
        if m:
            key, value = m.group(1), m.group(2).strip()
            if key == "kind" and value not in OVERLAY_KINDS:
                raise InputError(f"{path}: line {n}: kind = {value!r} is not allowed; allowed: "
                                 f"{', '.join(OVERLAY_KINDS)}")
            meta[key] = value
    return meta


def _finish(curves: list[tuple[list[tuple[float, float]], str]], path: Path, meta: dict[str, str],
            label: str | None, citation: str | None, kind: str | None) -> ContourOverlay:
    kind = kind or meta.get("kind") or "excluded"
    if kind not in OVERLAY_KINDS:
        raise InputError(f"{path}: kind = {kind!r} is not allowed; allowed: {', '.join(OVERLAY_KINDS)}")
    out = []
    for pts, where in curves:
        if not pts:
            continue
        if len(pts) < 2:
            raise InputError(f"{path}: the curve at {where} has {len(pts)} point; allowed: at least 2 points per curve")
        out.append(np.array(pts, dtype=float))
    if not out:
        raise InputError(f"{path}: no data points; expected at least one curve of 2 or more (sin2_2theta, dm2_ev2) "
                         f"points")
    return ContourOverlay(tuple(out), label or meta.get("label") or path.stem, citation or meta.get("citation", ""),
                          kind, str(path))


# ----------------------------------------------------------------------------- CSV
def read_overlay_csv(path: str | Path, label: str | None = None, citation: str | None = None,
                     kind: str | None = None) -> ContourOverlay:
    """Read a CSV overlay (columns ``sin2_2theta``, ``dm2_ev2`` [eV²], optional ``curve``);
    ``label``, ``citation`` and ``kind`` override the file's ``# key: value`` metadata."""
    p = Path(path)
    text = _text(p)
    meta = _metadata(text, p)
    header: list[str] | None = None
    curves: list[tuple[list[tuple[float, float]], str]] = []
    current: list[tuple[float, float]] = []
    current_id: str | None = None
    start = 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if current:
                curves.append((current, f"line {start}"))
                current, current_id = [], None
            continue
        cells = [c.strip() for c in line.split(",")]
        if header is None:
            header = [c.lower() for c in cells]
            unknown = [c for c in header if c not in _CSV_COLUMNS]
            missing = [c for c in _CSV_COLUMNS[:2] if c not in header]
            if unknown or missing or len(set(header)) != len(header):
                what = (f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else
                        f"missing column(s) {', '.join(missing)}" if missing else "a repeated column")
                raise InputError(f"{p}: line {n}: header {line[:80]!r} has {what}; allowed: a header line with "
                                 f"sin2_2theta, dm2_ev2 and optionally curve")
            continue
        if len(cells) != len(header):
            raise InputError(f"{p}: line {n}: {len(cells)} fields; the header has {len(header)} "
                             f"({', '.join(header)})")
        row = dict(zip(header, cells))
        values = []
        for col in ("sin2_2theta", "dm2_ev2"):
            try:
                values.append(float(row[col]))
            except ValueError:
                raise InputError(f"{p}: line {n}: {col} = {row[col][:40]!r} is not a number") from None
        _check_point(values[0], values[1], f"{p}: line {n}")
        cid = row.get("curve")
        if current and cid != current_id:
            curves.append((current, f"line {start}"))
            current = []
        if not current:
            start = n
        current_id = cid
        current.append((values[0], values[1]))
    if header is None:
        raise InputError(f"{p}: no header line; expected a line 'sin2_2theta,dm2_ev2' before the data")
    if current:
        curves.append((current, f"line {start}"))
    return _finish(curves, p, meta, label, citation, kind)


# ----------------------------------------------------------------------------- HEPData YAML
def _norm(name: str) -> str:
    s = name.lower().replace("²", "2").replace("δ", "delta").replace("θ", "theta").replace("χ", "chi")
    return re.sub(r"[^a-z0-9%]", "", s.replace("\\", ""))


def _role(name: str) -> str | None:
    n = _norm(name)
    if "sin22theta" in n:
        return "s"
    if n.startswith(("deltam2", "dm2")):
        return "d"
    if n in _CURVE_NAMES:
        return "curve"
    return None


def _safe_yaml(text: str, path: Path) -> Any:
    """Parse one YAML document without aliases and with bounded nesting (no billion laughs,
    no stack exhaustion)."""
    import yaml

    depth = 0
    try:
        for ev in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(ev, yaml.AliasEvent):
                raise InputError(f"{path}: YAML aliases (*{ev.anchor}) are not allowed in an overlay file")
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > _MAX_DEPTH:
                    raise InputError(f"{path}: YAML nested deeper than {_MAX_DEPTH} levels; a HEPData table needs 5")
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{path}: not valid YAML{where}: {problem}") from None


def _columns(doc: Any, path: Path) -> list[tuple[str, str, dict[str, Any], list[Any]]]:
    """(field, name, variable, values) of every independent and dependent variable."""
    if not isinstance(doc, dict) or "independent_variables" not in doc or "dependent_variables" not in doc:
        raise InputError(f"{path}: not a HEPData table; expected a mapping with independent_variables and "
                         f"dependent_variables")
    cols = []
    for group in ("independent_variables", "dependent_variables"):
        variables = doc[group]
        if not isinstance(variables, list):
            raise InputError(f"{path}: {group} = {type(variables).__name__}; expected a list of variables")
        for i, var in enumerate(variables):
            field = f"{group}[{i}]"
            header = var.get("header") if isinstance(var, dict) else None
            name = header.get("name") if isinstance(header, dict) else None
            if not isinstance(name, str) or not isinstance(var.get("values"), list):
                raise InputError(f"{path}: {field}: expected a header with a name and a list of values")
            cols.append((field, name, var, var["values"]))
    n = {len(c[3]) for c in cols}
    if len(n) > 1:
        raise InputError(f"{path}: the variables have different numbers of values "
                         f"({', '.join(f'{c[1]!r}: {len(c[3])}' for c in cols)}); allowed: equal lengths")
    return cols


def _number(entry: Any, field: str, path: Path, missing_ok: bool = False) -> float | None:
    value = entry.get("value") if isinstance(entry, dict) else None
    if missing_ok and value == "-":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"{path}: {field}.value = {value!r} is not a number")
    try:
        v = float(value)
    except ValueError:
        raise InputError(f"{path}: {field}.value = {value!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"{path}: {field}.value = {value!r} is not allowed; allowed: a finite number")
    return v


def _units_ev2(var: dict[str, Any], field: str, path: Path) -> None:
    units = var["header"].get("units")
    if units is not None and _norm(str(units)) not in ("ev2", "ev^2"):
        raise InputError(f"{path}: {field}: units = {units!r} is not allowed; allowed: eV^2")


def read_overlay_yaml(path: str | Path, label: str | None = None, citation: str | None = None,
                      kind: str | None = None, level: str | None = None) -> ContourOverlay:
    """Read a HEPData YAML overlay: a contour table, or a ganom grid table whose region at
    ``level`` (e.g. "90%"; default: the first level of the table) is traced."""
    p = Path(path)
    text = _text(p)
    meta = _metadata(text, p)
    cols = _columns(_safe_yaml(text, p), p)
    roles = [(c, _role(c[1])) for c in cols]
    s_cols = [c for c, r in roles if r == "s"]
    d_cols = [c for c, r in roles if r == "d"]
    n_indep = sum(1 for c in cols if c[0].startswith("independent"))
    if len(s_cols) != 1 or len(d_cols) != 1:
        raise InputError(f"{p}: columns {', '.join(repr(c[1]) for c in cols)}: expected exactly one sin^2(2 theta) "
                         f"and one Delta m^2 [eV^2] column, found {len(s_cols)} and {len(d_cols)}")
    _units_ev2(d_cols[0][2], d_cols[0][0], p)
    if n_indep == 2 and s_cols[0][0].startswith("independent") and d_cols[0][0].startswith("independent"):
        return _grid_overlay(p, cols, s_cols[0], d_cols[0], meta, label, citation, kind, level)
    curve_col = next((c for c, r in roles if r == "curve"), None)
    curves: list[tuple[list[tuple[float, float]], str]] = []
    current: list[tuple[float, float]] = []
    current_id: float | None = None
    sf, sv = s_cols[0][0], s_cols[0][3]
    df, dv = d_cols[0][0], d_cols[0][3]
    for k in range(len(sv)):
        s = _number(sv[k], f"{sf}.values[{k}]", p, missing_ok=True)
        d = _number(dv[k], f"{df}.values[{k}]", p, missing_ok=True)
        if s is None or d is None:
            if current:
                curves.append((current, f"values[{k - len(current)}]"))
                current, current_id = [], None
            continue
        _check_point(s, d, f"{p}: values[{k}]")
        cid = _number(curve_col[3][k], f"{curve_col[0]}.values[{k}]", p) if curve_col else None
        if current and cid != current_id:
            curves.append((current, f"values[{k - len(current)}]"))
            current = []
        current_id = cid
        current.append((s, d))
    if current:
        curves.append((current, f"values[{len(sv) - len(current)}]"))
    return _finish(curves, p, meta, label, citation, kind)


def _grid_overlay(p: Path, cols: list[tuple[str, str, dict[str, Any], list[Any]]], s_col: Any, d_col: Any,
                  meta: dict[str, str], label: str | None, citation: str | None, kind: str | None,
                  level: str | None) -> ContourOverlay:
    """A grid table (as ``ganom contour`` writes): trace the region of one level."""
    import contourpy

    s = np.array([_number(v, f"{s_col[0]}.values[{k}]", p) for k, v in enumerate(s_col[3])], dtype=float)
    d = np.array([_number(v, f"{d_col[0]}.values[{k}]", p) for k, v in enumerate(d_col[3])], dtype=float)
    for k in range(s.size):
        _check_point(float(s[k]), float(d[k]), f"{p}: values[{k}]")
    su, si = np.unique(s, return_inverse=True)
    du, di = np.unique(d, return_inverse=True)
    if su.size < 2 or du.size < 2 or su.size * du.size != s.size or np.unique(di * su.size + si).size != s.size:
        raise InputError(f"{p}: {s.size} points on {du.size} Delta m^2 x {su.size} sin^2(2 theta) values: not a full "
                         f"grid; allowed: every (Delta m^2, sin^2(2 theta)) pair exactly once")
    regions = {}
    for field, name, var, values in cols:
        m = re.match(r"^(exclusion|allowed) at (.+)$", name.strip())
        if m:
            regions[m.group(2)] = (m.group(1), field, var, values)
    if not regions:
        raise InputError(f"{p}: a grid table without region columns ('exclusion at <level>' or 'allowed at <level>'); "
                         f"columns: {', '.join(repr(c[1]) for c in cols)}")
    lv = level or next(iter(regions))
    if lv not in regions:
        raise InputError(f"{p}: level {lv!r} is not in the table; allowed: {', '.join(regions)}")
    region_kind, field, var, values = regions[lv]
    flag = np.array([_number(v, f"{field}.values[{k}]", p) for k, v in enumerate(values)], dtype=float)
    z = np.full((du.size, su.size), np.nan)
    z[di, si] = flag
    stat_col = next((c for c in cols if _norm(c[1]) in ("deltachi2", "cls")), None)
    crit = _critical(var)
    if stat_col is not None and crit is not None:
        stat = np.full_like(z, np.nan)
        stat[di, si] = [_number(v, f"{stat_col[0]}.values[{k}]", p) for k, v in enumerate(stat_col[3])]
        z = stat - crit if _norm(stat_col[1]) != "cls" else crit - stat
        if region_kind == "allowed":
            z = -z
    else:
        z = (z - 0.5) * (1.0 if region_kind == "exclusion" else -1.0)
    gen = contourpy.contour_generator(np.log10(su), np.log10(du), z)
    lines: list[NDArray[np.float64]] = list(gen.lines(0.0))  # type: ignore[arg-type]
    curves = [([(float(10 ** x), float(10 ** y)) for x, y in seg], f"level {lv}") for seg in lines if len(seg) > 1]
    if not curves:
        raise InputError(f"{p}: the {region_kind} region at {lv} has no boundary inside the grid: nothing to draw")
    meta = {**meta, "label": meta.get("label") or f"{p.stem}, {lv} CL"}
    return _finish(curves, p, meta, label, citation, kind or ("excluded" if region_kind == "exclusion" else "allowed"))


def _critical(var: dict[str, Any]) -> float | None:
    for q in var.get("qualifiers") or []:
        if isinstance(q, dict) and q.get("name") == "critical value":
            try:
                v = float(str(q.get("value")))
            except (TypeError, ValueError):
                return None
            return v if math.isfinite(v) else None
    return None


# ----------------------------------------------------------------------------- files and names
def read_overlay(path: str | Path, label: str | None = None, citation: str | None = None, kind: str | None = None,
                 level: str | None = None) -> ContourOverlay:
    """Read an overlay file by its suffix: ``.csv``/``.txt`` (CSV) or ``.yaml``/``.yml`` (HEPData)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        return read_overlay_csv(p, label, citation, kind)
    if suffix in (".yaml", ".yml"):
        return read_overlay_yaml(p, label, citation, kind, level)
    raise InputError(f"{p}: suffix {p.suffix or '(none)'!r} is not allowed; allowed: .csv, .txt (CSV), "
                     f".yaml, .yml (HEPData)")


def shipped_overlays() -> dict[str, Path]:
    """The published contours shipped with ganom: name → file (docs/statistics.md §12.1)."""
    if not DATA_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(DATA_DIR.iterdir()) if p.suffix in (".csv", ".yaml")}


def load_overlay(spec: str | Path) -> ContourOverlay:
    """An overlay by the name of a shipped contour (see :func:`shipped_overlays`) or a file path."""
    shipped = shipped_overlays()
    if str(spec) in shipped:
        return read_overlay(shipped[str(spec)])
    p = Path(spec)
    if not p.is_file():
        names = ", ".join(shipped) or "none"
        raise InputError(f"overlay {str(spec)!r}: no such file and no shipped overlay of that name; shipped: {names}")
    return read_overlay(p)
