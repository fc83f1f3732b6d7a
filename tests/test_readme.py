"""The README's tour works as written: every command of its bash blocks and every Python
example, run verbatim in a scratch folder holding copies of `examples/` and `workspaces/`.

Commands the README marks as long run with documented options that shorten them (``SHORTER``:
``--quick``, fewer toys, a coarser grid); an address the reader substitutes (a dask scheduler,
a published workspace) gets a local one. Everything else is the README's exact text.
"""

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganom.fitter.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

SHORTER = {  # the README says these take minutes to hours
    "study -d jne-500t -d juno --days 10,30,100 --out my-study": "study -d jne-500t -d juno --days 10,30,100 "
                                                                 "--out my-study --quick",
    "--toys 1000": "--toys 20",
    "--grid 50x50 --toys 1000": "--grid 4x4 --toys 20",
    "--bands 200": "--bands 10 --grid 8x8",
    "--scheduler tcp://host:8786": "--grid 3x3 --toys 10 --scheduler {scheduler}",
}
BKG_ONLY = ROOT / "tests" / "pyhf_corpus" / "atlas_susy_2018_14_displaced_comb_bkgonly.json"


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _commands():
    out = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("ganom "):
                out.append(line)
    return out


def test_the_tour_lists_commands():
    cmds = _commands()
    assert len(cmds) > 25 and all(c.startswith("ganom ") for c in cmds)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", d / "examples", ignore=shutil.ignore_patterns("inputs.root"))
    shutil.copytree(ROOT / "workspaces", d / "workspaces")
    shutil.copy(BKG_ONLY, d / "BkgOnly.json")
    return d


@pytest.mark.slow
def test_every_readme_command_runs(scratch, monkeypatch):
    from dask.distributed import LocalCluster

    monkeypatch.chdir(scratch)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        failures = []
        for cmd in _commands():
            run = cmd
            for long, short in SHORTER.items():
                run = run.replace(long, short.format(scheduler=cluster.scheduler_address))
            r = CliRunner().invoke(main, shlex.split(run)[1:])
            if r.exit_code != 0:
                failures.append((run, r.exit_code, r.output[-500:]))
    assert not failures, failures
    assert (scratch / "ganom-study" / "report.md").is_file() and (scratch / "my-study" / "report.md").is_file()
    assert (scratch / "ws" / "INDEX.md").is_file() and (scratch / "fit.png").is_file()


@pytest.mark.slow
def test_every_readme_python_example_runs(scratch, monkeypatch):
    monkeypatch.chdir(scratch)
    blocks = _blocks("python")
    assert len(blocks) >= 3
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert (scratch / "baseline.png").is_file()
    assert os.path.getsize(scratch / "baseline.png") > 0
