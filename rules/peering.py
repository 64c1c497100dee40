"""VPC peering rules: routes on both sides, DNS options, CIDRs, state and trust. Pure: reads the snapshot only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from auditor.engine import Failure, RuleContext, rule
from auditor.index import Network, RouteRef, overlaps, remainder, route_destination, span, within
from auditor.items import parse_time
from auditor.peerings import PEERINGS, Peering, Side, TableRouting, peerings, routes_from, routing

ROUTING_NEEDS = (PEERINGS, "ec2:RouteTables", "ec2:Subnets", "ec2:Vpcs")
RESOURCE_TYPE = "AWS::EC2::VPCPeeringConnection"
ENDED = frozenset({"deleted", "rejected", "failed", "expired"})
NO_LONGER_ROUTABLE = ENDED | {"deleting"}
PENDING_LIFETIME = dt.timedelta(days=7)  # AWS expires an unaccepted request 7 days after it was made
MAX_PENDING_DAYS = 3  # the default: at 7 (the lifetime) a pending request would already have expired


def _too_broad(destination: Network, peer_networks: Iterable[Network], own_networks: Iterable[Network] = ()) -> bool:
    """A default route, or one that reaches the peer and also addresses outside all of the peer's CIDRs, other
    than the side's own (its local route always wins for those: a summary of both VPCs sends only the peer's)."""
    if destination.prefixlen == 0:
        return True
    reached = [p for p in peer_networks if overlaps(p, destination)]
    if not reached or any(within(destination, p) for p in reached):
        return False
    return bool(remainder([destination], [*reached, *own_networks]))


def _cidrs(networks: Iterable[Network]) -> str:
    return ", ".join(str(n) for n in networks) or "no known CIDR"


def _listing(names: Iterable[str], limit: int = 8) -> str:
    names = list(names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _table_label(table: TableRouting) -> str:
    subnets = [str(s["SubnetId"]) for s in table.subnets]
    return f"{table.table_id} (subnets {_listing(subnets)})" if subnets else f"{table.table_id} (main)"


def _destination(ref: RouteRef, networks: list[Network]) -> str:
    """A route's destination as written, with the networks meant when it is a prefix list."""
    written = route_destination(ref.route)
    return f"{written} ({_cidrs(networks)})" if written.startswith("pl-") else written


def _route_evidence(refs: Iterable[RouteRef]) -> list[dict[str, Any]]:
    return [{"RouteTableId": ref.table_id, "Route": ref.route} for ref in refs]


def _route_failure(peering: Peering, side: Side, peer: Side, ref: RouteRef, message: str) -> Failure:
    """A finding about one route of a side's table to the peering: one per (route table, destination)."""
    return Failure(
        account_id=side.account_id, region=side.region, resource_id=peering.id,
        discriminator=f"{ref.table_id}:{route_destination(ref.route)}",
        related=(ref.table_id, side.vpc_id, peer.vpc_id), message=message,
        evidence={"VpcPeeringConnection": peering.item, "RouteTableId": ref.table_id, "Route": ref.route,
                  "PeerCidrs": [str(n) for n in peer.networks]},
    )


# Rules

