"""`lrcourse grade` on crafted submissions: exact scores, exact reasons, safety guarantees.

The source notebook is tests/grading_fixtures/source/schedules.ipynb: a set-up cell with a
`check` helper that displays a 2x2 red PNG and raises CheckFailed (as lrcourse.checks does),
then three exercises with 2 + (2 + 1) + 3 = 8 points.  Every learner below is built from it,
graded once by the real command (worker processes, --jobs 2), and asserted on.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from lrcourse.grading import assemble, cli, report
from lrcourse.grading.assemble import Cell, NotebookError
from lrcourse.grading.grader import DEFAULT_MEMORY_MB, LearnerResult, Worker, unique_names
from lrcourse.grading.sandbox import run_cells

FIXTURES = Path(__file__).parent / "grading_fixtures"
SOURCE = FIXTURES / "source"
SOURCE_NB = SOURCE / "schedules.ipynb"
TIMEOUT = 4
MEMORY_MB = 1024
# base64 of the 2x2 red PNG that the fixture's `check` displays when it fails
RED_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR42mP4z8AARAwQCgAf7gP9Y167Ww"
           "AAAABJRU5ErkJggg==")
PASSED = "all public checks passed"

WARMUP = "def linear_warmup(step, warmup, lr):\n    return lr * min(1.0, (step + 1) / warmup)\n"
STEP = "def step_decay(step, lr, step_size, gamma):\n    return lr * gamma ** (step // step_size)\n"
COSINE = ("import math\n\ndef cosine(step, total, lr):\n"
          "    return lr * (1 + math.cos(math.pi * step / total)) / 2\n")
CORRECT = {"warmup_answer": WARMUP, "step_answer": STEP, "cosine_answer": COSINE}
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"
EMPTY = {
    "warmup_answer": "def linear_warmup(step, warmup, lr):\n" + STUB,
    "step_answer": "def step_decay(step, lr, step_size, gamma):\n" + STUB,
    "cosine_answer": "def cosine(step, total, lr):\n" + STUB,
}
UNKILLABLE_LOOP = ("import time\nwhile True:\n    try:\n        time.sleep(1)\n"
                   "    except BaseException:\n        pass\n")

WARMUP_MSG = "linear_warmup(0, 4, 0.1) should be 0.025: the first step already uses 1/4 of lr"
TIMED_OUT = f"was stopped after {TIMEOUT} s (an infinite loop, or far too slow)"
DIED = ("ended the Python process running it (os._exit, exit(), a crash in compiled code, "
        "or memory exhausted)")
NOT_ANSWERED = "not answered yet: your function still raises NotImplementedError"


def grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def notebook(answers: dict[str, str | None], tests: dict[str, str | None] | None = None) -> dict:
    """The source notebook as a learner would hand it in: answer cells replaced by `answers`
    (None deletes the cell), test cells edited or deleted by `tests`, outputs cleared."""
    nb = json.loads(SOURCE_NB.read_text())
    edits = {**answers, **(tests or {})}
    cells = []
    for cell in nb["cells"]:
        gid = grade_id(cell)
        if gid in edits:
            if edits[gid] is None:
                continue
            cell["source"] = edits[gid]
        cells.append(cell)
    nb["cells"] = cells
    return nb


def write(path: Path, nb: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))
    return path


def craft_submissions(root: Path) -> list[Path]:
    """Write every crafted submission under `root`; return the paths given to the command."""
    subs = []
    # correct, in a folder named after the learner, notebook under the source's name
    subs.append(write(root / "alice" / "schedules.ipynb", notebook(CORRECT)).parent)
    # partly wrong (off-by-one warm-up), a lone notebook under the learner's name
    subs.append(write(root / "bob.ipynb", notebook(
        {**CORRECT, "warmup_answer": WARMUP.replace("(step + 1)", "step")})))
    # the unanswered exercise notebook
    subs.append(write(root / "carol.ipynb", notebook(EMPTY)))
    # an infinite loop inside a function the test calls (interruptible)
    subs.append(write(root / "dave.ipynb", notebook(
        {**CORRECT, "step_answer": "def step_decay(step, lr, step_size, gamma):\n"
                                   "    while True:\n        pass\n"})))
    # an answer cell that loops and swallows the interrupt: its kernel must be killed
    subs.append(write(root / "erin.ipynb", notebook({**CORRECT, "cosine_answer": UNKILLABLE_LOOP})))
    # a memory hog
    subs.append(write(root / "frank.ipynb", notebook(
        {**CORRECT, "warmup_answer": "def linear_warmup(step, warmup, lr):\n    hoard = []\n"
                                     "    while True:\n"
                                     "        hoard.append(bytearray(64 * 2**20))\n"})))
    # tampered tests: a wrong answer, its test cell emptied, another test cell deleted
    subs.append(write(root / "grace.ipynb", notebook(
        {**CORRECT, "warmup_answer": "def linear_warmup(step, warmup, lr):\n    return lr\n"},
        tests={"warmup_test": f"print({PASSED!r})\n", "step_test": None})))
    # reordered and duplicated cells: the last copy of a duplicate is graded
    heidi = notebook(CORRECT)
    dup = copy.deepcopy(next(c for c in heidi["cells"] if grade_id(c) == "cosine_answer"))
    dup["source"] = "def cosine(step, total, lr):\n    return 0.0\n"
    heidi["cells"] = [dup] + heidi["cells"][::-1]
    subs.append(write(root / "heidi" / "schedules.ipynb", heidi).parent)
    # corrupt JSON
    (root / "ivan.ipynb").write_text('{"cells": [\n')
    subs.append(root / "ivan.ipynb")
    # wrong file type
    (root / "judy.py").write_text(WARMUP + STEP + COSINE)
    subs.append(root / "judy.py")
    # sys.exit in an answer cell
    subs.append(write(root / "mallory.ipynb", notebook(
        {**CORRECT, "step_answer": "import sys\nsys.exit('bye')\n"})))
    # os._exit inside a function the test calls
    subs.append(write(root / "oscar.ipynb", notebook(
        {**CORRECT, "warmup_answer": "import os\n\ndef linear_warmup(step, warmup, lr):\n"
                                     "    os._exit(3)\n"})))
    # a renamed function and a deleted answer cell
    subs.append(write(root / "peggy.ipynb", notebook(
        {**CORRECT, "warmup_answer": WARMUP.replace("linear_warmup", "warm_up"),
         "cosine_answer": None})))
    # huge output
    subs.append(write(root / "trent.ipynb", notebook(
        {**CORRECT, "warmup_answer": WARMUP + "print('x' * 3_000_000)\n"
                                              "for i in range(100_000):\n    print(i)\n"})))
    # writes to the process's file descriptors directly, bypassing the notebook's capture
    subs.append(write(root / "victor.ipynb", notebook(
        {**CORRECT, "warmup_answer": WARMUP + "import os\nos.write(1, b'not json\\n')\n"
                                              "os.write(2, b'noise\\n')\n"
                                              "os.system('echo from a shell')\n"})))
    # a folder without any notebook
    (root / "walter").mkdir()
    (root / "walter" / "answers.txt").write_text("I did it all in my head.\n")
    subs.append(root / "walter")
    return subs


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def run_grade(argv: list[str]) -> tuple[int, str]:
    """Run the `grade` subcommand in this process; return its exit status and stdout."""
    parser = argparse.ArgumentParser()
    cli.configure_parser(parser)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = cli.run(parser.parse_args(argv))
    return status, out.getvalue()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Craft the submissions, grade them all once, and return what the run produced."""
    root = tmp_path_factory.mktemp("submissions")
    subs = craft_submissions(root)
    before = digest(root)
    out = tmp_path_factory.mktemp("graded")
    status, stdout = run_grade([*map(str, subs), "--out", str(out), "--source", str(SOURCE),
                                "--timeout", str(TIMEOUT), "--jobs", "2",
                                "--memory-mb", str(MEMORY_MB)])
    data = json.loads((out / "results.json").read_text())
    results = {d["learner"]: {r["grade_id"]: r for r in d["results"]} for d in data}
    notes = {d["learner"]: d["notes"] for d in data}
    return dict(root=root, subs=subs, before=before, out=out, status=status, stdout=stdout,
                results=results, notes=notes)


