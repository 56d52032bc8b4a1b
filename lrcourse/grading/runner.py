"""The program that runs one learner's notebook inside the sandbox.

    python -m lrcourse.grading.runner     (started by lrcourse.grading.sandbox, not by hand)

It reads requests from its stdin and writes one reply per request to its stdout, in the
frames of :mod:`lrcourse.grading.protocol`, then keeps those two pipes for itself: fds 0 and 1
become ``/dev/null``, so nothing the learner's code prints can land in the protocol by
accident (on purpose it can: every reply is validated by the grader, and lies only hurt the
liar).  Requests:

``{"op": "cell", "source": ..., "learner": bool}``
    run a cell as Jupyter would (magics included, see :class:`Shell`); reply ``status``,
    ``ename``/``evalue`` if it raised, how much it printed (the text itself is discarded),
    audit ``events``;
``{"op": "probe", "check": "check_step_lr", "name": "step_lr", "handle": "t0c0",
"cases": [...], "forbid": [...]}``
    look ``name`` up (kept under ``handle`` for later, hidden, requests that give no name) and
    run the check's untrusted half, ``Check.probe``, on each case; reply the plain records,
    the forbidden code the learner's code called (``calls``) and audit ``events``;
``{"op": "memory"}``
    peak virtual and resident memory, thread count and CPU seconds used (for calibration and
    statistics; like every reply, only as true as the learner's code let it be).

What it watches (evidence for the grader's "library calls" flag, not a defence: the learner's
code shares this process and could lie; the grader's static check of the answer cells is the
part it cannot fool):

* an audit hook (``sys.addaudithook``, installed before any other code runs and impossible to
  remove) records, during answer cells and probes, frame inspection, ``gc`` walks, code-object
  swaps, ctypes, processes, signals, sockets and ``sys.setprofile``/``settrace`` calls made
  from the learner's code;
* a profile function, active only while probes run, records calls into the modules and
  classes the exercise forbids (matched by module and ``co_qualname``, and by file).
"""

from __future__ import annotations

import io
import os
import re
import sys

# (event, how many frames up a learner frame may be for the event to count as the learner's)
WATCHED = {
    "sys.setprofile": 40, "sys.settrace": 40, "sys._getframe": 2, "sys._current_frames": 2,
    "gc.get_objects": 2, "gc.get_referrers": 2, "gc.get_referents": 2,
    "object.__setattr__": 1, "code.__new__": 2, "exec": 1, "compile": 1,
    "ctypes.dlopen": 4, "ctypes.dlsym": 4, "ctypes.addressof": 4, "ctypes.cdata": 4,
    "ctypes.call_function": 4, "ctypes.string_at": 4,
    "os.system": 6, "os.fork": 6, "os.forkpty": 6, "os.exec": 6, "os.posix_spawn": 6,
    "os.spawn": 6, "subprocess.Popen": 6, "os.kill": 6, "os.killpg": 6,
    "signal.pthread_kill": 6, "socket.connect": 6, "socket.bind": 6,
}
CODE_ATTRIBUTES = {"__code__", "__globals__", "__closure__", "__defaults__", "__kwdefaults__"}
MAX_EVENTS = 20
MAX_TEXT = 2000


def _type_name(value) -> str:
    return str(type(value).__name__)[:100]


def _text(exc: BaseException) -> str:
    try:
        return str(exc)[:MAX_TEXT]
    except Exception:  # noqa: BLE001 - a learner's __str__
        return f"<unprintable {_type_name(exc)}>"


class Audit:
    """The audit hook: remembers watched events raised from the learner's code."""

    def __init__(self) -> None:
        self.active = False     # during answer cells and probes
        self.quiet = False      # while this runner itself triggers events
        self.user_ns: dict | None = None
        self.events: list[str] = []

    def __call__(self, event: str, args: tuple) -> None:
        depth = WATCHED.get(event)
        if depth is None or not self.active or self.quiet or self.user_ns is None:
            return
        if event == "object.__setattr__" and (len(args) < 2 or args[1] not in CODE_ATTRIBUTES):
            return
        self.quiet = True
        try:
            frame = sys._getframe(1)
            for _ in range(depth):
                if frame is None:
                    return
                if frame.f_globals is self.user_ns:
                    name = f"{event} {args[1]}" if event == "object.__setattr__" else event
                    if name not in self.events and len(self.events) < MAX_EVENTS:
                        self.events.append(name)
                    return
                frame = frame.f_back
        finally:
            self.quiet = False

    def take(self) -> list[str]:
        events, self.events = self.events, []
        return events


