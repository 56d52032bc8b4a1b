"""Grade one notebook: run its steps in a sandbox and judge, in the grader, what comes back.

:class:`NotebookGrader` walks a :class:`~lrcourse.grading.assemble.Plan`: cells are run in the
sandbox; each check call's probe is run there on inputs the grader sends, and the plain
records that come back are validated and judged here, against expected values computed here
(:mod:`lrcourse.checks.spec`).  What can go wrong, and what happens:

* **an exception** in a cell (``NameError``, ``MemoryError``, ``SystemExit``): the cell is an
  error, the notebook goes on;
* **a timeout** (a cell or a probe runs longer than ``timeout``) or **a dead sandbox**
  (``os._exit``, a crash, the memory limit of the whole tree, a broken protocol): the rest
  of that exercise is skipped, the sandbox is killed, and the notebook is replayed from the
  top in a new sandbox without that exercise, so the other exercises are still graded;
* **a notebook that is slow as a whole**: the learner's code (its answer cells, the set-up
  cells after them and the checks' probes, in every replay together) may take at most
  ``timeout x (exercises + 2)`` seconds; past that, whatever has not been judged yet is not
  run.  Without it, answer cells that each wait just under ``timeout`` and checks that time
  out one after the other would hold a grading worker for (exercises)^2 x ``timeout``;
* **a set-up cell that fails before any learner code ran**: not the learner's doing; the
  notebook's tests get the status ``error`` (a grading-environment error) instead of points.

A public failure gets the check's own message and overlay plot, exactly as in a notebook.  A
hidden failure says only which check and how many hidden cases failed, and in what way
(values, an exception of a built-in type, a wrong return type; for values, the mistake the
check recognised, a constant sentence of its table in :mod:`lrcourse.checks.diagnosis`): never
an input, a value, a seed, a call or a word the learner's code produced.  Hidden steps come
last (see :mod:`.assemble`), so no message a learner can read was made after their code saw a
hidden input.
"""

from __future__ import annotations

import base64
import builtins
import re
import time
from dataclasses import dataclass, field

from lrcourse.checks import CheckFailed, get_check
from lrcourse.checks.spec import malformed

from .assemble import Plan, Step
from .library import SAFE_IMPORTS, Finding, imported_modules, runtime_findings, \
    static_findings
from .limits import Limits
from .results import NotebookResult, TestResult
from .sandbox import Environment, Session

MAX_MESSAGE = 2000
MAX_IMAGES = 4
MAX_OUTPUT_CHARS = 20_000
FATAL = ("timeout", "died", "broken")
HIDDEN_FINDING = ("did, while the hidden cases ran, something this check flags (a library call, "
                  "or code that can hide one); what exactly is not shown, so that nothing about "
                  "the hidden inputs can reach this page")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
BUILTIN_ERRORS = {name for name, value in vars(builtins).items()
                  if isinstance(value, type) and issubclass(value, BaseException)}


class EnvironmentProblem(Exception):
    """A set-up cell failed before any learner code ran: the grading environment is at fault."""


@dataclass
class Expected:
    """The cases of one check call and torch's answers, computed once in the grader."""

    public_cases: list = field(default_factory=list)
    public_expected: list = field(default_factory=list)
    hidden_cases: list = field(default_factory=list)
    hidden_expected: list = field(default_factory=list)

    def to_json(self) -> dict:
        return self.__dict__

    @classmethod
    def from_json(cls, data: dict) -> Expected:
        return cls(**data)


@dataclass
class Outcome:
    """What happened to one step.  ``status``: ok, error, timeout, died, broken, skipped
    (``cause`` is the step that made it skip) or not-run."""

    status: str = "not-run"
    ename: str = ""
    evalue: str = ""
    cause: int | None = None
    oom: bool = False
    budget: bool = False    # stopped because the notebook used up its time as a whole


@dataclass
class Verdict:
    """The judgement of one public or hidden step."""

    status: str                     # passed, failed
    message: str = ""
    images: list[str] = field(default_factory=list)