@rule(id="PCX001", name="peering-missing-route", severity="high", resource_type=RESOURCE_TYPE, needs=ROUTING_NEEDS)
def peering_missing_route(ctx: RuleContext) -> Iterator[Failure]:
    """An active peering has no route to the peer VPC on one side.

    A route to the peering whose destination is a prefix list whose entries could not be read
    counts as a route (what it holds is unknown; AUD001 names the unread key). A route whose
    addresses of the peer more specific routes of the same table send elsewhere (10.1.0.0/16 to
    the peering, 10.1.0.0/17 and 10.1.128.0/17 to a transit gateway) does not: the longest
    prefix wins, so it carries nothing to the peer (until 2026-11-27 it counted).

    ## Why it matters
    A peering carries traffic only where a route table sends it there. When no route table in
    use in a side's VPC (its main table, or one associated with a subnet) routes any of the peer
    VPC's CIDRs to the peering, nothing on that side can reach the peer, and replies to traffic
    from the peer cannot return: the connection is paid for and reviewed but does not work.

    ## Remediation
    Add a route to the peer VPC's CIDR in each route table its subnets use, in the account and
    region of that side:
    `aws ec2 create-route --route-table-id rtb-... --destination-cidr-block 10.1.0.0/16
    --vpc-peering-connection-id pcx-...`
    """
    for peering in peerings(ctx.index):
        if peering.status != "active":
            continue
        for side, peer in peering.pairs():
            if side.scope is None:
                yield Failure(
                    account_id=side.account_id, region=side.region, resource_id=peering.id,
                    discriminator=side.name, related=(side.vpc_id, peer.vpc_id), severity="info",
                    message=(f"peering {peering.id}: the {side.name} side {side.where} could not be checked for a "
                             f"route to {peer.vpc_id} ({_cidrs(peer.networks)}): that account and region are not "
                             "in the snapshot"),
                    evidence={"VpcPeeringConnection": peering.item})
                continue
            tables = ctx.index.memo(("peering-routing", peering.id, side.name), routing, peering, side, peer)
            if any(t.routed or t.unresolved for t in tables):
                continue  # routed; or a route to a prefix list whose entries could not be read (AUD001 says so)
            in_use = [t.table_id for t in tables]
            elsewhere = sorted({ref.table_id for ref in routes_from(peering, side) if ref.table_id not in in_use})
            unused = f"; route tables no subnet uses do: {_listing(elsewhere)}" if elsewhere else ""
            shadowed = sorted({ref.table_id for t in tables for ref in t.shadowed})
            if shadowed:
                unused += (f"; in {_listing(shadowed)} its routes to the peering are overridden: more specific "
                           "routes send the peer's addresses elsewhere")
            yield Failure(
                account_id=side.account_id, region=side.region, resource_id=peering.id, discriminator=side.name,
                related=(side.vpc_id, peer.vpc_id, *in_use),
                message=(f"peering {peering.id} is active but on the {side.name} side no route table in use in "
                         f"{side.vpc_id} ({_listing(_table_label(t) for t in tables) or 'none'}) routes the peer "
                         f"{peer.vpc_id}'s CIDRs ({_cidrs(peer.networks)}) to it, so {side.vpc_id} cannot reach "
                         f"the peer{unused}"),
                evidence={"VpcPeeringConnection": peering.item, "RouteTablesInUse": in_use,
                          "RoutesToPeering": _route_evidence(routes_from(peering, side))})


@rule(id="PCX002", name="peering-route-partial", severity="medium", resource_type=RESOURCE_TYPE,
      needs=ROUTING_NEEDS)
def peering_route_partial(ctx: RuleContext) -> Iterator[Failure]:
    """Some subnets, or some of the peer's CIDRs, are not routed to an active peering.

    ## Why it matters
    Routes to the peer exist on this side, but not in every route table its subnets use, or not
    for every CIDR of the peer VPC (a secondary CIDR or its IPv6 block added later). Traffic from
    the subnets left out, or to the addresses left out, is not sent over the peering: it fails,
    or leaves by another route (a NAT or internet gateway, a transit gateway) it should not take.

    ## Remediation
    Add the missing routes, in each route table named, for each CIDR named:
    `aws ec2 create-route --route-table-id rtb-... --destination-cidr-block 10.2.0.0/16
    --vpc-peering-connection-id pcx-...`
    (`--destination-ipv6-cidr-block` for an IPv6 CIDR).
    """
    for peering in peerings(ctx.index):
        if peering.status != "active":
            continue
        for side, peer in peering.pairs():
            if side.scope is None:
                continue
            tables = ctx.index.memo(("peering-routing", peering.id, side.name), routing, peering, side, peer)
            if not any(t.routed for t in tables):
                continue  # no route at all: PCX001's finding
            has_ipv6 = any(n.version == 6 for n in side.networks)
            wanted = [p for p in peer.networks if p.version == 4 or has_ipv6]  # IPv6 needs an IPv6 source
            serving = [t for t in tables if t.subnets] or tables  # a main table no subnet uses carries nothing
            serving = [t for t in serving if not t.unresolved]  # what those reach is unknown: not judged
            gaps = {t.table_id: [p for p in wanted if p not in t.routed] for t in serving}
            lacking = [t for t in serving if not any(p in t.routed for p in wanted)]
            partial = [t for t in serving if gaps[t.table_id] and t not in lacking]
            if not lacking and not partial:
                continue
            parts = [f"{_table_label(t)} has no route to it" for t in lacking]
            parts += [f"{_table_label(t)} does not route {_cidrs(gaps[t.table_id])}" for t in partial]
            yield Failure(
                account_id=side.account_id, region=side.region, resource_id=peering.id, discriminator=side.name,
                related=(side.vpc_id, peer.vpc_id, *(t.table_id for t in lacking + partial)),
                message=(f"peering {peering.id}: on the {side.name} side {side.vpc_id} routes the peer "
                         f"{peer.vpc_id} ({_cidrs(wanted)}) only in part: {'; '.join(parts)}"),
                evidence={"VpcPeeringConnection": peering.item,
                          "UnroutedPeerCidrs": {k: [str(n) for n in v] for k, v in sorted(gaps.items()) if v},
                          "RoutesToPeering": _route_evidence(r for t in tables for r in t.routes)},
            )


