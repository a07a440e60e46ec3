"""The issue types shipped with Caseflow, as YAML files beside this module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chalicelib.domain.agents import BUILT_IN_ROLES
from chalicelib.domain.issue_types import parse_issue_type

SEED_DIR = Path(__file__).parent / "seeds"


def load_seed_definitions(directory: Path = SEED_DIR) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.yaml"))]


def seeded_roles() -> list[str]:
    """The built-in roles and every role the seeded issue types assign work to (one group each)."""
    roles = set(BUILT_IN_ROLES)
    for definition in load_seed_definitions():
        roles |= parse_issue_type(definition).roles()
    return sorted(roles)
