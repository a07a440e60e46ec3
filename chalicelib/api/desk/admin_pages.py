"""The admins' pages of the desk (`/desk/admin`): the issue types and each one's process drawn,
roles and teams with their members, and the quarantined mail. They only read: changes go through
the admin API. Every service called here requires the admin role; without it, a 403 page.

A type's page draws the chosen version's process (`process_diagram`) and writes it as a list too;
the current version's tasks are coloured by the last 30 days' figures, with the words beside them.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import condition_words, process_diagram
from chalicelib.api.desk import views
from chalicelib.api.desk.responses import desk_page, signed_in
from chalicelib.bootstrap import services
from chalicelib.domain.agents import BUILT_IN_ROLES, Agent
from chalicelib.domain.assignees import ROLE, TEAM
from chalicelib.domain.errors import NotFound
from chalicelib.domain.issue_types import IssueType

admin_pages = Blueprint(__name__)
HOME = "/desk/admin"
#: The period a current version's figures cover (`OpsKpiService.step_figures`).
FIGURE_DAYS = 30
FIELD_KINDS = {
    "text": "Short text",
    "long_text": "Long text",
    "email": "Email address",
    "phone": "Phone number",
    "number": "Number",
    "date": "Date",
    "datetime": "Date and time",
    "choice": "One choice",
    "multi_choice": "Several choices",
    "yes_no": "Yes or no",
}


@admin_pages.route(HOME, methods=["GET"])
def types() -> Response:
    who = signed_in(admin_pages)
    rows = [
        {
            **listed,
            "public": services().issue_types.version(listed["id"], listed["version"]).issue_type.public,
            "versions": len(services().administration.versions(listed["id"], who.agent)),
        }
        for listed in services().administration.list_types(who.agent)
    ]
    return desk_page(admin_pages, 200, "desk/admin_types.html", who, section="admin", rows=rows)


@admin_pages.route(HOME + "/types/{type_id}", methods=["GET"])
def issue_type(type_id: str) -> Response:
    who = signed_in(admin_pages)
    published = services().administration.versions(type_id, who.agent)
    numbers = [entry["version"] for entry in published]
    current = services().issue_types.current(type_id).published.version
    chosen = _chosen_version(type_id, numbers, current)
    shown = services().issue_types.version(type_id, chosen).issue_type
    figures = services().ops_kpis.step_figures(type_id, who.agent, FIGURE_DAYS) if chosen == current else None
    zone = who.agent.time_zone or "UTC"
    return desk_page(
        admin_pages,
        200,
        "desk/admin_type.html",
        who,
        section="admin",
        type_=shown,
        chosen=chosen,
        current=current,
        versions=[
            {**entry, "published": views.when(entry["published_at"], zone)}
            for entry in sorted(published, key=lambda e: e["version"], reverse=True)
        ],
        diagram=process_diagram.process_svg(shown, figures),
        outline=process_diagram.process_list(shown, figures),
        with_figures=figures is not None,
        days=FIGURE_DAYS,
        thresholds={"on_target": process_diagram.ON_TARGET_PERCENT, "at_risk": process_diagram.AT_RISK_PERCENT},
        statuses=process_diagram.STATUS_WORDS,
        fields=_fields(shown),
    )


def _chosen_version(type_id: str, numbers: list[int], current: int) -> int:
    """`?version=N` if the type has that version, else the current one; NotFound for one it lacks."""
    asked = (admin_pages.current_request.query_params or {}).get("version", "")
    if not asked:
        return current
    if not asked.isdigit() or int(asked) not in numbers:
        raise NotFound(f"issue type {type_id} has no version {asked[:20]}")
    return int(asked)


def _fields(issue_type: IssueType) -> list[dict[str, str]]:
    """What the customer is asked, as admins read it: label, kind, whether required and when shown."""
    found = []
    for spec in issue_type.fields:
        required_when = condition_words.for_team(spec.required_when, issue_type)
        shown_when = condition_words.for_team(spec.shown_when, issue_type)
        found.append(
            {
                "id": spec.id,
                "label": spec.label,
                "kind": FIELD_KINDS.get(spec.type, spec.type),
                "required": "Yes" if spec.required else f"If {required_when}" if required_when else "No",
                "shown": f"If {shown_when}" if shown_when else "Always",
            }
        )
    return found


@admin_pages.route(HOME + "/people", methods=["GET"])
def people() -> Response:
    who = signed_in(admin_pages)
    return desk_page(
        admin_pages,
        200,
        "desk/admin_people.html",
        who,
        section="admin",
        kinds=[("Roles", ROLE, _groups(ROLE, who.agent)), ("Teams", TEAM, _groups(TEAM, who.agent))],
    )


def _groups(kind: str, agent: Agent) -> list[dict[str, Any]]:
    found = services().agent_groups.list(kind, agent)
    return sorted(
        ({**group, "built_in": kind == ROLE and group["name"] in BUILT_IN_ROLES} for group in found),
        key=lambda g: (not g["built_in"], g["name"]),
    )


@admin_pages.route(HOME + "/quarantine", methods=["GET"])
def quarantine() -> Response:
    who = signed_in(admin_pages)
    zone = who.agent.time_zone or "UTC"
    messages = [
        {**message, "received": views.when(message["received_at"], zone)}
        for message in services().inbound_email.quarantined(who.agent)
    ]
    return desk_page(admin_pages, 200, "desk/admin_quarantine.html", who, section="admin", messages=messages)
