"""The modern recipes (warm-up + cosine, WSD, inverse sqrt): closed forms vs torch.

Expected values come from hand computation or from stepping a real torch scheduler built by
the recipes (LambdaLR / SequentialLR, written without the closed forms), never from the closed
forms themselves.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse import reference
from lrcourse.schedules import SCHEDULES, lr_curve, schedule
from lrcourse.schedules import modern


def stepped(build, steps, lrs=(1.0,)):
    """Each group's lr before each optimizer step, stepping the scheduler as a training loop
    does; the ground truth, with any torch warning an error (the recipes must be warning-free)."""
    return reference.scheduler_curve(build, steps, lrs)


def close(ours, torch_curve):
    np.testing.assert_allclose(ours, torch_curve, rtol=1e-12, atol=1e-15 * np.max(torch_curve))


# --- hand-computed values --------------------------------------------------------------------

def test_registered_under_their_names():
    assert SCHEDULES["WarmupCosine"] is modern.warmup_cosine
    assert SCHEDULES["WarmupStableDecay"] is modern.warmup_stable_decay
    assert SCHEDULES["InverseSqrt"] is modern.inverse_sqrt


def test_warmup_cosine_by_hand():
    # W=4, T=10, floor 0.1: warm-up 0, .25, .5, .75; cosine over 6 steps from step 4.
    got = lr_curve("WarmupCosine", 12, 1.0, warmup_steps=4, total_steps=10, min_lr=0.1)
    cos = [0.1 + 0.9 * (1 + math.cos(math.pi * k / 6)) / 2 for k in range(7)]
    expected = [0.0, 0.25, 0.5, 0.75] + cos + [0.1]
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=1e-16)
    assert got[7] == pytest.approx(0.55)  # halfway through the cosine: midway to the floor
    assert got[10] == got[11] == pytest.approx(0.1)  # the floor is held after total_steps


def test_warmup_cosine_start_factor_and_no_warmup():
    got = lr_curve("WarmupCosine", 3, 0.2, warmup_steps=2, total_steps=4, start_factor=0.5)
    np.testing.assert_allclose(got, [0.1, 0.15, 0.2])
    got = lr_curve("WarmupCosine", 5, 1.0, warmup_steps=0, total_steps=4)
    np.testing.assert_allclose(got, [1.0, (1 + math.sqrt(0.5)) / 2, 0.5,
                                     (1 - math.sqrt(0.5)) / 2, 0.0], atol=1e-16)


def test_wsd_by_hand():
    got = lr_curve("WarmupStableDecay", 12, 0.4, warmup_steps=2, total_steps=10, decay_steps=4)
    np.testing.assert_allclose(
        got, [0.0, 0.2, 0.4, 0.4, 0.4, 0.4, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0], atol=1e-16)
    sqrt = lr_curve("WarmupStableDecay", 11, 1.0, warmup_steps=0, total_steps=10,
                    decay_steps=4, decay="sqrt", min_lr=0.2)
    assert sqrt[7] == pytest.approx(0.2 + 0.8 * (1 - math.sqrt(0.25)))  # = 0.6
    assert sqrt[10] == pytest.approx(0.2)
    cosine = lr_curve("WarmupStableDecay", 11, 1.0, warmup_steps=0, total_steps=10,
                      decay_steps=4, decay="cosine")
    assert cosine[8] == pytest.approx(0.5)


def test_inverse_sqrt_by_hand():
    got = lr_curve("InverseSqrt", 65, 0.8, warmup_steps=4)
    np.testing.assert_allclose(got[:5], [0.0, 0.2, 0.4, 0.6, 0.8])
    assert got[16] == pytest.approx(0.4)   # step count x4 -> rate / 2
    assert got[64] == pytest.approx(0.2)
    assert got[9] == pytest.approx(0.8 * 2 / 3)


def test_vectorized_on_any_shape_and_schedule_helper():
    t = np.array([[0, 4], [7, 20]])
    got = modern.warmup_cosine(t, 1.0, 4, 10, 0.1)
    assert got.shape == (2, 2)
    assert got[1, 0] == pytest.approx(0.55)
    assert schedule("InverseSqrt", 1.0, warmup_steps=4)(np.array([16]))[0] == pytest.approx(0.5)


# --- closed form vs the torch recipes ----------------------------------------------------------

COSINE = [
    dict(warmup_steps=10, total_steps=100),
    dict(warmup_steps=7, total_steps=50, min_lr=0.01, start_factor=0.2),
    dict(warmup_steps=0, total_steps=30, min_lr=0.05),
    dict(warmup_steps=29, total_steps=30, min_lr=0.0, start_factor=1.0),
]
WSD = [
    dict(warmup_steps=10, total_steps=100, decay_steps=20),
    dict(warmup_steps=5, total_steps=60, decay_steps=55, min_lr=0.02, decay="cosine"),
    dict(warmup_steps=0, total_steps=40, decay_steps=10, decay="sqrt", start_factor=0.3),
    dict(warmup_steps=3, total_steps=20, decay_steps=1, min_lr=0.1, decay="sqrt"),
]
INVSQRT = [dict(warmup_steps=1), dict(warmup_steps=25), dict(warmup_steps=8, start_factor=0.1)]


@pytest.mark.parametrize("kw", COSINE)
def test_warmup_cosine_lambda_recipe_matches(kw):
    steps = kw["total_steps"] + 15  # past the end: both hold the floor
    got = stepped(lambda o: modern.warmup_cosine_scheduler(o, **kw), steps)[:, 0]
    close(lr_curve("WarmupCosine", steps, 1.0, **kw), got)


@pytest.mark.parametrize("kw", [k for k in COSINE if k["warmup_steps"] > 0])
def test_warmup_cosine_sequential_recipe_matches_until_total_steps(kw):
    kw = {**kw, "start_factor": kw.get("start_factor") or 0.1}
    steps = kw["total_steps"] + 1
    got = stepped(lambda o: modern.warmup_cosine_sequential(o, **kw), steps)[:, 0]
    close(lr_curve("WarmupCosine", steps, 1.0, **kw), got)


def test_sequential_cosine_climbs_after_total_steps_unlike_the_closed_form():
    kw = dict(warmup_steps=2, total_steps=10, start_factor=0.5)
    got = stepped(lambda o: modern.warmup_cosine_sequential(o, **kw), 14)[:, 0]
    assert got[10] == pytest.approx(0.0, abs=1e-15) and got[13] > 0.05
    assert lr_curve("WarmupCosine", 14, 1.0, **kw)[13] == 0.0


@pytest.mark.parametrize("kw", WSD)
def test_wsd_lambda_recipe_matches(kw):
    steps = kw["total_steps"] + 10
    got = stepped(lambda o: modern.warmup_stable_decay_scheduler(o, **kw), steps)[:, 0]
    close(lr_curve("WarmupStableDecay", steps, 1.0, **kw), got)


@pytest.mark.parametrize("stable", [0, 1, 30])
def test_wsd_sequential_recipe_matches(stable):
    kw = dict(warmup_steps=4, decay_steps=12, total_steps=16 + stable, min_lr=0.05,
              start_factor=0.25)
    steps = kw["total_steps"] + 5
    got = stepped(lambda o: modern.warmup_stable_decay_sequential(o, **kw), steps, lrs=(0.5,))
    close(lr_curve("WarmupStableDecay", steps, 0.5, **kw), got[:, 0])


@pytest.mark.parametrize("kw", INVSQRT)
def test_inverse_sqrt_recipe_matches(kw):
    got = stepped(lambda o: modern.inverse_sqrt_scheduler(o, **kw), 300, lrs=(3e-4,))[:, 0]
    close(lr_curve("InverseSqrt", 300, 3e-4, **kw), got)


def test_lambda_recipes_keep_the_absolute_floor_per_parameter_group():
    kw = dict(warmup_steps=3, total_steps=12, min_lr=0.01)
    got = stepped(lambda o: modern.warmup_cosine_scheduler(o, **kw), 14, lrs=(0.1, 0.02))
    close(lr_curve("WarmupCosine", 14, 0.1, **kw), got[:, 0])
    close(lr_curve("WarmupCosine", 14, 0.02, **kw), got[:, 1])
    assert got[-1].tolist() == pytest.approx([0.01, 0.01])


@settings(max_examples=30)
@given(W=st.integers(0, 40), extra=st.integers(1, 60), D=st.integers(1, 60),
       floor=st.floats(0, 1), s=st.sampled_from([0.0, 0.01, 0.5, 1.0]),
       decay=st.sampled_from(modern.DECAY_SHAPES), lr=st.floats(1e-5, 10))
def test_random_parameters_agree_with_torch(W, extra, D, floor, s, decay, lr):
    T = W + D + extra
    kw = dict(warmup_steps=W, total_steps=T, min_lr=floor * lr, start_factor=s)
    got = stepped(lambda o: modern.warmup_cosine_scheduler(o, **kw), T + 3, lrs=(lr,))[:, 0]
    close(lr_curve("WarmupCosine", T + 3, lr, **kw), got)
    kw.update(decay_steps=D, decay=decay)
    got = stepped(lambda o: modern.warmup_stable_decay_scheduler(o, **kw), T + 3, lrs=(lr,))
    close(lr_curve("WarmupStableDecay", T + 3, lr, **kw), got[:, 0])


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs, match", [
    ("WarmupCosine", dict(warmup_steps=10, total_steps=10), "warmup_steps must be smaller"),
    ("WarmupCosine", dict(warmup_steps=-1, total_steps=10), "warmup_steps must be an integer"),
    ("WarmupCosine", dict(warmup_steps=2.5, total_steps=10), "warmup_steps must be an integer"),
    ("WarmupCosine", dict(warmup_steps=1, total_steps=0), "total_steps must be an integer >= 1"),
    ("WarmupCosine", dict(warmup_steps=1, total_steps=5, min_lr=2.0), "min_lr must be between"),
    ("WarmupCosine", dict(warmup_steps=1, total_steps=5, start_factor=1.5), "start_factor"),
    ("WarmupStableDecay", dict(warmup_steps=5, total_steps=10, decay_steps=6),
     "warmup_steps \\+ decay_steps must be at most total_steps"),
    ("WarmupStableDecay", dict(warmup_steps=0, total_steps=10, decay_steps=0),
     "decay_steps must be an integer >= 1"),
    ("WarmupStableDecay", dict(warmup_steps=0, total_steps=10, decay_steps=3, decay="exp"),
     "decay must be one of 'linear', 'cosine', 'sqrt'"),
    ("InverseSqrt", dict(warmup_steps=0), "warmup_steps must be an integer >= 1"),
    ("InverseSqrt", dict(warmup_steps=4, start_factor=-0.1), "start_factor"),
])
def test_bad_parameters_are_named(name, kwargs, match):
    with pytest.raises(ValueError, match=f"^{name}: {match}"):
        lr_curve(name, 5, 0.1, **kwargs)


def test_missing_and_misspelt_parameters():
    with pytest.raises(ValueError, match="needs warmup_steps, total_steps"):
        lr_curve("WarmupCosine", 5, 0.1)
    with pytest.raises(ValueError, match="did you mean 'warmup_steps'"):
        lr_curve("InverseSqrt", 5, 0.1, warmup_step=3)


def test_recipes_validate_before_building():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="warmup_steps must be smaller"):
        modern.warmup_cosine_scheduler(opt, warmup_steps=5, total_steps=5)
    with pytest.raises(ValueError, match="SequentialLR recipe needs start_factor > 0"):
        modern.warmup_cosine_sequential(opt, warmup_steps=2, total_steps=5, start_factor=0.0)
    with pytest.raises(ValueError, match="SequentialLR recipe needs start_factor > 0"):
        modern.warmup_stable_decay_sequential(opt, 0, 10, 5)
    assert "initial_lr" not in opt.param_groups[0]  # nothing was built on the optimizer


def test_recipe_curve_reads_each_group_before_each_step():
    from torch.optim.lr_scheduler import StepLR

    got = modern.recipe_curve(lambda o: StepLR(o, step_size=2, gamma=0.5), 5, (1.0, 0.2))
    np.testing.assert_allclose(got, [[1, 0.2], [1, 0.2], [0.5, 0.1], [0.5, 0.1], [0.25, 0.05]])
