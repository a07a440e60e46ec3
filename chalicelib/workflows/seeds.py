"""The issue types shipped with Caseflow, as YAML files beside this module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SEED_DIR = Path(__file__).parent / "seeds"


def load_seed_definitions(directory: Path = SEED_DIR) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.yaml"))]
