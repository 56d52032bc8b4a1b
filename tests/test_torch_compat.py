"""What the course does to work with every torch from its floor (2.3) on, checked against the
torch installed here (``LRCOURSE_TORCH="torch==2.3.1" ./course test`` runs this on another).

* Before 2.9, ``SequentialLR.step()`` calls ``scheduler.step(0)`` at each milestone, and torch
  warns that passing an epoch is deprecated; :func:`lrcourse.reference.strict_warnings` ignores
  exactly that message there, and nothing else anywhere.
* Before 2.4, ``OneCycleLR.state_dict()`` holds ``anneal_func`` (a bound method), which
  ``torch.load(weights_only=True)`` refuses; checkpoints leave it out.
"""

from __future__ import annotations

import io
import warnings

import pytest
import torch
from torch.optim import lr_scheduler

from lrcourse import reference
from lrcourse.training.checkpoints import load_checkpoint, save_checkpoint, scheduler_state


def _sequential(optimizer):
    return lr_scheduler.SequentialLR(
        optimizer, [lr_scheduler.ConstantLR(optimizer, factor=0.5, total_iters=2),
                    lr_scheduler.ExponentialLR(optimizer, gamma=0.9)], milestones=[2])


def _step_past_the_milestone() -> list[warnings.WarningMessage]:
    optimizer = reference.make_optimizer(1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler = _sequential(optimizer)
        for _ in range(4):
            optimizer.step()
            scheduler.step()
    return list(caught)


def test_the_version_test_matches_what_this_torch_does():
    """SEQUENTIAL_STEPS_WITH_EPOCH is derived from the version number; this torch's own
    SequentialLR must warn exactly when it says so."""
    messages = [str(w.message) for w in _step_past_the_milestone()]
    warned = any(m.startswith(reference.STEP0_DEPRECATION) for m in messages)
    assert warned == reference.SEQUENTIAL_STEPS_WITH_EPOCH, (torch.__version__, messages)


def test_strict_warnings_lets_sequentiallr_through_with_its_torch_values():
    curve = reference.lr_curve(
        "SequentialLR", 5, 1.0, milestones=[2],
        schedulers=[("ConstantLR", {"factor": 0.5, "total_iters": 2}),
                    ("ExponentialLR", {"gamma": 0.9})])
    assert curve.tolist() == pytest.approx([0.5, 0.5, 1.0, 0.9, 0.81], rel=1e-12)


def test_strict_warnings_still_raises_every_other_warning():
    with pytest.raises(UserWarning, match="something else"):
        with reference.strict_warnings():
            warnings.warn("something else", UserWarning)
    # the same deprecation caused by the user's own call, step(epoch), on a non-composite:
    # an error on torch >= 2.9 (nothing to excuse there), ignored only where SequentialLR
    # itself causes it
    optimizer = reference.make_optimizer(1.0)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    optimizer.step()
    if reference.SEQUENTIAL_STEPS_WITH_EPOCH:
        with reference.strict_warnings():
            scheduler.step(1)
    else:
        with pytest.raises(UserWarning, match="epoch parameter"):
            with reference.strict_warnings():
                scheduler.step(1)


class _OldOneCycle:
    """A scheduler whose state dict holds a function, as OneCycleLR's did before torch 2.4."""

    def state_dict(self):
        return {"last_epoch": 3, "anneal_func": self.anneal, "total_steps": 10}

    def anneal(self, start, end, pct):  # pragma: no cover - never called
        return end


def test_a_function_in_the_state_dict_is_left_out_of_the_checkpoint():
    assert scheduler_state(_OldOneCycle()) == {"last_epoch": 3, "total_steps": 10}
    model = torch.nn.Linear(1, 1)
    buffer = io.BytesIO()
    save_checkpoint(buffer, model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                    scheduler=_OldOneCycle())
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True)["scheduler"] == {"last_epoch": 3,
                                                                  "total_steps": 10}


def test_onecycle_resumes_from_a_safe_checkpoint_on_this_torch():
    def build():
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return model, optimizer, lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=20)

    def rates(optimizer, scheduler, n):
        out = []
        for _ in range(n):
            out.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        return out

    torch.manual_seed(0)
    model, optimizer, scheduler = build()
    rates(optimizer, scheduler, 8)
    buffer = io.BytesIO()
    save_checkpoint(buffer, model=model, optimizer=optimizer, scheduler=scheduler)
    uninterrupted = rates(optimizer, scheduler, 12)

    model, optimizer, scheduler = build()
    buffer.seek(0)
    load_checkpoint(buffer, model=model, optimizer=optimizer, scheduler=scheduler)
    assert rates(optimizer, scheduler, 12) == uninterrupted
