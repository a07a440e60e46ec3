"""The agents' workspace in Debian's headless Chromium, on the embedded stack: sign-in and a task
email's link, sam's and hana's tasks answered from their queues (with a mistake on the way),
harry reassigning his team's task, alice claiming a triage task and changing its type, a note the
customer never sees, lee kept out, the 360 px layout, and axe-core on every workspace page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from chalicelib.local.provision import DEMO_PASSWORD
from harness import Embedded
from tests.browser.conftest import DESKTOP, MOBILE, fresh_page, screenshot, scroll_width

RUDE_STAFF = {
    "store": "leeds-briggate",
    "incident_date": "2026-11-20",
    "what_happened": "The cashier shouted at me when I asked for a receipt.",
}
#: What axe-core may not find on any page.
BLOCKING = ("serious", "critical")
#: WCAG 2.5.5's target size, in CSS pixels.
TOUCH = 44


@contextmanager
def agent_page(browser: Browser, viewport: dict[str, int] = MOBILE) -> Iterator[Page]:
    """A browser of its own: its own cookies, at phone or desktop size."""
    yield from fresh_page(browser, viewport, mobile=viewport == MOBILE)


def sign_in(page: Page, username: str) -> None:
    """Fill in the sign-in form the browser was sent to, and send it."""
    assert "/desk/sign-in" in page.url, page.url
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@contextmanager
def open_as(browser: Browser, stack: Embedded, username: str, path: str = "/desk", viewport=MOBILE) -> Iterator[Page]:
    """A page signed in as `username`, showing `path` (the way there goes through the sign-in)."""
    with agent_page(browser, viewport) as page:
        page.goto(stack.url(path))
        sign_in(page, username)
        yield page


def file_report(stack: Embedded, email: str, what: str = RUDE_STAFF["what_happened"]) -> dict:
    opened = stack.open_issue("rude-staff", {**RUDE_STAFF, "what_happened": what}, email)
    assert opened.status_code == 201, opened.text
    return opened.json()


def task_email_link(stack: Embedded, to: str, reference: str) -> str:
    """The workspace link of the newest task email to `to` about the issue."""

    def link() -> str:
        for message in reversed(stack.outbox(to)):
            body = message.get_body(("plain",)).get_content()
            if reference in str(message["Subject"]) and (found := re.search(r"(http\S+/desk/tasks/\S+)", body)):
                return found.group(1)
        return ""

    return stack.wait_for(link, 30, f"a task email to {to} about {reference}")


def blocking_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


def small_targets(page: Page) -> list[str]:
    """Buttons, fields, summaries and navigation links shorter than a finger (inline text links aside)."""
    return page.evaluate(
        """(least) => [...document.querySelectorAll(
              'button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, summary,'
              + ' nav a, .choices label, .queue-ref a, .crumbs a')]
            .filter(e => e.offsetParent !== null)
            .filter(e => e.getBoundingClientRect().height < least)
            .map(e => e.outerHTML.slice(0, 80) + ' ' + e.getBoundingClientRect().height)""",
        TOUCH,
    )


def read_mail(page: Page, stack: Embedded, subject: str) -> None:
    """Open the local outbox's newest email whose subject has `subject`, as the README says to."""
    page.goto(stack.url("/dev/mail"))
    stack.wait_for(
        lambda: (page.reload() or True) and page.get_by_role("link", name=re.compile(re.escape(subject))).count(),
        30,
        f"an email about {subject}",
    )
    page.get_by_role("link", name=re.compile(re.escape(subject))).first.click()


def test_the_readme_walkthrough_entirely_in_the_browser(stack: Embedded, browser: Browser):
    """The README's walkthrough: a customer's report, sam from his task email, hana from hers, the
    outcome email in the outbox and the resolved issue on the status page; no curl."""
    with agent_page(browser) as page:
        page.goto(stack.url("/report/rude-staff"))
        page.check("input[name=store][value=leeds-briggate]")
        page.fill("#incident_date", "2026-11-20")
        page.fill("#what_happened", "The cashier shouted at me when I asked for a receipt.")
        page.fill("#customer-email", "jo.browser@example.com")
        page.get_by_role("button", name="Send report").click()
        reference = re.search(r"CF-[0-9A-Z]{5}", page.locator(".reference").inner_text()).group(0)
        status_page = page.get_by_role("link", name=re.compile("where your report stands")).get_attribute("href")

        read_mail(page, stack, f"New task {reference}")
        page.locator('a[href*="/desk/tasks/"]').first.click()
        assert "/desk/sign-in?next=/desk/tasks/" in page.url
        sign_in(page, "sam")
        page.wait_for_url(f"**/desk/issues/{reference}#task-*")
        page.fill("textarea[name=t-manager_opinion]", "The cashier was rude; I have spoken to them.")
        page.get_by_role("button", name="Send answer").click()
        assert "Your answer was recorded" in page.get_by_role("status").inner_text()
        page.get_by_role("button", name="Sign out").click()

        read_mail(page, stack, f"New task {reference}: HR decision")
        page.locator('a[href*="/desk/tasks/"]').first.click()
        sign_in(page, "hana")
        page.wait_for_url(f"**/desk/issues/{reference}#task-*")
        page.get_by_label("Formal apology").check()
        page.fill("textarea[name=t-notes]", "The employee will apologise in writing.")
        page.get_by_role("button", name="Send answer").click()
        assert "Your answer was recorded" in page.get_by_role("status").inner_text()

        read_mail(page, stack, "our decision")
        assert "apologise in writing" in page.locator(".mail-body").inner_text()
        page.goto(status_page)
        stack.wait_for(
            lambda: (page.reload() or True) and "Resolved" in page.locator(".status").inner_text(), 30, "resolved"
        )


