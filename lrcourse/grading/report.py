"""Write what grading found: ``scores.csv``, ``results.json``, one feedback page per learner.

* ``scores.csv``: a row per learner; a column per graded test cell (named by its grade_id, or
  ``notebook:grade_id`` when two notebooks use the same id) holding the points earned, then
  ``total``, ``max`` and ``flagged`` (the grade_ids flagged for review).  Cells beginning with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a leading ``'``, so a learner
  named ``=HYPERLINK(...)`` stays text in a spreadsheet;
* ``feedback/<learner>.html``: a self-contained page rendered by Jinja2 with autoescaping (all
  learner-supplied text is escaped; a Content-Security-Policy forbids scripts and remote
  content anyway): per exercise the points, the status, the check's message, the overlay
  plot of a failed public case, what was flagged for review, and how the code was isolated;
* ``results.json``: the same, for scripts (images counted, not included).

Every file is written to a temporary name in the same folder and renamed over the old one,
so an interrupted run never leaves a half-written file.  Grading part of a class again (one
learner, one exercise) *updates* the folder: the rows and columns of what was re-graded are
replaced, everything else is kept (``.grading-state.json`` remembers the full results,
plots included).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

from .results import LearnerResult, TestResult

FORMAT = "lrcourse-grading/2"
STATE = ".grading-state.json"
_PNG = re.compile(r"^[A-Za-z0-9+/=]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def fmt(points: float) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5."""
    return str(int(points)) if float(points).is_integer() else f"{points:g}"


def csv_safe(text: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never evaluates as a formula."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def terminal_safe(text: str) -> str:
    """Text fit for the instructor's terminal: control characters (escape sequences, which
    could set the clipboard or rewrite the screen), invisible and bidirectional formatting
    characters (which could reorder a line) and undecodable file-name bytes become ``?``."""
    text = _CONTROL.sub("?", str(text)).encode("utf-8", "replace").decode("utf-8")
    return "".join("?" if unicodedata.category(c)[0] == "C" or unicodedata.category(c) in
                   ("Zl", "Zp") else c for c in text)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide East Asian characters take two, combining
    marks none), so that a learner's name cannot push a score out of its column."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # errors="replace": text from file names that are not valid UTF-8 never stops a write
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --------------------------------------------------------------------------------- state


