"""`lrcourse grade` on ordinary and broken submissions: exact scores, exact reasons, outputs.

The source is tests/grading_fixtures/source/schedules.ipynb (three exercises graded by the
real lrcourse checks, 8 points; see grading_fixtures/crafted.py).  A class of learners who
make ordinary mistakes (wrong formulas, loops, crashes, renamed functions, damaged files) is
graded once by the real command (worker processes, --jobs 2, sandboxes) and asserted on.
The hostile class is in test_grading_attacks.py.  Further down: the pieces (test-cell
parsing, secrets, reading files, plans, reports), the sandbox itself, calibration (including
an environment that needs more address space than the default, as a CUDA build of torch
does), re-grading into an existing folder, and the course's own notebooks.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from grading_fixtures.crafted import (
    CORRECT, COSINE, EMPTY, EXP, PASSED, REPO, SOURCE, SOURCE_NB, STEP, TESTS, WRONG_STEP,
    grade_id, notebook, notebook_message, run_grade, sandbox_unavailable, write,
)
from lrcourse.grading import assemble, report, secret, source
from lrcourse.grading.limits import Limits
from lrcourse.grading.notebooks import NotebookError, read_submission
from lrcourse.grading.sandbox import Environment, Session

TIMEOUT = 5
MEMORY_MB = 256   # what learner code may use on top of the environment (small: fast to hit)
WRONG_EXP = ("def exponential_lr(epoch, base_lr, gamma):\n"
             "    return base_lr * gamma ** (epoch + 1)\n")
UNKILLABLE_LOOP = ("import time\nwhile True:\n    try:\n        time.sleep(1)\n"
                   "    except BaseException:\n        pass\n")
TIMED_OUT = f"was stopped after {TIMEOUT} s (an infinite loop, or far too slow)"
DIED = ("ended the Python process running it (os._exit, exit(), a crash in compiled code, "
        "or memory exhausted)")


# Only a machine without bubblewrap, or one that forbids the namespaces it needs, skips the
# sandboxed tests: any other failure to start a sandbox is a bug, and fails them.
SANDBOX_PROBLEM = sandbox_unavailable()
needs_sandbox = pytest.mark.skipif(bool(SANDBOX_PROBLEM), reason=SANDBOX_PROBLEM or "ok")


def craft_submissions(root: Path) -> list[Path]:
    """Write every learner of the ordinary class under `root`; return the paths to grade."""
    subs = []
    # correct, in a folder named after the learner, notebook under the source's name
    subs.append(write(root / "alice" / "schedules.ipynb", notebook(CORRECT)).parent)
    # StepLR off by one epoch, a lone notebook under the learner's name
    subs.append(write(root / "bob.ipynb", notebook({**CORRECT, "step_answer": WRONG_STEP})))
    # the unanswered exercise
    subs.append(write(root / "carol.ipynb", notebook(EMPTY)))
    # an infinite loop inside the function the check calls
    subs.append(write(root / "dave.ipynb", notebook(
        {**CORRECT, "step_answer": "def step_lr(epoch, base_lr, step_size, gamma):\n"
                                   "    while True:\n        pass\n"})))
    # an answer cell that loops and swallows every interrupt
    subs.append(write(root / "erin.ipynb", notebook({**CORRECT, "cosine_answer": UNKILLABLE_LOOP})))
    # a memory hog in the answer cell, before the function is defined
    subs.append(write(root / "frank.ipynb", notebook(
        {**CORRECT, "step_answer": "hoard = []\nwhile True:\n"
                                   "    hoard.append(bytearray(64 * 2**20))\n" + STEP})))
    # tampered tests: a wrong answer, its test cell replaced, another test cell deleted
    subs.append(write(root / "grace.ipynb", notebook(
        {**CORRECT, "exp_answer": WRONG_EXP},
        tests={"exp_test": "print('check_exponential_lr: all public checks passed')\n",
               "step_test": None})))
    # reordered and duplicated cells: the last copy of a duplicate is graded
    heidi = notebook(CORRECT)
    dup = copy.deepcopy(next(c for c in heidi["cells"] if grade_id(c) == "cosine_answer"))
    dup["source"] = "def cosine_annealing_lr(epoch, base_lr, T_max, eta_min):\n    return 0.0\n"
    heidi["cells"] = [dup] + heidi["cells"][::-1]
    subs.append(write(root / "heidi" / "schedules.ipynb", heidi).parent)
    (root / "ivan.ipynb").write_text('{"cells": [\n')          # damaged JSON
    subs.append(root / "ivan.ipynb")
    (root / "judy.py").write_text(STEP + EXP + COSINE)           # not a notebook
    subs.append(root / "judy.py")
    # sys.exit in an answer cell
    subs.append(write(root / "mallory.ipynb", notebook(
        {**CORRECT, "exp_answer": "import sys\nsys.exit('bye')\n"})))
    # os._exit inside the function the check calls
    subs.append(write(root / "oscar.ipynb", notebook(
        {**CORRECT, "step_answer": "import os\n\ndef step_lr(epoch, base_lr, step_size, "
                                   "gamma):\n    os._exit(3)\n"})))
    # a renamed function and a deleted answer cell
    subs.append(write(root / "peggy.ipynb", notebook(
        {**CORRECT, "step_answer": STEP.replace("step_lr", "step_learning_rate"),
         "cosine_answer": None})))
    # huge output
    subs.append(write(root / "trent.ipynb", notebook(
        {**CORRECT, "step_answer": STEP + "print('x' * 3_000_000)\n"
                                          "for i in range(100_000):\n    print(i)\n"})))
    # writes to its file descriptors directly, and runs a shell
    subs.append(write(root / "victor.ipynb", notebook(
        {**CORRECT, "step_answer": STEP + "import os\nos.write(1, b'not json\\n')\n"
                                          "os.write(2, b'noise\\n')\n"
                                          "os.system('echo from a shell')\n"})))
    # a folder without any notebook
    (root / "walter").mkdir()
    (root / "walter" / "answers.txt").write_text("I did it all in my head.\n")
    subs.append(root / "walter")
    return subs


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Craft the ordinary class, grade it once, and return what the run produced."""
    root = tmp_path_factory.mktemp("submissions")
    subs = craft_submissions(root)
    from grading_fixtures.crafted import digest

    before = digest(root)
    out = tmp_path_factory.mktemp("graded")
    status, stdout, stderr = run_grade([*map(str, subs), "--out", str(out), "--source",
                                        str(SOURCE), "--timeout", str(TIMEOUT), "--jobs", "2",
                                        "--memory-mb", str(MEMORY_MB)])
    data = json.loads((out / "results.json").read_text())
    results = {d["learner"]: {r["grade_id"]: r for r in d["results"]} for d in data["learners"]}
    notes = {d["learner"]: d["notes"] for d in data["learners"]}
    return dict(root=root, subs=subs, before=before, after=digest(root), out=out,
                status=status, stdout=stdout, stderr=stderr, results=results, notes=notes)


