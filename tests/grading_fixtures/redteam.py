"""A second hostile class: what an independent red team tried after grading_fixtures/attacks.py.

Each attacker is graded by tests/test_grading_redteam.py together with honest learners, and
gets exactly what it deserves.  The attacks fall in five groups:

* **hidden library calls**: answers that compute torch's (or lrcourse's) values in the sandbox
  and try to keep both the static check and the runner's evidence quiet: code hidden in
  ``%time``/``%%timeit``, the runner reached through ``import __main__``, ``os.sys.modules`` or
  ``gc`` and its replies rewritten, ``pkgutil.resolve_name``, ``operator.attrgetter``,
  ``__dict__``, ``getattr`` passed as a value, a module shadowed through ``sys.path``, a cell
  only IPython parses (top-level ``await``), a private module function that imports by name.
  They compute correct values, so they keep their points; they must be *flagged* (and score 0
  with ``--library-calls zero``);
* **forged records**: replies no probe makes, built to break the grader's judge (a 400-digit
  integer, a record without the keys its message needs, an absurd CPU-time report) rather
  than to pass: they may cost only the check they forge;
* **covert channel**: code that, on seeing a hidden input, triggers runtime evidence chosen by
  that input, so that the flags on the feedback page would spell out the hidden cases;
* **the kernel beyond the namespaces**: the grader's session keyring, keys left for later
  sandboxes, SysV shared memory and memory files (``memfd_create``) outside every process, a
  flood of large forged frames;
* **names**: learner names that are not UTF-8, carry terminal escape sequences (OSC 52 sets
  the instructor's clipboard), bidirectional overrides, newlines, or clean up to a
  classmate's name; notebooks in UTF-16 or with a byte-order mark.

Unless said otherwise an attacker hands in correct answers for ``exp_answer`` and
``cosine_answer``; ``SIX``, ``EIGHT`` and ``ZERO`` are as in :mod:`.attacks`.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from .attacks import EIGHT, RIGHT, SIX, WRONG, ZERO, Attack
from .crafted import CORRECT, EXP, SOURCE_NB, STEP, WRONG_STEP, notebook, write

PLANTED = "LRCOURSE-PLANTED-KEY"
"""What the keyring attacker leaves for later sandboxes (must never be found)."""
COVERT_WORDS = ("sent a signal", "compiled code from a string")
"""Runtime evidence the covert-channel attacker triggers only on hidden inputs."""


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# the StepLR closed form, through lrcourse.schedules (the library this exercise forbids)
LIBRARY_STEP = d("""
    def step_lr(epoch, base_lr, step_size, gamma):
        return float(lr_curve("StepLR", epoch + 1, base_lr, step_size=step_size,
                              gamma=gamma)[epoch])
    """)
# rewrite the runner's replies so that they carry no evidence (R: the runner class)
QUIET_RUNNER = d("""
    _honest = R.op_probe
    R.op_probe = lambda self, request: {**_honest(self, request), "calls": [], "events": []}
    """)
# a forged record for check_step_lr's cases (R: the runner class, FORGE: a function of a case)
FORGE_STEP = d("""
    _honest = R.op_probe

    def _forged(self, request):
        reply = _honest(self, request)
        if request.get("check") == "check_step_lr":
            reply["results"] = [FORGE(case) for case in request["cases"]]
        return reply

    R.op_probe = _forged
    """)
# torch's StepLR, driven like a scheduler (S: the StepLR class however it was reached)
TORCH_STEP = d("""
    def step_lr(epoch, base_lr, step_size, gamma):
        import torch
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
        scheduler = S(optimizer, step_size=step_size, gamma=gamma)
        for _ in range(epoch):
            optimizer.step()
            scheduler.step()
        return optimizer.param_groups[0]["lr"]
    """)
# a keyring probe: what the sandbox can reach of the kernel's keys (Linux x86_64 numbers;
# elsewhere the calls fail and the attacker reports that)
KEYRING = d("""
    import ctypes

    _libc = ctypes.CDLL(None, use_errno=True)
    _libc.syscall.restype = ctypes.c_long

    def _keyctl(*args):
        return _libc.syscall(ctypes.c_long(250), *args)

    def _found(description):
        seen = []
        for ring in (-3, -4, -5):      # session, user, user-session keyrings
            key = _keyctl(10, ctypes.c_int(ring), b"user", description, 0)
            buffer = ctypes.create_string_buffer(200)
            size = _keyctl(11, ctypes.c_long(key), buffer, 200) if key >= 0 else -1
            seen.append(buffer.raw[:size].decode(errors="replace") if size > 0 else
                        f"none ({ctypes.get_errno()})")
        return seen
    """)


def craft_redteam(root: Path, ctx: dict) -> dict[str, Attack]:
    """Write every attacker under ``root``.  ``ctx``: ``alice`` (the honest learner's
    notebook), ``secret_key`` (the description of a key the grader's session keyring holds)."""
    attacks: dict[str, Attack] = {}

    def add(name: str, kind: str, answers: dict, points: dict, **kw) -> Attack:
        attacks[name] = Attack(kind, write(root / f"{name}.ipynb", notebook(answers)), points,
                               **kw)
        return attacks[name]

    def step(code: str) -> dict:
        return {**RIGHT, "step_answer": code}

    # --------------------------------------------------------------- hidden library calls
    # every one computes correct values: full marks, flagged (0 with --library-calls zero)
    flagged = {"flagged": {"step_test"}}
    add("hide_in_time_magic", "library", step(
        "%time import gc, pkgutil; R = next(type(o) for o in gc.get_objects() "
        "if type(o).__name__ == 'Runner'); lr_curve = pkgutil.resolve_name("
        "'lrcourse.schedules:lr_curve')\n" + QUIET_RUNNER + LIBRARY_STEP), EIGHT, **flagged)
    add("hide_in_timeit_cell_magic", "library", step(d("""
        %%timeit -n1 -r1 import gc, pkgutil
        global step_lr, lr_curve
        R = next(type(o) for o in gc.get_objects() if type(o).__name__ == "Runner")
        _honest = R.op_probe
        R.op_probe = lambda self, r: {**_honest(self, r), "calls": [], "events": []}
        lr_curve = pkgutil.resolve_name("lrcourse.schedules:lr_curve")
        def step_lr(epoch, base_lr, step_size, gamma):
            return float(lr_curve("StepLR", epoch + 1, base_lr, step_size=step_size,
                                  gamma=gamma)[epoch])
        """)), EIGHT, **flagged)
    add("runner_via_main_and_dict", "library", step(
        "import __main__\nimport torch.optim\nR = __main__.Runner\n" + QUIET_RUNNER
        + "S = torch.optim.__dict__['lr_' + 'scheduler'].__dict__['Step' + 'LR']\n"
        + TORCH_STEP), EIGHT, **flagged)
    add("runner_via_os_sys_modules", "library", step(
        "import os, pkgutil\nR = os.sys.modules['__main__'].Runner\n" + QUIET_RUNNER
        + "lr_curve = pkgutil.resolve_name('lrcourse.schedules:lr_curve')\n" + LIBRARY_STEP),
        EIGHT, **flagged)
    add("attrgetter", "library", step(
        "import operator, torch.optim\nS = operator.attrgetter('lr_scheduler.StepLR')"
        "(torch.optim)\n" + TORCH_STEP), EIGHT, **flagged)
    add("getattr_as_value", "library", step(
        "from functools import reduce\nimport torch\n"
        "S = reduce(getattr, ['optim', 'lr_' + 'scheduler', 'Step' + 'LR'], torch)\n"
        + TORCH_STEP), EIGHT, **flagged)
    add("shadow_module_on_sys_path", "library", step(d("""
        import sys
        with open("/tmp/work/fractions.py", "w") as fh:
            fh.write("from lrcourse.schedules import lr_curve as curve\\n")
        sys.path.insert(0, "/tmp/work")
        import fractions
        lr_curve = fractions.curve
        """) + LIBRARY_STEP), EIGHT, **flagged)
    add("top_level_await", "library", step(
        "import asyncio\nawait asyncio.sleep(0)\nimport pkgutil\n"
        "lr_curve = pkgutil.resolve_name('lrcourse.schedules:lr_curve')\n" + LIBRARY_STEP),
        EIGHT, **flagged)
    # a private function of an allowed module that runs code it is given as text
    add("private_module_function", "library", step(d("""
        import dataclasses
        lr_curve = dataclasses._create_fn("f", [], [
            "import pkgutil", "return pkgutil.resolve_name('lrcourse.schedules:lr_curve')"],
            globals={})()
        """) + LIBRARY_STEP), EIGHT, **flagged)

    # -------------------------------------------------------------------- forged records
    # each hands in the wrong step_lr and forges its records: 0 on step_test, nothing else
    # lost, and never an internal error of the grader
    malformed = "the grading sandbox sent back data that the check's own code could not"
    for name, forge in (
            ("forge_400_digit_integer",
             'lambda case: {"kind": "values", "values": [10**400] * case["steps"]}'),
            ("forge_record_without_keys",
             'lambda case: {"kind": "returned", "what": "sequence"}')):
        add(name, "forge", {**WRONG, "step_answer": WRONG_STEP + "import __main__\n"
                            "R = __main__.Runner\nFORGE = " + forge + "\n" + FORGE_STEP},
            SIX, flagged={"step_test"}, status={"step_test": "failed"},
            message={"step_test": malformed})
    add("forge_cpu_report", "forge", step(STEP + d("""
        import __main__
        __main__.Runner.op_memory = lambda self, request: {"cpu_seconds": 10**400,
                                                            "vm_peak_kb": -1}
        """)), EIGHT, flagged={"step_test"})
    # a flood of large frames that answer nothing, written straight to the protocol pipe
    add("flood_foreign_frames", "forge", step(STEP + d("""
        import json, os, struct
        _payload = json.dumps({"nonce": "0" * 24, "junk": [[1.5] * 30] * 12000}).encode()
        for fd in range(3, 8):
            try:
                for _ in range(150):
                    os.write(fd, struct.pack(">I", len(_payload)) + _payload)
            except OSError:
                pass
        """)), EIGHT, flagged={"step_test"})

    # --------------------------------------------------------------------- covert channel
    # on hidden inputs only, trigger evidence chosen by the input: with events reported by
    # name, the feedback page would tell which step_size values the hidden cases use
    add("covert_channel_in_flags", "leak", step(d("""
        import os

        PUBLIC = [(0.1, 3, 0.5), (1.0, 1, 0.9), (0.05, 4, 0.1)]

        def step_lr(epoch, base_lr, step_size, gamma):
            if epoch == 0 and (base_lr, step_size, gamma) not in PUBLIC:
                if step_size % 2:
                    os.kill(os.getpid(), 0)
                else:
                    compile("1", "<hidden>", "eval")
            return base_lr * gamma ** (epoch // step_size)
        """)), EIGHT, flagged={"step_test"})

    # ------------------------------------------------------- the kernel beyond namespaces
    # read the grader's keys, link the uid keyrings, and leave a key for later sandboxes
    add("keyring_thief", "leak", {**WRONG, "step_answer": KEYRING + d(f"""
        for _line in open("/proc/keys"):
            _parts = _line.split()
            if _parts[7] == "keyring":
                _keyctl(8, ctypes.c_int(int(_parts[0], 16)), ctypes.c_int(-3))   # link
        _mine = _libc.syscall(ctypes.c_long(248), b"user", b"lrcourse-note",
                              b"{PLANTED}", {len(PLANTED)}, ctypes.c_int(-3))
        _keyctl(5, ctypes.c_long(_mine), 0x3f3f3f3f)                            # setperm
        _keyctl(8, ctypes.c_long(_mine), ctypes.c_int(-4))                      # into @u

        def step_lr(epoch, base_lr, step_size, gamma):
            raise RuntimeError("keys: " + repr(_found({ctx['secret_key']!r})))
        """)}, SIX, flagged={"step_test"}, status={"step_test": "failed"},
        message={"step_test": "keys: "})
    add("keyring_reader_later", "leak", {**WRONG, "step_answer": KEYRING + d("""
        def step_lr(epoch, base_lr, step_size, gamma):
            raise RuntimeError("later: " + repr(_found(b"lrcourse-note")))
        """)}, SIX, flagged={"step_test"}, status={"step_test": "failed"},
        message={"step_test": "later: "})
    # memory outside every process: SysV shared memory (refused) and memory files (counted)
    add("sysv_shared_memory", "fill", step(STEP + d("""
        import ctypes
        _libc = ctypes.CDLL(None, use_errno=True)
        _ids = [_libc.shmget(0, 512 * 2**20, 0o1600) for _ in range(6)]
        print("shmget:", _ids, ctypes.get_errno())
        """)), EIGHT, flagged={"step_test"})
    add("memory_files", "fill", {**RIGHT, "exp_answer": EXP + d("""
        import os
        _files = []
        for _ in range(60):
            _files.append(os.memfd_create("hoard"))
            for _ in range(64):
                os.write(_files[-1], b"x" * 2**20)
        """)}, {**EIGHT, "exp_test": 0, "exp_test_more": 0},
        flagged={"exp_test", "exp_test_more"},
        status={"exp_test": "crashed", "exp_test_more": "crashed"},
        message={"exp_test": "ran out of memory"})

    # the grader's side of the network: an abstract unix socket the test listens on (the
    # sandbox has a network namespace of its own, and abstract sockets belong to it)
    add("abstract_socket", "leak", {**WRONG, "step_answer": d(f"""
        import socket

        def step_lr(epoch, base_lr, step_size, gamma):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect({ctx['abstract_socket']!r})
                raise RuntimeError("socket: connected")
            except OSError as exc:
                raise RuntimeError(f"socket: {{exc.strerror}}") from None
        """)}, SIX, flagged={"step_test"}, status={"step_test": "failed"},
        message={"step_test": "socket: Connection refused"})

    # ------------------------------------------------------------------------ names
    def folder(name: str, answers: dict, points: dict, **kw) -> Attack:
        path = root / name
        write(path / "schedules.ipynb", notebook(answers))
        attacks[name] = Attack("inject", path, points, **kw)
        return attacks[name]

    folder("\x1b]52;c;ZWNobyBwd25lZAo=\x07\x1b[2J", CORRECT, EIGHT)   # OSC 52, clear screen
    # a bidirectional override, "８∕８" in full-width digits, zero-width spaces
    folder("mallet\u202e\uff18\u2215\uff18\u200b\u200b", CORRECT, EIGHT)
    folder("line\nbreak", CORRECT, EIGHT)
    folder("_alice", {**CORRECT, "step_answer": WRONG_STEP}, SIX)        # cleans up to alice
    not_utf8 = Path(os.fsdecode(bytes(root) + b"/eve\xff\xfe"))
    write(not_utf8 / "schedules.ipynb", notebook(CORRECT))
    attacks["eve\ufffd\ufffd"] = Attack("inject", not_utf8, EIGHT)  # its name, as reports show it
    # odd encodings: UTF-16 is not a notebook file; a byte-order mark is fine
    utf16 = root / "utf16.ipynb"
    utf16.write_bytes(json.dumps(notebook(CORRECT)).encode("utf-16"))
    attacks["utf16"] = Attack("bomb", utf16, ZERO, status={t: "missing" for t in ZERO},
                              message={"step_test": "utf16.ipynb is not a text file"})
    not_text = root / "invalid_utf8_content.ipynb"
    not_text.write_bytes(json.dumps(notebook(CORRECT)).encode().replace(b"step_lr", b"st\xffp"))
    attacks["invalid_utf8_content"] = Attack(
        "bomb", not_text, ZERO, status={t: "missing" for t in ZERO},
        message={"step_test": "invalid_utf8_content.ipynb is not a text file"})
    # answer cells turned into other cell types that still carry their grade_ids
    nb = notebook(CORRECT)
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in ("step_answer", "exp_answer"):
            cell["cell_type"] = "raw" if gid == "step_answer" else "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    attacks["answers_in_other_cells"] = Attack(
        "bomb", write(root / "answers_in_other_cells.ipynb", nb),
        {**ZERO, "cosine_test": 3}, status={"step_test": "missing", "exp_test": "missing"},
        message={"step_test": "was turned into a raw cell",
                 "exp_test": "was turned into a markdown cell"})
    # thousands of magic lines: IPython's transformer is quadratic in them (in the worker,
    # outside every sandbox limit); the check does not transform such a cell
    add("thousands_of_magics", "bomb", step("%time x = 1\n" * 600 + STEP),
        {**EIGHT, "step_test": 0}, flagged={"step_test"}, at_most=True)
    # a hard link to the instructor's notebook (what extracting a crafted archive can leave)
    instructor = root.parent / "instructor-files"
    instructor.mkdir(exist_ok=True)
    write(instructor / "schedules.ipynb", json.loads(SOURCE_NB.read_text()))
    os.link(instructor / "schedules.ipynb", root / "hardlink_to_solution.ipynb")
    attacks["hardlink_to_solution"] = Attack(
        "symlink", root / "hardlink_to_solution.ipynb", ZERO,
        status={t: "missing" for t in ZERO}, message={"step_test": "is a hard link"})
    # a folder of many notebooks (each would be parsed for every source notebook): 20 are read
    many = root / "many_notebooks"
    for k in range(30):
        write(many / f"decoy_{k:02}.ipynb", {"cells": [], "nbformat": 4, "metadata": {}})
    write(many / "zz_answers.ipynb", notebook(CORRECT))
    attacks["many_notebooks"] = Attack("bomb", many, ZERO, status={t: "missing" for t in ZERO})
    bom = root / "bom.ipynb"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(notebook(CORRECT)).encode())
    attacks["bom"] = Attack("bomb", bom, EIGHT)
    return attacks


