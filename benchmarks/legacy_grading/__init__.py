"""The kernel-based grader as it was before the sandboxed design (issue 11), kept only so that
benchmarks/bench_grading.py can print both designs in one run.  Not part of lrcourse, not a
security boundary (learner code runs in a Jupyter kernel beside the checks): never use it
to grade.  Delete this folder once the comparison is no longer wanted.

It runs with ``benchmarks/`` on PYTHONPATH (the benchmark sets it), so that its workers and
kernels find ``legacy_grading``.
"""

from .grader import LearnerResult, TestResult, grade_all, grade_learner

__all__ = ["LearnerResult", "TestResult", "grade_all", "grade_learner"]
