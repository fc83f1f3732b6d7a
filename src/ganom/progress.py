"""Progress bars for steps that can take more than a few seconds.

One place decides whether a bar is drawn: on stderr, only when stderr is a terminal (a log
file or a pipe gets no bar), and never after :func:`set_quiet` (``--quiet`` on any command, or
``GANOM_QUIET=1`` in the environment). A bar's rate and remaining time are the run-time
estimate of the step.

>>> with progress(3, "points", "pt", enabled=False) as bar:  # a library call that wants no bar
...     for _ in range(3):
...         bar.update(1)
>>> bar.disable
True
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["QUIET_ENV", "is_quiet", "progress", "set_quiet"]

QUIET_ENV = "GANOM_QUIET"
_quiet = False


def set_quiet(quiet: bool = True) -> None:
    """Draw no progress bars from now on (``quiet=False``: draw them again on a terminal)."""
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    """Whether bars are switched off (:func:`set_quiet` or ``GANOM_QUIET=1``)."""
    return _quiet or os.environ.get(QUIET_ENV, "") not in ("", "0")


def progress(total: int | None, desc: str, unit: str = "it", *, initial: int = 0, enabled: bool = True) -> Any:
    """A tqdm bar on stderr for ``total`` units (a context manager; call ``update(n)``).

    Parameters
    ----------
    total : int or None
        Units of work (None: unknown, the bar counts without a remaining time).
    desc, unit : str
        What is counted, e.g. ``"toys at R = 1"`` and ``"toy"``.
    initial : int
        Units already done (a resumed run).
    enabled : bool
        False draws nothing whatever the terminal (a library call that asked for no bar).
    """
    from tqdm.auto import tqdm

    disable = True if (not enabled or is_quiet()) else None  # None: tqdm draws only on a terminal
    return tqdm(total=total, desc=desc, unit=unit, initial=initial, disable=disable, leave=False)
