"""The simulated validation loss and the plateau helpers.

Expected values are computed by hand from the formula in the docstring, or measured by stepping
a real torch ReduceLROnPlateau on the same metrics.
"""

import math
import warnings

import numpy as np
import pytest
import torch

from lrcourse.lessons import synthetic


def torch_plateau_lrs(metrics, lr=0.1, **kwargs):
    """The lr of each step under torch's ReduceLROnPlateau fed ``metrics`` (after each step)."""
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        lrs = []
        for m in metrics:
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step(float(m))
    return np.array(lrs)


def test_shape_by_hand():
    loss = synthetic.validation_loss(7, plateau_start=2, plateau_length=3, start=3.0, floor=1.0,
                                     tau=1.0)
    clock = [0, 1, 2, 2, 2, 2, 3]  # the value at step 2 is repeated for 3 more steps
    assert np.allclose(loss, [1 + 2 * math.exp(-c) for c in clock])


def test_drift_creeps_down_inside_the_plateau_only():
    loss = synthetic.validation_loss(6, plateau_start=1, plateau_length=2, start=3.0, floor=1.0,
                                     tau=1.0, drift=0.1)
    e1, e2 = 2 * math.exp(-1), 2 * math.exp(-2)
    assert np.allclose(loss, [3.0, 1 + e1, 1 + 0.9 * e1, 1 + 0.81 * e1, 1 + 0.81 * e2,
                              1 + 0.81 * 2 * math.exp(-3)])


def test_noise_is_seeded():
    a = synthetic.validation_loss(50, noise=0.05, seed=3)
    b = synthetic.validation_loss(50, noise=0.05, seed=3)
    c = synthetic.validation_loss(50, noise=0.05, seed=4)
    clean = synthetic.validation_loss(50)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 0.8 < np.median(a / clean) < 1.2 and not np.allclose(a, clean)


@pytest.mark.parametrize("bad", [dict(steps=-1), dict(plateau_start=-1), dict(tau=0.0),
                                 dict(start=0.1, floor=0.2), dict(drift=1.0), dict(noise=-0.1)])
def test_invalid_arguments(bad):
    kwargs = dict(steps=10, **{k: v for k, v in bad.items() if k != "steps"})
    if "steps" in bad:
        kwargs["steps"] = bad["steps"]
    with pytest.raises(ValueError):
        synthetic.validation_loss(kwargs.pop("steps"), **kwargs)


def test_reductions():
    assert synthetic.reductions([1, 1, 0.5, 0.5, 0.25]) == [2, 4]
    assert synthetic.reductions([0.1] * 5) == []


@pytest.mark.parametrize("patience", [0, 3, 7])
def test_first_cut_two_steps_after_patience_runs_out(patience):
    # plateau of 10 bad epochs from step 20: the (patience+1)-th bad metric is passed after
    # step 20+patience+1, so the cut shows at step 20+patience+2.
    curves = synthetic.plateau_curves(60, 0.1, plateau_start=20, plateau_length=10,
                                      patience=patience, factor=0.5)
    cuts = synthetic.reductions(curves[synthetic.RATE])
    assert cuts[0] == 20 + patience + 2
    metrics = synthetic.validation_loss(60, plateau_start=20, plateau_length=10)
    assert np.allclose(curves[synthetic.RATE] * 0.1,
                       torch_plateau_lrs(metrics, 0.1, patience=patience, factor=0.5))


def test_no_cut_when_the_plateau_is_within_patience():
    curves = synthetic.plateau_curves(80, 0.1, plateau_start=20, plateau_length=5, patience=5)
    assert synthetic.reductions(curves[synthetic.RATE]) == []


def test_drift_counts_as_progress_only_below_the_threshold():
    kwargs = dict(plateau_start=20, plateau_length=15, drift=1e-3, patience=3)
    assert synthetic.plateau_marks(dict(steps=50, lr=0.1, **kwargs, threshold=1e-4)) == []
    cuts = synthetic.plateau_marks(dict(steps=50, lr=0.1, **kwargs, threshold=1e-2))
    metrics = synthetic.validation_loss(50, plateau_start=20, plateau_length=15, drift=1e-3)
    expected = synthetic.reductions(torch_plateau_lrs(metrics, patience=3, threshold=1e-2))
    assert cuts == expected and cuts[0] == 25


def test_describe_reductions():
    text = synthetic.describe_reductions({}, {synthetic.RATE: [1, 1, 0.5, 0.5, 0.25]})
    assert text == "reductions at steps: 2, 4; final rate = 0.25 x the initial rate"
