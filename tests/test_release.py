"""exercises/ is generated from solutions/, is up to date, and cannot pass vacuously."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lrcourse import cli, release

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
SOLUTION_NOTEBOOKS = sorted(SOLUTIONS.glob("*.ipynb"))
EXERCISE_NOTEBOOKS = sorted(EXERCISES.glob("*.ipynb"))

# Written by hand from the issue: what each exercise asks for, its points, the lesson it follows.
INDEX = {
    "ex01_step_multistep.ipynb": ([("step_lr", 2), ("multistep_lr", 2)], ["02_step_multistep"]),
    "ex02_exponential_polynomial.ipynb": ([("exponential_lr", 1), ("polynomial_lr", 2)],
                                          ["03_constant_linear_exponential_polynomial"]),
    "ex03_cosine_restarts.ipynb": ([("cosine_annealing_lr", 2), ("warm_restarts_lr", 3)],
                                   ["04_cosine_annealing", "05_warm_restarts"]),
    "ex04_cyclic_onecycle.ipynb": ([("cyclic_triangular2_lr", 3), ("one_cycle_lr", 4)],
                                   ["06_cyclic_onecycle"]),
    "ex05_plateau.ipynb": ([("plateau_lrs", 4)], ["07_reduce_on_plateau"]),
    "ex06_warmup_cosine.ipynb": ([("WarmupCosine", 4)],
                                 ["08_chaining", "15_writing_your_own_scheduler"]),
    "ex07_find_the_bug.ipynb": ([("train", 3)], ["09_training_loop"]),
    "ex08_lambda_factors.ipynb": ([("step_decay", 1), ("linear_warmup", 2)],
                                  ["01_lambda_multiplicative"]),
    "ex09_warmups.ipynb": ([("constant_lr", 1), ("linear_lr", 2), ("make_warmup", 2)],
                           ["03_constant_linear_exponential_polynomial"]),
    "ex10_composites.ipynb": ([("chained_lr", 1), ("sequential_lr", 2),
                               ("chained_cosine_curve", 3)], ["08_chaining"]),
    "ex11_swalr.ipynb": ([("swalr_lr", 2), ("swa_recipe_lr", 3)],
                         ["17_stochastic_weight_averaging"]),
    "ex12_transformers_cosine.ipynb": ([("cosine_with_warmup_lambda", 4)],
                                       ["16_schedules_in_other_libraries"]),
}


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


# ------------------------------------------------------------------------- staleness


def test_exercises_are_exactly_what_the_generator_produces():
    files = release.build(SOLUTIONS)
    assert sorted(files) == sorted(["README.md", *INDEX])
    stale = release.stale(files, EXERCISES)
    assert not stale, f"exercises/ is stale, run `lrcourse release`: {stale}"


def test_release_check_names_stale_files_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "exercises"
    assert cli.main(["release", "--solutions", str(SOLUTIONS), "--exercises", str(out)]) == 0
    assert cli.main(["release", "--check", "--solutions", str(SOLUTIONS),
                     "--exercises", str(out)]) == 0
    edited = out / "ex01_step_multistep.ipynb"
    edited.write_text(edited.read_text().replace("# YOUR CODE HERE", "# my answer"))
    (out / "README.md").unlink()
    (out / "ex99_old.ipynb").write_text("{}")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    code = cli.main(["release", "--check", "--solutions", str(SOLUTIONS), "--exercises", str(out)])

    report = capsys.readouterr().out
    assert code == 1
    assert "ex01_step_multistep.ipynb: differs" in report
    assert "README.md: missing" in report
    assert "ex99_old.ipynb: extra" in report
    assert "ex02" not in report
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing written

    assert cli.main(["release", "--solutions", str(SOLUTIONS), "--exercises", str(out)]) == 0
    assert not (out / "ex99_old.ipynb").exists()
    assert release.stale(release.build(SOLUTIONS), out) == {}


def test_generation_is_deterministic_and_leaves_solutions_alone():
    nb = nbformat.read(SOLUTION_NOTEBOOKS[0], as_version=4)
    text = nbformat.writes(nb)
    first = release.dumps(release.release_notebook(nb))
    assert release.dumps(release.release_notebook(nb)) == first
    assert nbformat.writes(nb) == text


# ------------------------------------------------------------------ one crafted notebook


def _crafted():
    solution = nbformat.v4.new_code_cell(
        "import math\n"
        "def f(x):\n"
        "    \"\"\"docstring\"\"\"\n"
        "    ### BEGIN SOLUTION\n"
        "    y = x + 1\n"
        "    return y\n"
        "    ### END SOLUTION\n"
        "\n"
        "def g():\n"
        "    ### BEGIN SOLUTION\n"
        "    return 2\n"
        "    ### END SOLUTION\n",
        metadata={"nbgrader": {"solution": True, "grade": False, "locked": False,
                               "grade_id": "f", "schema_version": 3},
                  "execution": {"iopub.status.busy": "2026-01-01"}, "scrolled": True},
        execution_count=3,
        outputs=[nbformat.v4.new_output("stream", name="stdout", text="hi\n")],
    )
    whole = nbformat.v4.new_code_cell(
        "answer = 42",
        metadata={"nbgrader": {"solution": True, "grade": False, "locked": False,
                               "grade_id": "whole", "schema_version": 3}})
    test = nbformat.v4.new_code_cell(
        "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(2) == 3\n### END HIDDEN TESTS\n",
        metadata={"nbgrader": {"solution": False, "grade": True, "locked": True, "points": 2,
                               "grade_id": "f_check", "schema_version": 3}},
        execution_count=4)
    words = nbformat.v4.new_markdown_cell("# Exercise 9 · Crafted\nText.")
    nb = nbformat.v4.new_notebook(cells=[words, solution, whole, test])
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.2"}
    return nb


def test_solution_regions_become_stubs_at_their_indentation():
    out = release.release_notebook(_crafted(), "crafted")
    assert out.cells[1].source == (
        "import math\n"
        "def f(x):\n"
        "    \"\"\"docstring\"\"\"\n"
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "\n"
        "def g():\n"
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()"
    )
    assert out.cells[2].source == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_hidden_tests_outputs_counts_and_extra_metadata_are_removed():
    out = release.release_notebook(_crafted(), "crafted")
    assert out.cells[3].source == "assert f(1) == 2"
    assert out.cells[3].metadata["nbgrader"]["points"] == 2
    for cell in out.cells[1:]:
        assert cell.outputs == [] and cell.execution_count is None
    assert set(out.cells[1].metadata) == {"nbgrader"}
    assert out.metadata["language_info"] == {"name": "python"}
    assert out.cells[0].source == "# Exercise 9 · Crafted\nText."


@pytest.mark.parametrize("source, words", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
])
def test_broken_markers_are_refused_naming_the_cell(source, words):
    nb = _crafted()
    nb.cells[1].source = source
    with pytest.raises(release.ReleaseError, match=rf"crafted, cell 1: .*{words}"):
        release.release_notebook(nb, "crafted")


def test_solution_marker_outside_a_solution_cell_is_refused():
    nb = _crafted()
    nb.cells[3].source = "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"
    with pytest.raises(release.ReleaseError, match="not marked as a solution"):
        release.release_notebook(nb, "crafted")


# ------------------------------------------------------------- the shipped exercises


def _solution_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == release.BEGIN_SOLUTION:
            inside = True
        elif line.strip() == release.END_SOLUTION:
            inside = False
        elif inside and line.strip() and not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


@pytest.mark.parametrize("solution", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_exercise_keeps_cells_and_grade_ids_but_no_answers_or_hidden_tests(solution):
    sol = nbformat.read(solution, as_version=4)
    ex = nbformat.read(EXERCISES / solution.name, as_version=4)
    assert [nbgrader(c) for c in ex.cells] == [nbgrader(c) for c in sol.cells]
    assert [c.get("id") for c in ex.cells] == [c.get("id") for c in sol.cells]
    text = "\n".join(c.source for c in ex.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "hidden=True"):
        assert marker not in text
    for s_cell, e_cell in zip(sol.cells, ex.cells):
        if nbgrader(s_cell).get("solution"):
            assert "raise NotImplementedError()" in e_cell.source
            assert not (set(_solution_lines(s_cell.source)) & {
                ln.strip() for ln in e_cell.source.splitlines()})
        if nbgrader(s_cell).get("grade"):
            assert "hidden=True" in s_cell.source  # every graded cell has hidden cases
        assert e_cell.get("outputs", []) == [] and e_cell.get("execution_count") is None


def test_every_graded_cell_follows_the_grading_contract():
    ids = []
    for path in SOLUTION_NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            meta = nbgrader(cell)
            assert meta["schema_version"] == 3 and meta["grade_id"]
            ids.append(meta["grade_id"])
            if meta["solution"]:
                assert (meta["grade"], meta["locked"]) == (False, False)
            elif meta["grade"]:
                assert meta["locked"] is True and meta["points"] > 0
            else:
                assert meta["locked"] is True
    assert len(ids) == len(set(ids)), "grade_ids must be unique across the course"


def test_index_lists_functions_points_and_lessons():
    readme = (EXERCISES / "README.md").read_text()
    total = 0
    for file, (functions, lessons) in INDEX.items():
        row = next(line for line in readme.splitlines() if f"]({file})" in line)
        points = sum(p for _, p in functions)
        total += points
        assert ", ".join(f"`{n}` ({p})" for n, p in functions) in row
        assert f"| {points} |" in row
        for lesson in lessons:
            assert f"(../notebooks/{lesson}.ipynb)" in row
        nb = nbformat.read(SOLUTIONS / file, as_version=4)
        assert sum(nbgrader(c).get("points", 0) for c in nb.cells) == points
    assert f"Total: {total} points." in readme
    assert "./course check exercises/ex01_step_multistep.ipynb" in readme


# ------------------------------------------------------- the exercises, run as shipped


@pytest.mark.parametrize("exercise", EXERCISE_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_cell_of_a_shipped_exercise_fails(exercise):
    nb = nbformat.read(exercise, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(exercise.parent)}}).execute()
    graded = 0
    for i, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if nbgrader(cell).get("grade"):
            graded += 1
            assert len(errors) == 1, f"cell {i} of {exercise.name} did not fail"
            assert errors[0].ename == "CheckFailed"
            assert "is not implemented yet" in errors[0].evalue
        else:
            assert errors == [], f"cell {i} of {exercise.name}: {errors[0].evalue}"
    assert graded == len(INDEX[exercise.name][0])


def test_nbval_reports_the_check_message_from_the_command_line():
    # what a learner runs; the plugin options come from pyproject.toml
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "--color=no",
         "exercises/ex02_exponential_polynomial.ipynb"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    report = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # the kernel colours its traceback
    assert "CheckFailed: exponential_lr is not implemented yet" in report
    assert "CheckFailed: polynomial_lr is not implemented yet" in report
    assert re.search(r"\b2 failed\b", report)


def test_readme_counts_the_exercises_and_their_points():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("<!-- section:exercises -->")[1].split("<!-- /section:exercises -->")[0]
    words = ("Zero One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Thirteen "
             "Fourteen Fifteen Sixteen").split()
    total = sum(points for functions, _ in INDEX.values() for _, points in functions)
    assert f"{words[len(INDEX)]} exercise notebooks in `exercises/`, {total} points in all" \
        in " ".join(section.split())