# ---------------------------------------------------------------------------------------------
# Scores


EXPECTED_CSV = """\
learner,warmup_test,step_test,step_test_more,cosine_test,total,max
alice,2,2,1,3,8,8
bob,0,2,1,3,6,8
carol,0,0,0,0,0,8
dave,2,0,0,3,5,8
erin,2,2,1,0,5,8
frank,0,2,1,3,6,8
grace,0,2,1,3,6,8
heidi,2,2,1,3,8,8
ivan,0,0,0,0,0,8
judy,0,0,0,0,0,8
mallory,2,0,0,3,5,8
oscar,0,2,1,3,6,8
peggy,0,2,1,0,3,8
trent,2,2,1,3,8,8
victor,2,2,1,3,8,8
walter,0,0,0,0,0,8
"""


def test_scores_csv(graded):
    assert graded["status"] == 0
    assert (graded["out"] / "scores.csv").read_text() == EXPECTED_CSV


def reasons(graded, learner):
    return {gid: (r["status"], r["message"]) for gid, r in graded["results"][learner].items()}


def test_correct_submission_passes_everything(graded):
    assert reasons(graded, "alice") == {gid: ("passed", PASSED) for gid in
                                        ("warmup_test", "step_test", "step_test_more",
                                         "cosine_test")}
    assert graded["notes"]["alice"] == []


