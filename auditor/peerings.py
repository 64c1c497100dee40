"""The peering joins of the index layer: each peering once, its two sides, and what each side routes to it.

Pure and built once per audit (through Index.memo / Scope.memo), so every peering rule is linear.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from auditor.index import (
    Index,
    Item,
    Network,
    RouteRef,
    Scope,
    network,
    overlaps,
    remainder,
    route_target,
    span,
    within,
)

SIDES = (("RequesterVpcInfo", "requester"), ("AccepterVpcInfo", "accepter"))
PEERINGS = "ec2:VpcPeeringConnections"


@dataclass(frozen=True)
class Side:
    """One end of a peering as the peering item describes it, with the scope of its VPC when collected."""

    name: str  # "requester" or "accepter"
    field: str  # "RequesterVpcInfo" or "AccepterVpcInfo"
    info: Item
    account_id: str
    region: str
    networks: tuple[Network, ...]  # the VPC's CIDRs, IPv4 then IPv6
    scope: Scope | None  # None when that account and region are not in the snapshot

    @property
    def vpc_id(self) -> str:
        return str(self.info.get("VpcId", ""))

    @property
    def where(self) -> str:
        return f"{self.vpc_id} ({self.account_id}, {self.region})"


@dataclass(frozen=True)
class Peering:
    """A peering item with its two sides resolved."""

    item: Item
    requester: Side
    accepter: Side

    @property
    def id(self) -> str:
        return str(self.item["VpcPeeringConnectionId"])

    @property
    def status(self) -> str:
        return str((self.item.get("Status") or {}).get("Code", ""))

    def pairs(self) -> tuple[tuple[Side, Side], tuple[Side, Side]]:
        """(side, its peer) for both sides."""
        return (self.requester, self.accepter), (self.accepter, self.requester)

    @property
    def home(self) -> Side:
        """The side a peering-wide finding is filed under: the requester (which owns the peering) when it
        was collected, else the accepter, so the finding lands in an account the user audits."""
        if self.requester.scope is None and self.accepter.scope is not None:
            return self.accepter
        return self.requester


@dataclass(frozen=True)
class TableRouting:
    """A route table in use on one side, and what its routes to the peering reach of the peer's CIDRs."""

    table: Item
    subnets: list[Item]
    routes: list[RouteRef]  # active routes of this table to the peering
    routed: tuple[Network, ...]  # the peer's CIDRs those routes reach (any overlap counts)
    # Active routes to the peering whose destination is a prefix list whose entries were not read: what they
    # reach is unknown, so whether the table routes the peer cannot be judged.
    unresolved: tuple[RouteRef, ...] = ()
    # Routes to the peering that would reach the peer, but whose every such address a more specific route of the
    # table sends elsewhere (the longest prefix wins): they carry nothing to the peer.
    shadowed: tuple[RouteRef, ...] = ()

    @property
    def table_id(self) -> str:
        return str(self.table["RouteTableId"])


def peerings(index: Index) -> list[Peering]:
    """Every peering of the snapshot once, even when both accounts hold a copy (built once per audit)."""
    return index.memo(("peerings",), _all_peerings, index)  # type: ignore[no-any-return]


def _all_peerings(index: Index) -> list[Peering]:
    return list(_each_peering(index))


def _each_peering(index: Index) -> Iterator[Peering]:
    seen: set[str] = set()
    for scope in index.regional_scopes():
        for item in scope.items(PEERINGS):
            pcx_id = item["VpcPeeringConnectionId"]
            if pcx_id in seen:
                continue
            seen.add(pcx_id)
            requester, accepter = (_side(index, scope, item, field, name) for field, name in SIDES)
            yield Peering(item, requester, accepter)


def _side(index: Index, found_in: Scope, item: Item, field: str, name: str) -> Side:
    info = item.get(field) or {}
    account_id = str(info.get("OwnerId") or found_in.account_id)
    region = str(info.get("Region") or found_in.region)
    return Side(name, field, info, account_id, region, _side_networks(index, info), index.scope(account_id, region))


def _side_networks(index: Index, info: Item) -> tuple[Network, ...]:
    """A side's CIDRs from the peering item; moto (and older items) give only CidrBlock, so the VPC's own
    CIDRs in the snapshot stand in for the missing CidrBlockSet when that VPC was collected."""
    cidrs = [block.get("CidrBlock") for block in info.get("CidrBlockSet") or []]
    found: list[Network] = []
    if not cidrs:
        located = index.find_vpc(str(info.get("VpcId", "")))
        found.extend(located[0].vpc_cidrs(located[1]["VpcId"]) if located else [])
        if not found:
            cidrs = [info.get("CidrBlock")]
    cidrs += [block.get("Ipv6CidrBlock") for block in info.get("Ipv6CidrBlockSet") or []]
    for parsed in (network(cidr) for cidr in cidrs):
        if parsed is not None and parsed not in found:
            found.append(parsed)
    return tuple(found)


