"""The README's main job, ``ganom study --quick``, timed as a user runs it (issue: speed, goal
≤ 15 s on an idle 2-core machine).

    python benchmarks/bench_study.py [--repeat 3] [--detector jne-500t]

(a) reference, measured in the same run: the sections one after the other (``--workers 1``);
(b) the default: independent sections side by side on every core (``--workers`` default).
Each is a fresh process (imports included), best of ``--repeat``. Prints both wall times,
the ratio (a)/(b), the step times of (b) from its report, and whether every JSON and table
of (b) is byte-identical to (a)'s (results must not depend on the workers).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(out: Path, extra: list[str], detector: str | None) -> float:
    cmd = [sys.executable, "-c", "from ganom.fitter.cli import main; main()", "study", "--quick", "--quiet",
           "--out", str(out)]
    cmd += (["-d", detector] if detector else []) + extra
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _without_command(path: Path) -> list[str]:
    """The file's lines without the provenance's command line, which names --workers and --out."""
    return [line for line in path.read_text().splitlines() if '"command":' not in line and "#   command:" not in line]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--detector", default=None, help="default: the bundled default detector")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        ta = min(run(root / f"a{i}", ["--workers", "1"], args.detector) for i in range(args.repeat))
        tb = min(run(root / f"b{i}", [], args.detector) for i in range(args.repeat))
        a, b = root / "a0", root / "b0"
        results = sorted(p.relative_to(a) for p in a.rglob("*") if p.suffix in (".json", ".yaml", ".md")
                         and p.name not in ("report.md", "MANIFEST.json"))
        same = [_without_command(a / p) == _without_command(b / p) for p in results]
        report = (b / "report.md").read_text().split("## Run time", 1)[-1]
    print(f"ganom study --quick on {os.cpu_count()} cores, best of {args.repeat}:")
    print(f"(a) sections one after the other (--workers 1)   {ta:6.1f} s")
    print(f"(b) sections side by side (default --workers)     {tb:6.1f} s")
    print(f"ratio (a)/(b) = {ta / tb:.2f}; goal ≤ 15 s on an idle 2-core machine: {'met' if tb <= 15 else 'NOT met'}")
    print(f"{sum(same)} of {len(same)} result files byte-identical between (a) and (b)")
    print("step times of (b):" + report.rstrip())


if __name__ == "__main__":
    main()
