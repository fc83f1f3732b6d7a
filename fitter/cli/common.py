"""Shared pieces of the command line: the exit-code exceptions, number-list parsers, option
decorators and figure saving.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    "check_figure_path",
    "parse_assignments",
    "check_assignments",
    "NumberList",
    "DAYS",
    "RUN",
    "GridShape",
    "GRID",
    "Interval",
    "Assignments",
    "ASSIGNMENTS",
    "days_option",
    "grid_option",
    "json_option",
    "detector_option",
    "source_option",
    "distance_option",
    "angular_option",
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
                 strict: bool = False, maximum: float | None = None) -> list[float]:
    """'10,30' → [10.0, 30.0], every value finite, ≥ ``minimum`` (> it if ``strict``) and ≤ ``maximum``."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise BadInput(f"{option}: '{part}' is not a number; expected comma-separated {allowed}") from None
        if (not np.isfinite(value) or (minimum is not None and (value <= minimum if strict else value < minimum))
                or (maximum is not None and value > maximum)):
            raise BadInput(f"{option}: {part} is not allowed; allowed: {allowed}")
        out.append(value)
    if not out:
        raise BadInput(f"{option}: no value given; expected comma-separated {allowed}")
    return out


def _option_name(param: click.Parameter | None) -> str:
    return param.opts[0] if param is not None and param.opts else "value"


