"""A failed check in a real kernel shows its message (and its plot), not frames of lrcourse.

One notebook is run in a fresh IPython kernel with nbclient (as JupyterLab, nbval and
``./course check`` run them); its error outputs are what a learner sees.  nbval's own report is
checked on the same notebook in a pytest subprocess.
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from lrcourse.checks import CheckFailed, check_step_lr
from lrcourse.checks.display import register

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Frames of the course's code, of installed packages or of the check itself.
INTERNAL = re.compile(r"lrcourse[/\\]|_core\.py|site-packages|check_step_lr\(step_lr\)")

CELLS = [
    "from lrcourse.checks import check_step_lr",
    # 1: a wrong answer (off by one epoch)
    "def step_lr(epoch, base_lr, step_size, gamma):\n"
    "    return base_lr * gamma ** ((epoch + 1) // step_size)\n"
    "check_step_lr(step_lr)",
    # 2: the learner's own code raises, two calls deep
    "def helper(epoch):\n"
    "    return 1 / (epoch - epoch)\n"
    "def step_lr(epoch, base_lr, step_size, gamma):\n"
    "    return base_lr * helper(epoch)\n"
    "check_step_lr(step_lr)",
    # 3: any other error keeps IPython's usual traceback
    "undefined_name",
    # 4: a wrong signature: Python refuses the call before any line of the learner's runs
    "def step_lr(epoch, lr, step_size, gamma):\n"
    "    return lr\n"
    "check_step_lr(step_lr)",
]


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    return nb


@pytest.fixture(scope="module")
def executed():
    nb = _notebook()
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    return nb


def _error(nb, index):
    [error] = [o for o in nb.cells[index].outputs if o.output_type == "error"]
    return error, [ANSI.sub("", line) for line in error.traceback]


def _expected_message(step_lr) -> str:
    """The message the check raises in plain Python, where nothing is registered."""
    with pytest.raises(CheckFailed) as failure:
        check_step_lr(step_lr)
    return str(failure.value)


def test_a_failed_check_shows_its_message_and_plot_only(executed):
    error, lines = _error(executed, 1)
    message = _expected_message(
        lambda epoch, base_lr, step_size, gamma: base_lr * gamma ** ((epoch + 1) // step_size))
    assert (error.ename, error.evalue) == ("CheckFailed", message)
    assert "\n".join(lines) == f"CheckFailed: {message}"  # no frame at all
    kinds = [o.output_type for o in executed.cells[1].outputs]
    assert kinds == ["display_data", "error"]  # the overlay plot, then the message
    assert "image/png" in executed.cells[1].outputs[0].data


def test_the_learners_own_frames_come_before_the_message(executed):
    error, lines = _error(executed, 2)
    text = "\n".join(lines)
    assert not INTERNAL.search(text), text
    # the learner's two frames, innermost last, then their exception, then the check's message
    assert text.index("return base_lr * helper(epoch)") < text.index("return 1 / (epoch - epoch)")
    assert "ZeroDivisionError: division by zero" in text
    assert lines[-1].startswith("CheckFailed: step_lr raised ZeroDivisionError: division by zero")
    assert error.evalue in lines[-1]


def test_the_message_points_at_the_learners_line_only_when_there_is_one(executed):
    _, lines = _error(executed, 2)
    assert lines[-1].endswith("(the traceback above this message shows the line in your code)")
    error, lines = _error(executed, 4)
    text = "\n".join(lines)
    assert not INTERNAL.search(text), text
    assert lines[0].startswith("CheckFailed: step_lr raised TypeError: step_lr() got an "
                               "unexpected keyword argument 'base_lr'")  # no frame above it
    assert "traceback above" not in text
    assert "hint: the call does not fit your function's signature" in text


def test_other_errors_keep_ipythons_traceback(executed):
    error, lines = _error(executed, 3)
    assert error.ename == "NameError"
    assert any("Traceback (most recent call last)" in line for line in lines)


def test_the_cell_still_fails():
    """The kernel answers the failed check with an error, so Run All stops there and nbclient
    (like the grader and ./course check) sees the failure."""
    nb = _notebook()
    nb.cells = nb.cells[:2]
    with pytest.raises(CellExecutionError) as failure:
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert "CheckFailed" in str(failure.value)


def test_nbval_reports_the_message_without_internal_frames(tmp_path):
    nb = _notebook()
    nb.cells = nb.cells[:3]
    path = tmp_path / "learner.ipynb"
    nbformat.write(nb, path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-p", "no:randomly", str(path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    report = ANSI.sub("", done.stdout)
    assert done.returncode == 1, report
    assert "2 failed" in report, report
    assert "CheckFailed: step_lr does not match torch.optim.lr_scheduler.StepLR." in report
    assert "CheckFailed: step_lr raised ZeroDivisionError" in report
    assert "_core.py" not in report and "lrcourse/checks" not in report, report


def test_outside_ipython_nothing_is_registered():
    assert register() is False  # pytest runs no IPython shell
    with pytest.raises(AssertionError):  # a CheckFailed is an AssertionError, as before
        check_step_lr(lambda epoch, base_lr, step_size, gamma: 0.0)
