"""Direct Connect rules: redundancy, connection and interface state, allowed prefixes. Pure: reads the snapshot only."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, NamedTuple

from auditor.cidrs import CidrIndex
from auditor.engine import Failure, RuleContext, rule
from auditor.index import Index, Item, Network, Scope, network
from auditor.items import ATTACHMENT_GONE, listed, lowered

CONNECTIONS = "directconnect:connections"
INTERFACES = "directconnect:virtualInterfaces"
GATEWAYS = "directconnect:directConnectGateways"
ASSOCIATIONS = "directconnect:directConnectGatewayAssociations"
ATTACHMENTS = "directconnect:directConnectGatewayAttachments"
GATEWAY_TYPE = "AWS::DirectConnect::Gateway"
GONE = frozenset({"deleting", "deleted"})  # gateways and BGP peers
INTERFACE_GONE = frozenset({"deleting", "deleted", "rejected"})
LIVE_ASSOCIATION = frozenset({"associating", "associated", "updating"})
ATTACHED = frozenset({"attaching", "attached"})  # a virtual interface to a Direct Connect gateway, a VGW to a VPC
# Transit gateway attachments behind which there is no VPC to compare allowed prefixes with.
NOT_VPC_BEHIND = frozenset({"vpn", "vpn-concentrator", "connect", "peering", "tgw-peering", "network-function"})


class Located(NamedTuple):
    """A virtual interface, with the account and region it was read in."""

    scope: Scope
    item: Item

    @property
    def id(self) -> str:
        return str(self.item["virtualInterfaceId"])

    @property
    def state(self) -> str:
        return lowered(self.item.get("virtualInterfaceState"))

    @property
    def location(self) -> str:
        connection = self.scope.by_id(CONNECTIONS, "connectionId").get(str(self.item.get("connectionId")), {})
        return str(self.item.get("location") or connection.get("location") or "")


def interfaces_by_id(index: Index) -> dict[str, Located]:
    """Every virtual interface of the snapshot, by id (read once per audit)."""
    return {str(vif["virtualInterfaceId"]): Located(scope, vif)
            for scope in index.regional_scopes() for vif in scope.items(INTERFACES)}


def gateways_of_vgw(index: Index) -> dict[str, list[tuple[Scope, str]]]:
    """VGW id -> the Direct Connect gateways (global scope, id) it is associated with."""
    found: dict[str, list[tuple[Scope, str]]] = defaultdict(list)
    for scope in index.scopes:
        for record in scope.items(ASSOCIATIONS):
            for association in record.get("directConnectGatewayAssociations") or []:
                side = associated_side(association)
                if side.get("type") == "virtualPrivateGateway" and lowered(
                        association.get("associationState")) in LIVE_ASSOCIATION:
                    found[str(side.get("id"))].append((scope, str(association["directConnectGatewayId"])))
    return found


def associated_side(association: Item) -> Item:
    """The gateway an association serves; older VGW associations carry only the virtualGateway* fields."""
    if association.get("associatedGateway"):
        return dict(association["associatedGateway"])
    if association.get("virtualGatewayId"):
        return {"id": association["virtualGatewayId"], "type": "virtualPrivateGateway",
                "region": association.get("virtualGatewayRegion"),
                "ownerAccount": association.get("virtualGatewayOwnerAccount")}
    return {}


def gateway_label(scope: Scope, gateway_id: str) -> str:
    gateway = scope.by_id(GATEWAYS, "directConnectGatewayId").get(gateway_id, {})
    name = gateway.get("directConnectGatewayName")
    return f"Direct Connect gateway {name} ({gateway_id})" if name else f"Direct Connect gateway {gateway_id}"


def gateway_interfaces(index: Index, scope: Scope, gateway_id: str) -> list[Located] | None:
    """The virtual interfaces attached to a Direct Connect gateway; None when some cannot be seen."""
    record = scope.by_id(ATTACHMENTS, "directConnectGatewayId").get(gateway_id)
    if record is None:
        return None
    known = index.memo(("dx", "interfaces"), interfaces_by_id, index)
    found = []
    for attachment in record.get("directConnectGatewayAttachments") or []:
        if lowered(attachment.get("attachmentState")) not in ATTACHED:
            continue
        located = known.get(str(attachment.get("virtualInterfaceId")))
        if located is None:
            home = index.scope(str(attachment.get("virtualInterfaceOwnerAccount") or scope.account_id),
                               str(attachment.get("virtualInterfaceRegion")))
            if home is None or not home.has(INTERFACES):
                return None  # in an account or region the snapshot does not show: its connection is unknown
            continue  # deleted since the attachment was read
        found.append(located)
    return found


def single_path(interfaces: list[Located]) -> str | None:
    """How traffic depends on one connection or one location; None when it has two locations (or none is up)."""
    available = [i for i in interfaces if i.state == "available"]
    connections: dict[str, str] = {}
    for interface in available:
        connections.setdefault(str(interface.item.get("connectionId")), interface.location)
    locations = set(connections.values())
    if not available or len(locations) > 1 or (len(connections) > 1 and "" in locations):
        return None
    names = listed(i.id for i in available)
    location = f" at {locations.pop()}" if locations - {""} else ""
    if len(connections) == 1:
        path = f"only through connection {next(iter(connections))}{location} (virtual interfaces {names})"
    else:
        path = f"only through connections {listed(sorted(connections))}, all{location} (virtual interfaces {names})"
    idle = [f"{i.id} ({i.state})" for i in interfaces if i.state != "available" and i.state not in INTERFACE_GONE]
    return path + (f"; not available: {listed(idle)}" if idle else "")


def path_failure(scope: Scope, resource_id: str, label: str, path: str, interfaces: list[Located],
                 **extra: Any) -> Failure:
    return Failure(
        account_id=scope.account_id, region=scope.region, resource_id=resource_id, **extra,
        related=tuple({i.id for i in interfaces} | {str(i.item.get("connectionId")) for i in interfaces}),
        message=f"{label} is reached {path}",
        evidence={"VirtualInterfaces": [
            {"virtualInterfaceId": i.id, "connectionId": i.item.get("connectionId"), "location": i.location,
             "virtualInterfaceState": i.item.get("virtualInterfaceState"), "region": i.scope.region}
            for i in interfaces]},
    )


# needs: only keys every scope it reports in can see (global keys are read from regions too); interfaces that
# could not be read in some region are checked in gateway_interfaces.
@rule(id="DX001", name="dx-no-redundancy", severity="medium", resource_type=GATEWAY_TYPE,
      needs=(GATEWAYS, ASSOCIATIONS, ATTACHMENTS))
def dx_no_redundancy(ctx: RuleContext) -> Iterator[Failure]:
    """A Direct Connect gateway or VGW is reached through only one connection, or only one location.

    Paths are the available virtual interfaces: those attached to the Direct Connect gateway, or
    for a virtual private gateway those attached to it directly plus those of the Direct Connect
    gateways it is associated with. It fails when they all ride on one connection (or LAG), or
    on connections all at one Direct Connect location. A virtual private gateway is reported only
    when it has interfaces of its own (otherwise its redundancy is its Direct Connect gateway's).
    A gateway with an interface in an account or region the snapshot does not show, or whose
    interfaces were not read, is not judged; one with no available interface is DX003's.

    ## Why it matters
    A single connection fails with its cross-connect, its AWS device, the customer router or a
    maintenance window; several connections at one location all fail with that building. Every
    VPC behind the gateway then loses its on-premises network at once. AWS's resiliency models ask
    for connections on separate devices at two locations or more.

    ## Remediation
    Order a connection at a second location, and attach a virtual interface on it to the gateway:
    `aws directconnect create-connection --location <second location> --bandwidth 10Gbps
    --connection-name backup` then `aws directconnect create-transit-virtual-interface` (or
    `create-private-virtual-interface`) `--connection-id dxcon-... --new-transit-virtual-interface
    virtualInterfaceName=backup,vlan=101,asn=65000,directConnectGatewayId=<id>`.
    """
    for scope in ctx.index.scopes:
        for gateway in scope.items(GATEWAYS):
            gateway_id = str(gateway["directConnectGatewayId"])
            interfaces = gateway_interfaces(ctx.index, scope, gateway_id)
            if lowered(gateway.get("directConnectGatewayState")) in GONE or interfaces is None:
                continue
            path = single_path(interfaces)
            if path is not None:
                yield path_failure(scope, gateway_id, gateway_label(scope, gateway_id), path, interfaces)
    yield from _vgws_without_redundancy(ctx.index)


def _vgws_without_redundancy(index: Index) -> Iterator[Failure]:
    by_vgw = index.memo(("dx", "gateways-of-vgw"), gateways_of_vgw, index)
    for scope in index.regional_scopes():
        direct: dict[str, list[Located]] = defaultdict(list)
        for vif in scope.items(INTERFACES):
            if vif.get("virtualGatewayId") and lowered(vif.get("virtualInterfaceState")) not in INTERFACE_GONE:
                direct[str(vif["virtualGatewayId"])].append(Located(scope, vif))
        for vgw_id, interfaces in sorted(direct.items()):
            gateways = by_vgw.get(vgw_id, [])
            through = [gateway_interfaces(index, g_scope, g_id) for g_scope, g_id in gateways]
            paths = interfaces + [i for found in through for i in found or []]
            path = None if None in through else single_path(paths)
            if path is not None:
                also = f" (directly and through {listed(g_id for _, g_id in gateways)})" if gateways else ""
                yield path_failure(scope, vgw_id, f"virtual private gateway {vgw_id}{also}", path, paths,
                                   resource_type="AWS::EC2::VPNGateway")


@rule(id="DX002", name="dx-connection-down", severity="high", resource_type="AWS::DirectConnect::Connection",
      needs=(CONNECTIONS,))
def dx_connection_down(ctx: RuleContext) -> Iterator[Failure]:
    """A Direct Connect connection is down.

    A connection whose state AWS reports as unknown is reported too, at medium: nothing proves
    it carries traffic. Connections being ordered, pending, deleted or rejected are not judged.

    ## Why it matters
    Every virtual interface on a down connection is down with it: the VPCs and transit gateways
    behind them lose that path to the on-premises network, and either fail over to another
    connection or VPN (if there is one, with its own capacity) or are cut off.

    ## Remediation
    Check the customer router, the cross-connect and the letter of authorization with the
    colocation provider, and the connection's state and any scheduled maintenance:
    `aws directconnect describe-connections --connection-id dxcon-...`; with no fix in sight,
    move its virtual interfaces to a working connection:
    `aws directconnect associate-virtual-interface --virtual-interface-id dxvif-... --connection-id dxcon-...`
    """
    for scope in ctx.index.regional_scopes():
        riding: dict[str, list[str]] = defaultdict(list)
        for vif in scope.items(INTERFACES):
            if lowered(vif.get("virtualInterfaceState")) not in INTERFACE_GONE:
                riding[str(vif.get("connectionId"))].append(str(vif["virtualInterfaceId"]))
        for connection in scope.items(CONNECTIONS):
            state = lowered(connection.get("connectionState"))
            if state not in ("down", "unknown"):
                continue
            connection_id = str(connection["connectionId"])
            name = f" ({connection['connectionName']})" if connection.get("connectionName") else ""
            vifs = riding.get(connection_id, [])
            carried = f": its virtual interfaces {listed(vifs)} carry no traffic" if vifs else ""
            what = "is down" if state == "down" else "is in state unknown: AWS cannot tell whether it carries traffic"
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=connection_id,
                severity=None if state == "down" else "medium", related=tuple(vifs),
                message=(f"Direct Connect connection {connection_id}{name} at {connection.get('location')} "
                         f"({connection.get('bandwidth')}) {what}{carried}"),
                evidence={"Connection": connection, "VirtualInterfaceIds": vifs},
            )


def peer_label(peer: Item) -> str:
    return (f"{peer.get('bgpPeerId')} ({peer.get('addressFamily')}, Amazon {peer.get('amazonAddress')}, "
            f"customer {peer.get('customerAddress')}, ASN {peer.get('asn')})")


@rule(id="DX003", name="dx-virtual-interface-down", severity="high",
      resource_type="AWS::DirectConnect::VirtualInterface", needs=(INTERFACES,))
def dx_virtual_interface_down(ctx: RuleContext) -> Iterator[Failure]:
    """A Direct Connect virtual interface is down, or a BGP session of it is down.

    An available interface is judged by its BGP peers' bgpStatus (peers being deleted are not
    counted; status unknown is not reported). An interface in state unknown is reported at
    medium. Interfaces being set up, in a failover test (testing), deleted or rejected are not
    judged. The message says when the interface's connection is down as well (DX002).

    ## Why it matters
    Without BGP, the interface learns and advertises no route: the VPCs or transit gateways
    behind it have no path to the on-premises network over it, and traffic fails over to another
    path, if there is one, or is cut off. A single down session (IPv6 next to a working IPv4) cuts
    off that address family only, and goes unnoticed until the other session fails.

    ## Remediation
    Check the customer router's BGP configuration against the interface's (VLAN, ASN, peer
    addresses, MD5 key): `aws directconnect describe-router-configuration --virtual-interface-id
    dxvif-... --router-type-identifier <router type>`, then the session: `aws directconnect
    describe-virtual-interfaces --virtual-interface-id dxvif-...`.
    """
    for scope in ctx.index.regional_scopes():
        connections = scope.by_id(CONNECTIONS, "connectionId")
        for vif in scope.items(INTERFACES):
            state = lowered(vif.get("virtualInterfaceState"))
            peers = [p for p in vif.get("bgpPeers") or [] if lowered(p.get("bgpPeerState")) not in GONE]
            down = [p for p in peers if lowered(p.get("bgpStatus")) == "down"]
            if state == "available" and down:
                problem = f"is available but BGP is down with {listed(map(peer_label, down))}"
            elif state in ("down", "unknown"):
                problem = "is down" if state == "down" else "is in state unknown"
                if peers:
                    problem += "; BGP peers: " + listed(f"{peer_label(p)} {p.get('bgpStatus')}" for p in peers)
            else:
                continue
            connection_id = str(vif.get("connectionId"))
            connection = connections.get(connection_id)
            if connection is not None and lowered(connection.get("connectionState")) == "down":
                problem += f"; its connection {connection_id} is down"
            vif_id = str(vif["virtualInterfaceId"])
            target = vif.get("directConnectGatewayId") or vif.get("virtualGatewayId")
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=vif_id,
                severity="medium" if state == "unknown" else None,
                related=tuple(x for x in (connection_id, target) if x),
                message=(f"{vif.get('virtualInterfaceType')} virtual interface {vif_id} "
                         f"({vif.get('virtualInterfaceName')}, VLAN {vif.get('vlan')}) on {connection_id} at "
                         f"{vif.get('location')} {problem}"),
                evidence={"virtualInterfaceId": vif_id, "virtualInterfaceState": vif.get("virtualInterfaceState"),
                          "connectionId": connection_id, "bgpPeers": peers},
            )


def live_tgw_attachments(scope: Scope) -> dict[str, list[Item]]:
    grouped: dict[str, list[Item]] = defaultdict(list)
    for attachment in scope.items("ec2:TransitGatewayAttachments"):
        if lowered(attachment.get("State")) not in ATTACHMENT_GONE:
            grouped[str(attachment.get("TransitGatewayId"))].append(attachment)
    return grouped


def behind_gateway(index: Index, side: Item) -> tuple[CidrIndex[str], str] | None:
    """The VPC CIDRs behind the associated VGW or transit gateway (and a label for them); None when the snapshot
    does not show all of them."""
    scope = index.scope(str(side.get("ownerAccount")), str(side.get("region")))
    if scope is None:
        return None
    if side.get("type") == "virtualPrivateGateway":
        vgw = scope.by_id("ec2:VpnGateways", "VpnGatewayId").get(str(side.get("id")))
        vpcs = [a.get("VpcId") for a in (vgw or {}).get("VpcAttachments") or []
                if lowered(a.get("State")) in ATTACHED]
    elif side.get("type") == "transitGateway" and scope.has("ec2:TransitGatewayAttachments"):
        live = scope.memo(("dx", "tgw-attachments"), live_tgw_attachments, scope).get(str(side.get("id")), [])
        if any(lowered(a.get("ResourceType")) in NOT_VPC_BEHIND for a in live):
            return None
        vpcs = [a.get("ResourceId") for a in live if lowered(a.get("ResourceType")) == "vpc"]
    else:
        return None
    entries: list[tuple[Network, str]] = []
    for vpc_id in vpcs:
        found = index.find_vpc(str(vpc_id))
        if found is None:
            return None
        entries += [(cidr, str(vpc_id)) for cidr in found[0].vpc_cidrs(str(vpc_id))]
    if not entries:
        return None
    return CidrIndex(entries), listed(f"{vpc} {cidr}" for cidr, vpc in entries)


def too_broad(prefix: Network, behind: tuple[CidrIndex[str], str] | None) -> str | None:
    """Why an allowed prefix is wider than the VPCs behind the association; None when it is not (or cannot be told)."""
    if prefix.prefixlen == 0:
        return "every address"
    if behind is None:
        return None
    reached = behind[0].overlapping(prefix)
    if not reached or any(cidr.prefixlen <= prefix.prefixlen for cidr, _ in reached):
        return None  # addresses no VPC behind it (not a breadth problem), or lies within one VPC CIDR
    if list(ipaddress.collapse_addresses(cidr for cidr, _ in reached)) == [prefix]:  # type: ignore[arg-type]
        return None  # exactly the union of VPC CIDRs
    return f"wider than the VPC CIDRs behind it ({behind[1]})"


@rule(id="DX004", name="dxgw-allowed-prefixes-too-broad", severity="medium", resource_type=GATEWAY_TYPE,
      needs=(GATEWAYS, ASSOCIATIONS))
def dxgw_allowed_prefixes_too_broad(ctx: RuleContext) -> Iterator[Failure]:
    """A Direct Connect gateway association allows 0.0.0.0/0 or prefixes wider than the VPCs behind it.

    The VPCs behind a virtual private gateway are the one it is attached to (ec2:VpnGateways of
    its account and region); behind a transit gateway, every VPC attached to it. A prefix is too
    wide when it holds addresses outside the union of those VPCs' CIDRs while overlapping them (a
    summary of exactly two adjacent VPCs passes; a prefix that overlaps no VPC is another problem,
    not judged here). When the associated gateway, its attachments or a VPC behind it is not in
    the snapshot, or the transit gateway also has VPN, Connect or peering attachments (other
    networks are legitimately behind it), only 0.0.0.0/0 and ::/0 are judged. For a virtual
    private gateway the list is only a filter (AWS advertises the VPC CIDRs themselves), so such
    an association is reported at low. One finding per association, listing every such prefix.

    ## Why it matters
    For a transit gateway, the allowed prefixes are what the Direct Connect gateway advertises to
    the on-premises routers: a default route or an oversized summary draws on-premises traffic
    for addresses AWS does not hold into the transit gateway, where it is dropped or reaches
    networks it was never meant to. For a virtual private gateway, a wide filter lets every CIDR
    later added to the VPC be advertised on-premises without review.

    ## Remediation
    Replace the prefix with the VPC CIDRs (or their exact summary):
    `aws directconnect update-direct-connect-gateway-association --association-id <id>
    --remove-allowed-prefixes-to-direct-connect-gateway cidr=10.0.0.0/8
    --add-allowed-prefixes-to-direct-connect-gateway cidr=10.1.0.0/16`
    """
    for scope in ctx.index.scopes:
        for record in scope.items(ASSOCIATIONS):
            for association in record.get("directConnectGatewayAssociations") or []:
                if lowered(association.get("associationState")) in LIVE_ASSOCIATION:
                    yield from _broad_association(ctx.index, scope, association)


def _broad_association(index: Index, scope: Scope, association: Item) -> Iterator[Failure]:
    side = associated_side(association)
    key = (side.get("ownerAccount"), side.get("region"), side.get("id"))
    behind = index.memo(("dx", "behind", *key), behind_gateway, index, side)
    allowed = [str(p.get("cidr")) for p in association.get("allowedPrefixesToDirectConnectGateway") or []]
    broad = [(cidr, why) for cidr in allowed if (net := network(cidr)) is not None
             and (why := too_broad(net, behind)) is not None]
    if not broad:
        return
    vgw = side.get("type") == "virtualPrivateGateway"
    kind = {"virtualPrivateGateway": "virtual private gateway", "transitGateway": "transit gateway"}.get(
        str(side.get("type")), "gateway")
    effect = ("the list is only a filter here, so CIDRs later added to the VPC within it are advertised unreviewed"
              if vgw else "on-premises routers send traffic for all of it to AWS")
    gateway_id = str(association["directConnectGatewayId"])
    yield Failure(
        account_id=scope.account_id, region=scope.region, resource_id=gateway_id,
        discriminator=str(association.get("associationId")), severity="low" if vgw else None,
        related=tuple(str(x) for x in (side.get("id"),) if x),
        message=(f"{gateway_label(scope, gateway_id)}: its association with {kind} {side.get('id')} "
                 f"({side.get('ownerAccount')}/{side.get('region')}) allows "
                 + "; ".join(f"{cidr} ({why})" for cidr, why in broad) + f": {effect}"),
        evidence={"associationId": association.get("associationId"), "associatedGateway": side,
                  "allowedPrefixesToDirectConnectGateway": allowed, "TooBroad": [c for c, _ in broad],
                  "VpcCidrsBehind": behind[1] if behind else None},
    )
