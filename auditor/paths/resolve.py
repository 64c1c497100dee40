"""What the user named, placed in the snapshot, and the question answered both ways. Pure.

X and Y may be a subnet, VPC or network interface id, an IP address or a CIDR. An address or CIDR
outside every VPC is a customer network when a VPN connection or Direct Connect path of the snapshot
leads to it; otherwise it is an error, as is an id the snapshot does not hold.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from auditor.errors import UserError
from auditor.index import Network, network, within
from auditor.items import lowered
from auditor.paths import client_vpn
from auditor.paths.filters import Traffic
from auditor.paths.model import Direction, Endpoint, PathResult
from auditor.paths.walk import Walker
from auditor.paths.world import World

MAX_CANDIDATES = 8  # subnets tried per VPC (one per distinct route table and network ACL)


def resolve(world: World, text: str) -> list[Endpoint]:
    """The candidate places the packet leaves from or goes to; several only for a VPC (one per kind of subnet)."""
    text = text.strip()
    if text.startswith("subnet-"):
        if text not in world.subnets:
            raise UserError(f"subnet {text} is not in the snapshot")
        return [_subnet(world, text, "subnet", text, None)]
    if text.startswith("vpc-"):
        return _vpc(world, text)
    if text.startswith("eni-"):
        if text not in world.interfaces:
            raise UserError(f"network interface {text} is not in the snapshot")
        return [_interface(world, text, "eni", text, None)]
    if text.startswith("vpce-"):
        return _vpc_endpoint(world, text)
    try:
        parsed = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise UserError(f"{text!r} is not a subnet, VPC, network interface or VPC endpoint id, an IP address or a "
                        "CIDR") from None
    return [_address(world, text, parsed, "cidr" if "/" in text else "ip")]


def _vpc_endpoint(world: World, endpoint_id: str) -> list[Endpoint]:
    """An interface (or Gateway Load Balancer) endpoint as a destination: each of its interfaces, or, when
    those were not collected, each of its subnets under the endpoint's security groups."""
    located = world.vpc_endpoints.get(endpoint_id)
    if located is None:
        raise UserError(f"VPC endpoint {endpoint_id} is not in the snapshot")
    item = located.item
    if item.get("VpcEndpointType") == "Gateway":
        raise UserError(f"{endpoint_id} is a gateway endpoint: a route target, not an address; ask about an address "
                        "of the service (one of its prefix list's CIDRs)")
    groups = tuple(str(g.get("GroupId")) for g in item.get("Groups") or [])
    found = [_interface(world, eni, "vpc-endpoint", endpoint_id, None) for eni in item.get("NetworkInterfaceIds") or []
             if eni in world.interfaces]
    if not found:
        found = [replace(_subnet(world, subnet, "vpc-endpoint", endpoint_id, None), groups=groups)
                 for subnet in item.get("SubnetIds") or [] if subnet in world.subnets]
    if not found:
        raise UserError(f"VPC endpoint {endpoint_id} has no interface or subnet in the snapshot")
    return [replace(end, groups=end.groups or groups) for end in found[:MAX_CANDIDATES]]


def _subnet(world: World, subnet_id: str, kind: str, text: str, net: Network | None) -> Endpoint:
    located = world.subnets[subnet_id]
    own = next(iter(world.subnet_networks(subnet_id)), None)
    chosen = net or own
    if chosen is None:
        raise UserError(f"subnet {subnet_id} has no CIDR in the snapshot")
    return Endpoint(text=text, kind=kind, network=chosen, account_id=located.scope.account_id,
                    region=located.scope.region, vpc_id=str(located.item.get("VpcId")), subnet_id=subnet_id)


def _interface(world: World, eni_id: str, kind: str, text: str, address: str | None) -> Endpoint:
    located = world.interfaces[eni_id]
    addresses = world.interface_addresses(eni_id)
    chosen = address or (addresses[0] if addresses else None)
    if chosen is None:
        raise UserError(f"network interface {eni_id} has no private address in the snapshot")
    groups = tuple(str(g.get("GroupId")) for g in located.item.get("Groups") or [])
    return Endpoint(text=text, kind=kind, network=ipaddress.ip_network(chosen), account_id=located.scope.account_id,
                    region=located.scope.region, vpc_id=str(located.item.get("VpcId")),
                    subnet_id=str(located.item.get("SubnetId")), interface_id=eni_id, groups=groups)


