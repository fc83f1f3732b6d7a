"""Progress bars: on stderr, only on a terminal, off with --quiet or GANOM_QUIET=1 (issue: UX)."""

import io
import sys

import pytest
from click.testing import CliRunner

from ganom.fitter.cli import main
from ganom.progress import QUIET_ENV, is_quiet, progress, set_quiet


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def terminal(monkeypatch):
    """Installs a terminal as stderr (inside the test: pytest's capture replaces stderr after
    fixtures run)."""
    set_quiet(False)
    monkeypatch.delenv(QUIET_ENV, raising=False)

    def install():
        err = _Terminal()
        monkeypatch.setattr(sys, "stderr", err)
        return err

    yield install
    set_quiet(False)


def _run(n=4):
    with progress(n, "points", "pt") as bar:
        for _ in range(n):
            bar.update(1)
    return bar


def test_a_bar_is_drawn_on_a_terminal(terminal):
    err = terminal()
    assert _run().n == 4
    assert "points" in err.getvalue() and "0/4" in err.getvalue()


def test_no_bar_when_quiet_or_not_a_terminal_or_not_asked(terminal, monkeypatch):
    err = terminal()
    set_quiet(True)
    _run()
    set_quiet(False)
    monkeypatch.setenv(QUIET_ENV, "1")
    assert is_quiet()
    _run()
    monkeypatch.delenv(QUIET_ENV)
    with progress(3, "points", enabled=False) as bar:
        bar.update(3)
    assert err.getvalue() == ""
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a log file or a pipe
    _run()
    assert sys.stderr.getvalue() == ""


def test_every_command_takes_quiet(terminal):
    for name, command in main.commands.items():
        assert any("--quiet" in getattr(p, "opts", []) for p in command.params), name
    r = CliRunner().invoke(main, ["rates", "-d", "jne-1t", "--quiet"])
    assert r.exit_code == 0, r.output
    assert is_quiet()
