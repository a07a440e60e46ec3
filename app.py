"""Caseflow's Chalice app: composition only. Routes live in chalicelib/api, events in chalicelib/events.

Each API blueprint is registered through the edge (`chalicelib/api/edge.py`), with the shaper of
its domain errors (JSON, or its pages') and, for pages with forms, its CSRF guard; observability is
one middleware for every handler (`chalicelib/observability.py`).
"""

from chalice import Chalice

from chalicelib import observability
from chalicelib.api import (
    customer_issue_pages,
    edge,
    help_pages,
    ops_pages,
    public_pages,
    reference,
    status_pages,
    survey_pages,
    task_links,
)
from chalicelib.api.admin import admin
from chalicelib.api.agents import agents
from chalicelib.api.desk import (
    account,
    admin_pages,
    article_pages,
    issue_actions,
    issue_page,
    queues,
    responses,
    search,
    sign_in,
)
from chalicelib.api.dev import dev
from chalicelib.api.ops import ops
from chalicelib.api.public import public
from chalicelib.events.deployment import deployment
from chalicelib.events.inbound_email import inbound_email
from chalicelib.events.jobs import jobs
from chalicelib.events.ops_schedule import ops_schedule
from chalicelib.events.task_queue import task_queue

app = Chalice(app_name="caseflow")
edge.register(app, public)
edge.register(app, public_pages.public_pages, public_pages.PROBLEMS, public_pages.FORMS)
edge.register(app, help_pages.help_pages, help_pages.PROBLEMS, help_pages.FORMS)
edge.register(app, agents)
edge.register(app, admin)
# No form guard: the signed link in the form's address is the secret another site cannot know.
edge.register(app, task_links.task_links, task_links.PROBLEMS)
edge.register(app, status_pages.status_pages, status_pages.PROBLEMS, status_pages.FORMS)
edge.register(app, survey_pages.survey_pages, survey_pages.PROBLEMS, survey_pages.FORMS)
edge.register(app, customer_issue_pages.customer_issue_pages, customer_issue_pages.PROBLEMS, customer_issue_pages.FORMS)
edge.register(app, dev)
edge.register(app, reference.reference)
app.register_blueprint(task_queue)
app.register_blueprint(deployment)
app.register_blueprint(inbound_email)
app.register_blueprint(jobs)
edge.register(app, ops)
edge.register(app, ops_pages.ops_pages, ops_pages.PROBLEMS, ops_pages.FORMS)
for desk in (
    sign_in.sign_in_pages,
    queues.queue_pages,
    issue_page.issue_pages,
    issue_actions.issue_actions,
    search.search_pages,
    admin_pages.admin_pages,
    article_pages.article_pages,
    account.account_pages,
):
    edge.register(app, desk, responses.problems(desk), responses.FORMS)
app.register_blueprint(ops_schedule)
observability.install(app)
