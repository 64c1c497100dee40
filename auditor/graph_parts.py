"""The graph's core parts: VPCs, peerings, transit gateways (route tables, attachments, peering). Pure.

Each part adds the nodes and edges of one family to a GraphBuilder. Resources that are gone or going
(deleted, deleting, rejected, failed, expired) carry no traffic and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from auditor.graph import UNKNOWN, Edge, GraphBuilder, Node, label, name_tag, routes_both_ways, verdict
from auditor.graph_links import client_vpn, direct_connect, endpoints, vpns
from auditor.index import Item, Scope
from auditor.items import ATTACHMENT_GONE, GATEWAY_GONE, PEERING_GONE, lowered
from auditor.peerings import Peering, Side, routing
from auditor.peerings import peerings as all_peerings

GATEWAYS = "ec2:TransitGateways"
ATTACHMENTS = "ec2:TransitGatewayAttachments"
PEERING_ATTACHMENTS = "ec2:TransitGatewayPeeringAttachments"
TABLES = "ec2:TransitGatewayRouteTables"
ASSOCIATIONS = "ec2:TransitGatewayRouteTableAssociations"
ROUTES = "ec2:TransitGatewayRoutes"
BOUND = frozenset({"associating", "associated"})
VPN_GONE = frozenset({"deleting", "deleted"})


def vpcs(builder: GraphBuilder) -> None:
    """Every VPC, with its CIDRs; findings on its route tables and subnets mark it."""
    for scope in builder.index.regional_scopes():
        for vpc in scope.items("ec2:Vpcs"):
            vpc_id = str(vpc["VpcId"])
            cidrs = tuple(str(n) for n in scope.vpc_cidrs(vpc_id))
            refs = [str(t["RouteTableId"]) for t in scope.route_tables(vpc_id)]
            refs += [str(s["SubnetId"]) for s in scope.subnets(vpc_id)]
            builder.add_node(Node(vpc_id, "vpc", label(name_tag(vpc), vpc_id, ", ".join(cidrs)),
                                  str(vpc.get("OwnerId") or scope.account_id), scope.region,
                                  str(vpc.get("State") or UNKNOWN), cidrs=cidrs), refs)


def peerings(builder: GraphBuilder) -> None:
    """Requester VPC to accepter VPC; routes: does a route table in use on each side route the peer's CIDRs to it."""
    for peering in all_peerings(builder.index):
        if peering.status.lower() in PEERING_GONE:
            continue
        requester, accepter = peering.requester, peering.accepter
        for side in (requester, accepter):
            cidrs = [str(n) for n in side.networks]
            builder.placeholder(side.vpc_id, "vpc", side.account_id, side.region, ", ".join(cidrs), cidrs)
        forward = _peering_side(builder, peering, requester, accepter)
        back = _peering_side(builder, peering, accepter, requester)
        home = peering.home
        builder.add_edge(Edge(
            peering.id, "vpc-peering", requester.vpc_id, accepter.vpc_id, label(name_tag(peering.item), peering.id),
            home.account_id, home.region, peering.status or UNKNOWN,
            routes_both_ways(forward, back, requester.vpc_id, accepter.vpc_id)))


def _peering_side(builder: GraphBuilder, peering: Peering, side: Side, peer: Side) -> bool | None:
    if side.scope is None:
        return None
    found = any(table.routes for table in routing(peering, side, peer))
    return verdict(found, builder.tables_complete(side.scope))


def transit_gateways(builder: GraphBuilder) -> None:
    """Transit gateways, their route tables, and each attachment as an edge to its transit gateway."""
    index = builder.index
    for scope in index.regional_scopes():
        for gateway in scope.items(GATEWAYS):
            if lowered(gateway.get("State")) in GATEWAY_GONE:
                continue
            tgw_id = str(gateway["TransitGatewayId"])
            asn = (gateway.get("Options") or {}).get("AmazonSideAsn")
            builder.add_node(Node(tgw_id, "transit-gateway", label(name_tag(gateway), tgw_id, asn and f"ASN {asn}"),
                                  str(gateway.get("OwnerId") or scope.account_id), scope.region,
                                  str(gateway.get("State") or UNKNOWN)))
        members: dict[str, int] = defaultdict(int)
        for table_id in _associated_tables(scope).values():
            members[table_id] += 1
        for table in scope.items(TABLES):
            if lowered(table.get("State")) in GATEWAY_GONE:
                continue
            table_id, tgw_id = str(table["TransitGatewayRouteTableId"]), str(table.get("TransitGatewayId", ""))
            state = str(table.get("State") or UNKNOWN)
            default = "default route table" if table.get("DefaultAssociationRouteTable") else ""
            builder.add_node(Node(table_id, "tgw-route-table",
                                  label(name_tag(table), table_id, default, f"{members[table_id]} associated"),
                                  scope.account_id, scope.region, state))
            builder.placeholder(tgw_id, "transit-gateway", scope.account_id, scope.region)
            builder.add_edge(Edge(f"{tgw_id}/{table_id}", "tgw-route-table", tgw_id, table_id, "route table",
                                  scope.account_id, scope.region, state, None))
    vpn_ids = {str(c["VpnConnectionId"]) for s in index.regional_scopes() for c in s.items("ec2:VpnConnections")
               if lowered(c.get("State")) not in VPN_GONE}
    for scope, attachment in _attachments(builder):
        _attachment(builder, scope, attachment, vpn_ids)


