"""Endpoint and endpoint service rules: a table of failing and passing cases per rule, built with the factories.

Each case arranges a snapshot and returns the names it made: `found` lists the resources the rule must
report (empty for a passing case), and the other names fill the case's expected message fragment.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from auditor.engine import load_rules, run_audit
from auditor.index import Index
from tests.factories import ACCOUNT, NOW, OTHER_ACCOUNT, SnapshotBuilder, run_rule
from tests.rules.test_routes import Case, run_case

STRANGER = "999988887777"
SSM = "com.amazonaws.us-east-1.ssm"
S3 = "com.amazonaws.us-east-1.s3"
PARTNER = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OPEN_ALLOW = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


def expecting_none(arrange: Case) -> Case:
    """The same arrangement, as a passing case: the near miss of a failing one."""
    def passing(b: SnapshotBuilder) -> dict[str, Any]:
        return {**arrange(b), "found": []}
    return passing


def endpoint_item(b: SnapshotBuilder, endpoint_id: str) -> dict[str, Any]:
    return b.find("ec2:VpcEndpoints", "VpcEndpointId", endpoint_id)


# VPCE001 endpoint-policy-too-open

def fail_no_policy_document(b: SnapshotBuilder) -> dict[str, Any]:
    endpoint = b.endpoint(b.vpc(), S3, kind="Gateway")
    endpoint_item(b, endpoint).pop("PolicyDocument")
    return {"found": [endpoint], "endpoint": endpoint}


def fail_full_access_policy(b: SnapshotBuilder) -> dict[str, Any]:
    endpoint = b.endpoint(b.vpc(), SSM, policy=policy({**OPEN_ALLOW, "Sid": "All"}))
    return {"found": [endpoint], "endpoint": endpoint}


def fail_limited_by_source_vpce_only(b: SnapshotBuilder) -> dict[str, Any]:
    limited = {**OPEN_ALLOW, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}
    return {"found": [b.endpoint(b.vpc(), SSM, policy=policy(limited))]}


def fail_policy_not_json(b: SnapshotBuilder) -> dict[str, Any]:
    endpoint = b.endpoint(b.vpc(), S3, kind="Gateway", policy='{"Statement": [')
    return {"found": [endpoint], "endpoint": endpoint}


def pass_limited_to_organization(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(), SSM)
    return {"found": []}


def pass_deny_narrows_open_allow(b: SnapshotBuilder) -> dict[str, Any]:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}}
    b.endpoint(b.vpc(), SSM, policy=policy(OPEN_ALLOW, deny))
    return {"found": []}


def pass_gateway_load_balancer_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(), PARTNER, kind="GatewayLoadBalancer", policy=policy(OPEN_ALLOW))
    return {"found": []}


def pass_partner_service_takes_no_policy(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(), PARTNER, policy=policy(OPEN_ALLOW))
    return {"found": []}


def pass_deleted_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(), SSM, policy=policy(OPEN_ALLOW), state="deleted")
    return {"found": []}


def _service_detail(b: SnapshotBuilder, service: str, kind: str, supported: bool) -> None:
    b.add("ec2:ServiceDetails", {"ServiceName": service, "ServiceType": [{"ServiceType": kind}],
                                 "VpcEndpointPolicySupported": supported, "Owner": "amazon"})


def pass_service_takes_no_endpoint_policy(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(), SSM, policy=policy(OPEN_ALLOW))
    _service_detail(b, SSM, "Interface", supported=False)
    return {"found": []}


def fail_service_takes_a_policy_of_another_endpoint_type(b: SnapshotBuilder) -> dict[str, Any]:
    endpoint = b.endpoint(b.vpc(), S3, kind="Gateway", policy=policy(OPEN_ALLOW))
    _service_detail(b, S3, "Gateway", supported=True)
    _service_detail(b, S3, "Interface", supported=False)  # only the interface flavour lacks policies
    return {"found": [endpoint]}


def pass_no_policy_document_where_service_details_were_not_read(b: SnapshotBuilder) -> dict[str, Any]:
    fail_no_policy_document(b)
    b.error("ec2:ServiceDetails")  # whether the service takes a policy at all is unknown (AUD001 says so)
    return {"found": []}


def _deny_outside_org(action: str) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}}


def pass_gateway_deny_of_its_service_outside_org(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(), S3, kind="Gateway", policy=policy(OPEN_ALLOW, _deny_outside_org("s3:*")))
    return {"found": []}


def fail_interface_deny_of_one_service_outside_org(b: SnapshotBuilder) -> dict[str, Any]:
    # An interface endpoint's service name does not always give its actions' prefix: not taken as covering "*".
    return {"found": [b.endpoint(b.vpc(), SSM, policy=policy(OPEN_ALLOW, _deny_outside_org("ssm:*")))]}


def pass_gateway_limited_to_named_buckets(b: SnapshotBuilder) -> dict[str, Any]:
    named = {**OPEN_ALLOW, "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": ["arn:aws:s3:::reports-bucket", "arn:aws:s3:::reports-bucket/*"]}
    b.endpoint(b.vpc(), S3, kind="Gateway", policy=policy(named))
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(pass_no_policy_document_where_service_details_were_not_read, "",
                 id="pass_no_policy_document_where_service_details_were_not_read"),
    pytest.param(pass_gateway_deny_of_its_service_outside_org, "", id="pass_gateway_deny_of_its_service_outside_org"),
    pytest.param(fail_interface_deny_of_one_service_outside_org, "is open to anyone",
                 id="fail_interface_deny_of_one_service_outside_org"),
    pytest.param(pass_gateway_limited_to_named_buckets, "", id="pass_gateway_limited_to_named_buckets"),
    pytest.param(fail_no_policy_document, f"gateway endpoint {{endpoint}} for {S3} in vpc-00000000000000001 is open "
                 "to anyone: it has no policy document, so the default full-access policy applies: statement 1 allows "
                 "principal '*'", id="fail_no_policy_document"),
    pytest.param(fail_full_access_policy, "interface endpoint {endpoint} for " + SSM + " in vpc-00000000000000001 is "
                 "open to anyone: statement 1 (Sid 'All') allows principal '*' to do '*' on '*'",
                 id="fail_full_access_policy"),
    pytest.param(fail_limited_by_source_vpce_only, "aws:SourceVpce, which limits nothing inside an endpoint policy",
                 id="fail_limited_by_source_vpce_only"),
    pytest.param(fail_policy_not_json, "gateway endpoint {endpoint} for " + S3 + " in vpc-00000000000000001: its "
                 "policy document could not be parsed (policy document is not JSON", id="fail_policy_not_json"),
    pytest.param(pass_limited_to_organization, "", id="pass_limited_to_organization"),
    pytest.param(pass_deny_narrows_open_allow, "", id="pass_deny_narrows_open_allow"),
    pytest.param(pass_gateway_load_balancer_endpoint, "", id="pass_gateway_load_balancer_endpoint"),
    pytest.param(pass_partner_service_takes_no_policy, "", id="pass_partner_service_takes_no_policy"),
    pytest.param(pass_deleted_endpoint, "", id="pass_deleted_endpoint"),
    pytest.param(pass_service_takes_no_endpoint_policy, "", id="pass_service_takes_no_endpoint_policy"),
    pytest.param(fail_service_takes_a_policy_of_another_endpoint_type, "is open to anyone",
                 id="fail_service_takes_a_policy_of_another_endpoint_type"),
])
def test_vpce001_endpoint_policy_too_open(arrange: Case, fragment: str) -> None:
    run_case("VPCE001", arrange, "high", fragment)


def test_vpce001_lists_every_open_statement_in_one_finding() -> None:
    builder = SnapshotBuilder()
    builder.endpoint(builder.vpc(), SSM, policy=policy({**OPEN_ALLOW, "Action": "ssm:GetParameter"},
                                                       {**OPEN_ALLOW, "Action": "ssm:PutParameter"}))

    findings = run_rule("VPCE001", builder.build())

    assert len(findings) == 1
    assert [s["index"] for s in findings[0].evidence["OpenStatements"]] == [1, 2]
    assert "statement 1" in findings[0].message and "statement 2" in findings[0].message


# VPCE002 endpoint-private-dns-disabled

def fail_private_dns_off(b: SnapshotBuilder) -> dict[str, Any]:
    endpoint = b.endpoint(b.vpc(), SSM, private_dns=False)
    return {"found": [endpoint], "endpoint": endpoint}


def fail_s3_interface_without_gateway_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    return {"found": [b.endpoint(b.vpc(), S3, private_dns=False)]}


def pass_private_dns_on(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(), SSM)
    return {"found": []}


def pass_partner_service_dns_off(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(), PARTNER, private_dns=False)
    return {"found": []}


def pass_s3_interface_next_to_gateway_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.endpoint(vpc, S3, kind="Gateway", route_tables=(b.main_table(vpc),))
    b.endpoint(vpc, S3, private_dns=False)
    return {"found": []}


def participants_endpoint_beside_the_owners_s3_gateway(b: SnapshotBuilder, service: str) -> str:
    """A shared VPC: the S3 gateway endpoint is the owner's (in its account), the interface endpoint for `service`
    with private DNS off the participant's (in its own)."""
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.endpoint(vpc, S3, kind="Gateway", route_tables=(b.main_table(vpc),))
    b.share_vpc(vpc, OTHER_ACCOUNT)
    return b.participants_endpoint(OTHER_ACCOUNT, vpc, service, private_dns=False, subnets=(subnet,))


