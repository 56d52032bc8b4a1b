"""Build the course's website from the stored notebooks (never executed) into _site/.

    python scripts/build_site.py                 # check the notebooks, build _site/
    python scripts/build_site.py --serve [PORT]  # ... then serve it on http://127.0.0.1:PORT/
    python scripts/build_site.py --check-only    # only the notebook checks, no build
    python scripts/build_site.py --out DIR       # build somewhere else
    python scripts/build_site.py --lite          # says why live explorers cannot be built

`./course site` runs this after setting up .venv with the site's tools (the `[site]` extra).

Two stages, each naming the file that fails:

1. The notebooks are checked before Sphinx sees them. A lesson must be stored with its outputs
   (every code cell has run), store no error, and keep its figures: an explorer or a plot
   stored without its PNG, or a Markdown image whose file is missing (in a Markdown cell or
   in Markdown a cell displays), fails the build.
   Exercises are stored without outputs on purpose; only their images are checked.
2. Sphinx builds the site with warnings as errors (`-W --keep-going -n`): a link between
   notebooks that leads nowhere (in a Markdown cell or in a `text/markdown` output, which the
   site reads as MyST like the cells), a missing image or an unknown output fails it.
   Sphinx gives a notebook's position as one number (10000 x cell + line); it is translated
   here to "cell N, line L": N counts cells from 1 at the top, L is the line of the cell where
   the paragraph holding the problem starts; or to "cell N, in its output" when cell N is a
   code cell (the problem lies in the Markdown it displays).

Nothing is fetched: the site's configuration (site/conf.py) vendors MathJax from a package,
and the theme ships its own assets.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A code cell is an explorer when it calls lrcourse.widgets.explore or explore_function,
# or stores a widget's view.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
EXPLORER = re.compile(r"\b(?:explore|explore_function)\s*\(")
MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_IMAGE = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.I)
SPHINX_NOTEBOOK_LINE = re.compile(r"(\S+\.ipynb):(\d{5,})(?=:)")


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the repository's root
    where: str  # "cell 4", or "" for the whole notebook
    what: str

    def __str__(self) -> str:
        return f"{self.path}{', ' + self.where if self.where else ''}: {self.what}"


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _local(url: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) and not url.startswith(("#", "/"))


LITE_BLOCKED = """\
site: --lite (the explorers live in the browser, through JupyterLite) cannot be built here.
A Pyodide kernel runs offline from the npm package `pyodide` and pure-Python wheels from PyPI,
but lrcourse needs numpy and matplotlib, and their Pyodide builds
(numpy-*-pyemscripten_*_wasm32.whl, matplotlib, pillow, kiwisolver, contourpy) are published
only with Pyodide's own distribution, on neither PyPI nor npm. README.md ("The website")
gives the details; the static site (./course site) shows every explorer's stored figure."""


def markdown_of(cell: dict) -> list[tuple[str, str]]:
    """The Markdown a cell puts on its page, as (where, text): a Markdown cell's source, or
    the ``text/markdown`` outputs of a code cell (``IPython.display.Markdown(...)``)."""
    if cell.get("cell_type") == "markdown":
        return [("", _text(cell.get("source")))]
    return [(", in its output", _text((out.get("data") or {}).get("text/markdown")))
            for out in cell.get("outputs") or [] if "text/markdown" in (out.get("data") or {})]


def check_images(path: Path, nb: dict, root: Path) -> list[Problem]:
    """Markdown images (``![...](file)`` or ``<img src=...>``), in Markdown cells or in
    Markdown outputs, must exist beside the notebook, and ``attachment:name`` images must be
    attached to their cell."""
    rel = path.relative_to(root).as_posix()
    problems = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        for suffix, source in markdown_of(cell):
            where = f"cell {number}{suffix}"
            for url in MD_IMAGE.findall(source) + HTML_IMAGE.findall(source):
                if url.startswith("attachment:"):
                    if url[len("attachment:"):] not in (cell.get("attachments") or {}):
                        problems.append(Problem(rel, where, f"the figure {url} is not "
                                                            "attached to the cell"))
                elif _local(url) and not (path.parent / url.split("#")[0]).is_file():
                    problems.append(Problem(rel, where, f"the figure {url} is missing"))
    return problems


def check_lesson(path: Path, nb: dict, root: Path) -> list[Problem]:
    """A lesson is stored with its outputs, without errors, with every figure's PNG."""
    rel = path.relative_to(root).as_posix()
    problems = []
    code = [(n, c) for n, c in enumerate(nb.get("cells", []), start=1)
            if c.get("cell_type") == "code" and _text(c.get("source")).strip()]
    if code and not any(c.get("outputs") for _, c in code):
        return [Problem(rel, "", "has no stored outputs: run `.venv/bin/python "
                                 f"scripts/notebooks.py execute {rel}` and commit the result")]
    for number, cell in code:
        where = f"cell {number}"
        if cell.get("execution_count") is None:
            problems.append(Problem(rel, where, "never ran (no stored outputs): refresh the "
                                                "notebook with scripts/notebooks.py execute"))
        outputs = cell.get("outputs") or []
        for out in outputs:
            if out.get("output_type") == "error":
                problems.append(Problem(rel, where, f"stores an error: {out.get('ename')}: "
                                                    f"{out.get('evalue')}"))
            data = out.get("data") or {}
            plain = _text(data.get("text/plain"))
            if plain.startswith("<Figure size") and "image/png" not in data \
                    and "image/svg+xml" not in data:
                problems.append(Problem(rel, where, f"stores a figure without its image "
                                                    f"({plain.strip()})"))
        explorer = EXPLORER.search(_text(cell.get("source"))) or any(
            WIDGET_VIEW in (out.get("data") or {}) for out in outputs)
        if explorer and not any(
                "image/png" in (out.get("data") or {}) for out in outputs):
            problems.append(Problem(rel, where, "an explorer stored without its figure (PNG): "
                                                "the page would show no plot"))
    return problems


