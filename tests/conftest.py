"""Test environment: fake AWS credentials and a region, set before any Caseflow module is imported."""

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CASEFLOW_STAGE": "test",
        "CASEFLOW_LINK_SECRET": "test-link-secret-not-for-production",
        "CASEFLOW_CLASSIFIER_TUNING": "quick",
    }
)
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "CASEFLOW_OUTBOX_DIR"):
    os.environ.pop(name, None)


def _skip_executions_still_starting() -> None:
    """moto 5.2.5 marks an execution RUNNING before its worker thread has built its environment, so
    a SendTaskSuccess for another execution at that instant fails with AttributeError (in-process
    only; the moto server answers 500 and botocore retries). Such an execution holds no token yet."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    listed = StepFunctionsParserBackend._get_executions

    def ready(self, execution_status=None):  # noqa: ANN001, ANN202
        return [e for e in listed(self, execution_status) if getattr(e.exec_worker, "env", None) is not None]

    StepFunctionsParserBackend._get_executions = ready


_skip_executions_still_starting()