def pass_participants_s3_interface_next_to_the_owners_gateway_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    participants_endpoint_beside_the_owners_s3_gateway(b, S3)  # until 2026-11-27 the participant was reported
    return {"found": []}


def fail_participants_ssm_interface_in_a_shared_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    endpoint = participants_endpoint_beside_the_owners_s3_gateway(b, SSM)
    return {"found": [endpoint], "endpoint": endpoint}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(pass_participants_s3_interface_next_to_the_owners_gateway_endpoint, "",
                 id="pass_shared_vpc_owners_gateway_endpoint"),
    pytest.param(fail_participants_ssm_interface_in_a_shared_vpc, "interface endpoint {endpoint} for " + SSM,
                 id="fail_shared_vpc_participants_endpoint"),
    pytest.param(fail_private_dns_off, "interface endpoint {endpoint} for " + SSM + " in vpc-00000000000000001 has "
                 "private DNS off: clients in the VPC resolve the service's public name", id="fail_private_dns_off"),
    pytest.param(fail_s3_interface_without_gateway_endpoint, "has private DNS off",
                 id="fail_s3_interface_without_gateway_endpoint"),
    pytest.param(pass_private_dns_on, "", id="pass_private_dns_on"),
    pytest.param(pass_partner_service_dns_off, "", id="pass_partner_service_dns_off"),
    pytest.param(pass_s3_interface_next_to_gateway_endpoint, "", id="pass_s3_interface_next_to_gateway_endpoint"),
])
def test_vpce002_endpoint_private_dns_disabled(arrange: Case, fragment: str) -> None:
    run_case("VPCE002", arrange, "medium", fragment)


