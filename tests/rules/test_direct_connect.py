"""Direct Connect rules: a table of failing and passing cases per rule, on snapshot fragments shaped like the API.

moto 5.2.5 does not implement Direct Connect virtual interfaces, gateways, associations or attachments, so
every case is built with tests/rules/hybrid_factories_cvpn_dx.py. Each case arranges a snapshot and returns
the names it made: `found` lists the resources the rule must report (empty for a passing case), and the
other names fill the case's expected message fragment.
"""

from __future__ import annotations

from typing import Any

import pytest

from auditor.cidrs import CidrIndex
from auditor.index import network
from tests.factories import ACCOUNT, OTHER_ACCOUNT, SnapshotBuilder, run_rule
from tests.rules.hybrid_factories_cvpn_dx import (
    dx_association,
    dx_connection,
    dx_gateway,
    dx_virtual_interface,
    redundant_hub,
)
from tests.rules.test_routes import Case, run_case, tgw_attachment, transit_gateway, vpn_gateway


def case(arrange: Case, severity: str, fragment: str) -> Any:
    return pytest.param(arrange, severity, fragment, id=arrange.__name__)


def vif_item(b: SnapshotBuilder, vif: str) -> dict[str, Any]:
    return b.find("directconnect:virtualInterfaces", "virtualInterfaceId", vif)


def test_cidr_index_finds_by_containment_within_one_ip_version() -> None:
    cidrs = ["10.0.0.0/16", "10.0.1.0/24", "10.1.0.0/16", "0.0.0.0/0", "2001:db8::/32"]
    index = CidrIndex((network(c), c) for c in cidrs)

    def names(found: list[Any]) -> list[str]:
        return sorted(payload for _, payload in found)

    assert names(index.inside(network("10.0.0.0/8"))) == ["10.0.0.0/16", "10.0.1.0/24", "10.1.0.0/16"]
    assert names(index.containing(network("10.0.1.128/25"))) == ["0.0.0.0/0", "10.0.0.0/16", "10.0.1.0/24"]
    assert names(index.overlapping(network("10.0.0.0/16"))) == ["0.0.0.0/0", "10.0.0.0/16", "10.0.1.0/24"]
    assert names(index.overlapping(network("2001:db8:1::/48"))) == ["2001:db8::/32"]
    assert index.overlapping(network("192.168.0.0/16")) == [(network("0.0.0.0/0"), "0.0.0.0/0")]


# DX001 dx-no-redundancy

def fail_one_connection(b: SnapshotBuilder) -> dict[str, Any]:
    gateway, connection = dx_gateway(b), dx_connection(b)
    vif = dx_virtual_interface(b, connection, gateway=gateway)
    return {"found": [gateway], "gateway": gateway, "connection": connection, "vif": vif}


def fail_two_interfaces_on_one_connection(b: SnapshotBuilder) -> dict[str, Any]:
    gateway, connection = dx_gateway(b), dx_connection(b)
    vifs = [dx_virtual_interface(b, connection, gateway=gateway) for _ in range(2)]
    return {"found": [gateway], "connection": connection, "a": vifs[0], "b": vifs[1]}


def fail_two_connections_at_one_location(b: SnapshotBuilder) -> dict[str, Any]:
    names = redundant_hub(b, locations=("EqDC2", "EqDC2"))
    return {"found": [names["gateway"]], **names}


def fail_second_path_down(b: SnapshotBuilder) -> dict[str, Any]:
    names = redundant_hub(b)
    vif_item(b, names["vif_b"])["virtualInterfaceState"] = "down"
    return {"found": [names["gateway"]], **names}


def fail_vgw_with_one_private_interface(b: SnapshotBuilder) -> dict[str, Any]:
    vgw, connection = vpn_gateway(b, b.vpc()), dx_connection(b)
    dx_virtual_interface(b, connection, vgw=vgw)
    return {"found": [vgw], "vgw": vgw, "connection": connection}


def fail_only_the_dx_gateway_behind_a_redundant_vgw(b: SnapshotBuilder) -> dict[str, Any]:
    vgw, gateway = vpn_gateway(b, b.vpc()), dx_gateway(b)
    dx_virtual_interface(b, dx_connection(b, location="EqDC2"), vgw=vgw)
    dx_virtual_interface(b, dx_connection(b, location="CSVA1"), gateway=gateway)
    dx_association(b, gateway, vgw=vgw, prefixes=("10.0.0.0/16",))
    return {"found": [gateway]}


def pass_two_connections_at_two_locations(b: SnapshotBuilder) -> dict[str, Any]:
    redundant_hub(b)
    return {"found": []}


