"""Client VPN and Direct Connect factories: items shaped like the EC2 and Direct Connect API references.

moto 5.2.5 models neither Client VPN nor Direct Connect virtual interfaces and gateways, so these add
snapshot items as the collector stores them (per-parent records keep the API's result key). Each
function adds one resource with compliant defaults and returns its id; a case changes one field.
"""

from __future__ import annotations

from typing import Any

from tests.factories import ACCOUNT, REGION, SnapshotBuilder
from tests.rules.test_routes import tgw_attachment, transit_gateway

GROUP = "S-1-5-21-3623811015-3361044348-30300820-1013"  # an Active Directory group SID, as AWS shows it
CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0f6b1c1e-7d0d-4a5b-9a36-4f5d2c8e1a01"


# Client VPN

def client_vpn_endpoint(b: SnapshotBuilder, vpc: str, *, groups: tuple[str, ...] | None = None,
                        split_tunnel: bool = True, logging: bool = True, status: str = "available",
                        client_cidr: str = "172.16.0.0/22") -> str:
    """An endpoint with its (empty) per-endpoint records; by default its own security group, logging on."""
    endpoint_id = b.new_id("cvpn-endpoint")
    if groups is None:
        groups = (b.security_group(vpc, name="client-vpn", ingress_cidrs=(client_cidr,)),)
    log_options: dict[str, Any] = {"Enabled": logging}
    if logging:
        log_options.update(CloudwatchLogGroup="/aws/client-vpn/connections", CloudwatchLogStream="connections")
    b.add("ec2:ClientVpnEndpoints", {
        "ClientVpnEndpointId": endpoint_id, "Description": "remote access", "Status": {"Code": status},
        "CreationTime": "2026-03-04T10:15:00", "DnsName": f"*.{endpoint_id}.prod.clientvpn.{REGION}.amazonaws.com",
        "ClientCidrBlock": client_cidr, "DnsServers": [], "SplitTunnel": split_tunnel, "VpnProtocol": "openvpn",
        "TransportProtocol": "udp", "VpnPort": 443, "ServerCertificateArn": CERTIFICATE,
        "AuthenticationOptions": [{"Type": "directory-service-authentication",
                                   "ActiveDirectory": {"DirectoryId": "d-906707c1a2"}}],
        "ConnectionLogOptions": log_options, "SecurityGroupIds": list(groups), "VpcId": vpc,
        "SessionTimeoutHours": 24, "ClientConnectOptions": {"Enabled": False, "Status": {"Code": "applied"}},
        "ClientLoginBannerOptions": {"Enabled": False}, "Tags": []})
    b.add("ec2:ClientVpnAuthorizationRules", {"ClientVpnEndpointId": endpoint_id, "AuthorizationRules": []})
    b.add("ec2:ClientVpnRoutes", {"ClientVpnEndpointId": endpoint_id, "Routes": []})
    b.add("ec2:ClientVpnTargetNetworks", {"ClientVpnEndpointId": endpoint_id, "ClientVpnTargetNetworks": []})
    return endpoint_id


def endpoint_item(b: SnapshotBuilder, endpoint: str) -> dict[str, Any]:
    return b.find("ec2:ClientVpnEndpoints", "ClientVpnEndpointId", endpoint)


