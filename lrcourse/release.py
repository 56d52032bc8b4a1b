"""Generate ``exercises/`` from ``solutions/``, following nbgrader's conventions.

    lrcourse release            write exercises/*.ipynb and exercises/README.md
    lrcourse release --check    write nothing; exit 1 naming every stale file

The solution notebooks are the single source.  For each one the exercise notebook is the same
notebook with:

* in cells marked ``nbgrader.solution``, every region between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError()``,
  indented like the ``BEGIN`` marker (a solution cell without markers is replaced whole; a
  markdown solution cell becomes ``YOUR ANSWER HERE``);
* every region between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` removed, markers
  included (they run only when grading, from ``solutions/``);
* outputs and execution counts cleared, cell metadata reduced to ``nbgrader``, ``editable``,
  ``deletable`` and ``tags``, notebook metadata to the kernel, the language name and
  ``lrcourse`` (so re-running a solution does not make its exercise stale).

The output is a pure function of the input: the same solutions give byte-identical exercises.
``exercises/README.md`` is the exercise index: each exercise, the functions a learner writes,
their points and the lesson the exercise follows (notebook metadata ``lrcourse.follows``).
"""

from __future__ import annotations

import argparse
import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat takes seconds to import: only the functions that need it do
    import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = "YOUR ANSWER HERE"
KEPT_CELL_METADATA = ("nbgrader", "lrcourse", "editable", "deletable", "tags")
README = "README.md"


class ReleaseError(ValueError):
    """A solution notebook breaks the conventions (e.g. an unclosed marker)."""


# ------------------------------------------------------------------------ one notebook


def _replace_regions(source: str, begin: str, end: str, where: str,
                     stub: tuple[str, ...]) -> tuple[str, int]:
    """Replace each ``begin``..``end`` region (marker lines included) by ``stub`` lines,
    indented like the ``begin`` marker.  Returns the new source and the number of regions."""
    out: list[str] = []
    inside, found = False, 0
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise ReleaseError(f"{where}: {begin!r} inside another {begin!r}")
            inside, found = True, found + 1
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub)
        elif stripped == end:
            if not inside:
                raise ReleaseError(f"{where}: {end!r} without {begin!r}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{where}: {begin!r} is never closed by {end!r}")
    return "\n".join(out), found


def release_cell(cell: dict, where: str) -> dict:
    """The exercise version of one solution-notebook cell (a new cell; the input is untouched)."""
    cell = copy.deepcopy(cell)
    meta = cell.get("metadata", {}).get("nbgrader", {})
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    if meta.get("solution"):
        if cell["cell_type"] == "markdown":
            source = MARKDOWN_STUB
        else:
            source, found = _replace_regions(source, BEGIN_SOLUTION, END_SOLUTION, where,
                                             CODE_STUB)
            if not found:
                source = "\n".join(CODE_STUB)
    elif BEGIN_SOLUTION in source:
        raise ReleaseError(f"{where}: {BEGIN_SOLUTION!r} in a cell not marked as a solution")
    source, _ = _replace_regions(source, BEGIN_HIDDEN, END_HIDDEN, where, ())
    cell["source"] = source.rstrip()
    cell["metadata"] = {k: cell["metadata"][k] for k in KEPT_CELL_METADATA
                        if k in cell.get("metadata", {})}
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return cell


