"""The red team's hostile class (grading_fixtures/redteam.py), graded with honest learners.

Like tests/test_grading_attacks.py, each run is the real command (worker processes, --jobs 2,
bubblewrap sandboxes), and every attacker must get exactly what it deserves, no honest
learner's result may move, no file outside the output folder may change and no process may
outlive the run.  On top of that: hidden library calls are flagged (and score 0 with
--library-calls zero), nothing of the hidden inputs, the grader's keys or another sandbox's
keys reaches any output, no escape sequence reaches the instructor's terminal, a slow
notebook is bounded as a whole, the torch exercises (6 and 7) hold, and so does a grader that
is not root.
"""

from __future__ import annotations

import ast
import csv
import ctypes
import io
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from grading_fixtures.attacks import EIGHT, undeserved
from grading_fixtures.crafted import (
    CORRECT, REPO, SOURCE, STEP, TESTS, WRONG_STEP, describe_processes, digest, notebook,
    processes_of_uids, run_grade, sandbox_unavailable, write,
)
from grading_fixtures.redteam import COVERT_WORDS, PLANTED, craft_redteam, craft_torch_class

TIMEOUT = 10
SANDBOX_PROBLEM = sandbox_unavailable()
pytestmark = pytest.mark.skipif(bool(SANDBOX_PROBLEM), reason=SANDBOX_PROBLEM or "ok")
LINUX_X86_64 = sys.platform.startswith("linux") and platform.machine() == "x86_64"


class Keyring:
    """This test process's own session keyring, holding one secret key (Linux x86_64)."""

    def __init__(self) -> None:
        self.description = f"lrcourse-grader-secret-{secrets.token_hex(4)}"
        self.payload = f"GRADER-KEY-{secrets.token_hex(8)}"
        self.key = -1
        if not LINUX_X86_64:
            return
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        # a new anonymous session keyring for this process only (nothing shared is touched)
        if self.libc.syscall(ctypes.c_long(250), ctypes.c_long(1), None) < 0:
            return
        self.key = self.libc.syscall(ctypes.c_long(248), b"user", self.description.encode(),
                                     self.payload.encode(), len(self.payload), ctypes.c_int(-3))

    def revoke(self) -> None:
        if self.key >= 0:
            self.libc.syscall(ctypes.c_long(250), ctypes.c_long(3), ctypes.c_long(self.key))




def _results(out: Path) -> tuple[dict, dict]:
    state = json.loads((out / "results.json").read_text())
    results = {d["learner"]: {r["grade_id"]: r for r in d["results"]} for d in state["learners"]}
    return results, {d["learner"]: d for d in state["learners"]}


def _outputs(out: Path) -> dict[str, str]:
    return {str(p): p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*")
            if p.is_file() and p.name != ".grading-secret"}


def _watched() -> dict[str, Path]:
    import lrcourse

    return {"lrcourse": Path(lrcourse.__file__).parent, "solutions": REPO / "solutions",
            "fixture source": SOURCE}


# ------------------------------------------------------------------------ the main class


