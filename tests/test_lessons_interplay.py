"""Lesson 18's helpers: momentum's step, batch-size rules, AdamW's decay, layer-wise rates.

Expected values come from torch (SGD/AdamW/Adam stepped here or by reference) or from hand
computation, never from the helper under test.
"""

import numpy as np
import pytest
import torch

from lrcourse import reference
from lrcourse.lessons import batchsize, layerwise, momentum, weight_decay
from lrcourse.training import History, steps_per_epoch

# --- momentum ------------------------------------------------------------------------------------


def test_step_sizes_by_hand():
    np.testing.assert_allclose(momentum.step_sizes(3, 0.1, 0.9), [0.1, 0.19, 0.271])
    np.testing.assert_allclose(momentum.step_sizes(3, 0.1, 0.9, nesterov=True),
                               [0.19, 0.271, 0.3439])
    np.testing.assert_allclose(momentum.step_sizes(3, 0.1, 0.9, dampening=0.5),
                               [0.1, 0.14, 0.176])
    np.testing.assert_allclose(momentum.step_sizes(4, 0.2, 0.0), [0.2] * 4)


@pytest.mark.parametrize("kw", [
    dict(momentum=0.9), dict(momentum=0.5, dampening=0.3), dict(momentum=0.99, dampening=0.99),
    dict(momentum=0.8, nesterov=True), dict(momentum=0.0), dict(momentum=0.95, grad=-2.5),
])
def test_step_sizes_match_torch_sgd(kw):
    grad = kw.pop("grad", 1.0)
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.07, **kw)
    truth = []
    for _ in range(200):
        before = float(p.detach())
        p.grad = torch.full_like(p, grad)
        opt.step()
        truth.append(before - float(p.detach()))
    np.testing.assert_allclose(momentum.step_sizes(200, 0.07, grad=grad, **kw), truth, rtol=1e-10)
    np.testing.assert_allclose(momentum.torch_step_sizes(200, 0.07, grad=grad, **kw), truth,
                               rtol=1e-12)


def test_effective_lr_and_build_up():
    assert momentum.effective_lr(0.1, 0.9) == pytest.approx(1.0)
    assert momentum.effective_lr(0.1, 0.9, dampening=0.9) == pytest.approx(0.1)
    assert (momentum.steps_to_reach(0.9), momentum.steps_to_reach(0.99)) == (22, 230)
    assert momentum.steps_to_reach(0.0) == 1 and momentum.steps_to_reach(0.5, 0.75) == 2
    steps = momentum.step_sizes(300, 0.1, 0.9)
    assert steps[-1] == pytest.approx(1.0) and steps[21] >= 0.9 > steps[20]


def test_nesterov_with_dampening_is_refused_like_torch():
    with pytest.raises(ValueError) as ours:
        momentum.step_sizes(5, 0.1, 0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError) as theirs:
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9,
                        dampening=0.1, nesterov=True)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="momentum must be in"):
        momentum.effective_lr(0.1, 1.0)


# --- batch size ----------------------------------------------------------------------------------


def test_scaled_lr_by_hand():
    assert batchsize.scaled_lr("linear", 0.05, 64, 256) == pytest.approx(0.2)
    assert batchsize.scaled_lr("sqrt", 0.05, 64, 256) == pytest.approx(0.1)
    assert batchsize.scaled_lr("sqrt", 0.05, 64, 16) == pytest.approx(0.025)
    assert batchsize.scaled_lr("fixed", 0.05, 64, 16) == 0.05
    with pytest.raises(ValueError, match="rule must be one of fixed, linear, sqrt"):
        batchsize.scaled_lr("quadratic", 0.1, 64, 128)


def test_sweep_trains_each_batch_size_at_its_rule_and_shares_the_base():
    out = batchsize.sweep("SGD", 0.05, (32, 64), [0, 1], rules=("fixed", "linear"), epochs=1)
    assert out["fixed"][64] is out["linear"][64]
    assert out["linear"][32][0].lr == [0.025] * steps_per_epoch(32)
    assert out["fixed"][32][1].lr == [0.05] * steps_per_epoch(32)
    assert len(out["fixed"][32]) == 2


