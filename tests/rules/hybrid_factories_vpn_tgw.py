"""Snapshot factories for the VPN and transit gateway rule tests: items shaped like the EC2 API, compliant by default.

Each function adds resources to a SnapshotBuilder and returns the new id. By default a VPN connection has two
tunnels that are up, log to CloudWatch Logs and allow only strong options, and a transit gateway does not
auto-accept shared attachments and propagates into no default route table: each case changes only the field
under test.
"""

from __future__ import annotations

from typing import Any

from auditor.collect.context import CallContext
from tests.factories import SnapshotBuilder

DEFAULT = "default"  # associate an attachment with its transit gateway's default association route table
LOG_GROUP = "arn:aws:logs:us-east-1:111122223333:log-group:vpn-tunnels"
OUTSIDE_ADDRESSES = ("52.1.10.1", "52.1.10.2")
CHANGED_AT = "2026-11-25T08:00:00Z"


def values(*items: Any) -> list[dict[str, Any]]:
    """An options list as the API spells it: [{"Value": ...}, ...]."""
    return [{"Value": item} for item in items]


STRONG_OPTIONS: dict[str, Any] = {
    "IkeVersions": values("ikev2"),
    "Phase1EncryptionAlgorithms": values("AES256-GCM-16"), "Phase2EncryptionAlgorithms": values("AES256-GCM-16"),
    "Phase1IntegrityAlgorithms": values("SHA2-256"), "Phase2IntegrityAlgorithms": values("SHA2-256"),
    "Phase1DHGroupNumbers": values(14, 20), "Phase2DHGroupNumbers": values(14, 20),
}


def tunnel(outside: str, inside: str = "169.254.10.0/30", *, logging: bool = True, **options: Any) -> dict[str, Any]:
    """One TunnelOption item: strong explicit options and log delivery unless overridden (a list set to []
    stands for options left to AWS's defaults, as DescribeVpnConnections shows them)."""
    item: dict[str, Any] = {
        "OutsideIpAddress": outside, "TunnelInsideCidr": inside, "PreSharedKey": "REDACTED",
        "Phase1LifetimeSeconds": 28800, "Phase2LifetimeSeconds": 3600, "RekeyMarginTimeSeconds": 270,
        "RekeyFuzzPercentage": 100, "ReplayWindowSize": 1024, "DpdTimeoutSeconds": 30, "DpdTimeoutAction": "clear",
        "StartupAction": "add", "EnableTunnelLifecycleControl": False, **STRONG_OPTIONS,
        "LogOptions": {"CloudWatchLogOptions": {"LogEnabled": True, "LogGroupArn": LOG_GROUP,
                                                "LogOutputFormat": "json", "BgpLogEnabled": False}},
    }
    if not logging:
        item["LogOptions"] = {"CloudWatchLogOptions": {"LogEnabled": False, "BgpLogEnabled": False}}
    item.update(options)
    return item


def telemetry(outside: str, status: str = "UP", message: str = "2 BGP ROUTES") -> dict[str, Any]:
    return {"OutsideIpAddress": outside, "Status": status, "StatusMessage": message,
            "LastStatusChange": CHANGED_AT, "AcceptedRouteCount": 2 if status == "UP" else 0}


# Virtual private gateways, customer gateways, VPN connections

def vpn_gateway(b: SnapshotBuilder, vpc: str | None = None, *, state: str = "available",
                attachment_state: str = "attached", asn: int = 64512) -> str:
    gateway_id = b.new_id("vgw")
    b.add("ec2:VpnGateways", {
        "VpnGatewayId": gateway_id, "State": state, "Type": "ipsec.1", "AmazonSideAsn": asn, "Tags": [],
        "VpcAttachments": [{"VpcId": vpc, "State": attachment_state}] if vpc else []})
    return gateway_id


def customer_gateway(b: SnapshotBuilder, *, address: str = "203.0.113.10", asn: str = "65010",
                     state: str = "available") -> str:
    gateway_id = b.new_id("cgw")
    b.add("ec2:CustomerGateways", {"CustomerGatewayId": gateway_id, "State": state, "Type": "ipsec.1",
                                   "IpAddress": address, "BgpAsn": asn, "Tags": []})
    return gateway_id