class Monitor:
    """A profile function recording calls into forbidden code while probes run."""

    def __init__(self, audit: Audit) -> None:
        self.audit = audit
        self.found: list[str] = []
        self.forbid: tuple[str, ...] = ()
        self.files: dict[str, str] = {}
        self.seen: dict = {}

    def start(self, forbid: list[str]) -> None:
        import threading

        self.forbid = tuple(str(f) for f in forbid)
        self.found, self.seen = [], {}
        # the files of forbidden modules already loaded: a frame there is theirs, whatever
        # globals it claims
        self.files = {}
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str) and self._forbidden_module(name):
                self.files[path] = name
        self.audit.quiet = True
        try:
            threading.setprofile(self._profile)
            sys.setprofile(self._profile)
        finally:
            self.audit.quiet = False

    def stop(self) -> list[str]:
        import threading

        self.audit.quiet = True
        try:
            sys.setprofile(None)
            threading.setprofile(None)
        finally:
            self.audit.quiet = False
        return self.found

    def _forbidden_module(self, module: str) -> bool:
        return any(module == f or module.startswith(f + ".") for f in self.forbid)

    def _profile(self, frame, event, arg) -> None:
        if event != "call":
            return
        code = frame.f_code
        hit = self.seen.get(code)
        if hit is None:
            hit = self.seen[code] = self._match(frame, code)
        if hit and hit not in self.found and len(self.found) < MAX_EVENTS:
            self.found.append(hit)

    def _match(self, frame, code) -> str:
        module = frame.f_globals.get("__name__")
        module = module if isinstance(module, str) else ""
        module = self.files.get(code.co_filename, module)
        if module.startswith(("lrcourse.checks", "lrcourse.grading")):
            return ""  # the probe's own machinery (RecordingSGD.step, describe_value, ...)
        full = f"{module}.{getattr(code, 'co_qualname', code.co_name)}"
        for entry in self.forbid:
            if full == entry or full.startswith(entry + ".") or module == entry \
                    or module.startswith(entry + "."):
                return full.replace(".<module>", "")
        return ""


class _Sink(io.TextIOBase):
    """A text stream that counts what is written and keeps nothing."""

    def __init__(self) -> None:
        self.chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        try:
            n = len(text)
        except Exception:  # noqa: BLE001
            n = 0
        self.chars += n
        return n


_IPYTHON_SYNTAX = re.compile(r"^\s*(%|!|\?|>>>|In \[|[/,;]\w)|\?\s*$|get_ipython", re.M)


class Shell:
    """Runs cells like Jupyter does, importing IPython only for cells that need it.

    A cell of plain Python (no ``%magic``, ``!command``, ``obj?``, prompts or leading indent)
    is compiled and run directly, as IPython would run it.  Any other cell, and every cell
    after the first such one, goes through IPython's ``InteractiveShell``, which shares the
    same namespace.  IPython's import and start-up cost (a few tenths of a second) is paid only
    by the notebooks that use its syntax.
    """

    def __init__(self) -> None:
        import builtins

        self.user_ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.ipython = None
        builtins.get_ipython = self.get_ipython

    def get_ipython(self):
        if self.ipython is None:
            from IPython.core.interactiveshell import InteractiveShell
            from traitlets.config import Config

            config = Config()
            config.HistoryManager.enabled = False
            config.InteractiveShell.colors = "NoColor"
            self.ipython = InteractiveShell.instance(config=config, user_ns=self.user_ns)
        return self.ipython

    def run_cell(self, source: str) -> BaseException | None:
        """Run one cell; the exception it raised, or None."""
        if self.ipython is None and not _IPYTHON_SYNTAX.search(source) and \
                not source[:1].isspace():
            try:
                code = compile(source, "<cell>", "exec")
            except SyntaxError:
                pass  # IPython's own parser reports it (or accepts top-level await)
            else:
                try:
                    exec(code, self.user_ns)  # noqa: S102 - running the notebook is the job
                except BaseException as exc:  # noqa: BLE001 - SystemExit included
                    return exc
                return None
        result = self.get_ipython().run_cell(source, store_history=False)
        return result.error_before_exec or result.error_in_exec