def test_spread_by_hand():
    def runs(*losses):
        return [History(train_loss=[9.0, x]) for x in losses]
    fake = {"a": {16: runs(1.0, 3.0), 64: runs(4.0, 4.0)}, "b": {16: runs(2.0), 64: runs(2.0)}}
    assert batchsize.final_means(fake) == {"a": {16: 2.0, 64: 4.0}, "b": {16: 2.0, 64: 2.0}}
    assert batchsize.spread(fake) == {"a": 2.0, "b": 1.0}


# --- weight decay --------------------------------------------------------------------------------


def test_adamw_decay_term_is_the_scheduled_rate_times_wd_times_p():
    sched = ("StepLR", {"step_size": 3, "gamma": 0.5})
    d = weight_decay.decay_terms(10, 0.2, 0.1, sched, size=3, seed=4)
    np.testing.assert_allclose(d["lr"], reference.lr_curve("StepLR", 10, 0.2, step_size=3,
                                                           gamma=0.5))
    np.testing.assert_allclose(d["decay"], d["lr"][:, None] * 0.1 * d["before"], rtol=1e-9,
                               atol=1e-15)
    assert d["before"].shape == (10, 3) and np.all(np.abs(d["decay"]) > 0)


def test_zero_gradient_path_is_the_product_of_the_shrink_factors():
    rates, path = weight_decay.zero_gradient_path(20, 0.1, 0.05, ("CosineAnnealingLR",
                                                                 {"T_max": 20}), p0=2.0)
    truth = reference.lr_curve("CosineAnnealingLR", 20, 0.1, T_max=20)
    np.testing.assert_allclose(rates, truth)
    np.testing.assert_allclose(path, 2.0 * np.cumprod(1 - 0.05 * truth), rtol=1e-13)


def test_first_step_adam_is_normalised_adamw_is_decoupled():
    for wd in (0.01, 1.0):
        assert weight_decay.first_step("Adam", 1e-3, wd) == pytest.approx(1e-3, rel=1e-5)
        assert weight_decay.first_step("AdamW", 1e-3, wd, p0=2.0) == pytest.approx(2e-3 * wd)
    assert weight_decay.first_step("SGD", 0.1, 0.5, p0=2.0) == pytest.approx(0.1 * 0.5 * 2.0)


# --- layer-wise rates ----------------------------------------------------------------------------


def test_layer_rates_by_hand():
    assert layerwise.layer_rates(4, 1e-3, 0.8) == pytest.approx([0.512e-3, 0.64e-3, 0.8e-3, 1e-3])
    assert layerwise.layer_rates(3, 1.0, 1 / 2.6) == pytest.approx([1 / 2.6 ** 2, 1 / 2.6, 1.0])
    with pytest.raises(ValueError, match="decay must be in"):
        layerwise.layer_rates(3, 1.0, 1.5)
    with pytest.raises(ValueError, match="n_layers must be"):
        layerwise.layer_rates(0, 1.0, 0.5)


def test_layerwise_groups_cover_the_model_once():
    net = layerwise.deep_mlp(seed=1, width=8, depth=3)
    layers = layerwise.linear_layers(net)
    assert [(m.in_features, m.out_features) for m in layers] == [(64, 8), (8, 8), (8, 10)]
    opt = torch.optim.SGD(layerwise.layerwise_groups(layers, 0.1, 0.5))
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.025, 0.05, 0.1])
    in_groups = [id(p) for g in opt.param_groups for p in g["params"]]
    assert sorted(in_groups) == sorted(id(p) for p in net.parameters())
    assert torch.equal(layerwise.deep_mlp(seed=1, width=8, depth=3)[0].weight, layers[0].weight)


def test_steps_per_epoch_used_by_the_lesson():
    assert [steps_per_epoch(b) for b in (16, 64, 256)] == [84, 21, 5]
