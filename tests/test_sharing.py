"""A VPC or transit gateway shared through AWS RAM is judged once, in its owner's account (auditor.sharing).

The builder's account (OWNER) owns and shares; PARTICIPANT sees the shared VPC (OwnerId = OWNER) and its shared
subnets, and the shared transit gateway (OwnerId = OWNER). Some cases also give the participant copies of what it
cannot see in reality (the VPC's route tables, the transit gateway's route tables): the most a participant's
snapshot could show, which must change nothing either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from auditor.engine import load_rules, run_audit
from auditor.index import Index
from tests.factories import ACCOUNT, NOW, OTHER_ACCOUNT, SnapshotBuilder, context, run_rule
from tests.rules.hybrid_factories_vpn_tgw import (
    default_table,
    tgw_attachment,
    tgw_route,
    tgw_route_table,
    tgw_vpc_attachment,
    transit_gateway,
)

OWNER, PARTICIPANT = ACCOUNT, OTHER_ACCOUNT
STRANGER = "999988887777"
OPEN_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
TGW_RECORDS = ("ec2:TransitGatewayRouteTableAssociations", "ec2:TransitGatewayRouteTablePropagations",
               "ec2:TransitGatewayRoutes")


def share_tables(b: SnapshotBuilder, vpc: str) -> list[str]:
    """Copies of a shared VPC's route tables in the participant's scope (beyond what it sees in reality)."""
    tables = [t["RouteTableId"] for t in list(b.scope(OWNER)["ec2:RouteTables"]) if t["VpcId"] == vpc]
    for table in tables:
        b.share("ec2:RouteTables", "RouteTableId", table, PARTICIPANT)
    return tables


def share_transit_gateway(b: SnapshotBuilder, tgw: str, *, with_tables: bool = False) -> None:
    """The shared transit gateway in the participant's DescribeTransitGateways; with `with_tables`, copies of its
    route tables and their records too (beyond what it sees in reality)."""
    b.share("ec2:TransitGateways", "TransitGatewayId", tgw, PARTICIPANT)
    if not with_tables:
        return
    for table in [t for t in list(b.scope(OWNER)["ec2:TransitGatewayRouteTables"]) if t["TransitGatewayId"] == tgw]:
        table_id = table["TransitGatewayRouteTableId"]
        b.share("ec2:TransitGatewayRouteTables", "TransitGatewayRouteTableId", table_id, PARTICIPANT)
        for key in TGW_RECORDS:
            b.share(key, "TransitGatewayRouteTableId", table_id, PARTICIPANT)


def shared_vpc(b: SnapshotBuilder, cidr: str = "10.0.0.0/16", **options: Any) -> tuple[str, str]:
    """A VPC of the owner with a subnet on its own route table, shared with the participant: (VPC, that table)."""
    vpc = b.vpc(cidr, **options)
    table = b.route_table(vpc)
    b.subnet(vpc, cidr.replace(".0.0/16", ".1.0/24"), table=table)
    b.scope(PARTICIPANT)
    b.share_vpc(vpc, PARTICIPANT)
    return vpc, table


# Exactly once, in the owner's account: each case returns the (account, resource) of every finding expected.

Expected = list[tuple[str, str]]
Arrange = Callable[[SnapshotBuilder], Expected]


def peering_without_route_on_the_shared_side(b: SnapshotBuilder) -> Expected:
    vpc, _ = shared_vpc(b)
    peer = b.vpc("10.1.0.0/16")
    pcx = b.peering(vpc, peer)
    b.route(b.main_table(peer), "10.0.0.0/16", VpcPeeringConnectionId=pcx)
    b.share("ec2:VpcPeeringConnections", "VpcPeeringConnectionId", pcx, PARTICIPANT)
    return [(OWNER, pcx)]


def blackhole_in_a_shared_vpc_table(b: SnapshotBuilder) -> Expected:
    vpc, table = shared_vpc(b)
    b.route(table, "10.9.0.0/16", state="blackhole", NatGatewayId="nat-0123456789abcdef0")
    share_tables(b, vpc)
    return [(OWNER, table)]


def route_to_a_deleted_peering_in_a_shared_vpc(b: SnapshotBuilder) -> Expected:
    vpc, table = shared_vpc(b)
    pcx = b.peering(vpc, b.vpc("10.1.0.0/16"), status="deleted")
    b.route(table, "10.1.0.0/16", VpcPeeringConnectionId=pcx)
    share_tables(b, vpc)
    return [(OWNER, table)]


def route_to_the_owners_live_peering(b: SnapshotBuilder) -> Expected:
    """The participant does not see the owner's peering: its copy of the table must not make the route look dead."""
    vpc, table = shared_vpc(b)
    peer = b.vpc("10.1.0.0/16")
    pcx = b.peering(vpc, peer)
    b.route(table, "10.1.0.0/16", VpcPeeringConnectionId=pcx)
    share_tables(b, vpc)
    return []


