"""One way the tests say that a closed form agrees with its ground truth."""

from __future__ import annotations

import numpy as np
import pytest

RTOL = 1e-9
"""The agreement the course promises between a closed form and its ground truth."""


def close(got, truth, rtol: float = RTOL) -> None:
    """Fail, naming the first differing index, unless ``got`` equals ``truth`` within ``rtol``
    (and an absolute 1e-14 of the largest value, for entries at or near zero)."""
    got, truth = np.asarray(got), np.asarray(truth)
    if got.shape != truth.shape:
        pytest.fail(f"shapes differ: ours {got.shape} vs truth {truth.shape}")
    atol = 1e-14 * float(np.max(np.abs(truth), initial=0.0))
    bad = ~np.isclose(got, truth, rtol=rtol, atol=atol)
    if bad.any():
        k = tuple(np.argwhere(bad)[0])
        pytest.fail(f"first difference at {k}: ours {got[k]!r} vs truth {truth[k]!r}")
