"""Several schedules, several seeds: runs, a table with the spread, and what the numbers support.

Seed ``s`` fixes the initial weights and the order of the batches, and every schedule is run
with the same seeds, so schedules can be compared *seed by seed* (a paired comparison): the
difference between two schedules on the same seed has much less noise than either result alone.

The rule :func:`verdicts` applies, stated so a learner can check it: schedule A is called better
than B only if A beat B on every seed *and* the mean paired difference is more than two standard
errors from zero.  Anything else is reported as "not distinguishable with these seeds".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from .loop import History, SchedulerSpec, TrainConfig, Trainer

__all__ = ["compare", "summarize", "table", "paired_difference", "verdicts", "mean_curve",
           "metric_figure", "band_curves", "BANDS"]

HIGHER_IS_BETTER = {"val_acc": True, "train_acc": True, "val_loss": False, "train_loss": False}


def compare(schedules: Mapping[str, SchedulerSpec], seeds: Iterable[int] = range(5), *,
            progress: bool = True, **config) -> dict[str, list[History]]:
    """Train once per (schedule, seed); ``config`` is shared (epochs, lr, batch_size, ...).

    Returns ``{label: [history for each seed]}``.  One progress bar covers all the runs.
    """
    from tqdm.auto import tqdm

    seeds = list(seeds)
    results: dict[str, list[History]] = {label: [] for label in schedules}
    with tqdm(total=len(schedules) * len(seeds), disable=not progress, desc="runs") as bar:
        for label, spec in schedules.items():
            for seed in seeds:
                bar.set_postfix_str(f"{label}, seed {seed}")
                trainer = Trainer(TrainConfig(scheduler=spec, seed=seed, **config))
                results[label].append(trainer.run(progress=False))
                bar.update(1)
    return results


def final(histories: list[History], metric: str = "val_acc") -> np.ndarray:
    """The metric after the last epoch, one value per seed."""
    return np.array([getattr(h, metric)[-1] for h in histories], dtype=np.float64)


def mean_curve(histories: list[History], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over seeds of a per-epoch or per-step record."""
    stacked = np.array([getattr(h, metric) for h in histories], dtype=np.float64)
    sd = stacked.std(axis=0, ddof=1) if len(histories) > 1 else np.zeros(stacked.shape[1])
    return stacked.mean(axis=0), sd


def summarize(results: Mapping[str, list[History]],
              metrics: tuple[str, ...] = ("val_acc", "val_loss")) -> list[dict]:
    """One row per schedule: mean, standard deviation, min and max over seeds of each metric."""
    rows = []
    for label, histories in results.items():
        row: dict = {"schedule": label, "seeds": len(histories)}
        for metric in metrics:
            values = final(histories, metric)
            row[metric] = {
                "mean": float(values.mean()),
                "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                "min": float(values.min()),
                "max": float(values.max()),
            }
        rows.append(row)
    return rows


def table(rows: list[dict], metrics: tuple[str, ...] = ("val_acc", "val_loss"),
          sort_by: str | None = "val_acc") -> str:
    """The summary as a fixed-width text table (mean ± sd, [min, max]), best first."""
    if sort_by is not None:
        rows = sorted(rows, key=lambda r: r[sort_by]["mean"],
                      reverse=HIGHER_IS_BETTER.get(sort_by, True))
    width = max(len("schedule"), *(len(r["schedule"]) for r in rows))
    head = f"{'schedule':<{width}}  " + "  ".join(f"{m + ' (mean ± sd) [min, max]':<34}"
                                                   for m in metrics)
    lines = [head, "-" * len(head.rstrip())]
    for r in rows:
        cells = []
        for m in metrics:
            s = r[m]
            cells.append(f"{s['mean']:.4f} ± {s['sd']:.4f} [{s['min']:.4f}, {s['max']:.4f}]"
                         .ljust(34))
        lines.append(f"{r['schedule']:<{width}}  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def paired_difference(results: Mapping[str, list[History]], a: str, b: str,
                      metric: str = "val_acc") -> dict:
    """``a`` minus ``b`` seed by seed: mean, sd, standard error, and how often ``a`` was better."""
    da, db = final(results[a], metric), final(results[b], metric)
    if len(da) != len(db):
        raise ValueError(f"{a} and {b} were run with different numbers of seeds")
    diff = da - db
    n = len(diff)
    sd = float(diff.std(ddof=1)) if n > 1 else 0.0
    sign = 1 if HIGHER_IS_BETTER.get(metric, True) else -1
    return {
        "a": a, "b": b, "metric": metric, "n": n,
        "mean": float(diff.mean()), "sd": sd, "se": sd / math.sqrt(n) if n else math.nan,
        "a_better": int(np.sum(sign * diff > 0)), "b_better": int(np.sum(sign * diff < 0)),
    }


