"""Grade learners: find their notebooks, run them against the sources, score each test cell.

:func:`grade_learner` grades one submission in this process (its notebooks run in sandboxed
kernels, see :mod:`lrcourse.grading.sandbox`).  :func:`grade_all` grades many, ``jobs`` at a
time, through worker processes (``python -m lrcourse.grading.worker``); a worker that fails
is replaced and its learner gets a reason, so nothing a submission does can stop the others.

A graded test cell scores all its points when it runs without an exception, else 0.  The
reason given for a 0 is taken, in this order, from: the exercise's answer cell being absent,
the answer cell having been stopped (timeout) or having ended the kernel, the exception the
test raised (a check's ``CheckFailed`` message, ``NameError`` for a renamed function, ...).
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .assemble import (
    Assembled,
    NotebookError,
    SourceNotebook,
    assemble,
    find_sources,
    match_notebooks,
    read_notebook,
)
from .sandbox import Outcome, run_cells

DEFAULT_TIMEOUT = 60.0
"""Seconds one cell may run."""
DEFAULT_MEMORY_MB = 2048
"""Address space of one grading kernel, in MB (torch needs well under 1 GB)."""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_MESSAGE = 1000


@dataclass
class TestResult:
    """The score of one graded test cell for one learner.

    ``status`` is one of ``passed``, ``failed`` (an exception), ``timeout``, ``crashed``
    (the kernel died), ``missing`` (answer or notebook absent) or ``not run``.  ``images``
    are base64 PNGs the failing test cell displayed (the check's overlay plot).
    """

    grade_id: str
    notebook: str
    points: float
    max_points: float
    status: str
    message: str
    images: list[str] = field(default_factory=list)


@dataclass
class LearnerResult:
    """Everything graded for one learner: test results in column order, plus notes."""

    learner: str
    submission: str
    results: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        """Points earned."""
        return float(sum(r.points for r in self.results))

    @property
    def max_points(self) -> float:
        """Points possible."""
        return float(sum(r.max_points for r in self.results))

    def to_json(self) -> dict:
        """A JSON-ready dictionary (see :meth:`from_json`)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "LearnerResult":
        """The inverse of :meth:`to_json`."""
        results = [TestResult(**r) for r in data.get("results", [])]
        return cls(data["learner"], data["submission"], results, list(data.get("notes", [])))


def learner_name(path: Path) -> str:
    """A folder is named after its learner; a lone file by its stem."""
    path = Path(path)
    return path.resolve().name if path.is_dir() else path.stem


# ---------------------------------------------------------------------------------------------
# One learner


def _submitted_files(path: Path, notes: list[str]) -> tuple[dict[str, dict], dict[str, str]]:
    """Read the submission's notebooks: ``(readable by name, reason by unreadable name)``."""
    readable: dict[str, dict] = {}
    unreadable: dict[str, str] = {}
    if path.is_dir():
        entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
        files = [p for p in entries if p.is_file()]
        notebooks = [p for p in files if p.suffix.lower() == ".ipynb"]
        others = [p.name for p in files if p.suffix.lower() != ".ipynb"]
        if others:
            notes.append("not notebooks, ignored: " + ", ".join(others))
        if not notebooks:
            nested = any(path.rglob("*.ipynb"))
            unreadable[""] = (
                f"no notebook directly in folder '{path.name}'"
                + ("; pass each learner's folder (e.g. submissions/*)" if nested else "")
                + (f" (found: {', '.join(others)})" if others else "")
            )
    elif path.exists():
        notebooks = [path]
    else:
        unreadable[""] = f"{path.name} does not exist"
        notebooks = []
    for nb in notebooks:
        try:
            readable[nb.name] = read_notebook(nb)
        except NotebookError as exc:
            unreadable[nb.name] = str(exc)
            notes.append(str(exc))
    return readable, unreadable


def _no_notebook_reason(source: SourceNotebook, readable: dict, unreadable: dict) -> str:
    """Why no submitted notebook could be graded against ``source``."""
    same = unreadable.get(Path(source.name).name)
    if same:
        return same
    bad = [reason for name, reason in unreadable.items() if name]
    if not readable and bad:
        return "; ".join(bad)
    if "" in unreadable:
        return unreadable[""]
    if readable:
        return (f"none of the submitted notebooks ({', '.join(sorted(readable))}) has the "
                f"answer cells of {source.name}")
    return "no notebook was submitted"


def grade_learner(path: Path | str, sources: list[SourceNotebook],
                  timeout: float = DEFAULT_TIMEOUT,
                  memory_mb: int | None = DEFAULT_MEMORY_MB,
                  name: str | None = None) -> LearnerResult:
    """Grade one submission (a notebook, or a folder of them) against ``sources``."""
    path = Path(path)
    result = LearnerResult(name or learner_name(path), str(path))
    readable, unreadable = _submitted_files(path, result.notes)
    for source in sources:
        chosen = match_notebooks(source, readable)
        if chosen is None:
            reason = _no_notebook_reason(source, readable, unreadable)
            result.results += [TestResult(gid, source.name, 0.0, pts, "missing", reason)
                               for gid, pts in source.tests]
            continue
        try:
            plan = assemble(source, readable[chosen])
            outcomes = run_cells(plan.cells, timeout, memory_mb)
            scored = score(plan, outcomes, timeout, memory_mb)
        except Exception as exc:  # noqa: BLE001 - a grader bug costs this notebook only
            reason = f"internal grading error on {chosen}: {type(exc).__name__}: {exc}"
            result.notes.append(reason)
            result.results += [TestResult(gid, source.name, 0.0, pts, "not run", reason)
                               for gid, pts in source.tests]
            continue
        result.notes += [f"{chosen}: {note}" for note in plan.notes]
        result.results += scored
        for cell, outcome in zip(plan.cells, outcomes):
            if outcome.truncated and cell.kind != "setup":
                result.notes.append(f"{chosen}: the output of cell '{cell.grade_id}' was too "
                                    "long and was cut")
    return result


# ---------------------------------------------------------------------------------------------
# Scoring


def score(plan: Assembled, outcomes: list[Outcome], timeout: float,
          memory_mb: int | None) -> list[TestResult]:
    """One :class:`TestResult` per test cell of ``plan``, from the cells' outcomes."""
    cells = plan.cells
    results = []
    for i, cell in enumerate(cells):
        if cell.kind != "test":
            continue
        answers = [j for j, c in enumerate(cells) if c.kind == "answer" and c.group == cell.group]
        status, message = _judge(i, answers, cells, outcomes, timeout, memory_mb)
        out = outcomes[i]
        passed = status == "passed"
        results.append(TestResult(
            grade_id=cell.grade_id or "", notebook=plan.source.name,
            points=cell.points if passed else 0.0, max_points=cell.points,
            status=status, message=_clean(message),
            images=[] if passed else list(out.images)))
    return results


def _judge(i, answers, cells, outcomes, timeout, memory_mb) -> tuple[str, str]:
    """Status and message for test cell ``i`` (``answers``: its exercise's answer cells)."""
    missing = [cells[j].missing for j in answers if cells[j].missing]
    if missing:
        return "missing", "; ".join(missing)
    out = outcomes[i]
    if out.status == "ok":
        lines = [line.strip() for line in out.text.splitlines() if line.strip()]
        return "passed", lines[-1] if lines else "passed"
    if out.status == "skipped" and out.cause is not None:
        cause, why = cells[out.cause], outcomes[out.cause]
        what = _fatal(why, timeout)
        if cause.kind == "answer":
            return _fatal_status(why), f"your answer cell '{cause.grade_id}' {what}, so this " \
                                       "test was not run"
        if cause.kind == "test":
            return _fatal_status(why), f"not run: the test '{cause.grade_id}' before it {what}"
        return _fatal_status(why), f"not run: an earlier cell of the notebook {what}"
    if out.status in ("timeout", "died"):
        return _fatal_status(out), out.evalue or f"this test {_fatal(out, timeout)}"
    if out.status == "error":
        message = _explain(out, memory_mb)
        before = [outcomes[j] for j in answers if outcomes[j].status == "error"]
        if before:
            first = before[0]
            if first.ename == "NotImplementedError":
                return "failed", "not answered yet: the answer cell still raises " \
                                 "NotImplementedError"
            message = f"your answer cell raised {_explain(first, memory_mb)}; then {message}"
        elif out.ename == "NotImplementedError":
            return "failed", "not answered yet: your function still raises NotImplementedError"
        return "failed", message
    return "not run", "not run"


def _fatal(out: Outcome, timeout: float) -> str:
    if out.status == "timeout":
        return f"was stopped after {timeout:g} s (an infinite loop, or far too slow)"
    return ("ended the Python process running it (os._exit, exit(), a crash in compiled "
            "code, or memory exhausted)")


def _fatal_status(out: Outcome) -> str:
    return "timeout" if out.status == "timeout" else "crashed"


def _explain(out: Outcome, memory_mb: int | None) -> str:
    """A learner-friendly sentence for an exception ``ename: evalue``."""
    ename, evalue = out.ename, out.evalue.strip()
    limit = f"the {memory_mb} MB memory limit" if memory_mb else "the memory available"
    if ename in ("CheckFailed", "AssertionError"):
        return evalue or "a check did not pass"
    if ename == "NameError":
        return f"NameError: {evalue} (was it renamed or deleted?)"
    if ename == "MemoryError":
        return f"MemoryError: the code needed more than {limit}"
    if ename == "SystemExit":
        return "SystemExit: the code called sys.exit(); a notebook must not exit"
    if "allocate" in evalue and "memory" in evalue:
        return f"{ename}: out of memory (more than {limit})"
    return f"{ename}: {evalue}" if evalue else ename


def _clean(message: str) -> str:
    message = _ANSI.sub("", message).strip()
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Many learners, in worker processes


def unique_names(paths: Iterable[Path]) -> list[tuple[str, Path]]:
    """``(learner, path)`` pairs, sorted by learner; a repeated name gets `` (2)``, ...."""
    pairs = sorted(((learner_name(p), Path(p)) for p in paths),
                   key=lambda pair: (pair[0].casefold(), pair[0], str(pair[1])))
    seen: dict[str, int] = {}
    named = []
    for name, path in pairs:
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name} ({seen[name]})", path))
    return named


