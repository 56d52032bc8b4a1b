"""lrcourse.training: stepping, recording, the LR range test, checkpoints and exact resumption.

Expected values come from hand computation, from torch itself (lrcourse.reference, a recording
optimizer or scheduler subclass), or from an independent forward pass written here; never from
the numbers the harness reports about itself.
"""

import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, TensorDataset

import lrcourse
from lrcourse import reference
from lrcourse.training import (
    LRRangeTestDiverged,
    TrainConfig,
    Trainer,
    digits,
    find_lr,
    load_checkpoint,
    make_loaders,
    make_model,
    save_checkpoint,
    steps_per_epoch,
    train,
)

SPE = steps_per_epoch()  # 1347 training images // 64 = 21


def test_data_split_and_batches():
    train_ds, val_ds = digits()
    assert (len(train_ds), len(val_ds)) == (1347, 450)  # 1797 images, 25 % held out
    assert SPE == 21
    from sklearn.datasets import load_digits

    per_class = np.bincount(load_digits().target)  # stratified: a quarter of each class held out
    assert np.all(np.abs(np.bincount(val_ds.tensors[1].numpy()) - per_class / 4) <= 1)


# --- stepping: per batch or per epoch ------------------------------------------------------------

def test_per_epoch_scheduler_changes_lr_only_between_epochs():
    h = train(("StepLR", {"step_size": 1, "gamma": 0.5}), epochs=3, lr=0.1, progress=False)
    expected = [0.1] * SPE + [0.05] * SPE + [0.025] * SPE
    np.testing.assert_allclose(h.lr, expected, rtol=1e-15)


def test_per_batch_scheduler_matches_torch_step_by_step():
    kw = dict(max_lr=0.3, total_steps=3 * SPE)
    h = train(("OneCycleLR", kw), epochs=3, lr=0.05, progress=False)
    np.testing.assert_allclose(h.lr, reference.lr_curve("OneCycleLR", 3 * SPE, 0.05, **kw),
                               rtol=1e-12)
    assert len(set(h.lr[:SPE])) == SPE  # a new rate at every batch


