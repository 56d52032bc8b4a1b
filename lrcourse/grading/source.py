"""The instructor's source notebooks: what is graded, for how many points, and how.

A source notebook (in ``solutions/``) follows nbgrader's conventions.  Its code cells are

* **answer cells** (``"solution": true``, with a ``grade_id``): replaced by the learner's cell
  of the same ``grade_id`` when grading.  ``metadata.lrcourse.may_not_use`` lists what the
  answer may not call (dotted names: a module, a class or a function), e.g.
  ``["torch.optim.lr_scheduler", "lrcourse"]``;
* **test cells** (``"grade": true``, not a solution, with ``grade_id`` and ``points``).  A
  test cell must be a sequence of calls to lrcourse checks, ``check_x(name)`` and
  ``check_x(name, hidden=True, seed=N)`` (comments and nbgrader's hidden-test markers
  allowed).  The grader never runs these cells: it reads the calls and runs each check's
  probe in the sandbox and its judge in the grader.  Anything else in a test cell is an
  instructor error, reported when the source is loaded, before any learner is graded;
* **set-up cells** (everything else: imports, helpers): run in the sandbox as they are.

The cells are grouped into **exercises**: a run of answer cells and the test cells after
them (a set-up cell after an answer goes with that exercise).  An exercise is the unit that
loses its points when the learner's code breaks the sandbox (a timeout, a crash).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from lrcourse.checks import CHECK_MODULES


class SourceError(ValueError):
    """An instructor notebook that cannot be graded; the message says where and why."""


@dataclass(frozen=True)
class CheckCall:
    """One check call of a test cell: ``check(target)`` or its hidden form."""

    check: str
    target: str
    hidden: bool
    seed: int


@dataclass
class SourceCell:
    """A code cell of the source, classified."""

    kind: str                      # "setup", "answer" or "test"
    source: str
    grade_id: str | None = None
    points: float = 0.0
    group: int | None = None       # the exercise (None: set-up before the first answer)
    calls: list[CheckCall] = field(default_factory=list)       # test cells
    may_not_use: list[str] = field(default_factory=list)       # answer cells


@dataclass
class SourceNotebook:
    """An instructor notebook: where it lives and its cells, classified."""

    path: Path
    name: str
    cells: list[SourceCell]

    @property
    def tests(self) -> list[tuple[str, float]]:
        """``(grade_id, points)`` of the graded test cells, in order."""
        return [(c.grade_id or "", c.points) for c in self.cells if c.kind == "test"]

    @property
    def answer_ids(self) -> list[str]:
        return [c.grade_id or "" for c in self.cells if c.kind == "answer"]

    @property
    def max_points(self) -> float:
        return float(sum(points for _, points in self.tests))

    def to_json(self) -> dict:
        return {"name": self.name, "tests": [[gid, pts] for gid, pts in self.tests]}


def cell_text(cell: dict) -> str:
    """The text of a cell whose ``source`` is a string or a list of lines (else ``""``)."""
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def nbgrader_meta(cell: dict) -> dict:
    """The cell's ``metadata.nbgrader`` dictionary, or ``{}`` when absent or malformed."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def is_code(cell: dict) -> bool:
    return isinstance(cell, dict) and cell.get("cell_type") == "code"


def is_answer(cell: dict) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) and bool(meta.get("grade_id"))


def is_test(cell: dict) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and bool(meta.get("grade_id"))


# ------------------------------------------------------------------------------ test cells

_FORM = "check_x(name) or check_x(name, hidden=True, seed=N)"


