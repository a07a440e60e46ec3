"""Ops monitoring for the Caseflow stack: one SNS topic, the KPI dashboard, and the alarms.

Every alarm notifies the ops topic (an email address can subscribe through the CDK context key
`opsEmail`). The alarms cover what needs a person: messages in a dead-letter queue, errors and
throttles of the app's functions (for the API, its 5XX answers: Chalice turns an exception into a
500, so the API's function never errs), workflow executions that failed or timed out, an SLA
breach rate over its threshold, emails that were not sent, and SES's bounce and complaint rates.
The dashboard graphs every metric of `chalicelib/domain/measurements.py`, by issue type.

Issue types are data created at run time, and so are their state machines. So the dashboard finds
its series with SEARCH and Metrics Insights instead of naming dimension values, and failed
executions are caught by an EventBridge rule on the state machines' name prefix instead of
per-ARN alarms. docs/decisions/0014-ops-alarms.md gives the reasons, and docs/kpis.md the metrics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.domain import measurements as m

OPS_EMAIL_CONTEXT_KEY = "opsEmail"
SLA_BREACH_RATE_CONTEXT_KEY = "slaBreachRateThreshold"
#: SLA breaches per task opened, over a day, above which ops hear of it.
DEFAULT_SLA_BREACH_RATE = 0.10
#: Half the rates at which AWS puts an SES account under review (5 % bounces, 0.1 % complaints),
#: so that ops can act before AWS does; AWS may pause sending at 10 % and 0.5 %.
SES_BOUNCE_RATE_THRESHOLD = 0.025
SES_COMPLAINT_RATE_THRESHOLD = 0.0005
#: Execution endings that need a person. ABORTED is left out on purpose: the app stops an
#: execution itself when an agent moves its issue to another type.
FAILED_EXECUTION_STATUSES = ("FAILED", "TIMED_OUT")

NAME_PREFIX = "caseflow"
DASHBOARD_NAME = NAME_PREFIX
TOPIC_NAME = f"{NAME_PREFIX}-ops"
TOPIC_ARN_OUTPUT = "OpsTopicArn"
#: How soon a broken queue or function is noticed.
ALARM_PERIOD = cdk.Duration.minutes(5)
#: Counts are graphed per hour; percentiles and averages per day, when there are enough values.
COUNT_PERIOD = cdk.Duration.hours(1)
QUALITY_PERIOD = cdk.Duration.days(1)
WIDGET_WIDTH = 8
WIDGET_HEIGHT = 6
DASHBOARD_COLUMNS = 24


@dataclass(frozen=True)
class RestApi:
    """The app's REST API as API Gateway's metrics name it, and the function behind it (its logical
    id among `functions`), whose Errors alarm the API's 5XXError alarm replaces."""

    name: str
    stage: str
    function: str


