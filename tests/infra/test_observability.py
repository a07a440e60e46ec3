"""The ops topic, the KPI dashboard and the alarms of infra/observability.py, in the synthesized
template (the session's one synthesis), plus the construct's context settings on a bare stack."""

from __future__ import annotations

import json
import re
from types import ModuleType
from typing import Any

import pytest

from chalicelib import settings
from chalicelib.domain import measurements as m
from tests.infra.conftest import Synthesis

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def observability() -> ModuleType:
    """infra/observability.py, imported only when an infra test runs (aws_cdk starts a Node.js process)."""
    from infra import observability

    return observability


def _topic(synthesis: Synthesis) -> tuple[str, dict[str, Any]]:
    return synthesis.one("AWS::SNS::Topic")


def _alarms(synthesis: Synthesis) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in synthesis.of_type("AWS::CloudWatch::Alarm").values()]


def _metric_alarms(synthesis: Synthesis, namespace: str, metric_name: str) -> list[dict[str, Any]]:
    return [a for a in _alarms(synthesis) if a.get("Namespace") == namespace and a.get("MetricName") == metric_name]


def _dimension(alarm: dict[str, Any], name: str) -> Any:
    [value] = [d["Value"] for d in alarm["Dimensions"] if d["Name"] == name]
    return value


def _fires_on_any_occurrence(alarm: dict[str, Any]) -> bool:
    return alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0


def _dashboard_body(synthesis: Synthesis) -> dict[str, Any]:
    """The dashboard's JSON, with each CloudFormation value (region, alarm ARNs) as "TOKEN"."""
    _, dashboard = synthesis.one("AWS::CloudWatch::Dashboard")
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))


def _graphed(body: dict[str, Any]) -> tuple[set[str], list[str]]:
    """The metric names the graphs show, and their expressions."""
    names, expressions = set(), []
    for widget in body["widgets"]:
        for entry in widget["properties"].get("metrics", []):
            if isinstance(entry[0], dict):
                expression = entry[0]["expression"]
                expressions.append(expression)
                names |= set(re.findall(r'MetricName="(\w+)"', expression))
                names |= set(re.findall(r"^SELECT \w+\((\w+)\)", expression))
            elif entry[0] == m.NAMESPACE:
                names.add(entry[1])
    return names, expressions


def test_the_ops_topic_exists_and_its_arn_is_an_output(synthesis: Synthesis, observability: ModuleType) -> None:
    topic_id, _ = _topic(synthesis)
    assert synthesis.template["Outputs"][observability.TOPIC_ARN_OUTPUT]["Value"] == {"Ref": topic_id}
    assert not synthesis.of_type("AWS::SNS::Subscription"), "no opsEmail in the context, so no subscription"


def test_cloudwatch_and_eventbridge_may_publish_to_the_topic(synthesis: Synthesis) -> None:
    topic_id, _ = _topic(synthesis)
    _, policy = synthesis.one("AWS::SNS::TopicPolicy")
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    publishers = {
        s["Principal"]["Service"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and s["Action"] == "sns:Publish"
    }
    assert publishers == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}


def test_every_alarm_notifies_the_ops_topic(synthesis: Synthesis) -> None:
    topic_id, _ = _topic(synthesis)
    alarms = _alarms(synthesis)
    assert alarms
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], alarm["AlarmName"]


