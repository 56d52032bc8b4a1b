"""The course as a learner sees it: ``./course lab`` in headless Chromium.

The server is started by ``./course lab`` itself (see ``conftest.py``): it serves the
repository, as it does for a learner.  Nothing is ever saved there (autosave is off, no test
saves) and the last test asserts that no file of the repository changed.

* For each notebook of LESSONS: open it, run all cells, check that no cell shows an error or
  stderr, that every explorer rendered (sliders visible, the figure decoded, no "Loading
  widget..." or "model not found"), move the listed sliders with the keyboard and check that
  the figure's bytes change, that the slider's value changed and that the explorer's readout
  shows the new value.  A screenshot of each lesson goes to artifacts/e2e/<notebook>.png.
* The page ``./course lab`` opens is the index; from it a learner follows the links to a
  lesson and on to its exercise, which opens.
* A learner's first hour, from a fresh copy of the repository (its own ``./course lab``, its own
  .venv): index, lesson, exercise; a wrong answer shows the check's message and plot and no
  frames of lrcourse; the right answer passes; saved, the README's learner command agrees.
* Two tests break widgets on purpose and check that the checker names the notebook and the
  widget.

Keep every browser test in this file: with ``-n 2 --dist loadfile`` one worker runs them all
and a single server is started (plus the fresh copy's own).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_browser import (
    ARTIFACTS,
    INDEX,
    NOTEBOOKS,
    REPO,
    JupyterLab,
    LabPage,
    Move,
    check_notebook,
    copy_working_tree,
    digest_changes,
    files_digest,
)

# notebook -> the slider moves made in it (slider = the torch parameter name it sets).
# Integer sliders make the expected readout exact; Home jumps to the slider's minimum.
LESSONS = {
    "00_index.ipynb": (Move("lr"),),                        # SGD on the bowl (log slider)
    "02_step_multistep.ipynb": (Move("step_size"),),        # StepLR, 30 -> 31
    "04_cosine_annealing.ipynb": (Move("T_max", key="Home"),),  # CosineAnnealingLR, -> 100
    "06_cyclic_onecycle.ipynb": (Move("step_size_up"),),    # CyclicLR, 15 -> 16
    "07_reduce_on_plateau.ipynb": (Move("patience"),),      # ReduceLROnPlateau simulator
}


@pytest.mark.parametrize("notebook", list(LESSONS))
def test_lesson_in_the_browser(notebook, open_page, record_property):
    if not (NOTEBOOKS / notebook).exists():
        pytest.skip(f"notebooks/{notebook} does not exist (yet)")
    lab_page = open_page(f"notebooks/{notebook}")
    report = check_notebook(lab_page, LESSONS[notebook],
                            screenshot=ARTIFACTS / f"{notebook.removesuffix('.ipynb')}.png")
    for move in report.moves:
        record_property(f"redraw_ms[{move.slider}]", [round(t, 1) for t in move.latency_ms])
    if report.problems:
        pytest.fail(report.summary(), pytrace=False)
    moved = {move.slider for move in report.moves}
    assert moved == {move.slider for move in LESSONS[notebook]}


# ---------------------------------------------------------------------------------------------
# From the index to an exercise, on the server ./course lab started
# ---------------------------------------------------------------------------------------------

def test_course_lab_opens_the_index_and_links_reach_the_exercises(lab, new_page):
    """./course lab serves the repository (so exercises/ is there) and opens the index; the
    index links to lesson 2, whose exercise link opens exercises/ex01 (not a 404)."""
    url = lab.opened_url()
    assert re.search(r"/lab/tree/notebooks/00_index\.ipynb\?token=", url), url
    index = LabPage(new_page(), lab, INDEX)
    index.open(url=url)
    assert index.current_path() == INDEX
    root = lab.listing("")  # what the file browser shows at its root
    assert {"exercises", "notebooks", "solutions", "README.md"} <= set(root), root

    lesson = index.follow_link("02_step_multistep.ipynb")
    exercise = lesson.follow_link("../exercises/ex01_step_multistep.ipynb")
    assert exercise.current_path() == "exercises/ex01_step_multistep.ipynb"
    heading = exercise.panel.locator(".jp-RenderedMarkdown h1").first.inner_text()
    assert heading.startswith("Exercise 1"), heading
    exercise.screenshot(ARTIFACTS / "exercise_opened_from_lesson.png")
    assert not lab.not_found(), lab.not_found()


# ---------------------------------------------------------------------------------------------
# The checker catches broken widgets
# ---------------------------------------------------------------------------------------------

# Scratch notebooks live in artifacts/ (ignored by git, left out of the files' digest).
SCRATCH = ARTIFACTS / "scratch"

BROKEN_CELLS = [
    "from IPython.display import display\nfrom lrcourse.widgets import explore, explore_function",
    # 1. a slider whose callback raises: the figure is never redrawn
    "ex = explore('StepLR', lr=0.05, steps=100, step_size=(1, 50, 30), gamma=(0.05, 1.0, 0.1))\n"
    "def broken_callback(change):\n"
    "    raise RuntimeError('the callback failed')\n"
    "ex.controls['step_size'].unobserve(ex._on_change, names='value')\n"
    "ex.controls['step_size'].observe(broken_callback, names='value')\n"
    "ex",
    # 2. a compute that fails once the slider moves: the explorer shows its error
    "def only_five(warmup):\n"
    "    if warmup != 5:\n"
    "        raise ValueError(f'warmup must be 5, got {warmup}')\n"
    "    return {'curve': [0.1] * 10}\n"
    "explore_function(only_five, warmup=(0, 10, 5))",
    # 3. a widget view whose model the page never receives
    "display({'application/vnd.jupyter.widget-view+json': {'model_id': '0' * 32,\n"
    "         'version_major': 2, 'version_minor': 0}, 'text/plain': 'a lost widget'}, raw=True)",
    # 4. stderr, then a traceback
    "import sys\nprint('something went to stderr', file=sys.stderr)",
    "raise ValueError('a deliberate error')",
]


def _write_broken_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in BROKEN_CELLS]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_broken_widgets_are_reported(lab, open_page):
    path = SCRATCH / "broken_widgets.ipynb"
    name = str(path.relative_to(REPO))
    _write_broken_notebook(path)
    try:
        report = check_notebook(open_page(name), [Move("step_size"), Move("warmup")])
    finally:
        path.unlink()
    problems = report.problems
    text = "\n".join(problems)
    assert all(p.startswith(f"{name}: ") for p in problems), text

    def one(*parts):
        found = [p for p in problems if all(part in p for part in parts)]
        assert found, f"no problem mentioning {parts} in:\n{text}"
        return found[0]

    one("slider 'step_size'", "not redrawn", "30 -> 31")
    one("slider 'warmup'", "shows an error", "warmup must be 5, got 6")
    # the readout follows the slider even when the values cannot be drawn (issue 10)
    assert not any("readout does not show" in p for p in problems), text
    one("cell 4 [4]:", "a widget that did not render", "model not found")
    one("cell 5 [5]:", "output on stderr", "something went to stderr")
    one("cell 6 [6]:", "an error", "ValueError", "a deliberate error")
    assert len(problems) == 5, text


def test_missing_widget_manager_is_reported(open_page):
    """Without the frontend extension (its JavaScript blocked) a lesson shows the static PNG
    fallback and no slider: the checker must say which notebook and which slider."""
    name = "notebooks/02_step_multistep.ipynb"
    lab_page = open_page(name, route_abort="**/lab/extensions/@jupyter-widgets/**")
    report = check_notebook(lab_page, [Move("step_size")])
    assert report.explorers == []
    assert f"{name}: slider 'step_size': not found (no explorer rendered)" in report.problems, (
        report.summary())


# ---------------------------------------------------------------------------------------------
# A learner's first hour, from a fresh copy of the repository
# ---------------------------------------------------------------------------------------------

EXERCISE = "exercises/ex01_step_multistep.ipynb"
WRONG_STEP_LR = ("def step_lr(epoch, base_lr, step_size, gamma):\n"
                 "    return base_lr * gamma ** ((epoch + 1) // step_size)\n")
STEP_LR = ("def step_lr(epoch, base_lr, step_size, gamma):\n"
           "    return base_lr * gamma ** (epoch // step_size)\n")
MULTISTEP_LR = ("def multistep_lr(epoch, base_lr, milestones, gamma):\n"
                "    passed = [m for m in milestones if m <= epoch]\n"
                "    return base_lr * gamma ** len(passed)\n")

# What a learner must never see in a check's output: the frames of the course's own code.
INTERNAL_FRAMES = re.compile(r"lrcourse[/\\]|_core\.py|Traceback \(most recent call last\)|"
                             r"site-packages")


def learner_commands(readme: Path) -> list[str]:
    """The commands the README gives a learner: the lines of the first ```bash block after
    its ``<!-- learner-commands -->`` marker."""
    text = readme.read_text()
    marker = text.index("<!-- learner-commands -->")
    block = re.search(r"```bash\n(.*?)```", text[marker:], re.S)
    assert block, "no ```bash block after <!-- learner-commands --> in the README"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    return [command for command in commands if command]