@pytest.fixture(scope="module")
def redteam(tmp_path_factory):
    root = tmp_path_factory.mktemp("redteam")
    subs, out = root / "submissions", root / "marks"
    alice = write(subs / "alice" / "schedules.ipynb", notebook(CORRECT))
    bob = write(subs / "bob.ipynb", notebook({**CORRECT, "step_answer": WRONG_STEP}))
    honest = [alice.parent, bob]
    keys = Keyring()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    address = f"\0lrcourse-redteam-{secrets.token_hex(6)}"
    listener.bind(address)
    listener.listen()
    listener.setblocking(False)
    attacks = craft_redteam(subs / "attackers", {"alice": alice, "abstract_socket": address,
                                                  "secret_key": keys.description.encode()})
    before = {name: digest(path) for name, path in _watched().items()}
    before_subs = digest(subs)
    keep: list = []
    try:
        start = time.monotonic()
        status, stdout, stderr = run_grade(
            [*map(str, honest), *(str(a.path) for a in attacks.values()), "--out", str(out),
             "--source", str(SOURCE), "--timeout", str(TIMEOUT), "--jobs", "2"], keep)
        elapsed = time.monotonic() - start
        run = keep[0]
        left = describe_processes(*run.uids) if run.uids[1] >= run.uids[0] else []
        alone = root / "honest-alone"
        status_alone, _, _ = run_grade(
            [*map(str, honest), "--out", str(alone), "--source", str(SOURCE), "--secret-file",
             str(out / ".grading-secret"), "--timeout", str(TIMEOUT), "--jobs", "2"])
    finally:
        keys.revoke()
        try:
            listener.accept()
            reached = True
        except BlockingIOError:
            reached = False
        listener.close()
    results, learners = _results(out)
    return dict(root=root, subs=subs, out=out, alone=alone, attacks=attacks, status=status,
                status_alone=status_alone, stdout=stdout, stderr=stderr, results=results,
                learners=learners, keys=keys, left=left, run=run, elapsed=elapsed,
                reached=reached,
                before=before, after={n: digest(p) for n, p in _watched().items()},
                before_subs=before_subs, after_subs=digest(subs))


def test_every_attacker_gets_exactly_what_it_deserves(redteam):
    assert redteam["status"] == 0 and redteam["status_alone"] == 0, redteam["stderr"][-3000:]
    assert len(redteam["attacks"]) >= 25
    wrong = undeserved(redteam["attacks"], redteam["results"], TESTS)
    assert not wrong, "\n".join(wrong)


def test_honest_learners_keep_their_results(redteam):
    for name in ("alice", "bob"):
        assert (redteam["out"] / "feedback" / f"{name}.html").read_bytes() == \
            (redteam["alone"] / "feedback" / f"{name}.html").read_bytes()
    assert {t: r["points"] for t, r in redteam["results"]["alice"].items()} == EIGHT


def test_nothing_outside_the_output_folder_changed_and_no_process_is_left(redteam):
    assert redteam["after"] == redteam["before"]
    assert redteam["after_subs"] == redteam["before_subs"]
    assert redteam["left"] == []
    if redteam["run"].uids[1] >= redteam["run"].uids[0]:
        assert processes_of_uids(*redteam["run"].uids) == []


def test_no_record_breaks_the_grader(redteam):
    for name, tests in redteam["results"].items():
        for test in tests.values():
            assert "internal grading error" not in test["message"], (name, test)


def test_hidden_library_calls_score_zero_when_asked(redteam, tmp_path):
    attacks = redteam["attacks"]
    chosen = ["hide_in_time_magic", "runner_via_main_and_dict", "getattr_as_value",
              "private_module_function"]
    status, _, err = run_grade([str(redteam["subs"] / "alice"),
                                *(str(attacks[n].path) for n in chosen), "--out", str(tmp_path),
                                "--source", str(SOURCE), "--library-calls", "zero",
                                "--timeout", str(TIMEOUT), "--jobs", "2"])
    assert status == 0, err[-2000:]
    results, _ = _results(tmp_path)
    assert {t: r["points"] for t, r in results["alice"].items()} == EIGHT
    for name in chosen:
        assert (results[name]["step_test"]["points"], results[name]["step_test"]["status"]) == \
            (0, "flagged"), name
        assert results[name]["cosine_test"]["points"] == 3


def test_hidden_inputs_do_not_reach_the_flags(redteam):
    from lrcourse.grading.session import HIDDEN_FINDING

    flags = redteam["results"]["covert_channel_in_flags"]["step_test"]["flags"]
    assert any(HIDDEN_FINDING in flag for flag in flags), flags
    page = (redteam["out"] / "feedback" / "covert_channel_in_flags.html").read_text()
    for words in COVERT_WORDS:
        assert not any(words in flag for flag in flags), flags
        assert words not in page
    # the public cases triggered nothing: every other flag is the static check's
    assert all("answer cell 'step_answer' uses" in f or "imports" in f or HIDDEN_FINDING in f
               for f in flags), flags


