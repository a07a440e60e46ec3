"""The admins' pages of the desk (`/desk/admin`) on moto, as a browser without JavaScript sees
them: the types and each process drawn, roles and teams, quarantined mail; 403 for others."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from chalicelib.bootstrap import services
from tests.integration.conftest import FAST_TYPE
from tests.integration.test_desk_pages import Browser, text
from tests.integration.test_ops_pages import resolve_an_enquiry

ADMIN_PAGES = ("/desk/admin", "/desk/admin/types/rude-staff", "/desk/admin/people", "/desk/admin/quarantine")


@pytest.fixture
def ada(stack) -> Browser:
    browser = Browser(stack)
    assert browser.sign_in("ada").status_code == 303
    return browser


def shown(browser: Browser, path: str) -> str:
    response = browser.get(path)
    page = text(response)
    assert response.status_code == 200, page
    return page


def test_ada_sees_every_issue_type_linked_to_its_page(ada):
    page = shown(ada, "/desk/admin")
    for type_id in ("rude-staff", "service-outage", "general-enquiry"):
        assert f'href="/desk/admin/types/{type_id}"' in page
    assert 'href="/desk/admin/people"' in page and 'href="/desk/admin/quarantine"' in page
    assert 'href="/desk/admin" aria-current="page">Admin</a>' in page


def test_a_type_page_draws_its_process_and_lists_every_step_and_field(ada):
    page = shown(ada, "/desk/admin/types/rude-staff")
    drawing = re.search(
        r'<div class="diagram-scroll" role="region" aria-label="[^"]+" tabindex="0">\s*(<svg .*?</svg>)', page, re.S
    )
    assert drawing and 'role="img"' in drawing.group(1).split(">", 1)[0]
    outline = re.search(r'<ol class="process-outline">.*?</ol>\s*<h2', page, re.S)
    assert outline
    description = re.search(r"<desc [^>]*>.*?</desc>", drawing.group(1), re.S)
    rude_staff = services().issue_types.current("rude-staff").issue_type
    for step in rude_staff.all_steps():
        name = str(escape(step.name))
        assert f"<strong>{name}</strong>" in outline.group(0), step.name
        assert f'data-step="{step.id}"' in drawing.group(1) and name in description.group(0), step.name
    for field in rude_staff.fields:
        assert f'<th scope="row">{escape(field.label)} ' in page, field.label
    assert "<script" not in page and ' style="' not in page and "<style" not in page


def test_parallel_branches_are_drawn_side_by_side_and_listed_as_branches(ada):
    page = shown(ada, "/desk/admin/types/service-outage")
    assert 'class="pd-parallel" data-step="incident_review"' in page
    for branch_step in ("legal_review", "comms_review"):
        assert f'data-step="{branch_step}"' in page
    assert "<li>Branch 1<ol>" in page and "<li>Branch 2<ol>" in page


def test_the_current_version_is_coloured_by_its_figures_with_the_words(ada, stack):
    resolve_an_enquiry(stack, "desk-admin-figures@example.com")
    assert stack.post("/admin/ops/hourly", {}, stack.token("ada")).status_code == 200
    page = shown(ada, "/desk/admin/types/general-enquiry")
    assert re.search(r'class="pd-step pd-(on-target|at-risk|missing)"', page)
    assert re.search(r"(On target|At risk|Missing) · SLA \d", page)
    assert 'class="legend"' in page and "90 % or more on time" in page


def test_an_older_version_is_drawn_without_figures_and_an_unknown_one_is_not_found(ada, stack):
    definition = {**FAST_TYPE, "id": "desk-admin-versions", "public": False}
    for name in ("Check the first way", "Check the second way"):
        steps = [{**definition["steps"][0], "name": name}, *definition["steps"][1:]]
        published = stack.put(
            "/admin/issue-types/desk-admin-versions", {**definition, "steps": steps}, stack.token("ada")
        )
        assert published.status_code in (200, 201), published.body

    current = shown(ada, "/desk/admin/types/desk-admin-versions")
    assert "<strong>Check the second way</strong>" in current and 'class="legend"' in current
    assert 'href="/desk/admin/types/desk-admin-versions?version=1">Version 1</a>' in current
    older = shown(ada, "/desk/admin/types/desk-admin-versions?version=1")
    assert "<strong>Check the first way</strong>" in older and "Check the second way" not in older
    assert 'class="legend"' not in older and "pd-no-figures" not in older
    assert shown(ada, "/desk/admin").count('href="/desk/admin/types/desk-admin-versions"') == 1
    assert ada.get("/desk/admin/types/desk-admin-versions?version=3").status_code == 404
    assert ada.get("/desk/admin/types/desk-admin-versions?version=one").status_code == 404


def test_an_unknown_type_is_a_not_found_page(ada):
    missing = ada.get("/desk/admin/types/no-such-type")
    assert missing.status_code == 404 and "<h1>Not found</h1>" in text(missing)


def test_people_lists_each_role_and_team_with_its_members(ada):
    page = shown(ada, "/desk/admin/people")
    hr = re.search(r'<section class="group" id="role-hr".*?</section>', page, re.S)
    assert hr and '<th scope="row">hana</th>' in hr.group(0)
    admin = re.search(r'<section class="group" id="role-admin".*?</section>', page, re.S)
    assert admin and "built in" in admin.group(0) and "ada" in admin.group(0)
    assert "built in" not in hr.group(0)
    assert "<h2>Teams</h2>" in page


def test_quarantined_mail_is_listed_with_where_it_is_kept(ada, stack):
    assert stack.deliver_email(b"", ses_id="ses-desk-admin-empty")["outcome"] == "quarantined"
    page = shown(ada, "/desk/admin/quarantine")
    assert "<code>inbound/ses-desk-admin-empty</code>" in page
    assert '<th scope="col">Why</th>' in page


def test_an_agent_without_the_admin_role_gets_403_and_no_admin_link(stack):
    sam = Browser(stack)
    assert sam.sign_in("sam").status_code == 303
    assert 'href="/desk/admin"' not in text(sam.get("/desk"))
    for path in (*ADMIN_PAGES, "/desk/admin/types/no-such-type"):
        refused = sam.get(path)
        assert refused.status_code == 403, path
        assert "You cannot do this" in text(refused) and "<svg" not in text(refused)
