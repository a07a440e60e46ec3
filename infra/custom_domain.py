"""The API under a domain of your own, at its root: `https://support.yourdomain.example/`.

API Gateway's own URL carries the stage (`.../api/`), and Caseflow's pages link from the root
(`/report/...`, `/desk/...`), so the pages work only under a domain mapped to the stage at its
root. The certificate is an ACM certificate for the domain in the stack's region; the DNS record
that points the domain at API Gateway is yours to add (the `DomainTarget` output says where).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from constructs import Construct


class CustomDomain(Construct):
    """`domain_name` served by the REST API's `stage` at its root, with `certificate_arn`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        certificate_arn: str,
        rest_api_id: str,
        stage: str,
    ) -> None:
        super().__init__(scope, construct_id)
        domain = apigateway.CfnDomainName(
            self,
            "Domain",
            domain_name=domain_name,
            regional_certificate_arn=certificate_arn,
            endpoint_configuration=apigateway.CfnDomainName.EndpointConfigurationProperty(types=["REGIONAL"]),
            security_policy="TLS_1_2",
        )
        apigateway.CfnBasePathMapping(self, "Root", domain_name=domain.ref, rest_api_id=rest_api_id, stage=stage)
        cdk.CfnOutput(
            scope,
            "DomainTarget",
            value=domain.attr_regional_domain_name,
            description=f"Point {domain_name} here (a CNAME, or an alias record in Route 53)",
        )
