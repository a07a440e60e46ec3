"""The one harness that starts and drives a Caseflow stack, for tests and benchmarks (never deployed).

- `in_process()`: the app on moto in this process (`InProcess`); `provisioned()` is its moto alone.
- `Embedded`: `python -m chalicelib.local`, what `make run` starts, as a subprocess on free ports.

Both are `Driver`s and are driven in the same words: `token`/`sign_in` a demo agent, `get`/`post`/`put`,
`open_issue`, `tasks`/`task_for`/`wait_for_task`/`issue`/`complete`, `wait_for` (the task queue delivered between
looks), `drain`, `wait_idle` (an issue's workflow at rest, to assert that something did not happen)
and `outbox`. `fake_aws` sets up the process environment before any Caseflow module is imported.
"""

from harness.driver import Driver, WorkflowLook, until_quiet
from harness.embedded import Embedded, free_port
from harness.environment import ROOT, fake_aws
from harness.in_process import InProcess, in_process, provisioned, sent_emails, sent_messages

__all__ = [
    "ROOT",
    "Driver",
    "Embedded",
    "InProcess",
    "WorkflowLook",
    "fake_aws",
    "free_port",
    "in_process",
    "provisioned",
    "sent_emails",
    "sent_messages",
    "until_quiet",
]
