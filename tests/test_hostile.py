"""Hostile input through the CLI: exit code 2, a message naming the field, no traceback, no
file written (issue: reliability)."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ganom.fitter.cli import main

PRESET = (Path(__file__).resolve().parents[1] / "models" / "catalog" / "jne_1t.toml").read_text()


def _files(tmp: Path) -> None:
    (tmp / "nonutf8.toml").write_bytes(b'name = "\xff\xfe"\n')
    np.savez(tmp / "empty.npz")
    (tmp / "dict.json").write_text(json.dumps({"source_on": {"a": 1}}))
    (tmp / "list.json").write_text("[]")
    (tmp / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp / "target.json").write_text("{}")
    (tmp / "str.json").write_text(json.dumps(str(tmp / "target.json")))
    (tmp / "existing").write_text("x")
    ws = {"channels": [{"name": "c", "samples": [{"name": "s", "data": [1.0], "modifiers": [
        {"name": "mu", "type": "normfactor", "data": None}]}]}], "observations": [{"name": "c", "data": [1.0]}],
        "measurements": [{"name": "m", "config": {"poi": "nu", "parameters": []}}], "version": "1.0.0"}
    (tmp / "poi.json").write_text(json.dumps(ws))
    ws["measurements"][0]["config"]["poi"] = "mu"
    ws["channels"][0]["samples"][0]["modifiers"].append({"name": "st", "type": "staterror", "data": [float("nan")]})
    (tmp / "nan.json").write_text(json.dumps(ws))
    (tmp / "ck").mkdir()
    (tmp / "ck" / "fc_checkpoint.npz").write_bytes(b"")
    (tmp / "src_key.toml").write_text('[source]\npreset = "cr51"\nactivty = "3MCi"\n')
    (tmp / "src_table.toml").write_text('[source]\npreset = "cr51"\n[sorce]\nx = 1\n')
    (tmp / "src_branch.toml").write_text('[source]\npreset = "cr51"\n'
                                         'lines = [{energy_mev = 0.75, intensity = 1.0, branch = "exited"}]\n')
    variants = {
        "typo_table.toml": PRESET.replace("[source_positions]", "[source_positon]"),
        "radius.toml": PRESET.replace("radius_m = 0.645", "radius_m = 1e300", 1),
        "overburden.toml": PRESET.replace("overburden_mwe = 6700", "overburden_mwe = -1"),
        "an_str.toml": PRESET.replace("[analysis]\n", '[analysis]\nenergy_bin_mev = "0.02"\n'),
        "an_key.toml": PRESET.replace("[analysis]\n", "[analysis]\ntime_binz = 3\n"),
        "bk_typo.toml": PRESET.replace("[backgrounds.c14]\n", "[backgrounds.c14]\nuncertanty = 0.1\n"),
        "bk_enabled.toml": PRESET + '\n[backgrounds.source_gamma]\nenabled = "no"\nrate_per_day = 1.0\n',
        "bk_components.toml": PRESET.replace('components = ["pp", "be7", "pep", "cno", "b8"]', "components = 5"),
        "bk_gamma.toml": PRESET.replace("gamma_mev = 2.614", "gamma_mev = 1e300"),
    }
    for name, text in variants.items():
        (tmp / name).write_text(text)


CASES = [
    (["rates", "-d", "jne-1t", "--source", "src_key.toml"], ["source.activty", "unknown"]),
    (["rates", "-d", "jne-1t", "--source", "src_table.toml"], ["sorce", "unknown"]),
    (["rates", "-d", "jne-1t", "--source", "src_branch.toml"], ["branch", "exited"]),
    (["rates", "-d", "nonutf8.toml"], ["nonutf8.toml", "UTF-8"]),
    (["fit", "-d", "jne-1t", "--data", "empty.npz"], ["--data", "no array"]),
    (["fit", "-d", "jne-1t", "--data", "dict.json"], ["--data", "dict.json"]),
    (["validate", "list.json"], ["list.json", "JSON array"]),
    (["validate", "deep.json"], ["deep.json", "nested too deeply"]),
    (["fit", "-d", "jne-1t", "--data", "deep.json"], ["--data deep.json", "nested too deeply"]),
    (["validate", "str.json"], ["str.json", "JSON string"]),
    (["validate", "poi.json"], ["poi.json: measurements[0].config.poi", "'nu'"]),
    (["validate", "nan.json"], ["nan.json: channels[0].samples[0].modifiers[1]", "NaN"]),
    (["contour", "-d", "jne-1t", "--grid", "3x3", "--out", "existing"], ["existing"]),
    (["fit", "-d", "typo_table.toml"], ["source_positon", "unknown"]),
    (["fit", "-d", "radius.toml"], ["target.radius_m", "100"]),
    (["fit", "-d", "overburden.toml"], ["overburden_mwe", "≥ 0"]),
    (["fit", "-d", "an_str.toml"], ["analysis.energy_bin_mev", "number"]),
    (["fit", "-d", "an_key.toml"], ["analysis.time_binz", "unknown"]),
    (["fit", "-d", "bk_typo.toml"], ["backgrounds.c14.uncertanty", "unknown"]),
    (["fit", "-d", "bk_enabled.toml"], ["backgrounds.source_gamma.enabled", "true or false"]),
    (["fit", "-d", "bk_components.toml"], ["backgrounds.solar.components", "list"]),
    (["fit", "-d", "bk_gamma.toml"], ["backgrounds.external.gamma_mev", "20"]),
    (["contour", "-d", "jne-1t", "--grid", "100000x100000", "--out", "c1"], ["grid 100000x100000", "memory",
                                                                             "GANOM_IGNORE_RESOURCE_LIMITS"]),
    (["gallium", "--contour", "--grid", "100000x100000"], ["grid 100000x100000", "memory"]),
    (["fit", "-d", "jne-1t", "--days", "1e9"], ["time", "days = 1e+09", "memory"]),
    (["significance", "-d", "jne-1t", "--toys", "1000000000"], ["1000000000 toys", "memory"]),
    (["contour", "-d", "jne-1t", "--grid", "3x3", "-m", "fc", "--toys", "1000000000", "--out", "c2"],
     ["1000000000 toys per grid point", "memory"]),
    (["export", "-d", "jne-1t", "--patchset", "--grid", "3000x3000", "--out", "ex"], ["patchset of 3000x3000", "memory"]),
    (["contour", "-d", "jne-1t", "--grid", "3x3", "-m", "fc", "--toys", "20", "--out", "ck"], ["checkpoint", "delete it"]),
]


@pytest.mark.parametrize("args, words", CASES, ids=[" ".join(a[:3]) + " " + a[-1] for a, _ in CASES])
def test_hostile_input_is_a_clean_error(tmp_path, monkeypatch, args, words):
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    for w in words:
        assert w in r.output, (w, r.output)
    after = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert after == before  # nothing written, nothing clobbered


def test_output_folder_lock(tmp_path):
    """A second run into a folder that a live process holds is refused; a stale lock (its
    process gone) is taken over; the lock is released when the run ends."""
    import subprocess
    import sys

    from ganom.fitter.io import FolderLock

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out = tmp_path / "out"
        out.mkdir()
        (out / FolderLock.NAME).write_text(f"{holder.pid}\n")
        r = CliRunner().invoke(main, ["contour", "-d", "jne-1t", "--grid", "3x3", "--out", str(out)])
        assert r.exit_code == 2 and f"pid {holder.pid}" in r.output, r.output
        assert sorted(p.name for p in out.iterdir()) == [FolderLock.NAME]
    finally:
        holder.kill()
        holder.wait()
    r = CliRunner().invoke(main, ["contour", "-d", "jne-1t", "--grid", "3x3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert not (out / FolderLock.NAME).exists() and (out / "contours.png").is_file()
    import hashlib

    manifest = json.loads((out / FolderLock.MANIFEST).read_text())
    assert manifest["complete"] and set(manifest["files"]) == {p.name for p in out.iterdir()} - {FolderLock.MANIFEST}
    for name, rec in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == rec["sha256"]


def _children(pid):
    import subprocess

    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid):
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for_checkpoint(path, proc, timeout=120.0):
    import time

    t0 = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() - t0 < timeout, "no checkpoint within the timeout"
        time.sleep(0.2)


FC_ARGS = ["contour", "-d", "jne-500t", "--grid", "10x10", "-m", "fc", "--toys", "300", "--workers", "2"]


def _ganom():
    import shutil
    import sys

    exe = shutil.which("ganom")
    return [exe] if exe else [sys.executable, "-c", "from ganom.fitter.cli import main; main()"]


@pytest.fixture(scope="module")
def fc_reference(tmp_path_factory):
    import subprocess

    out = tmp_path_factory.mktemp("fc_ref")
    ref = subprocess.run(_ganom() + FC_ARGS + ["--out", str(out)], capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]
    return (out / "contour_fc.json").read_bytes()


def _results(raw):
    """A result file without the command line its provenance quotes (each run has its own --out)."""
    doc = json.loads(raw)
    doc["provenance"].pop("command")
    return doc


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_fc_stops_promptly_on_a_signal_and_resumes_identically(tmp_path, sig, fc_reference):
    """SIGINT or SIGTERM to the main process only: the FC run stops within seconds (not after
    its queue), saves its checkpoint, ends its workers and exits 130; the same command then
    resumes and writes the same map as an uninterrupted run."""
    import signal
    import subprocess
    import time

    out = tmp_path / "run"
    proc = subprocess.Popen(_ganom() + FC_ARGS + ["--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _wait_for_checkpoint(out / "fc_checkpoint.npz", proc)
    kids = _children(proc.pid)
    proc.send_signal(getattr(signal, sig))
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 20, "the run did not stop promptly"
    assert proc.returncode == 130, err[-2000:]
    assert "resume" in err and "Traceback" not in err
    assert not (out / "MANIFEST.json").exists()  # the folder says it is not finished
    time.sleep(2.0)
    assert not [k for k in kids if _alive(k)], "worker processes outlived the run"
    again = subprocess.run(_ganom() + FC_ARGS + ["--out", str(out)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _results((out / "contour_fc.json").read_bytes()) == _results(fc_reference)
    assert "contour_fc.json" in json.loads((out / "MANIFEST.json").read_text())["files"]


@pytest.mark.slow
def test_workers_end_when_the_main_process_is_killed(tmp_path):
    import subprocess
    import time

    out = tmp_path / "run"
    proc = subprocess.Popen(_ganom() + FC_ARGS + ["--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_for_checkpoint(out / "fc_checkpoint.npz", proc)
    kids = _children(proc.pid)
    assert kids
    proc.kill()
    proc.wait()
    t0 = time.monotonic()
    while [k for k in kids if _alive(k)] and time.monotonic() - t0 < 15:
        time.sleep(0.5)
    assert not [k for k in kids if _alive(k)], "orphaned workers kept running after SIGKILL of the main process"


def test_a_full_disk_loses_nothing_already_written(tmp_path, monkeypatch):
    """ENOSPC in the middle of writing: every earlier file keeps its content, no temporary
    file is left, and the command exits 2 saying so."""
    import errno

    import ganom.fitter.io as gio

    out = tmp_path / "ws"
    first = CliRunner().invoke(main, ["export", "-d", "jne-1t", "--days", "10", "--out", str(out)])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert before

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gio.os, "fsync", full)
    r = CliRunner().invoke(main, ["export", "-d", "jne-1t", "--days", "10", "--out", str(out)])
    assert r.exit_code == 2 and "No space left on device" in r.output, r.output
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before


@pytest.mark.parametrize("args", [["--data", "zeros.npy"], ["--activity", "1Bq"]])
def test_degenerate_fits_say_why_and_keep_json_valid(tmp_path, args):
    """A real process: Minuit's own C++ messages must not reach stdout."""
    import subprocess

    from ganom.fitter.config import build_configuration

    np.save(tmp_path / "zeros.npy", np.zeros(build_configuration("jne-1t", "cr51", "centre", 30)[1].n_bins))
    r = subprocess.run(_ganom() + ["fit", "-d", "jne-1t", "--days", "30", "--json"] + args, capture_output=True,
                       text=True, cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    rec = json.loads(r.stdout)
    assert rec["valid"] is False and rec["message"]
    assert "not valid" in r.stderr and "Traceback" not in r.stderr


def test_papercuts():
    """`ganom` alone shows the help and succeeds; a milli-Curie source is not printed as 0.00;
    errors show numbers, not numpy reprs."""
    from ganom.exceptions import PhysicsInputError

    r = CliRunner().invoke(main, [])
    assert r.exit_code == 0 and "Commands:" in r.output
    r = CliRunner().invoke(main, ["rates", "-d", "jne-1t", "--activity", "3mCi"])
    assert r.exit_code == 0 and "e-0" in r.output, r.output
    assert "array(" not in str(PhysicsInputError("x", np.array(1.5), "y"))
    r = CliRunner().invoke(main, ["significance", "-d", "jne-1t", "--toys", "20"])  # the bands it promises
    assert r.exit_code == 0 and r.output.count("68 % in [") == 2 and "95 % in [" in r.output, r.output
    for name in ("contour", "study"):  # one --workers, one default: every core
        help_text = CliRunner().invoke(main, [name, "--help"]).output
        assert "[default: every core]" in " ".join(help_text.split()), name


def test_one_folder_never_mixes_two_runs(tmp_path, monkeypatch):
    """The same command may rerun into its folder (up to --workers); another command is refused
    when --out names the folder, and the default folder gives way to <name>-2."""
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke
    assert run(main, ["contour", "-d", "jne-1t", "--grid", "3x3", "--out", "x"]).exit_code == 0
    assert run(main, ["contour", "-d", "jne-1t", "--grid", "3x3", "--out", "x", "--workers", "1"]).exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "x").iterdir()}
    r = run(main, ["contour", "-d", "jne-1t", "--grid", "4x4", "--out", "x"])
    assert r.exit_code == 2 and "holds the results of another run" in r.output, r.output
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "x").iterdir()} == before
    assert run(main, ["contour", "-d", "jne-1t", "--grid", "3x3"]).exit_code == 0
    r = run(main, ["contour", "-d", "jne-1t", "--grid", "4x4"])
    assert r.exit_code == 0 and "writing to ganom-output/contour-2" in r.output, r.output
    assert (tmp_path / "ganom-output" / "contour-2" / "MANIFEST.json").is_file()
