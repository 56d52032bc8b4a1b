"""lrcourse.training.swa and lrcourse.lessons.swa: the SWA recipe on the digits, SWALR's loops.

Expected values come from torch itself (a real SWALR stepped by lrcourse.reference, the same
recipe written out here with a plain Trainer, hand-computed averages of recorded weights), never
from the numbers the code under test reports about itself.
"""

import copy
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.optim.swa_utils import SWALR, update_bn

from lrcourse import reference
from lrcourse.lessons import swa as lesson
from lrcourse.training import TrainConfig, Trainer, digits, steps_per_epoch, train
from lrcourse.training.swa import (
    attach_ema, bn_model, evaluate, train_swa, training_batches, with_model,
)

SPE = steps_per_epoch()
COSINE = ("CosineAnnealingLR", {"T_max": 6})


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


def test_rates_are_those_of_a_real_swalr_after_the_first_schedule():
    run = train_swa(COSINE, swa_start=2, swa_lr=0.02, anneal_epochs=2, epochs=6, lr=0.1, seed=0)
    per_epoch = np.asarray(run.history.lr).reshape(6, SPE)
    assert np.all(per_epoch == per_epoch[:, :1])            # one rate per epoch
    truth = reference.swalr_curve(6, 0.1, 0.02, anneal_epochs=2, swa_start=2, scheduler=COSINE)
    np.testing.assert_allclose(per_epoch[:, 0], truth, rtol=1e-12)


def test_the_average_is_the_mean_of_the_weights_after_each_epoch_from_swa_start():
    run = train_swa(COSINE, swa_start=3, swa_lr=0.05, anneal_epochs=1, epochs=6, lr=0.1, seed=1)
    # the same recipe written out with torch's own pieces, recording the weights
    trainer = Trainer(TrainConfig(epochs=6, lr=0.1, seed=1))
    first = CosineAnnealingLR(trainer.optimizer, T_max=6)
    swalr = SWALR(trainer.optimizer, swa_lr=0.05, anneal_epochs=1)
    snapshots = []
    for epoch in range(6):
        trainer.run(until=epoch + 1, progress=False)
        if epoch < 3:
            first.step()
        else:
            snapshots.append(_params(trainer.model))
            swalr.step()
    assert trainer.history.loss == run.history.loss           # the same training
    assert int(run.swa_model.n_averaged) == 3
    for k, averaged in enumerate(run.swa_model.module.parameters()):
        mean = torch.stack([s[k] for s in snapshots]).mean(dim=0)
        torch.testing.assert_close(averaged.detach(), mean, rtol=1e-5, atol=1e-7)


def test_the_averaged_history_is_nan_before_swa_start_and_measured_after():
    run = train_swa(None, swa_start=2, swa_lr=0.1, anneal_epochs=1, epochs=4, lr=0.1, seed=0)
    assert all(math.isnan(v) for v in run.averaged.val_acc[:2])
    assert len(run.averaged.val_acc) == 4 and run.ema is None and run.ema_history is None
    x, y = digits()[1].tensors
    with torch.no_grad():
        logits = run.swa_model.module(x)
    assert run.averaged.val_acc[-1] == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    assert run.averaged.val_loss[-1] == pytest.approx(float(F.cross_entropy(logits, y)), rel=1e-5)


def test_ema_is_updated_after_every_optimizer_step():
    decay = 0.9
    trainer = Trainer(TrainConfig(epochs=1, lr=0.1, seed=0))
    seen = []
    ema = attach_ema(trainer, decay)
    trainer.optimizer.register_step_post_hook(lambda *_: seen.append(_params(trainer.model)))
    trainer.run(progress=False)
    assert len(seen) == SPE == int(ema.n_averaged)
    expected = seen[0]
    for weights in seen[1:]:
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, weights)]
    for got, want in zip(ema.module.parameters(), expected):
        torch.testing.assert_close(got.detach(), want, rtol=1e-5, atol=1e-7)


def test_train_swa_with_ema_records_it_every_epoch():
    run = train_swa(None, swa_start=1, swa_lr=0.1, anneal_epochs=1, epochs=2, lr=0.1, seed=0,
                    ema_decay=0.99)
    assert len(run.ema_history.val_acc) == 2 and int(run.ema.n_averaged) == 2 * SPE
    expected = evaluate(run.ema, run.trainer.val_loader)[0]
    assert run.ema_history.val_loss[-1] == pytest.approx(expected)


def test_evaluate_matches_a_forward_pass_and_restores_the_mode():
    model = bn_model(0)
    model.train()
    x, y = digits()[1].tensors
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train()
    loss, acc = evaluate(model, Trainer(TrainConfig(seed=0)).val_loader)
    assert loss == pytest.approx(float(F.cross_entropy(logits, y)), rel=1e-5)
    assert acc == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    assert model.training


def test_training_batches_are_the_training_split_in_order():
    x = torch.cat([b[0] for b in training_batches(100)])
    assert torch.equal(x, digits()[0].tensors[0]) and len(training_batches(100)) == 14