def clean(text: str, limit: int = MAX_MESSAGE) -> str:
    """Text fit for a report: no terminal colours, valid Unicode, at most ``limit`` chars."""
    text = _ANSI.sub("", str(text)).encode("utf-8", "replace").decode("utf-8").strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def explain(ename: str, evalue: str, memory_mb: int | None) -> str:
    """A learner-friendly sentence for an exception ``ename: evalue``."""
    evalue = evalue.strip()
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


class NotebookGrader:
    """Grade one plan in sandboxes (see the module doc)."""

    def __init__(self, plan: Plan, expected: dict[str, Expected], env: Environment,
                 limits: Limits, uid: int, timeout: float, setup_timeout: float,
                 memory_mb: int | None, name: str = "nb"):
        self.plan, self.expected, self.env, self.limits = plan, expected, env, limits
        self.uid, self.timeout, self.setup_timeout = uid, timeout, setup_timeout
        self.memory_mb, self.name = memory_mb, name
        steps = plan.steps
        self.outcomes = [Outcome() for _ in steps]
        self.verdicts: dict[int, Verdict] = {}
        self.disabled: dict[int, Outcome] = {}
        self.findings: list[Finding] = []
        self.notes = list(plan.notes)
        self.memory: dict = {}
        self.measure: tuple[str, ...] = ()
        """Cells run after the last step, before the memory is measured (calibration only)."""
        self.forbid: dict[int | None, list[str]] = {}
        for cell in plan.source.cells:
            if cell.kind == "answer":
                self.forbid.setdefault(cell.group, [])
                self.forbid[cell.group] += [n for n in cell.may_not_use
                                            if n not in self.forbid[cell.group]]
        self.answer_ids: dict[int | None, list[str]] = {}
        for step in steps:
            if step.kind == "answer":
                self.answer_ids.setdefault(step.group, []).append(step.grade_id or "")
        exercises = len({s.group for s in steps if s.kind == "answer"})
        self.budget = timeout * (exercises + 2)
        """Seconds the learner's code may take in all, over every replay (see the module doc)."""
        self.spent = 0.0
        missing = {s.group for s in steps if s.kind == "answer" and s.missing}
        for i, step in enumerate(steps):
            if step.group in missing and step.kind != "setup":
                self.disabled[i] = Outcome("not-run")

    # ---------------------------------------------------------------------------- running

    def run(self) -> NotebookResult:
        """Run every step (replaying after a fatal one); return the judged results."""
        self.findings = self._static()
        try:
            while True:
                session = Session(self.env, self.limits, self.uid, self.name)
                try:
                    restart = self._pass(session)
                    if not restart:
                        for source in self.measure:
                            session.request({"op": "cell", "source": source},
                                            self.setup_timeout)
                        reply = session.request({"op": "memory"}, 30)
                        self.memory = reply.data if reply.status == "ok" else {}
                finally:
                    oom = session.close()
                if restart and oom:
                    last = max(i for i, o in enumerate(self.outcomes) if o.status in FATAL)
                    self.outcomes[last].oom = True
                if not restart:
                    break
        except EnvironmentProblem as exc:
            message = clean(f"grading environment error: {exc}. This is not your code: your "
                            "instructor will grade it again.")
            return NotebookResult(self.plan.source.name, [
                TestResult(gid, self.plan.source.name, 0.0, pts, "error", message)
                for gid, pts in self.plan.source.tests], self.notes, str(exc))
        cpu = self.memory.get("cpu_seconds")   # as the sandbox reports it: a learner's number
        stats = {"sandbox_cpu_seconds": float(cpu)} if isinstance(cpu, (int, float)) and \
            not isinstance(cpu, bool) and 0 <= cpu < 1e9 else {}
        return NotebookResult(self.plan.source.name, self._results(), self.notes, stats=stats)

    def _static(self) -> list[Finding]:
        cells = []
        for cell, step in zip(self._source_cells(), self._cell_steps(), strict=True):
            forbid = self.forbid.get(cell.group, []) if cell.kind == "answer" else []
            cells.append((step.kind, step.source, step.grade_id, step.group, forbid))
        # an answer may import what the instructor's own cells import, and the usual modules
        allowed = SAFE_IMPORTS | imported_modules([c.source for c in self._source_cells()])
        return static_findings(cells, allowed)

    def _source_cells(self):
        return [c for c in self.plan.source.cells if c.kind != "test"]

    def _cell_steps(self) -> list[Step]:
        return [s for s in self.plan.steps if s.kind in ("setup", "answer")]

    def _request(self, session: Session, step: Step, request: dict, timeout: float):
        """``session.request``, counting the time against the notebook's budget unless the
        step is a set-up cell that runs before any learner code (the instructor's)."""
        if step.kind == "setup" and step.before_learner:
            return session.request(request, timeout)
        left = self.budget - self.spent
        if left <= 0:
            return None
        start = time.monotonic()
        reply = session.request(request, min(timeout, left))
        self.spent += time.monotonic() - start
        if reply.status == "timeout" and left < timeout:
            return None
        return reply

    def _out_of_time(self, i: int) -> bool:
        """The notebook used up its time at step ``i``: nothing not yet judged is run."""
        out = Outcome("timeout", budget=True)
        self.outcomes[i] = out
        self.disabled[i] = out
        for j in range(i + 1, len(self.plan.steps)):
            if j not in self.verdicts:
                self.disabled.setdefault(j, Outcome("skipped", cause=i))
        return False

    def _pass(self, session: Session) -> bool:
        """One run of the steps in ``session``; True if it must be replayed in a new one."""
        for i, step in enumerate(self.plan.steps):
            if i in self.disabled:
                continue
            if step.kind in ("setup", "answer"):
                if self._cell(session, i, step):
                    return True
            elif step.kind == "public":
                if i in self.verdicts:
                    if self._handle_needed(i) and self._capture(session, i, step):
                        return True
                    continue
                if self._public(session, i, step):
                    return True
            elif i not in self.verdicts and self._hidden(session, i, step):
                return True
        return False

    def _fatal(self, i: int, outcome: Outcome) -> bool:
        """Record a fatal outcome of step ``i``; skip the rest of its exercise; replay."""
        self.outcomes[i] = outcome
        step = self.plan.steps[i]
        if step.kind == "setup" and step.before_learner:
            raise EnvironmentProblem(self._setup_failure(i, outcome))
        self.disabled[i] = outcome
        for j in range(i + 1, len(self.plan.steps)):
            if step.group is None or self.plan.steps[j].group == step.group:
                self.disabled.setdefault(j, Outcome("skipped", cause=i))
        return True

    def _setup_failure(self, i: int, outcome: Outcome) -> str:
        number = sum(1 for s in self.plan.steps[:i + 1] if s.kind == "setup")
        what = {"timeout": f"did not finish in {self.setup_timeout:g} s",
                "died": "ended the sandbox", "broken": "broke the grading protocol"}
        why = what.get(outcome.status) or clean(f"raised {outcome.ename}: {outcome.evalue}", 300)
        return f"set-up cell {number} of {self.plan.source.name} {why}"

    def _cell(self, session: Session, i: int, step: Step) -> bool:
        timeout = self.setup_timeout if step.before_learner else self.timeout
        reply = self._request(session, step, {"op": "cell", "source": step.source,
                                              "learner": step.kind == "answer"}, timeout)
        if reply is None:
            return self._out_of_time(i)
        if reply.status != "ok":
            return self._fatal(i, Outcome(reply.status, evalue=reply.detail))
        data = reply.data
        status = "error" if data.get("status") == "error" else "ok"
        outcome = Outcome(status, clean(str(data.get("ename", "")), 100),
                          clean(str(data.get("evalue", ""))))
        self.outcomes[i] = outcome
        if step.before_learner and status != "ok":
            raise EnvironmentProblem(self._setup_failure(i, outcome))
        if step.kind == "answer":
            self.findings += runtime_findings(step.grade_id or "", step.group, [],
                                              _list(data.get("events")), [])
            chars = data.get("output_chars")
            if isinstance(chars, int) and chars > MAX_OUTPUT_CHARS:
                note = f"the output of cell '{step.grade_id}' was too long and was cut"
                if note not in self.notes:
                    self.notes.append(note)
        return False

    def _handle_needed(self, i: int) -> bool:
        handle = self.plan.steps[i].handle
        return any(s.kind == "hidden" and s.handle == handle and j not in self.verdicts
                   and j not in self.disabled for j, s in enumerate(self.plan.steps))

    def _probe(self, session: Session, i: int, step: Step, cases: list,
               name: bool) -> dict | None:
        """Send a probe request; None (after recording it) if the sandbox failed."""
        request = {"op": "probe", "check": step.call.check, "handle": step.handle,
                   "cases": cases, "forbid": self.forbid.get(step.group, [])}
        if name:
            request["name"] = step.call.target
        reply = self._request(session, step, request, self.timeout)
        if reply is None:
            self._out_of_time(i)
            return None
        if reply.status != "ok":
            self._fatal(i, Outcome(reply.status, evalue=reply.detail))
            return None
        data = reply.data
        answer = (self.answer_ids.get(step.group) or [step.grade_id or ""])[0]
        found = runtime_findings(answer, step.group, _list(data.get("calls")),
                                 _list(data.get("events")), self.forbid.get(step.group, []))
        if found and step.kind == "hidden":
            # What the code did while it saw hidden inputs is the learner's choice, and could
            # spell those inputs out in the feedback: one fixed sentence says that it did
            # something, never what.
            found = [Finding(answer, step.group, found[0].kind, HIDDEN_FINDING)]
        self.findings += found
        return data

    def _capture(self, session: Session, i: int, step: Step) -> bool:
        return self._probe(session, i, step, [], name=True) is None

    def _skip_rest_of_test(self, i: int) -> None:
        """A call of a test failed: its later calls need not run (the cell stopped there)."""
        step = self.plan.steps[i]
        for j, other in enumerate(self.plan.steps):
            if j != i and other.grade_id == step.grade_id and other.kind in ("public", "hidden") \
                    and j not in self.verdicts and (other.call_index > step.call_index or
                                                    other.kind == "hidden"):
                self.disabled.setdefault(j, Outcome("not-run"))

    def _public(self, session: Session, i: int, step: Step) -> bool:
        expected = self.expected[step.handle]
        cases = [] if step.call.hidden else expected.public_cases
        data = self._probe(session, i, step, cases, name=True)
        if data is None:
            return True
        self.outcomes[i] = Outcome("ok")
        if not data.get("found"):
            verdict = Verdict("failed", f"NameError: name '{step.call.target}' is not defined "
                                        "(was it renamed or deleted?)")
        else:
            verdict = self._judge_public(step, cases, expected.public_expected,
                                         _list(data.get("results")))
        self.verdicts[i] = verdict
        if verdict.status != "passed":
            self._skip_rest_of_test(i)
        return False

    def _judge_public(self, step: Step, cases: list, expected: list, got: list) -> Verdict:
        check = get_check(step.call.check)
        for k, case in enumerate(cases):
            if k >= len(got):
                return Verdict("failed", clean(f"{check.name}: the grading sandbox answered "
                                               "only part of the request, so this check "
                                               "failed. Was grading code changed from the "
                                               "notebook?"))
            record = got[k]
            if isinstance(record, dict) and record.get("kind") == "escaped":
                return Verdict("failed", clean(explain(str(record.get("type", ""))[:100],
                                                       str(record.get("message", "")),
                                                       self.memory_mb)))
            images: list[str] = []

            def show(image, images=images):
                data = getattr(image, "data", None)
                if isinstance(data, bytes) and len(images) < MAX_IMAGES:
                    images.append(base64.b64encode(data).decode("ascii"))

            try:
                check.judge(case, expected[k], record, display=show)
            except CheckFailed as exc:
                return Verdict("failed", clean(str(exc)), images)
            except Exception as exc:  # noqa: BLE001 - a record no probe makes broke the judge
                return Verdict("failed", clean(malformed(check.name, _short(exc))))
        return Verdict("passed", f"{check.name}: all public checks passed" if cases else "")

    def _hidden(self, session: Session, i: int, step: Step) -> bool:
        expected = self.expected[step.handle]
        data = self._probe(session, i, step, expected.hidden_cases, name=False)
        if data is None:
            return True
        self.outcomes[i] = Outcome("ok")
        check = get_check(step.call.check)
        if not data.get("found"):
            self.verdicts[i] = Verdict("failed", f"NameError: name '{step.call.target}' is not "
                                                 "defined (was it renamed or deleted?)")
            return False
        self.verdicts[i] = judge_hidden(check, expected.hidden_cases, expected.hidden_expected,
                                        _list(data.get("results")))
        return False

    # ---------------------------------------------------------------------------- results

    def _what(self, outcome: Outcome) -> str:
        if outcome.budget:
            return (f"used up the {self.budget:g} s it may take in all (its answer cells and "
                    "checks together, so that one slow notebook cannot hold up a class)")
        if outcome.status == "timeout":
            return f"was stopped after {self.timeout:g} s (an infinite loop, or far too slow)"
        if outcome.oom:
            limit = f"the {self.memory_mb} MB" if self.memory_mb else "the"
            return (f"ran out of memory: the notebook's processes together needed more than "
                    f"{limit} memory limit")
        if outcome.status == "broken":
            return ("broke the grading protocol (something wrote to the grader's pipe), so its "
                    "sandbox was stopped")
        return ("ended the Python process running it (os._exit, exit(), a crash in compiled "
                "code, or memory exhausted)")

    @staticmethod
    def _fatal_status(outcome: Outcome) -> str:
        return "timeout" if outcome.status == "timeout" else "crashed"

    def _test_status(self, gid: str, group: int | None) -> tuple[str, str, list[str]]:
        steps = self.plan.steps
        missing = [s.missing for s in steps if s.kind == "answer" and s.group == group
                   and s.missing]
        if missing:
            return "missing", "; ".join(missing), []
        mine = [j for j, s in enumerate(steps) if s.grade_id == gid and s.kind in ("public",
                                                                                     "hidden")]
        mine.sort(key=lambda j: (steps[j].call_index, steps[j].kind == "hidden"))
        lines = []
        for j in mine:
            if j in self.verdicts:
                verdict = self.verdicts[j]
                if verdict.status != "passed":
                    return "failed", self._after_answers(group, verdict.message), verdict.images
                if verdict.message:
                    lines.append(verdict.message)
                continue
            outcome = self.disabled.get(j, self.outcomes[j])
            if outcome.budget or (outcome.cause is not None and
                                  self.outcomes[outcome.cause].budget):
                return "timeout", f"not run: the notebook {self._what(Outcome(budget=True))}", []
            if outcome.status in FATAL:
                whose = "this test's hidden cases" if steps[j].kind == "hidden" else "this test"
                return self._fatal_status(outcome), f"{whose} {self._what(outcome)}", []
            if outcome.status == "skipped" and outcome.cause is not None:
                cause, why = steps[outcome.cause], self.outcomes[outcome.cause]
                what = self._what(why)
                if cause.kind == "answer":
                    return (self._fatal_status(why), f"your answer cell '{cause.grade_id}' "
                                                     f"{what}, so this test was not run", [])
                if cause.kind in ("public", "hidden") and cause.grade_id != gid:
                    return (self._fatal_status(why),
                            f"not run: the test '{cause.grade_id}' before it {what}", [])
                return self._fatal_status(why), f"not run: an earlier cell of the notebook " \
                                                f"{what}", []
            return "not run", "not run", []
        return "passed", "\n".join(lines) or "passed", []

    def _after_answers(self, group: int | None, message: str) -> str:
        """Put the answer cell's own exception in front of the test's message."""
        errors = [self.outcomes[j] for j, s in enumerate(self.plan.steps)
                  if s.kind == "answer" and s.group == group
                  and self.outcomes[j].status == "error"]
        if not errors:
            return message
        first = errors[0]
        if first.ename == "NotImplementedError":
            return "not answered yet: the answer cell still raises NotImplementedError"
        return clean(f"your answer cell raised {explain(first.ename, first.evalue, self.memory_mb)}"
                     f"; then {message}")

    def _results(self) -> list[TestResult]:
        results = []
        flags: dict[int | None, list[Finding]] = {}
        for finding in self.findings:
            flags.setdefault(finding.group, [])
            if finding.message not in [f.message for f in flags[finding.group]]:
                flags[finding.group].append(finding)
        for cell in self.plan.source.cells:
            if cell.kind != "test":
                continue
            status, message, images = self._test_status(cell.grade_id or "", cell.group)
            passed = status == "passed"
            results.append(TestResult(
                grade_id=cell.grade_id or "", notebook=self.plan.source.name,
                points=cell.points if passed else 0.0, max_points=cell.points, status=status,
                message=clean(message), images=images if not passed else [],
                flags=[clean(f"answer cell '{f.grade_id}' {f.message}", 300)
                       for f in flags.get(cell.group, [])][:6]))
        return results


