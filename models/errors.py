"""The few exception classes of ganom.

Every error names the offending field, the value it got and the allowed range, so a user
can fix a config without reading code. All derive from :class:`ValueError`.
"""

from __future__ import annotations

from typing import Any


class GanomError(ValueError):
    """Base class of every ganom input error."""


class PhysicsInputError(GanomError):
    """A physics argument outside its allowed range (negative activity, D < 0, ...)."""

    def __init__(self, field: str, value: Any, allowed: str, context: str | None = None):
        self.field, self.value, self.allowed, self.context = field, value, allowed, context
        where = f"{context}: " if context else ""
        super().__init__(f"{where}{field} = {value!r} is not allowed; allowed: {allowed}")


class ConfigError(GanomError):
    """A malformed or invalid configuration file (TOML), with file and field."""

    def __init__(self, file: str, field: str, message: str):
        self.file, self.field = file, field
        super().__init__(f"{file}: field '{field}': {message}")


class UnknownPresetError(GanomError):
    """A detector or source preset name that does not exist."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name, self.known = kind, name, known
        super().__init__(
            f"unknown {kind} '{name}'; known presets: {', '.join(known)} "
            f"(or pass the path of a TOML file)"
        )
