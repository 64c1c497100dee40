"""Transit gateway rules: options, attachments, route tables, routes, CIDR overlaps. Pure: reads the snapshot only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from auditor.engine import Failure, RuleContext, rule
from auditor.index import Index, Item, Network, Scope, network, span
from auditor.items import ATTACHMENT_GONE, GATEWAY_GONE, listed, lowered

from .vpn import table_labels

GATEWAYS = "ec2:TransitGateways"
ATTACHMENTS = "ec2:TransitGatewayAttachments"
TABLES = "ec2:TransitGatewayRouteTables"
ASSOCIATIONS = "ec2:TransitGatewayRouteTableAssociations"
PROPAGATIONS = "ec2:TransitGatewayRouteTablePropagations"
ROUTES = "ec2:TransitGatewayRoutes"
BOUND = frozenset({"associating", "associated"})
PROPAGATING = frozenset({"enabling", "enabled"})


# Shared helpers, each built once per scope. A transit gateway shared through RAM shows in each participant's
# account too: the engine keeps findings about it, its route tables and its attachments only in its owner's
# account (auditor.sharing), so the rules below read every gateway they see.

def live_gateways(scope: Scope) -> Iterator[Item]:
    for gateway in scope.items(GATEWAYS):
        if lowered(gateway.get("State")) not in GATEWAY_GONE:
            yield gateway


def attachment_label(attachment: Item) -> str:
    """`vpc attachment tgw-attach-... (vpc-..., account 111122223333)`, from an attachment or a propagation record."""
    kind = attachment.get("ResourceType") or "unknown"
    owner = f", account {attachment['ResourceOwnerId']}" if attachment.get("ResourceOwnerId") else ""
    return f"{kind} attachment {attachment['TransitGatewayAttachmentId']} ({attachment.get('ResourceId', '?')}{owner})"


def attachment_failure(scope: Scope, attachment: Item, message: str) -> Failure:
    related = (str(attachment.get("TransitGatewayId", "")), str(attachment.get("ResourceId", "")))
    return Failure(scope.account_id, scope.region, attachment["TransitGatewayAttachmentId"], message,
                   evidence={"TransitGatewayAttachment": attachment}, related=related)


def associated_attachments(scope: Scope) -> dict[str, list[str]]:
    """Route table id -> ids of the attachments associated with it (from the association records)."""
    return scope.memo(("tgw-associated",), _associated, scope)  # type: ignore[no-any-return]


def _associated(scope: Scope) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for record in scope.items(ASSOCIATIONS):
        for association in record.get("Associations") or []:
            if lowered(association.get("State")) in BOUND and association.get("TransitGatewayAttachmentId"):
                found[str(record["TransitGatewayRouteTableId"])].append(str(association["TransitGatewayAttachmentId"]))
    return found


def table_gateway(scope: Scope, table_id: str) -> str:
    return str(scope.by_id(TABLES, "TransitGatewayRouteTableId").get(table_id, {}).get("TransitGatewayId", "?"))


def route_destination(route: Item) -> str:
    return str(route.get("DestinationCidrBlock") or route.get("PrefixListId") or "?")


def propagated_networks(record: Item) -> dict[str, list[Network]]:
    """Attachment id -> the networks it propagates into one route table (active propagated routes)."""
    found: dict[str, list[Network]] = defaultdict(list)
    for route in record.get("Routes") or []:
        parsed = network(route.get("DestinationCidrBlock"))
        if parsed is None or lowered(route.get("Type")) != "propagated" or lowered(route.get("State")) != "active":
            continue
        for target in route.get("TransitGatewayAttachments") or []:
            if target.get("TransitGatewayAttachmentId"):
                found[str(target["TransitGatewayAttachmentId"])].append(parsed)
    return found


# Overlaps within one route table: CIDRs nest or are disjoint, so after sorting by first address (widest first)
# the networks containing the current one form a stack; the sweep is O(n log n + pairs found).

Span = tuple[int, int, int, str, Network]  # version, first address, last address, attachment id, network


def overlapping(spans: list[Span]) -> Iterator[tuple[Span, Span]]:
    """Each (outer, inner) pair of overlapping networks, the inner one equal to or inside the outer one."""
    spans.sort(key=lambda s: (s[0], s[1], -s[2], s[3]))
    stack: list[Span] = []
    for current in spans:
        while stack and (stack[-1][0] != current[0] or stack[-1][2] < current[1]):
            stack.pop()
        for outer in stack:
            yield outer, current
        stack.append(current)


def attachment_networks(index: Index, propagation: Item, propagated: dict[str, list[Network]]) -> list[Network]:
    """A VPC attachment's networks are its VPC's CIDRs (when the VPC is in the snapshot); any other attachment's are
    the routes it propagates into the table."""
    attachment_id = str(propagation.get("TransitGatewayAttachmentId", ""))
    if lowered(propagation.get("ResourceType")) == "vpc":
        located = index.find_vpc(str(propagation.get("ResourceId", "")))
        if located is not None:
            return located[0].vpc_cidrs(located[1]["VpcId"])
    return propagated.get(attachment_id, [])


def conflicts(outer: Span, inner: Span, kinds: dict[str, str]) -> bool:
    """Whether an overlap misroutes traffic: two VPCs, or a VPC and a BGP prefix equal to or inside its CIDR (see
    TGW006's docstring for why summaries around a VPC and BGP attachments announcing the same networks do not)."""
    outer_vpc, inner_vpc = kinds[outer[3]] == "vpc", kinds[inner[3]] == "vpc"
    if outer_vpc and inner_vpc:
        return True
    if outer_vpc or inner_vpc:
        return outer_vpc or (outer[1], outer[2]) == (inner[1], inner[2])
    return False


# Rules

@rule(id="TGW001", name="tgw-auto-accept-shared-attachments", severity="high",
      resource_type="AWS::EC2::TransitGateway", needs=(GATEWAYS,))
def tgw_auto_accept_shared_attachments(ctx: RuleContext) -> Iterator[Failure]:
    """A transit gateway accepts attachments from the accounts it is shared with automatically.

    Judged in the transit gateway owner's account; deleted gateways are not judged.

    ## Why it matters
    With AutoAcceptSharedAttachments on, any account the transit gateway is shared with (through
    RAM, often a whole organization or OU) can attach a VPC or VPN and join the network at once,
    with no review by the network team. With default route table association and propagation,
    that VPC can reach every other attachment as soon as it is attached.

    ## Remediation
    Turn automatic acceptance off, and accept each attachment after review:
    `aws ec2 modify-transit-gateway --transit-gateway-id tgw-... --options AutoAcceptSharedAttachments=disable`
    then `aws ec2 accept-transit-gateway-vpc-attachment --transit-gateway-attachment-id tgw-attach-...`
    """
    for scope in ctx.index.regional_scopes():
        for gateway in live_gateways(scope):
            options = gateway.get("Options") or {}
            if lowered(options.get("AutoAcceptSharedAttachments")) != "enable":
                continue
            default_table = options.get("AssociationDefaultRouteTableId")
            associates = lowered(options.get("DefaultRouteTableAssociation")) == "enable"
            also = f", and associates them with its default route table {default_table}" if associates else ""
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=gateway["TransitGatewayId"],
                message=(f"transit gateway {gateway['TransitGatewayId']} accepts attachments from every account it is "
                         f"shared with automatically (AutoAcceptSharedAttachments enable){also}"),
                evidence={"TransitGatewayId": gateway["TransitGatewayId"], "Options": options})