def reasons(graded, learner):
    return {gid: (r["status"], r["message"]) for gid, r in graded["results"][learner].items()}


EXPECTED_CSV = """\
learner,step_test,exp_test,exp_test_more,cosine_test,total,max,flagged
alice,2,2,1,3,8,8,
bob,0,2,1,3,6,8,
carol,0,0,0,0,0,8,
dave,0,2,1,3,6,8,
erin,2,2,1,0,5,8,
frank,0,2,1,3,6,8,
grace,2,0,0,3,5,8,
heidi,2,2,1,3,8,8,
ivan,0,0,0,0,0,8,
judy,0,0,0,0,0,8,
mallory,2,0,0,3,5,8,exp_test exp_test_more
oscar,0,2,1,3,6,8,step_test
peggy,0,2,1,0,3,8,
trent,2,2,1,3,8,8,
victor,2,2,1,3,8,8,step_test
walter,0,0,0,0,0,8,
"""


@needs_sandbox
class TestOrdinaryClass:
    def test_scores_csv(self, graded):
        assert graded["status"] == 0, graded["stderr"][-2000:]
        assert (graded["out"] / "scores.csv").read_text() == EXPECTED_CSV

    def test_correct_submission_passes_everything(self, graded):
        assert reasons(graded, "alice") == {t: ("passed", PASSED[t]) for t in TESTS}
        assert graded["notes"]["alice"] == []

    def test_wrong_answer_gets_the_notebooks_own_message(self, graded):
        got = reasons(graded, "bob")
        assert got["step_test"] == ("failed", notebook_message(WRONG_STEP))
        assert "first difference at epoch 2: expected 0.1, got 0.05" in got["step_test"][1]
        assert got["cosine_test"] == ("passed", PASSED["cosine_test"])
        grace = reasons(graded, "grace")  # her edited and deleted test cells changed nothing
        assert grace["exp_test"] == ("failed", notebook_message(WRONG_EXP,
                                                                "check_exponential_lr"))
        assert grace["step_test"] == ("passed", PASSED["step_test"])

    def test_unanswered_exercise(self, graded):
        assert {gid: message.split(":")[0] for gid, (_, message) in
                reasons(graded, "carol").items()} == {
            "step_test": "step_lr is not implemented yet",
            "exp_test": "exponential_lr is not implemented yet",
            "exp_test_more": "exponential_lr is not implemented yet",
            "cosine_test": "cosine_annealing_lr is not implemented yet"}

    def test_infinite_loop_costs_only_that_exercise(self, graded):
        got = reasons(graded, "dave")
        assert got["step_test"] == ("timeout", f"this test {TIMED_OUT}")
        assert got["exp_test"] == ("passed", PASSED["exp_test"])
        assert got["cosine_test"] == ("passed", PASSED["cosine_test"])

    def test_loop_that_ignores_interrupts_is_stopped(self, graded):
        got = reasons(graded, "erin")
        assert got["cosine_test"] == ("timeout", f"your answer cell 'cosine_answer' "
                                                 f"{TIMED_OUT}, so this test was not run")
        assert got["exp_test_more"] == ("passed", PASSED["exp_test_more"])

    def test_memory_hog_hits_the_limit(self, graded):
        # Which limit stops it first depends on the torch build the grader measured: with the
        # CPU build the address-space limit is near the memory limit, and the allocation
        # fails (MemoryError); a CUDA build maps gigabytes, the address-space limit admits
        # that, and the cgroup's memory limit kills the sandbox instead.  Either way: 0, and
        # the learner is told that memory ran out.
        assert reasons(graded, "frank")["step_test"] in {(
            "failed", f"your answer cell raised MemoryError: the code needed more than the "
                      f"{MEMORY_MB} MB memory limit; then NameError: name 'step_lr' is not "
                      "defined (was it renamed or deleted?)"), (
            "crashed", "your answer cell 'step_answer' ran out of memory: the notebook's "
                       f"processes together needed more than the {MEMORY_MB} MB memory limit, "
                       "so this test was not run")}

    def test_a_hidden_failure_says_how_many_and_nothing_else(self, graded):
        message = reasons(graded, "grace")["exp_test_more"]
        # her exponential_lr is gamma ** (epoch + 1): the kind of mistake is named, in words
        # that hold no value
        assert message == ("failed", "check_exponential_lr: 12 of 12 hidden cases failed (the "
                                     "first: your values differ from PyTorch's: the curve is "
                                     "torch's shifted one epoch early (an off-by-one)). Hint: "
                                     "the public cases pass, so try exponential_lr on other "
                                     "parameter values and compare with "
                                     "torch.optim.lr_scheduler.ExponentialLR.")

    def test_reordered_and_duplicated_cells(self, graded):
        assert {s for s, _ in reasons(graded, "heidi").values()} == {"passed"}
        assert graded["notes"]["heidi"] == [
            "schedules.ipynb: answer cell 'cosine_answer' appears 2 times; the last one was "
            "graded"]

    def test_files_that_are_not_notebooks(self, graded):
        assert set(reasons(graded, "ivan").values()) == {
            ("missing", "ivan.ipynb is damaged: not valid notebook JSON (line 2, column 1: "
                        "Expecting value)")}
        assert set(reasons(graded, "judy").values()) == {
            ("missing", "judy.py is not a Jupyter notebook (a .py file, expected .ipynb)")}
        assert set(reasons(graded, "walter").values()) == {
            ("missing", "no notebook directly in folder 'walter' (found: answers.txt)")}
        assert graded["notes"]["walter"] == ["not notebooks, ignored: answers.txt"]

    def test_sys_exit_is_an_error_not_the_end(self, graded):
        got = reasons(graded, "mallory")
        message = ("your answer cell raised SystemExit: the code called sys.exit(); a notebook "
                   "must not exit; then NameError: name 'exponential_lr' is not defined (was "
                   "it renamed or deleted?)")
        assert got["exp_test"] == got["exp_test_more"] == ("failed", message)
        assert got["cosine_test"] == ("passed", PASSED["cosine_test"])

    def test_os_exit_costs_only_its_exercise(self, graded):
        got = reasons(graded, "oscar")
        assert got["step_test"] == ("crashed", f"this test {DIED}")
        assert got["exp_test"] == ("passed", PASSED["exp_test"])

    def test_renamed_function_and_deleted_answer_cell(self, graded):
        got = reasons(graded, "peggy")
        assert got["step_test"] == ("failed", "NameError: name 'step_lr' is not defined (was it "
                                              "renamed or deleted?)")
        assert got["cosine_test"] == ("missing", "your notebook has no answer cell "
                                                 "'cosine_answer' (deleted, or its cell metadata "
                                                 "was changed)")

    def test_huge_output_and_raw_file_descriptors(self, graded):
        assert {s for s, _ in reasons(graded, "trent").values()} == {"passed"}
        assert graded["notes"]["trent"] == [
            "trent.ipynb: the output of cell 'step_answer' was too long and was cut"]
        assert {s for s, _ in reasons(graded, "victor").values()} == {"passed"}
        # os.system in an answer cell is flagged for review, points kept
        assert graded["results"]["victor"]["step_test"]["flags"] == [
            "answer cell 'step_answer' imports os, which an answer here does not need (an answer "
            "may import what the notebook's own cells import and the usual numerical modules)",
            "answer cell 'step_answer' uses os.system, which an answer here does not need and "
            "which can hide what the code calls",
            "answer cell 'step_answer' started a process, which an answer here does not need"]

    def test_feedback_page(self, graded):
        page = (graded["out"] / "feedback" / "bob.html").read_text()
        assert '<p class="total">6 / 8 points</p>' in page
        assert "<p>0 / 2 points</p>" in page
        assert "first difference at epoch 2: expected 0.1, got 0.05" in page
        assert page.count("data:image/png;base64,iVBORw0KGgo") == 1  # the overlay plot
        assert "Graded in a bubblewrap sandbox" in page
        names = sorted(p.name for p in (graded["out"] / "feedback").iterdir())
        assert names == sorted(f"{learner}.html" for learner in graded["results"])

    def test_feedback_never_reveals_hidden_tests(self, graded):
        for page in (graded["out"] / "feedback").iterdir():
            text = page.read_text()
            assert "HIDDEN" not in text and "hidden=True" not in text and "seed=" not in text

    def test_terminal_summary(self, graded):
        lines = graded["stdout"].splitlines()
        assert lines[0].split() == ["learner", "score", "problems"]
        assert lines[1].split() == ["alice", "8/8", "-"]
        assert lines[4].split() == ["dave", "6/8", "1", "timeout"]
        assert lines[12].split() == ["oscar", "6/8", "1", "crashed,", "1", "flagged", "for",
                                     "review"]  # its answer imports os
        assert lines[15].split() == ["victor", "8/8", "1", "flagged", "for", "review"]
        assert lines[17] == "16 learner(s), mean 4.62/8"  # 74 points / 16

    def test_submissions_are_never_modified(self, graded):
        assert graded["after"] == graded["before"]

    def test_regrading_with_the_same_secret_gives_identical_pages(self, graded, tmp_path):
        subset = [p for p in graded["subs"] if p.stem in ("alice", "bob", "dave", "ivan")]
        status, _, _ = run_grade([*map(str, subset), "--out", str(tmp_path), "--source",
                                  str(SOURCE), "--timeout", str(TIMEOUT), "--jobs", "2",
                                  "--memory-mb", str(MEMORY_MB),
                                  "--secret-file", str(graded["out"] / ".grading-secret")])
        assert status == 0
        first = {row["learner"]: row for row in csv.DictReader(
            io.StringIO((graded["out"] / "scores.csv").read_text()))}
        again = list(csv.DictReader(io.StringIO((tmp_path / "scores.csv").read_text())))
        assert [row["learner"] for row in again] == ["alice", "bob", "dave", "ivan"]
        assert all(row == first[row["learner"]] for row in again)
        for name in ("alice", "bob", "dave", "ivan"):
            assert ((tmp_path / "feedback" / f"{name}.html").read_bytes()
                    == (graded["out"] / "feedback" / f"{name}.html").read_bytes())