@rule(id="PCX003", name="peering-dns-resolution-disabled", severity="medium", resource_type=RESOURCE_TYPE,
      needs=(PEERINGS,))
def peering_dns_resolution_disabled(ctx: RuleContext) -> Iterator[Failure]:
    """An active peering does not resolve the other VPC's private DNS names.

    ## Why it matters
    With AllowDnsResolutionFromRemoteVpc off on a side, the public DNS names of that side's
    instances and endpoints resolve to public addresses when queried from the peer VPC, so
    traffic meant for the peering leaves by the internet or a NAT gateway instead, and is
    filtered, billed and exposed as public traffic.

    ## Remediation
    Allow DNS resolution from the remote VPC on the side that owns the names (run by that
    side's account, in its region):
    `aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id pcx-...
    --accepter-peering-connection-options AllowDnsResolutionFromRemoteVpc=true`
    (or `--requester-peering-connection-options` for the requester side).
    """
    for peering in peerings(ctx.index):
        if peering.status != "active":
            continue
        for side in (peering.requester, peering.accepter):
            options = side.info.get("PeeringOptions")
            if options is None or options.get("AllowDnsResolutionFromRemoteVpc", False):
                continue
            yield Failure(
                account_id=side.account_id, region=side.region, resource_id=peering.id, discriminator=side.name,
                related=(side.vpc_id,),
                message=(f"peering {peering.id}: the {side.name} side ({side.vpc_id}) does not allow DNS "
                         "resolution from the remote VPC, so its names resolve to public addresses from the peer"),
                evidence={"VpcPeeringConnectionId": peering.id, side.field: side.info,
                          "Status": peering.item.get("Status")},
            )


@rule(id="PCX004", name="peering-route-too-broad", severity="medium", resource_type=RESOURCE_TYPE,
      needs=(PEERINGS, "ec2:RouteTables", "ec2:Vpcs"))
def peering_route_too_broad(ctx: RuleContext) -> Iterator[Failure]:
    """A route sends a default route, or more than the peer VPC's CIDRs, to a peering.

    The side's own CIDRs do not count as more: its local route always wins for them, so a summary
    of both VPCs (10.0.0.0/15 for 10.0.0.0/16 and 10.1.0.0/16) sends only the peer's addresses.

    ## Why it matters
    A peering delivers only to addresses of the peer VPC (it is not transitive). A route to it
    for 0.0.0.0/0, ::/0 or a supernet of the peer's CIDRs captures traffic for every other
    address in that range, which the peering then drops: it hides the path that traffic should
    take (a NAT, internet or transit gateway) and reads as if the peer were a hub.

    ## Remediation
    Replace the route with routes for the peer VPC's own CIDRs:
    `aws ec2 delete-route --route-table-id rtb-... --destination-cidr-block 10.0.0.0/8` then
    `aws ec2 create-route --route-table-id rtb-... --destination-cidr-block 10.1.0.0/16
    --vpc-peering-connection-id pcx-...`
    """
    for peering in peerings(ctx.index):
        if peering.status in NO_LONGER_ROUTABLE:
            continue  # PCX006 names routes left to a peering that is gone
        for side, peer in peering.pairs():
            if side.scope is None:
                continue
            exact = {span(n) for n in peer.networks}  # the usual route: exactly one of the peer's CIDRs
            for ref in routes_from(peering, side):
                broad = [d for d in side.scope.destination_networks(ref.route)
                         if span(d) not in exact and _too_broad(d, peer.networks, side.networks)]
                if broad:
                    yield _route_failure(peering, side, peer, ref, (
                        f"route table {ref.table_id} in {side.vpc_id} sends {_destination(ref, broad)} to peering "
                        f"{peering.id}, wider than the peer {peer.vpc_id}'s CIDRs ({_cidrs(peer.networks)}): "
                        "traffic for the other addresses is sent to the peering and dropped"))