def shared_vpc_without_flow_log(b: SnapshotBuilder) -> Expected:
    vpc, _ = shared_vpc(b)
    b.scope(OWNER)["ec2:FlowLogs"].clear()
    return [(OWNER, vpc)]


def blackhole_in_a_shared_tgw_route_table(b: SnapshotBuilder) -> Expected:
    tgw = transit_gateway(b)
    table = tgw_route_table(b, tgw)
    tgw_route(b, table, "10.66.0.0/16", state="blackhole")
    share_transit_gateway(b, tgw, with_tables=True)
    return [(OWNER, table)]


def participants_attachment_without_route_table(b: SnapshotBuilder) -> Expected:
    """The attachment shows in both accounts; only the transit gateway's owner can associate it."""
    tgw = transit_gateway(b)
    share_transit_gateway(b, tgw)
    vpc = b.vpc("10.2.0.0/16", account=PARTICIPANT)
    attachment = tgw_vpc_attachment(b, tgw, vpc, table=None)
    b.share("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId", attachment, PARTICIPANT)
    return [(OWNER, attachment)]


def participants_own_vpc_without_route_to_shared_tgw(b: SnapshotBuilder) -> Expected:
    """The participant owns its VPC's route tables: this one is the participant's to fix, and reported there."""
    tgw = transit_gateway(b, association="enable")
    share_transit_gateway(b, tgw)
    vpc = b.vpc("10.2.0.0/16", account=PARTICIPANT)
    attachment = tgw_vpc_attachment(b, tgw, vpc, route=None)
    b.share("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId", attachment, PARTICIPANT)
    return [(PARTICIPANT, vpc)]


@pytest.mark.parametrize(("rule_id", "arrange"), [
    pytest.param("PCX001", peering_without_route_on_the_shared_side, id="pcx001_shared_vpc_side_has_no_route"),
    pytest.param("RTB001", blackhole_in_a_shared_vpc_table, id="rtb001_blackhole_in_shared_vpc"),
    pytest.param("RTB002", route_to_a_deleted_peering_in_a_shared_vpc, id="rtb002_deleted_peering_in_shared_vpc"),
    pytest.param("RTB002", route_to_the_owners_live_peering, id="rtb002_live_peering_unseen_by_participant"),
    pytest.param("VPC002", shared_vpc_without_flow_log, id="vpc002_shared_vpc_without_flow_log"),
    pytest.param("TGW003", blackhole_in_a_shared_tgw_route_table, id="tgw003_blackhole_in_shared_tgw"),
    pytest.param("TGW004", participants_attachment_without_route_table, id="tgw004_participants_attachment"),
    pytest.param("TGW005", participants_own_vpc_without_route_to_shared_tgw, id="tgw005_participants_own_vpc"),
])
def test_a_shared_resource_is_judged_once_in_its_owners_account(rule_id: str, arrange: Arrange) -> None:
    builder = SnapshotBuilder()
    expected = arrange(builder)

    findings = run_rule(rule_id, builder.build())

    assert [(f.account_id, f.resource_id) for f in findings] == expected


def test_the_owners_finding_keeps_its_id_when_the_participant_is_collected_too() -> None:
    builder = SnapshotBuilder()
    blackhole_in_a_shared_vpc_table(builder)

    with_participant = run_rule("RTB001", builder.build())
    owner_alone = run_rule("RTB001", builder.build_accounts(OWNER))

    assert [f.as_dict() for f in with_participant] == [f.as_dict() for f in owner_alone]


# Every rule, over a world where the participant's view of everything shared would trigger it.

