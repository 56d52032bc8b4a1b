"""Slider-to-redraw latency of the explorers, in the kernel (target: p95 under 30 ms).

For each explorer, a 10,000-step curve, the slider is moved through many positions, as a
learner dragging it would; each time is measured from the value change to the finished PNG
(schedule evaluated, lines updated, figure drawn, image encoded), by the explorer itself.

    .venv/bin/python benchmarks/bench_widgets.py [--moves 200]
"""

from __future__ import annotations

import argparse

import numpy as np

from lrcourse.widgets import explore

STEPS = 10_000

CASES = {
    "StepLR / step_size": (
        dict(name="StepLR", step_size=(1, 5000, 2000), gamma=(0.05, 1.0, 0.5)),
        "step_size", np.linspace(100, 5000, 50).astype(int)),
    "CosineAnnealingLR / T_max": (
        dict(name="CosineAnnealingLR", T_max=(100, 10_000, 8000), eta_min=(0.0, 0.05, 0.0)),
        "T_max", np.linspace(500, 10_000, 50).astype(int)),
    "CosineAnnealingLR / eta_min": (
        dict(name="CosineAnnealingLR", T_max=(100, 10_000, 8000), eta_min=(0.0, 0.05, 0.0)),
        "eta_min", np.linspace(0.0, 0.05, 50)),
    "OneCycleLR / max_lr": (
        dict(name="OneCycleLR", max_lr=(0.1, 1.0, 0.5), total_steps=STEPS),
        "max_lr", np.linspace(0.1, 1.0, 50)),
    "CosineAnnealingWarmRestarts / T_0": (
        dict(name="CosineAnnealingWarmRestarts", T_0=(10, 3000, 500), T_mult=(1, 3, 2)),
        "T_0", np.linspace(50, 3000, 50).astype(int)),
    # two curves that share their warm-up and stable phase: the shared stretch is redrawn in
    # interleaved dashes at every move (lrcourse.plots.show_shared)
    "WSD + a fixed WSD (shared) / decay_steps": (
        dict(name="WarmupStableDecay", warmup_steps=100, total_steps=STEPS,
             decay_steps=(100, 5000, 2000),
             overlay={"decay_steps=1000": ("WarmupStableDecay", dict(
                 warmup_steps=100, total_steps=STEPS, decay_steps=1000))}),
        "decay_steps", np.linspace(200, 5000, 50).astype(int)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200)
    args = parser.parse_args()
    print(f"{'explorer / slider':38s} {'moves':>6s} {'median ms':>10s} {'p95 ms':>8s} {'max ms':>8s}")
    worst = 0.0
    for label, (spec, slider, values) in CASES.items():
        spec = dict(spec)
        explorer = explore(spec.pop("name"), lr=0.1, steps=STEPS, **spec)
        explorer.redraw_seconds.clear()
        positions = np.resize(np.concatenate([values, values[::-1]]), args.moves)
        for value in positions:
            explorer.set(**{slider: value.item()})
        ms = np.asarray(explorer.redraw_seconds) * 1e3
        p95 = float(np.percentile(ms, 95))
        worst = max(worst, p95)
        print(f"{label:38s} {len(ms):6d} {np.median(ms):10.1f} {p95:8.1f} {ms.max():8.1f}")
    print(f"worst p95: {worst:.1f} ms (target < 30 ms): {'met' if worst < 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
