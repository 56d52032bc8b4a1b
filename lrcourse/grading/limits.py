"""Resource limits for a sandbox's whole process tree: cgroups where possible, rlimits always.

A notebook's sandbox gets

* **a cgroup** (when the grader may create one: root with cgroup v1 ``memory`` and ``pids``
  hierarchies, or a writable cgroup v2 subtree with both controllers) that caps the memory of
  all its processes together, tmpfs pages included, and their number, and, where the ``cpu``
  controller is there too, their CPU to one core (so that a sandbox that keeps every core
  busy cannot make another learner's run out of time); the cgroup is killed and removed when
  the notebook is done.  It is made inside the grader's own cgroup, so the grader's limits
  hold for its sandboxes as well;
* **rlimits on every process** (set before bubblewrap starts and inherited by everything in
  the sandbox): address space (``RLIMIT_AS``), CPU seconds, file size, no core dumps, open
  files, and a process count (``RLIMIT_NPROC``, which counts per real uid: with one uid per
  sandbox it caps that sandbox's processes).

Without a cgroup the memory of the tree is bounded only by (processes) x (address space), and
the process count by ``RLIMIT_NPROC`` of a uid that, when the grader is not root, is shared
with the grader's own processes: the limits then stop runaway code, not a determined attack.
Both cases are said in the terminal and on every feedback page (see ``sandbox.describe``).
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

MB = 2**20


@dataclass(frozen=True)
class Limits:
    """What one notebook's sandbox may use."""

    address_space_mb: int | None = 2048   # RLIMIT_AS, per process (None: unlimited)
    memory_mb: int | None = 2048          # all processes together (needs a cgroup)
    processes: int = 64                   # pids.max, and RLIMIT_NPROC
    cpu_seconds: int = 600                # RLIMIT_CPU, per process
    file_mb: int = 64                     # RLIMIT_FSIZE
    tmp_mb: int = 64                      # the private /tmp (HOME and the working folder)
    open_files: int = 512                 # RLIMIT_NOFILE

    def prlimit_args(self, count_processes: bool) -> list[str]:
        """``prlimit`` options setting these limits on the command it runs."""
        args = [f"--cpu={self.cpu_seconds}", f"--fsize={self.file_mb * MB}", "--core=0",
                f"--nofile={self.open_files}"]
        if self.address_space_mb:
            args.append(f"--as={self.address_space_mb * MB}")
        if count_processes:
            args.append(f"--nproc={self.processes}")
        return args


# ---------------------------------------------------------------------------------- cgroups


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, file system type, options) of the cgroup file systems."""
    found = []
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
                    found.append((parts[1], parts[2], set(parts[3].split(","))))
    except OSError:
        pass
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per v1 controller (and ``""`` for v2)."""
    paths = {}
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            for line in fh:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for name in controllers.split(",") if controllers else [""]:
                    paths[name] = path
    except (OSError, ValueError):
        pass
    return paths


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(text)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except OSError:
        return ""


