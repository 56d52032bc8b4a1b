"""Naming the mistake: recognise a learner's wrong curve as a wrong implementation learners
really write.  One mechanism for every check.

A check's table of mistakes (its ``mistakes``) is a tuple of :class:`Mistake`.  When a case
fails, the check's judge hands :func:`diagnose` the case's :class:`Curves` (torch's and the
learner's), and :func:`diagnose` asks each mistake whether the learner's values are, within the
checks' tolerance (:func:`lrcourse.checks._core.mismatches`), the curve that mistake gives on the
same inputs.  A mistake computes that curve in one of two ways:

:func:`candidate`
    from the course's closed forms (:mod:`lrcourse.schedules`) with shifted steps or altered
    parameters: torch's curve shifted by one epoch, a cosine over ``T_max - 1``, restarts that
    do not grow, a OneCycleLR that ends at ``max_lr / div_factor``, a ReduceLROnPlateau that
    cuts at ``bad_epochs >= patience``, ... (a few compose two closed forms, say a warm-up then
    a cosine that is not shifted), never with a formula written here;
:func:`written`
    from a wrong version of the learner's code, run exactly as the check runs the learner's
    (its probe: ``fn(k, **params)``, a factor in a real LambdaLR, a scheduler a function
    builds), here in the trusted process: a factor of ``epoch // step_size``, a warm-up that
    starts at 0, a SequentialLR member that does not restart at its milestone, ...

A few recognisers look at where the curves differ instead (:func:`differs_only_after`: only
past ``total_iters``; a pattern of restarts).  The tables live beside each check (``mistakes=``
of each exercise); a check without one keeps its generic hint.

Every :class:`Mistake` carries two texts:

``kind``
    a constant sentence that names the mistake and nothing of the case (no number, no value, no
    parameter: no digit, ``=`` or ``_``): the only part a hidden case's feedback may show (see
    :mod:`lrcourse.grading.session`);
``recognise(curves)``
    the sentence a public case's message shows (after ``diagnosis:``), which may name
    parameters and values, or ``None`` when the learner's curve is not this mistake.

When several mistakes give the learner's curve, those of the best rank are all named (see
:data:`SPECIFIC`).  Recognising runs in the trusted judge, which sees both curves; never in the
probe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._core import mismatches

SPECIFIC, SHIFT, PATTERN, SCALE = 0, 1, 2, 3
"""Ranks: when several mistakes explain a curve, only those of the best (lowest) rank are named:
a specific mistake, then "shifted by one", then a pattern ("restarts at the wrong epochs", "the
wrong final rate"), then "off by a constant factor"."""


@dataclass
class Curves:
    """What a recogniser sees: one case (one parameter group of it), torch's curve and the
    learner's.

    ``name``, ``lr`` and ``kwargs`` are torch's scheduler for this case, so that
    :meth:`curve` with changed parameters or shifted steps computes a candidate with the same
    closed form as torch's curve (checks whose mistakes are all :func:`written` leave them
    out).  ``params`` are the learner's parameters (for messages); ``variable`` is "epoch" or
    "step"; ``run(fn)`` is the curve the check's probe gets when ``fn`` stands in for the
    learner's code on this case (see :meth:`written`); ``extra`` holds what a check adds (say,
    the other parameter groups' curves).
    """

    expected: np.ndarray
    got: np.ndarray
    name: str = ""
    lr: float = 0.0
    kwargs: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    variable: str = "epoch"
    extra: dict[str, Any] = field(default_factory=dict)
    run: Callable[[Callable], Any] | None = None

    @property
    def steps(self) -> int:
        return len(self.expected)

    @property
    def t(self) -> np.ndarray:
        return np.arange(self.steps)

    def curve(self, t: Any = None, *, lr: float | None = None, **changes: Any) -> np.ndarray:
        """torch's closed form for this case at steps ``t`` (default ``0 .. steps-1``), with
        the torch keyword arguments in ``changes`` replaced."""
        return self.other(self.name, self.lr if lr is None else lr, t, **{**self.kwargs,
                                                                           **changes})

    def other(self, name: str, lr: float, t: Any = None, **kwargs: Any) -> np.ndarray:
        """Another closed form (``lrcourse.schedules.schedule(name, lr, **kwargs)``) at ``t``."""
        from lrcourse.schedules import schedule

        t = self.t if t is None else np.asarray(t)
        return np.asarray(schedule(name, lr, **kwargs)(t), dtype=np.float64).reshape(t.shape)

    def written(self, fn: Callable) -> np.ndarray:
        """The curve of this case when ``fn`` is run in place of the learner's code, as the
        check runs the learner's code (ValueError when ``fn`` fails on this case)."""
        if self.run is None:
            raise ValueError("this check cannot run a wrong version of the learner's code")
        return np.asarray(self.run(fn), dtype=np.float64)

    def matches(self, candidate: Any) -> bool:
        """Whether the learner's curve is ``candidate`` (within the checks' tolerance)."""
        candidate = np.asarray(candidate, dtype=np.float64)
        return candidate.shape == self.got.shape and bool(np.all(np.isfinite(candidate))) and \
            mismatches(candidate, self.got).size == 0


Recogniser = Callable[[Curves], "str | None"]


@dataclass(frozen=True)
class Mistake:
    """One wrong implementation: its constant ``kind`` and how to recognise it (module doc)."""

    kind: str
    recognise: Recogniser
    rank: int = SPECIFIC


@dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` found: the constant ``kind`` and the public ``text``."""

    kind: str
    text: str


def diagnose(mistakes: Sequence[Mistake], curves: Curves) -> Diagnosis | None:
    """The mistake(s) that explain the learner's curve exactly, or None.

    When several do, all of the best rank are named: on that case they are indistinguishable.
    """
    found: list[tuple[Mistake, str]] = []
    for mistake in mistakes:
        try:
            with np.errstate(all="ignore"):
                text = mistake.recognise(curves)
        except Exception:  # noqa: BLE001
            # a candidate that cannot be computed for this case (T_max - 1 = 0, a rate below
            # eta_min) is not this mistake; and a diagnosis, like the plot, must never hide
            # the check's message
            text = None
        if text:
            found.append((mistake, text))
    if not found:
        return None
    best = min(m.rank for m, _ in found)
    found = [(m, text) for m, text in found if m.rank == best]
    if len(found) == 1:
        return Diagnosis(found[0][0].kind, found[0][1])
    kinds = "; or ".join(m.kind for m, _ in found)
    texts = " ".join(f"({i}) {text};" for i, (_, text) in enumerate(found, 1))
    return Diagnosis(kinds, f"{len(found)} mistakes give exactly your curve on this case: "
                            f"{texts[:-1]}")


# ------------------------------------------------------------------------ building mistakes


def candidate(kind: str, curve: Callable[[Curves], Any], explain: str | Callable[[Curves], str],
              *, when: Callable[[Curves], bool] | None = None, rank: int = SPECIFIC) -> Mistake:
    """The mistake whose curve is ``curve(curves)``; ``explain`` is a ``str.format`` template
    over the learner's parameters (or a function of the curves).  ``when``: only on cases where
    this mistake can be told apart at all."""

    def recognise(c: Curves) -> str | None:
        if when is not None and not when(c):
            return None
        if not c.matches(curve(c)):
            return None
        return explain(c) if callable(explain) else explain.format(**c.params)

    return Mistake(kind, recognise, rank)


def written(kind: str, fn: Callable, explain: str | Callable[[Curves], str], *,
            when: Callable[[Curves], bool] | None = None, rank: int = SPECIFIC) -> Mistake:
    """The mistake of a learner who writes ``fn`` (same signature as the learner's code): its
    curve is ``fn`` run on the case the way the check runs the learner's code
    (:meth:`Curves.written`).  ``explain`` and ``when`` as in :func:`candidate`."""
    return candidate(kind, lambda c: c.written(fn), explain, when=when, rank=rank)


def shifted(variable: str, by: int, detail: str = "") -> Mistake:
    """torch's curve shifted by one step: ``by=+1``, the learner's value at ``k`` is torch's at
    ``k + 1`` (a step ahead); ``by=-1``, torch's at ``k - 1`` (a step behind)."""
    if by == 1:
        kind = f"the curve is torch's shifted one {variable} early (an off-by-one)"
        what = (f"your curve is torch's shifted one {variable} early: at each {variable} k you "
                f"return torch's rate for {variable} k + 1")
    else:
        kind = f"the curve is torch's shifted one {variable} late (an off-by-one)"
        what = (f"your curve is torch's shifted one {variable} late: at each {variable} k you "
                f"return torch's rate for {variable} k - 1")

    def curve(c: Curves) -> np.ndarray:
        return c.curve(c.t + 1) if by == 1 else c.curve(np.maximum(c.t - 1, 0))

    return candidate(kind, curve, lambda c: what + (f" ({detail.format(**c.params)})"
                                                    if detail else ""), rank=SHIFT)


def scaled() -> Mistake:
    """Every value off by the same factor: the right shape from the wrong starting rate."""

    def recognise(c: Curves) -> str | None:
        nonzero = c.expected != 0
        if not nonzero.any() or np.any(c.got[~nonzero] != 0):
            return None
        ratios = c.got[nonzero] / c.expected[nonzero]
        ratio = float(ratios[0])
        if ratio <= 0 or not np.allclose(ratios, ratio, rtol=1e-6) or abs(ratio - 1) < 1e-6:
            return None
        return (f"every value of yours is {ratio:.4g} times torch's: the shape is right, the "
                "scale is not (look at the rate the curve starts from)")

    return Mistake("every value is off by the same factor (the right shape at the wrong scale)",
                   recognise, SCALE)


def differs_only_after(kind: str, last_right: Callable[[Curves], int],
                       explain: str) -> Mistake:
    """The curves agree up to ``last_right(curves)`` and differ only after it."""

    def recognise(c: Curves) -> str | None:
        bad = mismatches(c.expected, c.got)
        if bad.size and bad[0] > last_right(c):
            return explain.format(**c.params)
        return None

    return Mistake(kind, recognise)


def common(variable: str, early: str = "", late: str = "") -> tuple[Mistake, ...]:
    """The mistakes every check looks for: shifted by one either way, off by a factor."""
    return shifted(variable, 1, early), shifted(variable, -1, late), scaled()


def jumps_up(curve: np.ndarray) -> list[int]:
    """The steps where a curve jumps back up (restarts), beyond rounding."""
    scale = float(np.max(np.abs(curve))) if curve.size else 0.0
    rise = np.diff(curve) > 1e-6 * scale
    return [int(k) + 1 for k in np.flatnonzero(rise)]