def _worker_budget(sources: list[SourceNotebook], timeout: float) -> float:
    """Seconds a worker may take before it is stopped: generous, a last resort only."""
    cells = sum(1 for s in sources for c in s.cells if isinstance(c, dict)
                and c.get("cell_type") == "code")
    return 120.0 + 2.0 * (timeout + 5.0) * max(cells, 1) * max(len(sources), 1)


class Worker:
    """A ``python -m lrcourse.grading.worker`` process that grades submissions one by one.

    Requests and results are JSON lines on its stdin and stdout.  Workers live for many
    submissions so that their start-up (importing lrcourse, which imports torch) is paid once
    per job, not once per learner; the learners' code never runs in them, only in kernels.
    """

    def __init__(self) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "legacy_grading.worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True, encoding="utf-8")
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)  # end of file: the worker has exited

    def grade(self, request: dict, budget: float) -> tuple[dict | None, str]:
        """Send one request; return ``(result, "")``, or ``(None, why)`` if the worker failed
        (it is then unusable: stop it)."""
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except OSError:
            return None, self._failure("the grading worker exited")
        try:
            line = self._lines.get(timeout=budget)
        except queue.Empty:
            return None, f"grading took more than {budget:.0f} s and was stopped"
        if line is None:
            return None, self._failure("the grading worker exited")
        try:
            return json.loads(line), ""
        except ValueError:
            return None, self._failure("the grading worker answered nonsense")

    def _failure(self, what: str) -> str:
        self.stop()
        self._stderr.seek(0)
        tail = self._stderr.read().strip().splitlines()[-1:]
        return f"{what} ({tail[0]})" if tail else what

    def stop(self) -> None:
        """End the worker: SIGTERM (it shuts its kernel down), then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def close(self) -> None:
        """Let the worker finish: no more requests (end of its stdin)."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.stop()
        self._stderr.close()


