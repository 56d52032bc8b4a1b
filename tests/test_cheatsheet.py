"""The cheat sheet's settings and formula rows (against torch and hand-computed values) and
plots.grid_figure."""

import math

import numpy as np
import pytest

from lrcourse import TORCH_SCHEDULERS, plots, reference
from lrcourse.lessons import cheatsheet
from lrcourse.lessons.synthetic import validation_loss


def test_one_entry_per_torch_scheduler_in_course_order():
    assert list(cheatsheet.ENTRIES) == list(TORCH_SCHEDULERS)
    assert list(cheatsheet.curves()) == list(TORCH_SCHEDULERS)


def test_every_setting_matches_torch():
    curves = cheatsheet.curves()
    for name in TORCH_SCHEDULERS:
        torch_curve = reference.lr_curve(name, cheatsheet.STEPS, cheatsheet.LR,
                                         **cheatsheet.kwargs_for(name))
        np.testing.assert_allclose(curves[name], torch_curve, rtol=1e-9, atol=1e-15)


def test_values_by_hand():
    c = cheatsheet.curves()
    assert math.isclose(c["StepLR"][99], 1e-4)
    assert math.isclose(c["CosineAnnealingLR"][50], 0.0505)
    assert math.isclose(c["OneCycleLR"][29], 0.1)
    assert math.isclose(c["MultiplicativeLR"][31], 0.1 * 0.94**30 * 0.99)
    assert math.isclose(c["LambdaLR"][20], 0.1 / 2)
    assert math.isclose(c["SequentialLR"][0], 0.01)


def test_marks():
    m = cheatsheet.marks(cheatsheet.curves())
    assert m["StepLR"] == [30, 60, 90] and m["CosineAnnealingWarmRestarts"] == [20, 60]
    assert m["ReduceLROnPlateau"] == [37, 43, 49, 55]


def test_table():
    lines = cheatsheet.table().splitlines()
    assert len(lines) == 2 + 15
    assert lines[0] == ("| scheduler | usually stepped per | key parameters "
                        "| when to use (a rule of thumb) |")
    row = lines[1 + TORCH_SCHEDULERS.index("OneCycleLR") + 1]
    assert row.startswith("| `OneCycleLR` | batch |")


def test_choices_and_pair():
    assert cheatsheet.choices("OneCycleLR")[0] == "OneCycleLR"
    assert sorted(cheatsheet.choices("OneCycleLR")) == sorted(TORCH_SCHEDULERS)
    assert list(cheatsheet.pair("StepLR", "StepLR")) == ["StepLR"]
    assert list(cheatsheet.pair("StepLR", "LinearLR")) == ["StepLR", "LinearLR"]


def test_print_values(capsys):
    cheatsheet.print_values({"StepLR": cheatsheet.curves()["StepLR"]}, steps=(0, 99))
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["StepLR", "0.1", "0.0001"]


def test_grid_figure_panels_titles_and_marks():
    curves = {"a": np.linspace(1, 0, 10), "b": np.ones(10), "c": np.zeros(10), "d": np.arange(10.0)}
    fig = plots.grid_figure(curves, ncols=3, marks={"a": [2, 5]})
    axes = fig.axes
    assert len(axes) == 6
    visible = [ax for ax in axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["a", "b", "c", "d"]
    assert len(visible[0].lines) == 1 + 2 and len(visible[1].lines) == 1
    assert visible[3].get_ylim()[1] == 9.0 * 1.08
    assert plots.to_png(fig)[:4] == b"\x89PNG"


def test_formula_table_one_row_per_scheduler():
    lines = cheatsheet.formula_table().splitlines()
    assert lines[:2] == ["| scheduler | rate at step $t$ |", "|---|---|"]
    assert [line.split("`")[1] for line in lines[2:]] == list(TORCH_SCHEDULERS)


def test_every_formula_row_matches_torch_with_the_sheet_settings():
    for name in TORCH_SCHEDULERS:
        torch_curve = reference.lr_curve(name, cheatsheet.STEPS, cheatsheet.LR,
                                         **cheatsheet.kwargs_for(name))
        np.testing.assert_allclose(cheatsheet.formula_values(name), torch_curve,
                                   rtol=1e-9, atol=1e-15, err_msg=name)


# Other settings than the sheet's, so that a row is not right only by the luck of one setting.
OTHER_SETTINGS = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 3, 40], gamma=0.5)),  # a repeated milestone
    ("ConstantLR", dict(factor=0.25, total_iters=9)),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.2, total_iters=30)),  # a linear decay
    ("ExponentialLR", dict(gamma=0.9)),
    ("PolynomialLR", dict(total_iters=60, power=0.5)),
    ("CosineAnnealingLR", dict(T_max=30, eta_min=0.01)),  # past T_max it climbs back
    ("CosineAnnealingWarmRestarts", dict(T_0=7, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=3)),
    ("CyclicLR", dict(base_lr=0.02, max_lr=0.3, step_size_up=4, step_size_down=11)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=100, pct_start=0.25, div_factor=10.0,
                        final_div_factor=100.0)),
    ("ReduceLROnPlateau", dict(metrics=validation_loss(100, noise=0.02, seed=3), patience=3,
                               factor=0.3, min_lr=0.002)),
    ("SequentialLR", dict(schedulers=[("LinearLR", dict(start_factor=0.3, total_iters=20)),
                                      ("CosineAnnealingLR", dict(T_max=50, eta_min=0.001))],
                          milestones=[20])),
    ("ChainedScheduler", dict(schedulers=[("ExponentialLR", dict(gamma=0.95)),
                                          ("MultiStepLR", dict(milestones=[10, 60], gamma=0.5))])),
]


@pytest.mark.parametrize("name, kwargs", OTHER_SETTINGS, ids=[n for n, _ in OTHER_SETTINGS])
def test_formula_rows_match_torch_with_other_settings(name, kwargs):
    ours = cheatsheet.FORMULAS[name].values(np.arange(100), 0.1, kwargs)
    np.testing.assert_allclose(ours, reference.lr_curve(name, 100, 0.1, **kwargs),
                               rtol=1e-9, atol=1e-15)


def test_lambda_rows_by_hand():
    t = np.arange(5)
    lam = cheatsheet.FORMULAS["LambdaLR"].values(t, 2.0, dict(lr_lambda=lambda k: 0.5**k))
    mult = cheatsheet.FORMULAS["MultiplicativeLR"].values(t, 2.0, dict(lr_lambda=lambda k: 0.5))
    assert np.allclose(lam, [2, 1, 0.5, 0.25, 0.125]) and np.allclose(mult, lam)
