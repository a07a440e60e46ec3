"""The receipt-rule manager that runs at deploy (`infra/inbound_mail.py`): Caseflow's rule joins
the region's active rule set when there is one, and deleting the stack removes only what it added.

The handler's source runs here against a stand-in for SES's receipt-rule API (moto implements
too little of it: no DeleteReceiptRule) and for `cfnresponse`, which Lambda provides.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from infra.inbound_mail import _RULE_HANDLER

PROPS = {
    "RuleName": "caseflow-prod",
    "OwnRuleSet": "caseflow-prod",
    "Domain": "example.com",
    "Bucket": "mail-bucket",
    "Prefix": "inbound/",
    "FunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:caseflow-prod-OnInboundEmail",
}


class RuleSetDoesNotExistError(Exception):
    pass


class FakeReceiptRules:
    """SES's receipt rules of one region: rule sets of named rules, at most one set active."""

    exceptions = types.SimpleNamespace(RuleSetDoesNotExistException=RuleSetDoesNotExistError)

    def __init__(self) -> None:
        self.sets: dict[str, dict[str, dict[str, Any]]] = {}
        self.active: str | None = None

    def describe_active_receipt_rule_set(self) -> dict[str, Any]:
        return {"Metadata": {"Name": self.active}} if self.active else {}

    def create_receipt_rule_set(self, RuleSetName: str) -> None:  # noqa: N803 (boto3's names)
        self.sets[RuleSetName] = {}

    def create_receipt_rule(self, RuleSetName: str, Rule: dict[str, Any]) -> None:  # noqa: N803
        self._set(RuleSetName)[Rule["Name"]] = Rule

    def update_receipt_rule(self, RuleSetName: str, Rule: dict[str, Any]) -> None:  # noqa: N803
        self._set(RuleSetName)[Rule["Name"]] = Rule

    def delete_receipt_rule(self, RuleSetName: str, RuleName: str) -> None:  # noqa: N803
        self._set(RuleSetName).pop(RuleName, None)

    def set_active_receipt_rule_set(self, RuleSetName: str | None = None) -> None:  # noqa: N803
        self.active = RuleSetName

    def delete_receipt_rule_set(self, RuleSetName: str) -> None:  # noqa: N803
        del self.sets[RuleSetName]

    def _set(self, name: str) -> dict[str, dict[str, Any]]:
        if name not in self.sets:
            raise RuleSetDoesNotExistError(name)
        return self.sets[name]


@pytest.fixture
def ses() -> FakeReceiptRules:
    return FakeReceiptRules()


@pytest.fixture
def deploy(ses: FakeReceiptRules, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Runs one CloudFormation request through the handler; returns (status, physical id)."""
    responses: list[tuple[str, str]] = []
    cfnresponse = types.ModuleType("cfnresponse")
    cfnresponse.SUCCESS, cfnresponse.FAILED = "SUCCESS", "FAILED"  # type: ignore[attr-defined]
    cfnresponse.send = lambda event, context, status, data, physical_id, reason=None: responses.append(  # type: ignore[attr-defined]
        (status, physical_id)
    )
    boto3 = types.ModuleType("boto3")
    boto3.client = lambda service: ses  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cfnresponse", cfnresponse)
    monkeypatch.setitem(sys.modules, "boto3", boto3)
    namespace: dict[str, Any] = {}
    exec(compile(_RULE_HANDLER, "rule_handler", "exec"), namespace)

    def run(request: str, physical_id: str | None = None, props: dict[str, Any] = PROPS) -> tuple[str, str]:
        event = {"RequestType": request, "ResourceProperties": props, "ResponseURL": "https://cfn.invalid/"}
        if physical_id:
            event["PhysicalResourceId"] = physical_id
        namespace["handler"](event, None)
        return responses[-1]

    return run


def test_with_no_active_rule_set_caseflow_activates_its_own_and_removes_it_on_delete(
    ses: FakeReceiptRules, deploy: Any
) -> None:
    status, physical_id = deploy("Create")
    assert status == "SUCCESS"
    assert ses.active == "caseflow-prod"
    [rule] = ses.sets["caseflow-prod"].values()
    assert rule["Recipients"] == ["example.com"]
    assert [list(action) for action in rule["Actions"]] == [["S3Action"], ["LambdaAction"]]

    assert deploy("Delete", physical_id)[0] == "SUCCESS"
    assert ses.active is None and ses.sets == {}


def test_an_active_rule_set_keeps_its_rules_and_gets_caseflows_beside_them(ses: FakeReceiptRules, deploy: Any) -> None:
    ses.create_receipt_rule_set("company-mail")
    ses.create_receipt_rule("company-mail", {"Name": "sales", "Recipients": ["sales.example.com"]})
    ses.set_active_receipt_rule_set("company-mail")

    status, physical_id = deploy("Create")
    assert status == "SUCCESS"
    assert ses.active == "company-mail"
    assert set(ses.sets["company-mail"]) == {"sales", "caseflow-prod"}
    assert "caseflow-prod" not in ses.sets

    changed = {**PROPS, "Domain": "help.example.com"}
    assert deploy("Update", physical_id, changed) == ("SUCCESS", physical_id)
    assert ses.sets["company-mail"]["caseflow-prod"]["Recipients"] == ["help.example.com"]

    assert deploy("Delete", physical_id)[0] == "SUCCESS"
    assert ses.active == "company-mail"
    assert set(ses.sets["company-mail"]) == {"sales"}


def test_a_failure_is_reported_to_cloudformation_rather_than_left_hanging(ses: FakeReceiptRules, deploy: Any) -> None:
    ses.create_receipt_rule_set("company-mail")
    ses.set_active_receipt_rule_set("company-mail")
    ses.delete_receipt_rule_set("company-mail")  # active, yet gone: SES refuses the rule
    assert deploy("Create")[0] == "FAILED"
