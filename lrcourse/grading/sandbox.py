"""Start the runner (:mod:`lrcourse.grading.runner`) in a sandbox and talk to it.

The sandbox is Debian's bubblewrap (``bwrap``), the sandbox Flatpak uses.  Each notebook gets:

* its own **user, PID, IPC, network, UTS** (and, where possible, cgroup) namespaces, no
  further user namespaces inside (``--disable-userns``), a new session (no terminal to
  inject keystrokes into), and it dies with the grader (``--die-with-parent``);
* **its own host uid** when the grader runs as root: ``setpriv`` drops to a uid taken from a
  range no account uses, one per notebook, before bubblewrap builds the namespaces; so
  learners never share a uid with each other or with the grader (as a normal user, every
  sandbox runs under the grader's uid, isolated by the namespaces only: see :func:`describe`);
* a **file system** of read-only binds of exactly what Python needs: ``/usr`` (and the
  ``/lib`` links), the Python installation, the virtual environment and the installed
  ``lrcourse`` package folder.  Not the repository, not ``solutions/``, not the submissions,
  not the output folder, not the grader's HOME.  ``/tmp`` is a private tmpfs of a fixed
  size holding HOME and the working folder; the root and ``/dev`` are remounted read-only;
* a **clean environment** (``--clearenv``): only the variables set in :func:`sandbox_env`;
* the **limits** of :mod:`lrcourse.grading.limits`, for the whole process tree.

When the session ends, the outer bubblewrap process is killed: its PID namespace, and every
process in it however detached, goes with it; the cgroup is then killed and removed as well.

Without bubblewrap (``--no-sandbox``), the runner is started as a plain process with the
same clean environment and rlimits in an empty temporary folder: for trusted submissions only.
"""

from __future__ import annotations

import os
import platform
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .limits import CgroupLeaf, Cgroups, Limits
from .protocol import MAX_REPLY, FrameBuffer, ProtocolError, decode, encode, reply_prefix

INSIDE_UID = 1000
HOME = "/tmp/home"
WORKDIR = "/tmp/work"
MAX_STDERR = 64 * 1024
WATCH_INTERVAL = 0.1
"""Seconds between two sums of a sandbox's memory when no cgroup caps it."""
PAGE = os.sysconf("SC_PAGE_SIZE")
MAX_FOREIGN_FRAMES = 1000
"""Frames with another nonce tolerated while waiting for one reply."""
# The launcher, run as the grader: join the sandbox's cgroups (so that everything started from
# here on is counted), then, if some folder to bind is out of reach of the sandbox's uid (a
# Python under /root, say), bind it read-only into a stage folder in a private mount namespace
# of this launch only, where that uid can reach it.  Then exec the rest: prlimit, setpriv, bwrap.
#   sh -c LAUNCH sandbox CGROUP_PROCS_FILES STAGE_SCRIPT STAGE N SRC_1..SRC_N COMMAND...
_LAUNCH = """
for f in $1; do echo $$ > "$f" || exit 97; done
script=$2; shift 2
if [ "$2" -gt 0 ]; then
  exec unshare --mount --propagation private -- /bin/sh -c "$script" stage "$@"
fi
shift 2; exec "$@"
"""
_STAGE = """
stage=$1; n=$2; shift 2
mount -t tmpfs -o mode=755,size=64k lrcourse-stage "$stage" || exit 98
i=0
while [ "$i" -lt "$n" ]; do
  mkdir "$stage/$i" && mount --bind "$1" "$stage/$i" || exit 98
  mount -o remount,bind,ro "$stage/$i" || exit 98
  shift; i=$((i + 1))
done
exec "$@"
"""