def test_no_key_crosses_the_sandbox(redteam):
    keys = redteam["keys"]
    for where, text in _outputs(redteam["out"]).items():
        assert keys.payload not in text, where
        assert PLANTED not in text, where
    if LINUX_X86_64:
        thief = redteam["results"]["keyring_thief"]["step_test"]["message"]
        later = redteam["results"]["keyring_reader_later"]["step_test"]["message"]
        # the keyring calls are refused in the sandbox (EPERM), so nothing is found
        assert "none (1)" in thief and "none (1)" in later, (thief, later)


def test_the_graders_abstract_socket_is_out_of_reach(redteam):
    assert redteam["reached"] is False


def test_names_cannot_reach_the_terminal_or_take_a_page(redteam):
    out, stdout, stderr = redteam["out"], redteam["stdout"], redteam["stderr"]
    for stream in (stdout, stderr):
        assert "\x1b" not in stream and "\x07" not in stream
        assert "\u202e" not in stream and "\u200b" not in stream
    lines = stdout.splitlines()
    # one line per learner: a newline in a name does not make a line of its own
    assert lines[0].split() == ["learner", "score", "problems"]
    assert lines[len(redteam["learners"]) + 1].startswith(f"{len(redteam['learners'])} learner")
    assert any(line.startswith("line?break ") for line in lines)
    # scores stay in one column on the screen, whatever the names (wide characters included)
    from lrcourse.grading.report import display_width

    column = {display_width(line[:line.rindex("/8")])
              for line in lines[1:len(redteam["learners"]) + 1]}
    assert len(column) == 1, lines
    # the names survive in the spreadsheet, undecodable bytes as U+FFFD
    rows = {r["learner"]: r for r in csv.DictReader(io.StringIO(
        (out / "scores.csv").read_text()))}
    assert rows["eve\ufffd\ufffd"]["total"] == "8"
    assert rows["line\nbreak"]["total"] == "8"
    # alice keeps her page; the look-alike "_alice" gets one of its own
    pages = {name: data["feedback"] for name, data in redteam["learners"].items()}
    assert pages["alice"] == "feedback/alice.html"
    assert pages["_alice"] != "feedback/alice.html" and len(set(pages.values())) == len(pages)
    assert "<title>Feedback: alice</title>" in (out / "feedback" / "alice.html").read_text()
    for page in pages.values():
        assert (out / page).is_file()
    # of a folder of 31 notebooks, 20 were read, and a note says which were not
    assert "only 20 notebooks of a folder are read; not read: decoy_20.ipynb, " \
           "decoy_21.ipynb" in " ".join(redteam["learners"]["many_notebooks"]["notes"])


# -------------------------------------------------------------------- a slow notebook


SLOW = "import time\ntime.sleep({pause})\n"
HANG = "\ndef {name}(*args, **kwargs):\n    import time\n    time.sleep(1000)\n"


def test_a_slow_notebook_is_bounded_as_a_whole(tmp_path):
    # every answer cell waits just under the timeout and every check then hangs: each time
    # out replays the notebook, so without a budget for the whole notebook it would take
    # (exercises)^2 x timeout; with one, at most (exercises + 2) x timeout
    timeout = 2
    pause = SLOW.format(pause=timeout - 0.3)
    slow = write(tmp_path / "subs" / "slowpoke.ipynb", notebook({
        "step_answer": pause + HANG.format(name="step_lr"),
        "exp_answer": pause + HANG.format(name="exponential_lr"),
        "cosine_answer": pause + HANG.format(name="cosine_annealing_lr")}))
    alice = write(tmp_path / "subs" / "alice.ipynb", notebook(CORRECT))
    status, _, err = run_grade([str(alice), str(slow), "--out", str(tmp_path / "out"),
                                "--source", str(SOURCE), "--timeout", str(timeout)])
    assert status == 0, err[-2000:]
    results, _ = _results(tmp_path / "out")
    assert {t: r["points"] for t, r in results["alice"].items()} == EIGHT
    slowpoke = results["slowpoke"]
    assert {r["status"] for r in slowpoke.values()} == {"timeout"}
    assert slowpoke["cosine_test"]["message"] == (
        f"not run: the notebook used up the {timeout * 5} s it may take in all (its answer "
        "cells and checks together, so that one slow notebook cannot hold up a class)")


