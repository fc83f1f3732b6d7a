"""Refusing requests that cannot fit the machine, before they start.

A grid of 10⁵ × 10⁵ points, a run of 10⁹ days in 10-day bins or 10⁹ toys would each need
terabytes; numpy would fail half way with a MemoryError. :func:`require_memory` compares an
estimate with the memory available now and raises :class:`~ganom.exceptions.ResourceError`
(an :class:`~ganom.exceptions.InputError`: exit code 2) naming the option, the estimate and
the limit. ``GANOM_IGNORE_RESOURCE_LIMITS=1`` in the environment lets a user who knows better
go ahead.

>>> require_memory("--grid 10x10", 800.0, "a smaller grid")  # 800 bytes: fine
"""

from __future__ import annotations

import os

from ganom.exceptions import ResourceError

__all__ = ["OVERRIDE_ENV", "available_memory_bytes", "require_memory"]

OVERRIDE_ENV = "GANOM_IGNORE_RESOURCE_LIMITS"
_FALLBACK_BYTES = 8 * 2**30  # assumption: where the OS reports nothing, 8 GiB


def available_memory_bytes() -> float:
    """Memory available to a new allocation now [bytes]: MemAvailable of /proc/meminfo, else
    the physical memory (sysconf), else 8 GiB."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float(_FALLBACK_BYTES)


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000.0
    return f"{n:.3g} PB"  # pragma: no cover


def require_memory(what: str, need_bytes: float, remedy: str, fraction: float = 0.8) -> None:
    """Raise :class:`ResourceError` when ``need_bytes`` exceeds ``fraction`` of the available
    memory (unless ``GANOM_IGNORE_RESOURCE_LIMITS`` is set)."""
    if os.environ.get(OVERRIDE_ENV):
        return
    limit = fraction * available_memory_bytes()
    if need_bytes > limit:
        raise ResourceError(f"{what} needs ≈ {_human(need_bytes)} of memory; {_human(limit)} is available here: "
                            f"{remedy} (or set {OVERRIDE_ENV}=1 to try anyway)")
