"""Classroom grading: ``lrcourse grade`` scores learners' notebooks without trusting them.

The learner's code runs in a sandbox (:mod:`.sandbox`: bubblewrap, its own user, no network,
a private file system view, limits for the whole process tree) through a small runner
(:mod:`.runner`) that answers the grader's requests over a pipe (:mod:`.protocol`).  The
grader keeps everything that decides a score: the test cells are read from the instructor's
source (:mod:`.source`), hidden cases are drawn from a secret (:mod:`.secret`), expected values
are computed with torch in the grader, and each check's verdict and message are made there
from plain numbers the sandbox sends back (see :mod:`lrcourse.checks.spec`).

    source     instructor notebooks: answer cells, test cells as check calls, set-up cells
    notebooks  reading a submitted file safely (links, FIFOs, sizes, JSON bombs)
    assemble   the steps to run for one learner's notebook
    library    the static check for answers that call the library being taught
    sandbox    starting the runner in bubblewrap with its limits; one request at a time
    limits     cgroups and rlimits for a sandbox's whole process tree
    runner     the program inside the sandbox
    session    running one notebook's steps, with restarts, and judging the replies
    grader     grade_all: calibration, workers, one notebook per job, results
    worker     a worker process: grades the notebooks it is sent
    report     scores.csv, results.json, feedback/<learner>.html (Jinja2), written atomically
    cli        the ``grade`` subcommand

    >>> from lrcourse.grading import grade_all
    >>> run = grade_all(["submissions/alice"], "solutions", jobs=2)   # doctest: +SKIP

Importing this package imports nothing else: the runner inside the sandbox imports only
:mod:`.protocol` from it.
"""


def __getattr__(name: str):
    if name in ("grade_all", "GradingRun", "LearnerResult", "TestResult"):
        from . import grader

        return getattr(grader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["grade_all", "GradingRun", "LearnerResult", "TestResult"]
