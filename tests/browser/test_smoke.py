"""Smoke tests: Debian's Chromium opens pages of the embedded stack at phone and desktop widths."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import Page

from harness import Embedded
from tests.browser.conftest import MOBILE, record, screenshot, scroll_width


def test_chromium_reads_the_dev_outbox(desktop_page: Page, stack: Embedded):
    response = desktop_page.goto(stack.url("/dev/outbox"))

    assert response is not None and response.status == 200
    assert isinstance(json.loads(desktop_page.inner_text("body"))["messages"], list)


@pytest.mark.parametrize(("page_fixture", "width"), [("mobile_page", "360"), ("desktop_page", "1280")])
def test_an_invalid_task_link_says_so(request: pytest.FixtureRequest, stack: Embedded, page_fixture: str, width: str):
    page: Page = request.getfixturevalue(page_fixture)
    started = time.monotonic()
    response = page.goto(stack.url("/t/not-a-token"), wait_until="load")
    record(f"page load /t/not-a-token at {width} px", time.monotonic() - started)

    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "This link is not valid"
    assert page.get_by_text("reply to the email that brought you here").is_visible()
    if page_fixture == "mobile_page":
        assert scroll_width(page) <= MOBILE["width"]
    screenshot(page, f"invalid-task-link-{width}")


@pytest.mark.parametrize(("page_fixture", "width"), [("mobile_page", "360"), ("desktop_page", "1280")])
def test_the_home_page_has_a_heading(request: pytest.FixtureRequest, stack: Embedded, page_fixture: str, width: str):
    page: Page = request.getfixturevalue(page_fixture)
    started = time.monotonic()
    response = page.goto(stack.url("/"), wait_until="load")
    record(f"page load / at {width} px", time.monotonic() - started)

    assert response is not None
    if response.status == 404 or "text/html" not in response.headers.get("content-type", ""):
        pytest.skip(f"GET / is not an HTML page yet (status {response.status})")
    assert response.status == 200
    heading = page.locator("h1").first
    assert heading.is_visible() and heading.inner_text().strip()
    if page_fixture == "mobile_page":
        assert scroll_width(page) <= MOBILE["width"]
    screenshot(page, f"home-{width}")
