"""Every fake in `tests/fakes.py` offers each method of its port with the port's parameters, so a
port that changes (a method added, renamed or given another parameter) fails here first.

What the methods do is held by `tests/integration/test_port_contracts.py` (fakes and adapters alike).
"""

from __future__ import annotations

import inspect

import pytest

from chalicelib.services import ports
from tests import fakes

PAIRS = [
    (ports.IssueRepository, fakes.FakeIssueRepository),
    (ports.TaskRepository, fakes.FakeTaskRepository),
    (ports.IssueTypeRepository, fakes.FakeIssueTypeRepository),
    (ports.MailRepository, fakes.FakeMailRepository),
    (ports.ObjectStore, fakes.FakeObjectStore),
    (ports.Mailer, fakes.FakeMailer),
    (ports.WorkflowEngine, fakes.FakeWorkflowEngine),
    (ports.Directory, fakes.FakeDirectory),
    (ports.AgentGroups, fakes.FakeDirectory),
    (ports.ClassifierRecords, fakes.FakeClassifierRepository),
    (ports.SurveyRepository, fakes.FakeSurveyRepository),
    (ports.JobQueue, fakes.FakeJobQueue),
    (ports.RateLimiter, fakes.FakeRateLimiter),
    (ports.KpiRepository, fakes.FakeKpiRepository),
    (ports.Metrics, fakes.FakeMetrics),
    (ports.IssueSearchIndex, fakes.FakeIssueSearchIndex),
    (ports.SimilarVectors, fakes.FakeSimilarVectors),
    (ports.TextEncoder, fakes.HashedWordsEncoder),
]


def _methods(protocol: type) -> dict[str, inspect.Signature]:
    found = {}
    for cls in reversed(protocol.__mro__):
        if cls is object or not getattr(cls, "_is_protocol", False):
            continue
        for name, value in vars(cls).items():
            if callable(value) and not name.startswith("_"):
                found[name] = inspect.signature(value)
    return found


@pytest.mark.parametrize(("port", "fake"), PAIRS, ids=[p.__name__ for p, _ in PAIRS])
def test_the_fake_offers_every_method_of_its_port_with_the_same_parameters(port, fake):
    for name, signature in _methods(port).items():
        assert hasattr(fake, name), f"{fake.__name__} has no {name}"
        theirs = list(inspect.signature(getattr(fake, name)).parameters)
        ours = [p for p in signature.parameters if p != "self"]
        assert [p for p in theirs if p != "self"] == ours, f"{fake.__name__}.{name}"


def test_the_mailer_fake_has_a_sender():
    assert fakes.FakeMailer().sender
