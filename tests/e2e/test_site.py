"""The course's website, built by `./course site` and opened in headless Chromium.

One build per pytest worker (a module fixture; with ``--dist loadfile`` this file runs on one
worker), served from a local static server on 127.0.0.1.  The HTML tests read the built pages;
the browser tests open every page and fail on a console error, a failed or non-local request,
an unrendered formula or an image that did not load, then search the site and save
screenshots to artifacts/site/.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "site"
CHROMIUM = Path(os.environ.get("LRCOURSE_CHROMIUM", "/usr/bin/chromium"))
# The same flags as the JupyterLab tests (jupyter_browser.py).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# The Binder links of the site come from this one setting (site/conf.py).
REPOSITORY = "https://github.com/example-org/lrcourse-site-test"

LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted(p.stem for p in (ROOT / "exercises").glob("ex*.ipynb"))
EXPLORER_CALL = re.compile(r"\b(?:explore|explore_function)\s*\(")


# ---------------------------------------------------------------------------------------------
# The build and the server
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """`./course site --out DIR`, as a user runs it (the set-up is already done)."""
    out = tmp_path_factory.mktemp("site") / "_site"
    env = {**os.environ, "LRCOURSE_REPOSITORY": REPOSITORY}
    done = subprocess.run(["./course", "site", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"site: open {out / 'index.html'}" in done.stdout
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(site):
    """The site on a static server at http://127.0.0.1:PORT/ (stopped after the module)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def html_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not p.relative_to(site).parts[0].startswith("_"))


class Page(HTMLParser):
    """The links, resources, ids and classed elements of one built page."""

    def __init__(self, path: Path):
        super().__init__()
        self.links: list[str] = []  # <a href>
        self.resources: list[str] = []  # what the page loads: scripts, styles, images, icons
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict]] = []
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        elif tag in ("script", "img", "iframe", "source") and attrs.get("src"):
            self.resources.append(attrs["src"])
        elif tag == "link" and attrs.get("href") and \
                set(attrs.get("rel", "").split()) & {"stylesheet", "preload", "icon"}:
            self.resources.append(attrs["href"])

    def with_class(self, name: str) -> list[dict]:
        return [a for _, a in self.tags if name in a.get("class", "").split()]


# ---------------------------------------------------------------------------------------------
# The pages as built
# ---------------------------------------------------------------------------------------------

def test_every_notebook_has_a_page_and_the_root_leads_to_the_index(site):
    for name in LESSONS:
        assert (site / "notebooks" / f"{name}.html").is_file(), name
    for name in EXERCISES:
        assert (site / "exercises" / f"{name}.html").is_file(), name
    assert (site / "exercises" / "README.html").is_file()
    assert 'url=notebooks/00_index.html' in (site / "index.html").read_text()


def test_navigation_follows_the_course_order(site):
    page = Page(site / "notebooks" / "00_index.html")
    nav = [urlsplit(a["href"]).path for tag, a in page.tags
           if tag == "a" and "reference" in a.get("class", "").split()
           and "internal" in a.get("class", "").split() and a.get("href", "").endswith(".html")]
    # the left-hand navigation: every lesson after the index, the exercises, then the README
    expected = ([f"{n}.html" for n in LESSONS[1:]] + ["../exercises/README.html"]
                + [f"../exercises/{n}.html" for n in EXERCISES]
                + ["../README.html", "../docs/DEVELOPING.html"])
    positions = [nav.index(href) for href in expected]
    assert positions == sorted(positions), nav


def test_every_lesson_and_exercise_says_how_to_run_it(site):
    for folder, names in (("notebooks", LESSONS), ("exercises", EXERCISES)):
        for name in names:
            path = f"{folder}/{name}.ipynb"
            text = re.sub(r"<[^>]+>", "", (site / folder / f"{name}.html").read_text())
            page = Page(site / folder / f"{name}.html")
            [box] = page.with_class("lrcourse-run")
            assert box["id"] == "run-this-notebook"
            assert "./course lab" in text and path in text, path
            binder = ("https://mybinder.org/v2/gh/example-org/lrcourse-site-test/main"
                      f"?urlpath=lab/tree/{path}")
            assert binder in page.links, path