@rule(id="TGW002", name="tgw-default-route-table-propagation", severity="medium",
      resource_type="AWS::EC2::TransitGateway", needs=(GATEWAYS,))
def tgw_default_route_table_propagation(ctx: RuleContext) -> Iterator[Failure]:
    """A transit gateway associates and propagates every attachment into one default route table.

    Reported when default route table association and propagation are both on and point at the
    same route table (a gateway that associates with one default table and propagates into
    another is segmented). Judged in the transit gateway owner's account.

    ## Why it matters
    Every new attachment is associated with the default route table and its routes are
    propagated into it, so every VPC, VPN and Direct Connect attachment reaches every other one
    with no segmentation: a sandbox VPC reaches production, and a new attachment joins the whole
    network before anyone decides what it should reach.

    ## Remediation
    Turn off default propagation (or association), and give each group of attachments its own
    route table with only the propagations it needs:
    `aws ec2 modify-transit-gateway --transit-gateway-id tgw-... --options DefaultRouteTablePropagation=disable`
    then `aws ec2 enable-transit-gateway-route-table-propagation --transit-gateway-route-table-id tgw-rtb-...
    --transit-gateway-attachment-id tgw-attach-...`
    """
    for scope in ctx.index.regional_scopes():
        associated = associated_attachments(scope)
        for gateway in live_gateways(scope):
            options = gateway.get("Options") or {}
            association_table = options.get("AssociationDefaultRouteTableId")
            propagation_table = options.get("PropagationDefaultRouteTableId")
            if (lowered(options.get("DefaultRouteTableAssociation")) != "enable"
                    or lowered(options.get("DefaultRouteTablePropagation")) != "enable"
                    or (association_table and propagation_table and association_table != propagation_table)):
                continue
            table = association_table or propagation_table or "its default route table"
            members = associated.get(str(table), [])
            now = f" ({len(members)} attachments are associated with it now)" if members else ""
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=gateway["TransitGatewayId"],
                related=tuple(str(t) for t in {association_table, propagation_table} if t),
                message=(f"transit gateway {gateway['TransitGatewayId']} associates every new attachment with "
                         f"{table} and propagates every attachment's routes into it{now}, so every attachment "
                         "reaches every other with no segmentation"),
                evidence={"TransitGatewayId": gateway["TransitGatewayId"], "Options": options,
                          "AssociatedAttachmentCount": len(members)})