def load_state(out: Path) -> dict:
    """What a previous run wrote into ``out`` (empty if nothing, or another format)."""
    try:
        state = json.loads((Path(out) / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"notebooks": [], "learners": [], "sandbox": {}}
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        return {"notebooks": [], "learners": [], "sandbox": {}}
    return state


def merge_state(state: dict, learners: list[LearnerResult], notebooks: list[dict],
                sandbox: str) -> dict:
    """The previous state with the re-graded (learner, notebook) results replaced."""
    graded = {nb["name"] for nb in notebooks}
    known = {nb["name"]: nb for nb in state.get("notebooks", [])}
    known.update({nb["name"]: nb for nb in notebooks})
    order = [nb["name"] for nb in state.get("notebooks", [])]
    order += [nb["name"] for nb in notebooks if nb["name"] not in order]
    position = {(nb, gid): (i, j) for i, nb in enumerate(order)
                for j, (gid, _) in enumerate(known[nb]["tests"])}
    people = {p["learner"]: p for p in state.get("learners", [])}
    for learner in learners:
        old = people.get(learner.learner, {})
        kept = [r for r in old.get("results", []) if r["notebook"] not in graded]
        data = learner.to_json()
        data["results"] = sorted(kept + data["results"], key=lambda r: position.get(
            (r["notebook"], r["grade_id"]), (len(order), 0)))
        data["sandbox"] = {**old.get("sandbox", {}), **{name: sandbox for name in graded}}
        people[learner.learner] = data
    ordered = sorted(people.values(), key=lambda p: (p["learner"].casefold(), p["learner"]))
    return {"format": FORMAT, "notebooks": [known[n] for n in order], "learners": ordered}


def _learner(data: dict) -> LearnerResult:
    return LearnerResult.from_json(data)


# -------------------------------------------------------------------------------- outputs


def columns(notebooks: list[dict]) -> list[tuple[str, str, str]]:
    """``(notebook, grade_id, column name)`` for every graded test cell, in order."""
    counts = Counter(gid for nb in notebooks for gid, _ in nb["tests"])
    return [(nb["name"], gid, gid if counts[gid] == 1 else f"{nb['name']}:{gid}")
            for nb in notebooks for gid, _ in nb["tests"]]


def scores_csv(state: dict) -> str:
    cols = columns(state["notebooks"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_safe(c) for c in ["learner"] + [name for _, _, name in cols]
                     + ["total", "max", "flagged"]])
    for data in state["learners"]:
        learner = _learner(data)
        points = {(r.notebook, r.grade_id): r.points for r in learner.results}
        maximum = sum(pts for nb in state["notebooks"] for _, pts in nb["tests"])
        writer.writerow([csv_safe(learner.learner)]
                        + [fmt(points.get((nb, gid), 0.0)) for nb, gid, _ in cols]
                        + [fmt(learner.total), fmt(maximum),
                           csv_safe(" ".join(learner.flagged))])
    return buffer.getvalue()


def results_json(state: dict) -> str:
    pages = feedback_names([p["learner"] for p in state["learners"]])
    slim = []
    for data in state["learners"]:
        learner = _learner(data)
        item = learner.to_json()
        item["total"], item["max"] = learner.total, learner.max_points
        item["flagged"] = learner.flagged
        item["sandbox"] = data.get("sandbox", {})
        item["feedback"] = f"feedback/{pages[learner.learner]}"
        for r in item["results"]:
            r["images"] = len(r["images"])
        slim.append(item)
    return json.dumps({"format": FORMAT, "notebooks": state["notebooks"], "learners": slim},
                      indent=1) + "\n"


def feedback_names(names: list[str]) -> dict[str, str]:
    """A safe, unique file name (``<learner>.html``) for every learner (``results.json``
    records it as each learner's ``feedback``).

    A name that is already a safe file name keeps it; any other (``a b``, ``_alice``,
    ``Zoë/../x``, a name with control characters) gets a short hash of the exact name, as do
    names that differ only in case.  So no learner can take another's page by choosing a
    name that cleans up to theirs: a page's name does not depend on who else is graded.
    """
    stems = {name: re.sub(r"[^\w.-]+", "_", name).strip("._")[:80] or "learner"
             for name in names}
    folded = Counter(stem.casefold() for name, stem in stems.items() if stem == name)
    out: dict[str, str] = {}
    used: set[str] = set()
    for name, stem in stems.items():
        if stem != name or folded[stem.casefold()] > 1:
            digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
            stem = f"{stem}-{digest}"
        candidate, n = stem, 1
        while candidate.casefold() in used:
            n += 1
            candidate = f"{stem}-{n}"
        used.add(candidate.casefold())
        out[name] = candidate + ".html"
    return out


_ENV = None


def _template():
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(
            loader=jinja2.PackageLoader("lrcourse.grading", "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
            lstrip_blocks=True)
    return _ENV.get_template("feedback.html.j2")


def render_feedback(data: dict) -> str:
    """The feedback page of one learner (a ``state["learners"]`` entry), as HTML text."""
    learner = _learner(data)
    notebooks: list[tuple[str, list[TestResult]]] = []
    for r in learner.results:
        r.images = [png for png in r.images if isinstance(png, str) and _PNG.match(png)]
        if not notebooks or notebooks[-1][0] != r.notebook:
            notebooks.append((r.notebook, []))
        notebooks[-1][1].append(r)
    sandboxes = sorted(set(data.get("sandbox", {}).values()))
    unsandboxed = next((s for s in sandboxes if s.startswith("NOT SANDBOXED")), "")
    return _template().render(learner=learner, notebooks=notebooks, fmt=fmt,
                              sandboxes=sandboxes, unsandboxed=unsandboxed) + "\n"


def write_outputs(learners: list[LearnerResult], notebooks: list[dict], out: Path,
                  sandbox: str) -> dict[str, Path]:
    """Merge ``learners`` into ``out`` and (re)write every output; return their paths."""
    out = Path(out)
    state = merge_state(load_state(out), learners, notebooks, sandbox)
    _write_state(state, out)
    feedback = out / "feedback"
    return {"scores": out / "scores.csv", "feedback": feedback, "results": out / "results.json"}


def collect_outputs(folders: list[Path], out: Path) -> list[LearnerResult]:
    """Merge the output folders of several grading runs (one per machine or container, say)
    into ``out``, in the order given (a later folder wins for a learner and notebook graded
    in both); return every learner now in ``out``."""
    state = load_state(out)
    for folder in folders:
        other = load_state(folder)
        if not other["learners"] and not other["notebooks"]:
            raise ValueError(f"{folder} holds no grading results ({STATE} is missing)")
        for data in other["learners"]:
            learner = _learner(data)
            graded = sorted({r.notebook for r in learner.results})
            for name in graded:
                sandbox = data.get("sandbox", {}).get(name, "")
                part = LearnerResult(learner.learner, learner.submission,
                                     [r for r in learner.results if r.notebook == name],
                                     learner.notes)
                state = merge_state(state, [part], [nb for nb in other["notebooks"]
                                                    if nb["name"] == name], sandbox)
    _write_state(state, Path(out))
    return [_learner(d) for d in state["learners"]]


def _write_state(state: dict, out: Path) -> None:
    feedback = out / "feedback"
    feedback.mkdir(parents=True, exist_ok=True)
    names = feedback_names([p["learner"] for p in state["learners"]])
    for data in state["learners"]:
        write_atomic(feedback / names[data["learner"]], render_feedback(data))
    write_atomic(out / "scores.csv", scores_csv(state))
    write_atomic(out / "results.json", results_json(state))
    write_atomic(out / STATE, json.dumps(state) + "\n")


def summary(learners: list[LearnerResult]) -> str:
    """A plain-text table for the terminal: each learner's total and what went wrong."""
    if not learners:
        return "no submissions graded"
    names = [terminal_safe(r.learner) for r in learners]
    width = max(7, *(display_width(n) for n in names))
    lines = [f"{'learner':<{width}}  {'score':>11}  problems"]
    for name, r in zip(names, learners, strict=True):
        name += " " * (width - display_width(name))
        problems = Counter(t.status for t in r.results if t.status != "passed")
        flagged = len(r.flagged)
        text = ", ".join(f"{n} {status}" for status, n in sorted(problems.items()))
        if flagged:
            text = ", ".join(filter(None, [text, f"{flagged} flagged for review"]))
        score = f"{fmt(r.total)}/{fmt(r.max_points)}"
        lines.append(f"{name}  {score:>11}  {text or '-'}")
    mean = sum(r.total for r in learners) / len(learners)
    lines.append(f"{len(learners)} learner(s), mean {mean:.2f}/{fmt(learners[0].max_points)}")
    return "\n".join(lines)
