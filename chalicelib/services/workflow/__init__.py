"""The workflow side: what Caseflow does for each step of an issue's workflow, in parts.

- `messages`: the state machine's messages to the task queue, typed (`parse`).
- `stepping`: each message acted on: a step opened, moved past, the issue resolved; a stopped
  workflow's tasks retired.
- `completions`: tasks completed by an agent, by an outside party's signed link, or by the
  customer's reply, and each completion delivered to the workflow.
- `checkpoints`: warnings, the breach, escalation levels, reminders, and the SLA sweep.
- `customer_emails`: the acknowledgement (`acknowledgement.yaml`), step emails and reminders.
- `holder_notifications`: emails to a task's holders; `task_links` their signed links.
- `task_timeline` and `task_views`: a task's entries on the timeline, stored as facts of the
  moment (`domain.task_moments`), and how agents see tasks, computed when read.
"""