@rule(id="PCX005", name="peering-route-dead-destination", severity="low", resource_type=RESOURCE_TYPE,
      needs=(PEERINGS, "ec2:RouteTables", "ec2:Vpcs"))
def peering_route_dead_destination(ctx: RuleContext) -> Iterator[Failure]:
    """A route sends a destination to a peering that is no part of the peer VPC.

    Not judged while the peer's CIDRs are unknown (AWS gives the accepter's only once the
    peering is active, and its VPC may be outside the snapshot).

    ## Why it matters
    A peering delivers only to addresses of the peer VPC. A route to it for a destination that
    overlaps none of the peer's CIDRs (a CIDR the peer no longer has, a typo, a network behind
    the peer) sends that traffic into the peering to be dropped, and makes the routing table say
    something that is not true.

    ## Remediation
    Delete the route, or point it at the target that really reaches that network:
    `aws ec2 delete-route --route-table-id rtb-... --destination-cidr-block 192.168.0.0/16`
    """
    for peering in peerings(ctx.index):
        if peering.status in NO_LONGER_ROUTABLE:
            continue
        for side, peer in peering.pairs():
            if side.scope is None or not peer.networks:
                continue  # the peer's CIDRs unknown: an accepter outside the snapshot of a request not yet active
            exact = {span(n) for n in peer.networks}  # the usual route: exactly one of the peer's CIDRs
            for ref in routes_from(peering, side):
                destinations = side.scope.destination_networks(ref.route)
                if not destinations or any(span(d) in exact or d.prefixlen == 0
                                           or any(overlaps(d, p) for p in peer.networks) for d in destinations):
                    continue  # unresolved prefix list; a default route is PCX004's
                yield _route_failure(peering, side, peer, ref, (
                    f"route table {ref.table_id} in {side.vpc_id} sends {route_destination(ref.route)} to peering "
                    f"{peering.id}, but the peer {peer.vpc_id} has no address there (its CIDRs: "
                    f"{_cidrs(peer.networks)}): that traffic is dropped"))


@rule(id="PCX006", name="peering-not-active", severity="low", resource_type=RESOURCE_TYPE,
      needs=(PEERINGS, "ec2:RouteTables"), options={"max_pending_days": MAX_PENDING_DAYS})
def peering_not_active(ctx: RuleContext) -> Iterator[Failure]:
    """A peering request has waited too long, or routes still point at a peering that is gone.

    A request still pending acceptance is reported once it has waited more than the option
    `max_pending_days` (default 3) when the snapshot was collected, leaving days to accept it
    before AWS expires it. AWS expires a request 7 days after it was made, so a limit of 7 or more
    reports only a request the snapshot shows pending past its expiry. Its age comes from its
    expiration time; without one (moto gives none) it is not judged.

    ## Why it matters
    A request left pending acceptance is either forgotten or waiting on someone who will not
    accept it; it expires after 7 days and the connection it was meant for never works. A
    peering that was deleted, rejected, failed or expired carries nothing, but routes to it
    stay behind as blackholes that drop the traffic they match and mislead whoever reads them.

    ## Remediation
    Accept the request in the accepter's account and region, or delete it:
    `aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id pcx-...`
    (`aws ec2 delete-vpc-peering-connection --vpc-peering-connection-id pcx-...`). For a peering
    that is gone, delete each route still pointing at it:
    `aws ec2 delete-route --route-table-id rtb-... --destination-cidr-block 10.1.0.0/16`
    """
    allowed = ctx.options.get("max_pending_days", MAX_PENDING_DAYS)
    limit = dt.timedelta(days=float(allowed))
    for peering in peerings(ctx.index):
        if peering.status == "pending-acceptance":
            # The API gives no creation time; the expiration time is set 7 days after the request.
            expires = parse_time(peering.item.get("ExpirationTime"))
            as_of = ctx.as_of_for(peering.home.account_id, peering.home.region)  # when it was collected
            if expires is None or as_of - (expires - PENDING_LIFETIME) <= limit:
                continue  # young enough, or its age is unknown (moto gives no ExpirationTime)
            requested = expires - PENDING_LIFETIME
            requester, accepter = peering.requester, peering.accepter
            yield Failure(
                account_id=peering.home.account_id, region=peering.home.region, resource_id=peering.id,
                discriminator="pending", related=(requester.vpc_id, accepter.vpc_id),
                message=(f"peering {peering.id} from {requester.where} to {accepter.where} has been pending "
                         f"acceptance for {(as_of - requested).days} days (requested about {requested:%Y-%m-%d}, "
                         f"expires {expires:%Y-%m-%d}), more than the {allowed} days allowed"),
                evidence={"VpcPeeringConnection": peering.item})
        elif peering.status in ENDED:
            for side, peer in peering.pairs():
                refs = routes_from(peering, side)
                if not refs:
                    continue
                routes = _listing(f"{ref.table_id} ({route_destination(ref.route)})" for ref in refs)
                yield Failure(
                    account_id=side.account_id, region=side.region, resource_id=peering.id,
                    discriminator=side.name, related=(side.vpc_id, *(ref.table_id for ref in refs)),
                    message=(f"peering {peering.id} is {peering.status} but route tables of {side.vpc_id} on the "
                             f"{side.name} side still send traffic for {peer.vpc_id} to it: {routes}"),
                    evidence={"VpcPeeringConnection": peering.item, "RoutesToPeering": _route_evidence(refs)})


