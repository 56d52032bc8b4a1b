"""The cheat sheet's settings, formulas (read from the closed forms' docstrings) and tables,
against torch and hand-computed values; and plots.grid_figure."""

import inspect
import math
from pathlib import Path

import numpy as np
import pytest

from lrcourse import TORCH_SCHEDULERS, lr_curve, plots, reference
from lrcourse.lessons import cheatsheet
from lrcourse.lessons.libraries import compare_cases_with_library
from lrcourse.schedules import LIBRARY_SCHEDULERS, SCHEDULES

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


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
    assert lines[0] == ("| schedule | usually stepped per | key parameters "
                        "| when to use (a rule of thumb) | lesson |")
    row = lines[1 + TORCH_SCHEDULERS.index("OneCycleLR") + 1]
    assert row.startswith("| `OneCycleLR` | batch |")
    assert row.endswith("| [6](06_cyclic_onecycle.ipynb) |")


def test_choices_and_pair():
    assert cheatsheet.choices("OneCycleLR")[0] == "OneCycleLR"
    assert sorted(cheatsheet.choices("OneCycleLR")) == sorted(cheatsheet.ALL_NAMES)
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


# ---------------------------------------------------------------- beyond torch.optim.lr_scheduler


def test_the_sheet_covers_every_schedule_the_course_registers():
    beyond = set(SCHEDULES) - set(TORCH_SCHEDULERS)
    assert set(cheatsheet.BEYOND) == beyond
    assert {"SWALR", "CosineLRScheduler", "WarmupCosine", "WarmupStableDecay", "InverseSqrt",
            *LIBRARY_SCHEDULERS["transformers"]} == beyond and len(beyond) == 11
    assert cheatsheet.ALL_NAMES == (*TORCH_SCHEDULERS, *cheatsheet.BEYOND_NAMES)


def test_every_schedule_beyond_torch_matches_torch_stepped():
    for name in cheatsheet.BEYOND_NAMES:
        ours = lr_curve(name, cheatsheet.STEPS, cheatsheet.LR, **cheatsheet.kwargs_for(name))
        np.testing.assert_allclose(ours, cheatsheet.torch_curve(name), rtol=1e-9, atol=1e-15,
                                   err_msg=name)


def test_torch_curve_steps_torch_not_the_closed_form():
    kw = cheatsheet.kwargs_for("SWALR")
    np.testing.assert_array_equal(cheatsheet.torch_curve("SWALR"),
                                  reference.swalr_curve(cheatsheet.STEPS, cheatsheet.LR, **kw))
    assert cheatsheet.torch_source("SWALR").startswith("torch.optim.swa_utils.SWALR")
    assert cheatsheet.torch_source("get_wsd_schedule") == (
        "the LambdaLR of schedules.huggingface.get_wsd_schedule")
    assert cheatsheet.torch_source("StepLR") == "torch.optim.lr_scheduler.StepLR"


def test_check_against_torch_prints_a_line_per_schedule_and_catches_a_wrong_one(
        capsys, monkeypatch):
    cheatsheet.check_against_torch(["SWALR", "get_inverse_sqrt_schedule"])
    assert capsys.readouterr().out.splitlines() == [
        "SWALR: closed form == torch.optim.swa_utils.SWALR after CosineAnnealingLR on all 100 "
        "steps",
        "get_inverse_sqrt_schedule: closed form == the LambdaLR of "
        "schedules.huggingface.get_inverse_sqrt_schedule on all 100 steps"]
    monkeypatch.setattr(cheatsheet, "lr_curve", lambda *a, **k: lr_curve(*a, **k) * 1.001)
    with pytest.raises(AssertionError, match="InverseSqrt: closed form .* at step 1"):
        cheatsheet.check_against_torch(["InverseSqrt"])


@pytest.mark.parametrize("library", ["transformers", "timm"])
def test_the_sheet_settings_match_the_real_libraries(library, capsys):
    reason = reference.missing_library(library)
    if reason:
        pytest.skip(reason)
    cases = [(n, kw) for n, kw in cheatsheet.library_cases() if n in LIBRARY_SCHEDULERS[library]]
    assert len(cases) == len(LIBRARY_SCHEDULERS[library])
    assert compare_cases_with_library(cases, cheatsheet.STEPS, cheatsheet.LR) == len(cases)


def test_values_beyond_torch_by_hand():
    c = cheatsheet.curves(cheatsheet.BEYOND_NAMES)
    assert math.isclose(c["get_linear_schedule_with_warmup"][55], 0.1 * 45 / 90)
    assert math.isclose(c["WarmupCosine"][55], 0.001 + 0.099 / 2)
    assert math.isclose(c["InverseSqrt"][40], 0.1 * math.sqrt(10 / 40))
    assert math.isclose(c["WarmupStableDecay"][90], 0.05)               # halfway down, linear
    assert math.isclose(c["SWALR"][50], 0.05) and np.allclose(c["SWALR"][60:], 0.02)
    assert math.isclose(c["CosineLRScheduler"][45], 0.05)               # 2nd cycle at 0.5 lr
    assert np.allclose(c["CosineLRScheduler"][85:], 0.001)              # after cycle_limit=2
    assert math.isclose(c["get_wsd_schedule"][0], 0.01)                 # from min_lr_ratio * lr
    assert math.isclose(c["get_cosine_with_hard_restarts_schedule_with_warmup"][40], 0.1)