def test_partly_wrong_gets_the_checks_message(graded):
    got = reasons(graded, "bob")
    assert got["warmup_test"] == ("failed", WARMUP_MSG)
    assert got["cosine_test"] == ("passed", PASSED)


def test_empty_exercise_notebook_scores_zero(graded):
    assert set(reasons(graded, "carol").values()) == {("failed", NOT_ANSWERED)}


def test_infinite_loop_costs_only_that_exercise(graded):
    got = reasons(graded, "dave")
    assert got["step_test"] == ("timeout", f"this test {TIMED_OUT}")
    assert got["step_test_more"] == ("timeout", f"not run: the test 'step_test' before it "
                                                f"{TIMED_OUT}")
    assert got["cosine_test"] == ("passed", PASSED)


def test_loop_that_ignores_the_interrupt_is_killed(graded):
    got = reasons(graded, "erin")
    assert got["cosine_test"] == ("timeout", f"your answer cell 'cosine_answer' {TIMED_OUT}, "
                                             "so this test was not run")
    assert got["step_test_more"] == ("passed", PASSED)


def test_memory_hog_hits_the_limit(graded):
    got = reasons(graded, "frank")
    assert got["warmup_test"] == ("failed", f"MemoryError: the code needed more than the "
                                            f"{MEMORY_MB} MB memory limit")
    assert got["step_test"] == ("passed", PASSED)


def test_tampered_test_cells_gain_nothing(graded):
    got = reasons(graded, "grace")
    assert got["warmup_test"] == ("failed", WARMUP_MSG)  # the source's test ran, not hers
    assert got["step_test"] == ("passed", PASSED)  # deleted in her notebook, run anyway


def test_reordered_and_duplicated_cells(graded):
    assert {s for s, _ in reasons(graded, "heidi").values()} == {"passed"}
    assert graded["notes"]["heidi"] == [
        "schedules.ipynb: answer cell 'cosine_answer' appears 2 times; the last one was graded"]


def test_corrupt_json(graded):
    assert set(reasons(graded, "ivan").values()) == {
        ("missing", "ivan.ipynb is damaged: not valid notebook JSON (line 2, column 1: "
                    "Expecting value)")}


def test_wrong_file_type(graded):
    assert set(reasons(graded, "judy").values()) == {
        ("missing", "judy.py is not a Jupyter notebook (a .py file, expected .ipynb)")}
    assert set(reasons(graded, "walter").values()) == {
        ("missing", "no notebook directly in folder 'walter' (found: answers.txt)")}
    assert graded["notes"]["walter"] == ["not notebooks, ignored: answers.txt"]


def test_sys_exit_is_an_error_not_the_end(graded):
    got = reasons(graded, "mallory")
    assert got["step_test"] == (
        "failed", "your answer cell raised SystemExit: the code called sys.exit(); a notebook "
                  "must not exit; then NameError: name 'step_decay' is not defined (was it "
                  "renamed or deleted?)")
    assert got["cosine_test"] == ("passed", PASSED)


def test_os_exit_kills_only_its_exercise(graded):
    got = reasons(graded, "oscar")
    assert got["warmup_test"] == ("crashed", f"this test {DIED}")
    assert got["step_test"] == ("passed", PASSED)
    assert got["cosine_test"] == ("passed", PASSED)


def test_renamed_function_and_deleted_answer_cell(graded):
    got = reasons(graded, "peggy")
    assert got["warmup_test"] == ("failed", "NameError: name 'linear_warmup' is not defined "
                                            "(was it renamed or deleted?)")
    assert got["cosine_test"] == ("missing", "your notebook has no answer cell 'cosine_answer' "
                                             "(deleted, or its cell metadata was changed)")


def test_writing_to_file_descriptors_disturbs_nothing(graded):
    assert {s for s, _ in reasons(graded, "victor").values()} == {"passed"}
    assert graded["notes"]["victor"] == []