def _failed(name: str, path: Path, sources: list[SourceNotebook], reason: str) -> LearnerResult:
    """All zeros for ``name``, with ``reason``: what a learner gets if grading itself failed."""
    result = LearnerResult(name, str(path), notes=[reason])
    for nb in sources:
        result.results += [TestResult(gid, nb.name, 0.0, pts, "not run", reason)
                           for gid, pts in nb.tests]
    return result


def grade_all(submissions: Iterable[Path | str], source: Path | str, jobs: int = 1,
              timeout: float = DEFAULT_TIMEOUT, memory_mb: int | None = DEFAULT_MEMORY_MB,
              on_done: Callable[[LearnerResult], None] | None = None) -> list[LearnerResult]:
    """Grade every submission in worker processes, ``jobs`` at a time.

    Whatever happens to a worker (it dies, hangs past a generous budget, answers nonsense),
    its learner still gets a result, all zeros with the reason, and a fresh worker takes
    over.  Results come back sorted by learner name.
    """
    source = Path(source).resolve()
    sources = find_sources(source)
    named = unique_names(Path(p) for p in submissions)
    budget = _worker_budget(sources, timeout)
    idle: queue.SimpleQueue = queue.SimpleQueue()
    started: list[Worker] = []
    lock = threading.Lock()

    def grade_one(name: str, path: Path) -> LearnerResult:
        try:
            worker = idle.get_nowait()
        except queue.Empty:
            worker = Worker()
            with lock:
                started.append(worker)
        request = {"submission": str(path), "learner": name, "source": str(source),
                   "timeout": timeout, "memory_mb": memory_mb}
        data, why = worker.grade(request, budget)
        if data is None:
            worker.stop()
            return _failed(name, path, sources, why)
        idle.put(worker)
        return LearnerResult.from_json(data)

    results: dict[str, LearnerResult] = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(grade_one, name, path.resolve()): name
                       for name, path in named}
            for future in as_completed(futures):
                result = future.result()
                result.learner = futures[future]
                results[result.learner] = result
                if on_done:
                    on_done(result)
    finally:
        for worker in started:
            worker.close()
    return [results[name] for name, _ in named]