def test_misconceptions_are_callouts(site):
    total = 0
    for name in LESSONS:
        nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
        stated = sum("".join(c["source"]).count("> **Common misconception")
                     for c in nb["cells"] if c["cell_type"] == "markdown")
        html = (site / "notebooks" / f"{name}.html").read_text()
        callouts = Page(site / "notebooks" / f"{name}.html").with_class("lrcourse-misconception")
        assert len(callouts) == stated, name
        assert not re.search(r"<blockquote>\s*<div><p><strong>Common misconception", html), name
        total += stated
    assert total >= 5  # the lessons state their misconceptions this way


def test_explorers_show_their_stored_figure_and_a_note(site):
    total = 0
    for name in LESSONS:
        nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
        explorers = sum(1 for c in nb["cells"] if c["cell_type"] == "code"
                        and EXPLORER_CALL.search("".join(c["source"])))
        html = (site / "notebooks" / f"{name}.html").read_text()
        # the note follows the stored figure, in the same cell
        notes = re.findall(r'<img [^>]*src="([^"]+)"[^>]*/>\s*(?:</div>\s*)+'
                           r'<p class="lrcourse-explorer-note">', html)
        assert len(notes) == explorers, name
        assert all((site / "notebooks" / src).is_file() for src in notes), name
        total += explorers
    assert total >= 10


def test_links_and_resources_resolve_inside_the_site(site):
    broken, external = [], []
    pages = {rel: Page(site / rel) for rel in html_pages(site)}
    for rel, page in pages.items():
        base = f"http://site/{rel}"
        for url in page.resources:
            if urlsplit(url).scheme or url.startswith("//"):
                external.append(f"{rel}: {url}")
        for url in page.links + page.resources:
            target = urlsplit(urljoin(base, url))
            if target.netloc != "site":
                continue  # Binder, the articles the lessons cite
            path = unquote(target.path).lstrip("/") or "index.html"
            if not (site / path).is_file():
                broken.append(f"{rel}: {url}")
            elif target.fragment and path in pages and target.fragment not in pages[path].ids:
                broken.append(f"{rel}: {url} (no such anchor)")
    assert broken == []
    assert external == []
    # the links the notebooks write as relative .ipynb paths lead to pages
    lesson5 = pages["notebooks/05_warm_restarts.html"].links
    assert "../exercises/ex03_cosine_restarts.html" in lesson5
    assert "04_cosine_annealing.html" in lesson5
    assert "../exercises/README.html" in pages["notebooks/10_cheat_sheet.html"].links  # a folder
    # ... and so do those in the Markdown a lesson displays (IPython.display.Markdown)
    shown = 0
    for name in LESSONS:
        nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                text = "".join(out.get("data", {}).get("text/markdown", ""))
                for target, anchor in re.findall(r"\]\(([^()\s#]+)\.ipynb(#[^()\s]*)?\)", text):
                    assert f"{target}.html{anchor}" in pages[f"notebooks/{name}.html"].links, \
                        (name, target)
                    shown += 1
    assert shown >= 1  # lesson 10's tables link to lessons


