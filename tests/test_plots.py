"""lrcourse.plots: steps drawn as steps, legends that never cover data, and the detector that
says so (issue 10, "Figures a learner can read")."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from lrcourse import lr_curve, plots
from lrcourse.checks import _core
from lrcourse.lessons import side_by_side
from lrcourse.lessons.chaining import warmup_cosine
from lrcourse.lessons.synthetic import reductions, validation_loss
from lrcourse.training import metric_figure
from lrcourse.training.lr_finder import _suggest, smooth


def _renderer(fig):
    fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def _inside_axes(fig, legend, ax):
    r = _renderer(fig)
    box, frame = legend.get_window_extent(r), ax.get_window_extent(r)
    return frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1


# ------------------------------------------------------------------------- the detector


def test_the_detector_catches_a_legend_on_the_curves_and_names_them():
    fig, ax = plots.new_figure()
    x = np.arange(100)
    ax.plot(x, np.full(100, 0.5), label="flat")
    ax.plot(x, np.linspace(0, 1, 100), label="ramp")
    ax.plot(x, np.full(100, 0.05), label="far away")
    ax.set_ylim(0, 1.1)
    ax.legend(loc="center")
    found = plots.legend_overlaps(fig)
    assert [o.artist for o in found] == ["flat", "ramp"]
    assert all(o.points > 0 and o.crossed for o in found)
    with pytest.raises(AssertionError, match="lesson 99: the legend \\[flat, ramp, far away\\] "
                                             "covers 'flat'"):
        plots.assert_legends_clear(fig, "lesson 99")


def test_the_detector_passes_a_legend_in_an_empty_corner():
    fig, ax = plots.new_figure()
    x = np.arange(100)
    ax.plot(x, 0.1 * 0.5 ** (x // 30), label="StepLR")
    ax.plot(x, 0.1 * 0.97 ** x, label="ExponentialLR")
    ax.legend(loc="upper right")
    assert plots.legend_overlaps(fig) == []
    plots.assert_legends_clear(fig)


def test_a_line_crossing_the_legend_counts_even_without_a_point_inside():
    fig, ax = plots.new_figure()
    ax.plot([0, 100], [0, 1], label="two points")      # a diagonal through the middle
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 1)
    ax.legend(loc="center")
    (found,) = plots.legend_overlaps(fig)
    assert found.points == 0 and found.crossed and found.artist == "two points"
    assert "a line or area crosses it" in str(found)


@pytest.mark.parametrize("draw", [
    lambda ax: ax.scatter([50], [0.5], label="one dot"),
    lambda ax: ax.plot([50], [0.5], "o", label="one dot"),
    lambda ax: ax.fill_between([0, 100], [0.3, 0.3], [0.7, 0.7], label="band"),
    lambda ax: ax.bar([50], [0.6], width=10, bottom=0.2, label="bar"),
], ids=["scatter", "marker", "band", "bar"])
def test_markers_bands_and_bars_count_as_data(draw):
    fig, ax = plots.new_figure()
    draw(ax)
    ax.plot([0, 1], [0, 0], label="edge")                # something else for the legend
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 1)
    ax.legend(loc="center")
    (label,) = [t.get_text() for t in ax.get_legend().get_texts() if t.get_text() != "edge"]
    assert [o.artist for o in plots.legend_overlaps(fig)] == [label]


def test_data_clipped_away_and_dotted_guides_do_not_count():
    fig, ax = plots.new_figure()
    ax.plot([0, 10], [5, 5], label="above the axes")    # clipped: invisible where the legend is
    plots.mark_steps(ax, [50])                           # a milestone guide under the legend
    ax.plot([0, 10], [0.05, 0.05], label="edge")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 1)
    ax.legend(loc="center")
    assert plots.legend_overlaps(fig) == []


def test_the_detector_works_on_log_axes():
    fig, ax = plots.new_figure()
    x = np.logspace(-5, 1, 50)
    ax.plot(x, 1 / (1 + x), label="loss")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend(loc="upper right")          # on a log x axis the curve has already fallen there
    assert plots.legend_overlaps(fig) == []
    ax.legend(loc="upper left")           # where the curve is flat at 1
    assert [o.artist for o in plots.legend_overlaps(fig)] == ["loss"]


# ------------------------------------------------------------------------- placing legends


def test_place_legend_keeps_an_empty_corner_inside_the_axes():
    fig, ax = plots.new_figure()
    x = np.arange(100)
    ax.plot(x, 0.1 * 0.97 ** x, label="a")
    ax.plot(x, 0.05 * 0.97 ** x, label="b")
    legend = plots.place_legend(ax)
    assert _inside_axes(fig, legend, ax)
    assert tuple(fig.get_size_inches()) == plots.SIZE
    assert plots.legend_overlaps(fig, pad=plots.LEGEND_CLEARANCE - 1) == []


def test_place_legend_goes_under_the_plot_when_no_corner_is_free():
    fig, ax = plots.new_figure()
    rng = np.random.default_rng(0)
    for i in range(6):
        ax.plot(np.arange(200), rng.uniform(0, 1, 200), label=f"noise {i}")
    height = ax.get_window_extent(_renderer(fig)).height
    legend = plots.place_legend(ax)
    assert legend in fig.legends and not _inside_axes(fig, legend, ax)
    r = _renderer(fig)
    assert legend.get_window_extent(r).y1 <= ax.get_window_extent(r).y0
    assert fig.get_size_inches()[1] > plots.SIZE[1]                  # the figure grew ...
    assert ax.get_window_extent(r).height == pytest.approx(height, rel=0.03)  # ... not the plot
    assert plots.legend_overlaps(fig) == []


# ------------------------------------------------------------------------- steps


@pytest.mark.parametrize("name, kwargs, expected", [
    ("StepLR", None, True), ("MultiStepLR", None, True), ("ConstantLR", None, True),
    ("ReduceLROnPlateau", None, True), ("CosineAnnealingLR", None, False),
    ("LambdaLR", None, False), ("SequentialLR", None, False),
    ("SequentialLR", warmup_cosine(10, 100), False),
    ("SequentialLR", {"schedulers": [("ConstantLR", {}), ("ExponentialLR", {})],
                      "milestones": [5]}, True),
    ("ChainedScheduler", {"schedulers": [("ExponentialLR", {}), ("MultiStepLR", {})]}, True),
    # timm: a staircase in epoch mode with several updates per epoch, smooth otherwise
    ("CosineLRScheduler", {"t_initial": 10, "updates_per_epoch": 3}, True),
    ("CosineLRScheduler", {"t_initial": 10, "updates_per_epoch": 3, "t_in_epochs": True}, True),
    ("CosineLRScheduler", {"t_initial": 10, "updates_per_epoch": 3, "t_in_epochs": False}, False),
    ("CosineLRScheduler", {"t_initial": 10, "updates_per_epoch": 1}, False),
    ("CosineLRScheduler", {"t_initial": 10}, False),
    ("CosineLRScheduler", None, False),
])
def test_which_schedules_are_piecewise_constant(name, kwargs, expected):
    assert plots.is_piecewise_constant(name, kwargs) is expected


def test_timm_in_epoch_mode_is_a_staircase_in_its_own_values():
    # what is_piecewise_constant claims, checked on the curve: constant within each epoch of
    # three updates, and a new value at every epoch's first update
    y = lr_curve("CosineLRScheduler", 30, 0.1, t_initial=10, updates_per_epoch=3)
    epochs = y.reshape(10, 3)
    assert np.all(epochs == epochs[:, :1]) and np.all(np.diff(epochs[:, 0]) < 0)


def test_stepped_labels_by_name_by_flag_or_by_list():
    labels = ["StepLR", "MultiStepLR alone", "StepLR(step_size=10)", "ExponentialLR",
              "PyTorch StepLR", "λ = epoch // 30"]
    assert plots.stepped_labels(labels) == {"StepLR", "MultiStepLR alone", "StepLR(step_size=10)"}
    assert plots.stepped_labels(labels, True) == set(labels)
    assert plots.stepped_labels(labels, False) == set()
    assert plots.stepped_labels(labels, ["ExponentialLR", "not plotted"]) == {"ExponentialLR"}
    assert plots.stepped_labels(labels, "ExponentialLR") == {"ExponentialLR"}


def test_curve_xy_holds_the_last_value_for_one_more_step():
    x, y = plots.curve_xy([1.0, 1.0, 0.5], stepped=True)
    assert x.tolist() == [0, 1, 2, 3] and y.tolist() == [1.0, 1.0, 0.5, 0.5]
    x, y = plots.curve_xy([1.0, 0.5], stepped=False)
    assert x.tolist() == [0, 1] and y.tolist() == [1.0, 0.5]


def test_curve_figure_draws_step_schedules_as_steps():
    curves = {"StepLR": lr_curve("StepLR", 10, 1.0, step_size=4, gamma=0.5),
              "ExponentialLR": lr_curve("ExponentialLR", 10, 1.0, gamma=0.9)}
    fig = plots.curve_figure(curves)
    step, smooth_ = fig.axes[0].lines[:2]
    assert step.get_drawstyle() == "steps-post" and smooth_.get_drawstyle() == "default"
    vertices = [tuple(v) for v in step.get_path().vertices]
    assert (4.0, 1.0) in vertices and (4.0, 0.5) in vertices      # straight down at step 4
    assert not any(0.5 < y < 1.0 for _, y in vertices)          # never between two levels
    told = plots.curve_figure({"λ = epoch // 4": curves["StepLR"], "other": curves["StepLR"]},
                              stepped={"λ = epoch // 4"}, xlabel="epoch")
    assert [line.get_drawstyle() for line in told.axes[0].lines] == ["steps-post", "default"]
    assert told.axes[0].get_xlabel() == "epoch"


def test_identical_curves_stay_visible():
    # lesson 11: ReduceLROnPlateau that never cut is the constant rate
    constant = np.full(315, 0.05)
    fig = plots.curve_figure({"constant": constant, "cosine": np.linspace(0.05, 0, 315),
                              "ReduceLROnPlateau": constant.copy()}, stepped=True)
    first, _, twin = fig.axes[0].lines[:3]
    assert first.get_linestyle() == "-"
    assert twin.get_linestyle() == "--" and twin.get_marker() == "o"
    assert twin.get_zorder() >= first.get_zorder()
    assert plots.legend_overlaps(fig) == []


def test_shared_stretches_are_found_where_curves_coincide():
    a = np.r_[np.full(10, 1.0), np.linspace(0.9, 0, 10)]
    b = np.r_[np.full(10, 1.0), np.full(10, 0.5)]            # same as a for steps 0-9, then not
    c = np.linspace(1.0, 0.0, 20)                           # crosses a only at step 0
    d = np.r_[np.full(4, 2.0), np.full(16, 1.0)]              # equal to a and b from step 4 to 9
    found = plots.shared_stretches([a, b, c], min_steps=3)
    assert found == [plots.SharedStretch(0, 10, (0, 1))]
    found = plots.shared_stretches([a, b, d], min_steps=3)
    assert found == [plots.SharedStretch(0, 10, (0, 1)), plots.SharedStretch(4, 10, (0, 1, 2))]
    # a stretch shorter than min_steps, curves drawn differently, or of unequal length
    assert plots.shared_stretches([a, b], min_steps=11) == []
    assert plots.shared_stretches([a, b], min_steps=3, stepped=[True, False]) == []
    assert plots.shared_stretches([a[:6], b], min_steps=3) == [plots.SharedStretch(0, 6, (0, 1))]
    # the default minimum: 3 % of the longest curve, at least 3 steps
    long_a, long_b = np.r_[np.ones(20), np.zeros(980)], np.r_[np.ones(20), np.full(980, 2.0)]
    assert plots.shared_stretches([long_a, long_b]) == []                 # 20 < 30 steps
    assert plots.shared_stretches([long_a[:100], long_b[:100]]) == [
        plots.SharedStretch(0, 20, (0, 1))]                                # 20 >= 3 steps


def _pixels_near(rgba, color, box, tolerance=40):
    """How many pixels in ``box`` (x0, x1, y0, y1 in image rows/columns) are close to ``color``."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    x0, x1, y0, y1 = box
    patch = rgba[y0:y1, x0:x1, :3].astype(int)
    return int(np.sum(np.abs(patch - [r, g, b]).sum(axis=2) < tolerance))


