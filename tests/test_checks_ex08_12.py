"""The checks of exercises 8 to 12: they accept correct code, reject plausible mistakes, and
say which mistake it is.

Same rules as tests/test_checks.py: every wrong implementation below is a mistake a learner
could make, and each must be rejected by the public check *and* by a hidden (seeded) run; the
correct implementations are written here independently of the solution notebooks; expected
numbers in messages are computed by hand.  Each table entry also gives words its public message
must contain: the diagnosis that names the mistake, or the part of the message that locates it
(and ``NAMED`` at the end, what a hidden case's feedback says of it).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import ConstantLR, LambdaLR, LinearLR

import check_helpers
from check_helpers import flat
from lrcourse import checks
from lrcourse.checks import CheckFailed, get_check
from lrcourse.reference import missing_library, transformers_curve

HIDDEN_SEED = 4242


def rejected(check, fn) -> str:
    return str(check_helpers.rejected(check, fn, HIDDEN_SEED))


def accepted(check, fn, capsys) -> None:
    check(fn)
    for seed in (HIDDEN_SEED, HIDDEN_SEED + 1, HIDDEN_SEED + 2):
        check(fn, hidden=True, seed=seed)
    out = capsys.readouterr().out
    assert "all public checks passed" in out and out.count("all hidden checks passed") == 3


def run_table(check, table, name):
    fn, words = table[name]
    message = rejected(check, fn)
    assert words in flat(message), message


# --------------------------------------------------------------------------- exercise 8


def step_decay(epoch, step_size, gamma):
    return math.pow(gamma, math.floor(epoch / step_size))


def linear_warmup(epoch, warmup_epochs):
    return 1.0 if epoch >= warmup_epochs - 1 else (epoch + 1) / warmup_epochs


WRONG_STEP_DECAY = {
    "the factor is epoch // step_size (lesson 1's pitfall)":
        (lambda e, step_size, gamma: e // step_size, "`epoch // step_size` itself"),
    "true division": (lambda e, step_size, gamma: gamma ** (e / step_size), "true division"),
    "decays one epoch early":
        (lambda e, step_size, gamma: gamma ** ((e + 1) // step_size), "one epoch early"),
    "already decayed at epoch 0":
        (lambda e, step_size, gamma: gamma ** (e // step_size + 1), "at epoch 0"),
    "decays once": (lambda e, step_size, gamma: gamma if e >= step_size else 1.0,
                    "drops only once"),
    "returns a rate (base 0.1 hard-coded)":
        (lambda e, step_size, gamma: 0.1 * gamma ** (e // step_size),
         "first difference at epoch 0: expected 0.1, got 0.01"),
    "gamma times the count": (lambda e, step_size, gamma: gamma * (e // step_size + 1),
                              "first difference at epoch 0: expected 0.1, got 0.05"),
}

WRONG_LINEAR_WARMUP = {
    "warm-up from 0 (transformers' convention)":
        (lambda e, warmup_epochs: min(1.0, e / warmup_epochs), "starts at 0"),
    "from 0, full rate at W - 1": (lambda e, warmup_epochs: min(1.0, e / (warmup_epochs - 1)),
                                   "starts at 0"),
    "no cap at 1": (lambda e, warmup_epochs: (e + 1) / warmup_epochs, "keeps growing"),
    "integer division": (lambda e, warmup_epochs: min(1, (e + 1) // warmup_epochs),
                         "integer division"),
    "one epoch late": (lambda e, warmup_epochs: min(1.0, (e + 1) / (warmup_epochs + 1)),
                       "one epoch late"),
    "stays below the full rate": (lambda e, warmup_epochs: min(0.9, (e + 1) / warmup_epochs),
                                  "first difference at epoch 3: expected 0.1, got 0.09"),
}


@pytest.mark.parametrize("name", WRONG_STEP_DECAY)
def test_step_decay_rejects(name):
    run_table(checks.check_step_decay, WRONG_STEP_DECAY, name)


@pytest.mark.parametrize("name", WRONG_LINEAR_WARMUP)
def test_linear_warmup_rejects(name):
    run_table(checks.check_linear_warmup, WRONG_LINEAR_WARMUP, name)


def test_exercise_8_accepts_correct_factors(capsys):
    accepted(checks.check_step_decay, step_decay, capsys)
    accepted(checks.check_linear_warmup, linear_warmup, capsys)
    # a factor may be a numpy or a 0-d torch number: LambdaLR multiplies by it all the same
    accepted(checks.check_step_decay,
             lambda e, step_size, gamma: np.float64(step_decay(e, step_size, gamma)), capsys)
    accepted(checks.check_linear_warmup, lambda e, warmup_epochs:
             torch.tensor(linear_warmup(e, warmup_epochs), dtype=torch.float64), capsys)


def test_step_decay_message_says_what_ran():
    # first public case: lr 0.1, step_size 3, gamma 0.5; `epoch // 3` gives the factor 0 at
    # epoch 0, where StepLR uses 0.1; e // 3 is never 0.5 ** (e // 3), so all 10 epochs differ
    message = rejected(checks.check_step_decay, WRONG_STEP_DECAY[
        "the factor is epoch // step_size (lesson 1's pitfall)"][0])
    assert message.startswith("LambdaLR with your step_decay does not match "
                              "torch.optim.lr_scheduler.StepLR.")
    assert ("LambdaLR(optimizer, lambda epoch: step_decay(epoch, step_size=3, gamma=0.5)) on "
            "an SGD optimizer of lr 0.1") in message
    assert "first difference at epoch 0: expected 0.1, got 0" in message
    assert "10 of 10 values differ" in message


def test_linear_warmup_two_groups_message():
    # second public case: W = 5, groups of lr 0.5 and 0.05; a factor capped at 0.9 differs
    # from epoch 4 on in both groups, and the message names the group it reports
    fn = WRONG_LINEAR_WARMUP["stays below the full rate"][0]
    check = get_check("check_linear_warmup")
    case = check.public[1]
    with pytest.raises(CheckFailed) as info:
        check.judge(case, check.expected(case), check.probe(fn, case), display=False)
    message = str(info.value)
    assert "on an SGD optimizer with 2 parameter groups of lr [0.5, 0.05]" in message
    assert ", parameter group 0 of 2 (its lr: 0.5)" in message
    assert "first difference at epoch 4: expected 0.5, got 0.45" in message


def test_the_overlay_of_a_group_is_titled_with_its_call_and_its_group(monkeypatch):
    # the plot of a failed parameter group: the check's call, then the group on a line of its
    # own (lrcourse.plots.compare wraps the call and keeps that line break)
    from lrcourse import plots

    titles = []
    compare = plots.compare
    monkeypatch.setattr(plots, "compare", lambda *a, **kw: titles.append(kw) or compare(*a, **kw))
    shown = []
    fn = WRONG_LINEAR_WARMUP["stays below the full rate"][0]
    check = get_check("check_linear_warmup")
    case = check.public[1]
    with pytest.raises(CheckFailed):
        check.judge(case, check.expected(case), check.probe(fn, case), display=shown.append)
    [kw] = titles
    assert kw["title"] == ("linear_warmup(epoch, warmup_epochs=5)\n"
                           "parameter group 0 of 2 (its lr: 0.5)")
    assert shown and shown[0].data[:4] == b"\x89PNG"


def test_a_sequential_lr_that_ends_in_steps_is_drawn_as_steps(monkeypatch):
    from lrcourse import plots

    drawn = []
    compare = plots.compare
    monkeypatch.setattr(plots, "compare", lambda *a, **kw: drawn.append(kw) or compare(*a, **kw))
    fn = WRONG_SEQUENTIAL_LR["hand-over one epoch late"][0]
    check = get_check("check_sequential_lr")
    case = check.public[0]
    with pytest.raises(CheckFailed):
        check.judge(case, check.expected(case), check.probe(fn, case), display=lambda _: None)
    assert drawn[0]["stepped"] is True


# --------------------------------------------------------------------------- exercise 9


def constant_lr(epoch, base_lr, factor, total_iters):
    return base_lr * (factor if epoch < total_iters else 1)


def linear_lr(epoch, base_lr, start_factor, end_factor, total_iters):
    fraction = 1.0 if epoch >= total_iters else epoch / total_iters
    return base_lr * ((1 - fraction) * start_factor + fraction * end_factor)


def make_warmup(optimizer, warmup_lr, warmup_epochs):
    peak = optimizer.param_groups[0]["lr"]
    return LambdaLR(optimizer, lambda e: (warmup_lr + (peak - warmup_lr) *
                                          min(e, warmup_epochs) / warmup_epochs) / peak)


def _constant(rule):
    return lambda epoch, base_lr, factor, total_iters: rule(epoch, base_lr, factor, total_iters)


def _linear(rule):
    return lambda epoch, base_lr, start_factor, end_factor, total_iters: rule(
        epoch, base_lr, start_factor, end_factor, total_iters)


WRONG_CONSTANT_LR = {
    "<= total_iters": (_constant(lambda e, b, f, T: b * f if e <= T else b), "too long"),
    "ends one epoch early": (_constant(lambda e, b, f, T: b * f if e < T - 1 else b),
                             "ends one epoch early"),
    "phases swapped": (_constant(lambda e, b, f, T: b if e < T else b * f), "swapped"),
    "returns the factor": (_constant(lambda e, b, f, T: f if e < T else b), "the factor"),
    "never restores": (_constant(lambda e, b, f, T: b * f), "never comes back"),
    "divides by the factor": (_constant(lambda e, b, f, T: b / f if e < T else b),
                              "first difference at epoch 0: expected 0.025, got 0.1"),
}

WRONG_LINEAR_LR = {
    "not clamped": (_linear(lambda e, b, s, f, T: b * (s + (f - s) * e / T)), "keeps moving"),
    "T - 1 in the denominator": (
        _linear(lambda e, b, s, f, T: b * (s + (f - s) * min(e, T - 1) / max(T - 1, 1))),
        "one epoch early"),
    "ignores end_factor": (_linear(lambda e, b, s, f, T: b * (s + (1 - s) * min(e, T) / T)),
                           "end_factor is ignored"),
    "factors as rates": (_linear(lambda e, b, s, f, T: s + (f - s) * min(e, T) / T),
                         "fractions of base_lr"),
    "one epoch ahead": (_linear(lambda e, b, s, f, T: b * (s + (f - s) * min(e + 1, T) / T)),
                        "one epoch ahead"),
    "starts at base_lr": (_linear(lambda e, b, s, f, T: b * (1 + (f - 1) * min(e, T) / T)),
                          "first difference at epoch 0: expected 0.025, got 0.05"),
}

WRONG_MAKE_WARMUP = {
    "start_factor = warmup_lr": (
        lambda opt, warmup_lr, warmup_epochs: LinearLR(opt, start_factor=warmup_lr,
                                                       total_iters=warmup_epochs),
        "fraction of the optimizer's rate"),
    "total_iters = warmup_epochs - 1": (
        lambda opt, warmup_lr, warmup_epochs: LinearLR(
            opt, start_factor=warmup_lr / opt.param_groups[0]["lr"],
            total_iters=warmup_epochs - 1), "one epoch early"),
    "default total_iters": (
        lambda opt, warmup_lr, warmup_epochs: LinearLR(
            opt, start_factor=warmup_lr / opt.param_groups[0]["lr"]), "defaults to 5"),
    "a constant warm-up": (
        lambda opt, warmup_lr, warmup_epochs: ConstantLR(
            opt, factor=warmup_lr / opt.param_groups[0]["lr"], total_iters=warmup_epochs),
        "that is ConstantLR"),
    "end_factor above 1 (torch refuses it)": (
        lambda opt, warmup_lr, warmup_epochs: LinearLR(
            opt, start_factor=1.0, end_factor=opt.param_groups[0]["lr"] / warmup_lr,
            total_iters=warmup_epochs),
        "make_warmup raised ValueError"),
    "forgets to return": (
        lambda opt, warmup_lr, warmup_epochs: [LinearLR(
            opt, start_factor=warmup_lr / opt.param_groups[0]["lr"],
            total_iters=warmup_epochs)] and None,
        "did you forget `return`?"),
}


@pytest.mark.parametrize("name", WRONG_CONSTANT_LR)
def test_constant_lr_rejects(name):
    run_table(checks.check_constant_lr, WRONG_CONSTANT_LR, name)


@pytest.mark.parametrize("name", WRONG_LINEAR_LR)
def test_linear_lr_rejects(name):
    run_table(checks.check_linear_lr, WRONG_LINEAR_LR, name)


@pytest.mark.parametrize("name", WRONG_MAKE_WARMUP)
def test_make_warmup_rejects(name):
    run_table(checks.check_make_warmup, WRONG_MAKE_WARMUP, name)


def test_exercise_9_accepts_correct_code(capsys):
    accepted(checks.check_constant_lr, constant_lr, capsys)
    accepted(checks.check_linear_lr, linear_lr, capsys)
    accepted(checks.check_make_warmup, make_warmup, capsys)   # a LambdaLR is a fine answer
    accepted(checks.check_make_warmup, lambda opt, warmup_lr, warmup_epochs: LinearLR(
        opt, start_factor=warmup_lr / opt.defaults["lr"], total_iters=warmup_epochs), capsys)


def test_make_warmup_messages():
    message = rejected(checks.check_make_warmup, WRONG_MAKE_WARMUP["start_factor = warmup_lr"][0])
    # first public case: optimizer at 0.1, warmup_lr 0.01 over 5 epochs: epoch 0 trains at
    # 0.01; with start_factor=0.01 it trains at 0.001
    assert message.startswith("the scheduler your make_warmup builds does not match "
                              "torch.optim.lr_scheduler.LinearLR.")
    assert ("make_warmup(optimizer, warmup_lr=0.01, warmup_epochs=5) with an SGD optimizer "
            "of lr 0.1") in message
    assert "first difference at epoch 0: expected 0.01, got 0.001" in message
    not_a_scheduler = rejected(checks.check_make_warmup, lambda opt, **kw: 0.01)
    assert "returned float (0.01)" in not_a_scheduler and "step() method" in not_a_scheduler

    class Broken:
        def step(self):
            raise RuntimeError("boom")

    broken = rejected(checks.check_make_warmup, lambda opt, **kw: Broken())
    assert "the scheduler make_warmup built raised RuntimeError: boom" in broken
    assert "scheduler.step() after step 0" in broken


# -------------------------------------------------------------------------- exercise 10


def chained_lr(epoch, base_lr, factor, total_iters, gamma):
    rate = base_lr * (factor if total_iters > 0 else 1.0)
    for e in range(1, epoch + 1):
        rate *= gamma
        if e == total_iters:
            rate /= factor
    return rate


def sequential_lr(epoch, base_lr, start_factor, total_iters, milestone, step_size, gamma):
    if epoch >= milestone:
        return base_lr * gamma ** ((epoch - milestone) // step_size)
    done = min(epoch, total_iters) / total_iters
    return base_lr * (start_factor * (1 - done) + done)


def chained_cosine_curve(steps, base_lr, gamma, T_max, eta_min):
    rates, rate = [], base_lr
    for t in range(steps):
        if t:
            old, new = 1 + math.cos(math.pi * (t - 1) / T_max), 1 + math.cos(math.pi * t / T_max)
            rate = eta_min + (gamma * rate - eta_min) * new / old
        rates.append(rate)
    return np.array(rates)


def _chained(rule):
    return lambda epoch, base_lr, factor, total_iters, gamma: rule(
        epoch, base_lr, factor, total_iters, gamma)


def _seq(rule):
    return lambda epoch, base_lr, start_factor, total_iters, milestone, step_size, gamma: rule(
        epoch, base_lr, start_factor, total_iters, milestone, step_size, gamma)


def _warm(e, s, T):
    return s + (1 - s) * min(e, T) / T


WRONG_CHAINED_LR = {
    "torch's docstring example": (
        _chained(lambda e, b, f, T, g: b * g**e * (1 if e < T else 1 / f)), "docstring"),
    "the exponential restarts at total_iters": (
        _chained(lambda e, b, f, T, g: b * f * g**e if e < T else b * g ** (e - T)),
        "does not restart"),
    "the exponential only after total_iters": (
        _chained(lambda e, b, f, T, g: b * f if e < T else b * g**e), "from epoch 0 too"),
    "factor never removed": (_chained(lambda e, b, f, T, g: b * f * g**e), "never removed"),
    "factor one epoch too long": (
        _chained(lambda e, b, f, T, g: b * g**e * (f if e <= T else 1)), "one epoch too long"),
    "factors added": (
        _chained(lambda e, b, f, T, g: b * ((f if e < T else 1) + g**e) / 2),
        "first difference at epoch 0: expected 0.005, got 0.0275"),
}

WRONG_SEQUENTIAL_LR = {
    "StepLR not restarted": (
        _seq(lambda e, b, s, T, m, k, g: b * _warm(e, s, T) if e < m else b * g ** (e // k)),
        "restarts its own count"),
    "StepLR from the warm-up's rate": (
        _seq(lambda e, b, s, T, m, k, g: b * _warm(e, s, T) if e < m
             else b * _warm(m - 1, s, T) * g ** ((e - m) // k)), "starts from its base rate"),
    "warm-up stretched to the milestone": (
        _seq(lambda e, b, s, T, m, k, g: b * _warm(e, s, m) if e < m
             else b * g ** ((e - m) // k)), "on its own total_iters"),
    "hand-over one epoch late": (
        _seq(lambda e, b, s, T, m, k, g: b * _warm(e, s, T) if e <= m
             else b * g ** ((e - m - 1) // k)), "one epoch late"),
    "chained instead of sequential": (
        _seq(lambda e, b, s, T, m, k, g: b * _warm(e, s, T) * g ** (e // k)),
        "that is ChainedScheduler's curve"),
    "warm-up ends at total_iters - 1": (
        _seq(lambda e, b, s, T, m, k, g: b * (s + (1 - s) * min(e / max(T - 1, 1), 1))
             if e < m else b * g ** ((e - m) // k)),
        "first difference at epoch 1: expected 0.028, got 0.0325"),
}


def _affine(update):
    def curve(steps, base_lr, gamma, T_max, eta_min):
        rates = [base_lr]
        for t in range(1, steps):
            r = (1 + math.cos(math.pi * t / T_max)) / (1 + math.cos(math.pi * (t - 1) / T_max))
            rates.append(update(rates[-1], r, gamma, eta_min))
        return rates
    return curve


def _own_cosine(t, base, T, m):
    return m + (base - m) * (1 + math.cos(math.pi * t / T)) / 2


WRONG_CHAINED_COSINE = {
    "product of the own curves": (
        lambda steps, base_lr, gamma, T_max, eta_min: [
            gamma**t * _own_cosine(t, base_lr, T_max, eta_min) for t in range(steps)],
        "product of the members' own curves"),
    "members in the wrong order": (
        _affine(lambda lr, r, g, m: g * (m + r * (lr - m))), "list order"),
    "the cosine alone": (
        lambda steps, base_lr, gamma, T_max, eta_min: [
            _own_cosine(t, base_lr, T_max, eta_min) for t in range(steps)],
        "CosineAnnealingLR's alone"),
    "eta_min left out of the update": (
        _affine(lambda lr, r, g, m: r * g * lr), "eta_min is missing"),
    "the exponential alone": (
        lambda steps, base_lr, gamma, T_max, eta_min: [base_lr * gamma**t for t in range(steps)],
        "ExponentialLR's alone"),
    "one rate short": (
        lambda steps, base_lr, gamma, T_max, eta_min:
            chained_cosine_curve(steps, base_lr, gamma, T_max, eta_min)[1:],
        "returned 10 learning rates for the call chained_cosine_curve(steps=11, base_lr=0.1, "
        "gamma=0.9, T_max=10, eta_min=0.05), expected 11"),
}


@pytest.mark.parametrize("name", WRONG_CHAINED_LR)
def test_chained_lr_rejects(name):
    run_table(checks.check_chained_lr, WRONG_CHAINED_LR, name)


@pytest.mark.parametrize("name", WRONG_SEQUENTIAL_LR)
def test_sequential_lr_rejects(name):
    run_table(checks.check_sequential_lr, WRONG_SEQUENTIAL_LR, name)


@pytest.mark.parametrize("name", WRONG_CHAINED_COSINE)
def test_chained_cosine_curve_rejects(name):
    run_table(checks.check_chained_cosine_curve, WRONG_CHAINED_COSINE, name)


def test_exercise_10_accepts_correct_code(capsys):
    accepted(checks.check_chained_lr, chained_lr, capsys)
    accepted(checks.check_sequential_lr, sequential_lr, capsys)
    accepted(checks.check_chained_cosine_curve, chained_cosine_curve, capsys)   # an array
    accepted(checks.check_chained_cosine_curve, lambda **kw: list(chained_cosine_curve(**kw)),
             capsys)


def test_chained_lr_docstring_message():
    # first public case is torch's docstring example: base 0.05, factor 0.1, T 20, gamma 0.9.
    # The docstring's rates are 10x too high at every epoch: 0.05 where torch uses 0.005, and
    # 0.06078 at epoch 20 where torch uses 0.006079.
    message = rejected(checks.check_chained_lr, WRONG_CHAINED_LR["torch's docstring example"][0])
    assert "chained_lr does not match torch.optim.lr_scheduler.ChainedScheduler of " \
           "ConstantLR and ExponentialLR." in message
    assert "first difference at epoch 0: expected 0.005, got 0.05" in message
    assert "22 of 22 values differ" in message


def test_sequential_message_points_at_the_milestone():
    # first public case: milestone 5, step 3, gamma 0.5.  Without the restart StepLR counts
    # from epoch 0: at epoch 5 it has decayed once (5 // 3), torch's not yet ((5-5) // 3 = 0).
    message = rejected(checks.check_sequential_lr, WRONG_SEQUENTIAL_LR["StepLR not restarted"][0])
    assert "first difference at epoch 5: expected 0.1, got 0.05" in message


def test_a_failing_case_draws_one_overlay_plot_as_steps_where_torch_holds_the_rate():
    check = get_check("check_sequential_lr")
    case, images = check.public[0], []
    expected = check.expected(case)
    with pytest.raises(CheckFailed):
        check.judge(case, expected, check.probe(WRONG_SEQUENTIAL_LR["StepLR not restarted"][0],
                                                case), display=images.append)
    assert len(images) == 1 and images[0].data.startswith(b"\x89PNG")
    check.judge(case, expected, check.probe(sequential_lr, case), display=images.append)
    assert len(images) == 1  # nothing drawn for a case that passes
    assert check.stepped and not get_check("check_chained_lr").stepped


def test_curve_function_wrong_returns():
    check = checks.check_chained_cosine_curve
    with pytest.raises(CheckFailed, match=r"returned None for the call chained_cosine_curve"):
        check(lambda **kw: None)
    with pytest.raises(CheckFailed, match=r"returned float \(0.1\) .*a list of 11 learning "
                                          r"rates, one per step"):
        check(lambda **kw: 0.1)
    with pytest.raises(CheckFailed, match=r"returned nan .*element 0"):
        check(lambda steps, **kw: [math.nan] * steps)


# -------------------------------------------------------------------------- exercise 11


def swalr_lr(step, lr, swa_lr, anneal_epochs, anneal_strategy):
    x = min(step, anneal_epochs) / anneal_epochs
    alpha = math.sin(math.pi * x / 2) ** 2 if anneal_strategy == "cos" else x  # (1 - cos)/2
    return lr + alpha * (swa_lr - lr)


def swa_recipe_lr(epoch, lr, T_max, swa_start, swa_lr, anneal_epochs, anneal_strategy):
    cosine = lr * (1 + math.cos(math.pi * min(epoch, swa_start) / T_max)) / 2
    return swalr_lr(max(0, epoch - swa_start), cosine, swa_lr, anneal_epochs, anneal_strategy)


def _anneal(k, lr, swa_lr, A, strategy, *, alpha=None, clamp=True):
    x = k / A
    x = min(1.0, x) if clamp else x
    a = alpha(x, strategy) if alpha else (
        (1 - math.cos(math.pi * x)) / 2 if strategy == "cos" else x)
    return swa_lr * a + lr * (1 - a)


def _swalr(**how):
    return lambda step, lr, swa_lr, anneal_epochs, anneal_strategy: _anneal(
        step, lr, swa_lr, anneal_epochs, anneal_strategy, **how)


WRONG_SWALR = {
    "strategies swapped": (_swalr(alpha=lambda x, s: (1 - math.cos(math.pi * x)) / 2
                                  if s == "linear" else x), "swapped"),
    "(1 + cos) / 2": (_swalr(alpha=lambda x, s: (1 + math.cos(math.pi * x)) / 2
                             if s == "cos" else 1 - x), "runs backwards"),
    "weights swapped": (lambda step, lr, swa_lr, anneal_epochs, anneal_strategy: _anneal(
        step, swa_lr, lr, anneal_epochs, anneal_strategy), "runs backwards"),
    "not clamped": (_swalr(clamp=False), "clamp"),
    "one step late": (lambda step, lr, swa_lr, anneal_epochs, anneal_strategy: _anneal(
        step, lr, swa_lr, anneal_epochs + 1, anneal_strategy), "one step late"),
    "one step ahead": (lambda step, lr, swa_lr, anneal_epochs, anneal_strategy: _anneal(
        step + 1, lr, swa_lr, anneal_epochs, anneal_strategy), "one step ahead"),
    "cos without the halving": (_swalr(alpha=lambda x, s: 1 - math.cos(math.pi * x)
                                       if s == "cos" else x),
                                "first difference at step 1: expected 0.09267766953, "
                                "got 0.08535533906"),
}


def _recipe(*, start=0, from_lr=False, count_from_zero=False, handover_shift=0):
    def fn(epoch, lr, T_max, swa_start, swa_lr, anneal_epochs, anneal_strategy):
        s = swa_start + start
        cosine = lambda e: lr * (1 + math.cos(math.pi * e / T_max)) / 2  # noqa: E731
        if epoch <= s:
            return cosine(epoch)
        handover = lr if from_lr else cosine(s + handover_shift)
        k = epoch if count_from_zero else epoch - s
        return _anneal(k, handover, swa_lr, anneal_epochs, anneal_strategy)
    return fn


WRONG_RECIPE = {
    "anneals from lr": (_recipe(from_lr=True), "not from lr"),
    "hands over one epoch late (torch's docstring `>`)": (_recipe(start=1), "one epoch late"),
    "anneals from the epoch before": (_recipe(handover_shift=-1), "not from the epoch before"),
    "counts epochs from 0": (_recipe(count_from_zero=True), "counts its own steps"),
    "anneals one epoch early": (
        lambda epoch, lr, T_max, swa_start, swa_lr, anneal_epochs, anneal_strategy:
            swa_recipe_lr(epoch + 1 if epoch >= swa_start else epoch, lr, T_max, swa_start,
                          swa_lr, anneal_epochs, anneal_strategy), "starts one epoch early"),
    "the cosine never hands over": (
        lambda epoch, lr, T_max, swa_start, swa_lr, anneal_epochs, anneal_strategy:
            lr * (1 + math.cos(math.pi * epoch / T_max)) / 2,
        "first difference at epoch 9: expected 0.06025919"),
}


@pytest.mark.parametrize("name", WRONG_SWALR)
def test_swalr_rejects(name):
    run_table(checks.check_swalr_lr, WRONG_SWALR, name)


@pytest.mark.parametrize("name", WRONG_RECIPE)
def test_swa_recipe_rejects(name):
    run_table(checks.check_swa_recipe_lr, WRONG_RECIPE, name)


def test_exercise_11_accepts_correct_code(capsys):
    accepted(checks.check_swalr_lr, swalr_lr, capsys)
    accepted(checks.check_swa_recipe_lr, swa_recipe_lr, capsys)


def test_swalr_message_names_torch_swa_utils():
    message = rejected(checks.check_swalr_lr, WRONG_SWALR["not clamped"][0])
    assert message.startswith("swalr_lr does not match torch.optim.swa_utils.SWALR.")
    assert "lr_scheduler.SWALR" not in message
    # first public case: lr 0.1, swa_lr 0.05, A 4, cos; unclamped x = 5/4 at step 5 gives
    # alpha = (1 - cos(5 pi / 4)) / 2 = 0.85355339, rate 0.05 * 0.8536 + 0.1 * 0.1464
    assert "first difference at step 5: expected 0.05, got 0.05732233047" in message
    assert get_check("check_swalr_lr").hidden_hint.endswith("torch.optim.swa_utils.SWALR")


# -------------------------------------------------------------------------- exercise 12


def cosine_with_warmup_lambda(current_step, num_warmup_steps, num_training_steps,
                              num_cycles=0.5):
    if current_step < num_warmup_steps:
        return current_step / max(1, num_warmup_steps)
    progress = (current_step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


def _hf(*, warm=None, progress=None, angle=None):
    def factor(current_step, num_warmup_steps, num_training_steps, num_cycles=0.5):
        t, W, T, c = current_step, num_warmup_steps, num_training_steps, num_cycles
        if t < W:
            return warm(t, W) if warm else t / W
        p = progress(t, W, T) if progress else (t - W) / (T - W)
        return 0.5 * (1 + math.cos(angle(c, p) if angle else 2 * math.pi * c * p))
    return factor


def _floor_01(current_step, num_warmup_steps, num_training_steps, num_cycles=0.5):
    if current_step < num_warmup_steps:
        return current_step / num_warmup_steps
    return 0.1 + 0.9 * cosine_with_warmup_lambda(current_step, num_warmup_steps,
                                                 num_training_steps, num_cycles)


WRONG_HF = {
    "torch-style warm-up (t + 1) / W": (_hf(warm=lambda t, W: (t + 1) / W), "starts at 0"),
    "progress over T": (_hf(progress=lambda t, W, T: (t - W) / T), "runs over the steps after"),
    "progress from step 0": (_hf(progress=lambda t, W, T: t / T), "counts from num_warmup"),
    "num_cycles as half-waves": (_hf(angle=lambda c, p: math.pi * c * p), "whole cosine waves"),
    "progress clamped at 1": (_hf(progress=lambda t, W, T: min(1.0, (t - W) / (T - W))),
                              "does not stop"),
    "num_cycles ignored": (_hf(angle=lambda c, p: math.pi * p), "num_cycles is ignored"),
    "a floor of 0.1 under the cosine": (_floor_01, "first difference at step 5: expected "
                                                   "0.09903926402, got 0.09913533762"),
}


@pytest.mark.parametrize("name", WRONG_HF)
def test_cosine_with_warmup_rejects(name):
    run_table(checks.check_cosine_with_warmup_lambda, WRONG_HF, name)


def test_exercise_12_accepts_correct_code(capsys):
    accepted(checks.check_cosine_with_warmup_lambda, cosine_with_warmup_lambda, capsys)
    # transformers calls its own function through functools.partial with keywords
    accepted(checks.check_cosine_with_warmup_lambda,
             lambda current_step, **kw: functools.partial(cosine_with_warmup_lambda,
                                                          **kw)(current_step), capsys)


def test_cosine_with_warmup_message():
    message = rejected(checks.check_cosine_with_warmup_lambda,
                       WRONG_HF["torch-style warm-up (t + 1) / W"][0])
    # first public case: W 4, T 20, lr 0.1: transformers' step 0 trains at 0, (t+1)/W at 0.025
    assert message.startswith("LambdaLR with your cosine_with_warmup_lambda does not match")
    assert ("lambda step: cosine_with_warmup_lambda(step, num_warmup_steps=4, "
            "num_training_steps=20, num_cycles=0.5)") in message
    assert "first difference at step 0: expected 0, got 0.025" in message


def test_two_equally_wrong_mistakes_are_both_named():
    # second public case has num_cycles=1: a cosine of half-waves (pi c p) and a cosine that
    # ignores num_cycles (always half a wave, pi p) are the same curve there: both are named,
    # in the same words as the other checks' (lrcourse.checks.diagnosis)
    check = get_check("check_cosine_with_warmup_lambda")
    case = check.public[1]
    record = check.probe(WRONG_HF["num_cycles ignored"][0], case)
    with pytest.raises(CheckFailed) as info:
        check.judge(case, check.expected(case), record, display=False)
    message = flat(str(info.value))
    assert "diagnosis: 2 mistakes give exactly your curve on this case: (1) num_cycles counts " \
           "whole cosine waves" in message
    assert "; (2) num_cycles is ignored: your cosine always makes half a wave" in message
    assert info.value.mistake == ("the number of cycles counts half-waves instead of whole "
                                  "waves; or the number of cycles is ignored")


@pytest.mark.skipif(bool(missing_library("transformers")),
                    reason=missing_library("transformers") or "")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exercise_12_reference_is_transformers_own_schedule(seed):
    """The check's torch-built reference agrees with transformers itself, on every public
    case and on hidden draws (one and two groups, no warm-up, all num_cycles, past the end)."""
    check = get_check("check_cosine_with_warmup_lambda")
    cases = check.cases(False, 0) + check.cases(True, seed)
    for case in cases:
        ours = np.asarray(check.expected(case)).T
        theirs = transformers_curve("get_cosine_schedule_with_warmup", case["steps"],
                                    case["groups"], **case["params"])
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)


# ------------------------------------------------------------------ every new check


NEW_CHECKS = {
    checks.check_step_decay: 3, checks.check_linear_warmup: 2, checks.check_constant_lr: 4,
    checks.check_linear_lr: 5, checks.check_chained_lr: 5, checks.check_sequential_lr: 7,
    checks.check_swalr_lr: 5, checks.check_swa_recipe_lr: 7,
    checks.check_cosine_with_warmup_lambda: 4,
}  # check -> number of parameters of the learner's function (a function of the step)
ALL_NEW = [*NEW_CHECKS, checks.check_make_warmup, checks.check_chained_cosine_curve]


def _not_implemented(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("check", ALL_NEW, ids=lambda c: c.__name__)
def test_not_implemented_yet(check):
    with pytest.raises(CheckFailed, match="is not implemented yet") as info:
        check(_not_implemented)
    assert info.value.__cause__ is None
    with pytest.raises(CheckFailed, match="is not implemented yet"):
        check(_not_implemented, hidden=True, seed=1)


@pytest.mark.parametrize("check", ALL_NEW, ids=lambda c: c.__name__)
def test_learner_exception_is_reported_with_its_cause(check):
    def broken(*args, **kwargs):
        return 1 / 0

    with pytest.raises(CheckFailed, match=r"raised ZeroDivisionError: division by zero") as info:
        check(broken)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert "while the check called" in str(info.value)


@pytest.mark.parametrize("check", ALL_NEW, ids=lambda c: c.__name__)
def test_not_a_function(check):
    with pytest.raises(CheckFailed, match="Pass the function itself"):
        check(0.1)


@pytest.mark.parametrize("check", NEW_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value, words", [
    (None, "returned None for "),
    (True, "returned a boolean"),
    ([0.1], "returned a list of length 1"),
    (np.array([0.1, 0.2]), "returned an array of shape (2,)"),
    (math.nan, "returned nan for "),
    ("0.1", "returned str ('0.1')"),
])
def test_wrong_return_values(check, value, words):
    with pytest.raises(CheckFailed) as info:
        check(lambda *a, **k: value)
    subject = check.__name__.removeprefix("check_")
    assert words in str(info.value)
    assert f"(the call {subject}(0, " in str(info.value)  # the call at step 0


def test_hidden_cases_are_seeded_and_cover_the_edges():
    def drawn(name, seeds=range(40)):
        check = get_check(name)
        assert check.cases(True, 7) == check.cases(True, 7)
        assert check.cases(True, 7) != check.cases(True, 8)
        return [case for s in seeds for case in check.cases(True, s)]

    seq = [c["params"] for c in drawn("check_sequential_lr")]
    assert any(p["total_iters"] > p["milestone"] for p in seq)     # warm-up cut off
    assert any(p["total_iters"] < p["milestone"] for p in seq)     # warm-up idles
    assert any(p["total_iters"] == p["milestone"] for p in seq)
    cos = [c["params"] for c in drawn("check_chained_cosine_curve")]
    assert any(p["eta_min"] == 0 for p in cos) and any(p["eta_min"] > 0 for p in cos)
    hf = drawn("check_cosine_with_warmup_lambda")
    assert {c["params"]["num_cycles"] for c in hf} == {0.25, 0.5, 1.0, 1.5, 2.0}
    assert any(c["params"]["num_warmup_steps"] == 0 for c in hf)
    assert any(len(c["groups"]) == 2 for c in hf)
    assert any(c["steps"] > c["params"]["num_training_steps"] + 1 for c in hf)
    swa = [c["params"] for c in drawn("check_swalr_lr")]
    assert {p["anneal_strategy"] for p in swa} == {"cos", "linear"}
    assert any(p["swa_lr"] > p["lr"] for p in swa) and any(p["swa_lr"] < p["lr"] for p in swa)
    linear = [c["params"] for c in drawn("check_linear_lr")]
    assert any(p["end_factor"] < p["start_factor"] for p in linear)   # LinearLR as a decay
    assert all(c["steps"] > c["params"]["total_iters"] for c in drawn("check_linear_lr"))


def test_importing_the_new_checks_does_not_import_torch():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import sys, lrcourse.checks.curve_check, "
                          "lrcourse.checks.swa, lrcourse.checks.huggingface, "
                          "lrcourse.checks.warmups; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------ naming the mistake
#
# For every wrong implementation above: a fragment of the constant kind of mistake that its
# check's table gives it (what a hidden case's feedback may say), or None where the table has no
# such mistake (the public message then keeps the check's generic hint).  The same rules as the
# checks of exercises 1 to 7 (tests/test_checks.py), through the same mechanism.

NAMED = {
    "check_step_decay": (WRONG_STEP_DECAY, {
        "the factor is epoch // step_size (lesson 1's pitfall)": "the number of decays itself",
        "true division": "true division where floor division belongs",
        "decays one epoch early": "each decay comes one epoch early",
        "already decayed at epoch 0": "already applied at the start",
        "decays once": "the decay does not repeat",
        "returns a rate (base 0.1 hard-coded)": None,
        "gamma times the count": None,
    }),
    "check_linear_warmup": (WRONG_LINEAR_WARMUP, {
        "warm-up from 0 (transformers' convention)": "the warm-up starts at zero",
        "from 0, full rate at W - 1": "the warm-up starts at zero",
        "no cap at 1": "not capped at one",
        "integer division": "integer division",
        "one epoch late": "the full rate comes one epoch late",
        "stays below the full rate": None,
    }),
    "check_constant_lr": (WRONG_CONSTANT_LR, {
        "<= total_iters": "lasts one epoch too long",
        "ends one epoch early": "ends one epoch early",
        "phases swapped": "the two phases are swapped",
        "returns the factor": "the factor itself is returned",
        "never restores": "never comes back",
        "divides by the factor": None,
    }),
    "check_linear_lr": (WRONG_LINEAR_LR, {
        "not clamped": "the epoch is not clamped",
        "T - 1 in the denominator": "reaches its end one epoch early",
        "ignores end_factor": "the end factor is ignored",
        "factors as rates": "the factors are used as rates",
        "one epoch ahead": "one epoch ahead",
        "starts at base_lr": None,
    }),
    "check_make_warmup": (WRONG_MAKE_WARMUP, {
        "start_factor = warmup_lr": "given as a rate",
        "total_iters = warmup_epochs - 1": "the full rate one epoch early",
        "default total_iters": "LinearLR's default",
        "a constant warm-up": "holds a constant rate",
        "end_factor above 1 (torch refuses it)": None,   # raises: no curve to name
        "forgets to return": None,
    }),
    "check_chained_lr": (WRONG_CHAINED_LR, {
        "torch's docstring example": "docstring",
        "the exponential restarts at total_iters": "the exponential restarts",
        "the exponential only after total_iters": "starts only when the constant factor ends",
        "factor never removed": "never removed",
        "factor one epoch too long": "lasts one epoch too long",
        "factors added": None,
    }),
    "check_sequential_lr": (WRONG_SEQUENTIAL_LR, {
        "StepLR not restarted": "does not restart its count at the milestone",
        "StepLR from the warm-up's rate": "from the rate the warm-up reached",
        "warm-up stretched to the milestone": "runs up to the milestone",
        "hand-over one epoch late": "takes over one epoch late",
        "chained instead of sequential": "chained instead of run one after the other",
        "warm-up ends at total_iters - 1": None,
    }),
    "check_chained_cosine_curve": (WRONG_CHAINED_COSINE, {
        "product of the own curves": "the product of the members' own curves",
        "members in the wrong order": "in the wrong order",
        "the cosine alone": "the cosine alone",
        "eta_min left out of the update": "the floor is missing",
        "the exponential alone": "the exponential decay alone",
        "one rate short": None,
    }),
    "check_swalr_lr": (WRONG_SWALR, {
        "strategies swapped": "strategies are swapped",
        "(1 + cos) / 2": "runs backwards",
        "weights swapped": "runs backwards",
        "not clamped": "not clamped",
        "one step late": "one step late",
        "one step ahead": "one step ahead",
        "cos without the halving": None,
    }),
    "check_swa_recipe_lr": (WRONG_RECIPE, {
        "anneals from lr": "from the initial rate",
        "hands over one epoch late (torch's docstring `>`)": "takes over one epoch late",
        "anneals from the epoch before": "the epoch before the hand-over",
        "counts epochs from 0": "from the start of training",
        "anneals one epoch early": "the annealing starts one epoch early",
        "the cosine never hands over": None,
    }),
    "check_cosine_with_warmup_lambda": (WRONG_HF, {
        "torch-style warm-up (t + 1) / W": "does not start at zero",
        "progress over T": "over all the steps",
        "progress from step 0": "counts from the first step",
        "num_cycles as half-waves": "half-waves instead of whole waves",
        "progress clamped at 1": "its progress is clamped",
        "num_cycles ignored": "the number of cycles is ignored",
        "a floor of 0.1 under the cosine": None,
    }),
}
WRONG = [(check, name) for check, (table, _) in NAMED.items() for name in table]


def test_every_wrong_implementation_has_a_naming_entry():
    for check, (table, named) in NAMED.items():
        assert set(named) == set(table), check
    assert set(NAMED) == {check.__name__ for check in ALL_NEW}


@pytest.mark.parametrize("check, name", WRONG, ids=[f"{c}-{n}" for c, n in WRONG])
def test_the_message_names_the_mistake(check, name):
    fn, words = NAMED[check][0][name]
    kind = NAMED[check][1][name]
    with pytest.raises(CheckFailed) as info:
        getattr(checks, check)(fn)
    failure, message = info.value, str(info.value)
    if kind is None:
        assert "diagnosis:" not in message and not failure.mistake
        return
    assert message.count("diagnosis:") == 1 and kind in failure.mistake, message
    assert "hint:" not in message  # the generic hint gives way to the diagnosis
    diagnosis = message.split("diagnosis:")[1]
    assert words in flat(diagnosis), message  # the table's words, in the diagnosis itself
    assert max(len(line) for line in diagnosis.splitlines()) <= 96  # wrapped like every check's


@pytest.mark.parametrize("check, name", WRONG, ids=[f"{c}-{n}" for c, n in WRONG])
def test_hidden_feedback_names_the_kind_of_mistake_and_no_value(check, name):
    """What `lrcourse grade` writes for failed hidden cases, from the plain-data records the
    sandbox's probe sends back: how many failed and how the first did, in constant words."""
    import json
    import re

    from lrcourse.grading.session import judge_hidden

    spec = get_check(check)
    cases = spec.cases(True, HIDDEN_SEED)
    expected = [spec.expected(case) for case in cases]
    records = [json.loads(json.dumps(spec.probe(NAMED[check][0][name][0], case)))
               for case in cases]
    verdict = judge_hidden(spec, cases, expected, records)
    assert verdict.status == "failed"
    first, hint = re.fullmatch(r"\w+: \d+ of \d+ hidden cases failed \(the first: (.*)\)\. "
                               r"Hint: (.*)\.", verdict.message).groups()
    assert hint == spec.hidden_hint
    assert not re.search(r"\d|=|\[|_", first), verdict.message
    kinds = {mistake.kind for mistake in spec.mistakes}
    if first.startswith("your values differ from PyTorch's: "):
        assert set(first.split(": ", 1)[1].split("; or ")) <= kinds, first
    kind = NAMED[check][1][name]
    if kind is not None:
        assert kind in first, verdict.message