# ---------------------------------------------------------------------------------------------
# In the browser
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is missing: pip install -e '.[test]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, server):
    """A fresh page that records what goes wrong: ``page.problems`` (console errors, page
    errors, failed requests, HTTP errors, and any request that leaves the local server)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []

    def request(req):
        if not req.url.startswith((server, "data:", "blob:", "about:")):
            problems.append(f"request outside the local server: {req.url}")

    page.on("request", request)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    def failed(req):
        # Chromium asks for a page's icon after the page has loaded, and cancels the request
        # when the test moves on to the next page: not a fault of the site (the icon's file
        # is checked by the link test, and an icon that is missing answers HTTP 404, below).
        if req.resource_type == "other" and req.url.endswith("/favicon.svg") \
                and "ERR_ABORTED" in (req.failure or ""):
            return
        problems.append(f"failed: {req.url} ({req.failure})")

    page.on("requestfailed", failed)
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.problems = problems
    yield page
    context.close()


# Formulas: MathJax replaces every .math element's TeX by an <mjx-container>.  Then no TeX
# delimiter may be left in the text outside code, no formula may be a TeX error, and no text in
# a formula may show a backslash (\text{final\_div} read without MathJax's textmacros shows
# "final\_div"; the hidden MathML copy MathJax adds for screen readers holds the text shown).
RENDERED = """() => {
  const unrendered = [...document.querySelectorAll('.math')]
    .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60));
  const errors = [...document.querySelectorAll('mjx-merror')]
    .map(el => el.getAttribute('data-mjx-error') || el.textContent);
  const escaped = [...document.querySelectorAll('mjx-assistive-mml mtext')]
    .map(el => el.textContent).filter(text => text.includes('\\\\'));
  const body = document.querySelector('main') || document.body;
  const copy = body.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight, .output')
    .forEach(el => el.remove());
  const text = copy.textContent;
  const raw = ['$$', '\\\\(', '\\\\[', '\\\\begin{', '$\\\\'].filter(d => text.includes(d));
  return {unrendered, errors, escaped, raw, math: document.querySelectorAll('.math').length};
}"""

# Images: loaded eagerly (the theme may mark them lazy), then each must have a size.
LOAD_IMAGES = "() => document.querySelectorAll('img').forEach(img => { img.loading = 'eager'; })"
IMAGES_DONE = "() => [...document.images].every(img => img.complete)"
IMAGES = """() => [...document.images].map(img => ({src: img.getAttribute('src'),
                                             width: img.naturalWidth}))"""


def open_and_check(page, url: str) -> list[str]:
    """Open ``url``; return what is wrong with it (empty when all is well)."""
    page.problems.clear()
    page.goto(url, wait_until="load")
    if url.endswith("/index.html"):  # the site's root forwards to the course's index
        page.wait_for_url("**/notebooks/00_index.html")
        page.wait_for_load_state("load")
    problems = []
    if page.evaluate("() => document.querySelectorAll('.math').length") > 0:
        page.wait_for_function("() => window.MathJax && MathJax.startup && "
                               "MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise.then(() => true)")
    rendered = page.evaluate(RENDERED)
    if rendered["unrendered"]:
        problems.append(f"formulas not rendered: {rendered['unrendered'][:3]}")
    if rendered["raw"]:
        problems.append(f"raw TeX in the text: {rendered['raw']}")
    if rendered["errors"]:
        problems.append(f"TeX errors in formulas: {rendered['errors'][:3]}")
    if rendered["escaped"]:
        problems.append(f"a backslash shown in a formula's text: {rendered['escaped'][:3]}")
    page.evaluate(LOAD_IMAGES)
    page.wait_for_function(IMAGES_DONE)
    for image in page.evaluate(IMAGES):
        if image["width"] == 0:
            problems.append(f"image did not load: {image['src']}")
    page.wait_for_load_state("networkidle")
    return problems + list(page.problems)


def test_every_page_loads_cleanly_and_offline(site, server, page):
    failures, formulas = {}, 0
    for rel in html_pages(site):
        problems = open_and_check(page, server + rel)
        if problems:
            failures[rel] = problems
        formulas += page.evaluate("() => document.querySelectorAll('mjx-container').length")
    assert failures == {}
    assert formulas > 100  # the lessons' formulas were rendered (not merely absent)


def test_search_finds_the_warm_restarts_lesson(server, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(server + "search.html?q=CosineAnnealingWarmRestarts")
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for()
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any("notebooks/05_warm_restarts.html" in h for h in hrefs), hrefs
    page.wait_for_load_state("networkidle")
    assert page.evaluate(RENDERED)["raw"] == []  # no TeX in the snippets
    assert "[formula]" in page.locator("#search-results").inner_text()
    page.screenshot(path=str(ARTIFACTS / "search.png"))
    assert page.problems == []


def test_links_lead_from_a_lesson_to_its_exercise_and_back(server, page):
    page.goto(server + "notebooks/05_warm_restarts.html")
    assert page.locator(".lrcourse-run").is_visible()
    page.get_by_role("link", name="exercises/ex03_cosine_restarts.ipynb").click()
    page.wait_for_url("**/exercises/ex03_cosine_restarts.html")
    assert page.locator(".lrcourse-run .admonition-title").inner_text() == "Do this exercise"
    page.get_by_role("link", name="05 · Warm restarts").click()
    page.wait_for_url("**/notebooks/05_warm_restarts.html")
    assert page.problems == []


def test_screenshots(server, page):
    """The home page, a lesson (formulas, an explorer, a misconception call-out), the cheat
    sheet (tables with formulas and links that the lesson displays as Markdown outputs) and the
    exercises' index, for a person to look at: artifacts/site/*.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for rel, name, full in (("index.html", "index.png", False),
                            ("notebooks/04_cosine_annealing.html", "04_cosine_annealing.png",
                             True),
                            ("notebooks/10_cheat_sheet.html", "10_cheat_sheet.png", True),
                            ("exercises/README.html", "exercises.png", False)):
        assert open_and_check(page, server + rel) == []
        page.screenshot(path=str(ARTIFACTS / name), full_page=full)
        assert (ARTIFACTS / name).stat().st_size > 10_000