# ---------------------------------------------------------------------------------------------
# Usage errors and instructor errors: clear messages, nothing graded


def test_a_test_cell_must_be_check_calls():
    ok = source.parse_test_cell("check_step_lr(step_lr)\n### BEGIN HIDDEN TESTS\n"
                                "check_step_lr(step_lr, hidden=True, seed=101)\n", "cell")
    assert [(c.check, c.target, c.hidden, c.seed) for c in ok] == [
        ("check_step_lr", "step_lr", False, 0), ("check_step_lr", "step_lr", True, 101)]
    bad = {
        "print('all public checks passed')": "line 1: print is not an lrcourse check",
        "x = check_step_lr(step_lr)": "a test cell may only call lrcourse checks",
        "check_everything(step_lr)": "check_everything is not an lrcourse check",
        "check_step_lr(step_lr, 3)": "takes one name",
        "check_step_lr(lambda e: 0)": "takes one name",
        "check_step_lr(step_lr, hidden=True)": "needs seed=<integer>",
        "check_step_lr(step_lr, hidden=True, seed=1.5)": "only hidden=True/False and seed",
        "import os": "a test cell may only call lrcourse checks",
        "# nothing": "needs at least one check call",
    }
    for text, words in bad.items():
        with pytest.raises(source.SourceError, match=None) as err:
            source.parse_test_cell(text, "ex.ipynb, cell 4 (t)")
        assert words in str(err.value), text
        assert str(err.value).startswith("ex.ipynb, cell 4 (t)")