# ------------------------------------------------------------------------------- seccomp
#
# A small seccomp filter, the calls Docker's default profile also refuses for the same reasons.
# The kernel keyrings are keyed by uid, not by namespace: without it, a sandbox that shares the
# grader's uid (a grader that is not root) can link the grader's user keyring into its own
# session keyring and read its keys, and any sandbox can leave keys for later ones.  SysV
# shared memory and message queues hold memory outside every process (no watchdog sees it when
# there is no cgroup).  bpf, userfaultfd, perf_event_open and io_uring are kernel attack
# surface no answer needs.  Every other call is allowed: this is no substitute for a VM (see
# docs/grading.md).

_SECCOMP_ARCH = {
    # machine: (AUDIT_ARCH_*, foreign ABI numbers at or above, {name: number})
    "x86_64": (0xC000003E, 0x40000000, {
        "shmget": 29, "msgget": 68, "add_key": 248, "request_key": 249, "keyctl": 250,
        "perf_event_open": 298, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427}),
    "aarch64": (0xC00000B7, None, {
        "msgget": 186, "shmget": 194, "add_key": 217, "request_key": 218, "keyctl": 219,
        "perf_event_open": 241, "bpf": 280, "userfaultfd": 282, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427}),
}
DENIED_CALLS = tuple(_SECCOMP_ARCH["x86_64"][2])