def _list(value) -> list:
    return value if isinstance(value, list) else []


def judge_hidden(check, cases: list, expected: list, got: list) -> Verdict:
    """The verdict on a check's hidden cases from the records their probes sent back: how many
    failed and how the first did (:func:`_hidden_failure`), never a value or an input."""
    failed, first = 0, ""
    for k, case in enumerate(cases):
        record = got[k] if k < len(got) else None
        kind = _hidden_failure(check, case, expected[k], record)
        if kind:
            failed += 1
            first = first or kind
        if k == 0 and isinstance(record, dict) and record.get("kind") == "raised" and \
                record.get("not_implemented") is True:
            # a stub: say what the notebook says (a message that names no input)
            try:
                check.judge(case, expected[k], record, display=False)
            except CheckFailed as exc:
                return Verdict("failed", clean(str(exc)))
            except Exception:  # noqa: BLE001 - a malformed record: counted below
                pass
    total = len(cases)
    if failed:
        return Verdict("failed", f"{check.name}: {failed} of {total} hidden cases failed (the "
                                 f"first: {first}). Hint: {check.hidden_hint}.")
    return Verdict("passed", f"{check.name}: all hidden checks passed ({total} randomized "
                             "cases)")


def _short(exc: Exception) -> str:
    """``exc`` in a few words, for a message about data the sandbox sent back."""
    return clean(f"{type(exc).__name__}: {exc}", 120)


def _hidden_failure(check, case, expected, record) -> str:
    """How one hidden case failed, in words that name no input or value; ``""`` if it passed."""
    if not isinstance(record, dict):
        return "the sandbox sent back no answer for it"
    kind = record.get("kind")
    if kind == "escaped":
        return "your code stopped the check (an exception that is not an Exception)"
    try:
        check.judge(case, expected, record, display=False)
    except CheckFailed as exc:
        mistake = exc.mistake  # a constant of the check's table of mistakes: names no value
    except Exception:  # noqa: BLE001 - a record no probe makes broke the judge
        return "the sandbox sent back malformed data for it"
    else:
        return ""
    if kind == "values":
        return f"your values differ from PyTorch's: {mistake}" if mistake else \
            "your values differ from PyTorch's"
    if kind == "raised":
        name = record.get("type")
        if record.get("not_implemented"):
            return "your code raised NotImplementedError"
        return f"your code raised {name}" if name in BUILTIN_ERRORS else \
            "your code raised an exception"
    if kind == "returned":
        return "your code returned something that is not a learning rate"
    if kind == "wrong_type":
        return "the object checked is not what the check expects"
    return "the sandbox sent back malformed data for it"
