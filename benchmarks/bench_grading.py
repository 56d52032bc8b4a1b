"""How many notebooks per minute does `lrcourse grade` get through?  Run by hand:

    .venv/bin/python benchmarks/bench_grading.py [--count 40] [--jobs 2] [--source course|fixture]

It writes ``--count`` submissions into a temporary folder, one lone notebook per learner:
three in four are the solution (every check passes), one in four is the unanswered exercise
(every check fails, with its message).  ``--source course`` (the default) uses
solutions/ex01_step_multistep.ipynb and its generated exercise, so each kernel imports torch
and runs the real checks; ``--source fixture`` uses the small torch-free notebook of the
tests.  The submissions are graded exactly as the command does (``--jobs`` worker processes,
a fresh sandboxed kernel per notebook) and it prints the throughput in notebooks per minute,
with the CPU time per notebook (user + system, all processes), which depends less on what
else the machine is doing than the wall-clock figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path

from lrcourse.grading.assemble import find_sources, nbgrader_meta
from lrcourse.grading.grader import grade_all
from lrcourse.grading.report import write_outputs

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "grading_fixtures" / "source" / "schedules.ipynb"
COURSE = REPO / "solutions" / "ex01_step_multistep.ipynb"
COURSE_EXERCISE = REPO / "exercises" / "ex01_step_multistep.ipynb"


def unanswered(solution: Path) -> str:
    """The solution notebook with every answer cell reduced to ``raise NotImplementedError``,
    keeping the function's first line (what the generated exercise looks like)."""
    nb = json.loads(solution.read_text())
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.get("cell_type") == "code":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            first = text.splitlines()[0] if text else ""
            cell["source"] = first + "\n    raise NotImplementedError()\n"
    return json.dumps(nb)


def make_submissions(folder: Path, count: int, source: Path, exercise: Path | None) -> list[Path]:
    """``count`` lone-notebook submissions: 3 in 4 correct, 1 in 4 unanswered."""
    correct = source.read_text()
    empty = exercise.read_text() if exercise and exercise.exists() else unanswered(source)
    paths = []
    for i in range(count):
        path = folder / f"learner{i:03d}.ipynb"
        path.write_text(empty if i % 4 == 3 else correct)
        paths.append(path)
    return paths


def _cpu_seconds() -> float:
    """User + system time of this process and of every finished process it started."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--source", choices=["course", "fixture"], default="course")
    args = parser.parse_args()
    if args.source == "course" and COURSE.exists():
        source, exercise = COURSE, COURSE_EXERCISE
    else:
        source, exercise = FIXTURE, None
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        subs_dir = tmp / "submissions"
        subs_dir.mkdir()
        subs = make_submissions(subs_dir, args.count, source, exercise)
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        results = grade_all(subs, source, jobs=args.jobs, timeout=args.timeout)
        write_outputs(results, find_sources(source), tmp / "out")
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
    totals = Counter(f"{r.total:g}/{r.max_points:g}" for r in results)
    print(f"source      {source.relative_to(REPO)}")
    print(f"graded      {len(results)} notebooks with --jobs {args.jobs} in {elapsed:.1f} s")
    print(f"throughput  {len(results) / elapsed * 60:.1f} notebooks per minute "
          f"({elapsed / len(results):.2f} s per notebook)")
    print(f"cpu         {cpu / len(results):.2f} s per notebook (user + system)")
    print("scores      " + ", ".join(f"{n} x {score}" for score, n in sorted(totals.items())))


if __name__ == "__main__":
    main()