class Observability(Construct):
    """The ops topic, the alarms that notify it, and the KPI dashboard.

    `functions` maps each of the app's functions (its logical id, for names) to its function name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dead_letter_queues: Sequence[sqs.IQueue],
        functions: Mapping[str, str],
        state_machine_prefix: str,
        rest_api: RestApi | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._topic()
        self.sla_breach_rate_alarm = self._sla_breach_rate_alarm()
        self.alarms: list[cloudwatch.Alarm] = [
            *(self._dead_letters_alarm(queue) for queue in dead_letter_queues),
            *self._function_alarms(functions, rest_api),
            *([self._api_errors_alarm(rest_api)] if rest_api else []),
            self._failed_executions_alarm(state_machine_prefix),
            self.sla_breach_rate_alarm,
            self._emails_failed_alarm(),
            *self._ses_reputation_alarms(),
        ]
        notify = cloudwatch_actions.SnsAction(self.topic)
        for alarm in self.alarms:
            alarm.add_alarm_action(notify)
        self.dashboard = self._dashboard()

    # --- the topic ----------------------------------------------------------------------------

    def _topic(self) -> sns.Topic:
        """Where every alarm goes. The topic policy a target adds replaces SNS's default policy,
        so CloudWatch is allowed to publish explicitly (EventBridge's target allows itself)."""
        topic = sns.Topic(self, "OpsTopic", topic_name=TOPIC_NAME, display_name="Caseflow ops", enforce_ssl=True)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            )
        )
        email = self.node.try_get_context(OPS_EMAIL_CONTEXT_KEY)
        if email:
            topic.add_subscription(subscriptions.EmailSubscription(str(email)))
        output = cdk.CfnOutput(self, TOPIC_ARN_OUTPUT, value=topic.topic_arn, description="Caseflow's ops alarms")
        output.override_logical_id(TOPIC_ARN_OUTPUT)
        return topic

    # --- alarms -------------------------------------------------------------------------------

    def _dead_letters_alarm(self, queue: sqs.IQueue) -> cloudwatch.Alarm:
        """A message in a dead-letter queue is work that failed for good: someone must look."""
        return _above_zero(
            self,
            f"{queue.node.id}NotEmpty",
            queue.metric_approximate_number_of_messages_visible(period=ALARM_PERIOD, statistic="Maximum"),
            name=f"{_kebab(queue.node.id)}-not-empty",
            description=f"Messages wait in {queue.queue_name}: read them, fix the cause, then redrive them.",
        )

    def _function_alarms(self, functions: Mapping[str, str], rest_api: RestApi | None) -> list[cloudwatch.Alarm]:
        """Errors (an unhandled exception) and throttles, per function, so the alarm says which.
        The API's function has no Errors alarm: its failures are 500 answers (`_api_errors_alarm`)."""
        alarms = []
        for logical_id, function_name in functions.items():
            for metric_name, what in (
                ("Errors", "failed: see its logs"),
                ("Throttles", "was throttled: see the account's Lambda concurrency"),
            ):
                if metric_name == "Errors" and rest_api and logical_id == rest_api.function:
                    continue
                metric = cloudwatch.Metric(
                    namespace="AWS/Lambda",
                    metric_name=metric_name,
                    dimensions_map={"FunctionName": function_name},
                    statistic="Sum",
                    period=ALARM_PERIOD,
                )
                alarms.append(
                    _above_zero(
                        self,
                        f"{logical_id}{metric_name}",
                        metric,
                        name=f"{_kebab(logical_id)}-{metric_name.lower()}",
                        description=f"The Caseflow function {logical_id} {what}.",
                    )
                )
        return alarms

    def _api_errors_alarm(self, rest_api: RestApi) -> cloudwatch.Alarm:
        """A 5XX answer of the API: an exception in a handler (Chalice answers it with a 500),
        or API Gateway failing to reach the function."""
        metric = cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions_map={"ApiName": rest_api.name, "Stage": rest_api.stage},
            statistic="Sum",
            period=ALARM_PERIOD,
        )
        return _above_zero(
            self,
            "Api5xxErrors",
            metric,
            name="api-5xx-errors",
            description=f"The Caseflow API answered with a server error: see the logs of {rest_api.function}.",
        )

    def _emails_failed_alarm(self) -> cloudwatch.Alarm:
        """An email SES refused or that could not be built: the issue's timeline says which and why
        (in SES's sandbox, every unverified recipient is refused)."""
        metric = cloudwatch.Metric(
            namespace=m.NAMESPACE, metric_name=m.EMAILS_FAILED, statistic="Sum", period=ALARM_PERIOD
        )
        return _above_zero(
            self,
            "EmailsFailedAlarm",
            metric,
            name="emails-failed",
            description=(
                "Caseflow could not send an email: the issue's timeline has email_failed with SES's reason. "
                "In SES's sandbox, request production access."
            ),
        )

    def _failed_executions_alarm(self, state_machine_prefix: str) -> cloudwatch.Alarm:
        """An issue's workflow that failed or timed out has stopped moving.

        The state machines are created at run time, one per issue type version, so no per-ARN
        alarm can be declared here. A rule matches their status changes by ARN prefix and sends
        each one to the topic (which execution, for the person who looks); the alarm on the
        rule's matches puts the failures among the other alarms, with their history.
        """
        stack = cdk.Stack.of(self)
        machines = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=f"{state_machine_prefix}-",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        rule = events.Rule(
            self,
            "FailedExecutions",
            description="Caseflow workflow executions that failed or timed out",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": list(FAILED_EXECUTION_STATUSES), "stateMachineArn": events.Match.prefix(machines)},
            ),
        )
        detail = events.EventField.from_path
        message = events.RuleTargetInput.from_text(
            f"Caseflow workflow execution {detail('$.detail.name')} ended {detail('$.detail.status')}: "
            f"{detail('$.detail.executionArn')}"
        )
        rule.add_target(events_targets.SnsTopic(self.topic, message=message))
        matches = cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="TriggeredRules",
            dimensions_map={"RuleName": rule.rule_name},
            statistic="Sum",
            period=ALARM_PERIOD,
        )
        return _above_zero(
            self,
            "FailedExecutionsAlarm",
            matches,
            name="workflow-executions-failed",
            description="A Caseflow workflow execution failed or timed out: its issue no longer moves.",
        )

    def _sla_breach_rate_alarm(self) -> cloudwatch.Alarm:
        """Deadlines missed per task opened, over a day, from the two dimensionless series that
        measurements.py emits for this alarm (an alarm cannot add up series with SEARCH)."""
        threshold = _breach_rate_threshold(self.node.try_get_context(SLA_BREACH_RATE_CONTEXT_KEY))
        rate = cloudwatch.MathExpression(
            expression="FILL(breached, 0) / opened",
            using_metrics={
                "breached": cloudwatch.Metric(namespace=m.NAMESPACE, metric_name=m.SLA_BREACHED, statistic="Sum"),
                "opened": cloudwatch.Metric(namespace=m.NAMESPACE, metric_name=m.TASK_OPENED, statistic="Sum"),
            },
            period=QUALITY_PERIOD,
            label="SLA breaches per task opened",
        )
        return rate.create_alarm(
            self,
            "SlaBreachRate",
            alarm_name=f"{NAME_PREFIX}-sla-breach-rate",
            alarm_description=f"More than {threshold:.0%} of a day's tasks missed a deadline.",
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _ses_reputation_alarms(self) -> list[cloudwatch.Alarm]:
        """The account's bounce and complaint rates (fractions), before AWS reviews or pauses it."""
        alarms = []
        for metric_name, threshold, what in (
            ("Reputation.BounceRate", SES_BOUNCE_RATE_THRESHOLD, "bounce"),
            ("Reputation.ComplaintRate", SES_COMPLAINT_RATE_THRESHOLD, "complaint"),
        ):
            metric = cloudwatch.Metric(
                namespace="AWS/SES", metric_name=metric_name, statistic="Maximum", period=cdk.Duration.hours(1)
            )
            alarms.append(
                metric.create_alarm(
                    self,
                    f"Ses{what.capitalize()}Rate",
                    alarm_name=f"{NAME_PREFIX}-ses-{what}-rate",
                    alarm_description=(
                        f"SES {what} rate above {threshold:.2%}: AWS reviews the account at twice that. "
                        "Find the addresses or mails that cause it."
                    ),
                    threshold=threshold,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            )
        return alarms

    # --- the dashboard ------------------------------------------------------------------------

    def _dashboard(self) -> cloudwatch.Dashboard:
        """The alarms' states, then one graph per KPI metric, three to a row."""
        dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=DASHBOARD_NAME, default_interval=cdk.Duration.days(7)
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                alarms=self.alarms, title="Caseflow alarms", width=DASHBOARD_COLUMNS, height=WIDGET_HEIGHT
            )
        )
        widgets = [*_kpi_widgets(), cloudwatch.AlarmWidget(alarm=self.sla_breach_rate_alarm, title="SLA breach rate")]
        per_row = DASHBOARD_COLUMNS // WIDGET_WIDTH
        for start in range(0, len(widgets), per_row):
            dashboard.add_widgets(*widgets[start : start + per_row])
        return dashboard


