"""Grade a class: calibrate the sandbox, compute expected values once, hand out notebooks.

:func:`grade_all` is ``lrcourse grade`` without the printing:

1. read the source notebooks (their test cells become check calls; an instructor error stops
   here, before any learner is graded);
2. detect the sandbox (refusing to go on without one unless ``no_sandbox``, and, as a user who
   is not root, unless ``shared_uid``: only root can give each sandbox a user id of its own);
3. draw every check call's cases (hidden ones from the secret) and compute torch's expected
   values for them, once, in this process;
4. **calibrate**: grade each source notebook's own answers in a sandbox with generous limits,
   measure the memory the environment needs (peak address space and resident memory: a CUDA
   build of torch needs gigabytes of address space just to import, so torch is imported there
   even when the source does not need it: an answer may), and set each notebook's
   limits from that, plus ``memory_mb`` for the learner's code.  A set-up cell that fails
   there, or a source whose own answers do not score full marks, stops the run with a clear
   error: the environment or the source is at fault, and no learner is graded against it;
5. hand out one job per (learner, source notebook) to ``jobs`` worker processes; a worker
   that fails or hangs past a generous budget is replaced, and only that notebook gets a
   reason instead of a score;
6. merge the notebooks into one result per learner, applying ``library_calls``.
"""

from __future__ import annotations

import json
import math
import os
import queue
import secrets
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lrcourse.checks import get_check

from .assemble import assemble
from .limits import Limits
from .notebooks import refused
from .results import LearnerResult, NotebookResult, TestResult
from .sandbox import Environment, SandboxUnavailable
from .secret import hidden_seed
from .session import Expected, NotebookGrader
from .source import SourceNotebook, find_sources

DEFAULT_TIMEOUT = 60.0
"""Seconds one cell, or one check's cases, may run."""
DEFAULT_MEMORY_MB = 1024
"""Memory the learner's code may use on top of what the grading environment needs."""
SETUP_TIMEOUT = 120.0
"""Seconds a set-up cell that runs before any learner code may take (instructor code)."""
WORKER_MEMORY_MB = 4096
"""Address space a grading worker may add to what it maps once torch is imported (it parses
submissions, judges replies with torch and draws plots)."""
SHARED_UID_REFUSED = (
    "learner code runs under a user id of its own, never yours, and only root can give it one: "
    "grade as root (sudo, or in a container: docs/grading.md), or pass --shared-uid to accept "
    "sandboxes that run under your user id, kept apart from you and from each other by "
    "namespaces only (no view of your files, processes or network; every feedback page says so)")
"""Why ``grade_all`` refuses to start as a user who is not root without ``shared_uid``."""
CALIBRATION_MEMORY_MB = 8192
TMP_MB = 64


class GradingError(RuntimeError):
    """The run cannot go on (a set-up cell fails, the source fails its own tests, ...)."""


@dataclass
class GradingRun:
    """What :func:`grade_all` returns."""

    learners: list[LearnerResult]
    sources: list[SourceNotebook]
    sandbox: str
    environment_errors: list[str] = field(default_factory=list)
    calibration: dict[str, dict] = field(default_factory=dict)
    uids: tuple[int, int] = (0, -1)    # the host uids the run's sandboxes ran as (if root)
    sandbox_cpu_seconds: float = 0.0   # CPU time the learners' sandboxes reported using


# ------------------------------------------------------------------------------- learners


MAX_NOTEBOOKS = 20
"""Notebooks read from one learner's folder (each may be read for every source notebook that
no file of theirs is named after): further ones are listed as ignored."""


@dataclass
class Submission:
    """One learner's hand-in, as found on disk (nothing read yet)."""

    learner: str
    path: Path
    candidates: dict[str, str] = field(default_factory=dict)   # notebook name -> path
    unreadable: dict[str, str] = field(default_factory=dict)   # name ("" = the whole) -> why
    notes: list[str] = field(default_factory=list)


def learner_name(path: Path) -> str:
    """A folder is named after its learner; a lone file by its stem (links are not followed)."""
    path = Path(os.path.abspath(path))
    try:
        is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        is_dir = False
    return as_text(path.name if is_dir else path.stem)


def as_text(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (which Python keeps as lone surrogates)
    become U+FFFD, so that no report fails to encode a learner's name."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


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


def _listed(names: list[str], most: int = 20) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most
                                      else "")


