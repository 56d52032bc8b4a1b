"""timm's CosineLRScheduler (lrcourse.schedules.timm_cosine_lr): closed form vs torch recipes vs the
real timm.

Expected values come from hand computation, from stepping a torch scheduler built by a recipe
(a LambdaLR written from timm's source, or torch's own classes), or from the real timm stepped
as timm's train.py steps it (lrcourse.reference.timm_cosine_curve) when timm is installed;
never from the closed form itself.
"""

import inspect
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from agreement import close
from lrcourse import reference
from lrcourse.schedules import LIBRARY_SCHEDULERS, SCHEDULES, lr_curve
from lrcourse.schedules import timm_cosine_lr as tc

MISSING = reference.missing_library("timm")
needs_timm = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


def stepped(build, steps, lrs=(1.0,)):
    return reference.scheduler_curve(build, steps, lrs)


def curve(steps, lr, **kw):
    return lr_curve("CosineLRScheduler", steps, lr, **kw)


def cos_half(x):
    return (1 + math.cos(math.pi * x)) / 2


# --- registration ------------------------------------------------------------------------------

def test_registered_under_timms_class_name():
    assert SCHEDULES["CosineLRScheduler"] is tc.timm_cosine
    assert LIBRARY_SCHEDULERS["timm"] == ("CosineLRScheduler",)


@needs_timm
def test_parameters_are_timms():
    cls = reference.timm_cosine_lr_scheduler()
    theirs = inspect.signature(cls.__init__).parameters
    ours = inspect.signature(tc.timm_cosine).parameters
    for name, spec in theirs.items():
        if name in ("self", "optimizer", "initialize"):
            continue
        assert name in ours, name
        assert ours[name].default == spec.default, name
    assert set(ours) - set(theirs) == {"t", "lr", "updates_per_epoch"}


# --- hand-computed values ----------------------------------------------------------------------

def test_warmup_inside_the_first_cycle_by_default():
    # warmup_prefix=False: the cosine's clock runs during warm-up, so at t = 2 it is 2/4 in.
    got = curve(7, 1.0, t_initial=4, warmup_t=2, warmup_lr_init=0.1)
    np.testing.assert_allclose(got, [0.1, 0.55, 0.5, cos_half(0.75), 0, 0, 0], atol=1e-16)


def test_warmup_prefix_starts_the_cosine_after_the_warmup():
    got = curve(8, 1.0, t_initial=4, warmup_t=2, warmup_lr_init=0.1, warmup_prefix=True,
                lr_min=0.2)
    cosine = [0.2 + 0.8 * cos_half(k / 4) for k in range(4)]
    np.testing.assert_allclose(got, [0.1, 0.55] + cosine + [0.2, 0.2])


def test_cycles_decay_and_stop_at_cycle_limit():
    got = curve(11, 1.0, t_initial=3, cycle_limit=3, cycle_decay=0.5)
    one = [cos_half(k / 3) for k in range(3)]
    expected = one + [x / 2 for x in one] + [x / 4 for x in one] + [0.0, 0.0]
    np.testing.assert_allclose(got, expected, atol=1e-16)


def test_cycle_mul_lengthens_the_cycles():
    got = curve(8, 1.0, t_initial=2, cycle_mul=2, cycle_limit=2)
    # cycle 0: steps 0-1 (length 2), cycle 1: steps 2-5 (length 4), then lr_min
    expected = [cos_half(0), cos_half(1 / 2)] + [cos_half(k / 4) for k in range(4)] + [0, 0]
    np.testing.assert_allclose(got, expected, atol=1e-16)


def test_k_decay_bends_the_cosine():
    got = curve(4, 1.0, t_initial=4, k_decay=2.0)
    np.testing.assert_allclose(got, [cos_half(k**2 / 16) for k in range(4)])


def test_epochs_vs_updates():
    kw = dict(t_initial=3, warmup_t=1, warmup_lr_init=0.4, warmup_prefix=True)
    per_epoch = curve(4, 1.0, **kw)
    # epoch mode, 3 updates per epoch: a staircase, each epoch's rate held for 3 updates
    staircase = curve(12, 1.0, updates_per_epoch=3, **kw)
    np.testing.assert_allclose(staircase, np.repeat(per_epoch, 3))
    # update mode: the clock is the update count, whatever updates_per_epoch says
    np.testing.assert_allclose(curve(4, 1.0, t_in_epochs=False, updates_per_epoch=3, **kw),
                               per_epoch)


def test_a_missed_restart_with_cycle_mul_3():
    # log(243, 3) = 4.999999999999999 in floating point: the restart at step 121 is missed.
    got = curve(123, 1.0, t_initial=1, cycle_mul=3, cycle_limit=10, lr_min=0.01)
    assert got[121] == pytest.approx(0.01)       # lr_min instead of the peak
    assert got[122] == pytest.approx(0.01 + 0.99 * cos_half(1 / 243))  # cycle 5, one step in
    assert got[40] == pytest.approx(1.0)         # the restart at 40 (log 81 = 4.0) is kept


