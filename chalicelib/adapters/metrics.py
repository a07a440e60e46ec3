"""CloudWatch metrics as embedded metric format (EMF) log lines, through Powertools.

Each measurement is its own EMF blob, because the metrics have different dimension sets; Lambda's
log stream turns them into CloudWatch metrics without an API call. Powertools' metrics are built
in `chalicelib.observability`, with the Logger and the middleware that wires them.
"""

from __future__ import annotations

from chalicelib import observability
from chalicelib.domain.measurements import Measurement


class EmfMetrics:
    def record(self, measurements: list[Measurement]) -> None:
        observability.emit(measurements)
