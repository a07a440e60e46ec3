"""CDK entry point: synthesizes the Caseflow stack.

Run it from this directory with `cdk synth` (cdk.json says how), or directly with
`AWS_DEFAULT_REGION=us-east-1 CDK_OUTDIR=cdk.out python app.py`. No AWS account or credentials
are needed: the stack is environment-agnostic.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# The repo root must come first on sys.path: `infra` and `chalicelib` are imported from there, and
# Chalice imports the application as the top-level module `app`, which must be the repo's app.py
# rather than this file (the script's own directory is otherwise first on the path).
sys.path.insert(0, str(REPO_ROOT))

import aws_cdk as cdk  # noqa: E402

from infra.regions import UnsupportedRegion, require_supported  # noqa: E402
from infra.stack import CaseflowStack, StackSettingError, stage_of  # noqa: E402


def main() -> None:
    app = cdk.App()
    try:
        require_supported(os.environ.get("CDK_DEFAULT_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
        stage = stage_of(app)
        # The template is Caseflow.template.json whatever the stage; CloudFormation's stack is per stage.
        CaseflowStack(app, "Caseflow", stack_name=f"Caseflow-{stage}", source_dir=REPO_ROOT)
    except (StackSettingError, UnsupportedRegion) as exc:
        sys.exit(f"Cannot synthesize Caseflow: {exc}")
    app.synth()


if __name__ == "__main__":
    main()