def test_sam_then_hana_answer_their_tasks_from_their_queues(stack: Embedded, browser: Browser):
    issue = file_report(stack, "desk-journey@example.com")
    reference = issue["reference"]
    stack.wait_for_task("sam", issue["id"], timeout=30)
    with open_as(browser, stack, "sam", "/desk?scope=mine") as page:
        row = page.locator(".queue-item", has_text=reference)
        assert row.locator(".countdown").inner_text().startswith(("Due in", "Due soon"))
        assert scroll_width(page) <= MOBILE["width"]
        screenshot(page, "desk-queue-360")
        row.get_by_role("link", name=reference).click()
        page.wait_for_url(f"**/desk/issues/{reference}*")
        assert "The cashier shouted at me" in page.content()
        assert scroll_width(page) <= MOBILE["width"]
        assert small_targets(page) == []

        page.get_by_role("button", name="Send answer").click()
        summary = page.locator(".error-summary")
        assert summary.is_visible() and "required" in summary.inner_text()
        field = page.locator("textarea[name=t-manager_opinion]")
        assert field.get_attribute("aria-invalid") == "true"
        described = field.get_attribute("aria-describedby").split()[0]
        assert "required" in page.locator(f"#{described}").inner_text()
        screenshot(page, "desk-task-error-360")

        field.fill("The cashier was rude; I have spoken to them.")
        page.get_by_role("button", name="Send answer").click()
        assert page.get_by_role("status").inner_text() == "Your answer was recorded; the process moves on."

    stack.wait_for_task("hana", issue["id"], "hr_decision", timeout=30)
    with open_as(browser, stack, "hana", "/desk") as page:
        page.locator(".queue-item", has_text=reference).get_by_role("link", name=reference).click()
        page.wait_for_url(f"**/desk/issues/{reference}*")
        assert "The cashier was rude; I have spoken to them." in page.content()  # the earlier answer
        page.get_by_label("Formal apology").check()
        page.fill("textarea[name=t-notes]", "The employee will apologise in writing.")
        desktop = page.context.browser.new_context(viewport=DESKTOP)
        wide = desktop.new_page()
        wide.context.add_cookies(page.context.cookies())
        wide.goto(page.url)
        screenshot(wide, "desk-issue-1280")
        desktop.close()
        page.get_by_role("button", name="Send answer").click()
        assert "Your answer was recorded" in page.get_by_role("status").inner_text()
    stack.wait_for(lambda: stack.issue(issue["id"])["status"] == "resolved", 30, "the issue resolved")
    outcome = [m for m in stack.outbox("desk-journey@example.com") if "decision" in str(m["Subject"])]
    assert outcome and "apologise in writing" in outcome[-1].get_body(("plain",)).get_content()


def test_harry_reassigns_his_teams_task_to_hana(stack: Embedded, browser: Browser):
    issue = file_report(stack, "desk-reassign@example.com")
    stack.complete("sam", stack.wait_for_task("sam", issue["id"], timeout=30), {"manager_opinion": "Rude."})
    stack.wait_for_task("hana", issue["id"], "hr_decision", timeout=30)
    with open_as(browser, stack, "harry", "/desk?scope=team", DESKTOP) as page:
        page.locator(".queue-item", has_text=issue["reference"]).get_by_role("link", name=issue["reference"]).click()
        page.locator("summary", has_text="Reassign").click()
        page.get_by_label("A person (username)").check()
        page.get_by_label("Username, role or team").fill("hana")
        page.get_by_label("Reason").fill("Hana knows the Leeds team")
        page.get_by_role("button", name="Reassign").click()
        assert "handed over" in page.get_by_role("status").inner_text()
        assert "Hana knows the Leeds team" in page.locator(".desk-timeline").inner_text()
    with open_as(browser, stack, "hana", "/desk?scope=mine") as page:
        assert page.locator(".queue-item", has_text=issue["reference"]).count() == 1


