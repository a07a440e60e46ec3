"""The API at the root of a domain of one's own (`infra/custom_domain.py`): the pages link from
`/`, so only a root mapping serves them."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.custom_domain import CustomDomain

pytestmark = pytest.mark.infra


def test_the_domain_maps_the_api_stage_at_its_root_with_a_regional_certificate() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    CustomDomain(
        stack,
        "CustomDomain",
        domain_name="support.example.org",
        certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        rest_api_id="abc123",
        stage="api",
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::ApiGateway::DomainName",
        {
            "DomainName": "support.example.org",
            "RegionalCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "SecurityPolicy": "TLS_1_2",
        },
    )
    mappings = template.find_resources("AWS::ApiGateway::BasePathMapping")
    [mapping] = [m["Properties"] for m in mappings.values()]
    assert mapping["RestApiId"] == "abc123" and mapping["Stage"] == "api"
    assert "BasePath" not in mapping, "mapped at the root, where the pages' links point"
    assert "DomainTarget" in template.find_outputs("*")