class _Parsed(click.ParamType):
    """A ParamType whose conversion raises :class:`BadInput` (exit 2, the option's own words)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        return self.parse(value, _option_name(param))

    def parse(self, text: str, option: str) -> Any:
        raise NotImplementedError


class NumberList(_Parsed):
    """Comma-separated numbers → list[float], each finite, ≥ ``minimum`` (> it if ``strict``)
    and ≤ ``maximum``; ``single``: exactly one number → float."""

    name = "NUMBERS"

    def __init__(self, allowed: str, minimum: float | None = None, strict: bool = False, single: bool = False,
                 maximum: float | None = None):
        self.allowed, self.minimum, self.strict, self.single, self.maximum = allowed, minimum, strict, single, maximum

    def parse(self, text: str, option: str) -> Any:
        values = parse_floats(text, option, self.allowed, self.minimum, self.strict, self.maximum)
        if not self.single:
            return values
        if len(values) > 1:
            raise BadInput(f"{option}: '{text}' gives {len(values)} values; this command takes one")
        return values[0]


DAYS = NumberList("run lengths > 0 days", 0.0, strict=True)
RUN = NumberList("run lengths > 0 days", 0.0, strict=True, single=True)


class GridShape(_Parsed):
    """'NxM' → (N, M) grid points (Δm² × sin²2θ), each ≥ 2."""

    name = "NxM"

    def parse(self, text: str, option: str) -> tuple[int, int]:
        from ganom.fitter.infer.oscillation import parse_grid_shape

        try:
            return parse_grid_shape(text)
        except GanomError as exc:
            raise BadInput(f"{option}: {exc}") from None


GRID = GridShape()


class Interval(_Parsed):
    """'low,high' → (low, high) with 0 < low < high (a range in the option's units)."""

    name = "LOW,HIGH"

    def __init__(self, unit: str):
        self.unit = unit

    def parse(self, text: str, option: str) -> tuple[float, float]:
        vals = parse_floats(text, option, f"'low,high' in {self.unit}, 0 < low < high", 0.0, strict=True)
        if len(vals) != 2 or not vals[0] < vals[1]:
            raise BadInput(f"{option}: '{text}' is not allowed; allowed: 'low,high' in {self.unit} with 0 < low < high")
        return vals[0], vals[1]


class Assignments(_Parsed):
    """'R=0.82,alpha_activity=0.5' → {'R': 0.82, 'alpha_activity': 0.5} (names checked
    against a model by :func:`check_assignments` once the model exists)."""

    name = "NAME=VALUE,..."

    def parse(self, text: str, option: str) -> dict[str, float]:
        return parse_assignments(text, option)


ASSIGNMENTS = Assignments()


def days_option(default: str = "30", several: bool = False, help: str | None = None) -> Any:
    """``--days``: one run length [days] → float, or with ``several`` a comma-separated list."""
    return click.option("--days", type=DAYS if several else RUN, default=default, show_default=True,
                        help=help or ("Run lengths [days], comma-separated." if several else "Run length [days]."))


def grid_option(default: str, help: str) -> Any:
    """``--grid NxM`` → (N, M)."""
    return click.option("--grid", type=GRID, default=default, show_default=True, help=help)


def workers_option(what: str) -> Any:
    """``--workers N``, the same everywhere: local processes, default every core (``None``
    until :func:`resolve_workers`); no result depends on it."""
    return click.option("--workers", type=click.IntRange(min=1), default=None,
                        help=f"Local processes for {what} [default: every core]; results do not depend on it.")


def resolve_workers(workers: int | None) -> int:
    """``--workers`` as a number: every core when not given."""
    import os

    return workers or os.cpu_count() or 1


def json_option(help: str = "Print JSON.") -> Any:
    """``--json`` → ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def detector_option(f: Any) -> Any:
    """``--detector/-d``: one detector preset or TOML file."""
    return click.option("--detector", "-d", default=DEFAULT_DETECTOR, show_default=True,
                        help="Detector preset name or TOML file.")(f)


def source_option(f: Any) -> Any:
    """``--source/-s``: the source preset or TOML file."""
    return click.option("--source", "-s", default="cr51", show_default=True, help="Source preset or TOML file.")(f)


def distance_option(f: Any) -> Any:
    """``--distance/-D``: the source position, metres from the centre or a named position."""
    return click.option("--distance", "-D", default="centre", show_default=True,
                        help="Source distance from the centre [m] or a named position.")(f)


def angular_option(f: Any) -> Any:
    """``--angular-resolution`` [degrees] → ``angular`` (0–180)."""
    return click.option("--angular-resolution", "angular", type=click.FloatRange(0.0, 180.0), default=None,
                        help="Directional analysis (cos θ to the source) with this resolution [degrees].")(f)


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


def _echo_json(obj: Any, configuration: Mapping[str, Any] | None = None, seed: int | None = None) -> None:
    """Print a result as JSON with its provenance (:func:`ganom.fitter.io.with_provenance`:
    a mapping gains a ``provenance`` key, a list becomes ``{"provenance", "records"}``), as
    the result files carry it."""
    from ganom.fitter.io import jsonable, provenance, with_provenance

    prov = obj.get("provenance") if isinstance(obj, Mapping) else None
    out = obj if prov is not None else with_provenance(obj, provenance(configuration, seed))
    click.echo(json.dumps(jsonable(out), indent=2, allow_nan=False))


# ----------------------------------------------------------------------------- likelihood
def parse_assignments(text: str, option: str, model: Any = None) -> dict[str, float]:
    """'R=0.82,activity=0.5' → {'R': 0.82, 'activity': 0.5}; with ``model``, checked by
    :func:`check_assignments`."""
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
    return out if model is None else check_assignments(out, option, model)


def check_assignments(values: dict[str, float], option: str, model: Any) -> dict[str, float]:
    """Every name one of ``model``'s parameters, every value finite and inside its bounds."""
    ps = model.parameters
    for k, v in values.items():
        if k not in ps:
            raise BadInput(f"{option}: unknown parameter '{k}'; known: {', '.join(ps.names)}")
        lo, hi = ps.bounds[ps.index(k)]
        if not (np.isfinite(v) and lo <= v <= hi):
            raise BadInput(f"{option}: {k} = {v:g} is not allowed; allowed: {lo:g} ≤ {k} ≤ {hi:g}")
    return values


def _configuration_options(several_days: bool = False) -> Any:
    """The options of a detector configuration: ``--days`` → one run length [days], or with
    ``several_days`` a list of them."""

    def decorate(f: Any) -> Any:
        f = angular_option(f)
        f = click.option("--source-off", "source_off", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
                         help="Days of background-only data before the run (a second channel).")(f)
        f = click.option("--background-scale", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
                         help="Multiply every background rate of the preset.")(f)
        f = days_option(several=several_days)(f)
        f = distance_option(f)
        f = activity_option(f)
        f = source_option(f)
        return detector_option(f)

    return decorate


def resolved_preset(detector: Any, source: Any, distance: Any, days: float, **options: Any) -> dict[str, Any]:
    """The resolved configuration of a preset command for its outputs' provenance: detector
    (name, file digest), source and activity [Bq], distance [m], days, the default binning's
    edges, and the command's own options."""
    from ganom.fitter.config import resolved_record
    from ganom.models.detectors import load_detector
    from ganom.models.templates import default_binning

    det = load_detector(detector)
    src = load_source(source)
    d = det.source_distance(distance)
    return resolved_record(det, src, d, float(days), default_binning(det, src, d, float(days)), **options)


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
            from ganom.fitter.io import read_json

            obj = read_json(p)
            if isinstance(obj, dict):
                missing = [c for c in model.channels if c not in obj]
                if missing:
                    raise BadInput(f"--data {path}: channels {missing} missing; expected keys {model.channels}")
                arr = np.concatenate([np.asarray(obj[c], dtype=float).ravel() for c in model.channels])
            else:
                arr = np.asarray(obj, dtype=float).ravel()
        elif p.suffix == ".npz":
            z = np.load(p, allow_pickle=False)
            if not z.files:
                raise BadInput(f"--data {path}: the .npz file holds no array; expected {model.n_bins} counts "
                               f"(or one array per channel: {', '.join(model.channels)})")
            arr = np.concatenate([z[c].ravel() for c in model.channels]) if all(c in z for c in model.channels) \
                else z[z.files[0]].ravel()
        else:
            arr = np.load(p, allow_pickle=False).ravel()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"--data {path}: cannot read counts: need numbers, a flat list or {{channel: [counts]}} "
                       f"({type(exc).__name__}: {exc})") from None
    if arr.size == 0:
        raise BadInput(f"--data {path}: the histogram is empty; expected {model.n_bins} bins")
    return model.data(arr)


