"""How long does a learner wait for the figure after moving a slider?  Run by hand:

    .venv/bin/python benchmarks/bench_browser.py [--moves 100] [--notebook 02_step_multistep.ipynb]

Starts ./course lab and headless Chromium exactly as the browser tests do (the code is
tests/e2e/jupyter_browser.py), opens each lesson, runs it, and presses the arrow keys on one
slider ``--moves`` times, back and forth.  Each move is timed in the page: from the keydown
event to the ``load`` event of the explorer's new figure (the kernel received the value,
recomputed the curve, re-rendered the PNG, sent it back, and the browser decoded it).
Prints the median, p95 and maximum per slider and over all moves.  Target: p95 under 150 ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TARGET_P95_MS = 150.0


def _load(name: str, path: Path):
    """Import a module from a file (tests/e2e is a pytest directory, not a package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


jb = _load("jupyter_browser", HERE.parent / "tests" / "e2e" / "jupyter_browser.py")

# (notebook, slider): one slider per lesson that the browser tests open; arrows move it by one
# step of the slider, back and forth.
CASES = [
    ("02_step_multistep.ipynb", "step_size"),
    ("04_cosine_annealing.ipynb", "T_max"),
    ("06_cyclic_onecycle.ipynb", "step_size_up"),
    ("07_reduce_on_plateau.ipynb", "patience"),
    ("00_index.ipynb", "lr"),
]


def stats(ms: list[float]) -> str:
    a = np.asarray(ms)
    return (f"median {np.median(a):6.1f} ms   p95 {np.percentile(a, 95):6.1f} ms   "
            f"max {a.max():6.1f} ms   (n={a.size})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=100, help="moves per slider (100)")
    parser.add_argument("--notebook", action="append",
                        help="only this notebook (repeatable); default: all of CASES")
    args = parser.parse_args()
    reason = jb.chromium_missing_reason()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    cases = [(nb, s) for nb, s in CASES if not args.notebook or nb in args.notebook]
    cases = [(nb, s) for nb, s in cases if (jb.NOTEBOOKS / nb).exists()]

    from playwright.sync_api import sync_playwright

    all_ms: list[float] = []
    start = time.monotonic()
    with jb.JupyterLab() as lab, sync_playwright() as playwright:
        browser = jb.launch_chromium(playwright)
        try:
            for notebook, slider in cases:
                context = browser.new_context(viewport={"width": 1280, "height": 1000})
                try:
                    lab_page = jb.LabPage(context.new_page(), lab, f"notebooks/{notebook}")
                    lab_page.open()
                    lab_page.run_all()
                    lab_page.check_explorers()
                    ms = jb.time_moves(lab_page, jb.Move(slider), args.moves)
                finally:
                    context.close()
                    lab.shutdown_kernels()
                all_ms += ms
                print(f"{notebook:32s} {slider:14s} {stats(ms)}", flush=True)
        finally:
            browser.close()
    p95 = float(np.percentile(all_ms, 95))
    print(f"{'all moves':47s} {stats(all_ms)}")
    verdict = "meets" if p95 < TARGET_P95_MS else "MISSES"
    print(f"p95 {p95:.1f} ms {verdict} the target of {TARGET_P95_MS:.0f} ms "
          f"({time.monotonic() - start:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