# VPCE003 endpoint-single-az

def two_zone_vpc(b: SnapshotBuilder) -> tuple[str, str, str]:
    vpc = b.vpc()
    return vpc, b.subnet(vpc, "10.0.1.0/24", "us-east-1a"), b.subnet(vpc, "10.0.2.0/24", "us-east-1b")


def fail_one_zone_of_two(b: SnapshotBuilder) -> dict[str, Any]:
    vpc, subnet_a, _ = two_zone_vpc(b)
    endpoint = b.endpoint(vpc, SSM, subnets=(subnet_a,))
    return {"found": [endpoint], "endpoint": endpoint, "subnet": subnet_a}


def pass_both_zones(b: SnapshotBuilder) -> dict[str, Any]:
    vpc, subnet_a, subnet_b = two_zone_vpc(b)
    b.endpoint(vpc, SSM, subnets=(subnet_a, subnet_b))
    return {"found": []}


def pass_vpc_in_one_zone(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24", "us-east-1a")
    b.subnet(vpc, "10.0.2.0/24", "us-east-1a")
    b.endpoint(vpc, SSM, subnets=(subnet,))
    return {"found": []}


def pass_endpoint_subnets_unknown(b: SnapshotBuilder) -> dict[str, Any]:
    vpc, _, _ = two_zone_vpc(b)
    b.endpoint(vpc, SSM, subnets=("subnet-0123456789abcdef0",))
    return {"found": []}


def pass_gateway_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    vpc, _, _ = two_zone_vpc(b)
    b.endpoint(vpc, S3, kind="Gateway", route_tables=(b.main_table(vpc),))
    return {"found": []}


def _offered_in(b: SnapshotBuilder, *zones: str) -> None:
    b.add("ec2:ServiceDetails", {"ServiceName": SSM, "ServiceType": [{"ServiceType": "Interface"}],
                                 "AvailabilityZones": list(zones), "VpcEndpointPolicySupported": True})


def pass_service_offered_in_one_zone_of_the_vpcs(b: SnapshotBuilder) -> dict[str, Any]:
    # Found by a review on 2026-11-27: the consumer could not add the other zone, the service is not there.
    vpc, subnet_a, _ = two_zone_vpc(b)
    b.endpoint(vpc, SSM, subnets=(subnet_a,))
    _offered_in(b, "us-east-1a", "us-east-1c")
    return {"found": []}


def fail_service_offered_in_both_zones(b: SnapshotBuilder) -> dict[str, Any]:
    found = fail_one_zone_of_two(b)
    _offered_in(b, "us-east-1a", "us-east-1b", "us-east-1c")
    return found


def pass_one_subnet_of_the_endpoint_unknown(b: SnapshotBuilder) -> dict[str, Any]:
    # Its zone is unknown: the endpoint may well be in two ("only in us-east-1a" was said all the same).
    vpc, subnet_a, _ = two_zone_vpc(b)
    b.endpoint(vpc, SSM, subnets=(subnet_a, "subnet-0123456789abcdef0"))
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(pass_service_offered_in_one_zone_of_the_vpcs, "", id="pass_service_offered_in_one_zone_of_the_vpcs"),
    pytest.param(fail_service_offered_in_both_zones, "has network interfaces only in us-east-1a",
                 id="fail_service_offered_in_both_zones"),
    pytest.param(pass_one_subnet_of_the_endpoint_unknown, "", id="pass_one_subnet_of_the_endpoint_unknown"),
    pytest.param(fail_one_zone_of_two, "interface endpoint {endpoint} for " + SSM + " in vpc-00000000000000001 has "
                 "network interfaces only in us-east-1a ({subnet}), while its VPC has subnets in us-east-1a, "
                 "us-east-1b", id="fail_one_zone_of_two"),
    pytest.param(pass_both_zones, "", id="pass_both_zones"),
    pytest.param(pass_vpc_in_one_zone, "", id="pass_vpc_in_one_zone"),
    pytest.param(pass_endpoint_subnets_unknown, "", id="pass_endpoint_subnets_unknown"),
    pytest.param(pass_gateway_endpoint, "", id="pass_gateway_endpoint"),
])
def test_vpce003_endpoint_single_az(arrange: Case, fragment: str) -> None:
    run_case("VPCE003", arrange, "low", fragment)