def test_a_bad_source_is_a_usage_error(tmp_path):
    status, _, err = run_grade([str(tmp_path), "--out", str(tmp_path / "o"), "--source",
                                str(tmp_path)])
    assert status == 2 and "no notebook with graded test cells" in err
    nb = json.loads(SOURCE_NB.read_text())
    cell = next(c for c in nb["cells"] if grade_id(c) == "exp_test")
    cell["source"] = "assert exponential_lr(0, 1.0, 0.5) == 1.0\n"
    (tmp_path / "bad.ipynb").write_text(json.dumps(nb))
    status, _, err = run_grade([str(tmp_path), "--out", str(tmp_path / "o"), "--source",
                                str(tmp_path / "bad.ipynb")])
    assert status == 2
    assert "bad.ipynb, cell 7 (exp_test), line 1: a test cell may only call lrcourse checks" in err
    assert not (tmp_path / "o" / "scores.csv").exists()


def test_a_missing_submission_or_secret_file_is_a_usage_error(tmp_path):
    status, _, err = run_grade([str(tmp_path / "nobody"), "--out", str(tmp_path / "o")])
    assert status == 2 and "no such file or folder" in err
    status, _, err = run_grade([str(tmp_path), "--out", str(tmp_path / "o"),
                                "--secret-file", str(tmp_path / "absent")])
    assert status == 2 and "cannot read the secret file" in err


def test_without_bubblewrap_untrusted_code_is_refused(tmp_path, monkeypatch):
    import shutil

    from lrcourse.grading import sandbox

    real = shutil.which
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None if name == "bwrap"
                        else real(name))
    write(tmp_path / "alice.ipynb", notebook(CORRECT))
    status, _, err = run_grade([str(tmp_path / "alice.ipynb"), "--out", str(tmp_path / "o"),
                                "--source", str(SOURCE)])
    assert status == 2
    assert "bubblewrap (bwrap) is not installed" in err and "--no-sandbox" in err
    assert not (tmp_path / "o" / "scores.csv").exists()


# ---------------------------------------------------------------------------------------------
# Pieces


def test_hidden_cases_come_from_the_secret_and_the_call():
    one, two = b"s" * 32, b"t" * 32
    assert secret.hidden_seed(one, "step_test", "check_step_lr", 11) == \
        secret.hidden_seed(one, "step_test", "check_step_lr", 11)
    others = {secret.hidden_seed(two, "step_test", "check_step_lr", 11),
              secret.hidden_seed(one, "exp_test", "check_step_lr", 11),
              secret.hidden_seed(one, "step_test", "check_multistep_lr", 11),
              secret.hidden_seed(one, "step_test", "check_step_lr", 12)}
    assert len(others) == 4
    assert secret.hidden_seed(one, "step_test", "check_step_lr", 11) not in others


def test_the_secret_is_created_private_and_reused(tmp_path):
    value, note = secret.load_secret(tmp_path / "out", None)
    path = tmp_path / "out" / ".grading-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(value) == 64
    assert "new secret" in note
    again, note = secret.load_secret(tmp_path / "out", None)
    assert again == value and "kept from a previous run" in note


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
            read_submission(tmp_path / name)
        assert str(err.value) == reason
    (tmp_path / "e.ipynb").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(NotebookError, match="e.ipynb is not a text file"):
        read_submission(tmp_path / "e.ipynb")
    (tmp_path / "f.ipynb").symlink_to(tmp_path / "a.ipynb")
    with pytest.raises(NotebookError, match="f.ipynb is a symbolic link; links are not graded"):
        read_submission(tmp_path / "f.ipynb")
    os.mkfifo(tmp_path / "g.ipynb")
    with pytest.raises(NotebookError, match=r"g.ipynb is a FIFO \(named pipe\)"):
        read_submission(tmp_path / "g.ipynb")
    (tmp_path / "h.ipynb").write_text('{"cells": [' + ",".join(["{}"] * 250_000) + "]}")
    with pytest.raises(NotebookError, match="250,002 JSON objects and arrays, far more"):
        read_submission(tmp_path / "h.ipynb")
    with open(tmp_path / "i.ipynb", "wb") as fh:
        fh.truncate(21 * 2**20)
    with pytest.raises(NotebookError, match="i.ipynb is 21 MB, more than the 20 MB"):
        read_submission(tmp_path / "i.ipynb")


def test_plan_runs_hidden_cases_last_and_never_a_test_cell():
    src = source.load_source(SOURCE_NB)
    assert src.tests == [("step_test", 2.0), ("exp_test", 2.0), ("exp_test_more", 1.0),
                         ("cosine_test", 3.0)]
    plan = assemble.assemble(src, notebook({**CORRECT, "cosine_answer": None},
                                           tests={"step_test": "pass"}))
    steps = [(s.kind, s.grade_id, s.group, s.call.hidden if s.call else None)
             for s in plan.steps]
    assert steps == [
        ("setup", None, None, None),
        ("answer", "step_answer", 0, None),
        ("public", "step_test", 0, False), ("public", "step_test", 0, True),
        ("answer", "exp_answer", 1, None),
        ("public", "exp_test", 1, False), ("public", "exp_test", 1, True),
        ("public", "exp_test_more", 1, True),
        ("answer", "cosine_answer", 2, None),
        ("public", "cosine_test", 2, False), ("public", "cosine_test", 2, True),
        ("hidden", "step_test", 0, True), ("hidden", "exp_test", 1, True),
        ("hidden", "exp_test_more", 1, True), ("hidden", "cosine_test", 2, True)]
    assert plan.steps[1].source == STEP
    assert plan.steps[8].source == "" and plan.steps[8].missing
    assert all("pass" != s.source for s in plan.steps)