def discover(learner: str, path: Path) -> Submission:
    """The candidate notebooks of one submission, refusing links and special files."""
    sub = Submission(learner, path)
    try:
        info = os.lstat(path)
    except OSError:
        sub.unreadable[""] = f"{path.name} does not exist"
        return sub
    if not stat.S_ISDIR(info.st_mode):
        why = refused(as_text(path.name), info.st_mode)
        if why:
            sub.unreadable[""] = why
            sub.unreadable[path.name] = why
        else:
            sub.candidates[path.name] = str(path)
        return sub
    others, extra, nested = [], [], False
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            nested = nested or any(Path(entry.path).rglob("*.ipynb"))
            continue
        if entry.name.lower().endswith(".ipynb"):
            why = refused(as_text(entry.name), mode)
            if why:
                sub.unreadable[entry.name] = why
                sub.notes.append(why)
            elif len(sub.candidates) < MAX_NOTEBOOKS:
                sub.candidates[entry.name] = entry.path
            else:
                extra.append(as_text(entry.name))
        else:
            others.append(as_text(entry.name))
    if others:
        sub.notes.append("not notebooks, ignored: " + _listed(others))
    if extra:
        sub.notes.append(f"only {MAX_NOTEBOOKS} notebooks of a folder are read; not read: "
                         + _listed(extra))
    if not sub.candidates and not sub.unreadable:
        sub.unreadable[""] = (
            f"no notebook directly in folder '{path.name}'"
            + ("; pass each learner's folder (e.g. submissions/*)" if nested else "")
            + (f" (found: {', '.join(others[:20])})" if others else ""))
    return sub


# ------------------------------------------------------------------------ expected values


def compute_expected(sources: list[SourceNotebook], secret: bytes) -> dict[str, dict]:
    """Every check call's cases and torch's answers: ``{source: {handle: Expected}}``.

    Hidden cases are drawn from a seed mixing the secret, the test cell's grade_id, the check
    and the cell's ``seed=`` (see :mod:`.secret`).  Identical cases are computed once.
    """
    cache: dict[tuple[str, str], object] = {}

    def answers(check, cases):
        out = []
        for case in cases:
            key = (check.name, json.dumps(case, sort_keys=True))
            if key not in cache:
                cache[key] = check.expected(case)
            out.append(cache[key])
        return out

    expected: dict[str, dict] = {}
    for source in sources:
        calls = expected[source.name] = {}
        for cell in source.cells:
            if cell.kind != "test":
                continue
            for j, call in enumerate(cell.calls):
                check = get_check(call.check)
                e = Expected()
                if call.hidden:
                    seed = hidden_seed(secret, cell.grade_id or "", call.check, call.seed)
                    e.hidden_cases = check.cases(True, seed)
                    e.hidden_expected = answers(check, e.hidden_cases)
                else:
                    e.public_cases = check.cases(False, 0)
                    e.public_expected = answers(check, e.public_cases)
                calls[f"{cell.grade_id}#{j}"] = e
    return expected


# ---------------------------------------------------------------------------- calibration


def _source_as_submission(source: SourceNotebook) -> dict:
    data = json.loads(source.path.read_text(encoding="utf-8"))
    return data


CALIBRATION_IMPORTS = "import torch, torch.optim.lr_scheduler"
"""Run in each calibration sandbox before its memory is measured: the heaviest import any
answer may make, so that making it never runs into the address-space limit."""


def calibrate(source: SourceNotebook, expected: dict, env: Environment, uid: int,
              timeout: float, memory_mb: int | None) -> tuple[Limits, dict]:
    """Grade the source's own answers with generous limits; limits for learners from what
    that needed.  GradingError if a set-up cell fails or a test does not pass."""
    plan = assemble(source, _source_as_submission(source))
    generous = Limits(address_space_mb=None, memory_mb=CALIBRATION_MEMORY_MB, processes=256,
                      cpu_seconds=3600, tmp_mb=TMP_MB)
    grader = NotebookGrader(plan, expected, env, generous, uid, max(timeout, SETUP_TIMEOUT),
                            max(timeout, SETUP_TIMEOUT), memory_mb, name="calibration")
    # a learner may import torch in any exercise (it is flagged, not fatal); a CUDA build maps
    # gigabytes of address space when imported, so the limits must allow what that needs
    grader.measure = (CALIBRATION_IMPORTS,)
    result = grader.run()
    if result.environment_error:
        raise GradingError(f"{source.name} cannot be graded in this environment: "
                           f"{result.environment_error}")
    bad = [r for r in result.results if r.status != "passed"]
    if bad:
        raise GradingError(
            f"{source.name}: the source's own answers do not pass its test "
            f"'{bad[0].grade_id}' in the sandbox ({bad[0].status}: "
            f"{bad[0].message.splitlines()[0] if bad[0].message else ''}); fix the source or "
            "the environment before grading")
    memory = grader.memory
    vm_mb = math.ceil(memory.get("vm_peak_kb", 0) / 1024)
    rss_mb = math.ceil(memory.get("vm_hwm_kb", 0) / 1024)
    threads = int(memory.get("threads", 1))
    steps = len(plan.steps)
    limits = Limits(
        address_space_mb=(vm_mb + memory_mb) if memory_mb else None,
        memory_mb=(rss_mb + memory_mb + TMP_MB + 256) if memory_mb else None,
        processes=max(32, threads + 32),
        cpu_seconds=int(timeout * (steps + 2) + SETUP_TIMEOUT),
        tmp_mb=TMP_MB)
    return limits, {"vm_peak_mb": vm_mb, "rss_peak_mb": rss_mb, "threads": threads,
                    "limits": asdict(limits)}


