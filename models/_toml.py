"""Reading TOML configs with errors that name the file and the field."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from ganom.exceptions import ConfigError

__all__ = ["read_text", "read_toml", "require", "optional", "check_range"]

_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true/false",
               dict: "a table", list: "an array"}


def read_text(path: str | Path) -> str:
    """A configuration file's text; unreadable or non-UTF-8 files raise :class:`ConfigError`."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), "<file>", f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "<file>", f"is not UTF-8 text (byte {exc.start}: {exc.reason})") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file raises :class:`ConfigError`."""
    path = Path(path)
    text = read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "<syntax>", f"malformed TOML: {exc}") from exc


def _type_word(kind: Any) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_TYPE_WORDS.get(k, k.__name__) for k in kinds)


def require(table: dict[str, Any], key: str, kind: Any, file: str, prefix: str = "") -> Any:
    """``table[key]`` checked for presence and type (numbers must be finite)."""
    name = f"{prefix}.{key}" if prefix else key
    if key not in table:
        raise ConfigError(file, name, f"missing (expected {_type_word(kind)})")
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ConfigError(file, name, f"got {value!r}; expected {_type_word(kind)}")
    if not isinstance(value, kinds):
        raise ConfigError(file, name, f"got {value!r}; expected {_type_word(kind)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(file, name, f"got {value!r}; expected a finite number")
    return float(value) if float in kinds and isinstance(value, int) and int not in kinds else value


def optional(table: dict[str, Any], key: str, kind: Any, file: str, prefix: str, default: Any) -> Any:
    """Like :func:`require`, but returns ``default`` when the key is absent."""
    return require(table, key, kind, file, prefix) if key in table else default


def check_range(value: float, lo: float | None, hi: float | None, file: str, name: str,
                lo_open: bool = False, hi_open: bool = False, unit: str = "") -> float:
    """Raise :class:`ConfigError` naming the allowed interval when ``value`` is outside it."""
    bad = (lo is not None and (value < lo or (lo_open and value == lo))) or (
        hi is not None and (value > hi or (hi_open and value == hi)))
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise ConfigError(file, name, f"got {value!r}; allowed range {left}{lo_s}, {hi_s}{right}{(' ' + unit) if unit else ''}")
    return value