def verdicts(results: Mapping[str, list[History]], metric: str = "val_acc",
             against: str | None = None) -> list[str]:
    """Sentences comparing one schedule with each of the others, seed by seed.

    The one is ``against`` if given, else the schedule with the best mean.  "better" only when
    one side won on every seed and the mean difference exceeds two standard errors (see the
    module docstring); otherwise the two are reported as indistinguishable.
    """
    higher = HIGHER_IS_BETTER.get(metric, True)
    means = {label: final(h, metric).mean() for label, h in results.items()}
    one = against if against is not None else (max if higher else min)(means, key=means.get)
    if one not in results:
        raise ValueError(f"no schedule called {one!r}; have {', '.join(results)}")
    out = []
    for other in results:
        if other == one:
            continue
        d = paired_difference(results, one, other, metric)
        summary = (f"{one} - {other}: {d['mean']:+.4f} ± {d['se']:.4f} (mean ± s.e., "
                   f"{d['n']} seeds; {one} ahead on {d['a_better']}, behind on "
                   f"{d['b_better']})")
        clear = abs(d["mean"]) > 2 * d["se"]
        if clear and d["a_better"] == d["n"]:
            out.append(f"{summary}: {one} is better than {other} on {metric}.")
        elif clear and d["b_better"] == d["n"]:
            out.append(f"{summary}: {other} is better than {one} on {metric}.")
        else:
            out.append(f"{summary}: not distinguishable with these seeds.")
    return out


#: The bands :func:`metric_figure` can shade around each mean curve, and their legend entry.
BANDS = {"sd": "shaded: mean ± 1 sd over seeds", "range": "shaded: min–max over seeds"}


def band_curves(histories: list[History], metric: str, band: str) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper edge of the band around the mean of ``metric`` over seeds:
    ``"sd"``, mean ± one standard deviation; ``"range"``, the lowest and highest seed."""
    if band == "sd":
        mean, sd = mean_curve(histories, metric)
        return mean - sd, mean + sd
    if band == "range":
        stacked = np.array([getattr(h, metric) for h in histories], dtype=np.float64)
        return stacked.min(axis=0), stacked.max(axis=0)
    raise ValueError(f"band must be one of {', '.join(map(repr, BANDS))}, got {band!r}")


def metric_figure(results: Mapping[str, list[History]], metric: str = "val_loss", *,
                  title: str = "", logy: bool = False, band: str | None = None):
    """Mean over seeds of a per-epoch metric, one line per schedule, with a shaded band.

    ``band="sd"`` shades mean ± 1 standard deviation over seeds; ``band="range"`` the range of
    the seeds, from the lowest to the highest.  By default: ``"sd"`` on a linear axis and
    ``"range"`` on a log axis (``logy=True``), where mean − sd can fall to zero or below (the
    band would run off the bottom of the plot) while the range of positive values never does.
    The legend says which band is drawn.  It goes where it covers no line or band (under the
    plot if need be); a schedule whose mean curve is identical to one drawn before it is dashed
    with open markers, and a stretch where several mean curves coincide is drawn in
    interleaved dashes of their colours (:func:`lrcourse.plots.show_shared`).
    """
    from matplotlib.patches import Patch

    from ..plots import (MARK_COLOR, PALETTE, duplicate_style, new_figure, place_legend,
                         same_curve, show_shared)

    band = band if band is not None else ("range" if logy else "sd")
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(map(repr, BANDS))}, got {band!r}")
    fig, ax = new_figure(size=(7.0, 3.6))
    drawn, distinct = [], []
    for i, (label, histories) in enumerate(results.items()):
        mean, _ = mean_curve(histories, metric)
        low, high = band_curves(histories, metric, band)
        epochs = np.arange(1, len(mean) + 1)
        color = PALETTE[i % len(PALETTE)]
        style = dict(color=color, linewidth=1.8)
        if any(same_curve(mean, other) for other in drawn):
            style.update(duplicate_style(len(mean)), markevery=1)
        else:
            distinct.append((mean, color))
        ax.plot(epochs, mean, label=label, **style)
        ax.fill_between(epochs, low, high, color=color, alpha=0.15, linewidth=0)
        drawn.append(mean)
    if len(distinct) > 1:
        means, colors = zip(*distinct)
        show_shared(ax, means, colors, x0=1, min_steps=2)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(facecolor=MARK_COLOR, alpha=0.35, linewidth=0))
    labels.append(BANDS[band])
    place_legend(ax, handles=handles, labels=labels)
    return fig
