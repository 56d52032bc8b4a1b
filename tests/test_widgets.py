"""The explorers: sliders named after torch's parameters, redraw in place, errors as text."""

import html
import re

import numpy as np
import pytest
import ipywidgets as W

from lrcourse import plots
from lrcourse.widgets import LogRange, Range, explore, explore_function, milestone_steps


def _ydata(explorer, label):
    return explorer.drawn(label)


def _readout(explorer) -> str:
    """The readout's text as the browser shows it (tags removed, one line per <br>)."""
    text = re.sub(r"<[^>]+>", "", explorer.readout.value.replace("<br>", "\n"))
    return html.unescape(text)


def test_sliders_are_named_after_torch_parameters_and_start_where_asked():
    e = explore("StepLR", lr=0.05, steps=100, step_size=(1, 50, 30), gamma=(0.05, 1.0, 0.1))
    assert set(e.controls) == {"step_size", "gamma"}
    assert isinstance(e.controls["step_size"], W.IntSlider)
    assert isinstance(e.controls["gamma"], W.FloatSlider)
    assert e.values() == {"lr": 0.05, "steps": 100, "step_size": 30, "gamma": 0.1}
    assert _readout(e).splitlines()[0] == "step_size=30, gamma=0.1"
    t = np.arange(100)
    np.testing.assert_allclose(_ydata(e, "StepLR"), 0.05 * 0.1 ** (t // 30))


def test_moving_a_slider_redraws_the_same_figure_with_new_data():
    e = explore("StepLR", lr=1.0, steps=40, step_size=(1, 50, 30), gamma=(0.05, 1.0, 0.5))
    figure, line, before = e.figure, e._lines["StepLR"], e.image.value
    e.set(step_size=10)
    assert e.figure is figure and e._lines["StepLR"] is line      # updated, not rebuilt
    assert e.image.value != before and e.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "step_size=10" in _readout(e)
    np.testing.assert_allclose(_ydata(e, "StepLR")[[9, 10, 20, 39]], [1, 0.5, 0.25, 0.125])
    assert len(e.redraw_seconds) == 2


def test_an_invalid_combination_shows_a_message_not_a_traceback():
    e = explore("CosineAnnealingLR", lr=0.1, steps=50, T_max=(1, 50, 20), eta_min=(0.0, 0.5, 0.0))
    e.set(eta_min=0.3)                        # above lr: refused by the schedule
    assert "eta_min" in e.error.value and "Traceback" not in e.error.value
    e.set(eta_min=0.01)                       # a valid value clears the message
    assert e.error.value == ""
    assert _ydata(e, "CosineAnnealingLR")[20] == pytest.approx(0.01)


def test_torch_curve_and_overlay_are_drawn_beside_the_closed_form():
    e = explore("ExponentialLR", lr=0.1, steps=30, torch=True, gamma=(0.5, 1.0, 0.9),
                overlay={"gamma 0.5": ("ExponentialLR", {"gamma": 0.5})})
    assert set(e._lines) == {"ExponentialLR", "PyTorch ExponentialLR", "gamma 0.5"}
    np.testing.assert_allclose(_ydata(e, "PyTorch ExponentialLR"), 0.1 * 0.9 ** np.arange(30))
    np.testing.assert_allclose(_ydata(e, "gamma 0.5"), 0.1 * 0.5 ** np.arange(30))


def test_other_parameter_specs_become_the_right_controls():
    e = explore("CyclicLR", lr=0.1, steps=100, base_lr=LogRange(1e-4, 1e-1, 1e-3),
                max_lr=0.1, step_size_up=(1, 50, 10), mode=("triangular", "triangular2"),
                cycle_momentum=False)
    assert isinstance(e.controls["base_lr"], W.FloatLogSlider)
    assert isinstance(e.controls["mode"], W.Dropdown)
    assert isinstance(e.controls["cycle_momentum"], W.Checkbox)
    assert e.fixed["max_lr"] == 0.1
    e.set(mode="triangular2")
    assert _ydata(e, "CyclicLR")[30] == pytest.approx(1e-3 + (0.1 - 1e-3) / 2)  # 2nd peak halved
    with pytest.raises(ValueError, match="no slider called 'gama'"):
        e.set(gama=0.5)


def test_explore_function_draws_any_named_curves():
    e = explore_function(lambda a: {"line": np.arange(5) * a}, a=(0.0, 2.0, 1.0))
    e.set(a=2.0)
    np.testing.assert_allclose(_ydata(e, "line"), [0, 2, 4, 6, 8])


def test_a_failing_function_is_reported_in_the_widget():
    def broken(a):
        raise RuntimeError("boom")
    e = explore_function(broken, a=(0, 3, 1))
    assert "boom" in e.error.value


def test_notebook_display_includes_a_png_fallback():
    e = explore("StepLR", lr=0.1, steps=10, step_size=(1, 5, 2))
    bundle = e._repr_mimebundle_()
    assert "image/png" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
    assert "lrcourse-explorer" in e.widget._dom_classes
    assert "lrcourse-figure" in e.image._dom_classes


@pytest.mark.parametrize("name, kwargs, steps, expected", [
    ("StepLR", {"step_size": 30}, 100, [30, 60, 90]),
    ("MultiStepLR", {"milestones": [24, 8, 8, 200]}, 100, [8, 24]),
    ("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2}, 100, [10, 30, 70]),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1, "step_size_up": 5, "step_size_down": 15}, 50,
     [20, 40]),
    ("OneCycleLR", {"max_lr": 1, "total_steps": 100, "pct_start": 0.25}, 100, [24.0]),
])
def test_milestones_mark_where_the_schedule_changes(name, kwargs, steps, expected):
    assert milestone_steps(name, steps, kwargs) == expected


@pytest.mark.parametrize("spec", [(0.05, 1.0, 0.1), (0.0, 0.12, 0.0), (0.5, 1.0, 0.9),
                                  (0.01, 1.0, 0.5), (0.0, 0.05, 0.0123), (1e-4, 0.05, 3e-3)])
def test_float_sliders_start_on_their_own_grid(spec):
    # A browser snaps the slider to min + k * step when it first shows it: the starting value
    # must be on that grid, or the lesson's value changes before anyone moves anything.
    slider = explore("ExponentialLR", lr=1.0, steps=5, gamma=spec).controls["gamma"] \
        if spec[0] > 0 else explore("CosineAnnealingLR", lr=1.0, steps=5, T_max=4,
                                    eta_min=spec).controls["eta_min"]
    k = (spec[2] - slider.min) / slider.step
    assert abs(k - round(k)) < 1e-6
    assert slider.value == spec[2] and slider.min == spec[0] and slider.max == spec[1]
    assert 50 <= (spec[1] - spec[0]) / slider.step <= 125    # fine, not needlessly fine


@pytest.mark.parametrize("value", [0.05, 1e-3, 0.0123, 0.2])
def test_log_sliders_start_on_their_own_grid(value):
    slider = explore("StepLR", lr=LogRange(1e-4, 0.25, value), steps=5, step_size=2).controls["lr"]
    k = (np.log10(value) - slider.min) / slider.step
    assert abs(k - round(k)) < 1e-6
    assert 1e-4 <= 10 ** slider.min <= 1.03e-4 and 0.97 * 0.25 <= 10 ** slider.max <= 0.25


def test_overlay_follows_the_steps_and_lr_sliders():
    e = explore("ExponentialLR", lr=LogRange(0.01, 1.0, 0.1), steps=(10, 40, 20), gamma=0.9,
                overlay={"StepLR": ("StepLR", {"step_size": 5, "gamma": 0.5})})
    e.set(steps=30, lr=1.0)
    np.testing.assert_allclose(_ydata(e, "StepLR"), 0.5 ** (np.arange(30) // 5))


# --------------------------------------------------------------------- readout (issue 10)


def test_the_readout_shows_the_new_value_after_an_invalid_move():
    e = explore("CosineAnnealingLR", lr=0.1, steps=50, T_max=(1, 50, 20), eta_min=(0.0, 0.5, 0.0))
    e.set(eta_min=0.3)                        # above lr: refused by the schedule
    lines = _readout(e).splitlines()
    assert lines[0] == "T_max=20, eta_min=0.3"           # the slider's value, not the last valid
    assert "nothing drawn" in lines[1]
    assert "eta_min" in e.error.value
    assert all(line.get_alpha() == 0.25 for line in e._lines.values())  # the old curve faded
    e.set(T_max=10)                           # still invalid: the readout follows every slider
    assert _readout(e).splitlines()[0] == "T_max=10, eta_min=0.3"
    e.set(eta_min=0.02)
    assert _readout(e).splitlines()[0] == "T_max=10, eta_min=0.02" and e.error.value == ""


def test_a_readout_wraps_between_items_never_inside_a_number():
    e = explore("OneCycleLR", lr=0.1, steps=100, total_steps=100, max_lr=(0.1, 1.0, 0.8),
                div_factor=LogRange(2.0, 100.0, 25.0), final_div_factor=LogRange(1.0, 1e5, 1e5),
                three_phase=False, anneal_strategy=("cos", "linear"), momentum=True)
    value = e.readout.value
    assert "final_div_factor=1e+05" in _readout(e)
    # outside the no-wrap spans there are only separators: a browser can break a line there
    # and nowhere else (in particular not at the '-' of 3.2e-06)
    outside = re.sub(r"<span style='white-space:nowrap'>[^<]*</span>", "", value)
    outside = re.sub(r"<[^>]+>", "", outside)
    assert re.fullmatch(r"[,\s]*", outside), outside
    assert re.search(r"nowrap'>[^<]*\de-0\d[^<]*</span>", value)    # e.g. "last 3.2e-06"


def test_the_readout_summarises_every_curve_so_every_slider_shows():
    raw = np.array([2.3, 2.2, 2.0, 1.2, 0.9, 0.4, 0.7, 3.0, 9.0])
    e = explore_function(lambda beta: {"raw loss": raw, "smoothed": _ema(raw, beta)},
                         beta=(0.0, 0.99, 0.9), ylabel="loss")
    before = _readout(e).splitlines()
    assert before[0] == "beta=0.9"
    assert [line.split(":")[0] for line in before[1:]] == ["raw loss", "smoothed"]
    e.set(beta=0.0)                           # no smoothing: the smoothed curve is the raw one
    after = _readout(e).splitlines()
    assert after[0] == "beta=0" and after[1] == before[1]
    assert after[2] == after[1].replace("raw loss", "smoothed") != before[2]
    assert "min 0.4 (step 5)" in after[2]


def _ema(losses, beta):
    out, avg = [], 0.0
    for k, x in enumerate(losses):
        avg = beta * avg + (1 - beta) * x
        out.append(avg / (1 - beta ** (k + 1)))
    return np.array(out)


# --------------------------------------------------------------------- slider steps


def test_a_float_slider_moves_by_a_round_step_per_key_press():
    beta = explore_function(lambda beta: {"c": np.full(3, beta)},
                            beta=(0.0, 0.99, 0.9)).controls["beta"]
    assert beta.step == 0.01 and beta.value == 0.9          # lesson 12: was 0.001 per press
    chosen = explore_function(lambda beta: {"c": np.full(3, beta)},
                              beta=Range(0.0, 0.99, 0.9, step=0.03)).controls["beta"]
    assert chosen.step == 0.03 and chosen.value == 0.9
    t_max = explore("CosineAnnealingLR", lr=0.1, steps=100,
                    T_max=Range(100, 10_000, 8000, step=100)).controls["T_max"]
    assert isinstance(t_max, W.IntSlider) and t_max.step == 100 and t_max.value == 8000
    with pytest.raises(ValueError, match="not on the slider's grid"):
        explore_function(lambda a: {"c": np.full(3, a)}, a=Range(0.0, 1.0, 0.25, step=0.1))
    log = explore("StepLR", lr=LogRange(1e-4, 1.0, 0.01, step=0.1), steps=5,
                  step_size=2).controls["lr"]
    assert log.step == 0.1 and log.value == pytest.approx(0.01)


def test_one_cycle_explorer_offers_final_div_factor():
    # lesson 11 asks the learner to move final_div_factor
    e = explore("OneCycleLR", lr=0.5, steps=315, max_lr=0.5, total_steps=315,
                pct_start=(0.05, 0.6, 0.3), final_div_factor=LogRange(1.0, 1e4, 1e4), logy=True)
    assert e.ax.get_yscale() == "log"
    assert _ydata(e, "OneCycleLR")[-1] == pytest.approx(0.5 / 25 / 1e4)
    e.set(final_div_factor=10.0)
    assert _ydata(e, "OneCycleLR")[-1] == pytest.approx(0.5 / 25 / 10)
    assert "final_div_factor=10" in _readout(e).splitlines()[0]


# --------------------------------------------------------------------- steps and legends


def test_a_step_schedule_is_drawn_as_steps_held_to_the_end():
    e = explore("StepLR", lr=1.0, steps=10, step_size=(1, 9, 4), gamma=0.5)
    line = e._lines["StepLR"]
    assert line.get_drawstyle() == "steps-post"
    vertices = [tuple(v) for v in line.get_path().vertices]
    # at step 4 the rate jumps straight down: no slope between steps 3 and 4
    assert (3.0, 1.0) in vertices and (4.0, 1.0) in vertices and (4.0, 0.5) in vertices
    assert vertices[-1] == (10.0, 0.25)       # step 9's value held until step 10
    assert not any(0.5 < y < 1.0 for _, y in vertices)
    assert e.ax.get_xlim()[1] >= 10
    np.testing.assert_allclose(_ydata(e, "StepLR"), 0.5 ** (np.arange(10) // 4))


def test_overlays_and_torch_dots_choose_their_own_style():
    e = explore("ExponentialLR", lr=0.05, steps=60, torch=True, gamma=(0.8, 1.0, 0.9),
                overlay={"StepLR(step_size=10, gamma=0.5)": ("StepLR", {"step_size": 10,
                                                                        "gamma": 0.5})})
    styles = {label: line.get_drawstyle() for label, line in e._lines.items()}
    assert styles == {"ExponentialLR": "default", "PyTorch ExponentialLR": "default",
                      "StepLR(step_size=10, gamma=0.5)": "steps-post"}
    assert len(e._lines["PyTorch ExponentialLR"].get_xdata()) == 60       # dots at the steps


def test_explore_function_steps_the_curves_it_is_told_to():
    def curves(a):
        return {"MultiStepLR alone": np.repeat([1.0, a], 5), "ramp": np.linspace(1, a, 10),
                "loss": np.linspace(2, 1, 10)}
    auto = explore_function(curves, a=(0.1, 0.9, 0.5))
    assert auto._stepped_lines == {"MultiStepLR alone"}          # named after a step schedule
    told = explore_function(curves, a=(0.1, 0.9, 0.5), stepped={"ramp"})
    assert told._stepped_lines == {"ramp"}
    every = explore_function(curves, a=(0.1, 0.9, 0.5), stepped=True)
    assert every._stepped_lines == set(every._lines)


@pytest.mark.parametrize("make", [
    lambda: explore("CyclicLR", lr=0.1, steps=120, base_lr=(0.01, 0.4, 0.1),
                    max_lr=(0.2, 1.0, 0.6), step_size_up=(2, 40, 15), momentum=True),
    lambda: explore("ExponentialLR", lr=0.05, steps=60, torch=True, gamma=(0.8, 1.0, 0.9),
                    overlay={"StepLR(step_size=10, gamma=0.5)": ("StepLR", {"step_size": 10})}),
    lambda: explore_function(lambda a: {f"curve {i}": np.linspace(1, a * i, 50) for i in range(7)},
                             a=(0.0, 1.0, 0.5)),
], ids=["momentum", "torch+overlay", "seven curves"])
def test_an_explorer_legend_sits_under_the_plot_whatever_the_sliders_do(make):
    e = make()
    base_height = e._base_position.height * e._base_size[1]
    for _ in range(2):
        name, control = next(iter(e.controls.items()))
        e.set(**{name: control.max})
        assert plots.legend_overlaps(e.figure) == []
        legend = e.figure.legends[0]
        box = legend.get_window_extent(e.figure.canvas.get_renderer())
        axes = e.ax.get_window_extent(e.figure.canvas.get_renderer())
        assert box.y1 < axes.y0                                   # below the axes
        # the plot keeps its size in inches: the figure grew by the legend's height
        assert e.ax.get_position().height * e.figure.get_size_inches()[1] == \
            pytest.approx(base_height)
        e.set(**{name: control.min})
    assert e.figure.get_size_inches()[0] == e._base_size[0]


def test_marks_are_guides_not_data():
    e = explore("StepLR", lr=0.1, steps=100, step_size=(1, 50, 30))
    assert e.marks() == [30, 60, 90] and e._marks_line.get_gid() == plots.GUIDE
    e.set(step_size=45)
    assert e.marks() == [45, 90]


def test_a_log_axis_keeps_whole_decades_so_small_moves_redraw_only_the_line():
    e = explore("OneCycleLR", lr=0.5, steps=315, max_lr=0.5, total_steps=315,
                final_div_factor=LogRange(1.0, 1e4, 1e4), logy=True)
    assert e.ax.get_ylim() == pytest.approx((1e-6, 1.0))       # 2e-6 .. 0.5, whole decades
    background = e._background
    e.set(final_div_factor=5e3)                                # ends at 4e-6: same decades
    assert e._background is background and e.ax.get_ylim() == pytest.approx((1e-6, 1.0))
    e.set(final_div_factor=10.0)                               # ends at 2e-3
    assert e.ax.get_ylim() == pytest.approx((1e-3, 1.0))


def test_the_legend_follows_the_curves_a_drop_down_chooses():
    from lrcourse.lessons import cheatsheet

    e = explore_function(cheatsheet.pair, first=cheatsheet.choices("CosineAnnealingLR"),
                         second=cheatsheet.choices("OneCycleLR"))
    assert [t.get_text() for t in e.figure.legends[0].get_texts()] == [
        "CosineAnnealingLR", "OneCycleLR"]
    e.set(second="CosineAnnealingLR")          # one curve: no legend, the figure's own size
    assert e.figure.legends == [] and tuple(e.figure.get_size_inches()) == e._base_size
    e.set(second="StepLR")
    assert [t.get_text() for t in e.figure.legends[0].get_texts()] == [
        "CosineAnnealingLR", "StepLR"]
    assert e._lines["StepLR"].get_drawstyle() == "steps-post"
    assert plots.legend_overlaps(e.figure) == []


# --------------------------------------------------------------------- x axis, other libraries


def test_the_x_axis_says_epoch_where_the_lesson_steps_per_epoch():
    assert explore("StepLR", step_size=(1, 50, 30)).ax.get_xlabel() == "step"
    assert explore("StepLR", step_size=(1, 50, 30), xlabel="epoch").ax.get_xlabel() == "epoch"
    e = explore_function(lambda a: {"c": np.full(5, a)}, a=(0.1, 0.9, 0.5), xlabel="epoch")
    assert e.ax.get_xlabel() == "epoch"
    e.set(a=0.2)                                  # a redraw keeps it
    assert e.ax.get_xlabel() == "epoch"


def _swa_kwargs(steps=20):
    return dict(swa_lr=(0.0, 0.1, 0.03), anneal_epochs=(1, 10, 4), swa_start=(0, 19, 8),
                scheduler=("CosineAnnealingLR", {"T_max": steps}))


def test_torch_dots_for_swalr_come_from_torchs_swalr():
    from lrcourse import reference

    e = explore("SWALR", lr=0.1, steps=20, torch=True, **_swa_kwargs())
    assert set(e._lines) == {"SWALR", "PyTorch SWALR"}
    truth = reference.swalr_curve(20, 0.1, swa_lr=0.03, anneal_epochs=4, swa_start=8,
                                  scheduler=("CosineAnnealingLR", {"T_max": 20}))
    np.testing.assert_allclose(_ydata(e, "PyTorch SWALR"), truth, rtol=1e-12)
    assert e._lines["PyTorch SWALR"].get_marker() == "."               # dots, not a line
    assert e.marks() == [8, 12]                                          # hand-over, annealed
    e.set(swa_start=5, anneal_epochs=2)
    assert e.marks() == [5, 7]
    assert _readout(e).splitlines()[1:] == [                           # torch's dots left out
        "SWALR: first 0.1, last 0.03, min 0.03 (step 7), max 0.1 (step 0)"]


def test_torch_dots_for_the_modern_recipes_come_from_their_lambdalr():
    e = explore("WarmupCosine", lr=1e-3, steps=120, torch=True, warmup_steps=(0, 40, 10),
                total_steps=100)
    np.testing.assert_allclose(_ydata(e, "PyTorch LambdaLR recipe"), _ydata(e, "WarmupCosine"),
                               rtol=1e-9, atol=1e-18)
    assert e.marks() == [10, 100]


def _needs(library):
    from lrcourse import reference

    reason = reference.missing_library(library)
    return pytest.mark.skipif(reason is not None, reason=str(reason))


@_needs("transformers")
def test_torch_dots_for_a_transformers_schedule_come_from_transformers():
    e = explore("get_cosine_with_hard_restarts_schedule_with_warmup", lr=1e-3, steps=120,
                torch=True, num_warmup_steps=(0, 40, 10), num_training_steps=100,
                num_cycles=(1, 4, 3))
    label = "transformers' get_cosine_with_hard_restarts_schedule_with_warmup"
    assert set(e._lines) == {"get_cosine_with_hard_restarts_schedule_with_warmup", label}
    assert e._lines[label].get_marker() == "."
    np.testing.assert_allclose(_ydata(e, label),
                               _ydata(e, "get_cosine_with_hard_restarts_schedule_with_warmup"),
                               rtol=1e-9, atol=1e-18)
    assert e.marks() == [10, 40, 70, 100]                      # warm-up end, restarts, T
    assert label not in _readout(e)                            # measured: not summarised


@_needs("timm")
def test_torch_dots_for_timms_scheduler_come_from_timm_and_epochs_are_steps():
    e = explore("CosineLRScheduler", lr=0.1, steps=60, torch=True, t_initial=(5, 20, 10),
                warmup_t=2, updates_per_epoch=3, cycle_limit=2, xlabel="optimizer step")
    assert e._stepped_lines == {"CosineLRScheduler"}           # a staircase, one step per epoch
    np.testing.assert_allclose(_ydata(e, "timm's CosineLRScheduler"),
                               _ydata(e, "CosineLRScheduler"), rtol=1e-9, atol=1e-18)
    assert e.marks() == [6, 30]                                # warm-up end, 2nd cycle (x3)


def test_a_missing_library_is_named_in_the_readout_instead_of_its_dots(monkeypatch):
    from lrcourse import reference

    monkeypatch.setattr(reference, "missing_library",
                        lambda name: f"{name} is not installed (test)")
    e = explore("get_linear_schedule_with_warmup", lr=1e-3, steps=50, torch=True,
                num_warmup_steps=(0, 20, 5), num_training_steps=40)
    assert set(e._lines) == {"get_linear_schedule_with_warmup"}
    assert e.error.value == ""
    assert _readout(e).splitlines()[-1] == (
        "no dots from transformers' get_linear_schedule_with_warmup: transformers is not "
        "installed (test)")
    assert e.marks() == [5, 40]


@pytest.mark.parametrize("name, kwargs, steps, expected", [
    ("WarmupCosine", {"warmup_steps": 100, "total_steps": 1000}, 1200, [100, 1000]),
    ("WarmupStableDecay", {"warmup_steps": 50, "total_steps": 1000, "decay_steps": 200}, 1000,
     [50, 800]),
    ("InverseSqrt", {"warmup_steps": 100}, 2000, [100]),
    ("SWALR", {"swa_lr": 0.05, "swa_start": 30, "anneal_epochs": 5,
               "scheduler": ("StepLR", {"step_size": 10})}, 60, [10, 20, 30, 35]),
    ("SWALR", {"swa_lr": 0.05, "anneal_epochs": 5}, 60, [5]),
    ("get_linear_schedule_with_warmup", {"num_warmup_steps": 10, "num_training_steps": 100},
     120, [10, 100]),
    ("get_cosine_schedule_with_warmup", {"num_warmup_steps": 0, "num_training_steps": 80},
     100, [80]),
    ("get_polynomial_decay_schedule_with_warmup",
     {"num_warmup_steps": 2, "num_training_steps": 10}, 12, [2, 10]),
    ("get_cosine_with_hard_restarts_schedule_with_warmup",
     {"num_warmup_steps": 10, "num_training_steps": 100, "num_cycles": 3}, 100, [10, 40, 70]),
    ("get_inverse_sqrt_schedule", {"num_warmup_steps": 4}, 50, [4]),
    ("get_wsd_schedule", {"num_warmup_steps": 100, "num_decay_steps": 200,
                          "num_training_steps": 1000}, 1100, [100, 800, 1000]),
    ("get_wsd_schedule", {"num_warmup_steps": 10, "num_decay_steps": 20,
                          "num_stable_steps": 30}, 100, [10, 40, 60]),
    # timm: the warm-up inside the first cycle (default) or before it (warmup_prefix)
    ("CosineLRScheduler", {"t_initial": 80, "warmup_t": 10, "cycle_limit": 3}, 300,
     [10, 80, 160, 240]),
    ("CosineLRScheduler", {"t_initial": 80, "warmup_t": 10, "cycle_limit": 3,
                           "warmup_prefix": True}, 300, [10, 90, 170, 250]),
    ("CosineLRScheduler", {"t_initial": 50, "cycle_mul": 2, "cycle_limit": 3}, 400,
     [50, 150, 350]),
    ("CosineLRScheduler", {"t_initial": 10, "updates_per_epoch": 3}, 40, [30]),
    ("CosineLRScheduler", {"t_initial": 10, "updates_per_epoch": 3, "t_in_epochs": False},
     40, [10]),
])
def test_milestones_of_the_schedules_of_other_libraries(name, kwargs, steps, expected):
    assert milestone_steps(name, steps, kwargs) == expected


def test_curves_that_coincide_over_a_stretch_stay_visible_in_an_explorer():
    # lesson 17: the SWA recipe is the cosine until the hand-over
    def curves(swa_start):
        kw = dict(swa_lr=0.03, anneal_epochs=4, swa_start=swa_start,
                  scheduler=("CosineAnnealingLR", {"T_max": 20}))
        from lrcourse.schedules import lr_curve
        return {"SWA recipe": lr_curve("SWALR", 20, 0.1, **kw),
                "CosineAnnealingLR alone": lr_curve("CosineAnnealingLR", 20, 0.1, T_max=20)}

    e = explore_function(curves, swa_start=(1, 19, 8), xlabel="epoch")
    assert e.shared() == [(0, 8), (0, 8)]                # both colours, steps 0 to 8
    colors = {line.get_color() for line in e._shared_lines}
    assert colors == {e._lines["SWA recipe"].get_color(),
                      e._lines["CosineAnnealingLR alone"].get_color()}
    assert all(line.get_animated() for line in e._shared_lines)
    e.set(swa_start=12)
    assert e.shared() == [(0, 12), (0, 12)] and len(e.ax.lines) == 2 + 1 + 2  # old ones removed
    e.set(swa_start=1)                                   # 2 shared steps: a crossing, no dashes
    assert e.shared() == []


def test_measured_dots_are_drawn_over_the_dashes_of_a_shared_stretch():
    e = explore("SWALR", lr=0.1, steps=20, torch=True, swa_lr=0.03, anneal_epochs=4,
                swa_start=(1, 19, 8), scheduler=("CosineAnnealingLR", {"T_max": 20}),
                overlay={"cosine alone": ("CosineAnnealingLR", {"T_max": 20})})
    assert e.shared() == [(0, 8), (0, 8)]
    drawn = []
    original = e.ax.draw_artist
    e.ax.draw_artist = lambda artist: (drawn.append(artist), original(artist))
    e.set(swa_start=9)
    dots = e._lines["PyTorch SWALR"]
    assert drawn.index(dots) > max(drawn.index(line) for line in e._shared_lines)