def test_answer_turned_into_markdown_is_missing():
    nb = notebook(CORRECT)
    next(c for c in nb["cells"] if grade_id(c) == "exp_answer")["cell_type"] = "markdown"
    plan = assemble.assemble(source.load_source(SOURCE_NB), nb)
    step = next(s for s in plan.steps if s.grade_id == "exp_answer")
    assert step.missing == "your answer cell 'exp_answer' was turned into a markdown cell"


def test_notebooks_are_matched_by_name_then_by_grade_ids():
    src = source.load_source(SOURCE_NB)
    good, other = notebook(CORRECT), {"cells": []}
    assert assemble.match_notebooks(src, {"mine.ipynb": good, "x.ipynb": other}) == "mine.ipynb"
    assert assemble.match_notebooks(src, {"mine.ipynb": good,
                                          "schedules.ipynb": other}) == "schedules.ipynb"
    assert assemble.match_notebooks(src, {"x.ipynb": other}) is None


def test_learner_names_and_feedback_file_names(tmp_path):
    from lrcourse.grading.grader import unique_names

    named = unique_names([Path("b/alice"), Path("a/alice.ipynb"), Path("bob.ipynb")])
    assert [n for n, _ in named] == ["alice", "alice (2)", "bob"]
    # a safe name keeps it; any other gets a hash of the exact name, so that no learner can
    # take another's page by picking a name that cleans up to theirs (see test_grading_redteam)
    assert report.feedback_names(["alice", "Zoë", "alice (2)", "Zoë/../x", "...", "<b>"]) == {
        "alice": "alice.html", "Zoë": "Zoë.html", "alice (2)": "alice_2-e37c7577.html",
        "Zoë/../x": "Zoë_.._x-3be53085.html", "...": "learner-ab5df625.html",
        "<b>": "b-507ca5a2.html"}


