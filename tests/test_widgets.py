"""The explorers: sliders named after torch's parameters, redraw in place, errors as text."""

import numpy as np
import pytest
import ipywidgets as W

from lrcourse.widgets import LogRange, explore, explore_function, milestone_steps


def _ydata(explorer, label):
    return np.asarray(explorer._lines[label].get_ydata())


def test_sliders_are_named_after_torch_parameters_and_start_where_asked():
    e = explore("StepLR", lr=0.05, steps=100, step_size=(1, 50, 30), gamma=(0.05, 1.0, 0.1))
    assert set(e.controls) == {"step_size", "gamma"}
    assert isinstance(e.controls["step_size"], W.IntSlider)
    assert isinstance(e.controls["gamma"], W.FloatSlider)
    assert e.values() == {"lr": 0.05, "steps": 100, "step_size": 30, "gamma": 0.1}
    assert "step_size=30, gamma=0.1" in e.readout.value
    t = np.arange(100)
    np.testing.assert_allclose(_ydata(e, "StepLR"), 0.05 * 0.1 ** (t // 30))


def test_moving_a_slider_redraws_the_same_figure_with_new_data():
    e = explore("StepLR", lr=1.0, steps=40, step_size=(1, 50, 30), gamma=(0.05, 1.0, 0.5))
    figure, line, before = e.figure, e._lines["StepLR"], e.image.value
    e.set(step_size=10)
    assert e.figure is figure and e._lines["StepLR"] is line      # updated, not rebuilt
    assert e.image.value != before and e.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "step_size=10" in e.readout.value
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
    assert (spec[1] - spec[0]) / slider.step >= 100          # still fine-grained


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
