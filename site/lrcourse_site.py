"""What the course's website adds to the notebooks, as a small Sphinx extension.

- a "Run this lesson" box under every lesson's and exercise's title: JupyterLab through
  ``./course lab``, or Binder for the repository (``lrcourse_repository`` in conf.py);
- the lessons' ``> **Common misconception.** ...`` quotes become call-outs;
- under every explorer's stored figure, a note that its sliders come alive when the notebook
  runs (the page shows the PNG the explorer stored, not the widget);
- MathJax copied from the ``sphinx-mathjax-offline`` package into ``_static/mathjax``, so the
  site loads nothing from outside;
- ``index.html`` at the site's root, forwarding to the course's index.

The notebooks themselves are never changed: everything happens on Sphinx's document trees.
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

PLACEHOLDER_MARK = "REPLACE-WITH-OWNER"
MISCONCEPTION = re.compile(r"^\s*common misconceptions?\.?\s*$", re.I)
# A code cell is an explorer when it calls lrcourse.widgets.explore or explore_function.
EXPLORER_SOURCE = re.compile(r"\b(?:explore|explore_function)\s*\(")
RUN_BOX_ID = "run-this-notebook"


def binder_url(repository: str, branch: str, path: str) -> str:
    """The Binder link that opens ``path`` (relative to the repository's root) in JupyterLab."""
    urlpath = quote(f"lab/tree/{path}", safe="/")
    github = re.match(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", repository)
    if github:
        owner, name = github.groups()
        return f"https://mybinder.org/v2/gh/{owner}/{name}/{quote(branch)}?urlpath={urlpath}"
    return (f"https://mybinder.org/v2/git/{quote(repository, safe='')}/{quote(branch)}"
            f"?urlpath={urlpath}")


def _literal(text: str) -> nodes.literal:
    return nodes.literal(text, text)


def _link(text: str, url: str) -> nodes.reference:
    return nodes.reference("", text, refuri=url, internal=False)


def run_box(docname: str, repository: str, branch: str) -> nodes.Element | None:
    """The "Run this lesson" call-out for a notebook page (None for other pages)."""
    path = f"{docname}.ipynb"
    if docname.startswith("exercises/ex"):
        title, what = "Do this exercise", "the exercise"
    elif docname.startswith("notebooks/"):
        title = "Run this course" if docname.endswith("00_index") else "Run this lesson"
        what = "the notebook"
    else:
        return None
    box = nodes.admonition("", classes=["lrcourse-run", "tip"], ids=[RUN_BOX_ID])
    box += nodes.title(title, title)
    local = nodes.paragraph()
    local += nodes.strong("On your machine: ", "On your machine: ")
    local += _literal("./course lab")
    local += nodes.Text(" in a clone of the repository (it sets itself up), then open ")
    local += _literal(path)
    local += nodes.Text(". ")
    local += nodes.strong("In the browser: ", "In the browser: ")
    local += _link("open it on Binder", binder_url(repository, branch, path))
    local += nodes.Text(" (a temporary JupyterLab; it takes a minute or two to start).")
    box += local
    if docname.startswith("exercises/ex"):
        task = nodes.paragraph()
        task += nodes.Text("Replace each ")
        task += _literal("raise NotImplementedError()")
        task += nodes.Text(" with your code and run the check cell under it: it compares your "
                           "function with PyTorch and names the first step that differs.")
        box += task
    else:
        box += nodes.paragraph(
            "", f"This page shows the outputs stored with {what}; there every cell runs, and "
                "the explorers' sliders redraw their curves as you move them.")
    return box


def insert_run_box(doctree: nodes.document, box: nodes.Element) -> None:
    """Put ``box`` right under the page's title."""
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        doctree.insert(0, box)
    else:
        section.insert(1, box)


def misconception_callouts(doctree: nodes.document) -> int:
    """Turn ``> **Common misconception.** text`` quotes into call-outs; return how many."""
    count = 0
    for quote_node in list(doctree.findall(nodes.block_quote)):
        first = quote_node.children[0] if quote_node.children else None
        if not isinstance(first, nodes.paragraph):
            continue
        # myst-parser may start the paragraph with an empty text node
        while first.children and isinstance(first[0], nodes.Text) and not first[0].strip():
            first.remove(first[0])
        lead = first.children[0] if first.children else None
        if not (isinstance(lead, nodes.strong) and MISCONCEPTION.match(lead.astext())):
            continue
        first.remove(lead)
        if first.children and isinstance(first[0], nodes.Text):
            first[0] = nodes.Text(first[0].astext().lstrip())
        callout = nodes.admonition("", classes=["lrcourse-misconception", "warning"])
        callout += nodes.title("Common misconception", "Common misconception")
        callout += quote_node.children
        quote_node.replace_self(callout)
        count += 1
    return count


def explorer_notes(doctree: nodes.document) -> int:
    """Add, under every explorer's stored figure, a note that the sliders need a kernel."""
    count = 0
    for cell in list(doctree.findall(nodes.container)):
        if cell.get("nb_element") != "cell_code":
            continue
        source = "".join(
            block.astext() for child in cell.children
            if isinstance(child, nodes.container) and child.get("nb_element") == "cell_code_source"
            for block in child.findall(nodes.literal_block))
        if not EXPLORER_SOURCE.search(source) or not list(cell.findall(nodes.image)):
            continue
        note = nodes.paragraph(classes=["lrcourse-explorer-note"])
        note += nodes.strong("Explorer. ", "Explorer. ")
        note += nodes.Text("This is the figure stored with the notebook. Its sliders come alive "
                           "when the notebook runs (")
        note += nodes.reference("", "run this notebook", refuri=f"#{RUN_BOX_ID}", internal=True)
        note += nodes.Text("): moving one redraws the curve at once.")
        cell += note
        count += 1
    return count


def folder_links(doctree: nodes.document, env) -> int:
    """A link to a folder (``[exercises/](../exercises/)``, as GitHub and JupyterLab show a
    folder) leads to the folder's README (or index) page when the site has one.

    myst-parser leaves such a link as an unresolved reference; it becomes a link to that
    page before myst resolves references (anything else unresolved still fails the build)."""
    count = 0
    for node in doctree.findall(addnodes.pending_xref):
        target = node.get("reftarget", "")
        if node.get("reftype") != "myst" or node.get("refdomain") == "doc" \
                or not target.split("#")[0].endswith("/"):
            continue
        parts: list[str] = []
        for part in (PurePosixPath(env.docname).parent / target.split("#")[0]).parts:
            if part == "..":  # normalise "notebooks/../exercises"
                if not parts:
                    break
                parts.pop()
            elif part != ".":
                parts.append(part)
        else:
            for page in ("README", "index"):
                docname = "/".join([*parts, page])
                if docname in env.found_docs:
                    node["refdomain"], node["reftarget"] = "doc", docname
                    node["reftargetid"] = None
                    count += 1
                    break
    return count


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    folder_links(doctree, app.env)
    misconception_callouts(doctree)
    explorer_notes(doctree)
    box = run_box(docname, app.config.lrcourse_repository, app.config.lrcourse_branch)
    if box is not None:
        insert_run_box(doctree, box)


def mathjax_dir() -> Path:
    """MathJax 3's files, as the sphinx-mathjax-offline package ships them."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("the sphinx-mathjax-offline package is missing: "
                           "install the site's tools with `./course site`")
    return Path(spec.origin).parent / "static" / "mathjax"


# Of MathJax's files the site needs the CommonHTML component (tex-chtml.js), the extensions and
# fonts it loads on demand, and the menu's accessibility parts; the other combined components
# and the SVG output are left out.
_MATHJAX_SKIP = ("tex-svg", "tex-mml", "mml-", "tex-chtml-full")


def copy_mathjax(outdir: Path) -> None:
    source = mathjax_dir()
    target = outdir / "_static" / "mathjax"

    def ignore(folder: str, names: list[str]) -> list[str]:
        if Path(folder) == source:
            return [n for n in names if n.startswith(_MATHJAX_SKIP)]
        if Path(folder) == source / "output":
            return ["svg"]
        return []

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=ignore)


def redirect_page(target: str, favicon: str | None) -> str:
    url = html.escape(target, quote=True)
    # the icon is declared so that the browser does not ask for /favicon.ico (a 404)
    icon = f"<link rel=\"icon\" href=\"{html.escape(favicon, quote=True)}\">\n" if favicon else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"refresh\" content=\"0; url={url}\">\n"
            f"<link rel=\"canonical\" href=\"{url}\">\n{icon}"
            "<title>lrcourse</title></head>\n"
            f"<body><p><a href=\"{url}\">The course starts here.</a></p></body></html>\n")


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    copy_mathjax(outdir)
    root = app.config.root_doc
    if root != "index":
        favicon = app.config.html_favicon
        icon = f"_static/{Path(favicon).name}" if favicon else None
        (outdir / "index.html").write_text(redirect_page(f"{root}.html", icon))


def on_builder_inited(app: Sphinx) -> None:
    # myst-nb writes the notebooks' figures to <outdir>/../jupyter_execute; with the site in
    # <repo>/_site that would be the repository's root, so keep them beside the doctrees.
    config = getattr(app.env, "mystnb_config", None)
    if config is not None:
        folder = Path(app.doctreedir).parent / "jupyter_execute"
        app.env.mystnb_config = config.copy(output_folder=str(folder))
    if PLACEHOLDER_MARK in app.config.lrcourse_repository:
        logger.info("lrcourse: the Binder links use the placeholder repository %s; set "
                    "LRCOURSE_REPOSITORY (or lrcourse_repository in site/conf.py) to the "
                    "course's public repository", app.config.lrcourse_repository)


def setup(app: Sphinx) -> dict:
    app.add_config_value("lrcourse_repository", "", "env", types=[str])
    app.add_config_value("lrcourse_branch", "main", "env", types=[str])
    app.connect("builder-inited", on_builder_inited, priority=600)  # after myst-nb's own
    app.connect("doctree-read", on_doctree_read)
    app.connect("build-finished", on_build_finished)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
