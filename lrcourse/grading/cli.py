"""``lrcourse grade``: grade submitted notebooks against the solutions, safely.

    lrcourse grade SUBMISSIONS... --out DIR [--timeout S] [--jobs N] [--source DIR]
                                          [--memory-mb MB]

Each SUBMISSION is a notebook (the learner is its file name without ``.ipynb``) or a folder of
notebooks (the learner is the folder's name).  Writes DIR/scores.csv, DIR/feedback/*.html and
DIR/results.json, shows a progress bar while it runs and prints a summary at the end.  The
exit status is 0 whenever every submission got a result, however bad; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .assemble import find_sources
from .grader import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, grade_all
from .report import summary, write_outputs


def default_source() -> Path:
    """``solutions/`` of the repository this package lives in."""
    return Path(__file__).resolve().parents[2] / "solutions"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``grade`` options to ``parser``."""
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION", type=Path,
                        help="a learner's notebook, or a folder of them named after the learner")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="where scores.csv and feedback/ are written")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"wall-clock limit for each cell (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="submissions graded in parallel (default 1)")
    parser.add_argument("--source", type=Path, default=None, metavar="DIR",
                        help="source notebooks with the tests (default: the repository's "
                             "solutions/); a folder or one notebook")
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
                        help=f"memory limit of each grading kernel (default {DEFAULT_MEMORY_MB})")


def run(args: argparse.Namespace) -> int:
    """Grade, write the outputs, print the summary."""
    from tqdm import tqdm

    source = args.source or default_source()
    if args.timeout <= 0 or args.jobs < 1:
        print("lrcourse grade: --timeout must be > 0 and --jobs >= 1", file=sys.stderr)
        return 2
    absent = [str(p) for p in args.submissions if not p.exists()]
    if absent:  # a typo on the command line, not a learner's empty hand-in
        print(f"lrcourse grade: no such file or folder: {', '.join(absent)}", file=sys.stderr)
        return 2
    try:
        sources = find_sources(source)
    except (OSError, ValueError) as exc:
        print(f"lrcourse grade: cannot use source {source}: {exc}", file=sys.stderr)
        return 2
    start = time.monotonic()
    with tqdm(total=len(args.submissions), desc="grading", unit="learner",
              file=sys.stderr, dynamic_ncols=True) as bar:
        def done(result):
            bar.set_postfix_str(result.learner, refresh=False)
            bar.update(1)

        results = grade_all(args.submissions, source, jobs=args.jobs, timeout=args.timeout,
                            memory_mb=args.memory_mb or None, on_done=done)
    paths = write_outputs(results, sources, args.out)
    elapsed = time.monotonic() - start
    print(summary(results))
    print(f"graded in {elapsed:.1f} s; wrote {paths['scores']} and {paths['feedback']}/")
    return 0