def pass_interface_in_an_account_not_collected(b: SnapshotBuilder) -> dict[str, Any]:
    gateway = fail_one_connection(b)["gateway"]
    b.find("directconnect:directConnectGatewayAttachments", "directConnectGatewayId", gateway)[
        "directConnectGatewayAttachments"].append({
            "directConnectGatewayId": gateway, "virtualInterfaceId": "dxvif-ffgh1234", "virtualInterfaceRegion":
            "eu-west-1", "virtualInterfaceOwnerAccount": OTHER_ACCOUNT, "attachmentState": "attached",
            "attachmentType": "TransitVirtualInterface"})
    return {"found": []}


def pass_no_interface_available(b: SnapshotBuilder) -> dict[str, Any]:
    dx_virtual_interface(b, dx_connection(b), gateway=dx_gateway(b), state="down")
    return {"found": []}


def pass_deleted_gateway(b: SnapshotBuilder) -> dict[str, Any]:
    dx_virtual_interface(b, dx_connection(b), gateway=dx_gateway(b, state="deleted"))
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_one_connection, "medium", "Direct Connect gateway dxgw-core ({gateway}) is reached only through "
         "connection {connection} at EqDC2 (virtual interfaces {vif})"),
    case(fail_two_interfaces_on_one_connection, "medium", "only through connection {connection} at EqDC2 "
         "(virtual interfaces {a}, {b})"),
    case(fail_two_connections_at_one_location, "medium", "only through connections {connection_a}, {connection_b}, "
         "all at EqDC2 (virtual interfaces {vif_a}, {vif_b})"),
    case(fail_second_path_down, "medium", "only through connection {connection_a} at EqDC2 (virtual interfaces "
         "{vif_a}); not available: {vif_b} (down)"),
    case(fail_vgw_with_one_private_interface, "medium", "virtual private gateway {vgw} is reached only through "
         "connection {connection} at EqDC2"),
    case(fail_only_the_dx_gateway_behind_a_redundant_vgw, "medium", "is reached only through connection"),
    case(pass_two_connections_at_two_locations, "medium", ""),
    case(pass_interface_in_an_account_not_collected, "medium", ""),
    case(pass_no_interface_available, "medium", ""),
    case(pass_deleted_gateway, "medium", ""),
])
def test_dx001_dx_no_redundancy(arrange: Case, severity: str, fragment: str) -> None:
    run_case("DX001", arrange, severity, fragment)


def test_dx001_reports_each_gateway_where_it_lives() -> None:
    builder = SnapshotBuilder()
    gateway = fail_one_connection(builder)["gateway"]
    vgw = fail_vgw_with_one_private_interface(builder)["vgw"]

    findings = {f.resource_id: f for f in run_rule("DX001", builder.build())}

    assert len(findings) == 2
    assert (findings[gateway].region, findings[gateway].resource_type) == ("global", "AWS::DirectConnect::Gateway")
    assert findings[gateway].resource_arn == f"arn:aws:directconnect::{ACCOUNT}:dx-gateway/{gateway}"
    assert (findings[vgw].region, findings[vgw].resource_type) == ("us-east-1", "AWS::EC2::VPNGateway")
    assert {f.severity for f in findings.values()} == {"medium"}
    assert "only through connection" in findings[vgw].message


def test_dx001_not_judged_where_interfaces_could_not_be_read() -> None:
    builder = SnapshotBuilder()
    fail_one_connection(builder)
    builder.error("directconnect:virtualInterfaces")

    findings = run_rule("DX001", builder.build())

    assert findings == []


# DX002 dx-connection-down

def fail_connection_down(b: SnapshotBuilder) -> dict[str, Any]:
    connection = dx_connection(b, state="down", name="primary")
    vif = dx_virtual_interface(b, connection, gateway=dx_gateway(b))
    return {"found": [connection], "connection": connection, "vif": vif}


def fail_connection_state_unknown(b: SnapshotBuilder) -> dict[str, Any]:
    return {"found": [dx_connection(b, state="unknown")]}


def pass_connection_available(b: SnapshotBuilder) -> dict[str, Any]:
    dx_connection(b)
    return {"found": []}


def pass_connection_being_ordered(b: SnapshotBuilder) -> dict[str, Any]:
    dx_connection(b, state="ordering")
    return {"found": []}


def pass_connection_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    dx_connection(b, state="deleted")
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_connection_down, "high", "Direct Connect connection {connection} (primary) at EqDC2 (10Gbps) is down: "
         "its virtual interfaces {vif} carry no traffic"),
    case(fail_connection_state_unknown, "medium", "is in state unknown: AWS cannot tell whether it carries traffic"),
    case(pass_connection_available, "high", ""),
    case(pass_connection_being_ordered, "high", ""),
    case(pass_connection_deleted, "high", ""),
])
def test_dx002_dx_connection_down(arrange: Case, severity: str, fragment: str) -> None:
    run_case("DX002", arrange, severity, fragment)


# DX003 dx-virtual-interface-down

