"""Build the notebook that is actually run for one learner.

The grader never runs a submitted notebook as it is.  It starts from the instructor's *source*
notebook (in ``solutions/``) and, cell by cell:

* an **answer cell** (nbgrader ``"solution": true``) is replaced by the learner's cell carrying
  the same ``grade_id``, wherever that cell sits in the submission;
* a **test cell** (nbgrader ``"grade": true``, not a solution) is always the source's cell,
  hidden tests included, so editing or deleting a test cell in the submission changes nothing;
* any other code cell (imports, set-up) comes from the source as well; markdown is dropped.

Answer cells are matched by ``grade_id`` only, so reordered cells are found.  When the
submission holds the same ``grade_id`` more than once, the *last* such cell is used (what
"Run All" would leave defined) and a note says so.  A missing answer cell (deleted, metadata
removed, turned into markdown) is recorded with the reason; its exercise scores 0.

Cells are grouped into **exercises**: a run of answer cells followed by the test cells that
come after them (set-up cells in between, or after them, go with that exercise; set-up cells
before the first answer belong to no exercise).  An exercise is the unit that loses its
points when something goes wrong.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 50 * 2**20
"""Submitted files larger than this are not read (a notebook with outputs is a few MB)."""


class NotebookError(Exception):
    """A file that cannot be used as a notebook; the message is the learner-facing reason."""


@dataclass
class Cell:
    """One code cell of the notebook to run.

    ``kind`` is ``"setup"`` (from the source, not graded), ``"answer"`` (the learner's code)
    or ``"test"`` (from the source, graded).  ``group`` numbers the exercise the cell belongs
    to (``None`` for set-up cells before the first answer).  ``missing`` is set on an answer
    cell that the submission lacks, with the reason.
    """

    kind: str
    source: str
    grade_id: str | None = None
    points: float = 0.0
    group: int | None = None
    missing: str | None = None


@dataclass
class SourceNotebook:
    """An instructor notebook: where it lives, its cells, and its graded tests in order."""

    path: Path
    name: str
    cells: list[dict]
    tests: list[tuple[str, float]] = field(default_factory=list)
    answer_ids: list[str] = field(default_factory=list)

    @property
    def max_points(self) -> float:
        """Sum of the points of the graded test cells."""
        return float(sum(points for _, points in self.tests))


@dataclass
class Assembled:
    """The cells to run for one (source, submission) pair, plus notes for the feedback."""

    source: SourceNotebook
    cells: list[Cell]
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Reading notebooks leniently


def cell_source(cell: dict) -> str:
    """The text of a cell whose ``source`` is a string or a list of lines (else ``""``)."""
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def nbgrader_meta(cell: dict) -> dict:
    """The cell's ``metadata.nbgrader`` dictionary, or ``{}`` when absent or malformed."""
    if not isinstance(cell, dict):
        return {}
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def read_notebook(path: Path) -> dict:
    """Read ``path`` as a version-4 notebook dictionary, or raise :class:`NotebookError`.

    Only what grading needs is checked: valid JSON, an object with a list of cells.  Version-3
    notebooks are converted with nbformat.  The file is opened read-only and never written.
    """
    path = Path(path)
    if path.suffix.lower() != ".ipynb":
        kind = f"a {path.suffix} file" if path.suffix else "a file without extension"
        raise NotebookError(f"{path.name} is not a Jupyter notebook ({kind}, expected .ipynb)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotebookError(f"{path.name} could not be read ({exc.strerror})") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(
            f"{path.name} is {size / 2**20:.0f} MB, more than the "
            f"{MAX_NOTEBOOK_BYTES // 2**20} MB a notebook may have; it was not read"
        )
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        raise NotebookError(f"{path.name} could not be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise NotebookError(f"{path.name} is not a text file, so not a notebook") from None
    if not text.strip():
        raise NotebookError(f"{path.name} is empty")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = (f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
                 if isinstance(exc, json.JSONDecodeError) else " (nested too deeply)")
        raise NotebookError(f"{path.name} is damaged: not valid notebook JSON{where}") from None
    if not isinstance(data, dict):
        raise NotebookError(f"{path.name} is JSON but not a notebook (no 'cells')")
    if data.get("nbformat") == 3 and "worksheets" in data:
        data = _upgrade_v3(data, path)
    if not isinstance(data.get("cells"), list):
        raise NotebookError(f"{path.name} is JSON but not a notebook (no 'cells' list)")
    return data


def _upgrade_v3(data: dict, path: Path) -> dict:
    """Convert an old version-3 notebook with nbformat; :class:`NotebookError` if it fails."""
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            upgraded = nbformat.convert(nbformat.from_dict(data), 4)
            return json.loads(nbformat.writes(upgraded))
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot be used"
        raise NotebookError(f"{path.name} is an old notebook that could not be converted "
                            f"({type(exc).__name__})") from None


# ---------------------------------------------------------------------------------------------
# Source notebooks


def _is_code(cell: dict) -> bool:
    return isinstance(cell, dict) and cell.get("cell_type") == "code"


def _is_answer(cell: dict) -> bool:
    return bool(nbgrader_meta(cell).get("solution")) and bool(nbgrader_meta(cell).get("grade_id"))


def _is_test(cell: dict) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and bool(meta.get("grade_id"))


def load_source(path: Path, root: Path | None = None) -> SourceNotebook:
    """Read an instructor notebook and list its graded test cells and answer cells.

    Raises :class:`ValueError` for an instructor mistake that would make grading ambiguous:
    a ``grade_id`` used twice in the same notebook.
    """
    path = Path(path)
    data = read_notebook(path)
    name = path.relative_to(root).as_posix() if root else path.name
    src = SourceNotebook(path=path, name=name, cells=data["cells"])
    seen: set[str] = set()
    for cell in src.cells:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if not grade_id or not _is_code(cell):
            continue
        if grade_id in seen:
            raise ValueError(f"{path}: grade_id {grade_id!r} is used by two cells")
        seen.add(grade_id)
        if _is_answer(cell):
            src.answer_ids.append(grade_id)
        elif _is_test(cell):
            src.tests.append((grade_id, float(meta.get("points", 0) or 0)))
    return src


def find_sources(source: Path) -> list[SourceNotebook]:
    """The graded source notebooks under ``source`` (a folder, searched recursively, or one
    notebook), in path order.  Notebooks without graded test cells are left out."""
    source = Path(source)
    if source.is_file():
        found = [load_source(source)]
    else:
        paths = sorted(p for p in source.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        found = [load_source(p, root=source) for p in paths]
    graded = [nb for nb in found if nb.tests]
    if not graded:
        raise ValueError(f"no notebook with graded test cells (nbgrader 'grade': true) in {source}")
    return graded


# ---------------------------------------------------------------------------------------------
# Learner cells


def learner_answers(notebook: dict) -> dict[str, list[dict]]:
    """The submission's cells by ``grade_id``, in notebook order (duplicates kept)."""
    found: dict[str, list[dict]] = {}
    for cell in notebook.get("cells", []):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if isinstance(grade_id, str) and grade_id:
            found.setdefault(grade_id, []).append(cell)
    return found


def assemble(source: SourceNotebook, submission: dict) -> Assembled:
    """The cells to run: the source notebook with the learner's answer cells put in."""
    answers = learner_answers(submission)
    cells: list[Cell] = []
    notes: list[str] = []
    group: int | None = None
    previous = "setup"
    for cell in source.cells:
        if not _is_code(cell):
            continue
        meta = nbgrader_meta(cell)
        if _is_answer(cell):
            grade_id = meta["grade_id"]
            if group is None or previous == "test":
                group = 0 if group is None else group + 1
            text, missing = _learner_cell(grade_id, answers.get(grade_id, []), notes)
            cells.append(Cell("answer", text, grade_id, 0.0, group, missing))
            previous = "answer"
        elif _is_test(cell):
            if group is None:
                group = 0
            cells.append(Cell("test", cell_source(cell), meta["grade_id"],
                              float(meta.get("points", 0) or 0), group))
            previous = "test"
        else:
            # A set-up cell after an answer may call the learner's code: it belongs to the
            # exercise it follows, so a loop in it costs that exercise, not the notebook.
            cells.append(Cell("setup", cell_source(cell), group=group))
    return Assembled(source=source, cells=cells, notes=notes)


def _learner_cell(grade_id: str, candidates: list[dict], notes: list[str]):
    """The learner's code for ``grade_id`` and, if there is none, why (``(text, missing)``)."""
    code = [c for c in candidates if _is_code(c)]
    if not code:
        if candidates:
            kind = candidates[-1].get("cell_type", "unknown") if isinstance(
                candidates[-1], dict) else "unknown"
            return "", f"your answer cell '{grade_id}' was turned into a {kind} cell"
        return "", (f"your notebook has no answer cell '{grade_id}' (deleted, or its "
                    "cell metadata was changed)")
    if len(code) > 1:
        notes.append(f"answer cell '{grade_id}' appears {len(code)} times; the last one "
                     "was graded")
    return cell_source(code[-1]), None


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