@rule(id="TGW003", name="tgw-route-blackhole", severity="medium",
      resource_type="AWS::EC2::TransitGatewayRouteTable", needs=(ROUTES, TABLES))
def tgw_route_blackhole(ctx: RuleContext) -> Iterator[Failure]:
    """A transit gateway route is a blackhole: traffic to its destination is dropped.

    One finding per route table and destination. A static route created as a blackhole on
    purpose (to drop a range) is reported too: suppress it with its reason in the config.

    ## Why it matters
    A route becomes a blackhole when the attachment it pointed at is deleted or fails, or is
    created as one. Traffic from every attachment associated with the table to that destination
    is silently dropped, and the route hides any less specific route that would have carried it.

    ## Remediation
    Point the route at a live attachment, or delete it:
    `aws ec2 replace-transit-gateway-route --transit-gateway-route-table-id tgw-rtb-...
    --destination-cidr-block 10.66.0.0/16 --transit-gateway-attachment-id tgw-attach-...` or
    `aws ec2 delete-transit-gateway-route --transit-gateway-route-table-id tgw-rtb-...
    --destination-cidr-block 10.66.0.0/16`
    """
    for scope in ctx.index.regional_scopes():
        associated = associated_attachments(scope)
        for record in scope.items(ROUTES):
            table_id = str(record["TransitGatewayRouteTableId"])
            for route in record.get("Routes") or []:
                if lowered(route.get("State")) != "blackhole":
                    continue
                destination = route_destination(route)
                members = associated.get(table_id, [])
                affected = f"from {listed(members)} " if members else ""
                yield Failure(
                    account_id=scope.account_id, region=scope.region, resource_id=table_id,
                    discriminator=destination, related=(table_gateway(scope, table_id),),
                    message=(f"transit gateway route table {table_id} ({table_gateway(scope, table_id)}): the "
                             f"{route.get('Type', '')} route to {destination} is a blackhole, so traffic {affected}"
                             f"to {destination} is dropped"),
                    evidence={"TransitGatewayRouteTableId": table_id, "Route": route,
                              "AssociatedAttachmentCount": len(members)})


@rule(id="TGW004", name="tgw-attachment-without-route-table", severity="high",
      resource_type="AWS::EC2::TransitGatewayAttachment", needs=(ATTACHMENTS, ASSOCIATIONS))
def tgw_attachment_without_route_table(ctx: RuleContext) -> Iterator[Failure]:
    """An available transit gateway attachment is associated with no transit gateway route table.

    From the attachment's own Association and the route tables' association records. Judged in
    the transit gateway owner's account.

    ## Why it matters
    The route table an attachment is associated with is where the transit gateway looks up
    where to send the traffic that arrives from it. With none, everything the VPC, VPN or peer
    sends into the transit gateway is dropped, although the attachment shows as available.

    ## Remediation
    Associate the attachment with the route table for its segment:
    `aws ec2 associate-transit-gateway-route-table --transit-gateway-route-table-id tgw-rtb-...
    --transit-gateway-attachment-id tgw-attach-...`
    """
    for scope in ctx.index.regional_scopes():
        bound = {a for members in associated_attachments(scope).values() for a in members}
        for attachment in scope.items(ATTACHMENTS):
            attachment_id = attachment["TransitGatewayAttachmentId"]
            association = attachment.get("Association") or {}
            if (lowered(attachment.get("State")) != "available" or attachment_id in bound
                    or (association.get("TransitGatewayRouteTableId") and lowered(association.get("State")) in BOUND)):
                continue
            yield attachment_failure(scope, attachment, (
                f"{attachment_label(attachment)} to transit gateway {attachment.get('TransitGatewayId')} is available "
                "but associated with no route table, so the traffic it sends into the transit gateway is dropped"))


