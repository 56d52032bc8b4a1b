"""Run the assembled cells in a kernel of their own, with time, memory and output limits.

Each notebook is run by a fresh IPython kernel started through :mod:`lrcourse.grading.limits`,
so its address space (``memory_mb``) and file sizes are capped before it runs anything.  The
kernel's working directory is an empty temporary folder, its environment pins hashing and
thread counts (same results on every run), and it has no stdin (``input()`` fails at once).

Every cell has a wall-clock limit (``timeout`` seconds).  What can go wrong, and what happens:

* **an exception** (failed check, ``NameError``, ``MemoryError``, ``SystemExit`` from
  ``sys.exit``): the cell is an error, the kernel goes on with the next cell;
* **a timeout** (infinite loop): the kernel is interrupted; the cell is a timeout and the rest
  of its exercise is skipped.  If the interrupt does not stop the code within a few seconds,
  the kernel is killed and handled as below;
* **a dead kernel** (``os._exit``, ``exit()``, a crash, the memory limit hit outside Python):
  the cell is recorded, its exercise is disabled, and the notebook is run again from the top
  in a new kernel without that exercise, so the other exercises are still graded.

Output is capped per cell (text and images); the rest is dropped and the cell marked
truncated, so a learner printing gigabytes cannot exhaust the grader.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from queue import Empty

from jupyter_client import KernelManager

from .assemble import Cell

MAX_TEXT_CHARS = 20_000
"""Text (stdout, stderr, results) kept per cell."""
MAX_IMAGES = 4
"""PNG images kept per cell."""
MAX_IMAGE_CHARS = 2 * 2**20
"""Largest base64 PNG kept."""
INTERRUPT_GRACE = 3.0
"""Seconds an interrupted cell gets to stop before its kernel is killed."""
STARTUP_TIMEOUT = 60.0
"""Seconds a kernel gets to start."""


@dataclass
class Outcome:
    """What running one cell produced.

    ``status`` is ``"ok"``, ``"error"`` (an exception: ``ename``/``evalue``), ``"timeout"``,
    ``"died"`` (the kernel process ended), ``"skipped"`` (not run, ``evalue`` says why) or
    ``"not-run"`` (a missing answer or never reached).
    """

    status: str = "not-run"
    ename: str = ""
    evalue: str = ""
    text: str = ""
    images: list[str] = field(default_factory=list)
    truncated: bool = False
    cause: int | None = None  # for "skipped": the index of the cell that made it skip


class _LimitedKernelManager(KernelManager):
    """A kernel manager whose kernel command starts behind the resource-limit wrapper."""

    memory_mb: int | None = None
    file_mb: int | None = None

    def format_kernel_cmd(self, extra_arguments=None):  # noqa: D102 - see KernelManager
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f",
                  os.path.realpath(self.connection_file),
                  "--HistoryManager.enabled=False", "--IPKernelApp.log_level=CRITICAL"]
        wrapper = [sys.executable, "-m", "legacy_grading.limits"]
        if self.memory_mb:
            wrapper += ["--memory-mb", str(self.memory_mb)]
        if self.file_mb:
            wrapper += ["--file-mb", str(self.file_mb)]
        return wrapper + ["--"] + kernel + list(extra_arguments or [])


def kernel_env() -> dict[str, str]:
    """The kernel's environment: ours, with seeds and thread counts pinned."""
    env = dict(os.environ)
    env.update({
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",  # fewer per-thread malloc arenas: less address space
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    })
    env.pop("MPLBACKEND", None)  # the kernel's inline backend captures figures as PNG
    return env


class Kernel:
    """One limited kernel process and a blocking client to it."""

    def __init__(self, workdir: str, memory_mb: int | None, file_mb: int | None = 64):
        # Local sockets (files in a private folder) rather than TCP: no port races between
        # kernels started in parallel, and nothing listening on the network.
        self._sockets = tempfile.TemporaryDirectory(prefix="lrcourse-kernel-")
        self.km = _LimitedKernelManager(transport="ipc",
                                        ip=os.path.join(self._sockets.name, "kernel"))
        self.km.memory_mb = memory_mb
        self.km.file_mb = file_mb
        self.km.start_kernel(cwd=workdir, env=kernel_env())
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        except RuntimeError:
            self.shutdown()
            raise

    def alive(self) -> bool:
        """Whether the kernel process is still running."""
        return self.km.is_alive()

    def execute(self, code: str, timeout: float) -> tuple[Outcome, bool]:
        """Run ``code``; return its outcome and whether the kernel is still usable."""
        out = Outcome(status="ok")
        collector = _Collector(out)
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False,
                                 stop_on_error=False)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._after_timeout(msg_id, out, collector)
            try:
                msg = self.kc.get_iopub_msg(timeout=min(remaining, 0.5))
            except Empty:
                if not self.alive():
                    out.status = "died"
                    return out, False
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if collector.add(msg):
                break
        reply = self._shell_reply(msg_id, 5.0)
        if reply is not None and reply["content"].get("status") == "error":
            out.status = "error"
            out.ename = out.ename or reply["content"].get("ename", "")
            out.evalue = out.evalue or reply["content"].get("evalue", "")
        elif out.ename:
            out.status = "error"
        return out, True

    def _shell_reply(self, msg_id: str, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                reply = self.kc.get_shell_msg(timeout=max(0.0, deadline - time.monotonic()))
            except Empty:
                return None
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return reply
        return None

    def _after_timeout(self, msg_id: str, out: Outcome, collector: "_Collector"):
        """Interrupt the running cell; the kernel stays usable if it stops in time."""
        out.status = "timeout"
        try:
            self.km.interrupt_kernel()
        except Exception:  # noqa: BLE001 - a kernel that cannot be interrupted is killed
            return out, False
        deadline = time.monotonic() + INTERRUPT_GRACE
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                if not self.alive():
                    return out, False
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if collector.add(msg, keep_error=False):
                self._shell_reply(msg_id, 1.0)
                return out, True
        return out, False

    def shutdown(self) -> None:
        """Kill the kernel and anything it started (its whole process group)."""
        try:
            self.kc.stop_channels()
        except Exception:  # noqa: BLE001
            pass
        pid = None
        try:
            pid = self.km.provisioner.pid if self.km.provisioner else None
        except Exception:  # noqa: BLE001
            pass
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001
            pass
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)  # the kernel runs in a session of its own
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.km.cleanup_resources()
        except Exception:  # noqa: BLE001
            pass
        self._sockets.cleanup()


