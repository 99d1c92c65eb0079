"""Real-browser tests: Playwright drives the system Chromium against pytest-django's live server.

The browser is Debian's `chromium` package (`.ci/run` installs it); no browser is ever
downloaded. The live server runs in a thread of this process, so mail sent during a test lands
in `django.core.mail.outbox` and the demo content loaded by a fixture is what the browser sees.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from codes.demo import FIXTURES, SYSTEM_FILES, load_demo

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    # Without these Chromium reaches out to Google's services at start-up, and CI has no
    # outside network: the tests must only ever talk to the live server.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail(
            "The e2e tests need Debian's Chromium: `apt-get install chromium` "
            "(.ci/run installs it)."
        )
    return path


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the tests in this folder, closed when they are done.

    Playwright's sync API keeps an event loop running in this thread, and Django refuses
    database calls while one runs; the fixtures and assertions here make them on purpose. The
    permission lasts only as long as the browser: the rest of the suite keeps the guard (and
    `manage.py check --deploy`, run in a subprocess, never sees the variable).
    """
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_errors() -> list[str]:
    """Console errors and uncaught exceptions seen by `page`; a CSP refusal shows up here."""
    return []


def record_console_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        # For a failed load the text says only "404"; the location names the resource.
        errors.append(f"{message.text} — {message.location.get('url', '')}")


@pytest.fixture
def page(browser: Browser, live_server, browser_errors: list[str]) -> Iterator[Page]:
    """A fresh browser context — a new guest with no cookies — pointed at the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(5_000)
    tab = context.new_page()
    tab.on("console", lambda message: record_console_error(message, browser_errors))
    tab.on("pageerror", lambda error: browser_errors.append(str(error)))
    yield tab
    context.close()


@pytest.fixture
def demo_content(transactional_db) -> Iterator[None]:
    """The demo content from `fixtures/`, as `make run` serves it."""
    missing = [name for name in SYSTEM_FILES if not (FIXTURES / name).exists()]
    if missing:
        pytest.fail(f"Demo content missing from fixtures/: {', '.join(missing)}")
    load_demo()
    # allauth counts its rate limits in the shared cache, a database table that the flush
    # after a live-server test leaves alone: empty it so no test inherits another's counts.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def assert_accessible() -> Callable[[Page], None]:
    """Run axe on a page as it stands; on failure, list each violation and the elements it names."""
    axe = Axe()

    def check(page: Page) -> None:
        results = axe.run(page)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"

    return check
