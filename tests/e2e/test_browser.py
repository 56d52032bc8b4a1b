"""The course as a learner sees it: JupyterLab in headless Chromium.

For each notebook of LESSONS: open it, run all cells, check that no cell shows an error or
stderr, that every explorer rendered (sliders visible, the figure decoded, no "Loading
widget..." or "model not found"), move the listed sliders with the keyboard and check that the
figure's bytes change, that the slider's value changed and that the explorer's readout shows the
new value.  A screenshot of each lesson goes to artifacts/e2e/<notebook>.png.

The last two tests break widgets on purpose and check that the same checker names the notebook
and the widget.  Keep every browser test in this file: with ``-n 2 --dist loadfile`` one worker
runs them all and a single server is started.
"""

from __future__ import annotations

import nbformat
import pytest
from jupyter_browser import ARTIFACTS, NOTEBOOKS, Move, check_notebook

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
    lab_page = open_page(notebook)
    report = check_notebook(lab_page, LESSONS[notebook],
                            screenshot=ARTIFACTS / f"{notebook.removesuffix('.ipynb')}.png")
    for move in report.moves:
        record_property(f"redraw_ms[{move.slider}]", [round(t, 1) for t in move.latency_ms])
    if report.problems:
        pytest.fail(report.summary(), pytrace=False)
    moved = {move.slider for move in report.moves}
    assert moved == {move.slider for move in LESSONS[notebook]}


# ---------------------------------------------------------------------------------------------
# The checker catches broken widgets
# ---------------------------------------------------------------------------------------------

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


def _write_broken_notebook(lab, name: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in BROKEN_CELLS]
    nbformat.write(nb, lab.root / name)


def test_broken_widgets_are_reported(lab, open_page):
    name = "broken_widgets.ipynb"
    _write_broken_notebook(lab, name)
    report = check_notebook(open_page(name), [Move("step_size"), Move("warmup")])
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
    name = "02_step_multistep.ipynb"
    lab_page = open_page(name, route_abort="**/lab/extensions/@jupyter-widgets/**")
    report = check_notebook(lab_page, [Move("step_size")])
    assert report.explorers == []
    assert f"{name}: slider 'step_size': not found (no explorer rendered)" in report.problems, (
        report.summary())