def _kpi_widgets() -> list[cloudwatch.IWidget]:
    """One graph per metric of measurements.py."""
    by_type = (m.TYPE,)
    return [
        _graph("Issues opened by type and channel", _search(m.ISSUES_OPENED, (m.TYPE, m.CHANNEL), "Sum"), stacked=True),
        _graph("First response p50 by type (s)", _search(m.FIRST_RESPONSE_SECONDS, by_type, "p50", QUALITY_PERIOD)),
        _graph("First response p90 by type (s)", _search(m.FIRST_RESPONSE_SECONDS, by_type, "p90", QUALITY_PERIOD)),
        _graph("Resolution p50 by type (s)", _search(m.RESOLUTION_SECONDS, by_type, "p50", QUALITY_PERIOD)),
        _graph("Resolution p90 by type (s)", _search(m.RESOLUTION_SECONDS, by_type, "p90", QUALITY_PERIOD)),
        _graph("Issues reopened by type", _search(m.ISSUES_REOPENED, by_type, "Sum"), stacked=True),
        _graph("Tasks opened by type", _search(m.TASK_OPENED, by_type, "Sum"), stacked=True),
        _graph("Tasks completed by type", _per_type_over_steps(m.TASK_COMPLETED, "SUM"), stacked=True),
        _graph("SLA compliance by type (%)", *_sla_compliance()),
        _graph("SLA warnings by type", _search(m.SLA_WARNING, by_type, "Sum"), stacked=True),
        _graph("SLA breaches by type", _per_type_over_steps(m.SLA_BREACHED, "SUM"), stacked=True),
        _graph("Escalations by level", _search(m.ESCALATED, (m.LEVEL,), "Sum"), stacked=True),
        _graph("CSAT by type (%)", _search(m.CSAT, by_type, "Average", QUALITY_PERIOD)),
        _graph("CES by type (% easy)", _search(m.CES, by_type, "Average", QUALITY_PERIOD)),
        _graph("NPS by type", _search(m.NPS, by_type, "Average", QUALITY_PERIOD)),
        _graph("Automatically classified by type", _search(m.AUTO_CLASSIFIED, by_type, "Sum"), stacked=True),
        _graph(
            "Sent to triage",
            cloudwatch.Metric(
                namespace=m.NAMESPACE, metric_name=m.TRIAGE_NEEDED, statistic="Sum", period=COUNT_PERIOD, label="issues"
            ),
        ),
        _graph(
            "Types corrected by agents (classifier's type)", _search(m.TYPE_CORRECTED, by_type, "Sum"), stacked=True
        ),
        _graph("Backlog by type (open issues)", _search(m.BACKLOG, by_type, "Maximum"), stacked=True),
        _graph(
            "Emails not sent",
            cloudwatch.Metric(
                namespace=m.NAMESPACE, metric_name=m.EMAILS_FAILED, statistic="Sum", period=COUNT_PERIOD, label="emails"
            ),
        ),
    ]


