"""The issue types shipped with Caseflow, as YAML files beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.domain.agents import BUILT_IN_ROLES
from chalicelib.domain.assignees import ROLE, TEAM
from chalicelib.domain.issue_types import IssueType, parse_issue_type, with_shared_calendars

SEED_DIR = Path(__file__).parent / "seeds"
SHARED_CALENDARS = Path(__file__).parent / "calendars.yaml"


#: A seed's flag: the type is for the local stack and the tests only (demo-quick's 20-second
#: deadlines), never published on a deployed stage. A flag of the seed, not of the definition.
DEV_ONLY = "dev_only"


def load_seed_definitions(directory: Path = SEED_DIR, *, dev: bool = True) -> list[dict[str, Any]]:
    """The seeded types' definitions, the dev-only ones only with `dev`."""
    seeds = [_seed(path) for path in sorted(directory.glob("*.yaml"))]
    return [definition for definition, dev_only in seeds if dev or not dev_only]


def _seed(path: Path) -> tuple[Any, bool]:
    import yaml  # on first use: only publishing the seeds reads them, and the import costs every cold start

    definition = yaml.safe_load(path.read_text(encoding="utf-8"))
    dev_only = definition.pop(DEV_ONLY, False) if isinstance(definition, dict) else False
    if not isinstance(dev_only, bool):
        raise ValueError(f"{path.name}: {DEV_ONLY} must be true or false, not {dev_only!r}")
    return definition, dev_only


@lru_cache(maxsize=4)
def load_shared_calendars(path: Path = SHARED_CALENDARS) -> dict[str, Any]:
    """The business calendars any issue type may name without defining them."""
    import yaml  # on first use, as in load_seed_definitions

    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def seeded_roles() -> list[str]:
    """The built-in roles and every role or team the seeded issue types assign work to (one group each)."""
    roles = set(BUILT_IN_ROLES)
    for issue_type in _seeded_types():
        roles |= issue_type.roles()
    return sorted(roles)


def seeded_teams() -> list[str]:
    """Those of `seeded_roles` that the seeded issue types name only as teams (`{team: engineering-oncall}`)."""
    named = [n.holder for issue_type in _seeded_types() for n in issue_type.named_holders]
    teams = {h.name for h in named if h.kind == TEAM} - {h.name for h in named if h.kind == ROLE}
    return sorted(teams - set(BUILT_IN_ROLES))


def _seeded_types() -> list[IssueType]:
    shared = load_shared_calendars()
    return [parse_issue_type(with_shared_calendars(d, shared)) for d in load_seed_definitions()]
