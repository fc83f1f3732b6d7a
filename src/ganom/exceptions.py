"""Every exception ganom raises, in one hierarchy.

* :class:`InputError` and its subclasses: the input is wrong (a negative activity, an unknown
  preset, a malformed TOML or workspace, a parameter outside its bounds). Each message names
  the field, the value and the allowed range. The command line exits with code 2.
* :class:`FitError`: the input is valid but a fit did not reach a valid minimum where one is
  required. The command line exits with code 3 and says which fit failed and why.

>>> issubclass(PhysicsInputError, InputError) and issubclass(InputError, ValueError)
True
>>> issubclass(FitError, InputError)
False
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "GanomError",
    "InputError",
    "PhysicsInputError",
    "ConfigError",
    "UnknownPresetError",
    "ParameterError",
    "ResourceError",
    "ModelError",
    "WorkspaceError",
    "ExportError",
    "CheckpointError",
    "FitError",
]


class GanomError(Exception):
    """Base class of every ganom exception."""


class InputError(GanomError, ValueError):
    """Base class of every input error (command line: exit code 2)."""


class PhysicsInputError(InputError):
    """A physics argument outside its allowed range (negative activity, D < 0, ...)."""

    def __init__(self, field: str, value: Any, allowed: str, context: str | None = None):
        self.field, self.value, self.allowed, self.context = field, value, allowed, context
        where = f"{context}: " if context else ""
        shown = value.tolist() if hasattr(value, "tolist") else value  # numbers, not numpy reprs
        super().__init__(f"{where}{field} = {shown!r} is not allowed; allowed: {allowed}")


class ConfigError(InputError):
    """A malformed or invalid configuration file (TOML), with file and field."""

    def __init__(self, file: str, field: str, message: str):
        self.file, self.field = file, field
        super().__init__(f"{file}: field '{field}': {message}")


class UnknownPresetError(InputError):
    """A detector or source preset name that does not exist."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name, self.known = kind, name, known
        super().__init__(
            f"unknown {kind} '{name}'; known presets: {', '.join(known)} "
            f"(or pass the path of a TOML file)"
        )


class ParameterError(InputError):
    """An unknown parameter name or an invalid parameter setting."""


class ModelError(InputError):
    """An inconsistent model specification (shapes, unknown sample or channel, NaN templates)."""


class WorkspaceError(InputError):
    """An invalid pyhf workspace or patchset; the message names the JSON path."""


class ExportError(InputError):
    """A native model that a pyhf workspace cannot express (the message says why)."""


class CheckpointError(InputError):
    """A checkpoint file that belongs to another computation or cannot be read."""


class ResourceError(InputError):
    """A request that cannot fit the machine (memory), refused before it starts."""


class FitError(GanomError, RuntimeError):
    """A fit that did not converge to a valid minimum where one is required."""
