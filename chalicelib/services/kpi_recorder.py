"""One place where a KPI event goes: CloudWatch (EMF) and the KPI journal the roll-ups read."""

from __future__ import annotations

from chalicelib.domain import measurements
from chalicelib.domain.kpi_events import KpiEvent
from chalicelib.domain.measurements import Measurement
from chalicelib.services.ports import KpiRepository, Metrics


class NoMetrics:
    """Metrics that go nowhere: for a recorder built without a metrics port."""

    def record(self, measurements: list[Measurement]) -> None:
        return None


class KpiRecorder:
    """Records each KPI event once: as CloudWatch metrics and in the KPI journal."""

    def __init__(self, journal: KpiRepository | None = None, metrics: Metrics | None = None):
        self._journal = journal
        self._metrics = metrics or NoMetrics()

    def record(self, event: KpiEvent) -> None:
        if self._journal is not None:
            self._journal.append(event)
        self._metrics.record(measurements.of_event(event))

    def measure(self, measured: list[Measurement]) -> None:
        """Metrics that are not KPI events (an email that failed): CloudWatch only, no journal."""
        self._metrics.record(measured)

    def record_all(self, events: list[KpiEvent]) -> None:
        for event in events:
            self.record(event)
