"""A customer's "My issues" in a real browser: from the front page, a link by email to the list of
their two issues, each opening its status page, and the link refused when used again."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from harness import Embedded
from tests.browser.conftest import screenshot, scroll_width

EMAIL = "mia.browser@example.com"


def my_issues_link(stack: Embedded, email: str) -> str:
    for message in stack.outbox(email):
        if str(message["Subject"]) == "Your issues with us":
            return re.search(r"(http\S+/my-issues/\S+)", message.get_body(("plain",)).get_content()).group(1)
    return ""


def test_a_customer_lists_their_two_issues_with_a_link_that_works_once(stack: Embedded, mobile_page: Page):
    references = []
    for subject in ("Gift card", "Opening hours"):
        body = {
            "type": "general-enquiry",
            "customer": {"email": EMAIL, "name": "Mia Browser"},
            "fields": {"subject": subject, "message": f"A question about {subject.lower()}."},
        }
        references.append(stack.json_of(stack.post("/issues", body))["reference"])

    page = mobile_page
    page.goto(stack.url("/"))
    page.get_by_role("link", name="See all your issues").click()
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"

    link = stack.wait_for(lambda: my_issues_link(stack, EMAIL), 30, "the email with the link")
    page.goto(link)
    page.get_by_role("button", name="Show my issues").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your issues"
    for reference in references:
        assert page.get_by_role("link", name=reference).is_visible()
    screenshot(page, "my-issues-360")
    assert scroll_width(page) <= 360

    page.get_by_role("link", name=references[0]).click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Your issue {references[0]}"

    again = page.goto(link)
    assert again is not None and again.status == 410
    assert page.get_by_role("heading", level=1).inner_text() == "This link was already used"
    assert page.get_by_role("button", name="Email me a link").is_visible(), "it offers a new link"
