"""How much faster is a closed form than stepping torch?  Run by hand:

    .venv/bin/python benchmarks/bench_schedules.py [--steps 20000]

For each scheduler it prints the time to produce a curve by stepping a real torch optimizer and
scheduler (lrcourse.reference) and by lrcourse.schedules.lr_curve, and their ratio.  Targets:
lr_curve at least 300x faster than torch and under 1 ms for 20,000 steps, for every scheduler
with a closed form (LambdaLR, MultiplicativeLR and ReduceLROnPlateau call Python per step and
are excepted).
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

from lrcourse import reference
from lrcourse.schedules import lr_curve

EXCEPTED = {"LambdaLR", "MultiplicativeLR", "ReduceLROnPlateau"}


def cases(steps: int):
    metrics = list(1.0 / np.sqrt(1.0 + np.arange(steps) // 50))
    return [
        ("LambdaLR", {"lr_lambda": lambda e: 0.9999**e}),
        ("MultiplicativeLR", {"lr_lambda": lambda e: 0.9999}),
        ("StepLR", {"step_size": 1000, "gamma": 0.5}),
        ("MultiStepLR", {"milestones": [steps // 2, 3 * steps // 4], "gamma": 0.1}),
        ("ConstantLR", {"factor": 0.5, "total_iters": steps // 10}),
        ("LinearLR", {"start_factor": 0.01, "total_iters": steps // 10}),
        ("ExponentialLR", {"gamma": 0.9999}),
        ("PolynomialLR", {"total_iters": steps, "power": 2.0}),
        ("CosineAnnealingLR", {"T_max": steps, "eta_min": 1e-4}),
        ("CosineAnnealingWarmRestarts", {"T_0": 500, "T_mult": 2, "eta_min": 1e-4}),
        ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 500, "mode": "triangular2"}),
        ("OneCycleLR", {"max_lr": 1.0, "total_steps": steps, "three_phase": True}),
        ("ReduceLROnPlateau", {"metrics": metrics, "patience": 5}),
        ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.01, "total_iters": 500}),
                                         ("CosineAnnealingLR", {"T_max": steps - 500})],
                          "milestones": [500]}),
        ("ChainedScheduler", {"schedulers": [("ExponentialLR", {"gamma": 0.9999}),
                                             ("MultiStepLR", {"milestones": [steps // 2]})]}),
    ]


def best_of(fn, repeat: int, number: int) -> float:
    return min(timeit.repeat(fn, repeat=repeat, number=number)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    steps, lr = args.steps, 0.1

    print(f"{steps}-step curves; best of repeated runs\n")
    print(f"{'scheduler':28s} {'torch':>10s} {'lr_curve':>10s} {'speed-up':>9s}  target")
    worst = np.inf
    for name, kw in cases(steps):
        t_torch = best_of(lambda: reference.lr_curve(name, steps, lr, **kw), repeat=3, number=1)
        t_ours = best_of(lambda: lr_curve(name, steps, lr, **kw), repeat=7, number=20)
        ratio = t_torch / t_ours
        if name in EXCEPTED:
            verdict = "(excepted: Python per step)"
        else:
            ok = ratio >= 300 and t_ours < 1e-3
            worst = min(worst, ratio)
            verdict = "ok" if ok else "MISSED (>=300x and <1 ms)"
        print(f"{name:28s} {t_torch * 1e3:8.1f}ms {t_ours * 1e3:8.3f}ms {ratio:8.0f}x  {verdict}")
    print(f"\nslowest closed form: {worst:.0f}x faster than stepping torch")


if __name__ == "__main__":
    main()
