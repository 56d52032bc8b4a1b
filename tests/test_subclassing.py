"""lrcourse.lessons.subclassing: how torch's own schedulers compute a rate (lesson 15).

The expected table is a reading of torch/optim/lr_scheduler.py (2.13): which get_lr methods start
from group["lr"], which classes define _get_closed_form_lr, and which call
_warn_get_lr_called_within_step; the helper finds it by running the classes.
"""

import inspect

import pytest
import torch
from torch.optim import lr_scheduler

from lrcourse.lessons import subclassing
from lrcourse.schedules import TORCH_SCHEDULERS

CHAINABLE = {"MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
             "ExponentialLR", "PolynomialLR", "CosineAnnealingLR"}
ABSOLUTE = {"LambdaLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR"}


def test_the_table_is_torchs():
    forms = subclassing.builtin_forms()
    assert [f.name for f in forms] == [n for n in TORCH_SCHEDULERS
                                       if n not in subclassing.WITHOUT_GET_LR]
    assert {f.name for f in forms if f.chainable} == CHAINABLE
    assert {f.name for f in forms if not f.chainable} == ABSOLUTE
    assert {f.name for f in forms if f.closed_form} == CHAINABLE - {"MultiplicativeLR"}
    assert all(f.warns for f in forms)


@pytest.mark.parametrize("name", sorted(CHAINABLE | ABSOLUTE))
def test_the_warning_comes_from_each_classes_own_get_lr(name):
    source = inspect.getsource(getattr(lr_scheduler, name).get_lr)
    assert "_warn_get_lr_called_within_step" in source


def test_the_classes_without_get_lr_have_none_of_their_own():
    for name in subclassing.WITHOUT_GET_LR:
        assert "get_lr" not in vars(getattr(lr_scheduler, name)), name


def test_the_warning_text_is_torchs():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    with pytest.warns(UserWarning) as caught:
        scheduler.get_lr()
    assert [str(w.message) for w in caught] == [subclassing.GET_LR_WARNING]


def test_print_forms(capsys):
    subclassing.print_forms([subclassing.Form("StepLR", True, True, True),
                             subclassing.Form("LambdaLR", False, False, True)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["StepLR", "yes", "yes", "yes"]
    assert lines[2].split() == ["LambdaLR", "no", "no", "yes"]