def test_alice_claims_a_triage_task_and_changes_its_type(stack: Embedded, browser: Browser):
    triage = stack.post(
        "/issues",
        {"customer": {"email": "desk-triage@example.com", "name": "Kim"}, "text": "Hello, can somebody call me back?"},
    ).json()
    stack.wait_for_task("alice", triage["id"], timeout=30)
    with open_as(browser, stack, "alice", "/desk?scope=available") as page:
        row = page.locator(".queue-item", has_text=triage["reference"])
        row.get_by_role("button", name=re.compile("Claim")).click()
        assert page.get_by_role("status").inner_text() == "The task is yours now."
        page.get_by_label("Issue type", exact=True).select_option("general-enquiry")
        page.get_by_role("button", name="Confirm or change type").click()
        assert "moved to its new type" in page.get_by_role("status").inner_text()
        assert "General enquiry" in page.locator("h1").inner_text()


def test_a_note_never_reaches_the_customers_status_page(stack: Embedded, browser: Browser):
    email = "desk-note@example.com"
    issue = file_report(stack, email)
    stack.wait_for_task("sam", issue["id"], timeout=30)
    with open_as(browser, stack, "sam", f"/desk/issues/{issue['reference']}") as page:
        page.get_by_text("Add an internal note").click()
        page.get_by_label("Note for the team").fill("CCTV from the till requested, @harry.")
        page.get_by_role("button", name="Add note").click()
        note = page.locator(".entry-internal", has_text="CCTV from the till")
        assert note.is_visible() and "Team only" in note.inner_text()
    status_link = stack.wait_for(
        lambda: next(
            (
                found.group(0)
                for m in stack.outbox(email)
                if (found := re.search(r"http\S+/s/\S+", str(m.get_body(("plain",)).get_content())))
            ),
            "",
        ),
        30,
        "the status link",
    )
    with agent_page(browser) as page:
        page.goto(status_link)
        assert "The cashier shouted" in page.content() and "CCTV" not in page.content()


def test_lee_cannot_open_a_rude_staff_issue(stack: Embedded, browser: Browser):
    issue = file_report(stack, "desk-lee@example.com")
    with open_as(browser, stack, "lee", f"/desk/issues/{issue['reference']}") as page:
        assert page.locator("h1").inner_text() == "Not found"
        assert "The cashier" not in page.content()


def tab_to(page: Page, selector: str, presses: int = 80) -> None:
    """Press Tab until the element `selector` names has the focus (it must be reachable so)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_sam_answers_his_task_with_the_keyboard_alone(stack: Embedded, browser: Browser):
    issue = file_report(stack, "desk-keyboard@example.com")
    stack.wait_for_task("sam", issue["id"], timeout=30)
    with open_as(browser, stack, "sam", "/desk?scope=mine", DESKTOP) as page:
        tab_to(page, f"a[href^='/desk/issues/{issue['reference']}']")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/desk/issues/{issue['reference']}*")
        tab_to(page, "textarea[name=t-manager_opinion]")
        page.keyboard.type("Spoken to the cashier.")
        tab_to(page, "section.task button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        assert "Your answer was recorded" in page.get_by_role("status").inner_text()
        tab_to(page, "section[aria-labelledby=write-title] summary")  # the reply form's disclosure
        page.keyboard.press("Enter")
        tab_to(page, "#reply-body")


def test_axe_finds_nothing_serious_on_any_workspace_page(stack: Embedded, browser: Browser):
    issue = file_report(stack, "desk-axe@example.com")
    stack.wait_for_task("sam", issue["id"], timeout=30)
    # The earlier tests' answers, rolled up: the drawn process is coloured by its figures.
    assert stack.post("/admin/ops/hourly", {}, stack.token("ada")).status_code == 200
    pages = {
        "sam": [
            "/desk",
            f"/desk/issues/{issue['reference']}",
            "/desk/search?q=receipt",
            "/desk/issues/CF-22222",
            "/desk/account",
        ],
        "ada": ["/desk/admin", "/desk/admin/types/rude-staff", "/desk/admin/people", "/desk/admin/quarantine"],
    }
    found = {}
    with agent_page(browser) as page:
        page.goto(stack.url("/desk/sign-in"))
        found["/desk/sign-in"] = blocking_violations(page)
    for username, paths in pages.items():
        for viewport in (MOBILE, DESKTOP):
            with open_as(browser, stack, username, paths[0], viewport) as page:
                for path in paths:
                    page.goto(stack.url(path))
                    found[f"{path} at {viewport['width']}"] = blocking_violations(page)
                    if viewport == MOBILE:
                        assert scroll_width(page) <= MOBILE["width"], path
                    if path == "/desk/admin/types/rude-staff" and viewport == DESKTOP:
                        screenshot(page, "desk-process-1280")
    assert {page: problems for page, problems in found.items() if problems} == {}
