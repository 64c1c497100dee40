"""Transit gateway rules: a table of failing and passing cases per rule, built with the snapshot factories.

Each case arranges a snapshot and returns the names it made: `found` lists the resources the rule must
report (empty for a passing case), and the other names fill the case's expected message fragment.
Propagated routes and their attachments are snapshot fragments shaped like SearchTransitGatewayRoutes
(moto creates no propagated route and drops a static route's attachments).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from auditor.rules.transit_gateway import overlapping
from tests.factories import ACCOUNT, OTHER_ACCOUNT, SnapshotBuilder, run_rule
from tests.rules.hybrid_factories_vpn_tgw import (
    default_table,
    tgw_attachment,
    tgw_route,
    tgw_route_table,
    tgw_routes_truncated,
    tgw_vpc_attachment,
    transit_gateway,
)
from tests.rules.test_routes import Case, run_case

STRANGER = "999988887777"


# TGW001 tgw-auto-accept-shared-attachments

def fail_auto_accept(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b, auto_accept="enable")
    return {"found": [tgw], "tgw": tgw, "table": default_table(b, tgw)}


def fail_auto_accept_without_default_association(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b, auto_accept="enable", association="disable")
    return {"found": [tgw], "tgw": tgw}


def pass_auto_accept_off(b: SnapshotBuilder) -> dict[str, Any]:
    transit_gateway(b)
    return {"found": []}


def pass_auto_accept_on_gateway_shared_with_us(b: SnapshotBuilder) -> dict[str, Any]:
    transit_gateway(b, auto_accept="enable", owner=OTHER_ACCOUNT)
    return {"found": []}


def pass_auto_accept_on_deleted_gateway(b: SnapshotBuilder) -> dict[str, Any]:
    transit_gateway(b, auto_accept="enable", state="deleted")
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_auto_accept, "transit gateway {tgw} accepts attachments from every account it is shared with "
                 "automatically (AutoAcceptSharedAttachments enable), and associates them with its default route "
                 "table {table}", id="fail_auto_accept"),
    pytest.param(fail_auto_accept_without_default_association, "(AutoAcceptSharedAttachments enable)",
                 id="fail_auto_accept_without_default_association"),
    pytest.param(pass_auto_accept_off, "", id="pass_auto_accept_off"),
    pytest.param(pass_auto_accept_on_gateway_shared_with_us, "", id="pass_gateway_shared_with_us"),
    pytest.param(pass_auto_accept_on_deleted_gateway, "", id="pass_deleted_gateway"),
])
def test_tgw001_tgw_auto_accept_shared_attachments(arrange: Case, fragment: str) -> None:
    run_case("TGW001", arrange, "high", fragment)


# TGW002 tgw-default-route-table-propagation

def fail_default_association_and_propagation(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b, propagation="enable")
    table = default_table(b, tgw)
    for cidr in ("10.0.0.0/16", "10.1.0.0/16"):
        tgw_vpc_attachment(b, tgw, b.vpc(cidr), propagate_to=(table,))
    return {"found": [tgw], "tgw": tgw, "table": table}


def fail_moto_defaults(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b, propagation="enable")
    return {"found": [tgw], "tgw": tgw, "table": default_table(b, tgw)}


def pass_association_only(b: SnapshotBuilder) -> dict[str, Any]:
    transit_gateway(b, association="enable", propagation="disable")
    return {"found": []}


def pass_propagation_only(b: SnapshotBuilder) -> dict[str, Any]:
    transit_gateway(b, association="disable", propagation="enable")
    return {"found": []}


def pass_defaults_in_different_tables(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b, propagation="enable")
    options = b.find("ec2:TransitGateways", "TransitGatewayId", tgw)["Options"]
    options["PropagationDefaultRouteTableId"] = tgw_route_table(b, tgw, default_propagation=True)
    return {"found": []}


def pass_gateway_shared_with_us(b: SnapshotBuilder) -> dict[str, Any]:
    transit_gateway(b, propagation="enable", owner=OTHER_ACCOUNT)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_default_association_and_propagation, "transit gateway {tgw} associates every new attachment "
                 "with {table} and propagates every attachment's routes into it (2 attachments are associated with "
                 "it now), so every attachment reaches every other with no segmentation",
                 id="fail_default_association_and_propagation"),
    pytest.param(fail_moto_defaults, "associates every new attachment with {table} and propagates every attachment's "
                 "routes into it, so", id="fail_no_attachment_yet"),
    pytest.param(pass_association_only, "", id="pass_association_only"),
    pytest.param(pass_propagation_only, "", id="pass_propagation_only"),
    pytest.param(pass_defaults_in_different_tables, "", id="pass_defaults_in_different_tables"),
    pytest.param(pass_gateway_shared_with_us, "", id="pass_gateway_shared_with_us"),
])
def test_tgw002_tgw_default_route_table_propagation(arrange: Case, fragment: str) -> None:
    run_case("TGW002", arrange, "medium", fragment)


# TGW003 tgw-route-blackhole

def fail_static_blackhole(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    table = default_table(b, tgw)
    attachment = tgw_vpc_attachment(b, tgw, b.vpc())
    tgw_route(b, table, "10.66.0.0/16", state="blackhole")
    return {"found": [table], "tgw": tgw, "table": table, "attachment": attachment}


def fail_two_destinations(b: SnapshotBuilder) -> dict[str, Any]:
    table = default_table(b, transit_gateway(b))
    tgw_route(b, table, "10.66.0.0/16", state="blackhole")
    tgw_route(b, table, "10.67.0.0/16", state="blackhole")
    return {"found": [table, table], "table": table}


def fail_table_without_associations(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    table = tgw_route_table(b, tgw)
    tgw_route(b, table, "172.16.0.0/12", state="blackhole")
    return {"found": [table], "table": table}


def pass_active_routes(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    attachment = tgw_vpc_attachment(b, tgw, b.vpc())
    tgw_route(b, default_table(b, tgw), "10.100.0.0/16", attachment=attachment)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_static_blackhole, "transit gateway route table {table} ({tgw}): the static route to "
                 "10.66.0.0/16 is a blackhole, so traffic from {attachment} to 10.66.0.0/16 is dropped",
                 id="fail_static_blackhole"),
    pytest.param(fail_two_destinations, "transit gateway route table {table}", id="fail_two_destinations"),
    pytest.param(fail_table_without_associations, "the static route to 172.16.0.0/12 is a blackhole, so traffic to "
                 "172.16.0.0/12 is dropped", id="fail_table_without_associations"),
    pytest.param(pass_active_routes, "", id="pass_active_routes"),
])
def test_tgw003_tgw_route_blackhole(arrange: Case, fragment: str) -> None:
    run_case("TGW003", arrange, "medium", fragment)


def test_tgw003_one_finding_per_table_and_destination() -> None:
    builder = SnapshotBuilder()
    fail_two_destinations(builder)

    findings = run_rule("TGW003", builder.build())

    assert len({f.id for f in findings}) == 2
    assert sorted(f.evidence["Route"]["DestinationCidrBlock"] for f in findings) == ["10.66.0.0/16", "10.67.0.0/16"]


# TGW004 tgw-attachment-without-route-table

def fail_vpc_attachment_unassociated(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, vpc = transit_gateway(b), b.vpc()
    attachment = tgw_vpc_attachment(b, tgw, vpc, table=None)
    return {"found": [attachment], "attachment": attachment, "tgw": tgw, "vpc": vpc}


def fail_vpn_attachment_unassociated(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    return {"found": [tgw_attachment(b, tgw, "vpn", "vpn-0123456789abcdef0", table=None)]}


def fail_association_disassociated(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    attachment = tgw_vpc_attachment(b, tgw, b.vpc(), table=None)
    b.find("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId", attachment)["Association"] = {
        "TransitGatewayRouteTableId": default_table(b, tgw), "State": "disassociated"}
    return {"found": [attachment]}


def pass_associated(b: SnapshotBuilder) -> dict[str, Any]:
    tgw_vpc_attachment(b, transit_gateway(b), b.vpc())
    return {"found": []}


def pass_associated_in_records_only(b: SnapshotBuilder) -> dict[str, Any]:
    attachment = tgw_vpc_attachment(b, transit_gateway(b), b.vpc())
    b.find("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId", attachment).pop("Association")
    return {"found": []}


def pass_associated_on_attachment_only(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    tgw_vpc_attachment(b, tgw, b.vpc())
    b.find("ec2:TransitGatewayRouteTableAssociations", "TransitGatewayRouteTableId",
           default_table(b, tgw))["Associations"].clear()
    return {"found": []}


def pass_pending_acceptance(b: SnapshotBuilder) -> dict[str, Any]:
    tgw_vpc_attachment(b, transit_gateway(b), b.vpc(), table=None, state="pendingAcceptance")
    return {"found": []}


def pass_gateway_shared_with_us_unassociated(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b, owner=OTHER_ACCOUNT)
    tgw_vpc_attachment(b, tgw, b.vpc(), table=None, tgw_owner=OTHER_ACCOUNT)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_vpc_attachment_unassociated, f"vpc attachment {{attachment}} ({{vpc}}, account {ACCOUNT}) to "
                 "transit gateway {tgw} is available but associated with no route table, so the traffic it sends "
                 "into the transit gateway is dropped", id="fail_vpc_attachment_unassociated"),
    pytest.param(fail_vpn_attachment_unassociated, "vpn attachment tgw-attach-", id="fail_vpn_attachment_unassociated"),
    pytest.param(fail_association_disassociated, "associated with no route table",
                 id="fail_association_disassociated"),
    pytest.param(pass_associated, "", id="pass_associated"),
    pytest.param(pass_associated_in_records_only, "", id="pass_associated_in_records_only"),
    pytest.param(pass_associated_on_attachment_only, "", id="pass_associated_on_attachment_only"),
    pytest.param(pass_pending_acceptance, "", id="pass_pending_acceptance"),
    pytest.param(pass_gateway_shared_with_us_unassociated, "", id="pass_gateway_shared_with_us"),
])
def test_tgw004_tgw_attachment_without_route_table(arrange: Case, fragment: str) -> None:
    run_case("TGW004", arrange, "high", fragment)


# TGW005 tgw-vpc-no-route-to-tgw

def fail_no_route_to_gateway(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, vpc = transit_gateway(b), b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    attachment = tgw_vpc_attachment(b, tgw, vpc, route=None)
    return {"found": [vpc], "vpc": vpc, "tgw": tgw, "attachment": attachment, "subnet": subnet,
            "table": b.main_table(vpc)}


def fail_route_only_in_main_table_no_subnet_uses(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, vpc = transit_gateway(b), b.vpc()
    table = b.route_table(vpc)
    subnet = b.subnet(vpc, "10.0.1.0/24", table=table)
    tgw_vpc_attachment(b, tgw, vpc)  # the route goes into the main table
    return {"found": [vpc], "vpc": vpc, "table": table, "subnet": subnet}


def fail_route_is_blackhole(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, vpc = transit_gateway(b), b.vpc()
    tgw_vpc_attachment(b, tgw, vpc, route=None)
    b.route(b.main_table(vpc), "10.0.0.0/8", state="blackhole", TransitGatewayId=tgw)
    return {"found": [vpc], "tgw": tgw}


def fail_route_to_another_gateway(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, vpc = transit_gateway(b), b.vpc()
    tgw_vpc_attachment(b, tgw, vpc, route=None)
    b.route(b.main_table(vpc), "10.0.0.0/8", TransitGatewayId="tgw-0123456789abcdef0")
    return {"found": [vpc], "tgw": tgw}


def fail_gateway_shared_with_us(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, vpc = transit_gateway(b, owner=OTHER_ACCOUNT), b.vpc()
    tgw_vpc_attachment(b, tgw, vpc, route=None, table=None, tgw_owner=OTHER_ACCOUNT)
    return {"found": [vpc], "tgw": tgw}


def pass_route_in_used_table(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, vpc = transit_gateway(b), b.vpc()
    b.subnet(vpc, "10.0.1.0/24")
    tgw_vpc_attachment(b, tgw, vpc)
    return {"found": []}


def pass_route_in_one_of_two_tables(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, vpc = transit_gateway(b), b.vpc()
    b.subnet(vpc, "10.0.1.0/24")
    b.subnet(vpc, "10.0.2.0/24", table=b.route_table(vpc))
    tgw_vpc_attachment(b, tgw, vpc)
    return {"found": []}  # some subnets reach the transit gateway: a public tier without a route is a design


def pass_route_by_prefix_list(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, vpc = transit_gateway(b), b.vpc()
    tgw_vpc_attachment(b, tgw, vpc, route=None)
    b.route(b.main_table(vpc), "pl-0123456789abcdef0", TransitGatewayId=tgw)
    return {"found": []}


def pass_attachment_pending(b: SnapshotBuilder) -> dict[str, Any]:
    tgw_vpc_attachment(b, transit_gateway(b), b.vpc(), route=None, state="pendingAcceptance")
    return {"found": []}


def pass_vpc_shared_by_another_account(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.vpc_item(vpc)["OwnerId"] = OTHER_ACCOUNT
    tgw_vpc_attachment(b, transit_gateway(b), vpc, route=None)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_no_route_to_gateway, "VPC {vpc} is attached to transit gateway {tgw} ({attachment}) but no "
                 "route table its subnets use routes anything to it: route table {table} ({vpc}, main table, used by "
                 "{subnet})", id="fail_no_route_to_gateway"),
    pytest.param(fail_route_only_in_main_table_no_subnet_uses, "routes anything to it: route table {table} ({vpc}, "
                 "used by {subnet})", id="fail_route_only_in_main_table"),
    pytest.param(fail_route_is_blackhole, "attached to transit gateway {tgw}", id="fail_route_is_blackhole"),
    pytest.param(fail_route_to_another_gateway, "attached to transit gateway {tgw}", id="fail_route_to_another_gw"),
    pytest.param(fail_gateway_shared_with_us, "attached to transit gateway {tgw}", id="fail_gateway_shared_with_us"),
    pytest.param(pass_route_in_used_table, "", id="pass_route_in_used_table"),
    pytest.param(pass_route_in_one_of_two_tables, "", id="pass_route_in_one_of_two_tables"),
    pytest.param(pass_route_by_prefix_list, "", id="pass_route_by_prefix_list"),
    pytest.param(pass_attachment_pending, "", id="pass_attachment_pending"),
    pytest.param(pass_vpc_shared_by_another_account, "", id="pass_vpc_shared_by_another_account"),
])
def test_tgw005_tgw_vpc_no_route_to_tgw(arrange: Case, fragment: str) -> None:
    run_case("TGW005", arrange, "medium", fragment)


# TGW006 tgw-cidr-overlap

def spoke_table(b: SnapshotBuilder) -> tuple[str, str]:
    tgw = transit_gateway(b)
    return tgw, tgw_route_table(b, tgw)


def fail_two_vpcs_overlap(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, table = spoke_table(b)
    first, second = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16", secondary=("10.0.128.0/17",))
    one = tgw_vpc_attachment(b, tgw, first, propagate_to=(table,))
    two = tgw_vpc_attachment(b, tgw, second, propagate_to=(table,))
    return {"found": [table], "tgw": tgw, "table": table, "one": one, "two": two, "first": first, "second": second}


def fail_vpc_in_another_account(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, table = spoke_table(b)
    tgw_vpc_attachment(b, tgw, b.vpc("10.0.0.0/16"), propagate_to=(table,))
    theirs = b.vpc("10.0.0.0/16", account=OTHER_ACCOUNT)
    tgw_vpc_attachment(b, tgw, theirs, propagate_to=(table,), advertised=(), route=None)
    return {"found": [table], "theirs": theirs}


def fail_vpn_prefix_inside_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, table = spoke_table(b)
    tgw_vpc_attachment(b, tgw, b.vpc("10.0.0.0/16"), propagate_to=(table,))
    vpn = tgw_attachment(b, tgw, "vpn", "vpn-0123456789abcdef0", table=table, propagate_to=(table,),
                         advertised=("192.168.0.0/16", "10.0.5.0/24"))
    return {"found": [table], "vpn": vpn}


def fail_vpn_prefix_equal_to_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, table = spoke_table(b)
    tgw_vpc_attachment(b, tgw, b.vpc("10.0.0.0/16"), propagate_to=(table,))
    tgw_attachment(b, tgw, "direct-connect-gateway", "0123abcd-0123-4567-89ab-0123456789ab", table=table,
                   propagate_to=(table,), advertised=("10.0.0.0/16",))
    return {"found": [table]}


def pass_vpn_summary_around_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, table = spoke_table(b)
    tgw_vpc_attachment(b, tgw, b.vpc("10.0.0.0/16"), propagate_to=(table,))
    tgw_attachment(b, tgw, "vpn", "vpn-0123456789abcdef0", table=table, propagate_to=(table,),
                   advertised=("10.0.0.0/8", "0.0.0.0/0"))
    return {"found": []}


def pass_two_vpns_announce_the_same_network(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, table = spoke_table(b)
    for vpn in ("vpn-0123456789abcdef0", "vpn-0123456789abcdef1"):
        tgw_attachment(b, tgw, "vpn", vpn, table=table, propagate_to=(table,), advertised=("192.168.0.0/16",))
    return {"found": []}


def pass_overlap_in_different_tables(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, table = spoke_table(b)
    other = tgw_route_table(b, tgw)
    tgw_vpc_attachment(b, tgw, b.vpc("10.0.0.0/16"), propagate_to=(table,))
    tgw_vpc_attachment(b, tgw, b.vpc("10.0.0.0/16"), propagate_to=(other,))
    return {"found": []}


def pass_propagation_disabled(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, table = spoke_table(b)
    tgw_vpc_attachment(b, tgw, b.vpc("10.0.0.0/16"), propagate_to=(table,))
    tgw_vpc_attachment(b, tgw, b.vpc("10.0.0.0/16"), propagate_to=(table,))
    record = b.find("ec2:TransitGatewayRouteTablePropagations", "TransitGatewayRouteTableId", table)
    record["TransitGatewayRouteTablePropagations"][1]["State"] = "disabled"
    return {"found": []}


def pass_disjoint_vpcs(b: SnapshotBuilder) -> dict[str, Any]:
    tgw, table = spoke_table(b)
    for cidr in ("10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"):
        tgw_vpc_attachment(b, tgw, b.vpc(cidr), propagate_to=(table,))
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_two_vpcs_overlap, "transit gateway route table {table} ({tgw}): vpc attachment {one} ({first}) "
                 "and vpc attachment {two} ({second}) propagate overlapping CIDRs into it (10.0.0.0/16 and "
                 "10.0.128.0/17): the overlapping addresses are reachable in only one of them",
                 id="fail_two_vpcs_overlap"),
    pytest.param(fail_vpc_in_another_account, "and vpc attachment tgw-attach-", id="fail_vpc_in_another_account"),
    pytest.param(fail_vpn_prefix_inside_vpc, "and vpn attachment {vpn} (vpn-0123456789abcdef0) propagate overlapping "
                 "CIDRs into it (10.0.0.0/16 and 10.0.5.0/24)", id="fail_vpn_prefix_inside_vpc"),
    pytest.param(fail_vpn_prefix_equal_to_vpc, "direct-connect-gateway attachment", id="fail_prefix_equal_to_vpc"),
    pytest.param(pass_vpn_summary_around_vpc, "", id="pass_vpn_summary_around_vpc"),
    pytest.param(pass_two_vpns_announce_the_same_network, "", id="pass_two_vpns_announce_the_same_network"),
    pytest.param(pass_overlap_in_different_tables, "", id="pass_overlap_in_different_tables"),
    pytest.param(pass_propagation_disabled, "", id="pass_propagation_disabled"),
    pytest.param(pass_disjoint_vpcs, "", id="pass_disjoint_vpcs"),
])
def test_tgw006_tgw_cidr_overlap(arrange: Case, fragment: str) -> None:
    run_case("TGW006", arrange, "high", fragment)


def test_tgw006_each_overlapping_pair_once_per_table() -> None:
    builder = SnapshotBuilder()
    tgw, table = spoke_table(builder)
    attachments = [tgw_vpc_attachment(builder, tgw, builder.vpc("10.0.0.0/16"), propagate_to=(table,))
                   for _ in range(3)]

    findings = run_rule("TGW006", builder.build())

    assert len(findings) == 3
    assert {f.resource_id for f in findings} == {table}
    assert sorted(f.evidence["Overlaps"] == [["10.0.0.0/16", "10.0.0.0/16"]] for f in findings) == [True] * 3
    pairs = sorted(tuple(p["TransitGatewayAttachmentId"] for p in f.evidence["Propagations"]) for f in findings)
    assert pairs == [(attachments[0], attachments[1]), (attachments[0], attachments[2]),
                     (attachments[1], attachments[2])]


def test_tgw006_sweep_yields_only_the_overlaps_of_a_large_table() -> None:
    spans = []
    for n in range(20_000):  # 20,000 disjoint /28s, one of them also covered by a /24 of another attachment
        net = ipaddress.ip_network(f"10.{n // 4096}.{(n // 16) % 256}.{(n % 16) * 16}/28")
        spans.append((4, int(net.network_address), int(net.broadcast_address), f"a{n}", net))
    summary = ipaddress.ip_network("10.0.0.0/24")
    spans.append((4, int(summary.network_address), int(summary.broadcast_address), "wide", summary))

    found = list(overlapping(spans))

    assert len(found) == 16
    assert {outer[3] for outer, _ in found} == {"wide"}


# TGW007 tgw-attachment-pending

def fail_pending_from_another_account(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    attachment = tgw_attachment(b, tgw, "vpc", "vpc-0123456789abcdef0", table=None, state="pendingAcceptance",
                                resource_owner=OTHER_ACCOUNT)
    return {"found": [attachment], "attachment": attachment, "tgw": tgw}


def fail_requester_when_owner_is_not_collected(b: SnapshotBuilder) -> dict[str, Any]:
    attachment = tgw_attachment(b, "tgw-0123456789abcdef0", "vpc", b.vpc(), table=None, state="pendingAcceptance",
                                tgw_owner=STRANGER)
    return {"found": [attachment]}


def pass_available(b: SnapshotBuilder) -> dict[str, Any]:
    tgw_vpc_attachment(b, transit_gateway(b), b.vpc())
    return {"found": []}


def pass_rejected(b: SnapshotBuilder) -> dict[str, Any]:
    tgw_attachment(b, transit_gateway(b), "vpc", "vpc-0123456789abcdef0", table=None, state="rejected",
                   resource_owner=OTHER_ACCOUNT)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_pending_from_another_account, f"vpc attachment {{attachment}} (vpc-0123456789abcdef0, account "
                 f"{OTHER_ACCOUNT}) to transit gateway {{tgw}} (owner {ACCOUNT}) has been pending acceptance since "
                 "2026-11-20T09:30:00Z, so it carries nothing", id="fail_pending_from_another_account"),
    pytest.param(fail_requester_when_owner_is_not_collected, f"(owner {STRANGER})",
                 id="fail_requester_when_owner_is_not_collected"),
    pytest.param(pass_available, "", id="pass_available"),
    pytest.param(pass_rejected, "", id="pass_rejected"),
])
def test_tgw007_tgw_attachment_pending(arrange: Case, fragment: str) -> None:
    run_case("TGW007", arrange, "low", fragment)


def test_tgw007_reported_once_in_the_owners_account_when_both_accounts_are_collected() -> None:
    builder = SnapshotBuilder(account=OTHER_ACCOUNT)  # the transit gateway's owner; the requester sorts first
    tgw = transit_gateway(builder)
    attachment = tgw_vpc_attachment(builder, tgw, builder.vpc(account=ACCOUNT), table=None, state="pendingAcceptance",
                                    route=None)
    requester_view = dict(builder.find("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId", attachment))
    builder.add("ec2:TransitGatewayAttachments", requester_view, account=ACCOUNT)

    findings = run_rule("TGW007", builder.build())

    assert [(f.account_id, f.resource_id, f.severity) for f in findings] == [(OTHER_ACCOUNT, attachment, "low")]
    assert f"{ACCOUNT}) to transit gateway {tgw} (owner {OTHER_ACCOUNT}) has been pending" in findings[0].message


def _pending_peering(accepter_collected: bool) -> tuple[dict[str, Any], str]:
    """A peering from ACCOUNT's transit gateway to OTHER_ACCOUNT's, pending, as each side lists it."""
    builder = SnapshotBuilder()
    requester = transit_gateway(builder)
    accepter = "tgw-0fedcba9876543210"
    if accepter_collected:
        builder.account = OTHER_ACCOUNT
        accepter = transit_gateway(builder)
        builder.account = ACCOUNT
    attachment_id = "tgw-attach-0000000000000peer"
    common = {"TransitGatewayAttachmentId": attachment_id, "ResourceType": "peering", "State": "pendingAcceptance"}
    record = {"TransitGatewayAttachmentId": attachment_id, "State": "pendingAcceptance",
              "RequesterTgwInfo": {"TransitGatewayId": requester, "OwnerId": ACCOUNT, "Region": "us-east-1"},
              "AccepterTgwInfo": {"TransitGatewayId": accepter, "OwnerId": OTHER_ACCOUNT, "Region": "us-east-1"}}
    sides = [(ACCOUNT, requester, accepter, OTHER_ACCOUNT)]
    if accepter_collected:
        sides.append((OTHER_ACCOUNT, accepter, requester, ACCOUNT))
    for account, own, other, other_owner in sides:
        view = {**common, "TransitGatewayId": own, "TransitGatewayOwnerId": account, "ResourceId": other,
                "ResourceOwnerId": other_owner}
        builder.add("ec2:TransitGatewayAttachments", view, account=account)
        builder.add("ec2:TransitGatewayPeeringAttachments", dict(record), account=account)
    return builder.build(), attachment_id


@pytest.mark.parametrize(("accepter_collected", "filed_under"), [
    pytest.param(True, OTHER_ACCOUNT, id="in_the_accepters_account"),
    pytest.param(False, ACCOUNT, id="in_the_requesters_when_the_accepters_is_not_collected"),
])
def test_tgw007_a_pending_peering_is_filed_where_it_can_be_accepted(accepter_collected: bool,
                                                                    filed_under: str) -> None:
    # Found by a review on 2026-11-27: each side lists the peering with its own transit gateway and owner, so the
    # requester's copy, which sorts first, named the requester as the owner who must accept.
    document, attachment_id = _pending_peering(accepter_collected)

    findings = run_rule("TGW007", document, trusted=(OTHER_ACCOUNT,))

    assert [(f.account_id, f.resource_id) for f in findings] == [(filed_under, attachment_id)]
    if not accepter_collected:
        assert f"(to be accepted by {OTHER_ACCOUNT}" not in findings[0].message  # same region: "owner"
        assert f"(owner {OTHER_ACCOUNT})" in findings[0].message


# TGW008 tgw-attachment-untrusted-account

def fail_vpc_of_untrusted_account(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    attachment = tgw_attachment(b, tgw, "vpc", "vpc-0123456789abcdef0", resource_owner=STRANGER)
    return {"found": [attachment], "attachment": attachment, "tgw": tgw}


def fail_peering_with_untrusted_account(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    return {"found": [tgw_attachment(b, tgw, "peering", "tgw-0123456789abcdef0", resource_owner=STRANGER,
                                     state="pendingAcceptance")]}


def pass_account_in_the_snapshot(b: SnapshotBuilder) -> dict[str, Any]:
    tgw_vpc_attachment(b, transit_gateway(b), b.vpc(account=OTHER_ACCOUNT), route=None)
    return {"found": []}


def pass_own_account(b: SnapshotBuilder) -> dict[str, Any]:
    tgw_vpc_attachment(b, transit_gateway(b), b.vpc())
    return {"found": []}


def pass_untrusted_but_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    tgw_attachment(b, transit_gateway(b), "vpc", "vpc-0123456789abcdef0", resource_owner=STRANGER, state="deleted")
    return {"found": []}


def pass_gateway_owned_elsewhere(b: SnapshotBuilder) -> dict[str, Any]:
    tgw_attachment(b, "tgw-0123456789abcdef0", "vpc", "vpc-0123456789abcdef0", table=None,
                   resource_owner=STRANGER, tgw_owner=STRANGER)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_vpc_of_untrusted_account, f"vpc attachment {{attachment}} (vpc-0123456789abcdef0, account "
                 f"{STRANGER}), available, connects account {STRANGER} to transit gateway {{tgw}}; {STRANGER} is not a "
                 "trusted account", id="fail_vpc_of_untrusted_account"),
    pytest.param(fail_peering_with_untrusted_account, ", pendingAcceptance, connects account",
                 id="fail_peering_with_untrusted_account"),
    pytest.param(pass_account_in_the_snapshot, "", id="pass_account_in_the_snapshot"),
    pytest.param(pass_own_account, "", id="pass_own_account"),
    pytest.param(pass_untrusted_but_deleted, "", id="pass_untrusted_but_deleted"),
    pytest.param(pass_gateway_owned_elsewhere, "", id="pass_gateway_owned_elsewhere"),
])
def test_tgw008_tgw_attachment_untrusted_account(arrange: Case, fragment: str) -> None:
    run_case("TGW008", arrange, "high", fragment)


def test_tgw008_passes_when_the_account_is_trusted_in_the_config() -> None:
    builder = SnapshotBuilder()
    fail_vpc_of_untrusted_account(builder)

    findings = run_rule("TGW008", builder.build(), trusted=(STRANGER,))

    assert findings == []


# TGW009 tgw-route-table-truncated

def fail_truncated(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    table = default_table(b, tgw)
    tgw_routes_truncated(b, table)
    return {"found": [table], "table": table, "tgw": tgw}


def fail_only_the_truncated_table(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    truncated = tgw_route_table(b, tgw)
    tgw_routes_truncated(b, truncated)
    return {"found": [truncated]}  # not the default table


PREFIX_LISTS_UNLISTED = ("its routes to prefix lists could not be listed (GetTransitGatewayPrefixListReferences "
                         "failed: UnauthorizedOperation); the routes stored for this table are incomplete")


def fail_prefix_list_routes_not_listed(b: SnapshotBuilder) -> dict[str, Any]:
    tgw = transit_gateway(b)
    table = default_table(b, tgw)
    b.error("ec2:TransitGatewayRoutes", "UnauthorizedOperation", resource_id=table)  # AUD001's, beside it
    tgw_routes_truncated(b, table, PREFIX_LISTS_UNLISTED)
    return {"found": [table], "table": table, "tgw": tgw}


def pass_other_error_on_the_table(b: SnapshotBuilder) -> dict[str, Any]:
    b.error("ec2:TransitGatewayRoutes", "InternalError", resource_id=default_table(b, transit_gateway(b)))
    return {"found": []}  # AUD001's


def pass_complete(b: SnapshotBuilder) -> dict[str, Any]:
    transit_gateway(b)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_truncated, "transit gateway route table {table} ({tgw}): its routes could not all be read (more "
                 "routes than SearchTransitGatewayRoutes returns, even split by type and prefix; the routes stored "
                 "for this table are incomplete)",
                 id="fail_truncated"),
    pytest.param(fail_only_the_truncated_table, "so TGW003 and TGW006 judged it on an incomplete list",
                 id="fail_only_the_truncated_table"),
    pytest.param(fail_prefix_list_routes_not_listed, "transit gateway route table {table} ({tgw}): its routes could "
                 f"not all be read ({PREFIX_LISTS_UNLISTED})", id="fail_prefix_list_routes_not_listed"),
    pytest.param(pass_other_error_on_the_table, "", id="pass_other_error_on_the_table"),
    pytest.param(pass_complete, "", id="pass_complete"),
])
def test_tgw009_tgw_route_table_truncated(arrange: Case, fragment: str) -> None:
    run_case("TGW009", arrange, "info", fragment)
