"""The indexed view of a snapshot that every rule shares: joins built once, each linear. Pure."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from auditor.items import parse_time

Item = dict[str, Any]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The fields of a route that name its target, in the order AWS fills them.
ROUTE_TARGET_FIELDS = (
    "VpcPeeringConnectionId", "TransitGatewayId", "NatGatewayId", "NetworkInterfaceId", "InstanceId",
    "EgressOnlyInternetGatewayId", "CarrierGatewayId", "LocalGatewayId", "CoreNetworkArn", "VpcEndpointId",
    "GatewayId",
)

_NETWORKS: dict[str, Network | None] = {}


def network(cidr: str | None) -> Network | None:
    """A CIDR parsed once per distinct string for the whole audit; None when absent or malformed."""
    if not cidr:
        return None
    try:
        return _NETWORKS[cidr]
    except KeyError:
        try:
            parsed: Network | None = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            parsed = None
        _NETWORKS[cidr] = parsed
        return parsed


_TARGET_FIELD_SET = frozenset(ROUTE_TARGET_FIELDS)


def route_target(route: Item) -> str:
    """The id a route sends traffic to ('local' for the VPC's own route)."""
    present = _TARGET_FIELD_SET.intersection(route)  # usually one field: skip the ordered scan
    if len(present) == 1:
        value = route[next(iter(present))]
        if value:
            return str(value)
    for name in ROUTE_TARGET_FIELDS:
        if route.get(name):
            return str(route[name])
    return ""


def route_destination(route: Item) -> str:
    return (route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
            or route.get("DestinationPrefixListId") or "")


# Keyed by id(): hashing an ipaddress network is slow. Each entry holds its network, so that id is
# never reused by another object while the entry exists.
_SPANS: dict[int, tuple[Network, tuple[int, int, int]]] = {}


def span(net: Network) -> tuple[int, int, int]:
    """(IP version, first address, last address) of a network as integers, computed once per network."""
    entry = _SPANS.get(id(net))
    if entry is not None and entry[0] is net:
        return entry[1]
    result = (net.version, int(net.network_address), int(net.broadcast_address))
    _SPANS[id(net)] = (net, result)
    return result


def overlaps(a: Network, b: Network) -> bool:
    """Whether two networks share an address (False across IPv4 and IPv6); integer compares, cached."""
    version_a, first_a, last_a = span(a)
    version_b, first_b, last_b = span(b)
    return version_a == version_b and first_a <= last_b and first_b <= last_a


def within(inner: Network, outer: Network) -> bool:
    """Whether every address of `inner` is in `outer` (False across IPv4 and IPv6)."""
    version_i, first_i, last_i = span(inner)
    version_o, first_o, last_o = span(outer)
    return version_i == version_o and first_o <= first_i and last_i <= last_o


def without(part: Network, covered: Network) -> list[Network]:
    """The addresses of `part` outside `covered`, as networks (two CIDRs overlap only when one holds the other)."""
    if within(part, covered):
        return []
    if not within(covered, part):  # disjoint, or of another IP version
        return [part]
    return list(part.address_exclude(covered))  # type: ignore[arg-type]


def remainder(parts: Iterable[Network], taken: Iterable[Network]) -> list[Network]:
    """What is left of `parts` once every network of `taken` is removed, as networks."""
    left = list(parts)
    for covered in taken:
        left = [piece for part in left for piece in without(part, covered)]
    return left


def _memoized(cache: dict[tuple[Any, ...], Any], key: tuple[Any, ...], compute: Callable[..., Any],
              args: tuple[Any, ...]) -> Any:
    try:
        return cache[key]
    except KeyError:
        value = cache[key] = compute(*args)
        return value


class RouteRef(NamedTuple):
    """A route, with the table it sits in (a tuple: hundreds of thousands are made per audit)."""

    table: Item
    route: Item

    @property
    def table_id(self) -> str:
        return str(self.table["RouteTableId"])


@dataclass
class Scope:
    """One account and region of the snapshot, with its joins built on first use."""

    account_id: str
    region: str
    data: dict[str, list[Item]]
    _by_id: dict[tuple[str, str], dict[str, Item]] = field(default_factory=dict, repr=False)
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    def memo(self, key: tuple[Any, ...], compute: Callable[..., Any], *args: Any) -> Any:
        """`compute(*args)` for this scope, computed once per audit and shared by the rules that ask for it."""
        return _memoized(self._memo, key, compute, args)

    def items(self, key: str) -> list[Item]:
        return self.data.get(key, [])

    def has(self, key: str) -> bool:
        return key in self.data

    def by_id(self, key: str, id_field: str) -> dict[str, Item]:
        cached = self._by_id.get((key, id_field))
        if cached is None:
            cached = {str(item[id_field]): item for item in self.items(key) if id_field in item}
            self._by_id[(key, id_field)] = cached
        return cached

    # VPCs and their address space
    def vpc_cidrs(self, vpc_id: str) -> list[Network]:
        return self._vpc_cidrs.get(vpc_id, [])

    @cached_property
    def _vpc_cidrs(self) -> dict[str, list[Network]]:
        cidrs: dict[str, list[Network]] = {}
        for vpc in self.items("ec2:Vpcs"):
            found: list[Network] = []
            for association in vpc.get("CidrBlockAssociationSet") or [{"CidrBlock": vpc.get("CidrBlock")}]:
                state = (association.get("CidrBlockState") or {}).get("State", "associated")
                parsed = network(association.get("CidrBlock"))
                if parsed is not None and state == "associated" and parsed not in found:
                    found.append(parsed)
            for association in vpc.get("Ipv6CidrBlockAssociationSet") or []:
                state = (association.get("Ipv6CidrBlockState") or {}).get("State", "associated")
                parsed = network(association.get("Ipv6CidrBlock"))
                if parsed is not None and state == "associated":
                    found.append(parsed)
            cidrs[vpc["VpcId"]] = found
        return cidrs

    # Route tables: which one each subnet really uses, and which are in use at all
    @cached_property
    def _tables(self) -> tuple[dict[str, Item], dict[str, list[Item]], dict[str, Item]]:
        main: dict[str, Item] = {}
        explicit: dict[str, Item] = {}
        by_vpc: dict[str, list[Item]] = defaultdict(list)
        for table in self.items("ec2:RouteTables"):
            by_vpc[table.get("VpcId", "")].append(table)
            for association in table.get("Associations") or []:
                if (association.get("AssociationState") or {}).get("State", "associated") != "associated":
                    continue
                if association.get("Main"):
                    main[table.get("VpcId", "")] = table
                elif association.get("SubnetId"):
                    explicit[association["SubnetId"]] = table
        return main, by_vpc, explicit

    def main_table(self, vpc_id: str) -> Item | None:
        return self._tables[0].get(vpc_id)

    def route_tables(self, vpc_id: str) -> list[Item]:
        return self._tables[1].get(vpc_id, [])

    def table_for_subnet(self, subnet: Item) -> Item | None:
        """The route table a subnet uses: its explicit association, else its VPC's main table."""
        return self._tables[2].get(subnet["SubnetId"]) or self.main_table(subnet.get("VpcId", ""))

    def subnets(self, vpc_id: str) -> list[Item]:
        return self._subnets_by_vpc.get(vpc_id, [])

    @cached_property
    def _subnets_by_vpc(self) -> dict[str, list[Item]]:
        grouped: dict[str, list[Item]] = defaultdict(list)
        for subnet in self.items("ec2:Subnets"):
            grouped[subnet.get("VpcId", "")].append(subnet)
        return grouped

    @cached_property
    def subnets_by_table(self) -> dict[str, list[str]]:
        """Route table id -> ids of the subnets that really use it (explicitly or through the main table)."""
        users: dict[str, list[str]] = defaultdict(list)
        for subnet in self.items("ec2:Subnets"):
            table = self.table_for_subnet(subnet)
            if table is not None:
                users[table["RouteTableId"]].append(subnet["SubnetId"])
        return users

    def tables_in_use(self, vpc_id: str) -> dict[str, tuple[Item, list[Item]]]:
        """Route tables in use in a VPC (the main table, and each associated with a subnet), with their subnets."""
        cached = self._tables_in_use.get(vpc_id)
        if cached is None:
            cached = self._tables_in_use[vpc_id] = self._find_tables_in_use(vpc_id)
        return cached

    @cached_property
    def _tables_in_use(self) -> dict[str, dict[str, tuple[Item, list[Item]]]]:
        return {}

    def _find_tables_in_use(self, vpc_id: str) -> dict[str, tuple[Item, list[Item]]]:
        in_use: dict[str, tuple[Item, list[Item]]] = {}
        main = self.main_table(vpc_id)
        if main is not None:
            in_use[main["RouteTableId"]] = (main, [])
        for subnet in self.subnets(vpc_id):
            table = self.table_for_subnet(subnet)
            if table is not None:
                in_use.setdefault(table["RouteTableId"], (table, []))[1].append(subnet)
        return in_use

    # Routes by target and by state, in one pass over every route
    @cached_property
    def _routes_grouped(self) -> tuple[dict[str, list[RouteRef]], dict[str, list[RouteRef]]]:
        by_target: dict[str, list[RouteRef]] = defaultdict(list)
        by_state: dict[str, list[RouteRef]] = defaultdict(list)
        make = tuple.__new__  # RouteRef(...) through its Python-level __new__ costs twice as much
        for table in self.items("ec2:RouteTables"):
            for route in table.get("Routes") or []:
                ref = make(RouteRef, (table, route))
                by_target[route_target(route)].append(ref)
                state = route.get("State")
                if state != "active":
                    by_state[state.lower() if isinstance(state, str) else "active"].append(ref)
        return by_target, by_state

    @property
    def _routes_by_target(self) -> dict[str, list[RouteRef]]:
        return self._routes_grouped[0]

    def routes_to(self, target_id: str) -> list[RouteRef]:
        return self._routes_by_target.get(target_id, [])

    def routes_in_state(self, state: str) -> list[RouteRef]:
        """Routes whose State is `state` other than "active" (blackhole), in table order."""
        return self._routes_grouped[1].get(state, [])

    def tables_routing_to(self, target_id: str, vpc_id: str) -> set[str]:
        """Ids of the VPC's route tables with a route to the target that is not a blackhole."""
        return self._live_routes_to(target_id).get(vpc_id, set())

    def _live_routes_to(self, target_id: str) -> dict[str, set[str]]:
        """VPC id -> its route tables with a live route to the target: one pass over the target's routes, however
        many VPCs share the target (a transit gateway reaches thousands); once per target and audit."""
        def find() -> dict[str, set[str]]:
            found: dict[str, set[str]] = defaultdict(set)
            for table, route in self.routes_to(target_id):
                if str(route.get("State", "active")).lower() != "blackhole":
                    found[str(table.get("VpcId", ""))].add(str(table["RouteTableId"]))
            return found
        return self.memo(("tables-routing-to", target_id), find)  # type: ignore[no-any-return]

    def serving_tables(self, vpc_id: str) -> list[tuple[Item, list[Item]]]:
        """The route tables that carry a VPC's traffic: those its subnets use (the main table only if a subnet
        uses it); every table in use when the VPC has no subnet at all."""
        in_use = [entry for _, entry in sorted(self.tables_in_use(vpc_id).items())]
        return [entry for entry in in_use if entry[1]] or in_use

    def route_targets(self) -> Iterable[str]:
        return self._routes_by_target.keys()

    def destination_networks(self, route: Item) -> list[Network]:
        """A route's destination as networks; a prefix list is resolved from its collected entries."""
        for name in ("DestinationCidrBlock", "DestinationIpv6CidrBlock"):
            cidr = route.get(name)
            if cidr:
                parsed = _NETWORKS.get(cidr) or network(cidr)
                if parsed is not None:
                    return [parsed]
        prefix_list = route.get("DestinationPrefixListId")
        if prefix_list:
            record = self.by_id("ec2:ManagedPrefixListEntries", "PrefixListId").get(prefix_list)
            return [n for n in (network(e.get("Cidr")) for e in (record or {}).get("Entries", [])) if n]
        return []


class Index:
    """Every scope of a snapshot, the errors, and the cross-account joins (where each VPC lives)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.scopes: list[Scope] = []
        self._partitions: dict[str, str] = {}
        for account_id, section in sorted(document.get("accounts", {}).items()):
            self._partitions[account_id] = section.get("partition", "aws")
            for region, data in sorted(section.get("regions", {}).items()):
                self.scopes.append(Scope(account_id, region, data))
        self._scope_by_key = {(s.account_id, s.region): s for s in self.scopes}
        self.errors: list[dict[str, Any]] = list(document.get("errors", []))
        self._memo: dict[tuple[Any, ...], Any] = {}

    def memo(self, key: tuple[Any, ...], compute: Callable[..., Any], *args: Any) -> Any:
        """`compute(*args)`, computed once per audit and shared by every rule that asks under the same key."""
        return _memoized(self._memo, key, compute, args)

    @property
    def account_ids(self) -> list[str]:
        return sorted(self._partitions)

    @cached_property
    def collected_at(self) -> dt.datetime | None:
        """When the snapshot was collected (a merged snapshot: its earliest shard), or None if it does not say."""
        moment = parse_time(self.document.get("collected_at"))
        return None if moment is None else moment.astimezone(dt.UTC)

    @cached_property
    def collected_at_by_account(self) -> dict[str, dt.datetime]:
        """Each account's own collection time, where a merged snapshot records it (its `shards`: the earliest
        shard that holds the account); accounts it does not name are as collected_at says."""
        return self._earliest_in_shards(
            lambda record: record.get("accounts") if isinstance(record.get("accounts"), list) else [])

    @cached_property
    def collected_at_by_region(self) -> dict[tuple[str, str], dt.datetime]:
        """Each (account, region)'s own collection time, where a merged snapshot's `shards` name the regions (since
        2026-11-27): an account split over shards by region has one time per shard. The "global" region, in every
        such shard, takes the earliest."""
        def regions_of(record: dict[str, Any]) -> list[tuple[str, str]]:
            regions = record.get("regions")
            return [(str(account_id), str(region))
                    for account_id, names in (regions.items() if isinstance(regions, dict) else ())
                    for region in (names if isinstance(names, list) else [])]

        return self._earliest_in_shards(regions_of)

    def _earliest_in_shards(self, keys_of: Callable[[dict[str, Any]], list[Any]]) -> dict[Any, dt.datetime]:
        """For each key a merged snapshot's shard records name (keys_of(record)), the earliest such shard's time."""
        moments: dict[Any, dt.datetime] = {}
        shards = self.document.get("shards")
        for record in shards if isinstance(shards, list) else []:
            moment = parse_time(record.get("collected_at")) if isinstance(record, dict) else None
            if moment is None:
                continue
            for key in keys_of(record):
                if key not in moments or moment < moments[key]:
                    moments[key] = moment.astimezone(dt.UTC)
        return moments

    @property
    def trusted_accounts(self) -> list[str]:
        """Accounts the snapshot says to trust: with `collect --org`, every account of the organization."""
        return list(self.document.get("trusted_accounts", []))

    def partition(self, account_id: str) -> str:
        return self._partitions.get(account_id, "aws")

    def scope(self, account_id: str, region: str) -> Scope | None:
        return self._scope_by_key.get((account_id, region))

    def regional_scopes(self) -> Iterator[Scope]:
        return (s for s in self.scopes if s.region != "global")

    def scopes_in(self, region: str) -> list[Scope]:
        """Every account's scope of one region. A VPC shared through RAM has things of several accounts: its
        owner's route tables and gateway endpoints, a participant's interface endpoints in its shared subnets,
        each listed only in the account that owns it."""
        return self.memo(("scopes_in", region), lambda: [s for s in self.scopes if s.region == region])

    def can_judge(self, account_id: str, region: str, keys: Iterable[str]) -> bool:
        """False when that account and region are in the snapshot but a key the rule needs was not read.

        A scope absent from the snapshot (the far side of a peering to another account) is not
        "missing data": the rule judged it from what the collected side shows.
        """
        scope = self.scope(account_id, region)
        if scope is None:
            return True
        return all(scope.has(key) or self._read_elsewhere(account_id, key) for key in keys)

    def _read_elsewhere(self, account_id: str, key: str) -> bool:
        # Global keys (Direct Connect gateways) live under region "global".
        scope = self.scope(account_id, "global")
        return scope is not None and scope.has(key)

    @cached_property
    def vpc_locations(self) -> dict[str, Scope]:
        """Which scope each VPC id of the snapshot lives in."""
        return {vpc["VpcId"]: scope for scope in self.scopes for vpc in scope.items("ec2:Vpcs")}

    def find_vpc(self, vpc_id: str) -> tuple[Scope, Item] | None:
        scope = self.vpc_locations.get(vpc_id)
        if scope is None:
            return None
        return scope, scope.by_id("ec2:Vpcs", "VpcId")[vpc_id]
