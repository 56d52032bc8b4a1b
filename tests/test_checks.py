"""The exercise checks: they accept correct code, reject plausible mistakes, and explain.

Every wrong implementation below is a mistake a learner could make; each must be rejected by
the public check *and* by a hidden (seeded) run.  Correct implementations are written here
independently of the solution notebooks.  Expected numbers in messages are computed by hand.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import LRScheduler, OneCycleLR

import check_helpers
from check_helpers import flat
from lrcourse import checks
from lrcourse.checks import CheckFailed
from lrcourse.checks import _core

HIDDEN_SEED = 12345


def rejected(check, fn) -> CheckFailed:
    return check_helpers.rejected(check, fn, HIDDEN_SEED)


def accepted(check, fn, capsys) -> None:
    check(fn)
    check(fn, hidden=True, seed=HIDDEN_SEED)
    check(fn, hidden=True, seed=HIDDEN_SEED + 1)
    out = capsys.readouterr().out
    assert "all public checks passed" in out and "all hidden checks passed" in out


# --------------------------------------------------------------------------- exercise 1


def step_lr(epoch, base_lr, step_size, gamma):
    return base_lr * gamma ** (epoch // step_size)


WRONG_STEP_LR = {
    "off by one epoch (decays early)": lambda e, base_lr, step_size, gamma:
        base_lr * gamma ** ((e + 1) // step_size),
    "off by one epoch (decays late)": lambda e, base_lr, step_size, gamma:
        base_lr * gamma ** (max(e - 1, 0) // step_size),
    "true division instead of floor": lambda e, base_lr, step_size, gamma:
        base_lr * gamma ** (e / step_size),
    "already decayed at epoch 0": lambda e, base_lr, step_size, gamma:
        base_lr * gamma ** (e // step_size + 1),
    "decays once and stops": lambda e, base_lr, step_size, gamma:
        base_lr * (gamma if e >= step_size else 1.0),
    "gamma subtracted": lambda e, base_lr, step_size, gamma:
        base_lr - gamma * base_lr * (e // step_size) / 10,
}


def multistep_lr(epoch, base_lr, milestones, gamma):
    return base_lr * gamma ** sum(m <= epoch for m in milestones)


WRONG_MULTISTEP_LR = {
    "< instead of <=": lambda e, base_lr, milestones, gamma:
        base_lr * gamma ** sum(m < e for m in milestones),
    "only the first milestone": lambda e, base_lr, milestones, gamma:
        base_lr * (gamma if e >= milestones[0] else 1.0),
    "gamma once, whatever the count": lambda e, base_lr, milestones, gamma:
        base_lr * (gamma if any(m <= e for m in milestones) else 1.0),
    "only the milestone epochs themselves": lambda e, base_lr, milestones, gamma:
        base_lr * (gamma if e in milestones else 1.0),
    "off by one epoch": lambda e, base_lr, milestones, gamma:
        base_lr * gamma ** sum(m <= e + 1 for m in milestones),
}


@pytest.mark.parametrize("name", WRONG_STEP_LR)
def test_step_lr_rejects(name):
    rejected(checks.check_step_lr, WRONG_STEP_LR[name])


@pytest.mark.parametrize("name", WRONG_MULTISTEP_LR)
def test_multistep_lr_rejects(name):
    rejected(checks.check_multistep_lr, WRONG_MULTISTEP_LR[name])


def test_step_and_multistep_accept_correct_code(capsys):
    accepted(checks.check_step_lr, step_lr, capsys)
    accepted(checks.check_multistep_lr, multistep_lr, capsys)
    # numpy and torch scalars are numbers too
    accepted(checks.check_step_lr,
             lambda e, base_lr, step_size, gamma: np.float64(step_lr(e, base_lr, step_size, gamma)),
             capsys)
    accepted(checks.check_multistep_lr,
             lambda e, base_lr, milestones, gamma:
             torch.tensor(multistep_lr(e, base_lr, milestones, gamma), dtype=torch.float64),
             capsys)


def test_step_lr_message_names_parameters_first_epoch_expected_and_got():
    # first public case: base_lr=0.1, step_size=3, gamma=0.5.  Decaying one epoch early,
    # epoch 2 gets 0.1 * 0.5 = 0.05 where torch still uses 0.1.
    message = str(rejected(checks.check_step_lr, WRONG_STEP_LR["off by one epoch (decays early)"]))
    assert "step_lr does not match torch.optim.lr_scheduler.StepLR" in message
    assert "step_lr(epoch, base_lr=0.1, step_size=3, gamma=0.5)" in message
    assert "first difference at epoch 2: expected 0.1, got 0.05" in message
    assert "3 of 10 values differ" in message  # (e+1)//3 != e//3 only at e = 2, 5, 8
    # the differences are 0.05, 0.025, 0.0125 at epochs 2, 5, 8: the first is the largest; the
    # last epoch, 9, is 0.1 * 0.5**3 = 0.0125 in both
    assert "largest difference: the first one (epoch 2)" in message
    assert "last value, epoch 9: 0.0125, the same in both" in message
    assert "diagnosis: your curve is torch's shifted one epoch early" in message


def test_multistep_message():
    # milestones [3, 7], gamma 0.1: at epoch 3 torch already uses 0.1 * 0.1 = 0.01.
    message = str(rejected(checks.check_multistep_lr, WRONG_MULTISTEP_LR["< instead of <="]))
    assert "multistep_lr(epoch, base_lr=0.1, milestones=[3, 7], gamma=0.1)" in message
    assert "first difference at epoch 3: expected 0.01, got 0.1" in message
    assert "2 of 10 values differ" in message  # epochs 3 and 7


# --------------------------------------------------------------------------- exercise 2


def exponential_lr(epoch, base_lr, gamma):
    return base_lr * gamma**epoch


WRONG_EXPONENTIAL_LR = {
    "off by one epoch": lambda e, base_lr, gamma: base_lr * gamma ** (e + 1),
    "linear instead of exponential": lambda e, base_lr, gamma: base_lr * (1 - (1 - gamma) * e),
    "exp(-gamma * epoch)": lambda e, base_lr, gamma: base_lr * math.exp(-gamma * e),
    "gamma ** epoch without base_lr": lambda e, base_lr, gamma: gamma**e,
}


def polynomial_lr(epoch, base_lr, total_iters, power):
    return base_lr * (1 - min(epoch, total_iters) / total_iters) ** power


WRONG_POLYNOMIAL_LR = {
    "epoch not clamped at total_iters": lambda e, base_lr, total_iters, power:
        base_lr * abs(1 - e / total_iters) ** power,
    "forgets the power": lambda e, base_lr, total_iters, power:
        base_lr * (1 - min(e, total_iters) / total_iters),
    "divides by total_iters + 1": lambda e, base_lr, total_iters, power:
        base_lr * (1 - min(e, total_iters) / (total_iters + 1)) ** power,
    "off by one epoch": lambda e, base_lr, total_iters, power:
        base_lr * (1 - min(e + 1, total_iters) / total_iters) ** power,
    "power on total_iters": lambda e, base_lr, total_iters, power:
        base_lr * (1 - min(e, total_iters) / total_iters**power),
}


@pytest.mark.parametrize("name", WRONG_EXPONENTIAL_LR)
def test_exponential_lr_rejects(name):
    rejected(checks.check_exponential_lr, WRONG_EXPONENTIAL_LR[name])


@pytest.mark.parametrize("name", WRONG_POLYNOMIAL_LR)
def test_polynomial_lr_rejects(name):
    rejected(checks.check_polynomial_lr, WRONG_POLYNOMIAL_LR[name])


def test_exponential_and_polynomial_accept_correct_code(capsys):
    accepted(checks.check_exponential_lr, exponential_lr, capsys)
    accepted(checks.check_polynomial_lr, polynomial_lr, capsys)


def test_polynomial_unclamped_with_power_half_is_a_type_message():
    # (1 - e/T) ** 0.5 is a complex number in Python once e > T: the message says so.
    def unclamped(e, base_lr, total_iters, power):
        return base_lr * (1 - e / total_iters) ** power

    message = str(rejected(checks.check_polynomial_lr, unclamped))
    # case 1 (power 1) fails first on values: epoch 6 of total_iters=5 gives -0.02, torch 0
    assert "first difference at epoch 6: expected 0, got -0.02" in message


# --------------------------------------------------------------------------- exercise 3


def cosine_annealing_lr(epoch, base_lr, T_max, eta_min):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


WRONG_COSINE = {
    "forgets eta_min": lambda e, base_lr, T_max, eta_min:
        base_lr * (1 + math.cos(math.pi * e / T_max)) / 2,
    "eta_min added on top": lambda e, base_lr, T_max, eta_min:
        eta_min + base_lr * (1 + math.cos(math.pi * e / T_max)) / 2,
    "stops at T_max": lambda e, base_lr, T_max, eta_min:
        cosine_annealing_lr(min(e, T_max), base_lr, T_max, eta_min),
    "restarts at T_max": lambda e, base_lr, T_max, eta_min:
        cosine_annealing_lr(e % T_max, base_lr, T_max, eta_min),
    "T_max - 1 in the denominator": lambda e, base_lr, T_max, eta_min:
        cosine_annealing_lr(e, base_lr, max(T_max - 1, 1), eta_min),
    "quarter cosine": lambda e, base_lr, T_max, eta_min:
        eta_min + (base_lr - eta_min) * math.cos(math.pi * e / (2 * T_max)),
    "T_max + 1 in the denominator": lambda e, base_lr, T_max, eta_min:
        cosine_annealing_lr(e, base_lr, T_max + 1, eta_min),
    "cosine of epoch + 1": lambda e, base_lr, T_max, eta_min:
        cosine_annealing_lr(e + 1, base_lr, T_max, eta_min),
}


def warm_restarts_lr(epoch, base_lr, T_0, T_mult, eta_min):
    start, length = 0, T_0
    while epoch >= start + length:
        start, length = start + length, length * T_mult
    return cosine_annealing_lr(epoch - start, base_lr, length, eta_min)


def _restarts_ignoring_t_mult(e, base_lr, T_0, T_mult, eta_min):
    return cosine_annealing_lr(e % T_0, base_lr, T_0, eta_min)


def _restarts_linear_growth(e, base_lr, T_0, T_mult, eta_min):
    start, i = 0, 0
    while e >= start + T_0 * (i + 1):
        start, i = start + T_0 * (i + 1), i + 1
    return cosine_annealing_lr(e - start, base_lr, T_0 * (i + 1), eta_min)


def _restarts_off_by_one(e, base_lr, T_0, T_mult, eta_min):
    T_cur, T_i = e, T_0
    while T_cur > T_i:  # > instead of >=: restarts one epoch late
        T_cur, T_i = T_cur - T_i, T_i * T_mult
    return cosine_annealing_lr(T_cur, base_lr, T_i, eta_min)


def _restarts_grows_before_subtracting(e, base_lr, T_0, T_mult, eta_min):
    T_cur, T_i = e, T_0
    while T_cur >= T_i:
        T_i *= T_mult
        T_cur -= T_i
    return cosine_annealing_lr(max(T_cur, 0), base_lr, T_i, eta_min)


def _restarts_one_early(e, base_lr, T_0, T_mult, eta_min):
    start, length = 0, T_0
    while e >= start + max(length - 1, 1):  # each cycle one epoch short
        start, length = start + max(length - 1, 1), length * T_mult
    return cosine_annealing_lr(e - start, base_lr, length, eta_min)


WRONG_RESTARTS = {
    "restarts one epoch early": _restarts_one_early,
    "ignores T_mult": _restarts_ignoring_t_mult,
    "cycles grow linearly": _restarts_linear_growth,
    "> instead of >=": _restarts_off_by_one,
    "grows the cycle before subtracting it": _restarts_grows_before_subtracting,
    "forgets eta_min": lambda e, base_lr, T_0, T_mult, eta_min:
        warm_restarts_lr(e, base_lr, T_0, T_mult, 0.0),
}


@pytest.mark.parametrize("name", WRONG_COSINE)
def test_cosine_annealing_rejects(name):
    rejected(checks.check_cosine_annealing_lr, WRONG_COSINE[name])


@pytest.mark.parametrize("name", WRONG_RESTARTS)
def test_warm_restarts_rejects(name):
    rejected(checks.check_warm_restarts_lr, WRONG_RESTARTS[name])


def test_cosine_and_restarts_accept_correct_code(capsys):
    accepted(checks.check_cosine_annealing_lr, cosine_annealing_lr, capsys)
    accepted(checks.check_warm_restarts_lr, warm_restarts_lr, capsys)


def test_cosine_forgetting_eta_min_message():
    # second public case, T_max=10, eta_min=0.01: at epoch 1 torch gives
    # 0.01 + 0.09 * (1 + cos(pi/10)) / 2 = 0.09779754323, without eta_min 0.1 * 0.97552826
    message = str(rejected(checks.check_cosine_annealing_lr, WRONG_COSINE["forgets eta_min"]))
    assert "cosine_annealing_lr(epoch, base_lr=0.1, T_max=10, eta_min=0.01)" in message
    assert "first difference at epoch 1: expected 0.09779754323, got 0.09755282581" in message


def test_restarts_hint_lists_restart_epochs():
    message = flat(str(rejected(checks.check_warm_restarts_lr, WRONG_RESTARTS["ignores T_mult"])))
    # second public case: T_0=3, T_mult=2 -> restarts at 3, 9, 21; T_mult ignored restarts at 6
    assert "T_0=3, T_mult=2" in message
    assert "first difference at epoch 4" in message
    # 22 epochs: torch's cycles last 3, 6, 12 epochs (restarts at 3, 9, 21); T_mult ignored,
    # every 3 epochs
    assert "torch restarts at epochs [3, 9, 21]" in message
    assert "your restarts come every T_0=3 epochs ([3, 6, 9, 12, 15, 18, 21])" in message


# --------------------------------------------------------------------------- exercise 4


def cyclic_triangular2_lr(step, base_lr, max_lr, step_size_up, step_size_down):
    length = step_size_up + step_size_down
    cycle, x = step // length, step % length
    h = x / step_size_up if x <= step_size_up else (length - x) / step_size_down
    return base_lr + (max_lr - base_lr) * h * 0.5**cycle


def _cyclic(scale, symmetric=False, cycle_len=None):
    def fn(step, base_lr, max_lr, step_size_up, step_size_down):
        down = step_size_up if symmetric else step_size_down
        length = cycle_len(step_size_up, step_size_down) if cycle_len else step_size_up + down
        cycle, x = step // length, step % length
        h = x / step_size_up if x <= step_size_up else max(length - x, 0) / down
        return base_lr + (max_lr - base_lr) * h * scale(cycle)
    return fn


WRONG_CYCLIC = {
    "triangular: never halves": _cyclic(lambda c: 1.0),
    "halves one cycle too early": _cyclic(lambda c: 0.5 ** (c + 1)),
    "ignores step_size_down": _cyclic(lambda c: 0.5**c, symmetric=True),
    "cycle of 2 * step_size_up": _cyclic(lambda c: 0.5**c, cycle_len=lambda u, d: 2 * u),
    "halves base_lr too": lambda step, base_lr, max_lr, step_size_up, step_size_down:
        cyclic_triangular2_lr(step, base_lr, max_lr, step_size_up, step_size_down)
        * 0.5 ** (step // (step_size_up + step_size_down)),
}


def one_cycle_lr(step, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos",
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, *,
                 _boundary=lambda p, T: p * T - 1, _second=lambda p, T: 2 * p * T - 2,
                 _min=None, _ignore_three=False, _strategy=None, _flip=False):
    initial = max_lr / div_factor
    low = initial / final_div_factor if _min is None else \
        _min(initial, max_lr, final_div_factor)
    up_end = _boundary(pct_start, total_steps)
    if three_phase and not _ignore_three:
        phases = [(up_end, initial, max_lr), (_second(pct_start, total_steps), max_lr, initial),
                  (total_steps - 1, initial, low)]
    else:
        phases = [(up_end, initial, max_lr), (total_steps - 1, max_lr, low)]
    strategy = _strategy or anneal_strategy
    start = 0.0
    for i, (end, a, b) in enumerate(phases):
        if step <= end or i == len(phases) - 1:
            f = (step - start) / (end - start)
            if _flip:
                a, b = b, a
            if strategy == "cos":
                return b + (a - b) / 2 * (1 + math.cos(math.pi * f))
            return a + (b - a) * f
        start = end


def _one_cycle_wrong(**how):
    def fn(step, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos", div_factor=25.0,
           final_div_factor=1e4, three_phase=False):
        return one_cycle_lr(step, max_lr, total_steps, pct_start, anneal_strategy, div_factor,
                            final_div_factor, three_phase, **how)
    return fn


WRONG_ONE_CYCLE = {
    "ignores three_phase": _one_cycle_wrong(_ignore_three=True),
    "warm-up ends at pct_start * total_steps": _one_cycle_wrong(_boundary=lambda p, T: p * T),
    "second phase ends at 2 * pct * T - 1": _one_cycle_wrong(_second=lambda p, T: 2 * p * T - 1),
    "forgets final_div_factor": _one_cycle_wrong(_min=lambda initial, top, final: initial),
    "final_div_factor divides max_lr": _one_cycle_wrong(
        _min=lambda initial, top, final: top / final),
    "anneals to 0": _one_cycle_wrong(_min=lambda initial, top, final: 0.0),
    "always cos": _one_cycle_wrong(_strategy="cos"),
    "always linear": _one_cycle_wrong(_strategy="linear"),
    "each phase runs backwards": _one_cycle_wrong(_flip=True),
}


@pytest.mark.parametrize("name", WRONG_CYCLIC)
def test_cyclic_rejects(name):
    rejected(checks.check_cyclic_triangular2_lr, WRONG_CYCLIC[name])


@pytest.mark.parametrize("name", WRONG_ONE_CYCLE)
def test_one_cycle_rejects(name):
    rejected(checks.check_one_cycle_lr, WRONG_ONE_CYCLE[name])


def test_cyclic_and_one_cycle_accept_correct_code(capsys):
    accepted(checks.check_cyclic_triangular2_lr, cyclic_triangular2_lr, capsys)
    accepted(checks.check_one_cycle_lr, one_cycle_lr, capsys)


def test_one_cycle_message_for_ignored_three_phase():
    message = flat(str(rejected(checks.check_one_cycle_lr, WRONG_ONE_CYCLE["ignores three_phase"])))
    # third public case: T=30, pct_start=0.25: the first phase ends at 6.5 and the two agree
    # up to step 6; then torch's second phase goes back to max_lr/div = 0.1 by step 13.
    assert "three_phase=True" in message
    assert "first difference at step 7" in message
    assert "torch goes up to max_lr until step 6.5, back down to the initial rate max_lr / " \
           "div_factor until step 13" in message


def test_cyclic_message():
    message = str(rejected(checks.check_cyclic_triangular2_lr,
                           WRONG_CYCLIC["triangular: never halves"]))
    # first public case: base 0.01, max 0.1, up 2, down 2: step 5 is in cycle 1 (steps 4..7),
    # one step up: torch 0.01 + 0.09 * 0.5 * 0.5 = 0.0325, un-halved 0.01 + 0.09 * 0.5 = 0.055
    assert "first difference at step 5: expected 0.0325, got 0.055" in message


# --------------------------------------------------------------------------- exercise 5


def plateau_lrs(val_losses, lr, factor=0.1, patience=10, threshold=1e-4, cooldown=0,
                *, better=None, exceeded=None, use_cooldown=True, compare_last=False,
                record_after=False, cooldown_resets=True):
    better = better or (lambda loss, best: loss < best * (1 - threshold))
    exceeded = exceeded or (lambda bad: bad > patience)
    lrs, best, bad, cool, last = [], math.inf, 0, 0, math.inf
    for loss in val_losses:
        if not record_after:
            lrs.append(lr)
        reference_loss = last if compare_last else best
        if better(loss, reference_loss):
            best, bad = loss, 0
        else:
            bad += 1
        last = loss
        if use_cooldown and cool > 0:
            cool -= 1
            if cooldown_resets:
                bad = 0
        if exceeded(bad):
            lr *= factor
            cool, bad = cooldown, 0
        if record_after:
            lrs.append(lr)
    return lrs


def _plateau_wrong(**how):
    def fn(val_losses, lr, factor=0.1, patience=10, threshold=1e-4, cooldown=0):
        if "better" in how:
            kw = dict(how, better=how["better"](threshold))
        else:
            kw = dict(how)
        if "exceeded" in how:
            kw["exceeded"] = how["exceeded"](patience)
        return plateau_lrs(val_losses, lr, factor, patience, threshold, cooldown, **kw)
    return fn


WRONG_PLATEAU = {
    ">= patience instead of >": _plateau_wrong(exceeded=lambda p: lambda bad: bad >= p),
    "absolute threshold": _plateau_wrong(better=lambda t: lambda loss, best: loss < best - t),
    "threshold ignored": _plateau_wrong(better=lambda t: lambda loss, best: loss < best),
    "<= in the improvement test": _plateau_wrong(
        better=lambda t: lambda loss, best: loss <= best * (1 - t)),
    "no cooldown": _plateau_wrong(use_cooldown=False),
    "cooldown does not hold the count at 0": _plateau_wrong(cooldown_resets=False),
    "compares with the last loss, not the best": _plateau_wrong(compare_last=True),
    "records the rate after the update (one epoch early)": _plateau_wrong(record_after=True),
    "waits for one bad epoch too many": _plateau_wrong(exceeded=lambda p: lambda bad: bad > p + 1),
}


@pytest.mark.parametrize("name", WRONG_PLATEAU)
def test_plateau_rejects(name):
    rejected(checks.check_plateau_lrs, WRONG_PLATEAU[name])


def test_plateau_accepts_correct_code(capsys):
    accepted(checks.check_plateau_lrs, plateau_lrs, capsys)
    accepted(checks.check_plateau_lrs, lambda *a, **k: np.array(plateau_lrs(*a, **k)), capsys)


def test_plateau_message():
    # second public case: losses 1.0, 0.8, 0.8, 0.81, 0.8, ... patience 2, factor 0.5.  Bad
    # epochs are 2, 3, 4; the third (> patience) halves the rate from epoch 5 on.  With >=,
    # it is halved after epoch 3 already: epoch 4 gets 0.05.
    message = str(rejected(checks.check_plateau_lrs, WRONG_PLATEAU[">= patience instead of >"]))
    assert "val_losses=[1, 0.8, 0.8, 0.81, 0.8, 0.79, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]" \
        in message
    assert "first difference at epoch 4: expected 0.1, got 0.05" in message
    assert "val_loss" in message  # the losses are shown beside the rates
    # torch cuts after epochs 4 (bad epochs 2, 3, 4) and 9 (7, 8, 9): 0.1, then 0.05 from epoch
    # 5, 0.025 from epoch 10; ">=" cuts after epochs 3, 8 and 11: 0.0125 at epoch 12
    assert "last value, epoch 12: expected 0.025, got 0.0125 (yours is 2x too low)" in message


@pytest.mark.parametrize("value, words", [
    (None, "returned None"),
    (0.1, "it must return a list of"),
    ([0.1, 0.1], "returned 2 learning rates"),
    (np.zeros((2, 3)), "shape (2, 3)"),
    ("0.1", "returned str"),
])
def test_plateau_wrong_return_messages(value, words):
    with pytest.raises(CheckFailed, match=None) as info:
        checks.check_plateau_lrs(lambda *a, **k: value)
    assert words in str(info.value)


def test_plateau_nan_in_list():
    with pytest.raises(CheckFailed, match=r"returned nan .*element 0"):
        checks.check_plateau_lrs(lambda losses, lr, **k: [math.nan] * len(losses))


# --------------------------------------------------------------------------- exercise 6


def make_warmup_cosine(rule):
    class Scheduler(LRScheduler):
        def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0,
                     last_epoch=-1):
            self.warmup_steps, self.total_steps = warmup_steps, total_steps
            self.start_factor, self.eta_min = start_factor, eta_min
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            return rule(self)

    return Scheduler


def warmup_cosine(base, t, W, T, s, eta_min):
    if t < W:
        return base * (s + (1 - s) * t / W)
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * (t - W) / (T - W))) / 2


def _rule(fn):
    return lambda self: [fn(base, self.last_epoch, self.warmup_steps, self.total_steps,
                            self.start_factor, self.eta_min, group)
                         for base, group in zip(self.base_lrs, self.optimizer.param_groups)]


WarmupCosineOK = make_warmup_cosine(
    _rule(lambda b, t, W, T, s, m, g: warmup_cosine(b, t, W, T, s, m)))


def _recursive_cosine(b, t, W, T, s, m, group):
    """Multiplies the current rate by the cosine's ratio: right only when eta_min = 0."""
    if t <= W:
        return warmup_cosine(b, t, W, T, s, m)
    span = T - W
    ratio = (1 + math.cos(math.pi * (t - W) / span)) / (1 + math.cos(math.pi * (t - 1 - W) / span))
    return group["lr"] * ratio