def _grade_ids(path: Path) -> dict[str, int]:
    cells = nbformat.read(path, as_version=4).cells
    return {cell.metadata.get("nbgrader", {}).get("grade_id"): i for i, cell in enumerate(cells)}


def _error_text(outputs: list[dict]) -> str:
    return "\n".join(o["text"] for o in outputs if o["mime"] == "application/vnd.jupyter.stderr")


def test_a_learners_first_hour_from_a_fresh_copy(chromium, new_page):
    """From a fresh copy: ./course lab (which sets up its own .venv), the index, a lesson, its
    exercise; Run All; a wrong answer; the right answers; save; the README's learner command."""
    workdir = Path(tempfile.mkdtemp(prefix="lrcourse-fresh-"))
    # The learner's environment: the default set-up, whatever torch this suite runs with.
    env = {"LRCOURSE_VENV": None, "LRCOURSE_TORCH": None, "VIRTUAL_ENV": None}
    try:
        clone = copy_working_tree(workdir / "lrcourse")
        with JupyterLab(clone, startup_timeout=900, env=env) as lab:
            page = new_page()
            index = LabPage(page, lab, INDEX)
            index.open(url=lab.opened_url(), timeout=120)
            exercise = index.follow_link("02_step_multistep.ipynb").follow_link(
                "../exercises/ex01_step_multistep.ipynb")
            cells = _grade_ids(clone / EXERCISE)
            answer, check = cells["ex01_step_lr"], cells["ex01_step_lr_check"]

            # Run All stops at the first check: not implemented yet, said plainly.
            exercise.run_all()
            first = _error_text(exercise.outputs(check))
            assert "CheckFailed: step_lr is not implemented yet" in first, first
            assert not INTERNAL_FRAMES.search(first), first

            # A wrong answer: the message (where it differs) and the plot, no frames.
            exercise.type_code(answer, WRONG_STEP_LR)
            exercise.run_cell(answer)
            exercise.run_cell(check)
            outputs = exercise.outputs(check)
            message = _error_text(outputs)
            assert message.startswith("CheckFailed: step_lr does not match "
                                      "torch.optim.lr_scheduler.StepLR."), message
            assert "first difference at epoch 2: expected 0.1, got 0.05" in message, message
            assert not INTERNAL_FRAMES.search(message), message
            assert sum(o["images"] for o in outputs) == 1, outputs  # the overlay plot
            exercise.cell(check).scroll_into_view_if_needed()
            exercise.screenshot(ARTIFACTS / "first_hour_failing_check.png")

            # The right answers pass.
            for name, code in (("ex01_step_lr", STEP_LR), ("ex01_multistep_lr", MULTISTEP_LR)):
                exercise.type_code(cells[name], code)
                exercise.run_cell(cells[name])
                exercise.run_cell(cells[f"{name}_check"])
                outputs = exercise.outputs(cells[f"{name}_check"])
                function = name.removeprefix("ex01_")
                assert [o["text"] for o in outputs] == [
                    f"check_{function}: all public checks passed"], outputs
            exercise.screenshot(ARTIFACTS / "first_hour_solved.png")
            exercise.save()
            assert not lab.not_found(), lab.not_found()

        # The README's learner command, as written, in the copy (after ./course lab only).
        commands = learner_commands(clone / "README.md")
        assert commands, "the README gives a learner no command"
        run_env = {k: v for k, v in os.environ.items() if k not in env}
        for command in commands:
            done = subprocess.run(["bash", "-c", command], cwd=clone, env=run_env,
                                  capture_output=True, text=True, timeout=600)
            report = done.stdout + done.stderr
            assert done.returncode == 0, f"{command}\n{report}"
            if EXERCISE in command:
                assert f"{EXERCISE}: 2 of 2 checks passed (4 of 4 points)" in report, report
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Last: nothing was saved in the repository
# ---------------------------------------------------------------------------------------------

def test_the_repository_files_are_unchanged(lab, repository_files):
    """The tests above ran and edited notebooks in ./course lab's server on this repository
    without saving: every file is as it was (the session's end checks again)."""
    changes = digest_changes(repository_files, files_digest(REPO))
    assert not changes, "\n".join(changes)
