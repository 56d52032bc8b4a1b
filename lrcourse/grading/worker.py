"""Grade one submission in this process and print the result as JSON.

    echo '{"submission": "...", "learner": "...", "source": "solutions", "timeout": 60,
           "memory_mb": 2048}' | python -m lrcourse.grading.worker

:func:`lrcourse.grading.grader.grade_all` starts one such process per submission, so a
submission that somehow upsets the grading code itself (not only its kernel) affects nobody
else.  SIGTERM is turned into a normal exit, so the kernels are shut down on the way out.
"""

from __future__ import annotations

import json
import signal
import sys

from .assemble import find_sources
from .grader import grade_learner


def _exit_on_sigterm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise SystemExit(128 + signum)


def main() -> int:
    """Read the request from stdin, grade, write the :class:`LearnerResult` JSON to stdout."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    request = json.loads(sys.stdin.read())
    result = grade_learner(request["submission"], find_sources(request["source"]),
                           timeout=float(request["timeout"]), memory_mb=request["memory_mb"],
                           name=request.get("learner"))
    json.dump(result.to_json(), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