def _save(fig: Any, path: str) -> None:
    """Write a figure atomically and say so on stderr."""
    from ganom.fitter.io import save_figure

    click.echo(f"wrote {save_figure(fig, path)}", err=True)


# ----------------------------------------------------------------------------- configuration files
def config_option(f: Any) -> Any:
    """``--config FILE``: an analysis configuration (histograms, simulated events) instead of a preset."""
    return click.option("--config", "config_file", default=None, type=click.Path(dir_okay=False),
                        help="Analysis configuration file (TOML/YAML/JSON: your own histograms and events, "
                             "docs/inputs.md) instead of the detector preset options.")(f)


def refuse_with_config(ctx: click.Context, names: Any) -> None:
    """With ``--config``, the preset options given explicitly make no sense: say which."""
    flags = {p.name: max(p.opts, key=len) for p in ctx.command.params}
    given = [flags.get(n, f"--{n}") for n in names
             if ctx.get_parameter_source(n) not in (None, click.core.ParameterSource.DEFAULT)]
    if given:
        raise BadInput(f"--config replaces the detector configuration; drop {', '.join(given)}")


def load_analysis(path: str) -> Any:
    """The :class:`~ganom.fitter.inputs.Analysis` of a configuration file (errors exit 2)."""
    from ganom.fitter.inputs import build_analysis

    return build_analysis(path)


# options that change how a run goes, not what it writes
_RUN_OPTIONS = {"--workers": 1, "--scheduler": 1, "--quiet": 0, "-q": 0, "--json": 0}


def _result_defining(command: str) -> list[str]:
    import shlex

    words, out, skip = shlex.split(command), [], 0
    for w in words:
        if skip:
            skip -= 1
            continue
        name = w.split("=", 1)[0]
        if name in _RUN_OPTIONS:
            skip = _RUN_OPTIONS[name] if "=" not in w else 0
            continue
        out.append(w)
    return out


def _other_run(folder: Path) -> str:
    """The command of another run whose results ``folder`` holds ("" if none)."""
    import json

    from ganom.fitter.io import FolderLock, current_command

    manifest = folder / FolderLock.MANIFEST
    if not (manifest.is_file() and current_command()):
        return ""
    try:
        previous = str(json.loads(manifest.read_text(encoding="utf-8")).get("command", ""))
    except (OSError, ValueError, AttributeError):
        return ""
    return previous if previous and _result_defining(previous) != _result_defining(current_command()) else ""


def output_folder(folder: Any, option: str = "out") -> Path:
    """The folder this command may write to, nothing created. One folder never mixes two
    runs' files: the same command again (up to --workers, --scheduler, --quiet, --json) may
    overwrite or resume its own run; a folder holding another command's results is refused
    when ``--out`` was given, and the default folder gives way to the first free
    ``<name>-2``, ``<name>-3``, ... (said on stderr)."""
    from ganom.fitter.io import FolderLock

    ctx = click.get_current_context()
    folder = base = Path(folder)
    other = _other_run(folder)
    if other and ctx.get_parameter_source(option) == click.core.ParameterSource.DEFAULT:
        k = 2
        while _other_run(folder):
            folder, k = base.with_name(f"{base.name}-{k}"), k + 1
        click.echo(f"{base} holds the results of `{other}`; writing to {folder}", err=True)
    elif other:
        raise BadInput(f"{folder} holds the results of another run (`{other}`, see {folder / FolderLock.MANIFEST}); "
                       f"use another --out, or delete the folder to replace them")
    return folder


def hold_output_folder(folder: Any, option: str = "out") -> Path:
    """Lock the output folder of this command (:func:`output_folder`, then
    :class:`ganom.fitter.io.FolderLock`) and return it: released when the command ends, with
    ``MANIFEST.json`` written last if it succeeded."""
    from ganom.fitter.io import FolderLock

    folder = output_folder(folder, option)
    ctx = click.get_current_context()
    lock = FolderLock(folder).acquire()
    ctx.call_on_close(lock.release)
    ctx.meta.setdefault("ganom.locks", []).append(lock)
    return folder
