"""lrcourse.lessons.libraries: torch-class recipes for transformers' schedules, and the checks
lesson 16 prints.

The recipes are compared with the closed forms of lrcourse.schedules.huggingface (themselves
tested against transformers in tests/test_huggingface.py) on drawn parameters, past the end of
every schedule.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.lr_scheduler import LambdaLR

from agreement import close
from lrcourse import reference
from lrcourse.lessons import libraries
from lrcourse.schedules import huggingface as hf
from lrcourse.schedules import lr_curve

LESSON_16 = (Path(__file__).resolve().parents[1] / "notebooks"
             / "16_schedules_in_other_libraries.ipynb")


@settings(max_examples=30, deadline=None)
@given(W=st.integers(1, 20), cycles=st.integers(1, 8), length=st.integers(1, 30),
       lr=st.floats(1e-4, 10.0))
def test_hard_restarts_sequential(W, cycles, length, lr):
    T = W + cycles * length
    kw = dict(num_warmup_steps=W, num_training_steps=T, num_cycles=cycles)
    got = reference.scheduler_curve(lambda o: libraries.hard_restarts_sequential(o, **kw),
                                    T + 15, (lr,))
    close(got[:, 0], lr_curve("get_cosine_with_hard_restarts_schedule_with_warmup", T + 15, lr,
                              **kw))


@settings(max_examples=30, deadline=None)
@given(W=st.integers(1, 20), decay=st.integers(1, 60), power=st.floats(0.1, 4.0),
       lr=st.floats(1e-4, 10.0))
def test_polynomial_sequential(W, decay, power, lr):
    T = W + decay
    got = reference.scheduler_curve(lambda o: libraries.polynomial_sequential(o, W, T, power),
                                    T + 15, (lr,))
    close(got[:, 0], lr_curve("get_polynomial_decay_schedule_with_warmup", T + 15, lr,
                              num_warmup_steps=W, num_training_steps=T, power=power,
                              lr_end=0.0))


@settings(max_examples=30, deadline=None)
@given(W=st.integers(1, 20), S=st.integers(0, 40), D=st.integers(1, 40),
       r=st.floats(0.01, 0.99), lr=st.floats(1e-4, 10.0))
def test_wsd_sequential(W, S, D, r, lr):
    steps = W + S + D + 15
    got = reference.scheduler_curve(lambda o: libraries.wsd_sequential(o, W, S, D, r), steps, (lr,))
    close(got[:, 0], lr_curve("get_wsd_schedule", steps, lr, num_warmup_steps=W,
                              num_decay_steps=D, num_stable_steps=S, warmup_type="linear",
                              decay_type="linear", min_lr_ratio=r))


def test_recipes_refuse_what_they_cannot_build():
    opt = reference.group_optimizer([0.1])
    with pytest.raises(ValueError, match="must divide"):
        libraries.hard_restarts_sequential(opt, 2, 12, 3)
    with pytest.raises(ValueError, match="num_warmup_steps >= 1"):
        libraries.polynomial_sequential(opt, 0, 10)
    with pytest.raises(ValueError, match="num_decay_steps >= 1"):
        libraries.wsd_sequential(opt, 2, 3, 0, 0.1)


def test_optimizer_default_rate_is_the_first_groups():
    opt = reference.group_optimizer([0.3, 0.01])
    assert opt.defaults["lr"] == 0.3 and [g["lr"] for g in opt.param_groups] == [0.3, 0.01]


def test_scheduler_curve_gives_transformers_polynomial_its_default_rate():
    # The polynomial schedule decays relative to optimizer.defaults["lr"]; with SGD's own 1e-3
    # there, the groups at 0.1 and 0.01 would not end at lr_end = 1e-3 and 1e-4.
    seen = []

    def build(optimizer):
        seen.append(optimizer.defaults["lr"])
        return hf.get_polynomial_decay_schedule_with_warmup(
            optimizer, num_warmup_steps=2, num_training_steps=10, lr_end=1e-3)

    rates = reference.scheduler_curve(build, 12, (0.1, 0.01))
    assert seen == [0.1]
    np.testing.assert_allclose(rates[0], [0.0, 0.0])
    np.testing.assert_allclose(rates[2], [0.1, 0.01])
    np.testing.assert_allclose(rates[-1], [1e-3, 1e-4], rtol=1e-12)


def test_describe_names_the_members():
    opt = reference.group_optimizer([0.1])
    assert libraries.describe(LambdaLR(opt, lambda t: 1.0)) == "LambdaLR"
    seq = hf.linear_schedule_with_warmup_sequential(reference.group_optimizer([0.1]), 2, 10)
    assert libraries.describe(seq) == "SequentialLR(LambdaLR, LinearLR)"


def test_check_recipes_prints_and_catches_a_wrong_recipe(capsys):
    kw = dict(num_warmup_steps=3, num_training_steps=20)
    libraries.check_recipes("get_linear_schedule_with_warmup", 30, 0.1,
                            {"lrcourse": lambda o: hf.get_linear_schedule_with_warmup(o, **kw)},
                            lrs=(0.1, 0.02), **kw)
    assert capsys.readouterr().out == (
        "get_linear_schedule_with_warmup: closed form == LambdaLR (lrcourse) on all 30 steps, "
        "2 groups\n")
    with pytest.raises(AssertionError, match="at step 0"):  # (t + 1) / W: off by one
        libraries.check_recipes("get_linear_schedule_with_warmup", 30, 0.1, {
            "off by one": lambda o: LambdaLR(o, lambda t: min(1.0, (t + 1) / 3))}, **kw)


def test_check_recipes_polynomial_reads_the_optimizers_default_rate(capsys):
    kw = dict(num_warmup_steps=2, num_training_steps=10, lr_end=0.01)
    libraries.check_recipes(
        "get_polynomial_decay_schedule_with_warmup", 15, 0.1,
        {"lrcourse": lambda o: hf.get_polynomial_decay_schedule_with_warmup(o, **kw)},
        lrs=(0.1, 0.05), **kw)
    assert "2 groups" in capsys.readouterr().out


def test_library_of():
    assert libraries.library_of("get_wsd_schedule") == "transformers"
    assert libraries.library_of("CosineLRScheduler") == "timm"
    with pytest.raises(ValueError, match="not a schedule of another library"):
        libraries.library_of("StepLR")


def test_compare_with_library_says_what_it_skips(monkeypatch, capsys):
    monkeypatch.setattr(reference, "missing_library", lambda name: f"{name} is not installed")
    assert libraries.compare_with_library("get_linear_schedule_with_warmup", 10, 0.1,
                                          num_warmup_steps=2, num_training_steps=8) is False
    assert libraries.compare_with_library("CosineLRScheduler", 10, 0.1, t_initial=5) is False
    assert capsys.readouterr().out.splitlines() == [
        "transformers not installed: compared with the torch recipe only",
        "timm not installed: compared with the torch recipe only"]


def test_compare_cases_names_a_missing_library_once(monkeypatch, capsys):
    monkeypatch.setattr(reference, "missing_library",
                        lambda name: "gone" if name == "timm" else None)
    cases = [("CosineLRScheduler", dict(t_initial=5)), ("CosineLRScheduler", dict(t_initial=9))]
    assert libraries.compare_cases_with_library(cases, 10, 0.1) == 0
    assert capsys.readouterr().out == "timm not installed: compared with the torch recipe only\n"


@pytest.mark.skipif(reference.missing_library("transformers") is not None,
                    reason=str(reference.missing_library("transformers")))
def test_compare_with_transformers(capsys):
    assert libraries.compare_with_library("get_cosine_schedule_with_warmup", 50, 0.1,
                                          num_warmup_steps=5, num_training_steps=30)
    assert "closed form == transformers" in capsys.readouterr().out


@pytest.mark.skipif(reference.missing_library("timm") is not None,
                    reason=str(reference.missing_library("timm")))
def test_compare_with_timm(capsys):
    assert libraries.compare_with_library("CosineLRScheduler", 60, 0.1, t_initial=10,
                                          warmup_t=3, updates_per_epoch=4)
    assert "closed form == timm" in capsys.readouterr().out


def test_scheduler_curve_turns_warnings_into_errors():
    def build(optimizer):
        scheduler = LambdaLR(optimizer, lambda t: 1.0)
        scheduler.step()        # before optimizer.step(): torch warns at the next step
        return scheduler

    with pytest.raises(UserWarning):
        reference.scheduler_curve(build, 3)


BLOCK_LIBRARIES = """
import sys


class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("transformers", "timm"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Block())
"""


def test_lesson_16_runs_without_transformers_and_timm(tmp_path):
    """A learner's set-up (``./course lab``) has neither library: lesson 16 must run, with the
    same checked outputs.  The kernel imports a sitecustomize that hides both."""
    (tmp_path / "sitecustomize.py").write_text(BLOCK_LIBRARIES)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]))
    hidden = subprocess.run(
        [sys.executable, "-c", "from lrcourse import reference; "
         "print(reference.missing_library('transformers')); "
         "print(reference.missing_library('timm'))"],
        env=env, capture_output=True, text=True, timeout=300)
    assert hidden.stdout.count("is not installed") == 2, hidden.stdout + hidden.stderr
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q",
         "-p", "no:cacheprovider", str(LESSON_16)],
        env=env, capture_output=True, text=True, timeout=600, cwd=LESSON_16.parent.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