def fail_interface_down(b: SnapshotBuilder) -> dict[str, Any]:
    connection = dx_connection(b)
    vif = dx_virtual_interface(b, connection, gateway=dx_gateway(b), state="down", bgp=("down",))
    item = vif_item(b, vif)
    return {"found": [vif], "vif": vif, "connection": connection, "name": item["virtualInterfaceName"],
            "vlan": item["vlan"], "peer": item["bgpPeers"][0]["bgpPeerId"]}


def fail_bgp_peer_down(b: SnapshotBuilder) -> dict[str, Any]:
    vif = dx_virtual_interface(b, dx_connection(b), gateway=dx_gateway(b), bgp=("up", "down"))
    return {"found": [vif], "peer": vif_item(b, vif)["bgpPeers"][1]["bgpPeerId"]}


def fail_interface_and_connection_down(b: SnapshotBuilder) -> dict[str, Any]:
    connection = dx_connection(b, state="down")
    vif = dx_virtual_interface(b, connection, gateway=dx_gateway(b), state="down", bgp=("down",))
    return {"found": [vif], "connection": connection}


def fail_interface_state_unknown(b: SnapshotBuilder) -> dict[str, Any]:
    return {"found": [dx_virtual_interface(b, dx_connection(b), gateway=dx_gateway(b), state="unknown")]}


def pass_all_peers_up(b: SnapshotBuilder) -> dict[str, Any]:
    dx_virtual_interface(b, dx_connection(b), gateway=dx_gateway(b), bgp=("up", "up"))
    return {"found": []}


def pass_bgp_status_unknown(b: SnapshotBuilder) -> dict[str, Any]:
    dx_virtual_interface(b, dx_connection(b), gateway=dx_gateway(b), bgp=("unknown",))
    return {"found": []}


def pass_failover_test(b: SnapshotBuilder) -> dict[str, Any]:
    dx_virtual_interface(b, dx_connection(b), gateway=dx_gateway(b), state="testing", bgp=("down",))
    return {"found": []}


def pass_down_peer_being_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    vif = dx_virtual_interface(b, dx_connection(b), gateway=dx_gateway(b), bgp=("up", "down"))
    vif_item(b, vif)["bgpPeers"][1]["bgpPeerState"] = "deleting"
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_interface_down, "high", "transit virtual interface {vif} ({name}, VLAN {vlan}) on {connection} at "
         "EqDC2 is down; BGP peers: {peer} (ipv4, Amazon 169.254.1.1/30, customer 169.254.1.2/30, ASN 65000) down"),
    case(fail_bgp_peer_down, "high", "is available but BGP is down with {peer} (ipv6, Amazon 2001:db8:2::1/125, "
         "customer 2001:db8:2::2/125, ASN 65000)"),
    case(fail_interface_and_connection_down, "high", "; its connection {connection} is down"),
    case(fail_interface_state_unknown, "medium", "is in state unknown"),
    case(pass_all_peers_up, "high", ""),
    case(pass_bgp_status_unknown, "high", ""),
    case(pass_failover_test, "high", ""),
    case(pass_down_peer_being_deleted, "high", ""),
])
def test_dx003_dx_virtual_interface_down(arrange: Case, severity: str, fragment: str) -> None:
    run_case("DX003", arrange, severity, fragment)


# DX004 dxgw-allowed-prefixes-too-broad

def allow(b: SnapshotBuilder, names: dict[str, str], *prefixes: str) -> None:
    association = b.find("directconnect:directConnectGatewayAssociations", "directConnectGatewayId",
                         names["gateway"])["directConnectGatewayAssociations"][0]
    association["allowedPrefixesToDirectConnectGateway"] = [{"cidr": p} for p in prefixes]


def fail_default_route_to_transit_gateway(b: SnapshotBuilder) -> dict[str, Any]:
    names = redundant_hub(b)
    allow(b, names, "10.20.0.0/16", "0.0.0.0/0")
    return {"found": [names["gateway"]], **names}


def fail_ipv6_default_route(b: SnapshotBuilder) -> dict[str, Any]:
    names = redundant_hub(b)
    allow(b, names, "::/0")
    return {"found": [names["gateway"]], **names}


def fail_summary_wider_than_the_vpcs(b: SnapshotBuilder) -> dict[str, Any]:
    names = redundant_hub(b)
    allow(b, names, "10.0.0.0/8")
    return {"found": [names["gateway"]], **names}


def fail_vgw_filter_wider_than_its_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc("10.30.0.0/16")
    vgw, gateway = vpn_gateway(b, vpc), dx_gateway(b)
    dx_association(b, gateway, vgw=vgw, prefixes=("10.30.0.0/15",))
    return {"found": [gateway], "vpc": vpc, "vgw": vgw}