def test_cyclic_and_modern_recipes_step_per_batch():
    h = train(("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5}), epochs=1,
              progress=False)
    assert h.lr[:6] == pytest.approx([0.01, 0.028, 0.046, 0.064, 0.082, 0.1])
    h = train(("WarmupCosine", {"warmup_steps": 4, "total_steps": 2 * SPE}), epochs=2, lr=0.2,
              progress=False)
    assert h.lr[:5] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    assert h.lr[-1] == pytest.approx(0.1 * (1 + math.cos(math.pi * (2 * SPE - 5) / (2 * SPE - 4))))


@pytest.mark.parametrize("step_on, expected", [
    ("batch", lambda k: 0.9 ** k),
    ("epoch", lambda k: 0.9 ** (k // SPE)),
])
def test_step_on_overrides_for_a_factory(step_on, expected):
    factory = lambda opt: lr_scheduler.LambdaLR(opt, lambda e: 0.9 ** e)  # noqa: E731
    h = train(factory, epochs=2, lr=0.1, step_on=step_on, progress=False)
    np.testing.assert_allclose(h.lr, [0.1 * expected(k) for k in range(2 * SPE)], rtol=1e-13)


def test_sequential_with_a_per_batch_member_steps_per_batch():
    kw = {"schedulers": [("LinearLR", {"start_factor": 0.5, "total_iters": 4}),
                         ("OneCycleLR", {"max_lr": 0.2, "total_steps": 40})],
          "milestones": [4]}
    h = train(("SequentialLR", kw), epochs=2, lr=0.1, progress=False)
    np.testing.assert_allclose(h.lr, reference.lr_curve("SequentialLR", 2 * SPE, 0.1, **kw),
                               rtol=1e-12)


def test_constant_rate_without_scheduler():
    h = train(None, epochs=1, lr=0.07, progress=False)
    assert h.lr == [0.07] * SPE


# --- ReduceLROnPlateau gets the validation metric -------------------------------------------------

def independent_val_metrics(params):
    """Validation loss and accuracy of the MLP whose weights are ``params``, computed here."""
    w1, b1, w2, b2 = (p.detach() for p in params)
    _, val = digits()
    x, y = val.tensors
    logits = F.linear(torch.relu(F.linear(x, w1, b1)), w2, b2)
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


class RecordingPlateau(lr_scheduler.ReduceLROnPlateau):
    def __init__(self, optimizer, **kw):
        super().__init__(optimizer, **kw)
        self.calls = []
        self.params = [p for g in optimizer.param_groups for p in g["params"]]

    def step(self, metrics):
        self.calls.append((float(metrics), independent_val_metrics(self.params)))
        super().step(metrics)


@pytest.mark.parametrize("metric", ["val_loss", "val_acc"])
def test_plateau_is_stepped_once_per_epoch_with_the_validation_metric(metric):
    made = []

    def factory(opt):
        made.append(RecordingPlateau(opt, mode="min" if metric == "val_loss" else "max",
                                     patience=0, factor=0.5))
        return made[0]

    train(factory, epochs=3, lr=0.05, plateau_metric=metric, progress=False)
    calls = made[0].calls
    assert len(calls) == 3  # once per epoch, not per batch
    for given, (loss, acc) in calls:
        assert given == pytest.approx(loss if metric == "val_loss" else acc, rel=1e-5)


def test_plateau_reductions_show_in_the_recorded_lr():
    made = []

    def factory(opt):
        made.append(RecordingPlateau(opt, patience=0, factor=0.5, threshold=10.0,
                                     threshold_mode="abs"))
        return made[0]

    # An improvement must beat the best loss by 10 (absolute): only the first epoch does, so
    # with patience 0 the rate halves after epoch 2 and again after epoch 3.
    h = train(factory, epochs=4, lr=0.08, progress=False)
    assert [h.lr[e * SPE] for e in range(4)] == pytest.approx([0.08, 0.08, 0.04, 0.02])


# --- the recorded lr is the lr the optimizer used -------------------------------------------------

class RecordingSGD(torch.optim.SGD):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.used = []

    def step(self, closure=None):
        self.used.append([g["lr"] for g in self.param_groups])
        return super().step(closure)


@pytest.mark.parametrize("scheduler", [
    ("OneCycleLR", {"max_lr": [0.2, 0.02], "total_steps": 2 * SPE}),
    lambda opt: lr_scheduler.LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: 1.0 / (e + 1)]),
])
def test_recorded_lr_is_what_the_optimizer_used_in_every_group(scheduler):
    opts = []

    def two_groups(model, lr):
        body, head = model[0].parameters(), model[2].parameters()
        opts.append(RecordingSGD([{"params": body}, {"params": head, "lr": lr / 10}],
                                 lr=lr, momentum=0.9))
        return opts[0]

    h = train(scheduler, epochs=2, lr=0.1, optimizer=two_groups, progress=False)
    assert h.group_lrs == opts[0].used
    assert h.lr == [u[0] for u in opts[0].used]
    assert len(h.lr) == 2 * SPE


# --- determinism --------------------------------------------------------------------------------

def test_same_seed_same_numbers_other_seed_other_numbers():
    spec = ("StepLR", {"step_size": 1, "gamma": 0.7})
    a = train(spec, epochs=2, seed=3, progress=False)
    b = train(spec, epochs=2, seed=3, progress=False)
    c = train(spec, epochs=2, seed=4, progress=False)
    assert a.loss == b.loss and a.val_loss == b.val_loss
    assert a.loss != c.loss


def test_progress_bar_can_be_disabled(capsys):
    train(None, epochs=1, progress=False)
    assert capsys.readouterr().err == ""
    train(None, epochs=1, progress=True)
    assert "constant" in capsys.readouterr().err


def test_bad_specs_are_explained():
    with pytest.raises(TypeError, match="scheduler must be None, a name"):
        train(42, epochs=1, progress=False)
    with pytest.raises(ValueError, match="no scheduler called 'StepLr'"):
        train("StepLr", epochs=1, progress=False)
    with pytest.raises(ValueError, match="step_on must be"):
        TrainConfig(step_on="iteration")


# --- find_lr ----------------------------------------------------------------------------------

def snapshot(model, optimizer):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            [g["lr"] for g in optimizer.param_groups],
            {k: {n: t.clone() for n, t in s.items()} for k, s in optimizer.state.items()})


def test_find_lr_restores_model_optimizer_and_data_order():
    model = make_model(seed=1)
    loader, _ = make_loaders(seed=1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9)
    # one real step first, so the optimizer has momentum buffers to restore
    x, y = next(iter(make_loaders(seed=9)[0]))
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
    before = snapshot(model, optimizer)
    gen_before = loader.generator.get_state()
    rng_before = torch.get_rng_state()

    result = find_lr(model, loader, optimizer, num_steps=60, progress=False)

    after = snapshot(model, optimizer)
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0])
    assert after[1] == [0.03]
    assert all(torch.equal(before[2][p][n], after[2][p][n])
               for p in before[2] for n in before[2][p])
    assert torch.equal(loader.generator.get_state(), gen_before)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert model.training
    assert len(result.lrs) > 10