def test_every_dead_letter_queue_alarms_when_a_message_waits_in_it(synthesis: Synthesis) -> None:
    redrive_targets = {
        queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for queue in synthesis.of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" in queue["Properties"]
    }
    function_targets = {
        function["Properties"]["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0]
        for function in synthesis.of_type("AWS::Serverless::Function").values()
        if "DeadLetterQueue" in function["Properties"]
    }
    assert len(redrive_targets) == 2 and len(function_targets) == 1
    alarms = _metric_alarms(synthesis, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    watched = {_dimension(alarm, "QueueName")["Fn::GetAtt"][0] for alarm in alarms if _fires_on_any_occurrence(alarm)}
    assert watched == redrive_targets | function_targets


@pytest.mark.parametrize("metric_name", ["Errors", "Throttles"])
def test_every_function_of_the_app_alarms_on_errors_and_throttles(synthesis: Synthesis, metric_name: str) -> None:
    functions = set(synthesis.of_type("AWS::Serverless::Function"))
    assert {"APIHandler", "OnTaskMessage", "OnInboundEmail", "OnJob"} <= functions
    alarms = _metric_alarms(synthesis, "AWS/Lambda", metric_name)
    watched = {_dimension(alarm, "FunctionName")["Ref"] for alarm in alarms if _fires_on_any_occurrence(alarm)}
    # The API's function turns exceptions into 500 answers, so its errors are watched as the API's 5xx.
    expected = functions - {"APIHandler"} if metric_name == "Errors" else functions
    assert watched == expected
    if metric_name == "Errors":
        assert _metric_alarms(synthesis, "AWS/ApiGateway", "5XXError")


def test_failed_and_timed_out_workflow_executions_reach_the_topic_and_raise_an_alarm(synthesis: Synthesis) -> None:
    topic_id, _ = _topic(synthesis)
    [(rule_id, rule)] = [
        (name, r)
        for name, r in synthesis.of_type("AWS::Events::Rule").items()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.states"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert set(pattern["detail"]["status"]) == {"FAILED", "TIMED_OUT"}
    [prefix] = pattern["detail"]["stateMachineArn"]
    prefix_parts = prefix["prefix"]["Fn::Join"][1]
    # The prefix the app names its state machines with, as the stack gives it to the functions.
    state_machine_prefix = synthesis.resources["APIHandler"]["Properties"]["Environment"]["Variables"][
        settings.STATE_MACHINE_PREFIX
    ]
    assert prefix_parts[-1] == f":stateMachine:{state_machine_prefix}-"
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": topic_id}
    assert "executionArn" in json.dumps(target["InputTransformer"])

    [alarm] = _metric_alarms(synthesis, "AWS/Events", "TriggeredRules")
    assert _dimension(alarm, "RuleName") == {"Ref": rule_id}
    assert _fires_on_any_occurrence(alarm)


def test_the_sla_breach_rate_alarm_divides_the_dimensionless_series(
    synthesis: Synthesis, observability: ModuleType
) -> None:
    [alarm] = [a for a in _alarms(synthesis) if "Metrics" in a]
    queries = alarm["Metrics"]
    [expression] = [q["Expression"] for q in queries if q.get("ReturnData", True) and "Expression" in q]
    inputs = {q["Id"]: q["MetricStat"] for q in queries if "MetricStat" in q}
    by_name = {stat["Metric"]["MetricName"]: query_id for query_id, stat in inputs.items()}
    assert set(by_name) == {m.SLA_BREACHED, m.TASK_OPENED}
    assert re.search(rf"{by_name[m.SLA_BREACHED]}\b.*/\s*{by_name[m.TASK_OPENED]}\b", expression)
    for stat in inputs.values():
        assert stat["Metric"]["Namespace"] == m.NAMESPACE and "Dimensions" not in stat["Metric"]
        assert stat["Stat"] == "Sum"
    assert alarm["Threshold"] == observability.DEFAULT_SLA_BREACH_RATE
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_dimensionless_series_exist_because_no_service_dimension_is_added(synthesis: Synthesis) -> None:
    """Powertools adds a `service` dimension to every metric when POWERTOOLS_SERVICE_NAME is set:
    the alarm's series and the dashboard's SEARCH schemas would then match nothing."""
    for name, function in synthesis.of_type("AWS::Serverless::Function").items():
        assert "POWERTOOLS_SERVICE_NAME" not in function["Properties"]["Environment"]["Variables"], name


@pytest.mark.parametrize(
    ("metric_name", "threshold_name", "aws_review_rate"),
    [
        ("Reputation.BounceRate", "SES_BOUNCE_RATE_THRESHOLD", 0.05),
        ("Reputation.ComplaintRate", "SES_COMPLAINT_RATE_THRESHOLD", 0.001),
    ],
)
def test_ses_reputation_alarms_fire_below_the_rates_aws_reviews_accounts_at(
    synthesis: Synthesis, observability: ModuleType, metric_name: str, threshold_name: str, aws_review_rate: float
) -> None:
    threshold = getattr(observability, threshold_name)
    [alarm] = _metric_alarms(synthesis, "AWS/SES", metric_name)
    assert alarm["Threshold"] == threshold < aws_review_rate
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_an_email_that_was_not_sent_raises_an_alarm(synthesis: Synthesis) -> None:
    [alarm] = _metric_alarms(synthesis, m.NAMESPACE, m.EMAILS_FAILED)
    assert _fires_on_any_occurrence(alarm) and "Dimensions" not in alarm
    assert alarm["Statistic"] == "Sum" and "email_failed" in alarm["AlarmDescription"]


def test_the_dashboard_graphs_every_kpi_metric_without_naming_a_type(synthesis: Synthesis) -> None:
    body = _dashboard_body(synthesis)
    names, expressions = _graphed(body)
    assert set(m.METRIC_NAMES) <= names, f"not graphed: {sorted(set(m.METRIC_NAMES) - names)}"
    caseflow = [e for e in expressions if m.NAMESPACE in e]
    assert caseflow and all("SEARCH(" in e or e.startswith("SELECT ") for e in caseflow)
    assert not any(f'{m.TYPE}="' in e or f"{m.TYPE} =" in e for e in caseflow), "a type's id is data, not code"
    assert "service" not in json.dumps(caseflow)


def test_the_dashboard_shows_every_alarm(synthesis: Synthesis) -> None:
    body = _dashboard_body(synthesis)
    [status] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(status["properties"]["alarms"]) == len(_alarms(synthesis))


# --- context settings, on a bare stack (no Chalice app: fast) ------------------------------------


def _bare_template(observability: ModuleType, context: dict[str, str], rest_api: Any = None) -> dict[str, Any]:
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs
    from aws_cdk.assertions import Template

    app = cdk.App(context=context)
    stack = cdk.Stack(app, "Bare")
    observability.Observability(
        stack,
        "Observability",
        dead_letter_queues=[sqs.Queue(stack, "DeadLetters")],
        functions={"Handler": "handler", "APIHandler": "api-handler"},
        state_machine_prefix="caseflow",
        rest_api=rest_api,
    )
    return Template.from_stack(stack).to_json()


def _bare_alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def test_the_apis_server_errors_alarm_on_its_5xx_answers_not_on_its_functions_errors(
    observability: ModuleType,
) -> None:
    """Chalice answers an exception with a 500: the API's function never errs, its API does."""
    rest_api = observability.RestApi(name="caseflow-prod", stage="api", function="APIHandler")
    alarms = _bare_alarms(_bare_template(observability, {}, rest_api))

    [api] = [a for a in alarms if a.get("Namespace") == "AWS/ApiGateway"]
    assert api["MetricName"] == "5XXError" and _fires_on_any_occurrence(api)
    assert {d["Name"]: d["Value"] for d in api["Dimensions"]} == {"ApiName": "caseflow-prod", "Stage": "api"}
    errors = {_dimension(a, "FunctionName") for a in alarms if a.get("MetricName") == "Errors"}
    throttles = {_dimension(a, "FunctionName") for a in alarms if a.get("MetricName") == "Throttles"}
    assert errors == {"handler"} and throttles == {"handler", "api-handler"}


def test_an_ops_email_in_the_context_subscribes_to_the_topic_and_the_breach_rate_is_configurable(
    observability: ModuleType,
) -> None:
    template = _bare_template(
        observability,
        {observability.OPS_EMAIL_CONTEXT_KEY: "ops@example.com", observability.SLA_BREACH_RATE_CONTEXT_KEY: "0.25"},
    )
    resources = template["Resources"].values()
    [subscription] = [r["Properties"] for r in resources if r["Type"] == "AWS::SNS::Subscription"]
    assert subscription["Protocol"] == "email" and subscription["Endpoint"] == "ops@example.com"
    [rate] = [
        r["Properties"] for r in resources if r["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in r["Properties"]
    ]
    assert rate["Threshold"] == 0.25


@pytest.mark.parametrize("value", ["ten percent", "0", "1.5"])
def test_a_breach_rate_that_is_not_a_fraction_is_refused(observability: ModuleType, value: str) -> None:
    with pytest.raises(ValueError, match=observability.SLA_BREACH_RATE_CONTEXT_KEY):
        _bare_template(observability, {observability.SLA_BREACH_RATE_CONTEXT_KEY: value})
