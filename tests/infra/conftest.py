"""The infra tests' one synthesis of the stack, shared by every test file of the session.

Synthesis runs `infra/app.py` in a subprocess, as CI and `cdk synth` do, with AWS_DEFAULT_REGION
as the only AWS setting: no account, no credentials. It is the slow part (`chalice package`
pip-installs requirements.txt), so it runs once per session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"
STACK_NAME = "Caseflow"
SYNTH_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Synthesis:
    template_path: Path
    template: dict[str, Any]
    seconds: float

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}

    def one(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))


def synth_environment(outdir: Path) -> dict[str, str]:
    """This process's environment without AWS or Caseflow settings (tests/conftest.py sets fake
    credentials), plus the region and the output directory."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CASEFLOW_", "CDK_"))}
    environ.update({"AWS_DEFAULT_REGION": "us-east-1", "CDK_OUTDIR": str(outdir)})
    # The training layer is not built here (pip would fetch ~60 MB of wheels); `make synth` builds it.
    environ["CDK_CONTEXT_JSON"] = json.dumps({"aws:cdk:bundling-stacks": []})
    return environ


@pytest.fixture(scope="session")
def synthesis(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    outdir = tmp_path_factory.mktemp("cdk.out")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=INFRA_DIR,
        env=synth_environment(outdir),
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_SECONDS,
        check=False,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, f"synthesis failed:\n{result.stdout}\n{result.stderr}"
    print(f"\nCDK synthesis took {seconds:.1f} s")
    template_path = outdir / f"{STACK_NAME}.template.json"
    return Synthesis(template_path, json.loads(template_path.read_text()), seconds)
