"""The size check `make synth` runs: a function's code and layers, unzipped, against Lambda's limit."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from infra import sizes
from tests.infra.conftest import Synthesis


def _assembly(tmp_path: Path, code_bytes: int, layer_bytes: int) -> Path:
    with zipfile.ZipFile(tmp_path / "asset.code1.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("app.py", b"x" * code_bytes)
    layer = tmp_path / "asset.layer1" / "python"
    layer.mkdir(parents=True)
    (layer / "weights.bin").write_bytes(b"w" * layer_bytes)
    template = {
        "Resources": {
            "Weights": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": {"S3Key": "layer1.zip"}}},
            "Api": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": {"Bucket": "b", "Key": "code1.zip"}, "Layers": [{"Ref": "Weights"}]},
            },
        }
    }
    (tmp_path / sizes.STACK_TEMPLATE).write_text(json.dumps(template))
    return tmp_path


def test_a_function_counts_its_code_unzipped_and_its_layers(tmp_path: Path) -> None:
    assembly = _assembly(tmp_path, code_bytes=10_000, layer_bytes=2_500)
    [size] = sizes.function_sizes(assembly, json.loads((assembly / sizes.STACK_TEMPLATE).read_text()))
    assert (size.name, size.code, size.layers, size.total) == ("Api", 10_000, {"Weights": 2_500}, 12_500)


def test_a_function_over_the_limit_fails_synthesis_and_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = _assembly(tmp_path, code_bytes=10_000, layer_bytes=2_500)
    assert sizes.main([str(assembly)]) == 0
    monkeypatch.setattr(sizes, "LIMIT_BYTES", 12_000)
    assert sizes.main([str(assembly)]) == 1
    assert "over Lambda's limit of 250 MiB unzipped: Api" in capsys.readouterr().err


def test_every_function_of_the_stack_is_measured(synthesis: Synthesis) -> None:
    """The test synthesis builds no layers, but every function's bundle is there to be measured."""
    measured = sizes.function_sizes(synthesis.template_path.parent, synthesis.template)
    chalice = {n for n, r in synthesis.resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert chalice <= {size.name for size in measured}
    assert all(0 < size.code < sizes.LIMIT_BYTES for size in measured)


def test_the_pages_layer_keeps_the_data_of_caseflows_languages_only(tmp_path: Path) -> None:
    from infra.stack import _drop_other_locales

    for name in ("root", "en", "en_GB", "de_AT", "tr", "ja", "zh_Hant_HK", "fil"):
        (tmp_path / f"{name}.dat").write_bytes(b"")
    _drop_other_locales(tmp_path, ("en", "de", "fr", "es", "tr"))
    assert sorted(p.stem for p in tmp_path.iterdir()) == ["de_AT", "en", "en_GB", "root", "tr"]
