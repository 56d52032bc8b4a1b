import os

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

