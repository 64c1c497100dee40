"""Path analysis on cases whose answers the AWS documentation gives (VPC peering, transit gateway, VPN, ACL and
security group guides): each case builds a small network, asks one question, and checks the verdict and blockers."""

from __future__ import annotations

import pytest

from auditor.errors import UserError
from tests.factories import ACCOUNT, OTHER_ACCOUNT, SnapshotBuilder
from tests.paths.network import (
    acl,
    codes,
    group,
    hub,
    interface,
    path,
    peered_pair,
    spoke,
    tcp,
)
from tests.rules.hybrid_factories_vpn_tgw import customer_gateway, tgw_route, vpn_connection, vpn_gateway


def test_two_peered_vpcs_routed_both_ways_are_reachable() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)

    result = path(b, net["subnet_a"], net["subnet_b"])

    assert result.reachable
    assert [h.resource_id for h in result.forward.hops] == [net["table_a"], net["pcx"]]
    assert [h.resource_id for h in result.back.hops] == [net["table_b"], net["pcx"]]


def test_a_peering_routed_one_way_names_the_return_path() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b, back_route=False)

    result = path(b, net["subnet_a"], net["subnet_b"])

    assert result.forward.reachable
    assert not result.reachable
    assert codes(result.back) == ["NO_ROUTE_TO_DESTINATION"]
    blocker = result.back.blockers[0]
    assert blocker.resource_id == net["table_b"]
    assert blocker.fix == (f"aws ec2 create-route --route-table-id {net['table_b']} --destination-cidr-block "
                           f"10.0.0.0/16 --vpc-peering-connection-id {net['pcx']}")


def test_peering_is_not_transitive() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    c, subnet_c, table_c = spoke(b, "10.2.0.0/16", "10.2.1.0/24")
    pcx_bc = b.peering(net["b"], c)
    b.route(net["table_b"], "10.2.0.0/16", VpcPeeringConnectionId=pcx_bc)
    b.route(table_c, "10.1.0.0/16", VpcPeeringConnectionId=pcx_bc)
    b.route(net["table_a"], "10.2.0.0/16", VpcPeeringConnectionId=net["pcx"])  # A -> C through B

    result = path(b, net["subnet_a"], subnet_c)

    assert not result.reachable
    assert codes(result.forward) == ["PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"]
    assert f"--vpc-id {net['a']} --peer-vpc-id {c}" in result.forward.blockers[0].fix


def test_a_peering_route_to_a_cidr_outside_the_peer_is_dropped_at_the_peering() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    other, other_subnet, _ = spoke(b, "172.20.0.0/16", "172.20.1.0/24")
    b.route(net["table_a"], "172.20.0.0/16", VpcPeeringConnectionId=net["pcx"])

    result = path(b, net["subnet_a"], "172.20.1.9")

    assert codes(result.forward) == ["PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"]
    assert result.forward.blockers[0].resource_id == net["pcx"]


def test_hub_and_spoke_transit_gateway_is_reachable() -> None:
    b = SnapshotBuilder()
    net = hub(b)
    one, two = net["spokes"]

    result = path(b, one["subnet"], two["subnet"], "tcp", 443)

    assert result.reachable
    assert [h.resource_type for h in result.forward.hops] == [
        "AWS::EC2::RouteTable", "AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayRouteTable"]
    assert result.forward.hops[-1].detail == f"10.1.0.0/16 -> {two['attachment']} (propagated)"


def test_an_attachment_not_associated_drops_at_the_transit_gateway() -> None:
    b = SnapshotBuilder()
    net = hub(b)
    one, two = net["spokes"]
    record = b.find("ec2:TransitGatewayRouteTableAssociations", "TransitGatewayRouteTableId", net["tgw_table"])
    record["Associations"] = [a for a in record["Associations"] if a["TransitGatewayAttachmentId"] != one["attachment"]]
    del b.find("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId", one["attachment"])["Association"]

    result = path(b, one["subnet"], two["subnet"])

    assert codes(result.forward) == ["TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION"]
    assert result.forward.blockers[0].resource_id == one["attachment"]
    assert result.back.reachable  # the reply enters through spoke two's own association
    assert not result.reachable


