"""Which route a packet takes: longest prefix match, then AWS's route priority. Pure, one implementation.

VPC route tables: the most specific destination wins; between equally specific routes the local route
wins, then static routes, then prefix-list routes, then propagated ones. Transit gateway route tables:
the most specific wins; then static over prefix-list references over propagated routes, and among
propagated ones VPC, Direct Connect gateway, Connect, VPN (AWS's documented order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from auditor.index import Item, Network, network, span
from auditor.items import lowered

_PROPAGATED_ORDER = {"vpc": 3, "direct-connect-gateway": 4, "connect": 5, "vpn": 6}


class Match(NamedTuple):
    """The route chosen for a destination, and the destination network (a prefix-list entry) that matched."""

    route: Item
    network: Network


def vpc_route_priority(route: Item) -> int:
    origin = lowered(route.get("Origin"))
    if origin == "createroutetable":
        return 0
    if origin == "enablevgwroutepropagation":
        return 3
    return 2 if route.get("DestinationPrefixListId") else 1


def tgw_route_priority(route: Item) -> int:
    if lowered(route.get("Type")) == "propagated":
        kinds = [lowered(a.get("ResourceType")) for a in route.get("TransitGatewayAttachments") or []]
        return min((_PROPAGATED_ORDER.get(k, 7) for k in kinds), default=7)
    return 1 if route.get("PrefixListId") else 0


class RouteTable:
    """One route table compiled for lookups: per (IP version, prefix length), the best route per network.

    A lookup probes each prefix length present, longest first: a handful of dictionary probes.
    """

    __slots__ = ("_by_length", "_probes")

    def __init__(self, routes: Iterable[tuple[Network, int, Item]]) -> None:
        by_length: dict[tuple[int, int], dict[int, tuple[int, Network, Item]]] = {}
        for net, priority, route in routes:
            version, first, _ = span(net)
            bucket = by_length.setdefault((version, net.prefixlen), {})
            held = bucket.get(first)
            if held is None or priority < held[0]:
                bucket[first] = (priority, net, route)
        self._by_length = by_length
        # (version, prefix length, shift, bucket), longest prefix first
        self._probes = [(version, length, (32 if version == 4 else 128) - length, by_length[(version, length)])
                        for version, length in sorted(by_length, key=lambda key: -key[1])]

    def lookup(self, destination: Network) -> Match | None:
        """The route for every address of `destination` (None: no route holds all of it)."""
        version, first, _ = span(destination)
        return self.lookup_key(version, first, destination.prefixlen)

    def longest_first(self) -> list[tuple[Network, Item]]:
        """Each destination network with the route that wins it, the most specific first."""
        return [(net, route) for _, _, _, bucket in self._probes for _, net, route in bucket.values()]

    def lookup_key(self, version: int, first: int, prefixlen: int) -> Match | None:
        """`lookup` for a destination given as (IP version, first address as an integer, prefix length)."""
        for probe_version, length, shift, bucket in self._probes:
            if probe_version != version or length > prefixlen:
                continue
            held = bucket.get((first >> shift) << shift)
            if held is not None:
                return Match(held[2], held[1])
        return None


def compile_vpc_table(table: Item, resolve_prefix_list: Callable[[str], list[Network]]) -> RouteTable:
    rows = []
    for route in table.get("Routes") or []:
        priority = vpc_route_priority(route)
        cidr = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
        if cidr:
            parsed = network(cidr)
            if parsed is not None:
                rows.append((parsed, priority, route))
        elif route.get("DestinationPrefixListId"):
            rows += [(net, priority, route) for net in resolve_prefix_list(route["DestinationPrefixListId"])]
    return RouteTable(rows)


def compile_tgw_table(routes: list[Item], resolve_prefix_list: Callable[[str], list[Network]]) -> RouteTable:
    rows = []
    for route in routes:
        if lowered(route.get("State")) in ("deleted", "deleting"):
            continue
        priority = tgw_route_priority(route)
        parsed = network(route.get("DestinationCidrBlock"))
        if parsed is not None:
            rows.append((parsed, priority, route))
        elif route.get("PrefixListId"):
            rows += [(net, priority, route) for net in resolve_prefix_list(route["PrefixListId"])]
    return RouteTable(rows)
