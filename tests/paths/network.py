"""Factories for path tests: network ACLs, interfaces with security groups, and small networks wired end to end.

Items are shaped like the EC2 API. A network built here is reachable by default; each case breaks one thing.
"""

from __future__ import annotations

from typing import Any

from auditor.index import Index
from auditor.paths.resolve import analyze
from auditor.paths.world import World
from tests.factories import SnapshotBuilder
from tests.rules.hybrid_factories_vpn_tgw import tgw_route_table, tgw_vpc_attachment, transit_gateway

ALLOW_ALL = ({"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0"},)


def acl(b: SnapshotBuilder, vpc: str, subnets: tuple[str, ...], *, inbound: tuple[dict[str, Any], ...] = ALLOW_ALL,
        outbound: tuple[dict[str, Any], ...] = ALLOW_ALL, default: bool = False) -> str:
    """A network ACL with the given rules (and the implicit `*` deny entries the API always lists)."""
    acl_id = b.new_id("acl")
    entries = [{**e, "Egress": False} for e in inbound] + [{**e, "Egress": True} for e in outbound]
    entries += [{"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "CidrBlock": "0.0.0.0/0", "Egress": e}
                for e in (False, True)]
    b.add("ec2:NetworkAcls", {
        "NetworkAclId": acl_id, "VpcId": vpc, "IsDefault": default, "Entries": entries,
        "Associations": [{"NetworkAclAssociationId": b.new_id("aclassoc"), "NetworkAclId": acl_id, "SubnetId": s}
                         for s in subnets], "OwnerId": b.account}, region=b._region_of(vpc))
    return acl_id


def tcp(number: int, action: str, cidr: str, low: int, high: int | None = None) -> dict[str, Any]:
    return {"RuleNumber": number, "Protocol": "6", "RuleAction": action, "CidrBlock": cidr,
            "PortRange": {"From": low, "To": high if high is not None else low}}


def group(b: SnapshotBuilder, vpc: str, *, ingress: tuple[tuple[int, str], ...] = ((443, "10.0.0.0/8"),),
          referenced: tuple[str, ...] = ()) -> str:
    """A security group admitting TCP (port, CIDR) pairs and, on 443, the referenced groups; egress open."""
    group_id = b.new_id("sg")
    permissions = [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}],
                    "Ipv6Ranges": [], "UserIdGroupPairs": [], "PrefixListIds": []} for port, cidr in ingress]
    if referenced:
        permissions.append({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [], "Ipv6Ranges": [],
                            "UserIdGroupPairs": [{"GroupId": g, "UserId": b.account} for g in referenced],
                            "PrefixListIds": []})
    b.add("ec2:SecurityGroups", {
        "GroupId": group_id, "GroupName": group_id, "VpcId": vpc, "OwnerId": b.account, "Description": "app",
        "IpPermissions": permissions,
        "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
                                 "UserIdGroupPairs": [], "PrefixListIds": []}]}, region=b._region_of(vpc))
    return group_id


def interface(b: SnapshotBuilder, subnet: str, address: str, groups: tuple[str, ...]) -> str:
    eni_id = b.new_id("eni")
    item = b.find("ec2:Subnets", "SubnetId", subnet)
    b.scope(b.account, b._region_of(item["VpcId"])).setdefault("ec2:NetworkInterfaces", []).append({
        "NetworkInterfaceId": eni_id, "SubnetId": subnet, "VpcId": item["VpcId"], "InterfaceType": "interface",
        "Status": "in-use", "PrivateIpAddress": address, "OwnerId": b.account,
        "PrivateIpAddresses": [{"Primary": True, "PrivateIpAddress": address}],
        "Groups": [{"GroupId": g, "GroupName": g} for g in groups]})
    return eni_id


def spoke(b: SnapshotBuilder, cidr: str, subnet_cidr: str) -> tuple[str, str, str]:
    """A VPC with one subnet on its own route table: (vpc, subnet, table)."""
    vpc = b.vpc(cidr)
    table = b.route_table(vpc)
    subnet = b.subnet(vpc, subnet_cidr, table=table)
    return vpc, subnet, table


def peered_pair(b: SnapshotBuilder, *, back_route: bool = True) -> dict[str, str]:
    """Two VPCs peered and routed to each other (the return route optional)."""
    a, subnet_a, table_a = spoke(b, "10.0.0.0/16", "10.0.1.0/24")
    c, subnet_c, table_c = spoke(b, "10.1.0.0/16", "10.1.1.0/24")
    pcx = b.peering(a, c)
    b.route(table_a, "10.1.0.0/16", VpcPeeringConnectionId=pcx)
    if back_route:
        b.route(table_c, "10.0.0.0/16", VpcPeeringConnectionId=pcx)
    return {"a": a, "subnet_a": subnet_a, "table_a": table_a, "b": c, "subnet_b": subnet_c, "table_b": table_c,
            "pcx": pcx}


def hub(b: SnapshotBuilder, *, spokes: int = 2, first: int = 0) -> dict[str, Any]:
    """A transit gateway with `spokes` VPCs (10.<first>.0.0/16, ...), each associated with and propagating
    into one route table."""
    tgw = transit_gateway(b, association="disable")
    table = tgw_route_table(b, tgw)
    found: dict[str, Any] = {"tgw": tgw, "tgw_table": table, "spokes": []}
    for n in range(first, first + spokes):
        vpc, subnet, vpc_table = spoke(b, f"10.{n}.0.0/16", f"10.{n}.1.0/24")
        attachment = tgw_vpc_attachment(b, tgw, vpc, route=None, table=table, propagate_to=(table,))
        b.route(vpc_table, "10.0.0.0/8", TransitGatewayId=tgw)
        found["spokes"].append({"vpc": vpc, "subnet": subnet, "table": vpc_table, "attachment": attachment})
    return found


def path(b: SnapshotBuilder, source: str, destination: str, protocol: str = "any", port: int | None = None) -> Any:
    return analyze(World(Index(b.build())), source, destination, protocol, port)


def codes(direction: Any) -> list[str]:
    return [blocker.code for blocker in direction.blockers]