def shared_world(b: SnapshotBuilder, *, participant_view: bool) -> set[str]:
    """The owner's shared VPC and transit gateway, each with problems, and the participant's own VPCs attached to
    the transit gateway; with `participant_view`, the participant's scope also holds copies of every shared item
    (more than it sees in reality). Returns the ids of what only the owner can change among the items in the
    participant's scope: the copies, and the participant's attachments (their association and acceptance are the
    transit gateway owner's)."""
    vpc = b.vpc("10.0.0.0/16", dns_support=False)
    table = b.route_table(vpc)
    b.subnet(vpc, "10.0.1.0/24", table=table)
    b.subnet(vpc, "10.0.2.0/24", "us-east-1b")
    b.scope(OWNER)["ec2:FlowLogs"].clear()
    b.route(table, "10.9.0.0/16", state="blackhole", NatGatewayId="nat-0123456789abcdef0")
    b.route(table, "10.8.0.0/16", NatGatewayId="nat-0fedcba9876543210")
    igw = b.new_id("igw")
    b.add("ec2:InternetGateways", {"InternetGatewayId": igw, "OwnerId": OWNER,
                                   "Attachments": [{"VpcId": vpc, "State": "available"}]})
    b.route(table, "0.0.0.0/0", GatewayId=igw)
    peer = b.vpc("10.1.0.0/16")
    pcx = b.peering(vpc, peer, accepter_dns=False)
    b.route(b.main_table(peer), "10.0.0.0/8", VpcPeeringConnectionId=pcx)
    endpoint = b.endpoint(vpc, "com.amazonaws.us-east-1.s3", kind="Gateway", policy=OPEN_POLICY,
                          route_tables=(table,))

    tgw = transit_gateway(b, auto_accept="enable", propagation="enable")
    hub = default_table(b, tgw)
    assert hub is not None
    tgw_route(b, hub, "10.77.0.0/16", state="blackhole")
    overlapping = b.vpc("10.0.128.0/17")
    attachments = [tgw_vpc_attachment(b, tgw, vpc, route=None, propagate_to=(hub,)),
                   tgw_vpc_attachment(b, tgw, overlapping, propagate_to=(hub,)),
                   tgw_attachment(b, tgw, "vpn", "vpn-0123456789abcdef0", resource_owner=STRANGER)]
    b.scope(PARTICIPANT)
    own = [b.vpc("10.2.0.0/16", account=PARTICIPANT), b.vpc("10.3.0.0/16", account=PARTICIPANT)]
    own_attachments = [tgw_vpc_attachment(b, tgw, own[0], table=None),
                       tgw_vpc_attachment(b, tgw, own[1], state="pendingAcceptance", table=None)]
    for attachment in own_attachments:  # the participant sees its own attachments, in any case
        b.share("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId", attachment, PARTICIPANT)
    if not participant_view:
        return set(own_attachments)

    b.share_vpc(vpc, PARTICIPANT)
    b.share("ec2:VpcDnsAttributes", "VpcId", vpc, PARTICIPANT)
    b.share("ec2:VpcPeeringConnections", "VpcPeeringConnectionId", pcx, PARTICIPANT)
    b.share("ec2:VpcEndpoints", "VpcEndpointId", endpoint, PARTICIPANT)
    tables = share_tables(b, vpc)
    share_transit_gateway(b, tgw, with_tables=True)
    for attachment in attachments:
        b.share("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId", attachment, PARTICIPANT)
    subnets = [s["SubnetId"] for s in b.scope(PARTICIPANT)["ec2:Subnets"]]
    return {vpc, pcx, endpoint, tgw, hub, *tables, *attachments, *subnets, *own_attachments}


# The rules whose own checks, run on the participant's copies, do find problems there: the engine must drop them.
TRIGGERED_IN_PARTICIPANT = {"RTB001", "RTB002", "VPC001", "VPC002", "VPCE001", "VPCE005", "TGW001", "TGW002",
                            "TGW003", "TGW004", "TGW005", "TGW006", "TGW008"}


def test_the_participants_view_of_the_shared_world_would_trigger_the_rules() -> None:
    builder = SnapshotBuilder()
    owners_only = shared_world(builder, participant_view=True)
    ctx = context(builder.build())

    triggered = {rule.id for rule in load_rules().values() for failure in rule.check(ctx)
                 if failure.account_id == PARTICIPANT and failure.resource_id in owners_only}

    assert triggered >= TRIGGERED_IN_PARTICIPANT