def routes_from(peering: Peering, side: Side) -> list[RouteRef]:
    """The routes to the peering in the route tables of this side's VPC (none when it was not collected)."""
    if side.scope is None:
        return []
    return side.scope.memo(("peering-routes", peering.id, side.vpc_id), _routes_from, peering.id, side)


def _routes_from(pcx_id: str, side: Side) -> list[RouteRef]:
    assert side.scope is not None
    vpc_id = side.vpc_id
    return [ref for ref in side.scope.routes_to(pcx_id) if ref.table.get("VpcId") == vpc_id]


def routing(peering: Peering, side: Side, peer: Side) -> list[TableRouting]:
    """Each route table in use in the side's VPC (main, or used by a subnet), with what it routes to the peer."""
    scope = side.scope
    if scope is None:
        return []
    by_table: dict[str, list[RouteRef]] = defaultdict(list)
    for ref in routes_from(peering, side):
        if ref.route.get("State", "active") != "blackhole":
            by_table[ref.table["RouteTableId"]].append(ref)
    peer_networks = peer.networks
    exact = {span(p): p for p in peer_networks}  # the usual route: exactly one of the peer's CIDRs
    nested = scope.memo(("nested-destinations",), _nested_destinations, scope)
    tables = []
    for table_id, (table, subnets) in sorted(scope.tables_in_use(side.vpc_id).items()):
        reaching: list[RouteRef] = []
        routed: list[Network] = []
        unresolved: list[RouteRef] = []
        shadowed: list[RouteRef] = []
        for ref in by_table.get(table_id, ()):
            destinations = scope.destination_networks(ref.route)
            if not destinations and ref.route.get("DestinationPrefixListId"):
                unresolved.append(ref)
                continue
            match = exact.get(span(destinations[0])) if len(destinations) == 1 else None
            reached = [match] if match is not None else [
                p for p in peer_networks if any(overlaps(p, d) for d in destinations)]
            if reached and any(span(d) in nested for d in destinations):  # a longer prefix may take them
                reached = _longest_prefix_wins(scope, table, peering.id, destinations, reached)
                if not reached:
                    shadowed.append(ref)
            if reached:
                reaching.append(ref)
                routed += [p for p in reached if p not in routed]
        tables.append(TableRouting(table, subnets, reaching, tuple(p for p in peer.networks if p in routed),
                                   tuple(unresolved), tuple(shadowed)))
    return tables


def _longest_prefix_wins(scope: Scope, table: Item, pcx_id: str, destinations: list[Network],
                         reached: list[Network]) -> list[Network]:
    """The peer's networks a route to the peering still reaches once the table's more specific routes to other
    targets (blackholes too: they take the traffic and drop it) have taken their addresses."""
    more_specific = [other for route in table.get("Routes") or [] if route_target(route) != pcx_id
                     for other in scope.destination_networks(route)
                     if any(other.prefixlen > d.prefixlen and within(other, d) for d in destinations)]
    if not more_specific:
        return reached
    kept = []
    for peer_network in reached:
        pieces = [peer_network if within(peer_network, d) else d
                  for d in destinations if within(peer_network, d) or within(d, peer_network)]
        if remainder(pieces, more_specific):
            kept.append(peer_network)
    return kept


def _nested_destinations(scope: Scope) -> frozenset[tuple[int, int, int]]:
    """The spans of the scope's route destinations that hold another, more specific, destination of some route of
    the scope: only a route to one of those can be overridden by a longer prefix. Found in one sweep over the
    distinct destinations (a large account has hundreds of thousands of routes, but few destinations)."""
    one_route_each: dict[str, Item] = {}
    for table in scope.items("ec2:RouteTables"):
        for route in table.get("Routes") or []:
            key = (route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
                   or route.get("DestinationPrefixListId"))
            if key and key not in one_route_each:
                one_route_each[key] = route
    spans = {span(net) for route in one_route_each.values() for net in scope.destination_networks(route)}
    holding: set[tuple[int, int, int]] = set()
    open_spans: list[tuple[int, int, int]] = []  # the spans that hold the current one, outermost first
    for current in sorted(spans, key=lambda each: (each[0], each[1], -each[2])):  # holders before what they hold
        while open_spans and (open_spans[-1][0] != current[0] or open_spans[-1][2] < current[1]):
            open_spans.pop()
        holding.update(open_spans)
        open_spans.append(current)
    return frozenset(holding)
