"""A grading worker: grades the notebooks it is sent, one at a time, one JSON line each way.

    python -m lrcourse.grading.worker --memory-mb MB   (started by lrcourse.grading.grader)

The first line on stdin sets the run up (sources, expected values, limits, the sandbox);
every further line is a job: one learner's candidate files for one source notebook, with the
uid its sandbox runs as.  Each reply is one line echoing the job's nonce.  The worker reads
and parses submissions (under its own address-space limit, set once torch and the checks are
imported: what they map plus ``--memory-mb``, so a JSON bomb costs at most this process, and a
CUDA build of torch, which maps gigabytes, still imports), builds the plan, runs it in sandboxes and judges the replies.  Learner code never
runs here, and the sandboxes it starts never see this process's pipes (they get pipes of
their own and nothing else).  SIGTERM becomes a normal exit, which closes the sandboxes.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sys
import traceback
from pathlib import Path

from .assemble import assemble, match_notebooks
from .limits import Cgroups, Limits
from .notebooks import NotebookError, read_submission
from .results import NotebookResult, TestResult
from .sandbox import Environment
from .session import Expected, NotebookGrader
from .source import SourceNotebook, find_sources


def _exit_on_sigterm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise SystemExit(128 + signum)


def environment_to_json(env: Environment) -> dict:
    data = {k: getattr(env, k) for k in ("mode", "python", "bwrap", "as_root", "cgroup_note",
                                         "binds", "system", "tools", "staged", "stage_dir")}
    data["options"] = sorted(env.options)
    data["cgroups"] = ({"version": env.cgroups.version,
                        "made": [str(p) for p in env.cgroups.made]} if env.cgroups else None)
    return data


def environment_from_json(data: dict) -> Environment:
    data = dict(data)
    cgroups = data.pop("cgroups")
    env = Environment(**{**data, "options": set(data["options"]),
                         "system": [tuple(x) for x in data["system"]]})
    if cgroups:
        env.cgroups = Cgroups(cgroups["version"], [], [Path(p) for p in cgroups["made"]])
    return env


class Context:
    """What every job of a run shares."""

    def __init__(self, setup: dict):
        self.sources: dict[str, SourceNotebook] = {
            s.name: s for s in find_sources(Path(setup["source"]))}
        self.expected = {name: {handle: Expected.from_json(e) for handle, e in calls.items()}
                         for name, calls in setup["expected"].items()}
        self.limits = {name: Limits(**lim) for name, lim in setup["limits"].items()}
        self.env = environment_from_json(setup["environment"])
        self.timeout = float(setup["timeout"])
        self.setup_timeout = float(setup["setup_timeout"])
        self.memory_mb = setup["memory_mb"]


def no_notebook_reason(source: SourceNotebook, readable: dict, unreadable: dict) -> str:
    """Why no submitted notebook could be graded against ``source``."""
    same = unreadable.get(Path(source.name).name)
    if same:
        return same
    bad = [reason for name, reason in unreadable.items() if name]
    if not readable and bad:
        return "; ".join(bad)
    if "" in unreadable:
        return unreadable[""]
    if readable:
        return (f"none of the submitted notebooks ({', '.join(sorted(readable))}) has the "
                f"answer cells of {source.name}")
    return "no notebook was submitted"


def grade_job(job: dict, ctx: Context) -> NotebookResult:
    """Grade one learner's candidates against one source notebook."""
    source = ctx.sources[job["source"]]
    readable: dict[str, dict] = {}
    unreadable: dict[str, str] = dict(job.get("unreadable", {}))
    notes: list[str] = []
    best: dict[str, dict] = {}
    for name, path in sorted(job.get("candidates", {}).items()):
        try:
            notebook = read_submission(Path(path))
        except NotebookError as exc:
            unreadable[name] = str(exc)
            notes.append(str(exc))
            continue
        readable[name] = {}  # only its name is kept: one parsed notebook at a time
        chosen = match_notebooks(source, {**best, name: notebook})
        if chosen == name:
            best = {name: notebook}
    chosen = next(iter(best), None)
    if chosen is None:
        reason = no_notebook_reason(source, readable, unreadable)
        return NotebookResult(source.name, [TestResult(gid, source.name, 0.0, pts, "missing",
                                                       reason) for gid, pts in source.tests],
                              notes)
    plan = assemble(source, best.pop(chosen))
    grader = NotebookGrader(plan, ctx.expected[source.name], ctx.env, ctx.limits[source.name],
                            int(job["uid"]), ctx.timeout, ctx.setup_timeout, ctx.memory_mb,
                            name=f"u{job['uid']}")
    result = grader.run()
    result.notes = notes + [f"{chosen}: {note}" for note in result.notes]
    return result


def _private_stdio():
    """Keep stdout for the replies; fds 1 and 2 of anything started later go to /dev/null."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    err = os.fdopen(os.dup(2), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stdout, sys.stderr = out, err
    return out


def cap_address_space(extra_mb: int) -> int:
    """Import what judging needs, then cap this process's address space at what it maps now
    plus ``extra_mb``; return the cap in bytes."""
    import torch  # noqa: F401 - mapped before the cap (a CUDA build maps gigabytes)

    import lrcourse.checks  # noqa: F401 - the judges, some of which run torch schedulers

    status = Path("/proc/self/status").read_text(encoding="utf-8")
    mapped = int(re.search(r"^VmSize:\s+(\d+) kB", status, re.M).group(1)) * 1024
    cap = mapped + extra_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    return cap


def main() -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if sys.argv[1:2] == ["--memory-mb"]:
        cap_address_space(int(sys.argv[2]))
    out = _private_stdio()
    ctx = None
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if ctx is None:
            ctx = Context(request)
            continue
        try:
            result = grade_job(request, ctx).to_json()
        except Exception as exc:  # noqa: BLE001 - a grader bug costs this notebook only
            traceback.print_exc(file=sys.stderr)
            result = {"internal_error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps({"nonce": request.get("nonce"), "result": result}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

