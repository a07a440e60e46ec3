"""Browser tests: the embedded stack (`python -m chalicelib.local`) on free ports, seen through headless Chromium.

The stack is the harness's (`harness.Embedded`), which also drives it: sign-ins, issues, tasks, the outbox.
Chromium is Debian's (/usr/bin/chromium), driven by Playwright for Python; nothing here downloads a browser.
Without /usr/bin/chromium the tests are skipped, except under CI (the CI variable is set), where they fail.
Screenshots go to test-artifacts/ at the repository root. Timings are printed (see them with -rP).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from harness import ROOT, Embedded

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

_timings: dict[str, float] = {}
_browser_test_wallclock: list[float] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid.startswith("tests/browser/"):
        _browser_test_wallclock.extend((report.start, report.stop))


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    if not _browser_test_wallclock:
        return
    terminalreporter.section("browser timings")
    for name, seconds in _timings.items():
        terminalreporter.write_line(f"{name}: {seconds:.2f} s")
    total = max(_browser_test_wallclock) - min(_browser_test_wallclock)
    terminalreporter.write_line(f"browser suite (setup to last test): {total:.2f} s")


def record(name: str, seconds: float) -> None:
    """Keep a timing for the summary and print it into the current test's captured output."""
    _timings[name] = seconds
    print(f"{name}: {seconds:.2f} s")


@pytest.fixture(scope="session")
def stack() -> Iterator[Embedded]:
    embedded = Embedded()
    try:
        with embedded:
            record("embedded stack start", embedded.started_in)
            yield embedded
        assert embedded.exit_code == 0, embedded.log_text()[-3000:]
        log = embedded.log_text()
        assert "Traceback" not in log, log[log.index("Traceback") - 2000 : log.index("Traceback") + 3000]
    finally:
        embedded.cleanup()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; under CI the browser tests must run", pytrace=False)
        pytest.skip(message)
    started = time.monotonic()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        record("chromium launch", time.monotonic() - started)
        try:
            yield launched
        finally:
            launched.close()


def fresh_page(browser: Browser, viewport: dict[str, int], mobile: bool) -> Iterator[Page]:
    """A page in a browser context of its own (its own cookies), closed after use."""
    context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile, device_scale_factor=1)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def mobile_page(browser: Browser, stack: Embedded) -> Iterator[Page]:
    """A 360x740 phone-sized page (touch, mobile viewport meta honoured)."""
    yield from fresh_page(browser, MOBILE, mobile=True)


@pytest.fixture
def desktop_page(browser: Browser, stack: Embedded) -> Iterator[Page]:
    """A 1280x900 desktop page."""
    yield from fresh_page(browser, DESKTOP, mobile=False)


def screenshot(page: Page, name: str) -> Path:
    """Write a full-page PNG to test-artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path.relative_to(ROOT)}")
    return path


def scroll_width(page: Page) -> int:
    """The document's full width in CSS pixels: wider than the viewport means the page scrolls sideways."""
    return page.evaluate("document.documentElement.scrollWidth")