def test_find_lr_sweeps_exponentially_and_suggests_inside_the_range():
    model = make_model()
    loader, _ = make_loaders()
    r = find_lr(model, loader, start_lr=1e-4, end_lr=10.0, num_steps=50, progress=False)
    n = len(r.lrs)
    np.testing.assert_allclose(r.lrs, [1e-4 * 1e5 ** (k / 49) for k in range(n)], rtol=1e-12)
    assert r.lrs[0] <= r.suggestion <= r.lrs[-1]
    assert 1e-4 <= r.steepest <= r.lr_at_min <= 10.0
    assert r.suggestion == pytest.approx(r.lr_at_min / 10)
    # the smoothed loss at the minimum is below where it started, and the reasoning says so
    assert r.smoothed.min() < r.smoothed[0] and f"{r.suggestion:.3g}" in str(r)
    # where the suggestion sits is read off the measured slope, not asserted by the rule
    k = int(np.argmin(np.abs(np.log(r.lrs) - np.log(r.suggestion))))
    falling = np.gradient(r.smoothed, np.log(r.lrs))[k] < 0
    assert ("still falling there" in str(r)) == falling
    assert ("not falling there" in str(r)) == (not falling)
    # bias-corrected moving average: the first smoothed value is the first loss itself
    assert r.smoothed[0] == pytest.approx(r.losses[0])
    assert r.smoothed[1] == pytest.approx((0.09 * r.losses[0] + 0.1 * r.losses[1]) / 0.19)


def test_find_lr_says_when_the_suggestion_is_not_on_the_falling_part():
    from lrcourse.training.lr_finder import _suggest

    lrs = np.geomspace(1e-3, 1.0, 40)
    # flat until 0.1, then falling to a minimum near 0.5, then rising: lr_at_min / 10 = 0.05
    # lies on the flat part, where the slope is 0
    smoothed = np.where(lrs < 0.1, 2.0, 2.0 - 1.5 * np.log10(lrs / 0.1) / np.log10(5))
    smoothed = np.where(lrs > 0.5, 0.5 + 3 * (lrs - 0.5), smoothed)
    r = _suggest(lrs, smoothed, smoothed, 1e-3, 1.0, True, 40)
    assert "not falling there" in str(r)


def test_find_lr_cycles_a_short_loader_and_stops_when_the_loss_explodes():
    model = make_model()
    loader, _ = make_loaders(batch_size=512)  # 2 batches per pass
    r = find_lr(model, loader, start_lr=1e-3, end_lr=1e3, num_steps=80, progress=False)
    assert r.stopped_early and len(r.lrs) < 80
    assert r.smoothed[-1] > 4 * r.smoothed.min()


def test_find_lr_empty_loader():
    empty = DataLoader(TensorDataset(torch.zeros(0, 64), torch.zeros(0, dtype=torch.int64)),
                       batch_size=8)
    with pytest.raises(ValueError, match="no batches"):
        find_lr(make_model(), empty, progress=False)
    with pytest.raises(ValueError, match="no batches"):
        find_lr(make_model(), [], progress=False)


def test_find_lr_diverging_from_the_start():
    model = make_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loader, _ = make_loaders()
    with pytest.raises(LRRangeTestDiverged, match="start_lr=100 is probably already too large"):
        find_lr(model, loader, start_lr=100.0, end_lr=1e5, num_steps=30, progress=False)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_find_lr_nan_loss():
    nan_loss = lambda out, y: F.cross_entropy(out, y) * float("nan")  # noqa: E731
    with pytest.raises(LRRangeTestDiverged, match="at the first step"):
        find_lr(make_model(), make_loaders()[0], loss_fn=nan_loss, progress=False)


def test_find_lr_argument_checks_and_export():
    assert lrcourse.find_lr is find_lr
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        find_lr(make_model(), [], start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="num_steps"):
        find_lr(make_model(), [], num_steps=3)


# --- checkpoints ----------------------------------------------------------------------------------

