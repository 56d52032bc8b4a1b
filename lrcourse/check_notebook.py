"""``./course check NOTEBOOK...`` (``lrcourse check``): run an exercise notebook's checks from
the command line and say which pass.

The notebook is run top to bottom in a fresh kernel, from its own folder, as *Run All* does in
JupyterLab, except that a failing cell does not stop the run: every check is tried.  The file is
only read; save your notebook first (the command checks what is on disk).  For each check cell
(nbgrader's ``grade: true``), in order, the report gives the exercise's heading and either what
the check printed or its message (with the lines of *your* code first when your code raised)::

    exercises/ex01_step_multistep.ipynb: running 2 checks in a fresh kernel...
      passed   1a · StepLR (2 points)
               step_lr: all public checks passed
      FAILED   1b · MultiStepLR (2 points)
               CheckFailed: multistep_lr is not implemented yet: replace ...
    exercises/ex01_step_multistep.ipynb: 1 of 2 checks passed (2 of 4 points)

A cell outside the checks that raises (a typo in your answer) is reported where it happens.
The exit status is 0 when every check of every notebook passed, 1 otherwise, 2 when a notebook
cannot be read.  The plots a failing check draws are shown in JupyterLab, not here.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["CheckResult", "NotebookResult", "check_notebook", "configure_parser", "run"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
INDENT = " " * 11


@dataclass
class CheckResult:
    label: str              # the exercise's heading, e.g. "1a · StepLR (2 points)"
    grade_id: str
    points: float
    status: str             # "passed", "failed" (CheckFailed) or "error" (anything else)
    text: str               # what it printed, or the message / traceback


@dataclass
class NotebookResult:
    path: str
    checks: list[CheckResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # errors outside the check cells

    @property
    def passed(self) -> int:
        return sum(c.status == "passed" for c in self.checks)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and self.passed == len(self.checks) and not self.problems

    def summary(self) -> str:
        if not self.checks:
            return f"{self.path}: no checks in this notebook (no cell graded by nbgrader)"
        earned = sum(c.points for c in self.checks if c.status == "passed")
        total = sum(c.points for c in self.checks)
        count = len(self.checks)
        return (f"{self.path}: {self.passed} of {count} check{'s' * (count != 1)} passed "
                f"({_number(earned)} of {_number(total)} point{'s' * (total != 1)})")


def _number(x: float) -> str:
    return f"{x:g}"


def _grading(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _heading(source: str) -> str | None:
    for line in source.splitlines():
        if line.lstrip().startswith("#"):
            return line.strip().lstrip("#").strip()
    return None


def _error_text(output, color: bool) -> str:
    text = "\n".join(output.get("traceback") or []) or f"{output.ename}: {output.evalue}"
    return text if color else _ANSI.sub("", text)


def _stream_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream" and o.get("name") == "stdout").rstrip()


def _indent(text: str) -> str:
    return "\n".join(INDENT + line if line else "" for line in text.splitlines())


def check_notebook(path: str | Path, *, timeout: float = 300.0, color: bool = False,
                   out=sys.stdout) -> NotebookResult:
    """Run the notebook at ``path`` in a fresh kernel and report each check cell to ``out``
    as it finishes.  Raises ``OSError``/``nbformat`` errors when it cannot be read."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    result = NotebookResult(str(path))
    labels: dict[int, str] = {}
    heading = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            heading = _heading(cell.source) or heading
        elif _grading(cell).get("grade"):
            label = heading or _grading(cell).get("grade_id", f"cell {index + 1}")
            points = float(_grading(cell).get("points", 0) or 0)
            if "point" not in label:
                label += f" ({_number(points)} point{'s' * (points != 1)})"
            labels[index] = label
    count = len(labels)
    print(f"{path}: running {count} check{'s' * (count != 1)} in a fresh kernel...",
          file=out, flush=True)

    def executed(cell, cell_index, execute_reply, **_):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        meta = _grading(cell)
        if cell_index in labels:
            if not errors:
                status, text = "passed", _stream_text(cell)
            else:
                status = "failed" if errors[0].ename == "CheckFailed" else "error"
                text = _error_text(errors[0], color)
            check = CheckResult(labels[cell_index], meta.get("grade_id", ""),
                                float(meta.get("points", 0) or 0), status, text)
            result.checks.append(check)
            mark = {"passed": "passed", "failed": "FAILED", "error": "ERROR"}[status]
            print(f"  {mark:<8} {check.label}", file=out)
            if text:
                print(_indent(text), file=out)
        elif errors:
            where = f"cell {cell_index + 1}"
            if meta.get("solution"):
                where += f" (your answer, {meta.get('grade_id', '')})"
            result.problems.append(where)
            print(f"  {'ERROR':<8} {where} raised an error:", file=out)
            print(_indent(_error_text(errors[0], color)), file=out)
        out.flush()

    client = NotebookClient(
        nb, timeout=timeout, interrupt_on_timeout=True, allow_errors=True,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        on_cell_executed=executed,
        resources={"metadata": {"path": str(path.parent.resolve())}})
    # The kernel's own stderr (start-up warnings) is kept out of the report unless it dies.
    with tempfile.TemporaryFile("w+") as kernel_log:
        try:
            client.execute(cwd=str(path.parent.resolve()), stderr=kernel_log)
        except DeadKernelError as exc:
            kernel_log.seek(0)
            tail = "\n".join(kernel_log.read().splitlines()[-10:])
            result.problems.append(f"the kernel died: {exc}")
            print(f"  {'ERROR':<8} the kernel died ({exc}); is memory exhausted, or does "
                  f"your code call os._exit?\n{_indent(tail)}", file=out)
    print(result.summary(), file=out, flush=True)
    return result


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK",
                        help="exercise notebooks, e.g. exercises/ex01_step_multistep.ipynb")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds one cell may run before it is interrupted (default 300)")


def run(args: argparse.Namespace) -> int:
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    results = []
    for index, name in enumerate(args.notebooks):
        if index:
            print()
        try:
            results.append(check_notebook(name, timeout=args.timeout, color=color))
        except (OSError, ValueError) as exc:  # missing file, not a notebook (bad JSON)
            print(f"{name}: cannot read this notebook: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
    if len(results) > 1:
        passed = sum(r.passed for r in results)
        total = sum(len(r.checks) for r in results)
        print(f"\nall notebooks: {passed} of {total} checks passed")
    return 0 if all(r.ok for r in results) else 1
