"""A realistic month of customer service on the embedded stack, on a simulated clock: `make demo-data`.

    python -m bench.demo_month [--issues 5000] [--days 30] [--seed 7] [--workers 4]

Issues of every public seeded type arrive on both channels (more on weekdays and in office hours)
through the service layer; agents complete their tasks, mostly before the deadline and sometimes
after it; customers reply to steps that wait for them, answer surveys and now and then write
again so that an agent reopens the issue. The clock is simulated: every service of the stack is
built on it (`bootstrap.build`), the generator pumps the task queue itself, and at every whole
simulated hour it runs the hourly ops schedule, whose SLA sweep warns and escalates the late
tasks (the workflows' real timers would wait for real days).

The generator keeps its ground truth (`Truth`): what it did and when, from which
`ground_truth_report` computes the KPIs with `chalicelib.domain.kpis` alone, without the roll-ups.
The demo test compares it with what `GET /ops/kpis` (and so the dashboard) shows.

Run against `make run`'s stack it pauses that stack's own task-queue pump (which runs on the real
clock) for as long as it runs. It shows a progress bar with the time left (estimated from the
simulated hours done so far). Each simulated hour, the customers and agents of different issues act
at once (`--workers` of them, each thread on its own moment of the simulated clock, each action with
random draws of its own), and as many task-queue messages are handled at once, as the stack's own
pump (Lambda) would (decisions 0040 and 0048). The stack answers each call in a few milliseconds,
so one actor at a time left both processes mostly waiting.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

CHANNEL_SHARE = {"web": 0.65, "email": 0.35}
#: Relative arrivals per hour of the day (UTC): quiet nights, busy office hours.
HOURLY = [1, 1, 1, 1, 1, 2, 3, 6, 9, 10, 10, 9, 8, 9, 10, 9, 8, 6, 5, 4, 3, 2, 2, 1]
ON_TIME_SHARE = 0.8
REPLY_SHARE = 0.75
SURVEY_SHARE = 0.4
REOPEN_SHARE = 0.06
CSAT_SCORES = ([1, 2, 3, 4, 5], [4, 5, 10, 36, 45])
CES_SCORES = (list(range(1, 8)), [3, 4, 6, 10, 20, 27, 30])
NPS_SCORES = (list(range(11)), [3, 2, 2, 3, 3, 5, 7, 12, 18, 22, 23])
#: Issues acted on at once, and task-queue messages handled at once, by the generator.
WORKERS = 8
#: One-line answers of the seeds' short text fields, by field id.
SHORT_TEXTS = {
    "product": ["Oak dining table", "Wireless headphones", "Ceramic vase", "Kettle", "Winter coat", "Desk lamp"],
    "employee_name": [
        "Jo at the till",
        "The duty manager",
        "A tall man at customer service",
        "Sam",
        "I did not see a badge",
    ],
    "subject": ["Opening hours", "Gift cards", "Delivery options", "My account", "Store pick-up", "Returns policy"],
    "summary": ["Please call me back", "Question about my order", "Something went wrong"],
}
#: What agents write in their tasks' free-text answers, by issue type (customers write the sample's texts).
RESOLUTION_NOTES = {
    "rude-staff": [
        "Spoke to the colleague; they apologise and have been coached.",
        "Checked the CCTV with the store manager; the colleague is booked on customer-care training.",
        "The duty manager called the customer to apologise in person.",
    ],
    "late-delivery": [
        "The courier confirmed the parcel was misrouted; it is on its way again.",
        "Refunded the delivery charge; the parcel arrives tomorrow.",
        "The parcel was lost in transit; a replacement went out by next-day courier.",
    ],
    "damaged-product": [
        "Sent a replacement by next-day courier at no charge.",
        "Arranged a collection and a repair under warranty.",
        "Refunded in full; the customer keeps the damaged item.",
    ],
    "billing-dispute": [
        "Corrected the invoice and credited the overcharge.",
        "Checked the account: the duplicate charge is reversed within 3 days.",
        "The charge is correct: it is the annual renewal; explained and sent a breakdown.",
    ],
    "general-enquiry": [
        "Answered with our opening hours and the store's phone number.",
        "Explained our returns policy and sent the form.",
    ],
    "service-outage": [
        "Engineering restored the service; the customer confirmed it works.",
        "A known outage: the customer was told when it was fixed.",
    ],
}
GENERIC_NOTES = ["Explained our policy and the customer accepted the solution.", "Called the customer; all sorted."]
PROGRESS_WIDTH = 30


class SimulatedClock:
    """The month's now, which the generator moves on; a thread acting at its own moment sees that one."""

    def __init__(self, now: datetime):
        self.now = now
        self._local = threading.local()

    def __call__(self) -> datetime:
        moment = getattr(self._local, "now", None)
        return moment if moment is not None else self.now

    @contextlib.contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        """This thread's now is `moment` until the block ends."""
        self._local.now = moment
        try:
            yield
        finally:
            self._local.now = None


