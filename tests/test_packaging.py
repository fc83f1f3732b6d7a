"""The wheel installs one import package, ``ganom``, and nothing else at the top level of
site-packages: PyPI's unrelated ``fitter`` installs beside it without breaking either."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    res = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT))
    assert res.returncode == 0, res.stderr[-3000:]
    return next(out.glob("ganom-*.whl"))


def test_wheel_has_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"ganom"}, top
    for must in ("ganom/py.typed", "ganom/models/catalog/juno.toml", "ganom/fitter/hf/model.py",
                 "ganom/fitter/cli/__init__.py"):
        assert must in names, must
    packaged = {n.rsplit("/", 1)[0] for n in names if n.endswith("__init__.py")}
    source = {("ganom/" + str(p.parent.relative_to(ROOT))).replace("ganom/src/ganom", "ganom")
              for d in ("models", "fitter", "src/ganom") for p in (ROOT / d).rglob("__init__.py")}
    assert source <= packaged, f"packages missing from the wheel: {sorted(source - packaged)}"


@pytest.mark.slow
def test_wheel_beside_pypi_fitter(wheel: Path, tmp_path: Path) -> None:
    """A fresh venv with the wheel and PyPI's ``fitter`` (ganom's dependencies come from this
    environment through a .pth file; fitter's own, such as pandas and joblib, from PyPI)."""
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", str(venv)).returncode == 0
    py = venv / "bin" / "python"
    site = Path(_run(str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for args in (("--no-deps", str(wheel)), ("fitter",)):
        res = _run(str(py), "-m", "pip", "install", "-q", *args)
        assert res.returncode == 0, res.stderr[-2000:]
    assert (site / "fitter" / "fitter.py").exists(), "PyPI's fitter did not install where expected"
    res = _run(str(py), "-c", "import ganom, fitter; import ganom.fitter.hf; "
               "print(ganom.__version__, fitter.__file__, ganom.fitter.hf.__file__)", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "/fitter/__init__.py" in res.stdout and "/ganom/fitter/hf/__init__.py" in res.stdout
    res = _run(str(venv / "bin" / "ganom"), "--help", cwd=tmp_path)
    assert res.returncode == 0 and "study" in res.stdout, res.stderr[-2000:]
    # a user folder named models/ or fitter/ does not shadow ganom's
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("raise ImportError('the user folder was imported')\n")
    res = _run(str(py), "-c", "import ganom.models.xsec as x; print(x.sigma(0.7467, 0.2))", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