@dataclass
class CgroupLeaf:
    """One sandbox's cgroup: a directory per hierarchy (v1: memory and pids; v2: one)."""

    version: int
    dirs: list[Path]

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes its pid to, to join."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    @property
    def limits_cpu(self) -> bool:
        return len(self.dirs) > 2 or (self.version == 2 and (self.dirs[0] / "cpu.max").exists())

    def set_limits(self, memory_mb: int | None, processes: int, cpus: float = 1.0) -> None:
        period = 100_000
        if self.version == 1:
            memory, pids = self.dirs[:2]
            if len(self.dirs) > 2:
                _write(self.dirs[2] / "cpu.cfs_period_us", str(period))
                _write(self.dirs[2] / "cpu.cfs_quota_us", str(int(period * cpus)))
            if memory_mb:
                _write(memory / "memory.limit_in_bytes", str(memory_mb * MB))
                if (memory / "memory.memsw.limit_in_bytes").exists():
                    _write(memory / "memory.memsw.limit_in_bytes", str(memory_mb * MB))
            _write(pids / "pids.max", str(processes))
        else:
            (leaf,) = self.dirs
            if (leaf / "cpu.max").exists():
                _write(leaf / "cpu.max", f"{int(period * cpus)} {period}")
            if memory_mb:
                _write(leaf / "memory.max", str(memory_mb * MB))
                if (leaf / "memory.swap.max").exists():
                    _write(leaf / "memory.swap.max", "0")
            _write(leaf / "pids.max", str(processes))

    def oom_kills(self) -> int:
        """How many processes the kernel killed here for lack of memory."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        for line in _read(self.dirs[0] / name).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def pids(self) -> list[int]:
        found: set[int] = set()
        for procs in self.procs_files:
            found.update(int(p) for p in _read(Path(procs)).split() if p.isdigit())
        return sorted(found)

    def kill(self) -> None:
        """SIGKILL every process in the cgroup, until none is left (a few seconds at most)."""
        if self.version == 2 and (self.dirs[0] / "cgroup.kill").exists():
            try:
                _write(self.dirs[0] / "cgroup.kill", "1")
            except OSError:
                pass
        deadline = time.monotonic() + 5.0
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > deadline:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        """Kill what is left and remove the directories."""
        self.kill()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


@dataclass
class Cgroups:
    """Where this grading run makes its sandboxes' cgroups."""

    version: int
    parents: list[Path]
    made: list[Path] = field(default_factory=list)

    @classmethod
    def detect(cls) -> tuple[Cgroups | None, str]:
        """A usable cgroup setup, or ``None`` and the reason there is none."""
        mounts = _mounts()
        own = _own_paths()
        v1 = {}
        for point, fstype, options in mounts:
            if fstype == "cgroup":
                for controller in ("memory", "pids", "cpu"):
                    if controller in options:
                        v1[controller] = Path(point)
        if "memory" in v1 and "pids" in v1:
            parents = []
            for controller in ("memory", "pids", "cpu"):
                if controller not in v1:
                    continue
                base = v1[controller]
                mine = base / own.get(controller, "/").lstrip("/")
                parents.append(mine if os.access(mine, os.W_OK) else base)
            if len(parents) == 3 and not os.access(parents[2], os.W_OK):
                parents.pop()  # no CPU cap, the rest still holds
            if all(os.access(p, os.W_OK) for p in parents):
                names = "memory, pids, cpu" if len(parents) == 3 else "memory, pids"
                return cls(1, parents), f"cgroup v1 ({names})"
            return None, "cgroup v1 hierarchies are not writable by this user"
        for point, fstype, _ in mounts:
            if fstype != "cgroup2":
                continue
            root = Path(point)
            available = _read(root / "cgroup.controllers").split()
            if not {"memory", "pids"} <= set(available):
                continue
            mine = root / own.get("", "/").lstrip("/")
            for parent in (mine, root):
                if os.access(parent, os.W_OK) and {"memory", "pids"} <= set(
                        _read(parent / "cgroup.controllers").split()):
                    return cls(2, [parent]), "cgroup v2 (memory, pids)"
            return None, "the cgroup v2 tree is not writable by this user"
        return None, "no cgroup hierarchy with the memory and pids controllers"

    def start(self) -> None:
        """Make this run's parent cgroup(s)."""
        name = f"lrcourse-{os.getpid()}-{secrets.token_hex(4)}"
        run_dirs = []
        for parent in self.parents:
            run = parent / name
            run.mkdir(mode=0o755)
            run_dirs.append(run)
        # The run's cgroup holds every sandbox: give it the CPU weight of as many processes as
        # there are cores (by default a cgroup weighs as much as one process, and the sandboxes
        # would share one process's share of a busy machine)
        cores = max(1, os.cpu_count() or 1)
        if self.version == 2:
            _write(run_dirs[0] / "cgroup.subtree_control", "+memory +pids")
            try:
                _write(run_dirs[0] / "cgroup.subtree_control", "+cpu")
                _write(run_dirs[0] / "cpu.weight", str(min(10_000, 100 * cores)))
            except OSError:
                pass  # no CPU cap, the rest still holds
        elif len(run_dirs) > 2:
            _write(run_dirs[2] / "cpu.shares", str(1024 * cores))
        self.made = run_dirs

    def leaf(self, name: str) -> CgroupLeaf:
        """A new cgroup for one sandbox (the run's parent cgroups are made on first use)."""
        if not self.made:
            self.start()
        dirs = []
        for run in self.made:
            d = run / name
            d.mkdir(mode=0o755)
            dirs.append(d)
        return CgroupLeaf(self.version, dirs)

    def finish(self) -> None:
        """Remove this run's cgroups (killing anything still in them)."""
        for run in self.made:
            for child in sorted(run.glob("*/"), reverse=True):
                if (child / "cgroup.procs").exists():
                    CgroupLeaf(self.version, [child]).remove()
        for run in self.made:
            try:
                run.rmdir()
            except OSError:
                pass
        self.made = []