def test_huge_output_is_cut(graded):
    assert {s for s, _ in reasons(graded, "trent").values()} == {"passed"}
    assert graded["notes"]["trent"] == [
        "trent.ipynb: the output of cell 'warmup_answer' was too long and was cut"]


# ---------------------------------------------------------------------------------------------
# Feedback, summary, safety


def test_feedback_page_shows_points_message_and_overlay(graded):
    page = (graded["out"] / "feedback" / "bob.html").read_text()
    assert "<p class=\"total\">6 / 8 points</p>" in page
    assert "<p>0 / 2 points</p>" in page
    assert f"<div class=\"message\">{WARMUP_MSG}</div>" in page
    assert page.count("data:image/png;base64,") == 1
    assert f"data:image/png;base64,{RED_PNG}\"" in page
    names = sorted(p.name for p in (graded["out"] / "feedback").iterdir())
    assert names == sorted(f"{learner}.html" for learner in graded["results"])


def test_feedback_never_reveals_hidden_tests(graded):
    for page in (graded["out"] / "feedback").iterdir():
        text = page.read_text()
        assert "HIDDEN" not in text
        assert "step_decay(90" not in text


def test_terminal_summary(graded):
    lines = graded["stdout"].splitlines()
    assert lines[0].split() == ["learner", "score", "problems"]
    assert lines[1].split() == ["alice", "8/8", "-"]
    assert lines[5].split() == ["erin", "5/8", "1", "timeout"]
    assert lines[4].split() == ["dave", "5/8", "2", "timeout"]
    assert lines[12].split() == ["oscar", "6/8", "1", "crashed"]
    assert lines[17] == "16 learner(s), mean 4.62/8"  # 74 points / 16


def test_submissions_are_never_modified(graded):
    assert digest(graded["root"]) == graded["before"]


def test_rerun_gives_identical_outputs(graded, tmp_path):
    subset = [p for p in graded["subs"] if p.stem in ("alice", "bob", "dave", "ivan", "oscar")]
    status, _ = run_grade([*map(str, subset), "--out", str(tmp_path), "--source", str(SOURCE),
                           "--timeout", str(TIMEOUT), "--jobs", "2",
                           "--memory-mb", str(MEMORY_MB)])
    assert status == 0
    first = {row["learner"]: row for row in csv.DictReader(
        io.StringIO((graded["out"] / "scores.csv").read_text()))}
    again = list(csv.DictReader(io.StringIO((tmp_path / "scores.csv").read_text())))
    assert [row["learner"] for row in again] == ["alice", "bob", "dave", "ivan", "oscar"]
    assert all(row == first[row["learner"]] for row in again)
    for name in ("alice", "bob", "dave", "ivan", "oscar"):
        assert ((tmp_path / "feedback" / f"{name}.html").read_bytes()
                == (graded["out"] / "feedback" / f"{name}.html").read_bytes())


def test_bad_source_is_a_usage_error(tmp_path):
    status, _ = run_grade([str(tmp_path), "--out", str(tmp_path / "o"), "--source",
                           str(tmp_path)])
    assert status == 2


# ---------------------------------------------------------------------------------------------
# Pieces, without kernels


def test_reading_notebooks_reasons(tmp_path):
    cases = {
        "a.ipynb": ("", "a.ipynb is empty"),
        "b.ipynb": ("[1, 2]", "b.ipynb is JSON but not a notebook (no 'cells')"),
        "c.ipynb": ('{"cells": 3}', "c.ipynb is JSON but not a notebook (no 'cells' list)"),
        "d.txt": ("{}", "d.txt is not a Jupyter notebook (a .txt file, expected .ipynb)"),
    }
    for name, (text, reason) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(NotebookError) as err:
            assemble.read_notebook(tmp_path / name)
        assert str(err.value) == reason
    (tmp_path / "e.ipynb").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(NotebookError, match="e.ipynb is not a text file"):
        assemble.read_notebook(tmp_path / "e.ipynb")


def test_assembled_notebook_takes_tests_from_source_and_groups_exercises():
    source = assemble.load_source(SOURCE_NB)
    assert source.tests == [("warmup_test", 2.0), ("step_test", 2.0), ("step_test_more", 1.0),
                            ("cosine_test", 3.0)]
    plan = assemble.assemble(source, notebook({**CORRECT, "cosine_answer": None},
                                              tests={"warmup_test": "pass"}))
    kinds = [(c.kind, c.grade_id, c.group) for c in plan.cells]
    assert kinds == [("setup", None, None),
                     ("answer", "warmup_answer", 0), ("test", "warmup_test", 0),
                     ("answer", "step_answer", 1), ("test", "step_test", 1),
                     ("test", "step_test_more", 1),
                     ("answer", "cosine_answer", 2), ("test", "cosine_test", 2)]
    assert plan.cells[1].source == WARMUP
    assert "### BEGIN HIDDEN TESTS" in plan.cells[2].source  # the source's cell, not "pass"
    assert plan.cells[6].source == "" and plan.cells[6].missing


