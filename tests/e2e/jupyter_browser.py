"""A real JupyterLab server and headless Chromium, for the browser tests and the benchmark.

Used by ``tests/e2e/conftest.py`` (fixtures) and ``benchmarks/bench_browser.py``.  Nothing here
knows about pytest.

* :class:`JupyterLab` starts the course as a learner does, ``./course lab`` (serving the
  repository, opening ``notebooks/00_index.ipynb``), plus a free loopback port, a random token
  and no browser, with Jupyter's config, data, runtime and settings directories isolated in a
  temporary directory and autosave off, and shuts it down (REST shutdown, then SIGTERM, then
  SIGKILL of its process group).  :func:`files_digest` proves that the repository's files were
  not changed; :func:`copy_working_tree` makes the fresh clone a learner starts from.
* :func:`launch_chromium` launches Debian's ``/usr/bin/chromium`` through Playwright.
* :class:`LabPage` drives one notebook: open, run all cells, wait for the kernel, find errors,
  find explorers (``lrcourse.widgets``) and move their sliders with the keyboard, timing the
  redraw in the page.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import posixpath
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("LRCOURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "artifacts" / "e2e"
# The page ./course lab opens.
INDEX = "notebooks/00_index.ipynb"

# JupyterLab user settings for the test server: no news/update toasts over the screenshots, and
# no autosave: the server serves the repository itself, and nothing a test does in a notebook
# (running it, typing into it) may reach the files.
_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "autosave": False,
    },
}

# Texts the widget manager shows in place of a widget it cannot display.
WIDGET_FAILURE_TEXTS = ("Loading widget", "Error displaying widget", "model not found",
                        "No renderer could be found")


class FigureError(AssertionError):
    """An explorer sent a figure that the browser cannot display."""


class ServerError(RuntimeError):
    """The JupyterLab server did not come up (the message holds the end of its log)."""


def _die_with_parent() -> None:
    """In the server's process (Linux): get SIGTERM if the test process dies without
    cleaning up (e.g. SIGKILL), so that no server is left listening."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# The repository's files: a digest to prove that nothing was saved, and a fresh copy
# ---------------------------------------------------------------------------------------------

# Never part of the course's files: virtualenvs, git's own folder, test output, caches.
_NOT_COURSE_FILES = {".git", "artifacts", "__pycache__", ".pytest_cache", ".hypothesis",
                     ".ruff_cache", "build", "dist", "node_modules"}


def _is_course_path(relative: Path) -> bool:
    return not any(part in _NOT_COURSE_FILES or part.startswith(".venv")
                   or part.endswith(".egg-info") for part in relative.parts)


