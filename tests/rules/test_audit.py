"""AUD001: what could not be read is reported, once per unread key, and silences the rules that need it."""

from __future__ import annotations

import pytest

from tests.factories import SnapshotBuilder, run_rule


def _builder_with_peering(dns_off: bool = True) -> SnapshotBuilder:
    builder = SnapshotBuilder()
    app = builder.vpc("10.0.0.0/16")
    shared = builder.vpc("10.1.0.0/16")
    builder.peering(app, shared, accepter_dns=not dns_off)
    return builder


@pytest.mark.parametrize(("errors", "expected"), [
    pytest.param([], [], id="pass_complete_snapshot"),
    pytest.param([("ec2:ClientVpnEndpoints", "UnauthorizedOperation", None)], ["ec2:ClientVpnEndpoints"],
                 id="fail_denied_key"),
    pytest.param([("ec2:VpcDnsAttributes", "Throttling", "vpc-0123456789abcdef0")], ["ec2:VpcDnsAttributes"],
                 id="fail_partial_key"),
    pytest.param([("ec2:TransitGatewayRoutes", "Truncated", "tgw-rtb-0123456789abcdef0")], [],
                 id="pass_truncated_route_table_is_tgw009s"),
])
def test_aud001_resource_type_not_collected(errors: list, expected: list[str]) -> None:
    builder = _builder_with_peering()
    for key, code, resource in errors:
        builder.error(key, code, resource_id=resource)

    findings = run_rule("AUD001", builder.build())

    assert [f.resource_id for f in findings] == expected
    assert all(f.severity == "info" and f.resource_type == "AWS::::Account" for f in findings)


def test_aud001_folds_dependent_keys_into_their_root() -> None:
    builder = _builder_with_peering()
    builder.error("ec2:ClientVpnEndpoints", "NotImplemented")
    for child in ("ec2:ClientVpnRoutes", "ec2:ClientVpnAuthorizationRules"):
        builder.error(child, "DependencyFailed")
        builder.errors[-1]["depends_on"] = "ec2:ClientVpnEndpoints"

    findings = run_rule("AUD001", builder.build())

    assert len(findings) == 1
    assert "neither could ec2:ClientVpnAuthorizationRules, ec2:ClientVpnRoutes" in findings[0].message
    assert findings[0].evidence["keys_not_read"] == ["ec2:ClientVpnAuthorizationRules", "ec2:ClientVpnEndpoints",
                                                     "ec2:ClientVpnRoutes"]


def test_unread_key_silences_the_rules_that_need_it_instead_of_passing() -> None:
    builder = _builder_with_peering(dns_off=True)
    builder.error("ec2:VpcPeeringConnections", "UnauthorizedOperation")
    document = builder.build()

    dns_findings = run_rule("PCX003", document)
    audit_findings = run_rule("AUD001", document)

    assert dns_findings == []
    assert "PCX003" in audit_findings[0].evidence["rules_affected"]
    assert "could not be read" in audit_findings[0].message
