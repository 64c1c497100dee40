"""Route table and VPC rules: a table of failing and passing cases per rule, built with the snapshot factories.

Each case arranges a snapshot and returns the names it made: `found` lists the resources the rule must
report (empty for a passing case), and the other names fill the case's expected message fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.factories import ACCOUNT, OTHER_ACCOUNT, SnapshotBuilder, run_rule

Case = Callable[[SnapshotBuilder], dict[str, Any]]


def check(findings: list[Any], expected: list[str], severity: str, fragment: str) -> None:
    """The findings are exactly the expected resources, at the severity, each saying the fragment."""
    assert len(findings) == len(expected)
    assert sorted(f.resource_id for f in findings) == sorted(expected)
    for finding in findings:
        assert finding.severity == severity
        assert fragment in finding.message


def run_case(rule_id: str, arrange: Case, severity: str, fragment: str, *, options: dict[str, Any] | None = None,
             trusted: tuple[str, ...] = ()) -> None:
    """Arrange, run one rule through the engine, and check what it found (shared by the rule test modules)."""
    builder = SnapshotBuilder()
    names = arrange(builder)
    expected = names.pop("found")

    findings = run_rule(rule_id, builder.build(), options=options, trusted=trusted)

    check(findings, expected, severity, fragment.format(**names))


# Targets the factories do not build: items shaped like the EC2 API.
def nat_gateway(b: SnapshotBuilder, vpc: str, state: str = "available") -> str:
    nat_id = b.new_id("nat")
    b.add("ec2:NatGateways", {"NatGatewayId": nat_id, "VpcId": vpc, "State": state, "ConnectivityType": "public"})
    return nat_id


def internet_gateway(b: SnapshotBuilder, vpc: str | None) -> str:
    igw_id = b.new_id("igw")
    b.add("ec2:InternetGateways", {"InternetGatewayId": igw_id, "OwnerId": ACCOUNT,
                                   "Attachments": [{"VpcId": vpc, "State": "available"}] if vpc else []})
    return igw_id


def egress_only_gateway(b: SnapshotBuilder, vpc: str) -> str:
    eigw_id = b.new_id("eigw")
    b.add("ec2:EgressOnlyInternetGateways", {"EgressOnlyInternetGatewayId": eigw_id,
                                             "Attachments": [{"VpcId": vpc, "State": "attached"}]})
    return eigw_id


def vpn_gateway(b: SnapshotBuilder, vpc: str, state: str = "available") -> str:
    vgw_id = b.new_id("vgw")
    b.add("ec2:VpnGateways", {"VpnGatewayId": vgw_id, "State": state, "Type": "ipsec.1",
                              "VpcAttachments": [{"VpcId": vpc, "State": "attached"}]})
    return vgw_id


def transit_gateway(b: SnapshotBuilder, state: str = "available") -> str:
    tgw_id = b.new_id("tgw")
    b.add("ec2:TransitGateways", {"TransitGatewayId": tgw_id, "State": state, "OwnerId": ACCOUNT})
    return tgw_id


def tgw_attachment(b: SnapshotBuilder, tgw: str, vpc: str, state: str = "available") -> str:
    attachment_id = b.new_id("tgw-attach")
    b.add("ec2:TransitGatewayAttachments", {
        "TransitGatewayAttachmentId": attachment_id, "TransitGatewayId": tgw, "TransitGatewayOwnerId": OTHER_ACCOUNT,
        "ResourceOwnerId": ACCOUNT, "ResourceType": "vpc", "ResourceId": vpc, "State": state})
    return attachment_id


# RTB001 route-blackhole

def fail_blackhole_to_deleted_peering(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc("10.0.0.0/16")
    table = b.route_table(vpc)
    subnet = b.subnet(vpc, "10.0.1.0/24", table=table)
    b.route(table, "10.1.0.0/16", state="blackhole", VpcPeeringConnectionId="pcx-0123456789abcdef0")
    return {"found": [table], "table": table, "vpc": vpc, "subnet": subnet}


def fail_two_blackholes_in_one_table(b: SnapshotBuilder) -> dict[str, Any]:
    table = b.main_table(b.vpc())
    b.route(table, "10.1.0.0/16", state="blackhole", VpcPeeringConnectionId="pcx-0123456789abcdef0")
    b.route(table, "0.0.0.0/0", state="blackhole", NatGatewayId="nat-0123456789abcdef0")
    return {"found": [table, table]}


def fail_blackhole_prefix_list(b: SnapshotBuilder) -> dict[str, Any]:
    table = b.main_table(b.vpc())
    b.route(table, "pl-0123456789abcdef0", state="blackhole", NetworkInterfaceId="eni-0123456789abcdef0")
    return {"found": [table]}


def pass_active_route_to_live_peering(b: SnapshotBuilder) -> dict[str, Any]:
    local, peer = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16")
    b.route(b.main_table(local), "10.1.0.0/16", VpcPeeringConnectionId=b.peering(local, peer))
    return {"found": []}


def pass_active_route_to_absent_target(b: SnapshotBuilder) -> dict[str, Any]:
    b.route(b.main_table(b.vpc()), "10.1.0.0/16", VpcPeeringConnectionId="pcx-0123456789abcdef0")
    return {"found": []}  # RTB002's, not RTB001's


def pass_blackhole_to_peering_request_not_yet_accepted(b: SnapshotBuilder) -> dict[str, Any]:
    local, peer = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16")
    pcx = b.peering(local, peer, status="pending-acceptance")
    b.route(b.main_table(local), "10.1.0.0/16", state="blackhole", VpcPeeringConnectionId=pcx)
    return {"found": []}  # a blackhole until accepted; PCX006 reports a request left pending


def fail_blackhole_to_rejected_peering(b: SnapshotBuilder) -> dict[str, Any]:
    local, peer = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16")
    table = b.main_table(local)
    b.route(table, "10.1.0.0/16", state="blackhole", VpcPeeringConnectionId=b.peering(local, peer, status="rejected"))
    return {"found": [table]}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(pass_blackhole_to_peering_request_not_yet_accepted, "",
                 id="pass_blackhole_to_peering_request_not_yet_accepted"),
    pytest.param(fail_blackhole_to_rejected_peering, "is a blackhole", id="fail_blackhole_to_rejected_peering"),
    pytest.param(fail_blackhole_to_deleted_peering,
                 "route table {table} ({vpc}, used by {subnet}): the route to 10.1.0.0/16 is a "
                 "blackhole: its former target pcx-0123456789abcdef0 no longer exists", id="fail_blackhole_peering"),
    pytest.param(fail_two_blackholes_in_one_table, "main table, used by no subnet", id="fail_two_destinations"),
    pytest.param(fail_blackhole_prefix_list, "the route to pl-0123456789abcdef0 is a blackhole: its former target "
                 "eni-0123456789abcdef0", id="fail_blackhole_prefix_list"),
    pytest.param(pass_active_route_to_live_peering, "", id="pass_active_route"),
    pytest.param(pass_active_route_to_absent_target, "", id="pass_active_route_to_absent_target"),
])
def test_rtb001_route_blackhole(arrange: Case, fragment: str) -> None:
    run_case("RTB001", arrange, "medium", fragment)


def test_rtb001_one_finding_per_table_and_destination() -> None:
    builder = SnapshotBuilder()
    table = builder.main_table(builder.vpc())
    builder.route(table, "10.1.0.0/16", state="blackhole", VpcPeeringConnectionId="pcx-0123456789abcdef0")
    builder.route(table, "10.2.0.0/16", state="blackhole", VpcPeeringConnectionId="pcx-0123456789abcdef0")

    findings = run_rule("RTB001", builder.build())

    assert len({f.id for f in findings}) == 2
    assert [f.evidence["Route"]["DestinationCidrBlock"] for f in findings] in (
        ["10.1.0.0/16", "10.2.0.0/16"], ["10.2.0.0/16", "10.1.0.0/16"])


# RTB002 route-target-missing

def fail_peering_absent(b: SnapshotBuilder) -> dict[str, Any]:
    table = b.main_table(b.vpc())
    b.route(table, "10.1.0.0/16", VpcPeeringConnectionId="pcx-0123456789abcdef0")
    return {"found": [table]}


def fail_peering_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    local, peer = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16")
    pcx = b.peering(local, peer, status="deleted")
    table = b.main_table(local)
    b.route(table, "10.1.0.0/16", VpcPeeringConnectionId=pcx)
    return {"found": [table], "pcx": pcx}


def fail_nat_failed(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    table, nat = b.main_table(vpc), nat_gateway(b, vpc, state="failed")
    b.route(table, "0.0.0.0/0", NatGatewayId=nat)
    return {"found": [table], "nat": nat}


def fail_igw_detached(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    table, igw = b.main_table(vpc), internet_gateway(b, None)
    b.route(table, "0.0.0.0/0", GatewayId=igw)
    return {"found": [table], "igw": igw, "vpc": vpc}


def fail_vgw_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    table, vgw = b.main_table(vpc), vpn_gateway(b, vpc, state="deleted")
    b.route(table, "192.168.0.0/16", GatewayId=vgw)
    return {"found": [table], "vgw": vgw}


def fail_eigw_absent(b: SnapshotBuilder) -> dict[str, Any]:
    table = b.main_table(b.vpc(ipv6=("2600:1f18::/56",)))
    b.route(table, "::/0", EgressOnlyInternetGatewayId="eigw-0123456789abcdef0")
    return {"found": [table]}


def fail_endpoint_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    table = b.main_table(vpc)
    endpoint = b.endpoint(vpc, "com.amazonaws.us-east-1.s3", kind="Gateway", route_tables=(table,), state="deleted")
    b.route(table, "pl-63a5400a", GatewayId=endpoint)
    return {"found": [table], "endpoint": endpoint}


def fail_tgw_without_attachment(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    table = b.main_table(vpc)
    b.route(table, "10.64.0.0/10", TransitGatewayId="tgw-0123456789abcdef0")
    return {"found": [table], "vpc": vpc}


def fail_tgw_attachment_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    table, tgw = b.main_table(vpc), transit_gateway(b)
    tgw_attachment(b, tgw, vpc, state="deleted")
    b.route(table, "10.64.0.0/10", TransitGatewayId=tgw)
    return {"found": [table], "tgw": tgw, "vpc": vpc}


def fail_tgw_attached_to_another_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    vpc, other = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16")
    table, tgw = b.main_table(vpc), transit_gateway(b)
    tgw_attachment(b, tgw, other)
    b.route(table, "10.64.0.0/10", TransitGatewayId=tgw)
    return {"found": [table], "tgw": tgw, "vpc": vpc}


def pass_live_targets(b: SnapshotBuilder) -> dict[str, Any]:
    vpc, peer = b.vpc("10.0.0.0/16", ipv6=("2600:1f18::/56",)), b.vpc("10.1.0.0/16")
    table = b.main_table(vpc)
    b.route(table, "10.1.0.0/16", VpcPeeringConnectionId=b.peering(vpc, peer))
    b.route(table, "0.0.0.0/0", NatGatewayId=nat_gateway(b, vpc))
    b.route(b.route_table(vpc), "0.0.0.0/0", GatewayId=internet_gateway(b, vpc))
    b.route(table, "192.168.0.0/16", GatewayId=vpn_gateway(b, vpc))
    b.route(table, "::/0", EgressOnlyInternetGatewayId=egress_only_gateway(b, vpc))
    endpoint = b.endpoint(vpc, "com.amazonaws.us-east-1.s3", kind="Gateway", route_tables=(table,))
    b.route(table, "pl-63a5400a", GatewayId=endpoint)
    tgw = transit_gateway(b)
    tgw_attachment(b, tgw, vpc)
    b.route(table, "10.64.0.0/10", TransitGatewayId=tgw)
    return {"found": []}


def pass_tgw_shared_from_another_account(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    tgw_attachment(b, "tgw-0123456789abcdef0", vpc)
    b.route(b.main_table(vpc), "10.64.0.0/10", TransitGatewayId="tgw-0123456789abcdef0")
    return {"found": []}


def pass_blackhole_is_rtb001s(b: SnapshotBuilder) -> dict[str, Any]:
    b.route(b.main_table(b.vpc()), "10.1.0.0/16", state="blackhole", VpcPeeringConnectionId="pcx-0123456789abcdef0")
    return {"found": []}


def pass_network_interface_not_collected(b: SnapshotBuilder) -> dict[str, Any]:
    b.route(b.main_table(b.vpc()), "0.0.0.0/0", NetworkInterfaceId="eni-0123456789abcdef0")
    return {"found": []}


def pass_table_shared_by_another_account(b: SnapshotBuilder) -> dict[str, Any]:
    table = b.main_table(b.vpc())
    b.find("ec2:RouteTables", "RouteTableId", table)["OwnerId"] = OTHER_ACCOUNT
    b.route(table, "0.0.0.0/0", NatGatewayId="nat-0123456789abcdef0")
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_peering_absent, "the route to 10.1.0.0/16 sends traffic to peering connection "
                 "pcx-0123456789abcdef0, which no longer exists in this account and region", id="fail_peering_absent"),
    pytest.param(fail_peering_deleted, "peering connection {pcx}, which is deleted", id="fail_peering_deleted"),
    pytest.param(fail_nat_failed, "the route to 0.0.0.0/0 sends traffic to NAT gateway {nat}, which is failed",
                 id="fail_nat_failed"),
    pytest.param(fail_igw_detached, "internet gateway {igw}, which is not attached to {vpc}", id="fail_igw_detached"),
    pytest.param(fail_vgw_deleted, "virtual private gateway {vgw}, which is deleted", id="fail_vgw_deleted"),
    pytest.param(fail_eigw_absent, "the route to ::/0 sends traffic to egress-only internet gateway "
                 "eigw-0123456789abcdef0, which no longer exists", id="fail_eigw_absent"),
    pytest.param(fail_endpoint_deleted, "the route to pl-63a5400a sends traffic to VPC endpoint {endpoint}, "
                 "which is deleted", id="fail_endpoint_deleted"),
    pytest.param(fail_tgw_without_attachment, "transit gateway tgw-0123456789abcdef0, to which {vpc} has no "
                 "attachment", id="fail_tgw_without_attachment"),
    pytest.param(fail_tgw_attachment_deleted, "transit gateway {tgw}, to which {vpc} has no attachment",
                 id="fail_tgw_attachment_deleted"),
    pytest.param(fail_tgw_attached_to_another_vpc, "transit gateway {tgw}, to which {vpc} has no attachment",
                 id="fail_tgw_attached_to_another_vpc"),
    pytest.param(pass_live_targets, "", id="pass_live_targets"),
    pytest.param(pass_tgw_shared_from_another_account, "", id="pass_tgw_shared_from_another_account"),
    pytest.param(pass_blackhole_is_rtb001s, "", id="pass_blackhole_is_rtb001s"),
    pytest.param(pass_network_interface_not_collected, "", id="pass_network_interface_not_collected"),
    pytest.param(pass_table_shared_by_another_account, "", id="pass_table_shared_by_another_account"),
])
def test_rtb002_route_target_missing(arrange: Case, fragment: str) -> None:
    run_case("RTB002", arrange, "medium", fragment)


def test_rtb002_not_judged_where_a_target_type_could_not_be_read() -> None:
    builder = SnapshotBuilder()
    builder.route(builder.main_table(builder.vpc()), "0.0.0.0/0", NatGatewayId="nat-0123456789abcdef0")
    builder.error("ec2:NatGateways")

    findings = run_rule("RTB002", builder.build())

    assert findings == []


# VPC001 vpc-dns-support-disabled

def fail_dns_off_with_interface_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc(dns_support=False)
    endpoint = b.endpoint(vpc, "com.amazonaws.us-east-1.ssm")
    return {"found": [vpc], "vpc": vpc, "endpoint": endpoint}


def fail_dns_off_with_peering(b: SnapshotBuilder) -> dict[str, Any]:
    local, peer = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16", dns_support=False)
    return {"found": [peer], "pcx": b.peering(local, peer)}


def pass_dns_on(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.endpoint(vpc)
    return {"found": []}


def pass_dns_off_but_nothing_needs_it(b: SnapshotBuilder) -> dict[str, Any]:
    b.vpc(dns_support=False)
    return {"found": []}


def pass_dns_off_with_gateway_endpoint_only(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc(dns_support=False)
    b.endpoint(vpc, "com.amazonaws.us-east-1.s3", kind="Gateway", route_tables=(b.main_table(vpc),))
    return {"found": []}


def pass_dns_off_with_deleted_peering(b: SnapshotBuilder) -> dict[str, Any]:
    local, peer = b.vpc("10.0.0.0/16", dns_support=False), b.vpc("10.1.0.0/16")
    b.peering(local, peer, status="deleted")
    return {"found": []}


def pass_dns_attributes_not_read(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc(dns_support=False)
    b.endpoint(vpc)
    b.scope()["ec2:VpcDnsAttributes"].clear()
    return {"found": []}


def fail_hostnames_off_with_private_dns_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc(dns_hostnames=False)
    endpoint = b.endpoint(vpc, "com.amazonaws.us-east-1.ssm")
    return {"found": [vpc], "vpc": vpc, "endpoint": endpoint}


def pass_hostnames_off_endpoint_without_private_dns(b: SnapshotBuilder) -> dict[str, Any]:
    b.endpoint(b.vpc(dns_hostnames=False), "com.amazonaws.us-east-1.ssm", private_dns=False)
    return {"found": []}


def pass_hostnames_off_with_peering_only(b: SnapshotBuilder) -> dict[str, Any]:
    local, peer = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16", dns_hostnames=False)
    b.peering(local, peer)  # DNS resolution allowed both ways: not judged on DNS hostnames
    return {"found": []}


def fail_shared_vpc_dns_off_for_a_participants_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    # The participant's endpoint is listed in its account only; the VPC and its attributes in the owner's, who
    # alone can turn DNS support on: the finding is the owner's (until 2026-11-27 it was missed).
    vpc = b.vpc(dns_support=False)
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.share_vpc(vpc, OTHER_ACCOUNT)
    endpoint = b.participants_endpoint(OTHER_ACCOUNT, vpc, "com.amazonaws.us-east-1.ssm", subnets=(subnet,))
    return {"found": [vpc], "vpc": vpc, "endpoint": endpoint}


def pass_shared_vpc_dns_on_with_a_participants_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.share_vpc(vpc, OTHER_ACCOUNT)
    b.participants_endpoint(OTHER_ACCOUNT, vpc, "com.amazonaws.us-east-1.ssm", subnets=(subnet,))
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_shared_vpc_dns_off_for_a_participants_endpoint, "VPC {vpc} has enableDnsSupport off, so the "
                 "Amazon DNS server does not answer in it and private DNS cannot work for its interface endpoints "
                 "{endpoint}", id="fail_shared_vpc_participants_endpoint"),
    pytest.param(pass_shared_vpc_dns_on_with_a_participants_endpoint, "", id="pass_shared_vpc_dns_on"),
    pytest.param(fail_hostnames_off_with_private_dns_endpoint, "VPC {vpc} has enableDnsHostnames off, which private "
                 "DNS needs as well as DNS support: it cannot work for its interface endpoints {endpoint}",
                 id="fail_hostnames_off_with_private_dns_endpoint"),
    pytest.param(pass_hostnames_off_endpoint_without_private_dns, "",
                 id="pass_hostnames_off_endpoint_without_private_dns"),
    pytest.param(pass_hostnames_off_with_peering_only, "", id="pass_hostnames_off_with_peering_only"),
    pytest.param(fail_dns_off_with_interface_endpoint, "VPC {vpc} has enableDnsSupport off, so the Amazon DNS server "
                 "does not answer in it and private DNS cannot work for its interface endpoints {endpoint} "
                 "(com.amazonaws.us-east-1.ssm)", id="fail_interface_endpoint"),
    pytest.param(fail_dns_off_with_peering, "private DNS cannot work for its peerings {pcx}", id="fail_peering"),
    pytest.param(pass_dns_on, "", id="pass_dns_on"),
    pytest.param(pass_dns_off_but_nothing_needs_it, "", id="pass_nothing_needs_dns"),
    pytest.param(pass_dns_off_with_gateway_endpoint_only, "", id="pass_gateway_endpoint_only"),
    pytest.param(pass_dns_off_with_deleted_peering, "", id="pass_deleted_peering"),
    pytest.param(pass_dns_attributes_not_read, "", id="pass_dns_attributes_not_read"),
])
def test_vpc001_vpc_dns_support_disabled(arrange: Case, fragment: str) -> None:
    run_case("VPC001", arrange, "medium", fragment)


# VPC002 vpc-flow-logs-disabled

def without_flow_logs(b: SnapshotBuilder, vpc: str) -> None:
    logs = b.scope()["ec2:FlowLogs"]
    logs[:] = [f for f in logs if f["ResourceId"] != vpc]


def fail_no_flow_log(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc("10.0.0.0/16")
    without_flow_logs(b, vpc)
    return {"found": [vpc], "vpc": vpc}


def fail_default_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc("172.31.0.0/16")
    b.vpc_item(vpc)["IsDefault"] = True
    without_flow_logs(b, vpc)
    return {"found": [vpc]}


def fail_flow_log_not_active(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    flow_log = b.find("ec2:FlowLogs", "ResourceId", vpc)
    flow_log["FlowLogStatus"] = "FAILED"
    return {"found": [vpc], "flow_log": flow_log["FlowLogId"]}


def fail_only_subnet_flow_log(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.find("ec2:FlowLogs", "ResourceId", vpc)["ResourceId"] = subnet
    return {"found": [vpc], "vpc": vpc}


def pass_active_flow_log(b: SnapshotBuilder) -> dict[str, Any]:
    b.vpc()
    return {"found": []}


def pass_vpc_shared_by_another_account(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.vpc_item(vpc)["OwnerId"] = OTHER_ACCOUNT
    without_flow_logs(b, vpc)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_no_flow_log, "VPC {vpc} (10.0.0.0/16) has no active flow log", id="fail_no_flow_log"),
    pytest.param(fail_default_vpc, "has no active flow log; it is the default VPC", id="fail_default_vpc"),
    pytest.param(fail_flow_log_not_active, "none of its flow logs is ACTIVE: {flow_log} (FAILED)",
                 id="fail_flow_log_not_active"),
    pytest.param(fail_only_subnet_flow_log, "VPC {vpc} (10.0.0.0/16) has no active flow log",
                 id="fail_only_subnet_flow_log"),
    pytest.param(pass_active_flow_log, "", id="pass_active_flow_log"),
    pytest.param(pass_vpc_shared_by_another_account, "", id="pass_vpc_shared_by_another_account"),
])
def test_vpc002_vpc_flow_logs_disabled(arrange: Case, fragment: str) -> None:
    run_case("VPC002", arrange, "low", fragment)


def test_rtb002_a_target_kind_not_read_silences_only_that_kind() -> None:
    # Found by a review on 2026-11-27: DescribeVpcEndpoints denied hid a route to a deleted NAT gateway.
    builder = SnapshotBuilder()
    vpc = builder.vpc("10.0.0.0/16")
    table = builder.route_table(vpc)
    builder.subnet(vpc, "10.0.1.0/24", table=table)
    builder.add("ec2:NatGateways", {"NatGatewayId": "nat-0123456789abcdef0", "VpcId": vpc, "State": "deleted"})
    builder.route(table, "0.0.0.0/0", NatGatewayId="nat-0123456789abcdef0")
    builder.route(table, "10.9.0.0/16", VpcEndpointId="vpce-0123456789abcdef0")  # its key unread: not judged
    builder.error("ec2:VpcEndpoints")

    findings = run_rule("RTB002", builder.build())

    assert [f.evidence["Route"].get("NatGatewayId") for f in findings] == ["nat-0123456789abcdef0"]