def test_marks_beyond_torch():
    m = cheatsheet.marks(cheatsheet.curves(cheatsheet.BEYOND_NAMES))
    assert m["SWALR"] == [50, 60] and m["WarmupStableDecay"] == [10, 80]
    assert m["get_cosine_with_hard_restarts_schedule_with_warmup"] == [10, 40, 70]
    assert m["CosineLRScheduler"] == [5, 45, 85]


def test_beyond_table_names_where_each_comes_from_and_links_its_lesson():
    lines = cheatsheet.table(cheatsheet.BEYOND_NAMES).splitlines()
    assert lines[0] == ("| schedule | from | usually stepped per | key parameters "
                        "| when to use (a rule of thumb) | lesson |")
    assert len(lines) == 2 + 11
    rows = {line.split("`")[1]: line for line in lines[2:]}
    assert "| torch.optim.swa_utils |" in rows["SWALR"] and "| timm |" in rows["CosineLRScheduler"]
    assert rows["SWALR"].endswith("| [17](17_stochastic_weight_averaging.ipynb) |")
    for number, notebook in cheatsheet.LESSONS.items():
        assert (NOTEBOOKS / notebook).is_file() and notebook.startswith(f"{number:02d}_")


# ---------------------------------------------------------------- the formula table


def test_each_formula_is_the_one_its_closed_form_states():
    assert cheatsheet.formula("StepLR") == (
        r"\eta_t = \eta_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}")
    assert cheatsheet.formula("ExponentialLR") == r"\eta_t = \eta_0 \, \gamma^{t}"
    # a block of several equations becomes one line
    cyclic = cheatsheet.formula("CyclicLR")
    assert cyclic.startswith(r"c = \left\lfloor 1 + t/L \right\rfloor, \qquad x = ")
    assert cyclic.endswith(r"\qquad \eta_t = \eta_{base} + (\eta_{max} - \eta_{base})\, h \, s")
    # timm's formula is in its module's docstring
    assert cheatsheet.formula("CosineLRScheduler").startswith(r"\eta_c = \begin{cases}")
    for name in cheatsheet.ALL_NAMES:
        assert "\n" not in cheatsheet.formula(name) and cheatsheet.formula(name)


def test_math_blocks_are_read_as_sphinx_reads_them():
    doc = """Intro.

    .. math:: a = b
              + c

    Text with :math:`x` inline.

    .. math::

        d = e

        f = g

    After."""
    assert cheatsheet._math_blocks(inspect.cleandoc(doc)) == [["a = b + c"], ["d = e", "f = g"]]


def test_formula_sheet_one_block_per_schedule_with_its_closed_form():
    sheet = cheatsheet.formula_sheet()
    blocks = sheet.strip().split("\n**`")
    assert [b.lstrip("*`").split("`")[0] for b in blocks] == list(TORCH_SCHEDULERS)
    step = blocks[TORCH_SCHEDULERS.index("StepLR")]
    assert step.splitlines()[:6] == [
        "StepLR`**  ", "$\\gamma$ = `gamma`; closed form `schedules.piecewise.step_lr`", "",
        "$$", cheatsheet.formula("StepLR"), "$$"]
    # a block of two equations gives two display lines; the docstring's own \qquad stays
    cyclic = blocks[TORCH_SCHEDULERS.index("CyclicLR")]
    assert cyclic.count("$$\n") == 4 and "\\qquad x = 1 + t/L - c" in cyclic
    assert "*Usually stepped per:*" not in sheet and sheet.count("$$") == 2 * 16


def test_formula_sheet_with_usage_gives_every_column_of_the_table():
    sheet = cheatsheet.formula_sheet(["SWALR", "get_wsd_schedule"], usage=True)
    head, *rest = sheet.split("\n**`")
    assert head.startswith("**`SWALR`** · torch.optim.swa_utils · lesson "
                           "[17](17_stochastic_weight_averaging.ipynb)  \n")
    assert "`schedules.swa.swalr`" in head and cheatsheet.formula("SWALR") in head
    assert ("*Usually stepped per:* epoch, from the hand-over on. *Key parameters:* `swa_lr`, "
            "`anneal_epochs`, `anneal_strategy`. *When to use (a rule of thumb):* the last part "
            "of a run, while averaging the weights (SWA).") in head
    assert rest[0].startswith("get_wsd_schedule`** · transformers · lesson [16](")


def test_panel_titles_break_long_names():
    assert cheatsheet.panel_title("SWALR") == "SWALR"
    assert cheatsheet.panel_title("get_cosine_with_hard_restarts_schedule_with_warmup") == (
        "get_cosine_with_hard_restarts_\nschedule_with_warmup")
    fig = plots.grid_figure({"a_long_name": np.ones(3)}, titles={"a_long_name": "a_long_\nname"})
    assert fig.axes[0].get_title() == "a_long_\nname"
