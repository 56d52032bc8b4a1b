"""How many notebooks per minute does `lrcourse grade` get through, against the old design?

    .venv/bin/python benchmarks/bench_grading.py [--count 40] [--jobs 2] [--exercise ex01]
                                                 [--design both|sandbox|kernel]

It writes ``--count`` submissions of one course exercise into a temporary folder, one lone
notebook per learner: three in four are the solution (every check passes), one in four is
the released exercise (every check fails, with its message).  Then it grades them, in one run:

* ``kernel``: the design before issue 11 (benchmarks/legacy_grading/: a Jupyter kernel per
  notebook that imports torch and runs the test cells itself; kept only for this comparison);
* ``sandbox``: ``lrcourse grade`` as shipped (bubblewrap sandbox per notebook running only the
  learner's cells and the checks' probes; expected values computed once in the grader).

CPU time counts every process of the run: the grader's and its workers' from this process's
rusage, the sandboxes' as each runner reports it when it ends (their CPU time does not reach
the grader's rusage: bubblewrap's init is not waited for by its parent).

For each it prints the wall-clock throughput in notebooks per minute, the CPU time per
notebook (user + system, all processes: less sensitive to other load on the machine), and,
for the sandbox design, how much of the run was start-up (expected values, calibration).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent


def make_submissions(folder: Path, count: int, exercise: str) -> tuple[list[Path], Path]:
    """``count`` lone-notebook submissions: 3 in 4 the solution, 1 in 4 the exercise."""
    source = next((REPO / "solutions").glob(f"{exercise}_*.ipynb"))
    released = REPO / "exercises" / source.name
    paths = []
    for i in range(count):
        path = folder / f"learner{i:03d}.ipynb"
        path.write_bytes((released if i % 4 == 3 else source).read_bytes())
        paths.append(path)
    return paths, source


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def run_kernel_design(subs, source, jobs, timeout):
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH),
                                                             os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, str(BENCH))
    from legacy_grading import grade_all

    results = grade_all(subs, source, jobs=jobs, timeout=timeout)
    return Counter(f"{r.total:g}/{r.max_points:g}" for r in results), {"extra_cpu": 0.0}


def run_sandbox_design(subs, source, jobs, timeout):
    from lrcourse.grading import grade_all

    marks = {}
    start = time.perf_counter()

    def total(n):
        marks["startup"] = time.perf_counter() - start

    run = grade_all(subs, source, secret=b"benchmark-secret-0123456789", jobs=jobs,
                    timeout=timeout, on_total=total)
    # The sandboxes' own CPU time does not reach this process's rusage (bubblewrap's init is
    # not reaped by its parent): each runner reports it before it ends.
    marks["extra_cpu"] = run.sandbox_cpu_seconds
    return Counter(f"{r.total:g}/{r.max_points:g}" for r in run.learners), marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--exercise", default="ex01", help="ex01 .. ex07")
    parser.add_argument("--design", choices=["both", "sandbox", "kernel"], default="both")
    args = parser.parse_args()
    designs = ["kernel", "sandbox"] if args.design == "both" else [args.design]
    figures = {}
    for design in designs:
        with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
            subs_dir = Path(tmp) / "submissions"
            subs_dir.mkdir()
            subs, source = make_submissions(subs_dir, args.count, args.exercise)
            cpu_before = _cpu_seconds()
            start = time.perf_counter()
            runner = run_kernel_design if design == "kernel" else run_sandbox_design
            scores, marks = runner(subs, source, args.jobs, args.timeout)
            elapsed = time.perf_counter() - start
            cpu = _cpu_seconds() - cpu_before + marks["extra_cpu"]
        per_min = len(subs) / elapsed * 60
        figures[design] = per_min
        print(f"[{design}] {source.relative_to(REPO)}: {len(subs)} notebooks, --jobs {args.jobs}")
        print(f"  wall        {elapsed:.1f} s: {per_min:.1f} notebooks per minute "
              f"({elapsed / len(subs):.2f} s per notebook)")
        print(f"  cpu         {cpu / len(subs):.2f} s per notebook (user + system, all "
              "processes)")
        if "startup" in marks:
            steady = elapsed - marks["startup"]
            print(f"  start-up    {marks['startup']:.1f} s (workers, expected values with "
                  f"torch and calibration, overlapped); then {len(subs) / steady * 60:.1f} "
                  "notebooks per minute")
        print("  scores      " + ", ".join(f"{n} x {s}" for s, n in sorted(scores.items())))
    if len(figures) == 2:
        print(f"speed-up      {figures['sandbox'] / figures['kernel']:.1f}x "
              "(sandbox over kernel, wall clock)")
    print(f"load average  {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (other load slows both designs)")


if __name__ == "__main__":
    main()
