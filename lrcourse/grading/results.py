"""What grading produces: a result per test cell, grouped per notebook and per learner."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

STATUSES = ("passed", "failed", "timeout", "crashed", "missing", "not run", "flagged", "error")
"""``flagged``: passed but scored 0 under ``--library-calls zero``; ``error``: a grading
environment error (not the learner's doing: re-grade)."""


@dataclass
class TestResult:
    """The score of one graded test cell for one learner.

    ``images`` are base64 PNGs of the overlay plot of a failed public case; ``flags`` the
    reasons the exercise was flagged for review (library calls, or code that can hide them).
    """

    grade_id: str
    notebook: str
    points: float
    max_points: float
    status: str
    message: str
    images: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict) -> TestResult:
        return cls(**{k: data[k] for k in ("grade_id", "notebook", "points", "max_points",
                                           "status", "message")},
                   images=list(data.get("images", [])), flags=list(data.get("flags", [])))


@dataclass
class NotebookResult:
    """One (learner, source notebook) job: its tests and notes."""

    notebook: str
    results: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    environment_error: str = ""
    stats: dict = field(default_factory=dict)   # e.g. the sandbox's CPU seconds, as reported

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> NotebookResult:
        stats = data.get("stats", {})
        return cls(data["notebook"], [TestResult.from_json(r) for r in data["results"]],
                   list(data.get("notes", [])), str(data.get("environment_error", "")),
                   stats if isinstance(stats, dict) else {})


@dataclass
class LearnerResult:
    """Everything graded for one learner: test results in column order, plus notes."""

    learner: str
    submission: str
    results: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return float(sum(r.points for r in self.results))

    @property
    def max_points(self) -> float:
        return float(sum(r.max_points for r in self.results))

    @property
    def flagged(self) -> list[str]:
        """grade_ids of the tests flagged for review."""
        return [r.grade_id for r in self.results if r.flags]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> LearnerResult:
        return cls(data["learner"], data["submission"],
                   [TestResult.from_json(r) for r in data.get("results", [])],
                   list(data.get("notes", [])))
