"""How a failed check shows in a notebook: its message, not a traceback through lrcourse.

When a check fails, a learner needs the message (what was called, the first step that
differs, expected and got) and the plot the check drew before raising.  IPython would print a
red traceback whose frames are the check's own code.  Importing :mod:`lrcourse.checks` in a
kernel therefore registers :func:`show_check_failure` with IPython's ``set_custom_exc`` for
:class:`~lrcourse.checks.CheckFailed`, which shows::

    CheckFailed: step_lr does not match torch.optim.lr_scheduler.StepLR.
      checked: ...

The cell still fails (the kernel replies with an error, so *Run All* stops there and nbval,
``./course check`` and the grader see the failure), and the error's ``traceback`` is just those
lines, so nbval's report holds the message without frames too.

When the learner's own code raised (the check says "step_lr raised ZeroDivisionError ..."),
the frames of *their* code come first, as IPython formats them, with the frames of lrcourse,
torch, numpy and the standard library left out: the line to fix, then the message.

Outside IPython (plain Python, pytest) nothing is registered and a CheckFailed is an ordinary
AssertionError.
"""

from __future__ import annotations

import sys
import sysconfig
import types
from pathlib import Path

from lrcourse.checks import CheckFailed

__all__ = ["register", "show_check_failure", "failure_lines", "learner_traceback"]

RED, RESET = "\x1b[31m", "\x1b[39m"

# Files whose frames a learner does not need to see: lrcourse itself, installed packages
# (torch, numpy) and the standard library.  A notebook cell's code lives elsewhere (IPython
# compiles it to a file in a temporary ipykernel_<pid>/ folder, or to "<ipython-input-...>").
_LIBRARY_DIRS = tuple(
    str(Path(path).resolve()) for path in {
        str(Path(__file__).resolve().parents[1]),  # lrcourse/
        *(sysconfig.get_paths()[key] for key in ("purelib", "platlib", "stdlib", "platstdlib")),
    }
)


def _is_library(filename: str) -> bool:
    if filename.startswith("<frozen "):
        return True
    try:
        resolved = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    return any(resolved == d or resolved.startswith(d + "/") for d in _LIBRARY_DIRS)


def learner_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` without the frames of library code (lrcourse, installed packages, stdlib)."""
    frames = []
    while tb is not None:
        if not _is_library(tb.tb_frame.f_code.co_filename):
            frames.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for frame_tb in reversed(frames):
        rebuilt = types.TracebackType(rebuilt, frame_tb.tb_frame, frame_tb.tb_lasti,
                                      frame_tb.tb_lineno)
    return rebuilt


def failure_lines(value: BaseException, shell=None, color: bool = True) -> list[str]:
    """The structured traceback shown for a CheckFailed: the learner's frames of the exception
    their code raised (if any, formatted by ``shell``'s traceback formatter), then the
    message."""
    lines: list[str] = []
    cause = value.__cause__
    if cause is not None and shell is not None:
        tb = learner_traceback(cause.__traceback__)
        if tb is not None:
            lines += shell.InteractiveTB.structured_traceback(type(cause), cause, tb)
            lines.append("")
    name = type(value).__name__
    lines.append(f"{RED}{name}{RESET}: {value}" if color else f"{name}: {value}")
    return lines


def show_check_failure(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython custom exception handler (see ``InteractiveShell.set_custom_exc``)."""
    color = str(getattr(shell, "colors", "")).lower() != "nocolor"
    stb = failure_lines(value, shell, color=color)
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %debug
    shell._showtraceback(etype, value, stb)  # the kernel sends it as the cell's error
    return stb


def register(shell=None) -> bool:
    """Show CheckFailed through :func:`show_check_failure` in ``shell`` (default: the running
    IPython, if any).  Returns whether a shell was found."""
    if shell is None:
        # A running IPython has imported IPython already; plain Python (the grader's sandbox,
        # scripts) should not pay for importing it just to find that there is no shell.
        if "IPython" not in sys.modules:
            return False
        from IPython import get_ipython

        shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((CheckFailed,), show_check_failure)
    return True


register()
