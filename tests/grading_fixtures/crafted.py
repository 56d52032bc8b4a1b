"""Building submissions for the grading tests from the fixture source notebook.

The source, ``source/schedules.ipynb``, has three exercises graded by the real lrcourse checks:
``step_lr`` (``step_test``, 2 points), ``exponential_lr`` (``exp_test``, 2, and the hidden-only
``exp_test_more``, 1) and ``cosine_annealing_lr`` (``cosine_test``, 3): 8 points.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent
SOURCE = FIXTURES / "source"
SOURCE_NB = SOURCE / "schedules.ipynb"
REPO = FIXTURES.parent.parent
TESTS = ("step_test", "exp_test", "exp_test_more", "cosine_test")

STEP = ("def step_lr(epoch, base_lr, step_size, gamma):\n"
        "    return base_lr * gamma ** (epoch // step_size)\n")
# decays one epoch early: the first public case (base_lr=0.1, step_size=3, gamma=0.5) differs
# at epoch 2 (torch 0.1, this 0.05)
WRONG_STEP = ("def step_lr(epoch, base_lr, step_size, gamma):\n"
              "    return base_lr * gamma ** ((epoch + 1) // step_size)\n")
EXP = "def exponential_lr(epoch, base_lr, gamma):\n    return base_lr * gamma ** epoch\n"
COSINE = ("import math\n\ndef cosine_annealing_lr(epoch, base_lr, T_max, eta_min):\n"
          "    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max))"
          " / 2\n")
CORRECT = {"step_answer": STEP, "exp_answer": EXP, "cosine_answer": COSINE}
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"
EMPTY = {
    "step_answer": "def step_lr(epoch, base_lr, step_size, gamma):\n" + STUB,
    "exp_answer": "def exponential_lr(epoch, base_lr, gamma):\n" + STUB,
    "cosine_answer": "def cosine_annealing_lr(epoch, base_lr, T_max, eta_min):\n" + STUB,
}


def notebook_message(answer: str, check: str = "check_step_lr") -> str:
    """What a learner's own notebook shows when ``check`` runs on ``answer`` (the reference
    for "grading shows the same message as the notebook")."""
    import lrcourse.checks

    namespace: dict = {}
    exec(answer, namespace)  # noqa: S102 - the test's own answer text
    function = next(v for k, v in namespace.items() if callable(v) and not k.startswith("_")
                    and k != "math")
    try:
        getattr(lrcourse.checks, check)(function)
    except lrcourse.checks.CheckFailed as exc:
        return str(exc)
    raise AssertionError(f"{check} accepted {answer!r}")


PASSED = {
    "step_test": "check_step_lr: all public checks passed\n"
                 "check_step_lr: all hidden checks passed (12 randomized cases)",
    "exp_test": "check_exponential_lr: all public checks passed\n"
                "check_exponential_lr: all hidden checks passed (12 randomized cases)",
    "exp_test_more": "check_exponential_lr: all hidden checks passed (12 randomized cases)",
    "cosine_test": "check_cosine_annealing_lr: all public checks passed\n"
                   "check_cosine_annealing_lr: all hidden checks passed (12 randomized cases)",
}


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


def digest(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 of every regular file under ``root`` (links and special files by their kind)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[rel] = "special"
    return out


def run_grade(argv: list[str], keep: list | None = None) -> tuple[int, str, str]:
    """Run the `grade` subcommand in this process; return its exit status, stdout and stderr.

    ``keep``: if given, the GradingRun the command made is appended to it.
    """
    from lrcourse.grading import cli

    parser = argparse.ArgumentParser()
    cli.configure_parser(parser)
    out, err = io.StringIO(), io.StringIO()
    original = cli.grade_all

    def recording(*args, **kwargs):
        run = original(*args, **kwargs)
        if keep is not None:
            keep.append(run)
        return run

    cli.grade_all = recording
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.run(parser.parse_args(argv))
    finally:
        cli.grade_all = original
    return status, out.getvalue(), err.getvalue()


def processes_with(marker: str) -> list[str]:
    """Command lines of running processes that mention ``marker``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(
                "utf-8", "replace")
        except OSError:
            continue
        if marker in cmdline and str(os.getpid()) != entry.name:
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def processes_of_uids(first: int, last: int) -> list[str]:
    """Running processes whose real uid is in [first, last]."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            for line in Path(entry.path, "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    uid = int(line.split()[1])
                    if first <= uid <= last:
                        found.append(f"{entry.name} uid {uid}")
                    break
        except OSError:
            continue
    return found


def describe_processes(first: int, last: int) -> list[str]:
    """State, parent and command of processes whose real uid is in [first, last]."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = dict(line.split(":", 1) for line in
                          Path(entry.path, "status").read_text().splitlines() if ":" in line)
            uid = int(status["Uid"].split()[0])
            if first <= uid <= last:
                cmd = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")[:120]
                found.append(f"{entry.name} uid {uid} state {status['State'].strip()} ppid "
                             f"{status['PPid'].strip()} {cmd!r}")
        except (OSError, KeyError, ValueError):
            continue
    return found


def sandbox_unavailable() -> str:
    """Why sandboxed grading cannot be tested on this machine ("" when it can): bubblewrap
    is missing, or the kernel or a security module forbids the user namespaces it needs."""
    from lrcourse.grading.sandbox import Environment, SandboxUnavailable

    try:
        Environment.detect().close()
    except SandboxUnavailable as exc:
        text = str(exc)
        if "not installed" in text or any(words in text for words in (
                "uid map", "namespace", "Operation not permitted", "Permission denied")):
            return text
        raise
    return ""