def test_noise_is_timms_seeded_draw_and_never_at_clock_zero():
    kw = dict(t_initial=10, noise_range_t=(0, 5), noise_pct=0.5, noise_std=0.3, noise_seed=7)
    got = curve(7, 1.0, **kw)
    clean = curve(7, 1.0, t_initial=10)
    expected = clean.copy()
    for c in range(1, 5):
        g = torch.Generator()
        g.manual_seed(7 + c)
        while True:
            n = torch.randn(1, generator=g).item() * 0.3
            if abs(n) < 0.5:
                break
        expected[c] = clean[c] + clean[c] * n
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert got[0] == clean[0] and got[5] == clean[5]
    assert np.all(got[1:5] != clean[1:5])


def test_vectorized_on_any_shape():
    t = np.array([[0, 1], [2, 3]])
    got = tc.timm_cosine(t, 1.0, t_initial=4)
    np.testing.assert_allclose(got, [[1, cos_half(0.25)], [0.5, cos_half(0.75)]])


# --- closed form vs the LambdaLR recipe and vs timm, on drawn parameters -----------------------

@st.composite
def timm_params(draw, noise=True):
    kw = dict(
        t_initial=draw(st.integers(1, 60)),
        cycle_mul=draw(st.sampled_from([1.0, 1.0, 2.0, 3.0, 1.5, 10.0, 0.7])),
        cycle_decay=draw(st.sampled_from([1.0, 0.5, 0.9, 1.2])),
        cycle_limit=draw(st.integers(1, 6)),
        warmup_t=draw(st.integers(0, 15)),
        warmup_prefix=draw(st.booleans()),
        t_in_epochs=draw(st.booleans()),
        k_decay=draw(st.sampled_from([1.0, 1.0, 0.5, 2.0])),
        updates_per_epoch=draw(st.integers(1, 4)),
    )
    lr = draw(st.floats(1e-3, 10.0))
    kw["lr_min"] = draw(st.sampled_from([0.0, 1e-6, 0.1])) * lr
    kw["warmup_lr_init"] = draw(st.sampled_from([0.0, 1e-6, 0.5])) * lr
    if noise and draw(st.integers(0, 3)) == 0:
        kw["noise_range_t"] = draw(st.one_of(st.integers(0, 30),
                                             st.tuples(st.integers(0, 20), st.integers(0, 60))))
        kw["noise_pct"] = draw(st.floats(0.05, 0.9))
        kw["noise_std"] = draw(st.floats(0.0, 1.0))
        kw["noise_seed"] = draw(st.integers(0, 10_000))
    return kw, lr


def _steps(kw, cycles_past=1):
    """Enough optimizer steps to reach past the last cycle of cycle_limit."""
    m, T, limit = kw["cycle_mul"], kw["t_initial"], kw["cycle_limit"]
    if m == 1:
        length = T * (limit + cycles_past)
    elif m > 1:
        length = T * (m ** (limit + cycles_past) - 1) / (m - 1)
    else:  # cycles shrink: stay inside the range timm can compute (u < T / (1 - m))
        length = math.ceil(T / (1 - m)) - 1
        clock = length + (kw["warmup_t"] if kw["warmup_prefix"] else 0)
        clock = max(clock, kw["warmup_t"])
        scale = kw["updates_per_epoch"] if kw["t_in_epochs"] else 1
        return (clock + 1) * scale - 1  # scheduler_curve also evaluates step `steps`
    clock = int(min(length, 1500)) + kw["warmup_t"] + 3
    scale = kw["updates_per_epoch"] if kw["t_in_epochs"] else 1
    return min(clock * scale, 3000)


def _timm_safe(kw, steps):
    """cycle_mul < 1: timm fails once the clock passes t_initial / (1 - cycle_mul)."""
    m = kw["cycle_mul"]
    if m >= 1:
        return True
    last = (steps - 1) // (kw["updates_per_epoch"] if kw["t_in_epochs"] else 1)
    u = last - (kw["warmup_t"] if kw["warmup_prefix"] else 0)
    return 1 - u / kw["t_initial"] * (1 - m) > 0


@settings(max_examples=60)
@given(params=timm_params(), ratio=st.floats(0.05, 1.0))
def test_closed_form_matches_the_lambda_recipe(params, ratio):
    kw, lr = params
    steps = _steps(kw)
    assume(_timm_safe(kw, steps))
    lrs = (lr, max(lr * ratio, kw["lr_min"], kw["warmup_lr_init"]))  # both absolute, <= lr
    truth = stepped(lambda o: tc.timm_cosine_scheduler(o, **kw), steps, lrs)
    got = np.stack([curve(steps, g, **kw) for g in lrs], axis=1)
    close(got, truth)


