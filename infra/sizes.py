"""How big each function is on Lambda: its bundle and its layers, unzipped, against Lambda's limit.

Lambda refuses a function whose code and layers hold more than 250 MiB unzipped, and it says so only
at deployment. `make synth` runs this over the cloud assembly it wrote, so the limit fails offline:

    python -m infra.sizes infra/cdk.out

Each asset's key in the template is `<hash>.zip`; the cloud assembly holds it as `asset.<hash>.zip`
(a zip) or `asset.<hash>/` (a folder CDK zips at deployment).
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Lambda's limit on a function's code plus its layers, unzipped.
LIMIT_BYTES = 250 * 1024 * 1024
STACK_TEMPLATE = "Caseflow.template.json"
_FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


@dataclass(frozen=True)
class FunctionSize:
    name: str
    code: int
    layers: dict[str, int]

    @property
    def total(self) -> int:
        return self.code + sum(self.layers.values())


def unzipped_bytes(asset: Path) -> int:
    """The size of an asset once Lambda has unzipped it."""
    if asset.is_dir():
        return sum(path.stat().st_size for path in asset.rglob("*") if path.is_file())
    with zipfile.ZipFile(asset) as zipped:
        return sum(info.file_size for info in zipped.infolist())


def function_sizes(assembly: Path, template: dict[str, Any]) -> list[FunctionSize]:
    """Each function of the template whose code is an asset of `assembly`, with its layers' sizes."""
    resources = template["Resources"]
    layers = {
        name: _asset(assembly, resource["Properties"]["Content"].get("S3Key"))
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::LayerVersion"
    }
    sizes = []
    for name, resource in sorted(resources.items()):
        if resource["Type"] not in _FUNCTION_TYPES:
            continue
        properties = resource["Properties"]
        code = properties.get("CodeUri") or properties.get("Code") or {}
        found = _asset(assembly, code.get("Key") or code.get("S3Key")) if isinstance(code, dict) else None
        if found is None:
            continue
        attached = [ref["Ref"] for ref in properties.get("Layers", []) if isinstance(ref, dict) and "Ref" in ref]
        sized = {layer: unzipped_bytes(path) for layer in attached if (path := layers.get(layer)) is not None}
        sizes.append(FunctionSize(name, unzipped_bytes(found), sized))
    return sizes


def _asset(assembly: Path, key: Any) -> Path | None:
    if not isinstance(key, str) or not key.endswith(".zip"):
        return None
    digest = key.removesuffix(".zip")
    for candidate in (assembly / f"asset.{digest}.zip", assembly / f"asset.{digest}"):
        if candidate.exists():
            return candidate
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assembly", type=Path, help="the cloud assembly folder (infra/cdk.out)")
    assembly = parser.parse_args(argv).assembly
    template = json.loads((assembly / STACK_TEMPLATE).read_text())
    over = []
    for size in function_sizes(assembly, template):
        parts = "".join(f" + {name} {mb(b)}" for name, b in size.layers.items())
        print(f"{size.name:<20} {mb(size.total):>9} of {mb(LIMIT_BYTES)} (code {mb(size.code)}{parts})")
        if size.total > LIMIT_BYTES:
            over.append(size.name)
    if over:
        print(f"over Lambda's limit of 250 MiB unzipped: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


if __name__ == "__main__":
    sys.exit(main())