# ------------------------------------------------------------- exercises 6 and 7 (torch)


@pytest.mark.skipif(not (REPO / "solutions" / "ex07_find_the_bug.ipynb").exists(),
                    reason="no solutions/ here")
def test_torch_exercises_hold(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("ex06_warmup_cosine.ipynb", "ex07_find_the_bug.ipynb"):
        shutil.copy(REPO / "solutions" / name, source / name)
    attacks = craft_torch_class(tmp_path / "subs", REPO / "solutions")
    status, _, err = run_grade([*(str(a.path) for a in attacks.values()), "--out",
                                str(tmp_path / "out"), "--source", str(source), "--jobs", "2",
                                "--timeout", "30"])
    assert status == 0, err[-3000:]
    results, _ = _results(tmp_path / "out")
    wrong = undeserved(attacks, results, ("ex06_warmup_cosine_check", "ex07_train_check"))
    assert not wrong, "\n".join(wrong)
    assert not any(r["flags"] for r in results["honest_torch"].values())


# ------------------------------------------------------------- the sandbox, directly


@pytest.mark.skipif(not LINUX_X86_64, reason="the seccomp filter's numbers are x86_64's here")
def test_the_sandbox_refuses_the_calls_that_cross_namespaces():
    from lrcourse.grading.limits import Limits
    from lrcourse.grading.sandbox import DENIED_CALLS, Environment, Session

    numbers = {"shmget": 29, "msgget": 68, "add_key": 248, "request_key": 249, "keyctl": 250,
               "perf_event_open": 298, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425}
    assert set(numbers) <= set(DENIED_CALLS)
    probe = textwrap.dedent(f"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        got = {{}}
        for name, number in {numbers!r}.items():
            ctypes.set_errno(0)
            got[name] = (libc.syscall(ctypes.c_long(number), 0, 0, 0, 0, 0), ctypes.get_errno())
        x32_keyctl = ctypes.c_long(250 | 0x40000000)
        got["x32 keyctl"] = (libc.syscall(x32_keyctl, 0, 0), ctypes.get_errno())
        got["getpid"] = (libc.syscall(ctypes.c_long(39)) == os.getpid(), 0)
        fds = {{}}
        for fd in os.listdir("/proc/self/fd"):
            try:
                fds[int(fd)] = os.readlink("/proc/self/fd/" + fd).split(":")[0]
            except OSError:
                pass  # the listing's own descriptor, closed by now
        raise RuntimeError(repr((got, fds)))
        """)
    env = Environment.detect()
    if env.cgroups is not None:
        env.cgroups.start()
    try:
        session = Session(env, Limits(address_space_mb=None, memory_mb=1024), env.scratch_uid())
        try:
            reply = session.request({"op": "cell", "source": probe, "learner": True}, 60)
        finally:
            session.close()
    finally:
        if env.cgroups is not None:
            env.cgroups.finish()
        env.close()
    got, fds = ast.literal_eval(reply.data["evalue"])
    assert got.pop("getpid") == (True, 0)
    assert got == {name: (-1, 1) for name in got}, got   # every one: EPERM
    # nothing inherited: /dev/null as stdin and stdout (and Python's sys.stdin), the pipes of
    # stderr and of the protocol (no seccomp program, no descriptor of the grader's)
    assert fds == {0: "/dev/null", 1: "/dev/null", 2: "pipe", 3: "pipe", 4: "pipe",
                   5: "/dev/null"}, fds


def test_static_check_catches_the_evasions_and_spares_honest_answers():
    from lrcourse.grading.library import SAFE_IMPORTS, imported_modules, static_findings

    forbid = ["torch.optim.lr_scheduler", "lrcourse"]
    setup = "import math\nfrom lrcourse.checks import check_step_lr"

    def found(answer: str) -> list[str]:
        cells = [("setup", setup, None, None, []), ("answer", answer, "a", 0, forbid)]
        return [f.message for f in
                static_findings(cells, SAFE_IMPORTS | imported_modules([setup]))]

    honest = [
        STEP,
        "import numpy as np\nfrom functools import lru_cache\n\n@lru_cache\ndef f(x):\n"
        "    return float(np.floor(x) * math.pi)\n",
        "class A:\n    def __init__(self):\n        super().__init__()\n        self._x = 1\n"
        "    def __len__(self):\n        return len(self.__class__.__name__)\n",
        "import math\n%timeit -n1 -r1 math.cos(1)\n%precision 3\n",
        "def f(model):\n    return [m for m in model.modules()]\n",
    ]
    for answer in honest:
        assert found(answer) == [], answer
    evasions = {
        "%time import pkgutil": "pkgutil",
        "%%timeit -n1 -r 2 import gc\nx = gc.get_objects()": "gc",
        "import __main__": "__main__",
        "import os\nos.sys.modules['x']": "the attribute sys",
        "import torch\nx = torch.optim.__dict__['lr_scheduler']": "__dict__",
        "import operator\nf = operator.attrgetter('a.b')": "operator",
        "from functools import reduce\nreduce(getattr, ['a'], math)": "getattr as a value",
        "import sys\nsys.path.insert(0, '/tmp')": "sys.path",
        "import asyncio\nawait asyncio.sleep(0)": "imports asyncio",
        "import dataclasses\ndataclasses._create_fn('f', [], [])": "private attribute",
        "import typing\ntyping.get_type_hints(len)": "typing.get_type_hints",
        "import numpy as np\nnp.load('x', allow_pickle=True)": "pickled",
        "x = ().__class__.__base__.__subclasses__()": "__subclasses__",
        "try:\n    1 / 0\nexcept Exception as e:\n    t = e.__traceback__": "__traceback__",
        "def f(g):\n    return g.__wrapped__": "__wrapped__",
        "import numpy\nnumpy.ctypeslib.load_library('c', '.')": "ctypeslib",
        "x = (": "could not be parsed",
    }
    for answer, words in evasions.items():
        messages = found(answer)
        assert any(words in m for m in messages), (answer, messages)


def test_static_check_does_not_let_ipython_syntax_cost_minutes(monkeypatch):
    # IPython's transformer re-reads a cell once per line of IPython syntax: thousands of
    # them cost minutes in the grading worker, where no sandbox limit applies
    import IPython.core.inputtransformer2 as transformer

    from lrcourse.grading.library import static_findings

    def refuse(self, text):
        raise AssertionError("transformed a cell with thousands of magics")

    monkeypatch.setattr(transformer.TransformerManager, "transform_cell", refuse)
    for cell in ("%time x = 1\n" * 8000, "len?\n" * 8000, "%time x = 1\n" * 10 + "y = 1\n" * 9000):
        found = static_findings([("answer", cell[:100_000], "a", 0, [])], set())
        assert [f.message for f in found] == ["could not be parsed, so it could not be checked"]


def test_feedback_page_names_do_not_depend_on_the_class():
    from lrcourse.grading import report

    alone = report.feedback_names(["alice", "bob"])
    crowded = report.feedback_names(["_alice", "alice", "a lice", "Bob", "bob", ".alice"])
    assert alone["alice"] == crowded["alice"] == "alice.html"
    assert len(set(crowded.values())) == len(crowded)
    # names differing only in case never share a page on a case-insensitive disk
    assert crowded["Bob"].casefold() != crowded["bob"].casefold()
    assert report.terminal_safe("a\u202eb\u200bc\x1b]52;c;x\x07") == "a?b?c?]52;c;x?"
    assert report.display_width("ｅｖｅ") == 6 and report.display_width("e\u0301") == 1


# ---------------------------------------------------------------- a grader that is not root


NON_ROOT = textwrap.dedent("""
    # run "$@" as uid $UID_, in a private mount namespace where every folder Python needs is
    # reachable by that uid (a Python installed under /root is bound back read-only)
    set -e
    stage=$(mktemp -d)
    mount -t tmpfs -o mode=755 lrcourse-test "$stage"
    i=0
    for path in $HIDDEN; do
      mkdir -p "$stage/$i" && mount --bind "$path" "$stage/$i"; i=$((i + 1))
    done
    for top in $TOPS; do mount -t tmpfs -o mode=755 lrcourse-test "$top"; done
    i=0
    for path in $HIDDEN; do
      mkdir -p "$path" && mount --bind "$stage/$i" "$path"; i=$((i + 1))
    done
    exec setpriv --reuid="$UID_" --regid="$UID_" --clear-groups -- "$@"
    """)


def _unreachable(paths: list[str]) -> tuple[list[str], list[str]]:
    """Of ``paths``, those another user cannot reach, and the top folders that hide them."""
    from lrcourse.grading.sandbox import _reachable_by_others

    hidden = [p for p in paths if not _reachable_by_others(p)]
    tops = []
    for path in hidden:
        parts = Path(path).parts
        for i in range(2, len(parts) + 1):
            if not _reachable_by_others(str(Path(*parts[:i]))):
                top = str(Path(*parts[:i]))
                if top not in tops:
                    tops.append(top)
                break
    return hidden, tops


@pytest.mark.skipif(os.geteuid() != 0 or not all(shutil.which(t) for t in (
    "unshare", "mount", "setpriv")), reason="needs root to start a grader as another user")
def test_a_grader_that_is_not_root(tmp_path):
    import lrcourse

    uid = 1_900_000_000 + secrets.randbelow(10_000_000)
    package = str(Path(lrcourse.__file__).resolve().parent)
    # what the grader reads: Python, the venv, the package and the source notebooks (not the
    # whole checkout: when the checkout's own folder is the one others cannot reach, as in a
    # clone made in `mktemp -d`, binding it back would bring its mode back with it)
    needed = [os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), package,
              str(SOURCE.resolve())]
    hidden, tops = _unreachable(sorted(set(needed), key=len))
    work = Path(tempfile.mkdtemp(prefix="lrcourse-nonroot-"))
    try:
        os.chmod(work, 0o755)
        subs = work / "subs"
        alice = write(subs / "alice.ipynb", notebook(CORRECT))
        wrong = {**CORRECT, "step_answer": WRONG_STEP}
        thief = write(subs / "thief.ipynb", notebook({**wrong, "step_answer": WRONG_STEP + (
            "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "libc.syscall.restype = ctypes.c_long\nseen = []\n"
            "for line in open('/proc/keys'):\n    kid = int(line.split()[0], 16)\n"
            "    libc.syscall(ctypes.c_long(250), 8, ctypes.c_long(kid), ctypes.c_int(-3))\n"
            "    buf = ctypes.create_string_buffer(200)\n"
            "    n = libc.syscall(ctypes.c_long(250), 11, ctypes.c_long(kid), buf, 200)\n"
            "    seen.append(buf.raw[:max(n, 0)])\n"
            "def step_lr(epoch, base_lr, step_size, gamma):\n"
            "    raise RuntimeError(repr(seen))\n")}))
        hog = write(subs / "hog.ipynb", notebook({**CORRECT, "exp_answer": CORRECT[
            "exp_answer"] + (
            "import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n"
            "        b = bytearray(700 * 2**20)\n        b[::4096] = b'x' * len(b[::4096])\n"
            "        time.sleep(30)\n        os._exit(0)\ntime.sleep(10)\n")}))
        killer = write(subs / "killer.ipynb", notebook({**wrong, "step_answer": WRONG_STEP + (
            "import os, signal\nfor pid in range(1, 70000):\n    if pid != os.getpid():\n"
            "        try:\n            os.kill(pid, signal.SIGKILL)\n"
            "        except OSError:\n            pass\n")}))
        out = work / "out"
        subprocess.run(["chown", "-R", f"{uid}:{uid}", str(work)], check=True)
        secret = f"USER-KEY-{secrets.token_hex(6)}"
        add_key = (f"import ctypes; libc = ctypes.CDLL(None); libc.syscall.restype = "
                   f"ctypes.c_long; libc.syscall(ctypes.c_long(248), b'user', b'x', "
                   f"b'{secret}', {len(secret)}, ctypes.c_int(-4))")
        grade = (f"{sys.executable} -c {_quote(add_key)} && exec {sys.executable} -m lrcourse.cli "
                 f"grade {' '.join(map(str, (alice, thief, hog, killer)))} --out {out} "
                 f"--source {SOURCE} --timeout {TIMEOUT} --jobs 2")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work),
               "MPLCONFIGDIR": str(work / ".mpl"), "LANG": "C.UTF-8", "UID_": str(uid),
               "HIDDEN": " ".join(hidden), "TOPS": " ".join(tops)}
        # without --shared-uid it refuses: learner code would run under the grader's uid
        refused = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                  NON_ROOT, "sh", "sh", "-c", grade], env=env, cwd=str(work),
                                 capture_output=True, text=True, timeout=600, check=False)
        assert refused.returncode == 2, refused.stderr[-3000:]
        assert "pass --shared-uid to accept" in refused.stderr
        assert not (out / "scores.csv").exists()
        done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               NON_ROOT, "sh", "sh", "-c", grade + " --shared-uid"], env=env,
                              cwd=str(work), capture_output=True, text=True, timeout=600,
                              check=False)
        left = processes_of_uids(uid, uid)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "namespaces only" in done.stderr
        results, _ = _results(out)
        assert {t: r["points"] for t, r in results["alice"].items()} == EIGHT
        assert results["killer"]["exp_test"]["points"] == 2
        assert results["hog"]["exp_test"]["status"] == "crashed"
        assert "ran out of memory" in results["hog"]["exp_test"]["message"]
        assert results["hog"]["cosine_test"]["points"] == 3
        for where, text in _outputs(out).items():
            assert secret not in text, where
        assert left == []
    finally:
        for line in processes_of_uids(uid, uid):  # none, unless the test failed half-way
            try:
                os.kill(int(line.split()[0]), 9)
            except OSError:
                pass
        shutil.rmtree(work, ignore_errors=True)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def test_without_cgroups_a_watchdog_caps_the_memory_of_the_tree():
    from lrcourse.grading.limits import Limits
    from lrcourse.grading.sandbox import Environment, Session

    # what a grader that is not root gets: three children of 300 MB each, and memory files
    # (not mapped, so in no process's resident memory), under 600 MB for the whole tree
    hogs = {
        "forks": ("import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n"
                  "        b = bytearray(300 * 2**20)\n        b[::4096] = b'x' * len(b[::4096])\n"
                  "        time.sleep(30)\n        os._exit(0)\ntime.sleep(30)\n"),
        "memory files": ("import os, time\nfiles = []\nfor _ in range(12):\n"
                         "    files.append(os.memfd_create('x'))\n"
                         "    os.write(files[-1], b'x' * 64 * 2**20)\ntime.sleep(30)\n"),
    }
    env = Environment.detect(use_cgroups=False)
    try:
        for name, hog in hogs.items():
            session = Session(env, Limits(address_space_mb=1024, memory_mb=600),
                              uid=env.scratch_uid())
            try:
                reply = session.request({"op": "cell", "source": hog, "learner": True}, 60)
            finally:
                oom = session.close()
            assert (reply.status, reply.detail, oom) == ("died", "oom", True), (name, reply)
    finally:
        env.close()