def fail_default_route_to_a_gateway_not_collected(b: SnapshotBuilder) -> dict[str, Any]:
    gateway = dx_gateway(b)
    dx_association(b, gateway, tgw="tgw-0123456789abcdef0", owner=OTHER_ACCOUNT, prefixes=("0.0.0.0/0",))
    return {"found": [gateway]}


def pass_prefix_equal_to_the_vpc_cidr(b: SnapshotBuilder) -> dict[str, Any]:
    redundant_hub(b)
    return {"found": []}


def pass_prefix_inside_the_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    allow(b, redundant_hub(b), "10.20.1.0/24")
    return {"found": []}


def pass_exact_summary_of_two_vpcs(b: SnapshotBuilder) -> dict[str, Any]:
    names = redundant_hub(b)
    tgw_attachment(b, names["tgw"], b.vpc("10.21.0.0/16"))
    allow(b, names, "10.20.0.0/15")
    return {"found": []}


def pass_wide_prefix_to_a_gateway_not_collected(b: SnapshotBuilder) -> dict[str, Any]:
    gateway = dx_gateway(b)
    dx_association(b, gateway, tgw="tgw-0123456789abcdef0", owner=OTHER_ACCOUNT, prefixes=("10.0.0.0/8",))
    return {"found": []}


def pass_wide_prefix_with_a_peered_transit_gateway(b: SnapshotBuilder) -> dict[str, Any]:
    names = redundant_hub(b)
    peering = tgw_attachment(b, names["tgw"], transit_gateway(b))
    b.find("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId", peering)["ResourceType"] = "peering"
    allow(b, names, "10.0.0.0/8")
    return {"found": []}


def pass_disassociated(b: SnapshotBuilder) -> dict[str, Any]:
    names = redundant_hub(b)
    allow(b, names, "0.0.0.0/0")
    b.find("directconnect:directConnectGatewayAssociations", "directConnectGatewayId", names["gateway"])[
        "directConnectGatewayAssociations"][0]["associationState"] = "disassociated"
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_default_route_to_transit_gateway, "medium", "Direct Connect gateway dxgw-core ({gateway}): its "
         f"association with transit gateway {{tgw}} ({ACCOUNT}/us-east-1) allows 0.0.0.0/0 (every address): "
         "on-premises routers send traffic for all of it to AWS"),
    case(fail_ipv6_default_route, "medium", "allows ::/0 (every address)"),
    case(fail_summary_wider_than_the_vpcs, "medium", "allows 10.0.0.0/8 (wider than the VPC CIDRs behind it "
         "({vpc} 10.20.0.0/16))"),
    case(fail_vgw_filter_wider_than_its_vpc, "low", "its association with virtual private gateway {vgw} "
         f"({ACCOUNT}/us-east-1) allows 10.30.0.0/15 (wider than the VPC CIDRs behind it ({{vpc}} 10.30.0.0/16)): "
         "the list is only a filter here"),
    case(fail_default_route_to_a_gateway_not_collected, "medium", f"({OTHER_ACCOUNT}/us-east-1) allows 0.0.0.0/0"),
    case(pass_prefix_equal_to_the_vpc_cidr, "medium", ""),
    case(pass_prefix_inside_the_vpc, "medium", ""),
    case(pass_exact_summary_of_two_vpcs, "medium", ""),
    case(pass_wide_prefix_to_a_gateway_not_collected, "medium", ""),
    case(pass_wide_prefix_with_a_peered_transit_gateway, "medium", ""),
    case(pass_disassociated, "medium", ""),
])
def test_dx004_dxgw_allowed_prefixes_too_broad(arrange: Case, severity: str, fragment: str) -> None:
    run_case("DX004", arrange, severity, fragment)


def test_dx004_one_finding_per_association_in_the_global_scope() -> None:
    builder = SnapshotBuilder()
    names = redundant_hub(builder)
    allow(builder, names, "0.0.0.0/0", "10.0.0.0/8")
    second = dx_association(builder, names["gateway"], tgw=transit_gateway(builder), prefixes=("0.0.0.0/0",))

    findings = run_rule("DX004", builder.build())

    assert len(findings) == 2
    assert {(f.resource_id, f.region) for f in findings} == {(names["gateway"], "global")}
    assert {f.severity for f in findings} == {"medium"}
    assert {f.evidence["associationId"] for f in findings} == {names["association"], second}
    first = next(f for f in findings if f.evidence["associationId"] == names["association"])
    assert "allows 0.0.0.0/0 (every address); 10.0.0.0/8 (wider than" in first.message


def test_compliant_hub_passes_every_direct_connect_rule() -> None:
    builder = SnapshotBuilder()
    redundant_hub(builder)
    document = builder.build()

    findings = [f for rule_id in ("DX001", "DX002", "DX003", "DX004") for f in run_rule(rule_id, document)]

    assert findings == []
