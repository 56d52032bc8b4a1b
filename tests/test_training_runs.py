"""lrcourse.lessons.training_runs: the helpers lessons 11-14 stand on.

Expected values are hand-computed (Adam's first step from its update rule, the rates of a
LambdaLR and a StepLR resumed three ways) or come from independent numpy code, never from the
helpers themselves.
"""

import re

import numpy as np
import pytest
from torch.optim.lr_scheduler import LambdaLR, StepLR

from lrcourse.lessons.training_runs import (RESUME_ORDERS, first_step_sizes, merge_identical,
                                            resume_orders, smoothing_explorer)
from lrcourse.training import History


def test_merge_identical_joins_labels_of_equal_values_and_keeps_order():
    merged = merge_identical({"constant": [1.0, 1.0], "StepLR": [1.0, 0.5],
                              "ReduceLROnPlateau": [1.0, 1.0]})
    assert merged == {"constant = ReduceLROnPlateau": [1.0, 1.0], "StepLR": [1.0, 0.5]}
    assert list(merge_identical({"a": np.arange(3), "b": np.arange(3.0)})) == ["a = b"]
    assert list(merge_identical({"a": [1, 2], "b": [1, 2, 3]})) == ["a", "b"]


def test_merge_identical_compares_every_record_of_every_run():
    run = History(steps_per_epoch=2, lr=[0.1, 0.1], val_loss=[0.5])
    same = History(steps_per_epoch=2, lr=[0.1, 0.1], val_loss=[0.5])
    other = History(steps_per_epoch=2, lr=[0.1, 0.1], val_loss=[0.4])  # only val_loss differs
    merged = merge_identical({"x": [run, run], "y": [same, same], "z": [same, other]})
    assert list(merged) == ["x = y", "z"]


def test_adams_first_step_moves_every_weight_with_a_gradient_by_lr():
    # one Adam step from a fresh state: m_hat = g, v_hat = g**2, update = lr * g / (|g| + eps)
    moves, grads = first_step_sizes("Adam", lr=1e-3)
    expected = np.abs(grads) / (np.abs(grads) + 1e-8)
    np.testing.assert_allclose(moves, expected, rtol=1e-6, atol=1e-9)
    assert np.all(moves[np.abs(grads) > 1e-5] > 0.999)
    assert np.all(moves[grads == 0] == 0) and np.any(grads == 0)   # pixels always 0: no gradient


def test_sgds_first_step_is_the_gradient_times_lr():
    moves, grads = first_step_sizes("SGD", lr=1e-3)
    np.testing.assert_allclose(moves, np.abs(grads), rtol=1e-9, atol=1e-12)  # float64 rounding
    assert moves.max() / moves[moves > 0].min() > 100   # sizes spread over orders of magnitude


def test_resume_orders_lambdalr_loses_one_step_only_in_the_wrong_order():
    runs = resume_orders(lambda opt: LambdaLR(opt, lambda e: 0.5 ** e), lr=0.1)
    assert list(runs) == list(RESUME_ORDERS)
    assert runs["uninterrupted"] == pytest.approx([0.1 * 0.5 ** 3, 0.1 * 0.5 ** 4, 0.1 * 0.5 ** 5])
    assert runs["built, then loaded"] == runs["uninterrupted"]
    assert runs["loaded, then built"] == pytest.approx([0.1, 0.1 * 0.5 ** 4, 0.1 * 0.5 ** 5])


def test_resume_orders_steplr_keeps_the_loaded_rate_either_way():
    runs = resume_orders(lambda opt: StepLR(opt, step_size=2, gamma=0.5), lr=0.1)
    expected = [0.1 * 0.5 ** (k // 2) for k in (3, 4, 5)]
    for rates in runs.values():
        assert rates == pytest.approx(expected)


def test_smoothing_explorer_readout_follows_the_beta_slider():
    rng = np.random.default_rng(0)
    losses = np.r_[np.linspace(2.3, 0.3, 60), np.linspace(0.3, 3.0, 20)] + rng.normal(0, 0.05, 80)
    lrs = np.geomspace(1e-5, 10, 80)
    e = smoothing_explorer(losses, lrs, beta=0.9)
    assert e.controls["beta"].step == 0.01
    readouts = {}
    for beta in (0.5, 0.9, 0.98):
        e.set(beta=beta)
        # the bias-corrected moving average, written out independently
        avg, smoothed = 0.0, []
        for k, value in enumerate(losses):
            avg = beta * avg + (1 - beta) * value
            smoothed.append(avg / (1 - beta ** (k + 1)))
        k_min = int(np.argmin(smoothed))
        text = re.sub(r"<[^>]+>", "", e.readout.value)     # the readout is HTML
        expected = f"beta = {beta:.2f}) lowest at step {k_min}, lr = {lrs[k_min]:.3g}"
        assert expected in text
        readouts[beta] = text
        np.testing.assert_allclose(e._lines["smoothed"].get_ydata(), smoothed, rtol=1e-12)
    assert len(set(readouts.values())) == 3
    raw = int(np.argmin(losses))
    assert f"raw loss lowest at step {raw}" in readouts[0.9]