WRONG_WARMUP_COSINE = {
    "warm-up one step ahead": lambda b, t, W, T, s, m, g: warmup_cosine(b, t + 1, W, T, s, m),
    "ignores start_factor (ramps from 0)": lambda b, t, W, T, s, m, g:
        b * t / W if t < W else warmup_cosine(b, t, W, T, s, m),
    "cosine over total_steps instead of total - warmup": lambda b, t, W, T, s, m, g:
        warmup_cosine(b, t, W, T, s, m) if t < W
        else m + (b - m) * (1 + math.cos(math.pi * (t - W) / T)) / 2,
    "forgets eta_min": lambda b, t, W, T, s, m, g: warmup_cosine(b, t, W, T, s, 0.0),
    "recursive update that drifts": _recursive_cosine,
    "uses the current lr instead of base_lrs": lambda b, t, W, T, s, m, g:
        warmup_cosine(g["lr"], t, W, T, s, m),
    "cosine from t instead of t - warmup": lambda b, t, W, T, s, m, g:
        warmup_cosine(b, t, W, T, s, m) if t < W
        else m + (b - m) * (1 + math.cos(math.pi * t / T)) / 2,
}


def test_warmup_cosine_rejects_only_first_group():
    only_first = make_warmup_cosine(lambda self: [
        warmup_cosine(self.base_lrs[0], self.last_epoch, self.warmup_steps, self.total_steps,
                      self.start_factor, self.eta_min)] * len(self.base_lrs))
    message = str(rejected(checks.check_warmup_cosine, only_first))
    assert "parameter group 1 of 2 (its lr: 0.02)" in message


