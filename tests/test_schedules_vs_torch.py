"""Every closed form agrees with torch on randomly drawn valid parameters (10,000-step curves).

The expected curve always comes from stepping a real torch scheduler (lrcourse.reference), never
from the formulas under test.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse import reference
from lrcourse.schedules import lr_curve, momentum_curve
from strategies import COMPOSITE, SINGLE, STEPS, lrs, one_cycle_lr, cyclic_lr

RTOL = 1e-9
# Plus rounding at the scale of the schedule itself: torch's recursive LinearLR, for one, lands
# on 1.2e-17 where the exact value (and ours) is 0.0.
ATOL_SCALE = 1e-14


def assert_agrees(name, kwargs, lr, steps=STEPS):
    ours = lr_curve(name, steps, lr, **kwargs)
    torch_curve = reference.lr_curve(name, steps, lr, **kwargs)
    assert ours.dtype == np.float64 and ours.shape == (steps,)
    atol = ATOL_SCALE * float(np.max(np.abs(torch_curve), initial=0.0))
    bad = ~np.isclose(ours, torch_curve, rtol=RTOL, atol=atol)
    if bad.any():
        k = int(np.argmax(bad))
        pytest.fail(f"{name}({kwargs}) lr={lr}: first difference at step {k}: "
                    f"ours {ours[k]!r} vs torch {torch_curve[k]!r}")


@pytest.mark.parametrize("name", list(SINGLE))
def test_single_scheduler_matches_torch(name):
    @settings(max_examples=25)
    @given(params=SINGLE[name](), lr=lrs)
    def check(params, lr):
        assert_agrees(*params, lr)

    check()


@pytest.mark.parametrize("name", list(COMPOSITE))
def test_composite_matches_torch(name):
    @settings(max_examples=80)
    @given(params=COMPOSITE[name](), lr=lrs)
    def check(params, lr):
        assert_agrees(*params, lr)

    check()


@settings(max_examples=150)
@given(params=st.one_of(*(s() for s in SINGLE.values()), *(s() for s in COMPOSITE.values())),
       lr=lrs, steps=st.integers(0, 300))
def test_short_curves_of_any_length_match_torch(params, lr, steps):
    name, kwargs = params
    if name == "ReduceLROnPlateau":
        kwargs = {**kwargs, "metrics": kwargs["metrics"][:steps]}
    if name == "OneCycleLR":
        steps = min(steps, kwargs["total_steps"] + 1)
    assert_agrees(name, kwargs, lr, steps)


@settings(max_examples=20)
@given(params=st.one_of(cyclic_lr(), one_cycle_lr()), lr=lrs)
def test_momentum_matches_torch(params, lr):
    name, kwargs = params
    ours = momentum_curve(name, STEPS, lr, **kwargs)
    np.testing.assert_allclose(ours, reference.momentum_curve(name, STEPS, lr, **kwargs),
                               rtol=RTOL, atol=ATOL_SCALE)