# VPCE004 endpoint-security-group-open

def fail_group_open_to_ipv4_world(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    group = b.security_group(vpc, name="endpoints", ingress_cidrs=("10.0.0.0/16", "0.0.0.0/0"))
    endpoint = b.endpoint(vpc, SSM, groups=(group,))
    return {"found": [endpoint], "endpoint": endpoint, "group": group}


def fail_group_open_to_ipv6_world(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    group = b.security_group(vpc, ingress_ipv6=("::/0",), port=8443)
    return {"found": [b.endpoint(vpc, SSM, groups=(group,))], "group": group}


def fail_group_open_to_all_traffic(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    safe, group = b.security_group(vpc, name="clients"), b.security_group(vpc, name="any", ingress_cidrs=("0.0.0.0/0",))
    permission = b.find("ec2:SecurityGroups", "GroupId", group)["IpPermissions"][0]
    permission.update(IpProtocol="-1", FromPort=None, ToPort=None)
    return {"found": [b.endpoint(vpc, SSM, groups=(safe, group))], "group": group}


def pass_group_limited_to_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.endpoint(vpc, SSM, groups=(b.security_group(vpc),))
    return {"found": []}


def pass_group_not_in_snapshot(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(), SSM, groups=("sg-0123456789abcdef0",))
    return {"found": []}


def pass_open_group_on_another_resource(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.security_group(vpc, ingress_cidrs=("0.0.0.0/0",))
    b.endpoint(vpc, SSM, groups=(b.security_group(vpc),))
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_group_open_to_ipv4_world, "interface endpoint {endpoint} for " + SSM + " in "
                 "vpc-00000000000000001 admits any address through its security groups: {group} (endpoints): "
                 "tcp/443 from 0.0.0.0/0", id="fail_ipv4_world"),
    pytest.param(fail_group_open_to_ipv6_world, "{group} (app): tcp/8443 from ::/0", id="fail_ipv6_world"),
    pytest.param(fail_group_open_to_all_traffic, "{group} (any): all traffic from 0.0.0.0/0", id="fail_all_traffic"),
    pytest.param(pass_group_limited_to_vpc, "", id="pass_group_limited_to_vpc"),
    pytest.param(pass_group_not_in_snapshot, "", id="pass_group_not_in_snapshot"),
    pytest.param(pass_open_group_on_another_resource, "", id="pass_open_group_on_another_resource"),
])
def test_vpce004_endpoint_security_group_open(arrange: Case, fragment: str) -> None:
    run_case("VPCE004", arrange, "medium", fragment)


# VPCE005 gateway-endpoint-route-table-gap

def fail_main_table_missing(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    private = b.route_table(vpc)
    b.subnet(vpc, "10.0.1.0/24", table=private)
    public = b.subnet(vpc, "10.0.2.0/24")  # uses the main table
    endpoint = b.endpoint(vpc, S3, kind="Gateway", route_tables=(private,))
    return {"found": [endpoint], "endpoint": endpoint, "main": b.main_table(vpc), "subnet": public}


def fail_gap_reported_once_for_two_endpoints(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    table = b.route_table(vpc)
    b.subnet(vpc, "10.0.1.0/24", table=table)
    first = b.endpoint(vpc, S3, kind="Gateway")
    second = b.endpoint(vpc, S3, kind="Gateway")
    return {"found": [first], "table": table, "second": second}


def pass_every_used_table(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    private = b.route_table(vpc)
    b.subnet(vpc, "10.0.1.0/24", table=private)
    b.subnet(vpc, "10.0.2.0/24")
    b.endpoint(vpc, S3, kind="Gateway", route_tables=(private, b.main_table(vpc)))
    return {"found": []}


def pass_missing_only_tables_no_subnet_uses(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    private = b.route_table(vpc)
    b.subnet(vpc, "10.0.1.0/24", table=private)
    b.route_table(vpc)  # spare, no subnet
    b.endpoint(vpc, S3, kind="Gateway", route_tables=(private,))  # the main table has no subnet either
    return {"found": []}


def pass_two_endpoints_cover_together(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    private = b.route_table(vpc)
    b.subnet(vpc, "10.0.1.0/24", table=private)
    b.subnet(vpc, "10.0.2.0/24")
    b.endpoint(vpc, S3, kind="Gateway", route_tables=(private,))
    b.endpoint(vpc, S3, kind="Gateway", route_tables=(b.main_table(vpc),))
    return {"found": []}


def pass_interface_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.subnet(vpc, "10.0.1.0/24")
    b.endpoint(vpc, S3)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_main_table_missing, "gateway endpoint {endpoint} for " + S3 + " in vpc-00000000000000001 is "
                 "not associated with route table {main} (used by {subnet}): traffic from those subnets to " + S3
                 + " does not use the endpoint", id="fail_main_table_missing"),
    pytest.param(fail_gap_reported_once_for_two_endpoints, "route table {table} (used by subnet-",
                 id="fail_gap_reported_once_for_two_endpoints"),
    pytest.param(pass_every_used_table, "", id="pass_every_used_table"),
    pytest.param(pass_missing_only_tables_no_subnet_uses, "", id="pass_missing_only_tables_no_subnet_uses"),
    pytest.param(pass_two_endpoints_cover_together, "", id="pass_two_endpoints_cover_together"),
    pytest.param(pass_interface_endpoint, "", id="pass_interface_endpoint"),
])
def test_vpce005_gateway_endpoint_route_table_gap(arrange: Case, fragment: str) -> None:
    run_case("VPCE005", arrange, "medium", fragment)


# VPCE006 endpoint-not-available

def endpoint_in_state(state: str, age: dt.timedelta = dt.timedelta(days=30)) -> Case:
    def arrange(b: SnapshotBuilder) -> dict[str, Any]:
        endpoint = b.endpoint(b.vpc(), PARTNER, state=state)
        endpoint_item(b, endpoint)["CreationTimestamp"] = (NOW - age).isoformat()
        return {"found": [endpoint], "endpoint": endpoint}
    return arrange


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(endpoint_in_state("rejected"), "interface endpoint {endpoint} for " + PARTNER + " in "
                 "vpc-00000000000000001 is rejected: it was rejected by the service provider", id="fail_rejected"),
    pytest.param(endpoint_in_state("Failed"), "is Failed: it failed to be created", id="fail_failed_capitalised"),
    pytest.param(endpoint_in_state("expired"), "expired before the service provider accepted it", id="fail_expired"),
    pytest.param(endpoint_in_state("pendingAcceptance"), "is pendingAcceptance: it is waiting for the service "
                 "provider to accept it (created 2026-10-27", id="fail_pending_for_a_month"),
    pytest.param(expecting_none(endpoint_in_state("pendingAcceptance", dt.timedelta(hours=1))), "",
                 id="pass_pending_for_an_hour"),
    pytest.param(expecting_none(endpoint_in_state("available")), "", id="pass_available"),
    pytest.param(expecting_none(endpoint_in_state("pending")), "", id="pass_pending_provisioning"),
    pytest.param(expecting_none(endpoint_in_state("deleted")), "", id="pass_deleted"),
])
def test_vpce006_endpoint_not_available(arrange: Case, fragment: str) -> None:
    run_case("VPCE006", arrange, "low", fragment)


def test_vpce006_grace_period_is_an_option() -> None:
    builder = SnapshotBuilder()
    endpoint_in_state("pendingAcceptance", dt.timedelta(hours=1))(builder)

    findings = run_rule("VPCE006", builder.build(), options={"pending_acceptance_grace_hours": 0})

    assert [f.severity for f in findings] == ["low"]
    assert "waiting for the service provider to accept it" in findings[0].message


def test_vpce006_age_is_the_age_when_the_snapshot_was_collected() -> None:
    builder = SnapshotBuilder()
    endpoint_in_state("pendingAcceptance", dt.timedelta(hours=1))(builder)
    document = builder.build()
    two_days_later = NOW + dt.timedelta(days=2)

    dated = list(run_audit(Index(document), now=two_days_later, rules=[load_rules()["VPCE006"]]).findings)
    undated = run_audit(Index({k: v for k, v in document.items() if k != "collected_at"}), now=two_days_later,
                        rules=[load_rules()["VPCE006"]]).findings

    assert dated == []  # an hour old when collected: within the 24 hours' grace, whenever it is audited
    assert [f.severity for f in undated] == ["low"]  # no collection time: judged at the audit's


# VPCES001 endpoint-service-open-principals and VPCES002 endpoint-service-acceptance-not-required

def service(principals: tuple[str, ...], acceptance_required: bool, state: str = "Available") -> Case:
    def arrange(b: SnapshotBuilder) -> dict[str, Any]:
        vpc = b.vpc()
        service_id = b.endpoint_service((b.load_balancer(vpc),), acceptance_required=acceptance_required,
                                        principals=principals)
        b.find("ec2:VpcEndpointServiceConfigurations", "ServiceId", service_id)["ServiceState"] = state
        return {"found": [service_id], "service": service_id}
    return arrange


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    pytest.param(service(("*",), acceptance_required=False), "critical", "endpoint service {service} "
                 "(com.amazonaws.vpce.us-east-1.{service}) allows every AWS account ('*') to create endpoints to it "
                 "and accepts their connections without review", id="fail_anyone_without_review"),
    pytest.param(service(("*", f"arn:aws:iam::{ACCOUNT}:root"), acceptance_required=True), "high",
                 "to create endpoints to it; only the acceptance step keeps strangers out", id="fail_anyone_reviewed"),
    pytest.param(expecting_none(service((f"arn:aws:iam::{STRANGER}:root",), acceptance_required=False)), "", "",
                 id="pass_named_principal"),
    pytest.param(expecting_none(service((), acceptance_required=False)), "", "", id="pass_no_principal"),
    pytest.param(expecting_none(service(("*",), acceptance_required=False, state="Deleted")), "", "",
                 id="pass_deleted_service"),
])
def test_vpces001_endpoint_service_open_principals(arrange: Case, severity: str, fragment: str) -> None:
    run_case("VPCES001", arrange, severity, fragment)


