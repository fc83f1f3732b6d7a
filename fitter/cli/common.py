"""Shared pieces of the command line: the exit-code exceptions, number-list parsers, option
decorators and figure saving.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from ganom.exceptions import GanomError
from ganom.models.detectors import DEFAULT_DETECTOR
from ganom.models.sources import load_source, parse_activity

__all__ = [
    "BadInput",
    "FitFailed",
    "ActivityType",
    "ACTIVITY",
    "activity_option",
    "exit_if_invalid",
    "parse_floats",
    "parse_days",
    "parse_run",
    "check_figure_path",
    "parse_assignments",
]


class BadInput(click.ClickException):
    """Bad input on the command line: one-line message on stderr, exit code 2."""

    exit_code = 2


class FitFailed(click.ClickException):
    """A fit that did not reach a valid minimum: message on stderr, exit code 3."""

    exit_code = 3


def exit_if_invalid(res: Any, what: str) -> None:
    """After printing a fit result: an invalid fit says why on stderr and exits with code 3."""
    if not res.valid:
        raise FitFailed(f"{what}: the fit is not valid: {res.message or 'invalid minimum'}")


class ActivityType(click.ParamType):
    """An activity: a number [Bq] or a number with a unit (3MCi, 62.5PBq, 409kCi) → Bq."""

    name = "ACTIVITY"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_activity(value, f"--{param.name}" if param is not None and param.name else "activity")
        except GanomError as exc:
            self.fail(str(exc), param, ctx)


ACTIVITY = ActivityType()


def activity_option(f: Any) -> Any:
    """``--activity/-a``: the source's activity at t = 0 (in Bq after conversion)."""
    return click.option("--activity", "-a", type=ACTIVITY, default=None,
                        help="Activity at t=0: a number [Bq] or with a unit, e.g. 3MCi, 62.5PBq, 409kCi. "
                             "Default: the source's.")(f)


def parse_floats(text: str, option: str, allowed: str = "numbers", minimum: float | None = None,
                 strict: bool = False) -> list[float]:
    """'10,30' → [10.0, 30.0], every value finite and ≥ ``minimum`` (> it if ``strict``)."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise BadInput(f"{option}: '{part}' is not a number; expected comma-separated {allowed}") from None
        if not np.isfinite(value) or (minimum is not None and (value <= minimum if strict else value < minimum)):
            raise BadInput(f"{option}: {part} is not allowed; allowed: {allowed}")
        out.append(value)
    if not out:
        raise BadInput(f"{option}: no value given; expected comma-separated {allowed}")
    return out


def parse_days(text: str, option: str = "--days") -> list[float]:
    """'10,30' → [10.0, 30.0]; every run length must be a number > 0."""
    return parse_floats(text, option, "run lengths > 0 days", 0.0, strict=True)


def parse_run(text: str, option: str = "--days") -> float:
    """One run length [days] (commands that fit a single configuration)."""
    days = parse_days(text, option)
    if len(days) > 1:
        raise BadInput(f"{option}: '{text}' gives {len(days)} run lengths; this command takes one "
                         "(ganom significance and ganom compare take several)")
    return days[0]


def check_figure_path(path: str | None, option: str) -> None:
    """Refuse an unknown figure format before any computation (not after it)."""
    if path is None:
        return
    from matplotlib.figure import Figure

    kinds = Figure().canvas.get_supported_filetypes()
    ext = Path(path).suffix.lstrip(".").lower()
    if ext not in kinds:
        raise BadInput(f"{option}: '{path}' has no figure format matplotlib writes; allowed suffixes: "
                         + ", ".join(f".{k}" for k in sorted(kinds)))


def _echo_json(obj: Any) -> None:
    from ganom.fitter.io import jsonable

    click.echo(json.dumps(jsonable(obj), indent=2, allow_nan=False))


# ----------------------------------------------------------------------------- likelihood
def parse_assignments(text: str, option: str, model: Any = None) -> dict[str, float]:
    """'R=0.82,activity=0.5' → {'R': 0.82, 'activity': 0.5}; with ``model``, every name must be
    one of its parameters and every value finite and inside that parameter's bounds."""
    out: dict[str, float] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise BadInput(f"{option}: '{part}' is not name=value (e.g. R=0.82)")
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise BadInput(f"{option}: '{v}' is not a number (in '{part}')") from None
    if model is not None:
        ps = model.parameters
        for k, v in out.items():
            if k not in ps:
                raise BadInput(f"{option}: unknown parameter '{k}'; known: {', '.join(ps.names)}")
            lo, hi = ps.bounds[ps.index(k)]
            if not (np.isfinite(v) and lo <= v <= hi):
                raise BadInput(f"{option}: {k} = {v:g} is not allowed; allowed: {lo:g} ≤ {k} ≤ {hi:g}")
    return out


def _configuration_options(f: Any) -> Any:
    f = click.option("--angular-resolution", "angular", type=float, default=None,
                     help="Directional analysis (cos θ to the source) with this resolution [degrees].")(f)
    f = click.option("--source-off", "source_off", type=float, default=0.0, show_default=True,
                     help="Days of background-only data before the run (a second channel).")(f)
    f = click.option("--background-scale", type=float, default=1.0, show_default=True,
                     help="Multiply every background rate of the preset.")(f)
    f = click.option("--days", default="30", show_default=True, help="Run length(s) [days], comma-separated.")(f)
    f = click.option("--distance", "-D", default="centre", show_default=True,
                     help="Source distance from the centre [m] or a named position.")(f)
    f = activity_option(f)
    f = click.option("--source", "-s", default="cr51", show_default=True, help="Source preset or TOML file.")(f)
    f = click.option("--detector", "-d", default=DEFAULT_DETECTOR, show_default=True,
                     help="Detector preset name or TOML file.")(f)
    return f


def _source(source: str, activity_bq: float | None) -> Any:
    """The source preset or file, with the activity of ``--activity`` when given [Bq]."""
    src = load_source(source)
    return src.with_activity(activity_bq) if activity_bq is not None else src


def _load_counts(path: str, model: Any) -> Any:
    """Observed counts from .json ({channel: counts} or a flat list), .npy or .npz."""
    from pathlib import Path

    import numpy as np

    p = Path(path)
    try:
        if p.suffix == ".json":
            obj = json.loads(p.read_text())
            if isinstance(obj, dict):
                missing = [c for c in model.channels if c not in obj]
                if missing:
                    raise BadInput(f"--data {path}: channels {missing} missing; expected keys {model.channels}")
                arr = np.concatenate([np.asarray(obj[c], dtype=float).ravel() for c in model.channels])
            else:
                arr = np.asarray(obj, dtype=float).ravel()
        elif p.suffix == ".npz":
            z = np.load(p)
            arr = np.concatenate([z[c].ravel() for c in model.channels]) if all(c in z for c in model.channels) \
                else z[z.files[0]].ravel()
        else:
            arr = np.load(p).ravel()
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"--data {path}: cannot read counts ({exc})") from None
    if arr.size == 0:
        raise BadInput(f"--data {path}: the histogram is empty; expected {model.n_bins} bins")
    return model.data(arr)


def _save(fig: Any, path: str) -> None:
    """Write a figure atomically and say so on stderr."""
    from ganom.fitter.io import save_figure

    click.echo(f"wrote {save_figure(fig, path)}", err=True)