def _vpc(world: World, vpc_id: str) -> list[Endpoint]:
    located = world.vpcs.get(vpc_id)
    if located is None:
        raise UserError(f"VPC {vpc_id} is not in the snapshot")
    scope = located.scope
    seen, found = set(), []
    for subnet in sorted(scope.subnets(vpc_id), key=lambda s: str(s.get("SubnetId"))):
        table = scope.table_for_subnet(subnet)
        acl = world.acl_for_subnet(str(subnet["SubnetId"]))
        key = (table.get("RouteTableId") if table else None, acl.item.get("NetworkAclId") if acl else None)
        if key not in seen and len(found) < MAX_CANDIDATES:
            seen.add(key)
            found.append(_subnet(world, str(subnet["SubnetId"]), "vpc", vpc_id, None))
    if found:
        return found
    networks = world.vpc_networks(vpc_id)
    if not networks:
        raise UserError(f"VPC {vpc_id} has no CIDR in the snapshot")
    return [Endpoint(text=vpc_id, kind="vpc", network=networks[0], account_id=scope.account_id, region=scope.region,
                     vpc_id=vpc_id)]


def _address(world: World, text: str, parsed: Network, kind: str) -> Endpoint:
    if kind == "ip" and str(parsed.network_address) in world.interface_by_address:
        return _interface(world, world.interface_by_address[str(parsed.network_address)], "ip", text,
                          str(parsed.network_address))
    vpcs = sorted({vpc for _, vpc in world.vpc_cidrs.containing(parsed)})
    if len(vpcs) > 1:
        raise UserError(f"{text} is in more than one VPC ({', '.join(vpcs)}: overlapping CIDRs); name the subnet "
                        "or network interface instead")
    if vpcs:
        subnets = [s for _, s in world.subnet_cidrs.containing(parsed) if world.subnets[s].item.get("VpcId") == vpcs[0]]
        if subnets:
            return _subnet(world, subnets[0], kind, text, parsed)
        located = world.vpcs[vpcs[0]]
        return Endpoint(text=text, kind=kind, network=parsed, account_id=located.scope.account_id,
                        region=located.scope.region, vpc_id=vpcs[0])
    if world.vpc_cidrs.overlapping(parsed):
        raise UserError(f"{text} covers part of a VPC and part of the outside; name a network inside or outside")
    entries = customer_entries(world, parsed)
    if not entries:
        raise UserError(f"{text} is in no VPC and no customer network of the snapshot (no VPN connection, "
                        "VPN gateway or transit gateway route leads to it)")
    return Endpoint(text=text, kind=kind, network=parsed, entries=entries)


