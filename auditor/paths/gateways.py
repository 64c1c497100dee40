"""The walker's steps through gateways: transit gateways (attachments, route tables, peerings), VPN
gateways and VPN connections, and the way into a VPC from them. Pure; mixed into auditor.paths.walk.Walker."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from auditor.index import Item, Network, Scope, within
from auditor.items import lowered
from auditor.paths import fixes
from auditor.paths.model import Blocker, Direction, Endpoint

if TYPE_CHECKING:
    from auditor.paths.routing import RouteTable
    from auditor.paths.world import World

CUSTOMER_TYPES = ("vpn", "direct-connect-gateway", "connect")


class Step(NamedTuple):
    """Where the packet is: `kind` is table, peering, tgw-from-vpc, tgw, tgw-to-vpc, vgw, deliver or customer."""

    kind: str
    ident: str
    vpc_id: str = ""
    attachment: str = ""
    subnet: str = ""  # the subnet the packet leaves from, where known (a transit gateway serves only some zones)


class GatewaySteps:
    """Steps from a transit gateway or VPN gateway on; the Walker supplies the tables, hops and the world."""

    world: World

    if TYPE_CHECKING:
        def tgw_table(self, table_id: str) -> RouteTable | None: ...
        def table_of(self, vpc_id: str, subnet_id: str | None) -> tuple[Scope, Item] | None: ...
        def _destination_block(self, dst: Endpoint) -> Network: ...
        @staticmethod
        def _hop(walk: Direction, resource_id: str, resource_type: str, scope: Scope | None, detail: str) -> None: ...

    def _tgw_from_vpc(self, walk: Direction, step: Step, dst: Endpoint, reply: bool) -> Step | None:
        attachments = self.world.tgw_vpc_attachments.get((step.ident, step.vpc_id))
        scope = self.world.vpcs[step.vpc_id].scope
        if not attachments:
            walk.blockers.append(Blocker("NO_TRANSIT_GATEWAY_ATTACHMENT", step.ident, f"{step.vpc_id} routes to "
                                         f"{step.ident} but is not attached to it", fixes.attach_vpc(step.ident,
                                                                                                      step.vpc_id)))
            return None
        attachment = attachments[0]
        self._hop(walk, attachment, "AWS::EC2::TransitGatewayAttachment", scope, f"{step.vpc_id} -> {step.ident}")
        zone = self._zone(step.subnet)
        zones = {self._zone(s) for s in self.world.tgw_vpc_subnets.get(attachment, [])} - {""}
        if zone and zones and zone not in zones:
            walk.blockers.append(Blocker(
                "TGW_ATTACHMENT_NOT_IN_SUBNET_AZ", attachment, f"{attachment} has no subnet in {zone}, where "
                f"{step.subnet} is: resources in an Availability Zone without a transit gateway attachment subnet "
                "cannot reach the transit gateway", f"aws ec2 modify-transit-gateway-vpc-attachment "
                f"--transit-gateway-attachment-id {attachment} --add-subnet-ids <a subnet of {step.vpc_id} in {zone}>"))
        return Step("tgw", step.ident, attachment=attachment)

    def _zone(self, subnet_id: str) -> str:
        located = self.world.subnets.get(subnet_id) if subnet_id else None
        return str(located.item.get("AvailabilityZone") or "") if located else ""

    def _tgw(self, walk: Direction, step: Step, dst: Endpoint, reply: bool) -> Step | None:
        gateway = self.world.transit_gateways.get(step.ident)
        scope = gateway.scope if gateway else None
        table_id = self.world.tgw_association.get((step.ident, step.attachment))
        if table_id is None:
            if gateway is None or gateway.item.get("OwnerId") not in (None, gateway.scope.account_id):
                walk.blockers.append(Blocker("NOT_IN_SNAPSHOT", step.ident, f"the route tables of {step.ident} are "
                                             "in its owner's account, which is not in the snapshot",
                                             "collect the transit gateway owner's account too"))
                return None
            default = (gateway.item.get("Options") or {}).get("AssociationDefaultRouteTableId")
            walk.blockers.append(Blocker("TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION", step.attachment,
                                         f"{step.attachment} is associated with no route table of {step.ident}, so "
                                         "the transit gateway drops what it sends", fixes.associate(default,
                                                                                                   step.attachment)))
            if not default:
                return None
            table_id = str(default)
        compiled = self.tgw_table(table_id)
        if compiled is None:
            walk.blockers.append(Blocker("NOT_IN_SNAPSHOT", table_id, f"the routes of {table_id} were not read",
                                         "see AUD001 for the read that failed"))
            return None
        match = compiled.lookup(dst.network)
        if match is None:
            wanted = self._destination_attachment(step.ident, dst)
            self._hop(walk, table_id, "AWS::EC2::TransitGatewayRouteTable", scope, f"no route to {dst.network}")
            walk.blockers.append(Blocker("TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT", table_id, f"{table_id} of "
                                         f"{step.ident} has no route that holds {dst.network}",
                                         fixes.tgw_route(table_id, self._destination_block(dst), wanted)))
            return self._tgw_exit(walk, step.ident, wanted, "vpc", str(dst.vpc_id), dst) if wanted else None
        route = match.route
        chosen = sorted(route.get("TransitGatewayAttachments") or [],
                        key=lambda a: (a.get("ResourceId") != dst.vpc_id, str(a.get("TransitGatewayAttachmentId"))))
        destination = str(route.get("DestinationCidrBlock") or route.get("PrefixListId"))
        detail = f"{destination} -> {chosen[0].get('TransitGatewayAttachmentId') if chosen else 'blackhole'}"
        self._hop(walk, table_id, "AWS::EC2::TransitGatewayRouteTable", scope, f"{detail} ({route.get('Type')})")
        if lowered(route.get("State")) == "blackhole" or not chosen:
            walk.blockers.append(Blocker("TGW_RTB_BLACKHOLE_ROUTE", table_id, f"route {destination} in {table_id} is "
                                         "a blackhole: the transit gateway drops the packet",
                                         fixes.replace_tgw_blackhole(table_id, destination)))
            return None
        attachment = chosen[0]
        return self._tgw_exit(walk, step.ident, str(attachment.get("TransitGatewayAttachmentId")),
                              lowered(attachment.get("ResourceType")), str(attachment.get("ResourceId")), dst)

    def _destination_attachment(self, tgw_id: str, dst: Endpoint) -> str | None:
        attachments = self.world.tgw_vpc_attachments.get((tgw_id, str(dst.vpc_id)))
        return attachments[0] if attachments else None

    def _tgw_exit(self, walk: Direction, tgw_id: str, attachment: str, kind: str, resource: str,
                  dst: Endpoint) -> Step | None:
        if kind == "vpc":
            return Step("tgw-to-vpc", attachment, resource)
        if kind == "peering":
            peer = self.world.tgw_peer.get((tgw_id, attachment))
            self._hop(walk, attachment, "AWS::EC2::TransitGatewayPeeringAttachment", None,
                      f"{tgw_id} -> {peer or 'a transit gateway not in the snapshot'}")
            if peer is None:
                walk.blockers.append(Blocker("NOT_IN_SNAPSHOT", attachment, "the peer transit gateway is not in the "
                                             "snapshot", "collect the peer transit gateway's account and region"))
                return None
            return Step("tgw", peer, attachment=attachment)
        if kind in CUSTOMER_TYPES:
            return self._to_customer(walk, attachment, kind, resource, dst)
        walk.blockers.append(Blocker("UNSUPPORTED_ROUTE_TARGET", attachment, f"path analysis does not follow {kind} "
                                     "attachments", "check this hop by hand or with AWS Reachability Analyzer"))
        return None

    def _tgw_to_vpc(self, walk: Direction, step: Step, dst: Endpoint, reply: bool) -> Step | None:
        return self._enter_vpc(walk, step.vpc_id, dst, step.ident, transit=True)

    def _enter_vpc(self, walk: Direction, vpc_id: str, dst: Endpoint, through: str, *, transit: bool) -> Step | None:
        """A packet arriving in a VPC from a gateway: routed by the gateway's own route table when one is
        associated with it (ingress routing, through a firewall appliance); else delivered when it is for the
        VPC, routed from the attachment's subnet (a transit gateway to an inspection VPC) or dropped (a VPN
        gateway is no transit)."""
        edge = None if transit else self.world.edge_tables.get(through)
        if edge is not None and edge.item.get("VpcId") == vpc_id:
            return Step("table", str(edge.item["RouteTableId"]), vpc_id)
        if any(within(dst.network, net) for net in self.world.vpc_networks(vpc_id)):
            return Step("deliver", vpc_id, vpc_id)
        subnets = [s for s in self.world.tgw_vpc_subnets.get(through, []) if s in self.world.subnets] if transit else []
        found = self.table_of(vpc_id, subnets[0]) if subnets else None
        if found is None:
            walk.blockers.append(Blocker("NO_ROUTE_TO_DESTINATION", through, f"{dst.network} is not in {vpc_id}, "
                                         f"which {through} delivers to, and nothing routes it on", "route the "
                                         "destination to the VPC that holds it"))
            return None
        return Step("table", str(found[1]["RouteTableId"]), vpc_id, subnet=subnets[0])

    def _vgw(self, walk: Direction, step: Step, dst: Endpoint, reply: bool) -> Step | None:
        located = self.world.vpn_gateway(step.ident)
        self._hop(walk, step.ident, "AWS::EC2::VPNGateway", located.scope if located else None,
                  f"{step.vpc_id} -> customer network")
        return self._to_customer(walk, step.ident, "vgw", step.ident, dst)

    def _to_customer(self, walk: Direction, via: str, kind: str, resource: str, dst: Endpoint) -> Step | None:
        if not dst.customer:
            walk.blockers.append(Blocker("NO_ROUTE_TO_DESTINATION", via, f"{dst.network} is in {dst.vpc_id}, but "
                                         f"the route sends it out of AWS through {via} ({kind})",
                                         "route the destination to the VPC that holds it"))
            return None
        connections = self.world.vpns_on(resource) if kind == "vgw" else (
            [self.world.vpn_connections[resource]] if kind == "vpn" and resource in self.world.vpn_connections else [])
        live = [c for c in connections if lowered(c.item.get("State")) == "available"]
        if kind == "vgw" and not live and not self.world.dx_gateways_by_vgw.get(resource):
            walk.blockers.append(Blocker("VPN_CONNECTION_MISSING", via, f"{via} has no available VPN connection "
                                         "and no Direct Connect gateway", "aws ec2 create-vpn-connection "
                                         f"--type ipsec.1 --customer-gateway-id <cgw> --vpn-gateway-id {via}"))
        for connection in live:
            up = [t for t in connection.item.get("VgwTelemetry") or [] if lowered(t.get("Status")) == "up"]
            self._hop(walk, str(connection.item["VpnConnectionId"]), "AWS::EC2::VPNConnection", connection.scope,
                      f"{len(up)} of {len(connection.item.get('VgwTelemetry') or [])} tunnels up")
            if up or not connection.item.get("VgwTelemetry"):
                return Step("customer", str(connection.item["VpnConnectionId"]))
        if live:
            walk.blockers.append(Blocker("VPN_TUNNELS_DOWN", str(live[0].item["VpnConnectionId"]), "every tunnel "
                                         "of the VPN connection is down", "check the customer gateway and the "
                                         "tunnel options; aws ec2 get-vpn-tunnel-replacement-status"))
        return Step("customer", via)
