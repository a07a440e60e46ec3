"""A German customer in a real browser: the form, the confirmation and the status page in German, and
the acknowledgement's time in the zone the browser told the form (Intl, filled in by /assets/zone.js)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from harness import Embedded
from tests.browser.conftest import MOBILE, screenshot, scroll_width


@pytest.fixture
def german_page(browser: Browser, stack: Embedded) -> Iterator[Page]:
    """A phone-sized page of a browser set to German, in Berlin."""
    context = browser.new_context(
        viewport=MOBILE, is_mobile=True, has_touch=True, locale="de-DE", timezone_id="Europe/Berlin"
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_german_customer_files_a_report_and_reads_its_status_in_german(stack: Embedded, german_page: Page):
    email = "greta.browser@example.com"
    page = german_page
    page.goto(stack.url("/"))
    assert page.get_attribute("html", "lang") == "de"
    assert page.get_by_role("heading", level=1).inner_text() == "Wie können wir Ihnen helfen?"
    page.click("a[href='/report/rude-staff']")
    # The form's script fills the zone once the page has loaded: wait for it, as a customer's typing would.
    expect(page.locator("#time-zone")).to_have_value("Europe/Berlin", timeout=10_000)

    page.check("input[name=store][value=leeds-briggate]")
    page.fill("#incident_date", date.today().isoformat())
    page.fill("#customer-email", email)
    page.fill("#customer-name", "Greta Browser")
    page.get_by_role("button", name="Meldung senden").click()
    assert "Bei Ihrer Meldung gibt es ein Problem" in page.locator(".error-summary").inner_text()
    page.fill("#what_happened", "Die Kassiererin hat mich ausgelacht.")
    page.get_by_role("button", name="Meldung senden").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ihre Meldung ist bei uns eingegangen"
    reference = re.search(r"CF-[0-9A-Z]{5}", page.locator(".reference").inner_text()).group(0)
    screenshot(page, "confirmation-de-360")

    page.get_by_role("link", name="Stand Ihrer Meldung ansehen").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Ihr Anliegen {reference}"
    assert "Bisheriger Verlauf" in page.content() and "Schreiben Sie uns" in page.content()
    assert re.search(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} CES?T", page.content()), "times in Berlin time, named"
    assert scroll_width(page) <= 360
    screenshot(page, "status-de-360")

    def acknowledgement() -> str:
        found = [m for m in stack.outbox(email) if str(m["Subject"]).startswith("Wir haben Ihre Meldung")]
        return found[0].get_body(("plain",)).get_content() if found else ""

    body = stack.wait_for(acknowledgement, 30, "the German acknowledgement")
    assert re.search(r"Eingegangen: \d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} CES?T", body), body

    # The switcher is plain links: French from now on, for the page and (remembered) the emails.
    page.get_by_role("link", name="Français").click()
    assert page.get_attribute("html", "lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == f"Votre demande {reference}"