def check_notebooks(root: Path = ROOT) -> list[Problem]:
    """Every problem of the notebooks the site is built from, lessons and exercises."""
    problems: list[Problem] = []
    lessons = sorted((root / "notebooks").glob("*.ipynb"))
    exercises = sorted((root / "exercises").glob("*.ipynb"))
    if not lessons:
        problems.append(Problem("notebooks", "", "holds no notebook"))
    for path in lessons + exercises:
        rel = path.relative_to(root).as_posix()
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            problems.append(Problem(rel, "", f"cannot be read as a notebook: {err}"))
            continue
        problems += check_images(path, nb, root)
        if path in lessons:
            problems += check_lesson(path, nb, root)
    return problems


def cell_types(path: Path) -> list[str]:
    """The type of each cell of the notebook at ``path`` (empty if it cannot be read)."""
    try:
        return [c.get("cell_type", "") for c in json.loads(path.read_text())["cells"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def notebook_position(match: re.Match, root: Path | None = None) -> str:
    """``x.ipynb:180004`` (myst-nb's 10000 x (cell + 1) + line) as ``x.ipynb, cell 18, line 3``,
    or as ``x.ipynb, cell 18, in its output`` when cell 18 of ``root / x.ipynb`` is a code cell:
    the problem is then in Markdown the cell displays, and the line means nothing to a reader."""
    number = int(match.group(2))
    cell, line = divmod(number, 10000)
    types = cell_types(root / match.group(1)) if root is not None else []
    if 0 < cell <= len(types) and types[cell - 1] == "code":
        return f"{match.group(1)}, cell {cell}, in its output"
    return f"{match.group(1)}, cell {cell}, line {max(line - 1, 1)}"


def sphinx(root: Path, out: Path, work: Path) -> tuple[int, list[str]]:
    """Run Sphinx (warnings are errors); return its exit code and its warnings, readable."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(root / "site"),
               "-d", str(work / "doctrees"), "-W", "--keep-going", "-n", "-E", "-q",
               str(root), str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=root)
    lines = []
    position = functools.partial(notebook_position, root=root)
    for line in (done.stdout + done.stderr).splitlines():
        line = line.replace(f"{root}/", "")
        lines.append(SPHINX_NOTEBOOK_LINE.sub(position, line))
    return done.returncode, [ln for ln in lines if ln.strip()]


def build(root: Path = ROOT, out: Path | None = None, *, echo=print) -> int:
    """Check the notebooks, then build the site into ``out``; 0 when it was built."""
    out = Path(out) if out else root / "_site"
    problems = check_notebooks(root)
    if problems:
        echo(f"site: {len(problems)} problem(s) in the notebooks, nothing built:")
        for problem in problems:
            echo(f"  {problem}")
        return 1
    start = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)  # no page of a deleted notebook survives
    with tempfile.TemporaryDirectory(prefix="lrcourse-site-") as work:
        code, lines = sphinx(root, out, Path(work))
    for line in lines:
        echo(f"  {line}")
    if code != 0:
        echo(f"site: the build failed (Sphinx exit code {code}); the lines above name the "
             "files")
        return 1
    echo(f"site: built {sum(1 for _ in out.rglob('*.html'))} pages into {out} "
         f"in {time.perf_counter() - start:.0f} s")
    return 0


def serve(directory: Path, port: int) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"site: serving {directory} on http://127.0.0.1:{server.server_address[1]}/ "
              "(Ctrl-C stops it)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_site",
                        help="where to build the site (default: _site/)")
    parser.add_argument("--serve", nargs="?", type=int, const=8000, metavar="PORT",
                        help="after building, serve the site on 127.0.0.1:PORT (default 8000)")
    parser.add_argument("--check-only", action="store_true",
                        help="check the notebooks and stop")
    parser.add_argument("--lite", action="store_true",
                        help="live explorers in the browser (JupyterLite): not available, "
                             "see README.md, 'The website'")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if args.lite:
        print(LITE_BLOCKED, file=sys.stderr)
        return 2
    if args.check_only:
        problems = check_notebooks(ROOT)
        for problem in problems:
            print(problem)
        print(f"site: {len(problems)} problem(s) in the notebooks")
        return 1 if problems else 0
    code = build(ROOT, out)
    if code:
        return code
    if args.serve is not None:
        serve(out, args.serve)
        return 0
    index = out / "index.html"
    print(f"site: open {index} in a browser (file://{index}),")
    print("      or serve it: ./course site --serve  (http://127.0.0.1:8000/), which also "
          "shows the icons and search snippets that browsers block on file:// pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