class _Collector:
    """Gathers a cell's iopub messages into an :class:`Outcome`, within the output caps."""

    def __init__(self, out: Outcome):
        self.out = out

    def add(self, msg: dict, keep_error: bool = True) -> bool:
        """Take one message; return True when the cell has finished (kernel idle)."""
        kind = msg.get("msg_type")
        content = msg.get("content", {})
        if kind == "status":
            return content.get("execution_state") == "idle"
        if kind == "stream":
            self._text(content.get("text", ""))
        elif kind in ("display_data", "execute_result"):
            data = content.get("data", {})
            png = data.get("image/png")
            if isinstance(png, str):
                if len(self.out.images) < MAX_IMAGES and len(png) <= MAX_IMAGE_CHARS:
                    self.out.images.append(png.replace("\n", ""))
                else:
                    self.out.truncated = True
            elif kind == "execute_result" and isinstance(data.get("text/plain"), str):
                self._text(data["text/plain"] + "\n")
        elif kind == "error" and keep_error:
            self.out.ename = content.get("ename", "")
            self.out.evalue = content.get("evalue", "")[:MAX_TEXT_CHARS]
        elif kind == "clear_output":
            self.out.text = ""
        return False

    def _text(self, text: str) -> None:
        room = MAX_TEXT_CHARS - len(self.out.text)
        if len(text) > room:
            self.out.truncated = True
            text = text[:max(room, 0)]
        self.out.text += text


def run_cells(cells: list[Cell], timeout: float, memory_mb: int | None,
              file_mb: int | None = 64) -> list[Outcome]:
    """Run ``cells`` in order in limited kernels; one :class:`Outcome` per cell.

    Answer cells marked missing, and everything else in their exercise, are not run.  A
    timeout or a dead kernel disables the rest of that cell's exercise (or, for a set-up cell
    before the first answer, the rest of the notebook); after a dead kernel the notebook
    restarts from the top without the disabled cells.  Each restart disables at least one
    more cell, so this ends.
    """
    outcomes = [Outcome() for _ in cells]
    disabled: dict[int, Outcome] = {}
    missing_groups = {c.group for c in cells if c.kind == "answer" and c.missing}
    for i, cell in enumerate(cells):
        if cell.group in missing_groups and cell.kind in ("answer", "test"):
            disabled[i] = Outcome(status="not-run")
    scratch = tempfile.TemporaryDirectory(prefix="lrcourse-grade-", ignore_cleanup_errors=True)
    with scratch as workdir:
        while True:
            restart = False
            try:
                kernel = Kernel(workdir, memory_mb, file_mb)
            except Exception as exc:  # noqa: BLE001 - reported on every cell
                for i in range(len(cells)):
                    if i not in disabled:
                        outcomes[i] = Outcome(
                            status="died", ename=type(exc).__name__,
                            evalue=f"the grading kernel did not start ({exc}); is the memory "
                                   "limit too low?")
                break
            try:
                for i, cell in enumerate(cells):
                    if i in disabled:
                        continue
                    if not cell.source.strip():
                        outcomes[i] = Outcome(status="ok")
                        continue
                    outcome, usable = kernel.execute(cell.source, timeout)
                    outcomes[i] = outcome
                    if outcome.status in ("timeout", "died") or not usable:
                        _disable_after(cells, i, outcome, disabled)
                    if not usable:
                        restart = True
                        break
            finally:
                kernel.shutdown()
            if not restart:
                break
    for i, outcome in disabled.items():
        if outcomes[i].status == "not-run":
            outcomes[i] = outcome
    return outcomes


def _disable_after(cells: list[Cell], i: int, outcome: Outcome,
                   disabled: dict[int, Outcome]) -> None:
    """Disable cell ``i`` (keeping its outcome) and the later cells of its exercise."""
    disabled[i] = outcome
    group = cells[i].group
    for j in range(i + 1, len(cells)):
        if group is None or cells[j].group == group:
            disabled.setdefault(j, Outcome(status="skipped", cause=i))