def files_digest(root: Path = REPO) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (relative path -> digest), leaving out
    virtualenvs, .git, artifacts/ and caches.  New files (a notebook checkpoint folder, a
    notebook saved under another name) show up as new keys."""
    digests = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath).relative_to(root)
        dirnames[:] = [d for d in dirnames if _is_course_path(here / d)]
        for name in filenames:
            relative = here / name
            if _is_course_path(relative):
                digests[str(relative)] = hashlib.sha256((root / relative).read_bytes()).hexdigest()
    return digests


def digest_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """'modified: x', 'created: y', 'deleted: z' for each file that differs."""
    changes = [f"modified: {p}" for p in sorted(before) if p in after and after[p] != before[p]]
    changes += [f"created: {p}" for p in sorted(set(after) - set(before))]
    changes += [f"deleted: {p}" for p in sorted(set(before) - set(after))]
    return changes


def copy_working_tree(destination: Path, source: Path = REPO) -> Path:
    """What a fresh clone of ``source`` holds, with any uncommitted work: the files git tracks
    plus the untracked ones it does not ignore (so no .venv/, no artifacts/)."""
    listed = subprocess.run(
        ["git", "-C", str(source), "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"], capture_output=True, check=True).stdout.decode()
    destination.mkdir(parents=True)
    for relative in filter(None, listed.split("\0")):
        src = source / relative
        if src.is_file():  # a file deleted but not yet committed is listed too
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, destination / relative)
    return destination


# ---------------------------------------------------------------------------------------------
# The server: ./course lab
# ---------------------------------------------------------------------------------------------

class JupyterLab:
    """``./course lab`` of the repository ``repo`` (by default this one), started as a learner
    starts it, plus the options a test needs, which ``./course lab`` passes on to ``jupyter
    lab``: no browser, a free loopback port, a random token, and notebook checkpoints kept in
    a temporary folder.  Jupyter's config, data, runtime and settings folders are temporary
    too (with autosave off, see ``_LAB_SETTINGS``), so a learner's own set-up does not leak
    in.  Use as a context manager or call start()/stop().

    The server serves ``repo`` itself: tests must never save a notebook there.  ``env`` is
    added to the server's environment (``None`` values remove a variable).
    """

    def __init__(self, repo: Path = REPO, *, startup_timeout: float = 120.0,
                 env: dict[str, str | None] | None = None) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="lrcourse-e2e-"))
        self.repo = self.root = Path(repo)
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self._tmp / "jupyter.log"
        self.startup_timeout = startup_timeout
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- life cycle ----------------------------------------------------------------------
    def command(self) -> list[str]:
        """``./course lab`` and the options it passes on to ``jupyter lab``."""
        return [
            str(self.repo / "course"), "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--FileCheckpoints.checkpoint_dir={self._tmp / 'checkpoints'}",
            "--LabApp.news_url=",
        ]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("config", "data", "runtime", "ipython", "settings", "workspaces"):
            (self._tmp / name).mkdir(exist_ok=True)
        env.update(
            JUPYTER_CONFIG_DIR=str(self._tmp / "config"),
            JUPYTER_DATA_DIR=str(self._tmp / "data"),
            JUPYTER_RUNTIME_DIR=str(self._tmp / "runtime"),
            IPYTHONDIR=str(self._tmp / "ipython"),
            JUPYTERLAB_SETTINGS_DIR=str(self._tmp / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self._tmp / "workspaces"),
            JUPYTER_PLATFORM_DIRS="1",
        )
        env.pop("MPLBACKEND", None)  # kernels keep matplotlib's inline backend
        for name, value in self.extra_env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        for name, value in _LAB_SETTINGS.items():
            path = self._tmp / "settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        return env

    def start(self) -> JupyterLab:
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), env=self._env(), cwd=self._tmp,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            status = self.proc.poll()
            if status is not None:
                self.stop()
                raise ServerError(
                    f"./course lab exited with status {status} before answering "
                    f"on {self.base_url}; the end of its log:\n{self.log_tail()}")
            if self._answers():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(
                    f"./course lab did not answer on {self.base_url}/api/status within "
                    f"{self.startup_timeout:.0f} s; the end of its log:\n{self.log_tail()}")
            time.sleep(0.25)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.api_url("api/status"), timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Shut the server and its kernels down; safe to call more than once."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:  # the clean way: the server shuts its kernels down itself
                request = urllib.request.Request(self.api_url("api/shutdown"), method="POST")
                urllib.request.urlopen(request, timeout=5).close()
                proc.wait(timeout=20)
            except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
                pass
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                if proc.poll() is not None:
                    break
                try:
                    os.killpg(proc.pid, sig)  # the server's own session: it and its kernels
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    pass
        if proc is not None:
            try:  # kernels left behind by a server that died first
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> JupyterLab:
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc) -> None:
        self.cleanup()

    # -- addresses -----------------------------------------------------------------------
    def api_url(self, path: str) -> str:
        return f"{self.base_url}/{path}?token={self.token}"

    def notebook_url(self, path: str) -> str:
        """The page of the notebook at ``path`` (relative to the repository)."""
        return f"{self.base_url}/lab/tree/{path}?token={self.token}&reset"

    def opened_url(self) -> str:
        """The address ``./course lab`` opens in the learner's browser (jupyter writes it to
        its runtime folder even with --no-browser)."""
        pages = sorted((self._tmp / "runtime").glob("jpserver-file-to-run-*-open.html"))
        if not pages:
            raise AssertionError("./course lab names no file to open (no "
                                 "jpserver-file-to-run-*-open.html in its runtime folder)")
        match = re.search(r'href="([^"]+)"', pages[-1].read_text())
        if not match:
            raise AssertionError(f"no link in {pages[-1].name}: {pages[-1].read_text()[:500]}")
        return html.unescape(match.group(1))

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(no log)"

    def not_found(self) -> list[str]:
        """The lines of the server's log that report a 404 (a page or file it does not have):
        ``[W <time> ServerApp] 404 GET /path (ip) 1.23ms``, the status right after the prefix
        (a bare "404" also appears in timestamps such as ``20:50:14.404``)."""
        return [line for line in self.log_text().splitlines()
                if re.search(r"\] 404 [A-Z]+ /", line)]

    def listing(self, path: str) -> list[str]:
        """The names in folder ``path`` of the server's root (its contents API)."""
        with urllib.request.urlopen(self.api_url(f"api/contents/{path}"), timeout=10) as response:
            return [item["name"] for item in json.load(response)["content"]]

    def shutdown_kernels(self) -> None:
        """Shut down every running kernel (each opened notebook starts one)."""
        try:
            with urllib.request.urlopen(self.api_url("api/sessions"), timeout=5) as response:
                sessions = json.load(response)
            for session in sessions:
                request = urllib.request.Request(
                    self.api_url(f"api/sessions/{session['id']}"), method="DELETE")
                urllib.request.urlopen(request, timeout=20).close()
        except (urllib.error.URLError, OSError):
            pass


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium "
                f"chromium-driver; ./course test does it when run as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[test]'"
    return None


