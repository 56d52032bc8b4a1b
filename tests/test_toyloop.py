"""The toy loop of the training-loop lesson: the schedule it follows and exact resumption."""

import math

import numpy as np
import torch

from lrcourse.lessons import toyloop


def fresh(seed=0):
    model = toyloop.make_model(seed)
    optimizer = toyloop.make_optimizer(model)
    return model, optimizer, toyloop.make_scheduler(optimizer)


def test_learning_rates_follow_warmup_then_cosine_by_hand():
    x, y = toyloop.toy_data()
    used = toyloop.train_steps(*fresh(), x, y, 12)
    warm = [0.01, 0.04, 0.07]
    cosine = [0.05 * (1 + math.cos(math.pi * k / 9)) for k in range(9)]
    assert np.allclose(used, warm + cosine)


def test_training_reduces_the_loss():
    x, y = toyloop.toy_data()
    model, optimizer, scheduler = fresh()
    before = torch.nn.functional.mse_loss(model(x), y).item()
    toyloop.train_steps(model, optimizer, scheduler, x, y, 12)
    assert torch.nn.functional.mse_loss(model(x), y).item() < 0.5 * before


def test_checkpoint_and_restore_continue_exactly():
    x, y = toyloop.toy_data()
    model, optimizer, scheduler = fresh()
    straight = toyloop.train_steps(model, optimizer, scheduler, x, y, 12)
    first = fresh()
    head = toyloop.train_steps(*first, x, y, 5)
    blob = toyloop.checkpoint(*first)
    second = fresh(seed=1)  # different weights: the checkpoint must overwrite them
    toyloop.restore(blob, *second)
    tail = toyloop.train_steps(*second, x, y, 7)
    assert head + tail == straight
    assert torch.equal(second[0].weight, model.weight) and torch.equal(second[0].bias, model.bias)


def test_toy_data_is_seeded():
    a, b = toyloop.toy_data(seed=3), toyloop.toy_data(seed=3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], toyloop.toy_data(seed=4)[0])


def test_per_batch_curves():
    curves = toyloop.per_batch_curves(epochs=4, batches=5, lr=1.0)
    wrong, right = curves.values()
    assert len(wrong) == len(right) == 20
    assert np.allclose(wrong[[0, 4, 8, 12]], [1.0, 0.0, 1.0, 0.0], atol=1e-12)  # period 2*T_max
    assert np.allclose(right[[0, 10]], [1.0, 0.5]) and np.all(np.diff(right) < 0)