@pytest.mark.parametrize("name", WRONG_WARMUP_COSINE)
def test_warmup_cosine_rejects(name):
    rejected(checks.check_warmup_cosine, make_warmup_cosine(_rule(WRONG_WARMUP_COSINE[name])))


def test_warmup_cosine_accepts_correct_code(capsys):
    accepted(checks.check_warmup_cosine, WarmupCosineOK, capsys)


def test_warmup_cosine_messages():
    with pytest.raises(CheckFailed, match="subclass of torch.optim.lr_scheduler.LRScheduler"):
        checks.check_warmup_cosine(object)
    with pytest.raises(CheckFailed, match="subclass of torch.optim.lr_scheduler.LRScheduler"):
        checks.check_warmup_cosine(WarmupCosineOK(torch.optim.SGD([torch.zeros(1)], lr=0.1),
                                                  warmup_steps=1, total_steps=3))
    returns_float = make_warmup_cosine(lambda self: 0.1)
    with pytest.raises(CheckFailed, match="one learning rate per parameter group"):
        checks.check_warmup_cosine(returns_float)
    not_done = make_warmup_cosine(lambda self: (_ for _ in ()).throw(NotImplementedError()))
    with pytest.raises(CheckFailed, match="not implemented yet"):
        checks.check_warmup_cosine(not_done)
    nan = make_warmup_cosine(lambda self: [math.nan for _ in self.base_lrs])
    with pytest.raises(CheckFailed, match="returned nan for step 0"):
        checks.check_warmup_cosine(nan)


