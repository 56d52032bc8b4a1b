"""The website's build refuses what it must not publish, naming the file.

The notebook checks of scripts/build_site.py are run on small notebooks written here.  Full
Sphinx builds of a copy of the course, with broken links added to one lesson (in a Markdown
cell, or in the Markdown a code cell displays), check that the build fails and names the
notebook, the cell and the line; one with good links, a table and formulas in a Markdown output
checks that they become pages' links, a table and MathJax's maths.  The site itself (pages,
links, the browser) is tested in tests/e2e/test_site.py.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


build_site = _load("build_site", ROOT / "scripts" / "build_site.py")

pytest.importorskip("sphinx", reason="the site's tools are missing: pip install -e '.[site]'")
lrcourse_site = _load("lrcourse_site", ROOT / "site" / "lrcourse_site.py")


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def md(text: str, **extra) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text, **extra}


def code(text: str, outputs=(), count: int | None = 1) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": list(outputs),
            "execution_count": count}


def markdown_output(text: str) -> dict:
    """What ``IPython.display.Markdown(text)`` stores."""
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/markdown": text,
                     "text/plain": "<IPython.core.display.Markdown object>"}}


PNG = {"output_type": "display_data", "metadata": {},
       "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}}
TEXT = {"output_type": "stream", "name": "stdout", "text": "0.1\n"}


@pytest.fixture
def course(tmp_path):
    """A course folder with one good lesson and one exercise; tests add bad notebooks."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "exercises").mkdir()
    write(tmp_path / "notebooks" / "01_good.ipynb", notebook(
        md("# 1 · Good\n\n$\\eta$ and a figure: ![curve](curve.png)"),
        code("import numpy as np", count=1),
        code("print(0.1)", [TEXT], count=2),
        code('explore("StepLR", lr=0.1, steps=10, step_size=(1, 9, 3))', [PNG], count=3)))
    (tmp_path / "notebooks" / "curve.png").write_bytes(b"\x89PNG")
    # exercises are stored without outputs on purpose
    write(tmp_path / "exercises" / "ex01.ipynb", notebook(
        md("# Exercise 1"), code("def f():\n    raise NotImplementedError()", count=None)))
    return tmp_path


def write(path: Path, nb: dict) -> None:
    path.write_text(json.dumps(nb))


def problems(root: Path) -> list[str]:
    return [str(p) for p in build_site.check_notebooks(root)]


def test_the_stored_course_passes_the_checks():
    assert problems(ROOT) == []


def test_good_notebooks_and_exercises_without_outputs_pass(course):
    assert problems(course) == []


def test_a_lesson_without_stored_outputs_is_named(course):
    write(course / "notebooks" / "02_cleared.ipynb", notebook(
        md("# 2"), code("x = 1", count=None), code("print(x)", count=None)))
    assert problems(course) == [
        "notebooks/02_cleared.ipynb: has no stored outputs: run `.venv/bin/python "
        "scripts/notebooks.py execute notebooks/02_cleared.ipynb` and commit the result"]


def test_a_cell_that_never_ran_and_a_stored_error_are_named(course):
    error = {"output_type": "error", "ename": "ValueError", "evalue": "bad lr", "traceback": []}
    write(course / "notebooks" / "02_partly.ipynb", notebook(
        md("# 2"), code("print(0.1)", [TEXT], count=1), code("y = 2", count=None),
        code("raise ValueError('bad lr')", [error], count=3)))
    assert problems(course) == [
        "notebooks/02_partly.ipynb, cell 3: never ran (no stored outputs): refresh the "
        "notebook with scripts/notebooks.py execute",
        "notebooks/02_partly.ipynb, cell 4: stores an error: ValueError: bad lr"]


def test_missing_figures_are_named(course):
    figure_without_png = {"output_type": "display_data", "metadata": {},
                          "data": {"text/plain": "<Figure size 640x480 with 1 Axes>"}}
    write(course / "notebooks" / "02_figures.ipynb", notebook(
        md("# 2\n\n![the curve](figures/missing.png)"),
        code("plot()", [figure_without_png], count=1),
        code('explore_function(f, x=(0, 1, 0.5))', [TEXT], count=2),
        md('<img src="gone.svg" width="300">'),
        md("![pasted](attachment:image.png)"),
        code("Markdown(table)", [markdown_output("| a |\n|---|\n| ![b](figures/b.png) |")])))
    # an exercise's images are checked too
    write(course / "exercises" / "ex02.ipynb", notebook(md("![hint](hint.png)")))
    assert problems(course) == [
        "notebooks/02_figures.ipynb, cell 1: the figure figures/missing.png is missing",
        "notebooks/02_figures.ipynb, cell 4: the figure gone.svg is missing",
        "notebooks/02_figures.ipynb, cell 5: the figure attachment:image.png is not attached "
        "to the cell",
        "notebooks/02_figures.ipynb, cell 6, in its output: the figure figures/b.png is missing",
        "notebooks/02_figures.ipynb, cell 2: stores a figure without its image "
        "(<Figure size 640x480 with 1 Axes>)",
        "notebooks/02_figures.ipynb, cell 3: an explorer stored without its figure (PNG): the "
        "page would show no plot",
        "exercises/ex02.ipynb, cell 1: the figure hint.png is missing",
    ]