def test_a_blackhole_route_in_the_transit_gateway_table_blocks() -> None:
    b = SnapshotBuilder()
    net = hub(b)
    one, two = net["spokes"]
    tgw_route(b, net["tgw_table"], "10.1.1.0/24", state="blackhole")

    result = path(b, one["subnet"], "10.1.1.20")

    assert codes(result.forward) == ["TGW_RTB_BLACKHOLE_ROUTE"]


def test_a_spoke_without_the_return_route_names_the_response_table() -> None:
    b = SnapshotBuilder()
    net = hub(b)
    one, two = net["spokes"]
    table = b.find("ec2:RouteTables", "RouteTableId", two["table"])
    table["Routes"] = [r for r in table["Routes"] if r.get("GatewayId") == "local"]

    result = path(b, one["subnet"], two["subnet"])

    assert result.forward.reachable
    assert codes(result.back) == ["RESPONSE_RTB_HAS_NO_ROUTE_TO_TRANSIT_GATEWAY"]
    assert f"--transit-gateway-id {net['tgw']}" in result.back.blockers[0].fix


def test_overlapping_cidrs_send_the_packet_to_the_wrong_peer() -> None:
    b = SnapshotBuilder()
    a, subnet_a, table_a = spoke(b, "10.0.0.0/16", "10.0.1.0/24")
    first, _, table_first = spoke(b, "10.1.0.0/16", "10.1.1.0/24")
    second, subnet_second, table_second = spoke(b, "10.1.0.0/16", "10.1.2.0/24")
    to_first, to_second = b.peering(a, first), b.peering(a, second)
    b.route(table_a, "10.1.0.0/16", VpcPeeringConnectionId=to_first)
    b.route(table_first, "10.0.0.0/16", VpcPeeringConnectionId=to_first)
    b.route(table_second, "10.0.0.0/16", VpcPeeringConnectionId=to_second)

    result = path(b, subnet_a, subnet_second)

    assert codes(result.forward) == ["DESTINATION_IN_OTHER_VPC"]
    assert result.forward.blockers[0].resource_id == first


def test_edge_to_edge_through_a_peers_vpn_is_not_reachable() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    vgw = vpn_gateway(b, net["b"])
    vpn = vpn_connection(b, customer_gateway(b), vgw=vgw)
    b.find("ec2:VpnConnections", "VpnConnectionId", vpn)["Routes"] = [
        {"DestinationCidrBlock": "192.168.0.0/16", "Source": "static", "State": "available"}]
    b.route(net["table_b"], "192.168.0.0/16", GatewayId=vgw)
    b.route(net["table_a"], "192.168.0.0/16", VpcPeeringConnectionId=net["pcx"])

    from_b = path(b, net["subnet_b"], "192.168.1.10")
    from_a = path(b, net["subnet_a"], "192.168.1.10")

    assert from_b.forward.reachable
    assert codes(from_a.forward) == ["PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"]
    assert from_a.destination.customer


def test_a_network_acl_that_denies_the_return_ephemeral_ports() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    acl(b, net["b"], (net["subnet_b"],), inbound=(tcp(100, "allow", "10.0.0.0/16", 443),),
        outbound=(tcp(100, "allow", "10.0.0.0/16", 443),))

    result = path(b, net["subnet_a"], net["subnet_b"], "tcp", 443)

    assert result.forward.reachable
    assert codes(result.back) == ["SUBNET_ACL_RESTRICTION"]
    assert "--egress --protocol 6 --port-range From=1024,To=65535 --cidr-block 10.0.1.0/24" in \
        result.back.blockers[0].fix


def test_a_security_group_that_admits_only_another_port() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    client = interface(b, net["subnet_a"], "10.0.1.10", (group(b, net["a"]),))
    server = interface(b, net["subnet_b"], "10.1.1.10", (group(b, net["b"], ingress=((22, "10.0.0.0/16"),)),))

    refused = path(b, client, server, "tcp", 443)
    admitted = path(b, client, "10.1.1.10", "tcp", 22)

    assert codes(refused.forward) == ["ENI_SG_RULES_MISMATCH"]
    assert "authorize-security-group-ingress" in refused.forward.blockers[0].fix
    assert refused.back.reachable  # security groups are stateful: the reply is not judged again
    assert admitted.reachable