@rule(id="TGW005", name="tgw-vpc-no-route-to-tgw", severity="medium", resource_type="AWS::EC2::VPC",
      needs=(ATTACHMENTS, "ec2:RouteTables", "ec2:Subnets", "ec2:Vpcs"))
def tgw_vpc_no_route_to_tgw(ctx: RuleContext) -> Iterator[Failure]:
    """A VPC attached to a transit gateway routes nothing to it.

    Judged for each available VPC attachment, in the VPC owner's account (VPCs shared by RAM are
    judged by their owner), whoever owns the transit gateway. Only routes that are not
    blackholes count, in the route tables the VPC's subnets use.

    ## Why it matters
    The attachment lets traffic arrive from the transit gateway, but no route table of the VPC
    sends anything back to it: the VPC's subnets cannot reach the rest of the network, and
    replies to traffic that reaches them from it are sent elsewhere or dropped.

    ## Remediation
    Add routes to the networks behind the transit gateway in the route tables the subnets use:
    `aws ec2 create-route --route-table-id rtb-... --destination-cidr-block 10.0.0.0/8 --transit-gateway-id tgw-...`
    """
    for scope in ctx.index.regional_scopes():
        vpcs = scope.by_id("ec2:Vpcs", "VpcId")
        seen: set[tuple[str, str]] = set()
        for attachment in scope.items(ATTACHMENTS):
            vpc_id, gateway_id = str(attachment.get("ResourceId", "")), str(attachment.get("TransitGatewayId", ""))
            vpc = vpcs.get(vpc_id)
            if (lowered(attachment.get("ResourceType")) != "vpc" or lowered(attachment.get("State")) != "available"
                    or vpc is None or (vpc_id, gateway_id) in seen):
                continue
            seen.add((vpc_id, gateway_id))
            tables = scope.serving_tables(vpc_id)
            if not tables or scope.tables_routing_to(gateway_id, vpc_id) & {t["RouteTableId"] for t, _ in tables}:
                continue
            attachment_id = attachment["TransitGatewayAttachmentId"]
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=vpc_id, discriminator=gateway_id,
                related=(gateway_id, attachment_id, *(t["RouteTableId"] for t, _ in tables)),
                message=(f"VPC {vpc_id} is attached to transit gateway {gateway_id} ({attachment_id}) but no route "
                         f"table its subnets use routes anything to it: {table_labels(scope, tables)}"),
                evidence={"TransitGatewayAttachment": attachment,
                          "RouteTables": [{"RouteTableId": t["RouteTableId"], "Subnets": [s["SubnetId"] for s in ss],
                                           "Routes": t.get("Routes") or []} for t, ss in tables]})


@rule(id="TGW006", name="tgw-cidr-overlap", severity="high", resource_type="AWS::EC2::TransitGatewayRouteTable",
      needs=(TABLES, PROPAGATIONS, ROUTES, "ec2:Vpcs"))