@rule(id="PCX007", name="peering-cidr-overlap", severity="high", resource_type=RESOURCE_TYPE,
      needs=(PEERINGS, "ec2:Vpcs"))
def peering_cidr_overlap(ctx: RuleContext) -> Iterator[Failure]:
    """The two VPCs of a peering have overlapping IPv4 CIDRs.

    ## Why it matters
    Addresses in the overlap exist on both sides: each VPC's local route wins, so those
    addresses of the peer can never be reached across the peering, and routes for them cannot
    be added. AWS refuses such a peering when it is created, so an overlap means a CIDR was
    associated later, or the snapshot shows a peering that cannot work as intended.

    ## Remediation
    Disassociate the overlapping secondary CIDR (after moving its subnets), or re-address one VPC
    and peer again:
    `aws ec2 disassociate-vpc-cidr-block --association-id vpc-cidr-assoc-...`
    """
    for peering in peerings(ctx.index):
        if peering.status in NO_LONGER_ROUTABLE:
            continue  # a failed peering is AWS refusing the overlap
        requester, accepter = peering.requester, peering.accepter
        clashes = [(a, b) for a in requester.networks if a.version == 4
                   for b in accepter.networks if overlaps(a, b)]
        if not clashes:
            continue
        yield Failure(
            account_id=peering.home.account_id, region=peering.home.region, resource_id=peering.id,
            related=(requester.vpc_id, accepter.vpc_id),
            message=(f"peering {peering.id} joins {requester.where} and {accepter.where}, whose CIDRs overlap: "
                     + "; ".join(f"{a} and {b}" for a, b in clashes)
                     + ": those addresses of the peer cannot be reached across the peering"),
            evidence={"VpcPeeringConnection": peering.item,
                      "Overlaps": [{"requester": str(a), "accepter": str(b)} for a, b in clashes]})


@rule(id="PCX008", name="peering-untrusted-account", severity="high", resource_type=RESOURCE_TYPE,
      needs=(PEERINGS,))
def peering_untrusted_account(ctx: RuleContext) -> Iterator[Failure]:
    """A peering connects to an account that is not trusted.

    ## Why it matters
    A peering opens routes, and every security group rule that allows the peer's CIDRs, to the
    other account's VPC. An account that is neither audited here nor listed in trusted_accounts
    is one nobody has vouched for: a vendor, a former subsidiary, or a request someone accepted
    by mistake.

    ## Remediation
    If the account is known and wanted, add it to `trusted_accounts` in the auditor's config;
    otherwise delete the peering (or reject the pending request):
    `aws ec2 delete-vpc-peering-connection --vpc-peering-connection-id pcx-...`
    (`aws ec2 reject-vpc-peering-connection --vpc-peering-connection-id pcx-...`).
    """
    for peering in peerings(ctx.index):
        if peering.status in ENDED:
            continue
        strangers = [side for side in (peering.requester, peering.accepter)
                     if side.account_id not in ctx.trusted_accounts]
        if not strangers:
            continue
        home = peering.home
        yield Failure(
            account_id=home.account_id, region=home.region, resource_id=peering.id,
            related=(peering.requester.vpc_id, peering.accepter.vpc_id),
            message=(f"peering {peering.id} ({peering.status}) connects {peering.requester.where} and "
                     f"{peering.accepter.where}; the {' and '.join(s.name for s in strangers)} account "
                     f"{', '.join(sorted({s.account_id for s in strangers}))} is not a trusted account"),
            evidence={"VpcPeeringConnection": peering.item},
        )