def test_a_run_that_branches_off_another_stays_visible_where_they_coincide():
    # lesson 13: WSD decayed at T=600 and at T=1000 share every rate up to step 480
    short = lr_curve("WarmupStableDecay", 1000, 1e-3, warmup_steps=50, total_steps=600,
                     decay_steps=120)
    long = lr_curve("WarmupStableDecay", 1000, 1e-3, warmup_steps=50, total_steps=1000,
                    decay_steps=200)
    fig = plots.curve_figure({"T = 600": short, "T = 1000": long}, marks=[480])
    ax = fig.axes[0]
    solid = [line for line in ax.lines if line.get_label().startswith("T =")]
    assert [line.get_linestyle() for line in solid] == ["-", "-"]      # both solid, as the legend
    shared = [line for line in ax.lines if line.get_gid() == plots.SHARED]
    assert len(shared) == 2 and {line.get_color() for line in shared} == {
        solid[0].get_color(), solid[1].get_color()}
    assert all(line.get_xdata()[0] == 0 and line.get_xdata()[-1] == 480 for line in shared)
    assert all(line.get_zorder() > max(s.get_zorder() for s in solid) for line in shared)
    offsets = {line._unscaled_dash_pattern[0] for line in shared}
    assert len(offsets) == 2                                          # the dashes interleave
    plots.assert_legends_clear(fig)

    # what a reader sees: on the stable phase before step 480, both colours, not only the last
    fig.draw_without_rendering()
    canvas = fig.canvas
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    height = rgba.shape[0]
    (x0, y), (x1, _) = ax.transData.transform([(100, 1e-3), (450, 1e-3)])
    box = (int(x0), int(x1), int(height - y) - 2, int(height - y) + 3)
    for line in solid:
        assert _pixels_near(rgba, line.get_color(), box) > 40, line.get_label()