@needs_timm
@settings(max_examples=60)
@given(params=timm_params(), ratio=st.floats(0.05, 1.0))
def test_closed_form_matches_timm(params, ratio):
    kw, lr = params
    steps = _steps(kw)
    assume(_timm_safe(kw, steps))
    lrs = [lr, max(lr * ratio, kw["lr_min"], kw["warmup_lr_init"])]
    kw = dict(kw)
    upe = kw.pop("updates_per_epoch")
    truth = reference.timm_cosine_curve(steps, lrs, updates_per_epoch=upe, **kw)
    got = np.stack([curve(steps, g, updates_per_epoch=upe, **kw) for g in lrs], axis=1)
    close(got, truth)


@needs_timm
@pytest.mark.parametrize("mul", [3.0, 10.0, 1.5])
def test_timm_misses_the_same_restarts(mul):
    kw = dict(t_initial=1, cycle_mul=mul, cycle_limit=40, lr_min=0.01)
    truth = reference.timm_cosine_curve(3000, 1.0, **kw)
    close(curve(3000, 1.0, **kw), truth)
    if mul == 3.0:
        assert truth[121] == pytest.approx(0.01)


@needs_timm
def test_timm_fails_where_the_closed_form_refuses():
    with pytest.raises(ValueError, match="math domain error"):
        reference.timm_cosine_curve(25, 1.0, t_initial=10, cycle_mul=0.5, cycle_limit=50)
    with pytest.raises(ValueError, match="cycles shrink.*at its step 20"):
        curve(25, 1.0, t_initial=10, cycle_mul=0.5, cycle_limit=50)


# --- the recipe from torch's own classes ----------------------------------------------------

@settings(max_examples=30)
@given(T=st.integers(1, 80), limit=st.integers(1, 4), W=st.integers(0, 10),
       init=st.floats(0.01, 1.0), floor=st.floats(0.0, 0.5), lr=st.floats(1e-3, 10.0))
def test_sequential_recipe_matches(T, limit, W, init, floor, lr):
    kw = dict(t_initial=T, cycle_limit=limit, warmup_t=W, warmup_lr_init=init * lr,
              lr_min=floor * lr)
    steps = W + (limit + 1) * T + 3
    truth = stepped(lambda o: tc.timm_cosine_sequential(o, **kw), steps, (lr,))[:, 0]
    close(curve(steps, lr, warmup_prefix=True, **kw), truth)


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(t_initial=0), "t_initial must be an integer >= 1"),
    (dict(t_initial=10, cycle_mul=0), "cycle_mul must be a number > 0"),
    (dict(t_initial=10, cycle_decay=0), "cycle_decay must be a number > 0"),
    (dict(t_initial=10, cycle_limit=0), "cycle_limit must be an integer >= 1"),
    (dict(t_initial=10, warmup_t=-1), "warmup_t must be an integer >= 0"),
    (dict(t_initial=10, lr_min=0.5), "lr_min must be between 0 and lr \\(0.1\\)"),
    (dict(t_initial=10, warmup_lr_init=0.5), "warmup_lr_init must be between 0 and lr"),
    (dict(t_initial=10, noise_range_t=2, noise_pct=0), "noise_pct must be a number > 0"),
    (dict(t_initial=10, noise_range_t=(1, 2, 3)), "noise_range_t must be None, a step or"),
    (dict(t_initial=10, k_decay=0), "k_decay must be a number > 0"),
    (dict(t_initial=10, t_in_epochs="yes"), "t_in_epochs must be True or False"),
    (dict(t_initial=10, updates_per_epoch=0), "updates_per_epoch must be an integer >= 1"),
    (dict(t_initial=2, cycle_mul=0.5, cycle_limit=9), "with cycle_mul=0.5 < 1 the cycles shrink"),
])
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=f"^CosineLRScheduler: {match}"):
        curve(5, 0.1, **kwargs)


def test_fractional_steps_and_torch_only_arguments():
    with pytest.raises(ValueError, match="whole numbers"):
        tc.timm_cosine(np.array([0.5]), 0.1, t_initial=4)
    with pytest.raises(ValueError, match="CosineLRScheduler needs t_initial"):
        curve(5, 0.1)
    with pytest.raises(ValueError, match="has no parameter 'initialize'"):
        curve(5, 0.1, t_initial=4, initialize=False)


def test_recipes_refuse_what_they_cannot_build():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="LinearLR, which needs warmup_lr_init > 0"):
        tc.timm_cosine_sequential(opt, t_initial=5, warmup_t=2)
    zero = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)
    with pytest.raises(ValueError, match="needs every group's lr > 0"):
        tc.timm_cosine_scheduler(zero, t_initial=5)


def test_reference_stepping_is_warning_free():
    if MISSING is not None:
        pytest.skip(MISSING)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reference.timm_cosine_curve(10, 0.1, t_initial=5)


@needs_timm
def test_timm_is_loaded_without_torchvision():
    import importlib.util
    import sys

    cls = reference.timm_cosine_lr_scheduler()
    assert cls.__name__ == "CosineLRScheduler"
    if importlib.util.find_spec("torchvision") is None:
        assert "torchvision" not in sys.modules


def test_missing_library_knows_only_the_two_libraries():
    with pytest.raises(ValueError, match="knows 'transformers' and 'timm'"):
        reference.missing_library("fastai")