def _sla_compliance() -> tuple[cloudwatch.IMetric, ...]:
    """Per type, Metrics Insights' AVG over the steps' SlaMet (each task weighs the same); for
    all types, metric math over SEARCH, as docs/kpis.md writes it."""
    per_type = cloudwatch.MathExpression(
        expression="100 * compliance",
        using_metrics={"compliance": _per_type_over_steps(m.SLA_MET, "AVG", QUALITY_PERIOD)},
        period=QUALITY_PERIOD,
    )
    steps = (m.TYPE, m.STEP)
    all_types = cloudwatch.MathExpression(
        expression=(
            f"100 * SUM({_search_text(m.SLA_MET, steps, 'Sum')}) / SUM({_search_text(m.SLA_MET, steps, 'SampleCount')})"
        ),
        using_metrics={},
        period=QUALITY_PERIOD,
        label="all types",
    )
    return per_type, all_types


def _search(
    metric_name: str, dimensions: Sequence[str], statistic: str, period: cdk.Duration = COUNT_PERIOD
) -> cloudwatch.MathExpression:
    """Every series of the metric with exactly these dimensions, one line each, whatever their
    values (the dimensionless totals of measurements.py are left out)."""
    return cloudwatch.MathExpression(
        expression=_search_text(metric_name, dimensions, statistic), using_metrics={}, period=period
    )


def _search_text(metric_name: str, dimensions: Sequence[str], statistic: str) -> str:
    schema = ",".join((m.NAMESPACE, *sorted(dimensions)))
    return f"SEARCH('{{{schema}}} MetricName=\"{metric_name}\"', '{statistic}')"


def _per_type_over_steps(
    metric_name: str, function: str, period: cdk.Duration = COUNT_PERIOD
) -> cloudwatch.MathExpression:
    """A {Type, Step} metric added up over the steps, one line per type (Metrics Insights: SEARCH
    cannot group)."""
    query = f"SELECT {function}({metric_name}) FROM SCHEMA({m.NAMESPACE}, {m.STEP}, {m.TYPE}) GROUP BY {m.TYPE}"
    return cloudwatch.MathExpression(expression=query, using_metrics={}, period=period)


def _graph(title: str, *metrics: cloudwatch.IMetric, stacked: bool = False) -> cloudwatch.GraphWidget:
    """A graph of the metrics; counts are stacked, so that the top line is the total."""
    return cloudwatch.GraphWidget(
        title=title,
        left=list(metrics),
        stacked=stacked,
        width=WIDGET_WIDTH,
        height=WIDGET_HEIGHT,
        left_y_axis=cloudwatch.YAxisProps(show_units=False),
    )


def _above_zero(
    scope: Construct, construct_id: str, metric: cloudwatch.IMetric, *, name: str, description: str
) -> cloudwatch.Alarm:
    """An alarm on any occurrence in one period; no data means nothing happened."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        alarm_name=f"{NAME_PREFIX}-{name}",
        alarm_description=description,
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def _breach_rate_threshold(raw: object) -> float:
    """The context value (a string from `cdk -c`, or a number from cdk.json), or the default."""
    if raw is None or raw == "":
        return DEFAULT_SLA_BREACH_RATE
    try:
        threshold = float(str(raw))
    except ValueError:
        raise ValueError(f"{SLA_BREACH_RATE_CONTEXT_KEY}: not a number: {raw!r}") from None
    if not 0 < threshold < 1:
        raise ValueError(f"{SLA_BREACH_RATE_CONTEXT_KEY}: a fraction above 0 and below 1, not {threshold}")
    return threshold


def _kebab(camel: str) -> str:
    """`OnTaskMessage` -> `on-task-message`, `APIHandler` -> `api-handler`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", camel).lower()
