"""CloudWatch metrics as embedded metric format (EMF) log lines, through Powertools.

Each measurement is its own EMF blob (`single_metric`), because the metrics have different
dimension sets; Lambda's log stream turns them into CloudWatch metrics without an API call.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib.domain.measurements import NAMESPACE, Measurement


class EmfMetrics:
    def record(self, measurements: list[Measurement]) -> None:
        for measurement in measurements:
            with single_metric(
                name=measurement.name,
                unit=MetricUnit(measurement.unit),
                value=measurement.value,
                namespace=NAMESPACE,
                default_dimensions=dict(measurement.dimensions) or None,
            ):
                pass
