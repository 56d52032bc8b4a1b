"""Fixtures of the browser tests: one JupyterLab server and one headless Chromium per pytest
worker (with ``--dist loadfile`` all tests of ``test_browser.py`` share a worker, so one of
each), and a fresh page per notebook.  The code itself is in ``jupyter_browser.py``, shared
with ``benchmarks/bench_browser.py``."""

from __future__ import annotations

import pytest
from jupyter_browser import JupyterLab, LabPage, chromium_missing_reason, launch_chromium


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
def lab(chromium):
    """JupyterLab serving copies of notebooks/ from a temporary directory.  Shut down at the
    end of the session whatever happened (a failed start raises ServerError with its log)."""
    server = JupyterLab()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def open_page(chromium, lab):
    """``open_page(notebook)``: a LabPage in a fresh browser context.  Afterwards the context
    is closed and the kernels are shut down (each lesson imports torch: keep memory low)."""
    contexts = []

    def make(notebook: str, *, route_abort: str | None = None) -> LabPage:
        context = chromium.new_context(viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        if route_abort:  # e.g. a frontend extension that fails to load
            page.route(route_abort, lambda route: route.abort())
        return LabPage(page, lab, notebook)

    yield make
    for context in contexts:
        context.close()
    lab.shutdown_kernels()
