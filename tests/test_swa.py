"""SWALR's closed form (lrcourse.schedules.swa) against the real torch.optim.swa_utils.SWALR.

Expected values come from stepping the real SWALR (lrcourse.reference.swalr_curve) or from
hand computation, never from the closed form itself.
"""

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.swa_utils import SWALR

from agreement import close
from lrcourse import reference
from lrcourse.schedules import (
    LIBRARY_SCHEDULERS, SCHEDULES, TORCH_SCHEDULERS, lr_curve, schedule, swa,
)
from strategies import SINGLE


# --- registration and names ------------------------------------------------------------------

def test_registered_as_a_library_scheduler_not_an_lr_scheduler_class():
    assert SCHEDULES["SWALR"] is swa.swalr
    assert LIBRARY_SCHEDULERS["torch.optim.swa_utils"] == ("SWALR",)
    assert "SWALR" not in TORCH_SCHEDULERS


def test_parameter_names_are_torchs():
    ours = [p for p in inspect.signature(swa.swalr).parameters if p not in ("t", "lr")]
    theirs = inspect.signature(SWALR.__init__).parameters
    for name in ("swa_lr", "anneal_epochs", "anneal_strategy"):
        assert name in ours and name in theirs
        assert inspect.signature(swa.swalr).parameters[name].default in (
            theirs[name].default, inspect.Parameter.empty)


# --- hand-computed values --------------------------------------------------------------------

def test_linear_annealing_by_hand():
    got = lr_curve("SWALR", 7, 1.0, swa_lr=0.1, anneal_epochs=4, anneal_strategy="linear")
    np.testing.assert_allclose(got, [1.0, 0.775, 0.55, 0.325, 0.1, 0.1, 0.1], rtol=1e-15)


def test_cosine_annealing_by_hand():
    got = lr_curve("SWALR", 6, 1.0, swa_lr=0.1, anneal_epochs=4)
    alpha = [(1 - math.cos(math.pi * k / 4)) / 2 for k in range(5)]
    expected = [0.1 * a + 1.0 * (1 - a) for a in alpha] + [0.1]
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert got[2] == pytest.approx(0.55)  # halfway in time is halfway in rate for the cosine too
    assert got[4] == got[5] == pytest.approx(0.1)


def test_anneal_epochs_zero_sets_swa_lr_from_step_zero():
    got = lr_curve("SWALR", 4, 1.0, swa_lr=0.3, anneal_epochs=0)
    np.testing.assert_allclose(got, [0.3] * 4)
    np.testing.assert_allclose(reference.swalr_curve(4, 1.0, 0.3, anneal_epochs=0), [0.3] * 4)


def test_anneals_upwards_when_swa_lr_is_above_the_rate():
    got = lr_curve("SWALR", 4, 0.1, swa_lr=0.5, anneal_epochs=2, anneal_strategy="linear")
    np.testing.assert_allclose(got, [0.1, 0.3, 0.5, 0.5])


def test_handover_from_steplr_by_hand():
    # StepLR halves every 2 steps: 1, 1, .5, .5 up to swa_start=3; then from 0.5 to 0.1 in 2.
    kw = dict(swa_lr=0.1, anneal_epochs=2, anneal_strategy="linear", swa_start=3,
              scheduler=("StepLR", {"step_size": 2, "gamma": 0.5}))
    expected = [1.0, 1.0, 0.5, 0.5, 0.3, 0.1, 0.1]
    np.testing.assert_allclose(lr_curve("SWALR", 7, 1.0, **kw), expected, rtol=1e-15)
    np.testing.assert_allclose(reference.swalr_curve(7, 1.0, **kw), expected, rtol=1e-15)


def test_handover_without_a_first_schedule_holds_lr_until_swa_start():
    got = lr_curve("SWALR", 6, 0.8, swa_lr=0.2, anneal_epochs=2, anneal_strategy="linear",
                   swa_start=2)
    np.testing.assert_allclose(got, [0.8, 0.8, 0.8, 0.5, 0.2, 0.2])


def test_each_group_anneals_from_its_own_rate_to_its_own_swa_lr():
    kw = dict(anneal_epochs=3, swa_start=4, scheduler=("CosineAnnealingLR", {"T_max": 10}))
    truth = reference.swalr_curve(12, [1.0, 0.5], [0.1, 0.2], **kw)
    ours = np.stack([lr_curve("SWALR", 12, 1.0, swa_lr=0.1, **kw),
                     lr_curve("SWALR", 12, 0.5, swa_lr=0.2, **kw)], axis=1)
    close(ours, truth)
    assert truth[-1].tolist() == pytest.approx([0.1, 0.2])


def test_vectorized_and_schedule_helper():
    f = schedule("SWALR", 1.0, swa_lr=0.1, anneal_epochs=4, anneal_strategy="linear")
    np.testing.assert_allclose(f(np.array([[0, 2], [4, 9]])), [[1.0, 0.55], [0.1, 0.1]])


# --- against the real SWALR, on drawn parameters ------------------------------------------------