def test_answer_turned_into_markdown_is_missing():
    nb = notebook(CORRECT)
    next(c for c in nb["cells"] if grade_id(c) == "step_answer")["cell_type"] = "markdown"
    plan = assemble.assemble(assemble.load_source(SOURCE_NB), nb)
    step = next(c for c in plan.cells if c.grade_id == "step_answer")
    assert step.missing == "your answer cell 'step_answer' was turned into a markdown cell"


def test_notebooks_are_matched_by_name_then_by_grade_ids():
    source = assemble.load_source(SOURCE_NB)
    good, other = notebook(CORRECT), {"cells": []}
    assert assemble.match_notebooks(source, {"mine.ipynb": good, "x.ipynb": other}) == "mine.ipynb"
    assert assemble.match_notebooks(source, {"mine.ipynb": good,
                                             "schedules.ipynb": other}) == "schedules.ipynb"
    assert assemble.match_notebooks(source, {"x.ipynb": other}) is None


def test_learner_names_and_feedback_file_names():
    named = unique_names([Path("b/alice"), Path("a/alice.ipynb"), Path("bob.ipynb")])
    assert [n for n, _ in named] == ["alice", "alice (2)", "bob"]
    results = [LearnerResult("alice (2)", ""), LearnerResult("Zoë/../x", ""),
               LearnerResult("...", "")]
    assert report.feedback_names(results) == {"alice (2)": "alice_2.html",
                                              "Zoë/../x": "Zoë_.._x.html",
                                              "...": "learner.html"}


def test_torch_imports_under_the_default_memory_limit():
    cells = [Cell("setup", "import torch\nprint(float(torch.arange(4.0).sum()))")]
    [outcome] = run_cells(cells, timeout=120, memory_mb=DEFAULT_MEMORY_MB)
    assert (outcome.status, outcome.text) == ("ok", "6.0\n")


# ---------------------------------------------------------------------------------------------
# The course's own notebooks: a solution scores full marks, its generated exercise zero

REPO = Path(__file__).resolve().parent.parent
REAL_SOURCE = REPO / "solutions" / "ex01_step_multistep.ipynb"
REAL_EXERCISE = REPO / "exercises" / "ex01_step_multistep.ipynb"


@pytest.mark.skipif(not (REAL_SOURCE.exists() and REAL_EXERCISE.exists()),
                    reason="solutions/ and exercises/ not generated yet")
def test_course_solution_full_marks_and_exercise_zero(tmp_path):
    (tmp_path / "solver").mkdir()
    (tmp_path / "solver" / REAL_SOURCE.name).write_bytes(REAL_SOURCE.read_bytes())
    (tmp_path / "starter.ipynb").write_bytes(REAL_EXERCISE.read_bytes())
    status, _ = run_grade([str(tmp_path / "solver"), str(tmp_path / "starter.ipynb"),
                           "--out", str(tmp_path / "out"), "--source", str(REAL_SOURCE),
                           "--jobs", "2"])
    assert status == 0
    assert (tmp_path / "out" / "scores.csv").read_text() == (
        "learner,ex01_step_lr_check,ex01_multistep_lr_check,total,max\n"
        "solver,2,2,4,4\n"
        "starter,0,0,0,4\n")
    data = {d["learner"]: d["results"] for d in
            json.loads((tmp_path / "out" / "results.json").read_text())}
    assert [r["status"] for r in data["solver"]] == ["passed", "passed"]
    assert [(r["status"], r["message"].split(":")[0]) for r in data["starter"]] == [
        ("failed", "step_lr is not implemented yet"),
        ("failed", "multistep_lr is not implemented yet")]


def test_a_failing_worker_costs_only_its_learner(tmp_path):
    worker = Worker()
    try:
        data, why = worker.grade({"submission": str(tmp_path), "learner": "x",
                                  "source": str(tmp_path / "nowhere"), "timeout": 1,
                                  "memory_mb": None}, budget=300)
    finally:
        worker.close()
    assert data is None
    assert why == (f"the grading worker exited (ValueError: no notebook with graded test cells "
                   f"(nbgrader 'grade': true) in {tmp_path / 'nowhere'})")
