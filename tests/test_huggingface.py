"""transformers' schedules (lrcourse.schedules.huggingface): closed forms vs torch recipes vs
the real transformers.

Expected values come from hand computation, from stepping a torch scheduler built by a recipe
(LambdaLR factors written from transformers' source, or torch's own classes), or from the real
transformers when it is installed, never from the closed forms themselves.
"""

import inspect
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from agreement import close
from lrcourse import reference
from lrcourse.schedules import LIBRARY_SCHEDULERS, SCHEDULES, TORCH_SCHEDULERS, lr_curve
from lrcourse.schedules import huggingface as hf

NAMES = list(hf.TRANSFORMERS_NAMES)
MISSING = reference.missing_library("transformers")
needs_transformers = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


def stepped(build, steps, lrs=(1.0,)):
    """Each group's rate before each optimizer step, stepping the scheduler as Trainer does.
    The optimizer's default lr is the first group's (transformers' polynomial schedule reads it);
    any torch warning is an error."""
    import warnings

    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    optimizer = torch.optim.SGD([{"params": [p], "lr": g} for p, g in zip(params, lrs)],
                                lr=lrs[0])
    out = np.empty((steps, len(lrs)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler = build(optimizer)
        for k in range(steps):
            out[k] = [g["lr"] for g in optimizer.param_groups]
            optimizer.step()
            scheduler.step()
    return out


def ours(name, steps, lrs, kw):
    """The closed form, one column per group (the polynomial one is told the default lr)."""
    extra = {"lr_init": lrs[0]} if name == "get_polynomial_decay_schedule_with_warmup" else {}
    return np.stack([lr_curve(name, steps, g, **kw, **extra) for g in lrs], axis=1)


# --- registration ------------------------------------------------------------------------------

def test_registered_under_transformers_names():
    assert LIBRARY_SCHEDULERS["transformers"] == tuple(NAMES)
    for name, fn in hf.TRANSFORMERS_NAMES.items():
        assert SCHEDULES[name] is fn
        assert name not in TORCH_SCHEDULERS
        assert getattr(hf, name.removeprefix("get_")) is fn  # closed form: the name minus get_


@needs_transformers
@pytest.mark.parametrize("name", NAMES)
def test_recipes_have_transformers_signatures(name):
    import transformers

    assert inspect.signature(getattr(hf, name)).parameters.keys() == \
        inspect.signature(getattr(transformers, name)).parameters.keys()
    for p, spec in inspect.signature(getattr(transformers, name)).parameters.items():
        assert inspect.signature(getattr(hf, name)).parameters[p].default == spec.default


# --- hand-computed values ----------------------------------------------------------------------

def test_linear_by_hand():
    got = lr_curve("get_linear_schedule_with_warmup", 9, 0.4, num_warmup_steps=2,
                   num_training_steps=6)
    np.testing.assert_allclose(got, [0, 0.2, 0.4, 0.3, 0.2, 0.1, 0, 0, 0], atol=1e-16)


def test_cosine_by_hand_and_it_climbs_back_past_the_end():
    got = lr_curve("get_cosine_schedule_with_warmup", 12, 1.0, num_warmup_steps=2,
                   num_training_steps=6)
    cos = [(1 + math.cos(math.pi * k / 4)) / 2 for k in range(10)]  # from step 2 on
    np.testing.assert_allclose(got, [0.0, 0.5] + cos, atol=1e-16)
    assert got[6] == pytest.approx(0.0, abs=1e-16)
    assert got[10] == pytest.approx(1.0)  # 2T - W: back at the peak


def test_cosine_num_cycles_counts_waves():
    got = lr_curve("get_cosine_schedule_with_warmup", 9, 1.0, num_warmup_steps=0,
                   num_training_steps=8, num_cycles=1)
    np.testing.assert_allclose(got[[0, 2, 4, 6, 8]], [1, 0.5, 0, 0.5, 1], atol=1e-15)


def test_hard_restarts_by_hand():
    # 2 cycles of 4 steps after a warm-up of 2: 1, .85, .5, .15, then again; 0 from T = 10 on.
    got = lr_curve("get_cosine_with_hard_restarts_schedule_with_warmup", 12, 1.0,
                   num_warmup_steps=2, num_training_steps=10, num_cycles=2)
    half = [(1 + math.cos(math.pi * k / 4)) / 2 for k in range(4)]
    np.testing.assert_allclose(got, [0.0, 0.5] + half + half + [0.0, 0.0], atol=1e-15)


def test_hard_restarts_can_miss_a_restart_by_rounding():
    # 49 * (1/49) = 0.9999999999999999 in floating point: transformers computes the phase as
    # (num_cycles * progress) % 1, so steps 1 and 2 get a rate of ~0 instead of the peak.
    got = lr_curve("get_cosine_with_hard_restarts_schedule_with_warmup", 4, 1.0,
                   num_warmup_steps=0, num_training_steps=49, num_cycles=49)
    np.testing.assert_allclose(got, [1.0, 0.0, 0.0, 1.0], atol=1e-15)


def test_polynomial_by_hand_and_relative_to_the_optimizers_default_lr():
    kw = dict(num_warmup_steps=2, num_training_steps=6, lr_end=0.2, power=2.0)
    got = lr_curve("get_polynomial_decay_schedule_with_warmup", 9, 1.0, **kw)
    decay = [0.8 * q**2 + 0.2 for q in (1, 0.75, 0.5, 0.25, 0)]
    np.testing.assert_allclose(got, [0.0, 0.5] + decay + [0.2, 0.2])
    # A second group at 0.5 gets the same factors, so it ends at 0.1, not at lr_end.
    other = lr_curve("get_polynomial_decay_schedule_with_warmup", 9, 0.5, lr_init=1.0, **kw)
    np.testing.assert_allclose(other, got / 2)
    truth = stepped(lambda o: hf.get_polynomial_decay_schedule_with_warmup(o, **kw), 9,
                    (1.0, 0.5))
    close(truth[:, 1], other)


def test_inverse_sqrt_by_hand_and_its_two_defaults():
    got = lr_curve("get_inverse_sqrt_schedule", 17, 1.0, num_warmup_steps=4)
    np.testing.assert_allclose(got[[0, 1, 4, 16]], [0.0, 0.25, 1.0, 0.5])
    # no warm-up: timescale 10,000, so the rate halves at step 30,000
    got = lr_curve("get_inverse_sqrt_schedule", 30_001, 1.0, num_warmup_steps=0)
    assert got[0] == 1.0 and got[30_000] == pytest.approx(0.5)
    got = lr_curve("get_inverse_sqrt_schedule", 8, 1.0, num_warmup_steps=2, timescale=2)
    assert got[8 - 1] == pytest.approx(math.sqrt(2 / 7))


def test_wsd_by_hand():
    kw = dict(num_warmup_steps=2, num_decay_steps=4, num_training_steps=9, min_lr_ratio=0.2,
              decay_type="linear")
    got = lr_curve("get_wsd_schedule", 11, 1.0, **kw)
    # warm-up from the floor 0.2: 0.2, 0.6; stable 1, 1, 1; decay 1, .8, .6, .4; floor .2
    np.testing.assert_allclose(got, [0.2, 0.6, 1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2, 0.2])
    got = lr_curve("get_wsd_schedule", 3, 1.0, num_warmup_steps=2, num_decay_steps=1,
                   num_stable_steps=0, warmup_type="1-sqrt")
    assert got[1] == pytest.approx(1 - math.sqrt(0.5))
    got = lr_curve("get_wsd_schedule", 5, 1.0, num_warmup_steps=0, num_decay_steps=4,
                   num_training_steps=4, decay_type="1-sqrt")
    np.testing.assert_allclose(got, [1, 0.5, 1 - math.sqrt(0.5), 1 - math.sqrt(0.75), 0])


# --- the same curves as the modern recipes, where transformers and lrcourse agree -------------

def test_cosine_equals_warmup_cosine_until_the_end():
    kw = dict(num_warmup_steps=7, num_training_steps=40)
    got = lr_curve("get_cosine_schedule_with_warmup", 41, 0.3, **kw)
    close(got, lr_curve("WarmupCosine", 41, 0.3, warmup_steps=7, total_steps=40))


@pytest.mark.parametrize("shape, ours_shape", [("linear", "linear"), ("cosine", "cosine"),
                                               ("1-sqrt", "sqrt")])
def test_wsd_equals_warmup_stable_decay_without_floor(shape, ours_shape):
    got = lr_curve("get_wsd_schedule", 60, 0.3, num_warmup_steps=5, num_decay_steps=20,
                   num_training_steps=50, decay_type=shape)
    close(got, lr_curve("WarmupStableDecay", 60, 0.3, warmup_steps=5, total_steps=50,
                        decay_steps=20, decay=ours_shape))


def test_inverse_sqrt_equals_the_modern_recipe():
    got = lr_curve("get_inverse_sqrt_schedule", 300, 0.3, num_warmup_steps=9)
    close(got, lr_curve("InverseSqrt", 300, 0.3, warmup_steps=9))


# --- closed forms vs the torch recipes, on drawn parameters ------------------------------------

@st.composite
def hf_params(draw, name):
    W = draw(st.integers(0, 40))
    T = max(1, W + draw(st.integers(1 if name == NAMES[3] else 0, 200)))
    if name == "get_linear_schedule_with_warmup":
        return dict(num_warmup_steps=W, num_training_steps=T)
    if name == "get_cosine_schedule_with_warmup":
        return dict(num_warmup_steps=W, num_training_steps=T,
                    num_cycles=draw(st.one_of(st.just(0.5), st.floats(0.05, 5.0))))
    if name == "get_cosine_with_hard_restarts_schedule_with_warmup":
        return dict(num_warmup_steps=W, num_training_steps=T,
                    num_cycles=draw(st.one_of(st.integers(1, 60), st.floats(0.1, 10.0))))
    if name == "get_polynomial_decay_schedule_with_warmup":
        return dict(num_warmup_steps=W, num_training_steps=T,
                    lr_end=draw(st.sampled_from([0.0, 1e-7, 1e-4])),
                    power=draw(st.floats(0.0, 4.0)))
    if name == "get_inverse_sqrt_schedule":
        return dict(num_warmup_steps=W,
                    timescale=draw(st.one_of(st.none(), st.integers(1, 500))))
    D = draw(st.integers(0, 80))
    kw = dict(num_warmup_steps=W, num_decay_steps=D,
              warmup_type=draw(st.sampled_from(hf.WSD_SHAPES)),
              decay_type=draw(st.sampled_from(hf.WSD_SHAPES)),
              min_lr_ratio=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
              num_cycles=draw(st.one_of(st.just(0.5), st.floats(0.1, 3.0))))
    if draw(st.booleans()):
        kw["num_stable_steps"] = draw(st.integers(0, 100))
    else:
        kw["num_training_steps"] = W + D + draw(st.integers(0, 100))
    return kw


def _steps(kw):
    """Long enough to go past the end of every phase."""
    total = kw.get("num_training_steps") or (kw["num_warmup_steps"] + kw.get(
        "num_stable_steps", 0) + kw.get("num_decay_steps", 0))
    return total + kw["num_warmup_steps"] + 30


@pytest.mark.parametrize("name", NAMES)
def test_closed_form_matches_the_lambda_recipe(name):
    @settings(max_examples=40)
    @given(kw=hf_params(name), lr=st.floats(1e-4, 10.0), ratio=st.floats(0.01, 1.0))
    def check(kw, lr, ratio):
        lrs = (lr, lr * ratio)
        truth = stepped(lambda o: getattr(hf, name)(o, **kw), _steps(kw), lrs)
        close(ours(name, _steps(kw), lrs, kw), truth)

    check()


@needs_transformers
@pytest.mark.parametrize("name", NAMES)
def test_closed_form_matches_transformers(name):
    @settings(max_examples=40)
    @given(kw=hf_params(name), lr=st.floats(1e-4, 10.0), ratio=st.floats(0.01, 1.0))
    def check(kw, lr, ratio):
        lrs = (lr, lr * ratio)
        truth = reference.transformers_curve(name, _steps(kw), list(lrs), **kw)
        close(ours(name, _steps(kw), lrs, kw), truth)

    check()


@needs_transformers
def test_transformers_misses_the_restart_too():
    got = reference.transformers_curve("get_cosine_with_hard_restarts_schedule_with_warmup", 4,
                                       1.0, num_warmup_steps=0, num_training_steps=49,
                                       num_cycles=49)
    np.testing.assert_allclose(got, [1.0, 0.0, 0.0, 1.0], atol=1e-15)


EDGES = [  # the warm-up boundary, T = W, no warm-up, one step of decay
    ("get_linear_schedule_with_warmup", dict(num_warmup_steps=5, num_training_steps=5)),
    ("get_linear_schedule_with_warmup", dict(num_warmup_steps=0, num_training_steps=1)),
    ("get_cosine_schedule_with_warmup", dict(num_warmup_steps=5, num_training_steps=5)),
    ("get_cosine_schedule_with_warmup", dict(num_warmup_steps=1, num_training_steps=2)),
    ("get_cosine_with_hard_restarts_schedule_with_warmup",
     dict(num_warmup_steps=3, num_training_steps=3, num_cycles=4)),
    ("get_polynomial_decay_schedule_with_warmup",
     dict(num_warmup_steps=4, num_training_steps=5, power=0.0)),
    ("get_inverse_sqrt_schedule", dict(num_warmup_steps=1, timescale=1)),
    ("get_wsd_schedule", dict(num_warmup_steps=0, num_decay_steps=0, num_training_steps=0)),
    ("get_wsd_schedule", dict(num_warmup_steps=3, num_decay_steps=1, num_stable_steps=0,
                              decay_type="cosine", min_lr_ratio=0.5)),
]


@pytest.mark.parametrize("name, kw", EDGES)
def test_edges_match_the_recipe_and_transformers(name, kw):
    truth = stepped(lambda o: getattr(hf, name)(o, **kw), 20, (0.5,))
    close(ours(name, 20, (0.5,), kw), truth)
    if MISSING is None:
        close(ours(name, 20, (0.5,), kw), reference.transformers_curve(name, 20, [0.5], **kw))


def test_warmup_boundary_gives_zero_then_the_peak_at_w():
    for name in NAMES[:4]:
        got = lr_curve(name, 6, 1.0, num_warmup_steps=4, num_training_steps=10)
        assert got[0] == 0.0 and got[3] == 0.75 and got[4] == pytest.approx(1.0), name


# --- the recipes from torch's own classes ----------------------------------------------------

@settings(max_examples=30)
@given(W=st.integers(1, 30), decay=st.integers(1, 150), lr=st.floats(1e-4, 10.0))
def test_sequential_recipes_match_including_past_the_end(W, decay, lr):
    T = W + decay
    for name, build in [("get_linear_schedule_with_warmup",
                         hf.linear_schedule_with_warmup_sequential),
                        ("get_cosine_schedule_with_warmup",
                         hf.cosine_schedule_with_warmup_sequential)]:
        kw = dict(num_warmup_steps=W, num_training_steps=T)
        truth = stepped(lambda o, build=build, kw=kw: build(o, **kw), 2 * T + 5, (lr,))
        close(ours(name, 2 * T + 5, (lr,), kw), truth)


def test_sequential_recipes_need_a_warmup():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="SequentialLR recipe needs num_warmup_steps >= 1"):
        hf.cosine_schedule_with_warmup_sequential(opt, 0, 10)


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs, match", [
    ("get_linear_schedule_with_warmup", dict(num_warmup_steps=11, num_training_steps=10),
     "num_warmup_steps must be at most num_training_steps \\(10\\), got 11"),
    ("get_linear_schedule_with_warmup", dict(num_warmup_steps=-1, num_training_steps=10),
     "num_warmup_steps must be an integer >= 0"),
    ("get_linear_schedule_with_warmup", dict(num_warmup_steps=1, num_training_steps=0),
     "num_training_steps must be an integer >= 1"),
    ("get_cosine_schedule_with_warmup", dict(num_warmup_steps=1, num_training_steps=5,
                                             num_cycles=0), "num_cycles must be a number > 0"),
    ("get_cosine_with_hard_restarts_schedule_with_warmup",
     dict(num_warmup_steps=1, num_training_steps=5, num_cycles=-1), "num_cycles"),
    ("get_polynomial_decay_schedule_with_warmup",
     dict(num_warmup_steps=5, num_training_steps=5),
     "num_warmup_steps must be smaller than num_training_steps"),
    ("get_polynomial_decay_schedule_with_warmup",
     dict(num_warmup_steps=1, num_training_steps=5, lr_end=0.5),
     "lr_end must be smaller than the initial lr \\(0.1\\)"),
    ("get_polynomial_decay_schedule_with_warmup",
     dict(num_warmup_steps=1, num_training_steps=5, power=-1), "power must be a number >= 0"),
    ("get_inverse_sqrt_schedule", dict(num_warmup_steps=2, timescale=0),
     "timescale must be a number > 0"),
    ("get_wsd_schedule", dict(num_warmup_steps=2, num_decay_steps=3),
     "needs num_training_steps or num_stable_steps"),
    ("get_wsd_schedule", dict(num_warmup_steps=2, num_decay_steps=3, num_training_steps=4),
     "num_warmup_steps \\+ num_decay_steps must be at most num_training_steps \\(4\\)"),
    ("get_wsd_schedule", dict(num_warmup_steps=2, num_decay_steps=3, num_training_steps=9,
                              num_stable_steps=3), "num_training_steps \\(9\\) must equal"),
    ("get_wsd_schedule", dict(num_warmup_steps=2, num_decay_steps=3, num_stable_steps=1,
                              decay_type="sqrt"),
     "decay_type must be one of 'linear', 'cosine', '1-sqrt'"),
    ("get_wsd_schedule", dict(num_warmup_steps=2, num_decay_steps=3, num_stable_steps=1,
                              min_lr_ratio=1.5), "min_lr_ratio must be a number in \\[0, 1\\]"),
])
def test_bad_parameters_are_named(name, kwargs, match):
    with pytest.raises(ValueError, match=f"^{name}: {match}"):
        lr_curve(name, 5, 0.1, **kwargs)


def test_missing_and_torch_only_arguments():
    with pytest.raises(ValueError, match="needs num_warmup_steps, num_training_steps"):
        lr_curve("get_linear_schedule_with_warmup", 5, 0.1)
    with pytest.raises(ValueError, match="last_epoch is not accepted here"):
        lr_curve("get_linear_schedule_with_warmup", 5, 0.1, num_warmup_steps=1,
                 num_training_steps=3, last_epoch=4)
    with pytest.raises(ValueError, match="did you mean 'get_cosine_schedule_with_warmup'"):
        lr_curve("get_cosine_schedule_with_warmpu", 5, 0.1)


def test_recipes_validate_before_building():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="num_warmup_steps must be at most"):
        hf.get_linear_schedule_with_warmup(opt, 6, 5)
    with pytest.raises(ValueError, match="lr_end must be smaller"):
        hf.get_polynomial_decay_schedule_with_warmup(opt, 1, 5, lr_end=1.0)
    assert "initial_lr" not in opt.param_groups[0]
