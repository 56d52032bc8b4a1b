"""`lrcourse grade` on exercises 8 to 12, in the sandbox: the solutions score full marks, the
released exercises 0 (also in tests/test_grading.py, with the whole course), and a learner whose
answers go wrong in the ways that matter for grading gets exactly the right verdicts:

* a public failure carries the same message as the learner's notebook, named mistake included;
* a hidden failure says how many cases failed and in what way, and nothing the learner's code
  saw or printed (their exception text holds the hidden inputs here);
* an answer that uses the library being taught passes but is flagged for review;
* the checks that drive a real ``LambdaLR`` or the scheduler a learner builds work in the
  sandbox, where torch is imported only for them.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from lrcourse.checks import get_check

from grading_fixtures.crafted import REPO, grade_id, notebook_message, run_grade, \
    sandbox_unavailable, write

SANDBOX_PROBLEM = sandbox_unavailable()
needs_sandbox = pytest.mark.skipif(bool(SANDBOX_PROBLEM), reason=SANDBOX_PROBLEM or "ok")

NOTEBOOKS = ["ex08_lambda_factors.ipynb", "ex09_warmups.ipynb", "ex10_composites.ipynb",
             "ex11_swalr.ipynb", "ex12_transformers_cosine.ipynb"]
MAX = {"ex08": 3, "ex09": 5, "ex10": 6, "ex11": 5, "ex12": 4}

# Right on every public case, wrong on hidden ones: the exception's text holds the inputs.
LEAKY_WARMUP = '''
def linear_warmup(epoch, warmup_epochs):
    if warmup_epochs not in (2, 4, 5):
        raise ValueError(f"LEAKED warmup_epochs={warmup_epochs} epoch={epoch}")
    return min(1.0, (epoch + 1) / warmup_epochs)
'''
# Right on the public cases (warm-ups of 1, 3 and 5 epochs), one epoch late on longer ones.
LATE_WARMUP = '''
def make_warmup(optimizer, warmup_lr, warmup_epochs):
    lr = optimizer.param_groups[0]["lr"]
    print("LEAKED", warmup_lr, warmup_epochs)
    late = warmup_epochs + 1 if warmup_epochs > 5 else warmup_epochs
    return LinearLR(optimizer, start_factor=warmup_lr / lr, total_iters=late)
'''
# Right on the public cases (at most 13 steps), one rate short on longer curves.
SHORT_CURVE = '''
def chained_cosine_curve(steps, base_lr, gamma, T_max, eta_min):
    rates = [base_lr]
    for t in range(1, min(steps, 13)):
        rate = gamma * rates[-1]
        r_t = (1 + math.cos(math.pi * t / T_max)) / (1 + math.cos(math.pi * (t - 1) / T_max))
        rates.append(eta_min + r_t * (rate - eta_min))
    return rates if steps <= 13 else rates[:-1]
'''
# Wrong on the public cases: never clamped at swa_lr.
UNCLAMPED = '''
def swalr_lr(step, lr, swa_lr, anneal_epochs, anneal_strategy):
    x = step / anneal_epochs
    alpha = (1 - math.cos(math.pi * x)) / 2 if anneal_strategy == "cos" else x
    return swa_lr * alpha + lr * (1 - alpha)
'''
# The right factor, from the course's own closed form: passes, flagged for review.
LIBRARY = '''
from lrcourse.schedules.huggingface import cosine_schedule_with_warmup


def cosine_with_warmup_lambda(current_step, num_warmup_steps, num_training_steps,
                              num_cycles=0.5):
    return float(cosine_schedule_with_warmup(current_step, 1.0, num_warmup_steps,
                                             num_training_steps, num_cycles))
'''
MIXED = {"ex08_linear_warmup": LEAKY_WARMUP, "ex09_make_warmup": LATE_WARMUP,
         "ex10_chained_cosine_curve": SHORT_CURVE, "ex11_swalr_lr": UNCLAMPED,
         "ex12_cosine_with_warmup_lambda": LIBRARY}


def _with_answers(path, answers):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if grade_id(cell) in answers:
            cell["source"] = answers[grade_id(cell)]
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("ex08_12")
    source = root / "source"
    source.mkdir()
    (root / "starter").mkdir()
    for name in NOTEBOOKS:
        shutil.copy(REPO / "solutions" / name, source / name)
        shutil.copy(REPO / "exercises" / name, root / "starter" / name)
        write(root / "mixed" / name, _with_answers(REPO / "solutions" / name, MIXED))
    shutil.copytree(source, root / "solver")
    secret = root / "secret"  # fixed: the hidden cases that catch the mixed learner are known
    secret.write_text("a fixed secret for the grading test of exercises 8 to 12\n")
    out = root / "out"
    status, stdout, stderr = run_grade([str(root / "solver"), str(root / "starter"),
                                        str(root / "mixed"), "--out", str(out), "--source",
                                        str(source), "--secret-file", str(secret),
                                        "--jobs", "2"])
    data = json.loads((out / "results.json").read_text())
    return dict(status=status, stderr=stderr, out=out,
                rows={r["learner"]: r for r in csv.DictReader(io.StringIO(
                    (out / "scores.csv").read_text()))},
                results={d["learner"]: {r["grade_id"]: r for r in d["results"]}
                         for d in data["learners"]})


@needs_sandbox
class TestExercises8To12:
    def test_solutions_full_marks_exercises_zero(self, graded):
        assert graded["status"] == 0, graded["stderr"][-3000:]
        total = str(sum(MAX.values()))
        solver, starter = graded["rows"]["solver"], graded["rows"]["starter"]
        assert (solver["total"], solver["max"], solver["flagged"]) == (total, total, "")
        assert starter["total"] == "0"
        assert {r["status"] for r in graded["results"]["solver"].values()} == {"passed"}
        for result in graded["results"]["starter"].values():
            assert "is not implemented yet" in result["message"]

    def test_hidden_failures_say_how_many_and_how_only(self, graded):
        results = graded["results"]["mixed"]
        assert results["ex08_step_decay_check"]["status"] == "passed"
        cases = {
            "ex08_linear_warmup_check": ("check_linear_warmup", "your code raised ValueError"),
            # the mistake the check recognised, in its table's constant words (no value)
            "ex09_make_warmup_check": ("check_make_warmup", "your values differ from PyTorch's: "
                                       "the warm-up reaches the full rate one epoch late"),
            "ex10_chained_cosine_curve_check": (
                "check_chained_cosine_curve",
                "your code returned something that is not a learning rate"),
        }
        for gid, (check, how) in cases.items():
            result = results[gid]
            assert result["status"] == "failed" and result["points"] == 0
            (message,) = result["message"].splitlines()  # the failed call's verdict only
            assert message.startswith(f"{check}: "), message
            assert f" of 12 hidden cases failed (the first: {how}). Hint: the public cases " \
                   "pass, so try " in message, message
        kinds = {m.kind for m in get_check("check_make_warmup").mistakes}
        assert cases["ex09_make_warmup_check"][1].split(": ", 1)[1] in kinds

    def test_a_public_failure_is_the_notebooks_message(self, graded):
        result = graded["results"]["mixed"]["ex11_swalr_lr_check"]
        expected = notebook_message("import math\n" + UNCLAMPED, "check_swalr_lr")
        assert result["status"] == "failed"
        assert result["message"] == expected
        # the mistake named, as in every check (lrcourse.checks.diagnosis)
        assert "diagnosis: after anneal_epochs steps the rate stays at swa_lr" in expected
        assert "hint:" not in expected
        assert "torch.optim.swa_utils.SWALR" in expected

    def test_library_use_passes_and_is_flagged(self, graded):
        result = graded["results"]["mixed"]["ex12_cosine_with_warmup_lambda_check"]
        assert result["status"] == "passed" and result["points"] == 4
        assert result["flags"] and "lrcourse.schedules.huggingface" in result["flags"][0]
        assert graded["rows"]["mixed"]["flagged"] == "ex12_cosine_with_warmup_lambda_check"
        # ex08: 1 (step_decay), ex09: 1 + 2, ex10: 1 + 2, ex11: 0 (the recipe calls the
        # unclamped swalr_lr), ex12: 4
        assert graded["rows"]["mixed"]["total"] == str(1 + 3 + 3 + 0 + 4)
        assert graded["results"]["mixed"]["ex11_swa_recipe_lr_check"]["status"] == "failed"

    def test_public_failures_carry_their_plots(self, graded):
        page = (graded["out"] / "feedback" / "mixed.html").read_text()
        assert page.count("data:image/png;base64,iVBORw0KGgo") == 2  # ex11's two public failures

    def test_no_page_shows_a_hidden_input_or_the_learners_output(self, graded):
        for page in (graded["out"] / "feedback").iterdir():
            text = page.read_text()
            assert "LEAKED" not in text
            assert "hidden=True" not in text and "seed=" not in text and "HIDDEN" not in text