@pytest.mark.parametrize("rule_id", sorted(load_rules()))
def test_no_rule_reports_the_participant_for_what_another_account_owns(rule_id: str) -> None:
    with_view, without_view = SnapshotBuilder(), SnapshotBuilder()
    owners_only = shared_world(with_view, participant_view=True)
    shared_world(without_view, participant_view=False)
    rule = load_rules()[rule_id]

    findings = run_audit(Index(with_view.build()), now=NOW, rules=[rule]).findings
    baseline = run_audit(Index(without_view.build()), now=NOW, rules=[rule]).findings

    assert [f for f in findings if f.account_id == PARTICIPANT and f.resource_id in owners_only] == []
    assert [f.as_dict() for f in findings] == [f.as_dict() for f in baseline]


def test_participant_only_snapshot_notes_each_shared_resource_once_and_reports_nothing_of_the_owners() -> None:
    builder = SnapshotBuilder()
    shared_world(builder, participant_view=True)

    findings = run_audit(Index(builder.build_accounts(PARTICIPANT)), now=NOW).findings

    # Not even under the owner's account: the participant's copy of the owner's peering is no owner's view of it.
    assert all(f.account_id == PARTICIPANT for f in findings)
    notes = [f for f in findings if f.rule_id == "AUD002"]
    assert sorted(f.resource_type for f in notes) == ["AWS::EC2::TransitGateway", "AWS::EC2::VPC"]
    assert all(f.resource_arn and f":{OWNER}:" in f.resource_arn for f in notes)
    others = [f for f in findings if f.rule_id != "AUD002"]
    # The one exception by design: the participant's own pending attachment, which it can withdraw (TGW007).
    assert [(f.rule_id, "pending acceptance" in f.message) for f in others] == [("TGW007", True)]


# A participant's own interface endpoint in a shared VPC is listed only in the participant's account; the VPC, its
# DNS attributes and its gateway endpoints only in the owner's. Rules that relate them look in every account of
# the region (until 2026-11-27 VPC001 missed the owner's finding and VPCE002 reported the participant wrongly).


def participants_endpoint(b: SnapshotBuilder, vpc: str, service: str, *, private_dns: bool) -> str:
    subnet = next(s["SubnetId"] for s in b.scope(PARTICIPANT)["ec2:Subnets"] if s["VpcId"] == vpc)
    return b.participants_endpoint(PARTICIPANT, vpc, service, private_dns=private_dns, subnets=(subnet,))


def _findings(b: SnapshotBuilder, rule_id: str) -> list[tuple[str, str]]:
    result = run_audit(Index(b.build()), now=NOW, rules=[load_rules()[rule_id]])
    return [(f.account_id, f.resource_id) for f in result.findings]


def test_a_participants_endpoint_makes_the_owner_answer_for_the_shared_vpcs_dns_support() -> None:
    b = SnapshotBuilder()
    vpc, _ = shared_vpc(b, dns_support=False)
    endpoint = participants_endpoint(b, vpc, "com.amazonaws.us-east-1.ssm", private_dns=True)

    result = run_audit(Index(b.build()), now=NOW, rules=[load_rules()["VPC001"]])

    assert [(f.account_id, f.resource_id) for f in result.findings] == [(OWNER, vpc)]
    assert endpoint in result.findings[0].message


def test_a_shared_vpc_without_endpoints_or_peerings_is_still_not_reported_for_dns() -> None:
    b = SnapshotBuilder()
    shared_vpc(b, dns_support=False)

    assert _findings(b, "VPC001") == []


def test_the_owners_gateway_endpoint_excuses_a_participants_s3_interface_endpoint_without_private_dns() -> None:
    b = SnapshotBuilder()
    vpc, table = shared_vpc(b)
    b.endpoint(vpc, "com.amazonaws.us-east-1.s3", kind="Gateway", route_tables=(table,))
    participants_endpoint(b, vpc, "com.amazonaws.us-east-1.s3", private_dns=False)
    ssm = participants_endpoint(b, vpc, "com.amazonaws.us-east-1.ssm", private_dns=False)

    assert _findings(b, "VPCE002") == [(PARTICIPANT, ssm)]  # its own endpoint, its own finding: not S3's
