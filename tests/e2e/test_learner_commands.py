"""The commands a learner types, run as the README writes them (no browser needed).

``./course check`` runs an exercise notebook's checks in a fresh kernel; after ``./course lab``
it needs nothing more (the fresh-copy browser test proves that on a new .venv; here the suite's
own .venv is used).  Also the set-up's two questions: which virtualenv, and where torch comes
from (quickly, when PyTorch's CPU index is unreachable).
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import nbformat
import pytest
from jupyter_browser import REPO

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
INTERNAL = re.compile(r"lrcourse[/\\]|_core\.py|site-packages")
EXERCISE = "exercises/ex01_step_multistep.ipynb"


# The files that tell a learner what to type; both say to run it in the repository's folder.
READMES = ["README.md", "exercises/README.md"]


def learner_commands(readme: str = "README.md") -> list[str]:
    """The lines of the first ```bash block after ``<!-- learner-commands -->`` in ``readme``."""
    text = (REPO / readme).read_text()
    block = re.search(r"```bash\n(.*?)```", text[text.index("<!-- learner-commands -->"):], re.S)
    assert block, f"no ```bash block after <!-- learner-commands --> in {readme}"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    return [command for command in commands if command]


def run(command: str | list[str], cwd=REPO, timeout: float = 600) -> tuple[int, str]:
    args = ["bash", "-c", command] if isinstance(command, str) else command
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return done.returncode, ANSI.sub("", done.stdout + done.stderr)


@pytest.mark.parametrize("readme", READMES)
def test_the_readmes_learner_commands_report_each_check(readme):
    """As the README writes them, on the exercises as released: each check FAILED with the
    check's own message, no frame of lrcourse, a summary per notebook, exit status 1."""
    commands = learner_commands(readme)
    assert f"./course check {EXERCISE}" in commands
    for command in commands:
        status, output = run(command)
        assert status == 1, output
        assert not INTERNAL.search(output), output
        started = re.findall(r"^(exercises/\S+\.ipynb): running (\d+) checks? in a fresh "
                             r"kernel\.\.\.$", output, re.M)
        assert started, output
        for notebook, count in started:
            assert re.search(rf"^{re.escape(notebook)}: 0 of {count} checks? passed \(0 of "
                             r"\d+ points?\)$", output, re.M), output
        assert output.count("FAILED") == output.count("is not implemented yet") > 0, output
        if command == f"./course check {EXERCISE}":
            for heading, function in (("1a · StepLR (2 points)", "step_lr"),
                                      ("1b · MultiStepLR (2 points)", "multistep_lr")):
                assert re.search(rf"FAILED +{re.escape(heading)}\n +CheckFailed: {function} is "
                                 r"not implemented yet: replace `raise NotImplementedError\(\)`",
                                 output), output
            assert output.rstrip().endswith(
                f"{EXERCISE}: 0 of 2 checks passed (0 of 4 points)")


def _answered(tmp_path, answers: dict[str, str]):
    """exercises/ex01 with the answer cells (by grade_id) replaced, saved in ``tmp_path``."""
    nb = nbformat.read(REPO / EXERCISE, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    path = tmp_path / "ex01_step_multistep.ipynb"
    nbformat.write(nb, path)
    return path


def test_check_says_what_passed_and_what_differs(tmp_path):
    path = _answered(tmp_path, {
        "ex01_step_lr": "def step_lr(epoch, base_lr, step_size, gamma):\n"
                        "    return base_lr * gamma ** (epoch // step_size)\n",
        "ex01_multistep_lr": "def multistep_lr(epoch, base_lr, milestones, gamma):\n"
                             "    return base_lr * gamma ** len(milestones)\n",
    })
    status, output = run(["./course", "check", str(path)])
    assert status == 1, output
    assert re.search(r"passed +1a · StepLR \(2 points\)\n +check_step_lr: all public checks "
                     r"passed\n", output), output
    assert re.search(r"FAILED +1b · MultiStepLR \(2 points\)\n +CheckFailed: multistep_lr does "
                     r"not match torch\.optim\.lr_scheduler\.MultiStepLR\.\n", output), output
    assert "first difference at epoch 0: expected 0.1, got 0.001" in output, output
    assert not INTERNAL.search(output), output
    assert output.rstrip().endswith(f"{path}: 1 of 2 checks passed (2 of 4 points)")


def test_check_shows_the_learners_own_line_when_their_code_raises(tmp_path):
    path = _answered(tmp_path, {
        "ex01_step_lr": "def step_lr(epoch, base_lr, step_size, gamma):\n"
                        "    return base_lr * gamma ** (epoch // (step_size - step_size))\n",
    })
    status, output = run(["./course", "check", str(path)])
    assert status == 1
    failure = output[output.index("FAILED   1a"):output.index("1b · MultiStepLR")]
    assert "----> 2     return base_lr * gamma ** (epoch // (step_size - step_size))" in failure
    assert "ZeroDivisionError: integer division or modulo by zero" in failure
    assert "CheckFailed: step_lr raised ZeroDivisionError" in failure
    assert not INTERNAL.search(failure), failure


def test_check_passes_a_solved_notebook_and_refuses_a_missing_one():
    status, output = run(["./course", "check", "solutions/ex01_step_multistep.ipynb"])
    assert status == 0, output
    assert "solutions/ex01_step_multistep.ipynb: 2 of 2 checks passed (4 of 4 points)" in output
    status, output = run(["./course", "check", "exercises/no_such_exercise.ipynb"])
    assert status == 2, output
    assert "exercises/no_such_exercise.ipynb: cannot read this notebook" in output, output


def test_each_torch_gets_its_own_virtualenv():
    env = {k: v for k, v in os.environ.items() if k not in ("LRCOURSE_VENV", "LRCOURSE_TORCH")}

    def venv(**extra):
        done = subprocess.run(["bash", "scripts/setup_env.sh", "--venv"], cwd=REPO,
                              env={**env, **extra}, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    assert venv() == ".venv"
    assert venv(LRCOURSE_TORCH="torch==2.9.0") == ".venv-torch-2.9.0"
    assert venv(LRCOURSE_TORCH="torch==2.3.1", LRCOURSE_VENV="/tmp/x") == "/tmp/x"


@pytest.mark.parametrize("forced", [None, "https://example.invalid/whl/cpu", "default"])
def test_where_torch_comes_from_is_decided_in_seconds(forced):
    env = {k: v for k, v in os.environ.items() if k != "LRCOURSE_TORCH_INDEX"}
    if forced:
        env["LRCOURSE_TORCH_INDEX"] = forced
    start = time.monotonic()
    done = subprocess.run(["bash", "scripts/setup_env.sh", "--torch-index"], cwd=REPO, env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    elapsed = time.monotonic() - start
    index = done.stdout.strip()
    if forced:
        assert index == forced
    else:  # PyTorch's CPU index where it answers, else pip's configured one, with the reason
        assert index in ("https://download.pytorch.org/whl/cpu", "default"), done
        if index == "default":
            assert "download.pytorch.org/whl/cpu/torch/ does not answer" in done.stderr
    assert elapsed < 15, f"deciding took {elapsed:.1f} s"  # the probe's timeout is 5 s