@dataclass
class IssueTruth:
    issue_id: str
    type_id: str
    channel: str
    opened_at: datetime
    replies: list[datetime] = field(default_factory=list)
    reopened_at: list[datetime] = field(default_factory=list)


@dataclass
class Truth:
    """What the generator did: issues opened, tasks completed (with the deadline they had and the
    escalation level they had reached), survey answers, reopenings."""

    issues: dict[str, IssueTruth] = field(default_factory=dict)
    completed: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[str, str, int, datetime]] = field(default_factory=list)
    hourly_runs: int = 0
    last_run_at: datetime | None = None


class DemoMonth:
    def __init__(
        self,
        services: Any,
        clock: SimulatedClock,
        queue_url: str,
        seed: int,
        survey_share: float = SURVEY_SHARE,
        workers: int = WORKERS,
    ):
        import boto3

        from chalicelib.adapters.dynamodb.issues import IssueRepository
        from chalicelib.adapters.dynamodb.surveys import SurveyRepository
        from chalicelib.adapters.dynamodb.tasks import TaskRepository

        self.services = services
        self.clock = clock
        self.queue_url = queue_url
        self.seed = seed
        self.rng = random.Random(seed)
        #: The share of resolved issues whose customer answers the survey.
        self.survey_share = survey_share
        self.sqs = boto3.client("sqs")
        self.tasks = TaskRepository()
        self.issues = IssueRepository()
        self._recoveries = SurveyRepository()
        self._customer_texts = _customer_texts()
        self.truth = Truth()
        self._queue: list[tuple[datetime, int, str, dict[str, Any]]] = []
        self._seq = 0
        self._scheduled: set[str] = set()
        self._scheduled_lock = threading.Lock()
        self._end = clock.now
        self._busy = False
        #: Wall seconds of each hourly schedule run and of its roll-up part.
        self.schedule_seconds: list[float] = []
        self.rollup_seconds: list[float] = []
        self._workers = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="demo-message")

    # Driving

    def run(self, start: datetime, days: int, issues: int, progress: bool = False) -> Truth:
        self._end = start + timedelta(days=days)
        types = [t for t in self.services.issue_types.list_current() if t.public]
        for number in range(1, issues + 1):
            self._at(self._arrival(start, days), "open", {"type_id": self.rng.choice(types).id, "number": number})
        hour = start
        began = time.monotonic()
        while hour < self._end:
            following = hour + timedelta(hours=1)
            due = []
            while self._queue and self._queue[0][0] < following:
                due.append(heapq.heappop(self._queue))
            touched = self._act(due)
            self.clock.now = following
            if touched or self._busy:
                self._busy = self.pump() > 0
            self._plan(touched)
            began_run = time.perf_counter()
            # Nothing is recorded late on the simulated clock, so the hour just ended is rolled up
            # with the one just begun (what the pump recorded at the stroke of the hour), not the
            # two hours before it as well, as the schedule does on AWS (ops_kpis.HOURS_BACK).
            ran = self.services.ops_kpis.run_hourly(hour, following)
            self.schedule_seconds.append(time.perf_counter() - began_run)
            self.rollup_seconds.append(ran["roll_up"]["seconds"])
            self.truth.hourly_runs += 1
            self.truth.last_run_at = following
            if progress:
                show_progress(following, start, self._end, len(self.truth.issues), time.monotonic() - began)
            hour = following
        return self.truth

    def pump(self, quiet_rounds: int = 4) -> int:
        """Hand the task queue's messages to the workflow side until the workflows are quiet."""
        from chalicelib.services.workflow.messages import parse

        handled = idle = 0
        while idle < quiet_rounds:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                idle += 1
                time.sleep(0.03)
                continue
            idle = 0

            def handle(message: dict[str, Any]) -> None:
                self.services.stepping.handle(parse(json.loads(message["Body"])))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

            for _ in self._workers.map(handle, messages):
                handled += 1
        return handled

    def _act(self, due: list[tuple[datetime, int, str, dict[str, Any]]]) -> set[str]:
        """Carry out an hour's actions, in time order within each issue, different issues at once;
        returns the issues they touched. Each action draws from a generator of its own, seeded by the
        month's seed and the action's number, so that the threads' order does not change its draws."""
        by_issue: dict[str, list[tuple[datetime, int, str, dict[str, Any]]]] = {}
        for action in due:
            _, seq, _, payload = action
            by_issue.setdefault(payload.get("issue_id") or f"new/{seq}", []).append(action)

        def act(actions: list[tuple[datetime, int, str, dict[str, Any]]]) -> list[str]:
            touched = []
            for at, seq, kind, payload in actions:
                with self.clock.at(at):
                    issue_id = getattr(self, f"_{kind}")(random.Random(f"{self.seed}/{seq}"), **payload)
                if issue_id:
                    touched.append(issue_id)
            return touched

        return {issue_id for touched in self._workers.map(act, by_issue.values()) for issue_id in touched}

    # Actions

    def _open(self, rng: random.Random, type_id: str, number: int) -> str:
        channel = "web" if rng.random() < CHANNEL_SHARE["web"] else "email"
        issue_type = self.services.issue_types.current(type_id).issue_type
        request = {
            "type": type_id,
            "customer": {"email": f"demo{number}@example.com", "name": f"Demo Customer {number}"},
            "fields": self._values(rng, issue_type.fields, self._customer_texts.get(type_id)),
        }
        issue = self.services.intake.open_issue(request, channel=channel).issue
        self.truth.issues[issue.id] = IssueTruth(issue.id, type_id, channel, self.clock())
        return issue.id

    def _complete(self, rng: random.Random, issue_id: str, step: str) -> str:
        from chalicelib.domain.agents import Agent
        from chalicelib.domain.assignees import EMAIL, USER
        from chalicelib.domain.tasks import OPEN

        task = self.tasks.get(issue_id, step)
        issue = self.issues.get(issue_id)
        if task is None or task.status != OPEN or issue is None:
            return ""
        step_spec = self.services.issue_types.version(issue.type_id, issue.type_version).issue_type.step(step)
        fields = self._values(rng, step_spec.fields, RESOLUTION_NOTES.get(issue.type_id, GENERIC_NOTES))
        holder = task.assigned_to
        if holder.kind == EMAIL:
            token = self.services.task_links.link_for(task).rsplit("/t/", 1)[1]
            self.services.completions.complete_by_link(token, fields)
        else:
            roles = frozenset({"agent"}) if holder.kind == USER else frozenset({holder.name})
            name = holder.name if holder.kind == USER else f"demo-{holder.name}"
            self.services.completions.complete(task.id, fields, Agent(name, f"{name}@example.com", roles))
        self.truth.completed.append(
            {
                "issue_id": issue_id,
                "type_id": issue.type_id,
                "step": step,
                "due_at": task.due_at if step_spec.deadline else None,
                "completed_at": self.clock(),
                "escalation_level": task.level,
            }
        )
        return issue_id

    def _reply(self, rng: random.Random, issue_id: str, step: str) -> str:
        task = self.tasks.get(issue_id, step)
        if task is None or task.status != "open":
            return ""
        self.services.completions.customer_replied(issue_id, "Thanks, that works for me.", "email", "customer")
        self.truth.issues[issue_id].replies.append(self.clock())
        return issue_id

    def _survey(self, rng: random.Random, issue_id: str) -> str:
        from chalicelib.domain.errors import Conflict
        from chalicelib.services.surveys import RECOVERY_TYPE

        for question, (scores, weights) in (("csat", CSAT_SCORES), ("ces", CES_SCORES), ("nps", NPS_SCORES)):
            score = rng.choices(scores, weights)[0]
            token = self.services.surveys.link(issue_id, question, score).rsplit("/survey/", 1)[1]
            try:
                self.services.surveys.answer(token)
            except Conflict:
                continue  # a changed answer after the change window: the customer is shown their first one
            self.truth.answers.append((issue_id, question, score, self.clock()))
        recovery = self._recoveries.recovery_issue(issue_id)
        if recovery and recovery not in self.truth.issues:
            self.truth.issues[recovery] = IssueTruth(recovery, RECOVERY_TYPE, "survey", self.clock())
            return recovery
        return ""

    def _reopen(self, rng: random.Random, issue_id: str) -> str:
        issue = self.issues.get(issue_id)
        if issue is None or issue.status != "resolved":
            return ""
        self.services.reopenings.reopen(issue, "the customer wrote: the problem is back", "customer")
        self.truth.issues[issue_id].reopened_at.append(self.clock())
        with self._scheduled_lock:
            self._scheduled = {key for key in self._scheduled if not key.startswith(f"{issue_id}/")}
        return issue_id

    def _values(self, rng: random.Random, specs: Any, texts: list[str] | None = None) -> dict[str, Any]:
        """Valid values for the fields shown: random choices (so that workflows branch), dates
        before the simulated now, free text drawn from `texts` (what customers of the type write, or
        what agents note), and bench.transitions' samples for the rest."""
        from bench.transitions import sample_values

        chosen: dict[str, Any] = {}
        for spec in specs:
            if spec.type == "text" and spec.id in SHORT_TEXTS:
                chosen[spec.id] = rng.choice(SHORT_TEXTS[spec.id])
            elif spec.type == "long_text" and texts:
                text = rng.choice(texts)
                if (spec.min is None or len(text) >= spec.min) and (spec.max is None or len(text) <= spec.max):
                    chosen[spec.id] = text
            elif spec.type == "choice":
                chosen[spec.id] = rng.choice(spec.options).value
            elif spec.type == "yes_no":
                chosen[spec.id] = rng.random() < 0.5
            elif spec.type == "date":
                chosen[spec.id] = (self.clock() - timedelta(days=rng.randrange(1, 5))).date().isoformat()
            elif spec.type == "datetime":
                moment = self.clock() - timedelta(hours=rng.uniform(1, 48))
                chosen[spec.id] = moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return sample_values(specs, chosen)

    # Planning

    def _at(self, at: datetime, kind: str, payload: dict[str, Any]) -> None:
        if at < self._end:
            self._seq += 1
            heapq.heappush(self._queue, (at, self._seq, kind, payload))

    def _arrival(self, start: datetime, days: int) -> datetime:
        while True:
            day = start + timedelta(days=self.rng.randrange(days))
            if day.weekday() < 5 or self.rng.random() < 0.5:
                break
        hour = self.rng.choices(range(24), HOURLY)[0]
        return day.replace(hour=hour) + timedelta(seconds=self.rng.randrange(3600))

    def _plan(self, touched: set[str]) -> None:
        """Plan what happens next to the issues touched this hour: their records are read at once,
        the plans drawn one issue after another, in the order of their ids."""

        def state(issue_id: str) -> tuple[Any, list[Any]]:
            issue = self.issues.get(issue_id)
            open_tasks = self.tasks.for_issue(issue_id) if issue is not None and issue.status != "resolved" else []
            return issue, open_tasks

        for issue, tasks in self._workers.map(state, sorted(touched)):
            if issue is not None:
                self._plan_tasks(issue, tasks)

    def _plan_tasks(self, issue: Any, tasks: list[Any]) -> None:
        """Plan what happens to the issue's newly opened tasks, or after its resolution."""
        from chalicelib.domain.assignees import CUSTOMER
        from chalicelib.services.surveys import RECOVERY_TYPE

        issue_id = issue.id
        if issue.status == "resolved":
            key = f"{issue_id}/resolved/{issue.run}"
            if key not in self._scheduled:
                self._scheduled.add(key)
                # The product sends no survey about a service-recovery issue (SurveyService.send).
                if issue.type_id != RECOVERY_TYPE and self.rng.random() < self.survey_share:
                    self._at(
                        self.clock.now + timedelta(hours=self.rng.uniform(1, 72)), "survey", {"issue_id": issue_id}
                    )
                if issue.run == 1 and self.rng.random() < REOPEN_SHARE:
                    later = timedelta(days=self.rng.uniform(0.2, 10))
                    self._at(self.clock.now + later, "reopen", {"issue_id": issue_id})
            return
        for task in tasks:
            key = f"{issue_id}/{task.step}"
            if task.status != "open" or key in self._scheduled:
                continue
            self._scheduled.add(key)
            if task.assigned_to.kind == CUSTOMER:
                if self.rng.random() < REPLY_SHARE:
                    later = timedelta(hours=self.rng.uniform(1, 40))
                    self._at(self.clock.now + later, "reply", {"issue_id": issue_id, "step": task.step})
                continue
            opened = task.opened_at or self.clock.now
            allowed = max(task.due_at - opened, timedelta(hours=1))
            if self.rng.random() < ON_TIME_SHARE:
                at = opened + allowed * self.rng.uniform(0.05, 0.95)
            else:
                at = task.due_at + allowed * self.rng.uniform(0.05, 1.5)
            self._at(
                max(at, self.clock.now + timedelta(minutes=5)), "complete", {"issue_id": issue_id, "step": task.step}
            )


