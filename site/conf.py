"""Sphinx configuration of the course's website (built by `./course site`).

The source directory is the repository's root, so the site reads the notebooks, README.md and
exercises/README.md where they live, and every relative link between them
(``05_warm_restarts.ipynb``, ``../exercises/ex03_cosine_restarts.ipynb``) resolves to the page
built from that file. This folder holds only what the site adds: this file, the order of the
pages (``_toc.yml``), a small Sphinx extension (``lrcourse_site.py``) and its stylesheet,
script and icon (``static/``).

Nothing is executed: the notebooks' stored outputs are the content (``nb_execution_mode``). Nothing
is fetched: MathJax comes from the ``sphinx-mathjax-offline`` package and is copied into the site;
the theme ships its own fonts and icons.

The one setting to change when the course gets a public repository is ``lrcourse_repository``
below (or the environment variable LRCOURSE_REPOSITORY): the "Run this lesson" boxes build their
Binder links from it.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the site's own extension, lrcourse_site.py

# ---- the one repository setting ---------------------------------------------------------------
# The public Git repository of the course, used for the Binder links ("Run this lesson").
# There is no public remote yet: until there is one this is a placeholder (any URL containing
# REPLACE-WITH-OWNER counts as one), and the build says so.  Override it without editing:
#   LRCOURSE_REPOSITORY=https://github.com/OWNER/NAME LRCOURSE_BRANCH=main ./course site
lrcourse_repository = os.environ.get(
    "LRCOURSE_REPOSITORY", "https://github.com/REPLACE-WITH-OWNER/lrcourse")
lrcourse_branch = os.environ.get("LRCOURSE_BRANCH", "main")

project = "lrcourse"
author = "the lrcourse authors"
copyright = "the lrcourse authors"
html_title = "Learning-rate schedulers in PyTorch"

extensions = [
    "myst_nb",  # notebooks (and Markdown, through myst-parser)
    "sphinx_external_toc",  # the order of the pages: _toc.yml
    "sphinx.ext.githubpages",  # .nojekyll, so _static/ survives a GitHub Pages deploy
    "lrcourse_site",  # run-this boxes, misconception call-outs, explorer notes, offline MathJax
]

external_toc_path = str((HERE / "_toc.yml").relative_to(HERE.parent))
external_toc_exclude_missing = False

# Only the course's own pages are read, wherever else Markdown lies in the checkout.
include_patterns = [
    "README.md",
    "docs/DEVELOPING.md",
    "docs/grading.md",
    "notebooks/*.ipynb",
    "exercises/README.md",
    "exercises/*.ipynb",
]
exclude_patterns = [
    ".*", "_site", "build", "dist", "artifacts", "node_modules", "**/.ipynb_checkpoints",
]

# ---- notebooks: stored outputs only -----------------------------------------------------------
nb_execution_mode = "off"
nb_merge_streams = True
nb_output_stderr = "warn"  # a lesson is stored free of stderr; if one is not, the build says so
# Explorers store a PNG of their figure next to the widget: the page shows the PNG (the widget
# needs a kernel), and no widget JavaScript is loaded from a CDN.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js = {}
# A cell may display Markdown (IPython.display.Markdown, e.g. lesson 10's tables): such an
# output is read as the notebook's own Markdown cells are (myst-nb's default is plain CommonMark,
# which has no tables, no $...$ maths, and leaves a link to a notebook pointing at the .ipynb).
nb_render_markdown_format = "myst"

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = [
    # lessons put their "← previous · index · next →" line before the first "##" section
    "myst.header",
]

# ---- offline maths -----------------------------------------------------------------------------
# MathJax 3 from the sphinx-mathjax-offline package (copied into _static/mathjax by
# lrcourse_site); Sphinx's default would load it from a CDN.
mathjax_path = "mathjax/tex-chtml.js"
# The lessons write names as \text{final\_div}, LaTeX's way; MathJax reads \_ inside \text{} as
# LaTeX does only with its textmacros package (without it the page shows "final\_div"), which
# JupyterLab's MathJax loads and tex-chtml.js does not.  (myst-parser adds processHtmlClass.)
mathjax3_config = {
    "loader": {"load": ["[tex]/textmacros"]},
    "tex": {"packages": {"[+]": ["textmacros"]}},
}

# ---- theme -------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_static_path = [str(HERE / "static")]
html_css_files = ["lrcourse-site.css"]
html_js_files = ["lrcourse-search.js"]  # formulas in search snippets
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
}
html_favicon = str(HERE / "static" / "favicon.svg")
html_context = {"default_mode": "light"}  # the stored figures are drawn on white
html_show_sourcelink = False
html_last_updated_fmt = None
html_copy_source = True  # the download button offers the .ipynb

# Every internal reference must resolve (myst turns relative .ipynb/.md links into references).
nitpicky = True
