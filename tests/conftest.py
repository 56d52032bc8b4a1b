import os
import re

from hypothesis import HealthCheck, settings

# Reproducible in CI: the same examples on every run, no example database on disk.
settings.register_profile(
    "course",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "course"))


def pytest_configure(config):
    # pyproject.toml makes torch's warnings errors.  One exception, on torch < 2.9 only: there
    # SequentialLR.step() itself passes an epoch to its members, and torch warns that this is
    # deprecated (see lrcourse.reference.strict_warnings).
    from lrcourse.reference import SEQUENTIAL_STEPS_WITH_EPOCH, STEP0_DEPRECATION

    if SEQUENTIAL_STEPS_WITH_EPOCH:
        config.addinivalue_line("filterwarnings",
                                f"ignore:{re.escape(STEP0_DEPRECATION)}:UserWarning")