# --------------------------------------------------------------------------- exercise 7


def _loop(*, per_batch=True, before=False, total=lambda e, n: e * n, new_optimizer=False,
          epochs_run=None):
    def train(model, optimizer, batches, epochs, max_lr):
        if new_optimizer:
            optimizer = torch.optim.SGD(model.parameters(), lr=max_lr, momentum=0.9)
        scheduler = OneCycleLR(optimizer, max_lr=max_lr, total_steps=total(epochs, len(batches)))
        for _ in range(epochs if epochs_run is None else epochs_run):
            if not per_batch and before:
                scheduler.step()
            for x, y in batches:
                if per_batch and before:
                    scheduler.step()
                optimizer.zero_grad()
                F.mse_loss(model(x), y).backward()
                optimizer.step()
                if per_batch and not before:
                    scheduler.step()
            if not per_batch and not before:
                scheduler.step()
        return []
    return train


WRONG_LOOPS = {
    "scheduler stepped per epoch, before the batches (the exercise's bug)":
        _loop(per_batch=False, before=True),
    "scheduler stepped per epoch, after the batches": _loop(per_batch=False),
    "scheduler stepped before optimizer.step()": _loop(before=True),
    "total_steps = epochs": _loop(total=lambda e, n: e),
    "a new optimizer inside train": _loop(new_optimizer=True),
    "trains one epoch only": _loop(epochs_run=1),
    "total_steps one too many": _loop(total=lambda e, n: e * n + 1),
}