def test_a_damaged_notebook_is_named(course):
    (course / "notebooks" / "03_damaged.ipynb").write_text('{"cells": [')
    [problem] = problems(course)
    assert problem.startswith("notebooks/03_damaged.ipynb: cannot be read as a notebook")


def test_check_only_exits_1_and_prints_the_problems(tmp_path):
    """The command line, on a copy of the script whose course has a cleared lesson."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "build_site.py", tmp_path / "scripts")
    (tmp_path / "notebooks").mkdir()
    write(tmp_path / "notebooks" / "01.ipynb", notebook(code("print(1)", count=None)))
    done = subprocess.run([sys.executable, "scripts/build_site.py", "--check-only"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    assert "notebooks/01.ipynb: has no stored outputs" in done.stdout


@pytest.mark.parametrize(("number", "expected"), [
    ("180004", "x.ipynb, cell 18, line 3"),
    ("10002", "x.ipynb, cell 1, line 1"),
    ("30010", "x.ipynb, cell 3, line 9"),
])
def test_sphinx_notebook_positions_become_cell_and_line(number, expected):
    line = f"notebooks/x.ipynb:{number}: WARNING: something"
    assert build_site.SPHINX_NOTEBOOK_LINE.sub(build_site.notebook_position, line) == \
        f"notebooks/{expected}: WARNING: something"


def test_a_position_in_a_code_cell_is_its_output(course):
    """A code cell's source is not Markdown: a link Sphinx finds there is in what it displays."""
    line = "notebooks/01_good.ipynb:{}: WARNING: something"
    position = functools.partial(build_site.notebook_position, root=course)
    assert build_site.SPHINX_NOTEBOOK_LINE.sub(position, line.format("30002")) == \
        "notebooks/01_good.ipynb, cell 3, in its output: WARNING: something"
    assert build_site.SPHINX_NOTEBOOK_LINE.sub(position, line.format("10004")) == \
        "notebooks/01_good.ipynb, cell 1, line 3: WARNING: something"


def test_binder_links():
    assert lrcourse_site.binder_url("https://github.com/ada/lrcourse", "main",
                                    "notebooks/05_warm_restarts.ipynb") == (
        "https://mybinder.org/v2/gh/ada/lrcourse/main"
        "?urlpath=lab/tree/notebooks/05_warm_restarts.ipynb")
    assert lrcourse_site.binder_url("https://github.com/ada/lrcourse.git/", "dev",
                                    "exercises/ex01_step_multistep.ipynb") == (
        "https://mybinder.org/v2/gh/ada/lrcourse/dev"
        "?urlpath=lab/tree/exercises/ex01_step_multistep.ipynb")
    assert lrcourse_site.binder_url("https://gitlab.com/ada/lrcourse", "main",
                                    "notebooks/00_index.ipynb") == (
        "https://mybinder.org/v2/git/https%3A%2F%2Fgitlab.com%2Fada%2Flrcourse/main"
        "?urlpath=lab/tree/notebooks/00_index.ipynb")


def copy_of_the_course(tmp_path: Path, *new_cells: dict) -> Path:
    """A copy of what the site is built from, with ``new_cells`` inserted in lesson 5 after its
    first cell; returns the copy's root."""
    for folder in ("site", "notebooks", "exercises", "docs"):
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "build_site.py", tmp_path / "scripts")
    shutil.copy(ROOT / "README.md", tmp_path)
    lesson = tmp_path / "notebooks" / "05_warm_restarts.ipynb"
    nb = json.loads(lesson.read_text())
    nb["cells"][1:1] = [{"id": f"site-test-{n}", **cell} for n, cell in enumerate(new_cells)]
    lesson.write_text(json.dumps(nb))
    return tmp_path