def test_a_security_group_that_references_the_peer_vpcs_group_admits_its_members() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    client_group = group(b, net["a"], ingress=())
    client = interface(b, net["subnet_a"], "10.0.1.10", (client_group,))
    server = interface(b, net["subnet_b"], "10.1.1.10", (group(b, net["b"], ingress=(), referenced=(client_group,)),))

    assert path(b, client, server, "tcp", 443).reachable
    assert not path(b, net["subnet_a"], server, "tcp", 443).reachable  # a subnet is not a member of the group


def test_every_blocker_on_the_path_is_reported() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    table = b.find("ec2:RouteTables", "RouteTableId", net["table_a"])
    table["Routes"] = [r for r in table["Routes"] if r.get("GatewayId") == "local"]
    acl(b, net["b"], (net["subnet_b"],), inbound=(tcp(100, "deny", "0.0.0.0/0", 443),))

    result = path(b, net["subnet_a"], net["subnet_b"], "tcp", 443)

    assert codes(result.forward) == ["NO_ROUTE_TO_DESTINATION", "SUBNET_ACL_RESTRICTION"]


def test_a_customer_network_behind_a_vpn_gateway_is_reachable_both_ways() -> None:
    b = SnapshotBuilder()
    vpc, subnet, table = spoke(b, "10.0.0.0/16", "10.0.1.0/24")
    vgw = vpn_gateway(b, vpc)
    vpn = vpn_connection(b, customer_gateway(b), vgw=vgw)
    b.route(table, "192.168.0.0/16", GatewayId=vgw, Origin="EnableVgwRoutePropagation")

    result = path(b, subnet, "192.168.7.0/24")
    inbound = path(b, "192.168.7.0/24", subnet)

    assert result.reachable
    assert [h.resource_id for h in result.forward.hops] == [table, vgw, vpn]
    assert inbound.reachable
    assert inbound.source.entries == (("vgw", vgw),)


def test_vpn_tunnels_down_block_the_customer_network() -> None:
    b = SnapshotBuilder()
    vpc, subnet, table = spoke(b, "10.0.0.0/16", "10.0.1.0/24")
    vgw = vpn_gateway(b, vpc)
    vpn_connection(b, customer_gateway(b), vgw=vgw, statuses=(("DOWN", "0 BGP ROUTES"), ("DOWN", "0 BGP ROUTES")))
    b.route(table, "192.168.0.0/16", GatewayId=vgw, Origin="EnableVgwRoutePropagation")

    assert codes(path(b, subnet, "192.168.7.1").forward) == ["VPN_TUNNELS_DOWN"]


def test_a_blackhole_vpc_route_is_a_bad_state_route() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    table = b.find("ec2:RouteTables", "RouteTableId", net["table_a"])
    next(r for r in table["Routes"] if r.get("VpcPeeringConnectionId"))["State"] = "blackhole"

    result = path(b, net["subnet_a"], net["subnet_b"])

    assert codes(result.forward) == ["BAD_STATE_ROUTE"]
    assert result.forward.blockers[0].fix.startswith(f"aws ec2 replace-route --route-table-id {net['table_a']}")


def test_a_subnet_in_a_zone_without_an_attachment_subnet_cannot_reach_the_transit_gateway() -> None:
    b = SnapshotBuilder()
    net = hub(b)
    one, two = net["spokes"]
    elsewhere = b.subnet(one["vpc"], "10.0.9.0/24", zone="us-east-1b", table=one["table"])
    for spoke_ in (one, two):  # each attachment serves us-east-1a only
        record = b.find("ec2:TransitGatewayVpcAttachments", "TransitGatewayAttachmentId", spoke_["attachment"])
        record["SubnetIds"] = [spoke_["subnet"]]

    served = path(b, one["subnet"], two["subnet"])
    unserved = path(b, elsewhere, two["subnet"])

    assert served.reachable
    assert codes(unserved.forward) == ["TGW_ATTACHMENT_NOT_IN_SUBNET_AZ"]
    assert "--add-subnet-ids" in unserved.forward.blockers[0].fix


