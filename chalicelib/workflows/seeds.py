"""The issue types shipped with Caseflow, as YAML files beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from chalicelib.domain.agents import BUILT_IN_ROLES
from chalicelib.domain.issue_types import parse_issue_type, with_shared_calendars

SEED_DIR = Path(__file__).parent / "seeds"
SHARED_CALENDARS = Path(__file__).parent / "calendars.yaml"


def load_seed_definitions(directory: Path = SEED_DIR) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.yaml"))]


@lru_cache(maxsize=4)
def load_shared_calendars(path: Path = SHARED_CALENDARS) -> dict[str, Any]:
    """The business calendars any issue type may name without defining them."""
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def seeded_roles() -> list[str]:
    """The built-in roles and every role the seeded issue types assign work to (one group each)."""
    roles = set(BUILT_IN_ROLES)
    shared = load_shared_calendars()
    for definition in load_seed_definitions():
        roles |= parse_issue_type(with_shared_calendars(definition, shared)).roles()
    return sorted(roles)
