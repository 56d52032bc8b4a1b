"""The composite helpers of the chaining lesson, against hand-computed values and real torch
composites built by hand (not through lrcourse.reference)."""

import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

from lrcourse import TORCH_SCHEDULERS
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
    assert np.allclose(curves["ChainedScheduler (stepped together)"], chain, rtol=1e-12)


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


def test_member_examples_cover_every_kind_of_member():
    kinds = {name for name, _ in chaining.MEMBER_EXAMPLES.values()}
    composites = {"ReduceLROnPlateau", "SequentialLR", "ChainedScheduler"}
    assert kinds == set(TORCH_SCHEDULERS) - composites


def test_product_of_own_curves_by_hand():
    members = [("ExponentialLR", dict(gamma=0.9)), ("StepLR", dict(step_size=2, gamma=0.5))]
    assert np.allclose(chaining.product_of_own_curves(members, 5, 2.0),
                       [2.0, 1.8, 0.81, 0.729, 0.6561 * 0.5 * 0.5 * 2])


def test_first_difference():
    assert chaining.first_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) is None
    assert chaining.first_difference([1.0, 2.0, 3.0], [1.0, 2.5, 3.5]) == 1
    assert chaining.first_difference([1.0, 2.0], [1.0, 2.0 * (1 + 1e-12)]) is None


def test_cosine_with_a_floor_breaks_the_product_by_hand():
    # ExponentialLR(0.9) then CosineAnnealingLR(T_max=10, eta_min=0.05) from 0.1: torch lands
    # on eta_min at T_max, whatever the exponential did; the product would be 0.1*0.9^10*0.5.
    def build(opt):
        return L.ChainedScheduler([L.ExponentialLR(opt, gamma=0.9),
                                   L.CosineAnnealingLR(opt, T_max=10, eta_min=0.05)])

    chain = stepped(build, 11, lr=0.1)
    members = [("ExponentialLR", dict(gamma=0.9)),
               ("CosineAnnealingLR", dict(T_max=10, eta_min=0.05))]
    product = chaining.product_of_own_curves(members, 11, 0.1)
    r_1 = (1 + math.cos(math.pi / 10)) / 2
    assert math.isclose(chain[1], 0.05 + r_1 * (0.09 - 0.05))
    assert math.isclose(chain[10], 0.05) and math.isclose(product[10], 0.1 * 0.9**10 * 0.5)


def test_sequential_multiplicative_carries_on_by_hand():
    def build(opt):
        return L.SequentialLR(opt, [L.ExponentialLR(opt, gamma=0.5),
                                    L.MultiplicativeLR(opt, lr_lambda=lambda t: 0.9)],
                              milestones=[3])

    assert np.allclose(stepped(build, 5), [1.0, 0.5, 0.25, 0.225, 0.2025])


def test_member_behaviour_classification():
    rows = {r.label: r for r in chaining.member_behaviour(steps=30, lr=0.1, milestone=3)}
    assert list(rows) == list(chaining.MEMBER_EXAMPLES)
    multiplicative = ["MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
                      "ExponentialLR", "PolynomialLR"]
    assert [k for k, r in rows.items() if r.product_breaks_at is None] == multiplicative
    # eta_min = 0: a product up to T_max = 10; the step after the minimum adds a term
    assert rows["CosineAnnealingLR, eta_min=0"].product_breaks_at == 11
    assert rows["CosineAnnealingLR, eta_min>0"].product_breaks_at == 1
    assert rows["LambdaLR"].product_breaks_at == 1  # chained after the exponential
    assert [k for k, r in rows.items() if r.restart_breaks_at is not None] == ["MultiplicativeLR"]
    assert rows["MultiplicativeLR"].restart_breaks_at == 0  # at the milestone itself
    assert all(r.lrcourse_agrees for r in rows.values())


def test_print_member_behaviour(capsys):
    chaining.print_member_behaviour([chaining.MemberBehaviour("StepLR", None, None, True),
                                     chaining.MemberBehaviour("LambdaLR", 1, None, False)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["StepLR", "yes", "yes", "yes"]
    assert lines[2].split() == ["LambdaLR", "no", "(from", "step", "1)", "yes", "NO"]
