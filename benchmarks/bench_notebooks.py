"""How long does each lesson take to run, top to bottom?  Run by hand:

    .venv/bin/python benchmarks/bench_notebooks.py notebooks/11_*.ipynb notebooks/12_*.ipynb

Executes each notebook in a fresh kernel (as nbval and ``scripts/notebooks.py execute`` do;
the stored file is not touched) and prints, per notebook, the wall time and the CPU time of the
kernel and everything it started (subprocesses included), plus the machine's load average.
On a shared machine the wall time depends on the others' load; the CPU time much less, and
the wall time on an idle machine is close to it (the training runs use one thread).  Target:
well under a minute of wall time per lesson on 2 idle cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(path: Path) -> tuple[float, float]:
    nb = nbformat.read(path, as_version=4)
    cpu, start = children_cpu(), time.perf_counter()
    # the kernel is started, run and shut down (reaped) inside execute(), so its CPU time,
    # and that of the processes it waited for, ends up in RUSAGE_CHILDREN
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start, children_cpu() - cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", type=Path, nargs="+")
    args = parser.parse_args(argv)
    print(f"{'notebook':<45} {'wall s':>7} {'CPU s':>7}   load average (1 min) before/after")
    for path in args.notebooks:
        before = os.getloadavg()[0]
        wall, cpu = run(path)
        print(f"{path.name:<45} {wall:7.1f} {cpu:7.1f}   {before:.1f} / {os.getloadavg()[0]:.1f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