def _record(b: SnapshotBuilder, key: str, endpoint: str, field: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = b.find(key, "ClientVpnEndpointId", endpoint)[field]
    return items


def authorize(b: SnapshotBuilder, endpoint: str, cidr: str, *, group: str | None = GROUP, status: str = "active",
              description: str = "engineers") -> dict[str, Any]:
    """An authorization rule for one group, or for every user (AccessAll) when group is None."""
    item = {"ClientVpnEndpointId": endpoint, "Description": description, "GroupId": group or "",
            "AccessAll": group is None, "DestinationCidr": cidr, "Status": {"Code": status}}
    _record(b, "ec2:ClientVpnAuthorizationRules", endpoint, "AuthorizationRules").append(item)
    return item


def client_vpn_route(b: SnapshotBuilder, endpoint: str, cidr: str, subnet: str, *, status: str = "active",
                     origin: str = "add-route") -> dict[str, Any]:
    item = {"ClientVpnEndpointId": endpoint, "DestinationCidr": cidr, "TargetSubnet": subnet, "Type": "Nat",
            "Origin": origin, "Status": {"Code": status}, "Description": f"to {cidr}"}
    _record(b, "ec2:ClientVpnRoutes", endpoint, "Routes").append(item)
    return item


def associate_target_network(b: SnapshotBuilder, endpoint: str, subnet: str, *, status: str = "associated",
                             route: bool = True) -> str:
    """A subnet associated as a target network; like AWS, it adds a route to the VPC's CIDR through it."""
    vpc = b.find("ec2:Subnets", "SubnetId", subnet)["VpcId"]
    association_id = b.new_id("cvpn-assoc")
    _record(b, "ec2:ClientVpnTargetNetworks", endpoint, "ClientVpnTargetNetworks").append({
        "AssociationId": association_id, "VpcId": vpc, "TargetNetworkId": subnet, "ClientVpnEndpointId": endpoint,
        "Status": {"Code": status}, "SecurityGroups": list(endpoint_item(b, endpoint)["SecurityGroupIds"])})
    if route:
        client_vpn_route(b, endpoint, b.vpc_item(vpc)["CidrBlock"], subnet, origin="associate")
    return association_id


def remote_access(b: SnapshotBuilder, *, cidr: str = "10.0.0.0/16", **endpoint: Any) -> dict[str, str]:
    """A compliant Client VPN setup: a VPC, two target subnets in two zones, routes, one group authorized."""
    vpc = b.vpc(cidr)
    subnets = [b.subnet(vpc, cidr.replace(".0.0/16", f".{n}.0/24"), zone) for n, zone in ((1, "us-east-1a"),
                                                                                        (2, "us-east-1b"))]
    endpoint_id = client_vpn_endpoint(b, vpc, **endpoint)
    for subnet in subnets:
        associate_target_network(b, endpoint_id, subnet)
    authorize(b, endpoint_id, cidr)
    return {"vpc": vpc, "endpoint": endpoint_id, "subnet_a": subnets[0], "subnet_b": subnets[1]}


# Direct Connect

def dx_connection(b: SnapshotBuilder, *, location: str = "EqDC2", state: str = "available", name: str = "dc-1",
                  account: str | None = None, region: str | None = None) -> str:
    connection_id = b.new_id("dxcon")
    b.add("directconnect:connections", {
        "ownerAccount": account or b.account, "connectionId": connection_id, "connectionName": name,
        "connectionState": state, "region": region or b.region, "location": location, "bandwidth": "10Gbps",
        "awsDeviceV2": f"{location}-123h49s71dabc", "awsLogicalDeviceId": f"{location}-2qrctgafuq5yp",
        "hasLogicalRedundancy": "unknown", "jumboFrameCapable": True, "macSecCapable": False,
        "providerName": "Equinix", "tags": []}, account, region)
    return connection_id


def dx_gateway(b: SnapshotBuilder, *, name: str = "dxgw-core", state: str = "available",
               account: str | None = None) -> str:
    """A Direct Connect gateway (global), with its empty association and attachment records."""
    gateway_id = f"5f29fc3c-2b7e-4b4e-9a1d-{int(b.new_id('x')[2:], 16):012x}"
    owner = account or b.account
    b.add("directconnect:directConnectGateways", {
        "directConnectGatewayId": gateway_id, "directConnectGatewayName": name, "amazonSideAsn": 64512,
        "ownerAccount": owner, "directConnectGatewayState": state}, owner, "global")
    b.add("directconnect:directConnectGatewayAssociations",
          {"directConnectGatewayId": gateway_id, "directConnectGatewayAssociations": []}, owner, "global")
    b.add("directconnect:directConnectGatewayAttachments",
          {"directConnectGatewayId": gateway_id, "directConnectGatewayAttachments": []}, owner, "global")
    return gateway_id


def bgp_peer(b: SnapshotBuilder, status: str = "up", family: str = "ipv4", n: int = 1) -> dict[str, Any]:
    amazon, customer = (f"169.254.{n}.1/30", f"169.254.{n}.2/30") if family == "ipv4" else \
        (f"2001:db8:{n}::1/125", f"2001:db8:{n}::2/125")
    return {"bgpPeerId": b.new_id("dxpeer"), "asn": 65000, "asnLong": 65000, "addressFamily": family,
            "amazonAddress": amazon, "customerAddress": customer, "bgpPeerState": "available", "bgpStatus": status,
            "awsDeviceV2": "EqDC2-123h49s71dabc"}


def dx_virtual_interface(b: SnapshotBuilder, connection: str, *, gateway: str | None = None, vgw: str | None = None,
                         state: str = "available", bgp: tuple[str, ...] = ("up",), account: str | None = None,
                         region: str | None = None, attach: bool = True) -> str:
    """A transit interface to a Direct Connect gateway (attached to it), or a private one to a VGW."""
    owner, home = account or b.account, region or b.region
    vif_id = b.new_id("dxvif")
    location = b.find("directconnect:connections", "connectionId", connection)["location"]
    b.add("directconnect:virtualInterfaces", {
        "ownerAccount": owner, "virtualInterfaceId": vif_id, "location": location, "connectionId": connection,
        "virtualInterfaceType": "transit" if gateway else "private", "virtualInterfaceName": f"vif-{vif_id[-4:]}",
        "vlan": 100 + int(vif_id[6:], 16) % 4000, "asn": 65000, "asnLong": 65000, "amazonSideAsn": 64512,
        "authKey": "REDACTED", "amazonAddress": "169.254.1.1/30", "customerAddress": "169.254.1.2/30",
        "addressFamily": "ipv4", "virtualInterfaceState": state, "mtu": 1500, "jumboFrameCapable": True,
        "virtualGatewayId": vgw or "", "directConnectGatewayId": gateway or "", "routeFilterPrefixes": [],
        "bgpPeers": [bgp_peer(b, status, "ipv4" if n == 0 else "ipv6", n + 1) for n, status in enumerate(bgp)],
        "region": home, "awsDeviceV2": f"{location}-123h49s71dabc", "tags": []}, account, region)
    if gateway and attach:
        b.find("directconnect:directConnectGatewayAttachments", "directConnectGatewayId", gateway)[
            "directConnectGatewayAttachments"].append({
                "directConnectGatewayId": gateway, "virtualInterfaceId": vif_id, "virtualInterfaceRegion": home,
                "virtualInterfaceOwnerAccount": owner, "attachmentState": "attached",
                "attachmentType": "TransitVirtualInterface"})
    return vif_id


def dx_association(b: SnapshotBuilder, gateway: str, *, tgw: str | None = None, vgw: str | None = None,
                   prefixes: tuple[str, ...] = (), state: str = "associated", owner: str | None = None,
                   region: str | None = None) -> str:
    """An association of a Direct Connect gateway with a transit gateway or a VGW, with its allowed prefixes."""
    association_id = f"9a3e6c1d-77f0-4e38-b7b1-{int(b.new_id('x')[2:], 16):012x}"
    side = {"id": tgw or vgw, "type": "transitGateway" if tgw else "virtualPrivateGateway",
            "ownerAccount": owner or b.account, "region": region or b.region}
    item: dict[str, Any] = {
        "directConnectGatewayId": gateway, "directConnectGatewayOwnerAccount": b.account,
        "associationState": state, "associationId": association_id, "associatedGateway": side,
        "allowedPrefixesToDirectConnectGateway": [{"cidr": p} for p in prefixes]}
    if vgw:
        item.update(virtualGatewayId=vgw, virtualGatewayRegion=side["region"],
                    virtualGatewayOwnerAccount=side["ownerAccount"])
    b.find("directconnect:directConnectGatewayAssociations", "directConnectGatewayId", gateway)[
        "directConnectGatewayAssociations"].append(item)
    return association_id


def redundant_hub(b: SnapshotBuilder, *, locations: tuple[str, str] = ("EqDC2", "CSVA1")) -> dict[str, str]:
    """A compliant Direct Connect setup: two connections at two locations, a transit interface on each to one
    Direct Connect gateway, associated with a transit gateway whose VPC's CIDR is the one allowed prefix."""
    vpc = b.vpc("10.20.0.0/16")
    tgw = transit_gateway(b)
    tgw_attachment(b, tgw, vpc)
    gateway = dx_gateway(b)
    connections = [dx_connection(b, location=location, name=f"dc-{n}") for n, location in enumerate(locations, 1)]
    vifs = [dx_virtual_interface(b, c, gateway=gateway) for c in connections]
    association = dx_association(b, gateway, tgw=tgw, prefixes=("10.20.0.0/16",))
    return {"vpc": vpc, "tgw": tgw, "gateway": gateway, "connection_a": connections[0],
            "connection_b": connections[1], "vif_a": vifs[0], "vif_b": vifs[1], "association": association}
