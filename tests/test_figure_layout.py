"""Every figure a lesson shows keeps its legend off the data (issue 10, "Figures a learner can
read").

Each notebook in notebooks/ is executed from its source, in its own folder as nbval does, by a
kernel started with ``LRCOURSE_CHECK_LEGENDS=1``: ``lrcourse.plots`` then checks every figure as
it is rendered to PNG (by ``to_png``, IPython's formatter or any matplotlib backend) and every
explorer as it is displayed, with :func:`lrcourse.plots.legend_overlaps` (the legend's window
extent against the data of every axes, in display coordinates), and writes each overlap to the
cell's stderr.  A failure names the notebook and the cell.

The stored outputs are not read: what is checked is what the lesson's cells draw with the
library as it is now.  Executing the 15 lessons takes a few minutes, once per run: the
notebooks are parametrized, so ``-k 11_`` checks one lesson, and with ``--dist loadfile`` this
file runs on one worker, beside the others.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lrcourse import plots

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
COUNT = "LRCOURSE-CHECKED-FIGURES:"


def _text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return ""


def check_notebook(nb, folder: Path) -> tuple[list[str], int, int]:
    """Execute ``nb`` in ``folder`` with the legend check on: the problems (cell by cell), how
    many figures its cells showed and how many the kernel checked."""
    lesson_cells = len(nb.cells)
    nb.cells.append(nbformat.v4.new_code_cell(
        f"import lrcourse.plots\nprint({COUNT!r}, lrcourse.plots.checked_figures())"))
    NotebookClient(
        nb, timeout=600, kernel_name="python3", allow_errors=True,
        # install the check before the first cell, whatever the lesson imports
        extra_arguments=["--IPKernelApp.exec_lines=['import lrcourse.plots']"],
        resources={"metadata": {"path": str(folder)}},
    ).execute()

    problems, figures = [], 0
    for index, cell in enumerate(nb.cells[:lesson_cells]):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {index} raised {output['ename']}: {output['evalue']}")
            if "image/png" in output.get("data", {}):
                figures += 1
            for line in _text(output).splitlines():
                if line.startswith(plots.OVERLAP_MARKER):
                    problems.append(f"cell {index}: {line[len(plots.OVERLAP_MARKER):].strip()}")
    printed = "".join(_text(o) for o in nb.cells.pop().get("outputs", []))
    checked = int(printed.split(COUNT)[1].split()[0]) if COUNT in printed else -1
    return problems, figures, checked


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_legend_covers_data_in_a_lesson_figure(path, monkeypatch):
    monkeypatch.setenv(plots.CHECK_ENV, "1")  # the kernel inherits it
    problems, figures, checked = check_notebook(nbformat.read(path, as_version=4), path.parent)
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)
    assert checked >= 0, f"{path.name}: the check did not run"
    # every PNG the lesson showed went through the check (explorers once, when displayed)
    assert checked >= figures, f"{path.name}: {figures} figures shown, {checked} checked"


BAD_CELLS = [
    "import numpy as np\nfrom lrcourse import plots",
    # a figure of the library's kind, its legend put on the curves
    "fig, ax = plots.new_figure()\n"
    "ax.plot(np.arange(50), np.linspace(0, 1, 50), label='ramp')\n"
    "ax.plot(np.arange(50), np.full(50, 0.5), label='flat')\n"
    "ax.legend(loc='center')\nfig",
    # the same with pyplot and the inline backend
    "import matplotlib.pyplot as plt\n"
    "plt.figure()\nplt.plot(np.linspace(0, 1, 50), label='pyplot ramp')\n"
    "plt.legend(loc='center')\nplt.show()",
    # a clean figure
    "plots.curve_figure({'a': np.linspace(1, 0, 50), 'b': np.linspace(0.5, 0, 50)})",
]


def test_the_check_names_the_cell_of_a_figure_whose_legend_covers_data(monkeypatch, tmp_path):
    monkeypatch.setenv(plots.CHECK_ENV, "1")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in BAD_CELLS])
    problems, figures, checked = check_notebook(nb, tmp_path)
    assert figures == 3 and checked >= 3
    assert [p.split(":")[0] for p in problems] == ["cell 1", "cell 1", "cell 2"], problems
    assert "covers 'ramp'" in problems[0] and "covers 'flat'" in problems[1]
    assert "covers 'pyplot ramp'" in problems[2]