# -------------------------------------------------------------------------------- workers


class Worker:
    """A ``python -m lrcourse.grading.worker`` process, grading one notebook at a time.

    Requests and results are JSON lines; each result must echo its request's nonce.  The
    worker's address space is capped (a submission that expands to gigabytes when parsed
    costs only this worker), its stdout is private to this pipe.
    """

    def __init__(self) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        argv = ["prlimit", "--core=0", "--", sys.executable, "-m", "lrcourse.grading.worker",
                "--memory-mb", str(WORKER_MEMORY_MB)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True, encoding="utf-8",
                                     start_new_session=True)
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def configure(self, setup: dict) -> None:
        """The run's set-up (sources, expected values, limits, sandbox): the first line."""
        try:
            self._send(setup)
        except OSError:
            pass  # a worker that died at start: its first job reports it and replaces it

    def _send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def grade(self, job: dict, budget: float) -> tuple[dict | None, str]:
        """Send one job; ``(result, "")`` or ``(None, why)`` (the worker is then unusable)."""
        nonce = secrets.token_hex(12)
        try:
            self._send({**job, "nonce": nonce})
        except OSError:
            return None, self._failure("the grading worker exited")
        try:
            line = self._lines.get(timeout=budget)
        except queue.Empty:
            return None, f"grading took more than {budget:.0f} s and was stopped"
        if line is None:
            return None, self._failure("the grading worker exited")
        try:
            reply = json.loads(line)
        except ValueError:
            return None, self._failure("the grading worker answered nonsense")
        if not isinstance(reply, dict) or reply.get("nonce") != nonce:
            return None, self._failure("the grading worker answered another request")
        return reply.get("result"), ""

    def _failure(self, what: str) -> str:
        self._terminate()
        try:
            self._stderr.seek(0)
            tail = self._stderr.read().strip().splitlines()[-1:]
        except (OSError, ValueError):
            tail = []
        self._release()
        return f"{what} ({tail[0]})" if tail else what

    def stop(self) -> None:
        """End the worker: SIGTERM (it closes its sandboxes), then SIGKILL if it lingers."""
        self._terminate()
        self._release()

    def _terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def close(self) -> None:
        """Let the worker finish (end of its input), then release its pipes and files."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.stop()
        self._release()

    def _release(self) -> None:
        self._reader.join(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self._stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


def _budget(source: SourceNotebook, timeout: float) -> float:
    """Seconds a worker may take for one notebook: generous, a last resort only."""
    steps = len(source.cells) + sum(len(c.calls) for c in source.cells if c.kind == "test")
    groups = len({c.group for c in source.cells})
    return 120.0 + (SETUP_TIMEOUT + (timeout + 10.0) * steps) * (groups + 1)


def _not_run(source: SourceNotebook, reason: str, status: str = "not run") -> NotebookResult:
    return NotebookResult(source.name, [TestResult(gid, source.name, 0.0, pts, status, reason)
                                        for gid, pts in source.tests], [reason])


# ------------------------------------------------------------------------------- the run


def grade_all(submissions: Iterable[Path | str], source: Path | str, *, secret: bytes,
              jobs: int = 1, timeout: float = DEFAULT_TIMEOUT,
              memory_mb: int | None = DEFAULT_MEMORY_MB, library_calls: str = "flag",
              no_sandbox: bool = False, shared_uid: bool = False, on_status: Callable[[str], None] | None = None,
              on_done: Callable[[str, NotebookResult], None] | None = None,
              on_total: Callable[[int], None] | None = None) -> GradingRun:
    """Grade every submission (see the module doc); results sorted by learner name.

    Raises :class:`~lrcourse.grading.source.SourceError`,
    :class:`~lrcourse.grading.sandbox.SandboxUnavailable` or :class:`GradingError` when the
    run cannot start; once learners are being graded, every one of them gets a result.
    """
    say = on_status or (lambda text: None)
    source = Path(source).resolve()
    sources = find_sources(source)
    env = Environment.detect(no_sandbox=no_sandbox)
    if env.mode == "bwrap" and not env.as_root and not shared_uid:
        env.close()
        raise SandboxUnavailable(SHARED_UID_REFUSED)
    if env.cgroups is not None:
        env.cgroups.start()
    uid_base = Environment.scratch_uid()
    uids = iter(range(uid_base, uid_base + 10**8))
    workers: list[Worker] = []
    try:
        say(env.describe())
        # Start-up, overlapped: the workers boot, torch computes the expected values and the
        # calibration sandboxes run their cells, all at once; the calibrations wait for the
        # expected values only when they judge their first reply.
        workers = [Worker() for _ in range(max(1, jobs))]
        say("computing expected values with torch and calibrating the sandbox on "
            f"{len(sources)} source notebook(s) ...")
        limits: dict[str, Limits] = {}
        calibration: dict[str, dict] = {}
        with ThreadPoolExecutor(max_workers=max(1, jobs) + 1) as pool:
            later = pool.submit(compute_expected, sources, secret)
            futures = {pool.submit(calibrate, s, _Later(later, s.name), env, next(uids),
                                   timeout, memory_mb): s for s in sources}
            for future in as_completed(futures):
                s = futures[future]
                limits[s.name], calibration[s.name] = future.result()
            expected = later.result()
        named = unique_names(Path(p) for p in submissions)
        subs = [discover(name, path) for name, path in named]
        setup = {"source": str(source), "timeout": timeout, "setup_timeout":
                 max(timeout, SETUP_TIMEOUT), "memory_mb": memory_mb,
                 "expected": {n: {h: e.to_json() for h, e in calls.items()}
                              for n, calls in expected.items()},
                 "limits": {n: asdict(lim) for n, lim in limits.items()},
                 "environment": _environment_json(env)}
        todo = []
        for sub in subs:
            for s in sources:
                same = {n: p for n, p in sub.candidates.items() if n == Path(s.name).name}
                todo.append((sub, s, {"learner": sub.learner, "source": s.name,
                                      "candidates": same or sub.candidates,
                                      "unreadable": sub.unreadable, "uid": next(uids)}))
        if on_total:
            on_total(len(todo))
        done = _run_jobs(todo, setup, workers, timeout, on_done)
    finally:
        for worker in workers:
            worker.close()
        if env.cgroups is not None:
            env.cgroups.finish()
        env.close()
    learners = [_merge(sub, sources, done, library_calls) for sub in subs]
    errors = sorted({r.environment_error for r in done.values() if r.environment_error})
    last_uid = next(uids) - 1
    cpu = sum(float(r.stats.get("sandbox_cpu_seconds", 0.0)) for r in done.values())
    return GradingRun(learners, sources, env.describe(), errors, calibration,
                      (uid_base, last_uid) if env.as_root and env.mode == "bwrap" else (0, -1),
                      cpu)


def _environment_json(env: Environment) -> dict:
    from .worker import environment_to_json

    return environment_to_json(env)


class _Later:
    """One source's expected values, from a computation that may not have finished yet."""

    def __init__(self, future, name: str):
        self.future, self.name = future, name

    def __getitem__(self, handle: str) -> Expected:
        return self.future.result()[self.name][handle]