def with_snapshot_account(arrange: Case) -> Case:
    def arrange_with_other_account(b: SnapshotBuilder) -> dict[str, Any]:
        b.scope(OTHER_ACCOUNT, "eu-west-1")
        return arrange(b)
    return arrange_with_other_account


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(service((f"arn:aws:iam::{STRANGER}:root",), acceptance_required=False), "endpoint service {service} "
                 "(com.amazonaws.vpce.us-east-1.{service}) accepts endpoint connections without review, and allows "
                 f"principals outside the trusted accounts: arn:aws:iam::{STRANGER}:root", id="fail_stranger_root"),
    pytest.param(service(("*", f"arn:aws:iam::{STRANGER}:role/partner"), acceptance_required=False),
                 f"outside the trusted accounts: arn:aws:iam::{STRANGER}:role/partner",
                 id="fail_stranger_next_to_star"),
    pytest.param(expecting_none(service((f"arn:aws:iam::{STRANGER}:root",), acceptance_required=True)), "",
                 id="pass_stranger_reviewed"),
    pytest.param(expecting_none(service((f"arn:aws:iam::{ACCOUNT}:role/consumer",), acceptance_required=False)), "",
                 id="pass_own_account_role"),
    pytest.param(expecting_none(with_snapshot_account(service((f"arn:aws:iam::{OTHER_ACCOUNT}:root",),
                                                              acceptance_required=False))), "",
                 id="pass_account_in_snapshot"),
    pytest.param(expecting_none(service(("*",), acceptance_required=False)), "", id="pass_star_only_is_vpces001s"),
])
def test_vpces002_endpoint_service_acceptance_not_required(arrange: Case, fragment: str) -> None:
    run_case("VPCES002", arrange, "medium", fragment)