def build_the_site(root: Path) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "scripts/build_site.py", "--out",
                           str(root / "_site")], cwd=root, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def test_the_build_fails_on_broken_links_naming_notebook_cell_and_line(tmp_path):
    """A full Sphinx build of a copy of the course, with three broken links in lesson 5."""
    root = copy_of_the_course(tmp_path, md(
        id="broken-links", text="See [the next lesson](07_gone.ipynb),\n\n"
                                "[a section](04_cosine_annealing.ipynb#no-such-section)\n\n"
                                "and [the exercise](../exercises/ex99_gone.ipynb)."))
    code_, output = build_the_site(root)
    assert code_ == 1, output
    where = "notebooks/05_warm_restarts.ipynb, cell 2"
    assert f"{where}, line 1: WARNING: 'myst' cross-reference target not found: " \
           "'07_gone.ipynb'" in output
    assert f"{where}, line 3: WARNING: local id not found in doc " \
           "'notebooks/04_cosine_annealing': 'no-such-section'" in output
    assert f"{where}, line 5: WARNING: 'myst' cross-reference target not found: " \
           "'../exercises/ex99_gone.ipynb'" in output
    assert "site: the build failed" in output
    assert len([ln for ln in output.splitlines() if "WARNING" in ln]) == 3, output


# What lesson 10 displays with IPython.display.Markdown: a table with links and formulas.
GOOD_MARKDOWN = (
    "| scheduler | rate at step $t$ |\n|---|---|\n"
    "| `MultiStepLR` | $\\eta_0\\,\\gamma^{\\#\\{i:\\,m_i \\le t\\}}$ "
    "([lesson 4](04_cosine_annealing.ipynb)) |\n"
    "| `StepLR` | $\\eta_0\\,\\gamma^{\\lfloor t/s \\rfloor}$ "
    "([the pitfalls](04_cosine_annealing.ipynb#pitfalls), [the exercises](../exercises/)) |\n"
    "\n$$\\eta_t = \\eta_0\\,\\gamma^t$$\n")


def test_a_broken_link_in_a_markdown_output_fails_the_build_naming_notebook_and_cell(tmp_path):
    """Links in what a cell displays with IPython.display.Markdown are checked like those in a
    Markdown cell; the message names the code cell (the 3rd of lesson 5 here)."""
    broken = GOOD_MARKDOWN.replace("(04_cosine_annealing.ipynb)", "(07_gone.ipynb)")
    root = copy_of_the_course(tmp_path, md("A table:"), code(
        "Markdown(cheatsheet.formula_table())", [markdown_output(broken)], count=1))
    code_, output = build_the_site(root)
    assert code_ == 1, output
    assert "notebooks/05_warm_restarts.ipynb, cell 3, in its output: WARNING: 'myst' " \
           "cross-reference target not found: '07_gone.ipynb'" in output
    assert "site: the build failed" in output
    assert len([ln for ln in output.splitlines() if "WARNING" in ln]) == 1, output


def test_a_markdown_output_renders_its_links_table_and_formulas(tmp_path):
    """The same table with good links builds: its links lead to the pages (a section, a folder's
    README), it is a table, and its formulas are MathJax's, TeX intact (``\\#``, ``\\{``)."""
    root = copy_of_the_course(tmp_path, code(
        "Markdown(cheatsheet.formula_table())", [markdown_output(GOOD_MARKDOWN)], count=1))
    code_, output = build_the_site(root)
    assert code_ == 0, output
    page = (root / "_site" / "notebooks" / "05_warm_restarts.html").read_text()
    [table] = re.findall(r"<table.*?</table>", page, re.S)
    links = re.findall(r'<a class="reference internal" href="([^"]+)"', table)
    assert links == ["04_cosine_annealing.html", "04_cosine_annealing.html#pitfalls",
                     "../exercises/README.html"]
    assert "pitfalls" in re.findall(r'\bid="([^"]+)"',
                                    (root / "_site" / "notebooks" /
                                     "04_cosine_annealing.html").read_text())
    formulas = re.findall(r'<span class="math notranslate nohighlight">(.*?)</span>', table)
    assert formulas == [r"\(t\)", r"\(\eta_0\,\gamma^{\#\{i:\,m_i \le t\}}\)",
                        r"\(\eta_0\,\gamma^{\lfloor t/s \rfloor}\)"]
    assert r'<div class="math notranslate nohighlight">' in page
    assert r"\[\eta_t = \eta_0\,\gamma^t\]" in page
    assert "$" not in re.sub(r"<script.*?</script>", "", table, flags=re.S)


def test_lite_says_what_blocks_it():
    done = subprocess.run([sys.executable, "scripts/build_site.py", "--lite"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "pyemscripten" in done.stderr and "README.md" in done.stderr
