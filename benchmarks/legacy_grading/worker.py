"""A grading worker: grade the submissions named on stdin, one JSON line each way.

    echo '{"submission": "...", "learner": "...", "source": "solutions", "timeout": 60,
           "memory_mb": 2048}' | python -m lrcourse.grading.worker

:func:`lrcourse.grading.grader.grade_all` runs ``--jobs`` such processes and hands each one
submission at a time; the learners' code runs in the kernels a worker starts, never in the
worker.  A worker that fails is replaced, so a submission that somehow upsets the grading code
itself costs only its own learner.  SIGTERM becomes a normal exit, so the kernel is shut down
on the way out.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from .assemble import find_sources
from .grader import grade_learner


def _exit_on_sigterm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise SystemExit(128 + signum)


def _private_stdio() -> None:
    """Keep stdout/stderr for this process only; kernels started later get /dev/null.

    A kernel inherits file descriptors 1 and 2.  Whatever learner code might write to them
    directly (bypassing the notebook's output capture) must neither corrupt the JSON this
    process prints nor pile up in the parent's memory.
    """
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    err = os.fdopen(os.dup(2), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stdout, sys.stderr = out, err


def main() -> int:
    """Grade each request line from stdin; write each result as a JSON line to stdout."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    _private_stdio()
    sources: dict[str, list] = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if request["source"] not in sources:
            sources[request["source"]] = find_sources(request["source"])
        result = grade_learner(request["submission"], sources[request["source"]],
                               timeout=float(request["timeout"]),
                               memory_mb=request["memory_mb"], name=request.get("learner"))
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