def test_last_epoch_without_initial_lr_is_torchs_keyerror_and_loading_avoids_it(tmp_path):
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt, scheduler=sched, epoch=3)

    fresh_model = make_model(seed=5)
    fresh_opt = torch.optim.SGD(fresh_model.parameters(), lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(fresh_opt, step_size=2, gamma=0.5, last_epoch=3)

    fresh_opt = torch.optim.SGD(fresh_model.parameters(), lr=0.1)
    fresh_sched = lr_scheduler.StepLR(fresh_opt, step_size=2, gamma=0.5)
    saved = load_checkpoint(tmp_path / "c.pt", model=fresh_model, optimizer=fresh_opt,
                            scheduler=fresh_sched)
    assert saved["epoch"] == 3
    assert fresh_opt.param_groups[0]["lr"] == 0.05 and fresh_sched.last_epoch == 3
    fresh_opt.step()
    fresh_sched.step()
    assert fresh_opt.param_groups[0]["lr"] == 0.025  # epoch 4: 0.1 * 0.5 ** 2


def test_resume_needs_the_factory_again(tmp_path):
    factory = lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.9)  # noqa: E731
    t = Trainer(TrainConfig(factory, epochs=2))
    t.run(until=1, progress=False)
    t.save(tmp_path / "f.pt")
    with pytest.raises(ValueError, match="pass it again"):
        Trainer.resume(tmp_path / "f.pt")
    resumed = Trainer.resume(tmp_path / "f.pt", scheduler=factory)
    assert resumed.run(progress=False).lr[SPE] == pytest.approx(0.05 * 0.9)


def test_save_refuses_a_checkpoint_that_weights_only_loading_would_refuse(tmp_path):
    # np.cos returns numpy.float64: LambdaLR writes it into the optimizer's lr, torch.save
    # pickles it, and torch.load(weights_only=True), what resume uses, refuses the file.
    factory = lambda opt: lr_scheduler.LambdaLR(opt, lambda e: np.cos(e / 10))  # noqa: E731
    t = Trainer(TrainConfig(factory, epochs=2))
    t.run(until=1, progress=False)
    with pytest.raises(ValueError, match=r"optimizer\['param_groups'\]\[0\]\['lr'\] holds a "
                                         r"numpy\.float64.*float\("):
        t.save(tmp_path / "np.pt")
    with pytest.raises(Exception):                 # the refusal the check anticipates
        torch.load(tmp_path / "np.pt", weights_only=True)

    fixed = lambda opt: lr_scheduler.LambdaLR(opt, lambda e: math.cos(e / 10))  # noqa: E731
    t = Trainer(TrainConfig(fixed, epochs=2))
    t.run(until=1, progress=False)
    t.save(tmp_path / "math.pt")                   # plain floats: saved and loadable
    assert torch.load(tmp_path / "math.pt", weights_only=True)["epoch"] == 1


def test_first_unplain_names_the_entry_and_accepts_plain_data():
    from lrcourse.training.loop import _first_unplain

    plain = {"a": [1, 2.5, "x", None, True, torch.zeros(2)], "b": {"c": (1, 2)}}
    assert _first_unplain(plain) is None
    where, value = _first_unplain({"a": [1.0, {"b": np.float64(0.5)}]})
    assert where == "a[1]['b']" and type(value) is np.float64


RESUME = textwrap.dedent("""
    import json, sys
    from lrcourse.training import Trainer
    history = Trainer.resume(sys.argv[1]).run(progress=False)
    json.dump(history.as_dict(), open(sys.argv[2], "w"))
""")


@pytest.mark.parametrize("spec", [
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": 4 * SPE}),
    ("ReduceLROnPlateau", {"patience": 0, "factor": 0.5, "threshold": 10.0,
                           "threshold_mode": "abs"}),  # halves after epochs 2 and 3
    ("WarmupStableDecay", {"warmup_steps": 10, "total_steps": 4 * SPE, "decay_steps": 30}),
])
def test_resume_in_a_fresh_process_equals_the_uninterrupted_run(spec, tmp_path):
    config = TrainConfig(spec, epochs=4, lr=0.05, seed=2)
    whole = Trainer(config).run(progress=False)

    first = Trainer(config)
    first.run(until=2, progress=False)
    first.save(tmp_path / "half.pt")
    out = tmp_path / "resumed.json"
    subprocess.run([sys.executable, "-c", RESUME, str(tmp_path / "half.pt"), str(out)],
                   check=True, timeout=120)
    resumed = json.loads(out.read_text())

    assert len(resumed["lr"]) == 4 * SPE
    assert resumed["lr"] == whole.lr            # exactly, not approximately
    assert resumed["group_lrs"] == whole.group_lrs
    assert resumed["loss"] == whole.loss
    assert resumed["val_loss"] == whole.val_loss
    assert resumed["val_acc"] == whole.val_acc
    if spec[0] == "ReduceLROnPlateau":  # the test means something only if the rate moved
        assert len(set(whole.lr)) > 1


def test_resume_methods_load_state_dict_follows_the_uninterrupted_curve():
    from lrcourse.training import resume_methods

    runs = resume_methods("StepLR", 0.1, 4, 8, step_size=2, gamma=0.5)
    assert runs["uninterrupted"] == pytest.approx([0.025, 0.025, 0.0125, 0.0125])
    assert runs["load_state_dict"] == runs["uninterrupted"]
    assert runs["last_epoch=k"] != runs["uninterrupted"]
