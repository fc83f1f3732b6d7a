"""The ``ganom`` command line.

Every command prints a readable table by default and JSON with ``--json`` (a result with its
``provenance``; a list of records as ``{"provenance", "records"}``). Exit
codes: 0 success; 2 bad input (a negative activity, an unknown preset, a malformed TOML, ...:
a one-line message naming the field, the value and the allowed range); 3 a fit that did not
reach a valid minimum (the message says which fit and why).

Commands live in one module per topic and are registered here, explicitly, in the order
``ganom --help`` lists them.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

import click

from ganom.exceptions import FitError, InputError
from ganom.fitter.cli.branching import br_cmd
from ganom.fitter.cli.common import BadInput, FitFailed
from ganom.fitter.cli.contour import contour_cmd
from ganom.fitter.cli.gallium import discriminate_cmd, gallium_cmd
from ganom.fitter.cli.inputs import build_cmd, simulate_cmd
from ganom.fitter.cli.likelihood import compare_cmd, fit_cmd, significance_cmd
from ganom.fitter.cli.optimize import optimize_cmd
from ganom.fitter.cli.pyhf import export_cmd, patch_cmd, validate_cmd
from ganom.fitter.cli.rates import detectors, rates
from ganom.fitter.cli.study import study_cmd

__all__ = ["main"]


class _Group(click.Group):
    """Turns library exceptions into exit codes: InputError → 2 (and OSError: an output path that
    cannot be written, a full disk), FitError → 3."""

    def invoke(self, ctx: click.Context) -> Any:
        from ganom.fitter.io import set_command

        argv = ["ganom", *getattr(ctx, "_protected_args", []), *ctx.args]
        set_command(argv)
        try:
            out = super().invoke(ctx)
            for lock in ctx.meta.get("ganom.locks", []):
                lock.complete(shlex.join(argv))
            return out
        except InputError as exc:
            raise BadInput(str(exc)) from None
        except FitError as exc:
            raise FitFailed(str(exc)) from None
        except KeyboardInterrupt as exc:  # SIGINT or SIGTERM: say what was kept, exit 130
            click.echo(f"Interrupted: {exc}" if str(exc) else "Interrupted.", err=True)
            ctx.exit(130)
        except OSError as exc:  # an output path that is a file, unwritable, or a full disk
            where = f" '{exc.filename}'" if exc.filename else ""
            raise BadInput(f"cannot write or read{where}: {exc.strerror or exc}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(package_name="ganom")
@click.pass_context
def main(ctx: click.Context) -> None:
    """ganom: source-based sterile-neutrino and gallium-anomaly fits.

    Count ν–e elastic scatters from an intense ⁵¹Cr (or ³⁷Ar) source next to a liquid-
    scintillator detector; build binned likelihoods, fit them, and compare detectors.
    Detector arguments take a preset name (see `ganom detectors`) or a TOML file.
    """
    if ctx.invoked_subcommand is None:  # `ganom` alone: the help, and success
        click.echo(ctx.get_help())
        ctx.exit(0)


COMMANDS = (
    study_cmd, rates, detectors, fit_cmd, significance_cmd, compare_cmd, optimize_cmd, contour_cmd,
    gallium_cmd, discriminate_cmd, br_cmd, build_cmd, simulate_cmd, export_cmd, patch_cmd, validate_cmd,
)
def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from ganom.progress import set_quiet

        set_quiet(True)


for _command in COMMANDS:
    _command.params.append(click.Option(["--quiet", "-q"], is_flag=True, expose_value=False, is_eager=True,
                                        callback=_quiet, help="No progress bars (also: GANOM_QUIET=1; none "
                                                              "are drawn when stderr is not a terminal)."))
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
