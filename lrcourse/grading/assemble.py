"""The steps that grade one learner's notebook against one source notebook.

The grader never runs a submitted notebook as it is.  It walks the instructor's source:

* a **set-up cell** runs as it is, in the sandbox;
* an **answer cell** (nbgrader ``"solution": true``) is replaced by the learner's cell with
  the same ``grade_id``, wherever it sits in the submission (the last one if there are
  several, as "Run All" would leave it; a note says so).  A missing answer cell (deleted,
  metadata removed, turned into markdown) or one larger than :data:`MAX_ANSWER_CHARS` is not
  run: its exercise scores 0, with the reason;
* a **test cell** is never taken from the submission and never run as a cell: each of its
  check calls becomes a *public* step at the cell's place (look up the learner's function,
  run the public cases) and, for ``hidden=True`` calls, a *hidden* step at the very end of
  the notebook (run the hidden cases on the object found at the cell's place).

Hidden steps come last so that nothing the learner's code could learn from hidden inputs can
come back in a later step's message: from the first hidden step on, the grader keeps only
numbers it judges itself (see :mod:`lrcourse.grading.session`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .source import CheckCall, SourceNotebook, cell_text, is_code, nbgrader_meta

MAX_ANSWER_CHARS = 100_000
"""Largest answer cell run (an honest answer is a few hundred characters)."""


@dataclass
class Step:
    """One thing the sandbox is asked to do, in order.

    ``kind`` is ``"setup"`` or ``"answer"`` (run a cell), ``"public"`` (look up a learner's
    object and run a check's public cases) or ``"hidden"`` (run its hidden cases).
    """

    kind: str
    group: int | None
    source: str = ""
    grade_id: str | None = None        # the answer or test cell's grade_id
    missing: str | None = None         # answer cells: why there is nothing to run
    before_learner: bool = False       # set-up cells that run before any learner code
    call: CheckCall | None = None      # public and hidden steps
    call_index: int = 0

    @property
    def handle(self) -> str:
        return f"{self.grade_id}#{self.call_index}"


@dataclass
class Plan:
    """The steps for one (source, submission) pair, and notes for the feedback."""

    source: SourceNotebook
    steps: list[Step]
    answers: dict[str, str] = field(default_factory=dict)   # grade_id -> learner's code
    notes: list[str] = field(default_factory=list)

    def groups_of_answers(self) -> dict[str, int | None]:
        return {s.grade_id or "": s.group for s in self.steps if s.kind == "answer"}


def learner_answers(notebook: dict) -> dict[str, list[dict]]:
    """The submission's cells by ``grade_id``, in notebook order (duplicates kept)."""
    found: dict[str, list[dict]] = {}
    for cell in notebook.get("cells", []):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if isinstance(grade_id, str) and grade_id:
            found.setdefault(grade_id, []).append(cell)
    return found


def assemble(source: SourceNotebook, submission: dict) -> Plan:
    """The steps that grade ``submission`` against ``source``."""
    answers = learner_answers(submission)
    plan = Plan(source=source, steps=[])
    hidden: list[Step] = []
    seen_answer = False
    for cell in source.cells:
        if cell.kind == "setup":
            plan.steps.append(Step("setup", cell.group, cell.source,
                                   before_learner=not seen_answer))
        elif cell.kind == "answer":
            seen_answer = True
            text, missing = _learner_cell(cell.grade_id or "", answers.get(cell.grade_id, []),
                                          plan.notes)
            plan.answers[cell.grade_id or ""] = text
            plan.steps.append(Step("answer", cell.group, text, cell.grade_id, missing))
        else:
            for j, call in enumerate(cell.calls):
                plan.steps.append(Step("public", cell.group, grade_id=cell.grade_id, call=call,
                                       call_index=j))
                if call.hidden:
                    hidden.append(Step("hidden", cell.group, grade_id=cell.grade_id, call=call,
                                       call_index=j))
    plan.steps += hidden
    return plan


def _learner_cell(grade_id: str, candidates: list[dict], notes: list[str]):
    """The learner's code for ``grade_id`` and, if there is none, why (``(text, missing)``)."""
    code = [c for c in candidates if is_code(c)]
    if not code:
        if candidates:
            kind = candidates[-1].get("cell_type", "unknown") if isinstance(
                candidates[-1], dict) else "unknown"
            return "", f"your answer cell '{grade_id}' was turned into a {str(kind)[:20]} cell"
        return "", (f"your notebook has no answer cell '{grade_id}' (deleted, or its "
                    "cell metadata was changed)")
    if len(code) > 1:
        notes.append(f"answer cell '{grade_id}' appears {len(code)} times; the last one "
                     "was graded")
    text = cell_text(code[-1])
    if len(text) > MAX_ANSWER_CHARS:
        return "", (f"your answer cell '{grade_id}' has {len(text):,} characters, more than "
                    f"the {MAX_ANSWER_CHARS:,} an answer may have; it was not run")
    return text, None


def match_notebooks(source: SourceNotebook, submitted: dict[str, dict]) -> str | None:
    """The name of the submitted notebook to grade against ``source``, or ``None``.

    A notebook with the same file name wins; otherwise the one sharing the most answer
    ``grade_id`` values with the source (ties: the first name in sorted order).
    """
    wanted = set(source.answer_ids)
    best = None
    best_key = None
    for name in sorted(submitted):
        overlap = len(wanted & set(learner_answers(submitted[name])))
        same_name = Path(name).name == Path(source.name).name
        if not same_name and overlap == 0:
            continue
        key = (same_name, overlap)
        if best_key is None or key > best_key:
            best, best_key = name, key
    return best