def test_csv_cells_and_atomic_writes(tmp_path):
    assert [report.csv_safe(t) for t in ("=1+2", "+a", "-1", "@x", "\tx", "\rx", "alice", "")] \
        == ["'=1+2", "'+a", "'-1", "'@x", "'\tx", "'\rx", "alice", ""]
    target = tmp_path / "scores.csv"
    target.write_text("old")
    report.write_atomic(target, "new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["scores.csv"]
    assert report.terminal_safe("a\x1b[31mb\x07") == "a?[31mb?"


def test_static_check_of_answers():
    from lrcourse.grading.library import static_findings

    forbid = ["torch.optim.lr_scheduler", "lrcourse"]

    def found(answer: str) -> list[str]:
        cells = [("setup", "from torch.optim.lr_scheduler import LRScheduler", None, None, []),
                 ("answer", answer, "a", 0, forbid)]
        return [f"{f.kind}: {f.message.split(',')[0]}" for f in static_findings(cells)]

    assert found(STEP) == []
    assert found("import math\n%timeit math.cos(1)\n") == []  # a harmless magic
    assert found("from torch.optim.lr_scheduler import StepLR as S\n") == [
        "library: uses torch.optim.lr_scheduler.StepLR"]
    assert found("import torch\nx = torch.optim.lr_scheduler\ny = x.StepLR\n") == [
        "library: uses torch.optim.lr_scheduler"]
    assert found("from lrcourse import lr_curve\n") == ["library: uses lrcourse.lr_curve"]
    assert found("x = LRScheduler\n") == ["library: uses torch.optim.lr_scheduler.LRScheduler"]
    assert found("m = __import__('lrcourse.sched' + 'ules')\n") == [
        "evasion: uses __import__() (imports a module by a computed name)"]
    assert found("import torch\ngetattr(torch.optim, 'lr_' + 'scheduler')\n") == [
        "evasion: uses getattr() with a computed attribute name"]
    assert found("!cat /etc/passwd\n") == [
        "evasion: uses IPython's shell (get_ipython"]
    assert found("import ctypes\n") == ["evasion: uses ctypes"]


# ---------------------------------------------------------------------------------------------
# The sandbox itself


@needs_sandbox
def test_what_the_sandbox_sees(tmp_path):
    env = Environment.detect()
    probe = (
        "import os, socket, sys\n"
        "seen = {'root': sorted(os.listdir('/')), 'uid': os.getuid(), 'pid': os.getpid(),\n"
        "        'env': sorted(os.environ), 'home': os.path.expanduser('~'),\n"
        "        'repo': os.path.exists(%r), 'solutions': os.path.exists(%r),\n"
        "        'out': os.path.exists(%r), 'torch': 'torch' in sys.modules,\n"
        "        'ipython': 'IPython' in sys.modules}\n"
        "try:\n    open(%r, 'a')\n"
        "except OSError as exc:\n    seen['lrcourse_writable'] = exc.errno\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n"
        "except OSError as exc:\n    seen['network'] = type(exc).__name__\n"
        "raise RuntimeError(repr(seen))\n" % (
            str(REPO / "README.md"), str(REPO / "solutions"), str(tmp_path),
            str(Path(source.__file__).parent / "runner.py")))
    uid = env.scratch_uid()
    try:
        session = Session(env, Limits(), uid=uid)
        try:
            reply = session.request({"op": "cell", "source": "from lrcourse.checks import "
                                                             "check_step_lr"}, 60)
            assert reply.data["status"] == "ok"
            reply = session.request({"op": "cell", "source": probe, "learner": True}, 60)
            # seen from outside, the sandbox's processes run under the uid it was given
            from grading_fixtures.crafted import describe_processes

            outside = describe_processes(uid, uid)
        finally:
            session.close()
    finally:
        env.close()
    seen = eval(reply.data["evalue"])  # noqa: S307 - our own repr of plain data
    assert seen["repo"] is seen["solutions"] is seen["out"] is False
    assert seen["torch"] is False and seen["ipython"] is False   # ex01 needs neither
    assert seen["home"] == "/tmp/home" and seen["uid"] == 1000 and seen["pid"] < 10
    if env.as_root:  # uid 1000 inside is, outside, the uid this sandbox was given
        assert len(outside) >= 2 and all("lrcourse.grading.runner" in p or "bwrap" in p
                                         for p in outside), outside
    assert "LRCOURSE_TEST_SECRET" not in seen["env"] and "USER" not in seen["env"]
    assert seen["lrcourse_writable"] in (13, 30)  # EACCES (another uid's file) or EROFS
    assert seen["network"] in ("OSError", "ConnectionRefusedError", "TimeoutError")
    # the system's folders, plus the top folder of the checkout and of the Python it runs
    # (read-only binds; which folder that is depends on where the clone lives)
    tops = {Path(p).resolve().parts[1] for p in (REPO, sys.prefix, sys.base_prefix)}
    assert set(seen["root"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32",
                                 "proc", "root", "sbin", "tmp", "usr", "home", "opt"} | tops


@needs_sandbox
def test_memory_limit_holds_for_the_whole_process_tree():
    env = Environment.detect()
    if env.cgroups is None:
        env.close()
        pytest.skip(f"no cgroups here ({env.cgroup_note})")
    # three children of 300 MB each under a 600 MB limit for the whole tree (each alone is
    # well under its own address-space limit)
    hog = ("import os, time\nkids = []\nfor _ in range(3):\n    pid = os.fork()\n"
           "    if pid == 0:\n        b = bytearray(300 * 2**20)\n"
           "        b[::4096] = b'x' * len(b[::4096])\n        time.sleep(20)\n"
           "        os._exit(0)\n    kids.append(pid)\n"
           "dead = 0\nfor pid in kids:\n    _, status = os.waitpid(pid, 0)\n"
           "    dead += os.WIFSIGNALED(status)\nprint(dead)\n")
    try:
        session = Session(env, Limits(address_space_mb=None, memory_mb=600), uid=env.scratch_uid())
        try:
            leaf = session.leaf
            reply = session.request({"op": "cell", "source": hog, "learner": True}, 60)
            peak = int((leaf.dirs[0] / ("memory.max_usage_in_bytes" if leaf.version == 1
                                        else "memory.peak")).read_text())
            oom = leaf.oom_kills()
        finally:
            session.close()
    finally:
        env.close()
    assert reply.status == "ok" or reply.status == "died"
    assert oom >= 1                       # the kernel stopped at least one child
    assert peak <= 600 * 2**20            # and the tree never went above the limit


@needs_sandbox
def test_process_count_is_capped_without_cgroups():
    env = Environment.detect(use_cgroups=False)
    forks = ("import os, time\nn = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
             "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30)\n"
             "        os._exit(0)\n    n += 1\nraise RuntimeError(str(n))\n")
    try:
        session = Session(env, Limits(processes=20), uid=env.scratch_uid())
        try:
            reply = session.request({"op": "cell", "source": forks, "learner": True}, 60)
        finally:
            session.close()
    finally:
        env.close()
    if not env.as_root:
        pytest.skip("without root the count is shared with the grader's own processes")
    assert reply.data["ename"] == "RuntimeError" and int(reply.data["evalue"]) < 20


# ---------------------------------------------------------------------------------------------
# Calibration: limits from what the environment needs; instructor failures stop the run

# A set-up cell that reserves 3 GB of address space and keeps it, without touching it: a
# SIMULATION of what importing a CUDA build of torch does (its libraries map gigabytes), so
# that an environment like that can be tested on a machine without one.
CUDA_LIKE_SETUP = ("import mmap\n_cuda_like_reservation = mmap.mmap(-1, 3 * 2**30, "
                   "flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ)\n")


def _source_with_setup(tmp_path: Path, setup: str, name: str = "schedules.ipynb") -> Path:
    nb = json.loads(SOURCE_NB.read_text())
    cell = next(c for c in nb["cells"] if grade_id(c) == "setup")
    cell["source"] = setup + cell["source"] if isinstance(cell["source"], str) \
        else setup + "".join(cell["source"])
    folder = tmp_path / "source"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(nb))
    return folder / name


@needs_sandbox
def test_an_environment_that_needs_more_address_space_than_the_default(tmp_path):
    src = _source_with_setup(tmp_path, CUDA_LIKE_SETUP)
    # with the old fixed cap (2048 MB of address space) this set-up cell cannot even run
    env = Environment.detect()
    try:
        session = Session(env, Limits(address_space_mb=2048, memory_mb=None),
                          uid=env.scratch_uid())
        try:
            reply = session.request({"op": "cell", "source": CUDA_LIKE_SETUP}, 60)
        finally:
            session.close()
    finally:
        env.close()
    assert reply.data["status"] == "error"
    # grading measures what the set-up needs and gives learners that plus their share
    write(tmp_path / "subs" / "alice.ipynb", notebook(CORRECT))
    write(tmp_path / "subs" / "bob.ipynb", notebook({**CORRECT, "step_answer": WRONG_STEP}))
    keep: list = []
    status, _, err = run_grade([str(tmp_path / "subs" / "alice.ipynb"),
                                str(tmp_path / "subs" / "bob.ipynb"),
                                "--out", str(tmp_path / "out"), "--source", str(src),
                                "--timeout", str(TIMEOUT), "--jobs", "2"], keep)
    assert status == 0, err
    calibration = keep[0].calibration["schedules.ipynb"]
    assert calibration["vm_peak_mb"] > 3072
    assert calibration["limits"]["address_space_mb"] == calibration["vm_peak_mb"] + 1024
    assert (tmp_path / "out" / "scores.csv").read_text().splitlines()[1:] == [
        "alice,2,2,1,3,8,8,", "bob,0,2,1,3,6,8,"]


@needs_sandbox
def test_the_limits_admit_a_torch_import_the_source_does_not_make(tmp_path):
    # the source imports no torch; a learner's answer may (flagged, never a crash), and a CUDA
    # build of torch needs gigabytes of address space to import: the limits must allow that
    assert "import torch" not in SOURCE_NB.read_text()
    env = Environment.detect()
    try:
        session = Session(env, Limits(address_space_mb=None, memory_mb=None),
                          uid=env.scratch_uid())
        try:
            assert session.request({"op": "cell", "source": "import torch"},
                                   120).data["status"] == "ok"
            needed = session.request({"op": "memory"}, 30).data
        finally:
            session.close()
    finally:
        env.close()
    write(tmp_path / "alice.ipynb", notebook(CORRECT))
    keep: list = []
    status, _, err = run_grade([str(tmp_path / "alice.ipynb"), "--out", str(tmp_path / "out"),
                                "--timeout", str(TIMEOUT), "--source", str(SOURCE_NB)], keep)
    assert status == 0, err
    calibration = keep[0].calibration[SOURCE_NB.name]
    assert calibration["vm_peak_mb"] * 1024 >= needed["vm_peak_kb"] * 0.95
    assert calibration["limits"]["address_space_mb"] >= needed["vm_peak_kb"] / 1024 + 1024 * 0.95


@needs_sandbox
def test_a_failing_setup_cell_stops_the_run(tmp_path):
    src = _source_with_setup(tmp_path, "import lrcourse_has_no_such_module\n")
    write(tmp_path / "alice.ipynb", notebook(CORRECT))
    status, _, err = run_grade([str(tmp_path / "alice.ipynb"), "--out", str(tmp_path / "out"),
                                "--source", str(src), "--timeout", str(TIMEOUT)])
    assert status == 2
    assert ("grading environment error: schedules.ipynb cannot be graded in this environment: "
            "set-up cell 1 of schedules.ipynb raised ModuleNotFoundError: No module named "
            "'lrcourse_has_no_such_module'") in err
    assert not (tmp_path / "out" / "scores.csv").exists()


@needs_sandbox
def test_a_source_that_fails_its_own_tests_stops_the_run(tmp_path):
    nb = json.loads(SOURCE_NB.read_text())
    cell = next(c for c in nb["cells"] if grade_id(c) == "exp_answer")
    cell["source"] = WRONG_EXP
    (tmp_path / "schedules.ipynb").write_text(json.dumps(nb))
    write(tmp_path / "subs" / "alice.ipynb", notebook(CORRECT))
    status, _, err = run_grade([str(tmp_path / "subs" / "alice.ipynb"), "--out",
                                str(tmp_path / "out"), "--source",
                                str(tmp_path / "schedules.ipynb"), "--timeout", str(TIMEOUT)])
    assert status == 2
    assert "the source's own answers do not pass its test 'exp_test'" in err


@needs_sandbox
def test_no_sandbox_is_said_on_every_page(tmp_path):
    write(tmp_path / "subs" / "alice.ipynb", notebook(CORRECT))
    write(tmp_path / "subs" / "bob.ipynb", notebook({**CORRECT, "step_answer": WRONG_STEP}))
    status, _, _ = run_grade([str(tmp_path / "subs" / "alice.ipynb"),
                              str(tmp_path / "subs" / "bob.ipynb"), "--out",
                              str(tmp_path / "out"), "--source", str(SOURCE), "--no-sandbox",
                              "--timeout", str(TIMEOUT)])
    assert status == 0
    assert (tmp_path / "out" / "scores.csv").read_text().splitlines()[1:] == [
        "alice,2,2,1,3,8,8,", "bob,0,2,1,3,6,8,"]
    for page in (tmp_path / "out" / "feedback").iterdir():
        assert "<strong>Not sandboxed.</strong> NOT SANDBOXED: this notebook was graded with " \
               "--no-sandbox" in page.read_text()


# ---------------------------------------------------------------------------------------------
# Re-grading part of a class updates the output folder


@needs_sandbox
def test_regrading_one_learner_and_one_exercise_updates_the_folder(tmp_path):
    sources = tmp_path / "source"
    sources.mkdir()
    (sources / "schedules.ipynb").write_bytes(SOURCE_NB.read_bytes())
    (sources / "again.ipynb").write_bytes(SOURCE_NB.read_bytes())
    for name, answers in (("alice", CORRECT), ("bob", {**CORRECT, "step_answer": WRONG_STEP})):
        write(tmp_path / "subs" / name / "schedules.ipynb", notebook(answers))
        write(tmp_path / "subs" / name / "again.ipynb", notebook(answers))
    out = tmp_path / "out"
    args = ["--out", str(out), "--timeout", str(TIMEOUT), "--jobs", "2"]
    status, _, _ = run_grade([str(tmp_path / "subs" / "alice"), str(tmp_path / "subs" / "bob"),
                              "--source", str(sources), *args])
    assert status == 0
    first = (out / "scores.csv").read_text()
    assert first.splitlines()[0] == (
        "learner,again.ipynb:step_test,again.ipynb:exp_test,again.ipynb:exp_test_more,"
        "again.ipynb:cosine_test,schedules.ipynb:step_test,schedules.ipynb:exp_test,"
        "schedules.ipynb:exp_test_more,schedules.ipynb:cosine_test,total,max,flagged")
    assert first.splitlines()[1:] == ["alice,2,2,1,3,2,2,1,3,16,16,",
                                      "bob,0,2,1,3,0,2,1,3,12,16,"]
    alice_page = (out / "feedback" / "alice.html").read_bytes()
    # bob fixes one exercise of one notebook; only that is graded again
    write(tmp_path / "subs" / "bob" / "again.ipynb", notebook(CORRECT))
    status, _, _ = run_grade([str(tmp_path / "subs" / "bob"), "--source",
                              str(sources / "again.ipynb"), *args])
    assert status == 0
    assert (out / "scores.csv").read_text().splitlines()[1:] == [
        "alice,2,2,1,3,2,2,1,3,16,16,", "bob,2,2,1,3,0,2,1,3,14,16,"]
    assert (out / "feedback" / "alice.html").read_bytes() == alice_page
    bob_page = (out / "feedback" / "bob.html").read_text()
    assert bob_page.count("data:image/png;base64,") == 1  # the old plot of schedules.ipynb
    assert '<p class="total">14 / 16 points</p>' in bob_page
    data = json.loads((out / "results.json").read_text())
    assert [d["learner"] for d in data["learners"]] == ["alice", "bob"]
    assert [d["total"] for d in data["learners"]] == [16, 14]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------------------------
# The course's own notebooks: every solution scores full marks, every released exercise 0

COURSE_MAX = {"ex01": 4, "ex02": 3, "ex03": 5, "ex04": 7, "ex05": 4, "ex06": 4, "ex07": 3,
              "ex08": 3, "ex09": 5, "ex10": 6, "ex11": 5, "ex12": 4}

SEQUENTIAL_ANSWER = """\
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR


class WarmupCosine(LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0,
                 last_epoch=-1):
        self.inner = SequentialLR(optimizer, [
            LinearLR(optimizer, start_factor=start_factor, total_iters=warmup_steps),
            CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=eta_min)],
            milestones=[warmup_steps])
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, epoch=None):
        if getattr(self, "inner", None) is not None and self.last_epoch >= 0:
            self.inner.step()
        self.last_epoch += 1
"""


@needs_sandbox
@pytest.mark.skipif(not (REPO / "solutions").exists(), reason="no solutions/ here")
def test_course_solutions_full_marks_exercises_zero(tmp_path):
    solver, starter, cheat = (tmp_path / n for n in ("solver", "starter", "cheater"))
    for folder, origin in ((solver, REPO / "solutions"), (starter, REPO / "exercises")):
        folder.mkdir()
        for path in sorted(origin.glob("ex*.ipynb")):
            (folder / path.name).write_bytes(path.read_bytes())
    ex06 = json.loads((REPO / "solutions" / "ex06_warmup_cosine.ipynb").read_text())
    next(c for c in ex06["cells"] if grade_id(c) == "ex06_warmup_cosine")["source"] = \
        SEQUENTIAL_ANSWER
    write(cheat / "ex06_warmup_cosine.ipynb", ex06)
    status, stdout, err = run_grade([str(solver), str(starter), str(cheat), "--out",
                                     str(tmp_path / "out"), "--source", str(REPO / "solutions"),
                                     "--jobs", "2"])
    assert status == 0, err[-3000:]
    rows = {r["learner"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "out" / "scores.csv").read_text()))}
    total = sum(COURSE_MAX.values())
    assert (rows["solver"]["total"], rows["solver"]["max"], rows["solver"]["flagged"]) == \
        (str(total), str(total), "")
    assert rows["starter"]["total"] == "0"
    data = {d["learner"]: d["results"] for d in
            json.loads((tmp_path / "out" / "results.json").read_text())["learners"]}
    assert {r["status"] for r in data["solver"]} == {"passed"}
    assert all("is not implemented yet" in r["message"] for r in data["starter"])
    # SequentialLR inside the ex06 answer: the right rates, flagged for review
    cheat_ex06 = next(r for r in data["cheater"] if r["grade_id"] == "ex06_warmup_cosine_check")
    assert cheat_ex06["status"] == "passed" and cheat_ex06["flags"]
    assert "torch.optim.lr_scheduler" in cheat_ex06["flags"][0]
    assert rows["cheater"]["flagged"] == "ex06_warmup_cosine_check"