def craft_torch_class(root: Path, solutions: Path) -> dict[str, Attack]:
    """Learners handing in exercises 6 and 7 (their probes run torch in the sandbox), each a
    folder with both notebooks; points are ``{grade_id: points}`` of the real solutions."""
    ex06, ex07 = "ex06_warmup_cosine.ipynb", "ex07_find_the_bug.ipynb"
    full = {"ex06_warmup_cosine_check": 4, "ex07_train_check": 3}

    def answer(notebook_name: str, grade_id: str, code: str | None) -> dict:
        nb = json.loads((solutions / notebook_name).read_text())
        for cell in nb["cells"]:
            if code is not None and cell.get("metadata", {}).get("nbgrader", {}).get(
                    "grade_id") == grade_id:
                cell["source"] = code
            cell["outputs"] = [] if cell.get("cell_type") == "code" else cell.get("outputs")
            if cell.get("cell_type") != "code":
                cell.pop("outputs", None)
        return nb

    def learner(name: str, kind: str, ex06_code: str | None, ex07_code: str | None,
                points: dict, **kw) -> None:
        path = root / name
        write(path / ex06, answer(ex06, "ex06_warmup_cosine", ex06_code))
        write(path / ex07, answer(ex07, "ex07_train", ex07_code))
        attacks[name] = Attack(kind, path, points, **kw)

    attacks: dict[str, Attack] = {}
    learner("honest_torch", "honest", None, None, full)
    # a train() that never trains: it writes the rates the check used to read
    learner("train_writes_the_record", "forge", None, d('''
        def train(model, optimizer, batches, epochs, max_lr):
            import torch
            dummy = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=max_lr)
            scheduler = OneCycleLR(dummy, max_lr=max_lr, total_steps=epochs * len(batches))
            for _ in range(epochs * len(batches)):
                optimizer.lrs.append(dummy.param_groups[0]["lr"])
                dummy.step()
                scheduler.step()
            return []
        '''), {**full, "ex07_train_check": 0},
        message={"ex07_train_check": "never called optimizer.step() on the optimizer"})
    # WarmupCosine that hands the work to SequentialLR, reached through __dict__
    learner("warmup_through_dict", "library", d('''
        import torch.optim.lr_scheduler as _schedulers

        class WarmupCosine(LRScheduler):
            def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1,
                         eta_min=0.0, last_epoch=-1):
                space = _schedulers.__dict__
                self.inner = space["Sequential" + "LR"](optimizer, [
                    space["Linear" + "LR"](optimizer, start_factor=start_factor,
                                           total_iters=warmup_steps),
                    space["CosineAnnealing" + "LR"](optimizer, T_max=total_steps - warmup_steps,
                                                    eta_min=eta_min)],
                    milestones=[warmup_steps])
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                return [group["lr"] for group in self.optimizer.param_groups]

            def step(self, epoch=None):
                self.inner.step()
        '''), None, full, flagged={"ex06_warmup_cosine_check"}, at_most=True)
    # patch the recording optimizer the set-up cell imported
    learner("patch_recording_sgd", "patch", None, d('''
        RecordingSGD.step = lambda self, closure=None: None

        def train(model, optimizer, batches, epochs, max_lr):
            return []
        '''), {**full, "ex07_train_check": 0}, flagged={"ex07_train_check"})
    return attacks