_FIRST = [n for n in TORCH_SCHEDULERS if n in SINGLE and n != "ReduceLROnPlateau"]


@st.composite
def swa_recipes(draw):
    start = draw(st.integers(0, 80))
    anneal = draw(st.integers(1 if start else 0, 60))
    first = None
    if start and draw(st.integers(0, 3)):
        first = draw(SINGLE[draw(st.sampled_from(_FIRST))]())
    return dict(anneal_epochs=anneal, anneal_strategy=draw(st.sampled_from(swa.ANNEAL_STRATEGIES)),
                swa_start=start, scheduler=first)


@settings(max_examples=60)
@given(kw=swa_recipes(), lr=st.floats(1e-3, 10.0),
       ratios=st.tuples(st.floats(0, 2), st.floats(0, 2)), extra=st.integers(0, 40))
def test_matches_torch_for_every_step_and_group(kw, lr, ratios, extra):
    lrs = [lr, lr * 0.3]
    swa_lrs = [r * g for r, g in zip(ratios, lrs)]
    steps = kw["swa_start"] + kw["anneal_epochs"] + extra + 1  # past the end of annealing
    truth = reference.swalr_curve(steps, lrs, swa_lrs, **kw)
    ours = np.stack([lr_curve("SWALR", steps, g, swa_lr=s, **kw)
                     for g, s in zip(lrs, swa_lrs)], axis=1)
    close(ours, truth)


@pytest.mark.parametrize("strategy", swa.ANNEAL_STRATEGIES)
@pytest.mark.parametrize("anneal", [1, 2, 37, 2000])
def test_end_of_annealing_and_after(strategy, anneal):
    kw = dict(anneal_epochs=anneal, anneal_strategy=strategy)
    steps = anneal + 50
    truth = reference.swalr_curve(steps, 0.7, 0.05, **kw)
    ours = lr_curve("SWALR", steps, 0.7, swa_lr=0.05, **kw)
    close(ours, truth)
    assert ours[anneal] == pytest.approx(0.05, rel=1e-12)
    assert np.all(ours[anneal:] == ours[anneal]) and ours[anneal - 1] != pytest.approx(0.05)


def test_torch_docstring_recipe_hands_over_one_step_later():
    # torch's example steps SWALR when `i > swa_start`; that is swa_start + 1 in lrcourse's terms.
    first = ("MultiplicativeLR", {"lr_lambda": lambda epoch: 0.9})
    got = lr_curve("SWALR", 30, 0.1, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear",
                   swa_start=11, scheduler=first)
    truth = reference.swalr_curve(30, 0.1, 0.05, anneal_epochs=5, anneal_strategy="linear",
                                  swa_start=11, scheduler=first)
    close(got, truth)
    lrs = [0.1 * 0.9**k for k in range(12)]  # MultiplicativeLR until the hand-over at step 11
    np.testing.assert_allclose(got[:12], lrs, rtol=1e-12)


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(swa_lr=-0.1), "swa_lr must be a number >= 0"),
    (dict(swa_lr=0.1, anneal_epochs=-1), "anneal_epochs must be an integer >= 0"),
    (dict(swa_lr=0.1, anneal_epochs=2.5), "anneal_epochs must be an integer >= 0"),
    (dict(swa_lr=0.1, anneal_strategy="cosine"), "anneal_strategy must be one of 'cos', 'linear'"),
    (dict(swa_lr=0.1, swa_start=-2), "swa_start must be an integer >= 0"),
    (dict(swa_lr=0.1, anneal_epochs=0, swa_start=5), "anneal_epochs=0 makes SWALR set swa_lr"),
    (dict(swa_lr=0.1, swa_start=5, scheduler=("ReduceLROnPlateau", {})), "needs metrics"),
    (dict(swa_lr=0.1, swa_start=5, scheduler=("StepLr", {"step_size": 2})),
     "did you mean 'StepLR'"),
    (dict(swa_lr=0.1, swa_start=5, scheduler=("SWALR", {"swa_lr": 0.1})),
     "unknown torch scheduler 'SWALR'"),
    (dict(swa_lr=0.1, swa_start=5, scheduler="StepLR"), "scheduler must be a \\(name, kwargs\\)"),
    (dict(swa_lr=0.1, swa_start=5, scheduler=("StepLR", {"step_size": 0})),
     None),  # the first schedule's own check speaks
])
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=f"^SWALR: .*{match}" if match else "^StepLR: step_size"):
        lr_curve("SWALR", 5, 0.1, **kwargs)


def test_missing_and_torch_only_arguments():
    with pytest.raises(ValueError, match="SWALR needs swa_lr"):
        lr_curve("SWALR", 5, 0.1)
    with pytest.raises(ValueError, match="SWALR: optimizer is not accepted"):
        lr_curve("SWALR", 5, 0.1, swa_lr=0.1, optimizer=None)
    with pytest.raises(ValueError, match="did you mean 'anneal_epochs'"):
        lr_curve("SWALR", 5, 0.1, swa_lr=0.1, annealing_epochs=3)