def _run_jobs(todo, setup, workers: list[Worker], timeout,
              on_done) -> dict[tuple[str, str], NotebookResult]:
    """Grade every job, each worker taking the next one when free; ``{(learner, source):
    result}``.  A worker that fails is replaced by a fresh one."""
    work: queue.SimpleQueue = queue.SimpleQueue()
    for item in todo:
        work.put(item)
    results: dict[tuple[str, str], NotebookResult] = {}
    lock = threading.Lock()

    def serve(slot: int) -> None:
        worker = workers[slot]
        worker.configure(setup)
        while True:
            try:
                sub, source, job = work.get_nowait()
            except queue.Empty:
                return
            data, why = worker.grade(job, _budget(source, timeout))
            if data is None:
                worker.stop()
                worker = workers[slot] = Worker()
                worker.configure(setup)
                result = _not_run(source, f"grading this notebook failed: {why}")
            elif "internal_error" in data:
                result = _not_run(source, f"internal grading error: {data['internal_error']}")
            else:
                result = NotebookResult.from_json(data)
            with lock:
                results[(sub.learner, source.name)] = result
            if on_done:
                on_done(sub.learner, result)

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        for future in [pool.submit(serve, slot) for slot in range(len(workers))]:
            future.result()
    return results


def _merge(sub: Submission, sources: list[SourceNotebook],
           done: dict[tuple[str, str], NotebookResult], library_calls: str) -> LearnerResult:
    result = LearnerResult(sub.learner, str(sub.path), notes=list(sub.notes))
    for s in sources:
        nb = done[(sub.learner, s.name)]
        for note in nb.notes:
            if note not in result.notes:
                result.notes.append(note)
        for test in nb.results:
            if test.flags and library_calls == "zero" and test.status == "passed":
                test.points, test.status = 0.0, "flagged"
                test.message = f"scored 0 (graded with --library-calls zero): {test.flags[0]}"
            result.results.append(test)
    return result
