"""The services as `chalicelib.bootstrap.build` wires them, on the in-memory fakes of the ports.

`world()` runs the real composition root with each adapter it builds replaced by a fake, so the
services are wired exactly as in production however the services are re-cut. It publishes the
seed issue types (compiled, with fake state machines) and keeps the fakes at hand, to look at
what a user would notice: the emails sent, the timeline, the workflows started.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

from chalicelib import bootstrap
from chalicelib.domain.agents import Agent
from chalicelib.domain.issue_types import PublishedType
from chalicelib.services.notifications import NotificationService
from chalicelib.services.workflow.messages import parse
from tests.fakes import (
    Clock,
    FakeClassifierRepository,
    FakeDirectory,
    FakeIssueRepository,
    FakeIssueSearchIndex,
    FakeIssueTypeRepository,
    FakeJobQueue,
    FakeKpiRepository,
    FakeMailer,
    FakeMailRepository,
    FakeMetrics,
    FakeObjectStore,
    FakeRateLimiter,
    FakeSimilarVectors,
    FakeSurveyRepository,
    FakeTaskRepository,
    FakeWorkflowEngine,
    HashedWordsEncoder,
)

#: The seed types compiled once per process (compiling is the slow part); later worlds copy them.
_seeds: list[PublishedType] = []


@dataclass
class World:
    services: bootstrap.Services
    #: Not among `services` (the others use it): emails to customers and to roles.
    notifications: NotificationService
    clock: Clock
    issues: FakeIssueRepository
    tasks: FakeTaskRepository
    issue_type_records: FakeIssueTypeRepository
    mail: FakeMailRepository
    mailer: FakeMailer
    engine: FakeWorkflowEngine
    directory: FakeDirectory
    store: FakeObjectStore
    classifier_records: FakeClassifierRepository
    jobs: FakeJobQueue
    survey_records: FakeSurveyRepository
    rate_limiter: FakeRateLimiter
    kpi_records: FakeKpiRepository
    metrics: FakeMetrics
    search_index: FakeIssueSearchIndex
    similar_vectors: FakeSimilarVectors
    encoder: HashedWordsEncoder
    _tokens: int = 0

    @property
    def config(self) -> Any:
        return self.services.config

    @staticmethod
    def agent(username: str = "alice", *roles: str) -> Agent:
        return Agent(username, f"{username}@caseflow.test", frozenset(roles or ("agent",)))

    def workflow_says(self, issue_id: str, kind: str, token: str | None = None, **body: Any) -> str:
        """Deliver one of the workflow's task queue messages (as the task queue handler does);
        returns the token it carried, which the workflow then waits on. With `token`, the same
        message again, as SQS may redeliver it."""
        if token is None:
            self._tokens += 1
            token = f"token-{self._tokens}"
        self.services.stepping.handle(parse({"kind": kind, "issue_id": issue_id, "token": token, **body}))
        return token


def world(clock: Clock | None = None) -> World:
    clock = clock or Clock()
    issues = FakeIssueRepository()
    fakes: dict[str, Any] = {
        "issues": issues,
        "tasks": FakeTaskRepository(),
        "issue_type_records": FakeIssueTypeRepository(),
        "mail": FakeMailRepository(issues),
        "mailer": FakeMailer("caseflow@caseflow.test"),
        "engine": FakeWorkflowEngine(),
        "directory": FakeDirectory(),
        "store": FakeObjectStore(),
        "classifier_records": FakeClassifierRepository(),
        "jobs": FakeJobQueue(),
        "survey_records": FakeSurveyRepository(),
        "rate_limiter": FakeRateLimiter(),
        "kpi_records": FakeKpiRepository(),
        "metrics": FakeMetrics(),
        "search_index": FakeIssueSearchIndex(issues),
        "similar_vectors": FakeSimilarVectors(),
        "encoder": HashedWordsEncoder(),
    }
    adapters = {
        "IssueRepository": "issues",
        "TaskRepository": "tasks",
        "IssueTypeRepository": "issue_type_records",
        "MailRepository": "mail",
        "SesMailer": "mailer",
        "StepFunctionsEngine": "engine",
        "CognitoDirectory": "directory",
        "S3ObjectStore": "store",
        "ClassifierRepository": "classifier_records",
        "JobQueue": "jobs",
        "SurveyRepository": "survey_records",
        "RateLimitRepository": "rate_limiter",
        "KpiRepository": "kpi_records",
        "EmfMetrics": "metrics",
        "IssueSearchRepository": "search_index",
        "SimilarVectorRepository": "similar_vectors",
        "SentenceEncoder": "encoder",
    }
    replaced: dict[str, Any] = {name: _returning(fakes[fake]) for name, fake in adapters.items()}
    replaced["encoder_available"] = _returning(True)
    replaced["CognitoTokenVerifier"] = _returning(None)
    replaced["TaskQueue"] = _returning(_Queue())
    replaced["SecretsManagerSecret"] = _returning(lambda: "unit-test-link-secret-unit-test")
    if hasattr(bootstrap, "bind_table"):
        replaced["bind_table"] = lambda *args, **kwargs: None
    built: list[NotificationService] = []

    def notifications(*args: Any, **kwargs: Any) -> NotificationService:
        built.append(NotificationService(*args, **kwargs))
        return built[-1]

    replaced["NotificationService"] = notifications
    with mock.patch.multiple(bootstrap, **{k: v for k, v in replaced.items() if hasattr(bootstrap, k)}):
        services = bootstrap.build(clock)
    _publish_seeds(services, fakes["issue_type_records"], fakes["engine"], clock)
    return World(services=services, notifications=built[0], clock=clock, **fakes)


def _returning(instance: Any) -> Callable[..., Any]:
    return lambda *args, **kwargs: instance


class _Queue:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/caseflow-tasks"


def _publish_seeds(services: bootstrap.Services, records: FakeIssueTypeRepository, engine: Any, clock: Clock) -> None:
    if not _seeds:
        _seeds.extend(services.issue_types.publish_seeds())
        return
    for published in _seeds:
        engine.create_state_machine(published.state_machine_arn.rpartition(":")[2], {})
        records.save_version(published, clock())