def release_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise notebook generated from one solution notebook."""
    out = copy.deepcopy(nb)
    out.cells = [release_cell(c, f"{name}, cell {i}") for i, c in enumerate(nb.cells)]
    meta = nb.get("metadata", {})
    out.metadata = {k: copy.deepcopy(meta[k]) for k in ("kernelspec", "lrcourse") if k in meta}
    out.metadata["language_info"] = {"name": meta.get("language_info", {}).get("name", "python")}
    import nbformat

    out.nbformat, out.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    nbformat.validate(out)
    return out


def dumps(nb: nbformat.NotebookNode) -> str:
    """Deterministic text of a notebook: sorted keys, one-space indent, final newline."""
    import nbformat

    return nbformat.writes(nb, version=4).rstrip("\n") + "\n"


# ------------------------------------------------------------------------ the index


@dataclass(frozen=True)
class ExerciseInfo:
    file: str
    title: str
    functions: list[tuple[str, int]]   # (name a learner writes, points of its check cells)
    follows: list[str]                 # lesson notebooks, relative to the repository

    @property
    def points(self) -> int:
        return sum(p for _, p in self.functions)


_DEF = re.compile(r"^(?:def|class)\s+(\w+)", re.M)


def describe(nb: nbformat.NotebookNode, file: str) -> ExerciseInfo:
    """What the index says about one solution notebook."""
    title = file
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            title = cell.source.lstrip().splitlines()[0].lstrip("# ").strip()
            title = re.sub(r"^Exercise\s+\d+\s*[·:.\-–—]\s*", "", title)
            break
    functions: list[list] = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            functions.extend([name, 0] for name in _DEF.findall(cell.source))
        elif meta.get("grade") and functions:
            functions[-1][1] += int(meta.get("points", 0))
    follows = list(nb.get("metadata", {}).get("lrcourse", {}).get("follows", []))
    return ExerciseInfo(file, title, [(n, p) for n, p in functions], follows)


def render_index(infos: list[ExerciseInfo]) -> str:
    lines = [
        "# Exercises",
        "",
        "Generated by `lrcourse release` from `solutions/`: do not edit by hand.",
        "",
        "In each notebook, replace every `raise NotImplementedError()` with your code, run the",
        "cell, then run the check cell below it: it compares your code with the real torch",
        "scheduler and prints `all public checks passed`, or the first step that differs with a",
        "plot of both curves. More cases, with random parameters, are checked when grading.",
        "From a terminal, in the repository's folder (this needs only what `./course lab`",
        "installed), save the notebook and check it:",
        "",
        "<!-- learner-commands -->",
        "```bash",
        "./course check exercises/ex01_step_multistep.ipynb   # one notebook",
        "./course check exercises/*.ipynb                     # all of them",
        "```",
        "",
        "reports each check with the same message the notebook shows, then a summary.",
        "",
        "| # | exercise | you write (points) | points | follows lesson |",
        "|---|---|---|---|---|",
    ]
    for i, info in enumerate(infos, 1):
        writes = ", ".join(f"`{n}` ({p})" for n, p in info.functions)
        lessons = ", ".join(f"[{Path(f).stem}](../{f})" for f in info.follows) or "–"
        lines.append(f"| {i} | [{info.title}]({info.file}) | {writes} | {info.points} | "
                     f"{lessons} |")
    total = sum(info.points for info in infos)
    lines += ["", f"Total: {total} points.", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------ the folder


def build(solutions: Path) -> dict[str, str]:
    """Every file of ``exercises/`` (name -> text), generated from ``solutions/*.ipynb``."""
    sources = sorted(solutions.glob("*.ipynb"))
    if not sources:
        raise ReleaseError(f"no solution notebooks in {solutions}")
    files: dict[str, str] = {}
    infos = []
    for path in sources:
        import nbformat

        nb = nbformat.read(path, as_version=4)
        files[path.name] = dumps(release_notebook(nb, path.name))
        infos.append(describe(nb, path.name))
    files[README] = render_index(infos)
    return files


def stale(files: dict[str, str], exercises: Path) -> dict[str, str]:
    """Files of ``exercises/`` that differ from ``files``: name -> "missing"/"differs"/"extra"."""
    found = {}
    for name, text in files.items():
        path = exercises / name
        if not path.is_file():
            found[name] = "missing"
        elif path.read_text(encoding="utf-8") != text:
            found[name] = "differs"
    if exercises.is_dir():
        for path in sorted(exercises.glob("*.ipynb")):
            if path.name not in files:
                found[path.name] = "extra (no solution notebook of that name)"
    return found


def write(files: dict[str, str], exercises: Path) -> list[str]:
    """Bring ``exercises/`` up to date; return the names written or removed."""
    changed = stale(files, exercises)
    exercises.mkdir(parents=True, exist_ok=True)
    for name, why in changed.items():
        if name in files:
            (exercises / name).write_text(files[name], encoding="utf-8")
        else:
            (exercises / name).unlink()
    return sorted(changed)


# ------------------------------------------------------------------------ command line


def _default_root() -> Path:
    here = Path(__file__).resolve().parent.parent
    return here if (here / "solutions").is_dir() else Path.cwd()


def configure_parser(parser: argparse.ArgumentParser) -> None:
    root = _default_root()
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and name the stale files if exercises/ is "
                             "not what solutions/ generates")
    parser.add_argument("--solutions", type=Path, default=root / "solutions",
                        help="solution notebooks (default: %(default)s)")
    parser.add_argument("--exercises", type=Path, default=root / "exercises",
                        help="folder to generate (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    import nbformat

    try:
        files = build(args.solutions)
    except (ReleaseError, OSError, nbformat.ValidationError) as exc:
        print(f"lrcourse release: {exc}")
        return 2
    if args.check:
        changed = stale(files, args.exercises)
        if not changed:
            print(f"{args.exercises}: up to date ({len(files)} files)")
            return 0
        print(f"{args.exercises} is stale; run `lrcourse release` to regenerate it:")
        for name, why in changed.items():
            print(f"  {args.exercises / name}: {why}")
        return 1
    changed = write(files, args.exercises)
    for name in changed:
        print(f"  {args.exercises / name}")
    print(f"{args.exercises}: {len(changed)} of {len(files)} files updated")
    return 0
