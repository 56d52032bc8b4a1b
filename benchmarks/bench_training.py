"""How long do the training lessons' runs take?  Run by hand:

    .venv/bin/python benchmarks/bench_training.py [--epochs 15] [--repeat 3]

Prints the best-of-``repeat`` wall time of one ``lrcourse.training.train`` run per scheduler,
of one LR range test (100 steps), and of a run with torch using two threads instead of the
one the harness pins (to show why it pins one).  Target: a 15-epoch run under 1 s, so that a
lesson of 35 runs stays well inside its 90 s budget on 2 shared cores.
"""

from __future__ import annotations

import argparse
import time

import torch

from lrcourse import find_lr
from lrcourse.training import make_loaders, make_model, steps_per_epoch, train
from lrcourse.training.data import one_thread


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    total = args.epochs * steps_per_epoch()
    cases = {
        "constant": None,
        "StepLR": ("StepLR", {"step_size": 5, "gamma": 0.3}),
        "OneCycleLR": ("OneCycleLR", {"max_lr": 0.3, "total_steps": total}),
        "ReduceLROnPlateau": ("ReduceLROnPlateau", {"patience": 1}),
        "WarmupCosine": ("WarmupCosine", {"warmup_steps": 21, "total_steps": total}),
    }
    train(None, epochs=1, progress=False)  # load the data once
    print(f"{'run':<28}{'seconds':>10}")
    for label, spec in cases.items():
        t = best_of(args.repeat, lambda: train(spec, epochs=args.epochs, progress=False))
        print(f"{label + f' ({args.epochs} epochs)':<28}{t:>10.3f}")
    loader, _ = make_loaders()
    t = best_of(args.repeat, lambda: find_lr(make_model(), loader, progress=False))
    print(f"{'find_lr (100 steps)':<28}{t:>10.3f}")

    # The same run with torch on two threads: the harness's one_thread() would undo this, so
    # time the inner loop directly.
    def two_threads():
        with one_thread():
            torch.set_num_threads(2)
            model = make_model()
            opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
            for _ in range(args.epochs):
                for x, y in loader:
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(model(x), y).backward()
                    opt.step()

    t = best_of(args.repeat, two_threads)
    print(f"{'2 threads, bare loop':<28}{t:>10.3f}")


if __name__ == "__main__":
    main()
