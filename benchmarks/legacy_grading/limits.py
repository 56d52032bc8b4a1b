"""Start a command with operating-system resource limits, then become it.

    python -m lrcourse.grading.limits --memory-mb 2048 --file-mb 64 -- CMD ARGS...

The limits are set with :func:`resource.setrlimit` in this small wrapper process and the
command replaces it with :func:`os.execv`, so the limits hold for the command (the grading
kernel) from its first instruction, and for anything it starts:

* ``RLIMIT_AS`` (address space): an allocation beyond ``--memory-mb`` fails inside the
  kernel (Python raises ``MemoryError``, torch a ``RuntimeError``) instead of exhausting the
  machine.  Address space, not resident memory, is what the kernel can reserve; torch,
  numpy, matplotlib and ipykernel together need well under 1 GB of it.
* ``RLIMIT_FSIZE``: no file written by the learner's code can grow beyond ``--file-mb``.
* ``RLIMIT_CORE`` = 0: a crashing kernel leaves no core dump behind.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys


def apply_limits(memory_mb: int | None, file_mb: int | None) -> None:
    """Set the address-space, file-size and core-dump limits of the current process.

    ``None`` (or 0) leaves a limit as it is.  A limit is never raised above the hard limit
    the process already has.
    """

    def lower(which: int, value: int) -> None:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))

    if memory_mb:
        lower(resource.RLIMIT_AS, int(memory_mb) * 2**20)
    if file_mb:
        lower(resource.RLIMIT_FSIZE, int(file_mb) * 2**20)
    lower(resource.RLIMIT_CORE, 0)


def main(argv: list[str] | None = None) -> None:
    """Parse the limits, apply them and exec the command after ``--``."""
    parser = argparse.ArgumentParser(prog="python -m lrcourse.grading.limits")
    parser.add_argument("--memory-mb", type=int, default=None)
    parser.add_argument("--file-mb", type=int, default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given after --")
    apply_limits(args.memory_mb, args.file_mb)
    os.execv(command[0], command)


if __name__ == "__main__":  # pragma: no cover - exercised through the sandbox
    main(sys.argv[1:])
