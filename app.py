"""Caseflow's Chalice app: composition only. Routes live in chalicelib/api, events in chalicelib/events."""

from chalice import Chalice

from chalicelib.api.admin import admin
from chalicelib.api.agents import agents
from chalicelib.api.dev import dev
from chalicelib.api.ops import ops
from chalicelib.api.ops_pages import ops_pages
from chalicelib.api.public import public
from chalicelib.api.public_pages import public_pages
from chalicelib.api.status_pages import status_pages
from chalicelib.api.task_links import task_links
from chalicelib.events.deployment import deployment
from chalicelib.events.inbound_email import inbound_email
from chalicelib.events.jobs import jobs
from chalicelib.events.ops_schedule import ops_schedule
from chalicelib.events.task_queue import task_queue

app = Chalice(app_name="caseflow")
app.register_blueprint(public)
app.register_blueprint(public_pages)
app.register_blueprint(agents)
app.register_blueprint(admin)
app.register_blueprint(task_links)
app.register_blueprint(status_pages)
app.register_blueprint(dev)
app.register_blueprint(task_queue)
app.register_blueprint(deployment)
app.register_blueprint(inbound_email)
app.register_blueprint(jobs)
app.register_blueprint(ops)
app.register_blueprint(ops_pages)
app.register_blueprint(ops_schedule)