def test_curves_that_only_cross_are_not_dashed():
    fig = plots.curve_figure({"cosine": lr_curve("CosineAnnealingLR", 100, 0.1, T_max=100),
                              "linear": lr_curve("LinearLR", 100, 0.1, start_factor=1.0,
                                                 end_factor=0.0, total_iters=100)})
    assert not [line for line in fig.axes[0].lines if line.get_gid() == plots.SHARED]


def test_compare_draws_steps_and_names_the_axis_like_the_message():
    expected = lr_curve("StepLR", 10, 0.1, step_size=3, gamma=0.1)
    got = lr_curve("StepLR", 10, 0.1, step_size=4, gamma=0.1)
    fig = plots.compare(expected, got, first_diff=3, stepped=True, xlabel="epoch")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch"
    assert [line.get_drawstyle() for line in ax.lines[:2]] == ["steps-post"] * 2
    labels = [t.get_text() for t in (ax.get_legend() or fig.legends[0]).get_texts()]
    assert labels == ["PyTorch", "yours", "first difference (epoch 3)"]
    assert plots.legend_overlaps(fig) == []


def test_compare_marks_the_largest_difference_and_spans_decades_on_a_log_axis():
    # OneCycleLR ending at its initial rate instead of 10_000x lower: the gap is at the end
    expected = lr_curve("OneCycleLR", 20, 0.1, max_lr=0.1, total_steps=20)
    got = lr_curve("OneCycleLR", 20, 0.1, max_lr=0.1, total_steps=20, final_div_factor=1.0)
    fig = plots.compare(expected, got, first_diff=6, largest_diff=19, xlabel="step",
                        title="one_cycle_lr(step, max_lr=0.1, total_steps=20, pct_start=0.3, "
                              "anneal_strategy='cos', div_factor=25, final_div_factor=10000)")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"  # 0.1 down to 4e-07
    [bar] = [line for line in ax.lines if line.get_label().startswith("largest")]
    assert bar.get_label() == "largest difference (step 19)"
    assert list(bar.get_xdata()) == [19, 19]
    assert sorted(bar.get_ydata()) == pytest.approx([expected[19], got[19]])
    assert "\n" in ax.get_title()  # a long call wraps instead of running off the figure
    assert plots.legend_overlaps(fig) == []
    # steps: the bar stands mid-step, where both held values are drawn; a linear axis
    fig = plots.compare([0.1, 0.1, 0.05], [0.1, 0.05, 0.05], first_diff=1, largest_diff=1,
                        stepped=True, xlabel="epoch")
    assert fig.axes[0].get_yscale() == "linear"
    assert list(fig.axes[0].lines[-1].get_xdata()) == [1.5, 1.5]


