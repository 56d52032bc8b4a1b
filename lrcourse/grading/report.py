"""Write what grading found: ``scores.csv``, one HTML feedback page per learner, a summary.

* ``scores.csv``: a row per learner; a column per graded test cell (named by its grade_id, or
  ``notebook:grade_id`` when two notebooks use the same id) holding the points earned, then
  ``total`` and ``max``.
* ``feedback/<learner>.html``: a self-contained page (no external files): per exercise the
  points, the status and the check's message, and for a failed test the plot the check
  displayed (PNG embedded as base64).
* ``results.json``: the same, machine-readable, without images.

Nothing written depends on the time or the order the workers finished in, so grading the
same submissions twice writes identical files.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter
from pathlib import Path

from .assemble import SourceNotebook
from .grader import LearnerResult


def fmt(points: float) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5."""
    return str(int(points)) if float(points).is_integer() else f"{points:g}"


def columns(sources: list[SourceNotebook]) -> list[tuple[str, str, str]]:
    """``(notebook, grade_id, column name)`` for every graded test cell, in order."""
    counts = Counter(gid for nb in sources for gid, _ in nb.tests)
    return [(nb.name, gid, gid if counts[gid] == 1 else f"{nb.name}:{gid}")
            for nb in sources for gid, _ in nb.tests]


def write_scores(results: list[LearnerResult], sources: list[SourceNotebook],
                 path: Path) -> None:
    """Write ``scores.csv``."""
    cols = columns(sources)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["learner"] + [name for _, _, name in cols] + ["total", "max"])
        for result in results:
            points = {(r.notebook, r.grade_id): r.points for r in result.results}
            writer.writerow([result.learner] + [fmt(points.get((nb, gid), 0.0))
                                                for nb, gid, _ in cols]
                            + [fmt(result.total), fmt(result.max_points)])


def feedback_names(results: list[LearnerResult]) -> dict[str, str]:
    """A safe, unique file name (``<learner>.html``) for every learner."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for result in results:
        stem = re.sub(r"[^\w.-]+", "_", result.learner).strip("._") or "learner"
        candidate, n = stem, 1
        while candidate.casefold() in used:
            n += 1
            candidate = f"{stem}-{n}"
        used.add(candidate.casefold())
        names[result.learner] = candidate + ".html"
    return names


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
h1 { margin-bottom: .2rem; } .total { font-size: 1.3rem; color: #444; }
section { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; margin: .8rem 0; }
section h3 { margin: .2rem 0; font-family: monospace; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 4px; color: white;
         font-size: .85rem; margin-left: .5rem; }
.passed { background: #2e7d32; } .failed { background: #c62828; }
.timeout, .crashed { background: #6a1b9a; } .missing, .not-run { background: #757575; }
.message { white-space: pre-wrap; font-family: monospace; background: #f6f6f6;
           padding: .4rem; border-radius: 4px; }
img { max-width: 100%; margin-top: .4rem; } ul.notes { color: #555; }
"""


def render_feedback(result: LearnerResult) -> str:
    """The feedback page of one learner, as HTML text."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Feedback: {esc(result.learner)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(result.learner)}</h1>",
        f'<p class="total">{fmt(result.total)} / {fmt(result.max_points)} points</p>',
    ]
    if result.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in result.notes)
                     + "</ul>")
    notebook = None
    for r in result.results:
        if r.notebook != notebook:
            notebook = r.notebook
            parts.append(f"<h2>{esc(notebook)}</h2>")
        status = r.status.replace(" ", "-")
        parts.append(f'<section id="{esc(r.grade_id)}"><h3>{esc(r.grade_id)}'
                     f'<span class="badge {esc(status)}">{esc(r.status)}</span></h3>')
        parts.append(f"<p>{fmt(r.points)} / {fmt(r.max_points)} points</p>")
        parts.append(f'<div class="message">{esc(r.message)}</div>')
        for png in r.images:
            parts.append(f'<img alt="what the check drew for {esc(r.grade_id)}" '
                         f'src="data:image/png;base64,{png}">')
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_outputs(results: list[LearnerResult], sources: list[SourceNotebook],
                  out: Path) -> dict[str, Path]:
    """Write scores.csv, results.json and feedback/*.html under ``out``; return their paths."""
    out = Path(out)
    feedback = out / "feedback"
    feedback.mkdir(parents=True, exist_ok=True)
    write_scores(results, sources, out / "scores.csv")
    names = feedback_names(results)
    for result in results:
        (feedback / names[result.learner]).write_text(render_feedback(result), encoding="utf-8")
    slim = []
    for result in results:
        data = result.to_json()
        data["total"], data["max"] = result.total, result.max_points
        for r in data["results"]:
            r["images"] = len(r["images"])
        slim.append(data)
    (out / "results.json").write_text(json.dumps(slim, indent=1) + "\n", encoding="utf-8")
    return {"scores": out / "scores.csv", "feedback": feedback, "results": out / "results.json"}


def summary(results: list[LearnerResult]) -> str:
    """A plain-text table for the terminal: each learner's total and what went wrong."""
    if not results:
        return "no submissions graded"
    width = max(7, *(len(r.learner) for r in results))
    lines = [f"{'learner':<{width}}  {'score':>11}  problems"]
    for r in results:
        problems = Counter(t.status for t in r.results if t.status != "passed")
        text = ", ".join(f"{n} {status}" for status, n in sorted(problems.items())) or "-"
        score = f"{fmt(r.total)}/{fmt(r.max_points)}"
        lines.append(f"{r.learner:<{width}}  {score:>11}  {text}")
    mean = sum(r.total for r in results) / len(results)
    lines.append(f"{len(results)} learner(s), mean {mean:.2f}/{fmt(results[0].max_points)}")
    return "\n".join(lines)