@pytest.mark.parametrize("name", WRONG_LOOPS)
def test_train_rejects(name):
    rejected(checks.check_train, WRONG_LOOPS[name])


def test_train_accepts_correct_loop(capsys):
    accepted(checks.check_train, _loop(), capsys)


def test_train_messages():
    assert "called before optimizer.step()" in flat(str(rejected(checks.check_train,
                                                                 _loop(before=True))))
    assert "never called optimizer.step() on the optimizer it was given" in str(
        rejected(checks.check_train, _loop(new_optimizer=True)))
    # first public case: 3 epochs x 4 batches; one epoch only -> 4 steps
    assert "optimizer.step() 4 times" in str(rejected(checks.check_train, _loop(epochs_run=1)))
    # torch raises when stepped past total_steps; the learner sees torch's own words
    message = str(rejected(checks.check_train, _loop(total=lambda e, n: e)))
    assert "train raised ValueError" in message and "Tried to step" in message


# ---------------------------------------------------------------- messages for every check


ALL_CHECKS = {
    checks.check_step_lr: 4, checks.check_multistep_lr: 4, checks.check_exponential_lr: 3,
    checks.check_polynomial_lr: 4, checks.check_cosine_annealing_lr: 4,
    checks.check_warm_restarts_lr: 5, checks.check_cyclic_triangular2_lr: 5,
    checks.check_one_cycle_lr: 8, checks.check_plateau_lrs: 6, checks.check_train: 5,
}  # check -> number of parameters of the learner's function