def test_vpces002_configured_trusted_account() -> None:
    builder = SnapshotBuilder()
    service((STRANGER,), acceptance_required=False)(builder)

    findings = run_rule("VPCES002", builder.build(), trusted=(STRANGER,))

    assert findings == []


# VPCES003 endpoint-service-untrusted-connection

def connection(owner: str, state: str) -> Case:
    def arrange(b: SnapshotBuilder) -> dict[str, Any]:
        service_id = b.endpoint_service((b.load_balancer(b.vpc()),), principals=(f"arn:aws:iam::{owner}:root",))
        endpoint = b.endpoint_connection(service_id, owner, state=state)
        return {"found": [service_id], "service": service_id, "endpoint": endpoint}
    return arrange


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(connection(STRANGER, "available"), "endpoint service {service} (com.amazonaws.vpce.us-east-1."
                 "{service}) has an accepted connection (available) from endpoint {endpoint} of account "
                 f"{STRANGER}, which is not a trusted account", id="fail_stranger_available"),
    pytest.param(connection(STRANGER, "Pending"), "has an accepted connection (Pending)", id="fail_stranger_pending"),
    pytest.param(expecting_none(connection(STRANGER, "pendingAcceptance")), "", id="pass_stranger_not_accepted"),
    pytest.param(expecting_none(connection(STRANGER, "rejected")), "", id="pass_stranger_rejected"),
    pytest.param(expecting_none(connection(ACCOUNT, "available")), "", id="pass_own_account"),
])
def test_vpces003_endpoint_service_untrusted_connection(arrange: Case, fragment: str) -> None:
    run_case("VPCES003", arrange, "high", fragment)


