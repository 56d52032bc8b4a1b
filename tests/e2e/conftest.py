"""Fixtures of the browser tests: one JupyterLab server started by ``./course lab`` on this
repository and one headless Chromium per pytest worker (with ``--dist loadfile`` all tests of
``test_browser.py`` share a worker, so one of each), and a fresh page per notebook.  The code
itself is in ``jupyter_browser.py``, shared with ``benchmarks/bench_browser.py``."""

from __future__ import annotations

import pytest
from jupyter_browser import (
    REPO,
    JupyterLab,
    LabPage,
    chromium_missing_reason,
    digest_changes,
    files_digest,
    launch_chromium,
)


@pytest.fixture(scope="session")
def chromium():
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def repository_files():
    """The digest of the repository's files before any browser test ran."""
    return files_digest(REPO)


@pytest.fixture(scope="session")
def lab(chromium, repository_files):
    """``./course lab`` serving this repository.  Shut down at the end of the session whatever
    happened (a failed start raises ServerError with its log); then no file of the repository
    may have changed, since the tests never save."""
    server = JupyterLab()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
    changes = digest_changes(repository_files, files_digest(REPO))
    assert not changes, "the browser tests changed the repository's files:\n" + "\n".join(changes)


@pytest.fixture
def new_page(chromium):
    """``new_page()``: a Playwright page in a fresh browser context, closed afterwards."""
    contexts = []

    def make(route_abort: str | None = None):
        context = chromium.new_context(viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        if route_abort:  # e.g. a frontend extension that fails to load
            page.route(route_abort, lambda route: route.abort())
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def open_page(new_page, lab):
    """``open_page(path)``: a LabPage of the notebook at ``path`` (relative to the repository)
    in a fresh browser context.  Afterwards the context is closed and the kernels are shut
    down (each lesson imports torch: keep memory low)."""

    def make(notebook: str, *, route_abort: str | None = None) -> LabPage:
        return LabPage(new_page(route_abort), lab, notebook)

    yield make
    lab.shutdown_kernels()