def launch_chromium(playwright) -> Any:
    """Headless Debian Chromium through Playwright (its own browser download is not used)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)


# ---------------------------------------------------------------------------------------------
# One notebook in the page
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    """Move slider ``slider`` (its description, i.e. the torch parameter name) of an explorer
    with the keyboard: ``key`` pressed ``presses`` times on the focused handle.  ``explorer``
    picks the explorer by position among the notebook's explorers; by default the first one
    that has such a slider."""

    slider: str
    key: str = "ArrowRight"
    presses: int = 1
    explorer: int | None = None


@dataclass
class MoveResult:
    slider: str
    explorer: int
    old_value: str
    new_value: str
    readout: str
    latency_ms: list[float]


@dataclass
class NotebookReport:
    notebook: str
    problems: list[str] = field(default_factory=list)
    moves: list[MoveResult] = field(default_factory=list)
    explorers: list[list[str]] = field(default_factory=list)  # slider names, per explorer
    run_seconds: float = 0.0

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.notebook}: {text}")

    def summary(self) -> str:
        return "\n".join(self.problems) or f"{self.notebook}: ok"


# In-page code.  An explorer is `.lrcourse-explorer`; its sliders are `.widget-slider` boxes whose
# label is the parameter name; the figure is the <img class="lrcourse-figure"> whose src (a blob
# URL) is replaced on every redraw.
_JS_EXPLORERS = """
() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .lrcourse-explorer'))
  .map(box => Array.from(box.querySelectorAll(':scope > .widget-slider > .widget-label'))
                   .map(label => label.textContent.trim()))