def _attachments(builder: GraphBuilder) -> list[tuple[Scope, Item]]:
    """Each attachment once (both accounts of a cross-account attachment list it): the gateway owner's copy first."""
    found: dict[str, tuple[Scope, Item]] = {}
    peering_items: dict[str, Item] = {}
    for scope in builder.index.regional_scopes():
        for attachment in scope.items(ATTACHMENTS):
            attachment_id = str(attachment["TransitGatewayAttachmentId"])
            owner = attachment.get("TransitGatewayOwnerId") or scope.account_id
            if attachment_id not in found or owner == scope.account_id:
                found[attachment_id] = (scope, attachment)
        for item in scope.items(PEERING_ATTACHMENTS):
            peering_items.setdefault(str(item["TransitGatewayAttachmentId"]), item)
            if str(item["TransitGatewayAttachmentId"]) not in found:  # the generic list was not read
                requester, accepter = item.get("RequesterTgwInfo") or {}, item.get("AccepterTgwInfo") or {}
                found[str(item["TransitGatewayAttachmentId"])] = (scope, {
                    **item, "ResourceType": "peering", "TransitGatewayId": requester.get("TransitGatewayId"),
                    "TransitGatewayOwnerId": requester.get("OwnerId"), "ResourceId": accepter.get("TransitGatewayId"),
                    "ResourceOwnerId": accepter.get("OwnerId")})
    builder.context["tgw-peering-items"] = peering_items
    return [found[key] for key in sorted(found)]


def _attachment(builder: GraphBuilder, scope: Scope, attachment: Item, vpn_ids: set[str]) -> None:
    attachment_id = str(attachment["TransitGatewayAttachmentId"])
    state = str(attachment.get("State") or UNKNOWN)
    if state.lower() in ATTACHMENT_GONE:
        return
    kind = lowered(attachment.get("ResourceType"))
    tgw_id = str(attachment.get("TransitGatewayId") or "")
    tgw_owner = str(attachment.get("TransitGatewayOwnerId") or scope.account_id)
    resource_id = str(attachment.get("ResourceId") or f"{attachment_id}-resource")
    resource_owner = str(attachment.get("ResourceOwnerId") or scope.account_id)
    table_id, associated = _association(builder, scope, attachment)
    text = label(name_tag(attachment), attachment_id, f"route table {table_id}" if table_id else
                 "no route table" if associated is False else "")
    if kind == "peering":
        _tgw_peering(builder, scope, attachment, text)
        return
    builder.placeholder(tgw_id, "transit-gateway", tgw_owner, scope.region)
    if kind == "vpn" and resource_id in vpn_ids:  # drawn by the VPN part, as the VPN connection's edge
        builder.context.setdefault("vpn-attachments", {})[resource_id] = (attachment_id, text)
        return
    if kind == "vpc":
        builder.placeholder(resource_id, "vpc", resource_owner, scope.region)
        out = _both(builder.vpc_routes_to(resource_id, tgw_id), associated)
        back = _tgw_routes_to(builder, tgw_owner, scope.region, tgw_id, attachment_id)
        builder.add_edge(Edge(attachment_id, "tgw-vpc-attachment", resource_id, tgw_id, text, tgw_owner, scope.region,
                              state, routes_both_ways(out, back, resource_id, tgw_id)))
        return
    node_kind = {"vpn": "vpn-connection", "direct-connect-gateway": "dx-gateway"}.get(kind, "other")
    if node_kind == "dx-gateway":
        builder.placeholder(resource_id, node_kind, resource_owner, "global")
        builder.context.setdefault("dx-tgw-attachments", {})[(resource_id, tgw_id)] = attachment_id
    else:
        builder.placeholder(resource_id, node_kind, resource_owner, scope.region, kind if node_kind == "other" else "")
    edge_kind = "tgw-dx-attachment" if node_kind == "dx-gateway" else "tgw-attachment"
    # The far side (a customer network, a Connect peer) is outside the snapshot: routes are unknown.
    builder.add_edge(Edge(attachment_id, edge_kind, resource_id, tgw_id, text, tgw_owner, scope.region, state, UNKNOWN))