def vpn_connection(b: SnapshotBuilder, customer: str, *, vgw: str | None = None, tgw: str | None = None,
                   state: str = "available", tunnels: list[dict[str, Any]] | None = None,
                   statuses: tuple[tuple[str, str], ...] = (("UP", "2 BGP ROUTES"), ("UP", "2 BGP ROUTES"))) -> str:
    """A VPN connection to a virtual private gateway (vgw) or a transit gateway (tgw), with its tunnel options
    and telemetry (one (status, message) per tunnel)."""
    connection_id = b.new_id("vpn")
    tunnels = tunnels if tunnels is not None else [
        tunnel(OUTSIDE_ADDRESSES[0], "169.254.10.0/30"), tunnel(OUTSIDE_ADDRESSES[1], "169.254.11.0/30")]
    item: dict[str, Any] = {
        "VpnConnectionId": connection_id, "State": state, "Type": "ipsec.1", "Category": "VPN",
        "CustomerGatewayId": customer, "CustomerGatewayConfiguration": "REDACTED",
        "Options": {"EnableAcceleration": False, "StaticRoutesOnly": False, "LocalIpv4NetworkCidr": "0.0.0.0/0",
                    "RemoteIpv4NetworkCidr": "0.0.0.0/0", "OutsideIpAddressType": "PublicIpv4",
                    "TunnelInsideIpVersion": "ipv4", "TunnelOptions": tunnels},
        "Routes": [],
        "VgwTelemetry": [telemetry(t["OutsideIpAddress"], status, message)
                         for t, (status, message) in zip(tunnels, statuses, strict=False)],
        "Tags": [],
    }
    if vgw:
        item["VpnGatewayId"] = vgw
    if tgw:
        item["TransitGatewayId"] = tgw
    b.add("ec2:VpnConnections", item)
    return connection_id


def vpn_item(b: SnapshotBuilder, connection_id: str) -> dict[str, Any]:
    return b.find("ec2:VpnConnections", "VpnConnectionId", connection_id)


def propagate_vgw(b: SnapshotBuilder, table: str, vgw: str, networks: tuple[str, ...] = ("192.168.0.0/16",)) -> None:
    """Route propagation from a gateway into a VPC route table, with the routes it propagated."""
    b.find("ec2:RouteTables", "RouteTableId", table)["PropagatingVgws"].append({"GatewayId": vgw})
    for destination in networks:
        b.route(table, destination, GatewayId=vgw, Origin="EnableVgwRoutePropagation")


# Transit gateways, their route tables, attachments and routes

def transit_gateway(b: SnapshotBuilder, *, auto_accept: str = "disable", association: str = "enable",
                    propagation: str = "disable", owner: str | None = None, state: str = "available") -> str:
    """A transit gateway in the builder's account; owned by `owner` when it is shared from there by RAM (then its
    route tables are not visible here). An owned one gets its default route table."""
    gateway_id = b.new_id("tgw")
    owner = owner or b.account
    item: dict[str, Any] = {
        "TransitGatewayId": gateway_id, "State": state, "OwnerId": owner, "Description": "hub",
        "TransitGatewayArn": f"arn:aws:ec2:{b.region}:{owner}:transit-gateway/{gateway_id}",
        "CreationTime": "2026-01-01T00:00:00Z", "Tags": [],
        "Options": {"AmazonSideAsn": 64600, "AutoAcceptSharedAttachments": auto_accept,
                    "DefaultRouteTableAssociation": association, "DefaultRouteTablePropagation": propagation,
                    "VpnEcmpSupport": "enable", "DnsSupport": "enable", "MulticastSupport": "disable"},
    }
    b.add("ec2:TransitGateways", item)
    if owner == b.account and "enable" in (association, propagation):
        table = tgw_route_table(b, gateway_id, default_association=association == "enable",
                                default_propagation=propagation == "enable")
        item["Options"]["AssociationDefaultRouteTableId"] = table
        item["Options"]["PropagationDefaultRouteTableId"] = table
    return gateway_id


def tgw_route_table(b: SnapshotBuilder, tgw: str, *, default_association: bool = False,
                    default_propagation: bool = False) -> str:
    """A route table, with its (empty) association, propagation and route records as the collector stores them."""
    table_id = b.new_id("tgw-rtb")
    b.add("ec2:TransitGatewayRouteTables", {
        "TransitGatewayRouteTableId": table_id, "TransitGatewayId": tgw, "State": "available",
        "DefaultAssociationRouteTable": default_association, "DefaultPropagationRouteTable": default_propagation,
        "CreationTime": "2026-01-01T00:00:00Z", "Tags": []})
    b.add("ec2:TransitGatewayRouteTableAssociations", {"TransitGatewayRouteTableId": table_id, "Associations": []})
    b.add("ec2:TransitGatewayRouteTablePropagations", {"TransitGatewayRouteTableId": table_id,
                                                       "TransitGatewayRouteTablePropagations": []})
    b.add("ec2:TransitGatewayRoutes", {"TransitGatewayRouteTableId": table_id, "Routes": []})
    return table_id


