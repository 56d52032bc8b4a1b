"""The composite helpers of the chaining lesson, against hand-computed values and real torch
composites built by hand (not through lrcourse.reference)."""

import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

from lrcourse.lessons import chaining
from lrcourse.reference import strict_warnings  # every warning an error (but see its doc)


def stepped(build, steps, lr=1.0):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    with strict_warnings():
        sched = build(opt)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.array(out)


def test_warmup_cosine_by_hand():
    kw = chaining.warmup_cosine(5, 20)
    assert kw["milestones"] == [5]
    assert kw["schedulers"] == [("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=5)),
                                ("CosineAnnealingLR", dict(T_max=15, eta_min=0.0))]
    seq = chaining.sequential_curves(20, 1.0, milestone=5, total_iters=5, T_max=15)
    expected = [0.1, 0.28, 0.46, 0.64, 0.82] + [0.5 * (1 + math.cos(math.pi * k / 15))
                                                for k in range(15)]
    assert np.allclose(seq["SequentialLR (hand over)"], expected)


@pytest.mark.parametrize("total_iters, T_max", [(5, 15), (8, 15), (3, 6)])
def test_sequential_and_chained_match_torch(total_iters, T_max):
    curves = chaining.sequential_curves(30, 0.5, milestone=5, total_iters=total_iters, T_max=T_max)

    def members(opt):
        return [L.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=total_iters),
                L.CosineAnnealingLR(opt, T_max=T_max)]

    seq = stepped(lambda o: L.SequentialLR(o, members(o), milestones=[5]), 30, 0.5)
    chain = stepped(lambda o: L.ChainedScheduler(members(o)), 30, 0.5)
    assert np.allclose(curves["SequentialLR (hand over)"], seq, rtol=1e-12)
    assert np.allclose(curves["ChainedScheduler (multiply)"], chain, rtol=1e-12)


def test_chained_is_the_product_of_the_members():
    c = chaining.chained_curves(10, 1.0, gamma=0.9, milestones=(3, 6), step_gamma=0.1)
    t = np.arange(10)
    assert np.allclose(c["ChainedScheduler"], 0.9**t * 0.1 ** ((t >= 3).astype(int) + (t >= 6)))
    assert np.allclose(c["ChainedScheduler"], c["ExponentialLR alone"] * c["MultiStepLR alone"])


def test_warmup_cosine_rejects_bad_lengths():
    with pytest.raises(ValueError, match="warmup"):
        chaining.warmup_cosine(0, 10)
    with pytest.raises(ValueError, match="warmup"):
        chaining.warmup_cosine(10, 10)