def tgw_cidr_overlap(ctx: RuleContext) -> Iterator[Failure]:
    """Attachments that propagate into one transit gateway route table have overlapping CIDRs.

    A VPC attachment's CIDRs are its VPC's (from the snapshot, whichever account holds it, else
    the routes it propagates); a VPN or Direct Connect attachment's are the routes it propagates
    into the table. Two VPCs that overlap are reported; a VPC and a VPN or Direct Connect prefix
    only when the prefix is equal to or inside the VPC's CIDR (a summary or default route around
    the VPC is the usual design: the VPC's longer prefix wins); two VPN or Direct Connect
    attachments announcing the same networks are redundancy and are not reported. One finding
    per route table and pair of attachments. Judged in the transit gateway owner's account.

    ## Why it matters
    The transit gateway sends each destination to one attachment only: the most specific route,
    then static over propagated, then VPC over Direct Connect over VPN. The addresses in the
    overlap are reachable in one of the two networks and never in the other, and which one wins
    changes when a route is added or withdrawn.

    ## Remediation
    Re-address one of the networks, or stop propagating one of the attachments into the table
    and route its non-overlapping CIDRs statically:
    `aws ec2 disable-transit-gateway-route-table-propagation --transit-gateway-route-table-id tgw-rtb-...
    --transit-gateway-attachment-id tgw-attach-...`
    """
    for scope in ctx.index.regional_scopes():
        routes = scope.by_id(ROUTES, "TransitGatewayRouteTableId")
        for record in scope.items(PROPAGATIONS):
            table_id = str(record["TransitGatewayRouteTableId"])
            propagated = propagated_networks(routes.get(table_id, {}))
            kinds: dict[str, str] = {}
            spans: list[Span] = []
            for propagation in record.get("TransitGatewayRouteTablePropagations") or []:
                attachment_id = str(propagation.get("TransitGatewayAttachmentId", ""))
                if lowered(propagation.get("State")) not in PROPAGATING or attachment_id in kinds:
                    continue
                kinds[attachment_id] = lowered(propagation.get("ResourceType"))
                spans += [(*span(n), attachment_id, n) for n in attachment_networks(ctx.index, propagation, propagated)]
            pairs: dict[tuple[str, str], list[tuple[Network, Network]]] = defaultdict(list)
            for outer, inner in overlapping(spans):
                if outer[3] != inner[3] and conflicts(outer, inner, kinds):
                    first, second = sorted((outer, inner), key=lambda s: s[3])
                    pairs[(first[3], second[3])].append((first[4], second[4]))
            by_id = {str(p.get("TransitGatewayAttachmentId")): p for p in
                     record.get("TransitGatewayRouteTablePropagations") or []}
            for (first_id, second_id), clashes in sorted(pairs.items()):
                first, second = by_id[first_id], by_id[second_id]
                yield Failure(
                    account_id=scope.account_id, region=scope.region, resource_id=table_id,
                    discriminator=f"{first_id}|{second_id}",
                    related=(table_gateway(scope, table_id), first_id, second_id),
                    message=(f"transit gateway route table {table_id} ({table_gateway(scope, table_id)}): "
                             f"{attachment_label(first)} and {attachment_label(second)} propagate overlapping "
                             "CIDRs into it (" + "; ".join(f"{a} and {b}" for a, b in clashes)
                             + "): the overlapping addresses are reachable in only one of them"),
                    evidence={"TransitGatewayRouteTableId": table_id, "Propagations": [first, second],
                              "Overlaps": [[str(a), str(b)] for a, b in clashes]})


@rule(id="TGW007", name="tgw-attachment-pending", severity="low",
      resource_type="AWS::EC2::TransitGatewayAttachment", needs=(ATTACHMENTS,), owner_only=False)
def tgw_attachment_pending(ctx: RuleContext) -> Iterator[Failure]:
    """A transit gateway attachment is pending acceptance.

    Reported once, in the transit gateway owner's account (who must accept it; for a peering
    between transit gateways, the accepter's account and region, from the peering's record), or
    in the requester's when that account and region are not in the snapshot: unlike the other
    transit gateway rules, the requester can act on this one (its VPC is not connected; it can
    ask the owner to accept, or delete its request), so the rule files it there itself.

    ## Why it matters
    A pending attachment carries nothing: the VPC, or the peer transit gateway, that requested it
    is not connected, while its owner may believe it is. Or the request is one nobody expected,
    waiting for someone to accept it by mistake.

    ## Remediation
    Accept it after checking who asked for it, or reject it:
    `aws ec2 accept-transit-gateway-vpc-attachment --transit-gateway-attachment-id tgw-attach-...`
    (`accept-transit-gateway-peering-attachment` for a peering), or
    `aws ec2 reject-transit-gateway-vpc-attachment --transit-gateway-attachment-id tgw-attach-...`
    """
    seen: set[str] = set()
    for scope in ctx.index.regional_scopes():
        for attachment in scope.items(ATTACHMENTS):
            attachment_id = str(attachment["TransitGatewayAttachmentId"])
            if lowered(attachment.get("State")) != "pendingacceptance" or attachment_id in seen:
                continue
            # Who must accept: a VPC's (or VPN's) attachment, the transit gateway's owner; a peering, the accepter
            # transit gateway's owner, in its region (each side lists the peering with its own gateway).
            accepter = _peering_accepter(scope, attachment_id) or (
                str(attachment.get("TransitGatewayOwnerId") or scope.account_id), scope.region)
            if accepter != (scope.account_id, scope.region) and ctx.index.scope(*accepter) is not None:
                continue  # reported from the accepter's account and region
            seen.add(attachment_id)
            created = f" since {attachment['CreationTime']}" if attachment.get("CreationTime") else ""
            who = (f"owner {accepter[0]}" if accepter[1] == scope.region
                   else f"to be accepted by {accepter[0]} in {accepter[1]}")
            yield attachment_failure(scope, attachment, (
                f"{attachment_label(attachment)} to transit gateway {attachment.get('TransitGatewayId')} ({who}) "
                f"has been pending acceptance{created}, so it carries nothing"))