def default_table(b: SnapshotBuilder, tgw: str) -> str | None:
    """The transit gateway's default association route table (none for one shared from another account)."""
    return b.find("ec2:TransitGateways", "TransitGatewayId", tgw)["Options"].get("AssociationDefaultRouteTableId")


def _record(b: SnapshotBuilder, key: str, table: str) -> dict[str, Any]:
    return b.find(key, "TransitGatewayRouteTableId", table)


def tgw_attachment(b: SnapshotBuilder, tgw: str, resource_type: str, resource_id: str, *,
                   table: str | None = DEFAULT, propagate_to: tuple[str, ...] = (), advertised: tuple[str, ...] = (),
                   state: str = "available", resource_owner: str | None = None, tgw_owner: str | None = None) -> str:
    """An attachment as DescribeTransitGatewayAttachments shows it in the builder's account, associated with
    `table` (None: with none) and propagating into `propagate_to`, where it propagated `advertised`."""
    attachment_id = b.new_id("tgw-attach")
    if table == DEFAULT:
        table = default_table(b, tgw)
    item: dict[str, Any] = {
        "TransitGatewayAttachmentId": attachment_id, "TransitGatewayId": tgw,
        "TransitGatewayOwnerId": tgw_owner or b.account, "ResourceOwnerId": resource_owner or b.account,
        "ResourceType": resource_type, "ResourceId": resource_id, "State": state,
        "CreationTime": "2026-11-20T09:30:00Z", "Tags": []}
    reference = {"TransitGatewayAttachmentId": attachment_id, "ResourceId": resource_id, "ResourceType": resource_type}
    if table:
        item["Association"] = {"TransitGatewayRouteTableId": table, "State": "associated"}
        _record(b, "ec2:TransitGatewayRouteTableAssociations", table)["Associations"].append(
            {**reference, "State": "associated"})
    for target in propagate_to:
        _record(b, "ec2:TransitGatewayRouteTablePropagations", target)["TransitGatewayRouteTablePropagations"].append(
            {**reference, "State": "enabled"})
        for destination in advertised:
            tgw_route(b, target, destination, route_type="propagated", attachment=attachment_id,
                      resource=(resource_type, resource_id))
    b.add("ec2:TransitGatewayAttachments", item)
    return attachment_id


def tgw_vpc_attachment(b: SnapshotBuilder, tgw: str, vpc: str, *, route: str | None = "10.0.0.0/8",
                       **options: Any) -> str:
    """A VPC attachment (and its DescribeTransitGatewayVpcAttachments item); by default the VPC's main table
    routes `route` to the transit gateway. A VPC's propagated routes are its CIDRs."""
    vpc_item = b.vpc_item(vpc)
    options.setdefault("advertised", tuple(a["CidrBlock"] for a in vpc_item["CidrBlockAssociationSet"]))
    options.setdefault("resource_owner", vpc_item["OwnerId"])
    attachment_id = tgw_attachment(b, tgw, "vpc", vpc, **options)
    b.add("ec2:TransitGatewayVpcAttachments", {
        "TransitGatewayAttachmentId": attachment_id, "TransitGatewayId": tgw, "VpcId": vpc,
        "VpcOwnerId": vpc_item["OwnerId"], "State": options.get("state", "available"), "SubnetIds": [],
        "Options": {"DnsSupport": "enable", "Ipv6Support": "disable", "ApplianceModeSupport": "disable"}})
    if route:
        b.route(b.main_table(vpc), route, TransitGatewayId=tgw)
    return attachment_id


def tgw_route(b: SnapshotBuilder, table: str, destination: str, *, route_type: str = "static", state: str = "active",
              attachment: str | None = None, resource: tuple[str, str] = ("vpc", "vpc-0123456789abcdef0")) -> None:
    """A route as SearchTransitGatewayRoutes returns it (a blackhole has no attachment)."""
    route: dict[str, Any] = {"DestinationCidrBlock": destination, "Type": route_type, "State": state}
    if attachment:
        route["TransitGatewayAttachments"] = [{"TransitGatewayAttachmentId": attachment, "ResourceType": resource[0],
                                               "ResourceId": resource[1]}]
    _record(b, "ec2:TransitGatewayRoutes", table)["Routes"].append(route)


def tgw_routes_truncated(b: SnapshotBuilder, table: str, reason: str = "") -> None:
    """The error record the collector leaves when a table's routes could not all be searched (its own record),
    with the collector's reason when it is not a search that stayed truncated."""
    context = CallContext(client=None, account_id=b.account, region=b.region, key="ec2:TransitGatewayRoutes")
    b.errors.append(context.truncation(table, reason).as_dict())