def show_progress(now: datetime, start: datetime, end: datetime, issues: int, elapsed: float) -> None:
    """A progress bar on standard error with the time left, estimated from the simulated hours done:
    redrawn in place on a terminal, else one line per simulated day."""
    done = (now - start) / (end - start)
    tty = sys.stderr.isatty()
    if not tty and now.hour != 0 and now < end:
        return
    left = elapsed * (1 - done) / done if done > 0 else 0.0
    filled = int(PROGRESS_WIDTH * done)
    bar = "#" * filled + "." * (PROGRESS_WIDTH - filled)
    line = (
        f"[{bar}] {done:4.0%} {now:%Y-%m-%d %H:00}, {issues} issues, "
        f"{_duration(elapsed)} elapsed, about {_duration(left)} left"
    )
    print(f"\r{line}" if tty else line, end="\n" if not tty or now >= end else "", file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


# Ground truth


def ground_truth_facts(truth: Truth) -> tuple[list[Any], list[Any], list[Any]]:
    """IssueFacts, TaskFacts and SurveyFacts of the month: the generator's own record, and the
    product's records only for what the generator did not decide (deadlines, when the response
    email and the resolution went out, which follow the workflow)."""
    from chalicelib.adapters.dynamodb.issues import IssueRepository
    from chalicelib.adapters.dynamodb.tasks import TaskRepository
    from chalicelib.domain import kpis
    from chalicelib.domain.assignees import CUSTOMER

    issues_repo = IssueRepository()
    issue_facts, task_facts = [], []
    for record in truth.issues.values():
        issue = issues_repo.get(record.issue_id)
        first_resolved = issue.first_resolved_at
        contacts = 1 + sum(1 for t in record.replies if first_resolved is None or t <= first_resolved)
        again = (issue.resolved_at,) if record.reopened_at and issue.status == "resolved" else ()
        issue_facts.append(
            kpis.IssueFacts(
                record.issue_id,
                record.type_id,
                record.channel,
                record.opened_at,
                first_response_at=kpis.first_response_at(issues_repo.timeline(record.issue_id)),
                resolved_at=first_resolved,
                reopened_at=tuple(record.reopened_at),
                resolved_again_at=again,
                customer_contacts=contacts,
            )
        )
        for task in TaskRepository().for_issue(record.issue_id):
            if task.status == "open" and task.assigned_to.kind != CUSTOMER:
                task_facts.append(
                    kpis.TaskFacts(record.issue_id, record.type_id, task.step, task.due_at, None, task.level)
                )
    for done in truth.completed:
        task_facts.append(
            kpis.TaskFacts(
                done["issue_id"],
                done["type_id"],
                done["step"],
                done["due_at"],
                done["completed_at"],
                done["escalation_level"],
            )
        )
    latest: dict[tuple[str, str], tuple[int, datetime]] = {}
    for issue_id, question, score, _ in truth.answers:
        latest[(issue_id, question)] = (score, _)
    surveys = [
        kpis.SurveyFacts(issue_id, question, score, truth.issues[issue_id].type_id)  # type: ignore[arg-type]
        for (issue_id, question), (score, _) in latest.items()
    ]
    return issue_facts, task_facts, surveys


def ground_truth_report(truth: Truth, today: date) -> dict[str, Any]:
    """The KPIs over the whole month, from the ground truth with `chalicelib.domain.kpis` alone."""
    from chalicelib.domain import kpis
    from chalicelib.domain.kpi_rollups import fcr_closed_before

    issues, tasks, answers = ground_truth_facts(truth)
    frt = [s for values in kpis.first_response_seconds(issues).values() for s in values]
    resolution = [s for values in kpis.resolution_seconds(issues).values() for s in values]
    sla_by_step, sla_by_type = kpis.sla_compliance(tasks)
    sla_total = sum(sla_by_type.values(), kpis.Ratio())
    closed = fcr_closed_before(today)
    fcr_cohort = [i for i in issues if i.resolved_at is not None and i.resolved_at.date() <= closed]
    fcr = kpis.first_contact_resolution(fcr_cohort, datetime.combine(today, datetime.min.time(), UTC))
    backlog = kpis.backlog(issues, truth.last_run_at) if truth.last_run_at else None
    return {
        "contacts": kpis.contacts_per_day(issues),
        "first_response": kpis.median_and_p90(frt),
        "resolution": kpis.median_and_p90(resolution),
        "resolution_by_type": kpis.resolution_times(issues),
        "sla": sla_total.percent,
        "sla_by_step": {key: ratio.percent for key, ratio in sla_by_step.items()},
        "escalations": kpis.escalations_by_level(tasks),
        "fcr": fcr.percent,
        "backlog": backlog,
        "csat": kpis.csat(answers),
        "ces": kpis.ces(answers),
        "ces_mean": kpis.ces_mean(answers),
        "nps": kpis.nps(answers),
        "reopen_rate": kpis.reopen_rate(issues).percent,
    }


# The command


def measure_month(demo: DemoMonth, start: datetime, days: int) -> list[str]:
    """What ops' numbers cost for the month just made: the hourly schedule as it ran, rolling
    up the whole month again (as an admin may), and reading the month's report (the dashboard)."""
    from chalicelib.adapters.dynamodb.kpis import KpiRepository
    from chalicelib.domain.kpi_rollups import hours_between

    def measured(action: Any) -> tuple[Any, float, dict[str, int]]:
        before = dict(KpiRepository.reads)
        began = time.perf_counter()
        result = action()
        took = time.perf_counter() - began
        return result, took, {name: KpiRepository.reads[name] - before[name] for name in before}

    end = start + timedelta(days=days)
    runs = sorted(demo.schedule_seconds) or [0.0]
    rolled, roll_seconds, roll_reads = measured(
        lambda: demo.services.ops_kpis.roll_up(hours_between(start, end - timedelta(hours=1)))
    )
    _, report_seconds, report_reads = measured(lambda: demo.services.ops_kpis.report(start.date(), end.date()))
    return [
        f"hourly schedule: {len(runs)} runs, median {runs[len(runs) // 2]:.2f} s, max {runs[-1]:.2f} s "
        f"(roll-up part {sum(demo.rollup_seconds):.0f} s in all)",
        f"rolling up the month again: {rolled['hours']} hours, {rolled['events']} events into "
        f"{rolled['aggregates']} aggregates in {roll_seconds:.1f} s; KPI reads {roll_reads['queries']} queries, "
        f"{roll_reads['items']} items",
        f"the month's report (GET /ops/kpis, the dashboard): {report_seconds:.2f} s; KPI reads "
        f"{report_reads['queries']} queries, {report_reads['items']} items",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workers", type=int, default=WORKERS, help="issues acted on at once, and task-queue messages handled at once"
    )
    args = parser.parse_args()

    from chalicelib import settings
    from chalicelib.local.runtime import local_environment

    config = settings.with_defaults({**local_environment(), "POWERTOOLS_LOG_LEVEL": "WARNING"})

    from chalicelib.local.pause import PauseHeld, PumpPause
    from chalicelib.local.provision import NoStack, discover

    try:
        stack = discover(config)
    except NoStack as exc:
        raise SystemExit(f"{exc}: start the stack with `make run` first, then run `make demo-data`.") from None
    os.environ[settings.USER_POOL_ID] = stack.user_pool_id
    os.environ[settings.USER_POOL_CLIENT_ID] = stack.user_pool_client_id
    settings.get.cache_clear()

    from chalicelib import bootstrap

    queue_url = stack.task_queue_url
    start = (datetime.now(UTC) - timedelta(days=args.days)).replace(minute=0, second=0, microsecond=0)
    clock = SimulatedClock(start)
    pause = PumpPause.of_stack(config.aws_port)
    began = time.monotonic()
    # The EMF lines the month's events produce (Lambda's log on AWS) go to a file, not the terminal.
    metrics_log = pause.path.parent / "demo-month-metrics.log"
    try:
        # The stack's own pump stays off the task queue while this process lives, and no longer.
        with pause, metrics_log.open("w") as emf, contextlib.redirect_stdout(emf):
            demo = DemoMonth(bootstrap.build(clock), clock, queue_url, args.seed, workers=args.workers)
            truth = demo.run(start, args.days, args.issues, progress=True)
    except PauseHeld as exc:
        raise SystemExit(f"{exc}: one `make demo-data` at a time.") from None
    took = time.monotonic() - began
    with metrics_log.open("a") as emf, contextlib.redirect_stdout(emf):
        figures = measure_month(demo, start, args.days)
    print(*figures, sep="\n")
    print(
        f"{len(truth.issues)} issues, {len(truth.completed)} tasks completed, {len(truth.answers)} survey answers, "
        f"{sum(len(i.reopened_at) for i in truth.issues.values())} reopenings over {args.days} days "
        f"in {took / 60:.1f} min ({took / max(len(truth.issues), 1):.2f} s per issue). "
        f"Sign in as omar at http://127.0.0.1:{config.api_port}/ops/dashboard"
    )


def _customer_texts() -> dict[str, list[str]]:
    """The classifier's sample by issue type: real sentences customers write, so that search and similar
    issues find something meaningful in the demo month."""
    from chalicelib.classifier.examples import read_examples
    from chalicelib.services.classifier_training import SAMPLE

    texts: dict[str, list[str]] = {}
    for example in read_examples(SAMPLE):
        texts.setdefault(example.label, []).append(example.text)
    return texts


if __name__ == "__main__":
    main()