def test_a_failing_worker_costs_only_its_notebook(tmp_path):
    from lrcourse.grading.grader import Worker

    worker = Worker()
    try:
        worker.configure({"source": str(tmp_path / "nowhere")})
        data, why = worker.grade({"learner": "x", "source": "x.ipynb"}, budget=300)
    finally:
        worker.close()
    assert data is None
    assert why.startswith("the grading worker exited (lrcourse.grading.source.SourceError: ")


def test_release_keeps_what_an_answer_may_not_use():
    for path in sorted((REPO / "exercises").glob("ex*.ipynb")):
        ex = json.loads(path.read_text())
        sol = json.loads((REPO / "solutions" / path.name).read_text())
        pick = [(grade_id(c), c["metadata"].get("lrcourse")) for c in ex["cells"]
                if c["metadata"].get("nbgrader", {}).get("solution")]
        want = [(grade_id(c), c["metadata"].get("lrcourse")) for c in sol["cells"]
                if c["metadata"].get("nbgrader", {}).get("solution")]
        assert pick == want and all(meta and meta["may_not_use"] for _, meta in pick)


def test_grading_is_importable_without_torch():
    out = subprocess.run(
        [os.sys.executable, "-c", "import sys, lrcourse.checks, lrcourse.grading.runner, "
         "lrcourse.grading.protocol; print('torch' in sys.modules)"],
        capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_collecting_the_folders_of_several_machines(tmp_path):
    from lrcourse.grading.results import LearnerResult, TestResult

    notebooks = [source.load_source(SOURCE_NB).to_json()]

    def learner(name, points):
        return LearnerResult(name, f"/in/{name}", [
            TestResult(t, "schedules.ipynb", p, m, "passed" if p == m else "failed", "...")
            for (t, m), p in zip(source.load_source(SOURCE_NB).tests, points, strict=True)])

    report.write_outputs([learner("bob", [0, 2, 1, 3])], notebooks, tmp_path / "m1", "sandbox A")
    report.write_outputs([learner("alice", [2, 2, 1, 3])], notebooks, tmp_path / "m2",
                         "sandbox B")
    status, stdout, err = run_grade(["--collect", str(tmp_path / "m1"), str(tmp_path / "m2"),
                                     "--out", str(tmp_path / "all")])
    assert status == 0, err
    assert (tmp_path / "all" / "scores.csv").read_text() == (
        "learner,step_test,exp_test,exp_test_more,cosine_test,total,max,flagged\n"
        "alice,2,2,1,3,8,8,\nbob,0,2,1,3,6,8,\n")
    assert "sandbox B" in (tmp_path / "all" / "feedback" / "alice.html").read_text()
    assert "collected 2 folder(s)" in stdout
    status, _, err = run_grade(["--collect", str(tmp_path / "nothing"), "--out",
                                str(tmp_path / "all")])
    assert status == 2 and "holds no grading results" in err


def test_a_workers_address_space_is_what_torch_maps_plus_its_share():
    # the cap is set after torch is imported (a CUDA build maps gigabytes: a fixed cap below
    # that made every judge that runs torch fail), and still stops a submission that expands
    code = ("import resource\n"
            "from lrcourse.grading.worker import cap_address_space\n"
            "cap = cap_address_space(256)\n"
            "assert resource.getrlimit(resource.RLIMIT_AS)[0] == cap\n"
            "import torch\n"
            "torch.optim.lr_scheduler.LinearLR(torch.optim.SGD([torch.zeros(1)], lr=1.0))\n"
            "try:\n    bytearray(512 * 2**20)\nexcept MemoryError:\n    print('capped')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "capped"
