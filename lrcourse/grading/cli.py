"""``lrcourse grade``: grade submitted notebooks against the solutions, in a sandbox.

    lrcourse grade SUBMISSIONS... --out DIR [--jobs N] [--timeout S] [--memory-mb MB]
                   [--source PATH] [--secret-file PATH] [--library-calls flag|zero]
                   [--shared-uid] [--no-sandbox]
    lrcourse grade --collect DIR... --out DIR     (merge the outputs of several runs)

Each SUBMISSION is a notebook (the learner is its file name without ``.ipynb``) or a folder of
notebooks (the learner is the folder's name).  Writes DIR/scores.csv, DIR/feedback/*.html and
DIR/results.json (updating them if DIR holds an earlier run), shows a progress bar while it
runs and prints a summary.  Exit status: 0 when every notebook got a result, however bad; 2
when grading could not start (a usage error, a broken source, no sandbox, a failing set-up
cell); 3 when some notebooks hit a grading-environment error (their results say so:
re-grade them).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .grader import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, GradingError, grade_all
from .report import collect_outputs, summary, terminal_safe, write_outputs
from .sandbox import SandboxUnavailable
from .secret import SecretError, load_secret
from .source import SourceError


def default_source() -> Path:
    """``solutions/`` of the repository this package lives in."""
    return Path(__file__).resolve().parents[2] / "solutions"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``grade`` options to ``parser``."""
    parser.add_argument("submissions", nargs="*", metavar="SUBMISSION", type=Path,
                        help="a learner's notebook, or a folder of them named after the learner")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="where scores.csv and feedback/ are written (updated if present)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help="wall-clock limit for each cell and for each check's cases "
                             f"(default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="notebooks graded in parallel (default 1)")
    parser.add_argument("--source", type=Path, default=None, metavar="PATH",
                        help="source notebooks with the tests (default: the repository's "
                             "solutions/); a folder or one notebook")
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
                        help="memory the learner's code may use on top of what the grading "
                             f"environment needs, measured at start (default {DEFAULT_MEMORY_MB})")
    parser.add_argument("--secret-file", type=Path, default=None, metavar="PATH",
                        help="the secret hidden cases are drawn with (default: DIR/"
                             ".grading-secret, created on first use)")
    parser.add_argument("--library-calls", choices=("flag", "zero"), default="flag",
                        help="an answer that calls what its exercise forbids (e.g. torch's "
                             "StepLR in the StepLR exercise): keep its points and flag it for "
                             "review (default), or score it 0")
    parser.add_argument("--collect", nargs="+", type=Path, default=None, metavar="DIR",
                        help="grade nothing: merge the output folders of other runs (one per "
                             "machine or container) into --out")
    parser.add_argument("--shared-uid", action="store_true",
                        help="as a user who is not root: accept sandboxes that run under your "
                             "user id, kept apart by namespaces only (as root each sandbox gets "
                             "a user id of its own)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run learner code without bubblewrap (trusted submissions only; "
                             "every feedback page then says so)")


def _fail(message: str) -> int:
    print(f"lrcourse grade: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Grade, write the outputs, print the summary."""
    from tqdm import tqdm

    if args.collect:
        if args.submissions:
            return _fail("--collect merges output folders: give no submissions with it")
        try:
            learners = collect_outputs(args.collect, args.out)
        except (OSError, ValueError) as exc:
            return _fail(str(exc))
        print(summary(learners))
        print(f"collected {len(args.collect)} folder(s) into {args.out}")
        return 0
    if not args.submissions:
        return _fail("give the submissions to grade (or --collect output folders)")
    source = args.source or default_source()
    if args.timeout <= 0 or args.jobs < 1 or (args.memory_mb is not None and args.memory_mb < 0):
        return _fail("--timeout must be > 0, --jobs >= 1 and --memory-mb >= 0")
    absent = [str(p) for p in args.submissions if not (p.exists() or p.is_symlink())]
    if absent:  # a typo on the command line, not a learner's empty hand-in
        return _fail(f"no such file or folder: {', '.join(absent)}")
    try:
        secret, secret_note = load_secret(args.out, args.secret_file)
    except (SecretError, OSError) as exc:
        return _fail(str(exc))
    start = time.monotonic()
    bar = None

    def status(text: str) -> None:
        print(text, file=sys.stderr)

    def total(n: int) -> None:
        nonlocal bar
        bar = tqdm(total=n, desc="grading", unit="notebook", file=sys.stderr,
                   dynamic_ncols=True)

    def done(learner: str, result) -> None:
        if bar is not None:
            bar.set_postfix_str(terminal_safe(learner)[:30], refresh=False)
            bar.update(1)

    status(secret_note)
    try:
        run = grade_all(args.submissions, source, secret=secret, jobs=args.jobs,
                        timeout=args.timeout, memory_mb=args.memory_mb or None,
                        library_calls=args.library_calls, no_sandbox=args.no_sandbox,
                        shared_uid=args.shared_uid,
                        on_status=status, on_done=done, on_total=total)
    except SourceError as exc:
        return _fail(f"cannot use source {source}: {exc}")
    except SandboxUnavailable as exc:
        return _fail(str(exc))
    except GradingError as exc:
        return _fail(f"grading environment error: {exc}")
    finally:
        if bar is not None:
            bar.close()
    paths = write_outputs(run.learners, [s.to_json() for s in run.sources], args.out,
                          run.sandbox)
    print(summary(run.learners))
    print(f"graded in {time.monotonic() - start:.1f} s; wrote {paths['scores']} and "
          f"{paths['feedback']}/")
    if run.environment_errors:
        print(f"{len(run.environment_errors)} grading-environment error(s): the notebooks "
              "marked 'error' were not graded; fix the environment and grade them again:",
              file=sys.stderr)
        for error in run.environment_errors:
            print(f"  {error}", file=sys.stderr)
        return 3
    return 0