def test_bn_model_and_with_model():
    model = bn_model(3, hidden=16)
    assert isinstance(model[1], torch.nn.BatchNorm1d) and model[0].out_features == 16
    assert torch.equal(bn_model(3, 16)[0].weight, model[0].weight)         # seeded
    trainer = with_model(TrainConfig(epochs=1, lr=0.1, seed=0), model)
    assert trainer.model is model
    assert trainer.optimizer.param_groups[0]["params"][0] is model[0].weight
    before = _params(model)
    trainer.run(progress=False)
    assert not torch.equal(before[0], model[0].weight)
    with pytest.raises(ValueError, match="scheduler=None"):
        with_model(TrainConfig(scheduler="StepLR"), model)


def test_train_swa_refuses_bad_recipes():
    with pytest.raises(ValueError, match="swa_start must be an epoch in 0 .. epochs-1 = 3"):
        train_swa(None, swa_start=4, swa_lr=0.1, epochs=4)
    with pytest.raises(ValueError, match="stepped once per epoch"):
        train_swa(("OneCycleLR", {"max_lr": 0.1, "total_steps": 100}), swa_start=1, swa_lr=0.1,
                  epochs=2)


# --- lrcourse.lessons.swa ------------------------------------------------------------------------

def test_docstring_loop_hands_over_one_epoch_late():
    kw = dict(swa_lr=0.03, anneal_epochs=3, anneal_strategy="linear")
    rates, averaged = lesson.docstring_loop(12, 0.1, swa_start=4, scheduler=COSINE, **kw)
    truth = reference.swalr_curve(12, 0.1, 0.03, anneal_epochs=3, anneal_strategy="linear",
                                  swa_start=5, scheduler=COSINE)
    np.testing.assert_allclose(rates, truth, rtol=1e-12)
    assert averaged == list(range(5, 12))


def test_built_at_handover_is_the_recipe_and_fixes_anneal_epochs_zero():
    kw = dict(swa_lr=0.03, anneal_epochs=2)
    late = lesson.built_at_handover(10, 0.1, swa_start=4, scheduler=COSINE, **kw)
    np.testing.assert_allclose(late, reference.swalr_curve(10, 0.1, 0.03, anneal_epochs=2,
                                                           swa_start=4, scheduler=COSINE),
                               rtol=1e-12)
    zero = lesson.built_at_handover(10, 0.1, swa_start=4, scheduler=COSINE, swa_lr=0.03,
                                    anneal_epochs=0)
    np.testing.assert_allclose(zero[:5], reference.lr_curve("CosineAnnealingLR", 5, 0.1, T_max=6))
    np.testing.assert_allclose(zero[5:], 0.03)


def test_recipe_comparison_reads_one_run_three_ways():
    kw = dict(first=COSINE, swa_start=2, swa_lr=0.05, anneal_epochs=1, epochs=3, lr=0.1)
    results = lesson.recipe_comparison([0, 1], ema_decay=0.9, **kw)
    assert list(results) == ["CosineAnnealingLR alone", "SWA recipe: last iterate",
                             "SWA recipe: SWA average", "SWA recipe: EMA (0.9)"]
    assert all(len(v) == 2 for v in results.values())
    alone = train(COSINE, epochs=3, lr=0.1, seed=1, progress=False)
    assert results["CosineAnnealingLR alone"][1].val_acc == alone.val_acc
    no_baseline = lesson.recipe_comparison([0], baseline=False, **kw)
    assert list(no_baseline) == ["SWA recipe: last iterate", "SWA recipe: SWA average"]
    last = "SWA recipe: last iterate"
    assert no_baseline[last][0].loss == results[last][0].loss


def test_bn_comparison_evaluates_before_and_after_update_bn():
    results = lesson.bn_comparison([0], swa_start=1, swa_lr=0.5, anneal_epochs=1, epochs=3,
                                   lr=0.5)
    run = train_swa(None, swa_start=1, swa_lr=0.5, anneal_epochs=1, model=bn_model(0),
                    epochs=3, lr=0.5, seed=0)
    stale = evaluate(run.swa_model, run.trainer.val_loader)
    fresh_model = copy.deepcopy(run.swa_model)
    update_bn(training_batches(), fresh_model)
    fresh = evaluate(fresh_model, run.trainer.val_loader)
    assert results["SWA average, BN statistics as copied"][0].val_loss == [pytest.approx(stale[0])]
    assert results["SWA average after update_bn"][0].val_loss == [pytest.approx(fresh[0])]
    assert results["last iterate"][0].val_acc == [evaluate(run.trainer.model,
                                                           run.trainer.val_loader)[1]]


def test_relative_distance_by_hand():
    a, b = torch.nn.Linear(2, 1, bias=False), torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        a.weight.copy_(torch.tensor([[3.0, 4.0]]))
        b.weight.copy_(torch.tensor([[0.0, 4.0]]))
    assert lesson.relative_distance(a, b) == pytest.approx(3 / 4)
    from torch.optim.swa_utils import AveragedModel

    assert lesson.relative_distance(AveragedModel(a), b) == pytest.approx(3 / 4)
