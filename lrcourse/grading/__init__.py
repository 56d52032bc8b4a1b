"""Classroom grading: ``lrcourse grade`` runs learners' notebooks safely and scores them.

    assemble   the notebook to run: the source's cells with the learner's answer cells put in
    sandbox    runs it in a kernel with time, memory and output limits; survives crashes
    limits     the wrapper that sets the kernel's resource limits before it starts
    grader     scores each graded test cell; grades many learners in worker processes
    worker     a worker process: grades the submissions it is sent, one JSON line each
    report     scores.csv, feedback/<learner>.html, results.json and the terminal summary
    cli        the ``grade`` subcommand

    >>> from lrcourse.grading import grade_all
    >>> results = grade_all(["submissions/alice"], "solutions", jobs=2)   # doctest: +SKIP
"""

from .grader import LearnerResult, TestResult, grade_all, grade_learner

__all__ = ["LearnerResult", "TestResult", "grade_all", "grade_learner"]
