"""Test environment: fake AWS credentials and a region, set before any Caseflow module is imported;
every AWS call of the session recorded (`tests/aws_call_recording.py`)."""

import pytest

from harness import fake_aws

fake_aws("test", CASEFLOW_CLASSIFIER_TUNING="quick")

from chalicelib.local import moto_patches  # noqa: E402

moto_patches.apply()

from tests import aws_call_recording  # noqa: E402

pytest_addoption = aws_call_recording.pytest_addoption


def pytest_configure(config: pytest.Config) -> None:
    aws_call_recording.register(config)