def customer_entries(world: World, net: Network) -> tuple[tuple[str, str], ...]:
    """Where a customer network meets AWS: ("vgw", id) or ("tgw", "tgw-id/attachment-id"), from static VPN
    routes, VPC routes to a VPN gateway, and transit gateway routes to VPN or Direct Connect attachments."""
    found: set[tuple[str, str]] = set()
    for connection_id, located in world.vpn_connections.items():
        item = located.item
        if lowered(item.get("State")) in ("deleted", "deleting"):
            continue
        for route in item.get("Routes") or []:
            cidr = network(route.get("DestinationCidrBlock"))
            if cidr is not None and within(net, cidr):
                found.add(_vpn_entry(world, connection_id, item))
    for located in world.vpcs.values():
        for table in located.scope.items("ec2:RouteTables"):
            for route in table.get("Routes") or []:
                gateway = str(route.get("GatewayId") or "")
                cidr = network(route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock"))
                if gateway.startswith("vgw-") and cidr is not None and within(net, cidr):
                    found.add(("vgw", gateway))
    for table_id, routes in world.tgw_routes.items():
        table = world.tgw_route_tables.get(table_id)
        gateway = str(table.item.get("TransitGatewayId")) if table else ""
        for route in routes:
            cidr = network(route.get("DestinationCidrBlock"))
            if cidr is None or not within(net, cidr):
                continue
            for attachment in route.get("TransitGatewayAttachments") or []:
                if lowered(attachment.get("ResourceType")) in ("vpn", "direct-connect-gateway", "connect"):
                    found.add(("tgw", f"{gateway}/{attachment.get('TransitGatewayAttachmentId')}"))
    return tuple(sorted(found - {("tgw", "")}))


def _vpn_entry(world: World, connection_id: str, item: dict[str, object]) -> tuple[str, str]:
    if item.get("VpnGatewayId"):
        return ("vgw", str(item["VpnGatewayId"]))
    tgw = str(item.get("TransitGatewayId"))
    for attachment_id, located in sorted(world.tgw_attachments.items()):
        if any(lowered(f.item.get("ResourceType")) == "vpn" and f.item.get("ResourceId") == connection_id
               for f in located):
            return ("tgw", f"{tgw}/{attachment_id}")
    return ("tgw", "")


def analyze(world: World, source: str, destination: str, protocol: str = "any", port: int | None = None,
            *, walker: Walker | None = None) -> PathResult:
    """Both directions, for the first pair of candidates that reaches; else the first pair, with its blockers.

    A Client VPN endpoint (a source only) starts where its route for each destination leads."""
    if destination.strip().startswith(client_vpn.PREFIX):
        raise UserError("a Client VPN endpoint can be the source of a path, not its destination")
    if source.strip().startswith("vpce-"):
        raise UserError("a VPC endpoint can be the destination of a path, not its source")
    from_clients = source.strip().startswith(client_vpn.PREFIX)
    destinations = resolve(world, destination)
    sources = [] if from_clients else resolve(world, source)
    if not from_clients and all(s.customer for s in sources) and all(d.customer for d in destinations):
        raise UserError("both ends are customer networks: at least one must be in a VPC of the snapshot")
    walker = walker or Walker(world)
    traffic = Traffic.of(protocol, port)
    first: PathResult | None = None
    for dst in destinations:
        for src, before in _starts(world, source.strip(), sources, dst, from_clients):
            if src is None:
                forward, back = Direction(before.hops, before.blockers), Direction()
                result = PathResult(_unplaced(world, source.strip()), dst, protocol, port, forward, back)
            else:
                forward = walker.trace(src, dst, traffic)
                forward.hops[:0], forward.blockers[:0] = before.hops, before.blockers
                back = walker.trace(dst, src, traffic.reply(), reply=True, prefer=_exit_of(forward))
                result = PathResult(src, dst, protocol, port, forward, back)
            if result.reachable:
                return result
            first = first or result
    assert first is not None
    return first


def _starts(world: World, text: str, sources: list[Endpoint], dst: Endpoint,
            from_clients: bool) -> list[tuple[Endpoint | None, client_vpn.ClientVpnStart]]:
    if from_clients:
        begun = client_vpn.start(world, text, dst)
        return [(begun.source, begun)]
    return [(src, client_vpn.ClientVpnStart(src)) for src in sources]


def _unplaced(world: World, endpoint_id: str) -> Endpoint:
    """A Client VPN endpoint whose traffic reaches no subnet: its clients' own network stands for it."""
    for scope in world.index.scopes:
        for item in scope.items("ec2:ClientVpnEndpoints"):
            if item.get("ClientVpnEndpointId") == endpoint_id:
                net = network(item.get("ClientCidrBlock")) or network("0.0.0.0/0")
                assert net is not None
                return Endpoint(text=endpoint_id, kind="client-vpn", network=net, account_id=scope.account_id,
                                region=scope.region, vpc_id=str(item.get("VpcId")))
    raise UserError(f"Client VPN endpoint {endpoint_id} is not in the snapshot")


def _exit_of(forward: object) -> str:
    """The gateway the forward walk left AWS through, so the reply from a customer network enters there."""
    hops = getattr(forward, "hops", [])
    for hop in reversed(hops):
        if hop.resource_type in ("AWS::EC2::VPNGateway",):
            return str(hop.resource_id)
    return ""