def parse_test_cell(text: str, where: str) -> list[CheckCall]:
    """The check calls of a test cell; SourceError for anything else."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise SourceError(f"{where}: not valid Python (line {exc.lineno}: {exc.msg})") from None
    calls = []
    for node in tree.body:
        line = f"{where}, line {node.lineno}"
        call = node.value if isinstance(node, ast.Expr) else None
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            raise SourceError(f"{line}: a test cell may only call lrcourse checks ({_FORM}); "
                              f"found `{ast.unparse(node)[:60]}`")
        check = call.func.id
        if check not in CHECK_MODULES:
            raise SourceError(f"{line}: {check} is not an lrcourse check (known: "
                              f"{', '.join(sorted(CHECK_MODULES))})")
        if len(call.args) != 1 or not isinstance(call.args[0], ast.Name):
            raise SourceError(f"{line}: {check} takes one name, the learner's function or "
                              f"class ({_FORM})")
        options = {}
        for keyword in call.keywords:
            value = keyword.value
            if keyword.arg == "hidden" and isinstance(value, ast.Constant) and \
                    isinstance(value.value, bool):
                options["hidden"] = value.value
            elif keyword.arg == "seed" and isinstance(value, ast.Constant) and \
                    isinstance(value.value, int) and not isinstance(value.value, bool):
                options["seed"] = value.value
            else:
                raise SourceError(f"{line}: {check}: only hidden=True/False and seed=<integer> "
                                  f"may be given ({_FORM})")
        hidden = options.get("hidden", False)
        if hidden and "seed" not in options:
            raise SourceError(f"{line}: {check}(..., hidden=True) needs seed=<integer>, so "
                              "that each hidden call draws its own cases")
        calls.append(CheckCall(check, call.args[0].id, hidden, int(options.get("seed", 0))))
    if not calls:
        raise SourceError(f"{where}: a test cell needs at least one check call ({_FORM})")
    return calls


def _may_not_use(cell: dict, where: str) -> list[str]:
    meta = cell.get("metadata", {}).get("lrcourse", {}) if isinstance(cell, dict) else {}
    names = meta.get("may_not_use", []) if isinstance(meta, dict) else []
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise SourceError(f"{where}: metadata lrcourse.may_not_use must be a list of dotted "
                          "names")
    return list(names)


# ------------------------------------------------------------------------------ notebooks


def load_source(path: Path, root: Path | None = None) -> SourceNotebook:
    """Read an instructor notebook; SourceError for anything that would make grading wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: cannot be read as a notebook ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise SourceError(f"{path}: not a notebook (no list of cells)")
    name = path.relative_to(root).as_posix() if root else path.name
    cells: list[SourceCell] = []
    seen: set[str] = set()
    group: int | None = None
    previous = "setup"
    for index, cell in enumerate(data["cells"]):
        if not is_code(cell):
            continue
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        where = f"{path.name}, cell {index} ({grade_id or 'no grade_id'})"
        if grade_id:
            if grade_id in seen:
                raise SourceError(f"{path}: grade_id {grade_id!r} is used by two cells")
            seen.add(grade_id)
        text = cell_text(cell)
        if is_answer(cell):
            if group is None or previous == "test":
                group = 0 if group is None else group + 1
            cells.append(SourceCell("answer", text, grade_id, group=group,
                                    may_not_use=_may_not_use(cell, where)))
            previous = "answer"
        elif is_test(cell):
            if group is None:
                raise SourceError(f"{where}: a test cell before any answer cell tests nothing "
                                  "the learner wrote")
            points = meta.get("points", 0) or 0
            if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
                raise SourceError(f"{where}: points must be a number >= 0")
            cells.append(SourceCell("test", text, grade_id, float(points), group,
                                    calls=parse_test_cell(text, where)))
            previous = "test"
        else:
            cells.append(SourceCell("setup", text, grade_id, group=group))
    return SourceNotebook(path=path, name=name, cells=cells)


def find_sources(source: Path) -> list[SourceNotebook]:
    """The graded source notebooks under ``source`` (a folder, searched recursively, or one
    notebook), in path order.  Notebooks without graded test cells are left out."""
    source = Path(source)
    if source.is_file():
        found = [load_source(source)]
    elif source.is_dir():
        paths = sorted(p for p in source.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        found = [load_source(p, root=source) for p in paths]
    else:
        raise SourceError(f"{source} does not exist")
    graded = [nb for nb in found if nb.tests]
    if not graded:
        raise SourceError(f"no notebook with graded test cells (nbgrader 'grade': true) in "
                          f"{source}")
    return graded
