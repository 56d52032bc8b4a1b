"""What the tests of the learner-facing checks share: how a wrong answer is shown to be rejected."""

from __future__ import annotations

import pytest

from lrcourse.checks import CheckFailed


def flat(message: str) -> str:
    """A message with its wrapped sentences joined back (one space between words)."""
    return " ".join(message.split())


def rejected(check, fn, seed: int) -> CheckFailed:
    """The failure ``check`` reports for ``fn`` on its public cases, after asserting that its
    hidden cases (drawn with ``seed``) reject ``fn`` too."""
    with pytest.raises(CheckFailed) as info:
        check(fn)
    with pytest.raises(CheckFailed):
        check(fn, hidden=True, seed=seed)
    return info.value