def _peering_accepter(scope: Scope, attachment_id: str) -> tuple[str, str] | None:
    """(account, region) of the accepter of a transit gateway peering attachment, from its peering record."""
    record = scope.by_id("ec2:TransitGatewayPeeringAttachments", "TransitGatewayAttachmentId").get(attachment_id)
    accepter = (record or {}).get("AccepterTgwInfo") or {}
    if not accepter.get("OwnerId") or not accepter.get("Region"):
        return None
    return str(accepter["OwnerId"]), str(accepter["Region"])


@rule(id="TGW008", name="tgw-attachment-untrusted-account", severity="high",
      resource_type="AWS::EC2::TransitGatewayAttachment", needs=(ATTACHMENTS,))
def tgw_attachment_untrusted_account(ctx: RuleContext) -> Iterator[Failure]:
    """An attachment to this account's transit gateway belongs to an account that is not trusted.

    Judged in the transit gateway owner's account, for attachments in any state but deleted,
    rejected or failed. Trusted accounts are those audited in the snapshot and those listed in
    trusted_accounts.

    ## Why it matters
    An attachment connects the other account's VPC, VPN or transit gateway to this one's route
    tables: depending on association and propagation it can reach, and be reached from, every
    network on the transit gateway. An account nobody has vouched for should not be there.

    ## Remediation
    If the account is known and wanted, add it to `trusted_accounts` in the auditor's config;
    otherwise delete the attachment (or reject a pending one):
    `aws ec2 delete-transit-gateway-vpc-attachment --transit-gateway-attachment-id tgw-attach-...`
    (`aws ec2 reject-transit-gateway-vpc-attachment --transit-gateway-attachment-id tgw-attach-...`).
    """
    for scope in ctx.index.regional_scopes():
        for attachment in scope.items(ATTACHMENTS):
            stranger = str(attachment.get("ResourceOwnerId") or scope.account_id)
            if stranger in ctx.trusted_accounts or lowered(attachment.get("State")) in ATTACHMENT_GONE:
                continue
            yield attachment_failure(scope, attachment, (
                f"{attachment_label(attachment)}, {attachment.get('State')}, connects account {stranger} to transit "
                f"gateway {attachment.get('TransitGatewayId')}; {stranger} is not a trusted account"))


@rule(id="TGW009", name="tgw-route-table-truncated", severity="info",
      resource_type="AWS::EC2::TransitGatewayRouteTable", needs=(ROUTES,))
def tgw_route_table_truncated(ctx: RuleContext) -> Iterator[Failure]:
    """A transit gateway route table's routes could not all be read.

    From the truncation the collector records when SearchTransitGatewayRoutes still returns
    more routes than it can page through, even split by route type and destination prefix, or
    when, after such a split, the table's routes to prefix lists could not be listed
    (GetTransitGatewayPrefixListReferences failed: AUD001 names the error).

    ## Why it matters
    The route rules judge this table on an incomplete list: a blackhole route (TGW003) or a
    propagated route that overlaps another attachment (TGW006) may be among the routes that were
    not read, so a clean result for this table proves nothing.

    ## Remediation
    Export the table's full route list and review it, and consider summarising routes so the
    table stays searchable:
    `aws ec2 export-transit-gateway-routes --transit-gateway-route-table-id tgw-rtb-... --s3-bucket my-bucket`
    """
    for error in ctx.index.errors:
        if error.get("key") != ROUTES or error.get("code") != "Truncated" or not error.get("resource_id"):
            continue
        table_id = str(error["resource_id"])
        scope = ctx.index.scope(error["account_id"], error["region"])
        gateway = table_gateway(scope, table_id) if scope is not None else "?"
        yield Failure(
            account_id=error["account_id"], region=error["region"], resource_id=table_id,
            related=(gateway,) if gateway != "?" else (),
            message=(f"transit gateway route table {table_id} ({gateway}): its routes could not all be read "
                     f"({error.get('message', 'truncated')}), so TGW003 and TGW006 judged it on an incomplete list"),
            evidence={"error": error})