def test_all_traffic_refused_by_a_group_is_not_fixed_by_opening_everything() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    server = interface(b, net["subnet_b"], "10.1.1.10", (group(b, net["b"]),))

    result = path(b, net["subnet_a"], server)  # protocol "any": the group admits only tcp/443

    assert codes(result.forward) == ["ENI_SG_RULES_MISMATCH"]
    assert "--protocol <tcp|udp> --port <port>" in result.forward.blockers[0].fix
    assert path(b, net["subnet_a"], server, "tcp", 443).reachable


def test_a_gateway_route_table_sends_traffic_from_the_vpn_through_a_firewall() -> None:
    b = SnapshotBuilder()
    vpc, subnet, table = spoke(b, "10.0.0.0/16", "10.0.1.0/24")
    firewall_subnet = b.subnet(vpc, "10.0.9.0/24", table=b.route_table(vpc))
    firewall = interface(b, firewall_subnet, "10.0.9.5", ())
    vgw = vpn_gateway(b, vpc)
    vpn_connection(b, customer_gateway(b), vgw=vgw)
    b.route(table, "192.168.0.0/16", GatewayId=vgw, Origin="EnableVgwRoutePropagation")
    edge = b.route_table(vpc)
    b.find("ec2:RouteTables", "RouteTableId", edge)["Associations"].append(
        {"Main": False, "GatewayId": vgw, "RouteTableId": edge, "AssociationState": {"State": "associated"}})
    inspected = b.route(edge, "10.0.1.0/24", NetworkInterfaceId=firewall)

    through_firewall = path(b, "192.168.7.0/24", subnet)
    inspected["State"] = "blackhole"  # the firewall's interface was deleted
    dropped = path(b, "192.168.7.0/24", subnet)

    assert through_firewall.forward.reachable
    assert [h.resource_id for h in through_firewall.forward.hops][:3] == [vgw, edge, firewall]
    assert codes(dropped.forward) == ["BAD_STATE_ROUTE"]


def test_an_interface_endpoint_is_reached_through_its_security_groups() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    admits_a = group(b, net["b"], ingress=((443, "10.0.0.0/16"),))
    endpoint = b.endpoint(net["b"], subnets=(net["subnet_b"],), groups=(admits_a,))
    gateway = b.endpoint(net["b"], "com.amazonaws.us-east-1.s3", kind="Gateway")

    https = path(b, net["subnet_a"], endpoint, "tcp", 443)
    ssh = path(b, net["subnet_a"], endpoint, "tcp", 22)

    assert https.reachable
    assert https.destination.subnet_id == net["subnet_b"]
    assert codes(ssh.forward) == ["ENI_SG_RULES_MISMATCH"]
    assert ssh.forward.hops[-1].resource_type == "AWS::EC2::VPCEndpoint"
    with pytest.raises(UserError, match="gateway endpoint"):
        path(b, net["subnet_a"], gateway)
    with pytest.raises(UserError, match="destination of a path, not its source"):
        path(b, endpoint, net["subnet_a"])


def test_filters_that_were_not_read_are_not_passed_silently() -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    server = interface(b, net["subnet_b"], "10.1.1.10", (group(b, net["b"]),))
    b.error("ec2:NetworkAcls")
    b.error("ec2:SecurityGroups")

    result = path(b, net["subnet_a"], server, "tcp", 443)

    assert codes(result.forward) == ["NOT_IN_SNAPSHOT"] * 3  # the ACLs out and in, the server's groups
    assert "network ACLs of 111122223333 us-east-1 were not read (UnauthorizedOperation)" in \
        result.forward.blockers[0].message
    assert "security groups" in result.forward.blockers[2].message


def test_a_vpc_shared_through_ram_is_walked_with_its_owners_route_tables() -> None:
    b = SnapshotBuilder(account=OTHER_ACCOUNT)  # the owner sorts after the participant that sees the VPC too
    net = peered_pair(b)
    b.share_vpc(net["a"], participant=ACCOUNT)

    result = path(b, net["subnet_a"], net["subnet_b"])

    assert result.reachable
    assert result.source.account_id == OTHER_ACCOUNT
    assert result.forward.hops[0].account_id == OTHER_ACCOUNT