def _tgw_peering(builder: GraphBuilder, scope: Scope, attachment: Item, text: str) -> None:
    """Requester transit gateway to accepter; routes: does each side's transit gateway route to the attachment."""
    attachment_id = str(attachment["TransitGatewayAttachmentId"])
    item = builder.context["tgw-peering-items"].get(attachment_id, {})
    own = {"TransitGatewayId": attachment.get("TransitGatewayId"), "Region": scope.region,
           "OwnerId": attachment.get("TransitGatewayOwnerId") or scope.account_id}
    other = {"TransitGatewayId": attachment.get("ResourceId"), "OwnerId": attachment.get("ResourceOwnerId")}
    ends = [item.get("RequesterTgwInfo") or own, item.get("AccepterTgwInfo") or other]
    ids = []
    for end in ends:
        end_region = str(end.get("Region")) if end.get("Region") else None
        owner = str(end.get("OwnerId")) if end.get("OwnerId") else None
        ids.append(builder.placeholder(str(end.get("TransitGatewayId") or "?"), "transit-gateway", owner, end_region))
    forward, back = (_tgw_routes_to(builder, str(end.get("OwnerId") or ""), str(end.get("Region") or ""), tgw_id,
                                    attachment_id) for end, tgw_id in zip(ends, ids, strict=True))
    builder.add_edge(Edge(attachment_id, "tgw-peering", ids[0], ids[1], text, str(own["OwnerId"]), scope.region,
                          str(attachment.get("State") or UNKNOWN), routes_both_ways(forward, back, ids[0], ids[1])))


def _both(first: bool | None, second: bool | None) -> bool | None:
    if first is False or second is False:
        return False
    return True if first and second else None


def _association(builder: GraphBuilder, scope: Scope, attachment: Item) -> tuple[str, bool | None]:
    """(the route table the attachment is associated with, whether it is associated; None when unknown)."""
    association = attachment.get("Association") or {}
    if association.get("TransitGatewayRouteTableId") and lowered(association.get("State")) in BOUND:
        return str(association["TransitGatewayRouteTableId"]), True
    owner = str(attachment.get("TransitGatewayOwnerId") or scope.account_id)
    owner_scope = builder.index.scope(owner, scope.region)
    if owner_scope is None:
        return "", None
    table_id = _associated_tables(owner_scope).get(str(attachment["TransitGatewayAttachmentId"]))
    if table_id:
        return table_id, True
    # The owner's own attachment item names its association when there is one.
    known = owner == scope.account_id or builder.complete(owner, scope.region, ASSOCIATIONS)
    return "", (False if known else None)


def _associated_tables(scope: Scope) -> dict[str, str]:
    """Attachment id -> the route table it is associated with, from the route tables' association records."""
    def compute() -> dict[str, str]:
        found: dict[str, str] = {}
        for record in scope.items(ASSOCIATIONS):
            for association in record.get("Associations") or []:
                if lowered(association.get("State")) in BOUND and association.get("TransitGatewayAttachmentId"):
                    found[str(association["TransitGatewayAttachmentId"])] = str(record["TransitGatewayRouteTableId"])
        return found

    return scope.memo(("graph-tgw-associations",), compute)  # type: ignore[no-any-return]


def _tgw_routes_to(builder: GraphBuilder, owner: str, region: str, tgw_id: str, attachment_id: str) -> bool | None:
    """Whether a route table of the transit gateway has an active route (static or propagated) to the attachment."""
    scope = builder.index.scope(owner, region)
    if scope is None:
        return None
    routed, tables = scope.memo(("graph-tgw-routed",), _routed_attachments, scope)
    complete = builder.complete(owner, region, TABLES) and all(
        builder.complete(owner, region, ROUTES, table_id) for table_id in tables.get(tgw_id, ()))
    return verdict(attachment_id in routed, complete)


def _routed_attachments(scope: Scope) -> tuple[set[str], dict[str, list[str]]]:
    """(ids of the attachments some active route points at, route table ids by transit gateway), in one pass."""
    routed: set[str] = set()
    for record in scope.items(ROUTES):
        for route in record.get("Routes") or []:
            if lowered(route.get("State")) == "active":
                routed.update(str(a.get("TransitGatewayAttachmentId")) for a in
                              route.get("TransitGatewayAttachments") or [])
    tables: dict[str, list[str]] = defaultdict(list)
    for table in scope.items(TABLES):
        tables[str(table.get("TransitGatewayId", ""))].append(str(table["TransitGatewayRouteTableId"]))
    return routed, tables


PARTS: tuple[Callable[[GraphBuilder], None], ...] = (
    vpcs, peerings, transit_gateways, vpns, direct_connect, endpoints, client_vpn)
