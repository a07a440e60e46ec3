"""Admins' API: issue types as data (validate, publish versions, read them back), roles and teams,
and customer segments."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.agents import current_agent
from chalicelib.api.errors import json_body, json_response
from chalicelib.bootstrap import services
from chalicelib.domain.assignees import ROLE, TEAM

admin = Blueprint(__name__)


@admin.route("/admin/issue-types", methods=["GET"])
def list_types() -> Response:
    return json_response(200, {"issue_types": services().administration.list_types(current_agent(admin))})


@admin.route("/admin/issue-types/validate", methods=["POST"])
def validate_type() -> Response:
    agent = current_agent(admin)
    return json_response(200, services().administration.validate(json_body(admin.current_request.raw_body), agent))


@admin.route("/admin/issue-types/{type_id}", methods=["GET"])
def get_type(type_id: str) -> Response:
    return json_response(200, services().administration.get_type(type_id, current_agent(admin)))


@admin.route("/admin/issue-types/{type_id}", methods=["PUT"])
def put_type(type_id: str) -> Response:
    agent = current_agent(admin)
    created, published = services().administration.put_type(type_id, json_body(admin.current_request.raw_body), agent)
    return json_response(201 if created else 200, published)


@admin.route("/admin/issue-types/{type_id}/versions", methods=["GET"])
def type_versions(type_id: str) -> Response:
    return json_response(200, {"versions": services().administration.versions(type_id, current_agent(admin))})


@admin.route("/admin/issue-types/{type_id}/migrations", methods=["POST"])
def migrate_issues(type_id: str) -> Response:
    """Move running issues from one version of the type to another, at the step each stands on:
    200 with the issues moved and those refused, each with its reason."""
    agent = current_agent(admin)
    request = json_body(admin.current_request.raw_body)
    return json_response(200, services().migrations.migrate(type_id, request, agent))


@admin.route("/admin/roles", methods=["GET"])
def list_roles() -> Response:
    return json_response(200, {"roles": services().agent_groups.list(ROLE, current_agent(admin))})


@admin.route("/admin/roles", methods=["POST"])
def create_role() -> Response:
    return _create(ROLE)


@admin.route("/admin/roles/{name}/members/{username}", methods=["PUT"])
def add_role_member(name: str, username: str) -> Response:
    return json_response(200, services().agent_groups.add_member(ROLE, name, username, current_agent(admin)))


@admin.route("/admin/roles/{name}/members/{username}", methods=["DELETE"])
def remove_role_member(name: str, username: str) -> Response:
    return json_response(200, services().agent_groups.remove_member(ROLE, name, username, current_agent(admin)))


@admin.route("/admin/teams", methods=["GET"])
def list_teams() -> Response:
    return json_response(200, {"teams": services().agent_groups.list(TEAM, current_agent(admin))})


@admin.route("/admin/teams", methods=["POST"])
def create_team() -> Response:
    return _create(TEAM)


@admin.route("/admin/teams/{name}/members/{username}", methods=["PUT"])
def add_team_member(name: str, username: str) -> Response:
    return json_response(200, services().agent_groups.add_member(TEAM, name, username, current_agent(admin)))


@admin.route("/admin/teams/{name}/members/{username}", methods=["DELETE"])
def remove_team_member(name: str, username: str) -> Response:
    return json_response(200, services().agent_groups.remove_member(TEAM, name, username, current_agent(admin)))


def _create(kind: str) -> Response:
    agent = current_agent(admin)
    return json_response(201, services().agent_groups.create(kind, json_body(admin.current_request.raw_body), agent))


@admin.route("/admin/customers/{email}/segment", methods=["PUT"])
def set_segment(email: str) -> Response:
    agent = current_agent(admin)
    return json_response(
        200, services().administration.set_segment(email, json_body(admin.current_request.raw_body), agent)
    )


@admin.route("/admin/quarantine", methods=["GET"])
def quarantine() -> Response:
    """Mail kept in S3 that opened no issue (unparseable, spam, loops, stray reports), newest first."""
    return json_response(200, {"messages": services().inbound_email.quarantined(current_agent(admin))})


@admin.route("/admin/classifier", methods=["GET"])
def classifier_status() -> Response:
    """The model in use, the latest training runs and how many examples agents have given."""
    return json_response(200, services().classification.status(current_agent(admin)))


@admin.route("/admin/classifier/training", methods=["POST"])
def train_classifier() -> Response:
    """Queue a training run now instead of waiting for the night; GET /admin/classifier shows it.

    One run at a time: while a run is queued or running, the 202 names that run and queues nothing."""
    return json_response(202, services().classification.request_training(current_agent(admin)))


@admin.route("/admin/ops/hourly", methods=["POST"])
def run_hourly_schedule() -> Response:
    """Run the hourly schedule now (SLA sweep, roll-ups, backlog); `from`/`to` roll up older hours again."""
    body = json_body(admin.current_request.raw_body) if admin.current_request.raw_body else {}
    return json_response(200, services().ops_kpis.run_by_admin(body, current_agent(admin)))


@admin.route("/admin/articles", methods=["GET"])
def list_articles() -> Response:
    """Every help article, published or not, by slug."""
    return json_response(200, {"articles": services().articles.list_for_admin(current_agent(admin))})


@admin.route("/admin/articles", methods=["POST"])
def create_article() -> Response:
    """A new help article: title, Markdown body, languages, the issue types it answers (none: every
    form), published. 400 names each bad field; 409 if the slug is taken."""
    agent = current_agent(admin)
    created = services().articles.create(json_body(admin.current_request.raw_body), agent)
    return json_response(201, created, {"Location": f"/admin/articles/{created['slug']}"})


@admin.route("/admin/articles/{slug}", methods=["GET"])
def get_article(slug: str) -> Response:
    return json_response(200, services().articles.get_for_admin(slug, current_agent(admin)))


@admin.route("/admin/articles/{slug}", methods=["PUT"])
def replace_article(slug: str) -> Response:
    """The article replaced whole (its words and vector again); 404 if there is none."""
    agent = current_agent(admin)
    return json_response(200, services().articles.replace(slug, json_body(admin.current_request.raw_body), agent))


@admin.route("/admin/articles/{slug}", methods=["DELETE"])
def delete_article(slug: str) -> Response:
    return json_response(200, services().articles.delete(slug, current_agent(admin)))