class Runner:
    """Serve requests until the grader closes the pipe."""

    def __init__(self, audit: Audit, fd_in: int, fd_out: int) -> None:
        from lrcourse.grading import protocol

        self.protocol = protocol
        self.audit = audit
        self.monitor = Monitor(audit)
        self.fd_in, self.fd_out = fd_in, fd_out
        self.handles: dict[str, object] = {}
        self.shell = Shell()
        audit.user_ns = self.shell.user_ns

    # ------------------------------------------------------------------------- frames

    def _read_exactly(self, n: int) -> bytes | None:
        chunks, left = [], n
        while left:
            chunk = os.read(self.fd_in, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def read(self) -> dict | None:
        header = self._read_exactly(self.protocol.HEADER.size)
        if header is None:
            return None
        (size,) = self.protocol.HEADER.unpack(header)
        if size > self.protocol.MAX_REQUEST:
            return None
        data = self._read_exactly(size)
        return None if data is None else self.protocol.decode(data)

    def write(self, message: dict) -> None:
        data = memoryview(self.protocol.encode(message))
        while data:
            data = data[os.write(self.fd_out, data):]

    def serve(self) -> None:
        while True:
            request = self.read()
            if request is None:
                return
            handler = getattr(self, f"op_{request.get('op')}", None)
            reply = handler(request) if handler else {"error": "unknown op"}
            reply.pop("nonce", None)
            self.write({"nonce": request.get("nonce"), **reply})  # the nonce first: see protocol

    # ------------------------------------------------------------------------- requests

    def _quietly(self, run):
        sink = _Sink()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = sink
        try:
            return run(), sink
        finally:
            sys.stdout, sys.stderr = saved

    def op_cell(self, request: dict) -> dict:
        self.audit.active = bool(request.get("learner"))
        try:
            error, sink = self._quietly(lambda: self.shell.run_cell(str(request.get("source", ""))))
        finally:
            self.audit.active = False
        reply = {"status": "ok" if error is None else "error", "output_chars": sink.chars,
                 "events": self.audit.take()}
        if error is not None:
            reply["ename"], reply["evalue"] = _type_name(error), _text(error)
        return reply

    def op_probe(self, request: dict) -> dict:
        handle = str(request.get("handle"))
        if "name" in request:
            name = str(request["name"])
            namespace = self.shell.user_ns
            if name in namespace:
                self.handles[handle] = namespace[name]
            else:
                import builtins

                self.handles.pop(handle, None)
                if hasattr(builtins, name):
                    self.handles[handle] = getattr(builtins, name)
        if handle not in self.handles:
            return {"found": False, "results": [], "calls": [], "events": []}
        obj = self.handles[handle]
        from lrcourse.checks import get_check

        check = get_check(str(request["check"]))
        check.prepare()
        results: list[dict] = []
        self.monitor.start(request.get("forbid", []))
        self.audit.active = True
        try:
            for case in request.get("cases", []):
                try:
                    got, _ = self._quietly(lambda case=case: check.probe(obj, case))
                except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, ...
                    results.append({"kind": "escaped", "type": _type_name(exc),
                                    "message": _text(exc)})
                    break
                results.append(got)
        finally:
            calls = list(self.monitor.stop())
            self.audit.active = False
        return {"found": True, "results": results, "calls": calls, "events": self.audit.take()}

    def op_memory(self, request: dict) -> dict:
        import resource

        cpu = sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                    resource.getrusage(resource.RUSAGE_CHILDREN)))
        status = {}
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                status[key] = value.split()[0] if value.split() else "0"
        return {"vm_peak_kb": int(status.get("VmPeak", 0)),
                "vm_hwm_kb": int(status.get("VmHWM", 0)), "threads": int(status.get("Threads", 1)),
                "cpu_seconds": cpu}


_KEYCTL = {"x86_64": 250, "aarch64": 219, "riscv64": 219, "i686": 288, "i386": 288,
           "armv7l": 311, "ppc64le": 271, "s390x": 280}
"""The ``keyctl`` system call's number per machine (glibc has no wrapper for it)."""


def leave_session_keyring() -> bool:
    """Join a new, empty session keyring; whether it worked (Linux only).

    Every process inherits its parent's session keyring, and a process *possesses* the keys
    of its session keyring whatever its uid: without this, learner code could read the keys
    of the grader's login session (Kerberos tickets, cached passphrases, ...) and leave keys
    there for the sandboxes of other learners to read (bubblewrap keeps the keyring).
    """
    import platform

    number = _KEYCTL.get(platform.machine())
    if number is None or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        # KEYCTL_JOIN_SESSION_KEYRING (1) with no name: a new anonymous keyring
        return libc.syscall(ctypes.c_long(number), ctypes.c_long(1), None) >= 0
    except (OSError, AttributeError):
        return False


def main() -> None:
    audit = Audit()
    sys.addaudithook(audit)  # first of all: it cannot be removed afterwards
    leave_session_keyring()  # before any learner code runs
    fd_in, fd_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - input() fails at once
    sys.stdout = _Sink()
    Runner(audit, fd_in, fd_out).serve()


if __name__ == "__main__":
    main()