# VPCES004 endpoint-service-single-az

def served_from(*zone_sets: tuple[str, ...], drop_balancer: bool = False) -> Case:
    def arrange(b: SnapshotBuilder) -> dict[str, Any]:
        vpc = b.vpc()
        arns = tuple(b.load_balancer(vpc, zones=zones) for zones in zone_sets)
        service_id = b.endpoint_service(arns)
        if drop_balancer:
            balancers = b.scope()["elbv2:LoadBalancers"]
            balancers[:] = [lb for lb in balancers if lb["LoadBalancerArn"] != arns[0]]
        return {"found": [service_id], "service": service_id}
    return arrange


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(served_from(("us-east-1a",)), "endpoint service {service} (com.amazonaws.vpce.us-east-1.{service}) "
                 "is served only in us-east-1a, by load balancer(s) net-", id="fail_one_balancer_one_zone"),
    pytest.param(served_from(("us-east-1b",), ("us-east-1b",)), "is served only in us-east-1b",
                 id="fail_two_balancers_same_zone"),
    pytest.param(expecting_none(served_from(("us-east-1a", "us-east-1b"))), "", id="pass_two_zones"),
    pytest.param(expecting_none(served_from(("us-east-1a",), ("us-east-1b",))), "", id="pass_balancers_in_two_zones"),
    pytest.param(expecting_none(served_from(("us-east-1a",), drop_balancer=True)), "",
                 id="pass_balancer_not_in_snapshot"),
])
def test_vpces004_endpoint_service_single_az(arrange: Case, fragment: str) -> None:
    run_case("VPCES004", arrange, "low", fragment)