def test_a_failing_check_shows_steps_against_epochs(monkeypatch):
    figures, shown = [], []
    original = plots.compare
    monkeypatch.setattr(plots, "compare", lambda *a, **k: figures.append(original(*a, **k))
                        or figures[-1])
    monkeypatch.setattr(_core, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    from lrcourse import checks

    def step_lr(epoch, base_lr, step_size, gamma):
        return base_lr * gamma ** (epoch // (step_size + 1))

    with pytest.raises(checks.CheckFailed, match="first difference at epoch"):
        checks.check_step_lr(step_lr)
    (fig,) = figures
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch"
    assert [line.get_drawstyle() for line in ax.lines[:2]] == ["steps-post"] * 2
    assert [line.get_label() for line in ax.lines[2:]] == ["first difference (epoch 3)",
                                                           "largest difference (epoch 3)"]
    assert shown and shown[0].data[:4] == b"\x89PNG"
    assert plots.legend_overlaps(fig) == []


def test_compare_wraps_a_long_title_and_keeps_its_own_line_breaks():
    # a check's title: its call, which can be long, then the parameter group on a line of its own
    call = "linear_warmup(epoch, " + ", ".join(f"p{i}={i / 7:.6f}" for i in range(12)) + ")"
    group = "parameter group 1 of 2 (its lr: 0.05)"
    fig = plots.compare([0.1, 0.1, 0.05], [0.1, 0.05, 0.05], stepped=True, xlabel="epoch",
                        title=f"{call}\n{group}")
    lines = fig.axes[0].get_title().splitlines()
    assert len(lines) >= 3 and lines[-1] == group  # the call wrapped, the group line kept whole
    assert max(len(line) for line in lines) <= plots.TITLE_WIDTH
    assert " ".join(lines[:-1]) == call


def test_show_overlay_keeps_its_old_call_working():
    shown = []
    assert _core.show_overlay([1.0, 0.9, 0.8], [1.0, 0.9, 0.7], 2, title="t",
                              display=shown.append)
    assert shown[0].data[:4] == b"\x89PNG"


# ------------------------------------------------------------------------- every library figure
# The arguments the lessons use (notebooks/*.ipynb), so that their figures pass the layout test.

_NOISY = validation_loss(100, noise=0.02, seed=0)
SIDE_BY_SIDE = {
    "02 MultiStepLR": (("MultiStepLR", 40, 0.05), dict(milestones=[8, 24, 28], gamma=0.5,
                                                      marks=[8, 24, 28])),
    "03 LinearLR": (("LinearLR", 30, 0.05), dict(start_factor=0.5, total_iters=8, marks=[8])),
    "04 CosineAnnealingLR": (("CosineAnnealingLR", 100, 0.1), dict(
        T_max=32, eta_min=1e-4, marks=[32, 64, 96],
        title="CosineAnnealingLR past T_max: a smooth climb back")),
    "05 CosineAnnealingWarmRestarts": (("CosineAnnealingWarmRestarts", 70, 0.1), dict(
        T_0=10, T_mult=2, eta_min=0.001, marks=[10, 30])),
    "06 OneCycleLR": (("OneCycleLR", 100, 0.1), dict(max_lr=0.5, total_steps=100, marks=[29])),
    "07 ReduceLROnPlateau": (("ReduceLROnPlateau", 100, 0.1), dict(
        metrics=_NOISY, patience=3, factor=0.5,
        marks=reductions(lr_curve("ReduceLROnPlateau", 100, 0.1, metrics=_NOISY, patience=3,
                                  factor=0.5)))),
    "08 SequentialLR": (("SequentialLR", 100, 0.1), dict(marks=[10], **warmup_cosine(10, 100))),
}


@pytest.mark.parametrize("case", list(SIDE_BY_SIDE))
def test_side_by_side_keeps_its_legend_off_the_curves(case):
    args, kwargs = SIDE_BY_SIDE[case]
    fig = side_by_side(*args, **kwargs)
    plots.assert_legends_clear(fig, case)
    line = fig.axes[0].lines[0]
    stepped = plots.is_piecewise_constant(args[0], kwargs)
    assert line.get_drawstyle() == ("steps-post" if stepped else "default")


def _training_lr_curves(lr):
    """Rates per step like lesson 11's runs (21 steps per epoch, 15 epochs)."""
    spe, epochs = 21, 15
    per_epoch = lambda name, **kw: np.repeat(lr_curve(name, epochs, lr, **kw), spe)  # noqa: E731
    return {
        "constant": np.full(spe * epochs, lr),
        "StepLR": per_epoch("StepLR", step_size=5, gamma=0.3),
        "ExponentialLR": per_epoch("ExponentialLR", gamma=0.8),
        "cosine": per_epoch("CosineAnnealingLR", T_max=epochs),
        "warm-up + cosine": lr_curve("WarmupCosine", spe * epochs, lr, warmup_steps=spe,
                                     total_steps=spe * epochs),
        "OneCycleLR": lr_curve("OneCycleLR", spe * epochs, lr, max_lr=lr,
                               total_steps=spe * epochs),
        "ReduceLROnPlateau": np.full(spe * epochs, lr),
    }


CURVE_FIGURES = {
    "00 bowl losses": (lambda: {f"run {i}": 10 ** -np.linspace(0, i, 300) for i in range(4)},
                       dict(logy=True, ylabel="loss", title="SGD on a noisy quadratic bowl")),
    "01 lambdas": (lambda: {"λ = epoch // 30 (wrong)": lr_curve(
        "LambdaLR", 91, 0.1, lr_lambda=lambda e: e // 30), "λ = 0.1 ** (epoch // 30)": lr_curve(
        "LambdaLR", 91, 0.1, lr_lambda=lambda e: 0.1 ** (e // 30))}, dict(stepped=True)),
    "08 hand over vs multiply": (lambda: __import__(
        "lrcourse.lessons.chaining", fromlist=["x"]).sequential_curves(
        100, 1.0, milestone=20, total_iters=20, T_max=80), dict(marks=[20])),
    "11 rates, eta0 = 0.05": (lambda: _training_lr_curves(0.05), dict(stepped=True)),
    "11 rates, eta0 = 0.5": (lambda: _training_lr_curves(0.5), dict(stepped=True)),
    "11 rates, log axis": (lambda: _training_lr_curves(0.5), dict(stepped=True, logy=True)),
    "13 WSD shapes": (lambda: {f"decay={d}": lr_curve(
        "WarmupStableDecay", 1000, 1e-3, warmup_steps=50, total_steps=1000, decay_steps=200,
        decay=d) for d in ("linear", "cosine", "sqrt")}, dict(marks=[50, 800])),
    "14 two groups": (lambda: {"body (layer 1)": np.repeat([0.1, 0.05, 0.025], 42),
                               "head (layer 2)": np.repeat([0.01, 0.005, 0.0025], 42)},
                      dict(marks=[42, 84])),
}


@pytest.mark.parametrize("case", list(CURVE_FIGURES))
def test_curve_figure_keeps_its_legend_off_the_curves(case):
    make, kwargs = CURVE_FIGURES[case]
    plots.assert_legends_clear(plots.curve_figure(make(), **kwargs), case)


def _histories(curves):
    return {label: [SimpleNamespace(val_loss=list(c * (1 + 0.05 * s))) for s in range(5)]
            for label, c in curves.items()}


@pytest.mark.parametrize("logy", [False, True])
def test_metric_figure_keeps_its_legend_off_lines_and_bands(logy):
    epochs = np.arange(1, 16)
    curves = {name: 0.1 + 2 / epochs ** (0.5 + 0.2 * i)
              for i, name in enumerate(["constant", "StepLR", "ExponentialLR", "cosine",
                                        "warm-up + cosine", "OneCycleLR"])}
    curves["ReduceLROnPlateau"] = curves["constant"]          # identical: must stay visible
    fig = metric_figure(_histories(curves), "val_loss", title="validation loss", logy=logy)
    plots.assert_legends_clear(fig)
    twin = fig.axes[0].lines[-1]
    assert twin.get_linestyle() == "--" and twin.get_marker() == "o"


def _band(fig, i):
    """The lower and upper edge of the ``i``-th band of a metric figure."""
    vertices = fig.axes[0].collections[i].get_paths()[0].vertices
    n = (len(vertices) - 3) // 2  # fill_between: start, lower edge, upper edge back, close
    lower, upper = vertices[1:n + 1, 1], vertices[n + 2:2 * n + 2, 1][::-1]
    return lower, upper


def test_metric_figure_on_a_log_axis_shades_the_range_of_the_seeds():
    # one seed ten times higher than the others: mean - sd < 0, which a log axis cannot show
    epochs = np.arange(1, 11)
    loss = np.exp(-epochs / 3)
    seeds = [loss * (10.0 if s == 0 else 1.0 + 0.01 * s) for s in range(5)]
    stacked = np.array(seeds)
    assert np.all(stacked.mean(0) - stacked.std(0, ddof=1) < 0)
    results = {"run": [SimpleNamespace(train_loss=list(c)) for c in seeds]}
    fig = metric_figure(results, "train_loss", logy=True)
    lower, upper = _band(fig, 0)
    np.testing.assert_allclose(lower, stacked.min(0))
    np.testing.assert_allclose(upper, stacked.max(0))
    texts = [t.get_text() for t in (fig.axes[0].get_legend() or fig.legends[0]).get_texts()]
    assert texts == ["run", "shaded: min–max over seeds"]
    # on a linear axis the default stays mean ± 1 sd, and says so
    fig = metric_figure(results, "train_loss")
    lower, upper = _band(fig, 0)
    mean, sd = stacked.mean(0), stacked.std(0, ddof=1)
    np.testing.assert_allclose(lower, mean - sd)
    np.testing.assert_allclose(upper, mean + sd)
    texts = [t.get_text() for t in (fig.axes[0].get_legend() or fig.legends[0]).get_texts()]
    assert texts[-1] == "shaded: mean ± 1 sd over seeds"
    with pytest.raises(ValueError, match="band must be one of"):
        metric_figure(results, "train_loss", band="iqr")


def test_metric_figure_shows_runs_that_coincide_for_a_few_epochs():
    # same seeds, same rates until a schedule's first drop: identical epochs, then apart
    base = np.exp(-np.arange(1, 13) / 4)
    later = base.copy()
    later[6:] *= 0.5
    results = {"constant": [SimpleNamespace(val_loss=list(base))],
               "StepLR": [SimpleNamespace(val_loss=list(later))]}
    fig = metric_figure(results, "val_loss")
    shared = [line for line in fig.axes[0].lines if line.get_gid() == plots.SHARED]
    assert len(shared) == 2 and all(line.get_xdata()[0] == 1 and line.get_xdata()[-1] == 6
                                    for line in shared)


def test_the_range_test_figure_shows_every_loss_and_keeps_markers_apart():
    lrs = 1e-5 * (1e6) ** (np.arange(100) / 99)
    loss = 2.3 - 2.0 / (1 + np.exp(-3 * (np.log10(lrs) + 1.2)))
    loss[85:] += np.linspace(0, 12, 15) ** 2
    loss += 0.05 * np.sin(np.arange(100))
    result = _suggest(lrs, loss, smooth(loss), 1e-5, 10.0, True, 100)
    fig = result.figure()
    ax = fig.axes[0]
    plots.assert_legends_clear(fig)
    low, high = ax.get_ylim()
    assert low < loss.min() and high > loss.max()      # nothing clipped, the blow-up included
    labels = [t.get_text() for t in (ax.get_legend() or fig.legends[0]).get_texts()]
    assert [lbl.split()[0] for lbl in labels] == ["loss", "smoothed", "suggestion", "minimum",
                                                  "steepest"]
    markers = {line.get_label().split()[0]: line.get_marker() for line in ax.lines}
    assert markers["minimum"] != markers["steepest"]
    assert ax.get_legend() is None or ax.get_legend().get_texts()[0].get_fontsize() >= 9


def test_grid_figure_steps_the_step_schedules():
    curves = {"StepLR": lr_curve("StepLR", 20, 0.1, step_size=5),
              "CosineAnnealingLR": lr_curve("CosineAnnealingLR", 20, 0.1, T_max=20),
              "ChainedScheduler": lr_curve("ChainedScheduler", 20, 0.1, schedulers=[
                  ("ExponentialLR", dict(gamma=0.9)), ("MultiStepLR", dict(milestones=[10]))])}
    fig = plots.grid_figure(curves)
    assert [ax.lines[0].get_drawstyle() for ax in fig.axes[:3]] == [
        "steps-post", "default", "default"]
    told = plots.grid_figure(curves, stepped=[*plots.PIECEWISE_CONSTANT, "ChainedScheduler"])
    assert [ax.lines[0].get_drawstyle() for ax in told.axes[:3]] == [
        "steps-post", "default", "steps-post"]
