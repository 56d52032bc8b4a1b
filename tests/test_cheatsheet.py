"""The cheat sheet's settings (against torch and hand-computed values) and plots.grid_figure."""

import math

import numpy as np

from lrcourse import TORCH_SCHEDULERS, plots, reference
from lrcourse.lessons import cheatsheet


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
    assert lines[0] == "| scheduler | stepped per | key parameters | when to use |"
    assert lines[1 + TORCH_SCHEDULERS.index("OneCycleLR") + 1].startswith("| `OneCycleLR` | batch |")


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
