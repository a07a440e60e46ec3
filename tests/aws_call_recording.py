"""A pytest plugin: every AWS call the test session makes, recorded with the test that made it.

tests/conftest.py registers it. It records from the session's start to its end
(`chalicelib.local.aws_calls`), puts each test's node id on the calls made while it runs, and
moves the checks that read the recording (`tests/infra/test_permissions.py`) after every other
test. `--aws-calls=PATH` writes the recorded calls as JSON lines when the session ends.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice import Chalice

from chalicelib.local.aws_calls import AwsCallRecorder

#: The session's recorder, for the tests that read it.
RECORDER = pytest.StashKey[AwsCallRecorder]()
#: Test modules that read the recording, run after all others.
LAST = ("tests/infra/test_permissions.py",)


def _app() -> Chalice | None:
    """The Chalice app once something has imported app.py (nothing is imported for the recorder's sake)."""
    module = sys.modules.get("app")
    return getattr(module, "app", None)


class AwsCallRecording:
    def __init__(self, output: str | None) -> None:
        self.recorder = AwsCallRecorder(_app)
        self._output = Path(output) if output else None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        session.config.stash[RECORDER] = self.recorder.__enter__()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.recorder.__exit__(None, None, None)
        if self._output is not None:
            lines = (
                json.dumps(
                    {"function": c.function, "call": c.call, "actions": list(c.actions), "during": c.during},
                    sort_keys=True,
                )
                for c in self.recorder
            )
            self._output.write_text("".join(line + "\n" for line in lines))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        # Left set after the test: calls that its background threads make later are still its.
        self.recorder.during = item.nodeid
        return (yield)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=lambda item: item.nodeid.startswith(LAST))  # stable: the others keep their order


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--aws-calls", metavar="PATH", help="write every AWS call the session made to PATH (JSON lines)")


def register(config: pytest.Config) -> None:
    config.pluginmanager.register(AwsCallRecording(config.getoption("--aws-calls")), "aws-call-recording")