def seccomp_filter(machine: str | None = None) -> bytes | None:
    """The compiled (classic BPF) filter refusing :data:`DENIED_CALLS` with EPERM, and any
    call made through another ABI (i386 or x32 calls from a 64-bit process); None on a
    machine it is not written for."""
    arch = _SECCOMP_ARCH.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, foreign, numbers = arch

    def insn(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("=HBBI", code, jt, jf, k)

    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06      # BPF_LD|W|ABS, JMP|JEQ|K, JMP|JGE|K, RET|K
    allow, deny = 0x7FFF0000, 0x00050000 | 1        # SECCOMP_RET_ALLOW, RET_ERRNO | EPERM
    body = [("jge", foreign)] if foreign else []
    body += [("jeq", n) for n in sorted(numbers.values())]
    program = [insn(ld, 0, 0, 4),                   # seccomp_data.arch
               insn(jeq, 0, len(body) + 2, audit_arch),
               insn(ld, 0, 0, 0)]                   # seccomp_data.nr
    for k, (op, value) in enumerate(body):
        program.append(insn(jge if op == "jge" else jeq, len(body) - k, 0, value))
    program += [insn(ret, 0, 0, allow), insn(ret, 0, 0, deny)]
    return b"".join(program)


def _filter_fd(program: bytes) -> int:
    """A file descriptor to read ``program`` from (bubblewrap's ``--seccomp FD``)."""
    fd = os.memfd_create("lrcourse-seccomp", 0)  # not close-on-exec: bubblewrap reads it
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class SandboxUnavailable(RuntimeError):
    """This machine cannot run the sandbox; the message says why and what to do."""


def sandbox_env(python: str) -> dict[str, str]:
    """The whole environment of the runner: nothing of the grader's leaks in."""
    return {
        "PATH": f"{Path(python).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": HOME, "TMPDIR": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2", "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{HOME}/.config/matplotlib", "IPYTHONDIR": f"{HOME}/.ipython",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def _python_binds() -> list[str]:
    """Host folders the runner needs, outermost first: Python, the venv, the lrcourse package."""
    import lrcourse

    wanted = [os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
              os.path.dirname(os.path.realpath(lrcourse.__file__))]
    kept: list[str] = []
    for path in sorted(set(wanted), key=len):
        covered = path == "/usr" or path.startswith("/usr/") or any(
            path == k or path.startswith(k + "/") for k in kept)
        if not covered:
            kept.append(path)
    return kept


def _system() -> list[tuple[str, ...]]:
    """``/usr`` and the top-level links into it (``/lib -> usr/lib`` on merged-/usr systems)."""
    items: list[tuple[str, ...]] = [("bind", "/usr")]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            items.append(("symlink", os.readlink(top), top))
        elif os.path.isdir(top):
            items.append(("bind", top))
    if os.path.isfile("/etc/ld.so.cache"):
        items.append(("bind", "/etc/ld.so.cache"))
    return items


@dataclass
class Environment:
    """How this machine runs sandboxes; detected once per grading run."""

    mode: str                                   # "bwrap" or "none"
    python: str = sys.executable
    bwrap: str | None = None
    as_root: bool = False
    options: set[str] = field(default_factory=set)  # bwrap options this version knows
    cgroups: Cgroups | None = None
    cgroup_note: str = ""
    binds: list[str] = field(default_factory=list)
    system: list[tuple[str, ...]] = field(default_factory=list)
    tools: dict[str, str] = field(default_factory=dict)
    staged: list[str] = field(default_factory=list)  # binds the sandbox uid cannot reach
    stage_dir: str | None = None

    @classmethod
    def detect(cls, no_sandbox: bool = False, use_cgroups: bool = True) -> Environment:
        """The sandbox this machine offers; SandboxUnavailable (with what to do) if none."""
        as_root = os.geteuid() == 0
        cgroups, note = Cgroups.detect() if use_cgroups else (None, "cgroups not used")
        tools = {name: shutil.which(name) or "" for name in
                 ("prlimit", "setpriv", "bwrap", "unshare", "mount")}
        if not tools["prlimit"]:
            raise SandboxUnavailable("prlimit (util-linux) is missing: it sets the limits")
        if no_sandbox:
            env = cls("none", as_root=as_root, cgroups=cgroups, cgroup_note=note, tools=tools)
        else:
            if not tools["bwrap"]:
                raise SandboxUnavailable(
                    "bubblewrap (bwrap) is not installed, so learner code cannot be sandboxed. "
                    "Install it (Debian/Ubuntu: apt-get install bubblewrap), or pass "
                    "--no-sandbox to grade trusted submissions without a sandbox.")
            if as_root and not tools["setpriv"]:
                raise SandboxUnavailable("setpriv (util-linux) is missing: as root it gives "
                                         "each sandbox its own uid")
            helptext = subprocess.run([tools["bwrap"], "--help"], capture_output=True,
                                      text=True).stdout
            options = {word for word in helptext.split() if word.startswith("--")}
            missing = {"--unshare-user", "--die-with-parent", "--clearenv", "--size", "--perms",
                       "--remount-ro"} - options
            if missing:
                raise SandboxUnavailable(f"this bubblewrap is too old (no {sorted(missing)})")
            env = cls("bwrap", bwrap=tools["bwrap"], as_root=as_root, options=options,
                      cgroups=cgroups, cgroup_note=note, binds=_python_binds(),
                      system=_system(), tools=tools)
            if as_root:
                env.staged = [p for p in env.binds if not _reachable_by_others(p)]
                if env.staged:
                    if not (tools["unshare"] and tools["mount"]):
                        raise SandboxUnavailable(
                            f"{env.staged[0]} cannot be read by other users, and unshare/mount "
                            "(util-linux) are missing to bind it for the sandbox")
                    env.stage_dir = tempfile.mkdtemp(prefix="lrcourse-stage-")
                    os.chmod(env.stage_dir, 0o755)
        try:
            env._smoke_test()
        except BaseException:
            env.close()
            raise
        return env

    def close(self) -> None:
        """Remove what :meth:`detect` and the sessions made on the host (cgroups, stage)."""
        if self.cgroups is not None:
            self.cgroups.finish()
        if self.stage_dir:
            shutil.rmtree(self.stage_dir, ignore_errors=True)
            self.stage_dir = None

    def _smoke_test(self) -> None:
        """Start one sandbox with a trivial command; SandboxUnavailable with its error."""
        argv, fds, env, cwd = self.command(Limits(address_space_mb=None, memory_mb=None),
                                           uid=self.scratch_uid(), leaf=None,
                                           program=["-c", "import sys"])
        try:
            done = subprocess.run(argv, pass_fds=fds, env=env, cwd=cwd, capture_output=True,
                                  text=True, timeout=60)
        finally:
            for fd in fds:
                os.close(fd)
            if cwd and self.mode == "none":
                shutil.rmtree(cwd, ignore_errors=True)
        if done.returncode != 0:
            detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise SandboxUnavailable(
                f"bubblewrap cannot start a sandbox here ({detail}). It needs unprivileged user "
                "namespaces (sysctl kernel.unprivileged_userns_clone=1, or a container run "
                "with them allowed); or pass --no-sandbox for trusted submissions only.")

    @staticmethod
    def scratch_uid() -> int:
        return 1_000_000_000 + secrets.randbelow(1_000_000_000)

    def describe(self) -> str:
        """One sentence for the terminal and every feedback page: what isolated the code."""
        if self.mode == "none":
            return ("NOT SANDBOXED: this notebook was graded with --no-sandbox; its code ran "
                    "with the grader's rights (limits on time and memory only).")
        who = ("its own user id (never shared with other learners or the grader)"
               if self.as_root else
               "namespaces only: the grader was not run as root, so every sandbox shares the "
               "grader's user id")
        tree = ("memory, process and CPU limits for the whole process tree (cgroups)"
                if self.cgroups else
                "per-process memory limits and a process count (no cgroups here)")
        return (f"Graded in a bubblewrap sandbox: no network, a read-only view of Python and "
                f"lrcourse only, a private size-capped /tmp, {tree}, {who}.")

    # ------------------------------------------------------------------------------ argv

    def command(self, limits: Limits, uid: int, leaf: CgroupLeaf | None,
                program: list[str] | None = None):
        """``(argv, fds to pass, environment of the launcher, cwd)`` for one sandbox."""
        program = program or ["-m", "lrcourse.grading.runner"]
        flags = ["-s"] + (["-P"] if sys.version_info >= (3, 11) else [])
        python = [self.python, *flags, *program]
        fds: list[int] = []
        launcher_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        argv: list[str] = []
        staged = self.staged if self.mode == "bwrap" else []
        if leaf is not None or staged:
            argv += ["/bin/sh", "-c", _LAUNCH, "sandbox",
                     " ".join(leaf.procs_files) if leaf else "", _STAGE, self.stage_dir or "-",
                     str(len(staged)), *staged]
        count = self.as_root and self.mode == "bwrap"
        if not count:
            # one uid for every sandbox and the grader: cap the number of processes above what
            # this uid already runs
            limits = _with_processes(limits, _processes_of(os.getuid()) + limits.processes)
        argv += [self.tools["prlimit"], *limits.prlimit_args(True), "--"]
        if self.mode == "none":
            cwd = tempfile.mkdtemp(prefix="lrcourse-nosandbox-")
            env = sandbox_env(self.python)
            env.update(HOME=cwd, TMPDIR=cwd, MPLCONFIGDIR=f"{cwd}/.mpl", IPYTHONDIR=f"{cwd}/.ip")
            return argv + python, fds, env, cwd
        if self.as_root:
            argv += [self.tools["setpriv"], f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                     "--"]
        argv += [self.bwrap, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-net",
                 "--unshare-uts"]
        if "--unshare-cgroup-try" in self.options:
            argv.append("--unshare-cgroup-try")
        argv += ["--die-with-parent", "--new-session"]
        if "--disable-userns" in self.options:
            argv.append("--disable-userns")
        argv += ["--uid", str(INSIDE_UID), "--gid", str(INSIDE_UID), "--hostname", "sandbox",
                 "--clearenv"]
        for key, value in sandbox_env(self.python).items():
            argv += ["--setenv", key, value]
        for item in self.system:
            if item[0] == "symlink":
                argv += ["--symlink", item[1], item[2]]
            else:
                argv += ["--ro-bind", item[1], item[1]]
        argv += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(limits.tmp_mb * 2**20), "--tmpfs", "/tmp",
                 "--dir", HOME, "--dir", WORKDIR, "--chdir", WORKDIR]
        # after /tmp is mounted: a checkout under /tmp (a CI's fresh clone) stays visible
        for path in self.binds:
            if path in staged:
                argv += ["--ro-bind", f"{self.stage_dir}/{staged.index(path)}", path]
            else:
                argv += ["--ro-bind", path, path]
        argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
        program = seccomp_filter() if "--seccomp" in self.options else None
        if program is not None:
            fds.append(_filter_fd(program))
            argv += ["--seccomp", str(fds[-1])]
        argv.append("--")
        return argv + python, fds, launcher_env, None

def _reachable_by_others(path: str) -> bool:
    """Whether a user other than the owner can reach and list ``path`` (o+x on every folder
    above it, o+rx on it)."""
    parts = Path(path).parts
    for i in range(1, len(parts) + 1):
        try:
            mode = os.stat(Path(*parts[:i])).st_mode
        except OSError:
            return False
        if not mode & 0o001 or (i == len(parts) and not mode & 0o004):
            return False
    return True


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass
    return count


def _with_processes(limits: Limits, processes: int) -> Limits:
    from dataclasses import replace

    return replace(limits, processes=processes)


# ---------------------------------------------------------------------------------- sessions


@dataclass
class Reply:
    """What came back for one request: ``status`` is ``ok`` (``data`` holds the reply),
    ``timeout``, ``died`` (the sandbox ended) or ``broken`` (it broke the protocol)."""

    status: str
    data: dict = field(default_factory=dict)
    detail: str = ""


class Session:
    """One running sandbox, spoken to one request at a time."""

    def __init__(self, env: Environment, limits: Limits, uid: int, name: str = "nb"):
        self.env, self.limits = env, limits
        self.leaf = None
        if env.cgroups is not None:
            self.leaf = env.cgroups.leaf(f"{name}-{secrets.token_hex(3)}")
            self.leaf.set_limits(limits.memory_mb, limits.processes)
        argv, fds, launcher_env, self._cwd = env.command(limits, uid, self.leaf)
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, pass_fds=fds, env=launcher_env,
                                         cwd=self._cwd, start_new_session=True)
        finally:
            for fd in fds:
                os.close(fd)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            os.set_blocking(stream.fileno(), False)
        self.frames = FrameBuffer(MAX_REPLY)
        self.stderr = bytearray()
        self.dead = False
        self.started = time.monotonic()
        # without a cgroup, nothing in the kernel caps the memory of the sandbox's processes
        # together: a watchdog sums it from outside, every WATCH_INTERVAL seconds
        self.watch = self.leaf is None and limits.memory_mb is not None
        self.watchdog_oom = False

    def request(self, message: dict, timeout: float) -> Reply:
        """Send ``message`` with a fresh nonce; wait up to ``timeout`` s for its reply."""
        if self.dead:
            return Reply("died", detail="the sandbox had already ended")
        nonce = secrets.token_hex(12)
        pending = memoryview(encode({**message, "nonce": nonce}))
        deadline = time.monotonic() + timeout
        out, err, inp = (self.proc.stdout.fileno(), self.proc.stderr.fileno(),
                         self.proc.stdin.fileno())
        prefix = reply_prefix(nonce)
        foreign = 0
        while True:
            try:
                payload = self.frames.next_payload()
                # a frame that does not begin with this request's nonce answers nothing: it is
                # dropped unparsed (forged or stale), so that a flood of them costs no parsing
                if payload is not None and payload.startswith(prefix) and not pending:
                    frame = decode(payload)
                    if frame.get("nonce") == nonce:
                        return Reply("ok", frame)
            except ProtocolError as exc:
                return self._broken(str(exc))
            if payload is not None:
                foreign += 1
                if foreign > MAX_FOREIGN_FRAMES:
                    return self._broken("too many frames that answer no request")
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Reply("timeout")
            if self.watch and self._over_memory():
                self.watchdog_oom = True
                self.close()
                return Reply("died", detail="oom")
            readers = [out, err]
            writers = [inp] if pending else []
            wait = min(remaining, WATCH_INTERVAL if self.watch else 1.0)
            ready_r, ready_w, _ = select.select(readers, writers, [], wait)
            if inp in ready_w:
                try:
                    pending = pending[os.write(inp, pending):]
                except BlockingIOError:
                    pass
                except (BrokenPipeError, OSError):
                    return self._died()
            if err in ready_r:
                chunk = self._read(err)
                if chunk and len(self.stderr) < MAX_STDERR:
                    self.stderr += chunk[:MAX_STDERR - len(self.stderr)]
            if out in ready_r:
                chunk = self._read(out)
                if chunk == b"":
                    return self._died()
                if chunk:
                    self.frames.feed(chunk)

    @staticmethod
    def _read(fd: int) -> bytes | None:
        try:
            return os.read(fd, 1 << 16)
        except BlockingIOError:
            return None
        except OSError:
            return b""

    def _over_memory(self) -> bool:
        """Whether the sandbox's processes together hold more memory than its limit: their
        resident memory, plus the memory files (``memfd_create``) they hold open, which
        take memory without being mapped."""
        used, files = 0, set()
        for pid in _descendants(self.proc.pid):
            try:
                with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                    used += int(fh.read().split()[1]) * PAGE
                fds = os.listdir(f"/proc/{pid}/fd")
            except (OSError, ValueError, IndexError):
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("/memfd:"):
                        info = os.stat(f"/proc/{pid}/fd/{fd}")
                        if (info.st_dev, info.st_ino) not in files:
                            files.add((info.st_dev, info.st_ino))
                            used += info.st_blocks * 512
                except OSError:
                    pass
        return used > self.limits.memory_mb * 2**20

    def _died(self) -> Reply:
        self.dead = True
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        oom = self.leaf.oom_kills() if self.leaf is not None else 0
        detail = "oom" if oom else f"exit status {code}"
        return Reply("died", detail=detail)

    def _broken(self, why: str) -> Reply:
        self.dead = True
        return Reply("broken", detail=why)

    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def close(self) -> bool:
        """End the sandbox and everything in it; return whether memory ran out in it.

        bubblewrap's init (the PID namespace's first process) is killed from outside: the
        kernel then kills every other process of the namespace, however detached, and the
        outer bubblewrap reaps the init and exits (so nothing is left for the system's init to
        adopt).  Then the cgroup, and the outer bubblewrap itself, are killed whatever is left.
        (Not waiting for a clean exit saves a second per notebook once torch is loaded; the
        runner has already reported its CPU time.)
        """
        self.dead = True
        if self.proc.poll() is None:
            if self.env.mode == "bwrap":
                targets = _children(self.proc.pid)
            else:  # no sandbox: the runner is the process itself
                targets = [self.proc.pid]
            for target in targets:
                try:
                    os.kill(target, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        oom = self.watchdog_oom
        if self.leaf is not None:
            oom = self.leaf.oom_kills() > 0
            self.leaf.remove()
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        if self._cwd:
            shutil.rmtree(self._cwd, ignore_errors=True)
        return oom


def _descendants(pid: int) -> list[int]:
    """``pid``'s children, their children, ... (a sandbox's processes, however detached:
    orphans are adopted by the sandbox's init, itself a child of bubblewrap)."""
    found, todo = [], [pid]
    while todo and len(found) < 100_000:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as fh:
                    children = [int(c) for c in fh.read().split()]
            except (OSError, ValueError):
                continue
            found += children
            todo += children
    return found


def _children(pid: int) -> list[int]:
    """The direct children of ``pid`` (for bubblewrap: its init in the new PID namespace)."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                found += [int(c) for c in fh.read().split()]
    except OSError:
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    with open(f"{entry.path}/stat", encoding="ascii", errors="replace") as fh:
                        if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                            found.append(int(entry.name))
                except (OSError, ValueError, IndexError):
                    pass
    return found