def _not_implemented(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_not_implemented_yet(check):
    with pytest.raises(CheckFailed, match="is not implemented yet") as info:
        check(_not_implemented)
    assert info.value.__cause__ is None  # no second traceback for the stub
    with pytest.raises(CheckFailed, match="is not implemented yet"):
        check(_not_implemented, hidden=True, seed=1)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_learner_exception_is_reported_with_its_cause(check):
    def broken(*args, **kwargs):
        return 1 / 0

    with pytest.raises(CheckFailed, match=r"raised ZeroDivisionError: division by zero") as info:
        check(broken)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert "while the check called" in str(info.value)
    # the learner's line is in the chained traceback, and the message says so
    assert str(info.value).endswith("(the traceback above this message shows the line in your "
                                    "code)")


def test_no_pointer_to_a_line_of_the_learner_when_none_ran():
    # a function whose parameters are named differently: Python refuses the call itself
    with pytest.raises(CheckFailed) as info:
        checks.check_step_lr(lambda epoch, lr, step_size, gamma: lr)
    message = str(info.value)
    assert "got an unexpected keyword argument 'base_lr'" in message
    assert "traceback above" not in message
    assert "hint: the call does not fit your function's signature" in message

    class WrongInit(LRScheduler):  # the exercise's __init__ takes warmup_steps
        def __init__(self, optimizer, warmup, total_steps, start_factor=0.1, eta_min=0.0,
                     last_epoch=-1):
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            return list(self.base_lrs)

    with pytest.raises(CheckFailed) as info:
        checks.check_warmup_cosine(WrongInit)
    message = str(info.value)
    assert message.startswith("WarmupCosine raised TypeError: ")
    assert "WrongInit.__init__() got an unexpected keyword argument 'warmup_steps'" in message
    assert "traceback above" not in message and "get_lr" not in message
    assert "keep the exercise's __init__(self, optimizer, warmup_steps, total_steps" in message


def test_grading_never_points_at_a_traceback():
    """When grading, no exception object comes back from the sandbox (only a record), and a
    feedback page shows no traceback: the message must not mention one."""
    spec = checks.get_check("check_step_lr")
    case = spec.cases(False, 0)[0]
    record = spec.probe(lambda epoch, **params: 1 / 0, case)
    with pytest.raises(CheckFailed) as info:
        spec.judge(case, spec.expected(case), record, display=False)
    assert "raised ZeroDivisionError" in str(info.value)
    assert "traceback" not in str(info.value)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_not_a_function(check):
    with pytest.raises(CheckFailed, match="Pass the function itself"):
        check(0.1)


SCALAR_CHECKS = [c for c in ALL_CHECKS if c not in (checks.check_plateau_lrs, checks.check_train)]


@pytest.mark.parametrize("value, words", [
    (None, "returned None for epoch 0"),
    (True, "returned a boolean"),
    ("0.1", "returned str ('0.1')"),
    ([0.1], "returned a list of length 1"),
    (np.array([0.1, 0.2, 0.3]), "returned an array of shape (3,)"),
    (torch.ones(2), "returned an array of shape (2,)"),
    (math.nan, "returned nan for epoch 0"),
    (math.inf, "returned inf for epoch 0"),
    (1 + 2j, "returned complex"),
])
def test_wrong_return_values(value, words):
    with pytest.raises(CheckFailed) as info:
        checks.check_step_lr(lambda *a, **k: value)
    assert words in str(info.value)
    assert "step_lr(0, base_lr=0.1, step_size=3, gamma=0.5)" in str(info.value)


@pytest.mark.parametrize("check", SCALAR_CHECKS, ids=lambda c: c.__name__)
def test_nan_named_for_every_scalar_check(check):
    with pytest.raises(CheckFailed, match="returned nan for (epoch|step) 0"):
        check(lambda *a, **k: math.nan)


def test_success_messages_say_no_more_than_was_checked(capsys):
    checks.check_step_lr(step_lr)
    assert capsys.readouterr().out == "check_step_lr: all public checks passed\n"
    checks.check_step_lr(step_lr, hidden=True, seed=7)
    assert capsys.readouterr().out == \
        "check_step_lr: all hidden checks passed (12 randomized cases, seed 7)\n"


def test_hidden_cases_depend_on_the_seed_only():
    def calls(seed):
        seen = []

        def spy(epoch, **params):
            seen.append((epoch, repr(params)))
            return step_lr(epoch, **params)

        checks.check_step_lr(spy, hidden=True, seed=seed)
        return seen

    assert calls(3) == calls(3)
    assert calls(3) != calls(4)


def test_mutating_arguments_does_not_change_later_calls():
    def mutating(epoch, base_lr, milestones, gamma):
        value = multistep_lr(epoch, base_lr, milestones, gamma)
        milestones.clear()
        return value

    checks.check_multistep_lr(mutating)


# ------------------------------------------------------------------------ naming the mistake
#
# For every wrong implementation above: what the public message's diagnosis says (a fragment
# written here by hand, from the first public case it fails) and what the feedback of a hidden
# case may say (a fragment of the check's constant description of the mistake), or None where
# the check does not recognise the mistake (the message then keeps the generic hint).

SHIFT_EARLY = "the curve is torch's shifted one epoch early (an off-by-one)"
SHIFT_LATE = "the curve is torch's shifted one epoch late (an off-by-one)"

NAMED = {
    "check_step_lr": (WRONG_STEP_LR, {
        "off by one epoch (decays early)": (
            "your curve is torch's shifted one epoch early: at each epoch k you return torch's "
            "rate for epoch k + 1", SHIFT_EARLY),
        "off by one epoch (decays late)": (
            "your curve is torch's shifted one epoch late", SHIFT_LATE),
        "true division instead of floor": (
            "your rate decays at every epoch: that is base_lr * gamma ** (epoch / step_size)",
            "true division where floor division belongs"),
        "already decayed at epoch 0": (
            "your curve is torch's times gamma=0.5 from epoch 0 on", "one too large"),
        "decays once and stops": (
            "your rate decays once, at epoch 3, and then stays", "the decay does not repeat"),
        "gamma subtracted": (None, None),
    }),
    "check_multistep_lr": (WRONG_MULTISTEP_LR, {
        "< instead of <=": ("count the milestones m <= epoch, not m < epoch", SHIFT_LATE),
        "only the first milestone": (
            "your rate decays once, at the first milestone (3)", "only once"),
        "gamma once, whatever the count": (
            "your rate decays once, at the first milestone (3)", "only once"),
        "only the milestone epochs themselves": (None, None),
        "off by one epoch": ("your curve is torch's shifted one epoch early", SHIFT_EARLY),
    }),
    "check_exponential_lr": (WRONG_EXPONENTIAL_LR, {
        "off by one epoch": ("your curve is torch's shifted one epoch early", SHIFT_EARLY),
        "linear instead of exponential": (None, None),
        "exp(-gamma * epoch)": ("your curve is base_lr * exp(-gamma * epoch)",
                                "an exponential of minus the factor"),
        "gamma ** epoch without base_lr": ("multiply it by base_lr=0.1",
                                           "the initial rate is left out"),
    }),
    "check_polynomial_lr": (WRONG_POLYNOMIAL_LR, {
        "epoch not clamped at total_iters": (
            "after total_iters=5 torch's rate stays at 0", "does not stay at zero"),
        "forgets the power": ("your curve is a straight line", "the power is left out"),
        "divides by total_iters + 1": ("you divide by total_iters + 1",
                                       "spread over one epoch too many"),
        "off by one epoch": ("your curve is torch's shifted one epoch early", SHIFT_EARLY),
        "power on total_iters": (None, None),
    }),
    "check_cosine_annealing_lr": (WRONG_COSINE, {
        "forgets eta_min": ("your cosine anneals to 0, not to eta_min=0.01",
                            "anneals to zero instead of to the floor"),
        "eta_min added on top": ("your curve starts at base_lr + eta_min",
                                 "added on top of the whole cosine"),
        "stops at T_max": ("past T_max=4 torch's cosine goes on and climbs back",
                           "stops at its minimum instead of climbing back up"),
        "restarts at T_max": ("yours jumps back to base_lr at epoch T_max=10",
                              "jumps back to the top after its minimum"),
        # T_max=10: the learner's cosine over 9 epochs bottoms out at epoch 9
        "T_max - 1 in the denominator": (
            "your cosine reaches eta_min at epoch 9, as if you divided by T_max - 1",
            "reaches its minimum one epoch early"),
        "quarter cosine": (None, None),
        "T_max + 1 in the denominator": (
            "your cosine reaches eta_min at epoch 11, as if you divided by T_max + 1",
            "reaches its minimum one epoch late"),
        "cosine of epoch + 1": ("cos(pi * (epoch + 1) / T_max) where cos(pi * epoch / T_max) "
                                "belongs?", SHIFT_EARLY),
    }),
    "check_warm_restarts_lr": (WRONG_RESTARTS, {
        # T_0=5, T_mult=1 over 15 epochs: torch restarts at 5, 10; cycles of 4 at 4, 8, 12
        "restarts one epoch early": (
            "your curve restarts at epochs [4, 8, 12]; torch restarts at [5, 10]: each of your "
            "cycles is one epoch shorter", "each cycle is one epoch too short"),
        # T_0=3, T_mult=2 over 22 epochs: torch restarts at 3, 9, 21
        "ignores T_mult": ("so torch restarts at epochs [3, 9, 21]", "the cycles do not grow"),
        # T_0=5, T_mult=1 over 15 epochs: cycles of 5 then 10 epochs restart at 5 only
        "cycles grow linearly": ("your curve restarts at epochs [5]; torch restarts at [5, 10]",
                                 "the restarts come at the wrong epochs"),
        "> instead of >=": ("at the restart epochs [5, 10] yours is still at eta_min",
                            "still at the bottom of the old cycle"),
        "grows the cycle before subtracting it": (
            "your curve restarts at epochs [3, 12]; torch restarts at [3, 9, 21]", None),
        "forgets eta_min": ("your cosine anneals to 0, not to eta_min=0.001",
                            "anneals to zero instead of to the floor"),
    }),
    "check_cyclic_triangular2_lr": (WRONG_CYCLIC, {
        "triangular: never halves": ("that is mode='triangular'", "the cycles never shrink"),
        "halves one cycle too early": ("the halving starts one cycle early",
                                       "the first cycle is already halved"),
        "ignores step_size_down": ("your way down takes step_size_up=2 steps",
                                   "the way down takes as long as the way up"),
        "cycle of 2 * step_size_up": (None, None),
        "halves base_lr too": (None, None),
    }),
    "check_one_cycle_lr": (WRONG_ONE_CYCLE, {
        "ignores three_phase": ("yours has two phases", "the three-phase shape is ignored"),
        # pct_start=0.3 of 20 steps: torch peaks at step 5
        "warm-up ends at pct_start * total_steps": (
            "your rate peaks at step pct_start * total_steps = 6; torch's peaks at step "
            "pct_start * total_steps - 1 = 5", None),
        "second phase ends at 2 * pct * T - 1": (None, None),
        # max_lr=0.1, div_factor=25, final_div_factor=1e4: initial 0.004, final 4e-07
        "forgets final_div_factor": (
            "your rate ends at max_lr / div_factor = 0.004, the initial rate, 10000x too high",
            "the final division is left out"),
        "final_div_factor divides max_lr": (
            "your rate ends at max_lr / final_div_factor = 1e-05, 25x too high",
            "the peak rate divided by the final factor"),
        "anneals to 0": ("your rate anneals to 0; torch anneals to initial_lr / "
                         "final_div_factor = max_lr / (div_factor * final_div_factor) = 4e-07",
                         "anneals to zero instead of to the final minimum"),
        "always cos": ("your curve is torch's with anneal_strategy='cos'",
                       "the other annealing shape"),
        "always linear": ("your curve is torch's with anneal_strategy='linear'",
                          "the other annealing shape"),
        "each phase runs backwards": (None, None),
    }),
    "check_plateau_lrs": (WRONG_PLATEAU, {
        ">= patience instead of >": (
            "you cut when bad_epochs >= patience; torch cuts when the number of epochs without "
            "improvement exceeds patience", "reaches the patience instead of when it exceeds it"),
        "absolute threshold": ("an improvement in yours is loss < best - threshold",
                               "subtracted from the best loss (absolute)"),
        "threshold ignored": ("in yours any loss below the best counts as an improvement",
                              "the threshold is ignored"),
        "<= in the improvement test": (None, None),
        "no cooldown": ("after a cut torch waits cooldown=2 epochs", "no cooldown after a cut"),
        "cooldown does not hold the count at 0": (
            "after a cut torch waits cooldown=2 epochs", "no cooldown after a cut"),
        "compares with the last loss, not the best": (None, None),
        "records the rate after the update (one epoch early)": (
            "your lrs[e] is the rate after the decision on val_losses[e]",
            "recorded after that epoch's decision"),
        "waits for one bad epoch too many": (
            "your cuts come one epoch late: torch cuts as soon as the number of epochs without "
            "improvement exceeds patience=2, i.e. at 3 bad epochs in a row", None),
    }),
    "check_warmup_cosine": (WRONG_WARMUP_COSINE, {
        "warm-up one step ahead": (
            "your curve is torch's shifted one step early",
            "the curve is torch's shifted one step early (an off-by-one)"),
        "ignores start_factor (ramps from 0)": ("your warm-up starts at 0",
                                                "the warm-up starts from zero"),
        "cosine over total_steps instead of total - warmup": (
            "your cosine runs over total_steps=20 steps; after a warm-up of 5 steps only "
            "total_steps - warmup_steps = 15 are left", "spread over all the steps"),
        "forgets eta_min": ("your cosine anneals to 0, not to eta_min=0.05",
                            "anneals to zero instead of to the floor"),
        "recursive update that drifts": ("your cosine anneals to 0, not to eta_min=0.05",
                                         "anneals to zero instead of to the floor"),
        "uses the current lr instead of base_lrs": (
            "yours computes each step's rate from the optimizer's current rate (group['lr'])",
            "the rate compounds"),
        "cosine from t instead of t - warmup": (
            "after the warm-up your cosine is cos(pi * t / total_steps), evaluated at t instead "
            "of t - warmup_steps", "the cosine is not shifted by the warm-up"),
    }),
    "check_train": (WRONG_LOOPS, {
        "scheduler stepped per epoch, before the batches (the exercise's bug)": (
            "your rate changes once per epoch (every 4 batches)",
            "stepped once per epoch instead of once per batch"),
        "scheduler stepped per epoch, after the batches": (
            "your rate changes once per epoch (every 4 batches)",
            "stepped once per epoch instead of once per batch"),
        "scheduler stepped before optimizer.step()": (
            "scheduler.step() is called before optimizer.step()",
            "stepped before the optimizer"),
        # these fail before any curve is compared: no diagnosis, their own messages
        "total_steps = epochs": (None, None),
        "a new optimizer inside train": (None, None),
        "trains one epoch only": (None, None),
        "total_steps one too many": ("your curve is OneCycleLR with total_steps = 13",
                                     "built for more steps than the loop takes"),
    }),
}
WRONG = [(check, name) for check, (table, _) in NAMED.items() for name in table]


def _learner(check: str, name: str):
    fn = NAMED[check][0][name]
    return make_warmup_cosine(_rule(fn)) if check == "check_warmup_cosine" else fn


def test_every_wrong_implementation_has_a_naming_entry():
    for check, (table, named) in NAMED.items():
        assert set(named) == set(table), check
    assert len(WRONG) == 71


@pytest.mark.parametrize("check, name", WRONG, ids=[f"{c}-{n}" for c, n in WRONG])
def test_the_message_names_the_mistake(check, name):
    public, _ = NAMED[check][1][name]
    failure = rejected(getattr(checks, check), _learner(check, name))
    message = str(failure)
    if public is None:
        assert "diagnosis:" not in message and not failure.mistake
    else:
        assert message.count("diagnosis:") == 1 and failure.mistake
        diagnosis = " ".join(message.split("diagnosis:")[1].split())  # wrapped at 96 columns
        assert public in diagnosis, message
        assert "hint:" not in message  # the generic hint gives way to the diagnosis
        assert max(len(line) for line in message.split("diagnosis:")[1].splitlines()) <= 96


def _constant_kinds(check) -> set[str]:
    return {m.kind for m in check.mistakes}


@pytest.mark.parametrize("check, name", WRONG, ids=[f"{c}-{n}" for c, n in WRONG])
def test_hidden_feedback_names_the_kind_of_mistake_and_no_value(check, name):
    """What `lrcourse grade` writes for failed hidden cases (lrcourse.grading.session, from
    the plain-data records the sandbox's probe sends back): how many failed, and how the first
    did, in constant words: no number, no value, no input of the case."""
    import json

    from lrcourse.grading.session import judge_hidden

    spec = checks.get_check(check)
    cases = spec.cases(True, HIDDEN_SEED)
    expected = [spec.expected(case) for case in cases]
    records = [json.loads(json.dumps(spec.probe(_learner(check, name), case)))
               for case in cases]
    verdict = judge_hidden(spec, cases, expected, records)
    assert verdict.status == "failed"
    head, first, hint = re.fullmatch(
        r"(\w+: \d+ of \d+ hidden cases failed) \(the first: (.*)\)\. Hint: (.*)\.",
        verdict.message).groups()
    assert hint == spec.hidden_hint  # the check's constant hint, which names no value
    assert not re.search(r"\d", first), verdict.message
    assert "=" not in first and "[" not in first
    kinds = _constant_kinds(spec)
    assert first in ("your values differ from PyTorch's", "your code raised ValueError") or (
        first.startswith("your values differ from PyTorch's: ")
        and set(first.split(": ", 1)[1].split("; or ")) <= kinds), first
    _, kind = NAMED[check][1][name]
    if kind is not None:
        assert kind in first


def test_every_mistake_description_names_no_number_or_parameter():
    from lrcourse.checks.diagnosis import Mistake

    for name in checks.CHECK_MODULES:
        spec = checks.get_check(name)
        # one mechanism for every check: each mistake is a diagnosis.Mistake with a constant kind
        assert all(isinstance(m, Mistake) for m in spec.mistakes), name
        for kind in _constant_kinds(spec):
            assert not re.search(r"\d|=|_", kind), (name, kind)
    assert len(_constant_kinds(checks.get_check("check_one_cycle_lr"))) >= 8


def test_plateau_cut_early_and_rate_recorded_late_are_told_apart():
    # on the second public case both first differ at epoch 4 (0.05 where torch has 0.1); the
    # long plateau at the end separates them: torch cuts every 3 epochs there, ">=" every 2
    early = flat(str(rejected(checks.check_plateau_lrs,
                              WRONG_PLATEAU[">= patience instead of >"])))
    late = flat(str(rejected(checks.check_plateau_lrs,
                             WRONG_PLATEAU["records the rate after the update (one epoch early)"])))
    for message in (early, late):
        assert "first difference at epoch 4: expected 0.1, got 0.05" in message
    assert "bad_epochs >= patience" in early and "bad_epochs >= patience" not in late
    assert "after the decision on val_losses[e]" in late and "after the decision" not in early
    # the ">=" curve, 0.0125 at epoch 12, is torch's with patience=1; recorded after the
    # decision, epoch 12 shows the cut after epoch 12: 0.0125 as well, but epoch 11 differs
    assert "your curve is torch's with patience=1" in early


def test_warmup_cosine_names_base_lrs_only_when_that_is_the_mistake():
    for name, rule in WRONG_WARMUP_COSINE.items():
        message = str(rejected(checks.check_warmup_cosine, make_warmup_cosine(_rule(rule))))
        assert ("self.base_lrs" in message) == (name == "uses the current lr instead of base_lrs")


def test_one_cycle_message_shows_the_final_values():
    # first public case: max_lr=0.1, div_factor=25, final_div_factor=1e4, 20 steps.  torch ends
    # at 0.1 / 25 / 1e4 = 4e-07; dividing max_lr by final_div_factor ends at 1e-05, 25x higher
    message = str(rejected(checks.check_one_cycle_lr,
                           WRONG_ONE_CYCLE["final_div_factor divides max_lr"]))
    assert "largest difference at step 19, the last: expected 4e-07, got 1e-05 (yours is 25x " \
           "too high)" in message
    # forgetting final_div_factor ends at the initial rate, 0.1 / 25 = 0.004
    message = str(rejected(checks.check_one_cycle_lr, WRONG_ONE_CYCLE["forgets final_div_factor"]))
    assert "largest difference at step 19, the last: expected 4e-07, got 0.004 (yours is " \
           "10,000x too high)" in message
    # the third public case, three phases, pct_start=0.25 of 30 steps: the two agree up to step
    # 6 and end alike (0.1 / 100 = 0.001), the largest gap is mid-way
    message = str(rejected(checks.check_one_cycle_lr, WRONG_ONE_CYCLE["ignores three_phase"]))
    assert "last value, step 29: 0.001, the same in both" in message


def test_a_learner_who_never_cuts_sees_the_factor_at_the_end():
    # fourth public case: 1% threshold, patience 1, factor 0.1; counting the sub-threshold
    # improvements as improvements, the rate never leaves 0.2, while torch has cut three times
    # by epoch 10 (0.2 * 0.1**3 = 0.0002), and the gap is as large at epoch 11
    message = str(rejected(checks.check_plateau_lrs, WRONG_PLATEAU["threshold ignored"]))
    assert "largest difference at epoch 10: expected 0.0002, got 0.2 (yours is 1,000x too " \
           "high)" in message
    assert "last value, epoch 11: expected 0.0002, got 0.2 (yours is 1,000x too high)" in message


def test_several_mistakes_that_give_the_same_curve_are_all_named():
    # ExponentialLR(gamma=0.5) from 1.0 shifted one epoch early is the same curve from 0.5: on
    # such a case two mistakes cannot be told apart, and both are named
    from lrcourse.checks.diagnosis import Curves, candidate, diagnose

    expected = np.array([1.0, 0.5, 0.25])
    got = np.array([0.5, 0.25, 0.125])
    curves = Curves(expected, got, "ExponentialLR", 1.0, {"gamma": 0.5}, {"base_lr": 1.0})
    a = candidate("kind a", lambda c: c.curve(c.t + 1), "text a")
    b = candidate("kind b", lambda c: c.curve(lr=0.5), "text b")
    found = diagnose((a, b), curves)
    assert found.kind == "kind a; or kind b"
    assert found.text == "2 mistakes give exactly your curve on this case: (1) text a; (2) text b"


# ------------------------------------------------------------------------- overlay figure


def test_failure_displays_the_overlay_png_in_a_notebook(monkeypatch):
    shown = []
    monkeypatch.setattr(_core, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    with pytest.raises(CheckFailed):
        checks.check_step_lr(WRONG_STEP_LR["decays once and stops"])
    assert len(shown) == 1
    assert shown[0].data[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_figure_outside_a_notebook(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    with pytest.raises(CheckFailed):
        checks.check_step_lr(WRONG_STEP_LR["decays once and stops"])
    assert shown == []


def test_failing_cell_in_a_kernel_has_a_png_and_the_message(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from lrcourse.checks import check_step_lr\n"
                                  "def step_lr(epoch, base_lr, step_size, gamma):\n"
                                  "    return base_lr * gamma ** (epoch // (step_size + 1))"),
        nbformat.v4.new_code_cell("check_step_lr(step_lr)"),
    ])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[1].outputs
    kinds = [o.output_type for o in outputs]
    assert kinds == ["display_data", "error"]
    assert "image/png" in outputs[0].data
    assert outputs[1].ename == "CheckFailed"
    assert "first difference at epoch 3: expected 0.05, got 0.1" in outputs[1].evalue