"""

_JS_WATCH = """
(index) => {
  const box = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .lrcourse-explorer')[index];
  const img = box.querySelector('img.lrcourse-figure');
  if (!window.__lrcourse) {
    window.__lrcourse = {keys: [], srcs: [], loads: [], errors: []};
    document.addEventListener('keydown', () => window.__lrcourse.keys.push(performance.now()), true);
  }
  const w = window.__lrcourse;
  for (const list of [w.keys, w.srcs, w.loads, w.errors]) list.length = 0;
  if (!img.__lrcourseWatched) {  // once per figure: a src change, then the new image decoded
    img.__lrcourseWatched = true;
    new MutationObserver(() => window.__lrcourse.srcs.push(performance.now()))
      .observe(img, {attributes: true, attributeFilter: ['src']});
    img.addEventListener('load', () => window.__lrcourse.loads.push(performance.now()));
    img.addEventListener('error', () => window.__lrcourse.errors.push(performance.now()));
  }
  return true;
}
"""

_JS_FIGURE_DIGEST = """
async (img) => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const src = img.getAttribute('src');
    if (!src) return '';
    try {
      const bytes = await (await fetch(src)).arrayBuffer();
      const digest = await crypto.subtle.digest('SHA-256', bytes);
      return Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join('');
    } catch (e) {  // the blob was revoked by a newer redraw: read the newer one
      await new Promise(r => setTimeout(r, 50));
    }
  }
  return 'unreadable';
}
"""

_JS_OUTPUT_PROBLEMS = """
(failureTexts) => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const found = [];
  panel.querySelectorAll('.jp-Notebook .jp-Cell').forEach((cell, position) => {
    if (!cell.classList.contains('jp-CodeCell')) return;
    const index = `${position + 1} ${cell.querySelector('.jp-InputPrompt').textContent.trim()}`;
    cell.querySelectorAll('.jp-OutputArea-output').forEach(out => {
      const mime = out.getAttribute('data-mime-type') || '';
      const text = (out.innerText || '').trim();
      if (mime === 'application/vnd.jupyter.stderr') {
        found.push({cell: index, kind: text.includes('Traceback') || /Error\\b/.test(text) ? 'error' : 'stderr', text});
      } else {
        if (failureTexts.some(t => text.includes(t)))
          found.push({cell: index, kind: 'widget', text});
      }
    });
  });
  return found;
}
"""


def _first_lines(text: str, n: int = 6) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    more = " ..." if len(lines) > n else ""
    return " | ".join(lines[:n]) + more


class LabPage:
    """One notebook open in a Playwright page of a :class:`JupyterLab`."""

    def __init__(self, page, lab: JupyterLab, notebook: str) -> None:
        self.page = page
        self.lab = lab
        self.notebook = notebook
        self.report = NotebookReport(notebook)

    @property
    def panel(self):
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")

    # -- opening and running -------------------------------------------------------------
    def open(self, timeout: float = 60.0, url: str | None = None) -> None:
        """Load the notebook's page (or ``url``) and wait until its kernel is idle."""
        self.page.goto(url or self.lab.notebook_url(self.notebook))
        self.wait_until_ready(timeout)

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        """Wait for the visible notebook's cells and for its kernel to be idle."""
        self.panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout * 1000)
        # Cells run only once the kernel is connected: the status bar then says "| Idle"
        # (the toolbar's execution indicator already says idle before there is a kernel).
        try:
            self.page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.jp-StatusBar-Widget'))"
                ".some(w => /\\|\\s*Idle/.test(w.innerText))", timeout=timeout * 1000)
        except Exception as exc:
            status = self.page.locator(".jp-StatusBar-Widget").all_inner_texts()
            raise AssertionError(f"{self.notebook}: the kernel did not become idle within "
                                 f"{timeout:.0f} s (status bar: {status})") from exc

    def current_path(self) -> str:
        """The path of the document in the current tab, as JupyterLab's address shows it."""
        path = urllib.parse.urlparse(self.page.url).path
        return urllib.parse.unquote(path.split("/lab/tree/", 1)[1]) if "/lab/tree/" in path else ""

    def follow_link(self, href: str, timeout: float = 60.0) -> LabPage:
        """Click the link ``[...](href)`` in this notebook's rendered Markdown, as a
        learner does, and return the notebook it opens (in a new tab of the same page), once
        its kernel is idle.  Fails with the server's 404s when it does not open."""
        # JupyterLab resolves a relative link against the notebook's folder and rewrites it
        # to the file's address on the server, /files/<path>?_xsrf=...
        target = posixpath.normpath(posixpath.join(posixpath.dirname(self.notebook), href))
        link = self.panel.locator(f".jp-RenderedMarkdown a[href*='/files/{target}?']").first
        try:
            link.wait_for(timeout=10_000)
        except Exception as exc:
            raise AssertionError(f"{self.notebook}: no link to {href!r}") from exc
        link.scroll_into_view_if_needed()
        link.click()
        try:
            self.page.wait_for_function(
                "(path) => decodeURIComponent(location.pathname).endsWith('/lab/tree/' + path)",
                arg=target, timeout=timeout * 1000)
            opened = LabPage(self.page, self.lab, target)
            opened.wait_until_ready(timeout)
        except Exception as exc:
            dialogs = self.page.locator(".jp-Dialog").all_inner_texts()
            raise AssertionError(
                f"{self.notebook}: following the link {href!r} did not open {target} "
                f"(address: {self.page.url}; dialogs: {dialogs}; the server's 404s: "
                f"{self.lab.not_found()})") from exc
        return opened

    def _menu(self, menu: str, item: str) -> None:
        self.page.locator(f".lm-MenuBar-itemLabel:text-is('{menu}')").click()
        self.page.locator(f".lm-Menu-content .lm-Menu-itemLabel:text-is('{item}')").click()

    def prompts(self) -> list[str]:
        """The input prompts of the non-empty code cells ('[3]:', '[*]:', '[ ]:')."""
        return self.page.evaluate(
            "() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-Notebook .jp-CodeCell')).filter(c => (c.querySelector('.jp-InputArea-editor')"
            "?.textContent || '').trim()).map(c => c.querySelector('.jp-InputPrompt').textContent"
            ".trim())")

    def run_all(self, timeout: float = 300.0) -> None:
        """Clear all outputs (so none is left over from the stored notebook), Run All Cells,
        and wait until no cell is queued or running and the kernel is idle."""
        start = time.monotonic()
        self._menu("Edit", "Clear Outputs of All Cells")
        self._menu("Run", "Run All Cells")
        try:
            self.page.wait_for_function(
                """() => {
                  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                  const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
                                       .map(p => p.textContent.trim());
                  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')
                                      ?.getAttribute('data-status');
                  return status === 'idle' && !prompts.includes('[*]:')
                         && prompts.some(p => /\\[\\d+\\]/.test(p));
                }""", timeout=timeout * 1000, polling=250)
        except Exception as exc:
            raise AssertionError(
                f"{self.notebook}: the cells did not finish within {timeout:.0f} s "
                f"(prompts: {self.prompts()})") from exc
        self.report.run_seconds = time.monotonic() - start

    # -- single cells ----------------------------------------------------------------------
    def cell(self, index: int):
        """Cell ``index`` (0-based, counting Markdown cells too, as in the .ipynb file)."""
        return self.panel.locator(".jp-Notebook .jp-Cell").nth(index)

    def type_code(self, index: int, code: str) -> None:
        """Replace the code of cell ``index`` by typing ``code`` on the keyboard, as a learner
        does.  The editor indents a new line by itself; the indentation typed replaces it."""
        editor = self.cell(index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        keyboard = self.page.keyboard
        keyboard.press("Control+a")
        keyboard.press("Delete")
        for number, line in enumerate(code.rstrip("\n").split("\n")):
            if number:
                keyboard.press("Enter")
                keyboard.press("Shift+Home")  # select the editor's own indentation, if any
            if line:
                keyboard.type(line)
        typed = self.cell_source(index)
        if typed.rstrip() != code.rstrip():
            raise AssertionError(f"{self.notebook}: cell {index + 1} holds\n{typed}\n"
                                 f"after typing\n{code}")

    def cell_source(self, index: int) -> str:
        lines = self.cell(index).locator(".cm-content .cm-line").all_inner_texts()
        return "\n".join(line.rstrip() for line in lines)

    def run_cell(self, index: int, timeout: float = 120.0) -> None:
        """Run cell ``index`` (Ctrl+Enter in its editor) and wait until it has run."""
        cell = self.cell(index)
        prompt = cell.locator(".jp-InputPrompt")
        before = prompt.inner_text().strip()
        cell.locator(".cm-content").click()
        self.page.keyboard.press("Control+Enter")
        try:
            self.page.wait_for_function(
                "([cell, before]) => { const p = cell.querySelector('.jp-InputPrompt')"
                ".textContent.trim(); return /^\\[\\d+\\]:$/.test(p) && p !== before; }",
                arg=[cell.element_handle(), before], timeout=timeout * 1000, polling=100)
        except Exception as exc:
            raise AssertionError(f"{self.notebook}: cell {index + 1} did not finish within "
                                 f"{timeout:.0f} s (prompt {prompt.inner_text()!r})") from exc

    def outputs(self, index: int) -> list[dict]:
        """The outputs of cell ``index`` as shown: ``{"mime": ..., "text": ..., "images": n}``
        (an error shows as ``application/vnd.jupyter.stderr``)."""
        return self.cell(index).evaluate(
            "cell => Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => ({"
            "mime: o.getAttribute('data-mime-type') || '', text: (o.innerText || '').trim(),"
            "images: o.querySelectorAll('img').length}))")

    def save(self, timeout: float = 20.0) -> None:
        """Ctrl+S, and wait until the tab is no longer marked as modified.  Only ever in a
        copy of the repository (see copy_working_tree)."""
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(
            "() => { const tab = document.querySelector('.lm-DockPanel-tabBar "
            ".lm-TabBar-tab.lm-mod-current'); return tab && !tab.classList.contains("
            "'jp-mod-dirty'); }", timeout=timeout * 1000)

    # -- checks ---------------------------------------------------------------------------
    def check_outputs(self, widget_timeout: float = 20.0) -> None:
        """Errors, stderr and widgets that did not render (the manager's placeholder texts)."""
        try:  # widgets show "Loading widget..." until their models arrive
            self.page.wait_for_function(
                "() => !Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                ".some(o => (o.innerText || '').includes('Loading widget'))",
                timeout=widget_timeout * 1000)
        except Exception:
            pass  # reported below
        for item in self.page.evaluate(_JS_OUTPUT_PROBLEMS, list(WIDGET_FAILURE_TEXTS)):
            what = {"error": "an error", "stderr": "output on stderr",
                    "widget": "a widget that did not render"}[item["kind"]]
            self.report.problem(f"cell {item['cell']} shows {what}: {_first_lines(item['text'])}")
        prompts = self.prompts()
        if any(not p.strip("[]: ").isdigit() for p in prompts):
            self.report.problem(f"not every code cell ran (prompts: {' '.join(prompts)})")

    def check_explorers(self) -> list[list[str]]:
        """Every explorer rendered: visible sliders, a decoded figure.  Returns the slider
        names of each explorer."""
        explorers = self.page.evaluate(_JS_EXPLORERS)
        self.report.explorers = explorers
        boxes = self.panel.locator(".lrcourse-explorer")
        for index, sliders in enumerate(explorers):
            box = boxes.nth(index)
            box.scroll_into_view_if_needed()
            name = f"explorer {index + 1} ({', '.join(sliders) or 'no sliders'})"
            for slider in sliders:
                if not self._slider(box, slider).is_visible():
                    self.report.problem(f"{name}: slider {slider!r} is not visible")
            img = box.locator("img.lrcourse-figure")
            try:
                img.wait_for(state="visible", timeout=10_000)
                self.page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                            arg=img.element_handle(), timeout=10_000)
            except Exception:
                self.report.problem(f"{name}: the figure is not displayed")
            error = box.locator(".lrcourse-error .widget-html-content").inner_text().strip()
            if error:
                self.report.problem(f"{name}: shows an error before any move: {error}")
        return explorers

    @staticmethod
    def _slider(box, name: str):
        return box.locator(":scope > .widget-slider").filter(
            has=box.page.locator(f":scope > .widget-label:text-is('{name}')"))

    def _explorer_index(self, move: Move) -> int | None:
        explorers = self.report.explorers or self.page.evaluate(_JS_EXPLORERS)
        if move.explorer is not None:
            if move.explorer < len(explorers) and move.slider in explorers[move.explorer]:
                return move.explorer
        else:
            for index, sliders in enumerate(explorers):
                if move.slider in sliders:
                    return index
        where = "; ".join(f"explorer {i + 1}: {', '.join(s) or 'no sliders'}"
                          for i, s in enumerate(explorers)) or "no explorer rendered"
        self.report.problem(f"slider {move.slider!r}: not found ({where})")
        return None

    def figure_digest(self, index: int) -> str:
        img = self.panel.locator(".lrcourse-explorer").nth(index).locator("img.lrcourse-figure")
        return self.page.evaluate(_JS_FIGURE_DIGEST, img.element_handle())

    def settle(self, index: int, quiet: float = 0.5, timeout: float = 10.0) -> None:
        """Wait until the figure has not been redrawn for ``quiet`` seconds (a widget that
        just rendered may still be sending its first values)."""
        img = self.panel.locator(".lrcourse-explorer").nth(index).locator("img.lrcourse-figure")
        deadline = time.monotonic() + timeout
        last, since = img.get_attribute("src"), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            src = img.get_attribute("src")
            if src != last:
                last, since = src, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def move(self, move: Move, redraw_timeout: float = 10.0) -> MoveResult | None:
        """Press ``move.key`` on the slider's handle; check that the figure is redrawn with
        different bytes, that the slider's value changed and that the explorer's readout
        shows it, and that no error is shown.  Problems go to the report."""
        index = self._explorer_index(move)
        if index is None:
            return None
        label = f"slider {move.slider!r} (explorer {index + 1})"
        box = self.panel.locator(".lrcourse-explorer").nth(index)
        slider = self._slider(box, move.slider)
        slider.scroll_into_view_if_needed()
        self.settle(index)
        value = slider.locator(".widget-readout")
        old_value = value.inner_text().strip()
        old_digest = self.figure_digest(index)
        latencies = []
        handle = slider.locator(".noUi-handle").first  # a range slider has two
        for _ in range(move.presses):
            try:
                latency = self._press_and_time(index, handle, move.key, redraw_timeout)
            except FigureError:
                self.report.problem(f"{label}: after pressing {move.key} the figure is not an "
                                    f"image the browser can decode")
                return None
            if latency is None:
                self.report.problem(
                    f"{label}: the figure was not redrawn within {redraw_timeout:.0f} s after "
                    f"pressing {move.key} (slider value {old_value} -> "
                    f"{value.inner_text().strip()})")
                return None
            latencies.append(latency)
        self.settle(index, quiet=0.3)
        new_value = value.inner_text().strip()
        readout_locator = box.locator(".lrcourse-readout .widget-html-content")
        readout = readout_locator.inner_text().strip()
        result = MoveResult(move.slider, index, old_value, new_value, readout, latencies)
        self.report.moves.append(result)
        if new_value == old_value:
            self.report.problem(f"{label}: {move.key} did not change its value ({old_value})")
        if self.figure_digest(index) == old_digest:
            self.report.problem(f"{label}: the figure's bytes did not change when it moved "
                                f"from {old_value} to {new_value}")
        shown = _readout_value(readout, move.slider)
        if shown is None or not _same_value(shown, new_value):
            self.report.problem(f"{label}: the readout does not show {move.slider}={new_value} "
                                f"after the move (it shows: {_first_lines(readout, 2)!r})")
        error = box.locator(".lrcourse-error .widget-html-content").inner_text().strip()
        if error:
            self.report.problem(f"{label}: moving it from {old_value} to {new_value} shows an "
                                f"error: {error}")
        return result

    def _press_and_time(self, index: int, handle, key: str, timeout: float) -> float | None:
        """Press ``key`` on the focused handle; milliseconds from the keydown event to the
        redrawn figure (the new image loaded), measured in the page; None when no new figure
        arrived within ``timeout``."""
        self.page.evaluate(_JS_WATCH, index)
        handle.focus()
        handle.press(key)
        try:
            self.page.wait_for_function(
                "() => { const w = window.__lrcourse; return w.keys.length > 0 && "
                "(w.loads.length > 0 || w.errors.length > 0); }",
                timeout=timeout * 1000, polling="raf")
        except Exception:
            return None
        w = self.page.evaluate("() => window.__lrcourse")
        if not w["loads"]:
            raise FigureError(f"{self.notebook}: the redrawn figure of explorer {index + 1} "
                              "is not an image the browser can decode")
        return w["loads"][0] - w["keys"][0]

    # -- artifacts -------------------------------------------------------------------------
    def screenshot(self, path: Path, explorer: int | None = None) -> Path:
        """A PNG of what the learner sees: the explorer that was moved (or the top)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if explorer is not None:
            self.panel.locator(".lrcourse-explorer").nth(explorer).scroll_into_view_if_needed()
        self.page.screenshot(path=str(path))
        return path


def check_notebook(lab_page: LabPage, moves: list[Move] | tuple[Move, ...] = (),
                   screenshot: Path | None = None) -> NotebookReport:
    """Everything a learner would notice, for one notebook: open it, run all cells, look for
    errors and widgets that did not render, make the moves, take the screenshot.  Returns the
    report; its ``problems`` name the notebook, the cell or the slider."""
    lab_page.open()
    lab_page.run_all()
    lab_page.check_outputs()
    lab_page.check_explorers()
    moved = None
    for move in moves:
        result = lab_page.move(move)
        if result is not None and moved is None:
            moved = result.explorer
    if screenshot is not None:
        lab_page.screenshot(screenshot, moved)
    return lab_page.report


def time_moves(lab_page: LabPage, move: Move, count: int,
               timeout: float = 10.0) -> list[float]:
    """Milliseconds from keydown to redrawn figure for ``count`` moves of one slider, going
    back and forth (``move.key`` then its opposite) so that the value stays in range."""
    index = lab_page._explorer_index(move)
    if index is None:
        raise AssertionError(lab_page.report.summary())
    opposite = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight", "ArrowUp": "ArrowDown",
                "ArrowDown": "ArrowUp", "PageUp": "PageDown", "PageDown": "PageUp"}
    box = lab_page.panel.locator(".lrcourse-explorer").nth(index)
    slider = lab_page._slider(box, move.slider)
    slider.scroll_into_view_if_needed()
    lab_page.settle(index)
    handle = slider.locator(".noUi-handle").first
    times = []
    for i in range(count):
        key = move.key if i % 2 == 0 else opposite.get(move.key, move.key)
        latency = lab_page._press_and_time(index, handle, key, timeout)
        if latency is None:
            raise AssertionError(f"{lab_page.notebook}: slider {move.slider!r}: no redraw "
                                 f"within {timeout:.0f} s after move {i + 1} ({key})")
        times.append(latency)
        lab_page.settle(index, quiet=0.05, timeout=2.0)
    return times


def _readout_value(readout: str, name: str) -> str | None:
    """The value of ``name`` in an explorer readout like ``step_size=30, gamma=0.1``."""
    first_line = readout.splitlines()[0] if readout else ""
    for part in first_line.split(", "):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            return value.strip()
    return None


def _same_value(a: str, b: str) -> bool:
    """The readout and the slider's own readout show the same number (each formats it
    in its own format, 3 or 4 significant digits: 5.12e-2 vs 0.05117)."""
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    return abs(x - y) <= 6e-3 * max(abs(x), abs(y), 1e-300)
